"""CWMP sessions rebuilt from real captures: genieacs-sim, our loopback recording, and a fresh one."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

from dmsniff.pipeline import Pipeline
from dmsniff.sessions import CwmpSessions
from dmsniff.sessions.model import NAT_STEPS
from tests.conftest import CAPTURES, CORPUS, ROOT
from tests.dmsniff.sessions.playbook import Collector, Playbook, codes

GENIEACS = CORPUS / "pcap" / "genieacs_sim_basic_session.pcap"
FREEACS = CORPUS / "cwmp" / "sessions" / "freeacs-discover"


def run(path: Path) -> Collector:
    out = Collector()
    Pipeline([CwmpSessions(), out]).run_files([str(path)])
    return out


def kinds(session: object) -> list[str]:
    return [m.kind for m in session.messages]  # type: ignore[attr-defined]


def test_genieacs_sim_capture() -> None:
    out = run(GENIEACS)
    s1, s2 = out.sessions
    acs_rpcs = ["GetParameterValues", "SetParameterValues", "GetParameterNames", "Reboot", "Download"]
    assert [m.kind for m in s1.messages if m.direction == "to_client"] == [
        "InformResponse",
        *acs_rpcs,
        "empty",
    ]
    assert [m.kind for m in s1.messages if m.direction == "to_server"] == [
        "Inform",
        "empty",
        "GetParameterValuesResponse",
        "SetParameterValuesResponse",
        "GetParameterNamesResponse",
        "Fault",
        "DownloadResponse",
    ]
    assert kinds(s2)[:5] == [
        "Inform",
        "InformResponse",
        "TransferComplete",
        "TransferCompleteResponse",
        "empty",
    ]
    assert (s1.device_id, s2.device_id) == ("202BC1-BM632w-000007", "202BC1-BM632w-000007")
    assert s1.device == {
        "manufacturer": "Huawei Technologies Co., Ltd.",
        "oui": "202BC1",
        "product_class": "BM632w",
        "serial": "000007",
    }
    assert (s1.events, s2.events) == (["2 PERIODIC"], ["6 CONNECTION REQUEST"])
    assert (s1.end_reason, s2.end_reason) == ("204", "204")
    assert (s1.server, s1.connections, s2.connections) == ("127.0.0.1:7547", ["C7"], ["C73"])

    # The Reboot is refused with fault 9000, in both sessions.
    reboot_faults = [f for s in (s1, s2) for f in s.findings if f.code == "cwmp.cpe-fault"]
    assert [f.frames for f in reboot_faults] == [[34, 36], [108, 110]]
    assert all("9000" in f.message and "Reboot" in f.message for f in reboot_faults)

    # Download (session 1, accepted with Status 1) -> TransferComplete in session 2 ...
    download = next(m for m in s1.messages if m.kind == "Download")
    assert download.record.rpc.command_key == "dl-1"  # type: ignore[attr-defined]
    tc = next(m for m in s2.messages if m.kind == "TransferComplete")
    assert (tc.record.rpc.command_key, tc.record.rpc.fault_code) == ("dl-1", 0)  # type: ignore[attr-defined]
    # ... but the Inform opening session 2 lacks "7 TRANSFER COMPLETE" (and "M Download").
    s2_codes = [f.code for f in s2.findings]
    assert "cwmp.transfer-complete-event-missing" in s2_codes
    assert "cwmp.m-download-event-missing" in s2_codes
    missing = next(f for f in s2.findings if f.code == "cwmp.transfer-complete-event-missing")
    assert missing.frames == [76, 83] and missing.severity == "error"

    # The connection request on port 42537 caused session 2.
    [cr] = s2.connection_requests
    assert (cr.kind, cr.id, cr.target, cr.status, cr.frames) == (
        "http",
        "C66.1",
        "http://127.0.0.1:42537/",
        200,
        [69, 71],
    )
    [dev] = out.devices
    assert dev.connection_request_url == "http://127.0.0.1:42537/"
    assert dev.sessions == ["S10", "S76"]
    periodic = [p for p in dev.parameters if p.name.endswith("PeriodicInformInterval")]
    assert [(p.value, p.source) for p in periodic] == [
        ("300", "GetParameterValuesResponse"),
        ("600", "SetParameterValues"),
        ("600", "GetParameterValuesResponse"),
        ("600", "SetParameterValues"),
    ]


def _check_loopback(out: Collector) -> None:
    s1, s2, s3 = out.sessions
    assert {s.device_id for s in out.sessions} == {"00D09E-HGW-SN0042"}
    assert [s.events for s in out.sessions] == [
        ["1 BOOT", "4 VALUE CHANGE"],
        ["6 CONNECTION REQUEST", "7 TRANSFER COMPLETE", "M Download"],
        ["6 CONNECTION REQUEST"],
    ]
    assert [s.end_reason for s in out.sessions] == ["204", "204", "204"]
    assert kinds(s1) == [
        "Inform",
        "InformResponse",
        "empty",
        "GetParameterValues",
        "GetParameterValuesResponse",
        "SetParameterValues",
        "SetParameterValuesResponse",
        "Download",
        "DownloadResponse",
        "empty",
    ]
    assert kinds(s2) == [
        "Inform",
        "InformResponse",
        "TransferComplete",
        "TransferCompleteResponse",
        "empty",
        "Reboot",
        "Fault",
        "empty",
    ]
    assert kinds(s3) == [
        "Inform",
        "InformResponse",
        "empty",
        "GetParameterValues",
        "GetParameterValuesResponse",
        "empty",
    ]
    # One keep-alive connection per session, each with its own cookie.
    assert all(len(s.connections) == 1 for s in out.sessions)
    assert len({s.connections[0] for s in out.sessions}) == 3
    assert codes(out) == ["cwmp.cpe-fault"]  # Reboot refused with 9001; nothing else wrong
    [http_cr] = s2.connection_requests
    assert http_cr.kind == "http" and http_cr.status == 200 and http_cr.target.endswith("/cr")
    [udp_cr] = s3.connection_requests
    assert (udp_cr.kind, udp_cr.copies) == ("udp", 3)
    assert udp_cr.record.un == "cruser"  # type: ignore[attr-defined]
    assert udp_cr.stun_binding is not None
    [dev] = out.devices
    [binding] = dev.stun
    assert binding.connection_request_binding and binding.username == "SN0042-U"
    assert binding.datagram == udp_cr.stun_binding
    assert dev.connection_requests == [http_cr.id, udp_cr.id]
    # TR-069 Annex G on the device: the whole NAT path but the report. record_cwmp.py's CPE never
    # reports ManagementServer.UDPConnectionRequestAddress (its Informs carry the ConnectionRequestURL
    # only, and no GetParameterValues asks for it), so nothing ties the request's address to it; the
    # request is not held against the ACS for that (the capture may have begun after a report).
    [path] = dev.nat_path
    assert path.missing == ["reported"] and not path.complete
    assert [(st.kind, st.ref) for st in path.steps] == [
        ("stun-request", binding.datagram),
        ("stun-response", binding.response),
        ("udp-connection-request", udp_cr.id),
        ("session", s3.id),
    ]
    assert binding.mapped_address == binding.source == path.address
    interval = [(p.value, p.source) for p in dev.parameters if p.name.endswith("PeriodicInformInterval")]
    assert interval == [
        ("86400", "GetParameterValuesResponse"),
        ("300", "SetParameterValues"),
        ("300", "GetParameterValuesResponse"),
    ]


def test_committed_loopback_capture() -> None:
    _check_loopback(run(CAPTURES / "cwmp_loopback.pcap"))


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("curl") is None,
    reason="recording on loopback needs root, tcpdump and curl",
)
def test_fresh_recording_from_curl_and_a_local_acs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("record_cwmp", ROOT / "captures" / "record_cwmp.py")
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    sys.modules["record_cwmp"] = recorder  # its dataclasses look their module up
    spec.loader.exec_module(recorder)
    path = tmp_path / "fresh.pcap"
    recorder.record(path)
    _check_loopback(run(path))


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("curl") is None,
    reason="recording on loopback needs root, tcpdump and curl",
)
def test_fresh_recording_with_the_udp_address_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same recording with a CPE that reports its UDPConnectionRequestAddress (and NATDetected)
    in its Informs: the NAT path is complete, and nothing is found wrong with it."""
    spec = importlib.util.spec_from_file_location("record_cwmp", ROOT / "captures" / "record_cwmp.py")
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    sys.modules["record_cwmp"] = recorder
    spec.loader.exec_module(recorder)
    exchange, params = recorder._exchange, recorder.inform_params
    ms = recorder.IGD + "ManagementServer."

    def reporting(acs: object, acs_url: str, cr_url: str, tmp: Path, cpe_udp: object, stun: object) -> None:
        host, port = cpe_udp.getsockname()  # type: ignore[attr-defined]
        udp = f"{host}:{port}"
        monkeypatch.setattr(
            recorder,
            "inform_params",
            lambda *a: [
                *params(*a),
                (ms + "UDPConnectionRequestAddress", "string", udp),
                (ms + "NATDetected", "boolean", "false"),
            ],
        )
        exchange(acs, acs_url, cr_url, tmp, cpe_udp, stun)

    monkeypatch.setattr(recorder, "_exchange", reporting)
    path = tmp_path / "fresh.pcap"
    recorder.record(path)
    out = run(path)
    assert codes(out) == ["cwmp.cpe-fault"]
    [dev] = out.devices
    [nat] = dev.nat_path
    assert nat.complete and [st.kind for st in nat.steps] == list(NAT_STEPS)
    reported = nat.steps[2]
    assert (reported.ref, reported.frames) == (out.sessions[0].id, [out.sessions[0].messages[0].frame])
    assert reported.note == "Inform (1 BOOT, 4 VALUE CHANGE), NATDetected=false"
    assert nat.steps[-1].ref == out.sessions[2].id


def test_tls_capture_with_its_key_log() -> None:
    """CWMP over HTTPS through Apache mod_auth_digest: a fresh nonce (nc 00000001) for every POST and
    the cookie sent back each time, so neither the nc nor the cookie rule has anything to say."""
    from dmsniff.net.tls_keys import load_key_material

    spec, _ = load_key_material([str(CAPTURES / "tls_cwmp_loopback.keys")], [])
    out = Collector()
    Pipeline([CwmpSessions(), out], tls_keys=spec).run_files([str(CAPTURES / "tls_cwmp_loopback.pcap")])
    assert len(out.sessions) == 4 and all(s.end_reason == "204" for s in out.sessions)
    assert codes(out) == []


def test_freeacs_discovery_session_in_order() -> None:
    """FreeACS's recorded discovery session (CPE and ACS messages alternating) builds cleanly."""
    files = sorted(FREEACS.iterdir(), key=lambda p: int(p.name.split("_", 1)[0]))
    pb = Playbook()
    bodies = [p.read_bytes() for p in files]
    for i in range(0, len(bodies), 2):
        answer = bodies[i + 1] if i + 1 < len(bodies) else b""
        pb.post(bodies[i], answer=answer, status=200 if answer else 204)
    out = pb.end()
    [s] = out.sessions
    assert kinds(s)[:4] == ["Inform", "InformResponse", "empty", "GetParameterNames"]
    gpn = next(m for m in s.messages if m.kind == "GetParameterNamesResponse")
    assert len(gpn.record.rpc.entries) == 1384  # type: ignore[attr-defined]
    assert s.end_reason == "204"
    assert codes(out) == []
