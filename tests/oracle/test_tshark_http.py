"""The HTTP requests and responses dmsniff finds equal what the real tshark finds.

tshark runs with ``tcp.try_heuristic_first`` so it looks for HTTP on every port, as
dmsniff does; a capture recorded with a TLS key log (``x.keys`` beside ``x.pcap``) is
decrypted by both with it.  Compared per capture: the frame, method and URI of every request and
the frame and status of every response.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from benchmarks.gencap import main as gencap
from dmsniff.capture import open_capture
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Pipeline
from dmsniff.report import JsonLinesReport
from tests.builders import nflog
from tests.conftest import CAPTURES, CORPUS

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")


# Requests as (frame, time, method, uri), responses as (frame, time, status); the time is
# the completing frame's, to the microsecond.
Requests = list[tuple[int, str, str, str]]
Responses = list[tuple[int, str, int]]


def _usec(t: str | float) -> str:
    return f"{float(t):.6f}"


def keylog_of(path: Path) -> Path | None:
    """The key log recorded with a TLS capture (``x.pcap`` -> ``x.keys``), if any."""
    keys = path.with_name(path.name.split(".")[0] + ".keys")
    return keys if keys.exists() else None


def tshark_http(path: Path) -> tuple[Requests, Responses]:
    keys = keylog_of(path)
    tls = ["-o", f"tls.keylog_file:{keys}"] if keys else []
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), *tls, "-o", "tcp.try_heuristic_first:TRUE", "-Y", "http",
         "-T", "fields", "-E", "separator=\t", "-e", "frame.number", "-e", "frame.time_epoch",
         "-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code"],
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout
    requests: Requests = []
    responses: Responses = []
    for line in out.splitlines():
        frame, when, method, uri, code = ([*line.split("\t"), "", "", "", ""])[:5]
        # One frame can complete several pipelined messages: tshark joins them with commas.
        for m, u in zip(method.split(","), uri.split(","), strict=False):
            if m:
                requests.append((int(frame), _usec(when), m, u))
        for c in code.split(","):
            if c:
                responses.append((int(frame), _usec(when), int(c)))
    return sorted(requests), sorted(responses)


def dmsniff_http(path: Path) -> tuple[Requests, Responses]:
    buf = io.StringIO()
    keys = keylog_of(path)
    spec = TlsKeySpec(((keys.name, keys.read_bytes()),)) if keys else None
    Pipeline([JsonLinesReport(buf)], tls_keys=spec).run_files([str(path)])
    requests: Requests = []
    responses: Responses = []
    for line in buf.getvalue().splitlines():
        rec = json.loads(line)
        if rec["type"] != "transaction":
            continue
        if rec["request"]:
            req = rec["request"]
            requests.append((req["frame"], _usec(req["time"]), req["method"], req["uri"]))
        for m in [*rec.get("interim", []), rec["response"]]:
            if m:
                responses.append((m["frame"], _usec(m["time"]), m["status"]))
    return sorted(requests), sorted(responses)


def _captures() -> list[Path]:
    return sorted(CORPUS.glob("pcap/*.pcap*")) + sorted(CAPTURES.glob("*.pcap*"))


@pytest.mark.parametrize("path", _captures(), ids=lambda p: p.name)
def test_same_http_messages_as_tshark(path: Path) -> None:
    ours, theirs = dmsniff_http(path), tshark_http(path)
    assert ours[0] == theirs[0], "requests differ"
    assert ours[1] == theirs[1], "responses differ"
    assert ours[0], "no HTTP found at all: the comparison would be empty"


def test_generated_mixed_capture_matches_tshark(tmp_path: Path) -> None:
    """The benchmark's mix (odd ports, keep-alive, 401s, multi-segment bodies, bulk flows)."""
    cap = tmp_path / "mixed.pcap"
    gencap([str(cap), "--packets", "6000", "--seed", "7"])
    ours, theirs = dmsniff_http(cap), tshark_http(cap)
    assert len(ours[0]) > 300
    assert ours == theirs


def test_nflog_capture_matches_tshark(tmp_path: Path) -> None:
    """A capture made with tcpdump -i nflog:N (LINKTYPE_NFLOG, e.g. behind an iptables NFLOG rule
    on port 7547): our loopback CWMP session, each IP packet wrapped as the kernel logs it."""
    src = CAPTURES / "cwmp_loopback.pcap"
    out = tmp_path / "nflog.pcap"
    records = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 239)]  # LINKTYPE_NFLOG
    with open_capture(str(src)) as cap:
        for _number, ts, linktype, data in cap:
            assert linktype == 1 and data[12:14] == b"\x08\x00"  # Ethernet, IPv4
            frame = nflog(data[14:])
            usec = round(ts * 1_000_000)
            records.append(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
            records.append(frame)
    out.write_bytes(b"".join(records))
    ours, theirs = dmsniff_http(out), tshark_http(out)
    assert len(ours[0]) > 5
    assert ours == theirs
    assert ours == dmsniff_http(src)  # the same exchanges as in the Ethernet original
