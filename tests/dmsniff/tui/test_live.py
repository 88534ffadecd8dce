"""The UI fed by a live capture on loopback, with CWMP traffic this test makes itself."""

from __future__ import annotations

import asyncio
import http.client
import http.server
import socket
import threading
import time

import pytest

from dmsniff.capture import CaptureError, live_frames
from dmsniff.tui.app import DmsniffApp
from dmsniff.tui.session_list import SessionList
from tests.dmsniff.sessions.playbook import inform, rpc

from .test_app import SIZE, timeline_lines


def _capture_problem() -> str | None:
    try:
        for _ in live_frames("lo", duration=0):
            pass
    except CaptureError as exc:
        return str(exc)
    return None


PROBLEM = _capture_problem()


class _Acs(http.server.BaseHTTPRequestHandler):
    """Inform -> InformResponse, empty POST -> 204."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        answer = rpc("InformResponse", inner="<MaxEnvelopes>1</MaxEnvelopes>") if body else b""
        self.send_response(200 if answer else 204)
        if answer:
            self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def _cpe(port: int) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(
        "POST", "/acs", body=inform(("1 BOOT",), serial="LIVE1"), headers={"Content-Type": "text/xml"}
    )
    conn.getresponse().read()
    conn.request("POST", "/acs", body=b"")
    conn.getresponse().read()
    conn.close()


@pytest.mark.skipif(PROBLEM is not None, reason=f"cannot capture on lo: {PROBLEM}")
def test_live_session_appears_in_the_ui() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Acs)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = threading.Event()
    frames = live_frames("lo", bpf=f"tcp port {port}", stop=stop)
    app = DmsniffApp(live=("lo", frames, stop))

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            threading.Thread(target=_cpe, args=(port,), daemon=True).start()
            lst = app.query_one(SessionList)
            deadline = time.monotonic() + 20
            while lst.row_count == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await pilot.pause()
            assert lst.row_count == 1
            assert app.current is not None and app.current.device_id == "00AA11-Box-LIVE1"
            lines = timeline_lines(app)
            assert len(lines) == 4 and "Inform(1 BOOT)" in lines[0] and "204" in lines[3]
            assert app.sub_title == "live:lo"
            await pilot.press("q")
        assert stop.is_set()  # quitting stops the capture

    try:
        asyncio.run(main())
    finally:
        stop.set()
        server.shutdown()
        server.server_close()


def test_live_without_permission_or_interface_is_one_line() -> None:
    import subprocess
    import sys

    res = subprocess.run(
        [sys.executable, "-m", "dmsniff", "live", "-i", "no-such-if0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert res.returncode == 2
    assert res.stderr.strip() == "dmsniff: error: cannot capture on 'no-such-if0': no such interface"
    assert socket.if_nametoindex("lo")  # the test machine has loopback


def test_a_capture_stream_on_a_pipe_fills_the_ui_as_it_arrives() -> None:
    """``tcpdump -U -w - | dmsniff tui -`` and ``dmsniff live --from-cmd``: frames read from a pipe as they
    come, sessions shown as they end, and quitting while the writer still holds the pipe open never hangs."""
    import os

    from dmsniff.capture.live import stream_frames
    from tests.conftest import CAPTURES

    data = (CAPTURES / "cwmp_loopback.pcap").read_bytes()
    read_end, write_end = os.pipe()
    half = threading.Event()

    def writer() -> None:
        for i in range(0, len(data), 512):
            os.write(write_end, data[i:i + 512])
        half.set()  # everything written, the pipe left open: the UI must not wait for its end

    threading.Thread(target=writer, daemon=True).start()
    stop = threading.Event()
    frames, info = stream_frames(read_end, "<stdin>", stop)
    assert info.format == "pcap"
    app = DmsniffApp(live=("stdin", frames, stop))

    async def main() -> None:
        async with app.run_test(size=SIZE) as pilot:
            lst = app.query_one(SessionList)
            deadline = time.monotonic() + 20
            while lst.row_count < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            assert half.is_set() and lst.row_count == 3
            assert app.sub_title == "live:stdin"
            await pilot.press("q")

    try:
        asyncio.run(main())
    finally:
        stop.set()
        os.close(write_end)
        os.close(read_end)
