"""The TLS 1.0-1.2 PRF, the master secret (classic and extended) and the key block.

Known answers: the TLS 1.2 P_SHA256 and P_SHA384 vectors posted to the IETF TLS working group
list (https://www.ietf.org/mail-archive/web/tls/current/msg03416.html) and the TLS 1.0/1.1
MD5 XOR SHA-1 vector from the ietf-tls list (imc.org ietf-tls msg01589), as BearSSL's
``test/test_crypto.c`` (``test_PRF``) and many other libraries carry them.  Beyond those, every
derivation is checked against a second implementation written here on the standard library's
``hmac``/``hashlib``, and against real OpenSSL peers: the master secret derived from the
premaster (decrypted here with the server's key) must be the one OpenSSL put in its key log.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from benchmarks import gentls
from decoders.tls import master_secret, parse_keylog, prf
from decoders.tls._crypto import key_block, transcript_hash

from .helpers import CLIENT, REQUEST, RESPONSE, SERVER, client_random, handshake_messages

# -- known answers ----------------------------------------------------------------------------------

# IETF TLS WG list, msg03416: TLS 1.2 PRF with SHA-256, 100 bytes.
SHA256_SECRET = bytes.fromhex("9bbe436ba940f017b17652849a71db35")
SHA256_SEED = bytes.fromhex("a0ba9f936cda311827a6f796ffd5198c")
SHA256_OUTPUT = bytes.fromhex(
    "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
    "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
    "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
    "87347b66"
)
# IETF TLS WG list, msg03416: TLS 1.2 PRF with SHA-384, 148 bytes.
SHA384_SECRET = bytes.fromhex("b80b733d6ceefcdc71566ea48e5567df")
SHA384_SEED = bytes.fromhex("cd665cf6a8447dd6ff8b27555edb7465")
SHA384_OUTPUT = bytes.fromhex(
    "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
    "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
    "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
    "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
    "91c8f3a26854308d5eaa3be85e0990703d73e56f"
)
# ietf-tls list, msg01589: TLS 1.0/1.1 PRF (P_MD5 XOR P_SHA-1), 104 bytes.
TLS10_SECRET = b"\xab" * 48
TLS10_SEED = b"\xcd" * 64
TLS10_OUTPUT = bytes.fromhex(
    "d3d4d1e349b5d515044666d51de32bab258cb521b6b053463e354832fd976754"
    "443bcf9a296519bc289abcbc1187e4ebd31e602353776c408aafb74cbc85eff6"
    "9255f9788faa184cbb957a9819d84a5d7eb006eb459d3ae8de9810454b8b2d8f"
    "1afbc655a8c9a013"
)


@pytest.mark.parametrize(("version", "prf_hash", "secret", "label", "seed", "expected"), [
    (0x0303, "sha256", SHA256_SECRET, b"test label", SHA256_SEED, SHA256_OUTPUT),
    (0x0303, "sha384", SHA384_SECRET, b"test label", SHA384_SEED, SHA384_OUTPUT),
    (0x0301, "sha256", TLS10_SECRET, b"PRF Testvector", TLS10_SEED, TLS10_OUTPUT),
    (0x0302, "sha384", TLS10_SECRET, b"PRF Testvector", TLS10_SEED, TLS10_OUTPUT),  # the hash is 1.2's only
], ids=["tls12-sha256", "tls12-sha384", "tls10", "tls11"])
def test_prf_known_answers(version: int, prf_hash: str, secret: bytes, label: bytes, seed: bytes,
                           expected: bytes) -> None:
    assert prf(version, prf_hash, secret, label, seed, len(expected)) == expected
    # Any shorter output is a prefix of the longer one.
    for n in (1, 12, 47, 48, len(expected) - 1):
        assert prf(version, prf_hash, secret, label, seed, n) == expected[:n]


def test_the_reference_below_gives_the_known_answers() -> None:
    assert reference_prf(0x0303, "sha256", SHA256_SECRET, b"test label", SHA256_SEED, 100) == SHA256_OUTPUT
    assert reference_prf(0x0303, "sha384", SHA384_SECRET, b"test label", SHA384_SEED, 148) == SHA384_OUTPUT
    assert reference_prf(0x0301, "sha256", TLS10_SECRET, b"PRF Testvector", TLS10_SEED, 104) == TLS10_OUTPUT


# -- a second implementation ---------------------------------------------------------------------------


def p_hash(name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """RFC 5246 §5: P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + ..."""
    out, a = b"", seed
    while len(out) < length:
        a = hmac.new(secret, a, name).digest()
        out += hmac.new(secret, a + seed, name).digest()
    return out[:length]


def reference_prf(version: int, prf_hash: str, secret: bytes, label: bytes, seed: bytes,
                  length: int) -> bytes:
    if version >= 0x0303:
        return p_hash(prf_hash, secret, label + seed, length)
    # RFC 2246 §5: S1 and S2 are the two halves of the secret, sharing a byte when its length is odd.
    half = -(-len(secret) // 2)
    s1, s2 = secret[:half], secret[len(secret) - half:]
    md5, sha = p_hash("md5", s1, label + seed, length), p_hash("sha1", s2, label + seed, length)
    return bytes(x ^ y for x, y in zip(md5, sha, strict=True))


@pytest.mark.parametrize("version", [0x0301, 0x0302, 0x0303])
@pytest.mark.parametrize("prf_hash", ["sha256", "sha384"])
@pytest.mark.parametrize("secret_length", [0, 1, 47, 48, 49, 128])
def test_prf_matches_the_reference(version: int, prf_hash: str, secret_length: int) -> None:
    secret = hashlib.shake_256(b"secret %d" % secret_length).digest(secret_length)
    seed = hashlib.sha256(b"seed").digest() + hashlib.sha256(b"more").digest()
    for length in (0, 1, 20, 48, 104, 200):
        assert prf(version, prf_hash, secret, b"key expansion", seed, length) \
            == reference_prf(version, prf_hash, secret, b"key expansion", seed, length)


PREMASTER = bytes([3, 3]) + bytes(range(46))
CLIENT_RANDOM = bytes(range(32))
SERVER_RANDOM = bytes(range(32, 64))
MESSAGES = b"\x01\x00\x00\x05hello" + b"\x02\x00\x00\x06server" + b"\x10\x00\x00\x03cke"


@pytest.mark.parametrize(("version", "prf_hash"), [(0x0301, "sha256"), (0x0302, "sha256"), (0x0303, "sha256"),
                                                   (0x0303, "sha384")])
def test_master_secret_classic_and_extended(version: int, prf_hash: str) -> None:
    classic = master_secret(version, prf_hash, PREMASTER, CLIENT_RANDOM, SERVER_RANDOM)
    randoms = CLIENT_RANDOM + SERVER_RANDOM
    assert classic == reference_prf(version, prf_hash, PREMASTER, b"master secret", randoms, 48)
    # RFC 7627 §3-4: session_hash is Hash(handshake messages) (MD5 || SHA-1 before TLS 1.2), and the
    # randoms are not used.
    if version >= 0x0303:
        session_hash = hashlib.new(prf_hash, MESSAGES).digest()
    else:
        session_hash = hashlib.md5(MESSAGES).digest() + hashlib.sha1(MESSAGES).digest()
    assert transcript_hash(version, prf_hash, MESSAGES) == session_hash
    extended = master_secret(version, prf_hash, PREMASTER, CLIENT_RANDOM, SERVER_RANDOM, session_hash)
    label = b"extended master secret"
    assert extended == reference_prf(version, prf_hash, PREMASTER, label, session_hash, 48)
    assert extended != classic
    assert master_secret(version, prf_hash, PREMASTER, b"\0" * 32, b"\0" * 32, session_hash) == extended
    assert len(classic) == len(extended) == 48


def test_key_block_is_the_prf_over_server_then_client_random() -> None:
    master = bytes(range(48))
    for version, prf_hash in [(0x0301, "sha256"), (0x0303, "sha256"), (0x0303, "sha384")]:
        want = reference_prf(version, prf_hash, master, b"key expansion", SERVER_RANDOM + CLIENT_RANDOM, 136)
        assert key_block(version, prf_hash, master, CLIENT_RANDOM, SERVER_RANDOM, 136) == want


# -- against what real OpenSSL peers derived ------------------------------------------------------------


def master_from_peers(t: gentls.Transcript, version: int, prf_hash: str, ems: bool) -> bytes:
    """The master secret of an RSA key exchange, derived here from the recorded handshake."""
    client_flights = [f for d, f in t.flights if d == CLIENT]
    server_flights = [f for d, f in t.flights if d == SERVER]
    hello, server_hello_flight, cke_flight = client_flights[0], server_flights[0], client_flights[1]
    messages = handshake_messages(hello) + handshake_messages(server_hello_flight)
    cke = handshake_messages(cke_flight)[0]
    assert cke[0] == 16  # ClientKeyExchange
    messages.append(cke)
    encrypted = cke[6:6 + int.from_bytes(cke[4:6], "big")]
    key = serialization.load_pem_private_key(gentls.server_key_pem(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    premaster = key.decrypt(encrypted, padding.PKCS1v15())
    assert len(premaster) == 48
    server_hello = messages[1]
    assert server_hello[0] == 2
    server_random = server_hello[6:38]
    session_hash = transcript_hash(version, prf_hash, b"".join(messages)) if ems else None
    return master_secret(version, prf_hash, premaster, client_random(t), server_random, session_hash)


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(("tls_version", "version", "ciphers", "prf_hash"), [
    (ssl.TLSVersion.TLSv1_2, 0x0303, "AES128-SHA", "sha256"),
    (ssl.TLSVersion.TLSv1_2, 0x0303, "AES256-GCM-SHA384", "sha384"),
    (ssl.TLSVersion.TLSv1, 0x0301, "AES128-SHA:@SECLEVEL=0", "sha256"),
], ids=["tls12-sha256", "tls12-sha384", "tls10"])
@pytest.mark.parametrize("ems", [True, False], ids=["ems", "no-ems"])
def test_master_secret_is_the_one_openssl_logged(tls_version: ssl.TLSVersion, version: int, ciphers: str,
                                                  prf_hash: str, ems: bool) -> None:
    cfg = gentls.TLSConfig(min_version=tls_version, max_version=tls_version, ciphers=ciphers,
                           extended_master_secret=ems, exchanges=((REQUEST, RESPONSE),))
    t = gentls.transcript(cfg)
    logged = parse_keylog(t.keylog.encode())
    (entry,) = [e for e in logged.entries if e.label == "CLIENT_RANDOM"]
    assert entry.key == client_random(t)
    assert master_from_peers(t, version, prf_hash, ems) == entry.secret
