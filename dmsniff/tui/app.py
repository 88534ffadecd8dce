"""The terminal UI: sessions on the left, the selected session's timeline and detail on the right.

Layout::

    ┌ filter ────────────────────┐┌ timeline of the selected session ──────────────┐
    │ sessions (virtual list)    ││ +0.000  CPE ─ Inform(1 BOOT) ──────────▶ ACS   │
    │                            │├ Decoded │ XML │ HTTP │ Hex │ Frames │ Auth │ Findings ┤
    │                            ││ detail of the selected arrow                    │
    └────────────────────────────┘└─────────────────────────────────────────────────┘

The capture is read by :class:`~dmsniff.tui.loader.Loader` in a worker thread; sessions
appear as they are found.  Keys: see :data:`HELP_KEYS` (and ``?`` in the app).

TLS: sessions, timeline arrows and connections that ran over TLS carry a lock; a TLS session
gets a line per connection above its timeline (version, suite, where the keys came from, or
why data stayed encrypted); ``t`` lists every TLS connection of the captures, the ones no
session could use (not decrypted) first.
"""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Footer, Input, OptionList, Static, TabbedContent, TabPane
from textual.widgets.option_list import Option

from decoders.tls import TlsInfo
from dmsniff.capture import Frame
from dmsniff.export import keylog_lines, session_connections
from dmsniff.model import TlsFacts, connection_of
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.sessions.filter import HELP as FILTER_HELP
from dmsniff.sessions.filter import FilterError, SessionTls, compile_filter
from dmsniff.sessions.labels import conversation
from dmsniff.sessions.model import Device, Session
from dmsniff.sessions.tls import tls_state
from dmsniff.tui import views
from dmsniff.tui.loader import Feed, Loader, Progress
from dmsniff.tui.session_list import SessionList, SessionRow
from dmsniff.verify.model import AuthResult, Cracked, badge
from dmsniff.verify.secrets import Secrets

HELP_KEYS = """\
Keys
  j/k ↓/↑        move in the focused list        g/G home/end   first/last
  PgUp/PgDn      a page                          enter          open (sessions → timeline)
  tab/shift+tab  next/previous pane              1…7            detail tab (Decoded … Findings)
  f              filter bar (enter applies)      esc            back to the sessions list
  /  n           search sessions, next match     s              sort by the next column
  P  J  B        export the session: pcap, JSON, message bodies (to the current folder);
                 over TLS, P writes pcapng with its keys inside: Wireshark opens it decrypted
  t              TLS connections: how each was decrypted, or why it was not
  H              pictures to share: the session's or the capture's HTML report, the session as
                 Mermaid, PlantUML (both also copied) or SVG (to the current folder)
  D              devices: identity, sessions, parameter history, DM tree (same filter language)
  🔒             ran over TLS: sessions (Auth column), arrows, the line above the timeline
  ?              this help                       q              quit
Mouse: click to select, wheel to scroll, click a column header to sort.
"""

TLS_LIST_LIMIT = 2000  # TLS connections listed by the t screen (those not decrypted come first)
SHOW_DELAY = 0.12  # seconds: cursor moves closer together than this show only where the cursor stops
_FILTER_PLACEHOLDER = "filter: proto:cwmp fault:9001 auth:invalid finding:error … (enter)"
_SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
_SORTS = ("time", "protocol", "device", "server", "messages", "auth", "findings")


def session_row(s: Session, tls: bool = False) -> SessionRow:
    """The sessions list's row of ``s``; ``tls``: it ran over TLS (a lock in the Auth column)."""
    results = [a for m in s.messages for a in m.auth if isinstance(a, AuthResult)]
    results.extend(a for cr in s.connection_requests for a in cr.auth if isinstance(a, AuthResult))
    worst = min((f.severity for f in s.findings), key=lambda x: _SEVERITY_ORDER.get(x, 9), default="")
    return SessionRow(
        key=s.id,
        time=s.start,
        protocol=s.protocol,
        device=s.device_id or "-",
        server=s.server_name or s.server,
        messages=len(s.messages),
        summary=conversation(s),
        auth=badge(results) or "",
        findings=len(s.findings),
        severity=worst,
        lock=views.LOCK if tls else "",
    )


class VimOptionList(OptionList):
    """An OptionList that also moves with vim keys, like the sessions list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "First", show=False),
        Binding("G", "last", "Last", show=False),
        Binding("ctrl+f", "page_down", "Page Down", show=False),
        Binding("ctrl+b", "page_up", "Page Up", show=False),
    ]


class Timeline(VimOptionList):
    """The session's arrows; drawn again when the pane changes width (they are sized to it)."""

    def on_resize(self) -> None:
        self.call_after_refresh(self.app._timeline_resized)  # type: ignore[attr-defined]


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark", "dismiss", "close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 100; height: 80%; border: round $accent; padding: 0 1; background: $surface;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(Text(HELP_KEYS + "\nFilter language\n" + FILTER_HELP))


class TlsScreen(ModalScreen[None]):
    """Every TLS connection of the captures: those not decrypted first, with why and what would help."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,t", "dismiss", "close")]
    DEFAULT_CSS = """
    TlsScreen { align: center middle; }
    TlsScreen > VerticalScroll {
        width: 90%; height: 80%; border: round $accent; padding: 0 1; background: $surface;
    }
    """

    def __init__(self, body: Text) -> None:
        super().__init__()
        self.body = body

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "TLS connections (esc closes)"
            yield Static(self.body, id="tls-connections")


class PicturesScreen(ModalScreen[str | None]):
    """What ``H`` writes: the session's or the capture's HTML, or the session's chart as text or SVG."""

    CHOICES = (
        ("session-html", "HTML page of this session"),
        ("listed-html", "HTML report of the sessions listed (as filtered)"),
        ("capture-html", "HTML report of the whole capture"),
        ("mermaid", "Mermaid sequence diagram of this session (also copied to the clipboard)"),
        ("plantuml", "PlantUML sequence of this session (also copied to the clipboard)"),
        ("svg", "SVG sequence chart of this session"),
        ("session-har", "HAR of this session's HTTP exchanges (decrypted, with bodies)"),
        ("listed-har", "HAR of the HTTP exchanges of the sessions listed (as filtered)"),
    )
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q", "dismiss_none", "close")]
    DEFAULT_CSS = """
    PicturesScreen { align: center middle; }
    PicturesScreen > OptionList { width: 80; height: auto; border: round $accent; background: $surface; }
    """

    def __init__(self, session: str | None) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        whole = ("listed-html", "capture-html", "listed-har")  # the only ones that need no session
        options = [Option(text, id=key, disabled=self.session is None and key not in whole)
                   for key, text in self.CHOICES]
        lst = VimOptionList(*options, id="pictures")
        lst.border_title = f"write {self.session or 'the capture'} as … (enter)"
        yield lst

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)


class DmsniffApp(App[None]):
    """Sessions, timeline and detail of one or more captures (or a live interface)."""

    TITLE = "dmsniff"
    CSS = """
    #left { width: 45%; min-width: 40; }
    #filter { height: 3; }
    #status { height: 1; color: $text-muted; padding: 0 1; }
    #right { width: 1fr; }
    #session-tls { height: auto; max-height: 7; padding: 0 1; display: none; }
    #timeline { height: 40%; border: round $primary-darken-2; }
    #detail { height: 1fr; }
    .pane-body { padding: 0 1; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "quit"),
        Binding("question_mark", "help", "help"),
        Binding("f", "focus_filter", "filter"),
        Binding("slash", "search", "search"),
        Binding("n", "search_next", "next", show=False),
        Binding("escape", "focus_sessions", "sessions", show=False),
        Binding("s", "sort_next", "sort"),
        Binding("P", "export('pcap')", "pcap"),
        Binding("J", "export('json')", "json"),
        Binding("B", "export('bodies')", "bodies"),
        Binding("t", "tls", "TLS", show=False),
        Binding("H", "pictures", "HTML"),
        Binding("D", "devices", "devices"),
        *[Binding(str(i + 1), f"tab({i})", show=False) for i in range(7)],
    ]

    def __init__(
        self,
        captures: Sequence[str] = (),
        *,
        secrets: Secrets | None = None,
        tls: TlsKeySpec | None = None,
        live: tuple[str, Iterator[Frame], threading.Event] | None = None,
        export_dir: str | Path = ".",
        cracked: Cracked | None = None,
        show_secrets: bool = False,
        display_filter: str = "",
    ) -> None:
        super().__init__()
        self.captures = list(captures)
        self.initial_filter = display_filter  # (-Y: applied when the screen opens, as if typed)
        self.live = live
        self.export_dir = Path(export_dir)
        self.progress = Progress()
        self.feed = Feed(self._post_sessions, self.progress)
        self.loader = Loader(self.feed, secrets, tls, cracked=cracked, show_secrets=show_secrets)
        self.sessions: list[Session] = []
        self.by_id: dict[str, Session] = {}
        self.rows: dict[str, SessionRow] = {}
        self.predicate = compile_filter("")
        self.current: Session | None = None
        self.current_steps: list[views.Step] = []
        self.search_text = ""
        self.filter_text = ""
        self._searching = False
        self._sort_index = 0
        self._show_timer: Timer | None = None
        self._last_show = 0.0
        self._timeline_width = 0
        self._switch = sys.getswitchinterval()
        self._tls_seen = 0  # TLS connections ended when the status line was last drawn
        self._tls_warned = False

    # -- layout ----------------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="left"):
                yield Input(placeholder=_FILTER_PLACEHOLDER, id="filter")
                yield SessionList(id="sessions")
                yield Static("", id="status")
            with Vertical(id="right"):
                yield Static("", id="session-tls")
                yield Timeline(id="timeline")
                with TabbedContent(id="detail"):
                    for name in ("Decoded", "XML", "HTTP", "Hex", "Frames", "Auth", "Findings"):
                        with TabPane(name, id=f"tab-{name.lower()}"):
                            if name == "Findings":
                                yield VimOptionList(id="findings")
                            else:
                                with VerticalScroll():
                                    yield Static("", id=f"view-{name.lower()}", classes="pane-body")
        yield Footer()

    def on_mount(self) -> None:
        title = ", ".join(Path(c).name for c in self.captures) or (
            f"live:{self.live[0]}" if self.live else ""
        )
        self.sub_title = title
        self.query_one("#timeline", OptionList).border_title = "timeline"
        self.query_one(SessionList).focus()
        if self.initial_filter:
            self.query_one("#filter", Input).value = self.initial_filter
            self.apply_filter(self.initial_filter)
        self.set_interval(0.25, self._show_progress)
        # Decoding starts once the screen is painted: the worker holds the GIL most of the time, and
        # a shorter switch interval keeps keys and repaints prompt while it reads.
        self._switch = sys.getswitchinterval()
        sys.setswitchinterval(0.001)
        self.call_after_refresh(self._load)

    @work(thread=True, exclusive=True, group="load")
    def _load(self) -> None:
        if self.live is not None:
            iface, frames, stop = self.live
            self.loader.stop = stop  # quitting the app stops the capture
            self.loader.run_live(iface, frames)
        else:
            self.loader.run_files(self.captures)

    def _post_sessions(self, batch: list[Session]) -> None:
        """Called in the loader thread."""
        with contextlib.suppress(RuntimeError):  # the app is already shutting down
            self.call_from_thread(self.add_sessions, batch)

    def add_sessions(self, batch: list[Session]) -> None:
        new_rows = []
        for s in batch:
            self.sessions.append(s)
            self.by_id[s.id] = s
            row = self.rows[s.id] = session_row(s, self.over_tls(s))
            if self.predicate(s):
                new_rows.append(row)
        lst = self.query_one(SessionList)
        first = lst.row_count == 0
        if new_rows:
            lst.append_rows(new_rows)
        if first and lst.cursor_row is not None:
            self.show_session(lst.cursor_row.key)

    def _show_progress(self) -> None:
        p = self.progress
        try:
            lst = self.query_one(SessionList)
        except NoMatches:  # a timer tick while the app shuts down
            return
        leftover = self.feed.take()
        if leftover:
            self.add_sessions(leftover)
        state = "done" if p.done else "reading"
        text = Text(
            f"{state}: {p.packets:,} packets, {len(self.sessions):,} sessions ({lst.row_count:,} shown)"
        )
        keeper = self.feed.tls
        counts = keeper.counts
        ended = sum(counts.values())
        if ended:
            text.append(f" · {ended:,} TLS")
            if counts["encrypted"]:
                text.append(f", {counts['encrypted']:,} not decrypted (t)", style="bold yellow")
        if ended != self._tls_seen:
            self._tls_seen = ended
            self._show_session_tls()  # a connection of the session shown may have ended since
        if p.done and counts["encrypted"] and not self._tls_warned:
            self._tls_warned = True
            n = counts["encrypted"]
            self.notify(f"{n} TLS connection{'s' if n > 1 else ''} not decrypted: t shows why",
                        severity="warning")
        if p.errors:
            text.append(f" — {p.errors[-1]}")
        self.query_one("#status", Static).update(text)

    # -- TLS ---------------------------------------------------------------------------------------
    def tls_connections(self, s: Session) -> list[tuple[str, TlsInfo | None, TlsFacts | None]]:
        """The session's connections that ran over TLS, with what is known of each."""
        return self.feed.tls.connections(session_connections(s))

    def over_tls(self, s: Session) -> bool:
        """Whether the session's messages were decrypted from TLS."""
        info = self.feed.tls.info
        return any(connection_of(m.transaction) in info for m in s.messages)

    def session_tls(self, s: Session) -> SessionTls | None:
        """What the filter's ``tls:`` field knows of a session; None when it was plaintext."""
        return self.feed.tls.session_tls(session_connections(s))

    def _show_session_tls(self) -> None:
        """The line(s) above the timeline: the TLS of the shown session's connections."""
        header = self.query_one("#session-tls", Static)
        conns = self.tls_connections(self.current) if self.current is not None else []
        header.display = bool(conns)
        if conns:
            header.update(views.session_tls(conns))

    def action_tls(self) -> None:
        keeper = self.feed.tls
        used: dict[str, list[str]] = {}
        for s in self.sessions:
            for conn in session_connections(s):
                used.setdefault(conn, []).append(s.id)
        facts = keeper.all_facts()
        ended = {f.connection for f in facts}
        order = {"encrypted": 0, "no-data": 1, "decrypted": 2}
        facts.sort(key=lambda f: (order[tls_state(f)], f.capture, f.first_frame))
        body = Text()
        counts = keeper.counts
        body.append(f"{len(facts)} TLS connections ended: {counts['decrypted']} decrypted, "
                    f"{counts['encrypted']} not decrypted, {counts['no-data']} without application data",
                    style="bold")
        still_open = [c for c in list(keeper.info) if c not in ended]  # list(): the loader may add to it
        if still_open:
            body.append(f"; {len(still_open)} still open, decrypting", style="bold")
        heading = ""
        titles = {"encrypted": "Not decrypted", "no-data": "No application data", "decrypted": "Decrypted"}
        for f in facts[:TLS_LIST_LIMIT]:
            title = titles[tls_state(f)]
            if title != heading:
                heading = title
                body.append(f"\n\n{title}", style="bold underline")
            body.append("\n")
            body.append_text(views.tls_connection_text(f.connection, None, f, used.get(f.connection, ())))
        if len(facts) > TLS_LIST_LIMIT:
            more = len(facts) - TLS_LIST_LIMIT
            body.append(f"\n… and {more:,} more: dmsniff report lists them all", style="dim")
        loose = [f for f in self.feed.findings if f.code.startswith("tls.")]
        if loose:
            body.append("\n\nTLS findings outside sessions", style="bold underline")
            for finding in loose:
                body.append("\n")
                body.append_text(views.finding_text(finding))
        if not facts and not still_open:
            body.append("\n\nNo TLS connection (yet).", style="dim")
        self.push_screen(TlsScreen(body))

    def _timeline_resized(self) -> None:
        if self.current is None:
            return
        timeline = self.query_one("#timeline", OptionList)
        if timeline.size.width != self._timeline_width:
            self._draw_timeline(timeline, self.current)

    def on_unmount(self) -> None:
        self.loader.stop.set()
        sys.setswitchinterval(self._switch)

    # -- selection -------------------------------------------------------------------------------
    @on(SessionList.Selected)
    def _selected(self, event: SessionList.Selected) -> None:
        # Scrolling through the list (a key held down, pages) should move the cursor at once;
        # the timeline and detail of every row passed are not worth drawing: within SHOW_DELAY
        # of the last one, only the row the cursor stops on is shown.
        key = event.row.key
        if self._show_timer is not None:
            self._show_timer.stop()
            self._show_timer = None
        if time.monotonic() - self._last_show >= SHOW_DELAY:
            self.show_session(key)
        else:
            self._show_timer = self.set_timer(SHOW_DELAY, self._show_cursor_row)

    def _show_cursor_row(self) -> None:
        # The row under the cursor now, not the one the timer was set for: a stopped timer can
        # still fire once (its callback already queued), and would show a row the cursor has left.
        # It can also fire while the app exits, after the list is gone: then there is nothing to show.
        lists = self.query(SessionList)
        row = lists.first().cursor_row if lists else None
        if row is not None:
            self.show_session(row.key)

    @on(SessionList.Activated)
    def _activated(self, event: SessionList.Activated) -> None:
        self.show_session(event.row.key)
        self.query_one("#timeline", OptionList).focus()

    def show_session(self, key: str) -> None:
        self._show_timer = None
        s = self.by_id.get(key)
        if s is None or s is self.current:
            return
        self._last_show = time.monotonic()
        self.current = s
        self.current_steps = views.steps(s)
        timeline = self.query_one("#timeline", OptionList)
        self._draw_timeline(timeline, s)
        timeline.border_title = f"{s.id}  {s.protocol}  {s.device_id or '-'} ↔ {s.server_name or s.server}"
        timeline.border_subtitle = f"end: {s.end_reason}"
        self._show_session_tls()
        if self.current_steps:
            timeline.highlighted = 0
        self.query_one("#view-auth", Static).update(views.auth_table(s))
        findings = self.query_one("#findings", OptionList)
        findings.clear_options()
        findings.add_options(
            [Option(views.finding_text(f), id=str(i)) for i, f in enumerate(s.findings)]
            or [Option(Text("No findings.", style="dim"), disabled=True)]
        )
        self.show_step(0)

    def _draw_timeline(self, timeline: OptionList, s: Session) -> None:
        """The arrows, sized to the pane (drawn again when the pane changes width)."""
        width = max(60, timeline.size.width - 4)
        self._timeline_width = timeline.size.width
        marks = views.finding_frames(s)
        info = self.feed.tls.info
        locked = [connection_of(views.step_transaction(st)) in info for st in self.current_steps]
        highlighted = timeline.highlighted
        timeline.clear_options()
        timeline.add_options(
            [
                Option(views.step_line(s, st, width, marks, locked[i]), id=str(i))
                for i, st in enumerate(self.current_steps)
            ]
        )
        if highlighted is not None and highlighted < len(self.current_steps):
            timeline.highlighted = highlighted

    @on(OptionList.OptionHighlighted, "#timeline")
    def _step_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.show_step(event.option_index)

    def show_step(self, index: int) -> None:
        if not (0 <= index < len(self.current_steps)):
            for name in ("decoded", "xml", "http", "hex", "frames"):
                self.query_one(f"#view-{name}", Static).update("")
            return
        step = self.current_steps[index]
        msg = views.http_of(step, self.feed.transactions)
        keeper = self.feed.tls
        tls = views.tls_of(step, self.feed.transactions, keeper.info)
        conn = connection_of(views.step_transaction(step))
        facts = keeper.facts.get(conn) if conn is not None and tls is not None else None
        self.query_one("#view-decoded", Static).update(views.decoded_view(step))
        self.query_one("#view-xml", Static).update(views.xml_view(step, msg))
        self.query_one("#view-http", Static).update(views.http_view(msg, tls))
        self.query_one("#view-hex", Static).update(views.hex_view(msg))
        self.query_one("#view-frames", Static).update(views.frames_view(step, msg, tls, facts))

    @on(OptionList.OptionSelected, "#findings")
    def _finding_selected(self, event: OptionList.OptionSelected) -> None:
        """Jump to the first message a finding names."""
        s = self.current
        if s is None or event.option.id is None:
            return
        f = s.findings[int(event.option.id)]
        for i, st in enumerate(self.current_steps):
            frame = st.message.frame if st.message is not None else st.request.frames[0] if st.request else -1
            if frame in f.frames:
                timeline = self.query_one("#timeline", OptionList)
                timeline.highlighted = i
                timeline.focus()
                self.query_one(TabbedContent).active = "tab-decoded"
                return

    # -- filter, search, sort ----------------------------------------------------------------------
    def action_focus_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_focus_sessions(self) -> None:
        self.query_one(SessionList).focus()

    @on(Input.Submitted, "#filter")
    def _filter(self, event: Input.Submitted) -> None:
        if self._searching:
            self._searching = False
            self.search_text = event.value.lower()
            event.input.value = self.filter_text
            event.input.placeholder = _FILTER_PLACEHOLDER
            self.query_one(SessionList).focus()
            self.action_search_next()
            return
        if self.apply_filter(event.value):
            self.query_one(SessionList).focus()

    def apply_filter(self, text: str) -> bool:
        status = self.query_one("#status", Static)
        try:
            self.predicate = compile_filter(text, tls=self.session_tls)
        except FilterError as exc:
            status.update(Text(f"filter error at column {exc.position + 1}: {exc.message}", style="bold red"))
            return False
        self.filter_text = text
        rows = [self.rows[s.id] for s in self.sessions if self.predicate(s)]
        self.query_one(SessionList).set_rows(rows)
        self._show_progress()
        return True

    def action_search(self) -> None:
        inp = self.query_one("#filter", Input)
        inp.placeholder = "search: text, then enter; n for the next match"
        inp.value = ""
        inp.focus()
        self._searching = True

    def action_search_next(self) -> None:
        if not self.search_text:
            return
        lst = self.query_one(SessionList)
        n = lst.row_count
        start = (lst.cursor_index if lst.cursor_row is not None else -1) + 1
        for i in range(n):
            row = lst.row_at((start + i) % n)
            hay = f"{row.key} {row.device} {row.server} {row.summary}".lower()
            if self.search_text in hay:
                lst.select_key(row.key)
                return
        self.notify(f"no session matches {self.search_text!r}", severity="warning")

    def action_sort_next(self) -> None:
        self._sort_index = (self._sort_index + 1) % len(_SORTS)
        self.query_one(SessionList).sort_by(_SORTS[self._sort_index])

    def action_tab(self, index: int) -> None:
        names = ("decoded", "xml", "http", "hex", "frames", "auth", "findings")
        self.query_one(TabbedContent).active = f"tab-{names[index]}"

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    # -- devices, pictures ---------------------------------------------------------------------------
    def action_devices(self) -> None:
        from dmsniff.tui.devices import DeviceScreen, devices_of_sessions

        def devices() -> list[Device]:
            kept = list(self.feed.devices)  # the loader adds them at the end of the capture
            return kept if kept else devices_of_sessions(self.sessions)

        def chosen(key: str | None) -> None:
            if key is None:
                return
            lst = self.query_one(SessionList)
            if not any(lst.row_at(i).key == key for i in range(lst.row_count)):
                self.apply_filter("")  # the session is filtered out of the list: show them all
                self.query_one("#filter", Input).value = ""
            lst.select_key(key)
            self.show_session(key)

        screen = DeviceScreen(devices, self.by_id, lambda text: compile_filter(text, tls=self.session_tls),
                              self.filter_text)
        self.push_screen(screen, chosen)

    def action_pictures(self) -> None:
        s = self.current
        self.push_screen(PicturesScreen(s.id if s is not None else None), self._write_picture)

    def _write_picture(self, choice: str | None) -> None:
        from dmsniff.report import session_export

        s = self.current
        if choice is None:
            return
        if choice.endswith("-html"):
            if choice == "session-html":
                assert s is not None
                sessions, single, name = [s], s.id, f"dmsniff-{s.id}.html"
            elif choice == "listed-html":
                lst = self.query_one(SessionList)
                sessions = [self.by_id[lst.row_at(i).key] for i in range(lst.row_count)]
                single, name = None, "dmsniff-report.html"
            else:
                sessions, single, name = list(self.sessions), None, "dmsniff-report.html"
            self.notify(f"writing {name} ({len(sessions):,} session{'s' if len(sessions) != 1 else ''}) …")
            self._write_html(sessions, single, self.export_dir / name)
            return
        if choice.endswith("-har"):
            self._write_har(choice)
            return
        assert s is not None
        text = session_export.render(s, choice, set(self.feed.tls.info))
        out = self.export_dir / f"dmsniff-{s.id}{session_export.SUFFIXES[choice]}"
        try:
            out.write_text(text, encoding="utf-8")
        except OSError as exc:
            self.notify(f"cannot write {out}: {exc.strerror}", severity="error")
            return
        if choice in ("mermaid", "plantuml"):
            self.copy_to_clipboard(text)  # for pasting into Markdown and tickets
            self.notify(f"wrote {out} (and copied it)")
        else:
            self.notify(f"wrote {out}")

    def _write_har(self, choice: str) -> None:
        from dmsniff.report.har import session_transactions, write_har

        if choice == "session-har":
            assert self.current is not None
            sessions, out = [self.current], self.export_dir / f"dmsniff-{self.current.id}.har"
        else:
            lst = self.query_one(SessionList)
            sessions = [self.by_id[lst.row_at(i).key] for i in range(lst.row_count)]
            out = self.export_dir / "dmsniff-sessions.har"
        try:
            with out.open("w", encoding="utf-8") as fh:
                n = write_har(fh, session_transactions(sessions, self.feed.transactions), sessions)
        except OSError as exc:
            self.notify(f"cannot write {out}: {exc.strerror}", severity="error")
            return
        self.notify(f"wrote {out}: {n:,} HTTP exchange{'s' if n != 1 else ''}")

    @work(thread=True, group="html")
    def _write_html(self, sessions: list[Session], single: str | None, out: Path) -> None:
        """In a worker thread: a big capture's page takes seconds, the screen must not wait."""
        from dmsniff.report.html import write_html

        feed = self.feed
        wanted = {s.id for s in sessions}
        devices = [] if single is not None else [
            d for d in feed.devices if any(sid in wanted for sid in d.sessions)]
        try:
            with out.open("w", encoding="utf-8") as fh:
                report = write_html(
                    fh, sessions, dict(feed.transactions), devices=devices,
                    findings=[f for f in feed.findings if f.session is None or f.session in wanted],
                    auth=[a for a in feed.auth_results if single is None], tls=feed.tls.all_facts(),
                    captures=list(feed.summaries), single=single,
                )
        except OSError as exc:
            self.call_from_thread(self.notify, f"cannot write {out}: {exc.strerror}", severity="error")
            return
        self.call_from_thread(self.notify, f"wrote {out}: {report.summary}")

    # -- exports ---------------------------------------------------------------------------------
    def action_export(self, what: str) -> None:
        from dmsniff import export

        s = self.current
        if s is None:
            self.notify("no session selected", severity="warning")
            return
        base = self.export_dir / f"dmsniff-{s.id}"
        try:
            if what == "pcap":
                path = self.feed.capture_paths.get(s.capture)
                if path is None or path.startswith("live:"):
                    self.notify(
                        "a live session's packets are not kept: use -w to save the capture",
                        severity="warning",
                    )
                    return
                # Over TLS: pcapng, with the key log lines of its connections inside.
                lines = keylog_lines(session_connections(s), self.feed.tls.facts)
                still_open = [c for c, _info, facts in self.tls_connections(s) if facts is None]
                if still_open:
                    self.notify(f"TLS connection {', '.join(still_open)} has not ended yet: its keys are "
                                "not in the export", severity="warning")
                out = base.with_suffix(".pcapng" if lines else ".pcap")
                n = export.export_pcap(s, path, out, lines)
                keys = f" and {len(lines)} TLS key log line{'s' if len(lines) > 1 else ''}" if lines else ""
                self.notify(f"wrote {n} frames{keys} to {out}")
            elif what == "json":
                export.export_json(s, base.with_suffix(".json"))
                self.notify(f"wrote {base.with_suffix('.json')}")
            else:
                files = export.export_bodies(s, self.feed.transactions, base)
                self.notify(f"wrote {len(files)} bodies to {base}/")
        except export.ExportError as exc:
            self.notify(str(exc), severity="error")
