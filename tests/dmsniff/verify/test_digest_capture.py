"""HTTP Digest between real peers (curl and python-requests against Apache's mod_auth_digest), judged.

captures/record_digest.py records the capture and writes down, for every request that carried
an Authorization header, the password the client used and whether it was right; the verifier
must agree with that ground truth on every one, on the committed capture and on a fresh recording.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from dmsniff.pipeline import Pipeline
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, ROOT

from .test_omadm_capture import AuthCollector

SECRETS = Secrets(
    [Secret("http", "alice", "alice-pass", realm="dmsniff-test"), Secret("http", "bob", "bob-pass")]
)


def _judge(path: Path, truth: list[dict[str, Any]]) -> AuthCollector:
    out = AuthCollector()
    Pipeline([Verifier(SECRETS), out]).run_files([str(path)])
    results = out.auth_results
    assert len(results) == len(truth)
    for r, t in zip(results, truth, strict=True):
        assert (r.scheme, r.identity, r.algorithm) == ("http-digest", t["user"], "MD5")
        if t["correct"]:
            assert (r.result, r.matched) == ("valid", t["user"]), (r, t)
            assert "server's rspauth valid" in r.notes
        else:
            assert (r.result, r.reason) == ("invalid", "password mismatch"), (r, t)
        assert any(n.startswith("nonce issued in frame ") for n in r.notes), r.notes
    return out


def test_committed_digest_capture() -> None:
    truth = json.loads((CAPTURES / "digest_loopback.truth.json").read_text())
    out = _judge(CAPTURES / "digest_loopback.pcap", truth)
    # python-requests quotes algorithm and qop; tolerated and said so.
    by_client = [(t["client"], r) for t, r in zip(truth, out.auth_results, strict=True)]
    assert all(any("quoted" in n for n in r.notes) for c, r in by_client if c == "requests")
    # requests reuses the nonce with nc 2, 3 on one connection, then nc 4 on a new one: all fine.
    assert not any("does not increase" in n for _c, r in by_client for n in r.notes)


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None or shutil.which("curl") is None,
    reason="recording on loopback needs root, tcpdump, curl and apache2",
)
def test_fresh_recording_against_apache(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("record_digest", ROOT / "captures" / "record_digest.py")
    assert spec is not None and spec.loader is not None
    recorder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recorder)
    path = tmp_path / "fresh.pcap"
    truth = recorder.record(path)
    assert [t["status"] for t in truth] == [200 if t["correct"] else 401 for t in truth]
    _judge(path, truth)
