"""captures/tls12_loopback.pcap and tls13_loopback.pcap (every TLS suite and handshake variant), by tshark.

captures/record_tls_suites.py records them and writes down what the peers saw (curl ``-v``,
s_client's printout and ``-msg`` log, the Python ``ssl`` server) in ``<name>.truth.json``: 22
TLS 1.0-1.2 connections (AEAD and CBC suites, ETM and MAC-then-encrypt, RSA key exchange,
session-ID and ticket resumption, renegotiation, no SNI, two fatal alerts, no extended master
secret) and 12 TLS 1.3 ones (the five suites, PSK resumption, KeyUpdate, HelloRetryRequest, a
fatal alert).  tshark is the oracle:

* with the merged NSS key log it finds, per connection, exactly the truth's HTTP exchanges
  (method, URI, status, sha256 of each body, the bodies taken from the PDML bytes);
* its view of every handshake is the truth's: the ServerHello's suite and version
  (``supported_versions`` in TLS 1.3), HelloRetryRequest (its special random), resumption (no
  Certificate; ``pre_shared_key`` in TLS 1.3), renegotiation (a second ClientHello), KeyUpdate both
  ways, SNI, the extended_master_secret / encrypt_then_mac extensions where the truth knows them,
  no early_data, the fatal alert and who sent it;
* without keys, no HTTP at all;
* with only the server's RSA key (``uat:rsa_keys``) exactly tls12's RSA key-exchange connections
  decrypt, the resumed ones included: tshark 4.0 carries the master secret of the full handshake
  over to the session-ID and the session-ticket resumptions; no TLS 1.3 connection decrypts;
* the truth covers every variant the capture is for.

The same checks run on a fresh recording when this machine can make one (root, tcpdump, curl,
openssl).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from tests.conftest import CAPTURES, ROOT

pytestmark = pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")

TIMEOUT = 120.0
NAMES = ("tls12", "tls13")
VERSIONS = {0x0301: "TLSv1.0", 0x0302: "TLSv1.1", 0x0303: "TLSv1.2", 0x0304: "TLSv1.3"}
ALERTS = {40: "handshake_failure", 42: "bad_certificate", 46: "certificate_unknown", 48: "unknown_ca"}
HRR_RANDOM = "cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c"  # RFC 8446 4.1.3
CLIENT_HELLO, SERVER_HELLO, CERTIFICATE, KEY_UPDATE = 1, 2, 11, 24
EXT_ETM, EXT_EMS, EXT_PSK, EXT_EARLY_DATA = 22, 23, 41, 42


def pcap_path(name: str) -> Path:
    return CAPTURES / f"{name}_loopback.pcap"


def load_truth(pcap: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(pcap.with_suffix(".truth.json").read_text())
    return data


# --- what tshark sees, per TCP connection -------------------------------------------------------


class Handshake(NamedTuple):
    from_client: bool
    type: int
    suite: int | None  # a ServerHello's cipher suite
    version: int | None  # legacy_version
    supported: list[int]  # supported_versions
    extensions: list[int]
    sni: str | None
    random: str


class Alert(NamedTuple):
    from_client: bool
    level: int
    desc: int


class Message(NamedTuple):
    from_client: bool
    method: str | None
    uri: str | None
    status: int | None
    body: bytes


class Seen(NamedTuple):
    handshakes: list[Handshake]
    alerts: list[Alert]
    http: list[Message]


def _all(elem: ET.Element, name: str) -> list[ET.Element]:
    return [f for f in elem.iter("field") if f.get("name") == name]


def _show(elem: ET.Element, name: str) -> str | None:
    found = _all(elem, name)
    return found[0].get("show") if found else None


def _handshake(hs: ET.Element, from_client: bool) -> Handshake:
    suite = _show(hs, "tls.handshake.ciphersuite")
    version = _show(hs, "tls.handshake.version")
    kind = int(_show(hs, "tls.handshake.type") or -1)
    return Handshake(
        from_client,
        kind,
        int(suite, 16) if suite is not None and kind == SERVER_HELLO else None,
        int(version, 16) if version is not None else None,
        [int(f.get("show") or "0", 16) for f in _all(hs, "tls.handshake.extensions.supported_version")],
        [int(f.get("show") or "-1") for f in _all(hs, "tls.handshake.extension.type")],
        _show(hs, "tls.handshake.extensions_server_name"),
        (_show(hs, "tls.handshake.random") or "").replace(":", "").lower(),
    )


def _message(http: ET.Element, from_client: bool) -> Message:
    data = _all(http, "http.file_data")
    code = _show(http, "http.response.code")
    return Message(
        from_client,
        _show(http, "http.request.method"),
        _show(http, "http.request.uri"),
        int(code) if code is not None else None,
        bytes.fromhex(data[0].get("value") or "") if data else b"",
    )


def tshark_view(
    pcap: Path, truth: dict[str, Any], keys: Path | None, rsa_key: Path | None
) -> dict[int, Seen]:
    """Every TCP connection to the truth's server ports, by client port, as tshark dissects it."""
    servers = {int(c["server_port"]) for c in truth["connections"]}
    opts = []
    for port in sorted(servers):
        opts += ["-d", f"tcp.port=={port},tls", "-d", f"tls.port=={port},http"]
    if keys is not None:
        opts += ["-o", f"tls.keylog_file:{keys}"]
    if rsa_key is not None:
        opts += ["-o", f'uat:rsa_keys:"{rsa_key}",""']
    done = subprocess.run(
        ["tshark", "-n", "-r", str(pcap), *opts, "-T", "pdml"],
        capture_output=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    out: dict[int, Seen] = {}
    for packet in ET.fromstring(done.stdout).iter("packet"):
        protos = packet.findall("proto")
        tcp = next((p for p in protos if p.get("name") == "tcp"), None)
        if tcp is None:
            continue
        src, dst = (int(_show(tcp, f"tcp.{end}port") or 0) for end in ("src", "dst"))
        from_client = dst in servers
        seen = out.setdefault(src if from_client else dst, Seen([], [], []))
        for proto in protos:
            if proto.get("name") == "tls":
                seen.handshakes.extend(_handshake(hs, from_client) for hs in _all(proto, "tls.handshake"))
                for alert in _all(proto, "tls.alert_message"):
                    level, desc = (
                        _show(alert, "tls.alert_message.level"),
                        _show(alert, "tls.alert_message.desc"),
                    )
                    if level is not None and desc is not None:
                        seen.alerts.append(Alert(from_client, int(level), int(desc)))
            elif proto.get("name") == "http":
                seen.http.append(_message(proto, from_client))
    return out


def exchanges(seen: Seen) -> list[dict[str, Any]]:
    """The requests and responses of a connection paired in order (nobody pipelines here)."""
    requests = [m for m in seen.http if m.from_client]
    responses = [m for m in seen.http if not m.from_client]
    assert len(requests) == len(responses), seen.http
    return [
        {
            "method": q.method,
            "uri": q.uri,
            "status": r.status,
            "request_body_sha256": hashlib.sha256(q.body).hexdigest(),
            "response_body_sha256": hashlib.sha256(r.body).hexdigest(),
        }
        for q, r in zip(requests, responses, strict=True)
    ]


@cache
def view(pcap: Path, mode: str) -> dict[int, Seen]:
    """tshark's view of pcap with the key log ("keys"), with nothing ("none") or the RSA key alone ("rsa")."""
    truth = load_truth(pcap)
    keys = pcap.with_suffix(".keys") if mode == "keys" else None
    rsa_key = pcap.with_name(truth["server_key"]) if mode == "rsa" else None
    return tshark_view(pcap, truth, keys, rsa_key)


# --- the checks ---------------------------------------------------------------------------------


def check_exchanges(pcap: Path, truth: dict[str, Any]) -> None:
    seen = view(pcap, "keys")
    assert sorted(seen) == sorted(c["client_port"] for c in truth["connections"])  # no connection more
    got = {port: exchanges(s) for port, s in seen.items()}
    assert got == {c["client_port"]: c["exchanges"] for c in truth["connections"]}


def check_handshakes(pcap: Path, truth: dict[str, Any]) -> None:
    seen = view(pcap, "keys")  # TLS 1.3 hides the Certificate, KeyUpdate and late alerts without keys
    for c in truth["connections"]:
        s = seen[c["client_port"]]
        where = f"{pcap.name} {c['tool']} port {c['client_port']}"
        client_hellos = [h for h in s.handshakes if h.from_client and h.type == CLIENT_HELLO]
        server_hellos = [h for h in s.handshakes if not h.from_client and h.type == SERVER_HELLO]
        retries = [h for h in server_hellos if h.random == HRR_RANDOM]
        assert bool(retries) == c["hello_retry"], where
        assert len(client_hellos) == 1 + c["hello_retry"] + c["renegotiated"], where
        assert {h.sni for h in client_hellos} == {c["sni"]}, where
        if c.get("early_data") is False:
            assert not any(EXT_EARLY_DATA in h.extensions for h in client_hellos), where
        fatal = {(a.from_client, ALERTS.get(a.desc, str(a.desc))) for a in s.alerts if a.level == 2}
        assert fatal == ({(c["alert_from"] == "client", c["alert"])} if c["alert"] else set()), where
        if c["cipher_id"] is None:  # no shared suite: no ServerHello
            assert not server_hellos and c["tls_version"] is None, where
            continue
        assert {h.suite for h in server_hellos} == {int(c["cipher_id"], 16)}, where
        versions = {VERSIONS[h.supported[0] if h.supported else h.version or 0] for h in server_hellos}
        assert versions == {c["tls_version"]}, where
        hello = next(h for h in server_hellos if h.random != HRR_RANDOM)
        certificates = [h for h in s.handshakes if not h.from_client and h.type == CERTIFICATE]
        assert bool(certificates) != c["resumed"], where
        if c["tls_version"] == "TLSv1.3":
            assert (EXT_PSK in hello.extensions) == c["resumed"], where
        for ext, known in ((EXT_EMS, c["extended_master_secret"]), (EXT_ETM, c["encrypt_then_mac"])):
            if known is not None:
                assert (ext in hello.extensions) == known, (where, ext)
        updates = {h.from_client for h in s.handshakes if h.type == KEY_UPDATE}
        assert updates == ({True, False} if c["key_update"] else set()), where


def check_no_keys(pcap: Path) -> None:
    assert not any(s.http for s in view(pcap, "none").values())


def check_rsa_key_only(pcap: Path, truth: dict[str, Any]) -> None:
    got = {port: exchanges(s) for port, s in view(pcap, "rsa").items() if s.http}
    rsa = [
        c for c in truth["connections"] if (c["cipher_iana"] or "").startswith("TLS_RSA_") and c["exchanges"]
    ]
    assert got == {c["client_port"]: c["exchanges"] for c in rsa}
    if pcap.name.startswith("tls12"):  # the RSA resumptions decrypt through the earlier master secret
        assert {c["resumption"] for c in rsa if c["resumed"]} == {"session_id", "ticket"}


def check_coverage(truth12: dict[str, Any], truth13: dict[str, Any]) -> None:
    """Every variant the captures are for is in them."""
    c12, c13 = truth12["connections"], truth13["connections"]

    def has(conns: list[dict[str, Any]], **want: Any) -> bool:
        return any(
            all(c.get(k) == v for k, v in want.items()) and (c["exchanges"] or c["alert"]) for c in conns
        )

    for suite in (
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES256-GCM-SHA384",
        "AES128-SHA",
        "AES256-GCM-SHA384",
    ):
        assert has(c12, tls_version="TLSv1.2", cipher=suite, resumed=False), suite
    assert has(c12, cipher="ECDHE-RSA-AES128-SHA256", encrypt_then_mac=True)
    assert has(c12, cipher="ECDHE-RSA-AES256-SHA", encrypt_then_mac=False)
    for how in ("session_id", "ticket"):
        for suite in ("ECDHE-RSA-AES128-GCM-SHA256", "AES128-SHA"):
            assert has(c12, cipher=suite, resumed=True, resumption=how), (how, suite)
    assert has(c12, tls_version="TLSv1.0") and has(c12, tls_version="TLSv1.1")
    assert has(c12, renegotiated=True) and has(c12, sni=None)
    assert has(c12, alert="unknown_ca") and has(c12, alert="handshake_failure")
    assert has(c12, cipher="AES128-SHA", extended_master_secret=False)
    assert all(c["exchanges"] for c in c12 + c13 if not c["alert"])
    for suite in (
        "TLS_AES_128_GCM_SHA256",
        "TLS_AES_256_GCM_SHA384",
        "TLS_CHACHA20_POLY1305_SHA256",
        "TLS_AES_128_CCM_SHA256",
        "TLS_AES_128_CCM_8_SHA256",
    ):
        assert has(c13, tls_version="TLSv1.3", cipher=suite, resumed=False), suite
    assert has(c13, resumed=True, resumption="psk", early_data=False)
    assert has(c13, key_update=True) and has(c13, hello_retry=True)
    assert has(c13, tls_version="TLSv1.3", alert="unknown_ca")
    assert not any(c.get("early_data") for c in c13)


# --- the committed captures ---------------------------------------------------------------------


def test_committed_captures_cover_every_variant() -> None:
    check_coverage(load_truth(pcap_path("tls12")), load_truth(pcap_path("tls13")))


@pytest.mark.parametrize("name", NAMES)
def test_key_log_decrypts_exactly_the_exchanges(name: str) -> None:
    pcap = pcap_path(name)
    check_exchanges(pcap, load_truth(pcap))


@pytest.mark.parametrize("name", NAMES)
def test_handshakes_as_the_peers_reported(name: str) -> None:
    pcap = pcap_path(name)
    check_handshakes(pcap, load_truth(pcap))


@pytest.mark.parametrize("name", NAMES)
def test_no_http_without_keys(name: str) -> None:
    check_no_keys(pcap_path(name))


@pytest.mark.parametrize("name", NAMES)
def test_rsa_key_alone_decrypts_the_rsa_key_exchanges(name: str) -> None:
    pcap = pcap_path(name)
    check_rsa_key_only(pcap, load_truth(pcap))


def test_key_log_lines_are_unique() -> None:
    for name in NAMES:
        lines = pcap_path(name).with_suffix(".keys").read_text().splitlines()
        assert lines and len(lines) == len(set(lines)), name


# --- a fresh recording --------------------------------------------------------------------------


@pytest.mark.skipif(
    os.geteuid() != 0 or any(shutil.which(t) is None for t in ("tcpdump", "curl", "openssl")),
    reason="recording on loopback needs root, tcpdump, curl and openssl",
)
def test_fresh_recording(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "record_tls_suites", ROOT / "captures" / "record_tls_suites.py"
    )
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    pcap12, pcap13 = tmp_path / "tls12_fresh.pcap", tmp_path / "tls13_fresh.pcap"
    truth12 = recorder.record(pcap12, "1.2")
    key, crt = pcap12.with_name("tls12_fresh.server.key"), pcap12.with_name("tls12_fresh.server.crt")
    truth13 = recorder.record(pcap13, "1.3", key, crt)
    for pcap, truth in ((pcap12, truth12), (pcap13, truth13)):
        pcap.with_suffix(".truth.json").write_text(json.dumps(truth))  # view() reads it from there
    check_coverage(truth12, truth13)
    for pcap, truth in ((pcap12, truth12), (pcap13, truth13)):
        check_exchanges(pcap, truth)
        check_handshakes(pcap, truth)
        check_no_keys(pcap)
        check_rsa_key_only(pcap, truth)
