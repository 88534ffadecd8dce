"""captures/tls_omadm_loopback.pcap (OMA DM over HTTPS) against tshark, its oracle.

captures/record_tls_omadm.py records it and writes down what the peers saw in
``tls_omadm_loopback.truth.json``: three TLS connections from curl to a Python ``ssl`` DM server
(TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 carrying a WBXML session, TLS 1.3 TLS_AES_256_GCM_SHA384 and
TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 carrying XML sessions), each after a plaintext WAP Push
notification on UDP 2948.  With the NSS key log tshark must find exactly the truth's HTTP
exchanges, bodies byte for byte; without it (or with only the server's RSA key: every suite is
ECDHE) none; the handshakes are the truth's (version, suite, SNI, one hello each way, a full
handshake, no KeyUpdate); the decrypted WBXML reads back with libwbxml's ``wbxml2xml``.  The same
checks run on a fresh recording when this machine can make one.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import CAPTURES, ROOT

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

PCAP = CAPTURES / "tls_omadm_loopback.pcap"
TIMEOUT = 60.0
PUSH_PORT = 2948
WBXML_CT = "application/vnd.syncml.dm+wbxml"
SUITES = {  # IANA name -> code point, for the truth's cipher_iana
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": 0xC030,
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": 0xC02F,
    "TLS_AES_256_GCM_SHA384": 0x1302,
}
TCP = ("tcp.srcport", "tcp.dstport")
EXCHANGE_KEYS = ("method", "uri", "status", "request_body_sha256", "response_body_sha256")


def secrets(pcap: Path) -> dict[str, Path]:
    return {
        "keys": pcap.with_suffix(".keys"),
        "server.key": pcap.with_name(pcap.stem + ".server.key"),
        "server.crt": pcap.with_name(pcap.stem + ".server.crt"),
        "truth": pcap.with_suffix(".truth.json"),
    }


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(secrets(PCAP)["truth"].read_text())
    return data


def tshark(pcap: Path, *args: str) -> bytes:
    done = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), *args], capture_output=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    return done.stdout


def fields(pcap: Path, *args: str) -> list[list[str]]:
    out = tshark(pcap, *args, "-T", "fields", "-E", "separator=\t")
    return [line.split("\t") for line in out.decode().splitlines()]


def server_port(truth: dict[str, Any]) -> int:
    ports = {c["server_port"] for c in truth["connections"]}
    assert len(ports) == 1, ports
    return int(ports.pop())


def tls_opts(truth: dict[str, Any], keys: Path | None = None, rsa_key: Path | None = None) -> list[str]:
    opts = ["-d", f"tcp.port=={server_port(truth)},tls"]
    if keys is not None:
        opts += ["-o", f"tls.keylog_file:{keys}"]
    if rsa_key is not None:
        opts += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    return opts


# --- HTTP messages as tshark sees them ---------------------------------------------------------


class Message(NamedTuple):
    client_port: int
    method: str | None  # None for a response
    uri: str | None
    status: int | None  # None for a request
    body: bytes


def http_messages(pcap: Path, opts: list[str], port: int) -> list[Message]:
    """Every HTTP request and response tshark finds, in frame order, its body taken from the PDML bytes."""
    root = ET.fromstring(tshark(pcap, *opts, "-Y", "http", "-T", "pdml"))
    out = []
    for packet in root.iter("packet"):
        ports = {f.get("name"): int(f.get("show") or 0) for f in packet.iter("field") if f.get("name") in TCP}
        client = ports["tcp.dstport"] if ports["tcp.srcport"] == port else ports["tcp.srcport"]
        for proto in packet.iter("proto"):
            if proto.get("name") != "http":
                continue
            f = {x.get("name"): x for x in proto.iter("field")}
            body = bytes.fromhex(f["http.file_data"].get("value") or "") if "http.file_data" in f else b""
            method, uri, code = (
                f.get(n) for n in ("http.request.method", "http.request.uri", "http.response.code")
            )
            out.append(
                Message(
                    client,
                    method.get("show") if method is not None else None,
                    uri.get("show") if uri is not None else None,
                    int(code.get("show") or 0) if code is not None else None,
                    body,
                )
            )
    return out


def exchanges(messages: list[Message]) -> dict[int, list[dict[str, Any]]]:
    """Per client port, its requests paired with its responses, in order, in the truth's format."""
    by_port: dict[int, tuple[list[Message], list[Message]]] = {}
    for m in messages:
        requests, responses = by_port.setdefault(m.client_port, ([], []))
        (requests if m.method is not None else responses).append(m)
    return {
        port: [
            {
                "method": q.method,
                "uri": q.uri,
                "status": r.status,
                "request_body_sha256": hashlib.sha256(q.body).hexdigest(),
                "response_body_sha256": hashlib.sha256(r.body).hexdigest(),
            }
            for q, r in zip(requests, responses, strict=True)
        ]
        for port, (requests, responses) in by_port.items()
    }


def syn_frames(pcap: Path) -> list[tuple[int, int]]:
    """(frame, client port) of every connection's SYN, in capture order."""
    rows = fields(
        pcap, "-Y", "tcp.flags.syn == 1 && tcp.flags.ack == 0", "-e", "frame.number", "-e", "tcp.srcport"
    )
    return [(int(frame), int(port)) for frame, port in rows]


# --- the checks, on the committed capture and on a fresh one ----------------------------------


def assert_decrypted_exchanges(pcap: Path, truth: dict[str, Any]) -> list[Message]:
    """With the key log: exactly the truth's connections (in SYN order) and exchanges."""
    port = server_port(truth)
    assert [p for _, p in syn_frames(pcap)] == [c["client_port"] for c in truth["connections"]]
    messages = http_messages(pcap, tls_opts(truth, keys=secrets(pcap)["keys"]), port)
    want = {
        c["client_port"]: [{k: x[k] for k in EXCHANGE_KEYS} for x in c["exchanges"]]
        for c in truth["connections"]
    }
    assert exchanges(messages) == want
    return messages


def assert_no_http_without_keys(pcap: Path, truth: dict[str, Any]) -> None:
    port = server_port(truth)
    assert http_messages(pcap, tls_opts(truth), port) == []
    # ECDHE everywhere: the server's RSA private key alone decrypts nothing
    assert http_messages(pcap, tls_opts(truth, rsa_key=secrets(pcap)["server.key"]), port) == []
    # and the TLS records are there: application data on every connection
    rows = fields(
        pcap,
        *tls_opts(truth),
        "-Y",
        "tls.record.content_type == 23 || tls.record.opaque_type == 23",
        "-e",
        "tcp.srcport",
    )
    seen = {int(p) for (p,) in rows} - {server_port(truth)}
    assert seen == {c["client_port"] for c in truth["connections"]}


def assert_handshakes(pcap: Path, truth: dict[str, Any]) -> None:
    """Version, suite and SNI as the truth says; one ClientHello and ServerHello each (no
    HelloRetryRequest), a Certificate (a full handshake, not resumed), no KeyUpdate."""
    port = server_port(truth)
    rows = fields(
        pcap,
        *tls_opts(truth, keys=secrets(pcap)["keys"]),
        "-Y",
        "tls.handshake.type",
        "-e",
        "tcp.srcport",
        "-e",
        "tcp.dstport",
        "-e",
        "tls.handshake.type",
        "-e",
        "tls.handshake.version",
        "-e",
        "tls.handshake.extensions.supported_version",
        "-e",
        "tls.handshake.ciphersuite",
        "-e",
        "tls.handshake.extensions_server_name",
    )
    seen: dict[int, dict[str, Any]] = {}
    for src, dst, types, version, supported, suite, sni in rows:
        client = int(dst) if int(src) == port else int(src)
        s = seen.setdefault(client, {"types": [], "sni": None, "version": None, "suite": None})
        kinds = [int(t) for t in types.split(",")]
        s["types"] += kinds
        if 1 in kinds:
            s["sni"] = sni
        if 2 in kinds:
            s["version"] = "TLSv1.3" if supported == "0x0304" else {"0x0303": "TLSv1.2"}.get(version, version)
            s["suite"] = int(suite, 16)
    assert sorted(seen) == sorted(c["client_port"] for c in truth["connections"])
    for c in truth["connections"]:
        s = seen[c["client_port"]]
        assert (s["version"], s["suite"], s["sni"]) == (c["tls_version"], SUITES[c["cipher_iana"]], c["sni"])
        assert s["types"].count(1) == 1 and s["types"].count(2) == 1, s  # a HelloRetryRequest is a 2nd pair
        assert not c["hello_retry"] and not c["resumed"] and not c["key_update"]
        assert 11 in s["types"] and 24 not in s["types"], s


def assert_notifications(pcap: Path, truth: dict[str, Any]) -> None:
    """The Package #0 pushes in clear on UDP 2948, each before the connection of its session."""
    rows = fields(
        pcap,
        "-Y",
        f"udp.dstport == {PUSH_PORT}",
        "-e",
        "frame.number",
        "-e",
        "udp.srcport",
        "-e",
        "udp.dstport",
        "-e",
        "udp.payload",
        "-e",
        "wsp.pdu_type",
        "-e",
        "wsp.header.content_type",
        "-e",
        "wsp.header.x_wap_application_id",
    )
    want = [
        [
            n["client_port"],
            n["server_port"],
            n["pdu_hex"],
            "0x06",
            "application/vnd.syncml.notification",
            "x-wap-application:syncml.dm",
        ]
        for n in truth["notifications"]
    ]
    assert [[int(r[1]), int(r[2]), *r[3:]] for r in rows] == want
    assert [n["session_id"] for n in truth["notifications"]] == ["1A2B", "2C", "3D"]
    assert [n["digest"] for n in truth["notifications"]] == ["valid", "valid", "invalid"]
    frames = sorted([(int(r[0]), "N") for r in rows] + [(f, "C") for f, _ in syn_frames(pcap)])
    assert "".join(k for _, k in frames) == "NC" * len(truth["connections"])


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def syncml_ids(xml: bytes) -> tuple[str | None, str | None]:
    """(SessionID, MsgID) of a SyncML message."""
    root = ET.fromstring(xml)
    assert local(root.tag) == "SyncML"
    hdr = {local(e.tag): (e.text or "").strip() for e in next(k for k in root if local(k.tag) == "SyncHdr")}
    return hdr.get("SessionID"), hdr.get("MsgID")


def assert_bodies_read_back(messages: list[Message], truth: dict[str, Any]) -> None:
    """The decrypted DM bodies are the truth's sessions: WBXML through wbxml2xml, XML as is."""
    by_port: dict[int, list[Message]] = {}
    for m in messages:
        by_port.setdefault(m.client_port, []).append(m)
    for s in truth["sessions"]:
        conn = truth["connections"][s["connection"]]
        bodies = by_port[conn["client_port"]]
        assert len([m for m in bodies if m.method]) == s["client_messages"]
        assert len([m for m in bodies if m.status]) == s["server_messages"]
        ids = []
        for m in bodies:
            xml = m.body
            if s["encoding"] == "wbxml":
                assert m.body[:3] == b"\x03\xa4\x01"  # WBXML 1.3, SyncML 1.2
                done = subprocess.run(
                    ["wbxml2xml", "-o", "-", "-"],
                    input=m.body,
                    capture_output=True,
                    timeout=TIMEOUT,
                    check=False,
                )
                assert done.returncode == 0 and done.stdout, done.stderr
                xml = done.stdout
            else:
                assert m.body.startswith(b"<?xml")
            ids.append(syncml_ids(xml))
        n = s["client_messages"]  # request i and its response carry MsgID i
        assert sorted(ids) == sorted([(s["session_id"], str(i)) for i in range(1, n + 1)] * 2), ids


# --- the committed capture ----------------------------------------------------------------------


def test_committed_files_and_plan(truth: dict[str, Any]) -> None:
    paths = secrets(PCAP)
    assert PCAP.stat().st_size < 150_000
    key = paths["server.key"].read_text()
    assert key.startswith("-----BEGIN PRIVATE KEY-----") and "ENCRYPTED" not in key
    assert paths["server.crt"].read_text().startswith("-----BEGIN CERTIFICATE-----")
    labels = [line.split()[0] for line in paths["keys"].read_text().splitlines() if line and line[0] != "#"]
    assert labels.count("CLIENT_RANDOM") == 2 and labels.count("CLIENT_TRAFFIC_SECRET_0") == 1
    plan = [(c["tls_version"], c["cipher"], c["cipher_iana"], c["tool"]) for c in truth["connections"]]
    assert plan == [
        ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "curl"),
        ("TLSv1.3", "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", "curl"),
        ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "curl"),
    ]
    sessions = [
        (s["session_id"], s["encoding"], s["client_messages"], s["server_messages"])
        for s in truth["sessions"]
    ]
    assert sessions == [("1A2B", "wbxml", 4, 4), ("2C", "xml", 2, 2), ("3E", "xml", 2, 2)]
    if shutil.which("openssl"):  # the key is the certificate's
        pub = [
            subprocess.run(cmd, capture_output=True, timeout=TIMEOUT, check=True).stdout
            for cmd in (
                ["openssl", "x509", "-noout", "-pubkey", "-in", str(paths["server.crt"])],
                ["openssl", "pkey", "-pubout", "-in", str(paths["server.key"])],
            )
        ]
        assert pub[0] == pub[1]


def test_key_log_decrypts_exactly_the_truths_exchanges(truth: dict[str, Any]) -> None:
    messages = assert_decrypted_exchanges(PCAP, truth)
    wbxml = [m for m in messages if m.body[:3] == b"\x03\xa4\x01"]
    assert len(wbxml) == 8  # session 1: four requests, four responses


def test_without_the_key_log_no_http(truth: dict[str, Any]) -> None:
    assert_no_http_without_keys(PCAP, truth)


def test_handshakes_are_the_truths(truth: dict[str, Any]) -> None:
    assert_handshakes(PCAP, truth)


def test_notifications_in_clear_on_udp_2948(truth: dict[str, Any]) -> None:
    assert_notifications(PCAP, truth)


@pytest.mark.skipif(shutil.which("wbxml2xml") is None, reason="libwbxml's wbxml2xml is not installed")
def test_decrypted_wbxml_reads_back_with_wbxml2xml(truth: dict[str, Any]) -> None:
    messages = http_messages(PCAP, tls_opts(truth, keys=secrets(PCAP)["keys"]), server_port(truth))
    assert_bodies_read_back(messages, truth)


# --- a fresh recording --------------------------------------------------------------------------

TOOLS = ("tcpdump", "curl", "openssl", "xml2wbxml", "wbxml2xml")


@pytest.mark.skipif(
    os.geteuid() != 0 or any(shutil.which(t) is None for t in TOOLS),
    reason="recording on loopback needs root, tcpdump, curl, openssl and libwbxml's tools",
)
def test_fresh_recording(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "record_tls_omadm", ROOT / "captures" / "record_tls_omadm.py"
    )
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    pcap = tmp_path / "fresh.pcap"
    truth = json.loads(json.dumps(recorder.record(pcap)))  # as main() writes it
    assert all(p.is_file() for name, p in secrets(pcap).items() if name != "truth")
    messages = assert_decrypted_exchanges(pcap, truth)
    assert_no_http_without_keys(pcap, truth)
    assert_handshakes(pcap, truth)
    assert_notifications(pcap, truth)
    assert_bodies_read_back(messages, truth)
