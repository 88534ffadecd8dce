"""Record captures/omadm_rules_loopback.pcap: the OMA DM rules of issue 16 on the wire, between real peers.

The peers are those of ``record_omadm.py`` (imported from this folder, not copied): its scripted DM
server (an ``http.server`` handler that checks the path, Content-Type and exact bytes of every message
curl posts, its SessionID and MsgID after decoding WBXML with the real ``wbxml2xml``, and the client's
credentials, then answers with the next scripted message) and curl as the DM client, one curl run per
DM session with ``--next`` between the POSTs so that a session is one keep-alive TCP connection.
WBXML bodies are made by the real ``xml2wbxml`` and checked to read back with ``wbxml2xml``.  Package
#0 notifications go as connectionless WAP Push over UDP to 127.0.0.1:2948, where a socket (the device)
checks the digest with the nonce it holds.  tcpdump records it all on ``lo``.  The capture holds, in
order (device IMEI:493005100592800 unless said otherwise; frames are in the truth file):

1. notification NA: session id 0x5A1, ui-mode 1, digest valid with the empty nonce;
2. 0.6 s later, session 5A1 (WBXML): Package #1 with **Alert 1201** (not 1200) + DevInfo, basic Cred
   (right); S1 212, Get ./DevDetail/SwV; C2 Status + Results; S2 Final.  The notification is this
   session's package 0 all the same (issue 16), and the 1201 is a finding;
3. notification NB: session id 0x6B2, ui-mode 2, digest valid **only with the resync nonce** 00000000;
4. session 6B2 (XML), the nonce resynchronisation of DM Notification §6.2, every step done: C1 Pkg#1
   Alert 1200 + DevInfo + md5 Cred made with the nonce 00000000; S1 Pkg#2 SyncHdr 212 **with a Chal**
   (CLIENT_NONCE_1, the new client nonce), the server's md5 Cred made with 00000000, Get
   ./DevDetail/FwV; C2 Pkg#3 SyncHdr Status 200 **with a Chal** (SERVER_NONCE_1, the new server
   nonce), Get 200, Results; S2 Pkg#4 SyncHdr 200, the server's md5 Cred made with SERVER_NONCE_1;
5. notification NC: session id 0x7C3, ui-mode 1, digest made with SERVER_NONCE_1 (the nonce the device
   handed over in Pkg#3: a verifier following the nonces finds it valid);
6. session 7C3 (XML): C1 Alert 1200 + DevInfo + md5 Cred made with CLIENT_NONCE_1 (Pkg#2's Chal);
   S1 SyncHdr **200** (not 212) with a Chal (CLIENT_NONCE_2), Get; C2 **without credentials** (the
   same credentials, with a new digest, were due); S2 Final;
7. session 8D4 (XML, client-initiated, no notification): C1 Alert 1201 + DevInfo, md5 Cred with the
   WRONG password "badpass" and CLIENT_NONCE_2; S1 401 + Chal (LOOP_NONCE), Alert/Replace 215, RespURI
   /dm?s=8D4; C2 Pkg#1 again with "badpass" and LOOP_NONCE, **without a Status for the SyncHdr** and
   posted to /dm, **not the RespURI**; S2 401 repeating **the same Chal** with an entity (Status Item
   data) "dmuser: account locked after 2 failed attempts"; the client gives up;
8. session 12 (XML), a Windows MDM client (device WINDOWS_ID, decimal SessionID): C1 Alert 1201, Alert
   1224 com.microsoft/MDM/LoginStatus **"others"**, DevInfo; S1 with **Meta in its SyncHdr**, Atomic 5
   holding **Add 6 then Replace 7 of the same ./User/... node** (EnterpriseModernAppManagement) and the
   **nested Atomic 8** (Replace 9 of a ./Device/Vendor/MSFT/Policy node), a **Delete without CmdID**,
   Replace 10 of ./Vendor/MSFT/DMClient/Provider/MDMSRV/SyncApplicationVersion "2.0"; C2 answers
   Atomic 5 with 500 and Atomic 8 with 507 (**swapped**: Windows answers 507 and 500), the Delete
   with **500** under an empty CmdRef (Windows: 400); S2 Final;
9. session A1B2 (XML), the same Windows client after SyncApplicationVersion 2.0 (2-byte SessionID):
   C1 Alert 1201, LoginStatus **"user"**, DevInfo, Generic Alert 1226
   **com.microsoft:mdm.unenrollment.userrequest**; S1 Replace of a ./User/Vendor/MSFT/Policy node; C2
   200; S2 Final.  It breaks no rule.

Secrets: record_omadm.py's (client userid dmuser, password dmpass; server id dmsniff-dm, password
srvpass); the nonces are the constants below.  Ground truth (``record()`` returns it, ``main()`` writes
it next to the pcap as ``<name>.truth.json``): the notifications (session id, ui-mode, the nonce their
digest was made with, whether the device found them valid), the sessions (SessionID, device, encoding,
the notification they answer, their POSTs with path and body sha256, the Alert of Package #1, and the
rules each breaks on purpose, by dmsniff's codes), the nonces, the secrets and the Windows facts.

The HTTP port is picked at run time; the push port is 2948 and must be free.  Run as root::

    python captures/record_omadm_rules.py [OUT.pcap]

Re-running gives the same exchanges with new ports (so the URL in the bodies), sequence numbers and
times.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py, record_omadm.py
import record_omadm as dm
from loopback import Tcpdump, packets_captured
from record_omadm import E, e

HOST = dm.HOST
DELAY = 0.6  # seconds between the first notification and its Package #1 (the case)
ZERO = dm.RESYNC_NONCE  # 0x00000000, as four bytes
CLIENT_NONCE_1 = bytes.fromhex("c1e7c1e7000000010203040506070809")  # 6B2 Pkg#2 Chal: the new client nonce
SERVER_NONCE_1 = bytes.fromhex("5e7e5e7e0000000102030405060708aa")  # 6B2 Pkg#3 Chal: the new server nonce
CLIENT_NONCE_2 = bytes.fromhex("c1e7c1e70000000211223344556677bb")  # 7C3 S1 Chal
LOOP_NONCE = bytes.fromhex("100b100b0000000311223344556677cc")  # 8D4 S1 and S2: the same challenge
WINDOWS_ID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"
ENTITY = "dmuser: account locked after 2 failed attempts"
LOGIN_STATUS = "com.microsoft/MDM/LoginStatus"
UNENROLL = "com.microsoft:mdm.unenrollment.userrequest"
APP = "./User/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/9WZDNCRFJ3TJ/StoreInstall"
CAMERA = "./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera"
OLD_POLICY = "./Vendor/MSFT/Policy/Config/Experience/AllowCortana"
SYNC_VERSION = "./Vendor/MSFT/DMClient/Provider/MDMSRV/SyncApplicationVersion"
COOKIES = "./User/Vendor/MSFT/Policy/Config/Browser/AllowCookies"
TIMEOUT = 10.0


class Session(NamedTuple):
    """One scripted DM session and what it is for."""

    posts: list[dm.Post]
    device: str
    notification: int | None  # tid of the notification it answers
    pkg1_alert: int
    breaks: list[str]  # dmsniff's codes of the rules it breaks on purpose, one per finding
    note: str


def md5(user: str, password: str, nonce: bytes) -> E:
    return dm.cred(dm.AUTH_MD5, dm.cred_md5(user, password, nonce))


def status(
    cmd_id: int,
    msg_ref: int,
    cmd_ref: int | str,
    cmd: str,
    code: int,
    challenge: E | None = None,
    entity: str | None = None,
) -> E:
    """A Status; cmd_ref "" is the empty CmdRef of a command without CmdID, entity its Item data."""
    return e(
        "Status",
        e("CmdID", cmd_id),
        e("MsgRef", msg_ref),
        e("CmdRef", cmd_ref),
        e("Cmd", cmd),
        challenge,
        e("Data", code),
        e("Item", e("Data", entity)) if entity else None,
    )


def typed_alert(cmd_id: int, code: int, mtype: str, fmt: str, data: str, source: str | None = None) -> E:
    """An Alert whose Item carries a Meta Type: Windows LoginStatus (1224), a Generic Alert (1226)."""
    return e(
        "Alert",
        e("CmdID", cmd_id),
        e("Data", code),
        e(
            "Item",
            e("Source", e("LocURI", source)) if source else None,
            dm.meta(e("Type", mtype), e("Format", fmt)),
            e("Data", data),
        ),
    )


def devinfo(cmd_id: int, device: str) -> E:
    values = dict(dm.DEVINFO, DevId=device)
    if device == WINDOWS_ID:
        values.update(Man="dmsniff", Mod="loopback-pc", DmV="1.3")
    return e(
        "Replace", e("CmdID", cmd_id), *(dm.item(source=f"./DevInfo/{n}", data=v) for n, v in values.items())
    )


def ok(msg_ref: int, refs: list[tuple[int, str]], first: int = 2) -> list[E]:
    """200 for each (CmdRef, Cmd) of the peer's message msg_ref."""
    return [status(n, msg_ref, ref, cmd, 200) for n, (ref, cmd) in enumerate(refs, first)]


def xml(hdr: E, body: list[E]) -> bytes:
    return dm.document(hdr, [*body, e("Final")], False)


# --- the sessions -------------------------------------------------------------------------------------


def session_5a1(url: str) -> Session:
    """WBXML; Package #1 answers notification NA with Alert 1201."""
    sid, swv = "5A1", "./DevDetail/SwV"
    c1 = dm.document(
        dm.client_hdr(sid, 1, url, dm.cred(dm.AUTH_BASIC, dm.cred_basic(dm.USER, dm.PASSWORD)), first=True),
        [dm.alert(1, 1201), dm.devinfo(2), e("Final")],
        True,
    )
    s1 = dm.document(
        dm.server_hdr(sid, 1, url),
        [
            dm.hdr_status(1, 1, 212, url, dm.DEVICE_ID),
            status(2, 1, 1, "Alert", 200),
            status(3, 1, 2, "Replace", 200),
            e("Get", e("CmdID", 4), dm.item(target=swv)),
            e("Final"),
        ],
        True,
    )
    c2 = dm.document(
        dm.client_hdr(sid, 2, url),
        [
            dm.hdr_status(1, 1, 200, dm.DEVICE_ID, url),
            status(2, 1, 4, "Get", 200),
            e("Results", e("CmdID", 3), e("MsgRef", 1), e("CmdRef", 4), dm.item(source=swv, data="1.0")),
            e("Final"),
        ],
        True,
    )
    s2 = dm.document(
        dm.server_hdr(sid, 2, url), [dm.hdr_status(1, 2, 200, url, dm.DEVICE_ID), e("Final")], True
    )
    w = dm.to_wbxml
    posts = [
        dm.Post(sid, 1, "/dm", dm.WBXML_CT, w(c1), w(s1), "basic"),
        dm.Post(sid, 2, "/dm", dm.WBXML_CT, w(c2), w(s2)),
    ]
    return Session(posts, dm.DEVICE_ID, 1, 1201, ["omadm.pkg1-not-alert-1200"], "Pkg#1 with Alert 1201")


def session_6b2(url: str) -> Session:
    """XML; the nonce resynchronisation, every step of DM Notification §6.2."""
    sid, fwv = "6B2", "./DevDetail/FwV"
    c1 = xml(
        dm.client_hdr(sid, 1, url, md5(dm.USER, dm.PASSWORD, ZERO), first=True),
        [dm.alert(1, 1200), dm.devinfo(2)],
    )
    s1 = xml(
        dm.server_hdr(sid, 1, url, cred=md5(dm.SERVER_ID, dm.SERVER_PASSWORD, ZERO)),
        [
            dm.hdr_status(1, 1, 212, url, dm.DEVICE_ID, dm.chal(dm.AUTH_MD5, CLIENT_NONCE_1)),
            *ok(1, [(1, "Alert"), (2, "Replace")]),
            e("Get", e("CmdID", 4), dm.item(target=fwv)),
        ],
    )
    c2 = xml(
        dm.client_hdr(sid, 2, url),
        [
            dm.hdr_status(1, 1, 200, dm.DEVICE_ID, url, dm.chal(dm.AUTH_MD5, SERVER_NONCE_1)),
            status(2, 1, 4, "Get", 200),
            e("Results", e("CmdID", 3), e("MsgRef", 1), e("CmdRef", 4), dm.item(source=fwv, data="2.0.1")),
        ],
    )
    s2 = xml(
        dm.server_hdr(sid, 2, url, cred=md5(dm.SERVER_ID, dm.SERVER_PASSWORD, SERVER_NONCE_1)),
        [dm.hdr_status(1, 2, 200, url, dm.DEVICE_ID)],
    )
    posts = [
        dm.Post(sid, 1, "/dm", dm.XML_CT, c1, s1, "md5", ZERO),
        dm.Post(sid, 2, "/dm", dm.XML_CT, c2, s2),
    ]
    return Session(posts, dm.DEVICE_ID, 2, 1200, [], "nonce resynchronisation, all four steps")


def session_7c3(url: str) -> Session:
    """XML; credentials accepted with 200 and a Chal, then left out of the next message."""
    sid, swv = "7C3", "./DevDetail/SwV"
    c1 = xml(
        dm.client_hdr(sid, 1, url, md5(dm.USER, dm.PASSWORD, CLIENT_NONCE_1), first=True),
        [dm.alert(1, 1200), dm.devinfo(2)],
    )
    s1 = xml(
        dm.server_hdr(sid, 1, url),
        [
            dm.hdr_status(1, 1, 200, url, dm.DEVICE_ID, dm.chal(dm.AUTH_MD5, CLIENT_NONCE_2)),
            *ok(1, [(1, "Alert"), (2, "Replace")]),
            e("Get", e("CmdID", 4), dm.item(target=swv)),
        ],
    )
    c2 = xml(
        dm.client_hdr(sid, 2, url),  # no Cred: a new md5 digest with CLIENT_NONCE_2 was due
        [
            dm.hdr_status(1, 1, 200, dm.DEVICE_ID, url),
            status(2, 1, 4, "Get", 200),
            e("Results", e("CmdID", 3), e("MsgRef", 1), e("CmdRef", 4), dm.item(source=swv, data="1.0")),
        ],
    )
    s2 = xml(dm.server_hdr(sid, 2, url), [dm.hdr_status(1, 2, 200, url, dm.DEVICE_ID)])
    posts = [
        dm.Post(sid, 1, "/dm", dm.XML_CT, c1, s1, "md5", CLIENT_NONCE_1),
        dm.Post(sid, 2, "/dm", dm.XML_CT, c2, s2),
    ]
    return Session(posts, dm.DEVICE_ID, 3, 1200, ["omadm.credentials-not-resent"], "credentials not resent")


def session_8d4(url: str) -> Session:
    """XML, client-initiated; a wrong password retried badly, and the server's authentication loop."""
    sid, resp_uri = "8D4", url + "?s=8D4"
    bad = "badpass"
    refused = [status(2, 1, 1, "Alert", 215), status(3, 1, 2, "Replace", 215)]
    c1 = xml(
        dm.client_hdr(sid, 1, url, md5(dm.USER, bad, CLIENT_NONCE_2), first=True),
        [dm.alert(1, 1201), dm.devinfo(2)],
    )
    s1 = xml(
        dm.server_hdr(sid, 1, url, resp_uri),
        [status(1, 1, 0, "SyncHdr", 401, dm.chal(dm.AUTH_MD5, LOOP_NONCE)), *refused],
    )
    # Pkg#1 again, but without the Status for S1's SyncHdr, and to /dm rather than the RespURI.
    c2 = xml(
        dm.client_hdr(sid, 2, url, md5(dm.USER, bad, LOOP_NONCE), first=True),
        [dm.alert(1, 1201), dm.devinfo(2)],
    )
    s2 = xml(
        dm.server_hdr(sid, 2, url, resp_uri),
        [
            status(1, 2, 0, "SyncHdr", 401, dm.chal(dm.AUTH_MD5, LOOP_NONCE), entity=ENTITY),
            status(2, 2, 1, "Alert", 215),
            status(3, 2, 2, "Replace", 215),
        ],
    )
    posts = [
        dm.Post(sid, 1, "/dm", dm.XML_CT, c1, s1, "md5", CLIENT_NONCE_2, auth_ok=False),
        dm.Post(sid, 2, "/dm", dm.XML_CT, c2, s2, "md5", LOOP_NONCE, auth_ok=False),
    ]
    breaks = [
        "omadm.challenge-not-followed",
        "omadm.resp-uri-ignored",
        "omadm.auth-loop",
        "omadm.session-not-completed",
    ]
    return Session(posts, dm.DEVICE_ID, None, 1201, breaks, "retry without SyncHdr Status, off RespURI; loop")


def session_12(url: str) -> Session:
    """XML; a Windows MDM client nobody enrolled is logged in to, and the Windows rules broken."""
    sid, win = "12", WINDOWS_ID
    c1 = xml(
        dm.client_hdr(sid, 1, url, device=win),
        [dm.alert(1, 1201), typed_alert(2, 1224, LOGIN_STATUS, "chr", "others"), devinfo(3, win)],
    )
    nested = e(
        "Atomic", e("CmdID", 8), e("Replace", e("CmdID", 9), dm.item(target=CAMERA, fmt="int", data="0"))
    )
    atomic = e(
        "Atomic",
        e("CmdID", 5),
        e("Add", e("CmdID", 6), dm.item(target=APP, fmt="xml", data="install")),
        e("Replace", e("CmdID", 7), dm.item(target=APP, fmt="xml", data="install again")),
        nested,
    )
    s1 = xml(
        dm.server_hdr(sid, 1, url, device=win, hdr_meta=dm.meta(e("MaxMsgSize", 65536))),
        [
            dm.hdr_status(1, 1, 200, url, win),
            *ok(1, [(1, "Alert"), (2, "Alert"), (3, "Replace")]),
            atomic,
            e("Delete", dm.item(target=OLD_POLICY)),  # no CmdID
            e("Replace", e("CmdID", 10), dm.item(target=SYNC_VERSION, fmt="chr", data="2.0")),
        ],
    )
    c2 = xml(
        dm.client_hdr(sid, 2, url, device=win),
        [
            dm.hdr_status(1, 1, 200, win, url),
            status(2, 1, 5, "Atomic", 500),  # Windows: 507 for the parent
            status(3, 1, 6, "Add", 216),
            status(4, 1, 7, "Replace", 216),
            status(5, 1, 8, "Atomic", 507),  # Windows: 500 for the nested one
            status(6, 1, 9, "Replace", 216),
            status(7, 1, "", "Delete", 500),  # Windows: 400 with the empty CmdRef
            status(8, 1, 10, "Replace", 200),
        ],
    )
    s2 = xml(dm.server_hdr(sid, 2, url, device=win), [dm.hdr_status(1, 2, 200, url, win)])
    posts = [dm.Post(sid, 1, "/dm", dm.XML_CT, c1, s1), dm.Post(sid, 2, "/dm", dm.XML_CT, c2, s2)]
    breaks = [
        "omadm.user-config-without-login",
        "omadm.atomic-add-then-replace",
        "omadm.nested-atomic",
        "omadm.cmdid-missing",
        "omadm.command-failed",  # Atomic 5: 500
        "omadm.command-failed",  # Atomic 8: 507
        "omadm.cmdid-missing-not-400",
        "omadm.nested-atomic-codes",
        "omadm.synchdr-meta-ignored",
    ]
    return Session(
        posts, win, None, 1201, breaks, "Windows: LoginStatus others, ./User config, Windows rules"
    )


def session_a1b2(url: str) -> Session:
    """XML; the Windows client with the user logged in asks to unenroll (Generic Alert 1226)."""
    sid, win = "A1B2", WINDOWS_ID
    c1 = xml(
        dm.client_hdr(sid, 1, url, device=win),
        [
            dm.alert(1, 1201),
            typed_alert(2, 1224, LOGIN_STATUS, "chr", "user"),
            devinfo(3, win),
            typed_alert(4, 1226, UNENROLL, "int", "1", source="./Vendor/MSFT/DMClient"),
        ],
    )
    s1 = xml(
        dm.server_hdr(sid, 1, url, device=win),
        [
            dm.hdr_status(1, 1, 200, url, win),
            *ok(1, [(1, "Alert"), (2, "Alert"), (3, "Replace"), (4, "Alert")]),
            e("Replace", e("CmdID", 6), dm.item(target=COOKIES, fmt="int", data="1")),
        ],
    )
    c2 = xml(
        dm.client_hdr(sid, 2, url, device=win),
        [dm.hdr_status(1, 1, 200, win, url), status(2, 1, 6, "Replace", 200)],
    )
    s2 = xml(dm.server_hdr(sid, 2, url, device=win), [dm.hdr_status(1, 2, 200, url, win)])
    posts = [dm.Post(sid, 1, "/dm", dm.XML_CT, c1, s1), dm.Post(sid, 2, "/dm", dm.XML_CT, c2, s2)]
    return Session(posts, win, None, 1201, [], "Windows: LoginStatus user, 2-byte SessionID, Generic Alert")


def notifications() -> list[dm.Notification]:
    """NA valid with the empty nonce, NB only with the resync nonce, NC with 6B2's new server nonce."""
    return [
        dm.Notification(1, dm.wap_push(1, dm.pkg0(1, 0x5A1, dm.SERVER_PASSWORD, b"")), b"", True),
        dm.Notification(2, dm.wap_push(2, dm.pkg0(2, 0x6B2, dm.SERVER_PASSWORD, ZERO)), ZERO, True),
        dm.Notification(
            3, dm.wap_push(3, dm.pkg0(1, 0x7C3, dm.SERVER_PASSWORD, SERVER_NONCE_1)), SERVER_NONCE_1, True
        ),
    ]


def sessions(url: str) -> list[Session]:
    return [
        session_5a1(url),
        session_6b2(url),
        session_7c3(url),
        session_8d4(url),
        session_12(url),
        session_a1b2(url),
    ]


# --- the device's side: what it checks in the server's messages -------------------------------------

S, M = f"{{{dm.SYNCML_NS}}}", f"{{{dm.METINF_NS}}}"


def server_cred_ok(answer: bytes, nonce: bytes) -> bool:
    """The device authenticating the server's md5 Cred with the server nonce it holds."""
    doc = ET.fromstring(answer)
    data = doc.findtext(f"{S}SyncHdr/{S}Cred/{S}Data")
    return data == dm.cred_md5(dm.SERVER_ID, dm.SERVER_PASSWORD, nonce)


def check_script(script: list[Session]) -> None:
    """The resynchronisation's server credentials as the device checks them (DM Notification §6.2 step
    5: Pkg#2 with 00000000; Pkg#4 with the nonce its own Chal gave)."""
    resync = next(s for s in script if s.posts[0].session == "6B2")
    pkg2, pkg4 = resync.posts[0].answer, resync.posts[1].answer
    if not server_cred_ok(pkg2, ZERO) or not server_cred_ok(pkg4, SERVER_NONCE_1):
        raise RuntimeError("device: the server's credentials in session 6B2 do not verify")


# --- the recording ------------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def trigger(n: dm.Notification) -> bytes:
    """The Pkg#0 trigger (after the WSP headers and the 16-byte digest)."""
    return n.pdu[3 + n.pdu[2] + 16 :]


def truth_of(script: list[Session], notes: list[dm.Notification], url: str, push_port: int) -> dict[str, Any]:
    return {
        "secrets": {
            "omadm_client": {"username": dm.USER, "password": dm.PASSWORD},
            "omadm_server": {"server_id": dm.SERVER_ID, "password": dm.SERVER_PASSWORD},
        },
        "nonces": {
            "resync": ZERO.hex(),
            "client_nonce_1": CLIENT_NONCE_1.hex(),
            "server_nonce_1": SERVER_NONCE_1.hex(),
            "client_nonce_2": CLIENT_NONCE_2.hex(),
            "loop_nonce": LOOP_NONCE.hex(),
        },
        "notifications": [
            {
                "tid": n.tid,
                "session_id": f"{int.from_bytes(trigger(n)[5:7], 'big'):X}",
                "ui_mode": (int.from_bytes(trigger(n)[:5], "big") >> 28) & 3,
                "digest_nonce_hex": n.nonce.hex(),
                "valid_for_device": n.valid,
                "client_port": push_port,
                "server_port": dm.PUSH_PORT,
                "pdu_hex": n.pdu.hex(),
            }
            for n in notes
        ],
        "sessions": [
            {
                "session_id": s.posts[0].session,
                "device": s.device,
                "encoding": "wbxml" if s.posts[0].ctype == dm.WBXML_CT else "xml",
                "notification": s.notification,
                "pkg1_alert": s.pkg1_alert,
                "breaks": s.breaks,
                "note": s.note,
                "url": url,
                "posts": [
                    {
                        "path": p.path,
                        "msg_id": p.msg_id,
                        "auth": p.auth or None,
                        "auth_ok": p.auth_ok if p.auth else None,
                        "nonce_hex": p.nonce.hex() if p.auth == "md5" else None,
                        "request_body_sha256": sha256(p.body),
                        "response_body_sha256": sha256(p.answer),
                    }
                    for p in s.posts
                ],
            }
            for s in script
        ],
        "windows": {
            "device": WINDOWS_ID,
            "sessions": {
                "12": {"login": "others", "session_id_form": "decimal"},
                "A1B2": {"login": "user", "session_id_form": "hex", "generic_alert": UNENROLL},
            },
            "user_targets": [APP, COOKIES],
        },
    }


def record(out_path: str | Path) -> dict[str, Any]:
    """Records the exchanges of the module docstring into the pcap file out_path; returns the ground truth."""
    return record_counted(out_path)[0]


def record_counted(out_path: str | Path) -> tuple[dict[str, Any], int]:
    """record(), and the number of packets tcpdump captured."""
    out = Path(out_path)
    for tool in ("tcpdump", "curl", "xml2wbxml", "wbxml2xml"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_omadm_rules: {tool} is needed")
    out.parent.mkdir(parents=True, exist_ok=True)
    state = dm.DmServer()
    server = dm.serve(dm.dm_handler(state))
    udp = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        push_server, device = udp
        push_server.bind((HOST, 0))
        try:
            device.bind((HOST, dm.PUSH_PORT))
        except OSError as exc:
            raise RuntimeError(f"cannot listen on UDP port {dm.PUSH_PORT}: {exc}") from exc
        device.settimeout(TIMEOUT)
        base = f"http://{HOST}:{server.server_address[1]}"
        url = base + "/dm"
        script = sessions(url)
        check_script(script)
        notes = {n.tid: n for n in notifications()}
        for s in script:
            state.script.extend(s.posts)
        dump = Tcpdump(out, [int(server.server_address[1]), dm.PUSH_PORT])
        try:
            with tempfile.TemporaryDirectory(prefix="record_omadm_rules-") as tmp:
                for s in script:
                    if s.notification is not None:
                        dm.notify(push_server, device, notes[s.notification])
                        time.sleep(DELAY if s.notification == 1 else 0.05)
                    dm.curl_session(base, s.posts, Path(tmp))
        except RuntimeError as exc:  # say what the server saw too
            raise RuntimeError("; ".join([str(exc), *state.errors])) from exc
        else:
            time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
        finally:
            said = dump.stop()
        push_port = int(push_server.getsockname()[1])
    finally:
        server.shutdown()
        server.server_close()
        for sock in udp:
            sock.close()
    if state.script:
        state.errors.append(f"DM server: {len(state.script)} scripted messages never came")
    if state.errors:
        raise RuntimeError("; ".join(state.errors))
    return truth_of(script, list(notes.values()), url, push_port), packets_captured(said)


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("omadm_rules_loopback.pcap"))
    try:
        truth, packets = record_counted(out)
        out.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1) + "\n")
    except (RuntimeError, OSError) as exc:
        print(f"record_omadm_rules: {exc}", file=sys.stderr)
        return 1
    truth_file = out.with_suffix(".truth.json").name
    print(f"wrote {out}: {packets} packets, {len(truth['sessions'])} DM sessions; {truth_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
