"""benchmarks/gendm.py: a deterministic OMA DM capture that tshark, libwbxml and dmsniff all accept.

One small capture (module fixture) is checked from every side: the bytes are the same for the
same seed; tshark reads it without a warning and finds every request; every WBXML body is what
the project's encoder makes of its XML and reads back in libwbxml's wbxml2xml; every Pkg#0
digest verifies with decoders.auth; and ``dmsniff report --secrets`` (the secrets file the
generator writes) finds every credential valid, every notification tied to its session and
not a single finding.  The tshark and wbxml2xml tests are skipped when those are missing.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from benchmarks import gendm
from decoders import auth, notification, syncml, wbxml

PACKETS = 3000
SEED = 7
ROOT = Path(__file__).resolve().parents[2]
TSHARK = shutil.which("tshark")
WBXML2XML = shutil.which("wbxml2xml")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
needs_wbxml2xml = pytest.mark.skipif(WBXML2XML is None, reason="wbxml2xml (libwbxml2-utils) is not installed")


@dataclass
class Made:
    pcap: Path
    secrets: Path
    stats: gendm.Stats


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Made:
    folder = tmp_path_factory.mktemp("gendm")
    pcap, secrets = folder / "dm.pcap", folder / "secrets.toml"
    stats = gendm.generate(pcap, PACKETS, SEED, devices=200, secrets=secrets, keep_samples=True)
    secrets.chmod(0o600)
    return Made(pcap, secrets, stats)


def dmsniff_jsonl(pcap: Path, secrets: Path) -> list[dict[str, Any]]:
    """``dmsniff report -j 1 --format jsonl --secrets`` (this checkout's), its records."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    cmd = [sys.executable, "-m", "dmsniff", "report", "-j", "1", "--format", "jsonl",
           "--secrets", str(secrets), str(pcap)]
    out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": path},
                         timeout=300, check=True)
    assert out.stderr == ""
    return [json.loads(line) for line in out.stdout.splitlines()]


@pytest.fixture(scope="module")
def records(made: Made) -> list[dict[str, Any]]:
    return dmsniff_jsonl(made.pcap, made.secrets)


def udp_payloads(pcap: Path) -> Iterator[tuple[int, int, bytes]]:
    """(source IPv4, destination port, payload) of every UDP datagram of a gencap.Writer pcap."""
    data = pcap.read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4
    pos = 24
    while pos < len(data):
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        pkt = data[pos + 16:pos + 16 + caplen]
        pos += 16 + caplen
        if pkt[12:14] == b"\x08\x00" and pkt[23] == 17:
            ihl = (pkt[14] & 0x0F) * 4
            udp = pkt[14 + ihl:]
            yield struct.unpack_from("!I", pkt, 26)[0], struct.unpack_from("!H", udp, 2)[0], udp[8:]


# --------------------------------------------------------------------------------------------
# The generator itself


def test_formulas_match_the_spec_examples() -> None:
    # RepPro 1.2.1's example pins the md5 Cred; the Pkg#0 digest is decoders.auth's formula.
    assert gendm.cred_md5("Bruce2", "OhBehave", b"Nonce") == "Zz6EivR3yeaaENcRN6lpAQ=="
    trigger = b"\x02\xd8\x00\x00\x00\x12\x34\x03abc"
    assert gendm.pkg0_digest("abc", "pw", b"n", trigger) == auth.pkg0_digest("abc", "pw", b"n", trigger)


def test_device_ids_are_imeis_with_a_luhn_check_digit() -> None:
    for dev in gendm.make_fleet(1, 50):
        digits = dev.dev_id.removeprefix("IMEI:")
        assert len(digits) == 15 and digits.isdigit()
        total = sum(int(c) if i % 2 == 0 else sum(divmod(2 * int(c), 10)) for i, c in enumerate(digits))
        assert total % 10 == 0


def test_deterministic_per_seed(made: Made, tmp_path: Path) -> None:
    again = tmp_path / "again.pcap"
    secrets = tmp_path / "again.toml"
    stats = gendm.generate(again, PACKETS, SEED, devices=200, secrets=secrets)
    assert again.read_bytes() == made.pcap.read_bytes()
    assert secrets.read_text() == made.secrets.read_text()
    assert stats.packets == made.stats.packets >= PACKETS
    other = tmp_path / "other.pcap"
    gendm.generate(other, PACKETS, SEED + 1, devices=200)
    assert other.read_bytes() != made.pcap.read_bytes()


def test_the_mix_has_what_was_asked(made: Made) -> None:
    st = made.stats
    assert st.sessions > 30 and st.devices > 20
    assert 0 < st.server_initiated < st.sessions and st.notifications == st.server_initiated
    assert 0 < st.challenged < st.sessions and 0 < st.large_objects < st.sessions
    assert st.xml_messages > 100 and st.wbxml_messages > 100
    assert st.client_creds == st.sessions and 0 < st.server_creds < st.sessions
    assert st.requests * 2 == st.xml_messages + st.wbxml_messages
    assert st.bulk_flows > 0


def test_fast_wbxml_is_the_project_encoder_byte_for_byte(made: Made) -> None:
    assert len(made.stats.samples) == made.stats.wbxml_messages
    for data, xml in made.stats.samples:
        assert wbxml.encode(xml) == data


def test_wbxml_bodies_decode_as_their_xml(made: Made) -> None:
    for data, xml in made.stats.samples:
        msg = syncml.decode(data, gendm.WBXML_CT)
        assert isinstance(msg, syncml.SyncMLMessage) and msg.problems == ()
        plain = syncml.decode(xml, gendm.XML_CT)
        assert isinstance(plain, syncml.SyncMLMessage) and plain.problems == ()
        assert (plain.header, plain.commands, plain.final) == (msg.header, msg.commands, msg.final)


def _shape(node: ET.Element) -> tuple[object, ...]:
    return (node.tag, (node.text or "").strip(), [_shape(k) for k in node])


@needs_wbxml2xml
def test_wbxml_bodies_read_back_in_libwbxml(made: Made) -> None:
    assert WBXML2XML is not None
    step = max(1, len(made.stats.samples) // 40)  # 40 of them, from the whole capture
    for data, xml in made.stats.samples[::step]:
        done = subprocess.run([WBXML2XML, "-o", "-", "-"], input=data, capture_output=True, timeout=30)
        assert done.returncode == 0, done.stderr
        assert _shape(ET.fromstring(done.stdout)) == _shape(ET.fromstring(xml))


def test_package0_digests_verify(made: Made) -> None:
    servers = {s.ip: s for s in gendm.SERVERS}
    seen = 0
    for src, dport, payload in udp_payloads(made.pcap):
        assert dport == gendm.PUSH_PORT
        push = notification.decode_wap_push(payload)
        assert isinstance(push, notification.WapPush) and push.problems == ()
        assert push.application_id == "x-wap-application:syncml.dm"
        n = push.notification
        assert isinstance(n, notification.Notification) and n.problems == ()
        srv = servers[src]
        assert (n.version, n.initiator, n.server_id) == (11, 1, srv.server_id)
        assert auth.pkg0_digest(srv.server_id, srv.password, srv.nonce, n.trigger) == n.digest
        seen += 1
    assert seen == made.stats.notifications


# --------------------------------------------------------------------------------------------
# What dmsniff makes of it


def test_dmsniff_finds_every_credential_valid(made: Made, records: list[dict[str, Any]]) -> None:
    results = Counter((r["scheme"], r["result"]) for r in records if r["type"] == "auth")
    st = made.stats
    assert results == {("syncml-md5", "valid"): st.client_creds + st.server_creds,
                       ("pkg0-digest", "valid"): st.notifications}


def test_dmsniff_sessions_are_whole_and_clean(made: Made, records: list[dict[str, Any]]) -> None:
    assert [r for r in records if r["type"] == "finding"] == []
    sessions = [r for r in records if r["type"] == "session"]
    assert len(sessions) == made.stats.sessions
    notified = 0
    for s in sessions:
        assert s["protocol"] == "omadm" and s["end_reason"] == "completed"
        kinds = [m["kind"] for m in s["messages"]]
        if kinds[0] == "Notification":
            notified += 1
            assert s["messages"][0]["session_id"] == s["session_id"]
            kinds = kinds[1:]
        assert set(kinds) == {"SyncML"} and 6 <= len(kinds) <= 12
        assert {m["encoding"] for m in s["messages"][-len(kinds):]} in ({"xml"}, {"wbxml"})
    assert notified == made.stats.notifications
    devices = [r for r in records if r["type"] == "device"]
    assert len(devices) == made.stats.devices
    assert all(set(d["identity"]) >= {"DevId", "Man", "Mod", "DmV", "Lang"} for d in devices)


@needs_tshark
def test_tshark_reads_it_cleanly_and_finds_every_request(made: Made, records: list[dict[str, Any]]) -> None:
    assert TSHARK is not None

    def tshark(*args: str) -> list[str]:
        done = subprocess.run([TSHARK, "-n", "-r", str(made.pcap), *args], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert tshark("-Y", "_ws.malformed || _ws.expert.severity >= warning || tcp.analysis.flags") == []
    methods = tshark("-Y", "http.request", "-T", "fields", "-e", "http.request.method")
    assert Counter(methods) == {"POST": made.stats.requests}
    found = sum(1 for r in records if r["type"] == "transaction" and r["request"] is not None)
    assert found == made.stats.requests
    assert len(tshark("-Y", "wsp.pdu_type == 0x06")) == made.stats.notifications


def test_package0_digests_made_with_a_device_own_server_nonce_verify(tmp_path: Path) -> None:
    # Every device answers its server's Cred with a Chal: each then holds a server nonce of its own,
    # which the server's next Pkg#0 to it is signed with.  The capture shows every one of those Chals.
    pcap, secrets = tmp_path / "chal.pcap", tmp_path / "chal.toml"
    st = gendm.generate(pcap, PACKETS, SEED, devices=40, secrets=secrets, client_chal=1.0)
    secrets.chmod(0o600)
    assert st.client_chals > 0
    records = dmsniff_jsonl(pcap, secrets)
    assert [r for r in records if r["type"] == "finding"] == []
    assert Counter(r["result"] for r in records if r["type"] == "auth" and r["scheme"] == "syncml-md5") == {
        "valid": st.client_creds + st.server_creds}  # the server's Creds, with the same nonces, verify
    digests = Counter(r["result"] for r in records if r["type"] == "auth" and r["scheme"] == "pkg0-digest")
    assert digests == {"valid": st.notifications}
