"""Service response times (dmsniff/report/stats.py): the table the text report ends with."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from dmsniff.chain import addon_chain
from dmsniff.model import HttpMessage, Transaction
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.report.records import transaction_record
from dmsniff.report.stats import MAX_ROWS, OTHER, SAMPLES, ResponseTimes, request_kind
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES


def _msg(t0: float, t1: float, *, method: str | None = None, status: int | None = None,
         body: int = 0) -> HttpMessage:
    return HttpMessage(frame=1, frames=[1], time=t1, first_time=t0, version="HTTP/1.1", headers=[],
                       method=method, uri="/x" if method else None, status=status, body_length=body)


def _tx(n: int, asked: float, answered: float | None, method: str = "GET") -> Transaction:
    req = _msg(asked - 0.001, asked, method=method, body=0 if method == "GET" else 10)
    resp = _msg(answered, answered + 0.002, status=200) if answered is not None else None
    return Transaction(f"C1.{n}", 0, "C1", "10.0.0.1:1000", "10.0.0.2:80", req, resp)


def test_rows_count_answers_and_name_the_slowest() -> None:
    rt = ResponseTimes()
    for n, wait in enumerate([0.010, 0.030, 0.020, 0.500, 0.040], 1):
        rt.add(_tx(n, 100.0, 100.0 + wait))
    rt.add(_tx(6, 100.0, None))
    rt.add(_tx(7, 100.0, 100.005, method="PUT"))
    row = rt.rows["HTTP GET"]
    assert (row.count, row.unanswered, row.slowest) == (6, 1, "C1.4")
    assert row.low == pytest.approx(0.010) and row.high == pytest.approx(0.500)
    lines = rt.lines()
    assert lines[0].startswith("== response times")
    get = lines[2].split()
    # (nearest rank over the five answers: the median is the third, p95 the fifth)
    assert get[:6] == ["6", "1", "10.0", "30.0", "500.0", "500.0"] and get[6:] == ["C1.4", "HTTP", "GET"]
    assert lines[3].split()[-2:] == ["HTTP", "PUT"]  # the slower median first


def test_memory_is_bounded_by_samples_and_rows() -> None:
    rt = ResponseTimes()
    for n in range(SAMPLES + 500):
        rt.add(_tx(n, 0.0, n / 1e6))
    row = rt.rows["HTTP GET"]
    assert len(row.times) == SAMPLES and row.count == SAMPLES + 500 and row.slowest == f"C1.{SAMPLES + 499}"
    for n in range(MAX_ROWS + 30):
        rt.add(_tx(n, 0.0, 0.001, method=f"M{n}"))
    assert len(rt.rows) == MAX_ROWS + 1 and rt.rows[OTHER].count == 31


class _Keep(Addon):
    def __init__(self) -> None:
        self.times = ResponseTimes()
        self.txs: list[Transaction] = []

    def transaction(self, tx: Transaction) -> None:
        self.times.add(tx)
        self.txs.append(tx)


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed (.ci/run installs it)")
def test_each_time_is_the_one_tshark_measures_between_those_frames() -> None:
    """tshark's own frame times, and its http.time where the request is one frame (with TCP
    desegmentation off, tshark dissects a response at its first segment)."""
    cap = CAPTURES / "http_loopback.pcap"
    keep = _Keep()
    Pipeline(addon_chain(Verifier(Secrets([])), last=[keep]), jobs=1).run_files([str(cap)])
    run = subprocess.run(["tshark", "-r", str(cap), "-o", "tcp.desegment_tcp_streams:FALSE", "-T", "fields",
                          "-e", "frame.number", "-e", "frame.time_epoch", "-e", "http.time",
                          "-e", "http.request_in"], capture_output=True, text=True, check=True)
    epoch: dict[int, float] = {}
    http_time: dict[tuple[int, int], float] = {}  # (request frame, response frame) -> http.time
    for line in run.stdout.splitlines():
        number, when, took, asked = [*line.split("\t"), "", "", ""][:4]
        epoch[int(number)] = float(when)
        if took and asked:
            http_time[(int(asked), int(number))] = float(took)
    answered = [tx for tx in keep.txs if tx.request is not None and tx.response is not None]
    assert len(answered) == 9
    got = sorted(t for row in keep.times.rows.values() for t in row.times)
    want = sorted(epoch[tx.response.frames[0]] - epoch[tx.request.frames[-1]]  # type: ignore[union-attr]
                  for tx in answered)
    assert got == pytest.approx(want, abs=2e-6)
    single = [tx for tx in answered if len(tx.request.frames) == 1]  # type: ignore[union-attr]
    assert len(single) == 8
    for tx in single:
        key = (tx.request.frames[0], tx.response.frames[0])  # type: ignore[union-attr]
        ours = tx.response.first_time - tx.request.time  # type: ignore[union-attr]
        assert ours == pytest.approx(http_time[key], abs=2e-6), tx.id
    # The JSON's wait is the same time, to the µs.
    for tx in answered:
        rec = transaction_record(tx)
        want_one = epoch[tx.response.frames[0]] - epoch[tx.request.frames[-1]]  # type: ignore[union-attr]
        assert rec["wait"] == pytest.approx(want_one, abs=2e-6), tx.id
        assert rec["wait"] == round(rec["wait"], 6)
    unanswered = Transaction("C9.1", 0, "C9", "a:1", "b:2", _msg(1.0, 1.1, method="GET"), None)
    assert transaction_record(unanswered)["wait"] is None


def test_what_the_rows_are_named_after() -> None:
    keep = _Keep()
    Pipeline(addon_chain(Verifier(Secrets([])), last=[keep]), jobs=1).run_files(
        [str(CAPTURES / "cwmp_loopback.pcap"), str(CAPTURES / "omadm_loopback.pcap")])
    kinds = {request_kind(tx.request) for tx in keep.txs if tx.request is not None}
    assert {"cwmp Inform", "HTTP POST (empty)", "cwmp GetParameterValuesResponse", "HTTP GET",
            "omadm Alert, Replace", "omadm Results, Alert", "omadm Status only"} <= kinds
    assert keep.times.rows["cwmp Inform"].count == 3 and keep.times.rows["HTTP POST (empty)"].count == 3
