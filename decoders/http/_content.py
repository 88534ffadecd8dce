"""Undoing Content-Encoding (RFC 9110 section 8.4) on a complete body.

Only what zlib can do: gzip (and its old alias x-gzip), deflate, identity.  "deflate"
is meant to be the zlib format, but some servers send raw DEFLATE, which browsers
accept, so both are tried.  Output is bounded at every stage: a few KB of gzip can
expand to gigabytes.
"""

from __future__ import annotations

import io
import zlib
from typing import Final

__all__ = ["decode_content"]

_GZIP_MAGIC: Final = b"\x1f\x8b"
_GZIP_WBITS: Final = 16 + zlib.MAX_WBITS
_ZLIB_WBITS: Final = zlib.MAX_WBITS
_RAW_WBITS: Final = -zlib.MAX_WBITS
_MAX_GZIP_MEMBERS: Final = 1000


class _DecodeError(Exception):
    pass


class _TooLarge(Exception):
    pass


#: Compressed input is handed to zlib this many bytes at a time, and output taken back.
_IN_STEP: Final = 1 << 16
_OUT_STEP: Final = 1 << 20


def _inflate(data: bytes, start: int, wbits: int, limit: int, out: io.BytesIO) -> int:
    """Decompress one zlib/gzip/raw stream from ``data[start:]`` into ``out`` (which, with what
    it held already, may not exceed ``limit`` bytes); return the offset where the stream ended.

    The input goes to zlib in slices and the output comes back in slices into one buffer, so
    decoding costs the output once: given the whole body at once, zlib returned the output in
    one piece to be copied and kept the rest of a 10 MB bomb as an ``unconsumed_tail`` copy, and
    the members of a multi-member stream were joined at the end.
    """
    d = zlib.decompressobj(wbits)
    view = memoryview(data)
    pos = start
    try:
        while pos < len(data) and not d.eof:
            pending: bytes | memoryview = view[pos : pos + _IN_STEP]
            pos += len(pending)
            while pending and not d.eof:
                room = limit - out.tell()
                piece = d.decompress(pending, min(room + 1, _OUT_STEP))
                if len(piece) > room:
                    raise _TooLarge
                out.write(piece)
                pending = d.unconsumed_tail
        if not d.eof:
            out.write(d.flush())
    except zlib.error as exc:
        raise _DecodeError(str(exc)) from None
    if out.tell() > limit:
        raise _TooLarge
    if not d.eof:
        raise _DecodeError("compressed data truncated")
    return pos - len(d.unused_data)


def _gunzip(data: bytes, limit: int) -> bytes:
    out = io.BytesIO()
    end = _inflate(data, 0, _GZIP_WBITS, limit, out)
    members = 1
    # Concatenated members are one valid gzip stream (RFC 1952 section 2.2); anything
    # else after the first member (zero padding from some servers) is ignored.
    while data[end : end + 2] == _GZIP_MAGIC and members < _MAX_GZIP_MEMBERS:
        end = _inflate(data, end, _GZIP_WBITS, limit, out)
        members += 1
    return out.getvalue()  # (hands over the buffer, no copy)


def _inflate_deflate(data: bytes, limit: int) -> bytes:
    out = io.BytesIO()
    try:
        _inflate(data, 0, _ZLIB_WBITS, limit, out)
    except _DecodeError as zlib_failure:
        out = io.BytesIO()
        try:
            _inflate(data, 0, _RAW_WBITS, limit, out)
        except _DecodeError:
            raise zlib_failure from None
    return out.getvalue()


def decode_content(body: bytes, content_encoding: str, limit: int) -> tuple[bytes | None, str | None]:
    """Undo the codings listed in a Content-Encoding value, last applied first.

    Returns ``(decoded, None)``, or ``(None, reason)`` with a one-line reason when a
    coding is unknown, the data is corrupt or truncated, or any stage would produce more
    than ``limit`` bytes.  An empty body decodes to an empty body whatever the coding
    (HEAD responses and 204s often carry the header with no data).
    """
    limit = max(0, limit)
    codings = [c.strip(" \t").lower() for c in content_encoding.split(",")]
    codings = [c for c in codings if c and c != "identity"]
    data = body if type(body) is bytes else bytes(body)
    for coding in codings:
        if coding not in ("gzip", "x-gzip", "deflate"):
            return None, f"unsupported content coding {coding!r}"
    if not codings and len(data) > limit:
        return None, f"decoded body exceeds limit {limit}"
    if not data:
        return data, None
    for coding in reversed(codings):
        try:
            data = _inflate_deflate(data, limit) if coding == "deflate" else _gunzip(data, limit)
        except _TooLarge:
            return None, f"decoded body exceeds limit {limit}"
        except _DecodeError as exc:
            return None, f"{coding} decoding failed: {exc}"
    return data, None
