"""SyncML auth-basic/auth-md5, x-syncml-hmac, Package #0 digests and the TR-111 signature."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from decoders.auth import (
    RESYNC_NONCES,
    AuthParseError,
    SyncmlHmac,
    mac_matches,
    parse_syncml_basic,
    parse_syncml_hmac,
    pkg0_digest,
    syncml_basic,
    syncml_hmac,
    syncml_md5,
    tr111_signature,
)
from decoders.tr111 import UdpConnectionRequest, decode, signature


def test_repro_auth_basic_vector() -> None:
    # OMA RepPro 1.2.1 §5.3 example.
    assert syncml_basic("Bruce2", "OhBehave") == "QnJ1Y2UyOk9oQmVoYXZl"
    assert parse_syncml_basic("QnJ1Y2UyOk9oQmVoYXZl") == ("Bruce2", "OhBehave")
    assert parse_syncml_basic(b"QnJ1Y2UyOk9oQmVoYXZl\r\n") == ("Bruce2", "OhBehave")


@pytest.mark.parametrize("data", ["", "!!!", "QnJ1Y2Uy", "\u00e9", "a"])
def test_parse_syncml_basic_rejects(data: str) -> None:
    assert parse_syncml_basic(data) is None  # "QnJ1Y2Uy" is "Bruce2": no colon


def test_parse_syncml_basic_latin1_and_unpadded() -> None:
    data = base64.b64encode("J\u00e4s:pw".encode("latin-1")).decode().rstrip("=")
    assert parse_syncml_basic(data) == ("J\u00e4s", "pw")


def test_repro_auth_md5_vector() -> None:
    # OMA RepPro 1.2.1 §5.3 example: Bruce2 / OhBehave / nonce "Nonce".
    digest = syncml_md5("Bruce2", "OhBehave", b"Nonce")
    assert len(digest) == 16
    assert base64.b64encode(digest).decode() == "Zz6EivR3yeaaENcRN6lpAQ=="
    assert syncml_md5(b"Bruce2", b"OhBehave", b"Nonce") == digest
    assert mac_matches("Zz6EivR3yeaaENcRN6lpAQ==", digest) == "b64-raw"
    assert mac_matches(b"Zz6EivR3yeaaENcRN6lpAQ==", digest) == "b64-raw"
    assert mac_matches(digest, digest) == "raw"  # WBXML opaque Cred
    assert mac_matches(b"Zz6EivR3yeaaENcRN6lpAQ==", syncml_md5("Bruce2", "OhBehave", b"nonce")) is None


def test_hmac_formula_written_out() -> None:
    user, password, nonce, body = "dmuser", "dmpass", b"\x01\x02nonce", b"<SyncML>...</SyncML>"

    def b64md5(data: bytes) -> bytes:
        return base64.b64encode(hashlib.md5(data).digest())

    expected = hashlib.md5(b64md5(b"dmuser:dmpass") + b":" + nonce + b":" + b64md5(body)).digest()
    assert syncml_hmac(user, password, nonce, body) == expected


def test_mac_matches_both_encodings_padded_or_not() -> None:
    mac = syncml_hmac("dmuser", "dmpass", b"n", b"body")
    b64_raw = base64.b64encode(mac).decode()
    b64_hex = base64.b64encode(mac.hex().encode()).decode()
    assert b64_raw.endswith("==") and len(b64_hex) == 44
    assert mac_matches(b64_raw, mac) == "b64-raw"
    assert mac_matches(b64_raw.rstrip("="), mac) == "b64-raw"
    assert mac_matches(b64_hex, mac) == "b64-hex"
    assert mac_matches(base64.b64encode(mac.hex().upper().encode()).decode(), mac) == "b64-hex"
    assert mac_matches(f"  {b64_raw[:10]}\r\n{b64_raw[10:]} ", mac) == "b64-raw"
    assert mac_matches(mac.hex().upper(), mac) == "hex"
    assert mac_matches(mac, mac) == "raw"
    assert mac_matches(base64.urlsafe_b64encode(mac).decode(), mac) == "b64-raw"
    other = syncml_hmac("dmuser", "wrong", b"n", b"body")
    for data in (b64_raw, b64_hex, mac.hex(), mac):
        assert mac_matches(data, other) is None
    for junk in ("", "   ", "!!", "\u00e9\u00e9", b"\xff\xfe", b"", "a"):
        assert mac_matches(junk, mac) is None


def test_parse_syncml_hmac_spec_form() -> None:
    parsed = parse_syncml_hmac('algorithm=MD5, username="dmuser", mac=abc=')
    assert parsed == SyncmlHmac(algorithm="MD5", username="dmuser", mac="abc=", problems=())


@pytest.mark.parametrize(
    "value",
    [
        'algorithm=MD5,username="dmuser",mac=abc=',
        '  Algorithm = md5 ;  Username = "dmuser" ;  MAC = abc=  ',
        'username="dmuser", mac="abc="',
        "x-syncml-hmac: algorithm=MD5, username=dmuser, mac=abc=,",
        'mac=abc=, username="dmuser"',
    ],
)
def test_parse_syncml_hmac_sloppy(value: str) -> None:
    parsed = parse_syncml_hmac(value)
    assert isinstance(parsed, SyncmlHmac), parsed
    assert (parsed.algorithm, parsed.username, parsed.mac) == ("MD5", "dmuser", "abc=")
    assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in parsed.problems)


def test_parse_syncml_hmac_problems() -> None:
    parsed = parse_syncml_hmac("algorithm=SHA1, mac=@@@, mac=x, extra=1")
    assert isinstance(parsed, SyncmlHmac)
    assert parsed.algorithm == "SHA1" and parsed.username is None and parsed.mac == "@@@"
    assert set(parsed.problems) == {
        "warning: algorithm 'SHA1', only MD5 is defined",
        "warning: mac '@@@' is not base64",
        "warning: mac appears more than once, the first is used",
        "info: unknown parameter 'extra'",
        "warning: no username",
    }


@pytest.mark.parametrize("value", ["", "algorithm=MD5", 'username="x"', "mac=", 'mac=""', "garbage"])
def test_parse_syncml_hmac_without_mac(value: str) -> None:
    assert isinstance(parse_syncml_hmac(value), AuthParseError)


def test_pkg0_digest_on_the_buteo_san01(corpus: Path) -> None:
    # buteo SAN01: server id "PC Suite Data Sync", empty password and nonce (omadm.md §3).
    data = (corpus / "omadm" / "pkg0" / "buteo_SAN01.bin").read_bytes()
    assert data[16:].find(b"PC Suite Data Sync") > 0
    assert pkg0_digest("PC Suite Data Sync", "", b"", data[16:]) == data[:16]
    assert pkg0_digest(b"PC Suite Data Sync", b"", b"", data[16:]) == data[:16]
    assert pkg0_digest("PC Suite Data Sync", "x", b"", data[16:]) != data[:16]
    for _label, nonce in RESYNC_NONCES:
        assert pkg0_digest("PC Suite Data Sync", "", nonce, data[16:]) != data[:16]


def test_resync_nonces() -> None:
    assert RESYNC_NONCES == (
        ("0x00000000 (4 zero bytes)", b"\0\0\0\0"),
        ("'0x00000000' (the literal string)", b"0x00000000"),
    )


def test_tr111_signature_vector_and_agreement_with_decoders_tr111() -> None:
    # cwmp.md §2 (checked against GenieACS): ts=1700000000 id=305419896 un=cruser cn=0a1b2c3d4e5f6071.
    text = "1700000000" + "305419896" + "cruser" + "0a1b2c3d4e5f6071"
    assert tr111_signature("crpass", text) == "ed0aafbde91a8a4869bc3a823f1d623c73e18009"
    assert tr111_signature(b"crpass", text, "SHA1") == "ed0aafbde91a8a4869bc3a823f1d623c73e18009"
    cr = decode(
        b"GET http://10.0.0.1:7547?ts=1700000000&id=305419896&un=cruser&cn=0a1b2c3d4e5f6071"
        b"&sig=ed0aafbde91a8a4869bc3a823f1d623c73e18009 HTTP/1.1\r\nHost: 10.0.0.1:7547\r\n\r\n"
    )
    assert isinstance(cr, UdpConnectionRequest)
    for algorithm in ("sha1", "sha256"):
        assert tr111_signature("crpass", cr.signed_text, algorithm) == signature("crpass", cr, algorithm)
    sha256 = tr111_signature("crpass", text, "sha256")
    assert len(sha256) == 64
    assert tr111_signature("crpass", text, "HMAC-SHA-256") == sha256
    with pytest.raises(ValueError):
        tr111_signature("crpass", text, "nope")
