"""Key derivation and record protection, on ``cryptography``'s primitives.

* TLS 1.0-1.2 (RFC 2246 §5, RFC 5246 §5, §6.3, §8.1, RFC 7627): the PRF, the master secret
  (classic or extended), the key block, and the RSA premaster secret.
* TLS 1.3 (RFC 8446 §7.1-7.3): HKDF-Expand-Label, traffic keys and IVs, the KeyUpdate step.
* Record protection: one :class:`Protection` per direction and key, whose ``open()`` turns a
  record body into (content type, plaintext), or None when it does not authenticate.

No cipher is written here: HMAC, HKDF, AES (GCM, CCM, CBC), ChaCha20-Poly1305, 3DES,
Camellia and RC4 all come from ``cryptography``; this module only lays out nonces, additional
data, MACs and padding as the RFCs say.
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import ARC4, Camellia, TripleDES
from cryptography.hazmat.primitives import constant_time, hashes, hmac
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher as _Cipher
from cryptography.hazmat.primitives.ciphers import algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from ._tables import Cipher, CipherSuite

__all__ = [
    "HASH_LENGTHS",
    "Protection",
    "Transcript",
    "digest",
    "hkdf_expand_label",
    "key_block",
    "master_secret",
    "next_traffic_secret",
    "prf",
    "protection_13",
    "protections_12",
    "rsa_premaster",
    "transcript_hash",
]

_HASHES: Final[dict[str, type[hashes.HashAlgorithm]]] = {
    "md5": hashes.MD5, "sha1": hashes.SHA1, "sha256": hashes.SHA256, "sha384": hashes.SHA384,
}
HASH_LENGTHS: Final = {"md5": 16, "sha1": 20, "sha256": 32, "sha384": 48}


def digest(name: str, data: bytes) -> bytes:
    h = hashes.Hash(_HASHES[name]())
    h.update(data)
    return h.finalize()


def _hmac(name: str, key: bytes, *parts: bytes) -> bytes:
    h = hmac.HMAC(key, _HASHES[name]())
    for p in parts:
        h.update(p)
    return h.finalize()


def _p_hash(name: str, secret: bytes, seed: bytes, length: int) -> bytes:
    """P_hash of RFC 5246 §5: HMAC(secret, A(i) + seed), A(i) = HMAC(secret, A(i-1))."""
    out = bytearray()
    a = seed
    while len(out) < length:
        a = _hmac(name, secret, a)
        out += _hmac(name, secret, a, seed)
    return bytes(out[:length])


def prf(version: int, prf_hash: str, secret: bytes, label: bytes, seed: bytes, length: int) -> bytes:
    """The TLS PRF: P_<hash> for TLS 1.2, P_MD5 XOR P_SHA-1 over the two secret halves before."""
    if version >= 0x0303:
        return _p_hash(prf_hash, secret, label + seed, length)
    half = (len(secret) + 1) // 2
    md5 = _p_hash("md5", secret[:half], label + seed, length)
    sha = _p_hash("sha1", secret[len(secret) - half:], label + seed, length)
    return bytes(a ^ b for a, b in zip(md5, sha, strict=True))


def transcript_hash(version: int, prf_hash: str, messages: bytes) -> bytes:
    """The session hash of RFC 7627 §3: the PRF hash (TLS 1.2) or MD5 || SHA-1 (TLS 1.0/1.1)."""
    if version >= 0x0303:
        return digest(prf_hash, messages)
    return digest("md5", messages) + digest("sha1", messages)


class Transcript:
    """The running session hash of one TLS <= 1.2 handshake (RFC 7627 §3), in bounded memory.

    Messages before the ServerHello (its ClientHello) are kept until the ServerHello says which
    hash to use; from then on they are hashed as they come and forgotten.
    """

    __slots__ = ("_early", "_hashes")

    def __init__(self) -> None:
        self._early: list[bytes] = []
        self._hashes: list[hashes.Hash] | None = None

    def start(self, version: int, prf_hash: str) -> None:
        names = (prf_hash,) if version >= 0x0303 else ("md5", "sha1")
        self._hashes = [hashes.Hash(_HASHES[n]()) for n in names]
        for raw in self._early:
            self.add(raw)
        self._early = []

    def add(self, raw: bytes) -> None:
        if self._hashes is None:
            # Before a ServerHello there is a ClientHello (or two): anything beyond a few messages
            # is not a handshake this decoder can use, and is not kept.
            if len(self._early) < 8 and sum(map(len, self._early)) < (1 << 20):
                self._early.append(raw)
            return
        for h in self._hashes:
            h.update(raw)

    def digest(self) -> bytes | None:
        """The session hash so far (None before the ServerHello)."""
        if self._hashes is None:
            return None
        return b"".join(h.copy().finalize() for h in self._hashes)


def master_secret(version: int, prf_hash: str, premaster: bytes, client_random: bytes,
                  server_random: bytes, session_hash: bytes | None = None) -> bytes:
    """RFC 5246 §8.1, or RFC 7627's extended master secret when ``session_hash`` is given."""
    if session_hash is not None:
        return prf(version, prf_hash, premaster, b"extended master secret", session_hash, 48)
    return prf(version, prf_hash, premaster, b"master secret", client_random + server_random, 48)


def key_block(version: int, prf_hash: str, master: bytes, client_random: bytes, server_random: bytes,
              length: int) -> bytes:
    return prf(version, prf_hash, master, b"key expansion", server_random + client_random, length)


def rsa_premaster(key: RSAPrivateKey, encrypted: bytes, client_version: int) -> bytes | None:
    """The 48-byte premaster secret of an RSA ClientKeyExchange, or None if this key is not the one.

    A wrong key may still "decrypt" (OpenSSL's implicit rejection hands back random bytes
    instead of failing), so the length and the client version in the first two bytes are
    checked; the record MACs catch what slips through.
    """
    try:
        pms = key.decrypt(encrypted, padding.PKCS1v15())
    except ValueError:
        return None
    if len(pms) != 48:
        return None
    # Some old clients put the negotiated version there: accept any TLS version.
    if pms[:2] != client_version.to_bytes(2, "big") and (pms[0] != 3 or pms[1] > 3):
        return None
    return pms


def hkdf_expand_label(hash_name: str, secret: bytes, label: bytes, context: bytes, length: int) -> bytes:
    """RFC 8446 §7.1: HKDF-Expand(secret, HkdfLabel, length) with the "tls13 " prefix."""
    full = b"tls13 " + label
    info = struct.pack("!HB", length, len(full)) + full + bytes([len(context)]) + context
    return HKDFExpand(_HASHES[hash_name](), length, info).derive(secret)


def next_traffic_secret(hash_name: str, secret: bytes) -> bytes:
    """The secret after a KeyUpdate (RFC 8446 §7.2)."""
    return hkdf_expand_label(hash_name, secret, b"traffic upd", b"", HASH_LENGTHS[hash_name])


# -- record protection ----------------------------------------------------------------------------


class Protection:
    """How one direction's records are protected under one key; ``open`` never raises."""

    #: Bytes a record body grows by under this protection (explicit nonce + tag, TLS 1.3's
    #: content type), when fixed: used to size what a capture gap swallowed.
    overhead: int | None = None
    #: Whether the sequence number of a record can be guessed after a gap (AEAD, CBC with an
    #: explicit IV); not for RC4 or TLS 1.0 CBC, whose state runs from record to record.
    resumable = False

    def open(self, content_type: int, version: int, seq: int, body: bytes) -> tuple[int, bytes] | None:
        raise NotImplementedError


def _aead(cipher: Cipher, key: bytes) -> AESGCM | AESCCM | ChaCha20Poly1305:
    if cipher.name.startswith("CHACHA20"):
        return ChaCha20Poly1305(key)
    if "_CCM" in cipher.name:
        return AESCCM(key, tag_length=cipher.tag_length)
    return AESGCM(key)


class _Aead12(Protection):
    """TLS 1.2 AEAD (RFC 5246 §6.2.3.3): GCM/CCM with an explicit nonce, ChaCha20 (RFC 7905) without."""

    resumable = True

    def __init__(self, cipher: Cipher, key: bytes, iv: bytes) -> None:
        self.aead = _aead(cipher, key)
        self.iv = iv
        self.explicit = cipher.explicit_nonce
        self.tag = cipher.tag_length
        self.expansion = self.explicit + self.tag
        self.overhead = self.expansion
        self._ivint = int.from_bytes(iv, "big") if not self.explicit else 0

    def open(self, content_type: int, version: int, seq: int, body: bytes) -> tuple[int, bytes] | None:
        n = len(body) - self.expansion
        if n < 0:
            return None
        if self.explicit:
            nonce = self.iv + body[:self.explicit]
            body = body[self.explicit:]
        else:
            nonce = (self._ivint ^ seq).to_bytes(12, "big")
        aad = struct.pack("!QBHH", seq, content_type, version, n)
        try:
            return content_type, self.aead.decrypt(nonce, body, aad)
        except InvalidTag:
            return None


class _Aead13(Protection):
    """TLS 1.3 (RFC 8446 §5.2-5.4): nonce = IV XOR seq, AAD = the record header, inner content type."""

    resumable = True

    def __init__(self, cipher: Cipher, key: bytes, iv: bytes) -> None:
        self.aead = _aead(cipher, key)
        self._ivint = int.from_bytes(iv, "big")
        self.tag = cipher.tag_length
        self.overhead = self.tag + 1  # plus any padding, which is rare

    def open(self, content_type: int, version: int, seq: int, body: bytes) -> tuple[int, bytes] | None:
        nonce = (self._ivint ^ seq).to_bytes(12, "big")
        try:
            inner = self.aead.decrypt(nonce, body, struct.pack("!BHH", content_type, version, len(body)))
        except InvalidTag:
            return None
        end = len(inner.rstrip(b"\0"))
        if end == 0:
            return None  # all padding: no content type (RFC 8446 §5.4: unexpected_message)
        return inner[end - 1], inner[:end - 1]


def _block_algorithm(cipher: Cipher, key: bytes) -> algorithms.AES | TripleDES | Camellia:
    if cipher.name.startswith("AES"):
        return algorithms.AES(key)
    if cipher.name.startswith("3DES"):
        return TripleDES(key)
    return Camellia(key)


class _Block(Protection):
    """CBC with HMAC (RFC 5246 §6.2.3.2), MAC-then-encrypt, or encrypt-then-MAC (RFC 7366)."""

    def __init__(self, cipher: Cipher, key: bytes, iv: bytes, mac: str, mac_key: bytes, version: int,
                 etm: bool) -> None:
        self.cipher = cipher
        self.key = key
        self.iv = iv  # TLS 1.0: the running IV (the last ciphertext block of the previous record)
        self.mac = mac
        self.mac_key = mac_key
        self.mac_len = len(mac_key) if mac_key else 0
        self.explicit_iv = version >= 0x0302
        self.etm = etm
        self.bs = cipher.block_size
        self.resumable = self.explicit_iv

    def _decrypt(self, iv: bytes, data: bytes) -> bytes:
        d = _Cipher(_block_algorithm(self.cipher, self.key), modes.CBC(iv)).decryptor()
        return d.update(data) + d.finalize()

    def open(self, content_type: int, version: int, seq: int, body: bytes) -> tuple[int, bytes] | None:
        bs, mac_len = self.bs, self.mac_len
        if self.etm:
            if len(body) < mac_len + bs:
                return None
            data, tag = body[:-mac_len], body[-mac_len:]
            want = _hmac(self.mac, self.mac_key, struct.pack("!QBHH", seq, content_type, version, len(data)),
                         data)
            if not constant_time.bytes_eq(want, tag):
                return None
        else:
            data = body
        if self.explicit_iv:
            iv, data = data[:bs], data[bs:]
        else:
            iv = self.iv
        if not data or len(data) % bs:
            return None
        if not self.explicit_iv:
            self.iv = data[-bs:]  # chained whatever the MAC says: the next record needs it
        plain = self._decrypt(iv, data)
        pad = plain[-1]
        if pad + 1 > len(plain) or plain[-pad - 1:] != bytes([pad]) * (pad + 1):
            return None
        plain = plain[:-pad - 1]
        if self.etm:
            return content_type, plain
        if len(plain) < mac_len:
            return None
        content, tag = plain[:len(plain) - mac_len], plain[len(plain) - mac_len:]
        want = _hmac(self.mac, self.mac_key, struct.pack("!QBHH", seq, content_type, version, len(content)),
                     content)
        if not constant_time.bytes_eq(want, tag):
            return None
        return content_type, content


class _Stream(Protection):
    """RC4 or the NULL cipher, each followed by the record MAC."""

    def __init__(self, cipher: Cipher, key: bytes, mac: str, mac_key: bytes) -> None:
        self.rc4 = _Cipher(ARC4(key), mode=None).decryptor() if cipher.kind == "stream" else None
        self.mac = mac
        self.mac_key = mac_key
        self.mac_len = len(mac_key)
        self.resumable = self.rc4 is None

    def open(self, content_type: int, version: int, seq: int, body: bytes) -> tuple[int, bytes] | None:
        plain = self.rc4.update(body) if self.rc4 is not None else body
        if len(plain) < self.mac_len:
            return None
        content, tag = plain[:len(plain) - self.mac_len], plain[len(plain) - self.mac_len:]
        want = _hmac(self.mac, self.mac_key, struct.pack("!QBHH", seq, content_type, version, len(content)),
                     content)
        if not constant_time.bytes_eq(want, tag):
            return None
        return content_type, content


def protections_12(suite: CipherSuite, version: int, master: bytes, client_random: bytes,
                   server_random: bytes, etm: bool) -> tuple[Protection, Protection] | None:
    """(client write, server write) protections from a TLS <= 1.2 master secret; None if unsupported."""
    cipher = suite.cipher
    if cipher is None or version < 0x0301:
        return None
    mac_len = HASH_LENGTHS[suite.mac] if suite.mac else 0
    kl, ivl = cipher.key_length, cipher.fixed_iv_length
    block = key_block(version, suite.prf, master, client_random, server_random, 2 * (mac_len + kl + ivl))
    cm, sm = block[:mac_len], block[mac_len:2 * mac_len]
    p = 2 * mac_len
    ck, sk = block[p:p + kl], block[p + kl:p + 2 * kl]
    p += 2 * kl
    civ, siv = block[p:p + ivl], block[p + ivl:p + 2 * ivl]
    if cipher.kind == "aead":
        return _Aead12(cipher, ck, civ), _Aead12(cipher, sk, siv)
    if suite.mac is None:
        return None
    if cipher.kind == "block":
        return (_Block(cipher, ck, civ, suite.mac, cm, version, etm),
                _Block(cipher, sk, siv, suite.mac, sm, version, etm))
    return _Stream(cipher, ck, suite.mac, cm), _Stream(cipher, sk, suite.mac, sm)


def protection_13(suite: CipherSuite, secret: bytes) -> Protection | None:
    """The protection of one TLS 1.3 traffic secret; None if the suite is not one we can open."""
    cipher = suite.cipher
    if cipher is None or cipher.kind != "aead" or len(secret) != HASH_LENGTHS[suite.prf]:
        return None
    key = hkdf_expand_label(suite.prf, secret, b"key", b"", cipher.key_length)
    iv = hkdf_expand_label(suite.prf, secret, b"iv", b"", 12)
    return _Aead13(cipher, key, iv)
