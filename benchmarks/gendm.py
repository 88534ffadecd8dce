"""Generate a deterministic OMA DM capture for the report benchmark (the OMA DM mix).

What a DM server farm sees: a fleet of devices (``--devices``, default 3000) managed by four
DM servers, each device always by the same one, in SyncML XML or WBXML (one encoding per
device, half and half), plus a few non-HTTP bulk flows.  Sessions run ``--concurrency`` at a
time, their exchanges interleaved:

* 70% are server-initiated: a Package #0 (DM Notification 1.2, version 11, initiator server,
  a valid MD5 digest made with the server's password and the server nonce the devices hold)
  in a connectionless WSP Push (content type 0x44 application/vnd.syncml.notification,
  X-Wap-Application-Id 0x07 x-wap-application:syncml.dm) on UDP from the server to the
  device's port 2948, then Package #1 with Alert 1200 and the notification's session id as
  SessionID (upper-case hex); the rest are client-initiated (Alert 1201);
* Package #1: Alert, Replace of ./DevInfo/{DevId,Man,Mod,DmV,Lang}, Meta MaxMsgSize and
  MaxObjSize, and a ``syncml:auth-md5`` Cred, B64(MD5(B64(MD5(user:password)):nonce)), made
  with the nonce of the server's last Chal to that device.  A device with no nonce yet (40%
  of the fleet, on its first session; and 5% of sessions, as after a lost nonce) sends no Cred:
  the server answers 407 with a Chal (auth-md5, b64 NextNonce) and Status 215 for the
  commands, and the device sends Package #1 again, with the Status for that SyncHdr;
* the server accepts with 212 and a Chal holding the device's next nonce; two of the four
  servers add their own ``syncml:auth-md5`` Cred (made with their server nonce), which the
  device accepts with 212; two of them give a RespURI (``/dm?s=<SessionID>``), where the
  device posts from then on;
* then 1 to 4 server messages of management commands: Get (5-40 items of ./DevDetail: the
  standard leaves and ./DevDetail/Ext/Bench/...) answered by Results of those subtrees,
  Replace and Add (5-40 items) and Exec (one item); a Status for every command and for every
  SyncHdr; in a quarter of the sessions a large object (Replace of ./Vendor/Bench/Config/...,
  6-24 KB of text with Meta Size) split over 2-3 server messages with MoreData and no Final,
  each chunk answered by 213 and Alert 1222, the last one by 200;
* the last server message holds only Status and Final: 6 to 12 SyncML messages in all.

Every command succeeds: a finding on this capture is either a generator bug or a dmsniff one.
20% of the devices open a new TCP connection for every exchange, the others keep one. The
server ports (80, 8080, 8088) are ones tshark dissects as HTTP, so its request count is
comparable. Frames are written by ``gencap.Writer`` (Ethernet/IPv4, 0.1 ms apart).

WBXML (WBXML 1.3, public id 0x1201 SyncML 1.2, UTF-8, no string table) is written by a small
emitter over the token tables of the project's codec (``decoders.wbxml.LANGUAGES``), which
gives byte for byte what ``decoders.wbxml.encode`` gives for the same XML (the tests check
it, and ``--encoder project`` uses that encoder for every message) at a fraction of its cost:
about 10 µs per element through lxml would make a 1M-packet capture take minutes.

Passwords and server nonces come from one known secret (``SECRET``), so a run is checkable:
``--secrets FILE`` writes the secrets.toml for ``dmsniff report --secrets`` (every server,
and every device of the capture with the nonce it held before its first session, when it had
one)::

    python benchmarks/gendm.py OUT.pcap --packets 200000 [--seed 1] [--secrets OUT.toml]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import importlib.util
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

try:
    from benchmarks import gencap
except ModuleNotFoundError:  # run as a script: benchmarks/ is sys.path[0]
    import gencap  # type: ignore[no-redef, import-not-found]

ROOT = Path(__file__).resolve().parent.parent  # the checkout: its decoders/ give the WBXML tokens

SECRET = "dmsniff-bench-secret"  # every password and server nonce derives from it
FLEET = 3000  # devices
CONCURRENCY = 8  # sessions (and bulk flows) in progress at once
PUSH_PORT = 2948  # WDP port of the connectionless WAP Push
XML_CT = "application/vnd.syncml.dm+xml"
WBXML_CT = "application/vnd.syncml.dm+wbxml"
SYNCML_NS = "SYNCML:SYNCML1.2"
METINF_NS = "syncml:metinf"
AUTH_MD5 = "syncml:auth-md5"

SERVER_INITIATED = 0.70  # share of sessions started by a Package #0
NO_NONCE = 0.40  # share of the fleet that holds no nonce before its first session
LOST_NONCE = 0.05  # share of later sessions that start without credentials all the same
KEEP_ALIVE = 0.80  # share of the fleet that keeps one TCP connection per session
LARGE_OBJECT = 0.25  # share of sessions with a large object in chunks
BULK_EVERY = 12  # one bulk non-HTTP flow per this many scenarios started

MODELS = (("Acme", "A100"), ("Globex", "G7 Pro"), ("Initech", "IT-42"), ("Umbrella", "U-Phone 3"))
LANGS = ("en-US", "de-DE", "fr-FR", "ja-JP", "es-ES")
DEVDETAIL_STD = ("DevTyp", "OEM", "FwV", "SwV", "HwV", "LrgObj", "URI/MaxDepth", "URI/MaxTotLen",
                 "URI/MaxSegLen")
EXEC_TARGETS = ("./Vendor/Bench/Ops/Sync", "./Vendor/Bench/Ops/Report", "./Vendor/Bench/Ops/Diag")


def derived(label: str, n: int = 16) -> bytes:
    """n bytes derived from SECRET and a label (passwords, server nonces)."""
    return hashlib.sha256(f"{SECRET}:{label}".encode()).digest()[:n]


def _password(label: str) -> str:
    return base64.urlsafe_b64encode(derived("password:" + label, 12)).decode()


def _b64md5(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


def cred_md5(user: str, password: str, nonce: bytes) -> str:
    """syncml:auth-md5 Cred Data: B64(MD5(B64(MD5(user:password)):nonce))."""
    digest = hashlib.md5(_b64md5(f"{user}:{password}".encode()) + b":" + nonce).digest()
    return base64.b64encode(digest).decode()


def pkg0_digest(server_id: str, password: str, nonce: bytes, trigger: bytes) -> bytes:
    """DM Notification 1.2: MD5(B64(MD5(server-id:password)):nonce:B64(MD5(trigger)))."""
    return hashlib.md5(_b64md5(f"{server_id}:{password}".encode()) + b":" + nonce + b":"
                       + _b64md5(trigger)).digest()


def package0(server_id: str, password: str, nonce: bytes, session_id: int, ui_mode: int) -> bytes:
    """A DM Notification 1.2 (Package #0): digest, then the trigger (header, server id)."""
    sid = server_id.encode()
    # version 11 (10 bits), ui-mode (2), initiator server (1), future use 0 (27): 40 bits
    bits = (11 << 30) | (ui_mode << 28) | (1 << 27)
    trigger = bits.to_bytes(5, "big") + session_id.to_bytes(2, "big") + bytes([len(sid)]) + sid
    return pkg0_digest(server_id, password, nonce, trigger) + trigger


def _uintvar(n: int) -> bytes:
    out = [n & 0x7F]
    while n > 0x7F:
        n >>= 7
        out.append(0x80 | (n & 0x7F))
    return bytes(reversed(out))


def wap_push(tid: int, payload: bytes) -> bytes:
    """Connectionless WSP Push PDU (WAP-230 §8.2.4.1): TID, type 0x06, HeadersLen, Content-Type
    0x44 (application/vnd.syncml.notification), X-Wap-Application-Id 0x07 (syncml.dm), data."""
    headers = b"\xc4" + b"\xaf\x87"
    return bytes([tid, 0x06]) + _uintvar(len(headers)) + headers + payload


def _tls_records(rng: random.Random, size: int) -> bytes:
    """size bytes of TLS 1.2 application-data records (at most 4096 bytes of payload each)."""
    out = bytearray()
    while len(out) < size:
        n = min(4096, size - len(out) - 5)
        out += b"\x17\x03\x03" + n.to_bytes(2, "big") + rng.randbytes(n)
    return bytes(out)


# ---------------------------------------------------------------------------------------------
# SyncML documents: one tree, written as XML or as WBXML

#: (tag, code page, content): page 0 SyncML, 1 MetInf; content a text, child nodes, or None (empty).
Node = tuple[str, int, "str | list[Node] | None"]


def E(tag: str, *kids: Node | None) -> Node:
    """An element of child elements (None skipped); none at all makes an empty element."""
    return (tag, 0, [k for k in kids if k is not None] or None)


def T(tag: str, text: object) -> Node:
    return (tag, 0, str(text))


def M(tag: str, text: object) -> Node:
    """A MetInf element (code page 1, xmlns syncml:metinf)."""
    return (tag, 1, str(text))


def to_xml(root: Node) -> bytes:
    out: list[str] = ['<?xml version="1.0" encoding="UTF-8"?>']

    def walk(node: Node) -> None:
        tag, page, content = node
        ns = f' xmlns="{METINF_NS}"' if page == 1 else (f' xmlns="{SYNCML_NS}"' if tag == "SyncML" else "")
        if content is None:
            out.append(f"<{tag}{ns}/>")
        elif isinstance(content, str):
            out.append(f"<{tag}{ns}>{escape(content)}</{tag}>")
        else:
            out.append(f"<{tag}{ns}>")
            for kid in content:
                walk(kid)
            out.append(f"</{tag}>")

    walk(root)
    return "".join(out).encode()


def _syncml12_tokens() -> dict[tuple[int, str], int]:
    """(code page, tag) -> token of SyncML 1.2, from the codec's own table (decoders/wbxml/_tables.py).

    The module is loaded from its file, not through ``decoders.wbxml`` (whose encoder needs lxml), so
    that the generator runs on the standard library alone, as bench_report.py does."""
    path = ROOT / "decoders" / "wbxml" / "_tables.py"
    name = "_gendm_wbxml_tables"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while the class is made
        spec.loader.exec_module(module)
    syncml12 = module.LANGUAGES["SYNCML12"]
    return {(page, tag): token for page, tokens in syncml12.tags.items() for token, tag in tokens.items()}


_TOKENS = _syncml12_tokens()
# WBXML 1.3, public id 0x1201 (SyncML 1.2) as mb_u_int32, charset 106 (UTF-8), empty string table
_WBXML_HEADER = b"\x03\xa4\x01\x6a\x00"
_SWITCH_PAGE, _END, _STR_I, _CONTENT = 0x00, 0x01, 0x03, 0x40


def to_wbxml(root: Node) -> bytes:
    """The tree as decoders.wbxml.encode writes its XML: STR_I text, SWITCH_PAGE only on a change."""
    out = bytearray(_WBXML_HEADER)
    page = 0

    def walk(node: Node) -> None:
        nonlocal page
        tag, want, content = node
        if want != page:
            out.extend((_SWITCH_PAGE, want))
            page = want
        token = _TOKENS[(want, tag)]
        if not content:  # None, or "" (whitespace-only text is dropped by the encoder too)
            out.append(token)
        elif isinstance(content, str):
            out.extend((token | _CONTENT, _STR_I))
            out.extend(content.encode())
            out.extend((0, _END))
        else:
            out.append(token | _CONTENT)
            for kid in content:
                walk(kid)
            out.append(_END)

    walk(root)
    return bytes(out)


def project_wbxml(root: Node) -> bytes:
    """The same document through the project's encoder (lxml parse + decoders.wbxml.encode)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from decoders.wbxml import WbxmlError, encode

    data = encode(to_xml(root))
    if isinstance(data, WbxmlError):
        raise RuntimeError(f"decoders.wbxml.encode failed: {data}")
    return data


def loc(tag: str, uri: str) -> Node:
    return E(tag, T("LocURI", uri))


def meta(*kids: Node | None) -> Node | None:
    kept = [k for k in kids if k is not None]
    return E("Meta", *kept) if kept else None


def item(target: str | None = None, source: str | None = None, data: str | None = None,
         fmt: str | None = None, mtype: str | None = None, size: int | None = None,
         more: bool = False) -> Node:
    return E("Item",
             loc("Target", target) if target else None,
             loc("Source", source) if source else None,
             meta(M("Format", fmt) if fmt else None, M("Type", mtype) if mtype else None,
                  M("Size", size) if size is not None else None),
             T("Data", data) if data is not None else None,
             E("MoreData") if more else None)


def status(cmd_id: int, msg_ref: int, cmd_ref: int, cmd: str, code: int, targets: tuple[str, ...] = (),
           sources: tuple[str, ...] = (), chal: Node | None = None) -> Node:
    return E("Status", T("CmdID", cmd_id), T("MsgRef", msg_ref), T("CmdRef", cmd_ref), T("Cmd", cmd),
             *(T("TargetRef", t) for t in targets), *(T("SourceRef", s) for s in sources),
             chal, T("Data", code))


def cred(data: str) -> Node:
    return E("Cred", E("Meta", M("Format", "b64"), M("Type", AUTH_MD5)), T("Data", data))


def chal(nonce: bytes) -> Node:
    return E("Chal", E("Meta", M("Type", AUTH_MD5), M("Format", "b64"),
                       M("NextNonce", base64.b64encode(nonce).decode())))


# ---------------------------------------------------------------------------------------------
# The fleet


@dataclass(frozen=True, slots=True)
class Server:
    index: int
    server_id: str  # Pkg#0 server identifier and the SyncHdr Source LocName
    host: str
    ip: int
    port: int
    resp_uri: bool  # gives a RespURI in every message
    sends_cred: bool  # authenticates itself to the device (md5 Cred with the server nonce)

    @property
    def password(self) -> str:
        return _password(self.server_id)

    @property
    def nonce(self) -> bytes:
        """The server nonce every device holds for it (Pkg#0 digests, the server's Cred)."""
        return derived("server-nonce:" + self.server_id)

    @property
    def url(self) -> str:
        return f"http://{self.authority}/dm"

    @property
    def authority(self) -> str:
        return self.host if self.port == 80 else f"{self.host}:{self.port}"


SERVERS = tuple(
    Server(i, f"bench-dm-{i + 1}", f"dm{i + 1}.bench.example", 0xC0A83201 + i, port, resp_uri, sends_cred)
    for i, (port, resp_uri, sends_cred) in enumerate(
        ((80, False, True), (8080, True, False), (8088, False, True), (80, True, False)))
)


def _imei(n: int) -> str:
    """A 15-digit IMEI with its Luhn check digit: TAC 35 + 6 digits, serial n."""
    body = f"35{(n * 7919) % 10**6:06d}{n % 10**6:06d}"
    total = 0
    for i, ch in enumerate(body):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


@dataclass(slots=True)
class Device:
    n: int
    dev_id: str  # ./DevInfo/DevId and the client's Source LocURI
    user: str  # the client's LocName: its OMA DM account user
    ip: int
    server: Server
    wbxml: bool
    keep_alive: bool
    man: str
    mod: str
    lang: str
    fwv: str
    initial_nonce: bytes | None  # what it held before the capture (None: nothing)
    nonce: bytes | None = None  # what it holds now: the NextNonce of the last Chal it got
    challenges_server: bool = False  # --client-chal: it answers its server's Cred with a Chal
    server_nonce: bytes | None = None  # the NextNonce of its last Chal to the server (None: the server's)
    ext: int = 0  # ./DevDetail/Ext/Bench leaves it has
    used: bool = False

    @property
    def password(self) -> str:
        return _password(self.user)


def make_fleet(seed: int, devices: int, client_chal: float = 0.0) -> list[Device]:
    rng = random.Random(f"gendm-fleet:{seed}")
    chal_rng = random.Random(f"gendm-client-chal:{seed}")  # apart: the fleet is the same without it
    fleet = []
    for n in range(devices):
        man, mod = MODELS[rng.randrange(len(MODELS))]
        initial = None if rng.random() < NO_NONCE else rng.randbytes(16)
        fleet.append(Device(
            n=n, dev_id=f"IMEI:{_imei(n)}", user=f"dm{n:06d}", ip=0x0A400001 + n,
            server=SERVERS[n % len(SERVERS)], wbxml=rng.random() < 0.5, keep_alive=rng.random() < KEEP_ALIVE,
            man=man, mod=mod, lang=LANGS[rng.randrange(len(LANGS))],
            fwv=f"{rng.randrange(1, 5)}.{rng.randrange(10)}.{rng.randrange(100)}",
            initial_nonce=initial, nonce=initial, ext=rng.randrange(20, 40),
            challenges_server=chal_rng.random() < client_chal))
    return fleet


def secrets_toml(fleet: list[Device], all_devices: bool = False) -> str:
    """secrets.toml for dmsniff report --secrets: the servers, and the devices used."""
    lines = ["# written by benchmarks/gendm.py: the credentials of its capture", ""]
    for s in SERVERS:
        lines += ["[[omadm_server]]", f'server_id = "{s.server_id}"', f'password = "{s.password}"',
                  f'nonce_b64 = "{base64.b64encode(s.nonce).decode()}"', ""]
    for d in fleet:
        if not (d.used or all_devices):
            continue
        lines += ["[[omadm_client]]", f'username = "{d.user}"', f'password = "{d.password}"']
        if d.initial_nonce is not None:
            lines.append(f'nonce_b64 = "{base64.b64encode(d.initial_nonce).decode()}"')
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Sessions


@dataclass(slots=True)
class Stats:
    packets: int = 0
    sessions: int = 0
    server_initiated: int = 0
    challenged: int = 0
    large_objects: int = 0
    notifications: int = 0
    requests: int = 0
    xml_messages: int = 0
    wbxml_messages: int = 0
    client_creds: int = 0
    server_creds: int = 0
    client_chals: int = 0  # --client-chal: Chals the devices gave their servers
    bulk_flows: int = 0
    devices: int = 0
    #: every WBXML body written, with the XML it stands for (kept only when asked: tests)
    samples: list[tuple[bytes, bytes]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Ask:
    """A server command the client's next message answers."""

    name: str
    cmd_id: int
    code: int  # the Status the client gives it
    uris: list[str] = field(default_factory=list)  # a Get's: answered by Results too


@dataclass(slots=True)
class Batch:
    """The management commands of one server message."""

    gets: list[list[str]] = field(default_factory=list)  # LocURIs per Get
    replaces: list[list[tuple[str, str, str]]] = field(default_factory=list)  # (uri, format, value)
    adds: list[list[tuple[str, str, str]]] = field(default_factory=list)
    execs: list[str] = field(default_factory=list)
    chunk: tuple[str, int, str, bool] | None = None  # (uri, total size, data, more to come)


class Generator:
    """Writes the mix: each session and bulk flow is a generator that yields after every exchange,
    and ``run`` advances a random one of the ``concurrency`` in progress, so their frames interleave."""

    def __init__(self, w: gencap.Writer, seed: int, devices: int = FLEET, concurrency: int = CONCURRENCY,
                 encoder: str = "fast", keep_samples: bool = False, client_chal: float = 0.0) -> None:
        self.w = w
        self.rng = random.Random(f"gendm:{seed}")
        self.fleet = make_fleet(seed, devices, client_chal)
        self.concurrency = concurrency
        self.wbxml = project_wbxml if encoder == "project" else to_wbxml
        self.keep_samples = keep_samples
        self.stats = Stats()
        self.busy: set[int] = set()
        self.session_counter = self.rng.randrange(1, 0xFFFF)

    # -- the run ------------------------------------------------------------------------------
    def run(self, packets: int) -> Stats:
        """Scenarios until the capture has ``packets`` frames; those in progress then finish."""
        active: list[Iterator[None]] = []
        started = 0
        while True:
            while self.w.count < packets and len(active) < self.concurrency:
                started += 1
                active.append(self.bulk() if started % BULK_EVERY == 0 else self.session())
            if not active:
                break
            i = self.rng.randrange(len(active))
            try:
                next(active[i])
            except StopIteration:
                active.pop(i)
        self.stats.packets = self.w.count
        self.stats.devices = sum(d.used for d in self.fleet)
        return self.stats

    def bulk(self) -> Iterator[None]:
        """A non-HTTP flow: TLS application-data records (well framed, opaque), 20-40 segments."""
        rng = self.rng
        c = gencap.Conn(self.w, (0x0A000000 + rng.randrange(1, 1 << 16), rng.randrange(1024, 65535)),
                        (0xC0A80001, 443), rng)
        c.send(True, _tls_records(rng, 300))
        yield
        for _ in range(rng.randrange(2, 5)):
            c.send(False, _tls_records(rng, gencap.MSS * 10))
            yield
        c.close()
        self.stats.bulk_flows += 1

    def _pick_device(self) -> Device:
        while True:
            dev = self.fleet[self.rng.randrange(len(self.fleet))]
            if dev.n not in self.busy:
                return dev

    def _body(self, root: Node, dev: Device) -> bytes:
        if not dev.wbxml:
            self.stats.xml_messages += 1
            return to_xml(root)
        self.stats.wbxml_messages += 1
        data = self.wbxml(root)
        if self.keep_samples:
            self.stats.samples.append((data, to_xml(root)))
        return data

    def session(self) -> Iterator[None]:
        rng, st = self.rng, self.stats
        dev = self._pick_device()
        self.busy.add(dev.n)
        dev.used = True
        srv = dev.server
        st.sessions += 1
        self.session_counter = self.session_counter % 0xFFFF + 1  # 1..65535, never two alike at once
        sid_num = self.session_counter
        sid = f"{sid_num:X}"
        notified = rng.random() < SERVER_INITIATED
        srv_ep = (srv.ip, srv.port)
        if notified:
            st.server_initiated += 1
            st.notifications += 1
            ui_mode = rng.choice((0, 1, 1, 1, 2, 3))
            pkg0 = package0(srv.server_id, srv.password, dev.server_nonce or srv.nonce, sid_num, ui_mode)
            pdu = wap_push(rng.randrange(256), pkg0)
            self.w.udp((srv.ip, rng.randrange(32768, 61000)), (dev.ip, PUSH_PORT), pdu)
            yield
        alert_code = 1200 if notified else 1201
        lost = dev.nonce is not None and rng.random() < LOST_NONCE
        challenged = dev.nonce is None or lost
        if challenged:
            st.challenged += 1

        # The plan: 3-6 exchanges (6-12 messages), the Pkg#1 exchange(s) and the closing one fixed.
        exchanges = rng.randrange(3, 7)
        n_batches = exchanges - 1 - int(challenged)
        batches = [self._batch(rng, dev, first=i == 0) for i in range(n_batches)]
        if n_batches >= 2 and rng.random() < LARGE_OBJECT:
            st.large_objects += 1
            chunks = min(n_batches, rng.randrange(2, 4))
            self._large_object(rng, batches[n_batches - chunks:])

        conn: gencap.Conn | None = None
        path = "/dm"

        def exchange(request: bytes, response: bytes) -> None:
            nonlocal conn
            if conn is None:
                conn = gencap.Conn(self.w, (dev.ip, rng.randrange(1024, 65535)), srv_ep, rng)
            ct = WBXML_CT if dev.wbxml else XML_CT
            head = (f"POST {path} HTTP/1.1\r\nHost: {srv.authority}\r\n"
                    f"User-Agent: {dev.man} {dev.mod} OMA-DM/1.2\r\n"
                    f"Content-Type: {ct}\r\nAccept: {ct}\r\nContent-Length: {len(request)}\r\n")
            if not dev.keep_alive:
                head += "Connection: close\r\n"
            conn.send(True, head.encode() + b"\r\n" + request)
            rhead = (f"HTTP/1.1 200 OK\r\nServer: BenchDM/2.1\r\nContent-Type: {ct}\r\n"
                     f"Content-Length: {len(response)}\r\n")
            if not dev.keep_alive:
                rhead += "Connection: close\r\n"
            conn.send(False, rhead.encode() + b"\r\n" + response)
            st.requests += 1
            if not dev.keep_alive:
                conn.close()
                conn = None

        c_msg = s_msg = 0  # MsgIDs sent so far by the client and the server
        resp_uri = f"{srv.url}?s={sid}" if srv.resp_uri else None

        def c_hdr(with_cred: str | None = None, first: bool = False) -> Node:
            return E("SyncHdr", T("VerDTD", "1.2"), T("VerProto", "DM/1.2"), T("SessionID", sid),
                     T("MsgID", c_msg), loc("Target", srv.url),
                     E("Source", T("LocURI", dev.dev_id), T("LocName", dev.user)),
                     cred(with_cred) if with_cred else None,
                     E("Meta", M("MaxMsgSize", 16384), M("MaxObjSize", 65536)) if first else None)

        def s_hdr(with_cred: bool = False) -> Node:
            return E("SyncHdr", T("VerDTD", "1.2"), T("VerProto", "DM/1.2"), T("SessionID", sid),
                     T("MsgID", s_msg), loc("Target", dev.dev_id),
                     E("Source", T("LocURI", srv.url), T("LocName", srv.server_id)),
                     T("RespURI", resp_uri) if resp_uri else None,
                     cred(cred_md5(srv.server_id, srv.password, dev.server_nonce or srv.nonce))
                     if with_cred else None)

        def doc(hdr: Node, body: list[Node]) -> bytes:
            return self._body(E("SyncML", hdr, E("SyncBody", *body)), dev)

        devinfo = (("DevId", dev.dev_id), ("Man", dev.man), ("Mod", dev.mod), ("DmV", "1.2"),
                   ("Lang", dev.lang))

        def pkg1(after_challenge: bool) -> list[Node]:
            body: list[Node] = []
            if after_challenge:
                body.append(status(1, s_msg, 0, "SyncHdr", 200, (dev.dev_id,), (srv.url,)))
            cid = len(body)
            body.append(E("Alert", T("CmdID", cid + 1), T("Data", alert_code)))
            body.append(E("Replace", T("CmdID", cid + 2),
                          *(item(source=f"./DevInfo/{k}", data=v, fmt="chr") for k, v in devinfo)))
            body.append(E("Final"))
            return body

        # Package #1, and its repetition after a 407.
        c_msg += 1
        first_body = pkg1(False)
        pending_alert, pending_devinfo = 1, 2  # CmdIDs the server must answer
        if challenged:
            request = doc(c_hdr(first=True), first_body)
            s_msg += 1
            nonce = rng.randbytes(16)
            response = doc(s_hdr(), [
                status(1, c_msg, 0, "SyncHdr", 407, (srv.url,), (dev.dev_id,), chal(nonce)),
                status(2, c_msg, pending_alert, "Alert", 215),
                status(3, c_msg, pending_devinfo, "Replace", 215),
                E("Final")])
            dev.nonce = nonce
            exchange(request, response)
            yield
            if resp_uri:
                path = f"/dm?s={sid}"
            c_msg += 1
            first_body = pkg1(True)
            pending_alert, pending_devinfo = 2, 3
        assert dev.nonce is not None
        st.client_creds += 1
        request = doc(c_hdr(cred_md5(dev.user, dev.password, dev.nonce), first=True), first_body)

        # The server's answer to Package #1 opens its first batch; then batches, then the close.

        def server_message(batch: Batch | None, accept: bool) -> tuple[bytes, list[Ask]]:
            """The server's next message, and the commands in it the client must answer."""
            nonlocal s_msg
            s_msg += 1
            body: list[Node] = []
            if accept:
                nonce = rng.randbytes(16)
                dev.nonce = nonce
                body.append(status(1, c_msg, 0, "SyncHdr", 212, (srv.url,), (dev.dev_id,), chal(nonce)))
                body.append(status(2, c_msg, pending_alert, "Alert", 200))
                body.append(status(3, c_msg, pending_devinfo, "Replace", 200))
            else:
                body.append(status(1, c_msg, 0, "SyncHdr", 200, (srv.url,), (dev.dev_id,)))
                for name, ref in answered:
                    body.append(status(len(body) + 1, c_msg, ref, name, 200))
            asks: list[Ask] = []
            more = False
            if batch is not None:
                for uris in batch.gets:
                    cid = len(body) + 1
                    body.append(E("Get", T("CmdID", cid), *(item(target=u) for u in uris)))
                    asks.append(Ask("Get", cid, 200, uris))
                for name, groups in (("Replace", batch.replaces), ("Add", batch.adds)):
                    for rows in groups:
                        cid = len(body) + 1
                        items = (item(target=u, fmt=f, data=v) for u, f, v in rows)
                        body.append(E(name, T("CmdID", cid), *items))
                        asks.append(Ask(name, cid, 200))
                for target in batch.execs:
                    cid = len(body) + 1
                    body.append(E("Exec", T("CmdID", cid), item(target=target, data="run")))
                    asks.append(Ask("Exec", cid, 200))
                if batch.chunk is not None:
                    uri, size, data, more = batch.chunk
                    cid = len(body) + 1
                    body.append(E("Replace", T("CmdID", cid),
                                  item(target=uri, fmt="chr", mtype="text/plain", data=data,
                                       size=size or None, more=more)))
                    asks.append(Ask("Replace", cid, 213 if more else 200))  # 213: chunk accepted
            if not more:
                body.append(E("Final"))  # a package continued in the next message has none
            with_cred = accept and srv.sends_cred
            if with_cred:
                st.server_creds += 1
            return doc(s_hdr(with_cred), body), asks

        answered: list[tuple[str, int]] = []  # the client's commands the server answers next
        response, asks = server_message(batches[0], accept=True)
        server_cred = srv.sends_cred
        exchange(request, response)
        yield
        if resp_uri:
            path = f"/dm?s={sid}"
        for k in range(1, len(batches) + 1):
            # The client answers the server's last message: a Status for each command (and the
            # SyncHdr), Results for each Get, Alert 1222 for the rest of a package without Final.
            c_msg += 1
            client_chal = None
            if server_cred and dev.challenges_server:  # a new server nonce, for its next Cred and Pkg#0
                dev.server_nonce = rng.randbytes(16)
                client_chal = chal(dev.server_nonce)
                st.client_chals += 1
            body = [status(1, s_msg, 0, "SyncHdr", 212 if server_cred else 200, (dev.dev_id,), (srv.url,),
                           client_chal)]
            server_cred = False
            answered = []
            for ask in asks:
                body.append(status(len(body) + 1, s_msg, ask.cmd_id, ask.name, ask.code))
            for ask in asks:
                if ask.uris:
                    rid = len(body) + 1
                    body.append(self._results(dev, rid, s_msg, ask))
                    answered.append(("Results", rid))
            if any(ask.code == 213 for ask in asks):
                aid = len(body) + 1
                body.append(E("Alert", T("CmdID", aid), T("Data", 1222)))
                answered.append(("Alert", aid))
            body.append(E("Final"))
            request = doc(c_hdr(), body)
            response, asks = server_message(batches[k] if k < len(batches) else None, accept=False)
            exchange(request, response)
            yield
        if conn is not None:
            conn.close()
        self.busy.discard(dev.n)

    # -- what the server asks -------------------------------------------------------------------
    def _batch(self, rng: random.Random, dev: Device, first: bool) -> Batch:
        b = Batch()
        kinds = rng.sample(("Get", "Replace", "Add", "Exec"), rng.randrange(1, 4 if first else 3))
        for kind in kinds:
            n = rng.randrange(5, 41)
            if kind == "Get":
                leaves = [f"./DevDetail/{x}" for x in DEVDETAIL_STD] + [
                    f"./DevDetail/Ext/Bench/Stat{i}" for i in range(dev.ext)]
                b.gets.append(rng.sample(leaves, min(n, len(leaves))))
            elif kind == "Replace":
                start = rng.randrange(100)
                b.replaces.append([(f"./Vendor/Bench/Settings/P{start + i}", "int", str(rng.randrange(10**6)))
                                   for i in range(n)])
            elif kind == "Add":
                app = rng.randrange(10**6)
                b.adds.append([(f"./Vendor/Bench/Apps/A{app}/K{i}", "chr", f"v{rng.randrange(10**9):x}")
                               for i in range(n)])
            else:
                b.execs.append(EXEC_TARGETS[rng.randrange(len(EXEC_TARGETS))])
        return b

    def _large_object(self, rng: random.Random, batches: list[Batch]) -> None:
        """A text object of 6-24 KB in one chunk per batch; the chunks after the first travel alone."""
        total = rng.randrange(6000, 24000)
        words: list[str] = []
        size = 0
        while size < total:
            word = f"k{len(words)}=v{rng.randrange(10**8)};"
            words.append(word)
            size += len(word)
        data = "".join(words)[:total]
        uri = f"./Vendor/Bench/Config/C{rng.randrange(1000)}"
        n = len(batches)
        cut = [round(total * i / n) for i in range(n + 1)]
        for i, b in enumerate(batches):
            if i:
                b.gets.clear()
                b.replaces.clear()
                b.adds.clear()
                b.execs.clear()
            b.chunk = (uri, total if i == 0 else 0, data[cut[i]:cut[i + 1]], i < n - 1)

    def _results(self, dev: Device, cmd_id: int, msg_ref: int, get: Ask) -> Node:
        """Results for a Get: the device's values of those ./DevDetail nodes."""
        items = []
        for uri in get.uris:
            fmt, value = self._value(dev, uri)
            items.append(item(source=uri, fmt=fmt, mtype="text/plain", data=value))
        return E("Results", T("CmdID", cmd_id), T("MsgRef", msg_ref), T("CmdRef", get.cmd_id), *items)

    @staticmethod
    def _value(dev: Device, uri: str) -> tuple[str, str]:
        leaf = uri.removeprefix("./DevDetail/")
        std = {
            "DevTyp": dev.mod, "OEM": dev.man, "FwV": dev.fwv, "SwV": f"{dev.fwv}-sw", "HwV": "rev-B",
            "LrgObj": "true", "URI/MaxDepth": "16", "URI/MaxTotLen": "256", "URI/MaxSegLen": "64",
        }
        if leaf in std:
            return ("bool" if leaf == "LrgObj" else "int" if leaf.startswith("URI/") else "chr"), std[leaf]
        return "int", str((dev.n * 31 + len(leaf) * 17) % 100000)


def generate(out: str | Path, packets: int, seed: int = 1, *, devices: int = FLEET,
             concurrency: int = CONCURRENCY, encoder: str = "fast", secrets: str | Path | None = None,
             keep_samples: bool = False, client_chal: float = 0.0) -> Stats:
    """Write the capture (and the secrets file); returns what was made."""
    with open(out, "wb") as fh:
        gen = Generator(gencap.Writer(fh), seed, devices, concurrency, encoder, keep_samples, client_chal)
        stats = gen.run(packets)
    if secrets is not None:
        Path(secrets).write_text(secrets_toml(gen.fleet))
    return stats


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--devices", type=int, default=FLEET, help=f"fleet size (default {FLEET})")
    ap.add_argument("--concurrency", type=int, default=CONCURRENCY,
                    help=f"sessions in progress at once (default {CONCURRENCY})")
    ap.add_argument("--encoder", choices=("fast", "project"), default="fast",
                    help="WBXML writer: the token-table emitter (default) or decoders.wbxml.encode")
    ap.add_argument("--secrets", metavar="FILE", help="write the secrets.toml for dmsniff --secrets")
    ap.add_argument("--client-chal", type=float, default=0.0, metavar="FRACTION",
                    help="share of the devices that answer their server's Cred with a Chal, giving it a "
                         "server nonce of their own for its next Cred and Pkg#0 (default 0: not in the "
                         "benchmark mix)")
    args = ap.parse_args(argv)
    if args.packets < 1 or args.devices < 1 or args.concurrency < 1 or not 0 <= args.client_chal <= 1:
        ap.error("--packets, --devices and --concurrency must be >= 1, --client-chal in 0..1")
    st = generate(args.out, args.packets, args.seed, devices=args.devices, concurrency=args.concurrency,
                  encoder=args.encoder, secrets=args.secrets, client_chal=args.client_chal)
    print(f"{args.out}: {st.sessions} OMA DM sessions ({st.server_initiated} after a Pkg#0, {st.challenged} "
          f"challenged, {st.large_objects} with a large object) of {st.devices} devices, {st.requests} "
          f"requests, {st.xml_messages} XML + {st.wbxml_messages} WBXML messages, {st.client_creds} client "
          f"+ {st.server_creds} server md5 Creds, {st.client_chals} client Chals, {st.bulk_flows} bulk flows",
          file=sys.stderr)
    print(f"{args.out}: {st.packets} packets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
