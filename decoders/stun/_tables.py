"""STUN code tables: methods, classes and attribute types.

Covers RFC 3489 (classic STUN), RFC 5389, the RFC 5780 NAT-behaviour attributes, the
common TURN/ICE ones and the two TR-111 (TR-069 Annex G) attributes.  Adding a type is a
one-line change to the matching dict.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADDRESS_ATTRIBUTES",
    "ATTRIBUTE_NAMES",
    "BINDING_CHANGE",
    "CHANGE_REQUEST",
    "CLASS_NAMES",
    "CONNECTION_REQUEST_BINDING",
    "CONNECTION_REQUEST_BINDING_VALUE",
    "ERROR_CODE",
    "FINGERPRINT",
    "FINGERPRINT_XOR",
    "HEADER_LENGTH",
    "MAGIC_COOKIE",
    "MAPPED_ADDRESS",
    "MESSAGE_INTEGRITY",
    "METHOD_NAMES",
    "NONCE",
    "PASSWORD",
    "REALM",
    "RFC5389_REGISTERED_AS",
    "SOFTWARE",
    "STRING_ATTRIBUTES",
    "UNKNOWN_ATTRIBUTES",
    "USERNAME",
    "XOR_ADDRESS_ATTRIBUTES",
    "XOR_MAPPED_ADDRESS",
    "XOR_MAPPED_ADDRESS_OLD",
]

HEADER_LENGTH: Final = 20
#: RFC 5389 bytes 4..8; classic RFC 3489 has random transaction-id bytes there instead.
MAGIC_COOKIE: Final = 0x2112A442
#: RFC 5389 section 15.5: the CRC-32 is XORed with "STUN" so it differs from other CRCs.
FINGERPRINT_XOR: Final = 0x5354554E

#: Class bits (C1 C0) -> (``StunMessage.klass``, suffix of ``type_name``).
CLASS_NAMES: Final[dict[int, tuple[str, str]]] = {
    0b00: ("request", "Request"),
    0b01: ("indication", "Indication"),
    0b10: ("success", "Success Response"),
    0b11: ("error", "Error Response"),
}

#: 12-bit method -> name.  0x002 is RFC 3489's Shared Secret, reserved since RFC 5389.
METHOD_NAMES: Final[dict[int, str]] = {
    0x001: "Binding",
    0x002: "Shared Secret",
    0x003: "Allocate",
    0x004: "Refresh",
    0x006: "Send",
    0x007: "Data",
    0x008: "CreatePermission",
    0x009: "ChannelBind",
    0x00A: "Connect",
    0x00B: "ConnectionBind",
    0x00C: "ConnectionAttempt",
}

MAPPED_ADDRESS: Final = 0x0001
CHANGE_REQUEST: Final = 0x0003
USERNAME: Final = 0x0006
PASSWORD: Final = 0x0007
MESSAGE_INTEGRITY: Final = 0x0008
ERROR_CODE: Final = 0x0009
UNKNOWN_ATTRIBUTES: Final = 0x000A
REALM: Final = 0x0014
NONCE: Final = 0x0015
XOR_MAPPED_ADDRESS: Final = 0x0020
#: The pre-RFC 5389 drafts (and stacks built on them, e.g. Vovida's) used 0x8020.
XOR_MAPPED_ADDRESS_OLD: Final = 0x8020
SOFTWARE: Final = 0x8022
FINGERPRINT: Final = 0x8028
#: TR-111 part 1 (TR-069 Annex G): a CPE marks the Binding Requests that keep its UDP
#: Connection Request binding open, and flags a changed binding.
CONNECTION_REQUEST_BINDING: Final = 0xC001
BINDING_CHANGE: Final = 0xC002
CONNECTION_REQUEST_BINDING_VALUE: Final = b"dslforum.org/TR-111 "  # 20 bytes, trailing space
#: What the IANA STUN registry (RFC 5389 and later) assigns to the two TR-111 type codes.
RFC5389_REGISTERED_AS: Final[dict[int, str]] = {
    CONNECTION_REQUEST_BINDING: "ENF-FLOW-DESCRIPTION",
    BINDING_CHANGE: "ENF-NETWORK-STATUS",
}

ATTRIBUTE_NAMES: Final[dict[int, str]] = {
    0x0001: "MAPPED-ADDRESS",
    0x0002: "RESPONSE-ADDRESS",
    0x0003: "CHANGE-REQUEST",
    0x0004: "SOURCE-ADDRESS",
    0x0005: "CHANGED-ADDRESS",
    0x0006: "USERNAME",
    0x0007: "PASSWORD",
    0x0008: "MESSAGE-INTEGRITY",
    0x0009: "ERROR-CODE",
    0x000A: "UNKNOWN-ATTRIBUTES",
    0x000B: "REFLECTED-FROM",
    0x000C: "CHANNEL-NUMBER",
    0x000D: "LIFETIME",
    0x0012: "XOR-PEER-ADDRESS",
    0x0013: "DATA",
    0x0014: "REALM",
    0x0015: "NONCE",
    0x0016: "XOR-RELAYED-ADDRESS",
    0x0017: "REQUESTED-ADDRESS-FAMILY",
    0x0018: "EVEN-PORT",
    0x0019: "REQUESTED-TRANSPORT",
    0x001A: "DONT-FRAGMENT",
    0x001C: "MESSAGE-INTEGRITY-SHA256",
    0x0020: "XOR-MAPPED-ADDRESS",
    0x0022: "RESERVATION-TOKEN",
    0x0024: "PRIORITY",
    0x0025: "USE-CANDIDATE",
    0x0026: "PADDING",
    0x0027: "RESPONSE-PORT",
    0x8020: "XOR-MAPPED-ADDRESS",
    0x8022: "SOFTWARE",
    0x8023: "ALTERNATE-SERVER",
    0x8027: "CACHE-TIMEOUT",
    0x8028: "FINGERPRINT",
    0x8029: "ICE-CONTROLLED",
    0x802A: "ICE-CONTROLLING",
    0x802B: "RESPONSE-ORIGIN",
    0x802C: "OTHER-ADDRESS",
    0xC001: "CONNECTION-REQUEST-BINDING",
    0xC002: "BINDING-CHANGE",
}

#: Plain (family, port, address) attributes.
ADDRESS_ATTRIBUTES: Final = frozenset({0x0001, 0x0002, 0x0004, 0x0005, 0x000B, 0x8023, 0x802B, 0x802C})
#: Same layout, port and address XORed with the cookie (and, for IPv6, the transaction id).
XOR_ADDRESS_ATTRIBUTES: Final = frozenset({0x0012, 0x0016, 0x0020, 0x8020})
#: Text attributes, decoded as UTF-8 with replacement characters.
STRING_ATTRIBUTES: Final = frozenset({USERNAME, PASSWORD, REALM, NONCE, SOFTWARE})
