"""Builders for STUN test messages, plus the RFC 5769 test vectors."""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Iterable

COOKIE = bytes.fromhex("2112a442")
#: A classic (RFC 3489) 16-byte transaction id: bytes 4..8 are not the cookie.
TID16 = bytes(range(0x10, 0x20))
#: RFC 5769's 12-byte transaction id; COOKIE + TID12 fills header bytes 4..20 of an RFC 5389 message.
TID12 = bytes.fromhex("b7e7a701bc34d686fa87dfae")
TR111 = b"dslforum.org/TR-111 "


def attr(attr_type: int, value: bytes, pad: bool = True) -> bytes:
    """One TLV; pad=False leaves an odd-length value unpadded (pre-RFC 5389 bugs)."""
    padding = b"\x00" * ((-len(value)) % 4) if pad else b""
    return struct.pack("!HH", attr_type, len(value)) + value + padding


def message(msg_type: int, attrs: Iterable[bytes] = (), tid: bytes = TID16) -> bytes:
    """Header + attributes; ``tid`` is header bytes 4..20 (pass COOKIE + TID12 for RFC 5389)."""
    assert len(tid) == 16
    body = b"".join(attrs)
    return struct.pack("!HH", msg_type, len(body)) + tid + body


def address(ip: str, port: int, xor_key: bytes | None = None) -> bytes:
    """MAPPED-ADDRESS style value; with ``xor_key`` (header bytes 4..20) the XOR-* encoding."""
    packed = ipaddress.ip_address(ip).packed
    family = 1 if len(packed) == 4 else 2
    if xor_key is not None:
        port ^= int.from_bytes(xor_key[:2], "big")
        packed = bytes(a ^ k for a, k in zip(packed, xor_key, strict=False))
    return struct.pack("!BBH", 0, family, port) + packed


def with_fingerprint(msg: bytes) -> bytes:
    """Append a correct FINGERPRINT (the length field is raised first, as RFC 5389 requires)."""
    length = struct.unpack_from("!H", msg, 2)[0] + 8
    msg = msg[:2] + struct.pack("!H", length) + msg[4:]
    crc = zlib.crc32(msg) ^ 0x5354554E
    return msg + attr(0x8028, struct.pack("!I", crc))


# RFC 5769 section 2.2 (IPv4) and 2.3 (IPv6) sample responses: SOFTWARE "test vector",
# XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY keyed with RFC5769_PASSWORD, FINGERPRINT.
RFC5769_PASSWORD = b"VOkJxbRl1RmTxUk/WvJxBt"
RFC5769_IPV4_RESPONSE = bytes.fromhex(
    "0101003c2112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000080001a147e112a643"
    "000800142b91f599fd9e90c38c7489f92af9ba53f06be7d7"
    "80280004c07d4c96"
)
RFC5769_IPV6_RESPONSE = bytes.fromhex(
    "010100482112a442b7e7a701bc34d686fa87dfae"
    "8022000b7465737420766563746f7220"
    "002000140002a1470113a9faa5d3f179bc25f4b5bed2b9d9"
    "00080014a382954e4be67bf11784c97c8292c275bfe3ed41"
    "80280004c8fb0b4c"
)
