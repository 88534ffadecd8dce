"""Folders of saved messages: the corpus's FreeACS session gives what its capture gives."""

from __future__ import annotations

from pathlib import Path

from tests.builders import Conversation, request, response, write
from tests.conftest import CORPUS
from tests.dmsniff.logs.helpers import kinds, run
from tests.dmsniff.logs.test_httpdump import INFORM_RESPONSE, ROUTER_INFORM, chunked

FREEACS = CORPUS / "cwmp" / "sessions" / "freeacs-discover"


def _ordered() -> list[Path]:
    return sorted(FREEACS.iterdir(), key=lambda p: int(p.name.split("_", 1)[0]))


def _capture(tmp_path: Path) -> Path:
    """The same session as a capture: each CPE message a POST, each ACS message its answer."""
    conv = Conversation()
    bodies = [p.read_bytes() for p in _ordered()]
    for i in range(0, len(bodies), 2):
        answer = bodies[i + 1] if i + 1 < len(bodies) else b""
        conv.send(True, request(body=bodies[i], headers="Content-Type: text/xml\r\n"))
        conv.send(False, response(200, "OK", answer) if answer else response(204, "No Content"))
    conv.close()
    return write(tmp_path / "freeacs.pcap", conv.packets)


def _messages(session) -> list[tuple[str, str, str | None, object]]:  # type: ignore[no-untyped-def]
    out = []
    for m in session.messages:
        rec = m.record
        out.append((m.direction, m.kind, m.cwmp_id, getattr(rec, "rpc", None)))
    return out


def test_folder_gives_the_session_of_its_capture(tmp_path: Path) -> None:
    folder, capture = run(FREEACS), run(_capture(tmp_path))
    [fs], [cs] = folder.sessions, capture.sessions
    assert _messages(fs) == _messages(cs)
    assert (fs.device_id, fs.events, fs.end_reason) == (cs.device_id, cs.events, cs.end_reason)
    assert kinds(fs)[:4] == ["Inform", "InformResponse", "empty", "GetParameterNames"]
    assert [f.code for f in fs.findings] == [f.code for f in cs.findings]
    [fd], [cd] = folder.devices, capture.devices
    def values(d):  # type: ignore[no-untyped-def]
        return [(p.name, p.value, p.source) for p in d.parameters]

    assert values(fd) == values(cd)
    # Frames are the files' numbers in order; the capture record says so.
    assert [m.frame for m in fs.messages] == list(range(1, 11))
    info = folder.summaries[0].info
    assert (info.format, info.frame_unit, info.packets) == ("folder", "file", 10)
    assert any("1 1_inform.xml, 2 2_informResponse.xml" in n for n in info.notes)
    assert any("made-up" in n for n in info.notes)


def test_folder_of_messages_with_heads_one_chunked(tmp_path: Path) -> None:
    """A router's saved messages with their HTTP headers; the Inform was sent chunked."""
    d = tmp_path / "router"
    d.mkdir()
    (d / "01-inform.http").write_bytes(b"POST /acs HTTP/1.1\r\nHost: 192.0.2.1:7547\r\n"
                                       b"Transfer-Encoding: chunked\r\n\r\n" + chunked(ROUTER_INFORM))
    answer = INFORM_RESPONSE.replace(b"CPE_1002", b"42")
    (d / "02-informresponse.http").write_bytes(response(200, "OK", answer))
    (d / "03-empty.http").write_bytes(request(body=b""))
    (d / "10-end.http").write_bytes(response(204, "No Content"))
    out = run(d)
    [s] = out.sessions
    assert kinds(s) == ["Inform", "InformResponse", "empty", "empty"] and s.end_reason == "204"
    assert [m.frame for m in s.messages] == [1, 2, 3, 4]
    assert not any("made-up" in n for n in out.summaries[0].info.notes)


def test_empty_folder_is_one_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    out = run(tmp_path / "empty")
    assert out.failures == [f"the folder {str(tmp_path / 'empty')!r} holds no message files"]
