"""Protocol numbers and names: versions, content types, handshake types, extensions, alerts,
groups, and the cipher suites with what each one needs to be decrypted.

**Add a cipher suite**: one line in ``_SUITES`` (IANA number and name).  Its key exchange,
bulk cipher and MAC are read from the name, so a suite whose parts are all in ``CIPHERS`` and
``MACS`` is decrypted with no other change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

__all__ = [
    "ALERT_NAMES",
    "CIPHERS",
    "CIPHER_SUITES",
    "CONTENT_ALERT",
    "CONTENT_APPLICATION_DATA",
    "CONTENT_CHANGE_CIPHER_SPEC",
    "CONTENT_HANDSHAKE",
    "CONTENT_HEARTBEAT",
    "CONTENT_TYPE_NAMES",
    "EXTENSION_NAMES",
    "GROUP_NAMES",
    "HANDSHAKE_NAMES",
    "HELLO_RETRY_RANDOM",
    "MACS",
    "MAX_CIPHERTEXT",
    "Cipher",
    "CipherSuite",
    "HandshakeType",
    "suite",
    "suite_name",
    "version_name",
]

CONTENT_CHANGE_CIPHER_SPEC: Final = 20
CONTENT_ALERT: Final = 21
CONTENT_HANDSHAKE: Final = 22
CONTENT_APPLICATION_DATA: Final = 23
CONTENT_HEARTBEAT: Final = 24
CONTENT_TYPE_NAMES: Final = {20: "change_cipher_spec", 21: "alert", 22: "handshake", 23: "application_data",
                             24: "heartbeat"}

#: Largest record body any version allows on the wire: 2^14 plaintext + 2048 of expansion
#: (TLS <= 1.2, RFC 5246 §6.2.3).  Anything longer is not TLS.
MAX_CIPHERTEXT: Final = (1 << 14) + 2048

#: ServerHello.random of a TLS 1.3 HelloRetryRequest (RFC 8446 §4.1.3): SHA-256("HelloRetryRequest").
HELLO_RETRY_RANDOM: Final = bytes.fromhex("cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c")

_VERSIONS: Final = {0x0200: "SSL 2.0", 0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1",
                    0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}


def version_name(version: int) -> str:
    """``TLS 1.2``; TLS 1.3 drafts as ``TLS 1.3 (draft 28)``; anything else in hex."""
    name = _VERSIONS.get(version)
    if name is not None:
        return name
    if version >> 8 == 0x7F:
        return f"TLS 1.3 (draft {version & 0xFF})"
    if version & 0x0F0F == 0x0A0A:
        return f"GREASE 0x{version:04X}"
    return f"0x{version:04X}"


class HandshakeType:
    """Handshake message types (RFC 8446 §4, RFC 5246 §7.4)."""

    HELLO_REQUEST: Final = 0
    CLIENT_HELLO: Final = 1
    SERVER_HELLO: Final = 2
    HELLO_VERIFY_REQUEST: Final = 3
    NEW_SESSION_TICKET: Final = 4
    END_OF_EARLY_DATA: Final = 5
    ENCRYPTED_EXTENSIONS: Final = 8
    CERTIFICATE: Final = 11
    SERVER_KEY_EXCHANGE: Final = 12
    CERTIFICATE_REQUEST: Final = 13
    SERVER_HELLO_DONE: Final = 14
    CERTIFICATE_VERIFY: Final = 15
    CLIENT_KEY_EXCHANGE: Final = 16
    FINISHED: Final = 20
    CERTIFICATE_STATUS: Final = 22
    KEY_UPDATE: Final = 24
    MESSAGE_HASH: Final = 254


HANDSHAKE_NAMES: Final = {
    0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 3: "HelloVerifyRequest", 4: "NewSessionTicket",
    5: "EndOfEarlyData", 6: "HelloRetryRequest", 8: "EncryptedExtensions", 11: "Certificate",
    12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone", 15: "CertificateVerify",
    16: "ClientKeyExchange", 20: "Finished", 21: "CertificateURL", 22: "CertificateStatus",
    23: "SupplementalData", 24: "KeyUpdate", 25: "CompressedCertificate", 254: "MessageHash",
}

EXTENSION_NAMES: Final = {
    0: "server_name", 1: "max_fragment_length", 5: "status_request", 10: "supported_groups",
    11: "ec_point_formats", 13: "signature_algorithms", 14: "use_srtp", 15: "heartbeat",
    16: "application_layer_protocol_negotiation", 18: "signed_certificate_timestamp", 21: "padding",
    22: "encrypt_then_mac", 23: "extended_master_secret", 27: "compress_certificate",
    28: "record_size_limit", 35: "session_ticket", 41: "pre_shared_key", 42: "early_data",
    43: "supported_versions", 44: "cookie", 45: "psk_key_exchange_modes", 47: "certificate_authorities",
    48: "oid_filters", 49: "post_handshake_auth", 50: "signature_algorithms_cert", 51: "key_share",
    57: "quic_transport_parameters", 17513: "application_settings", 65037: "encrypted_client_hello",
    65281: "renegotiation_info",
}

GROUP_NAMES: Final = {
    23: "secp256r1", 24: "secp384r1", 25: "secp521r1", 29: "x25519", 30: "x448", 256: "ffdhe2048",
    257: "ffdhe3072", 258: "ffdhe4096", 259: "ffdhe6144", 260: "ffdhe8192", 25497: "X25519Kyber768Draft00",
    4588: "X25519MLKEM768",
}

ALERT_NAMES: Final = {
    0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed",
    22: "record_overflow", 30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate",
    42: "bad_certificate", 43: "unsupported_certificate", 44: "certificate_revoked",
    45: "certificate_expired", 46: "certificate_unknown", 47: "illegal_parameter", 48: "unknown_ca",
    49: "access_denied", 50: "decode_error", 51: "decrypt_error", 60: "export_restriction",
    70: "protocol_version", 71: "insufficient_security", 80: "internal_error", 86: "inappropriate_fallback",
    90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension", 110: "unsupported_extension",
    111: "certificate_unobtainable", 112: "unrecognized_name", 113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value", 115: "unknown_psk_identity", 116: "certificate_required",
    120: "no_application_protocol",
}


@dataclass(frozen=True, slots=True)
class Cipher:
    """A bulk cipher as the record layer uses it."""

    name: str
    kind: str  #: "aead" | "block" | "stream" | "null"
    key_length: int
    fixed_iv_length: int  #: key-block IV bytes: the implicit nonce part (AEAD) or the CBC IV (TLS 1.0)
    block_size: int = 0  #: CBC block size
    explicit_nonce: int = 0  #: AEAD nonce bytes carried in each TLS <= 1.2 record
    tag_length: int = 0  #: AEAD tag bytes


CIPHERS: Final[dict[str, Cipher]] = {c.name: c for c in (
    Cipher("NULL", "null", 0, 0),
    Cipher("RC4_128", "stream", 16, 0),
    Cipher("3DES_EDE_CBC", "block", 24, 8, 8),
    Cipher("AES_128_CBC", "block", 16, 16, 16),
    Cipher("AES_256_CBC", "block", 32, 16, 16),
    Cipher("CAMELLIA_128_CBC", "block", 16, 16, 16),
    Cipher("CAMELLIA_256_CBC", "block", 32, 16, 16),
    Cipher("AES_128_GCM", "aead", 16, 4, explicit_nonce=8, tag_length=16),
    Cipher("AES_256_GCM", "aead", 32, 4, explicit_nonce=8, tag_length=16),
    Cipher("AES_128_CCM", "aead", 16, 4, explicit_nonce=8, tag_length=16),
    Cipher("AES_256_CCM", "aead", 32, 4, explicit_nonce=8, tag_length=16),
    Cipher("AES_128_CCM_8", "aead", 16, 4, explicit_nonce=8, tag_length=8),
    Cipher("AES_256_CCM_8", "aead", 32, 4, explicit_nonce=8, tag_length=8),
    Cipher("CHACHA20_POLY1305", "aead", 32, 12, tag_length=16),
)}

#: MAC name in a suite's name -> (hash name, MAC length).  "SHA" is SHA-1.
MACS: Final = {"MD5": ("md5", 16), "SHA": ("sha1", 20), "SHA256": ("sha256", 32), "SHA384": ("sha384", 48)}


@dataclass(frozen=True, slots=True)
class CipherSuite:
    """What a cipher suite means for decryption."""

    id: int
    name: str  #: IANA name, e.g. "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
    kex: str  #: "RSA", "ECDHE", "DHE", "PSK", "TLS13", ... ("" for signalling values)
    cipher: Cipher | None  #: None: a cipher we cannot decrypt (export, DES, IDEA, ARIA, SEED ...)
    mac: str | None  #: hash name of the record MAC ("sha1" ...), None for AEAD
    prf: str  #: hash of the TLS 1.2 PRF / TLS 1.3 key schedule ("sha256" | "sha384")
    cipher_name: str = ""  #: the bulk cipher part of the name, known or not

    @property
    def tls13(self) -> bool:
        return self.kex == "TLS13"


# IANA "TLS Cipher Suites" registry, the suites met in practice.
_SUITES: Final = """
0000 TLS_NULL_WITH_NULL_NULL
0001 TLS_RSA_WITH_NULL_MD5
0002 TLS_RSA_WITH_NULL_SHA
0003 TLS_RSA_EXPORT_WITH_RC4_40_MD5
0004 TLS_RSA_WITH_RC4_128_MD5
0005 TLS_RSA_WITH_RC4_128_SHA
0007 TLS_RSA_WITH_IDEA_CBC_SHA
0009 TLS_RSA_WITH_DES_CBC_SHA
000A TLS_RSA_WITH_3DES_EDE_CBC_SHA
000D TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA
0010 TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA
0013 TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA
0016 TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA
002F TLS_RSA_WITH_AES_128_CBC_SHA
0030 TLS_DH_DSS_WITH_AES_128_CBC_SHA
0031 TLS_DH_RSA_WITH_AES_128_CBC_SHA
0032 TLS_DHE_DSS_WITH_AES_128_CBC_SHA
0033 TLS_DHE_RSA_WITH_AES_128_CBC_SHA
0034 TLS_DH_anon_WITH_AES_128_CBC_SHA
0035 TLS_RSA_WITH_AES_256_CBC_SHA
0036 TLS_DH_DSS_WITH_AES_256_CBC_SHA
0037 TLS_DH_RSA_WITH_AES_256_CBC_SHA
0038 TLS_DHE_DSS_WITH_AES_256_CBC_SHA
0039 TLS_DHE_RSA_WITH_AES_256_CBC_SHA
003A TLS_DH_anon_WITH_AES_256_CBC_SHA
003B TLS_RSA_WITH_NULL_SHA256
003C TLS_RSA_WITH_AES_128_CBC_SHA256
003D TLS_RSA_WITH_AES_256_CBC_SHA256
0040 TLS_DHE_DSS_WITH_AES_128_CBC_SHA256
0041 TLS_RSA_WITH_CAMELLIA_128_CBC_SHA
0045 TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA
0067 TLS_DHE_RSA_WITH_AES_128_CBC_SHA256
006A TLS_DHE_DSS_WITH_AES_256_CBC_SHA256
006B TLS_DHE_RSA_WITH_AES_256_CBC_SHA256
0084 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA
0088 TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA
008A TLS_PSK_WITH_RC4_128_SHA
008B TLS_PSK_WITH_3DES_EDE_CBC_SHA
008C TLS_PSK_WITH_AES_128_CBC_SHA
008D TLS_PSK_WITH_AES_256_CBC_SHA
0096 TLS_RSA_WITH_SEED_CBC_SHA
009C TLS_RSA_WITH_AES_128_GCM_SHA256
009D TLS_RSA_WITH_AES_256_GCM_SHA384
009E TLS_DHE_RSA_WITH_AES_128_GCM_SHA256
009F TLS_DHE_RSA_WITH_AES_256_GCM_SHA384
00A2 TLS_DHE_DSS_WITH_AES_128_GCM_SHA256
00A3 TLS_DHE_DSS_WITH_AES_256_GCM_SHA384
00A8 TLS_PSK_WITH_AES_128_GCM_SHA256
00A9 TLS_PSK_WITH_AES_256_GCM_SHA384
00AE TLS_PSK_WITH_AES_128_CBC_SHA256
00AF TLS_PSK_WITH_AES_256_CBC_SHA384
00BA TLS_RSA_WITH_CAMELLIA_128_CBC_SHA256
00C0 TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256
00FF TLS_EMPTY_RENEGOTIATION_INFO_SCSV
1301 TLS_AES_128_GCM_SHA256
1302 TLS_AES_256_GCM_SHA384
1303 TLS_CHACHA20_POLY1305_SHA256
1304 TLS_AES_128_CCM_SHA256
1305 TLS_AES_128_CCM_8_SHA256
5600 TLS_FALLBACK_SCSV
C004 TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA
C005 TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA
C007 TLS_ECDHE_ECDSA_WITH_RC4_128_SHA
C008 TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
C009 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
C00A TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA
C00E TLS_ECDH_RSA_WITH_AES_128_CBC_SHA
C00F TLS_ECDH_RSA_WITH_AES_256_CBC_SHA
C011 TLS_ECDHE_RSA_WITH_RC4_128_SHA
C012 TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA
C013 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
C014 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA
C023 TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256
C024 TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384
C025 TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256
C026 TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384
C027 TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256
C028 TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384
C029 TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256
C02A TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384
C02B TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
C02C TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
C02D TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256
C02E TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384
C02F TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
C030 TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
C031 TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256
C032 TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384
C035 TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA
C036 TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA
C037 TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256
C038 TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384
C050 TLS_RSA_WITH_ARIA_128_GCM_SHA256
C051 TLS_RSA_WITH_ARIA_256_GCM_SHA384
C09C TLS_RSA_WITH_AES_128_CCM
C09D TLS_RSA_WITH_AES_256_CCM
C09E TLS_DHE_RSA_WITH_AES_128_CCM
C09F TLS_DHE_RSA_WITH_AES_256_CCM
C0A0 TLS_RSA_WITH_AES_128_CCM_8
C0A1 TLS_RSA_WITH_AES_256_CCM_8
C0A2 TLS_DHE_RSA_WITH_AES_128_CCM_8
C0A3 TLS_DHE_RSA_WITH_AES_256_CCM_8
C0A4 TLS_PSK_WITH_AES_128_CCM
C0A5 TLS_PSK_WITH_AES_256_CCM
C0A8 TLS_PSK_WITH_AES_128_CCM_8
C0A9 TLS_PSK_WITH_AES_256_CCM_8
C0AC TLS_ECDHE_ECDSA_WITH_AES_128_CCM
C0AD TLS_ECDHE_ECDSA_WITH_AES_256_CCM
C0AE TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
C0AF TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8
CCA8 TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
CCA9 TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
CCAA TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256
CCAB TLS_PSK_WITH_CHACHA20_POLY1305_SHA256
CCAC TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
CCAD TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256
CCAE TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256
D001 TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
D002 TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384
D005 TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256
"""


def _parse_suite(sid: int, name: str) -> CipherSuite:
    """Split an IANA suite name into key exchange, cipher and MAC."""
    if "_WITH_" in name:
        kex, rest = name[4:].split("_WITH_", 1)
    elif sid >> 8 == 0x13:  # TLS 1.3: TLS_<AEAD>_<HASH>
        kex, rest = "TLS13", name[4:]
    else:  # signalling values (SCSV)
        return CipherSuite(sid, name, "", None, None, "sha256")
    head, _, last = rest.rpartition("_")
    prf = "sha384" if last == "SHA384" else "sha256"
    if last in MACS and head:
        cipher_name, mac = head, MACS[last][0]
    else:  # CCM suites name no hash: the whole rest is the cipher, PRF SHA-256
        cipher_name, mac = rest, None
    cipher = CIPHERS.get(cipher_name)
    if kex == "TLS13" or (cipher is not None and cipher.kind == "aead"):
        mac = None  # the hash of an AEAD suite names the PRF / key schedule hash, not a MAC
    return CipherSuite(sid, name, kex, cipher, mac, prf, cipher_name)


CIPHER_SUITES: Final[dict[int, CipherSuite]] = {}
for _line in _SUITES.strip().splitlines():
    _hex, _name = _line.split()
    CIPHER_SUITES[int(_hex, 16)] = _parse_suite(int(_hex, 16), _name)
del _line, _hex, _name


def suite(sid: int) -> CipherSuite:
    """The suite for a number; unknown numbers get a record that cannot be decrypted."""
    known = CIPHER_SUITES.get(sid)
    if known is not None:
        return known
    return CipherSuite(sid, suite_name(sid), "", None, None, "sha256")


def suite_name(sid: int) -> str:
    known = CIPHER_SUITES.get(sid)
    if known is not None:
        return known.name
    if sid & 0x0F0F == 0x0A0A and sid >> 8 == sid & 0xFF:
        return f"GREASE 0x{sid:04X}"
    return f"0x{sid:04X}"
