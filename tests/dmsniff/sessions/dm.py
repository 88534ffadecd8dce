"""SyncML DM message builders for playbook tests: a few lines per message, valid by default."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from decoders import syncml
from dmsniff.model import ConnectionEnd, Datagram, Direction, Transaction
from dmsniff.pipeline import Addon, CaptureSummary, Emitter
from dmsniff.sessions import DmSessions
from tests.decoders.notification.helpers import app_id_header, digest_for, pkg0, short, wsp_push

from .book import Book, Event, Message
from .playbook import Collector, Playbook

DEVICE = "IMEI:356938035643809"
SERVER_URL = "http://10.0.0.1/dm"
DM_XML = "application/vnd.syncml.dm+xml"


def message(
    session: str,
    msg_id: int,
    body: str,
    *,
    to_server: bool,
    final: bool = True,
    cred: str = "",
    resp_uri: str | None = None,
    device: str = DEVICE,
    name: str | None = None,
    meta: str = "",
) -> bytes:
    """A DM message; the client names itself dmuser (Source LocName), the server only when given a
    name; ``meta`` is the SyncHdr's Meta content."""
    src, dst = (device, SERVER_URL) if to_server else (SERVER_URL, device)
    name = name if name is not None else ("dmuser" if to_server else "")
    loc_name = f"<LocName>{name}</LocName>" if name else ""
    resp = f"<RespURI>{resp_uri}</RespURI>" if resp_uri else ""
    hdr_meta = f"<Meta>{meta}</Meta>" if meta else ""
    return (
        '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>'
        f"<SessionID>{session}</SessionID><MsgID>{msg_id}</MsgID><Target><LocURI>{dst}</LocURI></Target>"
        f"<Source><LocURI>{src}</LocURI>{loc_name}</Source>{resp}{cred}{hdr_meta}"
        f"</SyncHdr><SyncBody>{body}{'<Final/>' if final else ''}</SyncBody></SyncML>"
    ).encode()


def cred(kind: str = "syncml:auth-basic", data: str = "ZG11c2VyOmRtcGFzcw==") -> str:
    return (
        f'<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">{kind}</Type>'
        f"</Meta><Data>{data}</Data></Cred>"
    )


def chal(kind: str = "syncml:auth-md5", nonce: str = "bm9uY2U=") -> str:
    return (
        f'<Chal><Meta><Type xmlns="syncml:metinf">{kind}</Type><Format xmlns="syncml:metinf">b64</Format>'
        f'<NextNonce xmlns="syncml:metinf">{nonce}</NextNonce></Meta></Chal>'
    )


def status(
    cmd_id: int, msg_ref: int, cmd_ref: int | str, cmd: str, code: int, extra: str = "", entity: str = ""
) -> str:
    """A Status; ``extra`` goes before Data (a Chal), ``entity`` is the data of an Item after it."""
    items = f"<Item><Data>{entity}</Data></Item>" if entity else ""
    return (
        f"<Status><CmdID>{cmd_id}</CmdID><MsgRef>{msg_ref}</MsgRef><CmdRef>{cmd_ref}</CmdRef>"
        f"<Cmd>{cmd}</Cmd>{extra}<Data>{code}</Data>{items}</Status>"
    )


def typed_alert(cmd_id: int, code: int, mtype: str, data: str, fmt: str = "chr", source: str = "") -> str:
    """An Alert whose Item has a Meta Type: Windows LoginStatus (1224), Generic Alerts (1226)."""
    where = f"<Source><LocURI>{source}</LocURI></Source>" if source else ""
    return (
        f"<Alert><CmdID>{cmd_id}</CmdID><Data>{code}</Data><Item>{where}<Meta>"
        f'<Type xmlns="syncml:metinf">{mtype}</Type><Format xmlns="syncml:metinf">{fmt}</Format></Meta>'
        f"<Data>{data}</Data></Item></Alert>"
    )


def login_status(cmd_id: int, state: str) -> str:
    return typed_alert(cmd_id, 1224, "com.microsoft/MDM/LoginStatus", state)


def md5_cred(password: str, nonce: bytes, user: str = "dmuser") -> str:
    """A syncml:auth-md5 Cred: B64(H(B64(H(user:password)):nonce)), computed here, not by dmsniff."""
    inner = base64.b64encode(hashlib.md5(f"{user}:{password}".encode()).digest())
    return cred("syncml:auth-md5", base64.b64encode(hashlib.md5(inner + b":" + nonce).digest()).decode())


def alert(cmd_id: int | None, code: int) -> str:
    cid = f"<CmdID>{cmd_id}</CmdID>" if cmd_id is not None else ""
    return f"<Alert>{cid}<Data>{code}</Data></Alert>"


def item(
    uri: str, data: str | None = None, *, source: bool = False, more: bool = False, size: int | None = None
) -> str:
    where = (
        f"<Source><LocURI>{uri}</LocURI></Source>" if source else f"<Target><LocURI>{uri}</LocURI></Target>"
    )
    meta = f'<Meta><Size xmlns="syncml:metinf">{size}</Size></Meta>' if size is not None else ""
    value = f"<Data>{data}</Data>" if data is not None else ""
    return f"<Item>{where}{meta}{value}{'<MoreData/>' if more else ''}</Item>"


def command(name: str, cmd_id: int | None, *items: str, inner: str = "") -> str:
    cid = f"<CmdID>{cmd_id}</CmdID>" if cmd_id is not None else ""
    return f"<{name}>{cid}{''.join(items)}{inner}</{name}>"


def devinfo(cmd_id: int, source: bool = True) -> str:
    values = {"DevId": DEVICE, "Man": "Acme", "Mod": "Phone 3", "DmV": "1.2", "Lang": "en-US"}
    return command("Replace", cmd_id, *(item(f"./DevInfo/{k}", v, source=source) for k, v in values.items()))


def results(cmd_id: int, msg_ref: int, cmd_ref: int, uri: str, data: str) -> str:
    return (
        f"<Results><CmdID>{cmd_id}</CmdID><MsgRef>{msg_ref}</MsgRef><CmdRef>{cmd_ref}</CmdRef>"
        f"{item(uri, data, source=True)}</Results>"
    )


def notification_push(
    session_id: int,
    server_id: str = "dm-server",
    ui_mode: int = 1,
    password: str | None = None,
    nonce: bytes = b"",
) -> bytes:
    """A WAP Push (content type 0x44, application id syncml.dm) carrying a DM Pkg#0; its digest is made
    with ``password`` and ``nonce`` when a password is given."""
    body = pkg0(server_id, session_id=session_id, ui_mode=ui_mode)
    if password is not None:
        body = digest_for(body, server_id, password, nonce) + body[16:]
    return wsp_push(short(0x44), [app_id_header(0x07)], body)


class Chain(Emitter):
    """Addons fed in turn by one playbook: the verifier, then the session builder reading its verdicts.
    What they make goes out through the chain's own outbox."""

    def __init__(self, *addons: Addon) -> None:
        super().__init__()
        self.addons = addons
        for a in addons:
            if isinstance(a, Emitter):
                a.outbox = self.outbox

    def capture_start(self, index: int, info: object) -> None:
        for a in self.addons:
            a.capture_start(index, info)  # type: ignore[arg-type]

    def transaction(self, tx: Transaction) -> None:
        for a in self.addons:
            a.transaction(tx)

    def datagram(self, dg: Datagram) -> None:
        for a in self.addons:
            a.datagram(dg)

    def connection_end(self, end: ConnectionEnd) -> None:
        for a in self.addons:
            a.connection_end(end)

    def capture_end(self, summary: CaptureSummary) -> None:
        for a in self.addons:
            a.capture_end(summary)

    def done(self) -> None:
        for a in self.addons:
            a.done()


@dataclass
class Dm:
    """A DM conversation on a playbook: each call is one HTTP POST and its response."""

    book: Playbook
    conn: str = "C1"
    uri: str = "/dm"

    def exchange(self, to_server: bytes, to_client: bytes, **kw: object) -> Transaction:
        kw.setdefault("conn", self.conn)
        kw.setdefault("uri", self.uri)
        kw.setdefault("server", "10.0.0.1:80")
        kw.setdefault("content_type", DM_XML)
        return self.book.post(to_server, answer=to_client, **kw)  # type: ignore[arg-type]


# -- playbooks in the >> / << style (tests/dmsniff/sessions/book.py) ---------------------------------------
def client(body: bytes, label: str = "", conn: str = "C1") -> Message:
    """The device's POST of a DM message."""
    return Message(Direction.TO_SERVER, body, label or _label(body), conn=conn)


def server(body: bytes, label: str = "", status: int = 200) -> Message:
    """The DM server's HTTP response carrying a DM message."""
    return Message(Direction.TO_CLIENT, body, f"{status} {label or _label(body)}", status)


def push(payload: bytes, src: str = "10.0.0.1:40000", dst: str = "10.0.0.2:2948") -> Event:
    """A Package #0 (or any datagram) from the server to the device."""
    return Event("datagram", payload=payload, src=src, dst=dst)


def dm_book(*front: Addon, out: Collector | None = None) -> Book:
    """A playbook over DmSessions, with ``front`` (the verifier) fed each step first as in a real run;
    every exchange a POST of application/vnd.syncml.dm+xml to http://10.0.0.1/dm."""
    builder: Addon = Chain(*front, DmSessions()) if front else DmSessions()
    return Book(builder, post_kw={"uri": "/dm", "server": "10.0.0.1:80", "content_type": DM_XML}, out=out,
                sides=("client", "server"))


def _label(body: bytes) -> str:
    """MsgID and command names of a DM message, for the playbook's failure listing."""
    rec = syncml.decode(body)
    if not isinstance(rec, syncml.SyncMLMessage):
        return "undecodable"
    names = [c.name + (f" {c.code}" if c.code is not None and c.name in ("Alert", "Status") else "")
             for c in rec.commands]
    return f"MsgID {rec.header.msg_id}: {', '.join(names)}{', Final' if rec.final else ''}"
