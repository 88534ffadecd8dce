"""Record captures/tls12_loopback.pcap and tls13_loopback.pcap: every TLS suite and handshake variant.

Real peers on loopback, one TCP connection per line below.  The servers are Python ``ssl``
(``http.server`` keep-alive HTTP/1.1, each accepted socket wrapped by an ``SSLContext``, a toy
ACS answering every SOAP POST that carries a ``cwmp:ID`` with a ``cwmp:InformResponse`` for that
ID; the Inform bodies are record_cwmp.py's, imported from this folder) and, for the TLS 1.3 CCM
suites that Python's ``ssl`` cannot enable, ``openssl s_server -HTTP`` serving ``GET /dm.xml`` (a
file holding a complete HTTP/1.1 response, 200 with ``Content-Length`` and ``Connection: close``).
The clients are curl (``-v`` and ``-w`` tell what it agreed) and ``openssl s_client`` (fed HTTP on
stdin, its interactive commands ``R``, ``k`` and ``K`` for renegotiation and KeyUpdate; its
``-msg`` log, ``-tlsextdebug`` and session printout tell what it agreed).  All use a throwaway
self-signed RSA-2048 certificate for CN and DNS SAN ``acs.dmsniff.test`` plus IP SAN 127.0.0.1
(made by the ``openssl`` CLI); the clients trust it (``--cacert``, ``-CAfile``) and send SNI
``acs.dmsniff.test`` (curl ``--resolve``, s_client ``-servername``) unless said otherwise.
Every ``POST /acs`` carries an Inform (cwmp:ID ``tls12-N``/``tls13-N``) and gets its
InformResponse, 200, both with ``Content-Length``.

``tls12_loopback.pcap`` (servers: A = TLS 1.0-1.2, ``ALL:@SECLEVEL=0``, session tickets on,
client-initiated renegotiation allowed (``SSL_OP_ALLOW_CLIENT_RENEGOTIATION``, bit 8 of OpenSSL
3.0's options, which Python does not name); B = the same with ``OP_NO_TICKET``), in order:

1. curl -> A, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, one POST;
2. curl -> A, TLS 1.2 ECDHE-RSA-CHACHA20-POLY1305, one POST;
3. curl -> A, TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 (the SHA-384 PRF), one POST;
4. s_client -> A, TLS 1.2 ECDHE-RSA-AES128-SHA256, encrypt-then-MAC (the default; the server's
   extension is in s_client's ``-tlsextdebug``), one POST;
5. s_client ``-no_etm`` -> A, TLS 1.2 ECDHE-RSA-AES256-SHA, MAC-then-encrypt, one POST;
6. curl -> A, TLS 1.2 AES128-SHA (RSA key exchange), one POST;
7. curl -> A, TLS 1.2 AES256-GCM-SHA384 (RSA key exchange), one POST;
8. curl -> B, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, one POST with ``Connection: close`` (the
   server sends close_notify first, so its session stays cached), then
9. the same curl run's second transfer on a new connection: session-ID resumption, one POST (curl
   never asks for a TLS 1.2 session ticket: it sets ``SSL_OP_NO_TICKET``);
10. curl -> B, TLS 1.2 AES128-SHA, full handshake, one POST with ``Connection: close``, then
11. its second transfer: session-ID resumption of 10 (RSA key exchange: only 10's master secret
    decrypts it), one POST;
12. s_client ``-sess_out`` -> A, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, full handshake ending in a
    NewSessionTicket (A sends an empty session ID then), one POST, then
13. s_client ``-sess_in`` with that session: session-ticket resumption (RFC 5077), one POST;
14. s_client ``-sess_out`` -> A, TLS 1.2 AES128-SHA, full handshake with a NewSessionTicket, then
15. s_client ``-sess_in``: ticket resumption of 14 (RSA key exchange), one POST;
16. curl -> A, TLS 1.0 ECDHE-RSA-AES128-SHA (``@SECLEVEL=0`` on both sides), one POST;
17. curl -> A, TLS 1.1 ECDHE-RSA-AES128-SHA (``@SECLEVEL=0``), one POST;
18. s_client -> A, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256: POST, then ``R`` (a full renegotiation
    handshake inside the connection, the same suite), then another POST;
19. s_client ``-noservername`` -> A, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, no SNI, one POST;
20. curl -> A without ``--cacert`` (ECDHE-RSA-AES128-GCM-SHA256 the only suite offered): curl
    rejects the self-signed certificate with a fatal ``unknown_ca`` alert, no HTTP (the truth's
    suite is the one curl offered, its version the one of curl's "Server hello" trace line);
21. curl -> A offering only ECDHE-ECDSA-AES128-GCM-SHA256 (the server has no ECDSA key): the
    server answers the ClientHello with a fatal ``handshake_failure`` alert, no HTTP;
22. s_client -> A without the extended master secret (``Options = -ExtendedMasterSecret`` in an
    ``OPENSSL_CONF`` ssl_conf section: the openssl CLI has no switch for it), TLS 1.2 AES128-SHA
    (RSA key exchange, classic master secret), one POST.

``tls13_loopback.pcap`` (servers: C = TLS 1.3 only, Python's default suites, two tickets per
handshake; D = the same offering only the group P-256; E = ``s_server -HTTP -tls1_3
-ciphersuites TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256``), in order:

1. curl -> C, TLS_AES_128_GCM_SHA256, one POST;
2. curl -> C, TLS_AES_256_GCM_SHA384, one POST;
3. curl -> C, TLS_CHACHA20_POLY1305_SHA256, one POST;
4. curl -> E, TLS_AES_128_CCM_SHA256, ``GET /dm.xml``;
5. curl -> E, TLS_AES_128_CCM_8_SHA256, ``GET /dm.xml``;
6. curl -> C, TLS_AES_128_GCM_SHA256, one POST with ``Connection: close``, then
7. the same curl run's second transfer on a new connection: PSK resumption (psk_dhe_ke, no
   0-RTT: curl 7.88 sends no early data), one POST;
8. s_client ``-sess_out`` -> C, TLS_CHACHA20_POLY1305_SHA256, one POST, then
9. s_client ``-sess_in`` with that session: PSK resumption, "Early data was not sent", one POST;
10. s_client -> C, TLS_AES_128_GCM_SHA256: POST, ``k`` (the client updates its keys), POST,
    ``K`` (the client updates again and asks the server to: the server's KeyUpdate goes before its
    answer), POST;
11. curl ``--curves X25519:P-256`` -> D, TLS_AES_128_GCM_SHA256: the X25519 key share is refused
    with a HelloRetryRequest, the second ClientHello carries P-256, one POST;
12. curl -> C without ``--cacert``: a fatal ``unknown_ca`` alert, encrypted under the client's
    handshake traffic secret, no HTTP.

Secrets: the NSS key log ``<name>.keys`` (the union, deduplicated, of what every client and
server of the capture logged: curl's ``SSLKEYLOGFILE``, s_client/s_server's ``-keylogfile``,
Python's ``keylog_filename``), the server's private key ``<name>.server.key`` (PEM, unencrypted;
its certificate ``<name>.server.crt``; ``main()`` records TLS 1.3 with the TLS 1.2 capture's key
and writes it once, as ``tls12_loopback.server.*``).  The server key alone decrypts connections
6, 7, 10, 11, 14, 15 and 22 of tls12 (the RSA key exchanges; 11 and 15 only through the master
secret of 10 and 14).

Ground truth (``record()`` returns it; ``main()`` writes it next to the pcap as
``<name>.truth.json``): ``connections`` in capture order, each as both peers reported it: version,
OpenSSL suite name, IANA name and code (``openssl ciphers -V -stdname``), resumed and how, SNI,
KeyUpdate, HelloRetryRequest, renegotiation, a fatal alert's name and sender, extended master
secret and encrypt-then-MAC where s_client told, 0-RTT for TLS 1.3, notes, and the HTTP
``exchanges`` (method, URI, status, sha256 of each body; a POST's bodies are checked by both
peers).  The ports are picked at run time.
Run as root (tcpdump)::

    python captures/record_tls_suites.py [OUT_DIR]

``record(out_path, "1.2" or "1.3")`` records one capture from Python.  Re-running gives the same
connections with new ports, certificate, key log, sequence numbers and times (and Inform times,
so body digests).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py, record_cwmp.py
import loopback
import record_cwmp as cwmp
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
SERVER_NAME = "acs.dmsniff.test"
TIMEOUT = 10.0  # seconds, for any one step
SOAP_CT = 'text/xml; charset="utf-8"'
OP_ALLOW_CLIENT_RENEGOTIATION = 1 << 8  # SSL_OP_ALLOW_CLIENT_RENEGOTIATION in OpenSSL 3.0's ssl.h
TLS13_SUITES = (
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
    ":TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
)
CCM_SUITES = "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256"
ALERTS = {  # TLS AlertDescription code points (RFC 8446 6, RFC 5246 7.2) and their names
    10: "unexpected_message",
    20: "bad_record_mac",
    22: "record_overflow",
    40: "handshake_failure",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    112: "unrecognized_name",
    116: "certificate_required",
    120: "no_application_protocol",
}
NO_EMS_CONF = """openssl_conf = init
[init]
ssl_conf = ssl_sect
[ssl_sect]
system_default = system_default_sect
[system_default_sect]
Options = -ExtendedMasterSecret
"""
DM_XML = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n'
    b"<DevInfo><DevId>IMEI:490154203237518</DevId><Man>Example Networks</Man><Mod>HGW</Mod>"
    b"<DmV>1.2</DmV><Lang>en-US</Lang></DevInfo>\n"
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(cmd: Sequence[str], what: str, **kw: Any) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(list(cmd), capture_output=True, timeout=TIMEOUT, check=False, **kw)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RuntimeError(f"{what}: {exc}") from exc


# --- the HTTP payloads --------------------------------------------------------------------------


def inform(cwmp_id: str) -> bytes:
    params = cwmp.inform_params(f"http://{HOST}:30005/cr", "1.0.0", cwmp_id)
    return cwmp.inform(cwmp_id, [("1 BOOT", "")], params)


def inform_response(cwmp_id: str) -> bytes:
    return cwmp.rpc(cwmp_id, "InformResponse", " <MaxEnvelopes>1</MaxEnvelopes>\n")


def post_request(cwmp_id: str, body: bytes, close: bool = False) -> bytes:
    """The POST s_client writes, as curl would have (Host, Content-Type, SOAPAction, Content-Length)."""
    head = (
        f"POST /acs HTTP/1.1\r\nHost: {SERVER_NAME}\r\nUser-Agent: openssl-s_client\r\n"
        f"Content-Type: {SOAP_CT}\r\nSOAPAction:\r\nContent-Length: {len(body)}\r\n"
    )
    if close:
        head += "Connection: close\r\n"
    return head.encode() + b"\r\n" + body


# --- certificate, suite names -------------------------------------------------------------------


def make_cert(key: Path, crt: Path, tmp: Path) -> None:
    """A throwaway self-signed RSA-2048 certificate for SERVER_NAME and HOST (valid 3650 days)."""
    loopback.make_cert(key, crt, tmp, SERVER_NAME, days=3650)


def suite_names() -> dict[str, tuple[str, int]]:
    """OpenSSL suite name -> (IANA name, code point), as this OpenSSL tells it."""
    cmd = ["openssl", "ciphers", "-V", "-stdname", "-ciphersuites", TLS13_SUITES, "ALL:@SECLEVEL=0"]
    done = run(cmd, "openssl ciphers")
    out: dict[str, tuple[str, int]] = {}
    for line in done.stdout.decode().splitlines():
        m = re.match(r"\s*0x([0-9A-F]{2}),0x([0-9A-F]{2}) - (\S+)\s+- (\S+)\s", line)
        if m:
            out[m[4]] = (m[3], int(m[1] + m[2], 16))
    if done.returncode or not out:
        raise RuntimeError(f"openssl ciphers failed ({done.returncode}): {done.stderr.decode().strip()}")
    return out


def normal_version(v: str | None) -> str | None:
    return "TLSv1.0" if v == "TLSv1" else v


# --- the servers --------------------------------------------------------------------------------


class Exchange(NamedTuple):
    method: str
    uri: str
    status: int
    request_body: bytes
    response_body: bytes


class Seen:
    """What a TLS server saw of one TCP connection."""

    def __init__(self, port: int) -> None:  # a plain class: loading the module needs no sys.modules entry
        self.port = port
        self.version: str | None = None
        self.cipher: str | None = None
        self.resumed: bool | None = None
        self.sni: str | None = None
        self.error: str | None = None
        self.exchanges: list[Exchange] = []


class Handler(http.server.BaseHTTPRequestHandler):
    """The toy ACS: a POST with a cwmp:ID gets the InformResponse for it, anything else 400."""

    protocol_version = "HTTP/1.1"
    timeout = TIMEOUT
    server: TlsServer
    we_close = False  # the client asked for Connection: close, and got it

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        m = re.search(rb"<cwmp:ID[^>]*>([^<]+)</cwmp:ID>", body)
        answer = inform_response(m[1].decode()) if m else b""
        status = 200 if m else 400
        self.send_response(status)
        self.send_header("Content-Type", SOAP_CT)
        self.send_header("Content-Length", str(len(answer)))
        if self.close_connection:  # the client asked for Connection: close
            self.send_header("Connection", "close")
            self.we_close = True
        self.end_headers()
        self.wfile.write(answer)
        self.server.seen[self.client_address[1]].exchanges.append(
            Exchange("POST", self.path, status, body, answer)
        )


class TlsServer(http.server.ThreadingHTTPServer):
    """HTTPS on an ephemeral port of HOST, in a thread; each accepted socket does its handshake in its
    handler thread, and what it agreed (or how it failed) is kept in ``seen``, by client port."""

    daemon_threads = False  # server_close() joins the handlers: a clean stop

    def __init__(self, label: str, ctx: ssl.SSLContext) -> None:
        self.label, self.ctx = label, ctx
        self.seen: dict[int, Seen] = {}
        self.sni: dict[int, str | None] = {}
        ctx.sni_callback = self._on_sni
        super().__init__((HOST, 0), Handler)
        self.port = int(self.server_address[1])
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def _on_sni(self, sock: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
        self.sni[sock.getpeername()[1]] = name

    def finish_request(self, request: Any, client_address: Any) -> None:
        seen = self.seen[client_address[1]] = Seen(client_address[1])
        request.settimeout(TIMEOUT)
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)  # the handshake
        except OSError as exc:
            seen.error = str(exc)
            return
        seen.version, seen.cipher = tls.version(), (tls.cipher() or ("",))[0]
        seen.resumed, seen.sni = tls.session_reused, self.sni.get(client_address[1])
        try:
            if Handler(tls, client_address, self).we_close:
                # we end it: close_notify first, which also keeps the session resumable (OpenSSL drops
                # a session whose SSL is freed without SSL_SENT_SHUTDOWN); the peer's own close_notify
                # may never come, so unwrap()'s second half may fail: no matter
                with contextlib.suppress(OSError):
                    tls.unwrap()
        except OSError as exc:
            seen.error = seen.error or str(exc)
        finally:
            tls.close()

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def server_context(
    key: Path, crt: Path, keylog: Path, tls13: bool, *, tickets: bool = True, groups: str | None = None
) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():  # TLSVersion.TLSv1 is deprecated, and wanted here
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3 if tls13 else ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(crt, key)
    if not tls13:
        ctx.set_ciphers("ALL:@SECLEVEL=0")
        ctx.options |= OP_ALLOW_CLIENT_RENEGOTIATION
    if not tickets:
        ctx.options |= ssl.OP_NO_TICKET
    if groups is not None:
        ctx.set_ecdh_curve(groups)  # with OpenSSL 3: SSL_CTX_set1_groups() with that one group
    ctx.keylog_filename = str(keylog)
    return ctx


class SServer:
    """openssl s_server -HTTP in www/ (TLS 1.3 CCM suites only), until stop()."""

    def __init__(self, key: Path, crt: Path, tmp: Path, port: int) -> None:
        self.port, self.keylog, self.log_path = port, tmp / "s_server.keys", tmp / "s_server.log"
        www = tmp / "www"
        www.mkdir()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
            f"Content-Length: {len(DM_XML)}\r\nConnection: close\r\n\r\n"
        )
        (www / "dm.xml").write_bytes(head.encode() + DM_XML)
        cmd = ["openssl", "s_server", "-accept", f"{HOST}:{port}", "-cert", str(crt), "-key", str(key)]
        cmd += ["-HTTP", "-tls1_3", "-ciphersuites", CCM_SUITES, "-keylogfile", str(self.keylog)]
        self.log = self.log_path.open("wb")
        try:
            self.proc = subprocess.Popen(
                cmd, cwd=www, stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log
            )
        except OSError as exc:
            self.log.close()
            raise RuntimeError(f"cannot run openssl s_server: {exc}") from exc
        deadline = time.monotonic() + TIMEOUT
        while b"ACCEPT" not in self.log_path.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"openssl s_server did not start: {self.said()}")
            time.sleep(0.05)

    def said(self) -> str:
        return " | ".join(self.log_path.read_text(errors="replace").split("\n")[-4:]).strip()

    def stop(self) -> None:
        try:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=TIMEOUT)
        finally:
            self.log.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


# --- the clients --------------------------------------------------------------------------------


class Conn:
    """One TCP connection as its client saw it (and the server, when it is ours): a truth entry."""

    def __init__(self, tool: str, server_port: int) -> None:  # a plain class, as Seen
        self.tool, self.server_port = tool, server_port
        self.client_port = 0
        self.version: str | None = None
        self.cipher: str | None = None
        self.resumed = False
        self.resumption: str | None = None  # how: session_id, ticket (TLS 1.2), psk (TLS 1.3)
        self.sni: str | None = SERVER_NAME
        self.key_update = False
        self.hello_retry = False
        self.renegotiated = False
        self.alert: str | None = None
        self.alert_from: str | None = None
        self.ems: bool | None = None
        self.etm: bool | None = None
        self.early_data: bool | None = None
        self.tickets = 0  # NewSessionTickets received (s_client)
        self.notes: list[str] = []
        self.exchanges: list[Exchange] = []


class Transfer(NamedTuple):
    """One curl transfer: a POST of an Inform (cwmp_id) or a GET (cwmp_id None)."""

    path: str
    cwmp_id: str | None
    close: bool = False  # Connection: close, so that the next transfer opens a new connection


def curl_view(said: str) -> list[dict[str, Any]]:
    """What curl -v tells of each connection it opened, in order."""
    out = []
    for part in re.split(r"^\*   Trying ", said, flags=re.M)[1:]:
        m = re.search(r"^\* SSL connection using (\S+) / (\S+)", part, re.M)
        hello = re.findall(r"^\* (TLSv[\d.]+) \(IN\), TLS handshake, Server hello", part, re.M)
        alerts = [
            (d, int(code))
            for d, code in re.findall(r"^\* TLSv[\d.]+ \((IN|OUT)\), TLS alert, [^(]*\((\d+)\)", part, re.M)
            if int(code) >> 8 == 2  # fatal (level 2 << 8 | description)
        ]
        out.append(
            {
                "version": m[1] if m else (hello[-1] if hello else None),
                "cipher": m[2] if m else None,
                "offered_session": "SSL re-using session ID" in part,
                "client_hellos": len(re.findall(r"\(OUT\), TLS handshake, Client hello", part)),
                "server_hellos": len(hello),
                "tickets": len(re.findall(r"\(IN\), TLS handshake, Newsession Ticket", part)),
                "alerts": alerts,
            }
        )
    return out


def curl(
    tmp: Path,
    label: str,
    port: int,
    transfers: list[Transfer],
    tls: Sequence[str],
    crt: Path,
    *,
    cacert: bool = True,
    fails: int = 0,
) -> list[Conn]:
    """One curl run, one new connection per transfer (checked); fails: the exit code it must end with."""
    base = f"https://{SERVER_NAME}:{port}"
    args = ["curl"]
    bodies = []
    for i, t in enumerate(transfers):
        if i:
            args.append("--next")
        args += ["-sS", "-v", "--max-time", "5", "--connect-timeout", "2", "-H", "Expect:"]
        args += ["--resolve", f"{SERVER_NAME}:{port}:{HOST}", *tls]
        if cacert:
            args += ["--cacert", str(crt)]
        out = tmp / f"{label}-{i}.out"
        args += ["-o", str(out), "-w", "%{local_port} %{http_code} %{num_connects}\\n"]
        body = b""
        if t.cwmp_id is not None:
            body = inform(t.cwmp_id)
            (tmp / f"{label}-{i}.xml").write_bytes(body)
            args += ["-H", f"Content-Type: {SOAP_CT}", "-H", "SOAPAction;"]
            args += ["--data-binary", f"@{tmp / f'{label}-{i}.xml'}"]
        if t.close:
            args += ["-H", "Connection: close"]
        args.append(base + t.path)
        bodies.append((body, out))
    env = {**os.environ, "SSLKEYLOGFILE": str(tmp / f"{label}.keys")}
    done = run(args, f"curl ({label})", env=env)
    said = done.stderr.decode(errors="replace")
    if done.returncode != fails:
        raise RuntimeError(f"curl ({label}) exited {done.returncode}, wanted {fails}: {said.strip()[-300:]}")
    got = [line.split() for line in done.stdout.decode().splitlines()]
    views = curl_view(said)
    if len(got) != len(transfers) or len(views) != len(transfers) or any(int(g[2]) != 1 for g in got):
        raise RuntimeError(f"curl ({label}): -w says {got} for {len(transfers)} transfers, -v {len(views)}")
    conns = []
    for t, (body, out), (lport, code, _), v in zip(transfers, bodies, got, views, strict=True):
        c = Conn("curl", port)
        c.client_port = int(lport)
        c.version, c.cipher = normal_version(v["version"]), v["cipher"]
        c.resumed = v["offered_session"]  # whether the server took it: checked against the server
        c.hello_retry = v["client_hellos"] == 2 and v["server_hellos"] == 2
        if v["client_hellos"] != (2 if c.hello_retry else 1):
            hellos = f"{v['client_hellos']} ClientHellos, {v['server_hellos']} ServerHellos"
            raise RuntimeError(f"curl ({label}): {hellos}")
        if v["alerts"]:
            (direction, alert), *_ = v["alerts"]
            c.alert = ALERTS.get(alert & 0xFF, str(alert & 0xFF))
            c.alert_from = "client" if direction == "OUT" else "server"
        if v["tickets"]:
            c.notes.append(f"curl -v: {v['tickets']} NewSessionTicket received")
        if code != "000":
            method = "POST" if t.cwmp_id is not None else "GET"
            c.exchanges.append(Exchange(method, t.path, int(code), body, out.read_bytes()))
        conns.append(c)
    return conns


class SClient:
    """openssl s_client driven through its stdin: HTTP requests, and its command letters on lines alone.

    Without -ign_eof/-quiet a chunk read from stdin that starts with Q, R, k or K is a command, so a
    command is written alone and the next request only once s_client said it acted (RENEGOTIATING,
    KEYUPDATE); a request starts with "POST", never a command letter.  EOF on stdin ends it.
    """

    def __init__(
        self, tmp: Path, label: str, port: int, args: Sequence[str], env: dict[str, str] | None = None
    ):
        self.label, self.port, self.args = label, port, list(args)
        self.msgfile, self.keylog = tmp / f"{label}.msg", tmp / f"{label}.keys"
        cmd = ["openssl", "s_client", "-connect", f"{HOST}:{port}", *args]
        cmd += ["-msg", "-msgfile", str(self.msgfile), "-keylogfile", str(self.keylog)]
        self.out = bytearray()
        try:
            self.proc = subprocess.Popen(
                cmd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
            )
        except OSError as exc:
            raise RuntimeError(f"cannot run openssl s_client: {exc}") from exc
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(65536):
            self.out.extend(chunk)

    def _wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not done():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise RuntimeError(f"s_client ({self.label}): no {what}: ...{bytes(self.out[-400:])!r}")
            time.sleep(0.02)

    def _write(self, data: bytes) -> None:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except OSError as exc:
            raise RuntimeError(f"s_client ({self.label}) gone: ...{bytes(self.out[-400:])!r}") from exc

    def post(self, cwmp_id: str, close: bool = False) -> Exchange:
        """Writes a POST of an Inform and waits for the InformResponse in s_client's output."""
        body, answer = inform(cwmp_id), inform_response(cwmp_id)
        start = len(self.out)
        self._write(post_request(cwmp_id, body, close))
        self._wait("answer", lambda: answer in self.out[start:])
        got = bytes(self.out[start:])
        head = got[: got.index(answer)]
        status = re.findall(rb"HTTP/1\.1 (\d{3}) ", head)
        if not status:
            raise RuntimeError(f"s_client ({self.label}): no status line before the answer: {head!r}")
        return Exchange("POST", "/acs", int(status[-1]), body, answer)

    def command(self, letter: str) -> None:
        said = {"R": b"RENEGOTIATING", "k": b"KEYUPDATE", "K": b"KEYUPDATE"}[letter]
        start = len(self.out)
        self._write(letter.encode() + b"\n")
        self._wait(said.decode(), lambda: said in self.out[start:])
        if letter == "R":  # the renegotiation is done once the server's second Finished came
            self._wait("second handshake", lambda: len(self.messages(r"<<< .*, Finished")) >= 2)

    def messages(self, pattern: str) -> list[str]:
        text = self.msgfile.read_text(errors="replace") if self.msgfile.exists() else ""
        return [ln for ln in text.splitlines() if re.match(pattern, ln)]

    def close(self) -> str:
        """EOF on stdin: s_client sends close_notify and exits; returns what it printed."""
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=TIMEOUT)
            raise RuntimeError(f"s_client ({self.label}) did not exit on EOF") from None
        self.reader.join(timeout=TIMEOUT)
        return self.out.decode(errors="replace")


def s_client_conn(sc: SClient, said: str, exchanges: list[Exchange]) -> Conn:
    """The facts s_client printed: session block, -tlsextdebug, commands, and its -msg log."""
    c = Conn("openssl s_client", sc.port)

    def first(pattern: str) -> str | None:
        m = re.search(pattern, said, re.M)
        return m[1] if m else None

    c.version, c.cipher = first(r"^\s+Protocol\s+: (\S+)"), first(r"^\s+Cipher\s+: (\S+)")
    c.version = normal_version(c.version)
    c.resumed = first(r"^(New|Reused), ") == "Reused"
    ems = first(r"^\s+Extended master secret: (yes|no)")
    if c.version != "TLSv1.3" and ems is not None:
        c.ems = ems == "yes"
    if "-tlsextdebug" in sc.args:
        c.etm = 'TLS server extension "encrypt-then-mac"' in said
    early = first(r"^Early data was (not sent|accepted|rejected)")
    if early is not None:
        c.early_data = early == "accepted"
        c.notes.append(f"s_client: Early data was {early}")
    c.tickets = len(sc.messages(r"<<< .*NewSessionTicket"))
    sent = sc.messages(r">>> .*KeyUpdate")
    got = sc.messages(r"<<< .*KeyUpdate")
    c.key_update = bool(sent or got)
    if c.key_update:
        c.notes.append(f"s_client -msg: {len(sent)} KeyUpdate sent, {len(got)} received")
    hellos = sc.messages(r">>> .*ClientHello")
    c.renegotiated = len(hellos) > 1
    if len(hellos) > 1:
        c.notes.append(f"s_client -msg: {len(hellos)} ClientHellos (renegotiation)")
    for line in sc.messages(r"(>>>|<<<) .*Alert .*, fatal "):
        if c.alert is None:
            c.alert, c.alert_from = line.rsplit(" ", 1)[1], "client" if line.startswith(">>>") else "server"
    if first(r"^(Verification: OK)") is None and c.alert is None:
        raise RuntimeError(f"s_client ({sc.label}): the certificate did not verify: {said[-300:]}")
    c.exchanges = exchanges
    return c


def s_client_run(
    tmp: Path,
    label: str,
    server: TlsServer,
    args: Sequence[str],
    script: Sequence[str],
    crt: Path,
    env: dict[str, str] | None = None,
    sni: bool = True,
) -> Conn:
    """One s_client connection: the script is a list of cwmp:IDs to POST and command letters.  Its
    client port is the one new connection the server saw meanwhile (s_client does not print it)."""
    base = ["-CAfile", str(crt), "-verify_return_error"]
    base += ["-servername", SERVER_NAME] if sni else ["-noservername"]
    before = set(server.seen)
    sc = SClient(tmp, label, server.port, [*base, *args], env)
    exchanges = []
    try:
        for step in script:
            if step in ("R", "k", "K"):
                sc.command(step)
            else:
                exchanges.append(sc.post(step))
    finally:
        said = sc.close()
    c = s_client_conn(sc, said, exchanges)
    new_ports = set(server.seen) - before
    if len(new_ports) != 1:
        raise RuntimeError(f"s_client ({label}): the server saw {len(new_ports)} new connections, not 1")
    c.client_port = new_ports.pop()
    if not sni:
        c.sni = None
    if "R" in script:
        c.notes.append("renegotiated (s_client R): one POST before, one after")
    return c


# --- checks and the truth -----------------------------------------------------------------------


def settle(conns: list[Conn], servers: dict[int, TlsServer]) -> None:
    """Checks every connection against what our server saw of it (all it saw, once each)."""
    for port, srv in servers.items():
        mine = sorted(c.client_port for c in conns if c.server_port == port)
        if mine != sorted(srv.seen):
            raise RuntimeError(f"server {srv.label} saw clients {sorted(srv.seen)}, the clients say {mine}")
    for c in conns:
        srv = servers.get(c.server_port)
        if srv is None:
            continue
        seen = srv.seen.get(c.client_port)
        if seen is None:
            raise RuntimeError(f"{c.tool}: server {srv.label} saw no connection from port {c.client_port}")
        if seen.error is not None:
            c.notes.append(f"server ({srv.label}, Python ssl): {seen.error}")
            if c.alert is None:
                raise RuntimeError(
                    f"{c.tool} -> {srv.label}: the server failed ({seen.error}), not the client"
                )
            continue
        mine = (c.version, c.cipher, c.resumed, c.sni, c.exchanges)
        theirs = (normal_version(seen.version), seen.cipher, seen.resumed, seen.sni, seen.exchanges)
        if mine != theirs:
            raise RuntimeError(
                f"{c.tool} -> {srv.label} port {c.client_port}: the client saw {mine[:4]}, the server "
                f"{theirs[:4]}; exchanges {[e[:3] for e in c.exchanges]} vs {[e[:3] for e in seen.exchanges]}"
            )


def expect(c: Conn, version: str | None, cipher: str | None, **facts: Any) -> None:
    """The plan for a connection against what its peers said: a mismatch stops the recording."""
    got = {"version": c.version, "cipher": c.cipher, **{k: getattr(c, k) for k in facts}}
    want = {"version": version, "cipher": cipher, **facts}
    if got != want:
        raise RuntimeError(f"{c.tool} port {c.client_port}: got {got}, planned {want}")


def truth_entry(c: Conn, names: dict[str, tuple[str, int]]) -> dict[str, Any]:
    if c.resumed != (c.resumption is not None):
        raise RuntimeError(f"{c.tool} port {c.client_port}: resumed {c.resumed} by {c.resumption}")
    if c.cipher is not None and c.cipher not in names:
        raise RuntimeError(f"openssl ciphers -stdname does not know {c.cipher}")
    iana, code = names.get(c.cipher or "", (None, None))
    entry: dict[str, Any] = {
        "client_port": c.client_port,
        "server_port": c.server_port,
        "tool": c.tool,
        "tls_version": c.version,
        "cipher": c.cipher,
        "cipher_iana": iana,
        "cipher_id": f"0x{code:04X}" if code is not None else None,
        "resumed": c.resumed,
        "resumption": c.resumption,
        "sni": c.sni,
        "key_update": c.key_update,
        "hello_retry": c.hello_retry,
        "renegotiated": c.renegotiated,
        "alert": c.alert,
        "alert_from": c.alert_from,
        "extended_master_secret": c.ems,
        "encrypt_then_mac": c.etm,
    }
    if c.version == "TLSv1.3":
        entry["early_data"] = c.early_data
    entry["notes"] = c.notes
    entry["exchanges"] = [
        {
            "method": e.method,
            "uri": e.uri,
            "status": e.status,
            "request_body_sha256": sha256(e.request_body),
            "response_body_sha256": sha256(e.response_body),
        }
        for e in c.exchanges
    ]
    return entry


# --- the scenarios ------------------------------------------------------------------------------


def tls12_scenario(tmp: Path, crt: Path, a: TlsServer, b: TlsServer) -> list[Conn]:
    """The connections of the module docstring's tls12 list, in order."""
    conns: list[Conn] = []
    n = iter(range(1, 100))

    def post(**kw: Any) -> Transfer:
        return Transfer("/acs", f"tls12-{next(n)}", **kw)

    def c12(ciphers: str, *more: str) -> list[str]:
        return ["--tlsv1.2", "--tls-max", "1.2", "--ciphers", ciphers, *more]

    for i, suite in enumerate(
        ["ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES256-GCM-SHA384"]
    ):
        (c,) = curl(tmp, f"12-aead{i}", a.port, [post()], c12(suite), crt)
        expect(c, "TLSv1.2", suite)
        conns.append(c)
    s12 = ["-tls1_2", "-tlsextdebug", "-cipher"]
    c = s_client_run(tmp, "12-etm", a, [*s12, "ECDHE-RSA-AES128-SHA256"], [f"tls12-{next(n)}"], crt)
    expect(c, "TLSv1.2", "ECDHE-RSA-AES128-SHA256", etm=True, ems=True)
    c.notes.append("encrypt-then-MAC (s_client -tlsextdebug: the server sent encrypt-then-mac)")
    conns.append(c)
    args = [*s12, "ECDHE-RSA-AES256-SHA", "-no_etm"]
    c = s_client_run(tmp, "12-mte", a, args, [f"tls12-{next(n)}"], crt)
    expect(c, "TLSv1.2", "ECDHE-RSA-AES256-SHA", etm=False, ems=True)
    c.notes.append("MAC-then-encrypt: s_client -no_etm offered no encrypt_then_mac extension")
    conns.append(c)
    for i, suite in enumerate(["AES128-SHA", "AES256-GCM-SHA384"]):
        (c,) = curl(tmp, f"12-rsa{i}", a.port, [post()], c12(suite), crt)
        expect(c, "TLSv1.2", suite)
        c.notes.append("RSA key exchange: the server key alone decrypts it")
        conns.append(c)
    rsa_resumed = "RSA key exchange: only the previous connection's master secret opens it"
    for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"):  # session ID: curl -> B (no tickets)
        first, again = curl(
            tmp, f"12-id-{suite}", b.port, [post(close=True), post(close=True)], c12(suite), crt
        )
        expect(first, "TLSv1.2", suite, resumed=False)
        expect(again, "TLSv1.2", suite, resumed=True)
        again.resumption = "session_id"
        first.notes.append(
            "full handshake; the next connection resumes it by session ID (server without tickets)"
        )
        again.notes.append(
            "resumed by session ID (curl -v: SSL re-using session ID; the server: session_reused)"
        )
        for c in (first, again):
            c.notes.append("curl asks for no session ticket in TLS 1.2 (it sets SSL_OP_NO_TICKET)")
        if suite == "AES128-SHA":
            first.notes.append("RSA key exchange")
            again.notes.append(rsa_resumed)
        conns += [first, again]
    for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"):  # tickets: s_client -> A
        sess = tmp / f"12-ticket-{suite}.sess"
        args = ["-tls1_2", "-cipher", suite]
        first = s_client_run(
            tmp, f"12-ticket-{suite}-out", a, [*args, "-sess_out", str(sess)], [post().cwmp_id], crt
        )
        again = s_client_run(
            tmp, f"12-ticket-{suite}-in", a, [*args, "-sess_in", str(sess)], [post().cwmp_id], crt
        )
        expect(first, "TLSv1.2", suite, resumed=False, tickets=1)
        expect(again, "TLSv1.2", suite, resumed=True)
        again.resumption = "ticket"
        first.notes.append(
            "full handshake with a NewSessionTicket (s_client -msg), kept by s_client -sess_out"
        )
        again.notes.append("resumed by session ticket, RFC 5077 (s_client -sess_in: Reused)")
        if suite == "AES128-SHA":
            first.notes.append("RSA key exchange")
            again.notes.append(rsa_resumed)
        conns += [first, again]
    for version in ("1.0", "1.1"):
        tls = [f"--tlsv{version}", "--tls-max", version, "--ciphers", "ECDHE-RSA-AES128-SHA:@SECLEVEL=0"]
        (c,) = curl(tmp, f"12-v{version}", a.port, [post()], tls, crt)
        expect(c, f"TLSv{version}", "ECDHE-RSA-AES128-SHA")
        c.notes.append("@SECLEVEL=0 on both sides (OpenSSL 3 refuses TLS < 1.2 above it)")
        conns.append(c)
    script = [f"tls12-{next(n)}", "R", f"tls12-{next(n)}"]
    c = s_client_run(tmp, "12-reneg", a, ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"], script, crt)
    expect(c, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", renegotiated=True)
    conns.append(c)
    args = ["-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"]
    c = s_client_run(tmp, "12-nosni", a, args, [f"tls12-{next(n)}"], crt, sni=False)
    expect(c, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", sni=None)
    c.notes.append("no SNI (s_client -noservername)")
    conns.append(c)
    suite = "ECDHE-RSA-AES128-GCM-SHA256"
    (c,) = curl(tmp, "12-unknown-ca", a.port, [post()], c12(suite), crt, cacert=False, fails=60)
    expect(c, "TLSv1.2", None, alert="unknown_ca", alert_from="client")
    c.cipher = suite
    c.notes.append(f"no --cacert: curl (60) rejects the certificate; {suite} is the only suite it offered")
    conns.append(c)
    (c,) = curl(tmp, "12-nocipher", a.port, [post()], c12("ECDHE-ECDSA-AES128-GCM-SHA256"), crt, fails=35)
    expect(c, None, None, alert="handshake_failure", alert_from="server")
    c.notes.append("curl offered only ECDHE-ECDSA-AES128-GCM-SHA256: no shared suite, no ServerHello")
    conns.append(c)
    conf = tmp / "no_ems.cnf"
    conf.write_text(NO_EMS_CONF)
    c = s_client_run(
        tmp, "12-noems", a, [*s12, "AES128-SHA"], [f"tls12-{next(n)}"], crt, env={"OPENSSL_CONF": str(conf)}
    )
    expect(c, "TLSv1.2", "AES128-SHA", ems=False, etm=True)
    c.notes.append("no extended master secret (OPENSSL_CONF Options = -ExtendedMasterSecret): classic PRF")
    c.notes.append("RSA key exchange: the server key alone decrypts it")
    conns.append(c)
    return conns


def tls13_scenario(tmp: Path, crt: Path, c_srv: TlsServer, d_srv: TlsServer, e_srv: SServer) -> list[Conn]:
    """The connections of the module docstring's tls13 list, in order."""
    conns: list[Conn] = []
    n = iter(range(1, 100))

    def post(**kw: Any) -> Transfer:
        return Transfer("/acs", f"tls13-{next(n)}", **kw)

    def c13(suite: str, *more: str) -> list[str]:
        return ["--tlsv1.3", "--tls13-ciphers", suite, *more]

    for suite in ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"):
        (c,) = curl(tmp, f"13-{suite}", c_srv.port, [post()], c13(suite), crt)
        expect(c, "TLSv1.3", suite, resumed=False)
        conns.append(c)
    for suite in CCM_SUITES.split(":"):
        (c,) = curl(tmp, f"13-{suite}", e_srv.port, [Transfer("/dm.xml", None)], c13(suite), crt)
        expect(c, "TLSv1.3", suite, resumed=False)
        c.notes.append("server: openssl s_server -HTTP (Python's ssl cannot enable the CCM suites)")
        if [e.status for e in c.exchanges] != [200] or c.exchanges[0].response_body != DM_XML:
            raise RuntimeError(f"13-{suite}: s_server answered {c.exchanges}")
        conns.append(c)
    suite = "TLS_AES_128_GCM_SHA256"
    first, again = curl(tmp, "13-psk", c_srv.port, [post(close=True), post(close=True)], c13(suite), crt)
    expect(first, "TLSv1.3", suite, resumed=False)
    expect(again, "TLSv1.3", suite, resumed=True)
    again.resumption = "psk"
    first.notes.append("full handshake; the next connection resumes it with a PSK from its ticket")
    again.notes.append("PSK resumption (psk_dhe_ke); no 0-RTT (curl 7.88 sends no early data)")
    first.early_data = again.early_data = False
    conns += [first, again]
    sess = tmp / "13.sess"
    args = ["-tls1_3", "-ciphersuites", "TLS_CHACHA20_POLY1305_SHA256"]
    first = s_client_run(
        tmp, "13-sess-out", c_srv, [*args, "-sess_out", str(sess)], [f"tls13-{next(n)}"], crt
    )
    again = s_client_run(tmp, "13-sess-in", c_srv, [*args, "-sess_in", str(sess)], [f"tls13-{next(n)}"], crt)
    expect(first, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", resumed=False, early_data=False)
    expect(again, "TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256", resumed=True, early_data=False)
    again.resumption = "psk"
    first.notes.append("full handshake; s_client -sess_out keeps its last ticket for the next connection")
    again.notes.append("PSK resumption (s_client -sess_in); 0-RTT not asked for")
    conns += [first, again]
    script = [f"tls13-{next(n)}", "k", f"tls13-{next(n)}", "K", f"tls13-{next(n)}"]
    c = s_client_run(tmp, "13-keyupdate", c_srv, ["-tls1_3", "-ciphersuites", suite], script, crt)
    expect(c, "TLSv1.3", suite, resumed=False, key_update=True, early_data=False)
    if not any("2 KeyUpdate sent, 1 received" in note for note in c.notes):
        raise RuntimeError(f"13-keyupdate: {c.notes}")
    c.notes.append("POST, k (client KeyUpdate, update_not_requested), POST, K (update_requested), POST")
    conns.append(c)
    (c,) = curl(tmp, "13-hrr", d_srv.port, [post()], c13(suite, "--curves", "X25519:P-256"), crt)
    expect(c, "TLSv1.3", suite, resumed=False, hello_retry=True)
    c.notes.append("curl offered an X25519 key share; the server (P-256 only) sent a HelloRetryRequest")
    conns.append(c)
    (c,) = curl(tmp, "13-unknown-ca", c_srv.port, [post()], c13(suite), crt, cacert=False, fails=60)
    expect(c, "TLSv1.3", None, alert="unknown_ca", alert_from="client")
    c.cipher = suite
    c.notes.append(
        f"no --cacert: curl (60) rejects the certificate (encrypted alert); it offered only {suite}"
    )
    conns.append(c)
    for c in conns:
        if c.early_data is None and c.alert is None:
            c.early_data = False
            c.notes.append("no 0-RTT (curl 7.88 sends no early data)")
    return conns


# --- the recording ------------------------------------------------------------------------------


def keylog_lines(paths: Sequence[Path]) -> list[str]:
    """The secrets of all those key logs, each line once, in the order first seen."""
    out: dict[str, None] = {}
    for path in paths:
        if path.is_file():
            for line in path.read_text().splitlines():
                if line.strip() and not line.startswith("#"):
                    out.setdefault(line.strip(), None)
    return list(out)


def secret_paths(pcap: Path) -> dict[str, Path]:
    """Where the secrets of pcap go: key log, server key, server certificate, truth."""
    return {
        "keys": pcap.with_suffix(".keys"),
        "server.key": pcap.with_name(pcap.stem + ".server.key"),
        "server.crt": pcap.with_name(pcap.stem + ".server.crt"),
        "truth": pcap.with_suffix(".truth.json"),
    }


def record(
    out_path: str | Path, tls: str = "1.2", key: Path | None = None, crt: Path | None = None
) -> dict[str, Any]:
    """Records the tls12 (tls "1.2") or tls13 ("1.3") capture of the module docstring into out_path.

    Writes the merged key log next to it; with no key and crt given, makes a certificate and writes
    it there too (``<name>.server.key``, ``.server.crt``).  Returns the ground truth.
    """
    return record_counted(out_path, tls, key, crt)[0]


class PortReused(RuntimeError):
    """The kernel gave two of a recording's connections the same client port."""


def record_counted(
    out_path: str | Path, tls: str = "1.2", key: Path | None = None, crt: Path | None = None
) -> tuple[dict[str, Any], int]:
    """record(), and the number of packets tcpdump captured.

    The ground truth names each connection by its client port, so a recording in which the
    kernel handed out one port twice (Linux may, to different server ports; seen once in CI)
    is made again, up to three times in all.
    """
    for _ in range(2):
        try:
            return _record_once(out_path, tls, key, crt)
        except PortReused:
            pass
    return _record_once(out_path, tls, key, crt)


def _record_once(
    out_path: str | Path, tls: str, key: Path | None, crt: Path | None
) -> tuple[dict[str, Any], int]:
    if tls not in ("1.2", "1.3"):
        raise RuntimeError(f"record_tls_suites: tls is 1.2 or 1.3, not {tls!r}")
    for tool in ("tcpdump", "curl", "openssl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_tls_suites: {tool} is needed")
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = secret_paths(out)
    names = suite_names()
    with tempfile.TemporaryDirectory(prefix="record_tls_suites-") as tmp_name:
        tmp = Path(tmp_name)
        if key is None or crt is None:
            key, crt = paths["server.key"], paths["server.crt"]
            make_cert(key, crt, tmp)
        servers: dict[int, TlsServer] = {}
        sserver: SServer | None = None
        try:
            if tls == "1.2":
                for label, tickets in (("A", True), ("B", False)):
                    ctx = server_context(key, crt, tmp / f"server-{label}.keys", False, tickets=tickets)
                    srv = TlsServer(label, ctx)
                    servers[srv.port] = srv
            else:
                for label, groups in (("C", None), ("D", "prime256v1")):
                    ctx = server_context(key, crt, tmp / f"server-{label}.keys", True, groups=groups)
                    srv = TlsServer(label, ctx)
                    servers[srv.port] = srv
                sserver = SServer(key, crt, tmp, free_port())
            ports = [*servers, *([sserver.port] if sserver else [])]
            dump = Tcpdump(out, ports)
            try:
                by_label = {s.label: s for s in servers.values()}
                if tls == "1.2":
                    conns = tls12_scenario(tmp, crt, by_label["A"], by_label["B"])
                else:
                    assert sserver is not None
                    conns = tls13_scenario(tmp, crt, by_label["C"], by_label["D"], sserver)
            except RuntimeError as exc:
                said = f"; s_server: {sserver.said()}" if sserver else ""
                raise RuntimeError(f"{exc}{said}") from exc
            else:
                time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
            finally:
                said = dump.stop()
        finally:
            for srv in servers.values():
                srv.stop()
            if sserver is not None:
                sserver.stop()
        settle(conns, servers)
        if len({c.client_port for c in conns}) != len(conns):
            raise PortReused(f"a client port was used twice: {[c.client_port for c in conns]}")
        logs = sorted(tmp.glob("1[23]-*.keys"), key=lambda p: p.stat().st_mtime_ns)
        logs += sorted(tmp.glob("server-*.keys")) + sorted(tmp.glob("s_server.keys"))
        lines = keylog_lines(logs)
    captured = packets_captured(said)
    paths["keys"].write_text("".join(line + "\n" for line in lines))
    truth = {
        "server_name": SERVER_NAME,
        "server_key": key.name,
        "connections": [truth_entry(c, names) for c in conns],
    }
    return truth, captured


def main(argv: list[str]) -> int:
    out_dir = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parent)
    try:
        pcap12, pcap13 = out_dir / "tls12_loopback.pcap", out_dir / "tls13_loopback.pcap"
        truth12, packets12 = record_counted(pcap12, "1.2")
        secret_paths(pcap12)["truth"].write_text(json.dumps(truth12, indent=1) + "\n")
        key, crt = secret_paths(pcap12)["server.key"], secret_paths(pcap12)["server.crt"]
        truth13, packets13 = record_counted(pcap13, "1.3", key, crt)
        secret_paths(pcap13)["truth"].write_text(json.dumps(truth13, indent=1) + "\n")
    except (RuntimeError, OSError) as exc:
        print(f"record_tls_suites: {exc}", file=sys.stderr)
        return 1
    for pcap, truth, packets in ((pcap12, truth12, packets12), (pcap13, truth13, packets13)):
        print(f"wrote {pcap}: {packets} packets, {len(truth['connections'])} connections")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
