"""gzip'd logs, as files and on standard input: read as the plain log, and a cut one read up to the cut."""

from __future__ import annotations

import gzip
import io
import json
import sys
import zlib
from pathlib import Path

import pytest

from dmsniff.cli import main
from tests.conftest import CAPTURES
from tests.dmsniff.logs.helpers import DATA

LOGS = [DATA / "genieacs-debug.yaml", DATA / "chromium.har"]


def _records(capsys: pytest.CaptureFixture[str], args: list[str], stdin: bytes | None = None,
             monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[list[dict[str, object]], str]:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin))))
    assert main(["report", "-q", "--format", "jsonl", *args]) == 0
    out, err = capsys.readouterr()
    return [json.loads(line) for line in out.splitlines()], err


def _but_capture(recs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in recs if r["type"] != "capture"]


@pytest.mark.parametrize("log", LOGS, ids=lambda p: p.name)
def test_a_gzipd_log_on_standard_input_is_read_as_the_log(log: Path, capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    plain, _ = _records(capsys, [str(log)])
    piped, err = _records(capsys, ["-"], gzip.compress(log.read_bytes()), monkeypatch)
    assert err == "" and _but_capture(piped) == _but_capture(plain) and _but_capture(plain)
    capture = next(r for r in piped if r["type"] == "capture")
    assert capture["path"] == "<stdin>" and capture["compressed"] is True and capture["errors"] == []


@pytest.mark.parametrize("where", ["file", "stdin"])
def test_a_cut_gzipd_log_is_read_up_to_the_cut(where: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    log = DATA / "genieacs-debug.yaml"
    packed = gzip.compress(log.read_bytes())
    whole, _ = _records(capsys, [str(log)])
    sessions = [r for r in whole if r["type"] == "session"]
    # From where the start holds enough of the log to recognise it (less is read as a capture, and
    # says it is not one), to one byte short of the end.
    first = next(n for n in range(10, len(packed))
                 if len(zlib.decompressobj(31).decompress(packed[:n])) >= 2048)
    for cut in [*range(first, len(packed) - 1, max(1, (len(packed) - first) // 10)), len(packed) - 1]:
        if where == "file":
            path = tmp_path / "cut.yaml.gz"
            path.write_bytes(packed[:cut])
            recs, err = _records(capsys, [str(path)])
        else:
            recs, err = _records(capsys, ["-"], packed[:cut], monkeypatch)
        capture = next(r for r in recs if r["type"] == "capture")
        assert capture["format"] == "genieacs-log", cut  # recognised from what the start holds
        assert capture["errors"][0] == "gzip stream cut short: the log before the cut is read"
        assert "gzip stream cut short" in err and "Traceback" not in err
        got = [r for r in recs if r["type"] == "session"]
        assert len(got) <= len(sessions)


def test_a_gzipd_capture_on_standard_input_is_still_a_capture(capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    cap = CAPTURES / "cwmp_loopback.pcap"
    plain, _ = _records(capsys, [str(cap)])
    piped, err = _records(capsys, ["-"], gzip.compress(cap.read_bytes()), monkeypatch)
    assert err == "" and _but_capture(piped) == _but_capture(plain)
