"""Real TLS transcripts from two in-memory OpenSSL peers, and pcaps made of them.

Test input for the TLS decoder, made without any network: a client and a server
``ssl.SSLObject`` (Python's ``ssl``, so the system OpenSSL 3) talk over ``ssl.MemoryBIO``s, and
this module pumps the bytes between them.  Everything on the wire is what OpenSSL wrote; only
the TCP/IP framing around it is synthetic.  Standard library and ``cryptography`` only: it
generates input for ``dmsniff`` and ``decoders`` and imports neither.

Transcripts::

    get = (b"GET / HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n", b"HTTP/1.1 204 No Content\\r\\n\\r\\n")
    cfg = TLSConfig(max_version=ssl.TLSVersion.TLSv1_2, ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                    exchanges=(get,))
    t = transcript(cfg)
    t.flights          # [(0, ClientHello), (1, ServerHello..ServerHelloDone), (0, ...), ...]
    t.keylog           # NSS key log lines (CLIENT_RANDOM ... for TLS 1.2, the five secrets for 1.3)
    t.client.cipher    # ('ECDHE-RSA-AES128-GCM-SHA256', 'TLSv1.2', 128), as OpenSSL reports it
    c2s, s2c = streams(t)          # each direction's bytes, for a decoder without any pcap
    t2 = transcript(dataclasses.replace(cfg, session=t.session))   # t2.client.session_reused

``TLSConfig`` fields: version bounds (``min_version``/``max_version``), the TLS <= 1.2 cipher
string (``ciphers``, given to ``set_ciphers`` on both sides), the TLS 1.3 ciphersuites
(``tls13_ciphersuites``, see below), ``tickets`` (False sets ``OP_NO_TICKET`` on both sides:
TLS 1.2 then resumes by session ID; TLS 1.3 still sends NewSessionTicket, but stateful ones),
``num_tickets`` (TLS 1.3 server), ``session`` (an ``ssl.SSLSession`` to resume), ``exchanges``
(the HTTP/1.1 request/response byte pairs to carry), ``sni``, ``alpn``, ``close_notify``,
``extended_master_secret`` and ``encrypt_then_mac`` (both on by default, as in OpenSSL).  The
peers use a self-signed RSA-2048 certificate made once per process with ``cryptography``;
``server_key_pem()`` gives its key (for RSA key exchange, e.g. ``ciphers="AES128-SHA"``) and
``server_cert_pem()`` its certificate.  Contexts are cached per TLS profile (everything in the
config but the exchanges and the session) for the whole process: resuming needs the same server
context (its ticket key and session cache) and, in Python, the very client context that made
the session.  A session can only be resumed with a config of the same profile.  Not thread-safe.

Choosing the TLS 1.3 ciphersuite.  Python 3.11's ``ssl`` has no ``set_ciphersuites`` and
``set_ciphers`` does not touch TLS 1.3, so by default the server (``OP_CIPHER_SERVER_PREFERENCE``
is on in Python) always picks TLS_AES_256_GCM_SHA384 from the default offer.  What works, tried
here with OpenSSL 3.0.19:

- ctypes (used here): ``SSL_CTX_set_ciphersuites`` from the libssl that ``_ssl`` is linked to,
  on the context's ``SSL_CTX*``, which is the first field after ``PyObject_HEAD`` in CPython's
  ``PySSLContext``.  The pointer is checked first (``SSL_CTX_get_ssl_method`` must return
  ``TLS_client_method()``/``TLS_server_method()``) and the result afterwards (``get_ciphers()``
  must list exactly the suites asked for).  Per context, any suite OpenSSL has, including
  TLS_AES_128_CCM_SHA256 which is off by default.
- ``OPENSSL_CONF`` pointing to a file with ``Ciphersuites = ...`` in the ``system_default``
  section also works, but for the whole process, and only if the variable is set before
  ``hashlib`` or ``ssl`` is first imported (that is when libcrypto loads its configuration);
  set later, it is silently ignored.  Fine for a subprocess, useless inside pytest.
- The server choosing among what the client offers does not help: both lists are the default.

Pcaps: ``write_pcap(path, transcripts, mss=1400, interleave=4)`` writes Ethernet/IPv4/TCP
(SYN, SYN-ACK, ACK; each flight in segments of at most ``mss`` bytes with proper seq/ack and
an ACK every ``ack_every`` segments; FIN at the end) to a microsecond pcap, one connection per
transcript, each from its own client address and port to 192.168.0.1:443, with up to
``interleave`` connections' bursts interleaved.  Frames are written by ``gencap.Writer``.

The benchmark capture (TLS 1.2 ECDHE-RSA AES128-GCM/AES256-GCM/CHACHA20 and TLS 1.3 mixed, some
resumptions, CWMP sessions and 1-4 MB firmware downloads over HTTP/1.1)::

    python benchmarks/gentls.py OUT.pcap --keylog OUT.keys --mb 100 [--seed 1] [--interleave 4]

The structure and HTTP content depend on the seed only; the TLS randoms, keys and so the
ciphertext differ from run to run.
"""

from __future__ import annotations

import _ssl
import argparse
import atexit
import ctypes
import dataclasses
import datetime
import functools
import os
import random
import shutil
import ssl
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

try:
    from benchmarks import gencap
except ModuleNotFoundError:  # run as a script: benchmarks/ is sys.path[0]
    import gencap  # type: ignore[no-redef, import-not-found]

CLIENT, SERVER = 0, 1  # flight directions: 0 = client -> server, 1 = server -> client
SERVER_NAME = "acs.example"
SERVER_ADDR = (0xC0A80001, 443)  # 192.168.0.1:443
OP_NO_EXTENDED_MASTER_SECRET = 1 << 0  # SSL_OP_NO_EXTENDED_MASTER_SECRET (OpenSSL 3)
OP_NO_ENCRYPT_THEN_MAC = 1 << 19  # SSL_OP_NO_ENCRYPT_THEN_MAC
Exchange = tuple[bytes, bytes]  # (HTTP request bytes, HTTP response bytes)
V12, V13 = ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3


# --------------------------------------------------------------------------------------------
# The server's certificate and key


@dataclass(frozen=True)
class Credentials:
    cert_pem: bytes
    key_pem: bytes
    cert_path: str
    key_path: str


@functools.cache
def credentials() -> Credentials:
    """The self-signed RSA-2048 certificate and key of every server, made once per process."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SERVER_NAME)])
    start = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=365 * 30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(SERVER_NAME)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cert_path = os.path.join(_tmpdir(), "server.crt")
    key_path = os.path.join(_tmpdir(), "server.key")
    Path(cert_path).write_bytes(cert_pem)
    Path(key_path).write_bytes(key_pem)
    return Credentials(cert_pem, key_pem, cert_path, key_path)


def server_key_pem() -> bytes:
    """The servers' RSA private key, PKCS#8 PEM (for decrypting RSA key exchange)."""
    return credentials().key_pem


def server_cert_pem() -> bytes:
    return credentials().cert_pem


@functools.cache
def _tmpdir() -> str:
    path = tempfile.mkdtemp(prefix="gentls-")
    atexit.register(shutil.rmtree, path, True)
    return path


# --------------------------------------------------------------------------------------------
# TLS 1.3 ciphersuites through ctypes


@functools.cache
def _libssl() -> ctypes.CDLL:
    lib = ctypes.CDLL(_ssl.__file__)  # dlsym on it also searches the libssl it is linked to
    lib.SSL_CTX_set_ciphersuites.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.SSL_CTX_set_ciphersuites.restype = ctypes.c_int
    lib.SSL_CTX_get_ssl_method.argtypes = [ctypes.c_void_p]
    lib.SSL_CTX_get_ssl_method.restype = ctypes.c_void_p
    lib.TLS_client_method.restype = ctypes.c_void_p
    lib.TLS_server_method.restype = ctypes.c_void_p
    return lib


def set_tls13_ciphersuites(ctx: ssl.SSLContext, suites: str) -> None:
    """``SSL_CTX_set_ciphersuites(ctx, suites)``, which Python 3.11 does not expose.

    Only for ``PROTOCOL_TLS_CLIENT``/``PROTOCOL_TLS_SERVER`` contexts of CPython.  Raises
    RuntimeError when the ``SSL_CTX*`` cannot be found safely, ValueError when OpenSSL does not
    end up with exactly ``suites`` (colon-separated IANA names, in preference order).
    """
    if sys.implementation.name != "cpython" or ssl.SSLContext.__basicsize__ <= object.__basicsize__:
        raise RuntimeError("setting TLS 1.3 ciphersuites needs CPython's PySSLContext layout")
    methods = {ssl.PROTOCOL_TLS_CLIENT: "TLS_client_method", ssl.PROTOCOL_TLS_SERVER: "TLS_server_method"}
    if ctx.protocol not in methods:
        raise RuntimeError(f"unsupported context protocol {ctx.protocol!r}")
    try:
        lib = _libssl()
        expected = getattr(lib, methods[ctx.protocol])()
    except (OSError, AttributeError) as exc:
        raise RuntimeError(f"libssl symbols not reachable through {_ssl.__file__}: {exc}") from exc
    # PySSLContext is { PyObject_HEAD; SSL_CTX *ctx; ... }.
    ptr = ctypes.c_void_p.from_address(id(ctx) + object.__basicsize__).value
    if not ptr or lib.SSL_CTX_get_ssl_method(ptr) != expected:
        raise RuntimeError("could not locate the SSL_CTX* of this SSLContext")
    if lib.SSL_CTX_set_ciphersuites(ptr, suites.encode()) != 1:
        raise ValueError(f"OpenSSL rejected TLS 1.3 ciphersuites {suites!r}")
    got = [c["name"] for c in ctx.get_ciphers() if c["protocol"] == "TLSv1.3"]
    if got != suites.split(":"):
        raise ValueError(f"TLS 1.3 ciphersuites {suites!r} gave {got}")


# --------------------------------------------------------------------------------------------
# Transcripts


@dataclass(frozen=True)
class TLSConfig:
    """What one connection does; see the module docstring."""

    min_version: ssl.TLSVersion = V12
    max_version: ssl.TLSVersion = V13
    ciphers: str | None = None  # TLS <= 1.2 cipher string for set_ciphers (both sides)
    tls13_ciphersuites: str | None = None  # e.g. "TLS_CHACHA20_POLY1305_SHA256" (both sides)
    tickets: bool = True  # False: OP_NO_TICKET on both sides
    num_tickets: int | None = None  # TLS 1.3 tickets the server sends (OpenSSL: 2)
    extended_master_secret: bool = True
    encrypt_then_mac: bool = True
    sni: str | None = SERVER_NAME
    alpn: tuple[str, ...] = ()
    close_notify: bool = True  # both sides send close_notify at the end
    session: ssl.SSLSession | None = field(default=None, compare=False)  # to resume
    exchanges: tuple[Exchange, ...] = field(default=(), compare=False)

    def profile(self) -> tuple[object, ...]:
        """The fields that shape the SSL contexts (not the exchanges nor the session)."""
        return (self.min_version, self.max_version, self.ciphers, self.tls13_ciphersuites, self.tickets,
                self.num_tickets, self.extended_master_secret, self.encrypt_then_mac, self.alpn)


@dataclass(frozen=True)
class PeerFacts:
    """What one side's SSLObject reports after the handshake."""

    version: str | None  # "TLSv1.2", "TLSv1.3"
    cipher: tuple[str, str, int] | None  # (OpenSSL name, protocol, secret bits)
    session_reused: bool


@dataclass
class Transcript:
    config: TLSConfig
    flights: list[tuple[int, bytes]]  # (direction, bytes) in order, as each side wrote them
    keylog: str  # NSS key log lines of this connection (no comments), "\n"-terminated
    client: PeerFacts
    server: PeerFacts
    session: ssl.SSLSession | None  # the client's session at the end, to resume

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return self.config.exchanges

    @property
    def app_bytes(self) -> int:
        """HTTP bytes carried, both directions."""
        return sum(len(q) + len(r) for q, r in self.config.exchanges)

    @property
    def tls_bytes(self) -> int:
        return sum(len(b) for _, b in self.flights)

    def stream(self, direction: int) -> bytes:
        return b"".join(b for d, b in self.flights if d == direction)

    def streams(self) -> tuple[bytes, bytes]:
        return streams(self)


def streams(t: Transcript) -> tuple[bytes, bytes]:
    """(client -> server bytes, server -> client bytes): each direction's flights concatenated."""
    return t.stream(CLIENT), t.stream(SERVER)


_contexts: dict[tuple[object, ...], tuple[ssl.SSLContext, ssl.SSLContext]] = {}


def _contexts_for(cfg: TLSConfig) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    key = cfg.profile()
    if key in _contexts:
        return _contexts[key]
    creds = credentials()
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(creds.cert_path, creds.key_path)
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    extra = (0 if cfg.extended_master_secret else OP_NO_EXTENDED_MASTER_SECRET) | (
        0 if cfg.encrypt_then_mac else OP_NO_ENCRYPT_THEN_MAC)
    for ctx in (server, client):
        ctx.minimum_version = cfg.min_version
        ctx.maximum_version = cfg.max_version
        if cfg.ciphers is not None:
            ctx.set_ciphers(cfg.ciphers)
        if cfg.tls13_ciphersuites is not None:
            set_tls13_ciphersuites(ctx, cfg.tls13_ciphersuites)
        if not cfg.tickets:
            ctx.options |= ssl.OP_NO_TICKET
        if extra:
            ctx.options |= extra
        if cfg.alpn:
            ctx.set_alpn_protocols(list(cfg.alpn))
    if cfg.num_tickets is not None:
        server.num_tickets = cfg.num_tickets
    _contexts[key] = (client, server)
    return client, server


def _step(fn: Callable[[], object]) -> bool:
    """Run a non-blocking SSLObject call; False when it wants more input."""
    try:
        fn()
    except ssl.SSLWantReadError:
        return False
    return True


def transcript(cfg: TLSConfig) -> Transcript:
    """Run one connection between two in-memory OpenSSL peers and record it."""
    cctx, sctx = _contexts_for(cfg)
    keylog_path = os.path.join(_tmpdir(), "client.keys")
    if os.path.exists(keylog_path):
        os.unlink(keylog_path)
    cctx.keylog_filename = keylog_path
    c_in, c_out, s_in, s_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    try:
        try:
            cli = cctx.wrap_bio(c_in, c_out, server_side=False, server_hostname=cfg.sni, session=cfg.session)
        except ValueError as exc:
            raise ValueError(f"{exc} A session can only be resumed by a config of the same profile.") from exc
        srv = sctx.wrap_bio(s_in, s_out, server_side=True)
        flights: list[tuple[int, bytes]] = []

        def pump() -> bool:
            moved = False
            for direction, out, into in ((CLIENT, c_out, s_in), (SERVER, s_out, c_in)):
                data = out.read()
                if data:
                    flights.append((direction, data))
                    into.write(data)
                    moved = True
            return moved

        def read_exact(obj: ssl.SSLObject, n: int, what: str) -> bytes:
            parts: list[bytes] = []
            got = 0
            while got < n:
                try:
                    chunk = obj.read(min(n - got, 1 << 20))
                except ssl.SSLWantReadError:
                    raise RuntimeError(f"{what}: {got} of {n} bytes arrived") from None
                if not chunk:
                    raise RuntimeError(f"{what}: connection closed after {got} of {n} bytes")
                parts.append(chunk)
                got += len(chunk)
            return b"".join(parts)

        c_done = s_done = False
        while not (c_done and s_done):
            if not c_done:
                c_done = _step(cli.do_handshake)
            moved = pump()
            if not s_done:
                s_done = _step(srv.do_handshake)
            if not pump() and not moved and not (c_done and s_done):
                raise RuntimeError("handshake stalled")
        # Let the client take in what the server sent after its Finished (TLS 1.3 tickets).
        _step(functools.partial(cli.read, 1))
        for i, (request, response) in enumerate(cfg.exchanges):
            cli.write(request)
            pump()
            if read_exact(srv, len(request), f"request {i}") != request:
                raise RuntimeError(f"request {i} arrived changed")
            srv.write(response)
            pump()
            if read_exact(cli, len(response), f"response {i}") != response:
                raise RuntimeError(f"response {i} arrived changed")
        facts = [PeerFacts(o.version(), o.cipher(), o.session_reused) for o in (cli, srv)]
        if cfg.close_notify:
            _step(cli.unwrap)
            pump()
            _step(srv.unwrap)
            pump()
            _step(cli.unwrap)
        session = cli.session
    finally:
        cctx.keylog_filename = None  # type: ignore[assignment]  # closes the file
    keylog = "".join(line for line in Path(keylog_path).read_text().splitlines(keepends=True)
                     if line.strip() and not line.startswith("#"))
    return Transcript(cfg, flights, keylog, facts[0], facts[1], session)


# --------------------------------------------------------------------------------------------
# Pcaps


@dataclass
class PcapStats:
    connections: int = 0
    packets: int = 0
    tls_bytes: int = 0  # TCP payload bytes
    app_bytes: int = 0  # HTTP bytes carried inside TLS


def client_addr(n: int, rng: random.Random) -> tuple[int, int]:
    """The n-th connection's client: 10.0.0.0/8 address n+1 (distinct up to 16M) and a port."""
    return 0x0A000000 + (n + 1) % (1 << 24), rng.randrange(1024, 65536)


def _connection(w: gencap.Writer, t: Transcript, cli: tuple[int, int], srv: tuple[int, int],
                rng: random.Random, mss: int, ack_every: int) -> Iterator[None]:
    """Write one connection's frames, yielding between bursts so others can interleave."""
    seq = [rng.randrange(1 << 32), rng.randrange(1 << 32)]  # next seq of client, of server
    ends = (cli, srv)
    w.frame(cli, srv, seq[0], 0, 0x02)  # SYN
    w.frame(srv, cli, seq[1], seq[0] + 1, 0x12)  # SYN-ACK
    seq[0] += 1
    seq[1] += 1
    w.frame(cli, srv, seq[0], seq[1], 0x10)
    yield
    for direction, data in t.flights:
        src, dst = ends[direction], ends[1 - direction]
        view = memoryview(data)
        for count, off in enumerate(range(0, len(data), mss), 1):
            seg = bytes(view[off:off + mss])
            w.frame(src, dst, seq[direction], seq[1 - direction], 0x18, seg)
            seq[direction] += len(seg)
            if count % ack_every == 0 and off + mss < len(data):
                w.frame(dst, src, seq[1 - direction], seq[direction], 0x10)
                yield
        w.frame(dst, src, seq[1 - direction], seq[direction], 0x10)
        yield
    w.frame(cli, srv, seq[0], seq[1], 0x11)  # FIN
    w.frame(srv, cli, seq[1], seq[0] + 1, 0x11)
    w.frame(cli, srv, seq[0] + 1, seq[1] + 1, 0x10)


def write_pcap(path: str | os.PathLike[str], transcripts: Iterable[Transcript], *, mss: int = gencap.MSS,
               interleave: int = 1, ack_every: int = 2, seed: int = 0,
               server: tuple[int, int] = SERVER_ADDR) -> PcapStats:
    """Write the transcripts as TCP connections to a µs pcap; ``transcripts`` is consumed lazily.

    With ``interleave`` > 1, up to that many connections are open at once and their bursts (the
    handshake, up to ``ack_every`` segments and the receiver's ACK, the FINs) alternate in an
    order drawn from ``seed``.  Addresses, ports and initial sequence numbers come from ``seed``.
    """
    rng = random.Random(seed)
    stats = PcapStats()
    source = iter(transcripts)
    with open(path, "wb") as fh:
        w = gencap.Writer(fh)
        active: list[Iterator[None]] = []
        exhausted = False
        while True:
            while not exhausted and len(active) < max(1, interleave):
                t = next(source, None)
                if t is None:
                    exhausted = True
                    break
                active.append(_connection(w, t, client_addr(stats.connections, rng), server, rng, mss,
                                          max(1, ack_every)))
                stats.connections += 1
                stats.tls_bytes += t.tls_bytes
                stats.app_bytes += t.app_bytes
            if not active:
                break
            i = rng.randrange(len(active)) if len(active) > 1 else 0
            if next(active[i], StopIteration) is StopIteration:
                del active[i]
        stats.packets = w.count
    return stats


# --------------------------------------------------------------------------------------------
# HTTP content (CWMP bodies from gencap) and the benchmark mix

HTTPS_PORT = 443


def cwmp_session(rng: random.Random, serial: int, *, digest: bool = False) -> list[Exchange]:
    """A CWMP session: Inform / InformResponse, empty POST / GetParameterValues, ... / 204.

    With ``digest`` the first Inform gets a 401 Digest challenge and is sent again with
    Authorization.
    """
    out: list[Exchange] = []
    inform = gencap._inform(rng, serial, rng.randrange(5, 40))
    if digest:
        out.append((gencap._post(HTTPS_PORT, inform, auth=False), gencap._resp(401, b"")))
    inform_response = gencap._envelope("1", "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
                                            "</cwmp:InformResponse>")
    out.append((gencap._post(HTTPS_PORT, inform, auth=digest), gencap._resp(200, inform_response)))
    request = gencap._post(HTTPS_PORT, b"", auth=digest)
    for i in range(rng.randrange(2, 6)):
        n_params = rng.randrange(1, 60)
        out.append((request, gencap._resp(200, gencap._gpv(f"acs-{i}", n_params))))
        request = gencap._post(HTTPS_PORT, gencap._gpv_response(rng, f"acs-{i}", n_params), auth=digest)
    out.append((request, gencap._resp(204, b"")))
    return out


def firmware_download(rng: random.Random, size: int, name: str) -> Exchange:
    """``GET /fw/NAME`` answered by 200 with a Content-Length body of ``size`` random bytes."""
    request = (f"GET /fw/{name} HTTP/1.1\r\nHost: {SERVER_NAME}\r\nUser-Agent: bench-cpe/1.0\r\n"
               "Accept: */*\r\n\r\n").encode()
    return request, gencap._resp(200, rng.randbytes(size))


PROFILES: dict[str, TLSConfig] = {
    "1.2-aes128gcm": TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES128-GCM-SHA256"),
    "1.2-aes128gcm-noticket": TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES128-GCM-SHA256",
                                        tickets=False),
    "1.2-aes256gcm": TLSConfig(max_version=V12, ciphers="ECDHE-RSA-AES256-GCM-SHA384"),
    "1.2-chacha20": TLSConfig(max_version=V12, ciphers="ECDHE-RSA-CHACHA20-POLY1305", tickets=False),
    "1.3-aes128gcm": TLSConfig(min_version=V13, tls13_ciphersuites="TLS_AES_128_GCM_SHA256"),
    "1.3-aes256gcm": TLSConfig(min_version=V13, tls13_ciphersuites="TLS_AES_256_GCM_SHA384"),
    "1.3-chacha20": TLSConfig(min_version=V13, tls13_ciphersuites="TLS_CHACHA20_POLY1305_SHA256"),
}


def benchmark_transcripts(mb: float, seed: int, *, fw_sizes: tuple[int, int] = (1_000_000, 4_000_000),
                          fw_share: float = 0.06, resume_share: float = 0.25,
                          profiles: Sequence[str] = tuple(PROFILES)) -> Iterator[Transcript]:
    """Connections until ``mb`` * 10^6 bytes of HTTP have been carried.

    Each connection takes a profile at random; with ``resume_share`` it resumes the session of
    that profile's previous connection.  It is a firmware download (one ``GET /fw/...`` of a
    size in ``fw_sizes``, sometimes two on the keep-alive connection) with ``fw_share``, else a
    CWMP session (a quarter of them with a 401 Digest round).  The structure and the HTTP bytes
    depend on ``seed`` only.
    """
    rng = random.Random(seed)
    last: dict[str, ssl.SSLSession] = {}
    target = mb * 1e6
    carried = 0
    n = 0
    while carried < target:
        name = rng.choice(list(profiles))
        resume = rng.random() < resume_share
        if rng.random() < fw_share:
            exchanges = [firmware_download(rng, rng.randrange(*fw_sizes), f"gen-{rng.randrange(100)}.bin")
                         for _ in range(2 if rng.random() < 0.2 else 1)]
        else:
            exchanges = cwmp_session(rng, n % gencap.FLEET, digest=rng.random() < 0.25)
        cfg = dataclasses.replace(PROFILES[name], exchanges=tuple(exchanges),
                                  session=last.get(name) if resume else None)
        t = transcript(cfg)
        if t.session is not None:
            last[name] = t.session
        carried += t.app_bytes
        n += 1
        yield t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="pcap to write")
    ap.add_argument("--keylog", help="NSS key log file to write (default: OUT with .keys)")
    ap.add_argument("--server-key", help="also write the servers' RSA key (PEM) here")
    ap.add_argument("--mb", type=float, default=100.0, help="MB (10^6 bytes) of HTTP to carry (default 100)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--interleave", type=int, default=4, help="connections open at once (default 4)")
    ap.add_argument("--mss", type=int, default=gencap.MSS)
    args = ap.parse_args(argv)
    keylog_path = args.keylog or str(Path(args.out).with_suffix(".keys"))
    start = time.perf_counter()
    versions: Counter[str] = Counter()
    suites: Counter[str] = Counter()
    resumed = requests = 0

    def recorded(made: Iterable[Transcript], fh: TextIO) -> Iterator[Transcript]:
        nonlocal resumed, requests
        for t in made:
            fh.write(t.keylog)
            versions[t.client.version or "?"] += 1
            suites[t.client.cipher[0] if t.client.cipher else "?"] += 1
            resumed += t.client.session_reused
            requests += len(t.exchanges)
            yield t

    with open(keylog_path, "w") as kfh:
        kfh.write("# gentls.py: NSS key log of the client side\n")
        stats = write_pcap(args.out, recorded(benchmark_transcripts(args.mb, args.seed), kfh),
                           mss=args.mss, interleave=args.interleave, seed=args.seed)
    if args.server_key:
        Path(args.server_key).write_bytes(server_key_pem())
    seconds = time.perf_counter() - start
    size = os.path.getsize(args.out)
    print(f"{args.out}: {stats.connections} connections ({resumed} resumed), {requests} HTTP requests, "
          f"{stats.app_bytes / 1e6:.1f} MB HTTP in {stats.tls_bytes / 1e6:.1f} MB TLS, "
          f"{stats.packets} packets, {size / 1e6:.1f} MB pcap, {seconds:.1f} s")
    print("versions: " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items())))
    print("suites: " + ", ".join(f"{k} {v}" for k, v in sorted(suites.items())))
    print(f"key log: {keylog_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
