"""curl's traces of a CWMP session it posted to a local ACS: -v, --trace-ascii and --trace."""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from dmsniff.logs import log_format
from tests.dmsniff.logs.data.record_har import GPV_RESPONSE, INFORM, PASSWORD, USER, Acs
from tests.dmsniff.logs.helpers import kinds, run

pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
SESSION = ["Inform", "empty", "Inform", "InformResponse", "empty", "GetParameterValues",
           "GetParameterValuesResponse", "empty"]


@pytest.fixture(scope="module")
def acs() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Acs)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/acs"
    server.shutdown()


def _curl(tmp_path: Path, url: str, *trace: str) -> subprocess.CompletedProcess[bytes]:
    """One curl run, one connection: Inform, Inform with Basic, empty POST, the GPV answer."""
    (tmp_path / "inform.xml").write_text(INFORM)
    (tmp_path / "gpv.xml").write_text(GPV_RESPONSE)
    xml = ["-H", "Content-Type: text/xml; charset=utf-8", "-H", "SOAPAction:"]
    auth = ["-u", f"{USER}:{PASSWORD}", "-H", "Cookie: acs-session=b7e1"]
    steps = [[*xml, "--data-binary", "@inform.xml"],
             [*xml, "-u", f"{USER}:{PASSWORD}", "--data-binary", "@inform.xml"],
             [*auth, "-X", "POST", "-H", "Content-Length: 0"], [*xml, *auth, "--data-binary", "@gpv.xml"]]
    args = ["curl", "-s", *trace]
    for i, step in enumerate(steps):
        args += [*(["--next"] if i else []), *step, url]
    return subprocess.run(args, cwd=tmp_path, capture_output=True, timeout=60)


def test_verbose(tmp_path: Path, acs: str) -> None:
    res = _curl(tmp_path, acs, "-v")
    log = tmp_path / "curl-v.txt"
    log.write_bytes(res.stderr)
    assert log_format(str(log)) == "curl"
    out = run(log, secrets=(f"{USER}:{PASSWORD}",))
    # -v shows heads only (curl wrote the response bodies to stdout): exchanges and credentials, no
    # CWMP, so no session, and every message with a body says it is not there.
    assert [(t.request.method, t.response.status) for t in out.transactions] == [  # type: ignore[union-attr]
        ("POST", 401), ("POST", 200), ("POST", 200), ("POST", 204)]
    assert out.sessions == []
    inform = out.transactions[0].request
    assert inform is not None and not inform.complete
    assert any("does not show the request body" in p for p in inform.problems)
    assert [r.result for r in out.auth_results] == ["valid"] * 3
    assert out.transactions[0].server.startswith("127.0.0.1:")
    assert len({t.connection for t in out.transactions}) == 1
    text = log.read_bytes().split(b"\n")
    assert text[inform.frame - 1].startswith(b"> POST /acs")


@pytest.mark.parametrize("option", ["--trace-ascii", "--trace"])
def test_trace(tmp_path: Path, acs: str, option: str) -> None:
    res = _curl(tmp_path, acs, option, "trace.txt", "--trace-time")
    assert res.returncode == 0, res.stderr
    log = tmp_path / "trace.txt"
    assert log_format(str(log)) == "curl"
    out = run(log, secrets=(f"{USER}:{PASSWORD}",))
    [s] = out.sessions
    assert kinds(s) == SESSION and s.end_reason == "204"
    assert s.device_id == "00AA11-WebCPE-HAR0001"
    assert {r.result for r in out.auth_results} == {"valid"}
    inform = out.transactions[0].request
    assert inform is not None and inform.body == INFORM.encode() and inform.complete
    assert len({tx.connection for tx in out.transactions}) == 1  # curl reused its connection
    info = out.summaries[0].info
    assert any("times of day" in n for n in info.notes)
    text = log.read_bytes().split(b"\n")
    # As in a capture, a message's frame is the block that completed it; its frames, every block.
    assert b"=> Send header" in text[inform.frames[0] - 1] and b"=> Send data" in text[inform.frame - 1]


def test_trace_data_line_that_is_not_hex(tmp_path: Path, acs: str) -> None:
    """A --trace whose data line holds something else than hex pairs loses that line, said in one
    warning; the trace is read on (it crashed the run: found by fuzzing)."""
    res = _curl(tmp_path, acs, "--trace", "trace.txt")
    assert res.returncode == 0, res.stderr
    log = tmp_path / "trace.txt"
    lines = log.read_bytes().split(b"\n")
    bad = next(i for i, line in enumerate(lines) if line.startswith(b"0010: "))
    lines[bad] = lines[bad][:6] + b"zz" + lines[bad][8:]
    log.write_bytes(b"\n".join(lines))
    out = run(log, secrets=(f"{USER}:{PASSWORD}",))
    info = out.summaries[0].info
    assert [e for e in info.errors if "not hex pairs" in e] == [
        f"line {bad + 1}: a --trace data line that is not hex pairs: {lines[bad][:60]!r}"]
    assert len(out.transactions) == 4  # every exchange; the one with the damaged line is cut
