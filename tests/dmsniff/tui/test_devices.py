"""The device view (D) and the pictures menu (H) of the terminal UI, driven by Textual's Pilot."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from dmsniff.report import msc
from dmsniff.tui.app import DmsniffApp
from dmsniff.tui.devices import DeviceScreen, sparkline
from dmsniff.tui.session_list import SessionList
from tests.dmsniff.tui.test_app import CWMP, OMADM, drive, settle, text_of


def test_sparkline() -> None:
    assert sparkline([]) == ""
    assert sparkline([5, 5, 5]) == "▁▁▁"
    assert sparkline([0, 50, 100]) == "▁▄█"
    assert len(sparkline(range(100), width=24)) == 24


def test_device_view_lists_filters_and_leads_to_a_session() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        await pilot.press("D")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        screen = app.screen
        assert isinstance(screen, DeviceScreen)
        assert [d.id for d in screen.shown] == ["00D09E-HGW-SN0042", "IMEI:493005100592800"]
        identity = text_of(screen.query_one("#device-view-identity").content)  # type: ignore[attr-defined]
        assert "connection request URL" in identity and "http://127.0.0.1:33647/cr" in identity
        params = text_of(screen.query_one("#device-view-parameters").content, 200)  # type: ignore[attr-defined]
        interval = next(line for line in params.splitlines() if "PeriodicInformInterval" in line)
        assert "█▁▁" in interval and "86400 → 300" in interval  # the value over time, and its change
        assert screen.apply("proto:dm finding:error")
        assert [d.id for d in screen.shown] == ["IMEI:493005100592800"]
        tree = text_of(screen.query_one("#device-view-tree").content, 200)  # type: ignore[attr-defined]
        assert "DevInfo" in tree and "Mod = loopback-phone" in tree
        assert "changes the device accepted" in tree and "./Settings/Volume" in tree
        assert not screen.apply("colour:red")
        status = text_of(screen.query_one("#device-status").content)  # type: ignore[attr-defined]
        assert "filter error" in status
        assert screen.apply("imei")  # a bare word: the device's id
        assert len(screen.shown) == 1
        await pilot.press("2")  # type: ignore[attr-defined]  # the Sessions tab
        sessions = screen.query_one("#device-sessions")
        sessions.focus()
        sessions.highlighted = 2  # type: ignore[attr-defined]
        await pilot.press("enter")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert not isinstance(app.screen, DeviceScreen)
        assert app.current is not None and app.current.id == "D1-35"
        assert app.query_one(SessionList).cursor_row.key == "D1-35"  # type: ignore[union-attr]

    drive(DmsniffApp([CWMP, OMADM]), steps)


def test_pictures_menu_writes_charts_and_pages(tmp_path: Path) -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        await pilot.press("j")  # type: ignore[attr-defined]
        await settle(pilot)
        assert app.current is not None and app.current.id == "S55"
        for down in range(8):  # each entry of the menu in turn
            await pilot.press("H")  # type: ignore[attr-defined]
            await pilot.pause()  # type: ignore[attr-defined]
            assert type(app.screen).__name__ == "PicturesScreen"
            await pilot.press(*["j"] * down, "enter")  # type: ignore[attr-defined]
            await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]

    app = DmsniffApp([CWMP], export_dir=tmp_path)
    drive(app, steps)
    s55 = app.by_id["S55"]
    labels = [a.label for a in msc.chart(s55).arrows]
    mermaid = (tmp_path / "dmsniff-S55.mmd").read_text(encoding="utf-8")
    assert mermaid.startswith("sequenceDiagram") and "Fault 9001" in mermaid
    assert (tmp_path / "dmsniff-S55.puml").read_text(encoding="utf-8").startswith("@startuml")
    svg = ET.parse(tmp_path / "dmsniff-S55.svg").getroot()
    shown = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "label"]
    assert shown == labels
    page = (tmp_path / "dmsniff-S55.html").read_text(encoding="utf-8")
    assert 'data-single="S55"' in page
    report = (tmp_path / "dmsniff-report.html").read_text(encoding="utf-8")
    assert len(re.findall(r'id="s:S\d+"', report)) == 3  # the whole capture (the last entry written)
    har = json.loads((tmp_path / "dmsniff-S55.har").read_text(encoding="utf-8"))
    assert [e["_dmsniff"]["transaction"] for e in har["log"]["entries"]] == [
        "C42.1", "C52.1", "C52.2", "C52.3", "C52.4"]  # its connection request, then its own
    listed = json.loads((tmp_path / "dmsniff-sessions.har").read_text(encoding="utf-8"))
    # Every exchange of the sessions listed (all three): all the capture's but C30.1, the firmware
    # download that S4's Download asked for, which is no session's message.
    assert len(listed["log"]["entries"]) == 13
