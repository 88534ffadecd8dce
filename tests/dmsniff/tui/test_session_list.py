"""The sessions list widget, driven through Textual's Pilot in a headless app.

pytest-asyncio is not a dependency, so each test runs its coroutine with asyncio.run().
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import pytest
from textual import events
from textual.app import App, ComposeResult
from textual.pilot import Pilot

from dmsniff.tui import session_list as sl
from dmsniff.tui.session_list import SORT_KEYS, SessionList, SessionRow, format_time

SIZE = (100, 12)  # 12 lines: the header and a page of 11 rows
PAGE = SIZE[1] - 1
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


def make_row(i: int, **changes: Any) -> SessionRow:
    """Row ``i``: times rise with i; messages repeat, so sorting by it has ties."""
    values: dict[str, Any] = {
        "key": f"S{i}",
        "time": T0 + i * 1.5,
        "protocol": "omadm" if i % 3 == 0 else "cwmp",
        "device": f"dev-{i:03d}",
        "server": "acs.example.net",
        "messages": (i * 7) % 13,
        "summary": f"Inform(1 BOOT) → InformResponse → GetParameterValues #{i} → 204",
        "auth": "✓✗?"[i % 3],
        "findings": i % 4,
        "severity": ("", "info", "warning", "error")[i % 4],
    }
    values.update(changes)
    return SessionRow(**values)


def make_rows(count: int) -> list[SessionRow]:
    return [make_row(i) for i in range(count)]


class ListApp(App[None]):
    """A screen with only the list, recording the messages it posts."""

    def __init__(self, rows: Sequence[SessionRow], base: float | None = None) -> None:
        super().__init__()
        self.rows = rows
        self.base = base
        self.selected: list[str] = []
        self.activated: list[str] = []

    def compose(self) -> ComposeResult:
        yield SessionList()

    def on_mount(self) -> None:
        widget = self.query_one(SessionList)
        widget.focus()
        widget.set_rows(self.rows, self.base)

    def on_session_list_selected(self, message: SessionList.Selected) -> None:
        self.selected.append(message.row.key)

    def on_session_list_activated(self, message: SessionList.Activated) -> None:
        self.activated.append(message.row.key)


Scenario = Callable[[ListApp, Pilot[None], SessionList], Awaitable[None]]


def run(
    scenario: Scenario,
    rows: Sequence[SessionRow] = (),
    *,
    base: float | None = None,
    size: tuple[int, int] = SIZE,
) -> None:
    """Run ``scenario`` against a fresh ListApp holding ``rows``."""

    async def main() -> None:
        app = ListApp(rows, base)
        async with app.run_test(size=size) as pilot:
            await pilot.pause()
            await scenario(app, pilot, app.query_one(SessionList))

    asyncio.run(main())


def screen_lines(widget: SessionList) -> list[str]:
    """The text of every line the widget shows."""
    return [widget.render_line(y).text for y in range(widget.size.height)]


def displayed_keys(widget: SessionList) -> list[str]:
    return [widget.row_at(i).key for i in range(widget.row_count)]


def header_x(widget: SessionList, label: str) -> int:
    return widget.render_line(0).text.index(label)


# ---------------------------------------------------------------- keys and mouse


def test_first_row_selected_and_keys_move_the_cursor() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        assert widget.row_count == 30
        assert widget.cursor_index == 0
        assert widget.cursor_row is not None and widget.cursor_row.key == "S0"
        assert app.selected == ["S0"]

        await pilot.press("j")
        assert widget.cursor_index == 1
        await pilot.press("down")
        assert widget.cursor_index == 2
        await pilot.press("k")
        assert widget.cursor_index == 1
        await pilot.press("up", "up", "up")  # stops at the first row
        assert widget.cursor_index == 0

        await pilot.press("G")
        assert widget.cursor_index == 29
        assert widget.scroll_offset.y == 30 - PAGE  # last row on the last line
        await pilot.press("j")
        assert widget.cursor_index == 29
        await pilot.press("g")
        assert widget.cursor_index == 0
        assert widget.scroll_offset.y == 0
        await pilot.press("end")
        assert widget.cursor_index == 29
        await pilot.press("home")
        assert widget.cursor_index == 0

        await pilot.pause()
        assert app.selected == ["S0", "S1", "S2", "S1", "S0", "S29", "S0", "S29", "S0"]

    run(scenario, make_rows(30))


def test_page_keys_move_by_a_page() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.press("j", "j")
        await pilot.press("pagedown")
        assert widget.cursor_index == 2 + PAGE
        assert widget.scroll_offset.y == PAGE  # the cursor kept its line on screen
        await pilot.press("ctrl+f")
        assert widget.cursor_index == 2 + 2 * PAGE
        assert widget.scroll_offset.y == 30 - PAGE  # cannot scroll past the end
        await pilot.press("pagedown")
        assert widget.cursor_index == 29
        await pilot.press("pageup")
        assert widget.cursor_index == 29 - PAGE
        await pilot.press("ctrl+b", "ctrl+b")
        assert widget.cursor_index == 0
        assert widget.scroll_offset.y == 0

    run(scenario, make_rows(30))


def test_enter_and_double_click_post_activated() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.press("j", "j", "enter")
        await pilot.pause()
        assert app.activated == ["S2"]
        await pilot.double_click(SessionList, offset=(5, 5))  # line 5 = row 4
        await pilot.pause()
        assert app.activated == ["S2", "S4"]
        assert widget.cursor_index == 4

    run(scenario, make_rows(30))


def test_click_on_a_row_selects_it() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.click(SessionList, offset=(20, 3))
        await pilot.pause()
        assert widget.cursor_index == 2
        assert app.selected[-1] == "S2"
        assert app.activated == []
        # Clicks map through the scroll offset.
        await pilot.press("pagedown")
        top = widget.scroll_offset.y
        await pilot.click(SessionList, offset=(20, 1))
        assert widget.cursor_index == top

    run(scenario, make_rows(30))


def test_click_below_the_last_row_does_nothing() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.press("j")
        await pilot.click(SessionList, offset=(20, 8))
        assert widget.cursor_index == 1

    run(scenario, make_rows(5))


def test_mouse_wheel_scrolls_without_moving_the_cursor() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        # Pilot has no wheel helper; this is how its click() posts mouse events.
        for _ in range(3):
            await pilot._post_mouse_events([events.MouseScrollDown], SessionList, offset=(20, 5))
        assert widget.scroll_offset.y > 0
        assert widget.cursor_index == 0
        assert widget.render_line(0).text.startswith(" Time")  # the header stays

    run(scenario, make_rows(30))


def test_clicking_the_msgs_header_sorts_and_reverses() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.press("j", "j", "j")  # S3, 8 messages
        x = header_x(widget, "Msgs")
        await pilot.click(SessionList, offset=(x, 0))
        assert widget.sort_column == "messages"
        assert not widget.sort_reverse
        messages = [widget.row_at(i).messages for i in range(widget.row_count)]
        assert messages == sorted(messages)
        assert widget.cursor_row is not None and widget.cursor_row.key == "S3"
        assert "Msgs▲" in widget.render_line(0).text

        await pilot.click(SessionList, offset=(x, 0))
        assert widget.sort_reverse
        messages = [widget.row_at(i).messages for i in range(widget.row_count)]
        assert messages == sorted(messages, reverse=True)
        assert widget.cursor_row is not None and widget.cursor_row.key == "S3"
        assert "Msgs▼" in widget.render_line(0).text
        # The selected row is on screen.
        top = widget.scroll_offset.y
        assert top <= widget.cursor_index < top + PAGE

        # Summary does not sort; Time does.
        await pilot.click(SessionList, offset=(header_x(widget, "Summary"), 0))
        assert widget.sort_column == "messages"
        await pilot.click(SessionList, offset=(2, 0))
        assert widget.sort_column == "time"
        assert displayed_keys(widget) == [f"S{i}" for i in range(30)]

    run(scenario, make_rows(30))


def test_sort_keeps_the_selected_row_and_ties_in_arrival_order() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        assert widget.select_key("S17")
        for column in SORT_KEYS:
            widget.sort_by(column)
            key = SORT_KEYS[column]
            rows = [widget.row_at(i) for i in range(widget.row_count)]
            original = make_rows(40)
            assert rows == sorted(original, key=key)  # stable: ties stay in arrival order
            assert widget.cursor_row is not None and widget.cursor_row.key == "S17"
            widget.sort_by(column)  # again: descending, the same list read backwards
            assert [widget.row_at(i) for i in range(widget.row_count)] == rows[::-1]
            assert widget.cursor_row is not None and widget.cursor_row.key == "S17"
        widget.sort_by("messages", reverse=False)
        widget.sort_by("messages", reverse=False)  # explicit direction: no toggle
        assert not widget.sort_reverse
        with pytest.raises(ValueError):
            widget.sort_by("summary")

    run(scenario, make_rows(40))


# ---------------------------------------------------------------- data updates


def test_append_rows_while_sorted_keeps_order_and_cursor() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        widget.sort_by("messages")
        assert widget.select_key("S9")
        more = [make_row(i) for i in range(20, 60)]
        widget.append_rows(more[:1])
        widget.append_rows(more[1:])
        everything = make_rows(20) + more
        assert [widget.row_at(i) for i in range(widget.row_count)] == sorted(
            everything, key=SORT_KEYS["messages"]
        )
        assert widget.cursor_row is not None and widget.cursor_row.key == "S9"

        widget.sort_by("messages")  # descending
        widget.append_rows([make_row(i) for i in range(60, 75)])
        everything += [make_row(i) for i in range(60, 75)]
        assert [widget.row_at(i) for i in range(widget.row_count)] == sorted(
            everything, key=SORT_KEYS["messages"]
        )[::-1]
        assert widget.cursor_row is not None and widget.cursor_row.key == "S9"
        assert widget.row_count == 75
        await pilot.pause()
        assert app.selected[-1] == "S9"

    run(scenario, make_rows(20))


def test_append_rows_unsorted_goes_to_the_end_and_keeps_the_scroll() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.press("pagedown")
        top, cursor = widget.scroll_offset.y, widget.cursor_index
        widget.append_rows([make_row(i) for i in range(30, 50)])
        await pilot.pause()
        assert displayed_keys(widget) == [f"S{i}" for i in range(50)]
        assert (widget.scroll_offset.y, widget.cursor_index) == (top, cursor)
        assert widget.virtual_size.height == 51  # rows + header
        await pilot.press("G")
        assert widget.cursor_row is not None and widget.cursor_row.key == "S49"

    run(scenario, make_rows(30))


def test_append_rows_with_a_known_key_replaces_the_row() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        widget.sort_by("messages")
        assert widget.select_key("S4")
        widget.append_rows([make_row(4, messages=100, summary="updated"), make_row(2, messages=-1)])
        assert widget.row_count == 10
        assert widget.row_at(0).key == "S2"
        assert widget.row_at(9).key == "S4"
        assert widget.cursor_row is not None and widget.cursor_row.summary == "updated"
        await pilot.pause()
        assert any("updated" in line for line in screen_lines(widget))  # not a stale rendering
        assert app.selected[-2:] == ["S4", "S4"]  # the new version of the cursor row is announced
        widget.sort_by("time")
        assert widget.row_at(4).messages == 100

    run(scenario, make_rows(10))


def test_append_a_big_batch_while_sorted_resorts_once() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        widget.sort_by("device", reverse=True)
        assert widget.select_key("S7")
        batch = [make_row(i, device=f"dev-{(i * 37) % 5000:04d}") for i in range(100, 3000)]
        batch.append(make_row(7, device="dev-9999"))  # moves the cursor row to the top
        assert len(batch) > sl._BULK_APPEND
        widget.append_rows(batch)
        expected = {row.key: row for row in make_rows(100) + batch}
        rows = [widget.row_at(i) for i in range(widget.row_count)]
        assert rows == sorted(expected.values(), key=SORT_KEYS["device"], reverse=True)
        assert widget.cursor_index == 0
        assert widget.cursor_row == make_row(7, device="dev-9999")

    run(scenario, make_rows(100))


def test_append_rows_to_an_empty_list_selects_the_first_row() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        assert widget.cursor_row is None
        await pilot.press("j", "enter", "G")  # nothing to move to or open
        assert app.activated == []
        widget.append_rows(make_rows(3))
        await pilot.pause()
        assert widget.cursor_index == 0
        assert app.selected == ["S0"]

    run(scenario)


def test_set_rows_keeps_the_cursor_key_and_base_shows_offsets() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        assert widget.select_key("S12")
        assert not widget.select_key("nope")
        widget.set_rows(make_rows(30)[5:], base=T0)
        assert widget.cursor_row is not None and widget.cursor_row.key == "S12"
        assert widget.cursor_index == 7
        await pilot.pause()
        assert any(line.split()[:1] == ["+18.000"] for line in screen_lines(widget))
        widget.set_rows(make_rows(30)[13:])  # S12 is gone: back to the first row
        assert widget.cursor_row is not None and widget.cursor_row.key == "S13"
        widget.set_rows([make_row(1), make_row(2), make_row(1, device="again")])
        assert widget.row_count == 2  # a repeated key: the last version wins
        assert widget.select_key("S1") and widget.cursor_row is not None
        assert widget.cursor_row.device == "again"
        widget.set_rows([])
        assert widget.cursor_row is None and widget.row_count == 0

    run(scenario, make_rows(30))


def test_rows_given_to_the_constructor_and_resizes_keep_the_cursor_visible() -> None:
    class Preloaded(App[None]):
        # Not a ListApp: Textual would run ListApp.on_mount too, and its set_rows.
        def __init__(self) -> None:
            super().__init__()
            self.selected: list[str] = []

        def compose(self) -> ComposeResult:
            yield SessionList(make_rows(40), base=T0)

        def on_session_list_selected(self, message: SessionList.Selected) -> None:
            self.selected.append(message.row.key)

    async def main() -> None:
        app = Preloaded()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            widget = app.query_one(SessionList)
            assert app.selected == ["S0"]
            assert widget.render_line(1).text.split()[:2] == ["+0.000", "omadm"]
            widget.move_cursor(35)
            await pilot.resize_terminal(100, 6)
            await pilot.pause()
            top = widget.scroll_offset.y
            assert top <= 35 < top + 5
            await pilot.resize_terminal(100, 30)
            await pilot.pause()
            assert widget.scroll_offset.y == 40 - 29  # no blank lines under the last row

    asyncio.run(main())


# ---------------------------------------------------------------- rendering


def test_visible_lines_show_header_and_rows() -> None:
    long_summary = "Inform(1 BOOT) → InformResponse → " + " → ".join(["GetParameterValues"] * 20) + " → 204"
    rows = [make_row(0, summary=long_summary, device="-"), *make_rows(30)[1:]]

    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        lines = screen_lines(widget)
        header = lines[0]
        for label in ("Time", "Proto", "Device", "Server", "Msgs", "Auth", "Findings", "Summary"):
            assert label in header
        assert header.index("Time") < header.index("Proto") < header.index("Summary")
        first = lines[1]
        assert first.startswith(" 22:13:20.000 omadm ")
        assert " - " in first and "acs.example.net" in first
        assert first.rstrip().endswith("…")  # the long summary is cut to the column
        assert len(first) == widget.size.width
        assert "#1 → 204" in lines[2] and "22:13:21.500" in lines[2]
        # The same text reaches the screen.
        shot = app.export_screenshot()
        assert "22:13:21.500" in shot and "Findings" in shot

        await pilot.press("pagedown", "pagedown")
        lines = screen_lines(widget)
        assert lines[0] == header  # the header does not scroll
        top = widget.scroll_offset.y
        assert f"#{top} → 204" in lines[1]

    run(scenario, rows, size=(160, 12))


def test_cells_are_styled_from_component_classes() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        def style_of(y: int, text: str) -> Any:
            return next(seg.style for seg in widget.render_line(y) if text in seg.text)

        auth_ok = widget.get_component_rich_style("session-list--auth-ok", partial=True)
        auth_bad = widget.get_component_rich_style("session-list--auth-failed", partial=True)
        error = widget.get_component_rich_style("session-list--severity-error", partial=True)
        cursor = widget.get_component_rich_style("session-list--cursor")
        header = widget.get_component_rich_style("session-list--header")
        assert style_of(2, "✗").color == auth_bad.color  # row 1
        assert style_of(4, "✓").color == auth_ok.color  # row 3
        assert style_of(4, "  3").color == error.color  # row 3: 3 findings, worst an error
        assert style_of(1, "omadm").bgcolor == cursor.bgcolor  # row 0 has the cursor
        assert style_of(2, "cwmp").bgcolor != cursor.bgcolor
        assert style_of(0, "Time").bgcolor == header.bgcolor
        await pilot.press("j")
        assert style_of(2, "cwmp").bgcolor == cursor.bgcolor
        assert style_of(1, "omadm").bgcolor != cursor.bgcolor

    run(scenario, make_rows(30))


def test_control_characters_never_reach_the_terminal() -> None:
    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        text = widget.render_line(1).text
        assert "\x1b" not in text and "\n" not in text
        assert "dev\ufffd[2J" in text

    run(scenario, [make_row(0, device="dev\x1b[2J", summary="a\nb")])


def test_format_time_fit_and_layout() -> None:
    assert format_time(T0 + 0.25, None) == "22:13:20.250"
    assert format_time(T0 + 12.3456, T0) == "+12.346"
    assert format_time(T0 - 0.5, T0) == "-0.500"
    assert sl._fit("abcdef", 4, "left") == "abc…"
    assert sl._fit("ab", 4, "right") == "  ab"
    assert sl._fit("ab", 5, "center") == " ab  "
    assert sl._fit("日本語テキスト", 6, "left") == "日本 …"  # wide characters count double
    for width in (40, 80, 158, 300):
        widths = sl._layout(width)
        assert len(widths) == len(sl._COLUMNS)
        if width >= sl._MIN_WIDTH:
            assert sum(widths) + len(widths) * sl._GAP == width


def test_scrolling_formats_only_the_rows_that_come_into_view(monkeypatch: pytest.MonkeyPatch) -> None:
    formatted: list[str] = []
    original = SessionList._render_row

    def counting(self: SessionList, row: SessionRow, *args: Any) -> Any:
        formatted.append(row.key)
        return original(self, row, *args)

    monkeypatch.setattr(SessionList, "_render_row", counting)

    async def scenario(app: ListApp, pilot: Pilot[None], widget: SessionList) -> None:
        await pilot.pause()
        formatted.clear()
        await pilot.press("pagedown")
        await pilot.pause()
        # A page of new rows, plus the old cursor row's plain rendering at most.
        assert PAGE <= len(formatted) <= PAGE + 2
        formatted.clear()
        await pilot.press("pageup")
        await pilot.pause()
        assert len(formatted) <= 2  # back to rows already rendered: only the cursor changed
        formatted.clear()
        widget.append_rows([make_row(i) for i in range(1000, 1100)])  # all below the view
        await pilot.pause()
        assert formatted == []

    run(scenario, make_rows(1000))


# ---------------------------------------------------------------- scale


def test_200k_rows_load_paint_and_page_quickly() -> None:
    rows = [make_row(i) for i in range(200_000)]
    timings: dict[str, float] = {}

    async def main() -> None:
        app = ListApp(())
        async with app.run_test(size=(160, 50)) as pilot:
            widget = app.query_one(SessionList)
            t0 = time.perf_counter()
            widget.set_rows(rows)
            timings["set_rows"] = time.perf_counter() - t0
            await pilot.pause()
            timings["set_rows + first render"] = time.perf_counter() - t0
            assert "22:13:20.000" in widget.render_line(1).text
            t0 = time.perf_counter()
            for _ in range(20):
                await pilot.press("pagedown")
            await pilot.pause()
            timings["20 x pagedown"] = time.perf_counter() - t0
            assert widget.cursor_index == 20 * 49
            widget.sort_by("messages")
            t0 = time.perf_counter()
            widget.sort_by("device")
            timings["sort 200k by device"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            widget.append_rows([make_row(i) for i in range(200_000, 201_000)])
            timings["append 1000 rows, sorted"] = time.perf_counter() - t0
            assert widget.row_count == 201_000
            assert widget.cursor_row is not None and widget.cursor_row.key == "S980"
            await pilot.press("G")
            assert widget.cursor_index == 200_999

    asyncio.run(main())
    print()
    for label, seconds in timings.items():
        print(f"200k rows: {label}: {seconds * 1000:.1f} ms")
