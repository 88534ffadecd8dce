"""Record protections no peer on this machine still negotiates (OpenSSL 3 here refuses 3DES and
RC4 suites), checked against records built in this test from RFC 5246's layout.

The test derives the key block with its own TLS PRF (the standard library's ``hmac``, not the
decoder's) and builds each record itself with ``cryptography``'s ciphers: content, HMAC over
seq || type || version || length || content, CBC padding, an explicit IV for TLS 1.1+.  The
decoder must open what this independent construction sealed, and refuse a record whose MAC
was made with the wrong sequence number.
"""

from __future__ import annotations

import hmac
import struct

import pytest
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

from decoders.tls import protections_12, suite

MASTER = bytes(range(48))
CLIENT_RANDOM = bytes(range(32, 64))
SERVER_RANDOM = bytes(range(64, 96))


def _p_hash(name: str, secret: bytes, seed: bytes, n: int) -> bytes:
    out, a = b"", seed
    while len(out) < n:
        a = hmac.digest(secret, a, name)
        out += hmac.digest(secret, a + seed, name)
    return out[:n]


def key_block(version: int, n: int) -> bytes:
    seed = b"key expansion" + SERVER_RANDOM + CLIENT_RANDOM
    if version >= 0x0303:
        return _p_hash("sha256", MASTER, seed, n)
    half = (len(MASTER) + 1) // 2
    md5 = _p_hash("md5", MASTER[:half], seed, n)
    sha = _p_hash("sha1", MASTER[-half:], seed, n)
    return bytes(x ^ y for x, y in zip(md5, sha, strict=True))


def mac(key: bytes, name: str, seq: int, ctype: int, version: int, content: bytes) -> bytes:
    return hmac.digest(key, struct.pack("!QBHH", seq, ctype, version, len(content)) + content, name)


@pytest.mark.parametrize("version", [0x0301, 0x0302, 0x0303])
def test_3des_cbc_sha(version: int) -> None:
    s = suite(0x000A)  # TLS_RSA_WITH_3DES_EDE_CBC_SHA
    block = key_block(version, 2 * (20 + 24 + 8))
    c_mac, c_key, c_iv = block[:20], block[40:64], block[88:96]
    prots = protections_12(s, version, MASTER, CLIENT_RANDOM, SERVER_RANDOM, etm=False)
    assert prots is not None
    client = prots[0]
    iv = c_iv
    for seq, content in enumerate([b"POST /acs HTTP/1.1\r\n\r\n", b"x" * 1000, b""]):
        plain = content + mac(c_mac, "sha1", seq, 23, version, content)
        pad = 8 - (len(plain) + 1) % 8
        plain += bytes([pad]) * (pad + 1)
        record_iv = bytes([seq + 1]) * 8 if version >= 0x0302 else iv
        enc = Cipher(TripleDES(c_key), modes.CBC(record_iv)).encryptor()
        ct = enc.update(plain) + enc.finalize()
        body = (record_iv + ct) if version >= 0x0302 else ct
        iv = ct[-8:]
        assert client.open(23, version, seq, body) == (23, content)
    if version >= 0x0302:
        # A record sealed for sequence number 9 does not open as the next one (3).
        content = b"late"
        plain = content + mac(c_mac, "sha1", 9, 23, version, content)
        pad = 8 - (len(plain) + 1) % 8
        plain += bytes([pad]) * (pad + 1)
        enc = Cipher(TripleDES(c_key), modes.CBC(b"\0" * 8)).encryptor()
        assert client.open(23, version, 3, b"\0" * 8 + enc.update(plain) + enc.finalize()) is None


def test_rc4_128_sha_keeps_its_stream_across_records() -> None:
    version = 0x0303
    s = suite(0x0005)  # TLS_RSA_WITH_RC4_128_SHA
    block = key_block(version, 2 * (20 + 16))
    s_mac, s_key = block[20:40], block[56:72]
    prots = protections_12(s, version, MASTER, CLIENT_RANDOM, SERVER_RANDOM, etm=False)
    assert prots is not None
    server = prots[1]
    rc4 = Cipher(ARC4(s_key), mode=None).encryptor()
    for seq, content in enumerate([b"HTTP/1.1 200 OK\r\n", b"y" * 5000, b"\x15"]):
        body = rc4.update(content + mac(s_mac, "sha1", seq, 23, version, content))
        assert server.open(23, version, seq, body) == (23, content)


def test_key_block_layout_matches_the_independent_prf() -> None:
    # TLS_RSA_WITH_AES_128_CBC_SHA under TLS 1.2: the decoder's keys open a record sealed
    # with keys cut from this test's own PRF output.
    from cryptography.hazmat.primitives.ciphers import algorithms

    version = 0x0303
    block = key_block(version, 2 * (20 + 16 + 16))
    c_mac, c_key = block[:20], block[40:56]
    prots = protections_12(suite(0x002F), version, MASTER, CLIENT_RANDOM, SERVER_RANDOM, etm=True)
    assert prots is not None
    content = b"encrypt-then-MAC"
    pad = 16 - (len(content) + 1) % 16
    enc = Cipher(algorithms.AES(c_key), modes.CBC(b"\x07" * 16)).encryptor()
    data = b"\x07" * 16 + enc.update(content + bytes([pad]) * (pad + 1)) + enc.finalize()
    tag = hmac.digest(c_mac, struct.pack("!QBHH", 0, 23, version, len(data)) + data, "sha1")
    assert prots[0].open(23, version, 0, data + tag) == (23, content)
    assert prots[0].open(23, version, 0, data + bytes(20)) is None  # a wrong MAC
