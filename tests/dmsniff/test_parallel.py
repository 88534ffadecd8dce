"""Decoding a capture with several worker processes gives exactly the single-process report."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from benchmarks.gencap import main as gencap
from dmsniff.capture import open_capture
from dmsniff.cli import main
from dmsniff.parallel import _PLAIN, _dumps
from dmsniff.pipeline import PARALLEL_MIN_BYTES, Decoder, Item


def test_parallel_report_is_identical(tmp_path: Path) -> None:
    cap = tmp_path / "mixed.pcap"
    gencap([str(cap), "--packets", "14000", "--seed", "3"])
    assert cap.stat().st_size >= PARALLEL_MIN_BYTES  # or the parallel path would not run
    outputs = []
    for jobs in ("1", "2", "3"):
        for fmt in ("jsonl", "text"):
            out = tmp_path / f"r{jobs}.{fmt}"
            assert main(["report", "-j", jobs, "--format", fmt, "-o", str(out), str(cap)]) == 0
            outputs.append((fmt, out.read_text()))
    by_format: dict[str, set[str]] = {}
    for fmt, text in outputs:
        by_format.setdefault(fmt, set()).add(text)
    assert all(len(v) == 1 for v in by_format.values())
    jsonl = by_format["jsonl"].pop()
    assert jsonl.count('"type":"transaction"') > 1000

    # --http-only (no protocol decoding in the workers) too.
    only = set()
    for jobs in ("1", "2"):
        out = tmp_path / f"h{jobs}.jsonl"
        assert main(["report", "-j", jobs, "--http-only", "--format", "jsonl", "-o", str(out), str(cap)]) == 0
        only.add(out.read_text())
    assert len(only) == 1
    assert only.pop().count('"type":"transaction"') == jsonl.count('"type":"transaction"')


CAPTURES = Path(__file__).resolve().parents[2] / "captures"


@pytest.mark.parametrize("name", ["cwmp_loopback.pcap", "omadm_loopback.pcap", "digest_loopback.pcap"])
def test_records_cross_the_pipe_unchanged(name: str) -> None:
    # Workers pickle with a dispatch table that rebuilds dataclasses by calling the
    # class; every record type of our captures must come back equal, and none may fall
    # back to dataclasses' own (slow) __setstate__.
    items: list[Item] = []
    with open_capture(str(CAPTURES / name)) as cap:
        Decoder(0, items.append).run(cap, cap.info)
    assert items
    assert pickle.loads(_dumps(items)) == items
    ours = {t for t in _PLAIN if t.__module__.startswith(("dmsniff", "decoders"))}
    assert not ours
