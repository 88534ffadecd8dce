"""The STUN decoder reads what the real tshark reads.

Classic messages (no magic cookie) go to Wireshark's ``classicstun`` dissector, RFC 5389
ones to ``stun``.  Compared per frame: message type, attribute types in order, usernames
(classic: the raw values ``classicstun`` shows as bytes), addresses and ports (un-XORed),
CONNECTION-REQUEST-BINDING, error codes and FINGERPRINT status.

Every classic value here is a multiple of 4 bytes long: ``classicstun`` does not skip
padding, so padded odd lengths would make the two disagree by design.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest

from decoders.stun import StunAddress, StunErrorCode, StunFingerprint, StunMessage, decode

from .helpers import (
    COOKIE,
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    TID12,
    TID16,
    TR111,
    address,
    attr,
    message,
    with_fingerprint,
)

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

KEY = COOKIE + TID12
CLASSIC_OPAQUE = {0x0006, 0x0007, 0x0008, 0x0014, 0x0015}  # shown by classicstun as raw bytes only
CLASSIC_ADDRESSES = {0x0001, 0x0002, 0x0004, 0x0005, 0x000B, 0x8020}  # the ones classicstun decodes


def _bad_fingerprint(msg: bytes) -> bytes:
    return msg[:-1] + bytes([msg[-1] ^ 0x5A])


MESSAGES: list[bytes] = [
    # classic RFC 3489, TR-111 style
    message(0x0001, [attr(0x0006, b"cpe-0001"), attr(0xC001, TR111)]),
    message(0x0001, [attr(0x0006, b"cpe-0002"), attr(0xC001, TR111), attr(0xC002, b"")]),
    message(0x0001, [attr(0x0003, b"\x00\x00\x00\x06"), attr(0x0002, address("192.0.2.9", 4000))]),
    message(
        0x0101,
        [
            attr(0x0001, address("198.51.100.7", 7547)),
            attr(0x0004, address("192.0.2.1", 3478)),
            attr(0x0005, address("192.0.2.2", 3479)),
            attr(0x000B, address("203.0.113.9", 9)),
            attr(0x8020, address("198.51.100.7", 7547, TID16)),
        ],
    ),
    message(0x0101, [attr(0x0001, address("2001:db8::7", 7547))]),
    message(
        0x0111, [attr(0x0009, b"\x00\x00\x04\x01Unauthorized"), attr(0x000A, struct.pack("!HH", 0x31, 0x31))]
    ),
    message(0x0002, [attr(0x0006, b"shared-user!")]),
    message(0x0102, [attr(0x0006, b"shared-user!"), attr(0x0007, b"sekr")]),
    message(0x0001, [attr(0x0006, b"cpe-0003"), attr(0xC001, TR111), attr(0x0008, bytes(range(20)))]),
    # RFC 5389
    RFC5769_IPV4_RESPONSE,
    RFC5769_IPV6_RESPONSE,
    with_fingerprint(message(0x0001, [attr(0x0006, b"evtj:h6vY"), attr(0x8022, b"dmsniff")], tid=KEY)),
    _bad_fingerprint(with_fingerprint(message(0x0001, [attr(0x0006, b"x")], tid=KEY))),
    message(
        0x0111,
        [attr(0x0009, b"\x00\x00\x04\x01Unauthorized"), attr(0x0014, b"example.org"), attr(0x0015, b"n0nce")],
        tid=KEY,
    ),
    message(
        0x0101,
        [
            attr(0x0020, address("192.0.2.200", 61000, KEY)),
            attr(0x0001, address("192.0.2.200", 61000)),
            attr(0x802C, address("2001:db8::2", 3479)),
            attr(0x802B, address("192.0.2.2", 3478)),
            attr(0x8020, address("2001:db8:aa::1", 5, KEY)),
        ],
        tid=KEY,
    ),
    message(0x0001, [attr(0x0006, b"cpe"), attr(0xC001, TR111), attr(0xC002, b"")], tid=KEY),
]

FIELDS = [
    "classicstun.type",
    "classicstun.att.type",
    "classicstun.att.value",
    "classicstun.att.ipv4",
    "classicstun.att.ipv6",
    "classicstun.att.port",
    "classicstun.att.connection_request_binding",
    "classicstun.att.error.class",
    "classicstun.att.error",
    "stun.type",
    "stun.att.type",
    "stun.att.username",
    "stun.att.ipv4",
    "stun.att.ipv6",
    "stun.att.port",
    "stun.att.realm",
    "stun.att.nonce",
    "stun.att.error.class",
    "stun.att.error",
    "stun.att.crc32.status",
]


def write_pcap(path: Path, payloads: list[bytes]) -> None:
    from scapy.all import IP, UDP, Ether, Raw, wrpcap  # scapy is slow to import: only here

    frames = [
        Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
        / IP(src="192.0.2.10", dst="192.0.2.1")
        / UDP(sport=40000 + i, dport=3478)
        / Raw(p)
        for i, p in enumerate(payloads)
    ]
    wrpcap(str(path), frames)


def tshark_views(path: Path) -> list[dict[str, Any]]:
    cmd = ["tshark", "-n", "-r", str(path), "-T", "fields", "-E", "separator=\t", "-E", "aggregator=|"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=120).stdout
    views = []
    for line in out.split("\n")[:-1]:  # keep trailing spaces: the TR-111 value ends in one
        row = dict(zip(FIELDS, line.split("\t"), strict=True))

        def ints(name: str) -> list[int]:
            return [int(v, 0) for v in row[name].split("|") if v]  # noqa: B023

        def strs(name: str) -> list[str]:
            return [v for v in row[name].split("|") if v]  # noqa: B023

        classic = bool(row["classicstun.type"])
        p = "classicstun" if classic else "stun"
        errors = [
            c * 100 + n for c, n in zip(ints(f"{p}.att.error.class"), ints(f"{p}.att.error"), strict=True)
        ]
        views.append(
            {
                "classic": classic,
                "type": ints(f"{p}.type")[0],
                "attr_types": ints(f"{p}.att.type"),
                "opaque": strs("classicstun.att.value"),
                "usernames": strs("stun.att.username"),
                "realms": strs("stun.att.realm"),
                "nonces": strs("stun.att.nonce"),
                "ipv4": strs(f"{p}.att.ipv4"),
                "ipv6": strs(f"{p}.att.ipv6"),
                "ports": ints(f"{p}.att.port"),
                "crb": strs("classicstun.att.connection_request_binding"),
                "errors": errors,
                "fingerprint_ok": [v == "1" for v in strs("stun.att.crc32.status")],
            }
        )
    return views


def our_view(payload: bytes) -> dict[str, Any]:
    msg = decode(payload)
    assert isinstance(msg, StunMessage), msg
    classic = not msg.magic_cookie
    addresses = [
        a.decoded
        for a in msg.attributes
        if isinstance(a.decoded, StunAddress) and (not classic or a.type in CLASSIC_ADDRESSES)
    ]

    def texts(attr_type: int) -> list[str]:
        return [a.decoded for a in msg.attributes if a.type == attr_type and isinstance(a.decoded, str)]

    return {
        "classic": classic,
        "type": msg.message_type,
        "attr_types": [a.type for a in msg.attributes],
        "opaque": [a.value.hex() for a in msg.attributes if a.type in CLASSIC_OPAQUE] if classic else [],
        "usernames": [] if classic else texts(0x0006),
        "realms": [] if classic else texts(0x0014),
        "nonces": [] if classic else texts(0x0015),
        "ipv4": [a.ip for a in addresses if a.family == 1],
        "ipv6": [a.ip for a in addresses if a.family == 2],
        "ports": [a.port for a in addresses],
        "crb": texts(0xC001) if classic else [],
        "errors": [a.decoded.code for a in msg.attributes if isinstance(a.decoded, StunErrorCode)],
        "fingerprint_ok": [a.decoded.valid for a in msg.attributes if isinstance(a.decoded, StunFingerprint)],
    }


def test_same_stun_as_tshark(tmp_path: Path) -> None:
    cap = tmp_path / "stun.pcap"
    write_pcap(cap, MESSAGES)
    theirs = tshark_views(cap)
    assert len(theirs) == len(MESSAGES)
    for number, (payload, view) in enumerate(zip(MESSAGES, theirs, strict=True), start=1):
        assert our_view(payload) == view, f"frame {number}"


def test_the_comparison_covers_what_it_claims(tmp_path: Path) -> None:
    """Guard against a silently empty oracle (a renamed field would compare [] with [])."""
    cap = tmp_path / "stun.pcap"
    write_pcap(cap, MESSAGES)
    theirs = tshark_views(cap)
    assert sum(v["classic"] for v in theirs) == 9
    assert sum(len(v["crb"]) for v in theirs) == 3
    assert bytes.fromhex(theirs[0]["opaque"][0]) == b"cpe-0001"
    assert [u for v in theirs for u in v["usernames"]] == ["evtj:h6vY", "x", "cpe"]
    assert "2001:db8:1234:5678:11:2233:4455:6677" in theirs[10]["ipv6"]
    assert theirs[11]["fingerprint_ok"] == [True]
    assert theirs[12]["fingerprint_ok"] == [False]
    assert [e for v in theirs for e in v["errors"]] == [401, 401]
    assert 0xC002 in theirs[1]["attr_types"] and 0xC001 in theirs[15]["attr_types"]
