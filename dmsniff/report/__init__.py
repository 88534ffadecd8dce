"""Report writers: text for people, JSON and JSON Lines for scripts, Parquet tables for SQL, HAR
for HTTP tools (the HTML page is :mod:`dmsniff.report.html`).

All are pipeline addons that write as results arrive, so a report over a
multi-gigabyte capture never holds more than the open connections in memory.  The
record shapes are defined once, in :mod:`dmsniff.report.records`, and documented in
``docs/report.schema.json``.
"""

from dmsniff.report.har import HarReport
from dmsniff.report.json import JsonLinesReport, JsonReport
from dmsniff.report.parquet import ParquetReport
from dmsniff.report.text import TextReport

# "parquet" writes to a folder (ParquetReport(DIR)), the others to a text stream.
FORMATS = {"text": TextReport, "json": JsonReport, "jsonl": JsonLinesReport, "parquet": ParquetReport,
           "har": HarReport}

__all__ = ["FORMATS", "HarReport", "JsonLinesReport", "JsonReport", "ParquetReport", "TextReport"]
