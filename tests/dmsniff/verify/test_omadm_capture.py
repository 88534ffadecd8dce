"""Every OMA DM credential of our loopback capture judged as the recorder made it.

captures/record_omadm.py documents the scenario: a basic Cred with the wrong password, then
an md5 retry with the nonce of the server's Chal; a session with a wrong md5 password twice
(its nonces handed over from the previous session); HMAC both ways; three notifications,
valid, valid only with the resync nonce, and invalid.
"""

from __future__ import annotations

from pathlib import Path

from dmsniff.pipeline import Pipeline
from dmsniff.sessions import DmSessions
from dmsniff.verify.model import AuthResult
from dmsniff.verify.secrets import Secrets, load_secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES
from tests.dmsniff.sessions.playbook import Collector

SECRETS = """
[[omadm_client]]
username = "dmuser"
password = "dmpass"
label = "test phone"

[[omadm_server]]
server_id = "dmsniff-dm"
password = "srvpass"
nonce_b64 = "MUFZJlNYl5MjhGJkM4MnlQ=="   # the nonce the server's HMACs use (never on the wire)
"""


class AuthCollector(Collector):
    def __init__(self) -> None:
        super().__init__()
        self.auth_results: list[AuthResult] = []

    def auth(self, result: AuthResult) -> None:
        self.auth_results.append(result)


def run(path: Path, secrets: Secrets) -> AuthCollector:
    out = AuthCollector()
    Pipeline([Verifier(secrets), DmSessions(), out]).run_files([str(path)])
    return out


def judged(out: AuthCollector) -> list[tuple[str, str | None, str, str, str | None]]:
    return [(a.scheme, a.identity, a.direction, a.result, a.reason) for a in out.auth_results]


def test_every_dm_credential_judged(tmp_path: Path) -> None:
    f = tmp_path / "secrets.toml"
    f.write_text(SECRETS)
    f.chmod(0o600)
    secrets = load_secrets(f)
    assert secrets.warnings == []
    out = run(CAPTURES / "omadm_loopback.pcap", secrets)
    mismatch = "password mismatch (or the wrong nonce)"
    assert judged(out) == [
        ("pkg0-digest", "dmsniff-dm", "to_client", "valid", None),  # N1
        ("syncml-basic", "dmuser", "to_server", "invalid", "password mismatch"),  # 'nopass'
        ("syncml-md5", "dmuser", "to_server", "valid", None),  # the retry after the Chal
        ("pkg0-digest", "dmsniff-dm", "to_client", "valid", None),  # N2: resync nonce
        ("syncml-md5", "dmuser", "to_server", "invalid", mismatch),  # 'badpass'
        ("syncml-md5", "dmuser", "to_server", "invalid", mismatch),
        (
            "pkg0-digest",
            "dmsniff-dm",
            "to_client",
            "invalid",
            "password or server nonce mismatch (the resync nonces do not verify either)",
        ),  # N3
        ("syncml-hmac", "dmuser", "to_server", "valid", None),
        ("syncml-hmac", "dmsniff-dm", "to_client", "valid", None),
        ("syncml-hmac", "dmuser", "to_server", "valid", None),
        ("syncml-hmac", "dmsniff-dm", "to_client", "valid", None),
    ]
    n1, _basic, md5, n2, bad1, bad2, _n3, c_hmac, s_hmac = out.auth_results[:9]
    assert n1.notes == ["verified with the empty server nonce"]
    assert n2.notes == ["valid only with the resync nonce 0x00000000 (4 zero bytes)"]
    assert n2.caveat and not n1.caveat and not md5.caveat  # the text report lists n2 among failures
    assert md5.matched == "test phone" and md5.notes[0].startswith("nonce from the Chal in frame ")
    # N2 verifies only with the resync nonce, so session 2's Package #1 is checked with it first (DM
    # Notification §6.2), then with the nonce session 1 handed out; after the server's Chal, with that.
    assert [n.split(":")[0] for n in bad1.notes] == [
        "resync nonce 0x00000000 (4 zero bytes)",
        "resync nonce '0x00000000' (the literal string)",
        f"nonce from the Chal in frame {md5.frame + 1}",
    ]
    assert bad1.notes[0].endswith(f"the notification in frame {n2.frame} verified only with it")
    assert [n.split(" in frame")[0] for n in bad2.notes] == ["nonce from the Chal"]
    assert c_hmac.notes[0].startswith("nonce from the Chal in frame ")
    assert s_hmac.notes == ["nonce from the secrets file (none in the capture)"]
    # Sessions show their badge: session 1 had a failure, then a success.
    badges = {s.session_id: [a.result for m in s.messages for a in m.auth] for s in out.sessions}  # type: ignore[attr-defined]
    assert badges == {
        "1A2B": ["valid", "invalid", "valid"],
        "2C": ["valid", "invalid", "invalid"],
        "3E": ["invalid", "valid", "valid", "valid", "valid"],
    }


def test_without_secrets_every_credential_is_listed_as_no_secret() -> None:
    out = run(CAPTURES / "omadm_loopback.pcap", Secrets())
    assert {a.result for a in out.auth_results} == {"no-secret"}
    assert len(out.auth_results) == 11
