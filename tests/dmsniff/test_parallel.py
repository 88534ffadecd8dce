"""Decoding a capture with several worker processes gives exactly the single-process report."""

from __future__ import annotations

from pathlib import Path

from benchmarks.gencap import main as gencap
from dmsniff.cli import main
from dmsniff.pipeline import PARALLEL_MIN_BYTES


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
