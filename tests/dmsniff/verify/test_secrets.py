"""The secrets file and --secret options: what is read, what is refused, what is warned about."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmsniff.verify.secrets import Secret, SecretError, Secrets, load_secrets, parse_secret_option


def write(tmp_path: Path, text: str, mode: int = 0o600) -> Path:
    f = tmp_path / "s.toml"
    f.write_text(text)
    f.chmod(mode)
    return f


def test_every_kind_and_field(tmp_path: Path) -> None:
    f = write(
        tmp_path,
        """
[[http]]
username = "cpe"
password = "p1"
realm = "acs"
label = "lab CPE"
[[connection_request]]
username = "cr"
password = "p2"
[[omadm_client]]
username = "dm"
password = "p3"
nonce_hex = "00ff"
[[omadm_server]]
server_id = "srv"
password = ""
nonce_b64 = "AQI="
""",
    )
    s = load_secrets(f)
    assert s.warnings == []
    assert s.entries == [
        Secret("http", "cpe", "p1", realm="acs", label="lab CPE"),
        Secret("connection_request", "cr", "p2"),
        Secret("omadm_client", "dm", "p3", nonce=b"\x00\xff"),
        Secret("omadm_server", "srv", "", nonce=b"\x01\x02"),
    ]
    assert s.entries[0].title == "lab CPE" and s.entries[1].title == "cr"
    assert [e.kind for e in s.for_name(("http", "connection_request"), "cr")] == ["connection_request"]


def test_readable_by_others_warns(tmp_path: Path) -> None:
    f = write(tmp_path, '[[http]]\nusername = "a"\npassword = "b"\n', mode=0o644)
    s = load_secrets(f)
    assert len(s.warnings) == 1 and "readable by others (mode 0644)" in s.warnings[0]
    assert s.warnings[0] == f"secrets file {f} is readable by others (mode 0644); chmod 600 {f}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[http]]\nusername = 'a'\n", "needs username and password"),
        ("[[ftp]]\nusername = 'a'\npassword = 'b'\n", "unknown section [[ftp]]"),
        ("[[http]]\nusername = 'a'\npassword = 'b'\ncolour = 'red'\n", "unknown key 'colour'"),
        ("[[omadm_client]]\nusername = 'a'\npassword = 'b'\nnonce_b64 = '***'\n", "nonce_b64 is not base64"),
        ("http = 3\n", "must be an array of tables"),
        ("[[http]\n", "secrets file"),
    ],
)
def test_bad_files_are_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SecretError) as exc:
        load_secrets(write(tmp_path, text))
    assert message in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SecretError, match="cannot read secrets file"):
        load_secrets(tmp_path / "nope.toml")


def test_secret_option() -> None:
    assert parse_secret_option("alice:pa:ss") == Secret("any", "alice", "pa:ss")
    s = Secrets([parse_secret_option("alice:x")])
    assert s.for_name(("omadm_server",), "alice") and s.for_name(("http",), "alice")
    with pytest.raises(SecretError) as exc:
        parse_secret_option("hunter2")
    assert "hunter2" not in str(exc.value)  # a password typed without user: is not echoed either
