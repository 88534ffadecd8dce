"""The records that flow through the pipeline, linked by stable ids.

Like Zeek's ``uid`` and mitmproxy's flow ids, one id names each thing and every later
record refers back to it: a TCP connection is ``C7``, the third HTTP exchange on it
``C7.3``, a UDP datagram ``U12``.  Ids are deterministic (numbered in order of first
packet within one run), so two runs over the same capture name things alike and a
report can be diffed.

Every record keeps the 1-based capture frame numbers it came from, so a user can jump
between dmsniff and Wireshark.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from decoders.tls import TlsInfo, TlsSummary


class Direction(StrEnum):
    """Which way a message goes between a device and its server (ACS or DM server).

    A ``StrEnum``: its values are what the JSON report has always written, and it compares equal
    to them.
    """

    TO_SERVER = "to_server"  # device (CPE, DM client) -> server
    TO_CLIENT = "to_client"  # server -> device

    @property
    def reverse(self) -> Direction:
        return Direction.TO_CLIENT if self is Direction.TO_SERVER else Direction.TO_SERVER


def connection_of(ident: str) -> str | None:
    """The TCP connection of a transaction id (``C7.2`` -> ``C7``); None for a datagram (``U12``)."""
    return ident.split(".", 1)[0] if ident.startswith("C") else None


def format_ip(raw: bytes) -> str:
    """4 or 16 raw address bytes as text (IPv6 compressed, as Wireshark shows it)."""
    if len(raw) == 4:
        return f"{raw[0]}.{raw[1]}.{raw[2]}.{raw[3]}"
    return str(ipaddress.IPv6Address(raw))


def format_endpoint(ip: str, port: int) -> str:
    """``ip:port``, with IPv6 in brackets so the port is unambiguous."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def endpoint_host(endpoint: str) -> str:
    """The IP of an ``ip:port`` / ``[v6]:port`` endpoint (what :func:`format_endpoint` was given)."""
    return endpoint.rpartition(":")[0].strip("[]")


@dataclass(slots=True)
class HttpMessage:
    """One HTTP request or response as it was on the wire."""

    frame: int  # the frame that completed the message (as Wireshark reports it)
    frames: list[int]  # every frame that carried part of it, in order
    time: float  # capture time of ``frame``
    first_time: float
    version: str
    headers: list[tuple[str, str]]  # wire order, names as sent
    method: str | None = None  # requests
    uri: str | None = None
    status: int | None = None  # responses
    reason: str | None = None
    body: bytes = b""  # body as sent (chunking removed, Content-Encoding not undone), capped
    body_length: int = 0  # body bytes on the wire, even beyond the cap
    decoded_body: bytes | None = None  # Content-Encoding undone, when there was one and it worked
    decoded_length: int | None = None  # len(decoded_body), kept when bodies are dropped
    complete: bool = True
    problems: list[str] = field(default_factory=list)
    frames_omitted: int = 0  # frames beyond the per-message cap on ``frames``
    # The body decoded by a protocol decoder (a decoders.cwmp.CwmpMessage, ...), set by
    # dmsniff.protocols before any addon sees the message; None when no decoder claimed it.
    protocol: object = None
    # Its Authorization (or a 401/407's WWW-Authenticate) values parsed, by (kind, value): set by
    # dmsniff.protocols.auth where the transaction is built, read by the verifier and the builders.
    parsed_auth: dict[tuple[str, str], object] | None = None
    # What dmsniff.verify made of its credentials (a list of AuthResult), set in the main
    # process before the session builders see it; never crosses a process boundary.
    auth: list[object] | None = None

    def __reduce__(self) -> tuple[type[HttpMessage], tuple[object, ...]]:
        # Records cross process boundaries (dmsniff.pipeline.parallel): a plain tuple of fields
        # pickles several times faster than the default for slotted dataclasses.
        return (HttpMessage, (self.frame, self.frames, self.time, self.first_time, self.version, self.headers,
                              self.method, self.uri, self.status, self.reason, self.body, self.body_length,
                              self.decoded_body, self.decoded_length, self.complete, self.problems,
                              self.frames_omitted, self.protocol, self.parsed_auth))

    def header(self, name: str) -> str | None:
        """First value of a header, case-insensitively."""
        lname = name.lower()
        n = len(lname)
        for k, v in self.headers:
            # Comparing lengths first skips most names without lowering them.
            if len(k) == n and k.lower() == lname:
                return v
        return None

    @property
    def content(self) -> bytes:
        """The body a decoder wants: decoded when a Content-Encoding was undone."""
        return self.decoded_body if self.decoded_body is not None else self.body

    def drop_bodies(self) -> None:
        """Forget the body bytes, keeping their lengths (for consumers that only count)."""
        self.body = b""
        self.decoded_body = None


@dataclass(slots=True)
class Transaction:
    """A request and the response that answered it: either may be missing, never both."""

    id: str
    capture: int  # index into the run's list of captures
    connection: str
    client: str  # ip:port
    server: str
    request: HttpMessage | None
    response: HttpMessage | None
    interim: list[HttpMessage] = field(default_factory=list)  # 1xx responses (100 Continue ...)
    # The TLS connection it was decrypted from (version, suite, where the keys came from);
    # None for plaintext HTTP.
    tls: TlsInfo | None = None

    def __reduce__(self) -> tuple[type[Transaction], tuple[object, ...]]:
        return (Transaction, (self.id, self.capture, self.connection, self.client, self.server, self.request,
                              self.response, self.interim, self.tls))

    @property
    def response_time(self) -> float | None:
        """Seconds from the request's last frame to the response's first (the peer's think time and
        one network trip; Wireshark's http.time runs to the response's last frame); None without both.
        A response captured before its request was complete counts 0."""
        if self.request is None or self.response is None:
            return None
        return max(self.response.first_time - self.request.time, 0.0)


@dataclass(slots=True)
class Datagram:
    """A UDP datagram, handed to the decoders that live on UDP (Pkg#0, TR-111, STUN)."""

    id: str
    capture: int
    frame: int
    time: float
    src: str
    sport: int
    dst: str
    dport: int
    payload: bytes
    protocol: object = None  # decoded by dmsniff.protocols (STUN, TR-111 UDP request, ...) or None
    auth: list[object] | None = None  # dmsniff.verify's AuthResults (Pkg#0 digest, TR-111 signature)

    def __reduce__(self) -> tuple[type[Datagram], tuple[object, ...]]:
        return (Datagram, (self.id, self.capture, self.frame, self.time, self.src, self.sport, self.dst,
                           self.dport, self.payload, self.protocol))

    @property
    def client(self) -> str:
        return format_endpoint(self.src, self.sport)

    @property
    def server(self) -> str:
        return format_endpoint(self.dst, self.dport)


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule dmsniff checks: a row of a ``RULES`` table, keyed by the finding code it makes.

    Every table is listed in :mod:`dmsniff.rules`, which makes ``docs/rules.md`` from them.
    """

    severity: str  # "error" | "warning" | "info"
    reference: str  # the text that states the rule: spec, section, and the rule in short
    meaning: str  # one line: what a finding with this code says happened

    def finding(self, code: str, message: str, frames: list[int], session: str | None = None,
                capture: int = 0) -> Finding:
        return Finding(self.severity, code, message, frames, self.reference, session, capture)


@dataclass(slots=True)
class Finding:
    """Something a protocol rule says should not happen, or worth an engineer's eye.

    Made by the session builders and checkers, and by the pipeline itself when a record could
    not be processed (``dmsniff.internal-error``).
    """

    severity: str  # "error" | "warning" | "info"
    code: str  # stable name, e.g. "cwmp.unanswered-request"
    message: str  # one line, for people
    frames: list[int]
    reference: str  # the rule checked, e.g. "TR-069 Amd 6 §3.7.2.4 (session termination)"
    session: str | None = None
    capture: int = 0


@dataclass(slots=True)
class TlsFacts:
    """One TLS connection as a report shows it: the decoder's summary tied to ids and frames.

    Made when the connection ends, whether it was decrypted or not, and handed on with its
    :class:`ConnectionEnd`.
    """

    connection: str
    capture: int
    client: str  # ip:port of the side that sent the ClientHello (guessed by port without one)
    server: str
    client_direction: int  # which TCP direction (0, 1) is the client's, for the summary's pairs
    summary: TlsSummary
    frames: dict[str, list[int]]  # "ClientHello", "ServerHello", "Certificate", "alert" ... -> frames
    first_frame: int
    last_frame: int
    first_time: float
    last_time: float
    http: bool  # HTTP was found in the decrypted data
    notes: list[str] = field(default_factory=list)  # what was made of the decrypted data, if not HTTP
    alert_frames: list[int] = field(default_factory=list)  # the frame of each of summary.alerts
    # Set by the session builder that judged its TLS rules (dmsniff.sessions.tls), so the
    # connection is not judged again outside any session.
    checked: bool = False


@dataclass(slots=True, frozen=True)
class ConnectionEnd:
    """A followed connection ended (FIN/RST, idle timeout, or the end of the capture).

    Handed to addons after the connection's last transaction, so session builders can
    tell "the CPE hung up" from "the CPE went quiet".  Every HTTP connection has one, and so
    has every TLS connection, decrypted or not, with its :class:`TlsFacts`.
    """

    capture: int
    connection: str
    time: float  # capture time of the connection's last packet
    at_capture_end: bool  # still open when the capture ended
    tls: TlsFacts | None = None

    def __reduce__(self) -> tuple[type[ConnectionEnd], tuple[object, ...]]:
        return (ConnectionEnd, (self.capture, self.connection, self.time, self.at_capture_end, self.tls))
