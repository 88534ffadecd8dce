"""Records the session builders produce: sessions, their messages, findings, devices.

A session is a protocol conversation between one device and one server, possibly over
several TCP connections.  Every record keeps the ids of what it was built from
(transactions ``C7.2``, datagrams ``U12``) and their frame numbers, so a report line
leads back to the packets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dmsniff.model import (  # findings flow through the pipeline too (one home: dmsniff.model)
    Direction,
    Finding,
    Transaction,
)

SEVERITIES = ("error", "warning", "info")


@dataclass(slots=True)
class SessionMessage:
    """One protocol message of a session: a CWMP envelope (or empty body) in an HTTP message."""

    frame: int
    time: float
    direction: Direction
    kind: str  # RPC name, "InformResponse", "Fault", "empty", or "http" for a non-CWMP body
    transaction: str  # HTTP transaction id
    http: str  # "POST /acs" or "204 No Content"
    status: int | None  # HTTP status of a response
    body_length: int
    cwmp_id: str | None = None
    record: object = None  # the decoded message (a CwmpMessage, SyncMLMessage, Notification) or None
    notes: list[str] = field(default_factory=list)  # e.g. "auth challenge", "retry"
    # OMA DM: the SyncHdr's ids, the package number, how the body was encoded, and the commands
    # with each Status/Results tied to the command it answers.
    session_id: str | None = None
    msg_id: str | None = None
    package: int | None = None
    encoding: str | None = None  # "xml" | "wbxml" | "binary" (Pkg#0)
    commands: list[CommandSummary] = field(default_factory=list)
    auth: list[object] = field(default_factory=list)  # dmsniff.verify AuthResults for its credentials


@dataclass(slots=True)
class CommandSummary:
    """One SyncML command of a message, as a session shows it."""

    name: str
    cmd_id: str | None
    targets: list[str] = field(default_factory=list)  # item Target (or Source for Results) LocURIs
    data: str | None = None  # Alert code, or the first item's data, shortened
    # Status and Results: what they answer, and where that command was
    msg_ref: str | None = None
    cmd_ref: str | None = None
    cmd: str | None = None
    code: int | None = None
    meaning: str | None = None
    answers: int | None = None  # frame of the message holding the command answered
    depth: int = 0  # 1 inside an Atomic/Sequence, 2 in a nested one...


@dataclass(slots=True)
class ConnectionRequest:
    """A server's wake-up call to a device: HTTP GET or TR-111 UDP request."""

    kind: str  # "http" | "udp"
    id: str  # transaction or (first) datagram id
    frames: list[int]
    time: float
    client: str  # the server side that sent it
    target: str  # the URL asked for
    status: int | None = None  # HTTP status of the device's answer
    copies: int = 1  # UDP requests are sent several times
    record: object = None  # decoders.tr111.UdpConnectionRequest for UDP
    stun_binding: str | None = None  # datagram id of the STUN binding that opened the path
    device: str | None = None  # device id, when known
    session: str | None = None  # the session it caused
    auth: list[object] = field(default_factory=list)  # dmsniff.verify AuthResults (digest, TR-111 signature)


@dataclass(slots=True)
class Session:
    id: str
    protocol: str  # "cwmp"
    capture: int
    client: str  # device endpoint of the first connection
    server: str
    start: float
    end: float
    device: dict[str, str] | None = None  # manufacturer, oui, product_class, serial
    device_id: str | None = None  # "OUI-ProductClass-Serial"
    end_reason: str | None = None  # "204", "200-empty", "connection-closed", "timeout", "new-session",
    #                                 "capture-end"
    connections: list[str] = field(default_factory=list)
    messages: list[SessionMessage] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    connection_requests: list[ConnectionRequest] = field(default_factory=list)
    events: list[str] = field(default_factory=list)  # Inform event codes
    version: str | None = None  # protocol version (CWMP "1.0".."1.4", OMA DM "DM/1.2")
    session_id: str | None = None  # the protocol's own session id (OMA DM SessionID)
    server_name: str | None = None  # OMA DM: the server's Source LocURI (its URL) or Pkg#0 server id
    large_objects: list[LargeObject] = field(default_factory=list)
    dm: DmFacts | None = None  # OMA DM: Windows MDM facts and Generic Alerts, when the session has any

    def exchange_ids(self) -> list[str]:
        """The transactions and datagrams it is made of: its messages' and its connection requests'."""
        return [*(m.transaction for m in self.messages), *(cr.id for cr in self.connection_requests)]

    @classmethod
    def begin(cls, sid: str, protocol: str, tx: Transaction, *, device_id: str | None = None,
              session_id: str | None = None, version: str | None = None) -> Session:
        """A session opened by the first message of ``tx``: its endpoints, connection and start."""
        first = tx.request or tx.response
        assert first is not None  # a Transaction has a request, a response or both
        return cls(id=sid, protocol=protocol, capture=tx.capture, client=tx.client, server=tx.server,
                   start=first.first_time, end=first.time, device_id=device_id, connections=[tx.connection],
                   session_id=session_id, version=version)


@dataclass(slots=True)
class LargeObject:
    """An OMA DM item sent in chunks (MoreData), put back together."""

    target: str
    direction: Direction
    frames: list[int]
    chunks: int
    size: int  # bytes received
    declared_size: int | None  # Meta Size of the first chunk
    complete: bool  # the last chunk (without MoreData) was seen
    data: str  # the object, capped for the report


@dataclass(slots=True)
class GenericAlert:
    """One item of an OMA DM Generic Alert (Alert 1226): its Meta Type says what it reports."""

    type: str | None  # e.g. "com.microsoft:mdm.unenrollment.userrequest"
    format: str | None
    data: str | None  # shortened
    source: str | None  # the node it reports on (Source LocURI, else Target)
    frame: int
    direction: Direction


@dataclass(slots=True)
class TargetScope:
    """Windows MDM: the LocURIs of one scope and CSP a session addressed (Microsoft, "OMA DM protocol
    support": ``./User/...`` targets the enrolled user, ``./Device/...`` or no prefix the device)."""

    scope: str  # "user" | "device"
    csp: str | None  # <CSP> of ./Vendor/MSFT/<CSP>/..., else the first node (DevInfo, DevDetail, ...)
    commands: dict[str, int]  # command name -> LocURIs it addressed here
    uris: list[str]  # the first few, as sent
    frames: list[int]  # the first few


@dataclass(slots=True)
class DmFacts:
    """What an OMA DM session says beyond its messages."""

    windows: str | None = None  # why it is a Windows MDM client's session (the first sign), else None
    login_state: str | None = None  # Alert 1224 com.microsoft/MDM/LoginStatus: "user", "others", "none"
    login_frame: int | None = None
    session_id_form: str | None = None  # Windows: "decimal" (the default) or "hex" (DM session sync 2.0)
    scopes: list[TargetScope] = field(default_factory=list)  # Windows sessions only
    generic_alerts: list[GenericAlert] = field(default_factory=list)


@dataclass(slots=True)
class ParameterObservation:
    """A parameter value a device reported, or a change a server sent it."""

    name: str
    value: str
    type: str | None
    source: str  # "Inform", "GetParameterValuesResponse", "SetParameterValues"
    frame: int
    time: float
    session: str


#: ParameterObservation's fields in order: how a history is kept until the report's end
#: (:mod:`dmsniff.sessions.history`).
ObservationRow = tuple[str, str, str | None, str, int, float, str]


@dataclass(slots=True)
class StunBinding:
    """A STUN Binding Request from a device (TR-111: how the server learns its UDP CR address)."""

    datagram: str
    frame: int
    time: float
    source: str  # ip:port the request came from (the NAT binding)
    username: str | None
    connection_request_binding: bool
    binding_change: bool
    # The STUN server's Binding Response (matched by transaction id), when the capture holds it:
    # its MAPPED-ADDRESS (or XOR-MAPPED-ADDRESS), the CPE's public ip:port as the server saw it.
    mapped_address: str | None = None
    response: str | None = None  # datagram id of the Binding Response
    response_frame: int | None = None


@dataclass(slots=True)
class NatStep:
    """One step of a device's NAT path (TR-069 Annex G), and where the capture shows it."""

    kind: str  # "stun-request" | "stun-response" | "reported" | "udp-connection-request" | "session"
    address: str | None  # the CPE's ip:port as this step names it (None for the session)
    frames: list[int]
    time: float | None  # capture time (None for a STUN response: its request's time is the one kept)
    ref: str | None = None  # datagram id (STUN, UDP request), session id (reported in, caused)
    note: str | None = None  # e.g. "Inform (4 VALUE CHANGE), NATDetected=true", "3 copies"


@dataclass(slots=True)
class NatPath:
    """How the ACS reached a device behind a NAT, end to end (TR-069 Annex G).

    The CPE's STUN Binding Request (its source is the public address the NAT gave it), the
    Binding Response's MAPPED-ADDRESS saying so, the CPE reporting that address as
    ``ManagementServer.UDPConnectionRequestAddress``, the ACS's UDP connection request to it,
    and the "6 CONNECTION REQUEST" session that answers.  One path per UDP connection request
    (and one for the address reported last when no request went to it); ``missing`` names the
    steps the capture does not show, in :data:`NAT_STEPS` order.
    """

    address: str  # the ip:port the path leads to (the request's destination, or the reported one)
    steps: list[NatStep] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    complete: bool = False  # every step of NAT_STEPS is in the capture


NAT_STEPS = ("stun-request", "stun-response", "reported", "udp-connection-request", "session")


@dataclass(slots=True)
class Device:
    id: str
    protocol: str
    identity: dict[str, str]
    addresses: list[str] = field(default_factory=list)  # IPs its sessions came from
    sessions: list[str] = field(default_factory=list)
    connection_request_url: str | None = None
    udp_connection_request_address: str | None = None
    parameters: Sequence[ParameterObservation] = field(default_factory=list)  # a History once read back
    stun: list[StunBinding] = field(default_factory=list)
    connection_requests: list[str] = field(default_factory=list)  # their ids
    nat_path: list[NatPath] = field(default_factory=list)  # CWMP: TR-069 Annex G, oldest first
