"""What the detail panes show, as Rich renderables built from the records (no Textual here).

Kept apart from the widgets so that the text of every view can be tested directly: the
timeline's arrows, the decoded tree, the XML, the HTTP headers, the hex dump, the
credentials and the findings of a session, and what TLS they ran over.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from decoders import wbxml
from decoders.notification import Notification
from decoders.syncml import SyncMLMessage
from decoders.tls import TlsInfo
from dmsniff.decode import DecodeError, pretty_xml
from dmsniff.model import Datagram, Finding, HttpMessage, TlsFacts, Transaction, connection_of
from dmsniff.net.tls_keys import explain
from dmsniff.report import msc
from dmsniff.report.records import plain, session_auth, tls_traits
from dmsniff.sessions.model import Session
from dmsniff.sessions.tls import tls_state
from dmsniff.verify.model import AuthResult, badge

HEX_LIMIT = 64 << 10  # bytes shown in the hex view
XML_LIMIT = 2 << 20  # characters of XML highlighted

_AUTH_STYLE = {"valid": "green", "invalid": "bold red", "no-secret": "yellow", "unverifiable": "magenta"}
_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}

LOCK = msc.LOCK  # a session, message or connection that ran over TLS


# The timeline's model is the sequence chart's (dmsniff.report.msc): the same steps, the same labels
# in the TUI, the HTML report and the SVG, Mermaid and PlantUML exports.
Step = msc.Step
parties = msc.parties
steps = msc.steps
finding_frames = msc.finding_frames


def step_line(session: Session, step: Step, width: int, marks: dict[int, str], tls: bool = False) -> Text:
    """``+0.010  CPE ◀── 200 InformResponse ───── ACS  ✓ ! 🔒`` sized to ``width``.

    ``tls``: the message was carried by TLS (decrypted), marked with a lock.
    """
    left, right = parties(session)
    offset = Text(f"{step.time - session.start:+9.3f} ", style="dim")
    label = msc.step_label(step)
    frame = msc.step_frame(step)
    if step.request is not None:
        to_left, style, auth = True, "magenta", step.request.auth
    else:
        m = step.message
        assert m is not None
        to_left, auth = m.direction == "to_client", m.auth
        style = "cyan" if m.direction == "to_server" else "green"
        if m.kind == "Notification":
            style = "magenta"
        if m.status is not None and m.status >= 400:
            style = "bold red" if m.status not in (401, 407) else "yellow"
    tail = Text()
    results = [a for a in auth if isinstance(a, AuthResult)]
    b = badge(results)
    if b:
        tail.append(f" {b}", style="green" if b == "✓" else "bold red" if b == "✗" else "yellow")
    if frame in marks:
        tail.append(" !", style=_SEVERITY_STYLE[marks[frame]])
    if tls:
        tail.append(f" {LOCK}")
    tail.append(f" f{frame}", style="dim")
    lane = max(20, width - len(offset) - len(left) - len(right) - len(tail) - 2)
    text = f" {label} "
    if len(text) > lane - 3:
        text = text[: lane - 4] + "… "
    fill = lane - 2 - len(text)
    if to_left:
        arrow = Text("◀─" + text + "─" * max(fill, 0), style=style)
    else:
        arrow = Text("─" + text + "─" * max(fill, 0) + "▶", style=style)
    line = Text.assemble(offset, (left, "bold"), " ", arrow, " ", (right, "bold"), tail)
    return line


# ------------------------------------------------------------------- the message detail tabs


def http_of(step: Step, store: dict[str, Transaction | Datagram]) -> HttpMessage | Datagram | None:
    """The HTTP message (or UDP datagram) a timeline step came from, when the UI kept it."""
    if step.request is not None:
        rec = store.get(step.request.id)
        return rec.request if isinstance(rec, Transaction) else rec if isinstance(rec, Datagram) else None
    m = step.message
    if m is None:
        return None
    rec = store.get(m.transaction)
    if isinstance(rec, Transaction):
        return rec.request if m.direction == "to_server" else rec.response
    return rec


def step_transaction(step: Step) -> str:
    """The id of the transaction (or datagram) a timeline step came from."""
    if step.request is not None:
        return step.request.id
    return step.message.transaction if step.message is not None else ""


def tls_of(step: Step, store: Mapping[str, Transaction | Datagram],
           by_connection: Mapping[str, TlsInfo]) -> TlsInfo | None:
    """The TLS a step's message was decrypted from, or None when it was plaintext.

    The exchange's own :class:`TlsInfo` when the UI kept the exchange, else the newest one of
    its connection.
    """
    ident = step_transaction(step)
    rec = store.get(ident)
    if isinstance(rec, Transaction) and rec.tls is not None:
        return rec.tls
    conn = connection_of(ident)
    return by_connection.get(conn) if conn is not None else None


def decoded_view(step: Step) -> RenderableType:
    """The decoded record as a tree; OMA DM commands with their Status links and codes explained."""
    if step.request is not None:
        cr = step.request
        tree = Tree(Text(f"{cr.kind.upper()} connection request {cr.id}", style="bold"))
        for k, v in (
            ("target", cr.target),
            ("from", cr.client),
            ("status", cr.status),
            ("copies", cr.copies),
            ("STUN binding", cr.stun_binding),
            ("device", cr.device),
        ):
            if v is not None:
                tree.add(f"{k}: {v}")
        if cr.record is not None:
            _tree(tree.add("fields"), plain(cr.record))
        return tree
    m = step.message
    assert m is not None
    head = Text(f"{m.kind}  {m.http}", style="bold")
    tree = Tree(head)
    if m.commands:
        cmds = tree.add(Text("commands", style="bold"))
        for c in m.commands:
            line = Text("  " * c.depth + f"{c.name} {c.cmd_id or '(no CmdID)'}")
            if c.name in ("Status", "Results"):
                line.append(f" → {c.cmd or '?'} {c.cmd_ref} of msg {c.msg_ref}", style="dim")
                if c.answers is not None:
                    line.append(f" (frame {c.answers})", style="dim")
            if c.code is not None:
                ok = c.code < 300 or c.name == "Alert"
                line.append(f"  {c.code} {c.meaning or ''}", style="green" if ok else "bold red")
            if c.targets:
                line.append("  " + ", ".join(c.targets[:4]), style="cyan")
            if c.data:
                line.append(f"  = {c.data}", style="dim")
            cmds.add(line)
    rec = m.record
    if rec is not None:
        _tree(tree.add(Text("record", style="bold")), plain(rec))
    if m.notes:
        tree.add(Text("notes: " + "; ".join(m.notes), style="yellow"))
    return tree


def _tree(node: Tree, value: Any, depth: int = 0) -> None:
    if depth > 12:
        node.add("…")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if v in (None, [], {}, "", ()):
                continue
            if isinstance(v, dict | list):
                _tree(node.add(Text(str(k), style="bold")), v, depth + 1)
            else:
                node.add(Text.assemble((f"{k}: ", "bold"), str(v)))
    elif isinstance(value, list):
        for i, v in enumerate(value[:500]):
            if isinstance(v, dict | list):
                _tree(node.add(Text(f"[{i}]", style="dim")), v, depth + 1)
            else:
                node.add(str(v))
        if len(value) > 500:
            node.add(f"… {len(value) - 500} more")
    else:
        node.add(str(value))


def xml_text(step: Step, msg: HttpMessage | Datagram | None) -> str | None:
    """The message as indented XML: CWMP and SyncML XML re-indented, WBXML decoded (like wbxml2xml)."""
    rec = step.message.record if step.message is not None else None
    if isinstance(rec, Notification):
        return None
    body = msg.content if isinstance(msg, HttpMessage) else None
    if not body:
        return None
    if isinstance(rec, SyncMLMessage) and rec.encoding == "wbxml":
        doc = wbxml.decode(body)
        return wbxml.to_xml(doc).decode("utf-8", "replace") if isinstance(doc, wbxml.WbxmlDocument) else None
    if body.lstrip()[:1] != b"<":
        return None
    try:
        text, _root, _problems = pretty_xml(body)
    except DecodeError:
        return body.decode("utf-8", "replace")
    return text.partition("\n")[2]  # without the declaration line


def xml_view(step: Step, msg: HttpMessage | Datagram | None) -> RenderableType:
    text = xml_text(step, msg)
    if text is None:
        if isinstance(msg, HttpMessage) and not msg.body_length:
            return Text("(no body)", style="dim")
        if isinstance(msg, HttpMessage) and msg.body_length and not msg.body:
            return Text("(body not kept: over the UI's memory budget)", style="dim")
        return Text("(not XML: see the Decoded and Hex tabs)", style="dim")
    return Syntax(text[:XML_LIMIT], "xml", word_wrap=False, theme="ansi_dark", background_color="default")


def tls_brief(info: TlsInfo) -> Text:
    """``decrypted from TLS 1.3 TLS_AES_128_GCM_SHA256 (key log keys.txt line 12)``, then a line with
    the SNI, ALPN and resumption when known."""
    what = f"{info.version_name} {info.suite_name}" if info.suite_name else info.version_name
    how = f" ({info.key_source})" if info.key_source else ""
    t = Text(f"{'decrypted from' if info.decrypting else 'carried by'} {what}{how}", style="green")
    extra = []
    if info.sni:
        extra.append(f"SNI {info.sni}")
    if info.alpn:
        extra.append(f"ALPN {info.alpn}")
    if info.resumed:
        extra.append(f"resumed ({info.resumed})")
    if extra:
        t.append("\n" + "  ".join(extra), style="dim")
    return t


def http_view(msg: HttpMessage | Datagram | None, tls: TlsInfo | None = None) -> RenderableType:
    """The HTTP message's start line, headers and sizes; first, when it came over TLS, how it was
    decrypted (:func:`tls_brief`)."""
    if isinstance(msg, Datagram):
        return Text(
            f"UDP {msg.src}:{msg.sport} → {msg.dst}:{msg.dport}, {len(msg.payload)} bytes, frame {msg.frame}"
        )
    if msg is None:
        return Text("(not kept)", style="dim")
    first = (
        f"{msg.method} {msg.uri} {msg.version}" if msg.method else f"{msg.version} {msg.status} {msg.reason}"
    )
    t = Text(style="bold")  # as it always was: the whole view on a bold base
    if tls is not None:
        t.append_text(tls_brief(tls))
        t.append("\n\n")
    t.append(first + "\n")
    for k, v in msg.headers:
        t.append(f"{k}: ", style="cyan")
        t.append(f"{v}\n")
    t.append(f"\n{msg.body_length} body bytes", style="dim")
    if msg.decoded_length is not None:
        t.append(f" ({msg.decoded_length} decoded)", style="dim")
    if not msg.complete:
        t.append("  [incomplete]", style="bold red")
    for p in msg.problems:
        t.append(f"\n! {p}", style="yellow")
    return t


def hexdump(data: bytes, limit: int = HEX_LIMIT) -> str:
    lines = []
    for off in range(0, min(len(data), limit), 16):
        chunk = data[off : off + 16]
        hexes = " ".join(f"{b:02x}" for b in chunk)
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{off:08x}  {hexes:<47}  {text}")
    if len(data) > limit:
        lines.append(f"… {len(data) - limit} more bytes")
    return "\n".join(lines)


def hex_view(msg: HttpMessage | Datagram | None) -> RenderableType:
    data = msg.payload if isinstance(msg, Datagram) else msg.body if isinstance(msg, HttpMessage) else b""
    if not data:
        return Text("(no bytes)", style="dim")
    return Text(hexdump(data))


def frames_view(step: Step, msg: HttpMessage | Datagram | None, tls: TlsInfo | None = None,
                facts: TlsFacts | None = None) -> RenderableType:
    """Where the message is in the capture; over TLS also the frames of its records and of its
    connection's handshake (``facts``, once the connection has ended)."""
    t = Text()
    if isinstance(msg, HttpMessage):
        carried = "its TLS records ended in frames" if tls is not None else "carried by frames"
        t.append(f"completed in frame {msg.frame}; {carried} {', '.join(map(str, msg.frames))}")
        if msg.frames_omitted:
            t.append(f" and {msg.frames_omitted} more")
    elif isinstance(msg, Datagram):
        t.append(f"frame {msg.frame}")
    elif step.message is not None:
        t.append(f"frame {step.message.frame}")
    ident = step_transaction(step) or "?"
    t.append(f"\n{'transaction' if ident.startswith('C') else 'datagram'} {ident}", style="dim")
    if tls is not None or facts is not None:
        t.append("\n\n")
        t.append_text(tls_frames(connection_of(ident) or "?", tls, facts))
    return t


def tls_frames(connection: str, tls: TlsInfo | None, facts: TlsFacts | None) -> Text:
    """A TLS connection's handshake messages and alerts with the frames that completed them."""
    t = Text(f"{LOCK} TLS connection {connection}", style="bold")
    if facts is not None:
        t.append(f"  {facts.client} → {facts.server}  frames {facts.first_frame}–{facts.last_frame}")
    info = facts.summary.info if facts is not None else tls
    if info is not None and info.version is not None:
        t.append(f"\n  {info.version_name} {info.suite_name or ''}".rstrip())
    if facts is None:
        t.append("\n  its handshake frames are known when the connection ends", style="dim")
        return t
    width = max((len(name) for name in facts.frames), default=0)
    alerts = list(facts.summary.alerts)
    for name, frames in facts.frames.items():
        if name == "alert":
            continue
        t.append(f"\n  {name:<{width}}  frame{'s' if len(frames) > 1 else ''} {', '.join(map(str, frames))}")
    for frame, alert in zip(facts.alert_frames, alerts, strict=False):  # one frame per alert
        t.append(f"\n  {'alert':<{width}}  frame {frame}  ")
        t.append(alert.name, style="bold red" if alert.fatal else "")
    return t


# ------------------------------------------------------------------------------------- TLS


def _size(n: int) -> str:
    if n < 10240:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 10 * 1024 * 1024 else f"{n / 1048576:.1f} MiB"


def tls_connection_text(connection: str, info: TlsInfo | None, facts: TlsFacts | None,
                        sessions: Sequence[str] = (), *, addresses: bool = True) -> Text:
    """One TLS connection in two lines: what it was, then how it was decrypted or why it was not.

    ``info`` is what its exchanges said (enough while it is still open), ``facts`` its summary
    once it ended; ``sessions`` the sessions that ran over it; ``addresses``: show client → server.
    """
    if facts is not None:
        info = facts.summary.info
    state = tls_state(facts) if facts is not None else "decrypted" if info is not None else "encrypted"
    mark = {"decrypted": LOCK, "no-data": "·", "encrypted": "✗"}[state]
    t = Text()
    t.append(f"{mark} ", style="bold red" if state == "encrypted" else "")
    t.append(f"{connection:<6}", style="bold")
    if facts is not None and addresses:
        t.append(f" {facts.client} → {facts.server}", style="dim")
    if info is not None and info.version is not None:
        t.append(f"  {info.version_name} {info.suite_name or ''}".rstrip())
    elif info is not None or facts is not None:
        t.append("  TLS (no ServerHello seen)")
    extra = tls_traits(info, facts.summary if facts is not None else None, alpn=True)
    if extra:
        t.append("  " + "  ".join(extra), style="dim")
    if sessions:
        t.append(f"  {', '.join(sessions)}", style="cyan")
    if state == "decrypted":
        if info is not None and info.key_source:
            t.append(f"\n     decrypted ({info.key_source})", style="green")
        elif facts is None:
            t.append("\n     decrypted (still open)", style="green")
    elif facts is not None and facts.summary.reason is not None:
        s, reason = facts.summary, facts.summary.reason
        if state == "no-data":
            t.append(f"\n     {reason.text}", style="dim")
        else:
            done = "partly decrypted" if any(s.application_bytes) else "NOT decrypted"
            opaque = _size(sum(s.opaque_bytes))
            t.append(f"\n     {done}, {opaque} opaque: {explain(reason)}", style="bold red")
    return t


def session_tls(connections: Sequence[tuple[str, TlsInfo | None, TlsFacts | None]], limit: int = 3) -> Text:
    """The TLS of a session's connections, one :func:`tls_connection_text` each (``limit`` at most)."""
    t = Text(no_wrap=True, overflow="ellipsis")  # a line each: the pane above the timeline is short
    for i, (conn, info, facts) in enumerate(connections[:limit]):
        if i:
            t.append("\n")
        t.append_text(tls_connection_text(conn, info, facts, addresses=False))
    more = len(connections) - limit
    if more > 0:
        plural = "s" if more > 1 else ""
        t.append(f"\n… and {more} more TLS connection{plural} (t lists them all)", style="dim")
    return t


def auth_table(session: Session) -> RenderableType:
    results = [a for a in session_auth(session) if isinstance(a, AuthResult)]
    if not results:
        return Text("No credentials in this session.", style="dim")
    table = Table(expand=True, show_edge=False, pad_edge=False)
    for col in ("frame", "scheme", "identity", "result", "secret", "reason / notes"):
        table.add_column(col, overflow="fold")
    for a in results:
        why = "; ".join(([a.reason] if a.reason else []) + a.notes)
        table.add_row(
            str(a.frame),
            a.scheme,
            a.identity or "-",
            Text(a.result, style=_AUTH_STYLE[a.result]),
            a.matched or "",
            why,
        )
    return Group(Text(f"{badge(results)} {len(results)} credential(s)", style="bold"), table)


def finding_text(f: Finding) -> Text:
    t = Text()
    t.append(f"{f.severity:<7} ", style=_SEVERITY_STYLE.get(f.severity, ""))
    t.append(f"{f.code}  ", style="bold")
    t.append(f.message)
    t.append(f"  (frames {', '.join(map(str, f.frames[:6]))})", style="dim")
    t.append(f"\n        {f.reference}", style="dim italic")
    return t
