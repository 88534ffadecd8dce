"""decode_content: gzip, deflate (zlib and raw), stacking, limits, corrupt data."""

from __future__ import annotations

import gzip
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoders.http import decode_content

TEXT = b"<cwmp:Inform>" + b"<ParameterValueStruct>x</ParameterValueStruct>" * 200 + b"</cwmp:Inform>"


def raw_deflate(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return c.compress(data) + c.flush()


GOOD = [
    ("gzip", gzip.compress(TEXT)),
    ("x-gzip", gzip.compress(TEXT)),
    ("GZIP", gzip.compress(TEXT)),
    ("deflate", zlib.compress(TEXT)),  # zlib-wrapped, as RFC 9110 means it
    ("deflate", raw_deflate(TEXT)),  # raw, as some servers send it and browsers accept
    ("identity", TEXT),
    ("", TEXT),
    ("gzip, identity", gzip.compress(TEXT)),
    ("deflate, gzip", gzip.compress(zlib.compress(TEXT))),  # applied in order: undo gzip first
    (" gzip ,gzip", gzip.compress(gzip.compress(TEXT))),
    ("gzip", gzip.compress(TEXT[:100]) + gzip.compress(TEXT[100:])),  # two members
    ("gzip", gzip.compress(TEXT) + b"\0\0\0\0"),  # padding after the member is ignored
]


@pytest.mark.parametrize(("coding", "body"), GOOD, ids=[f"{c!r}-{i}" for i, (c, _) in enumerate(GOOD)])
def test_decodes(coding: str, body: bytes) -> None:
    assert decode_content(body, coding, 1 << 20) == (TEXT, None)


def test_empty_body_is_empty_whatever_the_coding() -> None:
    assert decode_content(b"", "gzip", 10) == (b"", None)
    assert decode_content(b"", "deflate", 0) == (b"", None)


BAD = [
    ("br", b"anything", "unsupported content coding 'br'"),
    ("gzip, zstd", b"anything", "unsupported content coding 'zstd'"),
    ("gzip", b"not gzip at all", "gzip decoding failed: Error -3 while decompressing data"),
    ("gzip", gzip.compress(TEXT)[:-20], "gzip decoding failed: compressed data truncated"),
    ("deflate", b"\xff\xfe\xfd garbage", "deflate decoding failed: Error -3 while decompressing data"),
    ("deflate", zlib.compress(TEXT)[:50], "deflate decoding failed: compressed data truncated"),
]


@pytest.mark.parametrize(("coding", "body", "reason"), BAD)
def test_failures_are_one_line_reasons(coding: str, body: bytes, reason: str) -> None:
    decoded, found = decode_content(body, coding, 1 << 20)
    assert decoded is None and found is not None
    assert found.startswith(reason)  # zlib's own wording varies with its version
    assert "\n" not in found


def test_corrupt_gzip_crc() -> None:
    data = bytearray(gzip.compress(TEXT))
    data[-8] ^= 0xFF  # CRC32 in the trailer
    decoded, reason = decode_content(bytes(data), "gzip", 1 << 20)
    assert decoded is None and reason is not None and reason.startswith("gzip decoding failed")


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_decompression_bomb_is_stopped(coding: str) -> None:
    bomb_src = b"\0" * (50 * 1024 * 1024)
    bomb = gzip.compress(bomb_src) if coding == "gzip" else zlib.compress(bomb_src)
    assert len(bomb) < 100_000
    assert decode_content(bomb, coding, 1024 * 1024) == (None, "decoded body exceeds limit 1048576")


def test_limit_is_inclusive_and_applies_to_every_stage() -> None:
    body = gzip.compress(TEXT)
    assert decode_content(body, "gzip", len(TEXT)) == (TEXT, None)
    small = len(TEXT) - 1
    assert decode_content(body, "gzip", small) == (None, f"decoded body exceeds limit {small}")
    assert decode_content(TEXT, "identity", 10) == (None, "decoded body exceeds limit 10")
    members = gzip.compress(TEXT) + gzip.compress(TEXT)
    limit = len(TEXT) + 5
    assert decode_content(members, "gzip", limit) == (None, f"decoded body exceeds limit {limit}")
    assert decode_content(gzip.compress(b"abc"), "gzip", -1) == (None, "decoded body exceeds limit 0")


@given(st.binary(max_size=2000), st.sampled_from(["gzip", "deflate", "x-gzip", "gzip, deflate", "br", ""]))
def test_never_raises(data: bytes, coding: str) -> None:
    decoded, reason = decode_content(data, coding, 10_000)
    assert (decoded is None) != (reason is None)
    assert decoded is None or len(decoded) <= 10_000


@given(st.binary(max_size=5000))
def test_roundtrip(data: bytes) -> None:
    assert decode_content(gzip.compress(data), "gzip", len(data)) == (data, None)
    assert decode_content(raw_deflate(data), "deflate", len(data)) == (data, None)
