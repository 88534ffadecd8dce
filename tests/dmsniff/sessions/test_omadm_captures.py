"""OMA DM sessions rebuilt from our loopback capture (curl + xml2wbxml + a scripted DM server), committed
and freshly recorded."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from dmsniff.pipeline import Pipeline
from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import Session
from tests.conftest import CAPTURES, ROOT
from tests.dmsniff.sessions.playbook import Collector

DEVICE = "IMEI:493005100592800"


def run(path: Path) -> Collector:
    out = Collector()
    Pipeline([DmSessions(), out]).run_files([str(path)])
    return out


def _by_sid(out: Collector) -> dict[str | None, Session]:
    return {s.session_id: s for s in out.sessions}


def _check_loopback(out: Collector) -> None:
    sessions = _by_sid(out)
    assert list(sessions) == ["1A2B", "2C", "3E"]
    s1, s2, s3 = sessions.values()

    # Session 1: WBXML, challenged (basic -> md5), RespURI followed, a large object in two chunks.
    assert [(m.kind, m.encoding, m.package) for m in s1.messages] == [
        ("Notification", "binary", 0),
        *[("SyncML", "wbxml", p) for p in (1, 2, 1, 2, 3, 2, 3, 4)],
    ]
    assert [m.msg_id for m in s1.messages[1:]] == ["1", "1", "2", "2", "3", "3", "4", "4"]
    assert s1.end_reason == "completed" and s1.findings == []
    assert s1.device is not None and s1.device["Mod"] == "loopback-phone"
    assert [n for n in s1.messages[2].notes] == ["auth challenge"]
    assert "syncml:auth-basic" in s1.messages[1].notes and "syncml:auth-md5" in s1.messages[3].notes
    # S2 answers C2 command by command; C3's Results answers S2's Get.
    c2, s2msg, c3 = s1.messages[3], s1.messages[4], s1.messages[5]
    assert [(c.cmd, c.cmd_ref, c.code, c.answers) for c in s2msg.commands if c.name == "Status"] == [
        ("SyncHdr", "0", 212, c2.frame),
        ("Alert", "2", 200, c2.frame),
        ("Replace", "3", 200, c2.frame),
    ]
    res = next(c for c in c3.commands if c.name == "Results")
    assert (res.cmd, res.cmd_ref, res.answers, res.targets) == ("Get", "4", s2msg.frame, ["./DevDetail/SwV"])
    blob_status = [c.code for c in c3.commands if c.name == "Status" and c.cmd_ref == "6"]
    assert blob_status == [213]
    (obj,) = s1.large_objects
    assert (obj.target, obj.chunks, obj.size, obj.declared_size, obj.complete) == (
        "./Vendor/Blob",
        2,
        300,
        300,
        True,
    )

    # Session 2: XML, a wrong password twice, the client gives up.
    assert [(m.kind, m.package) for m in s2.messages] == [
        ("Notification", 0),
        ("SyncML", 1),
        ("SyncML", 2),
        ("SyncML", 1),
        ("SyncML", 2),
    ]
    assert {m.encoding for m in s2.messages[1:]} == {"xml"}
    assert s2.end_reason == "auth-failed"
    assert [f.code for f in s2.findings] == ["omadm.session-not-completed"]

    # Session 3: HMAC both ways, answering N3 under the wrong SessionID, and the Windows rules.
    assert s3.messages[0].kind == "Notification" and s3.messages[0].session_id == "3D"
    assert all("syncml:auth-MAC" in m.notes for m in s3.messages[1:])
    assert s3.end_reason == "completed"
    assert sorted(f.code for f in s3.findings) == sorted(
        [
            "omadm.pkg1-session-id-mismatch",
            "omadm.nested-atomic",
            "omadm.get-in-atomic",
            "omadm.locuri-leading-slash",
            "omadm.cmdid-missing",
            "omadm.command-failed",  # Atomic 507
            "omadm.command-failed",  # inner Atomic 500
            "omadm.command-failed",  # Replace /Vendor/Leading 404
            "omadm.status-missing",  # Exec 8
        ]
    )
    assert out.findings == []  # every notification found its session

    (dev,) = out.devices
    assert dev.id == DEVICE and dev.sessions == [s.id for s in out.sessions]
    assert dev.identity == {
        "DevId": DEVICE,
        "Man": "dmsniff",
        "Mod": "loopback-phone",
        "DmV": "1.2",
        "Lang": "en-US",
    }
    tree = [(p.name, p.value, p.source) for p in dev.parameters if not p.name.startswith("./DevInfo/")]
    assert tree == [
        ("./DevDetail/SwV", "1.2.3", "Results"),
        ("./Settings/Volume", "7", "Replace"),
        ("./Vendor/Blob", obj.data, "Replace"),
    ]
    assert len(obj.data) == 300


def test_committed_loopback_capture() -> None:
    _check_loopback(run(CAPTURES / "omadm_loopback.pcap"))


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("curl") is None,
    reason="recording on loopback needs root, tcpdump and curl",
)
def test_fresh_recording_from_curl_xml2wbxml_and_a_local_dm_server(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("record_omadm", ROOT / "captures" / "record_omadm.py")
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    path = tmp_path / "fresh.pcap"
    recorder.record(path)
    _check_loopback(run(path))
