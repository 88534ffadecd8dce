"""A test-only Package #0 and WSP push encoder, independent of the decoder's code."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence

DIGEST = bytes(range(0xA0, 0xB0))  # any 16 bytes: the decoder does not verify


def trigger_header(
    version: int, ui_mode: int, initiator: int, future: int, session_id: int, server_id_length: int
) -> bytes:
    """The 64-bit header: version 10, ui-mode 2, initiator 1, future 27, session 16, length 8."""
    bits = version
    for value, width in ((ui_mode, 2), (initiator, 1), (future, 27), (session_id, 16), (server_id_length, 8)):
        assert 0 <= value < 1 << width
        bits = (bits << width) | value
    return bits.to_bytes(8, "big")


def pkg0(
    server_id: bytes | str,
    *,
    version: int = 11,
    ui_mode: int = 0,
    initiator: int = 1,
    future: int = 0,
    session_id: int = 1,
    vendor: bytes = b"",
    digest: bytes = DIGEST,
    server_id_length: int | None = None,
) -> bytes:
    raw = server_id.encode() if isinstance(server_id, str) else server_id
    length = len(raw) if server_id_length is None else server_id_length
    return digest + trigger_header(version, ui_mode, initiator, future, session_id, length) + raw + vendor


def ds_body(
    syncs: Sequence[tuple[int, int, bytes]], *, num_syncs: int | None = None, tail: bytes = b""
) -> bytes:
    """num-syncs/future, then per sync: type<<4, 3-byte content type, URI length, URI."""
    out = bytearray([(len(syncs) if num_syncs is None else num_syncs) << 4])
    for sync_type, content_type, uri in syncs:
        out += bytes([sync_type << 4]) + content_type.to_bytes(3, "big") + bytes([len(uri)]) + uri
    return bytes(out) + tail


def digest_for(message: bytes, server_id: str, password: str, nonce: bytes) -> bytes:
    """MD5(B64(MD5(serverid:password)) ":" nonce ":" B64(MD5(trigger)))."""

    def md5(data: bytes) -> bytes:
        return hashlib.md5(data).digest()

    credentials = base64.b64encode(md5(f"{server_id}:{password}".encode()))
    return md5(credentials + b":" + nonce + b":" + base64.b64encode(md5(message[16:])))


def uintvar(value: int) -> bytes:
    groups = [value & 0x7F]
    value >>= 7
    while value:
        groups.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(groups))


def short(value: int) -> bytes:
    """Short-integer: the value with the high bit set."""
    assert 0 <= value < 0x80
    return bytes([0x80 | value])


def text(value: str) -> bytes:
    return value.encode("latin-1") + b"\x00"


def long_integer(value: int) -> bytes:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return bytes([len(raw)]) + raw


def app_id_header(code: int) -> bytes:
    """X-Wap-Application-Id (0x2F) with a numeric application id."""
    return short(0x2F) + (short(code) if code < 0x80 else long_integer(code))


def wsp_push(content_type: bytes, headers: Iterable[bytes] = (), body: bytes = b"", tid: int = 0x01) -> bytes:
    """Connectionless push: TID, 0x06, HeadersLen uintvar, Content-Type + headers, data."""
    block = content_type + b"".join(headers)
    return bytes([tid, 0x06]) + uintvar(len(block)) + block + body
