"""Record captures/tls_omadm_loopback.pcap: OMA DM over HTTPS, as a Windows MDM client talks to its server.

The peers are those of ``record_omadm.py`` (imported from this folder, not copied): its scripted
DM server (the ``http.server`` handler that checks every message and answers with the next one)
and curl as the DM client, one curl run per DM session, ``--next`` between the POSTs so that a
session is one keep-alive connection.  Here the server's listening socket is wrapped by Python's
``ssl`` (``SSLContext.wrap_socket``, TLS 1.2 and 1.3, ALPN ``http/1.1``, a throwaway self-signed
RSA-2048 certificate for CN and DNS SAN ``dm.dmsniff.test`` plus IP SAN 127.0.0.1, made by the
``openssl`` CLI), and curl goes to ``https://dm.dmsniff.test:PORT/dm`` with ``--resolve
dm.dmsniff.test:PORT:127.0.0.1`` and ``--cacert`` that certificate, so it verifies the chain and
the name and sends SNI ``dm.dmsniff.test``.  Each session's TLS version and cipher suite is pinned
on curl's side.  Package #0 notifications stay plaintext connectionless WAP Push over UDP to
127.0.0.1:2948, as in ``record_omadm.py`` (that is how they travel).  tcpdump records it all on
``lo``.  The capture holds, in order:

1. notification N1 (UDP to 2948): session id 0x1A2B, ui-mode 1, digest VALID;
2. TCP connection 1, TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 (TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384):
   record_omadm.py's session 1, WBXML, SessionID 1A2B, four POSTs (C1 to ``/dm``, C2-C4 to the
   RespURI ``/dm?s=1A2B``), four 200 answers (basic Cred refused with a 401 Status, md5 accepted,
   Get/Replace, a large object in two chunks);
3. notification N2: session id 0x2C, ui-mode 2, digest valid only with the resync nonce (00000000);
4. TCP connection 2, TLS 1.3 TLS_AES_256_GCM_SHA384: session 2, XML, SessionID 2C, two POSTs to
   ``/dm`` (md5 Cred with a wrong password, twice refused);
5. notification N3: session id 0x3D, ui-mode 3, digest INVALID;
6. TCP connection 3, TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256: session 3, XML, SessionID 3E, two POSTs
   to ``/dm`` with ``x-syncml-hmac`` both ways (Windows-rule breakers, a missing Status).

The DM bodies are record_omadm.py's, with the server URL ``https://dm.dmsniff.test:PORT/dm`` in
them.  Each connection is a full handshake (one curl run each, nothing resumed), none has a
HelloRetryRequest or a KeyUpdate; in TLS 1.2 (extended master secret, as OpenSSL 3.0 does it) curl
offers no session ticket and nobody reuses the server's session ID, in TLS 1.3 the server sends two
NewSessionTickets after the handshake that nobody uses.  All the suites are ECDHE, so the server's
RSA key alone decrypts nothing: the key log does.

Secrets: the NSS key log ``<name>.keys`` (curl's ``SSLKEYLOGFILE``, checked to hold exactly the
lines the server's ``keylog_filename`` logged), the server's private key ``<name>.server.key``
(PEM, unencrypted; its certificate ``<name>.server.crt``), and record_omadm.py's DM secrets
(dmuser/dmpass, dmsniff-dm/srvpass, the fixed nonces).

Ground truth (``record()`` returns it; ``main()`` writes it next to the pcap as
``<name>.truth.json``): ``connections`` in capture order, each with its TLS parameters as both
peers reported them (the server's ``SSLSocket`` and curl's ``-v``) and its HTTP ``exchanges``
(method, URI, status, sha256 of each body, which both peers checked against the script);
``notifications`` (session id, ui-mode, digest verdict, UDP ports, the PDU) and ``sessions``
(SessionID, encoding, messages each way, the connection it went on).

The HTTPS port is picked at run time; the push port is 2948 and must be free.  Run as root::

    python captures/record_tls_omadm.py [OUT.pcap]

Re-running gives the same exchanges with new ports, certificate, key log, sequence numbers and times
(and the port in the DM bodies, so their digests).
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import re
import shutil
import socket
import ssl
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent))  # captures/ holds loopback.py, record_omadm.py
import loopback
import record_omadm as dm
from loopback import Tcpdump, packets_captured

HOST = "127.0.0.1"
SERVER_NAME = "dm.dmsniff.test"
TIMEOUT = 10.0  # seconds, for any one step


class Tls(NamedTuple):
    """How one DM session's connection is secured: curl's options and what both peers must report."""

    version: str  # as ssl.SSLSocket.version() and curl -v name it
    cipher: str  # OpenSSL name
    cipher_iana: str
    curl: tuple[str, ...]


PLAN = [  # per DM session of record_omadm.py, in order
    Tls(
        "TLSv1.2",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
        ("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES256-GCM-SHA384"),
    ),
    Tls(
        "TLSv1.3",
        "TLS_AES_256_GCM_SHA384",
        "TLS_AES_256_GCM_SHA384",
        ("--tlsv1.3", "--tls13-ciphers", "TLS_AES_256_GCM_SHA384"),
    ),
    Tls(
        "TLSv1.2",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        ("--tlsv1.2", "--tls-max", "1.2", "--ciphers", "ECDHE-RSA-AES128-GCM-SHA256"),
    ),
]



def secret_paths(pcap: Path) -> dict[str, Path]:
    """Where the secrets of pcap go: key log, server key, server certificate, truth."""
    return {
        "keys": pcap.with_suffix(".keys"),
        "server.key": pcap.with_name(pcap.stem + ".server.key"),
        "server.crt": pcap.with_name(pcap.stem + ".server.crt"),
        "truth": pcap.with_suffix(".truth.json"),
    }


def make_cert(key: Path, crt: Path, tmp: Path) -> None:
    """A throwaway self-signed RSA-2048 certificate for SERVER_NAME and HOST (valid 3650 days)."""
    loopback.make_cert(key, crt, tmp, SERVER_NAME, days=3650)


# --- the server: record_omadm.py's DM server behind ssl -----------------------------------------


class Seen:
    """What the TLS server saw, per client address."""

    def __init__(self) -> None:  # a plain class: loading the module needs no sys.modules entry
        self.sni: dict[tuple[str, int], str | None] = {}
        self.tls: dict[tuple[str, int], dict[str, Any]] = {}


def server_context(key: Path, crt: Path, keylog: Path, seen: Seen) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.maximum_version = ssl.TLSVersion.TLSv1_3
    ctx.load_cert_chain(crt, key)
    ctx.set_alpn_protocols(["http/1.1"])
    ctx.keylog_filename = str(keylog)

    def on_sni(sock: Any, name: str | None, _ctx: ssl.SSLContext) -> None:
        seen.sni[sock.getpeername()] = name

    ctx.sni_callback = on_sni
    return ctx


def tls_handler(state: dm.DmServer, seen: Seen) -> type[http.server.BaseHTTPRequestHandler]:
    """record_omadm.py's handler, doing the handshake first and noting what it agreed."""

    class Handler(dm.dm_handler(state)):
        def handle(self) -> None:
            conn = self.connection  # an ssl.SSLSocket, its timeout set by setup()
            try:
                conn.do_handshake()
            except OSError as exc:
                state.errors.append(f"TLS server: handshake with {self.client_address}: {exc}")
                return
            name, _, bits = conn.cipher()
            seen.tls[self.client_address] = {
                "version": conn.version(),
                "cipher": name,
                "bits": bits,
                "resumed": conn.session_reused,
                "alpn": conn.selected_alpn_protocol(),
            }
            super().handle()

    return Handler


# --- the client: curl -v ------------------------------------------------------------------------


def curl_view(said: str) -> dict[str, Any]:
    """What curl -v says of its one connection: version and cipher, ALPN, handshake counts."""
    m = re.search(r"^\* SSL connection using (\S+) / (\S+)", said, re.M)
    alpn = re.search(r"^\* ALPN: server accepted (\S+)", said, re.M)
    offered = re.search(r"^\* ALPN: offers (\S+)", said, re.M)
    return {
        "version": m[1] if m else None,
        "cipher": m[2] if m else None,
        "alpn": alpn[1] if alpn else None,
        "alpn_offered": offered[1] if offered else None,
        "client_hellos": len(re.findall(r"\(OUT\), TLS handshake, Client hello", said)),
        "server_hellos": len(re.findall(r"\(IN\), TLS handshake, Server hello", said)),
        "tickets": len(re.findall(r"\(IN\), TLS handshake, Newsession Ticket", said)),
        "key_updates": len(re.findall(r"TLS handshake, Key update", said)),
        "resumed": bool(re.search(r"SSL re-using session ID", said)),
        "verified": bool(re.search(r"^\*  SSL certificate verify ok", said, re.M)),
        "connects": len(re.findall(r"^\* Connected to ", said, re.M)),
    }


def keylog_lines(path: Path) -> list[str]:
    if not path.is_file():
        return []
    return [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")]


# --- the recording ------------------------------------------------------------------------------


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def notification_truth(n: dm.Notification, src_port: int) -> dict[str, Any]:
    """A notification as the device read it."""
    hlen = n.pdu[2]
    trigger = n.pdu[3 + hlen + 16 :]
    return {
        "tid": n.tid,
        "session_id": f"{int.from_bytes(trigger[5:7], 'big'):X}",
        "ui_mode": (int.from_bytes(trigger[:5], "big") >> 28) & 3,
        "digest": "valid" if n.valid else "invalid",
        "digest_nonce_hex": n.nonce.hex() if n.valid else None,  # the nonce that makes it valid
        "client_port": src_port,  # the push server's UDP port
        "server_port": dm.PUSH_PORT,
        "pdu_hex": n.pdu.hex(),
    }


def connection_truth(
    posts: list[dm.Post], plan: Tls, port: int, client: tuple[str, int], seen: Seen, said: str
) -> dict[str, Any]:
    """One session's connection as both peers saw it; raises if they disagree with each other or the plan."""
    server, curl = seen.tls.get(client), curl_view(said)
    sid = posts[0].session
    want = {"version": plan.version, "cipher": plan.cipher, "alpn": "http/1.1", "resumed": False}
    if server is None or {k: server[k] for k in want} != want:
        raise RuntimeError(f"session {sid}: the TLS server agreed {server}, planned {want}")
    if {k: curl[k] for k in want} != want or not curl["verified"] or curl["connects"] != 1:
        raise RuntimeError(f"session {sid}: curl -v says {curl}, planned {want}")
    if curl["client_hellos"] != 1 or curl["server_hellos"] != 1 or curl["key_updates"]:
        raise RuntimeError(f"session {sid}: a HelloRetryRequest or a KeyUpdate: {curl}")
    if seen.sni.get(client) != SERVER_NAME:
        raise RuntimeError(f"session {sid}: SNI {seen.sni.get(client)!r}, wanted {SERVER_NAME}")
    encoding = "WBXML" if posts[0].ctype == dm.WBXML_CT else "XML"
    notes = [
        f"OMA DM session {sid}, {encoding} ({posts[0].ctype}), {len(posts)} POSTs, one keep-alive connection",
        f"ALPN: curl offered {curl['alpn_offered']}, the server chose http/1.1",
        "ECDHE key exchange: the server's RSA key alone does not decrypt it",
        "full handshake, no session ticket"
        if not curl["tickets"]
        else f"full handshake; the server sent {curl['tickets']} NewSessionTickets, never used",
    ]
    if any(p.client_hmac for p in posts):
        notes.append("x-syncml-hmac headers both ways")
    return {
        "client_port": client[1],
        "server_port": port,
        "tool": "curl",
        "server_tool": "python ssl",
        "tls_version": plan.version,
        "cipher": plan.cipher,
        "cipher_iana": plan.cipher_iana,
        "resumed": False,
        "sni": SERVER_NAME,
        "alpn": "http/1.1",
        "key_update": False,
        "hello_retry": False,
        "notes": notes,
        "exchanges": [
            {
                "method": "POST",
                "uri": p.path,
                "status": 200,
                "content_type": p.ctype,
                "request_body_sha256": sha256(p.body),
                "response_body_sha256": sha256(p.answer),
            }
            for p in posts
        ],
    }


def record(out_path: str | Path) -> dict[str, Any]:
    """Records the exchanges of the module docstring into the pcap file out_path, writing its key log,
    server key and certificate beside it; returns the ground truth (see the module docstring)."""
    return record_counted(out_path)[0]


def record_counted(out_path: str | Path) -> tuple[dict[str, Any], int]:
    """record(), and the number of packets tcpdump captured."""
    out = Path(out_path)
    for tool in ("tcpdump", "curl", "openssl", "xml2wbxml", "wbxml2xml"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"record_tls_omadm: {tool} is needed")
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = secret_paths(out)
    with tempfile.TemporaryDirectory(prefix="record_tls_omadm-") as name:
        tmp = Path(name)
        make_cert(paths["server.key"], paths["server.crt"], tmp)
        server_keys, client_keys = tmp / "server.keys", tmp / "client.keys"
        state, seen = dm.DmServer(), Seen()
        tls = server_context(paths["server.key"], paths["server.crt"], server_keys, seen)
        server = dm.serve(tls_handler(state, seen), tls)
        udp = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(2)]
        try:
            push_server, device = udp
            push_server.bind((HOST, 0))
            try:
                device.bind((HOST, dm.PUSH_PORT))
            except OSError as exc:
                raise RuntimeError(f"cannot listen on UDP port {dm.PUSH_PORT}: {exc}") from exc
            device.settimeout(TIMEOUT)
            port = int(server.server_address[1])
            base = f"https://{SERVER_NAME}:{port}"
            sessions = [dm.session1(base + "/dm"), dm.session2(base + "/dm"), dm.session3(base + "/dm")]
            for posts in sessions:
                state.script.extend(posts)
            env = {**os.environ, "SSLKEYLOGFILE": str(client_keys)}
            common = ["-v", "--noproxy", "*", "--cacert", str(paths["server.crt"])]
            common += ["--resolve", f"{SERVER_NAME}:{port}:{HOST}"]
            said: list[str] = []
            dump = Tcpdump(out, [port, dm.PUSH_PORT])
            try:
                for n, posts, plan in zip(dm.notifications(), sessions, PLAN, strict=True):
                    dm.notify(push_server, device, n)
                    said.append(dm.curl_session(base, posts, tmp, [*common, *plan.curl], env))
            except RuntimeError as exc:  # say what the server saw too
                raise RuntimeError("; ".join([str(exc), *state.errors])) from exc
            else:
                time.sleep(0.5)  # let the last FIN/ACKs reach tcpdump
            finally:
                dumped = dump.stop()
            push_port = int(push_server.getsockname()[1])
        finally:
            server.shutdown()
            server.server_close()
            for s in udp:
                s.close()
        if state.script:
            state.errors.append(f"DM server: {len(state.script)} scripted messages never came")
        if state.errors:
            raise RuntimeError("; ".join(state.errors))
        logged, sent = keylog_lines(server_keys), keylog_lines(client_keys)
        if not sent or sorted(logged) != sorted(sent):
            raise RuntimeError(f"the key logs differ: server {len(logged)} lines, curl {len(sent)}")
        shutil.copyfile(client_keys, paths["keys"])
    captured = packets_captured(dumped)
    labels = [line.split()[0] for line in sent]
    versions = [plan.version for plan in PLAN]
    if labels.count("CLIENT_RANDOM") != versions.count("TLSv1.2") or labels.count(
        "CLIENT_TRAFFIC_SECRET_0"
    ) != versions.count("TLSv1.3"):
        raise RuntimeError(f"the key log does not fit the plan {versions}: {sorted(set(labels))}")
    truth = {
        "connections": [
            connection_truth(posts, plan, port, state.connections[posts[0].session], seen, text)
            for posts, plan, text in zip(sessions, PLAN, said, strict=True)
        ],
        "notifications": [notification_truth(n, push_port) for n in dm.notifications()],
        "sessions": [
            {
                "session_id": posts[0].session,
                "encoding": "wbxml" if posts[0].ctype == dm.WBXML_CT else "xml",
                "content_type": posts[0].ctype,
                "client_messages": len(posts),
                "server_messages": len(posts),
                "connection": i,
                "url": base + "/dm",
            }
            for i, posts in enumerate(sessions)
        ],
    }
    return truth, captured


def main(argv: list[str]) -> int:
    out = Path(argv[1] if len(argv) > 1 else Path(__file__).with_name("tls_omadm_loopback.pcap"))
    try:
        truth, packets = record_counted(out)
        secret_paths(out)["truth"].write_text(json.dumps(truth, indent=1) + "\n")
    except (RuntimeError, OSError) as exc:
        print(f"record_tls_omadm: {exc}", file=sys.stderr)
        return 1
    names = ", ".join(p.name for p in secret_paths(out).values())
    print(f"wrote {out}: {packets} packets, {len(truth['connections'])} TLS connections; {names}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
