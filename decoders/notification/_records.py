"""Immutable records produced by :func:`decoders.notification.decode` and ``decode_wap_push``.

A raw Package #0 becomes a :class:`Notification` (DS SAN sync requests as
:class:`SyncAlert`), a connectionless WSP push a :class:`WapPush`; bytes that cannot be
either give a :class:`NotificationError`.  Problems are one-line strings starting with a
severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ._tables import INITIATORS, SYNC_TYPE_ALERT_BASE, SYNC_TYPES, UI_MODES
from ._wsp import CONTENT_TYPES

__all__ = ["Notification", "NotificationError", "SyncAlert", "WapPush"]


@dataclass(frozen=True, slots=True)
class SyncAlert:
    """One sync request of a DS 1.2 SAN body: which data store, how to sync it."""

    sync_type: int  #: 4 bits: the alert code minus 200, 6..10 are valid
    content_type: int  #: 24 bits: a WSP well-known content-type code, 0 = not specified
    server_uri: str  #: the server's data store URI, e.g. "Contacts"
    future: int = 0  #: the 4 reserved bits after sync-type (0 on the wire)

    @property
    def alert_code(self) -> int:
        """The SyncML alert code the client answers with (206..210 for valid sync types)."""
        return SYNC_TYPE_ALERT_BASE + self.sync_type

    @property
    def sync_type_name(self) -> str | None:
        """E.g. "two-way by server" for 6 (alert 206); None outside 6..10."""
        return SYNC_TYPES.get(self.sync_type)

    @property
    def content_type_name(self) -> str | None:
        """WSP name of ``content_type`` ("text/x-vCard" for 7); None for 0 or unknown codes.

        0 is "not specified" here (buteo-syncml and Synthesis both send 0 that way), not
        WSP's "*/*".
        """
        return CONTENT_TYPES.get(self.content_type) if self.content_type else None


@dataclass(frozen=True, slots=True)
class Notification:
    """A Package #0: DM 1.2 "General Notification Initiated Session Alert" or DS 1.2 SAN."""

    digest: bytes  #: the first 16 bytes: MD5 over the credentials, a nonce and ``trigger``
    trigger: bytes  #: every byte after the digest: the inner MD5's input
    version: int  #: the 10-bit version field, tenths: 11 = "1.1" (DM 1.2), 12 = "1.2" (DS SAN)
    ui_mode: int  #: 2 bits, see ``UI_MODES``
    initiator: int  #: 1 bit: 0 user, 1 server
    future: int  #: the 27 reserved bits (0 on the wire)
    session_id: int  #: 16 bits; the client's Pkg#1 SessionID, see ``session_id_hex``
    server_id: str  #: UTF-8 decoded (replacement characters on bad bytes, with a warning)
    server_id_raw: bytes  #: the identifier bytes actually present
    server_id_length: int  #: the length octet as sent (more than ``server_id_raw`` when cut short)
    vendor: bytes  #: everything after the server identifier (DM vendor part / DS SAN body)
    syncs: tuple[SyncAlert, ...] = ()  #: DS SAN (version 12) sync requests, when the body parses
    #: The DS SAN num-syncs nibble when the body parsed as a sync list (0 = every data
    #: store), None otherwise.
    num_syncs: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def version_text(self) -> str:
        """The version field as text: 11 -> "1.1", 12 -> "1.2"."""
        return f"{self.version // 10}.{self.version % 10}"

    @property
    def ui_mode_name(self) -> str:
        return UI_MODES[self.ui_mode]

    @property
    def initiator_name(self) -> str:
        return INITIATORS[self.initiator]

    @property
    def session_id_hex(self) -> str:
        """Upper-case hex without leading zeros: the SessionID the client sends in Pkg#1."""
        return f"{self.session_id:X}"

    @property
    def errors(self) -> tuple[str, ...]:
        """Problems of severity "error"."""
        return tuple(p for p in self.problems if p.startswith("error: "))


@dataclass(frozen=True, slots=True)
class NotificationError:
    """The bytes are not a Package #0 (or not a WSP push) at all."""

    reason: str


@dataclass(frozen=True, slots=True)
class WapPush:
    """A connectionless WSP push PDU (one UDP datagram to port 2948/2949)."""

    transaction_id: int  #: the TID octet
    pdu_type: int  #: 0x06 Push
    headers_length: int  #: the HeadersLen uintvar: Content-Type plus headers
    content_type: str  #: media type, e.g. "application/vnd.syncml.notification"; "" if unreadable
    content_type_code: int | None  #: the well-known code when sent as one (0x44), else None
    headers: tuple[tuple[str, str], ...]  #: the headers after Content-Type, wire order
    application_id: str | None  #: X-Wap-Application-Id rendered ("x-wap-application:syncml.dm")
    body: bytes  #: the data after the headers
    #: The body decoded when the content type is a SyncML notification, else None.
    notification: Notification | NotificationError | None
    content_type_parameters: tuple[tuple[str, str], ...] = ()  #: e.g. (("SEC", "USERPIN"),)
    problems: tuple[str, ...] = ()

    @property
    def errors(self) -> tuple[str, ...]:
        """Problems of severity "error"."""
        return tuple(p for p in self.problems if p.startswith("error: "))
