"""SyncML DM message builders for playbook tests: a few lines per message, valid by default."""

from __future__ import annotations

from dataclasses import dataclass

from tests.decoders.notification.helpers import app_id_header, pkg0, short, wsp_push

from .playbook import Playbook

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
) -> bytes:
    src, dst = (device, SERVER_URL) if to_server else (SERVER_URL, device)
    name = "<LocName>dmuser</LocName>" if to_server else ""
    resp = f"<RespURI>{resp_uri}</RespURI>" if resp_uri else ""
    return (
        '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>'
        f"<SessionID>{session}</SessionID><MsgID>{msg_id}</MsgID>"
        f"<Target><LocURI>{dst}</LocURI></Target><Source><LocURI>{src}</LocURI>{name}</Source>{resp}{cred}"
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


def status(cmd_id: int, msg_ref: int, cmd_ref: int, cmd: str, code: int, extra: str = "") -> str:
    return (
        f"<Status><CmdID>{cmd_id}</CmdID><MsgRef>{msg_ref}</MsgRef><CmdRef>{cmd_ref}</CmdRef>"
        f"<Cmd>{cmd}</Cmd>{extra}<Data>{code}</Data></Status>"
    )


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


def notification_push(session_id: int, server_id: str = "dm-server", ui_mode: int = 1) -> bytes:
    """A WAP Push (content type 0x44, application id syncml.dm) carrying a DM Pkg#0."""
    return wsp_push(
        short(0x44), [app_id_header(0x07)], pkg0(server_id, session_id=session_id, ui_mode=ui_mode)
    )


@dataclass
class Dm:
    """A DM conversation on a playbook: each call is one HTTP POST and its response."""

    book: Playbook
    conn: str = "C1"
    uri: str = "/dm"

    def exchange(self, client: bytes, server: bytes, **kw: object) -> None:
        kw.setdefault("conn", self.conn)
        kw.setdefault("uri", self.uri)
        kw.setdefault("server", "10.0.0.1:80")
        self.book.post(client, answer=server, content_type=DM_XML, **kw)  # type: ignore[arg-type]
