"""Undoing Content-Encoding (RFC 9110 section 8.4) on a complete body.

Only what zlib can do: gzip (and its old alias x-gzip), deflate, identity.  "deflate"
is meant to be the zlib format, but some servers send raw DEFLATE, which browsers
accept, so both are tried.  Output is bounded at every stage: a few KB of gzip can
expand to gigabytes.
"""

from __future__ import annotations

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


def _inflate(data: bytes, wbits: int, limit: int) -> tuple[bytes, bytes]:
    """Decompress one zlib/gzip/raw stream; return (output, bytes after the stream)."""
    d = zlib.decompressobj(wbits)
    try:
        out = d.decompress(data, limit + 1)
        if len(out) > limit or d.unconsumed_tail:
            raise _TooLarge
        out += d.flush()
    except zlib.error as exc:
        raise _DecodeError(str(exc)) from None
    if len(out) > limit:
        raise _TooLarge
    if not d.eof:
        raise _DecodeError("compressed data truncated")
    return out, d.unused_data


def _gunzip(data: bytes, limit: int) -> bytes:
    out, rest = _inflate(data, _GZIP_WBITS, limit)
    members = [out]
    total = len(out)
    # Concatenated members are one valid gzip stream (RFC 1952 section 2.2); anything
    # else after the first member (zero padding from some servers) is ignored.
    while rest[:2] == _GZIP_MAGIC and len(members) < _MAX_GZIP_MEMBERS:
        out, rest = _inflate(rest, _GZIP_WBITS, limit - total)
        members.append(out)
        total += len(out)
    return b"".join(members)


def _inflate_deflate(data: bytes, limit: int) -> bytes:
    try:
        return _inflate(data, _ZLIB_WBITS, limit)[0]
    except _DecodeError as zlib_failure:
        try:
            return _inflate(data, _RAW_WBITS, limit)[0]
        except _DecodeError:
            raise zlib_failure from None


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
