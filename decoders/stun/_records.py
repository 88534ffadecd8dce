"""Immutable records produced by :func:`decoders.stun.decode`.

One :class:`StunMessage` per datagram, or a :class:`StunError` when the bytes are not a
STUN message at all.  Attribute values are kept raw; ``decoded`` holds the typed reading
for the attribute kinds this package knows.  Problems are one-line strings starting with a
severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from ._tables import (
    BINDING_CHANGE,
    CONNECTION_REQUEST_BINDING,
    MAPPED_ADDRESS,
    USERNAME,
    XOR_MAPPED_ADDRESS,
    XOR_MAPPED_ADDRESS_OLD,
)

__all__ = [
    "AttributeValue",
    "StunAddress",
    "StunAttribute",
    "StunChangeRequest",
    "StunError",
    "StunErrorCode",
    "StunFingerprint",
    "StunMessage",
]


@dataclass(frozen=True, slots=True)
class StunAddress:
    """A transport address; XOR-* attributes are stored already un-XORed."""

    family: int  #: 1 = IPv4, 2 = IPv6 (the wire value)
    ip: str  #: textual form, IPv6 compressed ("2001:db8::1")
    port: int


@dataclass(frozen=True, slots=True)
class StunChangeRequest:
    """RFC 3489 CHANGE-REQUEST flags (kept by RFC 5780)."""

    change_ip: bool
    change_port: bool


@dataclass(frozen=True, slots=True)
class StunErrorCode:
    code: int  #: class * 100 + number, e.g. 401
    reason: str


@dataclass(frozen=True, slots=True)
class StunFingerprint:
    crc: int  #: as sent
    valid: bool  #: whether it equals CRC-32(message before it) XOR 0x5354554E


#: What ``StunAttribute.decoded`` may hold: an address, CHANGE-REQUEST flags, ERROR-CODE,
#: FINGERPRINT, the UNKNOWN-ATTRIBUTES type list, a text value, or None (raw bytes only).
AttributeValue: TypeAlias = (
    StunAddress | StunChangeRequest | StunErrorCode | StunFingerprint | tuple[int, ...] | str | None
)


@dataclass(frozen=True, slots=True)
class StunAttribute:
    type: int
    name: str  #: from ``ATTRIBUTE_NAMES``; "0x%04X" for types not in the table
    value: bytes  #: raw value, without padding
    decoded: AttributeValue
    #: Where the attribute's type field starts, counted from the start of the STUN header:
    #: MESSAGE-INTEGRITY's HMAC covers ``payload[:offset]`` (with RFC 5389's length rule).
    offset: int


@dataclass(frozen=True, slots=True)
class StunMessage:
    """One decoded STUN message, classic (RFC 3489) or RFC 5389."""

    message_type: int  #: the 14-bit type field, e.g. 0x0101
    method: int  #: 12-bit method, 1 = Binding
    klass: str  #: "request", "indication", "success" or "error"
    type_name: str  #: e.g. "Binding Request", "Binding Success Response"
    length: int  #: the header's length field (attribute bytes, excluding the header)
    magic_cookie: bool  #: bytes 4..8 are 0x2112A442 (RFC 5389); False for classic STUN
    #: 12 bytes (8..20) with the magic cookie; 16 bytes (4..20) for classic STUN.
    transaction_id: bytes
    attributes: tuple[StunAttribute, ...] = ()  #: wire order
    problems: tuple[str, ...] = ()

    def attribute(self, attr_type: int) -> StunAttribute | None:
        """The first attribute of that type, or None."""
        return next((a for a in self.attributes if a.type == attr_type), None)

    @property
    def connection_request_binding(self) -> bool:
        """TR-111: this Binding Request carries CONNECTION-REQUEST-BINDING (0xC001)."""
        return self.attribute(CONNECTION_REQUEST_BINDING) is not None

    @property
    def binding_change(self) -> bool:
        """TR-111: this Binding Request carries BINDING-CHANGE (0xC002)."""
        return self.attribute(BINDING_CHANGE) is not None

    @property
    def username(self) -> str | None:
        attr = self.attribute(USERNAME)
        return attr.decoded if attr is not None and isinstance(attr.decoded, str) else None

    @property
    def mapped_address(self) -> StunAddress | None:
        """XOR-MAPPED-ADDRESS (0x0020, else 0x8020) when present, else MAPPED-ADDRESS."""
        for attr_type in (XOR_MAPPED_ADDRESS, XOR_MAPPED_ADDRESS_OLD, MAPPED_ADDRESS):
            attr = self.attribute(attr_type)
            if attr is not None and isinstance(attr.decoded, StunAddress):
                return attr.decoded
        return None

    @property
    def errors(self) -> tuple[str, ...]:
        """Problems of severity "error"."""
        return tuple(p for p in self.problems if p.startswith("error: "))


@dataclass(frozen=True, slots=True)
class StunError:
    """The bytes are not a STUN message (too short, or the first two bits are set)."""

    reason: str
