"""Handshake message bodies: bytes in, records out (RFC 8446 §4, RFC 5246 §7.4, RFC 6066, RFC 7301).

Each parser takes the body of one handshake message (without its 4-byte header) and returns
its record, or a :class:`Malformed` naming the first field that did not fit.  Nothing raises
past this module.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from ._records import CertificateInfo, ClientHello, ServerHello
from ._tables import HELLO_RETRY_RANDOM

if TYPE_CHECKING:
    from cryptography import x509

__all__ = [
    "Malformed",
    "parse_certificate",
    "parse_client_hello",
    "parse_client_key_exchange",
    "parse_encrypted_extensions",
    "parse_key_update",
    "parse_new_session_ticket",
    "parse_server_hello",
]

EXT_SERVER_NAME: Final = 0
EXT_SUPPORTED_GROUPS: Final = 10
EXT_SIGNATURE_ALGORITHMS: Final = 13
EXT_ALPN: Final = 16
EXT_ENCRYPT_THEN_MAC: Final = 22
EXT_EXTENDED_MASTER_SECRET: Final = 23
EXT_SESSION_TICKET: Final = 35
EXT_PRE_SHARED_KEY: Final = 41
EXT_EARLY_DATA: Final = 42
EXT_SUPPORTED_VERSIONS: Final = 43
EXT_KEY_SHARE: Final = 51
EXT_RENEGOTIATION_INFO: Final = 0xFF01
SCSV_RENEGOTIATION: Final = 0x00FF


@dataclass(frozen=True, slots=True)
class Malformed:
    what: str  #: "ClientHello: cipher_suites runs past the message"


class _Short(Exception):
    """A length field points past the end of what it lives in (caught in this module)."""


class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def left(self) -> int:
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        if n > len(self.data) - self.pos:
            raise _Short(what)
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int, what: str) -> int:
        return int.from_bytes(self.take(n, what), "big")

    def vector(self, length_bytes: int, what: str) -> bytes:
        return self.take(self.uint(length_bytes, what), what)


def _u16_list(data: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2))


def _extensions(r: _Reader, what: str) -> list[tuple[int, bytes]]:
    if not r.left():
        return []  # extensions are optional before TLS 1.3
    block = _Reader(r.vector(2, f"{what}: extensions"))
    out = []
    while block.left():
        etype = block.uint(2, f"{what}: extension type")
        out.append((etype, block.vector(2, f"{what}: extension {etype}")))
    return out


def _sni(data: bytes) -> str | None:
    r = _Reader(_Reader(data).vector(2, "server_name list"))
    while r.left():
        kind = r.uint(1, "server_name type")
        name = r.vector(2, "server_name")
        if kind == 0:
            return name.decode("ascii", "replace")
    return None


def _alpn(data: bytes) -> tuple[str, ...]:
    r = _Reader(_Reader(data).vector(2, "ALPN list"))
    out = []
    while r.left():
        out.append(r.vector(1, "ALPN protocol").decode("ascii", "replace"))
    return tuple(out)


def parse_client_hello(body: bytes) -> ClientHello | Malformed:
    try:
        r = _Reader(body)
        version = r.uint(2, "ClientHello: version")
        random = r.take(32, "ClientHello: random")
        session_id = r.vector(1, "ClientHello: session_id")
        suites = _u16_list(r.vector(2, "ClientHello: cipher_suites"))
        compression = tuple(r.vector(1, "ClientHello: compression_methods"))
        exts = _extensions(r, "ClientHello")
        fields: dict[str, object] = {}
        for etype, data in exts:
            if etype == EXT_SERVER_NAME and data:
                fields["sni"] = _sni(data)
            elif etype == EXT_ALPN:
                fields["alpn"] = _alpn(data)
            elif etype == EXT_SUPPORTED_VERSIONS:
                fields["supported_versions"] = _u16_list(_Reader(data).vector(1, "supported_versions"))
            elif etype == EXT_SUPPORTED_GROUPS:
                fields["supported_groups"] = _u16_list(_Reader(data).vector(2, "supported_groups"))
            elif etype == EXT_SIGNATURE_ALGORITHMS:
                fields["signature_algorithms"] = _u16_list(_Reader(data).vector(2, "signature_algorithms"))
            elif etype == EXT_KEY_SHARE:
                shares = _Reader(_Reader(data).vector(2, "key_share"))
                groups = []
                while shares.left():
                    groups.append(shares.uint(2, "key_share group"))
                    shares.vector(2, "key_share key")
                fields["key_share_groups"] = tuple(groups)
            elif etype == EXT_PRE_SHARED_KEY:
                ids = _Reader(_Reader(data).vector(2, "pre_shared_key identities"))
                n = 0
                while ids.left():
                    ids.vector(2, "psk identity")
                    ids.take(4, "psk ticket age")
                    n += 1
                fields["psk_identities"] = n
            elif etype == EXT_EARLY_DATA:
                fields["early_data"] = True
            elif etype == EXT_EXTENDED_MASTER_SECRET:
                fields["extended_master_secret"] = True
            elif etype == EXT_ENCRYPT_THEN_MAC:
                fields["encrypt_then_mac"] = True
            elif etype == EXT_SESSION_TICKET:
                fields["session_ticket"] = data
            elif etype == EXT_RENEGOTIATION_INFO:
                fields["renegotiation_info"] = True
        if SCSV_RENEGOTIATION in suites:
            fields["renegotiation_info"] = True
        return ClientHello(version, random, session_id, suites, compression, tuple(e for e, _ in exts),
                           **fields)  # type: ignore[arg-type]
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")


def parse_server_hello(body: bytes) -> ServerHello | Malformed:
    try:
        r = _Reader(body)
        version = r.uint(2, "ServerHello: version")
        random = r.take(32, "ServerHello: random")
        session_id = r.vector(1, "ServerHello: session_id")
        suite = r.uint(2, "ServerHello: cipher_suite")
        compression = r.uint(1, "ServerHello: compression_method")
        exts = _extensions(r, "ServerHello")
        retry = random == HELLO_RETRY_RANDOM
        fields: dict[str, object] = {}
        for etype, data in exts:
            if etype == EXT_SUPPORTED_VERSIONS and len(data) >= 2:
                fields["selected_version"] = int.from_bytes(data[:2], "big")
            elif etype == EXT_KEY_SHARE and len(data) >= 2:
                fields["key_share_group"] = int.from_bytes(data[:2], "big")
            elif etype == EXT_PRE_SHARED_KEY and len(data) >= 2:
                fields["psk_selected"] = int.from_bytes(data[:2], "big")
            elif etype == EXT_EXTENDED_MASTER_SECRET:
                fields["extended_master_secret"] = True
            elif etype == EXT_ENCRYPT_THEN_MAC:
                fields["encrypt_then_mac"] = True
            elif etype == EXT_SESSION_TICKET:
                fields["session_ticket"] = True
            elif etype == EXT_ALPN and data:
                alpn = _alpn(data)
                fields["alpn"] = alpn[0] if alpn else None
        return ServerHello(version, random, session_id, suite, compression, tuple(e for e, _ in exts),
                           retry_request=retry, **fields)  # type: ignore[arg-type]
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")


def parse_encrypted_extensions(body: bytes) -> tuple[str | None, bool] | Malformed:
    """TLS 1.3 EncryptedExtensions: (the ALPN protocol chosen, early data accepted)."""
    try:
        alpn: str | None = None
        early = False
        for etype, data in _extensions(_Reader(body), "EncryptedExtensions"):
            if etype == EXT_ALPN and data:
                protocols = _alpn(data)
                alpn = protocols[0] if protocols else None
            elif etype == EXT_EARLY_DATA:
                early = True
        return alpn, early
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")


def parse_client_key_exchange(body: bytes, version: int) -> bytes | Malformed:
    """The encrypted premaster secret of an RSA ClientKeyExchange (length-prefixed since TLS 1.0)."""
    if version <= 0x0300:
        return body
    try:
        r = _Reader(body)
        pms = r.vector(2, "ClientKeyExchange: encrypted premaster")
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")
    return pms


def parse_new_session_ticket(body: bytes, tls13: bool) -> bytes | Malformed:
    """The ticket of a NewSessionTicket (RFC 5077 §3.3, RFC 8446 §4.6.1)."""
    try:
        r = _Reader(body)
        r.take(4, "NewSessionTicket: lifetime")
        if tls13:
            r.take(4, "NewSessionTicket: age_add")
            r.vector(1, "NewSessionTicket: nonce")
        return r.vector(2, "NewSessionTicket: ticket")
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")


def parse_key_update(body: bytes) -> bool | Malformed:
    """Whether a KeyUpdate asks the peer to update too (update_requested)."""
    if len(body) != 1 or body[0] > 1:
        return Malformed("KeyUpdate: request_update is not 0 or 1")
    return body[0] == 1


def _public_key(cert: x509.Certificate) -> tuple[str, str]:
    """('RSA 2048', SPKI SHA-256 hex), as far as the key type is known."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    try:
        key = cert.public_key()
    except Exception:  # any failure on untrusted DER
        return "unknown", ""
    if isinstance(key, rsa.RSAPublicKey):
        desc = f"RSA {key.key_size}"
    elif isinstance(key, ec.EllipticCurvePublicKey):
        desc = f"EC {key.curve.name}"
    elif isinstance(key, ed25519.Ed25519PublicKey):
        desc = "Ed25519"
    elif isinstance(key, ed448.Ed448PublicKey):
        desc = "Ed448"
    elif isinstance(key, dsa.DSAPublicKey):
        desc = f"DSA {key.key_size}"
    else:
        desc = type(key).__name__
    try:
        spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    except (ValueError, TypeError):
        return desc, ""
    return desc, hashlib.sha256(spki).hexdigest()


def _iso(t: datetime.datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


# A server sends the same certificate to every client: each is parsed once (at most 256 kept).
_CERTIFICATES: dict[tuple[bytes, int], CertificateInfo | Malformed] = {}


def certificate_info(der: bytes, chain_length: int) -> CertificateInfo | Malformed:
    """The facts of one DER certificate (remembered: parsing X.509 is the costly part of a handshake)."""
    key = (hashlib.sha256(der).digest(), chain_length)
    known = _CERTIFICATES.get(key)
    if known is None:
        known = _certificate_info(der, chain_length)
        if len(_CERTIFICATES) >= 256:
            _CERTIFICATES.pop(next(iter(_CERTIFICATES)))
        _CERTIFICATES[key] = known
    return known


def _certificate_info(der: bytes, chain_length: int) -> CertificateInfo | Malformed:
    """The facts of one DER certificate, via ``cryptography.x509``."""
    # Imported on the first certificate, not with this module: cryptography's X.509 costs 60 ms to
    # import, and a capture whose TLS connections show no handshake never needs it.
    from cryptography import x509

    problems: list[str] = []
    try:
        cert = x509.load_der_x509_certificate(der)
        subject = cert.subject.rfc4514_string()
        issuer = cert.issuer.rfc4514_string()
        nb, na = cert.not_valid_before_utc, cert.not_valid_after_utc
        serial = format(cert.serial_number, "x")
    except Exception as exc:
        first = str(exc).splitlines()[0][:80] if str(exc) else type(exc).__name__
        return Malformed(f"Certificate: the leaf certificate does not parse ({first})")
    san: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        san += [f"DNS:{n}" for n in ext.get_values_for_type(x509.DNSName)]
        san += [f"IP:{ip}" for ip in ext.get_values_for_type(x509.IPAddress)]
        san += [f"URI:{u}" for u in ext.get_values_for_type(x509.UniformResourceIdentifier)]
    except x509.ExtensionNotFound:
        pass
    except Exception as exc:
        problems.append(f"warning: subjectAltName does not parse: {str(exc).splitlines()[0][:80]}")
    key_desc, spki = _public_key(cert)
    return CertificateInfo(
        subject=subject, issuer=issuer, san=tuple(san), not_before=_iso(nb), not_after=_iso(na),
        not_before_ts=nb.timestamp(), not_after_ts=na.timestamp(), serial=serial, public_key=key_desc,
        spki_sha256=spki, sha256=hashlib.sha256(der).hexdigest(), chain_length=chain_length,
        problems=tuple(problems),
    )


def parse_certificate(body: bytes, tls13: bool) -> CertificateInfo | Malformed | None:
    """The leaf of a Certificate message; None for an empty one (a client without a certificate)."""
    try:
        r = _Reader(body)
        if tls13:
            r.vector(1, "Certificate: request context")
        chain = _Reader(r.vector(3, "Certificate: certificate_list"))
        certs: list[bytes] = []
        while chain.left():
            certs.append(chain.vector(3, "Certificate: certificate"))
            if tls13:
                chain.vector(2, "Certificate: entry extensions")
    except _Short as exc:
        return Malformed(f"{exc} runs past the message")
    if not certs:
        return None
    return certificate_info(certs[0], len(certs))
