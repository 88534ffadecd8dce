"""The sessions list of the terminal UI: a virtual table that stays fast with 100k+ rows.

It is a Line API widget (a :class:`~textual.scroll_view.ScrollView` that implements
``render_line``) rather than a ``DataTable``, which keeps per-row and per-cell bookkeeping
(keys, cell values, height offsets) for every row it holds.  Here the rows stay plain
:class:`SessionRow` objects in a Python list, and only the lines on screen are ever formatted.

How it stays fast:

* ``render_line(y)`` is O(1): line 0 is the fixed header, line ``y >= 1`` is row
  ``scroll_y + y - 1`` of the display order, looked up by index.
* Rendered rows are kept in an LRU of :class:`~textual.strip.Strip` keyed by
  ``(row key, is cursor, widths)``.  A row's rendering does not depend on where it sits, so
  scrolling back, re-sorting and appending never re-format a row already seen.
* The order is one list kept ascending by ``(sort value, arrival number)``; descending order
  is the same list read backwards, so toggling the direction costs nothing, and appending
  while sorted is a bisect plus a ``list.insert``.
"""

from __future__ import annotations

import bisect
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from types import MappingProxyType
from typing import Any, ClassVar, Literal, NamedTuple

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

__all__ = ["SORT_KEYS", "SessionList", "SessionRow"]


@dataclass(frozen=True, slots=True)
class SessionRow:
    """One line of the sessions list: plain, pre-digested values (the widget knows nothing of sessions).

    ``key`` must be unique within a list: it is how the cursor, the render cache and
    :meth:`SessionList.select_key` find a row.
    """

    key: str  # session id, e.g. "S55" or "D5"
    time: float  # start, epoch seconds
    protocol: str  # "cwmp" | "omadm"
    device: str  # device id or "-"
    server: str
    messages: int
    summary: str  # one-line conversation; truncated with … to the column width
    auth: str  # "✓", "✗", "?" or ""
    findings: int
    severity: str  # worst finding severity: "error" | "warning" | "info" | ""
    lock: str = ""  # "🔒" when it ran over TLS: drawn in the Auth column, before the badge


# Sort value of each sortable column.  attrgetter runs in C, which matters when sorting
# 500k rows: a lambda would roughly double the time of a sort.  Ties are broken by arrival
# order (see SessionList._sort_position), never by comparing rows.
SORT_KEYS: Mapping[str, Callable[[SessionRow], Any]] = MappingProxyType(
    {
        "time": attrgetter("time"),
        "protocol": attrgetter("protocol"),
        "device": attrgetter("device"),
        "server": attrgetter("server"),
        "messages": attrgetter("messages"),
        "auth": attrgetter("auth"),
        "findings": attrgetter("findings"),
    }
)

Align = Literal["left", "right", "center"]


class _Column(NamedTuple):
    label: str
    sort: str | None  # name in SORT_KEYS, or None when the column does not sort
    width: int  # fixed width in cells; 0 for the columns _layout() sizes from the widget width
    align: Align


# Fixed widths leave room for the label plus a sort arrow ("Msgs▲", "Findings▼").
_COLUMNS: tuple[_Column, ...] = (
    _Column("Time", "time", 12, "left"),  # HH:MM:SS.mmm
    _Column("Proto", "protocol", 6, "left"),
    _Column("Device", "device", 0, "left"),
    _Column("Server", "server", 0, "left"),
    _Column("Msgs", "messages", 5, "right"),
    _Column("Auth", "auth", 5, "center"),
    _Column("Findings", "findings", 9, "right"),
    _Column("Summary", None, 0, "left"),
)
_TIME, _PROTO, _DEVICE, _SERVER, _MSGS, _AUTH, _FINDINGS, _SUMMARY = range(len(_COLUMNS))
_GAP = 1  # blank cells before the first column and between columns
_FIXED_CELLS = sum(c.width for c in _COLUMNS) + _GAP * len(_COLUMNS)
_MIN_SUMMARY = 10
_MIN_WIDTH = _FIXED_CELLS + 8 + 8 + _MIN_SUMMARY  # narrowest width that shows every column

# append_rows re-sorts instead of bisecting when the batch has more rows than this and more
# than 1% of the list: each list.insert moves every later pointer, so k inserts cost
# O(k * n), and measured on 50k-500k rows one full sort costs about as much as
# max(2000, n / 100) inserts.
_BULK_APPEND = 2000
_BULK_FRACTION = 100

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _layout(width: int) -> tuple[int, ...]:
    """Column widths for a line ``width`` cells wide: Device and Server grow with the width (up
    to a cap, since ids longer than that are rarely worth the room), Summary takes the rest."""
    avail = max(0, width - _FIXED_CELLS)
    device = min(30, max(8, avail * 22 // 100))
    server = min(28, max(8, avail * 20 // 100))
    summary = max(0, avail - device - server)
    flexible = {_DEVICE: device, _SERVER: server, _SUMMARY: summary}
    return tuple(flexible.get(i, col.width) for i, col in enumerate(_COLUMNS))


def _fit(text: str, width: int, align: Align) -> str:
    """Pad or truncate ``text`` (with …) to exactly ``width`` cells."""
    if width <= 0:
        return ""
    if not text.isprintable():
        # A newline or escape from a capture would break the line or the terminal.
        text = _CONTROL.sub("\ufffd", text)
    if text.isascii():
        length = len(text)
        if length > width:
            return text[: width - 1] + "…"
    else:
        length = cell_len(text)
        if length > width:
            return set_cell_size(text, width - 1) + "…"
    pad = width - length
    if align == "left":
        return text + " " * pad
    if align == "right":
        return " " * pad + text
    left = pad // 2
    return " " * left + text + " " * (pad - left)


def format_time(value: float, base: float | None) -> str:
    """``HH:MM:SS.mmm`` in UTC, or ``+seconds.mmm`` relative to ``base`` when one is given."""
    if base is not None:
        return f"{value - base:+.3f}"
    tm = time.gmtime(value)
    millis = int((value % 1.0) * 1000)
    return f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}.{millis:03d}"


class _Palette(NamedTuple):
    """Rich styles resolved from the widget's CSS, rebuilt whenever the styles change."""

    base: Style
    cursor: Style
    header: Style
    auth: dict[str, Style]
    severity: dict[str, Style]


class _RowMessage(Message):
    """A message about one row of a :class:`SessionList`."""

    def __init__(self, session_list: SessionList, row: SessionRow) -> None:
        self.session_list = session_list
        self.row = row
        super().__init__()

    @property
    def control(self) -> SessionList:
        """The list that posted the message."""
        return self.session_list


class SessionList(ScrollView, can_focus=True, inherit_bindings=False):
    """A sortable, virtual list of sessions.

    Line 0 is a header that stays put while the rows scroll under it.  The cursor is the
    selected row; moving it posts :class:`SessionList.Selected`, Enter or a double click
    posts :class:`SessionList.Activated`.  Clicking a header cell sorts by that column
    (again to reverse).
    """

    ALLOW_SELECT = False  # clicks select rows, not text

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up,k", "cursor_up", "Up", show=False),
        Binding("down,j", "cursor_down", "Down", show=False),
        Binding("pageup,ctrl+b", "cursor_page_up", "Page up", show=False),
        Binding("pagedown,ctrl+f", "cursor_page_down", "Page down", show=False),
        Binding("home,g", "cursor_first", "First", show=False),
        Binding("end,G", "cursor_last", "Last", show=False),
        Binding("enter", "activate", "Open", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "session-list--header",
        "session-list--cursor",
        "session-list--auth-ok",
        "session-list--auth-failed",
        "session-list--auth-unknown",
        "session-list--severity-error",
        "session-list--severity-warning",
        "session-list--severity-info",
    }

    DEFAULT_CSS = """
    SessionList {
        background: $surface;
        color: $foreground;
        height: 1fr;
        overflow-x: hidden;
        overflow-y: auto;
        & > .session-list--header {
            text-style: bold;
            background: $panel;
            color: $foreground;
        }
        & > .session-list--cursor {
            background: $block-cursor-blurred-background;
            color: $block-cursor-blurred-foreground;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .session-list--cursor {
                background: $block-cursor-background;
                color: $block-cursor-foreground;
                text-style: $block-cursor-text-style;
            }
        }
        & > .session-list--auth-ok { color: $success; }
        & > .session-list--auth-failed { color: $error; }
        & > .session-list--auth-unknown { color: $warning; }
        & > .session-list--severity-error { color: $error; text-style: bold; }
        & > .session-list--severity-warning { color: $warning; }
        & > .session-list--severity-info { color: $primary; }
    }
    """

    class Selected(_RowMessage):
        """The cursor moved to a row (or the row under it was replaced by a new version)."""

    class Activated(_RowMessage):
        """A row was opened: Enter on the cursor row, or a double click."""

    def __init__(
        self,
        rows: Sequence[SessionRow] = (),
        *,
        base: float | None = None,
        cache_size: int = 2048,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
        disabled: bool = False,
    ) -> None:
        """Create the list, optionally with initial ``rows`` (see :meth:`set_rows`).

        ``cache_size`` bounds the rendered-row LRU; a few screens' worth is all it needs.
        """
        super().__init__(name=name, id=id, classes=classes, disabled=disabled)
        # Rows by arrival number ("seq"): the unsorted order, and the tie-break of every sort.
        self._arrival: list[SessionRow] = []
        self._seq: dict[str, int] = {}
        # Display order, ascending by (sort value, seq).  When unsorted it *is* _arrival.
        self._rows: list[SessionRow] = self._arrival
        self._sort_column: str | None = None
        self._reverse = False
        self._base: float | None = None
        self._cursor = -1  # display index of the cursor row; -1 when the list is empty
        self._strips: LRUCache[tuple[str, bool, int, int], Strip] = LRUCache(cache_size)
        self._header: tuple[tuple[object, ...], Strip] | None = None
        self._palette_cache: _Palette | None = None
        self._column_widths: tuple[int, tuple[int, ...]] = (-1, ())
        if rows:
            self.set_rows(rows, base)

    # ------------------------------------------------------------------ public API

    @property
    def row_count(self) -> int:
        """Number of rows in the list."""
        return len(self._rows)

    @property
    def sort_column(self) -> str | None:
        """The column the rows are sorted by (a name in ``SORT_KEYS``), or None for arrival order."""
        return self._sort_column

    @property
    def sort_reverse(self) -> bool:
        """True when the sort is descending."""
        return self._reverse

    @property
    def cursor_index(self) -> int:
        """Display index of the cursor row, or -1 when the list is empty."""
        return self._cursor

    @property
    def cursor_row(self) -> SessionRow | None:
        """The row under the cursor, or None when the list is empty."""
        return self._row_at(self._cursor) if self._cursor >= 0 else None

    def row_at(self, index: int) -> SessionRow:
        """The row at display ``index`` (raises IndexError outside ``0 <= index < row_count``)."""
        if not 0 <= index < len(self._rows):
            raise IndexError(index)
        return self._row_at(index)

    def set_rows(self, rows: Sequence[SessionRow], base: float | None = None) -> None:
        """Replace every row.  With ``base``, times show as ``+seconds`` from it.

        The sort order is kept, and so is the cursor when its row's key is still present
        (otherwise it goes to the first row).  Keys should be unique; for a repeated key the
        last row wins, in the place of the first.
        """
        old = self.cursor_row
        arrival = list(rows)
        seq = {row.key: i for i, row in enumerate(arrival)}
        if len(seq) != len(arrival):
            # Duplicate keys would make a row unfindable; keep the last version of each.
            latest = {row.key: row for row in arrival}
            arrival = list(latest.values())
            seq = {key: i for i, key in enumerate(latest)}
        self._arrival = arrival
        self._seq = seq
        self._base = base
        self._rows = self._sorted_rows()
        self._strips.clear()  # same keys may now carry other values, or another base
        cursor = -1
        if arrival:
            cursor = 0
            if old is not None and old.key in seq:
                cursor = self._display_index(self._sort_position(arrival[seq[old.key]]))
        self._cursor = cursor
        self._update_virtual_size()
        self.refresh()
        self._scroll_to_cursor()
        new = self.cursor_row
        if new is not None and new != old:
            # Another row, or a new version of the same one (a detail view should update).
            self.post_message(self.Selected(self, new))

    def append_rows(self, rows: Sequence[SessionRow]) -> None:
        """Add rows (sessions arriving while a capture loads), in O(len(rows)) bisects.

        A row whose key is already present replaces that row (its arrival place is kept).  The
        cursor stays on its row and the scroll offset stays where it is; the screen repaints
        only when a row lands at or above the last visible line.  While sorted, each row is
        bisected into place, except for a batch so big that one re-sort is cheaper.
        """
        if not rows:
            return
        was_empty = not self._rows
        old = self.cursor_row
        if self._sort_column is not None and len(rows) > max(_BULK_APPEND, len(self._rows) // _BULK_FRACTION):
            replaced = self._append_bulk(rows)
            touched_view = True
        else:
            replaced, touched_view = self._append_each(rows)
        if replaced:
            cached = list(self._strips.keys())  # LRUCache is not iterable itself
            for cache_key in cached:
                if cache_key[0] in replaced:
                    self._strips.discard(cache_key)
        if was_empty:
            self._cursor = 0
        self._update_virtual_size()
        if touched_view:
            self.refresh()
        if was_empty:
            self._scroll_to_cursor()
        new = self.cursor_row
        if new is not None and (old is None or old.key in replaced):
            # The first row, or a new version of the row under the cursor (a detail view
            # showing it should update).
            self.post_message(self.Selected(self, new))

    def _append_each(self, rows: Sequence[SessionRow]) -> tuple[set[str], bool]:
        """append_rows one row at a time; returns the replaced keys and whether the view changed."""
        sort_key = SORT_KEYS[self._sort_column] if self._sort_column is not None else None
        cursor_row = self.cursor_row
        cursor_key = cursor_row.key if cursor_row is not None else None
        # Work in ascending positions; the display index is the mirror image when reversed.
        cursor_pos = self._ascending_position(self._cursor) if self._cursor >= 0 else -1
        view_bottom = self.scroll_offset.y + self._page_size()
        touched_view = False
        replaced: set[str] = set()
        arrival, seq, ordered = self._arrival, self._seq, self._rows
        for row in rows:
            old_seq = seq.get(row.key)
            if old_seq is not None:
                # An update of a known session: same arrival number, new values.
                old_row = arrival[old_seq]
                replaced.add(row.key)
                arrival[old_seq] = row
                if sort_key is None:
                    touched_view |= old_seq <= view_bottom
                    continue
                old_pos = self._sort_position(old_row)
                del ordered[old_pos]
                if old_pos < cursor_pos:
                    cursor_pos -= 1
                pos = bisect.bisect_left(ordered, (sort_key(row), old_seq), key=self._order_key)
                ordered.insert(pos, row)
                if row.key == cursor_key:
                    cursor_pos = pos
                elif pos <= cursor_pos:
                    cursor_pos += 1
                touched_view |= self._display_index(min(pos, old_pos)) <= view_bottom
                touched_view |= self._display_index(max(pos, old_pos)) <= view_bottom
                continue
            seq[row.key] = len(arrival)
            arrival.append(row)
            if sort_key is None:
                pos = len(arrival) - 1  # unsorted: _rows is _arrival, already appended
            else:
                # The newest row has the largest seq, so it goes after every equal value.
                pos = bisect.bisect_right(ordered, sort_key(row), key=sort_key)
                ordered.insert(pos, row)
                if pos <= cursor_pos:
                    cursor_pos += 1
            touched_view |= self._display_index(pos) <= view_bottom
        if cursor_pos >= 0:
            self._cursor = self._display_index(cursor_pos)
        return replaced, touched_view

    def _append_bulk(self, rows: Sequence[SessionRow]) -> set[str]:
        """append_rows for a big batch while sorted: add everything, then sort once."""
        cursor_row = self.cursor_row
        replaced: set[str] = set()
        arrival, seq = self._arrival, self._seq
        for row in rows:
            old_seq = seq.get(row.key)
            if old_seq is None:
                seq[row.key] = len(arrival)
                arrival.append(row)
            else:
                arrival[old_seq] = row
                replaced.add(row.key)
        self._rows = self._sorted_rows()
        if cursor_row is not None:
            current = arrival[seq[cursor_row.key]]
            self._cursor = self._display_index(self._sort_position(current))
        return replaced

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by ``column`` (a name in ``SORT_KEYS``).

        With ``reverse=None``, sorting again by the current column toggles the direction and a
        new column starts ascending.  Ties stay in arrival order (reversed when descending).
        The cursor stays on its row, at the same height on screen where possible.
        """
        if column not in SORT_KEYS:
            raise ValueError(f"cannot sort by {column!r}; expected one of {', '.join(SORT_KEYS)}")
        old_cursor = self._cursor
        screen_line = old_cursor - self.scroll_offset.y
        if column == self._sort_column:
            new_reverse = not self._reverse if reverse is None else reverse
            if new_reverse != self._reverse and self._cursor >= 0:
                # Same list read the other way round: no sorting needed.
                self._cursor = len(self._rows) - 1 - self._cursor
            self._reverse = new_reverse
        else:
            row = self.cursor_row
            self._sort_column = column
            self._reverse = bool(reverse)
            self._rows = self._sorted_rows()
            if row is not None:
                self._cursor = self._display_index(self._sort_position(row))
        self.refresh()
        if self._cursor >= 0 and self._cursor != old_cursor:
            self._scroll_to_cursor(top=self._cursor - screen_line)

    def move_cursor(self, index: int) -> None:
        """Put the cursor on display row ``index`` (clamped), scrolling it into view."""
        self._set_cursor(index)

    def select_key(self, key: str) -> bool:
        """Move the cursor to the row with ``key``; False if there is none."""
        seq = self._seq.get(key)
        if seq is None:
            return False
        self._set_cursor(self._display_index(self._sort_position(self._arrival[seq])))
        return True

    # ------------------------------------------------------------------ actions

    def action_cursor_up(self) -> None:
        """Move the cursor up one row."""
        self._set_cursor(self._cursor - 1)

    def action_cursor_down(self) -> None:
        """Move the cursor down one row."""
        self._set_cursor(self._cursor + 1)

    def action_cursor_page_up(self) -> None:
        """Scroll up a page, taking the cursor along (it keeps its height on screen)."""
        page = self._page_size()
        self._set_cursor(self._cursor - page, top=self.scroll_offset.y - page)

    def action_cursor_page_down(self) -> None:
        """Scroll down a page, taking the cursor along (it keeps its height on screen)."""
        page = self._page_size()
        self._set_cursor(self._cursor + page, top=self.scroll_offset.y + page)

    def action_cursor_first(self) -> None:
        """Move the cursor to the first row."""
        self._set_cursor(0)

    def action_cursor_last(self) -> None:
        """Move the cursor to the last row."""
        self._set_cursor(len(self._rows) - 1)

    def action_activate(self) -> None:
        """Post :class:`Activated` for the cursor row."""
        row = self.cursor_row
        if row is not None:
            self.post_message(self.Activated(self, row))

    # ------------------------------------------------------------------ events

    def on_click(self, event: events.Click) -> None:
        """A click on the header sorts by that column; on a row it moves the cursor there."""
        offset = event.get_content_offset(self)
        if offset is None:
            return
        event.stop()
        if offset.y == 0:
            column = self._column_at(offset.x)
            sort = _COLUMNS[column].sort if column is not None else None
            if sort is not None:
                self.sort_by(sort)
            return
        index = self.scroll_offset.y + offset.y - 1
        if 0 <= index < len(self._rows):
            self._set_cursor(index)
            if event.chain == 2:
                self.action_activate()

    def on_resize(self, event: events.Resize) -> None:
        """Keep the cursor on screen when the page gets shorter."""
        self.call_after_refresh(self._scroll_to_cursor)

    def notify_style_update(self) -> None:
        """Styles changed (theme, focus): every cached rendering is stale."""
        super().notify_style_update()
        self._palette_cache = None
        self._header = None
        self._strips.clear()
        self.refresh()

    # ------------------------------------------------------------------ rendering

    def render_line(self, y: int) -> Strip:
        """Line ``y`` of the widget: the header at 0, then the rows from the scroll offset."""
        full_width = self.size.width
        layout_width, widths = self._widths()
        if y == 0:
            return self._render_header(widths, full_width)
        index = self.scroll_offset.y + y - 1
        rows = self._rows
        if index >= len(rows) or index < 0:
            return Strip.blank(full_width, self._palette().base)
        row = rows[index] if not self._reverse else rows[len(rows) - 1 - index]
        is_cursor = index == self._cursor
        cache_key = (row.key, is_cursor, full_width, layout_width)
        strip = self._strips.get(cache_key)
        if strip is None:
            strip = self._render_row(row, widths, is_cursor, full_width)
            self._strips[cache_key] = strip
        return strip

    def _render_row(
        self, row: SessionRow, widths: tuple[int, ...], is_cursor: bool, full_width: int
    ) -> Strip:
        """Format one row into a Strip ``full_width`` cells wide."""
        palette = self._palette()
        base = palette.cursor if is_cursor else palette.base
        texts = (
            format_time(row.time, self._base),
            row.protocol,
            row.device,
            row.server,
            str(row.messages),
            row.lock + row.auth,
            str(row.findings),
            row.summary,
        )
        gap = Segment(" " * _GAP, base)
        segments: list[Segment] = []
        append = segments.append
        for i, (column, text, width) in enumerate(zip(_COLUMNS, texts, widths, strict=True)):
            append(gap)
            align: Align = "right" if i == _TIME and self._base is not None else column.align
            style = base
            if not is_cursor:  # on the cursor row the cursor colours win, as in DataTable
                extra = None
                if i == _AUTH:
                    extra = palette.auth.get(row.auth)
                elif i == _FINDINGS and row.findings:
                    extra = palette.severity.get(row.severity)
                if extra is not None:
                    style = base + extra
            append(Segment(_fit(text, width, align), style))
        strip = Strip(segments).simplify()
        return strip.adjust_cell_length(full_width, base)

    def _render_header(self, widths: tuple[int, ...], full_width: int) -> Strip:
        """The header line, with ▲/▼ on the sorted column."""
        state = (widths, full_width, self._sort_column, self._reverse)
        if self._header is not None and self._header[0] == state:
            return self._header[1]
        style = self._palette().header
        segments: list[Segment] = []
        for column, width in zip(_COLUMNS, widths, strict=True):
            label = column.label
            if column.sort is not None and column.sort == self._sort_column:
                label += "▼" if self._reverse else "▲"
            segments.append(Segment(" " * _GAP, style))
            segments.append(Segment(_fit(label, width, column.align), style))
        strip = Strip(segments).simplify().adjust_cell_length(full_width, style)
        self._header = (state, strip)
        return strip

    def _palette(self) -> _Palette:
        if self._palette_cache is None:
            get = self.get_component_rich_style
            base = self.rich_style
            self._palette_cache = _Palette(
                base=base,
                cursor=base + get("session-list--cursor"),
                header=base + get("session-list--header"),
                # partial: only what the rule sets (the colour), so the row background stays
                auth={
                    "✓": get("session-list--auth-ok", partial=True),
                    "✗": get("session-list--auth-failed", partial=True),
                    "?": get("session-list--auth-unknown", partial=True),
                },
                severity={
                    "error": get("session-list--severity-error", partial=True),
                    "warning": get("session-list--severity-warning", partial=True),
                    "info": get("session-list--severity-info", partial=True),
                },
            )
        return self._palette_cache

    def _widths(self) -> tuple[int, tuple[int, ...]]:
        """The width the columns share, and the width of each column."""
        # The columns fit the area left of the vertical scrollbar, so Summary is not hidden.
        width = self.scrollable_content_region.width
        if self._column_widths[0] != width:
            self._column_widths = (width, _layout(width))
        return self._column_widths

    def _column_at(self, x: int) -> int | None:
        """Index of the column under cell ``x`` of a line, or None for a gap."""
        left = 0
        for i, width in enumerate(self._widths()[1]):
            left += _GAP
            if left <= x < left + width:
                return i
            left += width
        return None

    # ------------------------------------------------------------------ order & cursor

    def _row_at(self, index: int) -> SessionRow:
        rows = self._rows
        return rows[index] if not self._reverse else rows[len(rows) - 1 - index]

    def _display_index(self, position: int) -> int:
        """Display index of ascending ``position`` (they differ only when reversed)."""
        return position if not self._reverse else len(self._rows) - 1 - position

    _ascending_position = _display_index  # the mapping is its own inverse

    def _order_key(self, row: SessionRow) -> tuple[Any, int]:
        """The total order of _rows: sort value, then arrival."""
        assert self._sort_column is not None
        return SORT_KEYS[self._sort_column](row), self._seq[row.key]

    def _sort_position(self, row: SessionRow) -> int:
        """Ascending position of ``row`` (which must be in the list), in O(log n)."""
        seq = self._seq[row.key]
        if self._sort_column is None:
            return seq
        target = (SORT_KEYS[self._sort_column](row), seq)
        return bisect.bisect_left(self._rows, target, key=self._order_key)

    def _sorted_rows(self) -> list[SessionRow]:
        """_arrival in the current sort order (ascending)."""
        if self._sort_column is None:
            return self._arrival
        # list.sort is stable and _arrival is in seq order, so ties end up ordered by seq:
        # exactly the (value, seq) order that _sort_position bisects on.
        return sorted(self._arrival, key=SORT_KEYS[self._sort_column])

    def _page_size(self) -> int:
        """Rows visible at once (the header takes one line)."""
        return max(1, self.scrollable_content_region.height - 1)

    def _update_virtual_size(self) -> None:
        self.virtual_size = Size(_MIN_WIDTH, len(self._rows) + 1)

    def _set_cursor(self, index: int, top: int | None = None) -> None:
        """Move the cursor to display ``index`` (clamped) and scroll so it shows.

        ``top`` asks for a scroll offset (used by page up/down); it is adjusted so the cursor
        stays visible and the list does not scroll past its ends.
        """
        count = len(self._rows)
        if count == 0:
            return
        index = max(0, min(index, count - 1))
        old = self._cursor
        self._cursor = index
        scrolled = self._scroll_to_cursor(top)
        if index == old:
            return
        if not scrolled:
            # Only the two rows that changed need repainting.
            for line in (old, index):
                if line >= 0:
                    self.refresh(Region(0, line - self.scroll_offset.y + 1, self.size.width, 1))
        self.post_message(self.Selected(self, self._row_at(index)))

    def _scroll_to_cursor(self, top: int | None = None) -> bool:
        """Scroll so the cursor row is visible (at ``top`` if given and possible).

        Returns True when the scroll offset changed.  Until the widget has room for a row
        (before its first layout, say) there is nothing to do: on_resize calls this again.
        """
        if self._cursor < 0 or not self.is_mounted or self.scrollable_content_region.height <= 1:
            return False
        page = self._page_size()
        current = self.scroll_offset.y
        target = current if top is None else top
        target = min(max(target, self._cursor - page + 1), self._cursor)
        target = max(0, min(target, len(self._rows) - page))
        if target == current:
            return False
        self.scroll_to(y=target, animate=False, force=True)
        return True
