"""A session as a message sequence chart: one model, drawn as SVG, Mermaid and PlantUML.

The TUI's timeline, the HTML report, ``dmsniff export --as svg|mermaid|plantuml|html`` all
read a session through :func:`steps` and label each arrow with :func:`step_label`, so an
arrow says the same thing everywhere: ``Inform(1 BOOT)``, ``401 challenge``,
``↻ Inform(1 BOOT)`` (the retry), ``#2 Replace, Status×3`` (an OMA DM package),
``HTTP connection request → 200``.  The marks beside a label (credentials ✓/✗/?, ``!`` where
a finding points, 🔒 for TLS) come from :func:`chart` too.

Lanes: the device (CPE, DM client), the server (ACS, DM server) and, when the session has
one, the path that woke the device up: the ACS's connection request (HTTP or TR-111 UDP) or
the DM server's Package #0 notification.

Nothing here knows about Rich, Textual or HTML: the renderers below return plain strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Container
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from dmsniff.model import connection_of
from dmsniff.sessions.labels import message_label
from dmsniff.sessions.model import ConnectionRequest, Session, SessionMessage
from dmsniff.verify.model import AuthResult, badge

LOCK = "🔒"  # a message that ran over TLS
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}

__all__ = [
    "LOCK",
    "Arrow",
    "Chart",
    "Lane",
    "Step",
    "chart",
    "finding_frames",
    "mermaid",
    "parties",
    "plantuml",
    "step_frame",
    "step_label",
    "steps",
    "svg",
]


@dataclass(frozen=True, slots=True)
class Step:
    """One line of the timeline: a message, or the connection request that caused the session."""

    time: float
    message: SessionMessage | None
    request: ConnectionRequest | None = None


def parties(session: Session) -> tuple[str, str]:
    return ("CPE", "ACS") if session.protocol == "cwmp" else ("device", "server")


def steps(session: Session) -> list[Step]:
    """Messages and connection requests in time order."""
    out = [Step(cr.time, None, cr) for cr in session.connection_requests]
    out.extend(Step(m.time, m) for m in session.messages)
    out.sort(key=lambda s: s.time)
    return out


def finding_frames(session: Session) -> dict[int, str]:
    """frame -> worst severity of the session's findings that name it."""
    out: dict[int, str] = {}
    for f in session.findings:
        for fr in f.frames:
            if fr not in out or SEVERITY_ORDER[f.severity] < SEVERITY_ORDER[out[fr]]:
                out[fr] = f.severity
    return out


def step_frame(step: Step) -> int:
    """The frame an arrow stands for: the message's, or the connection request's first."""
    if step.request is not None:
        return step.request.frames[0] if step.request.frames else 0
    assert step.message is not None
    return step.message.frame


def step_label(step: Step) -> str:
    """The arrow's text, as the TUI timeline shows it (without its marks)."""
    if step.request is not None:
        cr = step.request
        label = f"{cr.kind.upper()} connection request" + (f" ×{cr.copies}" if cr.copies > 1 else "")
        if cr.status is not None:
            label += f" → {cr.status}"
        return label
    m = step.message
    assert m is not None
    label = message_label(m)
    if "auth challenge" in m.notes and m.package is None:
        label = f"{m.status} challenge"
    if any(n.startswith("retry") for n in m.notes):
        label = f"↻ {label}"  # the request again, after a 401 challenge
    return label


def step_style(step: Step) -> str:
    """What kind of arrow: ``request`` (to the server), ``response`` (to the device),
    ``wakeup`` (connection request, Package #0), ``challenge`` (401/407) or ``error`` (other ≥ 400)."""
    if step.request is not None:
        return "wakeup"
    m = step.message
    assert m is not None
    if m.status is not None and m.status >= 400:
        return "challenge" if m.status in (401, 407) else "error"
    if m.kind == "Notification":
        return "wakeup"
    return "request" if m.direction == "to_server" else "response"


@dataclass(frozen=True, slots=True)
class Lane:
    key: str  # "device" | "server" | "wakeup"
    title: str  # CPE, ACS, device, server, connection request, notification
    detail: str  # the device id, the server's address or name, who sent the wake-up


@dataclass(frozen=True, slots=True)
class Arrow:
    index: int
    offset: float  # seconds from the session's start
    source: str  # lane key
    target: str
    label: str  # step_label
    style: str  # step_style
    frame: int
    transaction: str
    auth: str  # "✓", "✗", "?" or ""
    finding: str  # worst severity of a finding naming the frame, or ""
    tls: bool

    @property
    def marks(self) -> str:
        """`` ✓ ! 🔒``: what the TUI writes after the arrow (without the frame number)."""
        out = ""
        if self.auth:
            out += f" {self.auth}"
        if self.finding:
            out += " !"
        if self.tls:
            out += f" {LOCK}"
        return out


@dataclass(frozen=True, slots=True)
class Chart:
    session: str
    protocol: str
    title: str
    lanes: tuple[Lane, ...]
    arrows: tuple[Arrow, ...]


def _transaction(step: Step) -> str:
    if step.request is not None:
        return step.request.id
    return step.message.transaction if step.message is not None else ""


def chart(session: Session, tls: Container[str] | Callable[[str], bool] = ()) -> Chart:
    """The session's chart.  ``tls``: the TCP connections (``C7``) whose messages were decrypted
    from TLS, or a test of a connection id."""
    is_tls = tls if callable(tls) else tls.__contains__
    device, server = parties(session)
    marks = finding_frames(session)
    all_steps = steps(session)
    wakeup_kinds = {
        "connection request" if st.request is not None else "notification"
        for st in all_steps
        if st.request is not None or (st.message is not None and st.message.kind == "Notification")
    }
    lanes = [
        Lane("device", device, session.device_id or session.client),
        Lane("server", server, session.server_name or session.server),
    ]
    if wakeup_kinds:
        senders = sorted({st.request.client for st in all_steps if st.request is not None})
        title = " / ".join(sorted(wakeup_kinds))
        lanes.append(Lane("wakeup", title, ", ".join(senders) or (session.server_name or session.server)))
    arrows = []
    for i, st in enumerate(all_steps):
        style = step_style(st)
        if st.request is not None:
            source, target, results = "wakeup", "device", st.request.auth
        else:
            m = st.message
            assert m is not None
            results = m.auth
            if m.kind == "Notification" and m.direction == "to_client":
                source, target = "wakeup", "device"
            elif m.direction == "to_server":
                source, target = "device", "server"
            else:
                source, target = "server", "device"
        frame = step_frame(st)
        tx = _transaction(st)
        conn = connection_of(tx)
        arrows.append(Arrow(
            index=i, offset=st.time - session.start, source=source, target=target, label=step_label(st),
            style=style, frame=frame, transaction=tx,
            auth=badge([a for a in results if isinstance(a, AuthResult)]) or "",
            finding=marks.get(frame, ""), tls=conn is not None and bool(is_tls(conn)),
        ))
    peer = session.server_name or session.server
    title = f"{session.id}  {session.protocol}  {session.device_id or '-'} ↔ {peer}"
    return Chart(session.id, session.protocol, title, tuple(lanes), tuple(arrows))


# ------------------------------------------------------------------------------------------ SVG

# Colours of the arrow styles, readable on white (they follow the TUI's: cyan, green, magenta ...).
COLOURS = {
    "request": "#0b6e99", "response": "#1b7f3b", "wakeup": "#9c2a9c", "challenge": "#a66a00",
    "error": "#c62828",
}
SEVERITY_COLOURS = {"error": "#c62828", "warning": "#a66a00", "info": "#0b6e99"}
_CHAR = 7.0  # average width of a character at the labels' 12px, for the layout
_ROW = 30
_TOP = 64
_LEFT = 84  # room for the time offsets


def _text_width(text: str) -> float:
    # Wide glyphs (emoji) take about two columns.
    return sum(2 if ord(c) > 0x2FFF else 1 for c in text) * _CHAR


def svg(c: Chart, *, standalone: bool = True, id_prefix: str = "") -> str:
    """The chart as SVG: lanes with their lifelines, one arrow per step with its label above it, the
    time offset on the left, the marks at the arrow's head.

    Presentation attributes only (no ``<style>``), so the same markup works as a file and inside
    the HTML report under its content security policy.  Every arrow is a ``<g class="arrow">``
    with ``data-step``, ``data-frame`` and a ``<title>``; its label is the ``<text
    class="label">``.  ``standalone``: with the XML declaration and namespace, for a file.
    """
    longest = max((_text_width(a.label + a.marks) for a in c.arrows), default=100.0)
    gap = min(max(longest + 60, 240.0), 1600.0)
    lane_x = {lane.key: _LEFT + 110 + i * gap for i, lane in enumerate(c.lanes)}
    width = int(_LEFT + 110 + (len(c.lanes) - 1) * gap + 130)
    height = int(_TOP + 20 + len(c.arrows) * _ROW + 20)
    out: list[str] = []
    if standalone:
        out.append('<?xml version="1.0" encoding="UTF-8"?>\n')
    ns = ' xmlns="http://www.w3.org/2000/svg"' if standalone else ""
    out.append(
        f'<svg{ns} class="msc" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif" font-size="12" '
        f'role="img" aria-label={quoteattr("sequence chart of " + c.session)}>'
    )
    out.append(f"<title>{escape(c.title)}</title>")
    out.append('<defs>')
    for style, colour in COLOURS.items():
        out.append(
            f'<marker id="{id_prefix}head-{style}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" '
            f'markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{colour}"/></marker>'
        )
    out.append("</defs>")
    out.append(f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>')
    bottom = height - 10
    for lane in c.lanes:
        x = lane_x[lane.key]
        detail = lane.detail if len(lane.detail) <= 40 else lane.detail[:39] + "…"
        box = max(_text_width(detail), _text_width(lane.title) * 1.1) + 16
        out.append(
            f'<g class="lane" data-lane="{lane.key}">'
            f'<line x1="{x:.0f}" y1="{_TOP - 14}" x2="{x:.0f}" y2="{bottom}" stroke="#9aa5b1" '
            'stroke-dasharray="4 4"/>'
            f'<rect x="{x - box / 2:.0f}" y="8" width="{box:.0f}" height="40" rx="5" fill="#eef2f6" '
            'stroke="#9aa5b1"/>'
            f'<text x="{x:.0f}" y="25" text-anchor="middle" font-weight="bold">{escape(lane.title)}</text>'
            f'<text x="{x:.0f}" y="41" text-anchor="middle" font-size="11" fill="#52606d">{escape(detail)}'
            f"<title>{escape(lane.detail)}</title></text></g>"
        )
    for a in c.arrows:
        y = _TOP + 20 + a.index * _ROW
        x1, x2 = lane_x[a.source], lane_x[a.target]
        colour = COLOURS[a.style]
        dash = ' stroke-dasharray="6 4"' if a.style in ("response", "challenge", "error") else ""
        tip = x2 - 4 if x2 > x1 else x2 + 4
        mid = (x1 + x2) / 2
        what = f"{a.label} (frame {a.frame}, {a.transaction}, {a.offset:+.3f} s)"
        out.append(
            f'<g class="arrow arrow-{a.style}" data-step="{a.index}" data-frame="{a.frame}" '
            f'id="{id_prefix}a{a.index}" tabindex="0" cursor="pointer">'
            f"<title>{escape(what)}</title>"
            f'<rect class="hit" x="{min(x1, x2) - 4:.0f}" y="{y - 17}" width="{abs(x2 - x1) + 8:.0f}" '
            f'height="{_ROW - 4}" fill="transparent"/>'
            f'<text class="offset" x="{_LEFT - 8}" y="{y + 4}" text-anchor="end" fill="#7b8794" '
            f'font-size="11">{a.offset:+.3f}</text>'
            f'<line x1="{x1:.0f}" y1="{y}" x2="{tip:.0f}" y2="{y}" stroke="{colour}" '
            f'stroke-width="1.6"{dash} marker-end="url(#{id_prefix}head-{a.style})"/>'
            f'<text class="label" x="{mid:.0f}" y="{y - 5}" text-anchor="middle" fill="{colour}">'
            f"{escape(a.label)}</text>"
        )
        mx = max(x1, x2) + 8 if x2 > x1 else x1 + 8
        marks = []
        if a.auth:
            fill = {"✓": "#1b7f3b", "✗": "#c62828"}.get(a.auth, "#a66a00")
            marks.append(f'<tspan class="auth" fill="{fill}" font-weight="bold">{a.auth}</tspan>')
        if a.finding:
            marks.append(f'<tspan class="finding" fill="{SEVERITY_COLOURS[a.finding]}" font-weight="bold">!'
                         f"<title>{escape(a.finding)} finding</title></tspan>")
        if a.tls:
            marks.append(f'<tspan class="tls">{LOCK}</tspan>')
        marks.append(f'<tspan class="frame" fill="#9aa5b1" font-size="10">f{a.frame}</tspan>')
        out.append(f'<text class="marks" x="{mx:.0f}" y="{y + 4}">{" ".join(marks)}</text></g>')
    out.append("</svg>\n" if standalone else "</svg>")
    return "".join(out)


# -------------------------------------------------------------------------------------- Mermaid

_MERMAID_IDS = {"device": "D", "server": "S", "wakeup": "W"}


def _mermaid_text(text: str) -> str:
    """Text safe in a Mermaid message or participant alias: ``#`` and ``;`` end or escape things
    there, ``<``/``>`` would be read as HTML; each becomes its numeric entity code (``#35;``)."""
    return re.sub(r"[#;<>\"%{}]", lambda m: f"#{ord(m.group())};", text).replace("\n", " ")


def mermaid(c: Chart) -> str:
    """A Mermaid ``sequenceDiagram``: requests ``->>``, answers ``-->>``, refusals ``--x``,
    wake-ups ``-)``; each message's text is its label with its marks, after its time offset."""
    lines = ["sequenceDiagram", f"    title {_mermaid_text(c.title)}"]
    for lane in c.lanes:
        lines.append(f"    participant {_MERMAID_IDS[lane.key]} as {_mermaid_text(lane.title)}<br/>"
                     f"{_mermaid_text(lane.detail)}")
    arrow_of = {"request": "->>", "response": "-->>", "wakeup": "-)", "challenge": "--x", "error": "--x"}
    for a in c.arrows:
        text = _mermaid_text(f"{a.offset:+.3f}s {a.label}{a.marks}")
        lines.append(f"    {_MERMAID_IDS[a.source]}{arrow_of[a.style]}{_MERMAID_IDS[a.target]}: {text}")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------- PlantUML


def _plantuml_text(text: str) -> str:
    """Text safe in a PlantUML message: creole markup (``**``, ``//``, ``""``, ``--``, ``__``,
    ``~~``) and backslashes escaped with ``~``, so a label reads as it is."""
    text = text.replace("\n", " ")
    return re.sub(r"(\*\*|//|\"\"|--|__|~~|\\)", lambda m: "~" + "~".join(m.group()), text)


def plantuml(c: Chart) -> str:
    """A PlantUML sequence diagram with the same participants, arrows and texts as :func:`mermaid`."""
    lines = ["@startuml", f"title {_plantuml_text(c.title)}", "skinparam responseMessageBelowArrow true"]
    for lane in c.lanes:
        lines.append(f'participant "{_plantuml_text(lane.title)}\\n{_plantuml_text(lane.detail)}" as '
                     f"{_MERMAID_IDS[lane.key]}")
    arrow_of = {"request": "->", "response": "-->", "wakeup": "->>", "challenge": "-->x", "error": "-->x"}
    for a in c.arrows:
        colour = COLOURS[a.style]
        text = _plantuml_text(f"{a.offset:+.3f}s {a.label}{a.marks}")
        arrow = arrow_of[a.style]
        # -[#colour]-> : the arrow in the chart's colour
        coloured = arrow[0] + f"[{colour}]" + arrow[1:]
        lines.append(f"{_MERMAID_IDS[a.source]} {coloured} {_MERMAID_IDS[a.target]} : {text}")
    lines.append("@enduml")
    return "\n".join(lines) + "\n"
