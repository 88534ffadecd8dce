"""HTTP Digest inside HTTPS is judged exactly as in plaintext.

captures/record_tls_cwmp.py recorded curl (the CPE) through Apache mod_ssl + mod_auth_digest
to the toy ACS, once over TLS (RSA key exchange, ECDHE, TLS 1.3, resumed sessions) and once,
for the first two sessions, over plain HTTP through the same Apache (the twin).  Its truth
says, for every Authorization header, which password curl used and whether it was right.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dmsniff.chain import addon_chain
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Pipeline
from dmsniff.sessions.model import Session
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES

from .test_omadm_capture import AuthCollector

SECRETS = Secrets([Secret("http", "cpe-user", "cpe-pass", realm="dmsniff-acs")])


class Sessions(AuthCollector):
    def __init__(self) -> None:
        super().__init__()
        self.sessions: list[Session] = []

    def session(self, session: Session) -> None:
        self.sessions.append(session)


def judge(name: str, spec: TlsKeySpec | None) -> Sessions:
    out = Sessions()
    Pipeline(addon_chain(Verifier(SECRETS), last=[out]), tls_keys=spec).run_files([str(CAPTURES / name)])
    return out


def truth(name: str) -> list[dict[str, Any]]:
    return json.loads((CAPTURES / name).read_text())["digest"]  # type: ignore[no-any-return]


def verdicts(out: AuthCollector) -> list[tuple[str | None, str, str | None, str | None]]:
    return [(r.identity, r.result, r.reason, r.matched) for r in out.auth_results]


def expected(entries: list[dict[str, Any]]) -> list[tuple[str | None, str, str | None, str | None]]:
    return [(t["user"], "valid", None, "cpe-user") if t["correct"]
            else (t["user"], "invalid", "password mismatch", None) for t in entries]


KEYLOG = TlsKeySpec((("tls_cwmp_loopback.keys", (CAPTURES / "tls_cwmp_loopback.keys").read_bytes()),))
RSA_KEY = TlsKeySpec(rsa_keys=(("server.key", (CAPTURES / "tls_cwmp_loopback.server.key").read_bytes(), None,
                                None),))


@pytest.mark.parametrize("spec", [KEYLOG], ids=["keylog"])
def test_every_digest_over_tls_is_judged_like_the_truth(spec: TlsKeySpec) -> None:
    out = judge("tls_cwmp_loopback.pcap", spec)
    entries = truth("tls_cwmp_loopback.truth.json")
    assert verdicts(out) == expected(entries)
    assert all(r.scheme == "http-digest" and r.algorithm == "MD5" for r in out.auth_results)
    assert all(any(n.startswith("nonce issued in frame ") for n in r.notes) for r in out.auth_results)


def test_tls_sessions_equal_their_plaintext_twin() -> None:
    """Sessions 1 and 2 (right and wrong password) over TLS give what the same traffic gives in the clear."""
    tls = judge("tls_cwmp_loopback.pcap", KEYLOG)
    plain = judge("tls_cwmp_plain_loopback.pcap", None)
    assert verdicts(plain) == expected(truth("tls_cwmp_plain_loopback.truth.json"))
    n = len(plain.auth_results)
    assert verdicts(tls)[:n] == verdicts(plain)

    def shape(s: Session) -> tuple[object, ...]:
        return (s.protocol, s.device_id, s.end_reason,
                [(m.direction, m.kind, m.status, m.notes) for m in s.messages],
                sorted(f.code for f in s.findings if not f.code.startswith("tls.")))

    # The whole first session; the second (the wrong password) is followed in the TLS capture
    # by the next session of the same device, so only its start can be compared.
    assert len(plain.sessions) == 2
    assert shape(tls.sessions[0]) == shape(plain.sessions[0])
    failed = plain.sessions[1].messages
    assert [(m.direction, m.kind, m.status) for m in tls.sessions[1].messages[:len(failed)]] == \
        [(m.direction, m.kind, m.status) for m in failed]


def test_the_server_key_alone_judges_the_rsa_key_exchange_sessions() -> None:
    """Connections 1, 2, 5, 6, 7 use TLS_RSA_WITH_AES_128_CBC_SHA (6 and 7 resumed from 5)."""
    out = judge("tls_cwmp_loopback.pcap", RSA_KEY)
    conns = json.loads((CAPTURES / "tls_cwmp_loopback.truth.json").read_text())["connections"]
    rsa_ports = {c["client_port"] for c in conns if c["cipher"] == "AES128-SHA"}
    assert len(rsa_ports) == 5
    entries = [t for t in truth("tls_cwmp_loopback.truth.json") if t["client_port"] in rsa_ports]
    assert verdicts(out) == expected(entries)


def test_secrets_file_with_tls_keys(tmp_path: Path) -> None:
    """``keylog = [...]`` and ``[[tls]] rsa_key`` in secrets.toml, relative to the file's folder."""
    from dmsniff.cli import main

    for name in ("tls_cwmp_loopback.keys", "tls_cwmp_loopback.server.key"):
        (tmp_path / name).write_bytes((CAPTURES / name).read_bytes())
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('keylog = ["tls_cwmp_loopback.keys"]\n\n'
                       '[[tls]]\nrsa_key = "tls_cwmp_loopback.server.key"\n\n'
                       '[[http]]\nusername = "cpe-user"\npassword = "cpe-pass"\n')
    secrets.chmod(0o600)
    (tmp_path / "tls_cwmp_loopback.server.key").chmod(0o600)
    out = tmp_path / "r.json"
    assert main(["report", "--secrets", str(secrets), "--format", "json", "-o", str(out),
                 str(CAPTURES / "tls_cwmp_loopback.pcap")]) == 0
    doc = json.loads(out.read_text())
    assert all(t["decrypted"] for t in doc["tls"])
    results = [a["result"] for a in doc["auth"]]
    assert results == ["valid" if t["correct"] else "invalid" for t in truth("tls_cwmp_loopback.truth.json")]
