"""Verification from the command line: secrets in, verdicts out, passwords kept out of the output."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema

from tests.conftest import CAPTURES, ROOT

from .test_omadm_capture import SECRETS

SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
OMADM = str(CAPTURES / "omadm_loopback.pcap")
DIGEST = str(CAPTURES / "digest_loopback.pcap")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dmsniff", "report", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def secrets_file(tmp_path: Path, mode: int = 0o600) -> str:
    f = tmp_path / "secrets.toml"
    f.write_text(SECRETS)
    f.chmod(mode)
    return str(f)


def test_json_report_has_auth_and_badges(tmp_path: Path) -> None:
    res = run("--format", "json", "--secrets", secrets_file(tmp_path), OMADM)
    assert res.returncode == 0 and res.stderr == ""
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert [a["result"] for a in doc["auth"]].count("valid") == 7
    badges = {s["session_id"]: s["auth"]["badge"] for s in doc["sessions"]}
    assert badges == {"1A2B": "✗", "2C": "✗", "3E": "✗"}
    first = doc["auth"][1]
    assert {k: first[k] for k in ("scheme", "identity", "result", "reason", "matched")} == {
        "scheme": "syncml-basic",
        "identity": "dmuser",
        "result": "invalid",
        "reason": "password mismatch",
        "matched": None,
    }


def test_passwords_stay_out_unless_asked(tmp_path: Path) -> None:
    path = secrets_file(tmp_path)
    for fmt in ("text", "json", "jsonl"):
        out = run("--format", fmt, "--secrets", path, OMADM).stdout
        assert "dmpass" not in out and "srvpass" not in out
    shown = run("--format", "jsonl", "--show-secrets", "--secrets", path, OMADM).stdout
    recs = [json.loads(line) for line in shown.splitlines()]
    auth = [r for r in recs if r["type"] == "auth"]
    assert {r.get("password") for r in auth if r["result"] == "valid"} == {"dmpass", "srvpass"}
    for r in recs:
        jsonschema.validate(r, {"$defs": SCHEMA["$defs"], **SCHEMA["$defs"][r["type"]]})


def test_fail_on_invalid_and_secret_options(tmp_path: Path) -> None:
    ok = run("--secret", "alice:alice-pass", "--secret", "bob:bob-pass", DIGEST)
    assert ok.returncode == 0  # invalid credentials are reported, not an error
    assert "2 × http-digest 'alice' invalid" in ok.stdout
    res = run("--fail-on-invalid", "--secret", "alice:alice-pass", "--secret", "bob:bob-pass", DIGEST)
    assert res.returncode == 1
    assert res.stderr.strip() == "dmsniff: 2 invalid credential(s) (--fail-on-invalid)"
    only_bob = run("--fail-on-invalid", "--secret", "bob:bob-pass", DIGEST)
    assert only_bob.returncode == 0  # alice's are no-secret, not invalid


def test_world_readable_secrets_warn_and_bad_ones_stop(tmp_path: Path) -> None:
    res = run("--secrets", secrets_file(tmp_path, 0o644), OMADM)
    assert res.returncode == 0
    assert "readable by others (mode 0644)" in res.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text("[[http]]\nusername = 'x'\n")
    res = run("--secrets", str(bad), OMADM)
    assert res.returncode == 2 and res.stdout == ""
    assert res.stderr.count("\n") == 1 and "needs username and password" in res.stderr
    res = run("--wordlist", str(tmp_path / "missing.txt"), OMADM)
    assert res.returncode == 2 and "cannot read wordlist" in res.stderr


def test_wordlist_audit(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("123456\npassword\nbob-pass\nsrvpass\n")
    res = run("--format", "jsonl", "--wordlist", str(words), DIGEST, OMADM)
    assert res.returncode == 0
    records = [json.loads(line) for line in res.stdout.splitlines()]
    found = [r for r in records if r["type"] == "finding" and r["code"] == "verify.password-in-wordlist"]
    assert sorted(f["message"] for f in found) == [
        "'bob' uses a password from the wordlist (http-digest) (--show-secrets prints it)",
        "'dmsniff-dm' uses a password from the wordlist (pkg0-digest) (--show-secrets prints it)",
    ]
    assert "bob-pass" not in res.stdout and "srvpass" not in res.stdout
    assert "4 words × " in res.stderr and "2 password(s) found" in res.stderr
    assert "every credential of those identities judged" in res.stderr
    # Every credential of a cracked identity is judged with the password found, as a supplied one:
    auth = [r for r in records if r["type"] == "auth"]
    bob = [r for r in auth if r["identity"] == "bob"]
    assert len(bob) == 5 and all(r["result"] == "valid" and r["matched"] == "wordlist" for r in bob)
    server = [r for r in auth if r["identity"] == "dmsniff-dm"]
    assert [(r["scheme"], r["result"]) for r in server] == [
        ("pkg0-digest", "valid"), ("pkg0-digest", "valid"), ("pkg0-digest", "invalid"),
        ("syncml-hmac", "unverifiable"), ("syncml-hmac", "unverifiable"),
    ]
    assert {r["matched"] for r in server if r["result"] == "valid"} == {"wordlist"}
    assert all(r["result"] == "no-secret" for r in auth if r["identity"] in ("alice", "dmuser"))
    # ... and its session's badge with them: the DM session the bad notification opened shows ✗.
    sessions = [r for r in records if r["type"] == "session" and r["protocol"] == "omadm"]
    assert [s["auth"]["badge"] for s in sessions] == ["✓", "✓", "✗"]


def test_wordlist_passwords_shown_only_when_asked(tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("bob-pass\n")
    res = run("--format", "jsonl", "--wordlist", str(words), "--show-secrets", DIGEST)
    records = [json.loads(line) for line in res.stdout.splitlines()]
    bob = [r for r in records if r["type"] == "auth" and r["identity"] == "bob"]
    assert bob and all(r["password"] == "bob-pass" for r in bob)
    (f,) = [r for r in records if r["type"] == "finding" and r["code"] == "verify.password-in-wordlist"]
    assert f["message"] == "'bob' uses a password from the wordlist (http-digest): 'bob-pass'"


def test_wordlist_on_a_stream_reports_what_it_found(tmp_path: Path) -> None:
    """Standard input is read again from its copy: the audit's pass first, as for a file."""
    words = tmp_path / "words.txt"
    words.write_text("bob-pass\n")
    res = subprocess.run([sys.executable, "-m", "dmsniff", "report", "--format", "jsonl", "-q", "--wordlist",
                          str(words), "-"], input=Path(DIGEST).read_bytes(), capture_output=True, cwd=ROOT)
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["message"].split(" ")[0] for r in records if r["type"] == "finding"
            and r["code"] == "verify.password-in-wordlist"] == ["'bob'"]
    assert "every credential of those identities judged with them" in res.stderr.decode()
    assert any(r["type"] == "auth" and r.get("matched") == "wordlist" for r in records)
