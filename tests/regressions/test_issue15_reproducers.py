"""The reproducers an adversarial pass over dmsniff found (issue 15), each failing on the old code.

Every one of them ended in "internal error" (exit 70), lost a whole message for one character,
or lost the whole report for one TCP segment.  They now cost at most a problem string.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gencap import Writer
from decoders import cwmp, syncml
from dmsniff.chain import addon_chain
from dmsniff.model import Transaction
from dmsniff.pipeline import INTERNAL_ERROR, Addon, Pipeline
from dmsniff.report import JsonLinesReport
from tests.conftest import CAPTURES, CORPUS

INFORM = (CORPUS / "cwmp" / "messages" / "inform_2601.xml").read_bytes()


def dmsniff(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmsniff", *args], input=stdin.decode() if stdin else None,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("doc", [
    b"<a>x&#xD800;y</a>",  # a character reference to a UTF-16 surrogate
    b'<S xmlns="a&#1;b"><x/></S>',  # a control character in a namespace
    b"<SOAP-ENV:",  # a message cut inside its root tag
    b"<cwmp:Inform><DeviceId><Manufacturer>x</Manufacturer></DeviceId></cwmp:Inform>",  # no xmlns
    b"<a>\x01\x02</a>",
])
def test_decode_never_ends_in_an_internal_error(tmp_path: Path, doc: bytes) -> None:
    path = tmp_path / "doc.xml"
    path.write_bytes(doc)
    res = dmsniff("decode", str(path))
    assert res.returncode == 0, res.stderr
    assert "internal error" not in res.stderr
    assert res.stdout.startswith('<?xml version="1.0"?>')


def test_one_surrogate_reference_costs_a_warning_not_the_message() -> None:
    bad = INFORM.replace(b"</Manufacturer>", b"&#xD800;</Manufacturer>", 1)
    rec = cwmp.decode(bad, "text/xml")
    assert isinstance(rec, cwmp.CwmpMessage) and rec.kind == "Inform"
    assert any("U+FFFD" in p for p in rec.problems)
    assert rec.rpc is not None and "\ufffd" in rec.rpc.device_id.manufacturer  # type: ignore[union-attr]


def test_a_utf7_body_holding_a_surrogate() -> None:
    bad = INFORM.replace(b"</Manufacturer>", b"+2AA-</Manufacturer>", 1)
    rec = cwmp.decode(bad, 'text/xml; charset="utf-7"')
    assert isinstance(rec, cwmp.CwmpMessage) and rec.kind == "Inform"


def test_syncml_with_a_surrogate_and_a_control_character() -> None:
    doc = (CORPUS / "omadm" / "dm11" / "testalertconfirm.xml").read_bytes()
    rec = syncml.decode(doc.replace(b"</Data>", b"&#xDFFF;\x01</Data>", 1), "application/vnd.syncml.dm+xml")
    assert isinstance(rec, syncml.SyncMLMessage) and rec.commands
    assert any("2 character(s) XML cannot hold" in p for p in rec.problems)


def _one_segment_capture(path: Path, payload: bytes) -> None:
    with open(path, "wb") as fh:
        w = Writer(fh)
        w.frame((0x0A000002, 7547), (0x0A000001, 40000), 1000, 1, 0x18, payload)


@pytest.mark.parametrize("fmt", ["json", "jsonl", "text"])
@pytest.mark.parametrize("only", [False, True])
def test_a_segment_holding_only_100_continue(tmp_path: Path, fmt: str, only: bool) -> None:
    cap = tmp_path / "c100.pcap"
    _one_segment_capture(cap, b"HTTP/1.1 100 Continue\r\n\r\n")
    out = tmp_path / "out"
    res = dmsniff("report", *(["--http-only"] if only else []), "--format", fmt, "-o", str(out), str(cap),
                  str(CAPTURES / "cwmp_loopback.pcap"))
    assert res.returncode == 0, res.stderr
    assert "internal error" not in res.stderr
    text = out.read_text()
    if fmt == "json":
        doc = json.loads(text)  # complete and valid
        assert len(doc["captures"]) == 2
        assert any(tx["response"] and tx["response"]["status"] == 100 for tx in doc["transactions"])
        if not only:
            assert doc["sessions"]  # the complete sessions of the other capture are all there
            assert not any(f["code"] == INTERNAL_ERROR for f in doc["findings"])
    elif fmt == "jsonl":
        recs = [json.loads(line) for line in text.splitlines()]
        assert sum(r["type"] == "capture" for r in recs) == 2
    else:
        assert "100 Continue" in text and "cwmp_loopback.pcap" in text


class Exploding(Addon):
    """An addon with a bug that fires on the third exchange."""

    def __init__(self) -> None:
        self.seen = 0

    def transaction(self, tx: Transaction) -> None:
        self.seen += 1
        if self.seen == 3:
            raise KeyError("boom")


def test_an_addon_failure_costs_that_record_for_that_addon_only() -> None:
    import io

    buf = io.StringIO()
    bad = Exploding()
    pipeline = Pipeline(addon_chain(None, last=[bad, JsonLinesReport(buf)]))
    pipeline.run_files([str(CAPTURES / "cwmp_loopback.pcap")])
    recs = [json.loads(line) for line in buf.getvalue().splitlines()]
    assert bad.seen == sum(r["type"] == "transaction" for r in recs) > 3
    errors = [r for r in recs if r["type"] == "finding" and r["code"] == INTERNAL_ERROR]
    assert len(errors) == 1
    assert errors[0]["message"].startswith("Exploding.transaction failed on exchange C")
    assert errors[0]["frames"] and errors[0]["severity"] == "error"
    assert sum(r["type"] == "session" for r in recs) == 3  # the sessions are all there


def test_a_connection_whose_decoding_fails_costs_that_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from dmsniff.net import http

    real = http.HttpTracker.data

    def flaky(self: http.HttpTracker, direction: int, data: bytes, frame: int, ts: float) -> None:
        if self.conn.id == "C42":  # the HTTP connection request of cwmp_loopback.pcap
            raise RuntimeError("bug in the HTTP layer")
        real(self, direction, data, frame, ts)

    monkeypatch.setattr(http.HttpTracker, "data", flaky)
    buf = io.StringIO()
    Pipeline([JsonLinesReport(buf)]).run_files([str(CAPTURES / "cwmp_loopback.pcap")])
    recs = [json.loads(line) for line in buf.getvalue().splitlines()]
    txs = [r for r in recs if r["type"] == "transaction"]
    assert len(txs) == 13 and not any(r["connection"] == "C42" for r in txs)  # 14 without the bug
    errors = [r for r in recs if r["type"] == "finding" and r["code"] == INTERNAL_ERROR]
    assert len(errors) == 1 and "following connection C42" in errors[0]["message"]
    assert errors[0]["frames"] == [45]
