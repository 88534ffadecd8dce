"""Drive a session builder with hand-made transactions, as mitmproxy's playbooks drive a layer.

Building transactions directly (rather than packets) keeps each rule test to the few
messages it is about, and runs in microseconds.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dmsniff.model import ConnectionEnd, Datagram, HttpMessage, Transaction
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.protocols import parse_bodies, parse_datagram
from dmsniff.sessions import CwmpSessions
from dmsniff.sessions.model import Device, Finding, Session

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CWMP = "urn:dslforum-org:cwmp-1-0"


def envelope(body: str, cwmp_id: str | None = "1", header_extra: str = "") -> bytes:
    header = ""
    if cwmp_id is not None or header_extra:
        id_el = f'<cwmp:ID soap:mustUnderstand="1">{cwmp_id}</cwmp:ID>' if cwmp_id is not None else ""
        header = f"<soap:Header>{id_el}{header_extra}</soap:Header>"
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}" xmlns:cwmp="{CWMP}" '
        f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">{header}<soap:Body>{body}</soap:Body>'
        "</soap:Envelope>"
    ).encode()


def inform(
    events: tuple[str, ...] = ("1 BOOT",),
    cwmp_id: str = "1",
    serial: str = "SN1",
    params: tuple[tuple[str, str], ...] = (),
    command_keys: dict[str, str] | None = None,
) -> bytes:
    keys = command_keys or {}
    ev = "".join(
        f"<EventStruct><EventCode>{e}</EventCode><CommandKey>{keys.get(e, '')}</CommandKey></EventStruct>"
        for e in events
    )
    pl = "".join(
        f'<ParameterValueStruct><Name>{n}</Name><Value xsi:type="xsd:string">{v}</Value>'
        "</ParameterValueStruct>"
        for n, v in params
    )
    return envelope(
        f"<cwmp:Inform><DeviceId><Manufacturer>Acme</Manufacturer><OUI>00AA11</OUI>"
        f"<ProductClass>Box</ProductClass><SerialNumber>{serial}</SerialNumber></DeviceId>"
        f"<Event>{ev}</Event><MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>"
        f"<RetryCount>0</RetryCount><ParameterList>{pl}</ParameterList></cwmp:Inform>",
        cwmp_id,
    )


def rpc(name: str, cwmp_id: str = "1", inner: str = "", header_extra: str = "") -> bytes:
    return envelope(f"<cwmp:{name}>{inner}</cwmp:{name}>", cwmp_id, header_extra)


def fault(code: int, cwmp_id: str = "1") -> bytes:
    return envelope(
        "<soap:Fault><faultcode>Client</faultcode><faultstring>CWMP fault</faultstring><detail>"
        f"<cwmp:Fault><FaultCode>{code}</FaultCode><FaultString>nope</FaultString></cwmp:Fault>"
        "</detail></soap:Fault>",
        cwmp_id,
    )


def gpv_response(params: tuple[tuple[str, str], ...], cwmp_id: str = "a1") -> bytes:
    pl = "".join(
        f'<ParameterValueStruct><Name>{n}</Name><Value xsi:type="xsd:string">{v}</Value>'
        "</ParameterValueStruct>"
        for n, v in params
    )
    return rpc("GetParameterValuesResponse", cwmp_id, f"<ParameterList>{pl}</ParameterList>")


# -- TR-069 Annex G: STUN (classic, RFC 3489) and the UDP connection request -----------------------

TR111_BINDING = b"dslforum.org/TR-111 "  # CONNECTION-REQUEST-BINDING's value (20 bytes)
MAGIC = 0x2112A442  # RFC 5389


def _stun_attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_request(
    txid: bytes = bytes(range(16)), username: bytes = b"stunuser", binding_change: bool = False
) -> bytes:
    """A TR-111 Binding Request: CONNECTION-REQUEST-BINDING, USERNAME (and BINDING-CHANGE); classic
    STUN for a 16-byte transaction id, RFC 5389 (with the magic cookie) for a 12-byte one."""
    attrs = _stun_attr(0xC001, TR111_BINDING) + _stun_attr(0x0006, username)
    if binding_change:
        attrs += _stun_attr(0xC002, b"")
    cookie = struct.pack("!I", MAGIC) if len(txid) == 12 else b""  # RFC 5389 (12-byte id) or classic
    return struct.pack("!HH", 0x0001, len(attrs)) + cookie + txid + attrs


def stun_response(ip: str, port: int, txid: bytes = bytes(range(16))) -> bytes:
    """The Binding Response: MAPPED-ADDRESS (classic STUN, a 16-byte transaction id) or, for a
    12-byte id (RFC 5389, after the magic cookie), XOR-MAPPED-ADDRESS."""
    addr = socket.inet_aton(ip)
    if len(txid) == 12:
        xport = port ^ (MAGIC >> 16)
        xaddr = bytes(a ^ b for a, b in zip(addr, struct.pack("!I", MAGIC), strict=True))
        attrs = _stun_attr(0x0020, struct.pack("!BBH4s", 0, 1, xport, xaddr))
        return struct.pack("!HHI", 0x0101, len(attrs), MAGIC) + txid + attrs
    attrs = _stun_attr(0x0001, struct.pack("!BBH4s", 0, 1, port, addr))
    return struct.pack("!HH", 0x0101, len(attrs)) + txid + attrs


def udp_cr(where: str, ident: str = "1") -> bytes:
    """A TR-069 Annex G UDP connection request naming ``where`` (host:port) in its request line."""
    return (
        f"GET http://{where}?ts=1700000000&id={ident}&un=cruser&cn=abc&sig={'0' * 40} HTTP/1.1\r\n"
        f"Host: {where}\r\n\r\n"
    ).encode()


@dataclass
class Collector(Addon):
    sessions: list[Session] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    devices: list[Device] = field(default_factory=list)

    def session(self, session: Session) -> None:
        self.sessions.append(session)

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def device(self, device: Device) -> None:
        self.devices.append(device)


class Playbook:
    """Feeds transactions to a session builder (a :class:`CwmpSessions` unless told) and collects
    what it emits."""

    def __init__(self, builder: Addon | None = None, out: Collector | None = None,
                 more: Sequence[Addon] = ()) -> None:
        self.builder: Any = builder if builder is not None else CwmpSessions()
        self.out = out if out is not None else Collector()
        # The pipeline takes over the builder's outbox: what it makes reaches the collector (and
        # ``more``) as it is made.
        self.pipeline = Pipeline([self.builder, self.out, *more])
        self.builder.capture_start(0, None)
        self.frame = 0
        self.time = 1000.0
        self.counts: dict[str, int] = {}

    def _msg(self, **kw: object) -> HttpMessage:
        self.frame += 1
        self.time += 0.01
        body = kw.pop("body", b"")
        assert isinstance(body, bytes)
        return HttpMessage(
            frame=self.frame,
            frames=[self.frame],
            time=self.time,
            first_time=self.time,
            version="HTTP/1.1",
            body=body,
            body_length=len(body),
            **kw,
        )  # type: ignore[arg-type]

    def post(
        self,
        body: bytes = b"",
        status: int = 200,
        answer: bytes = b"",
        conn: str = "C1",
        cookie: str | None = None,
        set_cookie: str | None = None,
        client: str = "10.0.0.2:40000",
        server: str = "10.0.0.1:7547",
        method: str = "POST",
        uri: str = "/acs",
        no_response: bool = False,
        advance: float = 0.0,
        content_type: str = "text/xml",
        headers: list[tuple[str, str]] | None = None,
        answer_headers: list[tuple[str, str]] | None = None,
    ) -> Transaction:
        self.time += advance
        req_headers = [("Host", "acs")]
        if body:
            req_headers.append(("Content-Type", content_type))
        req_headers.extend(headers or ())
        if cookie:
            req_headers.append(("Cookie", cookie))
        req = self._msg(method=method, uri=uri, headers=req_headers, body=body)
        resp = None
        if not no_response:
            resp_headers = [("Content-Length", str(len(answer)))]
            if answer and content_type != "text/xml":
                resp_headers.append(("Content-Type", content_type))
            resp_headers.extend(answer_headers or ())
            if set_cookie:
                resp_headers.append(("Set-Cookie", set_cookie))
            if status == 401:
                resp_headers.append(("WWW-Authenticate", 'Digest realm="acs", nonce="n1", qop="auth"'))
            reasons = {200: "OK", 204: "No Content", 401: "Unauthorized", 403: "Forbidden"}
            resp = self._msg(
                status=status, reason=reasons.get(status, "X"), headers=resp_headers, body=answer
            )
        n = self.counts[conn] = self.counts.get(conn, 0) + 1
        tx = Transaction(
            id=f"{conn}.{n}",
            capture=0,
            connection=conn,
            client=client,
            server=server,
            request=req,
            response=resp,
        )
        parse_bodies(tx)
        self.builder.transaction(tx)
        return tx

    def close(self, conn: str = "C1", advance: float = 0.0) -> None:
        self.time += advance
        self.builder.connection_end(ConnectionEnd(0, conn, self.time, False))

    def datagram(
        self, payload: bytes, src: str, sport: int, dst: str, dport: int, advance: float = 0.0
    ) -> Datagram:
        self.time += advance
        self.frame += 1
        self.time += 0.01
        dg = Datagram(
            f"U{self.frame}",
            0,
            self.frame,
            self.time,
            src,
            sport,
            dst,
            dport,
            payload,
            parse_datagram(payload, sport, dport),
        )
        self.builder.datagram(dg)
        return dg

    def end_capture(self, index: int = 0) -> None:
        """The capture ``index`` ends (its open sessions end with it)."""
        from dmsniff.capture import CaptureInfo
        from dmsniff.pipeline import CaptureSummary

        info = CaptureInfo(
            path="-",
            format="pcap",
            compressed=False,
            packets=0,
            link_types=[],
            first_time=None,
            last_time=None,
            errors=[],
        )
        self.builder.capture_end(CaptureSummary(index, info))

    def end(self) -> Collector:
        self.end_capture()
        self.builder.done()
        return self.out


def codes(out: Collector) -> list[str]:
    """Every finding code, sessions' and global, in order."""
    return [f.code for s in out.sessions for f in s.findings] + [f.code for f in out.findings]
