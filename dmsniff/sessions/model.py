"""Records the session builders produce: sessions, their messages, findings, devices.

A session is a protocol conversation between one device and one server, possibly over
several TCP connections.  Every record keeps the ids of what it was built from
(transactions ``C7.2``, datagrams ``U12``) and their frame numbers, so a report line
leads back to the packets.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dmsniff.model import Finding  # findings flow through the pipeline too (one home: dmsniff.model)

SEVERITIES = ("error", "warning", "info")


@dataclass(slots=True)
class SessionMessage:
    """One protocol message of a session: a CWMP envelope (or empty body) in an HTTP message."""

    frame: int
    time: float
    direction: str  # "to_server" (device → server) | "to_client"
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


@dataclass(slots=True)
class LargeObject:
    """An OMA DM item sent in chunks (MoreData), put back together."""

    target: str
    direction: str  # "to_server" | "to_client"
    frames: list[int]
    chunks: int
    size: int  # bytes received
    declared_size: int | None  # Meta Size of the first chunk
    complete: bool  # the last chunk (without MoreData) was seen
    data: str  # the object, capped for the report


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


@dataclass(slots=True)
class Device:
    id: str
    protocol: str
    identity: dict[str, str]
    addresses: list[str] = field(default_factory=list)  # IPs its sessions came from
    sessions: list[str] = field(default_factory=list)
    connection_request_url: str | None = None
    udp_connection_request_address: str | None = None
    parameters: list[ParameterObservation] = field(default_factory=list)
    stun: list[StunBinding] = field(default_factory=list)
    connection_requests: list[str] = field(default_factory=list)  # their ids
