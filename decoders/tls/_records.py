"""Immutable records produced by :class:`decoders.tls.TlsConnection`.

Two kinds: what a handshake said (:class:`ClientHello`, :class:`ServerHello`,
:class:`CertificateInfo`, :class:`Alert`, the connection-level :class:`TlsInfo` and
:class:`TlsSummary`), and the events one call hands back (:class:`ApplicationData`,
:class:`OpaqueData`, :class:`DataLost`, :class:`HandshakeMessage`, :class:`AlertEvent`).

Every event carries ``end``: the offset, in the direction's TCP stream, just past the
record that completed it, so the caller can name the frame that carried it.  Problems are
one-line strings starting with a severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from .._frozen import quick_init
from ._tables import ALERT_NAMES, HANDSHAKE_NAMES

__all__ = [
    "Alert",
    "AlertEvent",
    "ApplicationData",
    "CertificateInfo",
    "ClientHello",
    "DataLost",
    "HandshakeMessage",
    "OpaqueData",
    "ServerHello",
    "TlsEvent",
    "TlsInfo",
    "TlsSummary",
    "Undecrypted",
]


@quick_init
@dataclass(frozen=True, slots=True)
class ClientHello:
    """What a ClientHello offered (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2)."""

    version: int  #: legacy_version
    random: bytes
    session_id: bytes
    cipher_suites: tuple[int, ...]
    compression_methods: tuple[int, ...]
    extensions: tuple[int, ...]  #: extension types, in order
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    supported_versions: tuple[int, ...] = ()
    supported_groups: tuple[int, ...] = ()
    key_share_groups: tuple[int, ...] = ()
    signature_algorithms: tuple[int, ...] = ()
    psk_identities: int = 0  #: pre_shared_key identities offered (TLS 1.3 resumption)
    early_data: bool = False
    extended_master_secret: bool = False
    encrypt_then_mac: bool = False
    session_ticket: bytes | None = None  #: None: no extension; b"": asks for a new ticket
    renegotiation_info: bool = False  #: the extension or the SCSV
    sslv2: bool = False  #: sent in the SSL 2.0 compatible format


@quick_init
@dataclass(frozen=True, slots=True)
class ServerHello:
    """What a ServerHello (or a TLS 1.3 HelloRetryRequest) chose."""

    version: int  #: legacy_version
    random: bytes
    session_id: bytes
    cipher_suite: int
    compression_method: int
    extensions: tuple[int, ...]
    selected_version: int | None = None  #: supported_versions (TLS 1.3)
    key_share_group: int | None = None
    psk_selected: int | None = None
    extended_master_secret: bool = False
    encrypt_then_mac: bool = False
    session_ticket: bool = False  #: the server will send a NewSessionTicket
    alpn: str | None = None
    retry_request: bool = False  #: a HelloRetryRequest

    @property
    def negotiated_version(self) -> int:
        return self.selected_version if self.selected_version is not None else self.version


@quick_init
@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """The server's leaf certificate, as far as it parsed."""

    subject: str  #: RFC 4514
    issuer: str
    san: tuple[str, ...]  #: "DNS:acs.example.net", "IP:192.0.2.1", ...
    not_before: str  #: ISO 8601, UTC
    not_after: str
    not_before_ts: float  #: the same as POSIX time, for comparing with capture times
    not_after_ts: float
    serial: str  #: hex
    public_key: str  #: "RSA 2048", "EC secp256r1", "Ed25519" ...
    spki_sha256: str  #: hex SHA-256 of the SubjectPublicKeyInfo: ties an RSA private key to it
    sha256: str  #: hex fingerprint of the whole certificate
    chain_length: int  #: certificates in the message
    problems: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Alert:
    """An alert record; level and description are unknown (None) when it could not be decrypted."""

    direction: int
    level: int | None
    description: int | None
    encrypted: bool

    @property
    def name(self) -> str:
        if self.description is None:
            return "encrypted alert"
        return ALERT_NAMES.get(self.description, f"alert {self.description}")

    @property
    def fatal(self) -> bool:
        return self.level == 2


@quick_init
@dataclass(frozen=True, slots=True)
class Undecrypted:
    """Why a direction (or a whole connection) was not decrypted."""

    code: str  #: see ``REASONS`` in ``_connection.py``
    text: str  #: one line for people; names no command-line option (the caller adds how to fix it)


@quick_init
@dataclass(frozen=True, slots=True)
class TlsInfo:
    """What the handshake established, as known so far: attached to every HTTP exchange over it.

    A new object is made only when something changes, so most exchanges of a connection share
    one.  ``key_source`` says where the keys came from ("key log keys.txt line 12", "RSA key
    server.key", "session cache: resumed from ...").
    """

    version: int | None  #: negotiated; None before the ServerHello
    cipher_suite: int | None
    sni: str | None
    alpn: str | None
    client_random: bytes | None
    resumed: str | None  #: "session-id" | "ticket" | "psk" | None
    decrypting: bool  #: keys were found for this connection (both directions, or the one seen)
    key_source: str | None
    client_direction: int | None  #: which direction (0/1) the ClientHello came from

    @property
    def version_name(self) -> str:
        from ._tables import version_name

        return version_name(self.version) if self.version is not None else "TLS (version unknown)"

    @property
    def suite_name(self) -> str | None:
        from ._tables import suite_name

        return suite_name(self.cipher_suite) if self.cipher_suite is not None else None


@quick_init
@dataclass(frozen=True, slots=True)
class TlsSummary:
    """Everything about one TLS connection, made when it ends."""

    info: TlsInfo
    client_hello: ClientHello | None
    server_hello: ServerHello | None
    certificate: CertificateInfo | None
    decrypted: bool  #: all application data that was seen could be read
    reason: Undecrypted | None  #: why not (None when decrypted or when there was nothing to read)
    records: tuple[int, int]  #: records seen per direction (0, 1)
    application_bytes: tuple[int, int]  #: decrypted application data bytes per direction
    opaque_bytes: tuple[int, int]  #: application data bytes that stayed encrypted, per direction
    alerts: tuple[Alert, ...]
    hello_retry: bool
    renegotiations: int
    key_updates: tuple[int, int]  #: KeyUpdate messages per direction
    compression: int  #: the negotiated compression method (0 = none)
    handshake_complete: bool  #: Finished seen in both directions (or decrypted data flowed)
    keylog_lines: tuple[str, ...]  #: NSS key log lines that open this connection (secret!)
    problems: tuple[str, ...]


@quick_init
@dataclass(frozen=True, slots=True)
class ApplicationData:
    """Decrypted application data from one record."""

    direction: int
    data: bytes
    end: int
    seq: int  #: the record's sequence number under its key


@quick_init
@dataclass(frozen=True, slots=True)
class OpaqueData:
    """Application data that could not be decrypted (counted, never dropped silently)."""

    direction: int
    length: int
    end: int


@quick_init
@dataclass(frozen=True, slots=True)
class DataLost:
    """Application data lost to a capture gap: ``length`` plaintext bytes, or None if unknown."""

    direction: int
    length: int | None
    end: int


@quick_init
@dataclass(frozen=True, slots=True)
class HandshakeMessage:
    """A handshake message, decrypted or in the clear; ``record`` is its decoded form, if any."""

    direction: int
    type: int
    end: int
    record: ClientHello | ServerHello | CertificateInfo | None = None
    encrypted: bool = False

    @property
    def name(self) -> str:
        if self.type == 2 and isinstance(self.record, ServerHello) and self.record.retry_request:
            return "HelloRetryRequest"
        return HANDSHAKE_NAMES.get(self.type, f"handshake type {self.type}")


@quick_init
@dataclass(frozen=True, slots=True)
class AlertEvent:
    alert: Alert
    end: int


TlsEvent: TypeAlias = ApplicationData | OpaqueData | DataLost | HandshakeMessage | AlertEvent
