"""decode(): one UDP payload to a :class:`StunMessage`, never raising.

Classic STUN (RFC 3489) and RFC 5389 share the 20-byte header and the TLV attributes; they
differ in bytes 4..8 (random in 3489, the magic cookie in 5389) and in padding: 5389 pads
each value to 4 bytes, while 3489 values are multiples of 4 already.  Both are read with
one walker; a message whose unpadded lengths only fit without padding (pre-5389 stacks) is
read that way, with a warning.
"""

from __future__ import annotations

import ipaddress
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from decoders._errors import internal_error

from ._records import (
    AttributeValue,
    StunAddress,
    StunAttribute,
    StunChangeRequest,
    StunError,
    StunErrorCode,
    StunFingerprint,
    StunMessage,
)
from ._tables import (
    ADDRESS_ATTRIBUTES,
    ATTRIBUTE_NAMES,
    BINDING_CHANGE,
    CHANGE_REQUEST,
    CLASS_NAMES,
    CONNECTION_REQUEST_BINDING,
    CONNECTION_REQUEST_BINDING_VALUE,
    ERROR_CODE,
    FINGERPRINT,
    FINGERPRINT_XOR,
    HEADER_LENGTH,
    MAGIC_COOKIE,
    MESSAGE_INTEGRITY,
    METHOD_NAMES,
    RFC5389_REGISTERED_AS,
    STRING_ATTRIBUTES,
    UNKNOWN_ATTRIBUTES,
    XOR_ADDRESS_ATTRIBUTES,
)

__all__ = ["attribute_name", "decode", "looks_like_stun", "split_type"]

_COOKIE_BYTES: Final = MAGIC_COOKIE.to_bytes(4, "big")
_HEADER: Final = struct.Struct("!HH")  # type, length: the message header and every attribute's TLV head
_FAMILY_LENGTHS: Final = {1: 4, 2: 16}  # address family -> address bytes
_HMAC_SHA1_LENGTH: Final = 20


def looks_like_stun(payload: bytes) -> bool:
    """Cheap test for a STUN message: header present, top bits clear, length fits exactly.

    The magic cookie is not required, so classic RFC 3489 traffic passes too.
    """
    if len(payload) < HEADER_LENGTH or payload[0] & 0xC0:
        return False
    length = int.from_bytes(payload[2:4], "big")
    return length == len(payload) - HEADER_LENGTH and length % 4 == 0


def split_type(message_type: int) -> tuple[int, int]:
    """(method, class bits) of a message type: RFC 5389 interleaves C1/C0 into the method bits.

    The RFC 3489 types (0x0001, 0x0101, 0x0111, 0x0002, ...) come out right as well: the
    5389 layout was chosen so they would.
    """
    method = (message_type & 0x000F) | ((message_type & 0x00E0) >> 1) | ((message_type & 0x3E00) >> 2)
    klass = ((message_type & 0x0100) >> 7) | ((message_type & 0x0010) >> 4)
    return method, klass


def attribute_name(attr_type: int) -> str:
    return ATTRIBUTE_NAMES.get(attr_type, f"0x{attr_type:04X}")


def decode(payload: bytes) -> StunMessage | StunError:
    """Decode one STUN message.  Never raises: internal failures become a :class:`StunError`."""
    try:
        return _decode(bytes(payload))
    except Exception as exc:  # a decoder bug must not take the analyser down
        return StunError(internal_error(exc))


def _decode(payload: bytes) -> StunMessage | StunError:
    if len(payload) < HEADER_LENGTH:
        return StunError(f"{len(payload)} bytes, shorter than the 20-byte STUN header")
    message_type, length = _HEADER.unpack_from(payload)
    if message_type & 0xC000:
        return StunError(f"first two bits of the message type 0x{message_type:04x} are not zero")

    problems: list[str] = []
    method, class_bits = split_type(message_type)
    klass, class_text = CLASS_NAMES[class_bits]
    method_name = METHOD_NAMES.get(method)
    if method_name is None:
        method_name = f"Method 0x{method:03X}"
        problems.append(f"info: unknown method 0x{method:03X}")
    magic = payload[4:8] == _COOKIE_BYTES

    available = len(payload) - HEADER_LENGTH
    end = HEADER_LENGTH + min(length, available)
    if length > available:
        problems.append(f"error: length field says {length} attribute bytes, only {available} present")
    elif length < available:
        problems.append(f"warning: {available - length} bytes after the message length ({length}) ignored")
    if length % 4:
        problems.append(f"warning: message length {length} is not a multiple of 4")

    raw, walk_problems = _attributes(payload, end)
    problems.extend(walk_problems)
    ctx = _Ctx(payload, problems, magic)
    attributes = tuple(_attribute(attr_type, offset, value, ctx) for attr_type, offset, value in raw)
    _check_order(attributes, problems)

    return StunMessage(
        message_type=message_type,
        method=method,
        klass=klass,
        type_name=f"{method_name} {class_text}",
        length=length,
        magic_cookie=magic,
        transaction_id=payload[8:20] if magic else payload[4:20],
        attributes=attributes,
        problems=tuple(problems),
    )


# ---------------------------------------------------------------- walking the TLVs

_Raw = tuple[int, int, bytes]  # type, offset, value


@dataclass(slots=True)
class _Walk:
    attributes: list[_Raw] = field(default_factory=list)
    problem: str | None = None  # why the walk stopped early
    end: int = HEADER_LENGTH  # where it stopped; past the end when the last padding is missing


def _walk(payload: bytes, end: int, padded: bool) -> _Walk:
    walk = _Walk()
    offset = HEADER_LENGTH
    while offset < end:
        if end - offset < 4:
            walk.problem = f"error: {end - offset} stray bytes at offset {offset}, too few for an attribute"
            break
        attr_type, attr_length = _HEADER.unpack_from(payload, offset)
        if offset + 4 + attr_length > end:
            walk.problem = (
                f"error: {attribute_name(attr_type)} at offset {offset} truncated: "
                f"length {attr_length}, {end - offset - 4} bytes left"
            )
            break
        walk.attributes.append((attr_type, offset, payload[offset + 4 : offset + 4 + attr_length]))
        offset += 4 + ((attr_length + 3) & ~3 if padded else attr_length)
    walk.end = offset
    return walk


def _attributes(payload: bytes, end: int) -> tuple[list[_Raw], list[str]]:
    padded = _walk(payload, end, padded=True)
    if padded.problem is None and padded.end == end:
        return padded.attributes, []
    # Some pre-RFC 5389 stacks sent odd lengths without padding: accept that reading only
    # when it accounts for every byte and padding would not.
    unpadded = _walk(payload, end, padded=False)
    if unpadded.problem is None and unpadded.end == end:
        return unpadded.attributes, ["warning: attribute values are not padded to 4 bytes (pre-RFC 5389)"]
    if padded.problem is not None:
        return padded.attributes, [padded.problem]
    return padded.attributes, ["warning: the last attribute's padding is missing"]


# ---------------------------------------------------------------- attribute values


@dataclass(slots=True)
class _Ctx:
    payload: bytes  # the whole message: XOR keys and FINGERPRINT need the header and prefix
    problems: list[str]
    magic: bool = False
    type: int = 0  # the attribute being read
    name: str = ""
    offset: int = 0

    def problem(self, severity: str, text: str) -> None:
        self.problems.append(f"{severity}: {self.name} at offset {self.offset}: {text}")


def _attribute(attr_type: int, offset: int, value: bytes, ctx: _Ctx) -> StunAttribute:
    ctx.type, ctx.name, ctx.offset = attr_type, attribute_name(attr_type), offset
    reader = ATTRIBUTE_READERS.get(attr_type)
    if reader is not None:
        decoded = reader(value, ctx)
    else:
        decoded = None
        if attr_type < 0x8000 and attr_type not in ATTRIBUTE_NAMES:
            ctx.problem("info", "unknown comprehension-required attribute")
    return StunAttribute(type=attr_type, name=ctx.name, value=value, decoded=decoded, offset=offset)


def _address(value: bytes, ctx: _Ctx, xor: bool = False) -> StunAddress | None:
    if len(value) < 4:
        ctx.problem("error", f"length {len(value)}, too short for an address")
        return None
    family, port = value[1], int.from_bytes(value[2:4], "big")
    size = _FAMILY_LENGTHS.get(family)
    if size is None:
        ctx.problem("error", f"unknown address family {family}")
        return None
    if len(value) != 4 + size:
        ctx.problem("error", f"length {len(value)}, expected {4 + size} for family {family}")
        if len(value) < 4 + size:
            return None
    address = value[4 : 4 + size]
    if xor:
        # The key is the header from byte 4 on: the cookie, then the transaction id (IPv6).
        # Classic stacks' XOR-MAPPED-ADDRESS (0x8020) used the same header bytes, which were
        # the start of their 16-byte transaction id (Wireshark's classicstun does the same).
        port ^= int.from_bytes(ctx.payload[4:6], "big")
        address = bytes(a ^ k for a, k in zip(address, ctx.payload[4 : 4 + size], strict=True))
    ip = ipaddress.IPv4Address(address) if size == 4 else ipaddress.IPv6Address(address)
    return StunAddress(family=family, ip=str(ip), port=port)


def _xor_address(value: bytes, ctx: _Ctx) -> StunAddress | None:
    return _address(value, ctx, xor=True)


def _text(value: bytes, ctx: _Ctx) -> str:
    return value.decode("utf-8", errors="replace")


def _change_request(value: bytes, ctx: _Ctx) -> StunChangeRequest | None:
    if len(value) != 4:
        ctx.problem("error", f"length {len(value)}, expected 4")
        return None
    return StunChangeRequest(change_ip=bool(value[3] & 0x04), change_port=bool(value[3] & 0x02))


def _error_code(value: bytes, ctx: _Ctx) -> StunErrorCode | None:
    if len(value) < 4:
        ctx.problem("error", f"length {len(value)}, too short for an error code")
        return None
    error_class, number = value[2] & 0x07, value[3]
    if not 3 <= error_class <= 6 or number > 99:
        ctx.problem("warning", f"class {error_class} number {number} is outside 300..699")
    return StunErrorCode(code=error_class * 100 + number, reason=value[4:].decode("utf-8", errors="replace"))


def _unknown_attributes(value: bytes, ctx: _Ctx) -> tuple[int, ...] | None:
    if len(value) % 2:
        ctx.problem("error", f"odd length {len(value)}")
        return None
    return tuple(int.from_bytes(value[i : i + 2], "big") for i in range(0, len(value), 2))


def _message_integrity(value: bytes, ctx: _Ctx) -> None:
    # Kept raw: checking the HMAC needs the password, which a decoder does not have.
    if len(value) != _HMAC_SHA1_LENGTH:
        ctx.problem("error", f"length {len(value)}, expected {_HMAC_SHA1_LENGTH} (HMAC-SHA1)")


def _fingerprint(value: bytes, ctx: _Ctx) -> StunFingerprint | None:
    if len(value) != 4:
        ctx.problem("error", f"length {len(value)}, expected 4")
        return None
    crc = int.from_bytes(value, "big")
    expected = zlib.crc32(ctx.payload[: ctx.offset]) ^ FINGERPRINT_XOR
    if crc != expected:
        ctx.problem("error", f"CRC 0x{crc:08x} does not match the message (expected 0x{expected:08x})")
    return StunFingerprint(crc=crc, valid=crc == expected)


def _tr111_in_rfc5389(ctx: _Ctx) -> None:
    # TR-111 defined 0xC001/0xC002 for classic STUN only; in the RFC 5389 registry these
    # codes belong to other attributes, so a cookie-carrying CPE is worth pointing out.
    if ctx.magic:
        other = RFC5389_REGISTERED_AS[ctx.type]
        ctx.problem("info", f"TR-111 attribute in an RFC 5389 message, where 0x{ctx.type:04X} is {other}")


def _connection_request_binding(value: bytes, ctx: _Ctx) -> str:
    _tr111_in_rfc5389(ctx)
    if value != CONNECTION_REQUEST_BINDING_VALUE:
        ctx.problem("warning", f"value {value!r}, TR-111 specifies {CONNECTION_REQUEST_BINDING_VALUE!r}")
    return value.decode("utf-8", errors="replace")


def _binding_change(value: bytes, ctx: _Ctx) -> None:
    _tr111_in_rfc5389(ctx)
    if value:
        ctx.problem("warning", f"length {len(value)}, TR-111 specifies 0")


_Reader = Callable[[bytes, _Ctx], AttributeValue]

#: attribute type -> reader of its value.  Types not listed keep only their raw bytes.
ATTRIBUTE_READERS: Final[dict[int, _Reader]] = {
    **{t: _address for t in ADDRESS_ATTRIBUTES},
    **{t: _xor_address for t in XOR_ADDRESS_ATTRIBUTES},
    **{t: _text for t in STRING_ATTRIBUTES},
    CHANGE_REQUEST: _change_request,
    ERROR_CODE: _error_code,
    UNKNOWN_ATTRIBUTES: _unknown_attributes,
    MESSAGE_INTEGRITY: _message_integrity,
    FINGERPRINT: _fingerprint,
    CONNECTION_REQUEST_BINDING: _connection_request_binding,
    BINDING_CHANGE: _binding_change,
}


def _check_order(attributes: tuple[StunAttribute, ...], problems: list[str]) -> None:
    """MESSAGE-INTEGRITY may only be followed by FINGERPRINT, and FINGERPRINT comes last."""
    seen_integrity = False
    for i, attr in enumerate(attributes):
        if seen_integrity and attr.type != FINGERPRINT:
            problems.append(f"warning: {attr.name} at offset {attr.offset} follows MESSAGE-INTEGRITY")
        if attr.type == FINGERPRINT and i != len(attributes) - 1:
            problems.append(f"warning: FINGERPRINT at offset {attr.offset} is not the last attribute")
        seen_integrity = seen_integrity or attr.type == MESSAGE_INTEGRITY
