"""Record captures/cwmp_loopback.pcap: real curl (the CPE) talking CWMP to a toy ACS on loopback.

The ACS is a ``http.server`` (HTTP/1.1 keep-alive) that keeps, per session cookie, a queue
of RPCs to send; the CPE is curl, one invocation per CWMP session with ``--next`` between
the POSTs so that each session is one keep-alive TCP connection, and a cookie jar that
carries the session cookie.  tcpdump records it all on ``lo``.  The capture holds:

1. session 1: Inform (1 BOOT, 4 VALUE CHANGE), empty POST, GetParameterValues,
   SetParameterValues and Download (dl-42) from the ACS, then 204;
2. the firmware download, ``GET /fw.bin`` (16 bytes);
3. a TCP connection request, ``GET /cr`` to the CPE;
4. session 2: Inform (6 CONNECTION REQUEST, 7 TRANSFER COMPLETE, M Download), TransferComplete,
   empty POST, Reboot answered by a CWMP fault 9001, then 204;
5. TR-111: a classic STUN (RFC 3489) Binding Request with CONNECTION-REQUEST-BINDING and its
   Binding Response, then a UDP connection request sent three times;
6. session 3: Inform (6 CONNECTION REQUEST), empty POST, GetParameterValues, then 204.

All ports are free ports picked at run time, so runs do not clash.  Run as root (tcpdump)::

    python captures/record_cwmp.py [OUT.pcap]

``record(out_path)`` does the same from Python.  Re-running gives the same exchanges with new
ports, cookies, sequence numbers and times.
"""

from __future__ import annotations

import hashlib
import hmac
import http.server
import os
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP_ENC = "http://schemas.xmlsoap.org/soap/encoding/"
CWMP = "urn:dslforum-org:cwmp-1-0"
IGD = "InternetGatewayDevice."
FIRMWARE = b"EXAMPLE-FW-1.1.0"  # 16 bytes
STUN_USERNAME = b"SN0042-U"  # 8 bytes: RFC 3489 wants attribute lengths in multiples of 4
CR_BINDING = b"dslforum.org/TR-111 "  # TR-111 CONNECTION-REQUEST-BINDING value, 20 bytes
CR_USER, CR_PASS = "cruser", b"crpass"
SOAP_CT = 'text/xml; charset="utf-8"'
TIMEOUT = 10.0  # seconds, for any one step

# --- SOAP bodies --------------------------------------------------------------------------------


def envelope(cwmp_id: str, body: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<SOAP-ENV:Envelope xmlns:SOAP-ENV="{SOAP_ENV}" xmlns:SOAP-ENC="{SOAP_ENC}"'
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
        f' xmlns:cwmp="{CWMP}">\n'
        f'<SOAP-ENV:Header>\n <cwmp:ID SOAP-ENV:mustUnderstand="1">{cwmp_id}</cwmp:ID>\n</SOAP-ENV:Header>\n'
        f"<SOAP-ENV:Body>\n{body}</SOAP-ENV:Body>\n</SOAP-ENV:Envelope>\n"
    ).encode()


def _values(tag: str, params: list[tuple[str, str, str]]) -> str:
    rows = "".join(f'  <ParameterValueStruct><Name>{n}</Name><Value xsi:type="xsd:{t}">{v}</Value>'
                   "</ParameterValueStruct>\n" for n, t, v in params)
    return f' <{tag} SOAP-ENC:arrayType="cwmp:ParameterValueStruct[{len(params)}]">\n{rows} </{tag}>\n'


def _names(names: list[str]) -> str:
    rows = "".join(f"  <string>{n}</string>\n" for n in names)
    return f' <ParameterNames SOAP-ENC:arrayType="xsd:string[{len(names)}]">\n{rows} </ParameterNames>\n'


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def inform(cwmp_id: str, events: list[tuple[str, str]], params: list[tuple[str, str, str]]) -> bytes:
    evs = "".join(f"  <EventStruct><EventCode>{code}</EventCode><CommandKey>{key}</CommandKey>"
                  "</EventStruct>\n" for code, key in events)
    return envelope(cwmp_id, (
        "<cwmp:Inform>\n"
        " <DeviceId><Manufacturer>Example Networks</Manufacturer><OUI>00D09E</OUI>"
        "<ProductClass>HGW</ProductClass><SerialNumber>SN0042</SerialNumber></DeviceId>\n"
        f' <Event SOAP-ENC:arrayType="cwmp:EventStruct[{len(events)}]">\n{evs} </Event>\n'
        f" <MaxEnvelopes>1</MaxEnvelopes>\n <CurrentTime>{_now()}</CurrentTime>\n"
        " <RetryCount>0</RetryCount>\n"
        f"{_values('ParameterList', params)}</cwmp:Inform>\n"
    ))


def inform_params(cr_url: str, version: str, key: str) -> list[tuple[str, str, str]]:
    return [(IGD + "DeviceInfo.HardwareVersion", "string", "HW-2"),
            (IGD + "DeviceInfo.SoftwareVersion", "string", version),
            (IGD + "ManagementServer.ConnectionRequestURL", "string", cr_url),
            (IGD + "ManagementServer.ParameterKey", "string", key)]


def rpc(cwmp_id: str, name: str, inner: str = "") -> bytes:
    return envelope(cwmp_id, f"<cwmp:{name}>\n{inner}</cwmp:{name}>\n" if inner else f"<cwmp:{name}/>\n")


def cwmp_fault(cwmp_id: str, code: int, text: str) -> bytes:
    return envelope(cwmp_id, (
        "<SOAP-ENV:Fault>\n <faultcode>Client</faultcode>\n <faultstring>CWMP fault</faultstring>\n"
        f" <detail><cwmp:Fault><FaultCode>{code}</FaultCode><FaultString>{text}</FaultString></cwmp:Fault>"
        "</detail>\n</SOAP-ENV:Fault>\n"
    ))


# --- the ACS ------------------------------------------------------------------------------------


@dataclass
class Session:
    queue: deque[tuple[str, str, bytes]]  # (cwmp:ID, RPC name, envelope) still to send
    client: tuple[str, int]  # the TCP connection the session runs on
    outstanding: tuple[str, str] | None = None  # (cwmp:ID, RPC name) awaiting the CPE's answer
    done: bool = False


@dataclass
class Acs:
    scripts: deque[list[tuple[str, str, bytes]]]  # one RPC queue per Inform, in order
    sessions: dict[str, Session] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    pinned: bool = True  # a session must stay on its TCP connection (not so behind a reverse proxy)


def parse(body: bytes) -> tuple[str, str]:
    """(cwmp:ID, the Body's first element's local name, or "Fault") of a SOAP envelope."""
    root = ET.fromstring(body)
    ident = root.findtext(f"{{{SOAP_ENV}}}Header/{{{CWMP}}}ID", default="")
    first = root.find(f"{{{SOAP_ENV}}}Body/*")
    if first is None:
        raise ValueError("empty SOAP Body")
    return ident, first.tag.rsplit("}", 1)[-1]


def acs_handler(acs: Acs) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        timeout = TIMEOUT

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def _send(self, status: int, body: bytes = b"", extra: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            if status != 204:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _fail(self, why: str) -> None:
            acs.errors.append(f"ACS: {self.command} {self.path}: {why}")
            self._send(400, b"", {"Connection": "close"})
            self.close_connection = True

        def _session(self) -> Session | None:
            jar = SimpleCookie(self.headers.get("Cookie", ""))
            morsel = jar.get("session")
            sess = acs.sessions.get(morsel.value) if morsel else None
            if sess is None or sess.done:
                self._fail(f"no live session for Cookie {self.headers.get('Cookie')!r}")
                return None
            if acs.pinned and sess.client != self.client_address:
                self._fail(f"session moved from {sess.client} to {self.client_address}")
                return None
            return sess

        def _next(self, sess: Session) -> None:
            if not sess.queue:
                sess.done = True
                self._send(204)
                return
            ident, name, env = sess.queue.popleft()
            sess.outstanding = (ident, name)
            self._send(200, env, {"Content-Type": SOAP_CT})

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with acs.lock:
                if not body:  # empty POST: the CPE has nothing more to ask
                    if (sess := self._session()) is not None:
                        if sess.outstanding is not None:
                            self._fail(f"empty POST while {sess.outstanding} is unanswered")
                        else:
                            self._next(sess)
                    return
                try:
                    ident, name = parse(body)
                except (ET.ParseError, ValueError) as exc:
                    self._fail(f"bad SOAP: {exc}")
                    return
                if name == "Inform":
                    if not acs.scripts:
                        self._fail("an Inform nobody expected")
                        return
                    cookie = secrets.token_hex(8)
                    acs.sessions[cookie] = Session(deque(acs.scripts.popleft()), self.client_address)
                    self._send(200, rpc(ident, "InformResponse", " <MaxEnvelopes>1</MaxEnvelopes>\n"),
                               {"Content-Type": SOAP_CT, "Set-Cookie": f"session={cookie}; Path=/"})
                    return
                if (sess := self._session()) is None:
                    return
                if name == "TransferComplete":
                    self._send(200, rpc(ident, "TransferCompleteResponse"), {"Content-Type": SOAP_CT})
                elif name.endswith("Response") or name == "Fault":
                    want = sess.outstanding
                    if want is None or ident != want[0] or name not in (want[1] + "Response", "Fault"):
                        self._fail(f"{name} {ident!r} does not answer {want}")
                        return
                    sess.outstanding = None
                    self._next(sess)
                else:
                    self._fail(f"unexpected CPE request {name}")

        def do_GET(self) -> None:
            if self.path == "/fw.bin":
                self._send(200, FIRMWARE, {"Content-Type": "application/octet-stream"})
            else:
                self._fail("not found")

    return Handler


def cr_handler(hits: list[str]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        """The CPE's connection-request listener."""

        protocol_version = "HTTP/1.1"
        timeout = TIMEOUT

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(200 if self.path == "/cr" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    return Handler


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> http.server.ThreadingHTTPServer:
    srv = http.server.ThreadingHTTPServer((HOST, 0), handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
    return srv


# --- the CPE: curl ------------------------------------------------------------------------------


def post_args(jar: Path, post: Path | None) -> list[str]:
    """curl's options for one CWMP POST of the file post (None: an empty POST), cookies in jar."""
    args = ["-b", str(jar), "-c", str(jar), "-H", "Expect:"]
    if post is None:  # Content-Length: 0, no Content-Type, no SOAPAction
        return [*args, "-H", "Content-Type:", "--data-binary", ""]
    # "SOAPAction;" sends the header with an empty value, as TR-069 3.4.1 asks
    return [*args, "-H", f"Content-Type: {SOAP_CT}", "-H", "SOAPAction;", "--data-binary", f"@{post}"]


def curl_session(url: str, jar: Path, posts: list[Path | None], expect: list[int]) -> None:
    """One curl run, one keep-alive connection: a POST per file (None: an empty POST)."""
    args = ["curl"]
    for i, post in enumerate(posts):
        if i:
            args.append("--next")
        args += ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", "--max-time", "5",
                 "--connect-timeout", "2", *post_args(jar, post), url]
    got = run_curl(args)
    codes = [int(line.split()[0]) for line in got]
    connects = sum(int(line.split()[1]) for line in got)
    if codes != expect or connects != 1:
        raise RuntimeError(f"curl session: HTTP {codes} over {connects} connections, wanted {expect} over 1")


def run_curl(args: list[str]) -> list[str]:
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"curl timed out: {args}") from exc
    if done.returncode:
        raise RuntimeError(f"curl failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout.splitlines()


def get(url: str, expect: int) -> None:
    got = run_curl(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}\\n", "--max-time", "5",
                    "--connect-timeout", "2", url])
    if got != [str(expect)]:
        raise RuntimeError(f"GET {url}: {got}, wanted {expect}")


# --- TR-111: STUN and the UDP connection request ------------------------------------------------


def stun_attr(kind: int, value: bytes) -> bytes:
    return struct.pack("!HH", kind, len(value)) + value + b"\0" * (-len(value) % 4)


def stun_attrs(msg: bytes) -> dict[int, bytes]:
    out, off = {}, 20
    while off + 4 <= len(msg):
        kind, size = struct.unpack_from("!HH", msg, off)
        out[kind] = msg[off + 4:off + 4 + size]
        off += 4 + size + (-size % 4)
    return out


def udp_connection_request(cpe: socket.socket, stun: socket.socket) -> None:
    cpe_addr, stun_addr = cpe.getsockname(), stun.getsockname()
    # The CPE's Binding Request, from its UDP connection-request port.
    txid = os.urandom(16)
    attrs = stun_attr(0xC001, CR_BINDING) + stun_attr(0x0006, STUN_USERNAME)
    cpe.sendto(struct.pack("!HH", 0x0001, len(attrs)) + txid + attrs, stun_addr)
    req, peer = stun.recvfrom(2048)
    if req[:2] != b"\x00\x01" or stun_attrs(req).get(0xC001) != CR_BINDING:
        raise RuntimeError(f"STUN server: not a TR-111 Binding Request: {req.hex()}")
    # The STUN server's Binding Response: MAPPED-ADDRESS is where the request came from.
    mapped = stun_attr(0x0001, struct.pack("!BBH4s", 0, 1, peer[1], socket.inet_aton(peer[0])))
    stun.sendto(struct.pack("!HH", 0x0101, len(mapped)) + req[4:20] + mapped, peer)
    resp, _ = cpe.recvfrom(2048)
    if resp[:2] != b"\x01\x01" or resp[4:20] != txid:
        raise RuntimeError(f"CPE: not our Binding Response: {resp.hex()}")
    # The ACS (from the STUN server's socket) sends the UDP connection request three times.
    ts, ident, cn = str(int(time.time())), str(secrets.randbelow(2**31)), secrets.token_hex(8)
    sig = hmac.new(CR_PASS, (ts + ident + CR_USER + cn).encode(), hashlib.sha1).hexdigest()
    where = f"{cpe_addr[0]}:{cpe_addr[1]}"
    msg = (f"GET http://{where}?ts={ts}&id={ident}&un={CR_USER}&cn={cn}&sig={sig} HTTP/1.1\r\n"
           f"Host: {where}\r\n\r\n").encode()
    for _ in range(3):
        stun.sendto(msg, cpe_addr)
    for _ in range(3):
        if cpe.recvfrom(2048)[0] != msg:
            raise RuntimeError("CPE: UDP connection request mangled")


# --- the recording ------------------------------------------------------------------------------


def record(out_path: str | Path) -> None:
    """Records the exchanges described in the module docstring into the pcap file ``out_path``."""
    out = Path(out_path)
    for tool in ("tcpdump", "curl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_cwmp: {tool} is needed")
    out.parent.mkdir(parents=True, exist_ok=True)
    cr_hits: list[str] = []
    acs = Acs(deque())
    servers = [serve(acs_handler(acs)), serve(cr_handler(cr_hits))]
    udp = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
    try:
        for s in udp:
            s.bind((HOST, 0))
            s.settimeout(TIMEOUT)
        acs_port, cr_port = (srv.server_address[1] for srv in servers)
        cpe_udp, stun = udp
        acs_url, cr_url = f"http://{HOST}:{acs_port}/acs", f"http://{HOST}:{cr_port}/cr"
        dump = Tcpdump(out, [acs_port, cr_port, cpe_udp.getsockname()[1], stun.getsockname()[1]])
        try:
            with tempfile.TemporaryDirectory() as tmp:
                _exchange(acs, acs_url, cr_url, Path(tmp), cpe_udp, stun)
        except RuntimeError as exc:  # say what the ACS saw too
            raise RuntimeError("; ".join([str(exc), *acs.errors])) from exc
        else:
            time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
        finally:
            said = dump.stop()
    finally:
        for srv in servers:
            srv.shutdown()
            srv.server_close()
        for s in udp:
            s.close()
    if cr_hits != ["/cr"]:
        raise RuntimeError(f"connection request listener saw {cr_hits}")
    if acs.scripts or len(acs.sessions) != 3 or not all(s.done for s in acs.sessions.values()):
        acs.errors.append("ACS: sessions did not all run to their 204")
    packets_captured(said)
    if acs.errors:
        raise RuntimeError("; ".join(acs.errors))


def _exchange(acs: Acs, acs_url: str, cr_url: str, tmp: Path, cpe_udp: socket.socket,
              stun: socket.socket) -> None:
    fw_url = acs_url.rsplit("/", 1)[0] + "/fw.bin"
    pii, uptime = IGD + "ManagementServer.PeriodicInformInterval", IGD + "DeviceInfo.UpTime"
    sw = IGD + "DeviceInfo.SoftwareVersion"
    # What the ACS sends, session by session, with its cwmp:IDs fixed in advance.
    acs.scripts.extend([
        [("acs-1", "GetParameterValues", rpc("acs-1", "GetParameterValues", _names([uptime, pii]))),
         ("acs-2", "SetParameterValues", rpc("acs-2", "SetParameterValues", _values(
             "ParameterList", [(pii, "unsignedInt", "300")]) + " <ParameterKey>k1</ParameterKey>\n")),
         ("acs-3", "Download", rpc("acs-3", "Download", (
             " <CommandKey>dl-42</CommandKey>\n <FileType>1 Firmware Upgrade Image</FileType>\n"
             f" <URL>{fw_url}</URL>\n <Username></Username>\n <Password></Password>\n"
             f" <FileSize>{len(FIRMWARE)}</FileSize>\n <TargetFileName></TargetFileName>\n"
             " <DelaySeconds>0</DelaySeconds>\n <SuccessURL></SuccessURL>\n <FailureURL></FailureURL>\n")))],
        [("acs-4", "Reboot", rpc("acs-4", "Reboot", " <CommandKey>r1</CommandKey>\n"))],
        [("acs-5", "GetParameterValues", rpc("acs-5", "GetParameterValues", _names([pii, sw])))],
    ])
    never = "0001-01-01T00:00:00Z"
    bodies = {
        "inform1": inform("cpe-1", [("1 BOOT", ""), ("4 VALUE CHANGE", "")],
                          inform_params(cr_url, "1.0.0", "")),
        "gpv1": rpc("acs-1", "GetParameterValuesResponse",
                    _values("ParameterList", [(uptime, "unsignedInt", "37"), (pii, "unsignedInt", "86400")])),
        "spv1": rpc("acs-2", "SetParameterValuesResponse", " <Status>0</Status>\n"),
        "dl1": rpc("acs-3", "DownloadResponse", f" <Status>1</Status>\n <StartTime>{never}</StartTime>\n"
                   f" <CompleteTime>{never}</CompleteTime>\n"),
        "inform2": inform("cpe-2", [("6 CONNECTION REQUEST", ""), ("7 TRANSFER COMPLETE", ""),
                                    ("M Download", "dl-42")], inform_params(cr_url, "1.1.0", "k1")),
        "tc2": rpc("cpe-3", "TransferComplete", (
            " <CommandKey>dl-42</CommandKey>\n"
            " <FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString></FaultStruct>\n"
            f" <StartTime>{_now()}</StartTime>\n <CompleteTime>{_now()}</CompleteTime>\n")),
        "fault2": cwmp_fault("acs-4", 9001, "Request denied"),
        "inform3": inform("cpe-4", [("6 CONNECTION REQUEST", "")], inform_params(cr_url, "1.1.0", "k1")),
        "gpv3": rpc("acs-5", "GetParameterValuesResponse",
                    _values("ParameterList", [(pii, "unsignedInt", "300"), (sw, "string", "1.1.0")])),
    }
    for name, body in bodies.items():
        (tmp / name).write_bytes(body)
    f = {name: tmp / name for name in bodies}
    curl_session(acs_url, tmp / "jar1", [f["inform1"], None, f["gpv1"], f["spv1"], f["dl1"]],
                 [200, 200, 200, 200, 204])
    get(fw_url, 200)
    get(cr_url, 200)
    curl_session(acs_url, tmp / "jar2", [f["inform2"], f["tc2"], None, f["fault2"]], [200, 200, 200, 204])
    udp_connection_request(cpe_udp, stun)
    curl_session(acs_url, tmp / "jar3", [f["inform3"], None, f["gpv3"]], [200, 200, 204])


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("cwmp_loopback.pcap"))
    try:
        record(out)
    except (RuntimeError, OSError) as exc:
        print(f"record_cwmp: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
