"""TlsConnection: what a passive observer makes of one TLS connection (SSL 3.0 - TLS 1.3).

Design
------
The caller feeds each direction's reassembled TCP stream (``receive_data``, ``receive_gap``,
``receive_eof``, with direction 0 or 1 as the caller numbers them) and gets back a list of
events: decrypted application data, application data that stayed opaque, data lost to a
gap, handshake messages and alerts, each with the stream offset of the end of the record
that carried it.  No I/O: key material comes from a :class:`~decoders.tls.KeyStore` the
caller fills, and resumed sessions from a :class:`~decoders.tls.SessionCache` shared
between the connections of one capture.

Three layers, one per concern:

* **records** (``_records``): 5-byte headers, bodies of up to 2^14 + 2048 bytes, several
  per segment or one across many; at most one record is ever buffered.  A header that is
  not TLS, or a capture gap, loses the framing: the direction then looks for the next
  plausible header and, when its keys allow, the sequence number that opens it.
* **protection** (``_open``): each direction is PLAIN until its keys change, then
  ENCRYPTED (a :class:`~decoders.tls._crypto.Protection` and a sequence number) or
  OPAQUE (no usable keys: the reason is kept, the bytes counted).  TLS <= 1.2 switches at
  ChangeCipherSpec; TLS 1.3 walks a ladder of secrets (early, handshake, application,
  then one per KeyUpdate), moving on at Finished, EndOfEarlyData and KeyUpdate, or when a
  record opens only under the next secret (a key log that lacks the handshake secrets).
* **handshake** (``_message``): messages reassembled across records, decoded by
  ``_handshake.py``; the connection's phase follows ``TRANSITIONS`` below::

      START --ClientHello--> HELLO --ServerHello--> NEGOTIATING (<= 1.2) --Finished x2--> ESTABLISHED
                                   --ServerHello 1.3--> HANDSHAKE_13 --Finished x2-->  ESTABLISHED
                                   --HelloRetryRequest--> RETRY --ClientHello--> HELLO
      START --application data--> MIDSTREAM (the capture began after the handshake)
      ESTABLISHED --ClientHello--> HELLO (renegotiation)        any --fatal alert--> CLOSED

  A (phase, input) pair missing from the table becomes a problem string, never an exception.

Where the keys come from, first match wins: the key log (CLIENT_RANDOM, the TLS 1.3
traffic secrets, RSA premaster lines); for a resumed TLS <= 1.2 session the master secret
of its full handshake earlier in the capture (by ticket, then session id); for RSA key
exchange the server's private key (the one whose public key is the certificate's, or bound
to the server's address) decrypting the ClientKeyExchange, with RFC 7627's session hash.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING, Final

from ._handshake import (
    Malformed,
    parse_certificate,
    parse_client_hello,
    parse_client_key_exchange,
    parse_encrypted_extensions,
    parse_key_update,
    parse_new_session_ticket,
    parse_server_hello,
)
from ._keys import KeyStore, RsaKey, SessionCache
from ._records import (
    Alert,
    AlertEvent,
    ApplicationData,
    CertificateInfo,
    ClientHello,
    DataLost,
    HandshakeMessage,
    OpaqueData,
    ServerHello,
    TlsEvent,
    TlsInfo,
    TlsSummary,
    Undecrypted,
)
from ._tables import (
    CONTENT_ALERT,
    CONTENT_APPLICATION_DATA,
    CONTENT_CHANGE_CIPHER_SPEC,
    CONTENT_HANDSHAKE,
    MAX_CIPHERTEXT,
    CipherSuite,
    HandshakeType,
    suite,
    version_name,
)

if TYPE_CHECKING:
    from ._crypto import Protection, Transcript

# ._crypto (and cryptography under it, 40 ms to import) is imported where keys are first derived
# or a handshake is first hashed: a capture whose TLS stays encrypted for want of keys, and has no
# handshake in it, never loads it.

__all__ = ["REASONS", "TRANSITIONS", "Input", "Phase", "TlsConnection"]

#: Largest handshake message kept (certificate chains are a few KB; the length field allows 16 MB).
MAX_HANDSHAKE_MESSAGE: Final = 256 * 1024
#: Records held back while waiting for keys that may still arrive (live capture), per connection.
MAX_HELD_BYTES: Final = 1 << 20
#: Records that fail to open under a key before the direction stops trying (wrong key).
MAX_FAILURES: Final = 16
#: Sequence numbers tried after a capture gap, and candidate records looked at.
MAX_RESYNC_TRIES: Final = 2048
MAX_RESYNC_CANDIDATES: Final = 4

#: Why a connection (or one direction of it) was not decrypted: code -> what it means.
REASONS: Final = {
    "no-handshake": "the capture starts after the handshake: there is nothing to find keys by",
    "no-keylog-entry": "no key log entry for this connection's client random",
    "rsa-key-needed": "RSA key exchange: the server's private key would decrypt it",
    "rsa-key-mismatch": "the RSA key given is not the key of this server's certificate",
    "rsa-decrypt-failed": "the premaster secret does not decrypt with the RSA key given",
    "rsa-key-not-rsa-kex": "an RSA key was given, but this session's key exchange is not RSA",
    "resumed-unknown": "a resumed session whose master secret is unknown (its full handshake was not "
                       "decrypted, or is not in the capture)",
    "bad-record-mac": "key present but the record tags do not verify (wrong key or wrong capture)",
    "damaged-record": "a record does not verify although the ones before it did (damaged in the capture?)",
    "unsupported-cipher": "a cipher suite or version this decoder cannot decrypt",
    "lost-sync": "a capture gap lost the record sequence",
    "capture-gap": "a capture gap cut a record: the rest of it could not be decrypted",
    "not-tls": "the stream stopped looking like TLS",
    "handshake-incomplete": "the handshake messages needed to find the keys are missing",
    "no-application-data": "no application data was sent",
}

_PLAIN, _ENCRYPTED, _OPAQUE, _LOST = 0, 1, 2, 3


class Phase(enum.Enum):
    __hash__ = object.__hash__

    START = "START"
    HELLO = "HELLO"  #: ClientHello seen
    RETRY = "RETRY"  #: HelloRetryRequest seen: a second ClientHello is due
    NEGOTIATING = "NEGOTIATING"  #: TLS <= 1.2 after the ServerHello
    HANDSHAKE_13 = "HANDSHAKE_13"  #: TLS 1.3 after the ServerHello: the rest is encrypted
    ESTABLISHED = "ESTABLISHED"
    MIDSTREAM = "MIDSTREAM"  #: the capture began after the handshake
    CLOSED = "CLOSED"  #: a fatal alert ended it


class Input(enum.Enum):
    __hash__ = object.__hash__

    CLIENT_HELLO = "ClientHello"
    SERVER_HELLO = "ServerHello"
    SERVER_HELLO_13 = "ServerHello (TLS 1.3)"
    HELLO_RETRY = "HelloRetryRequest"
    FINISHED = "Finished"  #: one side's
    HANDSHAKE_DONE = "the second Finished"
    POST_HANDSHAKE = "NewSessionTicket or KeyUpdate"
    HELLO_REQUEST = "HelloRequest"
    APPLICATION_DATA = "application data"
    NO_HANDSHAKE = "application data before any handshake"
    FATAL_ALERT = "a fatal alert"


#: How a key source from the session cache begins: "resumed session: the session of C5, RSA key ...".
_RESUMED: Final = "resumed session: "

P, I = Phase, Input  # noqa: E741 - short names keep the table readable
_STAYS: Final = ((I.APPLICATION_DATA, None), (I.POST_HANDSHAKE, None), (I.FINISHED, None))

#: (phase, input) -> (next phase, problem to note or None).
TRANSITIONS: Final[dict[tuple[Phase, Input], tuple[Phase, str | None]]] = {
    (P.START, I.CLIENT_HELLO): (P.HELLO, None),
    (P.START, I.SERVER_HELLO): (P.NEGOTIATING, "warning: ServerHello without a ClientHello before it"),
    (P.START, I.SERVER_HELLO_13): (P.HANDSHAKE_13, "warning: ServerHello without a ClientHello before it"),
    (P.START, I.NO_HANDSHAKE): (P.MIDSTREAM, None),
    (P.HELLO, I.SERVER_HELLO): (P.NEGOTIATING, None),
    (P.HELLO, I.SERVER_HELLO_13): (P.HANDSHAKE_13, None),
    (P.HELLO, I.HELLO_RETRY): (P.RETRY, None),
    (P.HELLO, I.APPLICATION_DATA): (P.HELLO, None),  # TLS 1.3 0-RTT early data
    (P.HELLO, I.CLIENT_HELLO): (P.HELLO, "warning: a second ClientHello before any ServerHello"),
    (P.RETRY, I.CLIENT_HELLO): (P.HELLO, None),
    (P.NEGOTIATING, I.FINISHED): (P.NEGOTIATING, None),
    (P.NEGOTIATING, I.HANDSHAKE_DONE): (P.ESTABLISHED, None),
    (P.NEGOTIATING, I.POST_HANDSHAKE): (P.NEGOTIATING, None),  # NewSessionTicket precedes the server's CCS
    (P.NEGOTIATING, I.APPLICATION_DATA): (P.ESTABLISHED, None),  # its Finished stayed encrypted
    (P.HANDSHAKE_13, I.FINISHED): (P.HANDSHAKE_13, None),
    (P.HANDSHAKE_13, I.HANDSHAKE_DONE): (P.ESTABLISHED, None),
    (P.HANDSHAKE_13, I.POST_HANDSHAKE): (P.HANDSHAKE_13, None),
    (P.HANDSHAKE_13, I.APPLICATION_DATA): (P.HANDSHAKE_13, None),  # 0.5-RTT data, or not decrypted
    (P.ESTABLISHED, I.CLIENT_HELLO): (P.HELLO, "info: renegotiation: a new handshake inside the connection"),
    (P.ESTABLISHED, I.HELLO_REQUEST): (P.ESTABLISHED, None),
    (P.ESTABLISHED, I.HANDSHAKE_DONE): (P.ESTABLISHED, None),
    **{(P.ESTABLISHED, i): (P.ESTABLISHED, None) for i, _ in _STAYS},
    **{(P.MIDSTREAM, i): (P.MIDSTREAM, None) for i, _ in _STAYS},
    (P.MIDSTREAM, I.NO_HANDSHAKE): (P.MIDSTREAM, None),
    (P.MIDSTREAM, I.CLIENT_HELLO): (P.HELLO, None),
    **{(p, I.FATAL_ALERT): (P.CLOSED, None) for p in Phase if p is not P.CLOSED},
    (P.CLOSED, I.FATAL_ALERT): (P.CLOSED, None),
}
del P, I


class _Stage:
    """One TLS 1.3 secret of a direction's ladder."""

    __slots__ = ("label", "protection", "secret", "where")

    def __init__(self, label: str, secret: bytes | None, protection: Protection | None, where: str) -> None:
        self.label = label
        self.secret = secret
        self.protection = protection
        self.where = where


class _Direction:
    __slots__ = ("app", "base", "buf", "ccs", "failures", "finished", "held", "hs", "hs_broken", "index",
                 "key_updates", "ladder", "lost", "mode", "need", "opaque", "pending", "prot", "reason",
                 "records", "resync", "resync_candidates", "seq", "stage", "successes")

    def __init__(self, index: int) -> None:
        self.index = index
        self.buf = bytearray()
        self.base = 0  # stream offset of buf[0]
        self.need = 0  # bytes buf must hold before the record in progress is complete
        self.mode = _PLAIN
        self.prot: Protection | None = None
        self.seq = 0
        self.ladder: list[_Stage] = []  # TLS 1.3
        self.stage = 0
        self.pending: Protection | None = None  # TLS <= 1.2: keys for this side's next CCS
        self.ccs = False
        self.hs = bytearray()
        self.hs_broken = False
        self.reason: Undecrypted | None = None
        self.records = 0
        self.app = 0
        self.opaque = 0
        self.failures = 0
        self.successes = 0
        self.finished = False
        self.key_updates = 0
        self.resync = False
        self.resync_candidates = 0
        self.lost = 0  # stream bytes lost since the framing was last known
        self.held: list[tuple[int, int, bytes, int, int]] | None = None  # records waiting for keys


class _Handshake:
    """One handshake's worth of state (a renegotiation starts a new one)."""

    __slots__ = ("abbreviated", "cke", "client_hello", "derived", "full", "master", "server_hello",
                 "tickets", "transcript", "transcript_done")

    def __init__(self, client_hello: ClientHello | None) -> None:
        self.client_hello = client_hello
        self.server_hello: ServerHello | None = None
        self.transcript: Transcript | None = None  # made with the first handshake message
        self.transcript_done = False
        self.full = False  # Certificate/ServerKeyExchange/ServerHelloDone/ClientKeyExchange seen
        self.abbreviated = False
        self.cke: bytes | None = None  # RSA: the encrypted premaster
        self.derived = False
        self.master: bytes | None = None
        self.tickets: list[bytes] = []


class TlsConnection:
    """The sans-IO TLS observer for one connection (see the module docstring)."""

    def __init__(self, keys: KeyStore | None = None, cache: SessionCache | None = None, *,
                 server: tuple[str, int] | None = None, name: str = "") -> None:
        self.keys = keys if keys is not None else KeyStore()
        self.cache = cache
        self.server = server  #: the server's (ip, port), for RSA keys bound to one server
        self.name = name  #: how this connection is named in other connections' key sources
        self.phase = Phase.START
        self._dirs = (_Direction(0), _Direction(1))
        self.client: int | None = None
        self.client_hello: ClientHello | None = None
        self.server_hello: ServerHello | None = None
        self.certificate: CertificateInfo | None = None
        self.tls13 = False
        self.suite: CipherSuite | None = None
        self.version: int | None = None
        self.alpn: str | None = None
        self.resumed: str | None = None
        self.hello_retry = False
        self.renegotiations = 0
        self.alerts: list[Alert] = []
        self.problems: list[str] = []
        self.key_source: str | None = None
        self.keylog_lines: list[str] = []
        self.reason: Undecrypted | None = None  # connection-wide (the directions may add their own)
        self._hs = _Handshake(None)
        self._key_generation = -1  # KeyStore generation when keys were last looked for
        self._info: TlsInfo | None = None

    # -- the caller's side -------------------------------------------------------------------------
    def receive_data(self, direction: int, data: bytes) -> list[TlsEvent]:
        d = self._dirs[direction]
        events: list[TlsEvent] = []
        if d.mode == _LOST:
            d.opaque += len(data)
            d.base += len(data)
            return events
        buf = d.buf
        buf += data
        if len(buf) >= d.need:  # (most segments of a big record stop here: nothing to do yet)
            self._records(d, events)
        return events

    def buffered(self, direction: int) -> int:
        """Bytes of this direction held back: the start of a record not yet complete."""
        return len(self._dirs[direction].buf)

    def receive_gap(self, direction: int, length: int) -> list[TlsEvent]:
        """``length`` bytes of this direction never reached the capture."""
        d = self._dirs[direction]
        events: list[TlsEvent] = []
        lost = len(d.buf) + length
        d.base += lost
        d.buf.clear()
        d.need = 0
        if d.mode == _LOST:
            d.opaque += length
            return events
        d.lost += lost
        d.resync = True
        d.resync_candidates = 0
        d.hs.clear()  # a handshake message cut by the gap cannot be completed
        if d.mode == _PLAIN:
            self._problem(f"warning: capture gap of {length} bytes in the {self._side(d)}'s handshake")
        elif d.mode == _ENCRYPTED:
            prot = self._current(d)
            if prot is None or not prot.resumable:
                self._opaque(d, "lost-sync", f"{REASONS['lost-sync']}; this cipher cannot resume after one")
                events.append(DataLost(d.index, None, d.base))
        return events

    def receive_eof(self, direction: int) -> list[TlsEvent]:
        d = self._dirs[direction]
        events: list[TlsEvent] = []
        if d.held and self._refresh():  # the last chance for keys that were late
            self._retry_keys(events)
        if d.buf and d.mode != _LOST:
            need = (d.buf[3] << 8 | d.buf[4]) + 5 if len(d.buf) >= 5 else 5
            self._problem(f"warning: the {self._side(d)}'s stream ends inside a TLS record "
                          f"({len(d.buf)} of {need} bytes)")
            d.opaque += len(d.buf)
            d.base += len(d.buf)
            d.buf.clear()
        if d.held:
            for *_, body, _start, _end in d.held:
                d.opaque += len(body)
            d.held = None
        return events

    @property
    def info(self) -> TlsInfo:
        """What the handshake established so far (the same object until something changes)."""
        if self._info is None:
            ch = self.client_hello
            self._info = TlsInfo(
                version=self.version, cipher_suite=self.suite.id if self.suite is not None else None,
                sni=ch.sni if ch is not None else None, alpn=self.alpn,
                client_random=ch.random if ch is not None else None, resumed=self.resumed,
                decrypting=self.key_source is not None, key_source=self.key_source,
                client_direction=self.client,
            )
        return self._info

    def summary(self) -> TlsSummary:
        d0, d1 = self._dirs
        opaque = (d0.opaque, d1.opaque)
        app = (d0.app, d1.app)
        reason = self._why(opaque, app)
        return TlsSummary(
            info=self.info, client_hello=self.client_hello, server_hello=self.server_hello,
            certificate=self.certificate,
            decrypted=reason is None and any(app), reason=reason,
            records=(d0.records, d1.records), application_bytes=app, opaque_bytes=opaque,
            alerts=tuple(self.alerts), hello_retry=self.hello_retry, renegotiations=self.renegotiations,
            key_updates=(d0.key_updates, d1.key_updates),
            compression=self.server_hello.compression_method if self.server_hello is not None else 0,
            handshake_complete=self.phase is Phase.ESTABLISHED or (d0.finished and d1.finished),
            keylog_lines=tuple(dict.fromkeys(self.keylog_lines)), problems=tuple(self.problems),
        )

    def _why(self, opaque: tuple[int, int], app: tuple[int, int]) -> Undecrypted | None:
        if any(opaque):
            for d in self._dirs:
                if d.opaque and d.reason is not None:
                    return d.reason
            return self.reason or Undecrypted("no-keylog-entry", REASONS["no-keylog-entry"])
        if any(app):
            return None
        fatal = [a for a in self.alerts if a.fatal]
        if fatal:
            return Undecrypted("no-application-data", f"no application data: the handshake ended with "
                               f"a fatal alert ({fatal[0].name})")
        return Undecrypted("no-application-data", REASONS["no-application-data"])

    # -- records --------------------------------------------------------------------------------
    def _records(self, d: _Direction, events: list[TlsEvent]) -> None:
        buf = d.buf
        n = len(buf)
        pos = 0
        d.need = 0
        while n - pos >= 5:
            if d.resync:
                at, found = self._find_record(buf, pos, n)
                if at > pos:
                    d.lost += at - pos
                    if d.mode != _PLAIN:
                        d.opaque += at - pos  # the rest of a record cut by the gap
                        if d.reason is None:
                            d.reason = Undecrypted("capture-gap", REASONS["capture-gap"])
                    pos = at
                if not found:
                    break
            ctype = buf[pos]
            length = buf[pos + 3] << 8 | buf[pos + 4]
            if not (20 <= ctype <= 24 and buf[pos + 1] == 3 and buf[pos + 2] <= 4
                    and length <= MAX_CIPHERTEXT):
                if d.records == 0 and not d.resync:
                    # This side's first bytes: the capture (or reassembly) began inside a record.
                    self._problem(f"info: the {self._side(d)}'s stream begins inside a TLS record")
                    d.resync = True
                    continue
                self._lose(d, f"bytes at {self._side(d)} stream offset {d.base + pos} are not a TLS record "
                              f"(header {bytes(buf[pos:pos + 5]).hex()})")
                d.opaque += n - pos
                pos = n
                break
            end = pos + 5 + length
            if end > n:
                d.need = end - pos  # what the buffer must hold, once the consumed bytes are dropped
                break
            body = bytes(buf[pos + 5:end])
            version = buf[pos + 1] << 8 | buf[pos + 2]
            self._record(d, ctype, version, body, d.base + pos, d.base + end, events)
            pos = end
            if d.mode == _LOST:
                d.opaque += n - pos
                pos = n
                break
        if pos:
            del buf[:pos]
            d.base += pos

    def _find_record(self, buf: bytearray, pos: int, n: int) -> tuple[int, bool]:
        """After a gap (or a stream that began inside a record): where the next record starts.

        (offset, True) for a plausible header whose record is followed by another plausible
        header; (offset, False) when more bytes are needed to judge, everything before the offset
        being certainly not a record start.  The answer never depends on how the bytes were cut.
        """
        p = pos
        while p + 5 <= n:
            if 20 <= buf[p] <= 24 and buf[p + 1] == 3 and buf[p + 2] <= 4:
                length = buf[p + 3] << 8 | buf[p + 4]
                end = p + 5 + length
                if length <= MAX_CIPHERTEXT:
                    if end + 3 > n:
                        return p, False  # judged once what follows it has arrived
                    if 20 <= buf[end] <= 24 and buf[end + 1] == 3 and buf[end + 2] <= 4:
                        return p, True
            p += 1
        return max(pos, p), False

    def _record(self, d: _Direction, ctype: int, version: int, body: bytes, start: int, end: int,
                events: list[TlsEvent]) -> None:
        d.records += 1
        encrypted = False
        if d.held is not None:
            self._hold(d, ctype, version, body, start, end, events)
            return
        # In TLS 1.3 every protected record is "application_data" outside; any other type is in
        # the clear (a compatibility CCS, or an alert sent before the sender switched keys).
        if d.mode == _ENCRYPTED and not (self.tls13 and ctype != CONTENT_APPLICATION_DATA):
            opened = self._open(d, ctype, version, body, end, events)
            if opened is None:
                self._failed(d, ctype, body, end, events)
                return
            ctype, body = opened
            encrypted = True
        elif d.mode == _OPAQUE:
            d.resync = False
            if ctype == CONTENT_CHANGE_CIPHER_SPEC:
                self._ccs(d)
            elif ctype == CONTENT_ALERT:
                self._note_alert(Alert(d.index, None, None, True), end, events)
            else:
                d.opaque += len(body)
                if ctype == CONTENT_APPLICATION_DATA:
                    events.append(OpaqueData(d.index, len(body), end))
                    self._input(Input.APPLICATION_DATA)
            return
        elif d.resync:
            d.resync = False  # in the clear: a plausible header is all there is to check
        if ctype == CONTENT_APPLICATION_DATA:
            if not encrypted:
                self._clear_application_data(d, body, start, end, events)
                return
            d.app += len(body)
            events.append(ApplicationData(d.index, body, end, d.seq - 1))
            self._input(Input.APPLICATION_DATA)
        elif ctype == CONTENT_HANDSHAKE:
            self._handshake_data(d, body, encrypted, end, events)
        elif ctype == CONTENT_CHANGE_CIPHER_SPEC:
            self._ccs(d)  # encrypted under the old keys when a renegotiation ends
        elif ctype == CONTENT_ALERT:
            if len(body) != 2:
                self._problem(f"warning: an alert record of {len(body)} bytes (expected 2)")
                return
            self._note_alert(Alert(d.index, body[0], body[1], encrypted), end, events)
        # Heartbeat records (24) are counted and otherwise ignored.

    def _clear_application_data(self, d: _Direction, body: bytes, start: int, end: int,
                                events: list[TlsEvent]) -> None:
        """Application data while the direction is still in the clear: the handshake was not seen
        (mid-stream capture), or TLS 1.3 records before this side's keys were set up."""
        if self.phase is Phase.START or self.phase is Phase.MIDSTREAM:
            self._input(Input.NO_HANDSHAKE)
            for x in self._dirs:
                if x.mode == _PLAIN:
                    x.mode = _OPAQUE
                    x.reason = Undecrypted("no-handshake", REASONS["no-handshake"])
        elif self.phase is Phase.HELLO and d.index == self.client:
            if self._early_data(d, body, end, events):
                return
        elif d.mode == _PLAIN:
            self._opaque(d, "handshake-incomplete",
                         f"application data from the {self._side(d)} before its keys changed "
                         "(the ChangeCipherSpec or ServerHello is missing)")
        d.opaque += len(body)
        events.append(OpaqueData(d.index, len(body), end))

    def _early_data(self, d: _Direction, body: bytes, end: int, events: list[TlsEvent]) -> bool:
        """TLS 1.3 0-RTT: try the early traffic secret under each TLS 1.3 suite the client offered."""
        ch = self.client_hello
        entry = self.keys.secrets(ch.random).get("CLIENT_EARLY_TRAFFIC_SECRET") if ch is not None else None
        if ch is None or entry is None:
            if ch is not None and ch.early_data:
                self._problem("info: 0-RTT early data: no CLIENT_EARLY_TRAFFIC_SECRET to decrypt it")
            return False
        for sid in ch.cipher_suites:
            s = suite(sid)
            from ._crypto import protection_13
            prot = protection_13(s, entry.secret) if s.tls13 else None
            if prot is None:
                continue
            opened = prot.open(CONTENT_APPLICATION_DATA, 0x0303, 0, body)
            if opened is not None:
                d.mode = _ENCRYPTED
                d.ladder = [_Stage("CLIENT_EARLY_TRAFFIC_SECRET", entry.secret, prot, entry.where)]
                d.stage, d.seq = 0, 1
                self.keylog_lines.append(entry.nss_line())
                if opened[0] == CONTENT_APPLICATION_DATA:
                    d.app += len(opened[1])
                    events.append(ApplicationData(d.index, opened[1], end, 0))
                return True
        return False

    # -- protection ---------------------------------------------------------------------------------
    def _current(self, d: _Direction) -> Protection | None:
        """The protection records of this direction are opened with now (or the next one known)."""
        if d.ladder:
            for stage in d.ladder[d.stage:]:
                if stage.protection is not None:
                    return stage.protection
            return None
        return d.prot

    def _open(self, d: _Direction, ctype: int, version: int, body: bytes, end: int,
              events: list[TlsEvent]) -> tuple[int, bytes] | None:
        if d.resync:
            return self._resync(d, ctype, version, body, end, events)
        if d.ladder:
            last = min(d.stage + 2, len(d.ladder))
            for i in range(d.stage, last):
                prot = d.ladder[i].protection
                if prot is None:
                    continue
                seq = d.seq if i == d.stage else 0
                opened = prot.open(ctype, version, seq, body)
                if opened is not None:
                    if i != d.stage:
                        d.stage = i  # the record opened under the next secret: the switch was hidden
                    d.seq = seq + 1
                    d.successes += 1
                    d.failures = 0
                    return opened
            d.seq += 1
            return None
        assert d.prot is not None
        opened = d.prot.open(ctype, version, d.seq, body)
        d.seq += 1
        if opened is not None:
            d.successes += 1
            d.failures = 0
        return opened

    def _resync(self, d: _Direction, ctype: int, version: int, body: bytes, end: int,
                events: list[TlsEvent]) -> tuple[int, bytes] | None:
        """The first record after a gap: find the sequence number that opens it."""
        prot = self._current(d)
        if prot is None:
            return None
        guesses: list[int] = []
        if getattr(prot, "explicit", 0) and len(body) >= 8:
            guesses.append(int.from_bytes(body[:8], "big"))  # OpenSSL's explicit nonce is the sequence
        span = min(MAX_RESYNC_TRIES, d.lost // 21 + 2)
        guesses.extend(range(d.seq, d.seq + span))
        for seq in guesses:
            if seq < d.seq:
                continue
            opened = prot.open(ctype, version, seq, body)
            if opened is not None:
                skipped = seq - d.seq
                lost: int | None = None
                if prot.overhead is not None:
                    lost = max(0, d.lost - skipped * (5 + prot.overhead))
                d.seq = seq + 1
                d.resync = False
                d.lost = 0
                if ctype == CONTENT_APPLICATION_DATA:
                    events.append(DataLost(d.index, lost, end - len(body) - 5))
                return opened
        d.resync_candidates += 1
        if d.resync_candidates >= MAX_RESYNC_CANDIDATES:
            self._opaque(d, "lost-sync", REASONS["lost-sync"])
            events.append(DataLost(d.index, None, end))
            d.resync = False
        return None

    def _failed(self, d: _Direction, ctype: int, body: bytes, end: int, events: list[TlsEvent]) -> None:
        if d.resync:
            d.opaque += len(body)
            if d.reason is None:
                d.reason = Undecrypted("capture-gap", REASONS["capture-gap"])
            return
        d.failures += 1
        stage = d.ladder[d.stage] if d.ladder else None
        if stage is not None and stage.protection is None:
            if not d.finished and stage.label.endswith("HANDSHAKE_TRAFFIC_SECRET"):
                # The key log lacks this side's handshake secret: these are its encrypted handshake
                # messages (EncryptedExtensions, Certificate, Finished), not application data.
                self._problem(f"info: the {self._side(d)}'s encrypted handshake was not decrypted (the key "
                              f"log lacks {stage.label})")
                return
            if d.reason is None:
                d.reason = Undecrypted("no-keylog-entry", f"the key log lacks {stage.label} for this "
                                       "connection")
        if ctype == CONTENT_APPLICATION_DATA:
            d.opaque += len(body)
            events.append(OpaqueData(d.index, len(body), end))
        elif ctype == CONTENT_ALERT:
            self._note_alert(Alert(d.index, None, None, True), end, events)
        if d.reason is None:
            if d.successes == 0:
                d.reason = Undecrypted("bad-record-mac", REASONS["bad-record-mac"])
            else:
                d.reason = Undecrypted("damaged-record", REASONS["damaged-record"])
        if d.failures >= MAX_FAILURES and d.successes == 0:
            self._opaque(d, "bad-record-mac", REASONS["bad-record-mac"])

    def _opaque(self, d: _Direction, code: str, text: str) -> None:
        d.mode = _OPAQUE
        if d.reason is None or d.reason.code != code:
            d.reason = Undecrypted(code, text)

    def _lose(self, d: _Direction, problem: str) -> None:
        self._problem(f"error: {problem}: the rest of this direction is not decoded")
        d.mode = _LOST
        d.reason = Undecrypted("not-tls", REASONS["not-tls"])

    def _hold(self, d: _Direction, ctype: int, version: int, body: bytes, start: int, end: int,
              events: list[TlsEvent]) -> None:
        """Keep a record while keys may still arrive (a live capture); replay it once they do."""
        held = d.held
        assert held is not None
        held.append((ctype, version, body, start, end))
        if self.keys.generation != self._key_generation or self._refresh():
            self._retry_keys(events)
            return
        if sum(len(h[2]) for h in held) > MAX_HELD_BYTES:
            d.held = None  # stop waiting: what was held stays opaque
            for _c, _v, b, _s, e in held:
                d.opaque += len(b)
                if _c == CONTENT_APPLICATION_DATA:
                    events.append(OpaqueData(d.index, len(b), e))

    def _refresh(self) -> bool:
        before = self.keys.generation
        self.keys.refresh()
        return self.keys.generation != before

    def _wait_for_keys(self, d: _Direction) -> None:
        if self.keys.growing and d.held is None:
            d.held = []

    def _retry_keys(self, events: list[TlsEvent]) -> None:
        """New key material arrived: derive again and replay the held records."""
        self._key_generation = self.keys.generation
        for d in self._dirs:
            d.reason = None
        if self.tls13:
            self._setup_13()
        else:
            self._hs.derived = False
            self._derive_12()
            for d in self._dirs:
                if d.ccs and d.pending is not None:
                    d.mode, d.prot, d.pending, d.seq = _ENCRYPTED, d.pending, None, 0
        for d in self._dirs:
            held, d.held = d.held, None
            if not held:
                continue
            if d.mode == _OPAQUE and self.keys.growing and d.reason is not None \
                    and d.reason.code in ("no-keylog-entry", "rsa-key-needed"):
                d.held = held  # still nothing: keep waiting
                continue
            d.records -= len(held)
            for ctype, version, body, start, end in held:
                self._record(d, ctype, version, body, start, end, events)

    # -- handshake ------------------------------------------------------------------------------------
    def _handshake_data(self, d: _Direction, data: bytes, encrypted: bool, end: int,
                        events: list[TlsEvent]) -> None:
        if d.hs_broken:
            return
        hs = d.hs
        hs += data
        while len(hs) >= 4:
            mtype = hs[0]
            n = hs[1] << 16 | hs[2] << 8 | hs[3]
            if n > MAX_HANDSHAKE_MESSAGE:
                self._problem(f"error: a handshake message (type {mtype}) of {n} bytes from the "
                              f"{self._side(d)}: over the {MAX_HANDSHAKE_MESSAGE}-byte limit; the rest of "
                              "its handshake is not decoded")
                hs.clear()
                d.hs_broken = True
                return
            if len(hs) < 4 + n:
                return
            raw = bytes(hs[:4 + n])
            del hs[:4 + n]
            self._message(d, mtype, raw, encrypted, end, events)

    def _message(self, d: _Direction, mtype: int, raw: bytes, encrypted: bool, end: int,
                 events: list[TlsEvent]) -> None:
        body = raw[4:]
        handler = _HANDLERS.get(mtype)
        record = handler(self, d, body, raw) if handler is not None else None
        hs = self._hs
        if not hs.transcript_done and mtype != HandshakeType.HELLO_REQUEST:
            if hs.transcript is None:
                from ._crypto import Transcript
                hs.transcript = Transcript()
            hs.transcript.add(raw)
            if mtype == HandshakeType.CLIENT_KEY_EXCHANGE:
                hs.transcript_done = True
        events.append(HandshakeMessage(d.index, mtype, end, record, encrypted))

    def _client_hello(self, d: _Direction, body: bytes, raw: bytes) -> ClientHello | None:
        ch = parse_client_hello(body)
        if isinstance(ch, Malformed):
            self._problem(f"error: {ch.what}")
            return None
        if self.client is None:
            self.client = d.index
        elif d.index != self.client:
            self._problem("warning: a ClientHello from the server's side")
        if self.phase is Phase.ESTABLISHED:
            if self.tls13:
                self._problem("error: a ClientHello after a TLS 1.3 handshake (renegotiation is not allowed)")
            self.renegotiations += 1
        retry = self.phase is Phase.RETRY
        self._input(Input.CLIENT_HELLO)
        if retry:
            self._hs.client_hello = ch  # same random (a TLS 1.3 retry: no session hash is needed)
        else:
            self._hs = _Handshake(ch)
            self.client_hello = ch
        self._changed()
        return ch

    def _server_hello(self, d: _Direction, body: bytes, raw: bytes) -> ServerHello | None:
        sh = parse_server_hello(body)
        if isinstance(sh, Malformed):
            self._problem(f"error: {sh.what}")
            return None
        if self.client is None:
            self.client = 1 - d.index
        if sh.retry_request:
            self.hello_retry = True
            self.tls13 = True  # only TLS 1.3 has HelloRetryRequest: its CCS records change no keys
            self._input(Input.HELLO_RETRY)
            return sh
        hs = self._hs
        hs.server_hello = sh
        self.server_hello = sh
        self.version = sh.negotiated_version
        self.suite = suite(sh.cipher_suite)
        self.alpn = sh.alpn
        ch = hs.client_hello
        if self.version == 0x0304 or self.version >> 8 == 0x7F:
            self.tls13 = True
            hs.transcript_done = True  # only TLS <= 1.2 needs the transcript (RFC 7627)
            self._input(Input.SERVER_HELLO_13)
            self.resumed = "psk" if sh.psk_selected is not None else None
            self._setup_13()
        else:
            self._input(Input.SERVER_HELLO)
            if hs.transcript is not None:  # (None: the capture began after the ClientHello)
                hs.transcript.start(self.version, self.suite.prf)
            if ch is not None and ch.session_id and sh.session_id == ch.session_id:
                self.resumed = "ticket" if ch.session_ticket else "session-id"
            else:
                self.resumed = None
            if sh.compression_method:
                self._problem(f"warning: TLS compression (method {sh.compression_method}) negotiated")
        self._changed()
        return sh

    def _certificate(self, d: _Direction, body: bytes, raw: bytes) -> CertificateInfo | None:
        self._hs.full = True
        info = parse_certificate(body, self.tls13)
        if isinstance(info, Malformed):
            self._problem(f"warning: {info.what}")
            return None
        if info is not None and d.index != self.client:
            self.certificate = info
            for p in info.problems:
                self._problem(p)
        return info

    def _server_flight(self, d: _Direction, body: bytes, raw: bytes) -> None:
        self._hs.full = True

    def _client_key_exchange(self, d: _Direction, body: bytes, raw: bytes) -> None:
        hs = self._hs
        hs.full = True
        if self.suite is not None and self.suite.kex == "RSA":
            pms = parse_client_key_exchange(body, self.version or 0x0303)
            if isinstance(pms, Malformed):
                self._problem(f"warning: {pms.what}")
            else:
                hs.cke = pms

    def _new_session_ticket(self, d: _Direction, body: bytes, raw: bytes) -> None:
        self._input(Input.POST_HANDSHAKE)
        ticket = parse_new_session_ticket(body, self.tls13)
        if isinstance(ticket, Malformed):
            self._problem(f"warning: {ticket.what}")
            return
        if self.tls13:
            return  # resumption needs the resumption secret, which no key log holds: keys come from the log
        hs = self._hs
        if hs.master is not None:
            self._cache_store("ticket", ticket, hs.master)
        else:
            hs.tickets.append(ticket)

    def _encrypted_extensions(self, d: _Direction, body: bytes, raw: bytes) -> None:
        ee = parse_encrypted_extensions(body)
        if isinstance(ee, Malformed):
            self._problem(f"warning: {ee.what}")
            return
        if ee[0] is not None:
            self.alpn = ee[0]
            self._changed()

    def _finished(self, d: _Direction, body: bytes, raw: bytes) -> None:
        d.finished = True
        if self.tls13 and d.ladder:
            for i in range(d.stage, len(d.ladder)):
                if d.ladder[i].label.endswith("TRAFFIC_SECRET_0"):
                    d.stage, d.seq = i, 0
                    if d.ladder[i].protection is None:  # the handshake opened, the data will not
                        self._opaque(d, "no-keylog-entry", f"the key log lacks {d.ladder[i].label} for "
                                     "this connection")
                    break
        other = self._dirs[1 - d.index]
        self._input(Input.HANDSHAKE_DONE if other.finished else Input.FINISHED)

    def _end_of_early_data(self, d: _Direction, body: bytes, raw: bytes) -> None:
        if d.ladder:
            for i in range(len(d.ladder)):
                if d.ladder[i].label.endswith("HANDSHAKE_TRAFFIC_SECRET"):
                    d.stage, d.seq = i, 0
                    break

    def _key_update(self, d: _Direction, body: bytes, raw: bytes) -> None:
        request = parse_key_update(body)
        if isinstance(request, Malformed):
            self._problem(f"warning: {request.what}")
            return
        d.key_updates += 1
        self._input(Input.POST_HANDSHAKE)
        if not self.tls13 or not d.ladder or self.suite is None:
            return
        current = d.ladder[d.stage]
        if current.secret is None:
            self._opaque(d, "no-keylog-entry", "a KeyUpdate under a secret the key log does not hold")
            return
        from ._crypto import next_traffic_secret, protection_13
        secret = next_traffic_secret(self.suite.prf, current.secret)
        d.ladder.append(_Stage(f"KeyUpdate {d.key_updates}", secret, protection_13(self.suite, secret),
                               current.where))
        d.stage = len(d.ladder) - 1
        d.seq = 0

    def _hello_request(self, d: _Direction, body: bytes, raw: bytes) -> None:
        self._input(Input.HELLO_REQUEST)

    # -- ChangeCipherSpec and keys -------------------------------------------------------------------
    def _ccs(self, d: _Direction) -> None:
        if self.tls13:
            return  # a middlebox-compatibility record (RFC 8446 §D.4): no key change
        hs = self._hs
        if hs.server_hello is None and self.client_hello is not None:
            self._problem("warning: a ChangeCipherSpec before any ServerHello")
            return
        d.ccs = True
        if not hs.full and hs.server_hello is not None and d.index != self.client:
            hs.abbreviated = True  # the server's CCS right after its hello: a resumed session
            if self.resumed is None:
                ch = hs.client_hello
                self.resumed = "ticket" if ch is not None and ch.session_ticket else "session-id"
                self._changed()
        self._derive_12()
        d.seq = 0
        d.hs.clear()
        d.finished = False
        if d.pending is not None:
            d.mode, d.prot, d.pending = _ENCRYPTED, d.pending, None
            d.successes = d.failures = 0
        else:
            d.mode = _OPAQUE
            d.prot = None
            if d.reason is None:
                d.reason = self.reason
            self._wait_for_keys(d)

    def _derive_12(self) -> None:
        hs = self._hs
        if hs.derived:
            return
        hs.derived = True
        self.keys.refresh()  # material the caller may have met since (a Decryption Secrets Block ...)
        self._key_generation = self.keys.generation
        ch, sh = hs.client_hello, hs.server_hello
        if ch is None or sh is None:
            self.reason = Undecrypted("handshake-incomplete", "the ClientHello or ServerHello is not in the "
                                      "capture: the keys cannot be derived")
            return
        version, s = sh.negotiated_version, suite(sh.cipher_suite)
        if version < 0x0301 or s.cipher is None:
            what = version_name(version) if version < 0x0301 else s.name
            self.reason = Undecrypted("unsupported-cipher", f"{what} cannot be decrypted")
            return
        found = self._master_12(hs, s, version)
        if found is None:
            return
        master, where = found
        from ._crypto import protections_12
        prots = protections_12(s, version, master, ch.random, sh.random, sh.encrypt_then_mac)
        if prots is None:
            self.reason = Undecrypted("unsupported-cipher", f"{s.name} cannot be decrypted")
            return
        hs.master = master
        client, server = prots
        c_dir = self.client if self.client is not None else 0
        self._dirs[c_dir].pending = client
        self._dirs[1 - c_dir].pending = server
        self.reason = None
        self.key_source = where
        self.keylog_lines.append(f"CLIENT_RANDOM {ch.random.hex()} {master.hex()}")
        if sh.session_id:
            self._cache_store("id", sh.session_id, master)
        for ticket in hs.tickets:
            self._cache_store("ticket", ticket, master)
        hs.tickets.clear()
        self._changed()

    def _no_entry(self, client_random: bytes) -> str:
        """Why no key log entry opens this connection: none for its client random, or no entry at
        all (then the user's fix is to give a key log, not to look for a line in it).  The key store
        holds entries, not files: a key log given with no usable line reads as none given (the
        command warns about that file itself), so the text names entries."""
        short = client_random[:4].hex()
        if self.keys.has_keylog() or self.keys.growing:  # (live: the entry may still come)
            return f"no key log entry for client random {short}…"
        return f"no key log entries, given or in the capture (client random {short}…)"

    def _master_12(self, hs: _Handshake, s: CipherSuite, version: int) -> tuple[bytes, str] | None:
        ch, sh = hs.client_hello, hs.server_hello
        assert ch is not None and sh is not None
        entry = self.keys.secrets(ch.random).get("CLIENT_RANDOM")
        if entry is not None:
            return entry.secret, entry.where
        if hs.abbreviated:
            cached = None
            if self.cache is not None:
                if ch.session_ticket:
                    cached = self.cache.lookup("ticket", ch.session_ticket)
                if cached is None:
                    cached = self.cache.lookup("id", sh.session_id)
            if cached is not None:
                return cached[0], f"{_RESUMED}{cached[1]}"
            self.reason = Undecrypted("resumed-unknown", f"{REASONS['resumed-unknown']}; "
                                      f"{self._no_entry(ch.random)}")
            return None
        if s.kex != "RSA":
            hint = "only a key log can decrypt this"
            code = "rsa-key-not-rsa-kex" if self.keys.rsa_keys else "no-keylog-entry"
            kex = s.kex.split("_")[0] or "this key exchange"
            self.reason = Undecrypted(code, f"{self._no_entry(ch.random)}; {kex}: {hint}")
            return None
        if hs.cke is None:
            self.reason = Undecrypted("handshake-incomplete", "RSA key exchange, but the ClientKeyExchange "
                                      "is not in the capture")
            return None
        logged = self.keys.rsa_premaster(hs.cke[:8])
        premaster: bytes | None = None
        where = ""
        if logged is not None:
            premaster, where = logged.secret, logged.where
        else:
            candidates = self._rsa_candidates()
            if not candidates:
                code = "rsa-key-mismatch" if self.keys.rsa_keys else "rsa-key-needed"
                text = REASONS[code] if code == "rsa-key-mismatch" else \
                    f"{self._no_entry(ch.random)}; {REASONS['rsa-key-needed']}"
                self.reason = Undecrypted(code, text)
                return None
            for rk in candidates:
                from ._crypto import rsa_premaster
                premaster = rsa_premaster(rk.key, hs.cke, ch.version)
                if premaster is not None:
                    where = f"RSA key {rk.source}" if rk.source else "RSA key"
                    break
            if premaster is None:
                self.reason = Undecrypted("rsa-decrypt-failed", REASONS["rsa-decrypt-failed"])
                return None
        session_hash = None
        if ch.extended_master_secret and sh.extended_master_secret:
            session_hash = hs.transcript.digest() if hs.transcript is not None else None
        from ._crypto import master_secret
        return master_secret(version, s.prf, premaster, ch.random, sh.random, session_hash), where

    def _rsa_candidates(self) -> list[RsaKey]:
        """The RSA keys worth trying: bound to this server, or matching its certificate's key."""
        keys = self.keys.rsa_keys
        spki = self.certificate.spki_sha256 if self.certificate is not None else None
        bound = [k for k in keys if k.server is not None and k.server == self.server]
        if bound:
            return bound
        unbound = [k for k in keys if k.server is None]
        if spki:
            return [k for k in unbound if k.spki_sha256 == spki]
        return unbound  # no certificate in the capture: try them all

    def _setup_13(self) -> None:
        """TLS 1.3 after the ServerHello: both directions' secret ladders from the key log."""
        self.keys.refresh()
        self._key_generation = self.keys.generation
        hs, s = self._hs, self.suite
        ch = hs.client_hello
        if ch is None or s is None:
            self.reason = Undecrypted("handshake-incomplete", "no ClientHello: no client random to find "
                                      "the TLS 1.3 secrets by")
            for d in self._dirs:
                self._opaque(d, "handshake-incomplete", self.reason.text)
            return
        if s.cipher is None:
            self.reason = Undecrypted("unsupported-cipher", f"{s.name} cannot be decrypted")
            for d in self._dirs:
                self._opaque(d, "unsupported-cipher", self.reason.text)
            return
        secrets = self.keys.secrets(ch.random)
        c_dir = self.client if self.client is not None else 0
        plans = ((c_dir, ("CLIENT_HANDSHAKE_TRAFFIC_SECRET", "CLIENT_TRAFFIC_SECRET_0")),
                 (1 - c_dir, ("SERVER_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0")))
        missing: list[str] = []
        for index, labels in plans:
            d = self._dirs[index]
            ladder = []
            if index == c_dir and ch.early_data and "CLIENT_EARLY_TRAFFIC_SECRET" not in secrets \
                    and self.resumed == "psk":
                # 0-RTT records the key log cannot open (and the EndOfEarlyData among them) come first
                # under their own key: they must not use up the handshake secret's sequence numbers.
                ladder.append(_Stage("CLIENT_EARLY_TRAFFIC_SECRET", None, None, ""))
            for label in labels:
                entry = secrets.get(label)
                if entry is None:
                    missing.append(label)
                    ladder.append(_Stage(label, None, None, ""))
                    continue
                from ._crypto import protection_13
                prot = protection_13(s, entry.secret)
                if prot is None:
                    self._problem(f"warning: {entry.where}: a {len(entry.secret)}-byte {label} does not fit "
                                  f"{s.name}")
                    missing.append(label)
                ladder.append(_Stage(label, entry.secret, prot, entry.where))
                self.keylog_lines.append(entry.nss_line())
            early = [st for st in d.ladder if st.label == "CLIENT_EARLY_TRAFFIC_SECRET"]
            if early and d.stage == 0 and d.mode == _ENCRYPTED:
                d.ladder = early + ladder  # 0-RTT records may still follow the ServerHello
            else:
                d.ladder, d.stage, d.seq = ladder, 0, 0
            d.successes = d.failures = 0
            if any(st.protection is not None for st in ladder):
                d.mode = _ENCRYPTED
            else:
                why = f"{self._no_entry(ch.random)}; TLS 1.3: only a key log can decrypt this"
                self._opaque(d, "rsa-key-not-rsa-kex" if self.keys.rsa_keys else "no-keylog-entry", why)
                self._wait_for_keys(d)
        found = [st for d in self._dirs for st in d.ladder if st.protection is not None]
        if found:
            self.key_source = found[0].where
            if missing:
                lacks = ", ".join(sorted(set(missing)))
                self._problem(f"info: the key log lacks {lacks} for this connection")
        self._changed()

    def _cache_store(self, kind: str, key: bytes, master: bytes) -> None:
        if self.cache is not None:
            where = self.key_source or ""
            if where.startswith(_RESUMED):
                # Resumed again: the same TLS 1.2 session (the cache holds no TLS 1.3 ones) and the
                # same master secret, so it keeps the name of the connection whose handshake made it.
                self.cache.store(kind, key, master, where[len(_RESUMED):])
                return
            label = f"the session of {self.name}" if self.name else "an earlier session"
            self.cache.store(kind, key, master, f"{label}, {where}" if where else label)

    # -- small helpers ---------------------------------------------------------------------------------
    def _input(self, event: Input) -> None:
        step = TRANSITIONS.get((self.phase, event))
        if step is None:
            self._problem(f"warning: unexpected {event.value} during {self.phase.value}")
            return
        self.phase, problem = step
        if problem is not None:
            self._problem(problem)

    def _note_alert(self, alert: Alert, end: int, events: list[TlsEvent]) -> None:
        if len(self.alerts) < 64:
            self.alerts.append(alert)
        events.append(AlertEvent(alert, end))
        if alert.fatal:
            self._input(Input.FATAL_ALERT)

    def _problem(self, text: str) -> None:
        if len(self.problems) < 64 and text not in self.problems:
            self.problems.append(text)

    def _changed(self) -> None:
        self._info = None

    def _side(self, d: _Direction) -> str:
        if self.client is None:
            return f"direction {d.index}"
        return "client" if d.index == self.client else "server"


_HANDLERS: Final = {
    HandshakeType.CLIENT_HELLO: TlsConnection._client_hello,
    HandshakeType.SERVER_HELLO: TlsConnection._server_hello,
    HandshakeType.CERTIFICATE: TlsConnection._certificate,
    HandshakeType.SERVER_KEY_EXCHANGE: TlsConnection._server_flight,
    HandshakeType.CERTIFICATE_REQUEST: TlsConnection._server_flight,
    HandshakeType.SERVER_HELLO_DONE: TlsConnection._server_flight,
    HandshakeType.CLIENT_KEY_EXCHANGE: TlsConnection._client_key_exchange,
    HandshakeType.NEW_SESSION_TICKET: TlsConnection._new_session_ticket,
    HandshakeType.ENCRYPTED_EXTENSIONS: TlsConnection._encrypted_extensions,
    HandshakeType.FINISHED: TlsConnection._finished,
    HandshakeType.END_OF_EARLY_DATA: TlsConnection._end_of_early_data,
    HandshakeType.KEY_UPDATE: TlsConnection._key_update,
    HandshakeType.HELLO_REQUEST: TlsConnection._hello_request,
}
