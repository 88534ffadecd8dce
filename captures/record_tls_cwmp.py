"""Record captures/tls_cwmp_loopback.pcap: CWMP over HTTPS via Apache mod_ssl + mod_auth_digest, and its twin.

The CPE is curl, one run per CWMP session (``--next`` between the POSTs, a cookie jar for the
session cookie, ``--digest -u cpe-user:PASSWORD``, ``-H 'Expect:'``), as in ``record_cwmp.py``.
It goes to ``https://acs.dmsniff.test:PORT/acs`` with ``--resolve acs.dmsniff.test:PORT:127.0.0.1``
(so the SNI is ``acs.dmsniff.test``) and ``--cacert`` a throwaway self-signed RSA-2048 certificate
for CN and DNS SAN ``acs.dmsniff.test`` plus IP SAN 127.0.0.1, valid for 30 days from the
recording, made by the ``openssl`` CLI.  The server is a private Apache httpd (``record_digest.py``'s,
imported from this folder, prefork) with two listeners: HTTPS (mod_ssl, TLS 1.2 and 1.3,
``SSLCipherSuite AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256``, TLS 1.3 suite TLS_AES_128_GCM_SHA256,
a shmcb ``SSLSessionCache``, ``SSLSessionTickets on``) and plain HTTP for the twin.  On both,
``/acs`` is protected by mod_auth_digest (realm ``dmsniff-acs``, ``AuthDigestAlgorithm MD5``, qop
``auth``, user ``cpe-user``) and ``ProxyPass``ed (mod_proxy_http) to ``record_cwmp.py``'s toy ACS
on a plain-HTTP port that tcpdump does not record; the ACS's session cookie passes through.

curl does the Digest dance for every transfer: it sends the POST first without credentials and
without its body (``Content-Length: 0``; the SOAP ``Content-Type`` and ``SOAPAction`` are sent
anyway), Apache answers 401 with a fresh ``WWW-Authenticate: Digest`` challenge and an HTML body,
and curl sends the POST again, with ``Authorization`` (nc=00000001) and the body.  So a CWMP
session with the right password is, on the wire: POST (empty) 401, Inform 200 InformResponse
(Set-Cookie), POST (empty) 401, empty POST 200 GetParameterValues, POST (empty) 401,
GetParameterValuesResponse 204; with the wrong password: POST (empty) 401, Inform 401 (a new
challenge), and curl gives up.  ``tls_cwmp_loopback.pcap`` holds, in order (TCP connections,
numbered as in the truth):

1. session 1, password ``cpe-pass``: TLS 1.2 AES128-SHA (TLS_RSA_WITH_AES_128_CBC_SHA, RSA key
   exchange, the suite TR-069 makes mandatory), full handshake, the six exchanges above;
2. session 2, password ``cpe-wrong``: TLS 1.2 AES128-SHA, full handshake, 401 and 401;
3. session 3, ``cpe-pass``: TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256, full handshake, six exchanges;
4. session 4, ``cpe-pass``: TLS 1.3 TLS_AES_128_GCM_SHA256 (X25519, no HelloRetryRequest), full
   handshake (Apache then sends two NewSessionTickets, never used), six exchanges;
5. session 5, ``cpe-pass``, TLS 1.2 AES128-SHA, its first transfer (the Inform) with
   ``-H 'Connection: close'``: a full handshake, POST (empty) 401 with ``Connection: close``, and
   the connection is closed (close_notify both ways, so the session stays in both caches); curl
   closes it having read the 401's headers but not its body, so the truth gives that body the
   sha256 of Apache's other 401 bodies (one error document, same ``Content-Length``; Apache's log
   says the same length; tshark shows it is right);
6. session 5 goes on in the same curl run: the Inform with ``Authorization`` goes on a new
   connection that resumes connection 5's TLS session by session ID (curl sets
   ``SSL_OP_NO_TICKET``: no session ticket is asked for in TLS 1.2), 200, and Apache closes it;
7. session 5's next two transfers (no ``Connection: close``) on a third connection, which resumes
   the same session again: POST (empty) 401, empty POST 200 GetParameterValues, POST (empty) 401,
   GetParameterValuesResponse 204.

Each resumption is what both peers said: curl ``SSL re-using session ID``, Apache
``SSL_SESSION_RESUMED=Resumed``.  Every TLS 1.2 handshake negotiates the extended master secret
(RFC 7627; OpenSSL's default on both sides, kept: it is what real peers do), and the AES128-SHA
(CBC) ones also encrypt-then-MAC (RFC 7366, OpenSSL's default too).  Decryption: the
RSA-key-exchange connections 1, 2, 5, 6 and 7 are decryptable with the server's RSA private key
alone (1, 2 and 5 from their ClientKeyExchange; 6 and 7 only through the master secret of
connection 5, whose session they resume, so a decryptor must have seen connection 5 first), the
ECDHE and TLS 1.3 connections 3 and 4 only with the key log.

``tls_cwmp_plain_loopback.pcap``, the twin: sessions 1 and 2 again, over plain HTTP through the
same Apache (its other listener), with the same user, passwords and CWMP bodies (the same bytes:
their sha256s are those of connections 1 and 2), one connection each: session 1 with
``cpe-pass`` (six exchanges), session 2 with ``cpe-wrong`` (401, 401).

Secrets: the NSS key log ``<name>.keys`` (curl's ``SSLKEYLOGFILE``: a ``CLIENT_RANDOM`` line per
TLS 1.2 connection, an ``RSA`` line per full RSA-key-exchange handshake, the five TLS 1.3
secrets; checked to be, apart from the ``RSA`` lines that only a client logs, exactly the lines
mod_ssl's own ``SSLKEYLOGFILE`` logged), the server's private key ``<name>.server.key`` (PEM,
unencrypted) and certificate ``<name>.server.crt``; Digest realm ``dmsniff-acs``, user
``cpe-user``, password ``cpe-pass``, the wrong one tried ``cpe-wrong``.

Ground truth (``record()`` returns it; ``main()`` writes it next to each pcap as
``<name>.truth.json``): ``connections`` in capture order, each with its TLS parameters as both
peers reported them (curl's trace, Apache's ``SSL_*`` variables) and its HTTP ``exchanges``
(method, URI, status, the sha256 of each body as curl sent and received it, de-chunked -- nothing
is chunked here), checked against Apache's access log (same requests, statuses, connections);
``digest``, one entry per request that carried ``Authorization: Digest``, in capture order (as in
``digest_loopback.truth.json``: client, user, password used, correct, status, method, URI, plus
the client port)::

    TLS capture                                 twin
    conn  user      password   correct status   conn  user      password   correct status
    1     cpe-user  cpe-pass   yes     200      1     cpe-user  cpe-pass   yes     200
    1     cpe-user  cpe-pass   yes     200      1     cpe-user  cpe-pass   yes     200
    1     cpe-user  cpe-pass   yes     204      1     cpe-user  cpe-pass   yes     204
    2     cpe-user  cpe-wrong  no      401      2     cpe-user  cpe-wrong  no      401
    3     cpe-user  cpe-pass   yes     200, 200, 204
    4     cpe-user  cpe-pass   yes     200, 200, 204
    6     cpe-user  cpe-pass   yes     200
    7     cpe-user  cpe-pass   yes     200, 204

All on 127.0.0.1, the ports picked at run time.  Run as root (tcpdump; Apache then runs its
children as nobody)::

    python captures/record_tls_cwmp.py [OUT.pcap [TWIN.pcap]]

``record(out_path, twin_path)`` does the same from Python and returns both truths.  Re-running
gives the same exchanges with new ports, certificate, keys, nonces, cookies and times (the
Informs' CurrentTime, so their digests).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds the recorders it builds on
import loopback
import record_cwmp as cw
import record_digest as web
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
SERVER_NAME = "acs.dmsniff.test"
REALM = "dmsniff-acs"
USER, PASSWORD, WRONG = "cpe-user", "cpe-pass", "cpe-wrong"
TIMEOUT = 10.0  # seconds, for any one step
MODULES = (
    "mpm_prefork",
    "authz_core",
    "authn_core",
    "authn_file",
    "authz_user",
    "auth_digest",
    "socache_shmcb",
    "ssl",
    "proxy",
    "proxy_http",
)
LOG_FIELDS = (
    "%{local}p",
    "%{remote}p",
    "%>s",
    "%r",
    "%{Authorization}i",
    "%{SSL_PROTOCOL}x",
    "%{SSL_CIPHER}x",
    "%{SSL_SESSION_RESUMED}x",
    "%{SSL_TLS_SNI}x",
    "%B",
)
IANA = {
    "AES128-SHA": "TLS_RSA_WITH_AES_128_CBC_SHA",
    "ECDHE-RSA-AES128-GCM-SHA256": "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_AES_128_GCM_SHA256": "TLS_AES_128_GCM_SHA256",
}


class Session(NamedTuple):
    """One CWMP session: one curl run."""

    number: int  # 1-5; the twin's are 1 and 2 again
    password: str
    version: str | None  # planned TLS version (None: plain HTTP)
    cipher: str | None  # planned suite, OpenSSL name
    curl: tuple[str, ...]  # curl's TLS options
    close_first: bool = False  # -H 'Connection: close' on the first transfer


TLS12 = ("--tlsv1.2", "--tls-max", "1.2", "--ciphers")
PLAN = [
    Session(1, PASSWORD, "TLSv1.2", "AES128-SHA", (*TLS12, "AES128-SHA")),
    Session(2, WRONG, "TLSv1.2", "AES128-SHA", (*TLS12, "AES128-SHA")),
    Session(3, PASSWORD, "TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", (*TLS12, "ECDHE-RSA-AES128-GCM-SHA256")),
    Session(
        4,
        PASSWORD,
        "TLSv1.3",
        "TLS_AES_128_GCM_SHA256",
        ("--tlsv1.3", "--tls13-ciphers", "TLS_AES_128_GCM_SHA256"),
    ),
    Session(5, PASSWORD, "TLSv1.2", "AES128-SHA", (*TLS12, "AES128-SHA"), close_first=True),
]
TWIN = [Session(1, PASSWORD, None, None, ()), Session(2, WRONG, None, None, ())]


def secret_paths(pcap: Path) -> dict[str, Path]:
    """Where the secrets of pcap go: key log, server key, server certificate, truth."""
    return {
        "keys": pcap.with_suffix(".keys"),
        "server.key": pcap.with_name(pcap.stem + ".server.key"),
        "server.crt": pcap.with_name(pcap.stem + ".server.crt"),
        "truth": pcap.with_suffix(".truth.json"),
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def make_cert(key: Path, crt: Path, tmp: Path) -> None:
    """A throwaway self-signed RSA-2048 certificate for SERVER_NAME and HOST (valid 30 days)."""
    loopback.make_cert(key, crt, tmp, SERVER_NAME, days=30)


# --- the server: Apache in front of the toy ACS -------------------------------------------------


def acs_conf(
    root: Path, moddir: Path, tls_port: int, plain_port: int, acs_port: int, key: Path, crt: Path
) -> str:
    """Writes the htdigest file under root; returns the httpd config (the plain port listed first)."""
    (root / "htdigest").write_text(web.htdigest_line(USER, PASSWORD, REALM))
    site = [
        f"    ServerName {SERVER_NAME}",
        f"    <Location /acs>\n    {web.digest_auth(root / 'htdigest', REALM)}\n    </Location>",
        f"    ProxyPass /acs http://{HOST}:{acs_port}/acs",
    ]
    return "\n".join(
        [
            *web.server_conf(root, moddir, [plain_port, tls_port], MODULES, r"\t".join(LOG_FIELDS)),
            f"SSLSessionCache shmcb:{root / 'ssl_scache'}(512000)",
            "SSLSessionCacheTimeout 300",
            f"<VirtualHost {HOST}:{tls_port}>",
            *site,
            "    SSLEngine on",
            f"    SSLCertificateFile {crt}",
            f"    SSLCertificateKeyFile {key}",
            "    SSLProtocol -all +TLSv1.2 +TLSv1.3",
            "    SSLCipherSuite AES128-SHA:ECDHE-RSA-AES128-GCM-SHA256",  # PLAN's TLS 1.2 suites
            "    SSLCipherSuite TLSv1.3 TLS_AES_128_GCM_SHA256",
            "    SSLSessionTickets on",
            "</VirtualHost>",
            f"<VirtualHost {HOST}:{plain_port}>",
            *site,
            "</VirtualHost>",
            "",
        ]
    )


class Logged(NamedTuple):
    """One request in Apache's access log."""

    server_port: int
    client_port: int
    status: int
    method: str
    uri: str
    authorization: str | None
    version: str | None  # SSL_PROTOCOL
    cipher: str | None
    resumed: bool | None  # SSL_SESSION_RESUMED
    sni: str | None
    body_bytes: int  # %B


def access_log(root: Path) -> list[Logged]:
    out = []
    for line in (root / "access.log").read_text().splitlines():
        local, remote, status, request, auth, version, cipher, resumed, sni, size = (
            None if v == "-" else v for v in line.split("\t")
        )
        assert local and remote and status and request
        method, uri, _ = request.split(" ")
        out.append(
            Logged(
                int(local),
                int(remote),
                int(status),
                method,
                uri,
                auth.replace('\\"', '"') if auth else None,
                version,
                cipher,
                None if resumed is None else resumed == "Resumed",
                sni,
                int(size or 0),
            )
        )
    return out


# --- the client: curl --trace -------------------------------------------------------------------


class Exchange:
    """One request curl sent and the response it got, as its trace shows them."""

    def __init__(self, conn: int, head: bytes) -> None:  # a plain class: loading needs no sys.modules entry
        self.conn = conn  # curl's connection number in its run
        self.head = head
        self.body = b""
        self.response_head = b""
        self.response_body = b""  # raw, as read from the connection
        self.unread = False  # curl closed the connection without reading the body
        line = head.split(b"\r\n", 1)[0].decode()
        m = re.fullmatch(r"([A-Z]+) (\S+) HTTP/1\.1", line)
        if not m:
            raise RuntimeError(f"curl sent {line!r}")
        self.method, self.uri = m[1], m[2]

    def header(self, head: bytes, name: str) -> str | None:
        for line in head.decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def authorization(self) -> str | None:
        return self.header(self.head, "Authorization")

    @property
    def status(self) -> int:
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", self.response_head)
        if not m:
            raise RuntimeError(f"curl got {self.response_head[:40]!r}")
        return int(m[1])

    def response_content(self) -> bytes:
        """The response body, de-chunked; checked against Content-Length."""
        body = self.response_body
        if (self.header(self.response_head, "Transfer-Encoding") or "").lower() == "chunked":
            out, rest = b"", body
            while True:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    break
                out, rest = out + rest[:size], rest[size + 2 :]
            body = out
        elif (length := self.header(self.response_head, "Content-Length")) is not None and int(length) != len(
            body
        ):
            raise RuntimeError(f"curl read {len(body)} body bytes of {length}")
        return body


class Conn:
    """One TCP connection as curl's trace tells it."""

    def __init__(self, number: int) -> None:
        self.number = number
        self.info: list[str] = []  # curl's informational lines while it was the current connection

    def first(self, pattern: str) -> re.Match[str] | None:
        return next((m for line in self.info if (m := re.search(pattern, line))), None)

    def count(self, pattern: str) -> int:
        return sum(1 for line in self.info if re.search(pattern, line))


def read_trace(path: Path) -> tuple[list[Conn], list[Exchange]]:
    """curl --trace: its info lines, per connection, and the HTTP bytes it sent and received."""
    entries: list[tuple[str, bytearray]] = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("== Info: "):
            entries.append(("info", bytearray(line[9:].encode())))
        elif m := re.match(r"(=>|<=) (Send|Recv) (header|data|SSL data), \d+ bytes", line):
            entries.append((f"{m[2]} {m[3]}", bytearray()))
        elif re.match(r"[0-9a-f]{4}: ", line) and entries:
            entries[-1][1].extend(bytes.fromhex(line[6:54].replace(" ", "")))
    conns: dict[int, Conn] = {}
    current: Conn | None = None
    exchanges: list[Exchange] = []
    waiting: deque[Exchange] = deque()  # sent, not yet answered
    for kind, data in entries:
        if kind == "info":
            text = data.decode()
            if m := re.match(r"Connected to \S+ \(\S+\) port \d+ \(#(\d+)\)", text):
                current = conns[int(m[1])] = Conn(int(m[1]))
            elif m := re.match(r"Re-using existing connection #(\d+)", text):
                current = conns[int(m[1])]
            if current is not None:
                current.info.append(text)
            if m := re.match(r"Closing connection (\d+)", text):
                while (
                    waiting
                    and waiting[0].conn == int(m[1])
                    and waiting[0].response_head.endswith(b"\r\n\r\n")
                ):
                    waiting.popleft().unread = True
        elif kind == "Send header":
            if current is None:
                raise RuntimeError("curl sent a request before it connected")
            exchanges.append(Exchange(current.number, bytes(data)))
            waiting.append(exchanges[-1])
        elif kind == "Send data":
            exchanges[-1].body += data
        elif kind == "Recv header":
            if data.startswith(b"HTTP/"):
                if not waiting:
                    raise RuntimeError(f"curl got a response to nothing: {bytes(data)!r}")
                waiting[0].response_head = b""
            waiting[0].response_head += data
            if data == b"\r\n":
                if waiting[0].status // 100 == 1:
                    raise RuntimeError("curl got an interim response")
                if (
                    waiting[0].header(waiting[0].response_head, "Content-Length") == "0"
                    or waiting[0].status == 204
                ):
                    waiting.popleft()
        elif kind == "Recv data":
            if not waiting:
                raise RuntimeError("curl got body bytes after the last response")
            resp = waiting[0]
            resp.response_body += data
            length = resp.header(resp.response_head, "Content-Length")
            if (length is not None and len(resp.response_body) >= int(length)) or (
                length is None and resp.response_body.endswith(b"0\r\n\r\n")  # chunked
            ):
                waiting.popleft()
    if waiting:
        raise RuntimeError(f"curl's trace leaves {len(waiting)} requests unanswered")
    return list(conns.values()), exchanges


class Run(NamedTuple):
    session: Session
    conns: list[Conn]
    exchanges: list[Exchange]
    bodies: list[bytes]  # what each transfer posted


def run_session(
    session: Session, url: str, tmp: Path, bodies: dict[str, bytes], common: list[str], env: dict[str, str]
) -> Run:
    """One CWMP session, one curl run; checks the HTTP codes and connection counts -w reports."""
    n = session.number
    names = [f"inform{n}", None, f"gpv{n}"] if session.password == PASSWORD else [f"inform{n}"]
    posts = []
    for name in names:
        if name is not None:
            (tmp / name).write_bytes(bodies[name])
        posts.append(None if name is None else tmp / name)
    tag = f"{'tls' if session.version else 'plain'}{n}"
    jar, trace = tmp / f"jar-{tag}", tmp / f"trace-{tag}"
    args = ["curl", "--trace", str(trace)]
    for i, post in enumerate(posts):
        if i:
            args.append("--next")
        args += ["-sS", "-o", "/dev/null", "-w", "%{http_code} %{num_connects}\\n", "--max-time", "5"]
        args += [
            "--connect-timeout",
            "2",
            *common,
            *session.curl,
            "--digest",
            "-u",
            f"{USER}:{session.password}",
        ]
        args += cw.post_args(jar, post)
        if i == 0 and session.close_first:
            args += ["-H", "Connection: close"]
        args.append(url)
    try:
        done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(f"curl timed out ({tag})") from exc
    if done.returncode:
        raise RuntimeError(f"curl failed ({tag}, {done.returncode}): {done.stderr.strip()}")
    got = [line.split() for line in done.stdout.splitlines()]
    codes, connects = [int(c) for c, _ in got], [int(k) for _, k in got]
    want = [200, 200, 204] if session.password == PASSWORD else [401]
    want_connects = [2, 1, 0] if session.close_first else [1] + [0] * (len(posts) - 1)
    if codes != want or connects != want_connects:
        raise RuntimeError(f"curl ({tag}): HTTP {codes} over {connects} new connections, wanted {want}")
    conns, exchanges = read_trace(trace)
    return Run(session, conns, exchanges, [b"" if p is None else p.read_bytes() for p in posts])


# --- the truth ----------------------------------------------------------------------------------


def fill_unread(runs: list[Run]) -> None:
    """A 401 whose body curl did not read (it closed the connection after a Connection: close) gets
    the body of Apache's other 401s, which curl read: one and the same error document, checked."""
    read = {e.response_body for run in runs for e in run.exchanges if e.status == 401 and not e.unread}
    for e in (e for run in runs for e in run.exchanges if e.unread):
        if e.status != 401 or len(read) != 1:
            raise RuntimeError(f"curl left a {e.status} body unread; the 401 bodies it read: {len(read)}")
        e.response_body = next(iter(read))


def check_run(run: Run, logged: list[Logged], expect: dict[str, bytes]) -> None:
    """curl's exchanges against the plan and Apache's log (which says the same, request by request)."""
    s, ex = run.session, run.exchanges
    tag = f"session {s.number}{'' if s.version else ' (plain)'}"
    mine = [(e.method, e.uri, e.status, e.authorization is not None) for e in ex]
    theirs = [(g.method, g.uri, g.status, g.authorization is not None) for g in logged]
    if mine != theirs:
        raise RuntimeError(f"{tag}: curl saw {mine} but Apache logged {theirs}")
    right = s.password == PASSWORD
    statuses = [401, 200, 401, 200, 401, 204] if right else [401, 401]
    if [e.status for e in ex] != statuses or [e.authorization is not None for e in ex] != [False, True] * (
        len(ex) // 2
    ):
        raise RuntimeError(f"{tag}: not the Digest dance planned: {mine}")
    for i, e in enumerate(ex):
        if len(e.response_content()) != logged[i].body_bytes:
            raise RuntimeError(
                f"{tag}: curl got {len(e.response_content())} body bytes, Apache sent {logged[i]}"
            )
        challenge = e.header(e.response_head, "WWW-Authenticate") or ""
        if e.status == 401 and not (challenge.startswith("Digest ") and f'realm="{REALM}"' in challenge):
            raise RuntimeError(f"{tag}: a 401 without our Digest challenge: {challenge!r}")
        if e.authorization is None:
            if e.body:
                raise RuntimeError(f"{tag}: curl sent a body before it had a challenge")
            continue
        m = re.search(r'username="([^"]*)"', e.authorization)
        if not e.authorization.startswith("Digest ") or not m or m[1] != USER:
            raise RuntimeError(f"{tag}: curl sent {e.authorization!r}")
        if e.body != run.bodies[i // 2]:
            raise RuntimeError(f"{tag}: curl sent other bytes than transfer {i // 2}'s body")
        if right and e.response_content() != expect[f"answer{s.number}-{i // 2}"]:
            raise RuntimeError(f"{tag}: the ACS's answer to transfer {i // 2} is not the planned one")
    if len({g.client_port for g in logged}) != len(run.conns) or any(
        len({g.client_port for g, e in zip(logged, ex, strict=True) if e.conn == c.number}) != 1
        for c in run.conns
    ):
        raise RuntimeError(f"{tag}: curl's connections {[c.number for c in run.conns]} are not Apache's")


def tls_facts(run: Run, conn: Conn, logged: list[Logged]) -> dict[str, Any]:
    """A connection's TLS as both peers saw it; raises if they disagree with each other or the plan."""
    s = run.session
    curl_said = conn.first(r"^SSL connection using (\S+) / (\S+)")
    view = {
        "version": curl_said[1] if curl_said else None,
        "cipher": curl_said[2] if curl_said else None,
        "resumed": conn.count(r"^SSL re-using session ID") > 0,  # curl offered a cached session
        "verified": conn.count(r"^ +SSL certificate verify ok") == 1,
    }
    server = {(g.version, g.cipher, g.resumed, g.sni) for g in logged}
    if len(server) != 1:
        raise RuntimeError(f"session {s.number}: Apache logged {server} on one connection")
    version, cipher, resumed, sni = server.pop()
    if (view["version"], view["cipher"]) != (s.version, s.cipher) or (version, cipher) != (
        s.version,
        s.cipher,
    ):
        raise RuntimeError(f"session {s.number}: curl says {view}, Apache {version} {cipher}, planned {s}")
    if sni != SERVER_NAME:
        raise RuntimeError(f"session {s.number}: Apache got SNI {sni!r}")
    if view["resumed"] != resumed or not view["verified"]:
        raise RuntimeError(f"session {s.number}: curl says {view}, Apache resumed={resumed}")
    hellos = (
        conn.count(r"\(OUT\), TLS handshake, Client hello"),
        conn.count(r"\(IN\), TLS handshake, Server hello"),
    )
    certs = conn.count(r"\(IN\), TLS handshake, Certificate \(11\)")
    if hellos != (1, 1) or certs != (0 if resumed else 1):
        raise RuntimeError(f"session {s.number}: hellos {hellos}, certificates {certs}, resumed {resumed}")
    return {
        "resumed": bool(resumed),
        "key_update": conn.count(r"TLS handshake, Key update") > 0,
        "hello_retry": False,  # one ServerHello: a HelloRetryRequest would be a second
        "tickets": conn.count(r"\(IN\), TLS handshake, Newsession Ticket"),
    }


def connections_truth(runs: list[Run], logged: list[Logged], port: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    mine = [g for g in logged if g.server_port == port]
    at = 0
    for run in runs:
        entries, at = mine[at : at + len(run.exchanges)], at + len(run.exchanges)
        s = run.session
        for conn in run.conns:
            pairs = [(e, g) for e, g in zip(run.exchanges, entries, strict=True) if e.conn == conn.number]
            notes = [
                f"CWMP session {s.number} (curl run), password {s.password} "
                + ("(right)" if s.password == PASSWORD else "(wrong)")
            ]
            entry: dict[str, Any] = {
                "client_port": pairs[0][1].client_port,
                "server_port": port,
                "tool": "curl",
                "server_tool": "apache2 mod_ssl" if s.version else "apache2",
                "cwmp_session": s.number,
                "tls_version": s.version,
                "cipher": s.cipher,
                "cipher_iana": IANA[s.cipher] if s.cipher else None,
                "resumed": False,
                "sni": SERVER_NAME if s.version else None,
                "key_update": False,
                "hello_retry": False,
            }
            if s.version:
                facts = tls_facts(run, conn, [g for _, g in pairs])
                entry.update({k: facts[k] for k in ("resumed", "key_update", "hello_retry")})
                if s.cipher == "AES128-SHA":
                    if facts["resumed"]:
                        first = next(c for c in out if c["cwmp_session"] == s.number and not c["resumed"])
                        notes.append(
                            f"resumes by session ID the TLS session of connection {out.index(first) + 1} "
                            f"(client port {first['client_port']}): RSA key exchange, so the server's RSA "
                            "key decrypts it only through that connection's master secret"
                        )
                    else:
                        notes.append(
                            "full handshake, RSA key exchange with extended master secret: the server's RSA "
                            "key alone decrypts it"
                        )
                elif s.version == "TLSv1.2":
                    notes.append("full handshake, ECDHE: only the key log decrypts it")
                else:
                    notes.append(
                        f"full handshake (X25519); Apache sent {facts['tickets']} NewSessionTickets, never "
                        "used; only the key log decrypts it"
                    )
            else:
                notes.append("plain HTTP through the same Apache")
            if s.close_first and pairs[0][0] is run.exchanges[0]:
                notes.append("the first transfer sent Connection: close: Apache closed after its 401")
            if any(e.unread for e, _ in pairs):
                notes.append(
                    "curl closed the connection without reading the 401's body (it had the headers); its "
                    "sha256 is that of the other 401 bodies (Apache's one error document, same length)"
                )
            elif s.close_first and len(pairs) == 1:
                notes.append(
                    "the Inform with Authorization, Connection: close: Apache closed after answering"
                )
            elif s.close_first:
                notes.append("the session's next two transfers, one keep-alive connection")
            entry["notes"] = notes
            entry["exchanges"] = [
                {
                    "method": e.method,
                    "uri": e.uri,
                    "status": e.status,
                    "authorization": e.authorization is not None,
                    "request_body_sha256": sha256(e.body),
                    "response_body_sha256": sha256(e.response_content()),
                }
                for e, _ in pairs
            ]
            out.append(entry)
    if at != len(mine):
        raise RuntimeError(f"Apache logged {len(mine) - at} requests on port {port} nobody sent")
    return out


def digest_truth(connections: list[dict[str, Any]], runs: list[Run]) -> list[dict[str, Any]]:
    """Per request with Authorization: Digest, in capture order (one request at a time: order of sending)."""
    out = []
    flat = [(c, x) for c in connections for x in c["exchanges"]]
    sent = [(run.session, e) for run in runs for e in run.exchanges]
    for (c, x), (s, e) in zip(flat, sent, strict=True):
        if not x["authorization"]:
            continue
        out.append(
            {
                "client": "curl",
                "user": USER,
                "password_used": s.password,
                "correct": s.password == PASSWORD,
                "status": e.status,
                "uri": e.uri,
                "method": e.method,
                "client_port": c["client_port"],
            }
        )
    return out


# --- the recording ------------------------------------------------------------------------------


def cwmp_bodies() -> tuple[dict[str, bytes], dict[str, bytes], list[list[tuple[str, str, bytes]]]]:
    """What the CPE posts per session, what the ACS must answer, and the ACS's scripts (right password)."""
    pii, sw = cw.IGD + "ManagementServer.PeriodicInformInterval", cw.IGD + "DeviceInfo.SoftwareVersion"
    cr_url = f"http://{HOST}:7547/cr"  # nobody listens: no connection request here
    posts, answers, scripts = {}, {}, []
    for p in PLAN:
        n = p.number
        events = [("1 BOOT", "")] if n == 1 else [("2 PERIODIC", "")]
        posts[f"inform{n}"] = cw.inform(f"cpe-{n}", events, cw.inform_params(cr_url, "1.0.0", ""))
        if p.password != PASSWORD:
            continue
        values = [(pii, "unsignedInt", "86400"), (sw, "string", "1.0.0")]
        posts[f"gpv{n}"] = cw.rpc(
            f"acs-{n}", "GetParameterValuesResponse", cw._values("ParameterList", values)
        )
        gpv = cw.rpc(f"acs-{n}", "GetParameterValues", cw._names([pii, sw]))
        scripts.append([(f"acs-{n}", "GetParameterValues", gpv)])
        answers[f"answer{n}-0"] = cw.rpc(f"cpe-{n}", "InformResponse", " <MaxEnvelopes>1</MaxEnvelopes>\n")
        answers[f"answer{n}-1"] = gpv
        answers[f"answer{n}-2"] = b""
    return posts, answers, scripts


def record(
    out_path: str | Path, twin_path: str | Path | None = None, keep: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Records the module docstring's TLS capture into out_path (key log, server key and certificate
    beside it) and its plaintext twin into twin_path (default: the twin_name() of out_path); returns
    both ground truths, each {"connections": [...], "digest": [...]}.  With ``keep``, the work
    files the truth is read from are copied there too, even when the recording fails."""
    truth, twin, _ = record_counted(out_path, twin_path, keep)
    return truth, twin


def twin_name(pcap: Path) -> Path:
    """tls_cwmp_loopback.pcap -> tls_cwmp_plain_loopback.pcap; any other X.pcap -> X_plain.pcap."""
    stem = (
        pcap.stem.replace("tls_cwmp_", "tls_cwmp_plain_", 1)
        if "tls_cwmp_" in pcap.stem
        else pcap.stem + "_plain"
    )
    return pcap.with_name(stem + pcap.suffix)


def keep_work_files(tmp: Path, keep: Path) -> None:
    """Copies curl's traces and cookie jars, Apache's logs and both key logs from the recording's
    temporary folder to ``keep``: what a failed check of a fresh recording is traced back with."""
    keep.mkdir(parents=True, exist_ok=True)
    for pattern in ("trace-*", "jar-*", "*.keys", "httpd/*.log"):
        for path in tmp.glob(pattern):
            if path.is_file():
                shutil.copyfile(path, keep / path.name)


def record_counted(
    out_path: str | Path, twin_path: str | Path | None = None, keep: Path | None = None
) -> tuple[dict[str, Any], dict[str, Any], list[int]]:
    """record(), and the numbers of packets tcpdump captured."""
    out = Path(out_path)
    twin_out = Path(twin_path) if twin_path is not None else twin_name(out)
    for tool in ("tcpdump", "curl", "openssl"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_tls_cwmp: {tool} is needed")
    binary, moddir = web.find_apache(MODULES)
    out.parent.mkdir(parents=True, exist_ok=True)
    twin_out.parent.mkdir(parents=True, exist_ok=True)
    paths = secret_paths(out)
    posts, answers, scripts = cwmp_bodies()
    acs = cw.Acs(deque(scripts + scripts[:1]), pinned=False)  # behind a proxy: any backend connection
    with tempfile.TemporaryDirectory(prefix="record_tls_cwmp-") as name:
        tmp = Path(name)
        tmp.chmod(0o711)  # Apache's children (nobody) must reach root, not read the rest
        try:
            root = tmp / "httpd"
            root.mkdir()
            make_cert(paths["server.key"], paths["server.crt"], tmp)
            server_keys, client_keys = tmp / "server.keys", tmp / "client.keys"
            srv = cw.serve(cw.acs_handler(acs))
            dumped = []
            try:
                acs_port = int(srv.server_address[1])
                tls_port, plain_port = web.free_port(), web.free_port()
                conf = acs_conf(
                    root, moddir, tls_port, plain_port, acs_port, paths["server.key"], paths["server.crt"]
                )
                apache = web.Apache(
                    binary, root, plain_port, conf, env={**os.environ, "SSLKEYLOGFILE": str(server_keys)}
                )
                try:
                    env = {**os.environ, "SSLKEYLOGFILE": str(client_keys)}
                    runs: dict[int, list[Run]] = {tls_port: [], plain_port: []}
                    for port, plan, pcap in ((tls_port, PLAN, out), (plain_port, TWIN, twin_out)):
                        scheme = "https" if port == tls_port else "http"
                        url = f"{scheme}://{SERVER_NAME}:{port}/acs"
                        common = ["--noproxy", "*", "--resolve", f"{SERVER_NAME}:{port}:{HOST}"]
                        if scheme == "https":
                            common += ["--cacert", str(paths["server.crt"])]
                        dump = Tcpdump(pcap, [port])
                        try:
                            for session in plan:
                                runs[port].append(run_session(session, url, tmp, posts, common, env))
                        except RuntimeError as exc:  # say what the ACS and Apache saw too
                            raise RuntimeError(
                                "; ".join([str(exc), *acs.errors, f"apache2: {apache.said()}"])
                            ) from exc
                        else:
                            time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
                        finally:
                            dumped.append(dump.stop())
                finally:
                    apache.stop()
            finally:
                srv.shutdown()
                srv.server_close()
            if acs.scripts or not all(s.done for s in acs.sessions.values()) or len(acs.sessions) != 5:
                acs.errors.append("ACS: sessions did not all run to their 204")
            if acs.errors:
                raise RuntimeError("; ".join(acs.errors))
            logged = access_log(root)
            fill_unread(runs[tls_port] + runs[plain_port])
            truths = []
            for port in (tls_port, plain_port):
                mine = [g for g in logged if g.server_port == port]
                at = 0
                for run in runs[port]:
                    check_run(run, mine[at : at + len(run.exchanges)], answers)
                    at += len(run.exchanges)
                connections = connections_truth(runs[port], logged, port)
                truths.append({"connections": connections, "digest": digest_truth(connections, runs[port])})
            check_keys(server_keys, client_keys, truths[0])
            shutil.copyfile(client_keys, paths["keys"])
        finally:
            if keep is not None:
                keep_work_files(tmp, keep)
    counts = []
    for said in dumped:
        counts.append(packets_captured(said))
    return truths[0], truths[1], counts


def keylog_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


def check_keys(server_keys: Path, client_keys: Path, truth: dict[str, Any]) -> None:
    """curl's key log against mod_ssl's, and against the connections: a CLIENT_RANDOM per TLS 1.2
    connection, an RSA line per full RSA handshake (only the client logs those), five TLS 1.3 secrets."""
    logged, sent = keylog_lines(server_keys), keylog_lines(client_keys)
    if not set(logged) <= set(sent) or {ln for ln in sent if not ln.startswith("RSA ")} != set(logged):
        raise RuntimeError(f"the key logs differ: mod_ssl {len(logged)} lines, curl {len(sent)}")
    labels = [line.split()[0] for line in sent]
    conns = truth["connections"]
    want = {
        "CLIENT_RANDOM": sum(c["tls_version"] == "TLSv1.2" for c in conns),
        "RSA": sum(c["cipher"] == "AES128-SHA" and not c["resumed"] for c in conns),
        "CLIENT_TRAFFIC_SECRET_0": sum(c["tls_version"] == "TLSv1.3" for c in conns),
    }
    if any(labels.count(k) != v for k, v in want.items()):
        raise RuntimeError(f"the key log does not fit the connections: {want}, got {sorted(labels)}")


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("tls_cwmp_loopback.pcap"))
    twin = Path(argv[2]) if len(argv) > 2 else twin_name(out)
    try:
        truth, twin_truth, counts = record_counted(out, twin)
        secret_paths(out)["truth"].write_text(json.dumps(truth, indent=1) + "\n")
        secret_paths(twin)["truth"].write_text(json.dumps(twin_truth, indent=1) + "\n")
    except (RuntimeError, OSError) as exc:
        print(f"record_tls_cwmp: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(p.name for p in secret_paths(out).values())
    print(f"wrote {out}: {counts[0]} packets, {len(truth['connections'])} TLS connections; {names}")
    print(f"wrote {twin}: {counts[1]} packets, {len(twin_truth['connections'])} connections")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
