"""The timeline's lines and the detail views, as text, without the app."""

from __future__ import annotations

from rich.console import Console

from dmsniff.tui import views
from tests.dmsniff.sessions.playbook import Playbook, inform, rpc


def _text(renderable: object) -> str:
    console = Console(width=140, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(renderable)
    return console.export_text()


def test_challenge_and_retry_are_visible_as_such() -> None:
    b = Playbook()
    b.post(inform(), status=401)
    b.post(inform(), answer=rpc("InformResponse"))
    b.post(b"", status=204)
    (s,) = b.end().sessions
    steps = views.steps(s)
    lines = [views.step_line(s, st, 100, views.finding_frames(s)).plain for st in steps]
    assert "401 challenge" in lines[1] and "◀" in lines[1]
    assert "↻ Inform(1 BOOT)" in lines[2] and "▶" in lines[2]
    assert lines[-1].split()[-3:-1] == ["ACS", "f6"] or "204" in lines[-1]
    decoded = _text(views.decoded_view(steps[2]))
    assert "retry after auth challenge" in decoded


def test_hexdump_layout() -> None:
    dump = views.hexdump(b"GET / HTTP/1.1\r\n" + bytes(range(20)))
    first, second, third = dump.splitlines()
    assert first == "00000000  47 45 54 20 2f 20 48 54 54 50 2f 31 2e 31 0d 0a  GET / HTTP/1.1.."
    assert second.startswith("00000010  00 01 02")
    assert third.startswith("00000020  10 11 12 13")
    assert views.hexdump(bytes(100), limit=32).splitlines()[-1] == "… 68 more bytes"
