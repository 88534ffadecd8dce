"""`dmsniff decode` of a message with its HTTP head, the UI's loader on a log, and --input-format."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
from pathlib import Path

from dmsniff.cli import main
from dmsniff.tui.loader import Feed, Loader, Progress
from tests.conftest import CORPUS, ROOT
from tests.dmsniff.logs.helpers import DATA
from tests.dmsniff.logs.test_httpdump import chunked

WBXML = CORPUS / "omadm" / "dm11" / "testadd.wbxml"


def decode(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "dmsniff", "decode", *args], capture_output=True,
                          timeout=120, cwd=ROOT)


def test_decode_chunked_gzip_request_with_its_head(tmp_path: Path) -> None:
    body = gzip.compress(WBXML.read_bytes())
    p = tmp_path / "msg.http"
    p.write_bytes(b"POST /dm HTTP/1.1\nHost: dm.example.net\nContent-Type: application/vnd.syncml.dm+wbxml\n"
                  b"Content-Encoding: gzip\nTransfer-Encoding: chunked\n\n" + chunked(body, 64))
    res = decode("--summary", str(p))
    assert res.returncode == 0, res.stderr
    out = res.stdout.decode()
    assert out.startswith("POST /dm HTTP/1.1\nHost: dm.example.net\n")
    assert "SyncML DM/1.1 (VerDTD 1.1), wbxml" in out and "Status 1 → SyncHdr 0 of msg 1: 212" in out
    res = decode("--json", str(p))
    doc = json.loads(res.stdout)
    assert doc["http"]["method"] == "POST" and doc["http"]["decoded_length"] == len(WBXML.read_bytes())
    assert doc["body"]["header"]["session_id"] == "30483"


def test_decode_response_with_crlf_and_wrong_length(tmp_path: Path) -> None:
    xml = (CORPUS / "cwmp" / "messages" / "inform_2601.xml").read_bytes()
    p = tmp_path / "resp.txt"
    p.write_bytes(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 99999\r\n\r\n" + xml)
    res = decode(str(p))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b"HTTP/1.1 200 OK\nContent-Type: text/xml\n")
    assert b"<cwmp:Inform>" in res.stdout or b"Inform" in res.stdout
    assert b"Content-Length 99999 disagrees" in res.stderr


def test_ui_loader_reads_a_log() -> None:
    got = []
    feed = Feed(got.extend, Progress())
    loader = Loader(feed)
    t = threading.Thread(target=loader.run_files, args=([str(DATA / "genieacs-debug.yaml")],))
    t.start()
    t.join(60)
    assert feed.progress.done and not feed.progress.errors
    assert [s.device_id for s in got] == ["202BC1-BM632w-000007", "00259E-HG8245-000042",
                                          "202BC1-BM632w-000007"]
    assert feed.progress.packets == 550


def test_input_format_forces_a_reading(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    # A dump whose first line is a log line: not recognised, but read when named.
    p = tmp_path / "session.log"
    p.write_bytes(b"captured by the test bench\n" + (DATA / "chromium.har").read_bytes()[:0]
                  + b"POST /acs HTTP/1.1\nHost: a:1\nContent-Length: 0\n\nHTTP/1.1 204 No Content\n\n")
    assert main(["report", str(p)]) == 2
    assert "nor a log dmsniff reads" in capsys.readouterr().err
    assert main(["report", "--input-format", "http-dump", str(p)]) == 0
    out = capsys.readouterr().out
    assert "POST /" in out and "204 No Content" in out and "not an HTTP message, skipped" in out
    # --input-format capture reads it as a capture, and says it is not one.
    assert main(["report", "--input-format", "capture", str(DATA / "genieacs-debug.yaml")]) == 2
    assert "not a pcap or pcapng capture" in capsys.readouterr().err
