"""The device view (``D``): devices on the left; identity, sessions, parameter history and the DM
tree of the selected one on the right; filtered with the sessions' filter language.

A device is listed when one of its sessions matches the filter (a bare word also matches the
device's id and identity), the same rule as the HTML report's device list.  Devices, with their
parameter history, arrive when the whole capture has been read; until then (and in a live
capture) the view lists the devices of the sessions seen so far, without their history.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from dmsniff.report.html import MASK, secret_name
from dmsniff.sessions.filter import FilterError, Predicate, compile_filter
from dmsniff.sessions.labels import conversation
from dmsniff.sessions.model import Device, ParameterObservation, Session

SPARK = "▁▂▃▄▅▆▇█"
CHANGES = ("Add", "Replace", "Delete", "Copy", "SetParameterValues")
PARAMETER_ROWS = 2000  # parameters listed per device (the rest are counted)


def sparkline(values: Sequence[float], width: int = 24) -> str:
    """``▁▃▅█``: the newest ``width`` values, scaled between their minimum and maximum."""
    values = list(values)[-width:]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    if hi == lo:
        return SPARK[0] * len(values)
    return "".join(SPARK[min(7, int((v - lo) / (hi - lo) * 7.999))] for v in values)


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def shown_value(p: ParameterObservation) -> str:
    """A value as the views show it: secrets masked, as in the HTML report."""
    return MASK if p.value and secret_name(p.name) else p.value


def devices_of_sessions(sessions: Sequence[Session]) -> list[Device]:
    """Devices as the sessions name them (no parameter history): while the capture is being read."""
    out: dict[str, Device] = {}
    for s in sessions:
        if s.device_id is None:
            continue
        d = out.get(s.device_id)
        if d is None:
            identity = {k: v for k, v in (s.device or {}).items() if k != "id"}
            d = out[s.device_id] = Device(id=s.device_id, protocol=s.protocol, identity=identity)
        d.sessions.append(s.id)
        host = s.client.rsplit(":", 1)[0]
        if host not in d.addresses:
            d.addresses.append(host)
    return list(out.values())


def device_matches(device: Device, predicate: Predicate, text: str, by_id: dict[str, Session]) -> bool:
    """One of its sessions matches; or, for a filter without a field, its id or identity contains it."""
    if not text.strip():
        return True
    if any((s := by_id.get(sid)) is not None and predicate(s) for sid in device.sessions):
        return True
    needle = text.strip().lower()
    if ":" in needle:
        return False
    return needle in device.id.lower() or any(needle in v.lower() for v in device.identity.values())


def identity_view(d: Device) -> RenderableType:
    t = Table.grid(padding=(0, 2))
    t.add_column(style="bold")
    t.add_column()
    t.add_row("device", d.id)
    t.add_row("protocol", d.protocol)
    for k, v in d.identity.items():
        t.add_row(k, v)
    t.add_row("addresses", ", ".join(d.addresses) or "-")
    if d.connection_request_url:
        t.add_row("connection request URL", d.connection_request_url)
    if d.udp_connection_request_address:
        t.add_row("UDP connection requests to", d.udp_connection_request_address)
    if d.connection_requests:
        t.add_row("connection requests", ", ".join(d.connection_requests[:20]))
    if d.stun:
        t.add_row("STUN bindings", str(len(d.stun)))
    t.add_row("sessions", str(len(d.sessions)))
    t.add_row("parameter values", f"{len(d.parameters):,}")
    return t


def parameters_view(d: Device) -> RenderableType:
    """Per parameter: how many values, the latest, a sparkline for numbers, the history's last changes."""
    if not d.parameters:
        return Text("No parameter history (yet: it comes when the whole capture has been read).", style="dim")
    by_name: dict[str, list[ParameterObservation]] = {}
    for p in d.parameters:
        by_name.setdefault(p.name, []).append(p)
    table = Table(expand=True, show_edge=False, pad_edge=False)
    for col in ("parameter", "values", "latest", "over time", "last change"):
        table.add_column(col, overflow="fold")
    for name in sorted(by_name)[:PARAMETER_ROWS]:
        obs = by_name[name]
        latest = obs[-1]
        numbers = [_number(p.value) for p in obs]
        distinct = len({p.value for p in obs})
        if secret_name(name) and latest.value:
            trend = Text("(masked)", style="dim")
        elif distinct > 1 and all(n is not None for n in numbers):
            trend = Text(sparkline([n for n in numbers if n is not None]), style="cyan")
        else:
            trend = Text(f"{distinct} values" if distinct > 1 else "unchanged", style="dim")
        change = ""
        for prev, cur in itertools.pairwise(obs):
            if cur.value != prev.value:
                change = f"{cur.session} f{cur.frame}: {shown_value(prev)} → {shown_value(cur)}"
        table.add_row(name, str(len(obs)), shown_value(latest), trend, change)
    more = len(by_name) - PARAMETER_ROWS
    head = Text(f"{len(by_name):,} parameters, {len(d.parameters):,} values", style="bold")
    parts: list[RenderableType] = [head, table]
    if more > 0:
        parts.append(Text(f"… and {more:,} more parameters (the HTML report lists them all)", style="dim"))
    return Group(*parts)


def tree_view(d: Device) -> RenderableType:
    """OMA DM: the management tree as the device reported it (each node's newest value), then the
    changes it accepted.  CWMP: the parameters as a tree of their dotted names."""
    reported: dict[str, ParameterObservation] = {}
    accepted: list[ParameterObservation] = []
    for p in d.parameters:
        if p.source in CHANGES:
            accepted.append(p)
        else:
            reported[p.name] = p
    if not reported and not accepted:
        return Text("No tree (yet: it comes when the whole capture has been read).", style="dim")
    sep = "/" if d.protocol == "omadm" else "."
    root = Tree(Text("." if d.protocol == "omadm" else d.id, style="bold"))
    nodes: dict[str, Tree] = {}
    for name in sorted(reported):
        parts = [x for x in name.removeprefix("./").split(sep) if x]
        path = ""
        parent = root
        for part in parts[:-1]:
            path += sep + part
            if path not in nodes:
                nodes[path] = parent.add(Text(part, style="bold"))
            parent = nodes[path]
        p = reported[name]
        leaf = Text(parts[-1] if parts else name, style="bold")
        leaf.append(f" = {shown_value(p)}", style="")
        leaf.append(f"  ({p.source}, {p.session} f{p.frame})", style="dim")
        parent.add(leaf)
    if not accepted:
        return root
    changes = Table(expand=True, show_edge=False, pad_edge=False, title="changes " + (
        "the device accepted" if d.protocol == "omadm" else "sent by the ACS"), title_justify="left")
    for col in ("command", "node / parameter", "value", "session"):
        changes.add_column(col, overflow="fold")
    for p in accepted[-500:]:
        changes.add_row(p.source, p.name, shown_value(p), f"{p.session} f{p.frame}")
    return Group(root, Text(""), changes)


class DeviceScreen(Screen[str | None]):
    """Devices and what the capture says about each; dismissed with the id of a session to show."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "back"),
        Binding("f", "focus_filter", "filter"),
        *[Binding(str(i + 1), f"tab({i})", show=False) for i in range(4)],
    ]
    DEFAULT_CSS = """
    DeviceScreen #device-left { width: 40%; min-width: 30; }
    DeviceScreen #device-filter { height: 3; }
    DeviceScreen #device-status { height: 1; color: $text-muted; padding: 0 1; }
    DeviceScreen .pane-body { padding: 0 1; }
    """

    def __init__(self, devices: Callable[[], list[Device]], by_id: dict[str, Session],
                 compile_predicate: Callable[[str], Predicate] = compile_filter, text: str = "") -> None:
        super().__init__()
        self._devices = devices
        self.by_id = by_id
        self.compile_predicate = compile_predicate
        self.filter_text = text
        self.shown: list[Device] = []
        self.current: Device | None = None

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="device-left"):
                yield Input(value=self.filter_text, id="device-filter",
                            placeholder="filter devices: the sessions' filter language (enter)")
                yield OptionList(id="device-list")
                yield Static("", id="device-status")
            with TabbedContent(id="device-detail"):
                for name in ("Identity", "Sessions", "Parameters", "Tree"):
                    with TabPane(name, id=f"device-tab-{name.lower()}"):
                        if name == "Sessions":
                            yield OptionList(id="device-sessions")
                        else:
                            with VerticalScroll():
                                yield Static("", id=f"device-view-{name.lower()}", classes="pane-body")
        yield Footer()

    def on_mount(self) -> None:
        self.apply(self.filter_text)
        self.query_one("#device-list", OptionList).focus()

    def apply(self, text: str) -> bool:
        status = self.query_one("#device-status", Static)
        try:
            predicate = self.compile_predicate(text)
        except FilterError as exc:
            status.update(Text(f"filter error at column {exc.position + 1}: {exc.message}", style="bold red"))
            return False
        self.filter_text = text
        devices = self._devices()
        self.shown = [d for d in devices if device_matches(d, predicate, text, self.by_id)]
        lst = self.query_one("#device-list", OptionList)
        lst.clear_options()
        lst.add_options([Option(self._line(d), id=str(i)) for i, d in enumerate(self.shown)]
                        or [Option(Text("No devices.", style="dim"), disabled=True)])
        status.update(f"{len(self.shown):,} of {len(devices):,} devices")
        if self.shown:
            lst.highlighted = 0
            self.show(self.shown[0])
        return True

    @staticmethod
    def _line(d: Device) -> Text:
        t = Text(d.id, style="bold")
        ident = " ".join(v for k, v in d.identity.items() if k not in ("DevId", "serial", "oui"))
        t.append(f"  {d.protocol}  {len(d.sessions)} sessions", style="dim")
        if ident:
            t.append(f"  {ident}", style="dim")
        return t

    def show(self, d: Device) -> None:
        self.current = d
        self.query_one("#device-view-identity", Static).update(identity_view(d))
        self.query_one("#device-view-parameters", Static).update(parameters_view(d))
        self.query_one("#device-view-tree", Static).update(tree_view(d))
        sessions = self.query_one("#device-sessions", OptionList)
        sessions.clear_options()
        opts = []
        for sid in d.sessions:
            s = self.by_id.get(sid)
            line = Text(f"{sid:<9}", style="bold")
            if s is not None:
                line.append(f" {s.end_reason or '':<12} {conversation(s)}")
            opts.append(Option(line, id=sid))
        sessions.add_options(opts or [Option(Text("No sessions.", style="dim"), disabled=True)])

    @on(OptionList.OptionHighlighted, "#device-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None and int(event.option.id) < len(self.shown):
            self.show(self.shown[int(event.option.id)])

    @on(OptionList.OptionSelected, "#device-sessions")
    def _session_chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None and event.option.id in self.by_id:
            self.dismiss(event.option.id)

    @on(Input.Submitted, "#device-filter")
    def _filter(self, event: Input.Submitted) -> None:
        if self.apply(event.value):
            self.query_one("#device-list", OptionList).focus()

    def action_focus_filter(self) -> None:
        self.query_one("#device-filter", Input).focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_tab(self, index: int) -> None:
        names = ("identity", "sessions", "parameters", "tree")
        self.query_one("#device-detail", TabbedContent).active = f"device-tab-{names[index]}"
