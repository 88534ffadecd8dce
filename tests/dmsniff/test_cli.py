"""`dmsniff report` as a user runs it: formats, exit codes, bad input, live capture."""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import jsonschema
import pytest

from dmsniff.cli import main
from tests.builders import Conversation, request, response, write
from tests.conftest import CAPTURES, ROOT

SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
LOOPBACK = CAPTURES / "http_loopback.pcap"


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmsniff", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(LOOPBACK)]) == 0
    out = capsys.readouterr().out
    assert "POST /expect  ⇒ 100 200 OK" in out
    assert "GET /cr  ⇒ 200 OK" in out
    assert "9 HTTP transactions" in out


def test_json_report_matches_schema(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["report", "--format", "json", "-o", str(out), str(LOOPBACK)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["captures"][0]["packets"] == 80
    assert doc["captures"][0]["link_types"] == ["EN10MB"]
    assert len(doc["transactions"]) == 9
    gz = next(t for t in doc["transactions"] if t["request"]["uri"] == "/gzip")
    assert gz["response"]["decoded_length"] > gz["response"]["body_length"]
    assert ["Content-Encoding", "gzip"] in gz["response"]["headers"]


def test_jsonl_report_records_match_schema(tmp_path: Path) -> None:
    out = tmp_path / "r.jsonl"
    assert main(["report", "--format", "jsonl", "-o", str(out), str(LOOPBACK)]) == 0
    recs = [json.loads(line) for line in out.read_text().splitlines()]
    types = [r["type"] for r in recs]
    assert types.count("transaction") == 9
    assert types.count("capture") == 1
    # Each of the 5 connections posting the Inform is a session (one with a 401 retry), one device.
    assert types.count("session") == 5
    assert types.count("device") == 1
    assert types.index("capture") > max(i for i, t in enumerate(types) if t == "transaction")
    defs = SCHEMA["$defs"]
    for r in recs:
        sub = {"$defs": defs, **defs[r["type"]]}
        jsonschema.validate(r, sub)


@pytest.mark.parametrize("name", ["omadm_loopback.pcap", "cwmp_loopback.pcap"])
def test_session_reports_match_schema(tmp_path: Path, name: str) -> None:
    out = tmp_path / "r.json"
    assert main(["report", "--format", "json", "-o", str(out), str(CAPTURES / name)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["sessions"]
    assert main(["report", "--format", "jsonl", "-o", str(out), str(CAPTURES / name)]) == 0
    defs = SCHEMA["$defs"]
    for line in out.read_text().splitlines():
        r = json.loads(line)
        jsonschema.validate(r, {"$defs": defs, **defs[r["type"]]})


def test_http_only_report(tmp_path: Path) -> None:
    # The same transactions as the full report, without protocol decoding, sessions,
    # devices or credential checks.
    full, only = tmp_path / "full.jsonl", tmp_path / "only.jsonl"
    cap = str(CAPTURES / "cwmp_loopback.pcap")
    assert main(["report", "--format", "jsonl", "-o", str(full), cap]) == 0
    assert main(["report", "--http-only", "--format", "jsonl", "-o", str(only), cap]) == 0
    full_recs = [json.loads(line) for line in full.read_text().splitlines()]
    only_recs = [json.loads(line) for line in only.read_text().splitlines()]
    assert {r["type"] for r in only_recs} == {"transaction", "capture"}

    def without_protocol(r: dict[str, object]) -> dict[str, object]:
        for side in ("request", "response"):
            msg = r.get(side)
            if isinstance(msg, dict):
                msg.pop("protocol", None)
        return r

    full_tx = [without_protocol(r) for r in full_recs if r["type"] == "transaction"]
    only_tx = [r for r in only_recs if r["type"] == "transaction"]
    assert len(only_tx) > 10
    assert only_tx == full_tx
    assert not any("protocol" in (r["request"] or {}) for r in only_tx)
    defs = SCHEMA["$defs"]
    for r in only_recs:
        jsonschema.validate(r, {"$defs": defs, **defs[r["type"]]})


def test_http_only_refuses_verification_options() -> None:
    res = run_cli("report", "--http-only", "--secret", "a:b", str(LOOPBACK))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "--http-only does not verify" in res.stderr


def test_omadm_json_session_shape(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    assert main(["report", "--format", "json", "-o", str(out), str(CAPTURES / "omadm_loopback.pcap")]) == 0
    doc = json.loads(out.read_text())
    s = next(s for s in doc["sessions"] if s["session_id"] == "1A2B")
    assert s["protocol"] == "omadm" and s["device"]["id"] == "IMEI:493005100592800"
    first, pkg1 = s["messages"][:2]
    assert (first["kind"], first["package"]) == ("Notification", 0)
    assert first["fields"]["server_id"] == "dmsniff-dm"
    assert (pkg1["kind"], pkg1["encoding"], pkg1["session_id"], pkg1["msg_id"], pkg1["package"]) == (
        "SyncML", "wbxml", "1A2B", "1", 1)
    assert [c["name"] for c in pkg1["commands"]] == ["Alert", "Replace"]
    status = s["messages"][2]["commands"][0]
    assert {k: status[k] for k in ("name", "cmd_id", "cmd_ref", "msg_ref", "cmd", "code", "meaning")} == {
        "name": "Status", "cmd_id": "1", "cmd_ref": "0", "msg_ref": "1", "cmd": "SyncHdr", "code": 401,
        "meaning": "Invalid credentials"}
    assert status["answers"] == pkg1["frame"]


def test_not_a_capture_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("hello, this is not a pcap\n")
    res = run_cli("report", str(bad))
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1
    assert "Traceback" not in res.stderr and str(bad) in res.stderr


def test_missing_file_and_good_file_exit_1(tmp_path: Path) -> None:
    res = run_cli("report", "--format", "json", str(tmp_path / "nope.pcap"), str(LOOPBACK))
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["transactions"]) == 9
    assert doc["captures"][0]["format"] is None and doc["captures"][0]["errors"]


def test_unwritable_output() -> None:
    res = run_cli("report", "-o", "/nonexistent-dir/x.json", str(LOOPBACK))
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr


def test_usage_errors() -> None:
    assert run_cli("report").returncode == 2
    assert run_cli("report", "--live").returncode == 2
    res = run_cli("report", "-i", "lo", str(LOOPBACK))
    assert res.returncode == 2 and "--live" in res.stderr


def small_capture(path: Path) -> Path:
    conv = Conversation()
    conv.send(True, request(body=b"<Inform/>" * 20), mss=100)
    conv.send(False, response(body=b"<InformResponse/>"))
    conv.send(True, request(body=b""))
    conv.send(False, response(204, "No Content"))
    conv.close()
    return write(path, conv.packets)


def test_truncated_at_every_offset(tmp_path: Path) -> None:
    """No traceback at any cut; what was complete before the cut is still reported."""
    full = small_capture(tmp_path / "full.pcap").read_bytes()
    cut_file = tmp_path / "cut.pcap"
    previous = 0
    for cut in range(len(full) + 1):
        cut_file.write_bytes(full[:cut])
        out = tmp_path / "cut.json"
        code = main(["report", "--format", "json", "-o", str(out), str(cut_file)])
        doc = json.loads(out.read_text())
        if cut < 24:  # not even a file header: unusable
            assert code == 2
            continue
        assert code == 0
        answered = sum(1 for t in doc["transactions"] if t["response"] and t["response"]["complete"])
        assert answered >= previous, f"cut at {cut} lost an exchange decoded at a shorter cut"
        previous = answered
        if cut < len(full):
            assert doc["captures"][0]["errors"] or cut in _record_boundaries(full)
    assert previous == 2


def test_a_cut_capture_is_a_warning_in_the_text_report_and_on_stderr(tmp_path: Path) -> None:
    """The capture was read up to the cut and what came before is reported (exit 0): the report
    calls the cut a warning, as stderr does, not an error."""
    full = LOOPBACK.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(full[: len(full) - 100])  # inside its last frame
    res = run_cli("report", str(cut))
    assert res.returncode == 0
    assert "-- warning: truncated: capture ends inside frame" in res.stdout
    assert "-- error:" not in res.stdout
    assert res.stderr.startswith(f"dmsniff: warning: {cut}: truncated: capture ends inside frame")


def _record_boundaries(data: bytes) -> set[int]:
    import struct
    pos, out = 24, {24}
    while pos + 16 <= len(data):
        pos += 16 + struct.unpack_from("<I", data, pos + 8)[0]
        out.add(pos)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Ok(http.server.BaseHTTPRequestHandler):
    """An ACS stand-in for the live tests: reads a POST, answers 200 "ok"."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a: object) -> None:
        pass


@pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root (CAP_NET_RAW)")
def test_live_capture_on_loopback_streams_jsonl(tmp_path: Path) -> None:
    port = _free_port()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Ok)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    saved = tmp_path / "live.pcapng"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dmsniff", "report", "--live", "-i", "lo", "-f", f"tcp port {port}",
         "--duration", "6", "-w", str(saved)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        time.sleep(2.5)  # scapy import and socket set-up
        for i in range(3):
            req = urllib.request.Request(f"http://127.0.0.1:{port}/acs{i}", data=b"<Inform/>", method="POST")
            with urllib.request.urlopen(req, timeout=5) as r:
                assert r.read() == b"ok"
        out, err = proc.communicate(timeout=30)
    finally:
        srv.shutdown()
        proc.kill()
    assert proc.returncode == 0, err
    recs = [json.loads(line) for line in out.splitlines()]
    uris = sorted(r["request"]["uri"] for r in recs if r["type"] == "transaction")
    assert uris == ["/acs0", "/acs1", "/acs2"]
    assert recs[-1]["type"] == "capture" and recs[-1]["packets"] > 0
    # The saved file holds the same exchanges.
    doc = json.loads(run_cli("report", "--format", "json", str(saved)).stdout)
    assert sorted(t["request"]["uri"] for t in doc["transactions"]) == uris


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway RSA certificate for 127.0.0.1 and its key (PEM files)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    crt, pem = tmp_path / "server.crt", tmp_path / "server.key"
    crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pem.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()))
    return crt, pem


@pytest.mark.skipif(os.geteuid() != 0, reason="live capture needs root (CAP_NET_RAW)")
def test_live_capture_over_tls_saves_the_keys_that_opened_it(tmp_path: Path) -> None:
    # An HTTPS client writing its key log as it connects (SSLKEYLOGFILE), dmsniff capturing live with
    # that key log and -w: the saved file carries the lines of its connections, so that tshark
    # (Wireshark) opens it decrypted with no key option, and so does dmsniff.
    import ssl

    port = _free_port()
    crt, pem = _self_signed(tmp_path)
    keys = tmp_path / "keys.log"
    keys.write_text("")  # the client fills it while the capture runs

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), _Ok)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(crt, pem)
    srv.socket = server_ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    saved = tmp_path / "live.pcapng"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dmsniff", "report", "--live", "-i", "lo", "-f", f"tcp port {port}",
         "-w", str(saved), "--keylog", str(keys), "--format", "jsonl"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
        # Ctrl-C as in a terminal, even when the tests run as a background job (which ignores it).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        time.sleep(2.5)  # scapy import and socket set-up
        client_ctx = ssl.create_default_context(cafile=str(crt))
        client_ctx.keylog_filename = str(keys)
        for i in range(3):
            req = urllib.request.Request(f"https://127.0.0.1:{port}/acs{i}", data=b"<Inform/>", method="POST")
            with urllib.request.urlopen(req, timeout=5, context=client_ctx) as r:
                assert r.read() == b"ok"
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)  # Ctrl-C, as a user ends a capture: a clean end, like tshark's
        out, err = proc.communicate(timeout=30)
    finally:
        srv.shutdown()
        proc.kill()
    assert proc.returncode == 0, err
    assert "dmsniff: capture stopped" in err
    recs = [json.loads(line) for line in out.splitlines()]
    uris = sorted(r["request"]["uri"] for r in recs if r["type"] == "transaction")
    assert uris == ["/acs0", "/acs1", "/acs2"]  # decrypted live with the growing key log
    assert recs[-1]["type"] == "capture" and recs[-1]["packets"] > 0  # the report ended too
    lines = [line for line in keys.read_text().splitlines() if line and not line.startswith("#")]
    used = [line for line in lines if not line.startswith("EXPORTER_SECRET")]  # (TLS 1.3: not needed)
    assert f"{saved}: {len(used)} TLS key log lines in a Decryption Secrets Block" in err
    if shutil.which("tshark"):  # (CI has it)
        # -d: the client's ephemeral port may be one tshark gives another protocol (34980 is EtherCAT's).
        tshark = subprocess.run(["tshark", "-n", "-r", str(saved), "-d", f"tcp.port=={port},tls",
                                 "-Y", "http.request", "-T", "fields", "-e", "http.request.uri"],
                                capture_output=True, text=True, check=True)
        assert sorted(tshark.stdout.split()) == uris
    doc = json.loads(run_cli("report", "--format", "json", str(saved)).stdout)  # no --keylog
    assert sorted(t["request"]["uri"] for t in doc["transactions"]) == uris
    assert all(t["decrypted"] for t in doc["tls"])


def test_live_capture_on_missing_interface() -> None:
    res = run_cli("report", "--live", "-i", "nosuchif0", "--duration", "1")
    assert res.returncode == 2
    assert "nosuchif0" in res.stderr and "Traceback" not in res.stderr


@pytest.mark.parametrize("keys", [True, False])
def test_tls_reports_match_schema(tmp_path: Path, keys: bool) -> None:
    cap = CAPTURES / "tls12_loopback.pcap"
    opts = ["--keylog", str(CAPTURES / "tls12_loopback.keys")] if keys else []
    out = tmp_path / "r.json"
    assert main(["report", *opts, "--format", "json", "-o", str(out), str(cap)]) == 0
    doc = json.loads(out.read_text())
    jsonschema.validate(doc, SCHEMA)
    assert len(doc["tls"]) == 22
    assert sum(t["decrypted"] for t in doc["tls"]) == (20 if keys else 0)
    assert all("tls" in tx for tx in doc["transactions"])
    assert {f["code"] for f in doc["findings"]} >= ({"tls.fatal-alert", "tls.old-version", "tls.sni-missing",
                                                      "tls.renegotiation"} if keys else {"tls.fatal-alert"})
    assert main(["report", *opts, "--format", "jsonl", "-o", str(out), str(cap)]) == 0
    defs = SCHEMA["$defs"]
    for line in out.read_text().splitlines():
        r = json.loads(line)
        jsonschema.validate(r, {"$defs": defs, **defs[r["type"]]})


def test_tls_text_report_says_why_a_connection_stayed_encrypted() -> None:
    res = run_cli("report", "--tls-key", str(CAPTURES / "tls12_loopback.server.key"),
                  str(CAPTURES / "tls12_loopback.pcap"))
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if "TLS 1." in ln and "127.0.0.1" in ln and "→" in ln]
    assert len(lines) == 21  # one line per TLS connection with a ServerHello
    assert sum("decrypted (RSA key tls12_loopback.server.key)" in ln for ln in lines) == 5
    assert sum("decrypted (resumed session" in ln for ln in lines) == 2
    ecdhe = [ln for ln in lines if "ECDHE" in ln and "resumed" not in ln and "fatal alert" not in ln]
    assert ecdhe and all("ECDHE: only a key log can decrypt this" in ln and "--keylog" in ln for ln in ecdhe)


def test_tls_key_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.key"
    bad.write_text("not a key")
    res = run_cli("report", "--tls-key", str(bad), str(LOOPBACK))
    assert res.returncode == 2 and res.stderr.count("\n") == 1
    assert "TLS key" in res.stderr and "not a PEM, DER or PKCS#12" in res.stderr
    res = run_cli("report", "--keylog", str(tmp_path / "missing.keys"), str(LOOPBACK))
    assert res.returncode == 2 and "cannot read key log" in res.stderr
    bad.chmod(0o644)
    key = CAPTURES / "tls12_loopback.server.key"
    shared = tmp_path / "shared.key"
    shared.write_bytes(key.read_bytes())
    shared.chmod(0o644)
    res = run_cli("report", "--tls-key", str(shared), str(LOOPBACK))
    assert res.returncode == 0 and "readable by others" in res.stderr


def _cli_bytes(*args: str, encoding: str | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONIOENCODING"}
    if encoding is not None:
        env["PYTHONIOENCODING"] = encoding
    return subprocess.run([sys.executable, "-m", "dmsniff", *args], capture_output=True, timeout=120,
                          cwd=ROOT, env=env)


def test_a_stdout_that_is_not_utf8_loses_nothing() -> None:
    # Standard output in Latin-1 (a locale, PYTHONIOENCODING): the sessions' labels hold "→" and
    # "…".  JSON, JSON Lines and HTML are UTF-8 all the same; the text report escapes what the
    # terminal cannot show.  (Each writer's hook used to fail there, and the sessions were lost.)
    capture = str(CAPTURES / "omadm_loopback.pcap")
    for fmt in ("jsonl", "json", "html"):
        utf8 = _cli_bytes("report", "--format", fmt, capture, encoding="utf-8")
        latin = _cli_bytes("report", "--format", fmt, capture, encoding="latin-1")
        assert latin.returncode == utf8.returncode == 0
        stamp = re.compile(rb"dmsniff [^,<]+, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC")  # (HTML: when made)
        assert stamp.sub(b"", latin.stdout) == stamp.sub(b"", utf8.stdout), fmt
        assert b"internal error" not in latin.stderr
    text = _cli_bytes("report", capture, encoding="latin-1")
    assert text.returncode == 0 and b"internal error" not in text.stderr
    out = text.stdout.decode("latin-1")
    assert "\\u2192" in out and "-- 3 sessions" in out
    assert all(f"\n{sid} " in out for sid in ("D5", "D22", "D35"))  # the three sessions' lines


def test_a_writer_that_fails_is_said_on_stderr(monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from dmsniff.report.json import JsonLinesReport

    def session(self: JsonLinesReport, session: object) -> None:
        raise ValueError("no room")

    monkeypatch.setattr(JsonLinesReport, "session", session)
    assert main(["report", "--format", "jsonl", str(CAPTURES / "omadm_loopback.pcap")]) == 0
    err = capsys.readouterr().err
    assert ("dmsniff: warning: internal error: JsonLinesReport.session failed on 3 record(s), first on "
            "Session D") in err
    assert "ValueError: no room" in err


def test_live_from_a_command_refuses_a_capture_filter_of_its_own() -> None:
    # The filter (and the interface) belong to the command's tcpdump; here they would be ignored.
    cmd = [sys.executable, "-m", "dmsniff", "live", "--from-cmd", "cat x.pcap", "-f", "port 7547"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert res.returncode == 2
    assert res.stderr.startswith("dmsniff: error: -i and -f are for a capture made here: with --from-cmd")
    assert len(res.stderr.splitlines()) == 1


def test_standard_input_that_is_the_terminal_is_one_line() -> None:
    # dmsniff report - typed without a pipe: said at once, rather than waiting for keystrokes.
    import pty

    master, slave = pty.openpty()
    try:
        res = subprocess.run([sys.executable, "-m", "dmsniff", "report", "-"], stdin=slave,
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
    finally:
        os.close(master)
        os.close(slave)
    assert res.returncode == 2
    assert res.stderr == ("dmsniff: error: - reads standard input, and here it is the terminal: pipe a "
                          "capture or a log into it (tcpdump -U -w - ... | dmsniff report -)\n")


def test_report_forks_its_workers_before_the_verifiers_imports() -> None:
    # cmd_report asks whether a wordlist pass comes first before it forks the decoding workers:
    # without --wordlist the answer must not cost the audit's imports (the verifier, the decoders),
    # which held every -j run's workers back a tenth of a second.
    code = (
        "import argparse, sys; from dmsniff.cli import _wordlist_first; "
        "print(_wordlist_first(argparse.Namespace(wordlist=None, live=False, inputs=['x.pcap'])), "
        "'dmsniff.verify.audit' in sys.modules, 'dmsniff.verify.verifier' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["False", "False", "False"]
