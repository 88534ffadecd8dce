"""The terminal UI driven by Textual's Pilot over our captures and the public corpus."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input

from dmsniff.cli import main
from dmsniff.tui.app import SHOW_DELAY, DmsniffApp
from dmsniff.tui.session_list import SessionList
from dmsniff.verify.secrets import Secret, Secrets
from tests.conftest import CAPTURES, CORPUS

CWMP = str(CAPTURES / "cwmp_loopback.pcap")
OMADM = str(CAPTURES / "omadm_loopback.pcap")
GENIEACS = str(CORPUS / "pcap" / "genieacs_sim_basic_session.pcap")
SIZE = (160, 48)


def text_of(renderable: object, width: int = 150) -> str:
    console = Console(width=width, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


async def loaded(app: DmsniffApp, pilot: object) -> None:
    """Wait (bounded) until the worker has read every capture and the sessions are in the list."""
    deadline = time.monotonic() + 30
    while not app.progress.done and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await pilot.pause()  # type: ignore[attr-defined]
    app._show_progress()  # the status line's timer may not have ticked yet
    await pilot.pause()  # type: ignore[attr-defined]


async def settle(pilot: object) -> None:
    """After moving the sessions cursor: the detail follows within SHOW_DELAY (rapid moves are merged).

    The delay is a timer, which a busy machine may run late: wait until the detail shows
    the cursor's session, not for a fixed time.
    """
    app: DmsniffApp = pilot.app  # type: ignore[attr-defined]
    await pilot.pause(SHOW_DELAY + 0.05)  # type: ignore[attr-defined]
    row = app.query_one(SessionList).cursor_row
    deadline = time.monotonic() + 10
    while row is not None and (app.current is None or app.current.id != row.key):
        assert time.monotonic() < deadline, f"the detail never showed {row.key}"
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    await pilot.pause()  # type: ignore[attr-defined]


def drive(app: DmsniffApp, steps: Callable[[DmsniffApp, object], Awaitable[None]]) -> None:
    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await loaded(app, pilot)
            await steps(app, pilot)

    asyncio.run(main())


def timeline_lines(app: DmsniffApp) -> list[str]:
    tl = app.query_one("#timeline")
    return [text_of(tl.get_option_at_index(i).prompt).strip() for i in range(tl.option_count)]  # type: ignore[attr-defined]


def test_sessions_timeline_and_decoded_detail() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 3
        assert app.current is not None and app.current.id == "S4"  # the first session is shown at once
        await pilot.press("j")  # type: ignore[attr-defined]
        await settle(pilot)
        assert app.current.id == "S55"
        lines = timeline_lines(app)
        assert len(lines) == 9  # the connection request, then 8 messages
        assert "HTTP connection request → 200" in lines[0]
        assert lines[1].split()[1:3] == ["CPE", "─"] and "Inform(6 CONNECTION REQUEST, 7 TRANSFER" in lines[1]
        fault = next(i for i, line in enumerate(lines) if "Fault 9001" in line)
        assert "◀" not in lines[fault]  # the CPE's answer goes to the ACS
        assert " !" in lines[fault]  # marked: the cwmp.cpe-fault finding names it
        tl = app.query_one("#timeline")
        tl.highlighted = fault  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        decoded = text_of(app.query_one("#view-decoded").content)  # type: ignore[attr-defined]
        assert "9001" in decoded and "Request denied" in decoded
        http = text_of(app.query_one("#view-http").content)  # type: ignore[attr-defined]
        assert http.startswith("POST /acs HTTP/1.1")
        xml = text_of(app.query_one("#view-xml").content)  # type: ignore[attr-defined]
        assert "<FaultCode>9001</FaultCode>" in xml

    drive(DmsniffApp([CWMP]), steps)


def test_filter_narrows_the_list_and_reports_errors() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 5  # 3 CWMP + 2 genieacs-sim
        assert app.apply_filter("fault:9001")
        assert lst.row_count == 1  # our Reboot refused with 9001
        assert app.apply_filter("fault:900*")
        assert lst.row_count == 3  # and genieacs-sim's two Reboots refused with 9000
        assert app.apply_filter("fault:9001 proto:cwmp device:00D09E")
        assert lst.row_count == 1 and lst.cursor_row is not None and lst.cursor_row.key == "S55"
        assert not app.apply_filter("colour:red")
        status = text_of(app.query_one("#status").content)  # type: ignore[attr-defined]
        assert "filter error" in status
        assert not app.apply_filter("(" * 100_000)  # pasted, say: an error, not a crash of the screen
        status = text_of(app.query_one("#status").content)  # type: ignore[attr-defined]
        assert "filter error at column 65: nested too deep" in status
        await pilot.press("f")  # type: ignore[attr-defined]
        await pilot.press(*"finding:error", "enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert lst.row_count == 1  # genieacs-sim's second session (TransferComplete without its events)

    drive(DmsniffApp([CWMP, GENIEACS]), steps)


def test_the_screen_opens_with_the_filter_of_minus_y() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 3  # the Reboot refused with 9001, genieacs-sim's two refused with 9000
        assert app.query_one("#filter", Input).value == "fault:900*" and app.filter_text == "fault:900*"
        assert app.apply_filter("")
        assert lst.row_count == 5

    drive(DmsniffApp([CWMP, GENIEACS], display_filter="fault:900*"), steps)


def test_a_bad_minus_y_filter_is_one_line_before_the_screen_opens(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tui", "-Y", "colour:red", str(CWMP)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dmsniff: error: -Y 'colour:red': unknown field 'colour'") and err.count("\n") == 1


def test_omadm_packages_auth_and_findings_panel() -> None:
    secrets = Secrets(
        [Secret("omadm_client", "dmuser", "dmpass"), Secret("omadm_server", "dmsniff-dm", "srvpass")]
    )

    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert [lst.cursor_row.key] == ["D5"]  # type: ignore[union-attr]
        lines = timeline_lines(app)
        assert "#0 Notification 1A2B" in lines[0] and "◀" in lines[0]
        assert "#2 401 Chal" in lines[2] and "✗" in lines[1] and "✓" in lines[3]
        auth = text_of(app.query_one("#view-auth").content)  # type: ignore[attr-defined]
        assert "syncml-basic" in auth and "password mismatch" in auth and "syncml-md5" in auth
        app.query_one(SessionList).select_key("D35")
        await settle(pilot)
        await pilot.press("7")  # type: ignore[attr-defined]
        findings = app.query_one("#findings")
        assert findings.option_count == 9  # type: ignore[attr-defined]
        findings.focus()
        findings.highlighted = 0  # type: ignore[attr-defined]
        await pilot.press("enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        tl = app.query_one("#timeline")
        step = app.current_steps[tl.highlighted]  # type: ignore[attr-defined, index]
        assert step.message is not None and step.message.frame == 31  # the notification Pkg#1 mismatches

    drive(DmsniffApp([OMADM], secrets=secrets), steps)


def test_a_late_detail_timer_shows_the_row_under_the_cursor() -> None:
    # A stopped Textual timer can still fire once when its callback is already queued.  Seen
    # in CI: the detail timer set for D5 fired after the cursor had gone on to D35 (shown at
    # once), and the detail went back to D5 while the cursor stayed on D35.
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        queued: list[Callable[[], object]] = []
        real_set_timer = app.set_timer

        def capture(delay: float, callback: Callable[[], object], **kwargs: object) -> object:
            queued.append(callback)
            return real_set_timer(delay, lambda: None)

        app.set_timer = capture  # type: ignore[assignment, method-assign]
        await pilot.pause(SHOW_DELAY + 0.05)  # type: ignore[attr-defined]
        lst.select_key("D35")  # shown at once: nothing shown for SHOW_DELAY
        lst.select_key("D5")  # too soon after: left to the timer
        await pilot.pause()  # type: ignore[attr-defined]
        assert app.current is not None and app.current.id == "D35" and len(queued) == 1
        await pilot.pause(SHOW_DELAY + 0.05)  # type: ignore[attr-defined]
        lst.select_key("D35")  # the cursor moves on, shown at once, the timer "stopped"
        await pilot.pause()  # type: ignore[attr-defined]
        queued[0]()  # ... and fires anyway
        assert app.current is not None and app.current.id == "D35"

    drive(DmsniffApp([OMADM]), steps)


def test_export_pcap_is_read_back_by_tshark(tmp_path: Path) -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        await pilot.press("j")  # type: ignore[attr-defined]
        await settle(pilot)
        await pilot.press("P", "J", "B")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]

    drive(DmsniffApp([CWMP], export_dir=tmp_path), steps)
    pcap = tmp_path / "dmsniff-S55.pcap"
    out = subprocess.run(
        [
            "tshark",
            "-r",
            str(pcap),
            "-o",
            "tcp.try_heuristic_first:TRUE",
            "-Y",
            "http.request",
            "-T",
            "fields",
            "-e",
            "http.request.method",
            "-e",
            "http.request.uri",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split("\n")
    assert [line for line in out if line] == ["GET\t/cr"] + ["POST\t/acs"] * 4
    assert (tmp_path / "dmsniff-S55.json").stat().st_size > 0
    assert len(list((tmp_path / "dmsniff-S55").iterdir())) >= 6


def test_help_screen() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        await pilot.press("question_mark")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert type(app.screen).__name__ != "HelpScreen"

    drive(DmsniffApp([CWMP]), steps)


def test_unreadable_capture_is_shown_not_raised(tmp_path: Path) -> None:
    bad = tmp_path / "x.pcap"
    bad.write_bytes(b"not a capture at all")

    async def steps(app: DmsniffApp, pilot: object) -> None:
        status = text_of(app.query_one("#status").content)  # type: ignore[attr-defined]
        assert "done" in status and "x.pcap" in status
        assert app.query_one(SessionList).row_count == 0

    drive(DmsniffApp([str(bad)]), steps)


def test_search_and_next_match() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        await pilot.press("slash", *"imei", "enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert lst.cursor_row is not None and lst.cursor_row.key == "D1-5"
        await pilot.press("n")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert lst.cursor_row.key == "D1-22"
        assert app.query_one("#filter").value == ""  # type: ignore[attr-defined]  # the filter is untouched
        assert lst.row_count == 6

    drive(DmsniffApp([CWMP, OMADM]), steps)


def test_timeline_redrawn_for_a_wider_terminal() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        tl = app.query_one("#timeline")
        tl.highlighted = 3  # type: ignore[attr-defined]
        before = [len(line) for line in timeline_lines(app)]
        await pilot.resize_terminal(220, 48)  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        after = [len(line) for line in timeline_lines(app)]
        assert len(after) == len(before) and all(a > b for a, b in zip(after, before, strict=True))
        assert tl.highlighted == 3  # type: ignore[attr-defined]

    drive(DmsniffApp([CWMP]), steps)


def test_vim_keys_move_in_the_timeline() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        await pilot.press("enter")  # type: ignore[attr-defined]  # sessions -> timeline
        await pilot.pause()  # type: ignore[attr-defined]
        tl = app.query_one("#timeline")
        assert app.focused is tl
        await pilot.press("j", "j")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert tl.highlighted == 2  # type: ignore[attr-defined]
        await pilot.press("G")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert tl.highlighted == tl.option_count - 1  # type: ignore[attr-defined]
        decoded = text_of(app.query_one("#view-decoded").content)  # type: ignore[attr-defined]
        assert decoded.startswith("empty  204 No Content")
        await pilot.press("k", "escape")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert app.focused is app.query_one(SessionList)

    drive(DmsniffApp([CWMP]), steps)


def test_a_fiddler_archive_opens_as_its_capture_does(tmp_path: Path) -> None:
    from tests.dmsniff.logs.test_saz import saz_of

    path = tmp_path / "cpe.saz"
    path.write_bytes(saz_of(Path(CWMP))[0])

    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 3  # as the capture's
        await pilot.press("j")  # type: ignore[attr-defined]
        await settle(pilot)
        lines = timeline_lines(app)
        assert any("Inform(6 CONNECTION REQUEST, 7 TRANSFER" in line for line in lines)
        assert any("Fault 9001" in line for line in lines)

    drive(DmsniffApp([str(path)]), steps)
