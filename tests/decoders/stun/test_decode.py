"""STUN decoder: header, every attribute kind, every problem, the TR-111 attributes."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import struct

import pytest

from decoders.stun import (
    StunAddress,
    StunChangeRequest,
    StunError,
    StunErrorCode,
    StunFingerprint,
    StunMessage,
    decode,
    looks_like_stun,
    split_type,
)

from .helpers import (
    COOKIE,
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    RFC5769_PASSWORD,
    TID12,
    TID16,
    TR111,
    address,
    attr,
    message,
    with_fingerprint,
)

XOR_KEY = COOKIE + TID12  # header bytes 4..20 of an RFC 5389 message


def ok(payload: bytes) -> StunMessage:
    msg = decode(payload)
    assert isinstance(msg, StunMessage), msg
    return msg


def problems_with(msg: StunMessage, text: str) -> list[str]:
    return [p for p in msg.problems if text in p]


# ---------------------------------------------------------------- looks_like_stun


@pytest.mark.parametrize(
    "payload",
    [
        message(0x0001),
        message(0x0001, [attr(0x0006, b"user"), attr(0xC001, TR111)]),
        RFC5769_IPV4_RESPONSE,
        RFC5769_IPV6_RESPONSE,
    ],
)
def test_looks_like_stun(payload: bytes) -> None:
    assert looks_like_stun(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        message(0x0001)[:19],  # shorter than the header
        b"\x40" + message(0x0001)[1:],  # top bits set (e.g. RTP, ChannelData)
        message(0x0001, [attr(0x0006, b"user")]) + b"\x00" * 4,  # length field too small
        message(0x0001, [attr(0x0006, b"user")])[:-1],  # length field too large
        message(0x0001, [attr(0x0006, b"usr", pad=False)]),  # length not a multiple of 4
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
    ],
)
def test_does_not_look_like_stun(payload: bytes) -> None:
    assert not looks_like_stun(payload)


# ---------------------------------------------------------------- rejections


def test_short_payload_is_an_error() -> None:
    result = decode(b"\x00\x01\x00\x00")
    assert isinstance(result, StunError)
    assert "20-byte" in result.reason


def test_top_bits_set_is_an_error() -> None:
    result = decode(b"\x80" + message(0x0001)[1:])
    assert isinstance(result, StunError)
    assert "first two bits" in result.reason


def test_accepts_bytearray_and_memoryview() -> None:
    payload = message(0x0001, [attr(0x0006, b"user")])
    assert ok(bytearray(payload)) == ok(payload)
    assert decode(memoryview(payload)) == ok(payload)  # type: ignore[arg-type]


# ---------------------------------------------------------------- header and types


@pytest.mark.parametrize(
    ("msg_type", "method", "klass", "name"),
    [
        (0x0001, 1, "request", "Binding Request"),
        (0x0101, 1, "success", "Binding Success Response"),
        (0x0111, 1, "error", "Binding Error Response"),
        (0x0011, 1, "indication", "Binding Indication"),
        (0x0002, 2, "request", "Shared Secret Request"),
        (0x0102, 2, "success", "Shared Secret Success Response"),
        (0x0112, 2, "error", "Shared Secret Error Response"),
        (0x0003, 3, "request", "Allocate Request"),
        (0x0113, 3, "error", "Allocate Error Response"),
        (0x0016, 6, "indication", "Send Indication"),
        (0x0109, 9, "success", "ChannelBind Success Response"),
    ],
)
def test_message_types(msg_type: int, method: int, klass: str, name: str) -> None:
    msg = ok(message(msg_type))
    assert (msg.message_type, msg.method, msg.klass, msg.type_name) == (msg_type, method, klass, name)
    assert msg.problems == ()


def test_split_type_uses_every_method_bit() -> None:
    # M11..M7 C1 M6..M4 C0 M3..M0: all method bits set, both class bits set.
    assert split_type(0x3FFF) == (0xFFF, 0b11)
    assert split_type(0x3EEF) == (0xFFF, 0b00)
    assert split_type(0x0110) == (0x000, 0b11)


def test_unknown_method_is_info() -> None:
    msg = ok(message(0x0005 | 0x0100))  # method 5 is unassigned
    assert msg.type_name == "Method 0x005 Success Response"
    assert msg.problems == ("info: unknown method 0x005",)


def test_classic_transaction_id_is_16_bytes() -> None:
    msg = ok(message(0x0001))
    assert not msg.magic_cookie
    assert msg.transaction_id == TID16
    assert msg.length == 0


def test_rfc5389_transaction_id_is_12_bytes() -> None:
    msg = ok(message(0x0001, tid=XOR_KEY))
    assert msg.magic_cookie
    assert msg.transaction_id == TID12


def test_records_are_frozen() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"user")]))
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.method = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.attributes[0].value = b""  # type: ignore[misc]


# ---------------------------------------------------------------- TR-111


def test_classic_binding_request_with_username_and_connection_request_binding() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"cpe-0001"), attr(0xC001, TR111)]))
    assert msg.type_name == "Binding Request"
    assert [(a.type, a.name, a.offset) for a in msg.attributes] == [
        (0x0006, "USERNAME", 20),
        (0xC001, "CONNECTION-REQUEST-BINDING", 32),
    ]
    assert msg.username == "cpe-0001"
    assert msg.connection_request_binding
    assert not msg.binding_change
    assert msg.attributes[1].value == TR111
    assert msg.attributes[1].decoded == "dslforum.org/TR-111 "
    assert msg.problems == ()


def test_binding_change_request() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"cpe-0001"), attr(0xC001, TR111), attr(0xC002, b"")]))
    assert msg.connection_request_binding
    assert msg.binding_change
    change = msg.attributes[2]
    assert (change.name, change.value, change.decoded, change.offset) == ("BINDING-CHANGE", b"", None, 56)
    assert msg.problems == ()


@pytest.mark.parametrize(
    "value", [b"dslforum.org/TR-111", b"dslforum.org/TR-111\x00", b"DSLFORUM.ORG/TR-111 "]
)
def test_connection_request_binding_with_the_wrong_value_warns(value: bytes) -> None:
    msg = ok(message(0x0001, [attr(0xC001, value)]))
    assert msg.connection_request_binding  # still a TR-111 binding request
    assert len(problems_with(msg, "warning: CONNECTION-REQUEST-BINDING at offset 20: value")) == 1


def test_binding_change_with_a_value_warns() -> None:
    msg = ok(message(0x0001, [attr(0xC002, b"\x00\x00\x00\x01")]))
    assert msg.binding_change
    assert msg.problems == ("warning: BINDING-CHANGE at offset 20: length 4, TR-111 specifies 0",)


def test_tr111_attributes_in_an_rfc5389_message_are_pointed_out() -> None:
    msg = ok(message(0x0001, [attr(0xC001, TR111), attr(0xC002, b"")], tid=XOR_KEY))
    assert msg.connection_request_binding and msg.binding_change
    assert [p.split(" where ")[-1] for p in msg.problems] == [
        "0xC001 is ENF-FLOW-DESCRIPTION",
        "0xC002 is ENF-NETWORK-STATUS",
    ]
    assert all(p.startswith("info: ") for p in msg.problems)


# ---------------------------------------------------------------- addresses


def test_classic_binding_response_with_mapped_address() -> None:
    msg = ok(
        message(
            0x0101,
            [
                attr(0x0001, address("198.51.100.7", 7547)),
                attr(0x0004, address("192.0.2.1", 3478)),
                attr(0x0005, address("192.0.2.2", 3479)),
            ],
        )
    )
    assert msg.type_name == "Binding Success Response"
    assert msg.mapped_address == StunAddress(family=1, ip="198.51.100.7", port=7547)
    assert [a.name for a in msg.attributes] == ["MAPPED-ADDRESS", "SOURCE-ADDRESS", "CHANGED-ADDRESS"]
    assert msg.attributes[2].decoded == StunAddress(1, "192.0.2.2", 3479)
    assert msg.problems == ()


@pytest.mark.parametrize(
    ("attr_type", "name"),
    [
        (0x0001, "MAPPED-ADDRESS"),
        (0x0002, "RESPONSE-ADDRESS"),
        (0x0004, "SOURCE-ADDRESS"),
        (0x0005, "CHANGED-ADDRESS"),
        (0x000B, "REFLECTED-FROM"),
        (0x802B, "RESPONSE-ORIGIN"),
        (0x802C, "OTHER-ADDRESS"),
        (0x8023, "ALTERNATE-SERVER"),
    ],
)
@pytest.mark.parametrize(("ip", "family"), [("203.0.113.5", 1), ("2001:db8::5", 2)])
def test_plain_address_attributes(attr_type: int, name: str, ip: str, family: int) -> None:
    msg = ok(message(0x0101, [attr(attr_type, address(ip, 40000))]))
    (a,) = msg.attributes
    assert (a.name, a.decoded) == (name, StunAddress(family, ip, 40000))
    assert msg.problems == ()


@pytest.mark.parametrize("attr_type", [0x0020, 0x8020, 0x0012, 0x0016])
@pytest.mark.parametrize("ip", ["203.0.113.5", "2001:db8:1234:5678:11:2233:4455:6677"])
def test_xor_address_attributes(attr_type: int, ip: str) -> None:
    msg = ok(message(0x0101, [attr(attr_type, address(ip, 54321, XOR_KEY))], tid=XOR_KEY))
    (a,) = msg.attributes
    assert isinstance(a.decoded, StunAddress)
    assert (a.decoded.ip, a.decoded.port) == (ip, 54321)
    assert a.value != address(ip, 54321)  # really XORed on the wire


def test_rfc5769_ipv4_response() -> None:
    msg = ok(RFC5769_IPV4_RESPONSE)
    assert msg.type_name == "Binding Success Response"
    assert msg.magic_cookie
    assert msg.transaction_id == TID12
    assert [a.name for a in msg.attributes] == [
        "SOFTWARE",
        "XOR-MAPPED-ADDRESS",
        "MESSAGE-INTEGRITY",
        "FINGERPRINT",
    ]
    assert msg.attributes[0].decoded == "test vector"  # 11 bytes, padded with a space on the wire
    assert msg.mapped_address == StunAddress(family=1, ip="192.0.2.1", port=32853)
    assert msg.attributes[3].decoded == StunFingerprint(crc=0xC07D4C96, valid=True)
    assert msg.problems == ()


def test_rfc5769_ipv6_response() -> None:
    msg = ok(RFC5769_IPV6_RESPONSE)
    assert msg.mapped_address == StunAddress(family=2, ip="2001:db8:1234:5678:11:2233:4455:6677", port=32853)
    assert msg.problems == ()


@pytest.mark.parametrize("payload", [RFC5769_IPV4_RESPONSE, RFC5769_IPV6_RESPONSE])
def test_message_integrity_offset_is_enough_to_verify_the_hmac(payload: bytes) -> None:
    msg = ok(payload)
    mi = msg.attribute(0x0008)
    assert mi is not None and mi.decoded is None and len(mi.value) == 20
    # RFC 5389 15.4: HMAC over the message up to MESSAGE-INTEGRITY, with the length field
    # counting up to the end of MESSAGE-INTEGRITY (the FINGERPRINT after it excluded).
    covered = bytearray(payload[: mi.offset])
    covered[2:4] = struct.pack("!H", mi.offset + 24 - 20)
    assert hmac.new(RFC5769_PASSWORD, bytes(covered), hashlib.sha1).digest() == mi.value


def test_classic_xor_mapped_address_uses_the_first_transaction_id_bytes() -> None:
    # Pre-5389 drafts XORed with the transaction id's first bytes: the same header bytes.
    msg = ok(message(0x0101, [attr(0x8020, address("192.0.2.77", 5060, TID16))]))
    assert msg.mapped_address == StunAddress(1, "192.0.2.77", 5060)


def test_mapped_address_prefers_xor_mapped_address() -> None:
    attrs = [attr(0x0001, address("10.0.0.1", 1)), attr(0x0020, address("192.0.2.1", 2, XOR_KEY))]
    assert ok(message(0x0101, attrs, tid=XOR_KEY)).mapped_address == StunAddress(1, "192.0.2.1", 2)
    assert ok(message(0x0101, attrs[:1], tid=XOR_KEY)).mapped_address == StunAddress(1, "10.0.0.1", 1)
    assert ok(message(0x0101)).mapped_address is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (b"\x00\x01\x00", "length 3, too short for an address"),
        (b"\x00\x03\x00\x50" + bytes(4), "unknown address family 3"),
        (b"\x00\x01\x00\x50" + bytes(3), "length 7, expected 8 for family 1"),
        (b"\x00\x02\x00\x50" + bytes(4), "length 8, expected 20 for family 2"),
    ],
)
def test_bad_addresses_are_errors(value: bytes, problem: str) -> None:
    msg = ok(message(0x0101, [attr(0x0001, value)]))
    assert msg.attributes[0].decoded is None
    assert msg.attributes[0].value == value
    assert msg.problems[-1] == f"error: MAPPED-ADDRESS at offset 20: {problem}"
    assert msg.mapped_address is None


def test_overlong_address_is_an_error_but_decoded() -> None:
    msg = ok(message(0x0101, [attr(0x0001, address("192.0.2.1", 80) + bytes(4))]))
    assert msg.mapped_address == StunAddress(1, "192.0.2.1", 80)
    assert msg.problems == ("error: MAPPED-ADDRESS at offset 20: length 12, expected 8 for family 1",)


# ---------------------------------------------------------------- other attribute kinds


@pytest.mark.parametrize(
    ("flags", "expected"),
    [(0, (False, False)), (2, (False, True)), (4, (True, False)), (6, (True, True)), (0xF9, (False, False))],
)
def test_change_request(flags: int, expected: tuple[bool, bool]) -> None:
    msg = ok(message(0x0001, [attr(0x0003, bytes([0, 0, 0, flags]))]))
    assert msg.attributes[0].name == "CHANGE-REQUEST"
    assert msg.attributes[0].decoded == StunChangeRequest(*expected)
    assert msg.problems == ()


def test_change_request_with_the_wrong_length() -> None:
    msg = ok(message(0x0001, [attr(0x0003, b"\x00\x00\x00\x00\x06\x00\x00\x00")]))
    assert msg.attributes[0].decoded is None
    assert msg.problems == ("error: CHANGE-REQUEST at offset 20: length 8, expected 4",)


@pytest.mark.parametrize(
    ("attr_type", "name"),
    [(0x0006, "USERNAME"), (0x0007, "PASSWORD"), (0x0014, "REALM"), (0x0015, "NONCE"), (0x8022, "SOFTWARE")],
)
def test_text_attributes(attr_type: int, name: str) -> None:
    msg = ok(message(0x0001, [attr(attr_type, "grüße".encode()), attr(attr_type, b"ab\xffc")], tid=XOR_KEY))
    assert [(a.name, a.decoded) for a in msg.attributes] == [(name, "grüße"), (name, "ab\ufffdc")]
    assert msg.problems == ()


def test_username_keeps_classic_in_value_padding() -> None:
    # RFC 3489 makes USERNAME itself a multiple of 4; whatever filler is in it stays.
    msg = ok(message(0x0001, [attr(0x0006, b"cpe\x00")]))
    assert msg.username == "cpe\x00"


def test_error_code_401_with_realm_and_nonce() -> None:
    msg = ok(
        message(
            0x0111,
            [
                attr(0x0009, b"\x00\x00\x04\x01Unauthorized"),
                attr(0x0014, b"example.org"),
                attr(0x0015, b"f//499k954d6OL34oL9FSTvy64sA"),
                attr(0x8022, b"dmsniff test"),
            ],
            tid=XOR_KEY,
        )
    )
    assert msg.type_name == "Binding Error Response"
    assert msg.klass == "error"
    assert msg.attributes[0].decoded == StunErrorCode(code=401, reason="Unauthorized")
    assert [a.decoded for a in msg.attributes[1:3]] == ["example.org", "f//499k954d6OL34oL9FSTvy64sA"]
    assert [a.offset for a in msg.attributes] == [20, 40, 56, 88]
    assert msg.problems == ()


def test_error_code_without_reason() -> None:
    msg = ok(message(0x0111, [attr(0x0009, b"\x00\x00\x06\x00")]))
    assert msg.attributes[0].decoded == StunErrorCode(600, "")


@pytest.mark.parametrize(("cls", "number"), [(2, 0), (7, 0), (4, 100)])
def test_error_code_outside_the_range_warns(cls: int, number: int) -> None:
    msg = ok(message(0x0111, [attr(0x0009, bytes([0, 0, cls, number]) + b"Odd")]))
    assert msg.attributes[0].decoded == StunErrorCode(cls * 100 + number, "Odd")
    assert problems_with(msg, "warning: ERROR-CODE at offset 20: class")


def test_short_error_code_is_an_error() -> None:
    msg = ok(message(0x0111, [attr(0x0009, b"\x00\x04")]))
    assert msg.attributes[0].decoded is None
    assert msg.problems == ("error: ERROR-CODE at offset 20: length 2, too short for an error code",)


def test_unknown_attributes() -> None:
    # RFC 3489: an odd count is padded by repeating one of the types.
    msg = ok(message(0x0111, [attr(0x000A, struct.pack("!HHHH", 0x0031, 0x0032, 0x0033, 0x0033))]))
    assert msg.attributes[0].name == "UNKNOWN-ATTRIBUTES"
    assert msg.attributes[0].decoded == (0x31, 0x32, 0x33, 0x33)
    rfc5389 = ok(message(0x0111, [attr(0x000A, struct.pack("!HHH", 1, 2, 3))], tid=XOR_KEY))
    assert rfc5389.attributes[0].decoded == (1, 2, 3)
    assert rfc5389.problems == ()


def test_odd_unknown_attributes_is_an_error() -> None:
    msg = ok(message(0x0111, [attr(0x000A, b"\x00\x01\x00")], tid=XOR_KEY))
    assert msg.attributes[0].decoded is None
    assert msg.problems == ("error: UNKNOWN-ATTRIBUTES at offset 20: odd length 3",)


def test_message_integrity_wrong_length() -> None:
    msg = ok(message(0x0001, [attr(0x0008, bytes(16))]))
    assert msg.attributes[0].value == bytes(16)
    assert msg.problems == ("error: MESSAGE-INTEGRITY at offset 20: length 16, expected 20 (HMAC-SHA1)",)


def test_attributes_after_message_integrity_warn() -> None:
    msg = ok(message(0x0001, [attr(0x0008, bytes(20)), attr(0x0006, b"late")]))
    assert msg.problems == ("warning: USERNAME at offset 44 follows MESSAGE-INTEGRITY",)


def test_fingerprint_ok() -> None:
    msg = ok(with_fingerprint(message(0x0001, [attr(0x0006, b"evtj:h6vY")], tid=XOR_KEY)))
    fp = msg.attribute(0x8028)
    assert fp is not None and fp.name == "FINGERPRINT"
    assert isinstance(fp.decoded, StunFingerprint) and fp.decoded.valid
    assert msg.problems == ()


def test_fingerprint_bad() -> None:
    good = with_fingerprint(message(0x0001, [attr(0x0006, b"evtj:h6vY")], tid=XOR_KEY))
    bad = good[:-1] + bytes([good[-1] ^ 1])
    msg = ok(bad)
    fp = msg.attribute(0x8028)
    assert fp is not None and fp.decoded == StunFingerprint(crc=int.from_bytes(bad[-4:], "big"), valid=False)
    (problem,) = msg.problems
    assert problem.startswith("error: FINGERPRINT at offset 36: CRC 0x")
    assert f"(expected 0x{good[-4:].hex()})" in problem


def test_fingerprint_covers_the_header_too() -> None:
    good = with_fingerprint(message(0x0001, [attr(0x0006, b"user")], tid=XOR_KEY))
    other_tid = good[:19] + bytes([good[19] ^ 0xFF]) + good[20:]
    assert ok(good).problems == ()
    assert problems_with(ok(other_tid), "error: FINGERPRINT")


def test_fingerprint_wrong_length_and_position() -> None:
    msg = ok(message(0x0001, [attr(0x8028, b"\x00\x00"), attr(0x0006, b"user")]))
    assert msg.attributes[0].decoded is None
    assert msg.problems == (
        "error: FINGERPRINT at offset 20: length 2, expected 4",
        "warning: FINGERPRINT at offset 20 is not the last attribute",
    )


def test_unknown_attributes_keep_their_bytes() -> None:
    msg = ok(
        message(0x0001, [attr(0x7FFE, b"abcd"), attr(0xFFFE, b"efgh"), attr(0x0024, b"\x6e\x00\x01\xff")])
    )
    assert [(a.name, a.value, a.decoded) for a in msg.attributes] == [
        ("0x7FFE", b"abcd", None),
        ("0xFFFE", b"efgh", None),
        ("PRIORITY", b"\x6e\x00\x01\xff", None),  # named, value kept raw
    ]
    # Only the unknown comprehension-required one (< 0x8000) is worth a note.
    assert msg.problems == ("info: 0x7FFE at offset 20: unknown comprehension-required attribute",)


def test_attribute_lookup() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"one!"), attr(0x0006, b"two!")]))
    first = msg.attribute(0x0006)
    assert first is not None and first.decoded == "one!"
    assert msg.attribute(0x0007) is None
    assert msg.username == "one!"
    assert ok(message(0x0001)).username is None


# ---------------------------------------------------------------- lengths and padding


def test_rfc5389_padding() -> None:
    msg = ok(
        message(0x0001, [attr(0x0006, b"usr"), attr(0x8022, b"x"), attr(0x0007, b"secret")], tid=XOR_KEY)
    )
    assert [(a.decoded, a.offset) for a in msg.attributes] == [("usr", 20), ("x", 28), ("secret", 36)]
    assert msg.problems == ()


def test_unpadded_classic_attributes_are_read_without_padding() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"usr", pad=False), attr(0x0007, b"pass1", pad=False)]))
    assert [(a.decoded, a.offset) for a in msg.attributes] == [("usr", 20), ("pass1", 27)]
    assert msg.problems == ("warning: attribute values are not padded to 4 bytes (pre-RFC 5389)",)


def test_odd_last_attribute_without_padding() -> None:
    # Only the unpadded reading ends exactly at the message end.
    msg = ok(message(0x0001, [attr(0x0006, b"user"), attr(0x8022, b"ab", pad=False)], tid=XOR_KEY))
    assert [a.decoded for a in msg.attributes] == ["user", "ab"]
    assert msg.problems == (
        "warning: message length 14 is not a multiple of 4",
        "warning: attribute values are not padded to 4 bytes (pre-RFC 5389)",
    )


def test_missing_padding_after_the_last_attribute() -> None:
    # Earlier attributes are padded (so the unpadded reading fails); only the last lacks it.
    msg = ok(message(0x0001, [attr(0x0006, b"usr"), attr(0x8022, b"ab", pad=False)], tid=XOR_KEY))
    assert [a.decoded for a in msg.attributes] == ["usr", "ab"]
    assert msg.problems == (
        "warning: message length 14 is not a multiple of 4",
        "warning: the last attribute's padding is missing",
    )


def test_truncated_attribute_keeps_what_came_before() -> None:
    full = message(0x0001, [attr(0x0006, b"cpe-0001"), attr(0xC001, TR111)])
    msg = ok(full[:-5])
    assert [a.name for a in msg.attributes] == ["USERNAME"]
    assert msg.username == "cpe-0001"
    assert not msg.connection_request_binding
    assert msg.problems == (
        "error: length field says 36 attribute bytes, only 31 present",
        "error: CONNECTION-REQUEST-BINDING at offset 32 truncated: length 20, 15 bytes left",
    )


def test_attribute_longer_than_the_message() -> None:
    # A consistent length field, but the last TLV claims more than there is.
    payload = message(0x0001, [attr(0x0006, b"user"), struct.pack("!HH", 0x0007, 40) + b"pass"])
    msg = ok(payload)
    assert [a.name for a in msg.attributes] == ["USERNAME"]
    assert msg.problems == ("error: PASSWORD at offset 28 truncated: length 40, 4 bytes left",)


def test_stray_bytes_too_short_for_an_attribute() -> None:
    payload = message(0x0001, [attr(0x0006, b"user"), b"\x00\x06"])
    msg = ok(payload)
    assert msg.username == "user"
    assert msg.problems == (
        "warning: message length 10 is not a multiple of 4",
        "error: 2 stray bytes at offset 28, too few for an attribute",
    )


def test_bytes_after_the_message_are_ignored() -> None:
    msg = ok(message(0x0001, [attr(0x0006, b"user")]) + b"\xde\xad\xbe\xef")
    assert [a.decoded for a in msg.attributes] == ["user"]
    assert msg.problems == ("warning: 4 bytes after the message length (8) ignored",)


def test_header_only_with_a_length_and_no_attributes() -> None:
    msg = ok(struct.pack("!HH", 0x0001, 8) + TID16)
    assert msg.attributes == ()
    assert msg.problems == ("error: length field says 8 attribute bytes, only 0 present",)
