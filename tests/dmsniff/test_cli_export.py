"""`dmsniff report --export-pcapng`: the capture (or some sessions) as pcapng with its TLS keys inside.

The oracle is the real tshark, given no key option: it must find the decrypted HTTP exactly as
it does in the original capture given the whole key log.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dmsniff.cli import build_parser, main
from tests.conftest import CAPTURES

TLS13 = CAPTURES / "tls13_loopback.pcap"
KEYS13 = CAPTURES / "tls13_loopback.keys"
TLS12 = CAPTURES / "tls12_loopback.pcap"
CWMP = CAPTURES / "cwmp_loopback.pcap"


def tshark_http(path: Path, *options: str) -> list[tuple[str, ...]]:
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "http", "-T", "fields", "-e", "frame.number",
         "-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code", *options],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    return [tuple(line.split("\t")) for line in out.splitlines()]


def frame_count(path: Path) -> int:
    out = subprocess.run(["capinfos", "-c", "-M", str(path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout  # fmt: skip
    return int(out.splitlines()[-1].rsplit(":", 1)[1])


def test_whole_capture_opens_decrypted_in_tshark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "all.pcapng"
    assert main(["report", str(TLS13), "--keylog", str(KEYS13), "--export-pcapng", str(out)]) == 0
    captured = capsys.readouterr()
    assert "-- 12 TLS connections, 11 decrypted" in captured.out  # the report is written as usual
    assert f"dmsniff: wrote 224 frames and 47 TLS key log lines to {out}" in captured.err
    assert frame_count(out) == 224
    with_keys = tshark_http(TLS13, "-o", f"tls.keylog_file:{KEYS13}")
    assert len(with_keys) == 26
    assert tshark_http(out) == with_keys  # no key option: the file's own keys decrypt it
    assert tshark_http(TLS13) == []  # (the original, without keys, shows no HTTP)
    # editcap reads and writes it, keys included.
    copy = tmp_path / "copy.pcapng"
    subprocess.run(["editcap", str(out), str(copy)], check=True, capture_output=True, timeout=60)
    assert tshark_http(copy) == with_keys


def test_some_sessions_with_the_server_key_alone(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # RSA key exchange, decrypted with --tls-key: the export carries the master secrets as
    # CLIENT_RANDOM lines, so Wireshark needs neither the key nor a key log.
    out = tmp_path / "two.pcapng"
    key = CAPTURES / "tls12_loopback.server.key"
    assert main(["report", str(TLS12), "--tls-key", str(key), "--export-pcapng", str(out),
                 "--export-session", "S100", "--export-session", "S172"]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert "2 TLS key log lines" in err
    rows = tshark_http(out)
    assert [(r[1], r[3]) for r in rows] == [("POST", ""), ("", "200")] * 2
    assert rows == tshark_http(out, "-o", f"tls.keylog_file:{CAPTURES / 'tls12_loopback.keys'}")


def test_a_plaintext_capture_is_exported_as_pcapng_without_secrets(tmp_path: Path) -> None:
    out = tmp_path / "plain.pcapng"
    assert main(["report", str(CWMP), "-o", str(tmp_path / "r.txt"), "--export-pcapng", str(out),
                 "--export-session", "S55"]) == 0  # fmt: skip
    assert out.read_bytes()[:4] == bytes.fromhex("0a0d0d0a")
    info = subprocess.run(["capinfos", str(out)], check=True, capture_output=True, text=True).stdout
    assert "decryption secrets" not in info
    methods = [r[1] for r in tshark_http(out, "-o", "tcp.try_heuristic_first:TRUE") if r[1]]
    assert methods == ["GET"] + ["POST"] * 4


@pytest.mark.parametrize(
    ("captures", "args", "message"),
    [
        ([TLS13], ["--export-session", "S10"], "--export-session needs --export-pcapng"),
        ([TLS13, TLS12], ["--export-pcapng", "{out}"], "exactly one CAPTURE"),
        ([TLS13], ["--export-pcapng", "{out}", "--http-only", "--export-session", "S10"], "no sessions"),
        ([TLS13], ["--export-pcapng", "{out}", "--export-session", "S9"], "no session S9 in"),
    ],
)
def test_export_errors_are_one_line(captures: list[Path], args: list[str], message: str, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    out = tmp_path / "x.pcapng"
    argv = ["report", *map(str, captures), "-o", str(tmp_path / "r.txt"), *(a.format(out=out) for a in args)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_help_documents_the_export() -> None:
    report = build_parser()._subparsers._group_actions[0].choices["report"]  # type: ignore[union-attr]
    text = " ".join(report.format_help().split())
    assert "--export-pcapng OUT.pcapng" in text and "--export-session ID" in text
    assert "Decryption Secrets Block" in text and "Wireshark" in text
