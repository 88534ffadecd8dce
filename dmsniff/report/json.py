"""JSON and JSON Lines writers."""

from __future__ import annotations

import json
from typing import Any, TextIO

from dmsniff import __version__
from dmsniff.capture import CaptureError
from dmsniff.model import Transaction
from dmsniff.pipeline import Addon, CaptureSummary
from dmsniff.report.records import SCHEMA_VERSION, transaction_record

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def failed_capture_record(path: str, error: CaptureError) -> dict[str, Any]:
    return {"path": path, "format": None, "packets": 0, "errors": [str(error)]}


class JsonReport(Addon):
    """One JSON document, written as it goes.

    ``transactions`` is streamed first and ``captures`` written at the end, when the
    counts are known; JSON does not care about key order, and this keeps memory flat.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.first = True
        self.captures: list[dict[str, Any]] = []
        out.write(f'{{"schema":"dmsniff-report/{SCHEMA_VERSION}","generator":"dmsniff {__version__}",'
                  '"transactions":[\n')

    def transaction(self, tx: Transaction) -> None:
        if not self.first:
            self.out.write(",\n")
        self.first = False
        self.out.write(_dumps(transaction_record(tx)))

    def capture_end(self, summary: CaptureSummary) -> None:
        self.captures.append(summary.to_dict())

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.captures.append(failed_capture_record(path, error))

    def done(self) -> None:
        self.out.write(f'\n],"captures":{json.dumps(self.captures, ensure_ascii=False, indent=1)}}}\n')
        self.out.flush()


class JsonLinesReport(Addon):
    """One record per line, each with a ``type``; flushed per line when streaming live."""

    def __init__(self, out: TextIO, flush: bool = False) -> None:
        self.out = out
        self.flush = flush

    def _write(self, rec: dict[str, Any]) -> None:
        self.out.write(_dumps(rec))
        self.out.write("\n")
        if self.flush:
            self.out.flush()

    def transaction(self, tx: Transaction) -> None:
        rec = transaction_record(tx)
        self._write({"type": "transaction", **rec})

    def capture_end(self, summary: CaptureSummary) -> None:
        self._write({"type": "capture", **summary.to_dict()})

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self._write({"type": "capture", **failed_capture_record(path, error)})

    def done(self) -> None:
        self.out.flush()
