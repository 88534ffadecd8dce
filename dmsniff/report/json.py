"""JSON and JSON Lines writers."""

from __future__ import annotations

import codecs
import json
import os
import shutil
import tempfile
from typing import IO, Any, BinaryIO, TextIO

import orjson

from dmsniff import __version__
from dmsniff.capture import CaptureError
from dmsniff.model import ConnectionEnd, Finding, Transaction
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.report.records import (
    SCHEMA_VERSION,
    auth_record,
    device_record,
    finding_record,
    plain,
    session_record,
    tls_record,
    transaction_record,
)
from dmsniff.sessions.history import History, observations_json
from dmsniff.sessions.model import Device, Session
from dmsniff.verify.model import AuthResult

_json_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_json_ascii_dumps = json.JSONEncoder(separators=(",", ":")).encode


def dumps(rec: dict[str, Any]) -> str:
    """One record as compact JSON.

    orjson encodes the frozen dataclasses left in the records in C, several times faster
    than converting them and using :mod:`json` (the report's biggest cost on captures
    full of parameter lists).  What orjson refuses (an integer over 64 bits from a
    hostile message, a lone surrogate) is encoded the slow way instead.
    """
    try:
        # default: what orjson cannot encode itself (bytes, a device's History), as plain() has it.
        return orjson.dumps(rec, default=_default).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        text = _json_dumps(plain(rec))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate could not be written to a UTF-8 file: escape it
        text = _json_ascii_dumps(plain(rec))
    return text


def dumps_line(rec: dict[str, Any]) -> bytes:
    """One record as :func:`dumps` has it, with a newline, in UTF-8."""
    try:
        # (orjson writes UTF-8, and the histories it splices in are its own output.)
        return orjson.dumps(rec, default=_default, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        return (dumps(rec) + "\n").encode("utf-8")


def _utf8_buffer(out: TextIO) -> BinaryIO | None:
    """The byte stream under ``out`` if it is a UTF-8 text file (a file, stdout) that writes "\n"
    as it is, else None."""
    encoding = getattr(out, "encoding", None)
    buffer = getattr(out, "buffer", None)
    if buffer is None or encoding is None or codecs.lookup(encoding).name != "utf-8" or os.linesep != "\n":
        return None
    out.flush()  # (whatever was written as text goes first)
    return buffer  # type: ignore[no-any-return]


def _default(value: Any) -> Any:
    """orjson's ``default``: a device's parameter history as the JSON its log kept, or else encoded
    from its rows; anything else as :func:`plain` has it."""
    if type(value) is History and (data := value.json() or observations_json(value.rows())) is not None:
        return orjson.Fragment(data)  # (taken as it is: orjson wrote it)
    return plain(value)


# Sessions, findings and devices arrive while transactions are still being written; they
# wait in spool files (in memory while small) and are copied out at the end.
_SPOOL_MEMORY = 4 << 20


def failed_capture_record(path: str, error: CaptureError) -> dict[str, Any]:
    return {"path": path, "format": None, "packets": 0, "errors": [str(error)]}


class _Array:
    """One JSON array built up in a spool file."""

    def __init__(self) -> None:
        # Closed in copy_to, at the end of the report.
        self.file: IO[str] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            _SPOOL_MEMORY, mode="w+", encoding="utf-8")
        self.count = 0

    def add(self, rec: dict[str, Any]) -> None:
        if self.count:
            self.file.write(",\n")
        self.count += 1
        self.file.write(dumps(rec))

    def copy_to(self, out: TextIO) -> None:
        self.file.seek(0)
        shutil.copyfileobj(self.file, out)
        self.file.close()


class JsonReport(Addon):
    """One JSON document, written as it goes.

    ``transactions`` is streamed first; ``sessions``, ``findings``, ``devices`` and
    ``captures`` are written at the end.  JSON does not care about key order, and this
    keeps memory flat.
    """

    json_histories = True

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.first = True
        self.captures: list[dict[str, Any]] = []
        self.arrays = {"sessions": _Array(), "findings": _Array(), "devices": _Array(), "auth": _Array(),
                       "tls": _Array()}
        out.write(f'{{"schema":"dmsniff-report/{SCHEMA_VERSION}","generator":"dmsniff {__version__}",'
                  '"transactions":[\n')

    def transaction(self, tx: Transaction) -> None:
        if not self.first:
            self.out.write(",\n")
        self.first = False
        self.out.write(dumps(transaction_record(tx)))

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self.arrays["tls"].add(tls_record(end.tls))

    def session(self, session: Session) -> None:
        self.arrays["sessions"].add(session_record(session))
        for f in session.findings:
            self.arrays["findings"].add(finding_record(f))

    def finding(self, finding: Finding) -> None:
        self.arrays["findings"].add(finding_record(finding))

    def device(self, device: Device) -> None:
        self.arrays["devices"].add(device_record(device))

    def auth(self, result: AuthResult) -> None:
        self.arrays["auth"].add(auth_record(result))

    def capture_end(self, summary: CaptureSummary) -> None:
        self.captures.append(summary.to_dict())

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.captures.append(failed_capture_record(path, error))

    def done(self) -> None:
        out = self.out
        out.write("\n]")
        for name, array in self.arrays.items():
            out.write(f',"{name}":[\n')
            array.copy_to(out)
            out.write("\n]")
        out.write(f',"captures":{json.dumps(self.captures, ensure_ascii=False, indent=1)}}}\n')
        out.flush()


class JsonLinesReport(Addon):
    """One record per line, each with a ``type``; flushed per line when streaming live."""

    json_histories = True

    def __init__(self, out: TextIO, flush: bool = False) -> None:
        self.out = out
        self.flush = flush
        # A UTF-8 file takes orjson's bytes as they are: as text, each line was decoded, then
        # encoded back by the file.  Encoding and writing the 50,774 records of the 200k-packet
        # CWMP benchmark capture took 5.5 µs a record this way, 7.4 µs as text (compiled build).
        self.raw = _utf8_buffer(out)

    def _write(self, rec: dict[str, Any]) -> None:
        if self.raw is not None:
            self.raw.write(dumps_line(rec))
            if self.flush:
                self.raw.flush()
            return
        self.out.write(dumps(rec))
        self.out.write("\n")
        if self.flush:
            self.out.flush()

    def transaction(self, tx: Transaction) -> None:
        rec = transaction_record(tx)
        self._write({"type": "transaction", **rec})

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self._write({"type": "tls", **tls_record(end.tls)})

    def session(self, session: Session) -> None:
        self._write({"type": "session", **session_record(session)})
        for f in session.findings:
            self._write({"type": "finding", **finding_record(f)})

    def finding(self, finding: Finding) -> None:
        self._write({"type": "finding", **finding_record(finding)})

    def device(self, device: Device) -> None:
        self._write({"type": "device", **device_record(device)})

    def auth(self, result: AuthResult) -> None:
        self._write({"type": "auth", **auth_record(result)})

    def capture_end(self, summary: CaptureSummary) -> None:
        self._write({"type": "capture", **summary.to_dict()})

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self._write({"type": "capture", **failed_capture_record(path, error)})

    def done(self) -> None:
        (self.raw or self.out).flush()
