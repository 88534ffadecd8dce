"""OMA DM sessions, packages and Package #0 notifications, rebuilt from transactions.

An OMA DM session (DM Protocol 1.2 §8) is a conversation of SyncML messages, each HTTP
POST carrying a client message and its response the server's.  Messages name their
session in the SyncHdr (SessionID, the device as the client's Source LocURI), so this
addon groups them by SessionID + device + server address, across TCP connections.

Packages are counted as the protocol defines them: a server may wake the device with a
Package #0 notification (WAP Push on UDP 2948, or HTTP) whose session id, in upper-case
hex, the device must use as SessionID in Package #1 (Alert 1200/1201 + DevInfo); the
server answers with Package #2, the client with #3, and so on.  A package ends with a
message carrying Final; without Final it spans several messages and the peer asks for
the next one with Alert 1222.  A client restarting after an authentication challenge
sends Package #1 again.

Every Status and Results is tied to the command it answers through MsgRef/CmdRef; a
command left without Status, an authentication failure handled against the rules, a
Pkg#1 that does not match its notification and the Windows MDM restrictions become
:class:`~dmsniff.sessions.model.Finding` records, one row per rule in :data:`RULES`.

The protocol's phases are three machines written as tables in :mod:`dmsniff.sessions.omadm_machine`
(drawn in its docstring): the package phase per direction, the authentication phase per side
(DM Protocol §2.4: open, challenged, accepted, authenticated, failed), and the nonce
resynchronisation after a Package #0 valid only with 0x00000000 (DM Notification §6.2).  This
module classifies each message into their inputs, steps them and words the findings; what a step
records (the credentials due again, the type accepted or asked for, the last Chal, frames) is kept
here, beside the tables.

Items sent in chunks (MoreData) are put back together.  Per device, the management
tree values the device reported (Results, DevInfo) and the changes it accepted
(Add/Replace/Delete answered 2xx) are kept in time order, on disk.

A notification is linked to the first session of the notified device (by address, else by
the session id alone, as behind a NAT) carrying its session id, whatever the Alert code;
every message of the session must then carry that SessionID.  When the verifier (which runs
first) found the notification valid only with the resync nonce 0x00000000, the session is
followed through the four steps of DM Notification §6.2 (the resync machine).  Rules about the
Windows MDM client (what it answers, what it ignores or does not support) are checked only in
sessions that show a Windows client (LoginStatus or another com.microsoft alert, ./User, ./Device or
./Vendor/MSFT LocURIs); such sessions get :class:`~dmsniff.sessions.model.DmFacts` (login
state, scope and CSP of the LocURIs, SessionID form), as do sessions with Generic Alerts.
"""

from __future__ import annotations

import functools
import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from decoders import notification, syncml
from dmsniff.dm_links import NOTIFICATION_WINDOW, SESSION_IDLE, Notified, ends_session, opens_session
from dmsniff.model import ConnectionEnd, Datagram, Direction, HttpMessage, Rule, Transaction
from dmsniff.model import endpoint_host as _host
from dmsniff.pipeline.parallel import dumps
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.sessions import tls
from dmsniff.sessions.base import SessionBuilder
from dmsniff.sessions.history import ParameterLog
from dmsniff.sessions.model import (
    CommandSummary,
    Device,
    DmFacts,
    GenericAlert,
    LargeObject,
    Session,
    SessionMessage,
    TargetScope,
)
from dmsniff.sessions.omadm_machine import (
    SUCCESS,
    AuthInput,
    AuthPhase,
    Numbering,
    PackageInput,
    PackagePhase,
    ResyncInput,
    ResyncPhase,
    auth_step,
    classify_auth,
    classify_package,
    classify_resync,
    package_step,
    resync_step,
)

MAX_OBJECT = 1 << 20  # bytes of a reassembled large object kept for the report
# Completed sessions whose last server message a late client answer may still tie to: those of the
# last SESSION_IDLE seconds, at most this many (a DM server front end can close thousands a minute).
MAX_CLOSED = 4096
_DATA_SHOWN = 60  # characters of item data kept in a command summary

_PROTOCOL = "OMA-TS-DM_Protocol-V1_2"
_AUTH = f"OMA DM Protocol §2.4.1 Authentication Challenge ({_PROTOCOL} §9.1)"
_NOTIFICATION = "OMA-TS-DM_Notification-V1_2"
_MS_MDM = "[MS-MDM]"
_WINDOWS = "Microsoft, OMA DM protocol support (Windows MDM)"
_WINDOWS_ONLY = "checked in sessions of a Windows MDM client"

# code -> its severity, reference and meaning.  One row per rule dmsniff checks in OMA DM traffic.  Sections
# are those of DM Protocol 1.2; where OMA says nothing and the rule is Microsoft's, it says so.
RULES: dict[str, Rule] = {
    "omadm.decode-error": Rule(
        "error",
        "OMA-TS-SyncML_RepPro-V1_2_1: a SyncML message is a SyncML document (XML, or WBXML per §8)",
        "A SyncML body (XML or WBXML) could not be decoded; the reason is given.",
    ),
    "omadm.challenge-missing": Rule(
        "error",
        f"{_PROTOCOL} §9.1: with 401 or 407 'the Status command to the request MUST include a Chal element'",
        "A 401 or 407 Status has no Chal: the peer cannot know how to authenticate.",
    ),
    "omadm.auth-failure-with-commands": Rule(
        "error",
        f"{_PROTOCOL} §9.1: the response indicating an authentication failure 'contains only Status "
        "commands'",
        "A message saying authentication failed also carries commands other than Status.",
    ),
    "omadm.status-missing": Rule(
        "warning",
        f"{_PROTOCOL} §6.1, §8.4-8.5, §9.1 and {_MS_MDM} §2.2.6.1: every command (and the SyncHdr) gets a "
        "Status in the peer's response; Results get none",
        "A command (or the SyncHdr) got no Status in the peer's next message.",
    ),
    "omadm.challenge-not-followed": Rule(
        "error",
        f"{_PROTOCOL} §9 and §9.1: after a challenge the client 'MUST revert to pkg 1 and MUST resend the "
        "Alert and DevInfo along with the credentials requested'; the next message 'MUST contain a Status "
        "for the SyncHdr, MUST have the same SessionID' (and goes to the RespURI if given)",
        "After a challenge the client did not go back to Package #1 with Alert, DevInfo and the credentials "
        "asked for, a SyncHdr Status and the same SessionID.",
    ),
    "omadm.resp-uri-ignored": Rule(
        "warning",
        f"{_PROTOCOL} §9.1 and OMA-TS-SyncML_RepPro-V1_2_1 (RespURI): the next message goes to the RespURI "
        "the peer gave",
        "The next message did not go to the RespURI the peer gave.",
    ),
    "omadm.client-challenge-status-only": Rule(
        "warning",
        f"{_PROTOCOL} §9 (DM Protocol §2.4): if the server sent no or invalid credentials in Package #2, no "
        "challenge and no commands (only Status to SyncHdr and DevInfo), 'the client MUST NOT challenge the "
        "server by sending back only a Status for the SyncHdr with a challenge'",
        "The client answered a Package #2 of only Status, without a challenge, with nothing but Status, "
        "its SyncHdr one a challenge.",
    ),
    "omadm.auth-type-changed": Rule(
        "warning",
        f"{_PROTOCOL} §9.1: once authentication has occurred, the authentication type 'MUST be kept same "
        "for the whole session'",
        "After a side's credentials were accepted (200/212) it used another authentication type, one no "
        "Chal asked for.",
    ),
    "omadm.auth-unexpected": Rule(
        "warning",
        f"{_AUTH}: with 212 (Authentication accepted) 'no further authentication is needed for the "
        "remainder of the DM session'",
        "A side challenged the other (401/407) after accepting its credentials with 212 for the whole "
        "session.",
    ),
    "omadm.pkg1-session-id-mismatch": Rule(
        "error",
        f"{_PROTOCOL} §8.3 and OMA-TS-DM_Notification-V1_2 §6.2.10: answering a notification (Alert 1200), "
        "the SessionID is the notification's session id in upper-case hex without leading zeros",
        "The Package #1 answering a notification has another SessionID than the notification's.",
    ),
    "omadm.pkg1-session-id-form": Rule(
        "warning",
        f"{_PROTOCOL} §8.3 and {_NOTIFICATION} §6.2.10: answering a notification, the SessionID is the "
        f"notification's session id in upper-case hex without leading zeros; {_WINDOWS}: a Windows client "
        "sends it in decimal (2 bytes with DM session sync 2.0)",
        "The Package #1 answering a notification spells its session id in lower-case hex, or in decimal "
        "though the client is no Windows MDM client.",
    ),
    "omadm.notification-without-session": Rule(
        "info",
        f"{_PROTOCOL} §8 and OMA-TS-DM_Notification-V1_2: a notification makes the device open a session "
        "(Package #1)",
        "A Package #0 notification is not followed by a session of the device it woke.",
    ),
    "omadm.notification-decode-error": Rule(
        "error",
        "OMA-TS-DM_Notification-V1_2 §6 (Package #0 format)",
        "A Package #0 notification (or its WAP Push wrapping) could not be decoded; the reason is given.",
    ),
    "omadm.msgid-sequence": Rule(
        "warning",
        f"{_MS_MDM} §2.2.3.6 (OMA defers to RepPro): MsgID 'starts at one (1)' and increases with each "
        "message of the session",
        "A side's first MsgID in a session whose Package #1 was captured is not 1, or MsgIDs do not go up "
        "by one per message in a direction.",
    ),
    "omadm.status-cmd-mismatch": Rule(
        "warning",
        "OMA-TS-SyncML_RepPro-V1_2_1 (Status): Cmd names the command that MsgRef/CmdRef point at",
        "A Status's Cmd names another command than the one its CmdRef points at.",
    ),
    "omadm.command-failed": Rule(
        "warning",
        "OMA-TS-SyncML_RepPro-V1_2_1 §10 (response status codes): 4xx and 5xx mean the command failed",
        "A command was answered by a 4xx or 5xx Status (code explained).",
    ),
    "omadm.large-object-size-mismatch": Rule(
        "error",
        f"{_PROTOCOL} §7: the chunks add up to the Size given in the first chunk, else 424 'Size mismatch'",
        "The chunks of a large object do not add up to the Size its first chunk declared.",
    ),
    "omadm.large-object-incomplete": Rule(
        "warning",
        f"{_PROTOCOL} §7: MoreData follows every chunk but the last; the last chunk never came",
        "A large object's last chunk (the one without MoreData) never came.",
    ),
    "omadm.cmdid-missing": Rule(
        "error",
        f"{_PROTOCOL} §8.3-8.6 ('CmdID is REQUIRED') and {_MS_MDM} §2.2.3.2; Windows answers 400",
        "A command has no CmdID.",
    ),
    "omadm.locuri-leading-slash": Rule(
        "warning",
        f"OMA-TS-DM_TND-V1_2 (node URIs are relative: './' or a name) and {_WINDOWS}: 'LocURI can't start "
        "with /'",
        "A LocURI starts with '/' (node URIs are relative: './...' or a name).",
    ),
    "omadm.nested-atomic": Rule(
        "error",
        f"{_WINDOWS}: nested Atomic is not allowed (inner 500, outer 507); OMA DM 1.2 is silent",
        "An Atomic holds another Atomic.",
    ),
    "omadm.get-in-atomic": Rule(
        "warning",
        f"{_WINDOWS}: Get inside Atomic fails with 500; OMA DM 1.2 is silent",
        "A Get is inside an Atomic (Windows fails it with 500).",
    ),
    "omadm.pkg1-not-alert-1200": Rule(
        "warning",
        f"{_PROTOCOL} §8.3 and {_NOTIFICATION} §6.1: a notification starts a server-alerted session, whose "
        "Package #1 carries Alert 1200 (SERVER-INITIATED MGMT); 1201 is a client-initiated session",
        "The Package #1 answering a notification carries Alert 1201 (client-initiated) or no session Alert, "
        "not 1200.",
    ),
    "omadm.session-id-changed": Rule(
        "error",
        f"{_NOTIFICATION} §6.1: the package flow 'is one OMA Device Management session. This means that all "
        "messages have the same OMA DM Session ID'",
        "A message of a session carries another SessionID than the session's.",
    ),
    "omadm.credentials-not-resent": Rule(
        "error",
        f"{_AUTH}: 'If a request includes security credentials and the response code to the request is 200, "
        "the same credentials MUST be sent within the next request'; after a Chal, an md5 digest made "
        "with its next nonce",
        "After a 200 to credentials, the next message lacks them, changes them (other basic ones, another "
        "md5 digest with no new nonce) or repeats an md5 digest despite a new nonce.",
    ),
    "omadm.auth-loop": Rule(
        "warning",
        f"{_AUTH}: a 401 with 'the same challenge as the prior response' after an authentication attempt "
        "refuses those credentials; 'the entity that was given in the response' SHOULD be presented",
        "A 401/407 repeats the same challenge after credentials were tried: they were refused; the entity "
        "the server sent is quoted.",
    ),
    "omadm.resync-step-missing": Rule(
        "warning",
        f"{_NOTIFICATION} §6.2 (nonce resynchronisation): after a notification valid only with the nonce "
        "0x00000000, Pkg#1 credentials use that nonce, Pkg#2 is a success Status with a Chal (new client "
        "nonce), Pkg#3 a success Status with a Chal (new server nonce), Pkg#4 a success Status",
        "A step of the nonce resynchronisation after a notification valid only with 0x00000000 is missing "
        "or wrong (which one is named).",
    ),
    "omadm.cmdid-missing-not-400": Rule(
        "warning",
        f"{_WINDOWS}: 'If no CmdID is provided in the DM command, the client returns blank in the status "
        f"element and the status code 400' ({_WINDOWS_ONLY})",
        "A Windows client answered a command without CmdID otherwise than 400 with an empty CmdRef.",
    ),
    "omadm.nested-atomic-codes": Rule(
        "warning",
        f"{_WINDOWS}: for nested Atomic elements the nested Atomic returns 500 and the parent Atomic 507 "
        f"({_WINDOWS_ONLY})",
        "A Windows client answered a nested Atomic otherwise than 500 (inner) and 507 (outer).",
    ),
    "omadm.atomic-add-then-replace": Rule(
        "warning",
        f"{_WINDOWS}: 'Performing an Add command followed by Replace on the same node within an Atomic "
        f"element isn't supported' ({_WINDOWS_ONLY})",
        "Add then Replace of the same node inside one Atomic, which Windows does not support.",
    ),
    "omadm.synchdr-meta-ignored": Rule(
        "info",
        f"{_WINDOWS}: 'Meta XML tag in SyncHdr is ignored by the device' ({_WINDOWS_ONLY})",
        "The server's SyncHdr carries Meta, which a Windows client ignores.",
    ),
    "omadm.user-config-without-login": Rule(
        "warning",
        f"{_WINDOWS}, user targeted vs. device targeted configuration: with LoginStatus (Alert 1224) "
        "'others' or 'none' 'the server can only apply device wide configuration'; ./user/... is the "
        "enrolled user's",
        "The server sent ./User configuration while LoginStatus said the enrolled user is not logged in "
        "(others, none).",
    ),
    "omadm.session-not-completed": Rule(
        "info",
        f"{_PROTOCOL} §8.6: a session ends with a server message that holds no commands needing a response",
        "The session ended without a final server message free of commands needing a response.",
    ),
}

_END_TEXT = {
    "auth-failed": "the session ended after an authentication challenge the client did not meet",
    "timeout": f"no message for {SESSION_IDLE:.0f} s and the server had not closed the session",
    "capture-end": "the capture ended while the session was open",
    "aborted": "a side sent Alert 1223 (session abort)",
}

_ANSWERS = ("Status", "Results")  # commands that answer others and need no Status themselves
_TREE_CHANGES = ("Add", "Replace", "Delete", "Copy")
# The DevInfo leaves a device's identity keeps, each name as its key (one string for every
# device, not one per device: thousands of devices keep five keys each).
_DEVINFO = {name: name for name in ("DevId", "Man", "Mod", "DmV", "Lang")}
# Windows MDM: commands that configure (a Get only reads), the LoginStatus alert's Meta Type, and the
# LocURIs only a Windows client's tree has (the ./User and ./Device scopes, Microsoft's CSPs).
_CONFIGURES = ("Add", "Replace", "Delete", "Exec", "Copy")
_LOGIN_STATUS = "com.microsoft/mdm/loginstatus"
_WINDOWS_URIS = ("./user/", "./device/", "./vendor/msft/", "./devdetail/ext/microsoft/")
_SCOPE_URIS = 5  # LocURIs (and frames) kept per scope and CSP
# The verifier's notes (dmsniff.verify.verifier) this module reads: a Pkg#0 digest valid only with a
# resync nonce, and a credential computed with the stored nonce where the resync nonce was due.
_RESYNC_NOTE = "valid only with the resync nonce "
_NOT_RESYNC_NOTE = "not the resync nonce"


# A value the device reported or accepted: (LocURI, value, Meta Format, source, frame, time).
_Value = tuple[str, str, str | None, str, int, float]


def _walk(commands: tuple[syncml.Command, ...], depth: int = 0) -> Iterator[tuple[syncml.Command, int]]:
    """Commands depth-first with their nesting depth (Atomic/Sequence/Sync children)."""
    stack = [(c, depth) for c in reversed(commands)]
    while stack:
        cmd, d = stack.pop()
        yield cmd, d
        stack.extend((c, d + 1) for c in reversed(cmd.children))


def _code(text: str | None) -> int | None:
    if text is None:
        return None
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 6 else None


@functools.lru_cache(maxsize=4096)  # a pure function of the URI, asked for every item's URIs
def _scope(uri: str) -> tuple[str, str | None]:
    """Windows MDM: ("user" | "device", CSP) of a LocURI.  ./User/... is the enrolled user's,
    ./Device/... or no prefix the device's; the CSP is <CSP> of ./Vendor/MSFT/<CSP>/..., else the
    first node (DevInfo, DevDetail, ...)."""
    path = uri.strip()
    scope = "device"
    low = path.lower()
    for prefix, name in (("./user", "user"), ("./device", "device")):
        if low == prefix or low.startswith(prefix + "/"):
            scope, path = name, path[len(prefix) :]
            break
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if len(parts) >= 3 and parts[0].lower() == "vendor" and parts[1].lower() == "msft":
        return scope, parts[2]
    return scope, parts[0] if parts else None


def _session_id_form(sid: str | None) -> str | None:
    """Windows: the SessionID is a decimal integer unless the server asked for DM session sync 2.0
    (DMClient SyncApplicationVersion), which makes it 2 bytes, sent as hex.  Digits alone read as
    decimal (the default form); a value with hex letters and at most 4 digits as the 2-byte form."""
    t = (sid or "").strip()
    if not t:
        return None
    if t.isascii() and t.isdigit():
        return "decimal"
    if len(t) <= 4 and all(c in "0123456789abcdefABCDEF" for c in t):
        return "hex"
    return "other"


def _credentials(rec: syncml.SyncMLMessage, http: HttpMessage) -> tuple[str, str] | None:
    """(type, data) of a message's credentials: its SyncHdr Cred, else its x-syncml-hmac header."""
    cred = rec.header.cred
    if cred is not None:
        return (cred.type or "syncml:auth-basic", cred.data.strip())
    hmac = http.header("x-syncml-hmac")
    return ("syncml:auth-MAC", hmac) if hmac else None


def _header_status(rec: syncml.SyncMLMessage) -> syncml.Command | None:
    return next((c for c in rec.commands if c.name == "Status" and c.is_header_status), None)


def _with_nonce(status: syncml.Command | None) -> bool:
    return status is not None and status.chal is not None and bool((status.chal.next_nonce or "").strip())


def _count_scopes(
    scopes: dict[tuple[str, str | None], TargetScope], command: str, frame: int, uris: list[str]
) -> None:
    """Count one command's LocURIs in the scopes and CSPs they address (Windows MDM facts)."""
    for uri in uris:
        key = _scope(uri)
        use = scopes.get(key)
        if use is None:
            use = scopes[key] = TargetScope(key[0], key[1], {}, [], [])
        use.commands[command] = use.commands.get(command, 0) + 1
        if len(use.uris) < _SCOPE_URIS and uri not in use.uris:
            use.uris.append(uri)
        if len(use.frames) < _SCOPE_URIS and frame not in use.frames:
            use.frames.append(frame)


def _uri_path(uri: str) -> str:
    """The path and query of a URL or request-URI, for comparing RespURI with the next request."""
    try:
        u = urlsplit(uri.strip())
    except ValueError:
        return uri.strip()
    return (u.path or "/") + (f"?{u.query}" if u.query else "")


@dataclass(slots=True)
class _Sent:
    """A message's commands, awaiting their Status from the peer."""

    message: SessionMessage
    needs_status: dict[str, str]  # cmd_id -> command name ("0" -> "SyncHdr")
    by_id: dict[str, CommandSummary]
    tree: dict[str, list[tuple[str, str, str | None]]]  # cmd_id -> (name, uri, value) changes awaiting 2xx
    status_only: bool
    checked: bool = False
    cred: tuple[str, str] | None = None  # (type, Cred data or "") of the credentials it carried
    no_cmd_id: list[str] = field(default_factory=list)  # names of its commands without CmdID
    nested: dict[str, bool] = field(default_factory=dict)  # Atomic CmdID -> inside another Atomic


@dataclass(slots=True)
class _Chunks:
    obj: LargeObject
    parts: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Live:
    session: Session
    key: tuple[str, str, str]  # SessionID, device, server host
    last_time: float
    # (direction, MsgID) -> its commands, awaiting Status
    sent: dict[tuple[Direction, str], _Sent] = field(default_factory=dict)
    last: dict[Direction, _Sent] = field(default_factory=dict)  # direction -> its latest message
    package: dict[Direction, int] = field(default_factory=dict)  # direction -> current package number
    packages: dict[Direction, PackagePhase] = field(default_factory=dict)  # direction -> its package phase
    msg_ids: dict[Direction, int] = field(default_factory=dict)  # direction -> last numeric MsgID
    opened: bool = False  # its first message is a Package #1 (Alert 1200/1201): the MsgIDs start in view
    # direction -> the authentication type a 200/212 to its SyncHdr accepted, and the frame that accepted it
    accepted_type: dict[Direction, tuple[str, int]] = field(default_factory=dict)
    asked_type: dict[Direction, str] = field(default_factory=dict)  # direction -> type a Chal asked it for
    challenged: SessionMessage | None = None  # the server's 401/407 the client has yet to answer
    resp_uri: str | None = None  # where the server wants the next message
    chunks: dict[tuple[Direction, str], _Chunks] = field(default_factory=dict)
    ended: bool = False
    tls_hosts: dict[str, str | None] = field(default_factory=dict)  # TLS connection -> host posted to
    aliases: list[tuple[str, str, str]] = field(default_factory=list)  # keys of a SessionID changed mid-way
    session_id: str | None = None  # the SessionID every message must carry (the notification's)
    sid_reported: set[str] = field(default_factory=set)  # wrong SessionIDs already reported
    notification: SessionMessage | None = None  # the Package #0 it answers
    decimal_sid: tuple[str, list[int]] | None = None  # a decimal Pkg#1 SessionID: wrong unless Windows
    # Authentication: per side that sent credentials and got 200 for them, what its next message must
    # carry again: (frame of the credentials, type, data, frame of the 200, the Chal's nonce or None).
    resend: dict[Direction, tuple[int, str, str, int, str | None]] = field(default_factory=dict)
    last_chal: dict[Direction, tuple[tuple[str | None, str | None, str | None], int]] = field(
        default_factory=dict)
    auth: dict[Direction, AuthPhase] = field(default_factory=dict)  # side -> its authentication phase
    resync: _Resync | None = None
    # Windows MDM: the first sign the client is one, findings that wait for it, what the session says
    windows: str | None = None
    windows_pending: list[tuple[str, str, list[int]]] = field(default_factory=list)
    header_meta: list[int] = field(default_factory=list)  # frames of server SyncHdrs with Meta
    login: tuple[str, int] | None = None  # Alert 1224 LoginStatus data and its frame
    scopes: dict[tuple[str, str | None], TargetScope] = field(default_factory=dict)
    # (command, frame, its LocURIs) not yet counted in scopes: they count only once the session shows a
    # Windows client (DmFacts has scopes for those alone), so until then they just wait here.
    addressed: list[tuple[str, int, list[str]]] = field(default_factory=list)
    generic_alerts: list[GenericAlert] = field(default_factory=list)


@dataclass(slots=True)
class _Resync:
    """DM Notification §6.2: a session answering a notification valid only with the nonce 0x00000000."""

    notification: int  # its frame
    nonce: str  # the resync nonce that verified it, as the verifier names it
    phase: ResyncPhase = ResyncPhase.PKG1
    last: int = 0  # frame of the last step met


@dataclass(slots=True)
class _Pending:
    """A Package #0 waiting for the session it causes."""

    message: SessionMessage
    record: notification.Notification
    device_ip: str
    server_ip: str


class DmSessions(SessionBuilder):
    """Builds OMA DM sessions from transactions and datagrams; emits sessions, findings and devices."""

    rules = RULES

    def __init__(self, *, json_histories: bool = False) -> None:
        super().__init__()
        self.live: dict[tuple[str, str, str], _Live] = {}
        self.notifications: Notified[_Pending] = Notified()
        self.retry_due: dict[tuple[str, str], _Live] = {}  # (device, server host) -> challenged session
        # key -> the last server message of a session it completed, pickled, and when: a client may
        # still answer it.  Pickled because it is seldom read again and a busy server keeps thousands:
        # as objects each took ~1.8 KB (4,096 of them were 7.2 of the 25 MiB a 200k-packet OMA DM
        # report held), pickled ~0.4 KB.
        self.closed: dict[tuple[str, str, str], tuple[bytes, float]] = {}
        self.devices: dict[str, Device] = {}
        self.tree = ParameterLog(json=json_histories)  # (see CwmpSessions.parameters)

    # -- Addon hooks ------------------------------------------------------------------------
    def transaction(self, tx: Transaction) -> None:
        req, resp = tx.request, tx.response
        first = req or resp
        assert first is not None
        self._tick(resp.time if resp is not None else first.time)
        req_rec = req.protocol if req is not None else None
        if isinstance(req_rec, notification.Notification | notification.NotificationError):
            assert req is not None
            self._notification(
                req_rec,
                tx.id,
                req.frame,
                req.time,
                f"{req.method} {req.uri}",
                _host(tx.server),
                _host(tx.client),
                req.auth,
            )
            return
        resp_rec = resp.protocol if resp is not None else None
        c_msg = req_rec if isinstance(req_rec, syncml.SyncMLMessage) else None
        s_msg = resp_rec if isinstance(resp_rec, syncml.SyncMLMessage) else None
        if c_msg is None and s_msg is None:
            if isinstance(req_rec, syncml.SyncMLError) or isinstance(resp_rec, syncml.SyncMLError):
                self._undecodable(tx, req_rec, resp_rec)
            return
        if c_msg is not None:
            key = (c_msg.header.session_id or "", c_msg.header.source or "", _host(tx.server))
        else:
            assert s_msg is not None
            key = (s_msg.header.session_id or "", s_msg.header.target or "", _host(tx.server))
        live = self.live.get(key)
        if (live is None or live.ended) and c_msg is not None:
            live = self._continued(key, c_msg) or self._moved(key) or live
        if live is None or live.ended:
            live = self._new_session(tx, key, c_msg)
        if tx.connection not in live.session.connections:
            live.session.connections.append(tx.connection)
            if tx.tls is not None:
                live.tls_hosts[tx.connection] = tls.request_host(tx)
        if req is not None:
            self._client_message(live, tx, req, c_msg)
        if resp is not None:
            self._server_message(live, tx, resp, s_msg)
        last = resp or req
        assert last is not None
        live.last_time = last.time
        live.session.end = max(live.session.end, last.time)
        if s_msg is not None and ends_session(s_msg):
            self._end(live, "completed")
        elif c_msg is not None and any(c.name == "Alert" and c.code == 1223 for c in c_msg.commands):
            self._end(live, "aborted")

    def datagram(self, dg: Datagram) -> None:
        self._tick(dg.time)
        rec = dg.protocol
        if isinstance(rec, notification.WapPush):
            if rec.notification is not None:
                self._notification(
                    rec.notification,
                    dg.id,
                    dg.frame,
                    dg.time,
                    f"WAP Push UDP {dg.dport}",
                    dg.dst,
                    dg.src,
                    dg.auth,
                )
        elif isinstance(rec, notification.Notification | notification.NotificationError):
            self._notification(rec, dg.id, dg.frame, dg.time, f"UDP {dg.dport}", dg.dst, dg.src, dg.auth)

    def connection_end(self, end: ConnectionEnd) -> None:
        self._tick(end.time)
        if end.tls is not None:
            # The newest session that ran over it (several may have, one after another).
            for live in reversed(self.live.values()):
                if end.connection in live.tls_hosts:
                    host = live.tls_hosts[end.connection]
                    live.session.findings.extend(tls.findings(end.tls, "omadm", host, live.session.id))
                    break

    def capture_end(self, summary: CaptureSummary) -> None:
        for live in list(self.live.values()):
            self._end(live, "auth-failed" if live.challenged is not None else "capture-end")
        for p in self.notifications:
            self._notification_unused(p)
        self.notifications.clear()
        self.retry_due.clear()
        self.closed.clear()

    def done(self) -> None:
        for dev in self.devices.values():
            self.outbox.device(replace(dev, parameters=self.tree.read(dev.id)))
        self.tree.close()

    # -- sessions ---------------------------------------------------------------------------
    def _new_session(
        self, tx: Transaction, key: tuple[str, str, str], c_msg: syncml.SyncMLMessage | None
    ) -> _Live:
        first = tx.request or tx.response
        assert first is not None
        sid = f"D{self._tag}{first.frame}"  # one transaction starts at most one session: unique
        hdr = c_msg.header if c_msg is not None else None
        s = Session.begin(sid, "omadm", tx, device_id=key[1] or None, session_id=key[0] or None,
                          version=hdr.ver_proto if hdr is not None else None)
        live = _Live(s, key, first.time)
        live.opened = c_msg is not None and opens_session(c_msg)
        self.live[key] = live
        if key[1]:
            dev = self._device(key[1])
            ip = _host(tx.client)
            if ip not in dev.addresses:
                dev.addresses.append(ip)
            dev.sessions.append(sid)
            s.device = {"id": key[1], **dev.identity}
        if c_msg is not None:
            self._link_notification(live, tx, c_msg)
            done = self.closed.pop(key, None)
            if done is not None and not opens_session(c_msg) and first.time - done[1] <= SESSION_IDLE:
                # A client message after the server closed the session answers its last message (a
                # challenge to it, say): its Statuses are tied to that message as within the session.
                last: _Sent = pickle.loads(done[0])
                if last.message.msg_id is not None:
                    live.sent[(Direction.TO_CLIENT, last.message.msg_id)] = last
        previous = self.retry_due.pop((key[1], key[2]), None)
        if previous is not None and previous.challenged is not None and c_msg is not None:
            challenge = previous.challenged
            # A new notification since the challenge asks for a new session: that is no retry.
            head = s.messages[0] if s.messages else None
            woken = head is not None and head.kind == "Notification" and head.time > challenge.time
            if not woken and first.time - previous.last_time <= SESSION_IDLE:
                self._flag(
                    s,
                    "omadm.challenge-not-followed",
                    f"after the challenge in session {previous.session.id} (SessionID {previous.key[0]!r}) "
                    f"the client started over with SessionID {key[0]!r}",
                    [challenge.frame, first.frame],
                )
                # The retry is still the message after the failure: its Status for the SyncHdr, its
                # RespURI and a repeated challenge are checked as in the session it left.
                live.challenged, live.resp_uri = challenge, previous.resp_uri
                live.last_chal = dict(previous.last_chal)
                live.asked_type = dict(previous.asked_type)
                # It may number its messages on from the challenged session or start over at 1.
                live.opened = False
            self._end(previous, "auth-failed")
        return live

    def _continued(self, key: tuple[str, str, str], rec: syncml.SyncMLMessage) -> _Live | None:
        """The open session this client message continues under another SessionID, if any.

        A message that is no Package #1 (no Alert 1200/1201) whose MsgID follows the last one the
        device sent the same server, after the server's answer, goes on with that session: a
        SessionID that changes mid-way is a finding of the session, not the start of another.
        """
        if opens_session(rec):
            return None
        n = _code(rec.header.msg_id)
        if n is None:
            return None
        for live in self.live.values():
            if (
                not live.ended
                and live.key[1:] == key[1:]
                and live.msg_ids.get(Direction.TO_SERVER) == n - 1
                and Direction.TO_CLIENT in live.last
            ):
                self.live[key] = live
                live.aliases.append(key)
                return live
        return None

    def _moved(self, key: tuple[str, str, str]) -> _Live | None:
        """The open session whose server sent the client elsewhere with a RespURI, if this client message
        (same SessionID and device, another server address) is the one posted there: the session goes on
        at the new address, over whatever connection the client opened to it."""
        if not key[0] or not key[1]:
            return None
        for live in reversed(self.live.values()):
            if (
                not live.ended
                and live.resp_uri is not None
                and any(k[:2] == key[:2] for k in (live.key, *live.aliases))
            ):
                self.live[key] = live
                live.aliases.append(key)
                return live
        return None

    def _client_message(
        self, live: _Live, tx: Transaction, req: HttpMessage, rec: syncml.SyncMLMessage | None
    ) -> None:
        msg = self._message(live, tx, req, Direction.TO_SERVER, rec)
        s = live.session
        if rec is None:
            return
        self._check_cred(live, msg, rec, req.header("x-syncml-hmac"))
        challenged = live.challenged
        if challenged is not None:
            live.challenged = None
            due = (live.key[1], live.key[2])
            if self.retry_due.get(due) is live:
                del self.retry_due[due]
            self._check_retry(live, challenged, msg, rec)
        if (
            live.resp_uri is not None
            and req.uri is not None
            and _uri_path(req.uri) != _uri_path(live.resp_uri)
        ):
            self._flag(
                s,
                "omadm.resp-uri-ignored",
                f"the server gave RespURI {live.resp_uri}, the client posted to {req.uri}",
                [msg.frame],
            )
        live.resp_uri = None

    def _server_message(
        self, live: _Live, tx: Transaction, resp: HttpMessage, rec: syncml.SyncMLMessage | None
    ) -> None:
        msg = self._message(live, tx, resp, Direction.TO_CLIENT, rec)
        if rec is None:
            return
        hdr = rec.header
        live.resp_uri = hdr.resp_uri
        self._check_cred(live, msg, rec, resp.header("x-syncml-hmac"))
        header_status = next((c for c in rec.commands if c.name == "Status" and c.is_header_status), None)
        if live.session.server_name is None and hdr.source:
            live.session.server_name = hdr.source
        if header_status is not None and header_status.code in (401, 407):
            msg.notes.append("auth challenge")
            live.challenged = msg
            self.retry_due[(live.key[1], live.key[2])] = live
            others = [c.name for c in rec.commands if c.name != "Status"]
            if others:
                self._flag(
                    live.session,
                    "omadm.auth-failure-with-commands",
                    f"the server reports {header_status.code} ({header_status.meaning}) yet sends "
                    f"{', '.join(others[:5])}",
                    [msg.frame],
                )
        elif self.retry_due.get((live.key[1], live.key[2])) is live:
            del self.retry_due[(live.key[1], live.key[2])]

    def _message(
        self,
        live: _Live,
        tx: Transaction,
        http: HttpMessage,
        direction: Direction,
        rec: syncml.SyncMLMessage | None,
    ) -> SessionMessage:
        s = live.session
        if rec is not None:
            kind = "SyncML"
        elif http.body_length == 0:
            kind = "empty"
        else:
            kind = "http"
        msg = SessionMessage(
            frame=http.frame,
            time=http.time,
            direction=direction,
            kind=kind,
            transaction=tx.id,
            http=f"{http.method} {http.uri}"
            if http.method is not None
            else f"{http.status} {http.reason}".rstrip(),
            status=http.status,
            body_length=http.body_length,
            record=rec,
            auth=list(http.auth or ()),
        )
        s.messages.append(msg)
        if rec is None:
            return msg
        hdr = rec.header
        msg.session_id, msg.msg_id, msg.encoding = hdr.session_id, hdr.msg_id, rec.encoding
        if s.version is None:
            s.version = hdr.ver_proto
        for p in rec.problems:
            if p.startswith("error: "):
                self._flag(s, "omadm.decode-error", f"frame {msg.frame}: {p[7:]}", [msg.frame])
                break
        self._check_msg_id(live, msg, direction)
        self._check_session_id(live, msg, direction)
        msg.package = self._package(live, rec, direction)
        cred = _credentials(rec, http)
        self._check_resend(live, msg, direction, cred)
        if direction == Direction.TO_CLIENT and hdr.meta is not None:
            live.header_meta.append(msg.frame)
        sent = self._summarise(live, msg, rec, direction)
        sent.cred = cred
        self._answer(live, msg, rec, direction)
        if live.resync is not None:
            self._resync_step(live, live.resync, msg, rec, direction)
        if hdr.msg_id is not None:
            live.sent[(direction, hdr.msg_id)] = sent
        live.last[direction] = sent
        return msg

    def _package(self, live: _Live, rec: syncml.SyncMLMessage, direction: Direction) -> int:
        """The package a message belongs to: the side's package machine says how to number it."""
        event = classify_package(to_server=direction == Direction.TO_SERVER, opens=opens_session(rec),
                                 final=rec.final)
        live.packages[direction], numbering = package_step(live.packages.get(direction, PackagePhase.IDLE),
                                                           event)
        if numbering is Numbering.FIRST:
            n = 1
        elif numbering is Numbering.SAME:
            n = live.package[direction]
        else:
            n = live.package.get(direction.reverse, 0) + 1
        live.package[direction] = n
        return n

    def _summarise(
        self, live: _Live, msg: SessionMessage, rec: syncml.SyncMLMessage, direction: Direction
    ) -> _Sent:
        s = live.session
        needs: dict[str, str] = {} if rec.header.no_resp else {"0": "SyncHdr"}
        by_id: dict[str, CommandSummary] = {}
        tree: dict[str, list[tuple[str, str, str | None]]] = {}
        status_only = True
        atomics: list[tuple[int, str | None]] = []  # the Atomics the walk is inside: (depth, CmdID)
        added: dict[str, str | None] = {}  # LocURI -> CmdID of its Add in the outermost Atomic
        no_cmd_id: list[str] = []
        nested: dict[str, bool] = {}
        user_config: list[str] = []
        observed: list[_Value] = []  # the device's values, in order
        for cmd, depth in _walk(rec.commands):
            summary = CommandSummary(name=cmd.name, cmd_id=cmd.cmd_id, depth=depth)
            msg.commands.append(summary)
            while atomics and atomics[-1][0] >= depth:
                atomics.pop()
            if not atomics:
                added.clear()
            if cmd.name in ("Status", "Results"):
                summary.msg_ref, summary.cmd_ref, summary.cmd = cmd.msg_ref, cmd.cmd_ref, cmd.cmd
                if cmd.name == "Status":
                    summary.code, summary.meaning = cmd.code, cmd.meaning
                    summary.targets = list(cmd.target_refs)
                else:
                    summary.targets = [i.source or i.target or "" for i in cmd.items]
            else:
                status_only = False
                summary.targets = [i.target or i.source or "" for i in cmd.items]
                if cmd.name == "Alert":
                    summary.code, summary.meaning = cmd.code, cmd.meaning
                if cmd.cmd_id is None:
                    no_cmd_id.append(cmd.name)
                    self._flag(
                        s, "omadm.cmdid-missing", f"{cmd.name} in frame {msg.frame} has no CmdID", [msg.frame]
                    )
                elif not cmd.no_resp:
                    needs[cmd.cmd_id] = cmd.name
                self._windows_facts(live, msg, cmd, direction)
                if direction == Direction.TO_CLIENT and cmd.name in _CONFIGURES:
                    user_config.extend(
                        f"{cmd.name} {cmd.cmd_id or '(no CmdID)'} {t}"
                        for t in summary.targets
                        if _scope(t)[0] == "user"
                    )
            if cmd.cmd_id is not None:
                by_id.setdefault(cmd.cmd_id, summary)
            if cmd.name == "Atomic":
                if atomics:
                    self._flag(
                        s,
                        "omadm.nested-atomic",
                        f"Atomic {cmd.cmd_id} in frame {msg.frame} is inside another Atomic",
                        [msg.frame],
                    )
                    # Windows answers a nested Atomic 500 and the one holding it all 507.
                    if cmd.cmd_id is not None:
                        nested[cmd.cmd_id] = True
                    outer = atomics[0][1]
                    if outer is not None and outer not in nested:
                        nested[outer] = False
                atomics.append((depth, cmd.cmd_id))
            elif cmd.name == "Get" and atomics:
                self._flag(
                    s,
                    "omadm.get-in-atomic",
                    f"Get {cmd.cmd_id} in frame {msg.frame} is inside an Atomic",
                    [msg.frame],
                )
            elif atomics and cmd.name in ("Add", "Replace") and direction == Direction.TO_CLIENT:
                for t in summary.targets:
                    if cmd.name == "Add":
                        added.setdefault(t, cmd.cmd_id)
                    elif t in added:
                        self._win_flag(
                            live,
                            "omadm.atomic-add-then-replace",
                            f"Atomic {atomics[0][1]} in frame {msg.frame} adds {t} (Add {added[t]}) and then "
                            f"replaces it (Replace {cmd.cmd_id})",
                            [msg.frame],
                        )
            for item in cmd.items:
                for uri in (item.target, item.source):
                    if uri is not None and uri.startswith("/"):
                        self._flag(
                            s,
                            "omadm.locuri-leading-slash",
                            f"{cmd.name} {cmd.cmd_id} in frame {msg.frame} addresses {uri!r}",
                            [msg.frame],
                        )
            data = self._items(live, msg, cmd, direction, tree, observed)
            if summary.data is None and data is not None:
                summary.data = data if len(data) <= _DATA_SHOWN else data[: _DATA_SHOWN - 1] + "…"
            if cmd.name == "Alert" and cmd.items and summary.data is None:
                summary.data = cmd.items[0].data
        self._observe(live, observed)  # one block per message, not per value
        if status_only:
            needs.pop("0", None)  # a message of only Status (the session's last) is not answered
        login = live.login
        if user_config and login is not None and login[0].lower() in ("others", "none"):
            more = f" and {len(user_config) - 3} more" if len(user_config) > 3 else ""
            self._flag(
                s,
                "omadm.user-config-without-login",
                f"frame {msg.frame} configures the user ({', '.join(user_config[:3])}{more}) while the "
                f"LoginStatus of frame {login[1]} is {login[0]!r}: no enrolled user is logged in",
                [login[1], msg.frame],
            )
        return _Sent(msg, needs, by_id, tree, status_only, no_cmd_id=no_cmd_id, nested=nested)

    def _windows_facts(
        self, live: _Live, msg: SessionMessage, cmd: syncml.Command, direction: Direction
    ) -> None:
        """What one command says of a Windows MDM client: LoginStatus, Generic Alerts, the scope and
        CSP of each LocURI, and whether the session is a Windows client's at all."""
        name = cmd.name
        is_alert = name == "Alert"
        code = cmd.code if is_alert else None
        frame = msg.frame
        uris: list[str] = []
        for item in cmd.items:
            meta = item.meta or cmd.meta
            mtype = (meta.type if meta is not None else None) or ""
            sign = None
            if is_alert:
                if code == 1224 and mtype.lower() == _LOGIN_STATUS:
                    live.login = ((item.data or "").strip(), frame)
                if code == 1226:
                    data = item.data
                    if data is not None and len(data) > _DATA_SHOWN:
                        data = data[: _DATA_SHOWN - 1] + "…"
                    live.generic_alerts.append(
                        GenericAlert(
                            mtype or None,
                            meta.format if meta is not None else None,
                            data,
                            item.source or item.target,
                            frame,
                            direction,
                        )
                    )
                if mtype.lower().startswith("com.microsoft"):
                    sign = f"Alert {code} {mtype} in frame {frame}"
            for uri in (item.target, item.source):
                if not uri:
                    continue
                uris.append(uri)
                if sign is None and live.windows is None and uri.lower().startswith(_WINDOWS_URIS):
                    sign = f"{name} of {uri} in frame {frame}"
            if sign is not None and live.windows is None:
                live.windows = sign
                for pending, text, frames in live.windows_pending:
                    self._flag(live.session, pending, text, frames)
                live.windows_pending.clear()
        if uris:
            live.addressed.append((name, frame, uris))
        if live.windows is not None:
            for command, at, addressed in live.addressed:
                _count_scopes(live.scopes, command, at, addressed)
            live.addressed.clear()

    def _win_flag(self, live: _Live, code: str, text: str, frames: list[int]) -> None:
        """A finding about what the Windows MDM client does: kept until the session shows it is one."""
        if live.windows is not None:
            self._flag(live.session, code, text, frames)
        else:
            live.windows_pending.append((code, text, frames))

    def _items(
        self,
        live: _Live,
        msg: SessionMessage,
        cmd: syncml.Command,
        direction: Direction,
        tree: dict[str, list[tuple[str, str, str | None]]],
        observed: list[_Value],
    ) -> str | None:
        """Large-object chunks, device-reported values (added to ``observed``) and pending tree changes
        of one command."""
        name = cmd.name
        results = name == "Results"
        # Values the device reports (Results, its own Replace/Add), or changes it is asked to make.
        reports = results or (direction == Direction.TO_SERVER and name in ("Replace", "Add"))
        change_id = cmd.cmd_id if direction == Direction.TO_CLIENT and name in _TREE_CHANGES else None
        chunks = live.chunks
        first: str | None = None
        for item in cmd.items:
            uri = (item.source or item.target) if results else (item.target or item.source)
            value = item.data
            if item.more_data or (chunks and (direction, uri or "") in chunks):
                value = self._chunk(live, msg, (direction, uri or ""), item, cmd)
                if value is None:
                    continue  # more chunks to come
            if first is None and value is not None:
                first = value
            if uri is None:
                continue
            if reports:
                source = "Results" if results else "DevInfo" if uri.startswith("./DevInfo/") else name
                observed.append((uri, value or "", _format(item, cmd), source, msg.frame, msg.time))
            elif change_id is not None:
                tree.setdefault(change_id, []).append((name, uri, value))
        return first

    def _chunk(
        self, live: _Live, msg: SessionMessage, key: tuple[Direction, str], item: syncml.Item,
        cmd: syncml.Command,
    ) -> str | None:
        """Add a chunk; the whole object once the last chunk is in, else None."""
        c = live.chunks.get(key)
        if c is None:
            meta = item.meta or cmd.meta
            c = live.chunks[key] = _Chunks(
                LargeObject(
                    target=key[1],
                    direction=key[0],
                    frames=[],
                    chunks=0,
                    size=0,
                    declared_size=meta.size if meta is not None else None,
                    complete=False,
                    data="",
                )
            )
        obj = c.obj
        data = item.data or ""
        obj.frames.append(msg.frame)
        obj.chunks += 1
        obj.size += len(data.encode("utf-8", "surrogatepass"))
        if obj.size <= MAX_OBJECT:
            c.parts.append(data)
        if item.more_data:
            return None
        del live.chunks[key]
        obj.complete = True
        obj.data = "".join(c.parts)[:MAX_OBJECT]
        live.session.large_objects.append(obj)
        if obj.declared_size is not None and obj.declared_size != obj.size:
            self._flag(
                live.session,
                "omadm.large-object-size-mismatch",
                f"{obj.target}: {obj.chunks} chunks add up to {obj.size} bytes, the first said "
                f"{obj.declared_size}",
                obj.frames[:10],
            )
        return obj.data

    def _answer(
        self, live: _Live, msg: SessionMessage, rec: syncml.SyncMLMessage, direction: Direction
    ) -> None:
        """Tie each Status/Results to its command; flag what the peer's previous message still wants."""
        peer = direction.reverse
        for summary in msg.commands:
            if summary.name not in _ANSWERS or summary.msg_ref is None or summary.cmd_ref is None:
                continue
            target = live.sent.get((peer, summary.msg_ref))
            if target is None:
                continue
            summary.answers = target.message.frame
            asked = (
                "SyncHdr"
                if summary.cmd_ref == "0"
                else (target.by_id[summary.cmd_ref].name if summary.cmd_ref in target.by_id else None)
            )
            if summary.name == "Results":
                summary.cmd = summary.cmd or asked  # Results name no Cmd: say what they answer
                continue
            name = target.needs_status.pop(summary.cmd_ref, None)
            self._check_status(live, summary, asked, target, msg)
            code = summary.code
            if code is not None and 200 <= code < 300 and code != 213 and name is not None:
                rows = [
                    (uri, value or "", None, change, msg.frame, msg.time)
                    for change, uri, value in target.tree.pop(summary.cmd_ref, ())
                ]
                self._observe(live, rows)
            if summary.cmd_ref == "0":
                self._header_status(live, code, rec, target, msg)
        # The peer's last message is answered by this one: what it still wants never will be.
        prev = live.last.get(peer)
        if prev is not None and not prev.checked:
            prev.checked = True
            self._missing(live, prev, msg)
            if direction == Direction.TO_SERVER:
                self._windows_answers(live, prev, msg, rec)

    def _check_status(
        self, live: _Live, summary: CommandSummary, asked: str | None, target: _Sent, msg: SessionMessage
    ) -> None:
        """A Status naming another command than the one it answers, or saying that command failed."""
        if asked is not None and summary.cmd is not None and summary.cmd != asked:
            self._flag(
                live.session,
                "omadm.status-cmd-mismatch",
                f"Status {summary.cmd_id} says Cmd {summary.cmd!r} for CmdRef {summary.cmd_ref}, which "
                f"is {asked}",
                [target.message.frame, msg.frame],
            )
        code = summary.code
        # A Status with an empty CmdRef answers a command without CmdID (Windows: 400), which
        # omadm.cmdid-missing already reports; a 401/407 for the SyncHdr is the authentication machine's.
        if (
            code is not None
            and code >= 400
            and summary.cmd_ref != ""
            and not (summary.cmd_ref == "0" and code in (401, 407))
        ):
            what = f"{asked or summary.cmd} {summary.cmd_ref}"
            answered = target.by_id.get(summary.cmd_ref or "")
            uris = (answered.targets if answered is not None else None) or summary.targets
            targets = f" ({', '.join(uris[:3])})" if uris else ""
            self._flag(
                live.session,
                "omadm.command-failed",
                f"{'client' if msg.direction == Direction.TO_SERVER else 'server'} answered {what}{targets} "
                f"with {code} ({summary.meaning})",
                [target.message.frame, msg.frame],
            )

    def _windows_answers(
        self, live: _Live, sent: _Sent, msg: SessionMessage, rec: syncml.SyncMLMessage
    ) -> None:
        """How the client answered what Windows documents answers for: commands without CmdID
        (Status 400 with an empty CmdRef) and nested Atomic (500 inside, 507 for the parent)."""
        if not sent.no_cmd_id and not sent.nested:
            return
        ref = sent.message.msg_id
        statuses = [c for c in rec.commands if c.name == "Status" and c.msg_ref == ref]
        blank = [c for c in statuses if c.cmd_ref == ""]
        where = [sent.message.frame, msg.frame]
        for name in sent.no_cmd_id:
            got = next((c for c in blank if c.cmd in (None, name)), None)
            if got is not None:
                blank.remove(got)
                if got.code == 400:
                    continue
                text = (
                    f"{name} without CmdID in frame {sent.message.frame} got {got.code} with an empty CmdRef "
                    f"in frame {msg.frame}, not 400"
                )
            else:
                text = (
                    f"{name} without CmdID in frame {sent.message.frame} got no Status with an empty CmdRef "
                    f"in frame {msg.frame}"
                )
            self._win_flag(live, "omadm.cmdid-missing-not-400", text, where)
        codes = {c.cmd_ref: c.code for c in statuses if c.cmd_ref}
        wrong = [
            f"{'nested' if inner else 'parent'} Atomic {cid} with {codes[cid]}"
            for cid, inner in sent.nested.items()
            if codes.get(cid) is not None and codes[cid] != (500 if inner else 507)
        ]
        if wrong:
            self._win_flag(
                live,
                "omadm.nested-atomic-codes",
                f"the client answered the {', '.join(wrong)} of frame {sent.message.frame} in frame "
                f"{msg.frame}; Windows answers 500 for a nested Atomic, 507 for its parent",
                where,
            )

    def _header_status(
        self, live: _Live, code: int | None, rec: syncml.SyncMLMessage, target: _Sent, msg: SessionMessage
    ) -> None:
        """One step of the authentication machine of the side whose SyncHdr this Status answers: the
        table says the next phase and the rule broken; what each step records (the credentials due
        again, the type accepted or asked for, the last Chal) is kept beside it."""
        side, peer = msg.direction, target.message.direction
        raw = next((c for c in rec.commands if c.name == "Status" and c.cmd_ref == "0"), None)
        chal = raw.chal if raw is not None and code in (401, 407) else None
        before = live.last_chal.get(side)
        sig = None
        if chal is not None:
            sig = (chal.type, chal.format, (chal.next_nonce or "").strip() or None)
            live.last_chal[side] = (sig, msg.frame)
            if chal.type:
                live.asked_type[peer] = chal.type
        event = classify_auth(
            code,
            chal=chal is not None,
            repeated=before is not None and before[0] == sig,
            cred=target.cred is not None,
            forbidden=side == Direction.TO_SERVER
            and target.status_only
            and target.message.package == 2
            and not any(c.cmd_ref == "0" and c.code in (401, 407) for c in target.message.commands)
            and all(c.name == "Status" for c in rec.commands),
        )
        live.auth[peer], rule = auth_step(live.auth.get(peer, AuthPhase.OPEN), event)
        if target.cred is not None:
            if code in SUCCESS:
                live.accepted_type[peer] = (target.cred[0], msg.frame)
            # 200 (not 212) to credentials: the same ones again in the peer's next message.
            if code == 200:
                nonce = raw.chal.next_nonce if raw is not None and raw.chal is not None else None
                kind, data = target.cred
                live.resend[peer] = (target.message.frame, kind, data, msg.frame, nonce)
            else:
                live.resend.pop(peer, None)
        if rule is None:
            return
        frames = [target.message.frame, msg.frame]
        if rule == "omadm.challenge-missing":
            text = f"Status {code} for the SyncHdr of frame {target.message.frame} has no Chal"
            frames = [msg.frame]
        elif rule == "omadm.auth-loop":
            assert raw is not None and before is not None and sig is not None
            text = self._loop_text(raw, sig, before[1], target, msg)
            frames = [before[1], target.message.frame, msg.frame]
        elif rule == "omadm.client-challenge-status-only":
            text = (
                f"the client challenges ({code}) the server's Package #2 (frame {target.message.frame}), "
                "which held only Status and no challenge, with a message of only Status"
            )
        else:
            who = "server" if side == Direction.TO_CLIENT else "client"
            text = (
                f"the {who} challenges ({code}) in frame {msg.frame} though it accepted the credentials "
                f"with 212 earlier in the session ({event.value})"
            )
        self._flag(live.session, rule, text, frames)

    @staticmethod
    def _loop_text(
        status: syncml.Command,
        sig: tuple[str | None, str | None, str | None],
        before: int,
        target: _Sent,
        msg: SessionMessage,
    ) -> str:
        """A 401/407 repeating the previous challenge after credentials were tried: a loop; the entity
        it carries (the Status's Item data) is what the refused side should be shown."""
        entity = " | ".join(" ".join((i.data or "").split()) for i in status.items if (i.data or "").strip())
        if len(entity) > 160:
            entity = entity[:159] + "…"
        said = f"it says {entity!r}" if entity else "it sent no entity (Status Item) to show"
        who = "server" if msg.direction == Direction.TO_CLIENT else "client"
        nonce = ", same nonce" if sig[2] else ""
        return (
            f"the {who} repeats the challenge of frame {before} ({sig[0] or 'no type'}{nonce}) in frame "
            f"{msg.frame}, refusing the credentials of frame {target.message.frame}: {said}"
        )

    def _missing(self, live: _Live, sent: _Sent, by: SessionMessage | None) -> None:
        if not sent.needs_status:
            return
        wanted = ", ".join(f"{n} {i}" if i != "0" else n for i, n in list(sent.needs_status.items())[:6])
        more = f" and {len(sent.needs_status) - 6} more" if len(sent.needs_status) > 6 else ""
        frames = [sent.message.frame] + ([by.frame] if by is not None else [])
        who = "client" if sent.message.direction == Direction.TO_CLIENT else "server"
        where = f"its next message (frame {by.frame})" if by is not None else "the end of the session"
        self._flag(
            live.session,
            "omadm.status-missing",
            f"the {who} sent no Status for {wanted}{more} of frame {sent.message.frame} by {where}",
            frames,
        )
        sent.needs_status.clear()

    # -- authentication rules ----------------------------------------------------------------
    def _check_retry(
        self, live: _Live, challenge: SessionMessage, msg: SessionMessage, rec: syncml.SyncMLMessage
    ) -> None:
        lacks = []
        if not opens_session(rec):
            lacks.append("Alert 1200/1201")
        if not any(
            c.name in ("Replace", "Add")
            and any((i.target or i.source or "").startswith("./DevInfo") for i in c.items)
            for c in rec.commands
        ):
            lacks.append("DevInfo")
        cred = rec.header.cred
        kind = (cred.type or "syncml:auth-basic") if cred is not None else None
        if kind is None and "hmac" in msg.notes:
            kind = "syncml:auth-MAC"
        asked = live.asked_type.get(Direction.TO_SERVER)
        if kind is None:
            lacks.append("credentials")
        elif asked and kind.lower() != asked.lower():
            lacks.append(f"the {asked} credentials the Chal asked for (it sent {kind})")
        # "the next message containing the proper credentials MUST contain a Status for the SyncHdr"
        if not any(
            c.name == "Status"
            and c.is_header_status
            and (challenge.msg_id is None or c.msg_ref == challenge.msg_id)
            for c in rec.commands
        ):
            lacks.append(f"a Status for the SyncHdr of frame {challenge.frame}")
        if lacks:
            self._flag(
                live.session,
                "omadm.challenge-not-followed",
                f"after the server's challenge (frame {challenge.frame}) the client's message lacks "
                f"{', '.join(lacks)}",
                [challenge.frame, msg.frame],
            )

    def _check_cred(
        self, live: _Live, msg: SessionMessage, rec: syncml.SyncMLMessage, hmac: str | None
    ) -> None:
        cred = rec.header.cred
        kind = cred.type if cred is not None and cred.type else ("syncml:auth-MAC" if hmac else None)
        if hmac:
            msg.notes.append("hmac")
        if kind is None:
            return
        msg.notes.append(kind)
        # "Once authentication has occurred" the type is kept: a side trying another type before any
        # success (after a 401, say) changes nothing that had been accepted.
        d = msg.direction
        accepted = live.accepted_type.get(d)
        asked = live.asked_type.get(d)
        if accepted is not None and kind.lower() not in (accepted[0].lower(), (asked or "").lower()):
            self._flag(
                live.session,
                "omadm.auth-type-changed",
                f"the {'client' if d == Direction.TO_SERVER else 'server'} used {accepted[0]}, now {kind} in "
                f"frame {msg.frame}, though {accepted[0]} was accepted in frame {accepted[1]}",
                [accepted[1], msg.frame],
            )

    def _check_msg_id(self, live: _Live, msg: SessionMessage, direction: Direction) -> None:
        n = _code(msg.msg_id)
        before = live.msg_ids.get(direction)
        if n is None:
            return
        live.msg_ids[direction] = n
        who = "client" if direction == Direction.TO_SERVER else "server"
        if before is None:
            # Only where the session's start is in the capture: a capture may begin mid-session.
            if live.opened and n != 1:
                self._flag(
                    live.session,
                    "omadm.msgid-sequence",
                    f"the {who}'s first message of the session (frame {msg.frame}) has MsgID {n}, not 1",
                    [msg.frame],
                )
            return
        if n != before + 1:
            self._flag(
                live.session,
                "omadm.msgid-sequence",
                f"MsgID {n} follows {before} from the {who}",
                [msg.frame],
            )

    def _check_session_id(self, live: _Live, msg: SessionMessage, direction: Direction) -> None:
        """Every message carries the session's SessionID: the notification's, else the first one."""
        sid = (msg.session_id or "").strip()
        if live.session_id is None:
            live.session_id = sid
            return
        if sid == live.session_id or sid in live.sid_reported:
            return
        live.sid_reported.add(sid)
        head = live.notification
        whose = f"the notification's (frame {head.frame})" if head is not None else "the session's"
        self._flag(
            live.session,
            "omadm.session-id-changed",
            f"frame {msg.frame} from the {'client' if direction == 'to_server' else 'server'} has SessionID "
            f"{sid!r}, not {whose} {live.session_id!r}",
            [msg.frame] if head is None else [head.frame, msg.frame],
        )

    def _check_resend(
        self, live: _Live, msg: SessionMessage, direction: Direction, cred: tuple[str, str] | None
    ) -> None:
        """After 200 to its credentials a side sends them again; with a Chal, md5 makes a new digest."""
        due = live.resend.pop(direction, None)
        if due is None:
            return
        frame, kind, data, ok_frame, nonce = due
        who = "client" if direction == Direction.TO_SERVER else "server"
        if cred is None:
            text = (
                f"the {who}'s {kind} credentials of frame {frame} got 200 in frame {ok_frame}, yet its "
                f"next message (frame {msg.frame}) carries none"
            )
        elif cred[0] != kind:
            return  # omadm.auth-type-changed says it
        elif kind.lower() == "syncml:auth-md5" and nonce and cred[1] == data:
            text = (
                f"frame {msg.frame} repeats the md5 digest of frame {frame} although the Chal in frame "
                f"{ok_frame} gave the next nonce"
            )
        elif kind.lower() == "syncml:auth-md5" and not nonce and cred[1] != data:
            # No Chal, no new nonce: the same password and nonce make the same digest, so another one
            # is other credentials (DM Protocol §2.4.1: "the same credentials MUST be sent").
            text = (
                f"frame {msg.frame} carries another md5 digest than frame {frame}, accepted with 200 in "
                f"frame {ok_frame}, though no Chal gave it a new nonce"
            )
        elif kind.lower() == "syncml:auth-basic" and cred[1] != data:
            text = (
                f"frame {msg.frame} carries other basic credentials than those of frame {frame}, accepted "
                f"with 200 in frame {ok_frame}"
            )
        else:
            return
        self._flag(live.session, "omadm.credentials-not-resent", text, [frame, ok_frame, msg.frame])

    # -- nonce resynchronisation (DM Notification §6.2) ---------------------------------------------
    def _resync_step(
        self, live: _Live, r: _Resync, msg: SessionMessage, rec: syncml.SyncMLMessage, direction: Direction
    ) -> None:
        """Step the session's resync machine with a message; word the step that is missing."""
        status = _header_status(rec)
        code = status.code if status is not None else None
        stale = None
        if direction == Direction.TO_SERVER and msg.package == 1:
            stale = next((a for a in msg.auth if getattr(a, "result", None) == "valid"
                          and any(n.startswith(_NOT_RESYNC_NOTE) for n in getattr(a, "notes", ()))), None)
        event = classify_resync(to_server=direction == Direction.TO_SERVER, package=msg.package, code=code,
                                chal_nonce=_with_nonce(status), stale=stale is not None)
        at = r.phase
        r.phase, rule = resync_step(at, event)
        if rule is not None:
            said = f"Status {code} for the SyncHdr" if code is not None else "no Status for the SyncHdr"
            if at is ResyncPhase.PKG1:
                text = (f"Package #1 (frame {msg.frame}) computes its {getattr(stale, 'scheme', '')} "
                        f"credentials with the stored nonce, not the resync nonce {r.nonce} its "
                        f"notification (frame {r.notification}) verified with")
                frames = [r.notification, msg.frame]
            elif at is ResyncPhase.PKG2:
                text = (f"Package #2 (frame {msg.frame}) accepts the client with {code} but no Chal: the "
                        f"client nonce is not renewed after the resync nonce {r.nonce}")
                frames = [r.notification, msg.frame]
            elif at is ResyncPhase.PKG3:
                text = (f"Package #3 (frame {msg.frame}) answers Package #2 (frame {r.last}) with {said} "
                        f"{'and' if code in SUCCESS else 'but'} no Chal: the server nonce is not renewed")
                frames = [r.last, msg.frame]
            else:
                text = (f"Package #4 (frame {msg.frame}) answers the client's Chal (frame {r.last}) with "
                        f"{said}, not a success Status")
                frames = [r.last, msg.frame]
            self._flag(live.session, "omadm.resync-step-missing", text, frames)
        if r.phase is not at and r.phase in (ResyncPhase.PKG3, ResyncPhase.PKG4):
            r.last = msg.frame  # the step just met: the next one answers it

    def _resync_end(self, live: _Live, r: _Resync) -> None:
        at = r.phase
        r.phase, rule = resync_step(at, ResyncInput.END)
        if rule is None:
            return
        if at is ResyncPhase.PKG3:
            text = (
                f"the session ended after Package #2 (frame {r.last}): no Package #3 renewed the server "
                "nonce"
            )
        else:
            text = f"the session ended without a Package #4 answering the client's Chal (frame {r.last})"
        self._flag(live.session, "omadm.resync-step-missing", text, [r.notification, r.last])

    # -- notifications ---------------------------------------------------------------------------
    def _notification(
        self,
        rec: object,
        ident: str,
        frame: int,
        time: float,
        how: str,
        device_ip: str,
        server_ip: str,
        auth: list[object] | None,
    ) -> None:
        msg = SessionMessage(
            frame=frame,
            time=time,
            direction=Direction.TO_CLIENT,
            kind="Notification",
            transaction=ident,
            http=how,
            status=None,
            body_length=0,
            record=rec,
            package=0,
            encoding="binary",
            auth=list(auth or ()),
        )
        if isinstance(rec, notification.NotificationError):
            self._emit_finding(
                "omadm.notification-decode-error", f"{how} in frame {frame}: {rec.reason}", [frame], None
            )
            return
        assert isinstance(rec, notification.Notification)
        msg.session_id = rec.session_id_hex
        msg.body_length = 16 + len(rec.trigger)
        self.notifications.add(_Pending(msg, rec, device_ip, server_ip), time, rec.session_id, device_ip)

    def _link_notification(self, live: _Live, tx: Transaction, rec: syncml.SyncMLMessage) -> None:
        """Make the notification this Package #1 answers its package 0 (which one: :mod:`dmsniff.dm_links`,
        the verifier's choice too).  The Alert code does not matter for linking (a device answering with
        1201 is flagged, not orphaned), nor how the Pkg#0 server id is spelled (a DMAcc ServerID, where
        the SyncHdr has the server's URL)."""
        if not self.notifications:
            return
        link = self.notifications.answer(rec, _host(tx.client), live.session.start)
        if link is None:
            return
        match = link.notification
        sent = (rec.header.session_id or "").strip()
        alerts = [c.code for c in rec.commands if c.name == "Alert" and c.code in (1200, 1201)]
        frame = tx.request.frame if tx.request is not None else match.message.frame
        if link.form == "other":
            self._flag(
                live.session,
                "omadm.pkg1-session-id-mismatch",
                f"Package #1 has SessionID {rec.header.session_id!r}; the notification just before it "
                f"(frame {match.message.frame}) gave session id {match.record.session_id_hex!r}",
                [match.message.frame, frame],
            )
            live.session_id = match.record.session_id_hex
            live.sid_reported.add(sent)
        else:
            live.session_id = sent
            if link.form != "hex":
                text = (
                    f"Package #1 (frame {frame}) gives the session id {match.record.session_id_hex} of the "
                    f"notification (frame {match.message.frame}) as {sent!r}, in {link.form}, not upper-case "
                    "hex"
                )
                if link.form == "decimal":  # Windows MDM's own form: known only once the session shows it
                    live.decimal_sid = (text, [match.message.frame, frame])
                else:
                    self._flag(live.session, "omadm.pkg1-session-id-form", text, [match.message.frame, frame])
        if 1200 not in alerts:
            what = f"Alert {alerts[0]}" if alerts else "no Alert 1200/1201"
            self._flag(
                live.session,
                "omadm.pkg1-not-alert-1200",
                f"Package #1 (frame {frame}) answers the notification of frame {match.message.frame} with "
                f"{what}, not Alert 1200 (server-initiated)",
                [match.message.frame, frame],
            )
        live.notification = match.message
        live.session.messages.insert(0, match.message)
        live.session.server_name = live.session.server_name or match.record.server_id
        live.session.start = min(live.session.start, match.message.time)
        for a in match.message.auth:
            if getattr(a, "result", None) != "valid":
                continue
            notes = getattr(a, "notes", ())
            label = next((n[len(_RESYNC_NOTE) :] for n in notes if n.startswith(_RESYNC_NOTE)), None)
            if label is not None:
                live.resync = _Resync(match.message.frame, label)

    def _notification_unused(self, p: _Pending) -> None:
        self._emit_finding(
            "omadm.notification-without-session",
            f"notification for session {p.record.session_id_hex} from {p.record.server_id!r} to "
            f"{p.device_ip} ({p.message.http}) was not followed by a session within "
            f"{NOTIFICATION_WINDOW:.0f} s",
            [p.message.frame],
            None,
        )

    # -- end of sessions -----------------------------------------------------------------------
    def _end(self, live: _Live, reason: str) -> None:
        if live.ended:
            return
        live.ended = True
        s = live.session
        s.end_reason = reason
        self._facts(live)
        for side, phase in live.auth.items():
            live.auth[side] = auth_step(phase, AuthInput.END)[0]
        for side, pkg in live.packages.items():
            live.packages[side] = package_step(pkg, PackageInput.END)[0]
        if live.resync is not None:
            self._resync_end(live, live.resync)
        if reason != "completed":
            for sent in live.last.values():
                if not sent.checked:
                    sent.checked = True
                    if reason not in ("auth-failed",) and sent.message.direction == Direction.TO_CLIENT:
                        self._missing(live, sent, None)
            frames = [s.messages[-1].frame] if s.messages else []
            self._flag(s, "omadm.session-not-completed", _END_TEXT.get(reason, reason), frames)
        for c in live.chunks.values():
            obj = c.obj
            obj.data = "".join(c.parts)[:MAX_OBJECT]
            s.large_objects.append(obj)
            self._flag(
                s,
                "omadm.large-object-incomplete",
                f"{obj.target}: {obj.chunks} chunk(s), {obj.size} bytes of {obj.declared_size or '?'}, "
                "the last chunk never came",
                obj.frames[:10],
            )
        live.chunks.clear()
        for key in (live.key, *live.aliases):
            if self.live.get(key) is live:
                del self.live[key]
        due = (live.key[1], live.key[2])
        if self.retry_due.get(due) is live and reason != "auth-failed":
            del self.retry_due[due]
        last = live.last.get(Direction.TO_CLIENT)
        if reason == "completed" and last is not None:
            # Kept for a minute in case the client answers it late: without its decoded message (the
            # report has it in the session), which would hold every closed session's items in memory.
            slim = replace(last, message=replace(last.message, record=None))
            self.closed.pop(live.key, None)  # re-inserted last: the dict stays in closing order
            self.closed[live.key] = (dumps(slim), live.last_time)
            if len(self.closed) > MAX_CLOSED:
                del self.closed[next(iter(self.closed))]
        self.outbox.session(s)

    def _tick(self, now: float) -> None:
        if not self._sweep_due(now):
            return
        for live in list(self.live.values()):
            if self.now - live.last_time > SESSION_IDLE:
                self._end(live, "auth-failed" if live.challenged is not None else "timeout")
        for p in self.notifications.expire(self.now):
            self._notification_unused(p)
        self.closed = {k: v for k, v in self.closed.items() if self.now - v[1] <= SESSION_IDLE}

    def _facts(self, live: _Live) -> None:
        """The session's Windows MDM facts and Generic Alerts; the Windows findings that wait for them."""
        s = live.session
        if live.windows is not None and live.header_meta:
            frames = live.header_meta[:10]
            self._flag(
                s,
                "omadm.synchdr-meta-ignored",
                f"the server's SyncHdr carries Meta in frame{'s' if len(frames) > 1 else ''} "
                f"{', '.join(map(str, frames))}; the Windows client ignores it",
                frames,
            )
        live.windows_pending.clear()
        live.addressed.clear()
        if live.decimal_sid is not None and live.windows is None:
            self._flag(s, "omadm.pkg1-session-id-form", *live.decimal_sid)
        if live.windows is None and not live.generic_alerts:
            return
        facts = DmFacts(windows=live.windows, generic_alerts=live.generic_alerts)
        if live.windows is not None:
            if live.login is not None:
                facts.login_state, facts.login_frame = live.login
            facts.session_id_form = _session_id_form(live.session_id or s.session_id)
            facts.scopes = list(live.scopes.values())
        s.dm = facts

    # -- devices and their tree ------------------------------------------------------------------
    def _device(self, dev_id: str) -> Device:
        dev = self.devices.get(dev_id)
        if dev is None:
            dev = self.devices[dev_id] = Device(id=dev_id, protocol="omadm", identity={})
        return dev

    def _observe(self, live: _Live, rows: Sequence[_Value]) -> None:
        dev_id = live.session.device_id
        if dev_id is None or not rows:
            return
        dev = self._device(dev_id)
        for uri, value, _fmt, source, _frame, _time in rows:
            name = uri.rsplit("/", 1)[-1]
            if source == "DevInfo" and (key := _DEVINFO.get(name)) is not None:
                dev.identity[key] = value.strip()
        live.session.device = {"id": dev_id, **dev.identity}
        self.tree.add(dev_id, [(u, v, f, src, fr, t, live.session.id) for u, v, f, src, fr, t in rows])

    # -- findings ----------------------------------------------------------------------------------
    def _undecodable(self, tx: Transaction, *records: object) -> None:
        for rec, msg in zip(records, (tx.request, tx.response), strict=True):
            if isinstance(rec, syncml.SyncMLError) and msg is not None:
                self._emit_finding(
                    "omadm.decode-error", f"{tx.id} frame {msg.frame}: {rec.reason}", [msg.frame], None
                )



def _format(item: syncml.Item, cmd: syncml.Command) -> str | None:
    meta = item.meta or cmd.meta
    return meta.format if meta is not None else None
