"""Every capture in ``captures/``, cut at every offset: the frames before the cut are read exactly
as in the whole file, with one clear error for the cut, and the report keeps every exchange that
was complete before it.

The reader is checked at every byte offset (through a stream, so no file is written per cut).
The report depends only on the frames read, so the pipeline runs once per number of whole
frames: every exchange whose frames all precede the cut must be in it, as in the report of the
whole capture, and nothing may raise or become an internal error.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from dmsniff.capture import CaptureError, CaptureInfo, open_capture
from dmsniff.capture.reader import Frame
from dmsniff.chain import addon_chain
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import INTERNAL_ERROR, Pipeline
from dmsniff.report import JsonLinesReport
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES

CAPTURE_FILES = sorted(CAPTURES.glob("*.pcap"))
PCAP_HEADER = 24


def _read(data: bytes) -> tuple[list[Frame], list[str]]:
    with open_capture(io.BytesIO(data), "cut") as cap:
        frames = list(cap)
        return frames, list(cap.info.errors)


def _keys(path: Path) -> TlsKeySpec | None:
    keys = path.with_name(path.name.split(".")[0] + ".keys")
    return TlsKeySpec(((keys.name, keys.read_bytes()),)) if keys.exists() else None


def _report(frames: list[Frame], spec: TlsKeySpec | None) -> list[dict[str, Any]]:
    buf = io.StringIO()
    pipeline = Pipeline(addon_chain(Verifier(Secrets()), last=[JsonLinesReport(buf)]), tls_keys=spec)
    pipeline.run_frames(iter(frames), CaptureInfo(path="cut", format="pcap", compressed=False))
    for a in pipeline.addons:
        a.done()
    return [json.loads(line) for line in buf.getvalue().splitlines()]


def _last_frame(tx: dict[str, Any]) -> int:
    return max(f for msg in (tx["request"], tx["response"], *tx.get("interim", [])) if msg
               for f in msg["frames"])


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_reader_at_every_offset(path: Path) -> None:
    data = path.read_bytes()
    whole, errors = _read(data)
    assert errors == []
    # Where each frame's record ends in the file.
    ends = []
    pos = PCAP_HEADER
    for _n, _ts, _lt, frame in whole:
        pos += 16 + len(frame)
        ends.append(pos)
    k = 0
    for cut in range(len(data)):
        if cut < PCAP_HEADER:
            with pytest.raises(CaptureError, match=r"empty|truncated"):
                _read(data[:cut])
            continue
        while k < len(ends) and ends[k] <= cut:
            k += 1
        frames, errors = _read(data[:cut])
        assert len(frames) == k, cut
        if cut in (PCAP_HEADER, *ends):
            assert errors == [], cut  # cut between two records: nothing is missing
        else:
            assert len(errors) == 1 and errors[0].startswith("truncated: capture ends inside frame "), cut
    assert _read(data[:ends[-1] - 1])[0] == whole[:-1]


@pytest.mark.parametrize("path", CAPTURE_FILES, ids=lambda p: p.name)
def test_report_keeps_every_exchange_completed_before_the_cut(path: Path) -> None:
    frames, _ = _read(path.read_bytes())
    spec = _keys(path)
    full = [r for r in _report(frames, spec) if r["type"] == "transaction"]
    assert full
    for k in range(len(frames) + 1):
        recs = _report(frames[:k], spec)
        assert not any(r["type"] == "finding" and r["code"] == INTERNAL_ERROR for r in recs), k
        got = {r["id"]: r for r in recs if r["type"] == "transaction"}
        for tx in full:
            if _last_frame(tx) <= k:
                assert got.get(tx["id"]) == tx, (k, tx["id"])
