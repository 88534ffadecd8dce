"""The OMA DM rules of issue 16 on a capture made by real peers (captures/record_omadm_rules.py: curl, the
scripted DM server, xml2wbxml, WAP Push on UDP 2948), committed and freshly recorded, held to the truth
the recorder wrote: a notification answered with Alert 1201, a whole nonce resynchronisation, credentials
not resent, an authentication loop, and Windows sessions with LoginStatus and ./User targets."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from dmsniff.model import Transaction
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.report.records import session_record
from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import Session
from dmsniff.verify.model import AuthResult
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, ROOT
from tests.dmsniff.sessions.playbook import Collector

PCAP = CAPTURES / "omadm_rules_loopback.pcap"


class Out(Collector):
    def __init__(self) -> None:
        super().__init__()
        self.judged: list[AuthResult] = []
        self.bodies: list[tuple[str, str]] = []  # sha256 of each request and response body

    def auth(self, result: AuthResult) -> None:
        self.judged.append(result)


class Bodies(Addon):
    needs_bodies = True

    def __init__(self, out: Out) -> None:
        self.out = out

    def transaction(self, tx: Transaction) -> None:
        assert tx.request is not None and tx.response is not None
        self.out.bodies.append(
            (hashlib.sha256(tx.request.body).hexdigest(), hashlib.sha256(tx.response.body).hexdigest())
        )


def secrets(truth: dict[str, Any]) -> Secrets:
    c, s = truth["secrets"]["omadm_client"], truth["secrets"]["omadm_server"]
    return Secrets(
        [
            Secret("omadm_client", c["username"], c["password"]),
            Secret("omadm_server", s["server_id"], s["password"]),
        ]
    )


def run(path: Path, truth: dict[str, Any]) -> Out:
    out = Out()
    Pipeline([Bodies(out), Verifier(secrets(truth)), DmSessions(), out]).run_files([str(path)])
    return out


def check(out: Out, truth: dict[str, Any]) -> None:
    by_sid: dict[str | None, Session] = {s.session_id: s for s in out.sessions}
    assert sorted(by_sid, key=str) == sorted(t["session_id"] for t in truth["sessions"])
    # The capture holds the very bodies the peers exchanged, in order.
    assert out.bodies == [
        (p["request_body_sha256"], p["response_body_sha256"]) for t in truth["sessions"] for p in t["posts"]
    ]
    assert out.findings == []  # every notification is some session's package 0
    notes = {n["tid"]: n for n in truth["notifications"]}
    for t in truth["sessions"]:
        s = by_sid[t["session_id"]]
        assert s.device_id == t["device"]
        head = s.messages[0]
        if t["notification"] is not None:
            assert (head.kind, head.package, head.session_id) == (
                "Notification",
                0,
                notes[t["notification"]]["session_id"],
            )
        else:
            assert head.kind == "SyncML"
        syncml = [m for m in s.messages if m.kind == "SyncML"]
        assert len(syncml) == 2 * len(t["posts"])
        assert {m.encoding for m in syncml} == {t["encoding"]}
        pkg1 = syncml[0]
        assert pkg1.package == 1 and ("Alert", t["pkg1_alert"]) in [(c.name, c.code) for c in pkg1.commands]
        assert sorted(f.code for f in s.findings) == sorted(t["breaks"]), t["session_id"]
        # Credentials as the DM server judged them.
        for post, msg in zip(t["posts"], syncml[::2], strict=True):
            got = [a.result for a in msg.auth]  # type: ignore[attr-defined]
            if post["auth"] is not None:
                assert got == ["valid" if post["auth_ok"] else "invalid"], (t["session_id"], post)


def check_resync_and_nonces(out: Out) -> None:
    """NB valid only with 00000000; 6B2's credentials with it, then with the nonces of the Chals; NC
    and 7C3's Pkg#1 with the nonces 6B2 handed over."""
    by_frame = {(a.frame, a.scheme, a.identity): a for a in out.judged}
    six = next(s for s in out.sessions if s.session_id == "6B2")
    nb, c1, s1, c2, s2 = six.messages
    (pkg0,) = nb.auth
    assert pkg0.notes == ["valid only with the resync nonce 0x00000000 (4 zero bytes)"]  # type: ignore[attr-defined]
    resync = (
        f"resync nonce 0x00000000 (4 zero bytes): the notification in frame {nb.frame} verified only with it"
    )
    assert by_frame[(c1.frame, "syncml-md5", "dmuser")].notes == [resync]
    assert by_frame[(s1.frame, "syncml-md5", "dmsniff-dm")].notes == [resync]
    assert by_frame[(s2.frame, "syncml-md5", "dmsniff-dm")].notes == [
        f"nonce from the Chal in frame {c2.frame}"
    ]
    seven = next(s for s in out.sessions if s.session_id == "7C3")
    nc, c1b = seven.messages[:2]
    assert [a.notes for a in nc.auth] == [  # type: ignore[attr-defined]
        [f"verified with the nonce the device gave the server in frame {c2.frame}"]
    ]
    assert [a.notes for a in c1b.auth] == [[f"nonce from the Chal in frame {s1.frame}"]]  # type: ignore[attr-defined]
    assert all(a.result == "valid" and not a.caveat for a in [*c1.auth, *s1.auth, *s2.auth, *c1b.auth])  # type: ignore[attr-defined]


def check_windows(out: Out, truth: dict[str, Any]) -> None:
    win = truth["windows"]
    for sid, want in win["sessions"].items():
        s = next(x for x in out.sessions if x.session_id == sid)
        assert s.dm is not None and s.dm.windows is not None
        assert (s.dm.login_state, s.dm.session_id_form) == (want["login"], want["session_id_form"])
        assert [g.type for g in s.dm.generic_alerts] == (
            [want["generic_alert"]] if "generic_alert" in want else []
        )
        rec = session_record(s)["dm"]
        assert rec["login_state"] == want["login"]
    users = [u for s in out.sessions if s.dm for t in s.dm.scopes if t.scope == "user" for u in t.uris]
    assert users == win["user_targets"]
    loop = next(f for s in out.sessions for f in s.findings if f.code == "omadm.auth-loop")
    assert loop.message.endswith("it says 'dmuser: account locked after 2 failed attempts'")


def test_committed_capture() -> None:
    truth = json.loads(PCAP.with_suffix(".truth.json").read_text())
    out = run(PCAP, truth)
    check(out, truth)
    check_resync_and_nonces(out)
    check_windows(out, truth)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("curl") is None,
    reason="recording on loopback needs root, tcpdump and curl",
)
def test_fresh_recording(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location(
        "record_omadm_rules", ROOT / "captures" / "record_omadm_rules.py"
    )
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    path = tmp_path / "fresh.pcap"
    truth = recorder.record(path)
    out = run(path, truth)
    check(out, truth)
    check_resync_and_nonces(out)
    check_windows(out, truth)
