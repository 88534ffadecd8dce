"""Record captures/omadm_loopback.pcap: real curl (the DM client) talking OMA DM 1.2 to a toy DM server.

The DM server is a ``http.server`` (HTTP/1.1 keep-alive) playing a fixed script: it checks each
message curl posts (path, Content-Type, exact bytes, SessionID/MsgID after decoding WBXML with the
real ``wbxml2xml``, and the client's credentials or HMAC) and answers with the next scripted
message.  The client is curl, one invocation per DM session with ``--next`` between the POSTs so
that each session is one keep-alive TCP connection.  WBXML bodies, the client's and the server's,
are made from the XML by the real ``xml2wbxml`` (libwbxml) and checked to read back with
``wbxml2xml``.  Package #0 notifications go as connectionless WAP Push (WSP Push PDU, content type
0x44 application/vnd.syncml.notification, X-WAP-Application-ID 0x07 x-wap-application:syncml.dm)
over UDP from an ephemeral port of the server to 127.0.0.1:2948, where a socket listens (and checks
the digest), so no ICMP.  tcpdump records it all on ``lo``.  The capture holds:

1. notification N1: session id 0x1A2B, ui-mode 1 (background), initiator server, digest VALID
   (server password, nonce b"");
2. session 1, WBXML (application/vnd.syncml.dm+wbxml), SessionID 1A2B, one TCP connection:
   C1 Pkg#1 (Cred syncml:auth-basic with the WRONG password "nopass", Alert 1200, Replace of
   ./DevInfo/{DevId,Man,Mod,DmV,Lang}) to /dm; S1 SyncHdr 401 + Chal auth-md5 (NONCE_1), Alert and
   Replace 215, RespURI /dm?s=1A2B (repeated in S2 and S3, so C2-C4 all go there); C2 Status 200
   for S1's SyncHdr, then Pkg#1 again with Cred auth-md5 (dmpass, NONCE_1); S2 SyncHdr 212 + Chal
   (NONCE_2 for the next session), Alert/Replace 200, Get ./DevDetail/SwV, Replace
   ./Settings/Volume "7", first chunk (200 of 300 bytes, Meta Size 300, MoreData) of
   ./Vendor/Blob, no Final; C3 statuses, Results SwV "1.2.3", Blob 213, Alert 1222; S3 Status for
   Results (200) and Alert, the last Blob chunk (100 bytes); C4 Blob 200; S4 Final only;
3. notification N2: session id 0x2C, ui-mode 2 (informative), digest made with the RESYNC nonce
   (four zero bytes);
4. session 2, XML (application/vnd.syncml.dm+xml), SessionID 2C, one TCP connection: C1 Cred
   auth-md5 with the WRONG password "badpass" and NONCE_2; S1 401 + Chal NONCE_3, Alert/Replace
   215; C2 Status 200 for S1's SyncHdr, Pkg#1 again, "badpass" with NONCE_3; S2 401 + Chal NONCE_4,
   Alert/Replace 215; the client gives up;
5. notification N3: session id 0x3D, ui-mode 3 (user interaction), digest INVALID (made with the
   server password "wrong");
6. session 3, XML, SessionID 3E (deliberately not N3's 3D), one TCP connection, HMAC
   authentication: each POST carries ``x-syncml-hmac`` for dmuser/dmpass with the latest server
   nonce (NONCE_4, then NONCE_5), no Cred; each response carries ``x-syncml-hmac`` for
   dmsniff-dm/srvpass with the fixed CLIENT_NONCE, and its SyncHdr Status is 200 with a Chal
   syncml:auth-MAC giving the next nonce (NONCE_5, NONCE_6).  C1 Alert 1200 (answering N3, but
   under the wrong SessionID) + DevInfo Replace;
   S1 answers them with 200, then Windows-rule breakers: Atomic 4 holding Atomic 5 holding Get 6
   ./DevDetail/FwV, Replace 7 of "/Vendor/Leading" (leading "/"), a Delete of ./Vendor/Old with NO
   CmdID, Exec 8 ./Vendor/Reset; C2 Status Atomic 507, inner Atomic 500, Get 215, Replace 404,
   and NO Status for the Exec (nor the Delete, which has no CmdID to name); S2 SyncHdr 200 + Final.

Secrets: client device id IMEI:493005100592800, userid (LocName) dmuser, password dmpass; server id
dmsniff-dm (its LocURI is the server URL http://127.0.0.1:PORT/dm), server password srvpass.  The
nonces are the fixed NONCE_*/CLIENT_NONCE constants below (the NextNonce elements carry them
base64-encoded).  Notification N1 is valid, N2 needs the resync nonce, N3 is invalid.

The HTTP port is picked at run time; the push port is 2948 and must be free.  Run as root::

    python captures/record_omadm.py [OUT.pcap]

``record(out_path)`` does the same from Python and returns the number of packets captured.
Re-running gives identical DM bodies except for the port in URLs (and so WBXML string lengths,
HMACs of bodies holding the URL), with new TCP ports, sequence numbers and times.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import re
import shutil
import socket
import ssl
import string
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
PUSH_PORT = 2948  # WDP port of connectionless WAP Push
DEVICE_ID = "IMEI:493005100592800"
USER, PASSWORD = "dmuser", "dmpass"
SERVER_ID, SERVER_PASSWORD = "dmsniff-dm", "srvpass"
WBXML_CT = "application/vnd.syncml.dm+wbxml"
XML_CT = "application/vnd.syncml.dm+xml"
SYNCML_NS, METINF_NS = "SYNCML:SYNCML1.2", "syncml:metinf"
DOCTYPE = (
    '<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN"'
    ' "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">'
)
METINF_TAGS = frozenset({"Type", "Format", "NextNonce", "MaxMsgSize", "MaxObjSize", "Size"})
AUTH_BASIC, AUTH_MD5, AUTH_MAC = "syncml:auth-basic", "syncml:auth-md5", "syncml:auth-MAC"
# Server nonces, in the order the server hands them out (raw bytes; NextNonce is their base64).
NONCE_1 = bytes.fromhex("5d41402abc4b2a76b9719d911017c592")  # session 1 S1 (401)
NONCE_2 = bytes.fromhex("7e57d004a6b2c3d4e5f60718293a4b5c")  # session 1 S2 (212): for session 2 C1
NONCE_3 = bytes.fromhex("0badc0de1122334455667788990aabbc")  # session 2 S1 (401)
NONCE_4 = bytes.fromhex("c0ffee00deadbeef0102030405060708")  # session 2 S2 (401): session 3 C1 HMAC
NONCE_5 = bytes.fromhex("f00dface89abcdef1032547698badcfe")  # session 3 S1: session 3 C2 HMAC
NONCE_6 = bytes.fromhex("a5a5a5a55a5a5a5a0f1e2d3c4b5a6978")  # session 3 S2: for the next session
CLIENT_NONCE = bytes.fromhex("31415926535897932384626433832795")  # the server's HMAC nonce
RESYNC_NONCE = b"\x00\x00\x00\x00"
BLOB = ((string.digits + string.ascii_uppercase) * 9)[:300]  # ./Vendor/Blob, sent in two chunks
CHUNK = 200  # bytes in the first chunk
TIMEOUT = 10.0  # seconds, for any one step

# --- security formulas (OMA DM Security 1.2, DM Notification 1.2) -------------------------------


def _md5(data: bytes) -> bytes:
    return hashlib.md5(data).digest()


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data)


def cred_basic(user: str, password: str) -> str:
    """syncml:auth-basic Cred Data: B64(user:password)."""
    return _b64(f"{user}:{password}".encode()).decode()


def cred_md5(user: str, password: str, nonce: bytes) -> str:
    """syncml:auth-md5 Cred Data: B64(H(B64(H(user:password)):nonce))."""
    return _b64(_md5(_b64(_md5(f"{user}:{password}".encode())) + b":" + nonce)).decode()


def hmac_mac(user: str, password: str, nonce: bytes, body: bytes) -> str:
    """mac of x-syncml-hmac: B64(H(B64(H(user:password)):nonce:B64(H(body))))."""
    return _b64(
        _md5(_b64(_md5(f"{user}:{password}".encode())) + b":" + nonce + b":" + _b64(_md5(body)))
    ).decode()


def hmac_header(user: str, password: str, nonce: bytes, body: bytes) -> str:
    return f'algorithm=MD5, username="{user}", mac={hmac_mac(user, password, nonce, body)}'


def pkg0(ui_mode: int, session_id: int, password: str, nonce: bytes, vendor: bytes = b"") -> bytes:
    """A DM Notification 1.2 (Package #0) from SERVER_ID: digest + trigger."""
    sid = SERVER_ID.encode()
    bits = (11 << 30) | (ui_mode << 28) | (1 << 27)  # version 11, ui-mode, initiator server, future 0
    trigger = bits.to_bytes(5, "big") + session_id.to_bytes(2, "big") + bytes([len(sid)]) + sid + vendor
    return pkg0_digest(password, nonce, trigger) + trigger


def pkg0_digest(password: str, nonce: bytes, trigger: bytes) -> bytes:
    return _md5(_b64(_md5(f"{SERVER_ID}:{password}".encode())) + b":" + nonce + b":" + _b64(_md5(trigger)))


def uintvar(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def wap_push(tid: int, payload: bytes) -> bytes:
    """Connectionless WSP Push PDU (WAP-230): TID, type 0x06, HeadersLen, ContentType + headers, data."""
    headers = b"\xc4" + b"\xaf\x87"  # application/vnd.syncml.notification; X-WAP-Application-ID syncml.dm
    return bytes([tid, 0x06]) + uintvar(len(headers)) + headers + payload


# The RepPro 1.2.1 example (Bruce2/OhBehave) pins both Cred formulas.
assert cred_basic("Bruce2", "OhBehave") == "QnJ1Y2UyOk9oQmVoYXZl"
assert cred_md5("Bruce2", "OhBehave", b"Nonce") == "Zz6EivR3yeaaENcRN6lpAQ=="

# --- SyncML documents ---------------------------------------------------------------------------


class E(NamedTuple):
    tag: str
    text: str | None
    kids: list[E]


def e(tag: str, *content: E | str | int | None) -> E:
    """An element: e("Data", 200) has text, e("Item", e(...), None, ...) has children (None skipped)."""
    kids = [c for c in content if c is not None]
    if len(kids) == 1 and isinstance(kids[0], str | int):
        return E(tag, str(kids[0]), [])
    if not all(isinstance(k, E) for k in kids):
        raise TypeError(f"<{tag}>: mixed content")
    return E(tag, None, [k for k in kids if isinstance(k, E)])


def render(node: E, depth: int = 0) -> str:
    pad = " " * depth
    attr = f' xmlns="{METINF_NS}"' if node.tag in METINF_TAGS else ""
    attr = f' xmlns="{SYNCML_NS}"' if node.tag == "SyncML" else attr
    if node.text is not None:
        return f"{pad}<{node.tag}{attr}>{escape(node.text)}</{node.tag}>\n"
    if not node.kids:
        return f"{pad}<{node.tag}{attr}/>\n"
    if len(node.kids) == 1 and node.kids[0].text is not None:  # <Target><LocURI>x</LocURI></Target>
        return f"{pad}<{node.tag}{attr}>{render(node.kids[0]).strip()}</{node.tag}>\n"
    inner = "".join(render(k, depth + 1) for k in node.kids)
    return f"{pad}<{node.tag}{attr}>\n{inner}{pad}</{node.tag}>\n"


def document(hdr: E, body: list[E], doctype: bool) -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n' + (DOCTYPE + "\n" if doctype else "")
    return (head + render(e("SyncML", hdr, e("SyncBody", *body)))).encode()


def meta(*kids: E | None) -> E:
    return e("Meta", *kids)


def client_hdr(
    sid: str, msg_id: int, url: str, cred: E | None = None, first: bool = False, device: str = DEVICE_ID
) -> E:
    return e(
        "SyncHdr",
        e("VerDTD", "1.2"),
        e("VerProto", "DM/1.2"),
        e("SessionID", sid),
        e("MsgID", msg_id),
        e("Target", e("LocURI", url)),
        e("Source", e("LocURI", device), e("LocName", USER)),
        cred,
        meta(e("MaxMsgSize", 2048), e("MaxObjSize", 4096)) if first else None,
    )


def server_hdr(
    sid: str,
    msg_id: int,
    url: str,
    resp_uri: str | None = None,
    device: str = DEVICE_ID,
    cred: E | None = None,
    hdr_meta: E | None = None,
) -> E:
    return e(
        "SyncHdr",
        e("VerDTD", "1.2"),
        e("VerProto", "DM/1.2"),
        e("SessionID", sid),
        e("MsgID", msg_id),
        e("Target", e("LocURI", device)),
        e("Source", e("LocURI", url), e("LocName", SERVER_ID)),
        e("RespURI", resp_uri) if resp_uri else None,
        cred,
        hdr_meta,
    )


def cred(kind: str, data: str) -> E:
    return e("Cred", meta(e("Type", kind), e("Format", "b64")), e("Data", data))


def chal(kind: str, nonce: bytes) -> E:
    return e("Chal", meta(e("Type", kind), e("Format", "b64"), e("NextNonce", _b64(nonce).decode())))


def status(
    cmd_id: int,
    msg_ref: int,
    cmd_ref: int,
    cmd: str,
    code: int,
    targets: tuple[str, ...] = (),
    sources: tuple[str, ...] = (),
    challenge: E | None = None,
) -> E:
    return e(
        "Status",
        e("CmdID", cmd_id),
        e("MsgRef", msg_ref),
        e("CmdRef", cmd_ref),
        e("Cmd", cmd),
        *(e("TargetRef", t) for t in targets),
        *(e("SourceRef", s) for s in sources),
        challenge,
        e("Data", code),
    )


def hdr_status(
    cmd_id: int, msg_ref: int, code: int, target: str, source: str, challenge: E | None = None
) -> E:
    return status(cmd_id, msg_ref, 0, "SyncHdr", code, (target,), (source,), challenge)


def item(
    target: str | None = None,
    source: str | None = None,
    fmt: str | None = None,
    data: str | None = None,
    mtype: str | None = None,
    size: int | None = None,
    more: bool = False,
) -> E:
    m = (
        meta(
            e("Format", fmt) if fmt else None,
            e("Type", mtype) if mtype else None,
            e("Size", size) if size is not None else None,
        )
        if fmt or mtype or size is not None
        else None
    )
    return e(
        "Item",
        e("Target", e("LocURI", target)) if target else None,
        e("Source", e("LocURI", source)) if source else None,
        m,
        e("Data", data) if data is not None else None,
        e("MoreData") if more else None,
    )


DEVINFO = (
    ("DevId", DEVICE_ID),
    ("Man", "dmsniff"),
    ("Mod", "loopback-phone"),
    ("DmV", "1.2"),
    ("Lang", "en-US"),
)
DEVINFO_URIS = tuple(f"./DevInfo/{name}" for name, _ in DEVINFO)


def alert(cmd_id: int, code: int) -> E:
    return e("Alert", e("CmdID", cmd_id), e("Data", code))


def devinfo(cmd_id: int) -> E:
    return e("Replace", e("CmdID", cmd_id), *(item(source=f"./DevInfo/{n}", data=v) for n, v in DEVINFO))


# --- WBXML through libwbxml's tools ------------------------------------------------------------


def libwbxml(tool: str, data: bytes) -> bytes:
    try:
        done = subprocess.run([tool, "-o", "-", "-"], input=data, capture_output=True, timeout=TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{tool} failed: {exc}") from exc
    if done.returncode or not done.stdout:
        raise RuntimeError(
            f"{tool} failed ({done.returncode}): {done.stderr.decode(errors='replace').strip()}"
        )
    return done.stdout


def _shape(node: ET.Element) -> tuple[object, ...]:
    return (node.tag, sorted(node.attrib.items()), (node.text or "").strip(), [_shape(k) for k in node])


def to_wbxml(xml: bytes) -> bytes:
    """xml2wbxml's encoding of xml, checked to be SyncML 1.2 WBXML that wbxml2xml reads back as xml."""
    wbxml = libwbxml("xml2wbxml", xml)
    if wbxml[:3] != b"\x03\xa4\x01":  # WBXML 1.3, public id 0x1201 (SyncML 1.2)
        raise RuntimeError(f"xml2wbxml: not SyncML 1.2 WBXML: {wbxml[:8].hex()}")
    if _shape(ET.fromstring(libwbxml("wbxml2xml", wbxml))) != _shape(ET.fromstring(xml)):
        raise RuntimeError("wbxml2xml does not read back what xml2wbxml was given")
    return wbxml


# --- the script ---------------------------------------------------------------------------------


class Post(NamedTuple):
    """One client message (as curl posts it) and the server's scripted answer."""

    session: str  # SessionID
    msg_id: int
    path: str
    ctype: str
    body: bytes
    answer: bytes
    auth: str = ""  # what the server checks: "basic", "md5", "hmac" or "" (nothing)
    nonce: bytes = b""  # the server nonce the client had to use
    auth_ok: bool = True  # whether the credentials are right
    client_hmac: str | None = None  # x-syncml-hmac on the POST
    server_hmac: str | None = None  # x-syncml-hmac on the answer


class Notification(NamedTuple):
    tid: int
    pdu: bytes  # the WSP Push PDU
    nonce: bytes  # the nonce the device must use to find the digest valid
    valid: bool


def notifications() -> list[Notification]:
    return [
        Notification(1, wap_push(1, pkg0(1, 0x1A2B, SERVER_PASSWORD, b"")), b"", True),
        Notification(2, wap_push(2, pkg0(2, 0x2C, SERVER_PASSWORD, RESYNC_NONCE)), RESYNC_NONCE, True),
        Notification(3, wap_push(3, pkg0(3, 0x3D, "wrong", b"")), b"", False),
    ]


def session1(url: str) -> list[Post]:
    """WBXML, SessionID 1A2B: basic with a wrong password, 401, md5, 212, Get/Replace/large object."""
    sid, resp_uri, path2 = "1A2B", url + "?s=1A2B", "/dm?s=1A2B"
    swv, vol, blob = "./DevDetail/SwV", "./Settings/Volume", "./Vendor/Blob"
    c1 = document(
        client_hdr(sid, 1, url, cred(AUTH_BASIC, cred_basic(USER, "nopass")), first=True),
        [alert(1, 1200), devinfo(2), e("Final")],
        True,
    )
    s1 = document(
        server_hdr(sid, 1, url, resp_uri),
        [
            hdr_status(1, 1, 401, url, DEVICE_ID, chal(AUTH_MD5, NONCE_1)),
            status(2, 1, 1, "Alert", 215),
            status(3, 1, 2, "Replace", 215, sources=DEVINFO_URIS),
            e("Final"),
        ],
        True,
    )
    c2 = document(
        client_hdr(sid, 2, url, cred(AUTH_MD5, cred_md5(USER, PASSWORD, NONCE_1)), first=True),
        [hdr_status(1, 1, 200, DEVICE_ID, url), alert(2, 1200), devinfo(3), e("Final")],
        True,
    )
    s2 = document(
        server_hdr(sid, 2, url, resp_uri),
        [  # Pkg#2 goes on in S3: no Final
            hdr_status(1, 2, 212, url, DEVICE_ID, chal(AUTH_MD5, NONCE_2)),
            status(2, 2, 2, "Alert", 200),
            status(3, 2, 3, "Replace", 200, sources=DEVINFO_URIS),
            e("Get", e("CmdID", 4), item(target=swv)),
            e("Replace", e("CmdID", 5), item(target=vol, fmt="int", data="7")),
            e(
                "Replace",
                e("CmdID", 6),
                item(
                    target=blob, fmt="chr", mtype="text/plain", size=len(BLOB), data=BLOB[:CHUNK], more=True
                ),
            ),
        ],
        True,
    )
    c3 = document(
        client_hdr(sid, 3, url),
        [
            hdr_status(1, 2, 200, DEVICE_ID, url),
            status(2, 2, 4, "Get", 200, targets=(swv,)),
            e(
                "Results",
                e("CmdID", 3),
                e("MsgRef", 2),
                e("CmdRef", 4),
                item(source=swv, fmt="chr", data="1.2.3"),
            ),
            status(4, 2, 5, "Replace", 200, targets=(vol,)),
            status(5, 2, 6, "Replace", 213, targets=(blob,)),
            alert(6, 1222),
            e("Final"),
        ],
        True,
    )
    s3 = document(
        server_hdr(sid, 3, url, resp_uri),
        [
            hdr_status(1, 3, 200, url, DEVICE_ID),
            status(2, 3, 3, "Results", 200, sources=(swv,)),
            status(3, 3, 6, "Alert", 200),
            e("Replace", e("CmdID", 4), item(target=blob, fmt="chr", mtype="text/plain", data=BLOB[CHUNK:])),
            e("Final"),
        ],
        True,
    )
    c4 = document(
        client_hdr(sid, 4, url),
        [hdr_status(1, 3, 200, DEVICE_ID, url), status(2, 3, 4, "Replace", 200, targets=(blob,)), e("Final")],
        True,
    )
    s4 = document(server_hdr(sid, 4, url), [hdr_status(1, 4, 200, url, DEVICE_ID), e("Final")], True)
    w = to_wbxml
    return [
        Post(sid, 1, "/dm", WBXML_CT, w(c1), w(s1), "basic", auth_ok=False),
        Post(sid, 2, path2, WBXML_CT, w(c2), w(s2), "md5", NONCE_1),
        Post(sid, 3, path2, WBXML_CT, w(c3), w(s3)),
        Post(sid, 4, path2, WBXML_CT, w(c4), w(s4)),
    ]


def session2(url: str) -> list[Post]:
    """XML, SessionID 2C: md5 with a wrong password, twice refused."""
    sid = "2C"
    bad1, bad2 = cred_md5(USER, "badpass", NONCE_2), cred_md5(USER, "badpass", NONCE_3)
    c1 = document(
        client_hdr(sid, 1, url, cred(AUTH_MD5, bad1), first=True),
        [alert(1, 1200), devinfo(2), e("Final")],
        False,
    )
    s1 = document(
        server_hdr(sid, 1, url),
        [
            hdr_status(1, 1, 401, url, DEVICE_ID, chal(AUTH_MD5, NONCE_3)),
            status(2, 1, 1, "Alert", 215),
            status(3, 1, 2, "Replace", 215, sources=DEVINFO_URIS),
            e("Final"),
        ],
        False,
    )
    c2 = document(
        client_hdr(sid, 2, url, cred(AUTH_MD5, bad2), first=True),
        [hdr_status(1, 1, 200, DEVICE_ID, url), alert(2, 1200), devinfo(3), e("Final")],
        False,
    )
    s2 = document(
        server_hdr(sid, 2, url),
        [
            hdr_status(1, 2, 401, url, DEVICE_ID, chal(AUTH_MD5, NONCE_4)),
            status(2, 2, 2, "Alert", 215),
            status(3, 2, 3, "Replace", 215, sources=DEVINFO_URIS),
            e("Final"),
        ],
        False,
    )
    return [
        Post(sid, 1, "/dm", XML_CT, c1, s1, "md5", NONCE_2, auth_ok=False),
        Post(sid, 2, "/dm", XML_CT, c2, s2, "md5", NONCE_3, auth_ok=False),
    ]


def session3(url: str) -> list[Post]:
    """XML, SessionID 3E, HMAC both ways: Windows-rule breakers and a missing Status."""
    sid, fwv, leading, reset = "3E", "./DevDetail/FwV", "/Vendor/Leading", "./Vendor/Reset"
    # Alert 1200: the device answers N3 (session 3D) -- but under SessionID 3E.
    c1 = document(client_hdr(sid, 1, url, first=True), [alert(1, 1200), devinfo(2), e("Final")], False)
    s1 = document(
        server_hdr(sid, 1, url),
        [
            hdr_status(1, 1, 200, url, DEVICE_ID, chal(AUTH_MAC, NONCE_5)),
            status(2, 1, 1, "Alert", 200),
            status(3, 1, 2, "Replace", 200, sources=DEVINFO_URIS),
            e("Atomic", e("CmdID", 4), e("Atomic", e("CmdID", 5), e("Get", e("CmdID", 6), item(target=fwv)))),
            e("Replace", e("CmdID", 7), item(target=leading, data="x")),
            e("Delete", item(target="./Vendor/Old")),  # no CmdID
            e("Exec", e("CmdID", 8), item(target=reset)),
            e("Final"),
        ],
        False,
    )
    c2 = document(
        client_hdr(sid, 2, url),
        [  # no Status for the Delete (it has no CmdID to refer to) nor for the Exec
            hdr_status(1, 1, 200, DEVICE_ID, url),
            status(2, 1, 4, "Atomic", 507),
            status(3, 1, 5, "Atomic", 500),
            status(4, 1, 6, "Get", 215, targets=(fwv,)),
            status(5, 1, 7, "Replace", 404, targets=(leading,)),
            e("Final"),
        ],
        False,
    )
    s2 = document(
        server_hdr(sid, 2, url),
        [hdr_status(1, 2, 200, url, DEVICE_ID, chal(AUTH_MAC, NONCE_6)), e("Final")],
        False,
    )
    posts = []
    for msg_id, body, answer, nonce in ((1, c1, s1, NONCE_4), (2, c2, s2, NONCE_5)):
        posts.append(
            Post(
                sid,
                msg_id,
                "/dm",
                XML_CT,
                body,
                answer,
                "hmac",
                nonce,
                client_hmac=hmac_header(USER, PASSWORD, nonce, body),
                server_hmac=hmac_header(SERVER_ID, SERVER_PASSWORD, CLIENT_NONCE, answer),
            )
        )
    return posts


# --- the DM server ------------------------------------------------------------------------------

S, M = f"{{{SYNCML_NS}}}", f"{{{METINF_NS}}}"
HMAC_RE = re.compile(r'^(?:algorithm=MD5, *)?username="([^"]*)", *mac=(\S+)$')


def authenticated(post: Post, doc: ET.Element, hmac_value: str | None) -> bool:
    """What a DM server would conclude about the client's credentials in post."""
    if post.auth == "hmac":
        m = HMAC_RE.match(hmac_value or "")
        return bool(m) and m[1] == USER and m[2] == hmac_mac(USER, PASSWORD, post.nonce, post.body)
    user = doc.findtext(f"{S}SyncHdr/{S}Source/{S}LocName")
    kind = doc.findtext(f"{S}SyncHdr/{S}Cred/{S}Meta/{M}Type")
    data = doc.findtext(f"{S}SyncHdr/{S}Cred/{S}Data") or ""
    if post.auth == "basic":
        return kind == AUTH_BASIC and base64.b64decode(data) == f"{USER}:{PASSWORD}".encode()
    return kind == AUTH_MD5 and user == USER and data == cred_md5(USER, PASSWORD, post.nonce)


class DmServer:
    """The server's state: the script still to play, and what went wrong."""

    def __init__(self) -> None:  # a plain class: loading the module needs no sys.modules entry
        self.script: deque[Post] = deque()
        self.connections: dict[str, tuple[str, int]] = {}  # SessionID -> client address
        self.errors: list[str] = []
        self.lock = threading.Lock()


def dm_handler(dm: DmServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        timeout = TIMEOUT
        wbufsize = 1 << 16  # headers and body leave in one write (one TCP segment)

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _fail(self, why: str) -> None:
            dm.errors.append(f"DM server: {self.command} {self.path}: {why}")
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True

        def _check(self, post: Post, body: bytes) -> str | None:
            """Why the request does not match post, or None."""
            got = (self.path, self.headers.get("Content-Type"), self.headers.get("x-syncml-hmac"))
            if got != (post.path, post.ctype, post.client_hmac):
                return f"got {got}, wanted {(post.path, post.ctype, post.client_hmac)}"
            if body != post.body:
                return f"body of {post.session}/{post.msg_id} differs from the script"
            xml = libwbxml("wbxml2xml", body) if post.ctype == WBXML_CT else body
            doc = ET.fromstring(xml)
            hdr = (doc.findtext(f"{S}SyncHdr/{S}SessionID"), doc.findtext(f"{S}SyncHdr/{S}MsgID"))
            if hdr != (post.session, str(post.msg_id)):
                return f"SessionID/MsgID {hdr}, wanted {(post.session, post.msg_id)}"
            if post.auth and authenticated(post, doc, got[2]) != post.auth_ok:
                return f"credentials {'refused' if post.auth_ok else 'accepted'} ({post.auth})"
            if dm.connections.setdefault(post.session, self.client_address) != self.client_address:
                return f"session {post.session} moved to another connection"
            if list(dm.connections.values()).count(self.client_address) > 1:
                return f"session {post.session} reuses another session's connection"
            return None

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with dm.lock:
                if not dm.script:
                    self._fail("a POST nobody expected")
                    return
                post = dm.script.popleft()
                try:
                    why = self._check(post, body)
                except (ET.ParseError, RuntimeError, ValueError) as exc:
                    why = f"cannot read the message: {exc}"
                if why:
                    self._fail(why)
                    return
                self.send_response(200)
                self.send_header("Content-Type", post.ctype)
                if post.server_hmac:
                    self.send_header("x-syncml-hmac", post.server_hmac)
                self.send_header("Content-Length", str(len(post.answer)))
                self.end_headers()
                self.wfile.write(post.answer)

    return Handler


def serve(
    handler: type[http.server.BaseHTTPRequestHandler], tls: ssl.SSLContext | None = None
) -> http.server.ThreadingHTTPServer:
    """The server on an ephemeral port of HOST, in a thread; HTTPS with tls (the handshake comes with
    the handler's first read, or its own do_handshake(): not in the accept loop)."""
    srv = http.server.ThreadingHTTPServer((HOST, 0), handler)
    if tls is not None:
        srv.socket = tls.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return srv


# --- the DM client: curl ------------------------------------------------------------------------


def curl_session(
    base: str,
    posts: list[Post],
    tmp: Path,
    options: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> str:
    """One curl run, one keep-alive connection, a POST per message; checks the server's answers.

    options are added to every transfer (--next resets them), env is curl's environment.
    Returns what curl wrote to stderr (its -v, if options ask for it).
    """
    args = ["curl"]
    for i, post in enumerate(posts):
        name = f"{post.session}-{post.msg_id}"
        (tmp / f"{name}.req").write_bytes(post.body)
        if i:
            args.append("--next")
        args += [
            "-sS",
            "-o",
            str(tmp / f"{name}.resp"),
            "-D",
            str(tmp / f"{name}.hdr"),
            "-w",
            "%{http_code} %{num_connects}\\n",
            "--max-time",
            "5",
            "--connect-timeout",
            "2",
            "-H",
            "Expect:",
            "-H",
            f"Content-Type: {post.ctype}",
            "-H",
            f"Accept: {post.ctype}",
            *options,
        ]
        if post.client_hmac:
            args += ["-H", f"x-syncml-hmac: {post.client_hmac}"]
        args += ["--data-binary", f"@{tmp / f'{name}.req'}", base + post.path]
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"curl timed out in session {posts[0].session}") from exc
    if done.returncode:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()}")
    got = done.stdout.splitlines()
    codes = [int(line.split()[0]) for line in got]
    connects = sum(int(line.split()[1]) for line in got)
    if codes != [200] * len(posts) or connects != 1:
        raise RuntimeError(f"curl session {posts[0].session}: HTTP {codes} over {connects} connections")
    for post in posts:  # the client's side: the answer and the server's HMAC
        name = f"{post.session}-{post.msg_id}"
        answer = (tmp / f"{name}.resp").read_bytes()
        if answer != post.answer:
            raise RuntimeError(f"client: answer to {name} is not the scripted one")
        if post.server_hmac:
            m = re.search(r"^x-syncml-hmac: *(.*?)\r?$", (tmp / f"{name}.hdr").read_text(), re.M | re.I)
            found = HMAC_RE.match(m[1]) if m else None
            if (
                not found
                or found[1] != SERVER_ID
                or found[2] != hmac_mac(SERVER_ID, SERVER_PASSWORD, CLIENT_NONCE, answer)
            ):
                raise RuntimeError(f"client: bad server x-syncml-hmac on the answer to {name}")
    return done.stderr


# --- Package #0 over WAP Push -------------------------------------------------------------------


def notify(server: socket.socket, device: socket.socket, n: Notification) -> None:
    server.sendto(n.pdu, (HOST, PUSH_PORT))
    data, _ = device.recvfrom(2048)
    if data != n.pdu:
        raise RuntimeError(f"device: notification {n.tid} mangled")
    hlen = data[2]  # a one-byte uintvar here
    if data[1] != 0x06 or data[3 : 3 + hlen] != b"\xc4\xaf\x87":
        raise RuntimeError(f"device: notification {n.tid} is not a SyncML DM push: {data[:8].hex()}")
    digest, trigger = data[3 + hlen : 19 + hlen], data[19 + hlen :]
    if (pkg0_digest(SERVER_PASSWORD, n.nonce, trigger) == digest) != n.valid:
        raise RuntimeError(
            f"device: digest of notification {n.tid} is not {'valid' if n.valid else 'invalid'}"
        )


# --- the recording ------------------------------------------------------------------------------


def record(out_path: str | Path) -> int:
    """Records the exchanges of the module docstring into the pcap file out_path; returns its packet count."""
    out = Path(out_path)
    for tool in ("tcpdump", "curl", "xml2wbxml", "wbxml2xml"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_omadm: {tool} is needed")
    out.parent.mkdir(parents=True, exist_ok=True)
    dm = DmServer()
    server = serve(dm_handler(dm))
    udp = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        push_server, device = udp
        push_server.bind((HOST, 0))
        try:
            device.bind((HOST, PUSH_PORT))
        except OSError as exc:
            raise RuntimeError(f"cannot listen on UDP port {PUSH_PORT}: {exc}") from exc
        device.settimeout(TIMEOUT)
        base = f"http://{HOST}:{server.server_address[1]}"
        sessions = [session1(base + "/dm"), session2(base + "/dm"), session3(base + "/dm")]
        for posts in sessions:
            dm.script.extend(posts)
        dump = Tcpdump(out, [server.server_address[1], PUSH_PORT])
        try:
            with tempfile.TemporaryDirectory() as tmp:
                for n, posts in zip(notifications(), sessions, strict=True):
                    notify(push_server, device, n)
                    curl_session(base, posts, Path(tmp))
        except RuntimeError as exc:  # say what the server saw too
            raise RuntimeError("; ".join([str(exc), *dm.errors])) from exc
        else:
            time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
        finally:
            said = dump.stop()
    finally:
        server.shutdown()
        server.server_close()
        for s in udp:
            s.close()
    if dm.script:
        dm.errors.append(f"DM server: {len(dm.script)} scripted messages never came")
    captured = packets_captured(said)
    if dm.errors:
        raise RuntimeError("; ".join(dm.errors))
    return captured


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("omadm_loopback.pcap"))
    try:
        packets = record(out)
    except (RuntimeError, OSError) as exc:
        print(f"record_omadm: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}: {packets} packets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
