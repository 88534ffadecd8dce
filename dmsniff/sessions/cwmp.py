"""TR-069/CWMP sessions, connection requests and STUN bindings, rebuilt from transactions.

A CWMP session (TR-069 §3.7.2): the CPE POSTs an Inform, the ACS answers
InformResponse, the CPE sends its own requests then an empty POST, the ACS sends its
requests in the HTTP responses and the CPE answers each in its next POST, and the ACS
ends with 204.  The pieces arrive as HTTP transactions (already decoded by
:mod:`dmsniff.protocols`); this addon groups them:

* by TCP connection, and across connections by the session cookie the ACS set and by
  the DeviceId of a retried Inform (an ACS may close the connection after a 401
  challenge, so the authenticated retry comes on a new one);
* a session ends with the ACS's 204 (or a 200 with an empty body), when its connection
  closes (after a grace period in which the CPE may reconnect with its cookie), after
  :data:`SESSION_IDLE` seconds of silence, or at the end of the capture.

Connection requests (HTTP GET to the URL the CPE reported, TR-111 UDP requests) and
STUN Binding Requests are tied to the device and to the "6 CONNECTION REQUEST" session
they cause.  Behind a NAT (TR-069 Annex G) the whole chain is kept on the device as its
``nat_path``: STUN Binding Request → the Binding Response's MAPPED-ADDRESS → the
``UDPConnectionRequestAddress`` the CPE reported → the ACS's UDP connection request → the
session.  Rule checks become :class:`~dmsniff.sessions.model.Finding` records; the
rules, their severities and references are in the :data:`RULES` table.  The order of a
session's messages is checked by its machine (:mod:`dmsniff.sessions.cwmp_machine`): this
module classifies each message into the machine's inputs, words the findings its table
raises, and keeps the side effects (parameter history, downloads, cookies, Digest nc) beside.

Sessions are emitted when they end, so memory holds only the open ones (plus the
per-device parameter history, which is the point of keeping it).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from decoders import auth, stun, tr111
from decoders.cwmp import (
    CwmpMessage,
    Download,
    DownloadResponse,
    GetParameterValuesResponse,
    Inform,
    ParameterValues,
    SetParameterValues,
    TransferComplete,
)
from dmsniff.model import (
    ConnectionEnd,
    Datagram,
    Direction,
    Finding,
    HttpMessage,
    Rule,
    Transaction,
    format_endpoint,
)
from dmsniff.model import endpoint_host as _host
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.protocols.auth import credentials
from dmsniff.sessions import tls
from dmsniff.sessions.base import SessionBuilder
from dmsniff.sessions.cwmp_machine import (
    CPE_WAITING,
    KEEPS_PENDING,
    Input,
    Machine,
    Phase,
    Step,
    acs_input,
    answer_input,
    cpe_inputs,
    ends_session,
)
from dmsniff.sessions.history import ParameterLog
from dmsniff.sessions.model import (
    NAT_STEPS,
    ConnectionRequest,
    Device,
    NatPath,
    NatStep,
    Session,
    SessionMessage,
    StunBinding,
)

SESSION_IDLE = 60.0  # capture seconds without a message before an open session is timed out
RECONNECT_GRACE = 30.0  # after its connection closed, a session may continue on a new one
CR_WINDOW = 60.0  # a connection request causes a session starting within this many seconds
UDP_CR_COPIES_WINDOW = 10.0  # identical UDP requests this close together are one request, resent
MAX_NAT_PATHS = 20  # per device, the latest kept (a device may be woken every few minutes)
MAX_STUN_PENDING = 10_000  # Binding Requests awaiting their response (oldest forgotten first)

# code -> its severity, reference and meaning.  One row per rule dmsniff checks in CWMP traffic
# (docs/rules.md is made from it: python -m dmsniff.rules --markdown).
RULES: dict[str, Rule] = {
    "cwmp.rpc-before-inform": Rule(
        "warning",
        "TR-069 Amd 6 §3.7.2.1: a session begins with an Inform from the CPE",
        "A session's first message is not an Inform (or the capture began mid-session).",
    ),
    "cwmp.empty-post-with-body": Rule(
        "warning",
        "TR-069 Amd 6 §3.7.2.1/§3.4.4: the CPE signals it has no more requests with an "
        "empty HTTP POST (no body, Content-Length 0)",
        "The CPE's empty POST carries a body (often a SOAP envelope with an empty Body) instead of none.",
    ),
    "cwmp.unanswered-request": Rule(
        "error",
        "TR-069 Amd 6 §3.7.2.2: every request is answered by its response or a fault in the "
        "peer's next message",
        "A request got no response or fault in the peer's next message: it was answered by something else, "
        "or the session ended first.",
    ),
    "cwmp.unexpected-response": Rule(
        "error",
        "TR-069 Amd 6 §3.7.2.2: a response names the request it answers (<Method>Response)",
        "A response answers another request than the one pending (RebootResponse to "
        "GetParameterValues), or none at all.",
    ),
    "cwmp.id-mismatch": Rule(
        "warning",
        "TR-069 Amd 6 §3.7.1.2: a response carries the cwmp:ID of the request it answers",
        "A response's cwmp:ID differs from the request it answers.",
    ),
    "cwmp.cpe-fault": Rule(
        "warning",
        "TR-069 Amd 6 A.5: CPE fault codes 9000-9899",
        "The CPE answered an ACS request with a SOAP Fault (9000-9899), named and explained.",
    ),
    "cwmp.acs-fault": Rule(
        "warning",
        "TR-069 Amd 6 A.5: ACS fault codes 8000-8899",
        "The ACS answered a CPE request with a SOAP Fault (8000-8899), named and explained.",
    ),
    "cwmp.session-not-ended-by-204": Rule(
        "warning",
        "TR-069 Amd 6 §3.7.2.4: the ACS ends a session with an empty HTTP response, 204 No Content",
        "The session ended some other way than the ACS's 204 No Content (connection closed, timeout, 200 "
        "with an empty body).",
    ),
    "cwmp.hold-requests-ignored": Rule(
        "error",
        "TR-069 Amd 6 §3.7.1.2 (HoldRequests): while true, the CPE sends no requests",
        "The CPE sent a request while the ACS's last message had HoldRequests=true.",
    ),
    "cwmp.transfer-complete-event-missing": Rule(
        "error",
        "TR-069 Amd 6 §3.7.1.5 and A.3.3.2: an Inform opening a session that carries "
        'TransferComplete includes "7 TRANSFER COMPLETE"',
        'A session carrying TransferComplete was opened by an Inform without "7 TRANSFER COMPLETE".',
    ),
    "cwmp.m-download-event-missing": Rule(
        "error",
        'TR-069 Amd 6 §3.7.1.5: TransferComplete for a Download comes with the "M Download" '
        "event carrying the Download's CommandKey",
        'TransferComplete for a Download came without the "M Download" event and its CommandKey.',
    ),
    "cwmp.transfer-complete-missing": Rule(
        "info",
        "TR-069 Amd 6 A.3.2.8: a Download answered with Status 1 is reported later with TransferComplete",
        "A Download accepted for later (Status 1) is never reported by a TransferComplete in the capture.",
    ),
    "cwmp.connection-request-without-session": Rule(
        "warning",
        "TR-069 Amd 6 §3.2.2 and Annex G: a successful connection request (HTTP, or UDP behind a "
        'NAT) makes the CPE open a session with "6 CONNECTION REQUEST"',
        'A connection request the CPE accepted (HTTP 200/204, or a UDP request) is not followed by a "6 '
        'CONNECTION REQUEST" session within the window.',
    ),
    "cwmp.udp-connection-request-unreported-address": Rule(
        "warning",
        "TR-069 Amd 6 Annex G.2: the ACS sends UDP connection requests to the "
        "ManagementServer.UDPConnectionRequestAddress the CPE reported (its STUN-mapped public address)",
        "The ACS sent a UDP connection request to an address the device never reported as "
        "UDPConnectionRequestAddress.",
    ),
    "cwmp.inform-refused": Rule(
        "warning",
        "TR-069 Amd 6 §3.7.2.1: the ACS answers the Inform opening a session with InformResponse; an "
        "ACS that checks the DeviceId (OUI, Manufacturer...) refuses a device with HTTP 403 "
        "(the full-duplex article, Part 03)",
        "The ACS answered the Inform with 403: it refused the device (named by its DeviceId).",
    ),
    "cwmp.cookie-not-returned": Rule(
        "warning",
        "TR-069 Amd 6 §3.4.2: the CPE supports the ACS's cookies for the session's state (RFC 6265); "
        "RFC 6265 §5.4: a cookie set is sent back in later requests to its path",
        "A later request of the session lacks a cookie the ACS set (path, Secure and expiry respected).",
    ),
    "cwmp.digest-nc-not-increasing": Rule(
        "warning",
        "TR-069 Amd 6 §3.4.5 (HTTP Digest, RFC 2617, qop auth); RFC 2617 §3.2.2: nc counts the "
        "requests sent with a nonce, so it increases with every request (the article: nc+1 per "
        "POST on the same TCP connection)",
        "On one TCP connection, a Digest nc with the same nonce did not go up from one request to the next.",
    ),
    "cwmp.decode-error": Rule(
        "error",
        "TR-069 Amd 6 §3.5: CWMP messages are SOAP 1.1 envelopes (cwmp-1-x.xsd)",
        "A body taken for CWMP is not a SOAP envelope dmsniff can read; the reason is given.",
    ),
}

# What "cwmp.session-not-ended-by-204" says for each way a session can end without a 204.
_END_TEXT = {
    "200-empty": "the ACS ended the session with 200 and an empty body instead of 204",
    "connection-closed": "the connection closed before the ACS sent 204",
    "timeout": f"no message for {SESSION_IDLE:.0f} s and no 204",
    "new-session": "a new Inform from the device began another session before a 204",
    "capture-end": "the capture ended before a 204",
}

_CR_URL_SUFFIX = ".ManagementServer.ConnectionRequestURL"
_UDP_CR_SUFFIX = ".ManagementServer.UDPConnectionRequestAddress"
_NAT_DETECTED_SUFFIX = ".ManagementServer.NATDetected"
_AUTHORIZATION = ("authorization", "proxy-authorization")


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _norm_address(text: str) -> str:
    """A ``host:port`` in one spelling: IPv6 in brackets, IPs in canonical form, host lower-case.

    A value without a port (``UDPConnectionRequestAddress`` may omit it) stays a bare host.
    """
    t = text.strip().lower()
    if t.startswith("[") and "]" in t:
        host, _, rest = t[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif t.count(":") == 1:
        host, _, port = t.partition(":")
    else:  # a bare IPv4 address or name, or a bare IPv6 address
        host, port = t, ""
    if _is_ip(host):
        host = str(ipaddress.ip_address(host))
    return format_endpoint(host, int(port)) if port.isdigit() else host


def _split_address(addr: str) -> tuple[str, int | None]:
    """(host, port or None) of a normalised address."""
    if addr.startswith("[") and "]:" in addr:
        host, _, port = addr[1:].partition("]:")
        return host, int(port)
    if addr.count(":") == 1:
        host, _, port = addr.partition(":")
        return host, int(port)
    return addr, None


def _same_address(a: str, b: str) -> bool:
    """Normalised addresses name the same place (one without a port matches any port of its host)."""
    if a == b:
        return True
    (a_host, a_port), (b_host, b_port) = _split_address(a), _split_address(b)
    return a_host == b_host and (a_port is None or b_port is None)


def device_key(inform: Inform) -> str:
    """GenieACS's device id form: OUI-ProductClass-SerialNumber (OUI-Serial without a class)."""
    d = inform.device_id
    return f"{d.oui}-{d.product_class}-{d.serial_number}" if d.product_class else f"{d.oui}-{d.serial_number}"


@dataclass(slots=True)
class _Cookie:
    """A cookie the ACS set in a session: the CPE sends it back in the session's later requests."""

    pair: str  # "name=value" as set
    path: str  # the request paths it is for (RFC 6265 §5.1.4 path-match)
    secure: bool  # only over TLS
    frame: int  # of the response that set it
    misses: list[int] = field(default_factory=list)  # frames of later requests without it
    sent_instead: str | None = None  # the first other value of that name a request carried


@dataclass(slots=True)
class _Live:
    """A session being built: its phase in the protocol, and beside it what the rules and the
    grouping need."""

    session: Session
    last_time: float
    conn: str
    machine: Machine = field(default_factory=Machine)
    pending: SessionMessage | None = None  # the ACS request of an ACS_PENDING phase
    cookies: list[tuple[str, str]] = field(default_factory=list)  # (server, "name=value") it issued
    informed: bool = False  # an InformResponse has been received (a challenged retry continues it)
    closed_at: float | None = None  # its connection closed at (session may resume on a new one)
    inform_frame: int = 0
    tls_hosts: dict[str, str | None] = field(default_factory=dict)  # TLS connection -> host posted to
    refused: bool = False  # the ACS answered the Inform with 403
    set_cookies: dict[str, _Cookie] = field(default_factory=dict)  # cookie name -> the ACS's latest

    @property
    def ended(self) -> bool:
        return self.machine.phase is Phase.ENDED

    @property
    def challenged(self) -> bool:
        """The last response was a 401/407 challenge."""
        return self.machine.phase is Phase.CHALLENGED


@dataclass(slots=True)
class _Report:
    """The CPE said where UDP connection requests reach it (TR-069 Annex G)."""

    address: str  # normalised
    value: str  # as reported
    frame: int
    time: float
    session: str
    note: str  # what carried it, e.g. "Inform (4 VALUE CHANGE), NATDetected=true"


@dataclass(slots=True)
class _UdpCr:
    """A UDP connection request (its copies merged), with what the NAT path needs."""

    cr: ConnectionRequest
    dst: str  # the ip:port the datagrams went to
    uri_address: str | None  # the host:port its request line names
    last_time: float  # of the last copy: the CPE may answer any of them
    binding: StunBinding | None  # the CPE's latest STUN binding for that address, before it
    session_frame: int | None = None  # the Inform of the session it caused
    session_time: float | None = None

    def addresses(self) -> list[str]:
        """Every spelling of where it went: the datagram's destination, the request line's
        authority, and (captured inside the NAT) the public address the binding was mapped to."""
        out = [self.dst]
        if self.uri_address is not None:
            out.append(self.uri_address)
        if self.binding is not None and self.binding.mapped_address is not None:
            out.append(self.binding.mapped_address)
        return out


@dataclass(slots=True)
class _DeviceState:
    device: Device
    downloads: dict[str, tuple[str, int]] = field(default_factory=dict)  # command key -> (session, frame)
    udp_reports: list[_Report] = field(default_factory=list)  # each change of the reported address
    udp_crs: list[_UdpCr] = field(default_factory=list)  # the latest MAX_NAT_PATHS


class CwmpSessions(SessionBuilder):
    """Builds CWMP sessions from transactions; emits sessions, findings and devices."""

    rules = RULES

    def __init__(self, *, json_histories: bool = False) -> None:
        super().__init__()
        self.live: dict[str, _Live] = {}  # session id -> state, for open (and closing) sessions
        self.by_conn: dict[str, _Live] = {}
        self.by_cookie: dict[tuple[str, str], _Live] = {}
        self.by_device: dict[tuple[str, str], _Live] = {}  # (device id, server) -> its open session
        self.devices: dict[str, _DeviceState] = {}
        self.device_by_ip: dict[str, str] = {}  # CPE address -> device id (last seen)
        self.cr_urls: dict[tuple[str, int, str], str] = {}  # (ip or "*", port, path) -> device id
        self.udp_cr_addresses: dict[str, str] = {}  # "ip:port" -> device id
        self.pending_crs: list[ConnectionRequest] = []
        self.maybe_crs: list[ConnectionRequest] = []  # GETs that are CRs only if a session follows
        self.stun_by_source: dict[str, StunBinding] = {}
        self.stun_by_mapped: dict[str, StunBinding] = {}  # MAPPED-ADDRESS -> the latest binding
        self.stun_by_txid: dict[bytes, StunBinding] = {}  # requests awaiting their response
        self.udp_crs: dict[str, _UdpCr] = {}  # UDP CR id -> its state, while pending
        self.udp_suspects: list[_UdpCr] = []  # resolved to no reported address; judged at capture end
        self.digest_nc: dict[str, dict[tuple[str, str], tuple[int, int]]] = {}  # conn -> nonce -> nc, frame
        self.acs_endpoints: set[str] = set()  # where Informs went
        self.unlinked_stun: list[StunBinding] = []
        # per-device history, on disk until the report's end (as JSON when a JSON report is written)
        self.parameters = ParameterLog(json=json_histories)

    # -- Addon hooks ------------------------------------------------------------------------
    def transaction(self, tx: Transaction) -> None:
        req, resp = tx.request, tx.response
        first = req or resp
        assert first is not None
        self._tick(resp.time if resp is not None else first.time)
        if req is not None and req.method == "GET" and self._connection_request(tx, req):
            return
        if req is not None and req.method != "POST":
            return
        req_rec = _cwmp(req)
        resp_rec = _cwmp(resp)
        live = self._session_for(tx, req_rec, resp_rec)
        if live is None:
            return
        if tx.tls is not None and tx.connection not in live.tls_hosts:
            live.tls_hosts[tx.connection] = tls.request_host(tx)
        self._add_exchange(live, tx, req_rec, resp_rec)

    def datagram(self, dg: Datagram) -> None:
        self._tick(dg.time)
        rec = dg.protocol
        if isinstance(rec, tr111.UdpConnectionRequest):
            self._udp_connection_request(dg, rec)
        elif isinstance(rec, stun.StunMessage) and rec.klass == "request" and rec.method == 1:
            b = StunBinding(
                dg.id,
                dg.frame,
                dg.time,
                format_endpoint(dg.src, dg.sport),
                rec.username,
                rec.connection_request_binding,
                rec.binding_change,
            )
            self.stun_by_source[b.source] = b
            self.stun_by_txid[rec.transaction_id] = b
            if len(self.stun_by_txid) > MAX_STUN_PENDING:  # requests never answered in the capture
                del self.stun_by_txid[next(iter(self.stun_by_txid))]
            dev = self.udp_cr_addresses.get(b.source) or self.device_by_ip.get(dg.src)
            if dev is not None:
                self.devices[dev].device.stun.append(b)
            else:
                self.unlinked_stun.append(b)
        elif isinstance(rec, stun.StunMessage) and rec.klass == "success" and rec.method == 1:
            req = self.stun_by_txid.pop(rec.transaction_id, None)
            mapped = rec.mapped_address
            if req is not None and mapped is not None:
                req.mapped_address = format_endpoint(mapped.ip, mapped.port)
                req.response, req.response_frame = dg.id, dg.frame
                self.stun_by_mapped[req.mapped_address] = req

    def connection_end(self, end: ConnectionEnd) -> None:
        self._tick(end.time)
        self.digest_nc.pop(end.connection, None)
        live = self.by_conn.pop(end.connection, None)
        if live is not None and end.tls is not None:
            host = live.tls_hosts.get(end.connection)
            live.session.findings.extend(tls.findings(end.tls, "cwmp", host, live.session.id))
        if live is None or live.ended:
            return
        if end.at_capture_end:
            self._end(live, "capture-end")
        else:
            # Kept for RECONNECT_GRACE: the CPE may resume on a new connection (with its cookie,
            # or with the authenticated retry after a challenge).
            live.closed_at = end.time
            if not live.challenged:
                live.session.end_reason = "connection-closed"

    def capture_end(self, summary: CaptureSummary) -> None:
        for live in list(self.live.values()):
            if not live.ended:
                self._end(live, live.session.end_reason or "capture-end")
            self._finish(live)
        for cr in self.pending_crs:
            self._cr_without_session(cr)
        self.pending_crs.clear()
        self.maybe_crs.clear()
        self.by_conn.clear()
        self.udp_crs.clear()
        self.digest_nc.clear()
        self.stun_by_txid.clear()
        for u in self.udp_suspects:
            self._check_udp_target(u)
        self.udp_suspects.clear()

    def done(self) -> None:
        for state in self.devices.values():
            for key, (sid, frame) in state.downloads.items():
                self.outbox.finding(
                    self._finding(
                        "cwmp.transfer-complete-missing",
                        f"Download {key!r} to {state.device.id} was accepted (Status 1) but no "
                        "TransferComplete for it is in the capture",
                        [frame],
                        sid,
                    )
                )
            # A copy carries the history, so only one device's is in memory at a time.
            self.outbox.device(
                replace(
                    state.device,
                    parameters=self.parameters.read(state.device.id),
                    nat_path=self._nat_paths(state),
                )
            )
        self.parameters.close()
        if self.unlinked_stun:
            # STUN bindings from addresses no Inform came from: still worth listing.
            by_source: dict[str, Device] = {}
            for b in self.unlinked_stun:
                dev = by_source.setdefault(
                    _host(b.source),
                    Device(
                        id=f"stun:{b.username or _host(b.source)}",
                        protocol="cwmp",
                        identity={},
                        addresses=[_host(b.source)],
                    ),
                )
                dev.stun.append(b)
            for dev in by_source.values():
                self.outbox.device(dev)

    # -- sessions ---------------------------------------------------------------------------
    def _session_for(
        self, tx: Transaction, req_rec: CwmpMessage | None, resp_rec: CwmpMessage | None
    ) -> _Live | None:
        req = tx.request
        if req_rec is not None and isinstance(req_rec.rpc, Inform):
            return self._inform_session(tx, req_rec.rpc)
        live = self._by_cookie(tx) or self.by_conn.get(tx.connection)
        if live is not None and live.ended:
            live = None
        if live is not None:
            if live.conn != tx.connection:
                self._move(live, tx.connection)
            return live
        # Not in a known session: CWMP content starts one (the capture began mid-session, or
        # the CPE skipped the Inform); anything else on this connection is not ours.
        if req_rec is None and resp_rec is None:
            return None
        live = self._new_session(tx)
        first = req_rec.kind if req_rec is not None else "empty POST"
        frame = req.frame if req is not None else tx.response.frame  # type: ignore[union-attr]
        text = f"session starts with {first}, not an Inform (did the capture start mid-session?)"
        self._say(live, self._step(live, Input.MID_SESSION), text, [frame])
        return live

    def _inform_session(self, tx: Transaction, inform: Inform) -> _Live:
        dev_id = device_key(inform)
        current = self.by_conn.get(tx.connection)
        previous = self.by_device.get((dev_id, tx.server))
        for cand in (current, previous):
            # A retry of an Inform that was challenged (same or new connection) continues it.
            if (
                cand is not None
                and cand.challenged
                and not cand.informed
                and cand.session.device_id == dev_id
            ):
                if cand.conn != tx.connection:
                    self._move(cand, tx.connection)
                return cand
        for cand in (current, previous):
            if cand is not None and not cand.ended:
                self._end(cand, cand.session.end_reason or "new-session")
                self._finish(cand)
        live = self._new_session(tx)
        s = live.session
        d = inform.device_id
        s.device = {
            "manufacturer": d.manufacturer,
            "oui": d.oui,
            "product_class": d.product_class,
            "serial": d.serial_number,
        }
        s.device_id = dev_id
        s.events = [e.code for e in inform.events]
        self.by_device[(dev_id, tx.server)] = live
        self.acs_endpoints.add(tx.server)
        state = self._device(dev_id, s.device)
        cpe_ip = _host(tx.client)
        if cpe_ip not in state.device.addresses:
            state.device.addresses.append(cpe_ip)
        self.device_by_ip[cpe_ip] = state.device.id  # not dev_id: one string per device, not per session
        state.device.sessions.append(s.id)
        req = tx.request
        assert req is not None
        self._learn_addresses(
            state, inform.parameters, req.frame, req.time, s.id, f"Inform ({', '.join(s.events)})"
        )
        if any(e.code.strip().upper() == "6 CONNECTION REQUEST" for e in inform.events):
            self._link_connection_requests(live, cpe_ip, req.frame)
        return live

    def _new_session(self, tx: Transaction) -> _Live:
        first = tx.request or tx.response
        assert first is not None
        sid = f"S{self._tag}{first.frame}"
        n = 1
        while sid in self.live:
            n += 1
            sid = f"S{self._tag}{first.frame}.{n}"
        s = Session.begin(sid, "cwmp", tx)
        live = _Live(s, first.time, tx.connection)
        self.live[sid] = live
        self.by_conn[tx.connection] = live
        return live

    def _move(self, live: _Live, conn: str) -> None:
        """The session continues on another TCP connection."""
        if self.by_conn.get(live.conn) is live:
            del self.by_conn[live.conn]
        live.conn = conn
        live.closed_at = None
        if live.session.end_reason == "connection-closed":
            live.session.end_reason = None
        if conn not in live.session.connections:
            live.session.connections.append(conn)
        self.by_conn[conn] = live

    def _by_cookie(self, tx: Transaction) -> _Live | None:
        req = tx.request
        if req is None:
            return None
        for name, value in req.headers:
            if name.lower() != "cookie":
                continue
            # GenieACS also splits on "," because some CPEs join cookies with it.
            for token in value.replace(",", ";").split(";"):
                live = self.by_cookie.get((tx.server, token.strip()))
                if live is not None:
                    return live
        return None

    # -- cookies and Digest counts ---------------------------------------------------------------
    def _expect_cookie(self, live: _Live, tx: Transaction, value: str, resp_msg: SessionMessage) -> None:
        """The ACS set a cookie: the session's later requests to its path carry it (RFC 6265)."""
        parts = value.split(";")
        name, eq, cookie_value = parts[0].partition("=")
        name = name.strip()
        if not eq or not name:
            return  # RFC 6265 §5.2: a set-cookie-string without "=" is ignored
        attrs: dict[str, str] = {}
        for part in parts[1:]:
            k, _, v = part.partition("=")
            attrs[k.strip().lower()] = v.strip()
        old = live.set_cookies.pop(name, None)
        if old is not None:
            self._cookie_finding(live, old)
        if _cookie_removed(attrs, resp_msg.time):
            return
        path = attrs.get("path", "")
        if not path.startswith("/"):
            path = _default_path(tx.request.uri if tx.request is not None else None)
        pair = f"{name}={cookie_value.strip()}"
        live.set_cookies[name] = _Cookie(pair, path, "secure" in attrs, resp_msg.frame)

    def _check_cookies(self, live: _Live, tx: Transaction, req: HttpMessage) -> None:
        """A request of the session without a cookie the ACS set earlier in it."""
        if not live.set_cookies:
            return
        sent = _request_cookies(req)
        path = _request_path(req.uri)
        for name, c in live.set_cookies.items():
            if (c.secure and tx.tls is None) or not _path_match(path, c.path):
                continue  # the CPE must not send it there
            values = sent.get(name, [])
            if _unquote(c.pair.partition("=")[2]) in values:
                continue
            c.misses.append(req.frame)
            if values and c.sent_instead is None:
                c.sent_instead = f"{name}={values[0]}"

    def _cookie_finding(self, live: _Live, c: _Cookie) -> None:
        if not c.misses:
            return
        n = len(c.misses)
        pair = c.pair if len(c.pair) <= 60 else c.pair[:57] + "..."
        text = (
            f"the CPE did not send back the cookie {pair!r} the ACS set in frame {c.frame}: "
            f"{n} later request{'s' if n > 1 else ''} of the session lack{'s' if n == 1 else ''} it"
        )
        if c.sent_instead is not None:
            text += f" (sent {c.sent_instead[:60]!r} instead)"
        self._flag(live.session, "cwmp.cookie-not-returned", text, [c.frame, *c.misses[:9]])
        c.misses = []

    def _check_digest_nc(self, live: _Live, tx: Transaction, req: HttpMessage) -> None:
        """RFC 2617 §3.2.2: with the same nonce, each request on the connection has a higher nc."""
        for name, value in req.headers:
            lname = name.lower()
            if lname not in _AUTHORIZATION or value.lstrip()[:6].lower() != "digest":
                continue
            creds = credentials(req, value)
            if not isinstance(creds, auth.DigestCredentials) or not creds.nc or not creds.nonce:
                continue
            try:
                nc = int(creds.nc, 16)
            except ValueError:
                continue  # the verifier notes it
            seen = self.digest_nc.setdefault(tx.connection, {})
            key = (lname, creds.nonce)
            prev = seen.get(key)
            if prev is None or nc > prev[0]:
                seen[key] = (nc, req.frame)
                continue
            nonce = creds.nonce if len(creds.nonce) <= 20 else creds.nonce[:17] + "..."
            self._flag(
                live.session,
                "cwmp.digest-nc-not-increasing",
                f"Digest nc {creds.nc} in frame {req.frame} does not increase: the nonce {nonce!r} was "
                f"already used with nc {prev[0]:08x} in frame {prev[1]} on this connection",
                [prev[1], req.frame],
            )

    def _add_exchange(
        self, live: _Live, tx: Transaction, req_rec: CwmpMessage | None, resp_rec: CwmpMessage | None
    ) -> None:
        s = live.session
        req, resp = tx.request, tx.response
        req_msg = _message(req, Direction.TO_SERVER, tx, req_rec) if req is not None else None
        resp_msg = _message(resp, Direction.TO_CLIENT, tx, resp_rec) if resp is not None else None
        challenged = resp is not None and resp.status in (401, 407)
        if req is not None and req_msg is not None:
            if live.challenged:
                req_msg.notes.append("retry after auth challenge")
            s.messages.append(req_msg)
            self._check_cpe_message(live, req_msg, req_rec, resp_msg, challenged)
            self._check_cookies(live, tx, req)
            self._check_digest_nc(live, tx, req)
        if resp_msg is not None:
            s.messages.append(resp_msg)
            if challenged:
                resp_msg.notes.append("auth challenge")
            self._check_acs_message(live, resp_msg, resp_rec)
            for name, value in resp.headers:  # type: ignore[union-attr]
                if name.lower() == "set-cookie":
                    key = (tx.server, value.split(";", 1)[0].strip())
                    self.by_cookie[key] = live
                    live.cookies.append(key)
                    self._expect_cookie(live, tx, value, resp_msg)
        last = resp or req
        assert last is not None
        live.last_time = last.time
        s.end = max(s.end, last.time)
        end = ends_session(resp.status, resp.body_length) if resp is not None and not challenged else None
        if end is not None:
            self._end(live, "204" if end is Input.END_204 else "200-empty")
            self._finish(live)

    def _check_cpe_message(
        self,
        live: _Live,
        msg: SessionMessage,
        rec: CwmpMessage | None,
        resp_msg: SessionMessage | None,
        challenged: bool,
    ) -> None:
        s = live.session
        self._decode_problems(live, msg, rec)
        if msg.kind == "empty" and msg.body_length:
            self._flag(
                s,
                "cwmp.empty-post-with-body",
                f"empty POST carries a {msg.body_length}-byte body (an envelope with "
                "an empty Body) instead of no body",
                [msg.frame],
            )
        if challenged:
            return  # the retry is what counts
        if rec is not None and rec.kind == "Inform":
            live.inform_frame = msg.frame
            if s.version is None:
                s.version = rec.cwmp_version
            self._observe(live, rec, msg)
        pending = live.pending
        for event in cpe_inputs(msg.kind, pending.kind if pending else None, _names_fault(msg)):
            self._cpe_input(live, event, msg, pending)
        if live.machine.phase in CPE_WAITING:  # a request: the HTTP response answers it
            if rec is not None and isinstance(rec.rpc, TransferComplete):
                self._check_transfer_complete(live, rec.rpc, msg.frame)
            self._acs_answer(live, msg, resp_msg)

    def _cpe_input(
        self, live: _Live, event: Input, msg: SessionMessage, pending: SessionMessage | None
    ) -> None:
        """One input of the CPE's message: its reply to the ACS's pending request, or itself."""
        if pending is not None and event in (Input.ANSWER, Input.FAULT):
            self._check_id(live.session, pending, msg)
        step = self._step(live, event)
        if step.code is not None:
            asked = pending or msg  # the request a reply names (a message on its own names itself)
            words = _fault_text if event is Input.FAULT else _CPE_TEXTS.get(event, _no_text)
            frames = [asked.frame, msg.frame] if event in _REPLIES else [msg.frame]
            self._say(live, step, words(asked, msg), frames)
        if pending is not None and event is Input.ANSWER:
            self._observe_answer(live, pending, msg)

    def _acs_answer(self, live: _Live, msg: SessionMessage, resp_msg: SessionMessage | None) -> None:
        """The HTTP response read as the answer to the CPE's request ``msg``."""
        s = live.session
        if resp_msg is None:
            self._say(
                live,
                self._step(live, Input.NO_RESPONSE),
                f"ACS sent no HTTP response to {msg.kind}",
                [msg.frame],
            )
            return
        event = answer_input(msg.kind, resp_msg.kind, resp_msg.status, _names_fault(resp_msg))
        if event in (Input.ANSWER, Input.FAULT):
            self._check_id(s, msg, resp_msg)
        elif event is Input.REFUSAL:
            live.refused = True
        step = self._step(live, event)
        if event is Input.ANSWER and resp_msg.kind == "InformResponse":
            live.informed = True
        if step.code is not None:
            self._say(live, step, _answer_text(event, s, msg, resp_msg), [msg.frame, resp_msg.frame])

    def _check_acs_message(self, live: _Live, msg: SessionMessage, rec: CwmpMessage | None) -> None:
        self._decode_problems(live, msg, rec)
        event = acs_input(msg.kind, msg.status, bool(rec is not None and rec.header.hold_requests))
        self._say(live, self._step(live, event), "", [msg.frame])
        if event in (Input.ACS_REQUEST, Input.ACS_REQUEST_HELD):
            live.pending = msg
            if rec is not None and isinstance(rec.rpc, SetParameterValues):
                self._observe(live, rec, msg)

    def _step(self, live: _Live, event: Input) -> Step:
        """Move the session's machine; its pending ACS request lives as long as the phase says."""
        step = live.machine.step(event)
        if step.next not in KEEPS_PENDING:
            live.pending = None
        return step

    def _say(self, live: _Live, step: Step, text: str, frames: list[int]) -> Finding | None:
        """Flag the finding a step raised, in the caller's words (a pair missing from the
        table is worded here)."""
        if step.code is None:
            return None
        if not step.in_table:
            text = f"{step.input.value} was not expected in phase {step.phase.value}"
        f = self._finding(step.code, text, frames, live.session.id)
        live.session.findings.append(f)
        return f

    def _check_id(self, s: Session, request: SessionMessage, response: SessionMessage) -> None:
        if request.cwmp_id is not None and response.cwmp_id != request.cwmp_id:
            self._flag(
                s,
                "cwmp.id-mismatch",
                f"{response.kind} carries cwmp:ID {response.cwmp_id!r}, the {request.kind} it answers had "
                f"{request.cwmp_id!r}",
                [request.frame, response.frame],
            )

    def _decode_problems(self, live: _Live, msg: SessionMessage, rec: CwmpMessage | None) -> None:
        if rec is not None and rec.errors:
            self._flag(
                live.session,
                "cwmp.decode-error",
                f"{msg.kind} in frame {msg.frame}: {rec.errors[0][7:]}",
                [msg.frame],
            )

    def _end(self, live: _Live, reason: str) -> None:
        """The session ends: its pending request unanswered, cookies never returned, and how it
        ended (anything but the ACS's 204 is flagged)."""
        s = live.session
        settle, how = live.machine.end_inputs(reason, live.refused)
        if how is None:
            return  # already ended
        s.end_reason = reason
        if settle is not None:
            p = live.pending
            what = f"before the CPE answered {p.kind}" if p is not None else "with a CPE request unanswered"
            self._say(
                live,
                self._step(live, settle),
                f"session ended ({reason}) {what}",
                [p.frame] if p is not None else [],
            )
        for cookie in live.set_cookies.values():
            self._cookie_finding(live, cookie)
        live.set_cookies.clear()
        frames = [s.messages[-1].frame] if s.messages else []
        f = self._say(live, self._step(live, how), _END_TEXT.get(reason, reason), frames)
        if f is not None and how is Input.END_200_EMPTY:
            f.severity = "info"  # magma does this; a tolerated variant, not a violation

    def _finish(self, live: _Live) -> None:
        """Emit a session and forget its state."""
        s = live.session
        if self.live.pop(s.id, None) is None:
            return
        if self.by_conn.get(live.conn) is live:
            del self.by_conn[live.conn]
        for key in live.cookies:
            if self.by_cookie.get(key) is live:
                del self.by_cookie[key]
        if s.device_id is not None and self.by_device.get((s.device_id, s.server)) is live:
            del self.by_device[(s.device_id, s.server)]
        self.outbox.session(s)

    def _tick(self, now: float) -> None:
        if not self._sweep_due(now):
            return
        for live in list(self.live.values()):
            if live.closed_at is not None and self.now - live.closed_at > RECONNECT_GRACE:
                self._end(live, live.session.end_reason or "connection-closed")
                self._finish(live)
            elif self.now - live.last_time > SESSION_IDLE:
                self._end(live, "timeout")
                self._finish(live)
        keep = []
        for cr in self.pending_crs:
            if self.now - self._cr_last_time(cr) > CR_WINDOW:
                self._cr_without_session(cr)
            else:
                keep.append(cr)
        self.pending_crs = keep
        self.maybe_crs = [cr for cr in self.maybe_crs if self.now - cr.time <= CR_WINDOW]

    # -- devices and parameters --------------------------------------------------------------
    def _device(self, dev_id: str, identity: dict[str, str]) -> _DeviceState:
        state = self.devices.get(dev_id)
        if state is None:
            state = self.devices[dev_id] = _DeviceState(Device(id=dev_id, protocol="cwmp", identity=identity))
        return state

    def _learn_addresses(
        self,
        state: _DeviceState,
        params: ParameterValues,
        frame: int,
        time: float,
        sid: str,
        what: str,
    ) -> None:
        """Where connection requests reach the device, from an Inform or a GetParameterValuesResponse."""
        udp: str | None = None
        nat_detected: str | None = None
        for name, value in zip(params.names, params.values, strict=True):
            if name.endswith(_CR_URL_SUFFIX) and value:
                state.device.connection_request_url = value
                try:
                    u = urlsplit(value.strip())
                    port = u.port or (443 if u.scheme == "https" else 80)
                except ValueError:
                    continue
                # The URL may name the CPE by host name; then only port and path can match.
                host = u.hostname if u.hostname and _is_ip(u.hostname) else "*"
                self.cr_urls[(host, port, u.path or "/")] = state.device.id
            elif name.endswith(_UDP_CR_SUFFIX) and value and value.strip():
                udp = value.strip()
            elif name.endswith(_NAT_DETECTED_SUFFIX) and value:
                nat_detected = value.strip()
        if udp is None:
            return
        address = _norm_address(udp)
        state.device.udp_connection_request_address = udp
        self.udp_cr_addresses[address] = state.device.id
        for b in (self.stun_by_source.get(address), self.stun_by_mapped.get(address)):
            self._link_binding(state, b)
        last = state.udp_reports[-1] if state.udp_reports else None
        if last is None or last.address != address:  # changes only: a device repeats it every Inform
            note = what + (f", NATDetected={nat_detected}" if nat_detected is not None else "")
            state.udp_reports.append(_Report(address, udp, frame, time, sid, note))
            del state.udp_reports[:-MAX_NAT_PATHS]

    def _link_binding(self, state: _DeviceState, b: StunBinding | None) -> None:
        """A STUN binding found to be the device's (by the address it reported, or a request's path)."""
        if b is None or b in state.device.stun:
            return
        state.device.stun.append(b)
        if b in self.unlinked_stun:
            self.unlinked_stun.remove(b)

    def _observe(self, live: _Live, rec: CwmpMessage, msg: SessionMessage) -> None:
        s = live.session
        if s.device_id is None:
            return
        rpc = rec.rpc
        if not isinstance(rpc, Inform | GetParameterValuesResponse | SetParameterValues):
            return
        p = rpc.parameters
        kind, frame, time, sid = rec.kind, msg.frame, msg.time, s.id
        self.parameters.add(
            s.device_id,
            [(name, value, type_, kind, frame, time, sid)
             for name, value, type_ in zip(p.names, p.values, p.types, strict=True)],
        )

    def _observe_answer(self, live: _Live, request: SessionMessage, answer: SessionMessage) -> None:
        rec = answer.record
        if not isinstance(rec, CwmpMessage):
            return
        if isinstance(rec.rpc, GetParameterValuesResponse):
            self._observe(live, rec, answer)
            dev = live.session.device_id
            if dev is not None:
                self._learn_addresses(
                    self.devices[dev],
                    rec.rpc.parameters,
                    answer.frame,
                    answer.time,
                    live.session.id,
                    "GetParameterValuesResponse",
                )
        elif isinstance(rec.rpc, DownloadResponse) and rec.rpc.status == 1 and live.session.device_id:
            req = request.record
            if isinstance(req, CwmpMessage) and isinstance(req.rpc, Download):
                self.devices[live.session.device_id].downloads[req.rpc.command_key] = (
                    live.session.id,
                    request.frame,
                )

    def _check_transfer_complete(self, live: _Live, tc: TransferComplete, frame: int) -> None:
        s = live.session
        events = [e.strip().upper() for e in s.events]
        frames = [f for f in (live.inform_frame, frame) if f]
        if s.events and "7 TRANSFER COMPLETE" not in events:
            self._flag(
                s,
                "cwmp.transfer-complete-event-missing",
                f'the session\'s Inform has events {", ".join(s.events)} but not "7 TRANSFER COMPLETE", '
                f"yet the CPE sends TransferComplete ({tc.command_key!r})",
                frames,
            )
        state = self.devices.get(s.device_id) if s.device_id else None
        if state is not None and tc.command_key in state.downloads:
            state.downloads.pop(tc.command_key)
            if s.events and "M DOWNLOAD" not in events:
                self._flag(
                    s,
                    "cwmp.m-download-event-missing",
                    f'TransferComplete answers Download {tc.command_key!r} but the Inform lacks "M Download"',
                    frames,
                )

    # -- connection requests -------------------------------------------------------------------
    def _connection_request(self, tx: Transaction, req: HttpMessage) -> bool:
        """Record an HTTP GET to a CPE's ConnectionRequestURL; True if it was one."""
        if req.body_length:
            return False
        path = (req.uri or "/").split("?", 1)[0]
        if path.startswith(("http://", "https://")):
            path = urlsplit(path).path or "/"
        port_s = tx.server.rpartition(":")[2]
        port = int(port_s) if port_s.isdigit() else 0
        ip = _host(tx.server)
        dev = None
        for host in (ip, "*"):
            dev = self.cr_urls.get((host, port, path)) or self.cr_urls.get(
                (host, port, path.rstrip("/") or "/")
            )
            if dev is not None:
                break
        resp = tx.response
        cr = ConnectionRequest(
            kind="http",
            id=tx.id,
            frames=[req.frame] + ([resp.frame] if resp is not None else []),
            time=req.time,
            client=tx.client,
            target=f"http://{tx.server}{req.uri}",
            status=resp.status if resp is not None else None,
            device=dev,
            auth=list(req.auth or ()),
        )
        if dev is not None:
            self.devices[dev].device.connection_requests.append(cr.id)
            self.pending_crs.append(cr)
            return True
        # A CR is answered 200/204 with no body (or challenged), and goes to a CPE, not an ACS.
        answer_ok = (
            resp is None or resp.status in (401, 407) or (resp.status in (200, 204) and not resp.body_length)
        )
        if answer_ok and tx.server not in self.acs_endpoints:
            # Probably a CR to a device whose URL we have not seen: kept until a session shows it.
            self.maybe_crs.append(cr)
        return False

    def _udp_connection_request(self, dg: Datagram, rec: tr111.UdpConnectionRequest) -> None:
        for cr in reversed(self.pending_crs):
            if (
                cr.kind == "udp"
                and isinstance(cr.record, tr111.UdpConnectionRequest)
                and cr.record.uri == rec.uri
                and dg.time - cr.time <= UDP_CR_COPIES_WINDOW
            ):
                cr.copies += 1
                cr.frames.append(dg.frame)
                u = self.udp_crs.get(cr.id)
                if u is not None:
                    u.last_time = dg.time
                return
        target = format_endpoint(dg.dst, dg.dport)
        host = rec.host.strip("[]") if rec.host else ""
        uri_address = (
            _norm_address(format_endpoint(host, rec.port) if rec.port is not None else host) if host else None
        )
        # Its STUN binding: the one from the address it went to, else (captured inside the NAT, or
        # the request line naming the public address) the one mapped to the address it names.
        binding = self.stun_by_source.get(target)
        if binding is None and uri_address is not None:
            binding = self.stun_by_mapped.get(uri_address)
        if binding is None:
            binding = self.stun_by_mapped.get(target)
        dev = (
            self.udp_cr_addresses.get(target)
            or (self.udp_cr_addresses.get(uri_address) if uri_address else None)
            or (
                self.udp_cr_addresses.get(binding.mapped_address)
                if binding is not None and binding.mapped_address
                else None
            )
            or self.device_by_ip.get(dg.dst)
        )
        cr = ConnectionRequest(
            kind="udp",
            id=dg.id,
            frames=[dg.frame],
            time=dg.time,
            client=format_endpoint(dg.src, dg.sport),
            target=rec.uri,
            record=rec,
            stun_binding=binding.datagram if binding is not None else None,
            device=dev,
            auth=list(dg.auth or ()),
        )
        u = _UdpCr(cr, target, uri_address, dg.time, binding)
        self.udp_crs[cr.id] = u
        if dev is not None:
            self._device_udp_cr(self.devices[dev], u)
        self.pending_crs.append(cr)

    def _device_udp_cr(self, state: _DeviceState, u: _UdpCr) -> None:
        state.device.connection_requests.append(u.cr.id)
        state.udp_crs.append(u)
        del state.udp_crs[:-MAX_NAT_PATHS]
        self._link_binding(state, u.binding)

    def _cr_last_time(self, cr: ConnectionRequest) -> float:
        """When the CPE could last have heard it: a UDP request's last copy, else when it was sent."""
        u = self.udp_crs.get(cr.id) if cr.kind == "udp" else None
        return u.last_time if u is not None else cr.time

    def _link_connection_requests(self, live: _Live, cpe_ip: str, frame: int) -> None:
        """Tie the CRs sent to this device just before its "6 CONNECTION REQUEST" session to it."""
        s = live.session
        linked = []
        for pool in (self.pending_crs, self.maybe_crs):
            for cr in pool:
                if s.start - self._cr_last_time(cr) > CR_WINDOW or cr.time > s.start:
                    continue
                # "http://ip:port/path" or, for UDP, "http://ip:port?ts=..."
                target_ips = {_host(cr.target.split("//", 1)[-1].split("/", 1)[0].split("?", 1)[0])}
                u = self.udp_crs.get(cr.id) if cr.kind == "udp" else None
                if u is not None:
                    target_ips.add(_host(u.dst))
                if cr.device == s.device_id or (cr.device is None and cpe_ip in target_ips):
                    linked.append(cr)
        for cr in linked:
            for pool in (self.pending_crs, self.maybe_crs):
                if cr in pool:
                    pool.remove(cr)
            cr.session = s.id
            u = self.udp_crs.pop(cr.id, None) if cr.kind == "udp" else None
            if u is not None:
                u.session_frame, u.session_time = frame, s.start
            if cr.device is None and s.device_id is not None:
                cr.device = s.device_id
                if u is not None:
                    self._device_udp_cr(self.devices[s.device_id], u)
                else:
                    self.devices[s.device_id].device.connection_requests.append(cr.id)
            if u is not None:
                self._udp_resolved(u)
            s.connection_requests.append(cr)

    def _cr_without_session(self, cr: ConnectionRequest) -> None:
        u = self.udp_crs.pop(cr.id, None) if cr.kind == "udp" else None
        if u is not None:
            self._udp_resolved(u)
        if cr.kind == "http":
            what = f", answered {cr.status}" if cr.status is not None else ", unanswered"
            since = ""
        elif cr.copies > 1:
            what = f" (sent {cr.copies} times, the last in frame {cr.frames[-1]})"
            since = " of its last copy"
        else:
            what, since = "", ""
        to = f" ({u.dst})" if u is not None and u.uri_address != u.dst else ""
        frames = cr.frames if len(cr.frames) <= 10 else [*cr.frames[:9], cr.frames[-1]]
        self.outbox.finding(
            self._finding(
                "cwmp.connection-request-without-session",
                f"{cr.kind.upper()} connection request to {cr.target}{to}{what} was not followed by a "
                f'"6 CONNECTION REQUEST" session within {CR_WINDOW:.0f} s{since}',
                frames,
                None,
            )
        )

    # -- the NAT path (TR-069 Annex G) -----------------------------------------------------------
    def _udp_resolved(self, u: _UdpCr) -> None:
        """A UDP request answered by a session, or given up on: is it where its device said?

        Only a device that had reported an address by then is held to it (with nothing reported,
        the capture may have begun after the report); a request matching none of its reports is
        judged at the capture's end, against every report the capture holds.
        """
        dev = u.cr.device
        state = self.devices.get(dev) if dev is not None else None
        if state is not None and state.udp_reports and _report_for(state, u) is None:
            self.udp_suspects.append(u)

    def _check_udp_target(self, u: _UdpCr) -> None:
        """A UDP connection request to an address its device never reported (in the capture)."""
        dev = u.cr.device
        state = self.devices.get(dev) if dev is not None else None
        if state is None or _report_for(state, u) is not None:
            return
        reported = ", ".join(f"{r.value} (frame {r.frame})" for r in state.udp_reports[-3:])
        frames = u.cr.frames if len(u.cr.frames) <= 9 else [*u.cr.frames[:8], u.cr.frames[-1]]
        self._emit_finding(
            "cwmp.udp-connection-request-unreported-address",
            f"ACS sent a UDP connection request to {u.dst}"
            + (f" (request line: {u.uri_address})" if u.uri_address not in (None, u.dst) else "")
            + f", an address {dev} never reported; its UDPConnectionRequestAddress: {reported}",
            [*frames, state.udp_reports[-1].frame],
            u.cr.session,
        )

    def _nat_paths(self, state: _DeviceState) -> list[NatPath]:
        """The device's NAT paths: one per UDP connection request, then, when no request went to
        the address it reported last, that one as far as it got."""
        paths = []
        reached: set[str] = set()
        for u in state.udp_crs:
            report = _report_for(state, u)
            if report is not None:
                reached.add(report.address)
            paths.append(_nat_path(u.dst, u.binding, report, u))
        last = state.udp_reports[-1] if state.udp_reports else None
        if last is not None and last.address not in reached:
            binding = self.stun_by_source.get(last.address) or self.stun_by_mapped.get(last.address)
            paths.append(_nat_path(last.address, binding, last, None))
        return paths[-MAX_NAT_PATHS:]

    # -- findings ------------------------------------------------------------------------------


def _report_for(state: _DeviceState, u: _UdpCr) -> _Report | None:
    """The device's report of the address a UDP request went to: the last before it, else the
    first after it (the capture may hold the report only later, repeated in an Inform)."""
    where = u.addresses()
    matching = [r for r in state.udp_reports if any(_same_address(r.address, a) for a in where)]
    before = [r for r in matching if r.time <= u.cr.time]
    return before[-1] if before else (matching[0] if matching else None)


def _nat_path(address: str, b: StunBinding | None, report: _Report | None, u: _UdpCr | None) -> NatPath:
    steps: list[NatStep] = []
    if b is not None:
        flags = [f"USERNAME {b.username!r}"] if b.username else []
        flags += ["CONNECTION-REQUEST-BINDING"] * b.connection_request_binding
        flags += ["BINDING-CHANGE"] * b.binding_change
        note = ", ".join(flags) or None
        steps.append(NatStep("stun-request", b.source, [b.frame], b.time, b.datagram, note))
        if b.response is not None and b.response_frame is not None:
            note = None
            if b.mapped_address is not None and b.mapped_address != b.source:
                note = f"the NAT maps {b.source} to it"
            frames = [b.response_frame]
            steps.append(NatStep("stun-response", b.mapped_address, frames, None, b.response, note))
    if report is not None:
        note = report.note + (" (after the request)" if u is not None and report.time > u.cr.time else "")
        steps.append(NatStep("reported", report.value, [report.frame], report.time, report.session, note))
    if u is not None:
        cr = u.cr
        frames = cr.frames if len(cr.frames) <= 10 else [*cr.frames[:9], cr.frames[-1]]
        note = f"{cr.copies} copies" if cr.copies > 1 else None
        if u.uri_address is not None and not _same_address(u.uri_address, u.dst):
            note = ", ".join(x for x in (note, f"request line names {u.uri_address}") if x)
        steps.append(NatStep("udp-connection-request", u.dst, frames, cr.time, cr.id, note))
        if cr.session is not None and u.session_frame is not None:
            steps.append(
                NatStep(
                    "session", None, [u.session_frame], u.session_time, cr.session, "6 CONNECTION REQUEST"
                )
            )
    kinds = {st.kind for st in steps}
    missing = [k for k in NAT_STEPS if k not in kinds]
    return NatPath(address, steps, missing, not missing)


def _unquote(value: str) -> str:
    v = value.strip()
    return v[1:-1] if len(v) >= 2 and v[0] == v[-1] == '"' else v


def _request_cookies(req: HttpMessage) -> dict[str, list[str]]:
    """The cookies a request sends: name -> values (as :meth:`CwmpSessions._by_cookie` splits them)."""
    out: dict[str, list[str]] = {}
    for name, value in req.headers:
        if name.lower() != "cookie":
            continue
        for token in value.replace(",", ";").split(";"):
            k, eq, v = token.partition("=")
            if eq and k.strip():
                out.setdefault(k.strip(), []).append(_unquote(v))
    return out


def _request_path(uri: str | None) -> str:
    path = (uri or "/").split("?", 1)[0]
    if path.startswith(("http://", "https://")):
        path = urlsplit(path).path
    return path or "/"


def _default_path(uri: str | None) -> str:
    """RFC 6265 §5.1.4: a cookie without Path is for the request path's directory."""
    path = _request_path(uri)
    if not path.startswith("/") or path.count("/") == 1:
        return "/"
    return path[: path.rindex("/")]


def _path_match(path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4 path-match."""
    if path == cookie_path:
        return True
    return path.startswith(cookie_path) and (cookie_path.endswith("/") or path[len(cookie_path)] == "/")


def _cookie_removed(attrs: dict[str, str], now: float) -> bool:
    """Set-Cookie with Max-Age ≤ 0 or an Expires in the past deletes the cookie (RFC 6265 §5.3)."""
    max_age = attrs.get("max-age")
    if max_age is not None and max_age.lstrip("-").isdigit():
        return int(max_age) <= 0
    expires = attrs.get("expires")
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp() < now
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
    return False


def _names_fault(msg: SessionMessage) -> bool:
    """A Fault with a readable CWMP fault code (one without is taken as a plain answer)."""
    return isinstance(msg.record, CwmpMessage) and msg.record.fault is not None


def _fault_text(request: SessionMessage, fault: SessionMessage, who: str = "CPE") -> str:
    rec = fault.record
    f = rec.fault if isinstance(rec, CwmpMessage) else None
    if f is None:
        return f"{who} answered {request.kind} with a fault"
    text = f"{who} answered {request.kind} with fault {f.code} ({f.meaning})"
    if f.string and f.string.strip().lower() != f.meaning.lower():
        text += f": {f.string}"
    if f.parameter_faults:
        text += "; " + ", ".join(f"{p.name} {p.code}" for p in f.parameter_faults[:5])
    return text


def _answer_text(event: Input, s: Session, request: SessionMessage, answer: SessionMessage) -> str:
    """The words of the finding the ACS's answer to a CPE request raises."""
    if event is Input.FAULT:
        return _fault_text(request, answer, "ACS")
    if event is Input.REFUSAL:
        d = s.device or {}
        return (
            f"ACS refused the Inform of {s.device_id} (Manufacturer {d.get('manufacturer')!r}, "
            f"OUI {d.get('oui')}, ProductClass {d.get('product_class')!r}, SerialNumber "
            f"{d.get('serial')!r}) with {answer.http}"
        )
    return f"ACS answered {request.kind} with {answer.kind} ({answer.http})"


_HOLD_TEXT = "CPE sent {m.kind} although the ACS's last message had HoldRequests=true"
# The words of the findings the CPE's message raises: (the pending ACS request, or the message
# itself when none is pending; the message) -> text.
_CPE_TEXTS: dict[Input, Callable[[SessionMessage, SessionMessage], str]] = {
    Input.WRONG_ANSWER: lambda p, m: f"CPE answered {p.kind} with {m.kind}",
    Input.NOT_ANSWERED: lambda p, m: (
        f"CPE did not answer {p.kind} (cwmp:ID {p.cwmp_id}); its next POST is {m.kind}"
    ),
    Input.STRAY_RESPONSE: lambda p, m: f"CPE sent {m.kind} but no ACS request is outstanding",
    Input.INFORM: lambda p, m: _HOLD_TEXT.format(m=m),
    Input.REQUEST: lambda p, m: _HOLD_TEXT.format(m=m),
}
_REPLIES = (Input.FAULT, Input.WRONG_ANSWER, Input.NOT_ANSWERED)  # name the request and the reply


def _no_text(p: SessionMessage, m: SessionMessage) -> str:
    return ""  # only a pair missing from the table flags here; Machine words it


def _cwmp(msg: HttpMessage | None) -> CwmpMessage | None:
    if msg is None:
        return None
    rec = msg.protocol
    return rec if isinstance(rec, CwmpMessage) else None


def _message(
    msg: HttpMessage, direction: Direction, tx: Transaction, rec: CwmpMessage | None
) -> SessionMessage:
    if rec is not None:
        kind = rec.kind
    elif msg.body_length == 0:
        kind = "empty"
    else:
        kind = "http"
    http = f"{msg.method} {msg.uri}" if msg.method is not None else f"{msg.status} {msg.reason}".rstrip()
    return SessionMessage(
        frame=msg.frame,
        time=msg.time,
        direction=direction,
        kind=kind,
        transaction=tx.id,
        http=http,
        status=msg.status,
        body_length=msg.body_length,
        cwmp_id=rec.header.id if rec is not None else None,
        record=rec,
        auth=list(msg.auth or ()),
    )
