"""Logs read as captures: HTTP dumps, GenieACS debug logs, curl traces, HAR files, Fiddler archives,
message folders.

Often there is no capture, but there is the ACS's debug log, a ``curl -v`` trace, the HTTP
conversation a test suite recorded, or a folder of saved messages.  Each is turned into the
pipeline's own records (:mod:`dmsniff.logs.source`), so sessions, findings, verification,
devices, the UI and every report work on it as on a capture; frames are line numbers of the
file (files of a folder), so a finding says where to look.

One module per format parses it; :func:`log_format` recognises a log by its content (a
directory is a folder of messages); :func:`open_log` opens one; :func:`dmsniff.logs.run.run_log`
runs it through a pipeline.
"""

from __future__ import annotations

import os
import zlib

from dmsniff.capture import CaptureError, CaptureInfo
from dmsniff.logs.source import LogError, LogSource

__all__ = ["FORMATS", "INPUT_FORMATS", "LogError", "LogSource", "log_format", "open_log"]

#: The log formats, as ``--input-format`` names them and capture records report them.
FORMATS = ("http-dump", "genieacs-log", "curl", "har", "saz", "folder")
#: What ``--input-format`` accepts: ``auto`` (by content) and ``capture`` besides the logs.
INPUT_FORMATS = ("auto", "capture", *FORMATS)

UNKNOWN = "unknown"  # a text file in no known format: open_log says so
_LOG_SUFFIXES = (".log", ".txt", ".yaml", ".yml", ".json", ".har", ".saz", ".dump", ".trace", ".http")
_SNIFF = 64 << 10  # bytes looked at to recognise a file
MAX_LOG = 2 << 30  # a log is read into memory (HAR, dumps): refuse what would not fit
_CAPTURE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d",
                   b"\x0a\x0d\x0d\x0a")



def _capture_or_gzip(head: bytes) -> bool:
    """Whether these first bytes start a pcap or pcapng capture, or a gzip stream (the capture reader's)."""
    return head[:4] in _CAPTURE_MAGICS or head[:2] == b"\x1f\x8b"


def _gunzipped(raw: bytes, limit: int) -> bytes:
    """What the start ``raw`` of a gzip stream holds (at most ``limit`` bytes; b"" if it is no gzip)."""
    try:
        return zlib.decompressobj(31).decompress(raw, limit)  # (a prefix is enough: no error for the rest)
    except zlib.error:
        return b""


def _stdin_head() -> bytes:
    """The first bytes of standard input, as :func:`_head` gives them.

    A capture stream says so in 4 bytes, so no more is waited for (a live ``tcpdump -w -``); a gzip
    stream is read ahead until its first 4 bytes inside are known, and, when they are not a
    capture's, until enough of it is in to tell which log it is.
    """
    from dmsniff.capture.stdin import stdin_head

    head = stdin_head(4)
    if head[:4] in _CAPTURE_MAGICS:
        return head
    if head[:2] != b"\x1f\x8b":
        return stdin_head(_SNIFF)
    n = 64
    while True:
        raw = stdin_head(n)
        inner = _gunzipped(raw, _SNIFF)
        if inner[:4] in _CAPTURE_MAGICS:
            return raw  # a gzip'd capture: the capture reader's
        if len(inner) >= _SNIFF or len(raw) < n or n >= 4 * _SNIFF:  # enough, the end, or no text
            return inner or raw
        n *= 4


def _head(path: str) -> bytes:
    """The first bytes of a file (or of standard input, ``-``), gunzipped when it is gzip-compressed
    (except a gzip'd capture's, which the capture reader reads)."""
    if path == "-":
        return _stdin_head()
    try:
        with open(path, "rb") as f:
            head = f.read(_SNIFF)
    except OSError:
        return b""  # the capture reader says why it cannot be read
    if head[:2] == b"\x1f\x8b":
        return _gunzipped(head, _SNIFF) or head  # (a cut or damaged file: what its start holds)
    return head


def sniff(head: bytes) -> str | None:
    """Which log format the first bytes of a file are, if any."""
    if not head or head[:4] in _CAPTURE_MAGICS:
        return None
    # Only now: a capture (every run of a capture asks, before the decoding workers are forked)
    # needs none of the log readers, zipfile and the rest they import (12 ms).
    from dmsniff.logs import curl, genieacs, har, httpdump, saz

    if saz.looks_like(head):
        return "saz"
    text = head.lstrip(b"\xef\xbb\xbf")
    if genieacs.looks_like(text):
        return "genieacs-log"
    if har.looks_like(text):
        return "har"
    if curl.looks_like(text):
        return "curl"
    if httpdump.looks_like_http(text):
        return "http-dump"
    return None


def log_format(path: str, forced: str | None = None) -> str | None:
    """The log format of input ``path``, or None when it is to be read as a capture.

    ``forced`` is ``--input-format``: ``capture`` always reads a capture, a log format always
    that format; ``auto`` or None decides by content (a directory is a message folder).
    """
    if forced == "capture":
        return None
    if forced not in (None, "auto"):
        return forced
    if path != "-" and os.path.isdir(path):
        return "folder"
    head = _head(path)
    fmt = sniff(head)
    if fmt is None and head and not _capture_or_gzip(head):
        # Not a capture either: text in no known format, or binary named like a log.  The log
        # reader says which, in one line, rather than "not a pcap" for a file that never was one.
        text = not _binary(head)
        if text or path.lower().endswith(_LOG_SUFFIXES):
            return UNKNOWN
    return fmt


def _binary(sample: bytes) -> bool:
    return b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) // 100 + 1


def _gunzip_all(data: bytes, where: str) -> tuple[bytes, str | None]:
    """A whole gzip'd log gunzipped (the members of a multi-member file in turn), and where it was
    damaged or cut short, if it was: what came before is kept, as a cut capture's frames are."""
    out: list[bytes] = []
    size = 0
    while data:
        d = zlib.decompressobj(31)
        try:
            chunk = d.decompress(data, MAX_LOG + 1 - size)
        except zlib.error as exc:
            return b"".join(out), f"gzip stream damaged ({exc}): the log before the damage is read"
        out.append(chunk)
        size += len(chunk)
        if size > MAX_LOG:
            raise LogError(f"{where}: more than {MAX_LOG >> 20} MiB once gunzipped")
        if not d.eof:
            return b"".join(out), "gzip stream cut short: the log before the cut is read"
        data = d.unused_data
    return b"".join(out), None


def read_text(path: str) -> tuple[bytes, str | None]:
    """A log's bytes (gunzipped if need be) and what went wrong with its gzip stream, if anything;
    or LogError with one clear line."""
    if path == "-":
        from dmsniff.capture.stdin import stdin_stream

        data = stdin_stream().read(MAX_LOG + 1)
        if data[:2] == b"\x1f\x8b":  # (a gzip'd capture never comes here: see _stdin_head)
            return _gunzip_all(data, "standard input")
        if len(data) > MAX_LOG:
            raise LogError(f"standard input: more than {MAX_LOG >> 20} MiB, more than a log read whole")
        return data, None
    try:
        size = os.path.getsize(path)
        if size > MAX_LOG:
            raise LogError(f"{path!r}: {size >> 20} MiB is more than a log read whole ({MAX_LOG >> 20} MiB)")
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise LogError(f"cannot open {path!r}: no such file") from None
    except IsADirectoryError:
        raise LogError(f"cannot open {path!r}: it is a directory") from None
    except PermissionError:
        raise LogError(f"cannot open {path!r}: permission denied") from None
    except OSError as exc:
        raise LogError(f"cannot read {path!r}: {exc}") from None
    if data[:2] == b"\x1f\x8b":
        return _gunzip_all(data, repr(path))
    return data, None


def check_text(path: str, data: bytes, fmt: str) -> None:
    """Refuse binary data given as a text log: one clear line rather than a page of faults."""
    sample = data[:_SNIFF]
    if not sample.strip():
        raise LogError(f"{path!r} is empty")
    # A log that starts as its format does may carry binary bodies (gzip, WBXML): only what
    # starts as no known log is judged by its bytes.
    if sniff(sample) != fmt and _binary(sample):
        first = " ".join(f"{b:02x}" for b in sample[:8])
        what = f"a {fmt} log" if fmt != UNKNOWN else "a log dmsniff reads"
        raise LogError(f"{path!r} is neither a pcap/pcapng capture nor {what}: it holds binary data "
                       f"(first bytes {first})")


def open_log(path: str, fmt: str) -> LogSource:
    """Open ``path`` as a log of format ``fmt``; LogError when it cannot be read at all."""
    from dmsniff.logs import curl, folder, genieacs, har, httpdump, saz

    if fmt == "folder":
        if path == "-":
            raise LogError("a folder of messages is a directory, not standard input")
        info = CaptureInfo(path=path, format=fmt, compressed=False, frame_unit="line")
        return folder.open_folder(path, info)
    if fmt not in (*FORMATS, UNKNOWN):
        raise LogError(f"unknown input format {fmt!r} (one of {', '.join(INPUT_FORMATS)})")
    data, damaged = read_text(path)
    compressed = _is_gzip(path)
    path = "<stdin>" if path == "-" else path  # (standard input named as the capture reader names it)
    info = CaptureInfo(path=path, format=fmt, compressed=compressed, frame_unit="line")
    if damaged is not None:
        info.errors.append(damaged)
    if fmt == "saz":  # (a zip: binary)
        info.frame_unit = "session"
        archive = saz.open_archive(data, repr(path))
        return LogSource(path, fmt, info, lambda errors: saz.parse(archive, errors, info))
    check_text(path, data, fmt)
    if fmt == UNKNOWN:
        raise unrecognised(path)
    if fmt == "genieacs-log":
        return LogSource(path, fmt, info, lambda errors: genieacs.parse(data, errors, info))
    if fmt == "har":
        return LogSource(path, fmt, info, lambda errors: har.parse(data, errors, info))
    if fmt == "curl":
        if curl.is_trace(data):
            return LogSource(path, fmt, info,
                             runner=lambda asm, errors: curl.run_trace(data, asm, errors, info))
        return LogSource(path, fmt, info, lambda errors: curl.parse(data, errors, info))
    info.packets = data.count(b"\n") + (not data.endswith(b"\n"))
    return LogSource(path, fmt, info, lambda errors: httpdump.parse_dump(data, errors))


def _is_gzip(path: str) -> bool:
    if path == "-":
        from dmsniff.capture.stdin import stdin_head

        return stdin_head(2) == b"\x1f\x8b"  # (read ahead already: no waiting)
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"\x1f\x8b"
    except OSError:
        return False


def unrecognised(path: str) -> CaptureError:
    """The error for a file that is neither a capture nor a log of a known kind."""
    return LogError(f"{path!r} is not a pcap or pcapng capture, nor a log dmsniff reads (an HTTP dump, a "
                    "GenieACS debug log, a curl -v or --trace trace, a HAR file, a Fiddler .saz archive, "
                    "or a folder of messages); --input-format forces one")
