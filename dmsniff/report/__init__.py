"""Report writers: text for people, JSON and JSON Lines for scripts.

All three are pipeline addons that write as results arrive, so a report over a
multi-gigabyte capture never holds more than the open connections in memory.  The
record shapes are defined once, in :mod:`dmsniff.report.records`, and documented in
``docs/report.schema.json``.
"""

from dmsniff.report.json import JsonLinesReport, JsonReport
from dmsniff.report.text import TextReport

FORMATS = {"text": TextReport, "json": JsonReport, "jsonl": JsonLinesReport}

__all__ = ["FORMATS", "JsonLinesReport", "JsonReport", "TextReport"]
