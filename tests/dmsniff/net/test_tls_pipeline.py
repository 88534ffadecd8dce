"""HTTPS captures recorded with real peers, decrypted by the whole pipeline.

Each capture in ``captures/`` was recorded with its key log and a truth file written from what
the clients and servers themselves said (``captures/record_tls_*.py``); tshark was checked
against the same truth (``tests/captures/``).  Here dmsniff must give, per TCP connection,
exactly the truth's exchanges (method, URI, status, SHA-256 of each body) and the truth's TLS
facts; with the server's RSA key alone exactly the RSA key exchange connections; and for
every kind of missing or wrong key, a clear reason per connection with the rest intact.
"""

from __future__ import annotations

import gc
import hashlib
import json
import shutil
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from benchmarks import gentls
from dmsniff.capture import open_capture
from dmsniff.model import ConnectionEnd, TlsFacts, Transaction
from dmsniff.net.tls_keys import KeyMaterialError, TlsKeySpec, load_key_material
from dmsniff.pipeline import Addon, Pipeline
from tests.conftest import CAPTURES

TLS_CAPTURES = ("tls12_loopback", "tls13_loopback", "tls_omadm_loopback")


class Collect(Addon):
    needs_bodies = True

    def __init__(self) -> None:
        self.txs: list[Transaction] = []
        self.tls: dict[str, TlsFacts] = {}

    def transaction(self, tx: Transaction) -> None:
        self.txs.append(tx)

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self.tls[end.connection] = end.tls


def run(path: Path, spec: TlsKeySpec | None = None) -> Collect:
    out = Collect()
    Pipeline([out], tls_keys=spec).run_files([str(path)])
    return out


def keylog(name: str) -> TlsKeySpec:
    path = CAPTURES / f"{name}.keys"
    return TlsKeySpec(((path.name, path.read_bytes()),))


def rsa_key(name: str) -> TlsKeySpec:
    path = CAPTURES / f"{name}.server.key"
    return TlsKeySpec(rsa_keys=((path.name, path.read_bytes(), None, None),))


def truth(name: str) -> dict[str, Any]:
    return json.loads((CAPTURES / f"{name}.truth.json").read_text())  # type: ignore[no-any-return]


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def exchanges(out: Collect) -> dict[int, list[tuple[str | None, str | None, int | None, str, str]]]:
    """client port -> its exchanges as the truth writes them."""
    by_port: dict[int, list[tuple[str | None, str | None, int | None, str, str]]] = {}
    for tx in out.txs:
        req, resp = tx.request, tx.response
        port = int(tx.client.rsplit(":", 1)[1])
        by_port.setdefault(port, []).append((
            req.method if req else None, req.uri if req else None, resp.status if resp else None,
            _sha(req.body if req else b""), _sha(resp.body if resp else b""),
        ))
    return by_port


def truth_exchanges(name: str) -> dict[int, list[tuple[str | None, str | None, int | None, str, str]]]:
    return {c["client_port"]: [(e["method"], e["uri"], e["status"], e["request_body_sha256"],
                                e["response_body_sha256"]) for e in c["exchanges"]]
            for c in truth(name)["connections"] if c["exchanges"]}


def facts_by_port(out: Collect) -> dict[int, TlsFacts]:
    return {int(t.client.rsplit(":", 1)[1]): t for t in out.tls.values()}


@pytest.mark.parametrize("name", TLS_CAPTURES)
def test_key_log_opens_exactly_the_truths_exchanges(name: str) -> None:
    out = run(CAPTURES / f"{name}.pcap", keylog(name))
    assert exchanges(out) == truth_exchanges(name)
    # Every exchange says which TLS connection it came from.
    assert all(tx.tls is not None and tx.tls.key_source for tx in out.txs)


@pytest.mark.parametrize("name", TLS_CAPTURES)
def test_tls_facts_are_the_peers(name: str) -> None:
    out = run(CAPTURES / f"{name}.pcap", keylog(name))
    facts = facts_by_port(out)
    conns = truth(name)["connections"]
    assert sorted(facts) == sorted(c["client_port"] for c in conns)  # every TLS connection is reported
    for c in conns:
        t = facts[c["client_port"]]
        s, info = t.summary, t.summary.info
        if c.get("cipher_iana") and c["exchanges"]:
            assert info.suite_name == c["cipher_iana"], c
            assert info.version_name == c["tls_version"].replace("TLSv", "TLS "), c
        assert bool(info.resumed) == bool(c["resumed"]), c
        if c.get("resumption"):
            assert info.resumed == {"session_id": "session-id"}.get(c["resumption"], c["resumption"]), c
        assert info.sni == c["sni"], c
        assert s.hello_retry == bool(c.get("hello_retry")), c
        assert bool(sum(s.key_updates)) == bool(c.get("key_update")), c
        assert bool(s.renegotiations) == bool(c.get("renegotiated")), c
        fatal = [a for a in s.alerts if a.fatal]
        if c.get("alert"):
            assert [a.name for a in fatal] == [c["alert"]], c
            side = "client" if fatal[0].direction == t.client_direction else "server"
            assert side == c["alert_from"], c
        else:
            assert not fatal, c
        assert s.decrypted == bool(c["exchanges"]), c
        if c["exchanges"]:
            assert s.reason is None
        else:
            assert s.reason is not None and s.reason.code == "no-application-data"


def test_rsa_key_alone_opens_the_rsa_key_exchange_sessions() -> None:
    out = run(CAPTURES / "tls12_loopback.pcap", rsa_key("tls12_loopback"))
    conns = truth("tls12_loopback")["connections"]
    rsa_kex = {c["client_port"] for c in conns if (c["cipher_iana"] or "").startswith("TLS_RSA_")
               and c["exchanges"]}
    assert len(rsa_kex) == 7  # the full handshakes, the resumed ones (by id and ticket), no EMS
    want = {p: e for p, e in truth_exchanges("tls12_loopback").items() if p in rsa_kex}
    assert exchanges(out) == want
    facts = facts_by_port(out)
    for c in conns:
        t = facts[c["client_port"]]
        if c["client_port"] in rsa_kex:
            assert t.summary.decrypted
            source = t.summary.info.key_source or ""
            assert source.startswith("RSA key") if not c["resumed"] else source.startswith("resumed session")
        elif c["exchanges"]:
            want_code = "resumed-unknown" if c["resumed"] else "rsa-key-not-rsa-kex"
            assert t.summary.reason is not None and t.summary.reason.code == want_code, c


def test_without_keys_every_connection_says_why() -> None:
    out = run(CAPTURES / "tls12_loopback.pcap")
    assert out.txs == []
    for t in out.tls.values():
        r = t.summary.reason
        assert r is not None
        assert r.code in ("no-keylog-entry", "rsa-key-needed", "resumed-unknown", "no-application-data"), r
        if r.code == "rsa-key-needed":
            assert t.summary.info.suite_name.startswith("TLS_RSA_")  # type: ignore[union-attr]
    codes = {t.summary.reason.code for t in out.tls.values() if t.summary.reason}
    assert {"no-keylog-entry", "rsa-key-needed", "resumed-unknown"} <= codes


def test_another_captures_key_log_opens_nothing() -> None:
    out = run(CAPTURES / "tls12_loopback.pcap", keylog("tls13_loopback"))
    assert out.txs == []
    assert {t.summary.reason.code for t in out.tls.values() if t.summary.reason and  # type: ignore[union-attr]
            t.summary.opaque_bytes != (0, 0)} <= {"no-keylog-entry", "rsa-key-needed", "resumed-unknown"}


def test_truncated_secrets_and_garbage_lines_cost_only_their_lines(tmp_path: Path) -> None:
    lines = (CAPTURES / "tls12_loopback.keys").read_text().splitlines()
    # The first CLIENT_RANDOM line loses the last 8 hex digits of its secret; garbage is added.
    first = next(i for i, ln in enumerate(lines) if ln.startswith("CLIENT_RANDOM"))
    cut_random = bytes.fromhex(lines[first].split()[1])
    lines[first] = lines[first][:-8]
    lines[first + 1:first + 1] = ["garbage here", "CLIENT_RANDOM zz zz", "# a comment", ""]
    path = tmp_path / "keys.txt"
    path.write_text("\n".join(lines) + "\n")
    spec, report = load_key_material([str(path)], [])
    assert any("truncated" in w for w in report.warnings)
    assert any("line" in w and "field" in w for w in report.warnings)
    out = run(CAPTURES / "tls12_loopback.pcap", spec)
    facts = list(out.tls.values())
    broken = [t for t in facts if t.summary.info.client_random == cut_random]
    assert len(broken) == 1 and broken[0].summary.reason is not None
    assert broken[0].summary.reason.code == "no-keylog-entry"
    # Everything else decrypts as with the intact key log.
    full = exchanges(run(CAPTURES / "tls12_loopback.pcap", keylog("tls12_loopback")))
    port = int(broken[0].client.rsplit(":", 1)[1])
    assert exchanges(out) == {p: e for p, e in full.items() if p != port}


def test_wrong_rsa_key_and_ec_key() -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    out = run(CAPTURES / "tls12_loopback.pcap", TlsKeySpec(rsa_keys=(("other.key", other, None, None),)))
    assert out.txs == []
    codes = {t.summary.reason.code for t in out.tls.values() if t.summary.reason}
    assert "rsa-key-mismatch" in codes
    ec_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    path = CAPTURES.parent / ".pytest-ec.key"
    try:
        path.write_bytes(ec_key)
        with pytest.raises(KeyMaterialError, match="not RSA"):
            load_key_material([], [(str(path), None, None)])
    finally:
        path.unlink()


def _frames(path: Path) -> list[tuple[int, float, int, bytes]]:
    with open_capture(str(path)) as cap:
        return list(cap)


def _write(path: Path, frames: list[tuple[int, float, int, bytes]]) -> None:
    """A µs pcap of Ethernet frames (what tcpdump -i lo wrote)."""
    with open(path, "wb") as fh:
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for _n, ts, _lt, data in frames:
            sec = int(ts)
            fh.write(struct.pack("<IIII", sec, round((ts - sec) * 1e6), len(data), len(data)) + data)


def test_capture_starting_mid_connection(tmp_path: Path) -> None:
    frames = _frames(CAPTURES / "tls13_loopback.pcap")
    full = run(CAPTURES / "tls13_loopback.pcap", keylog("tls13_loopback"))
    first = min(full.tls.values(), key=lambda t: t.first_frame)
    cut = first.frames["Finished"][-1] + 1  # the first connection's handshake is gone
    path = tmp_path / "cut.pcap"
    _write(path, frames[cut - 1:])
    out = run(path, keylog("tls13_loopback"))
    port = int(first.client.rsplit(":", 1)[1])
    mid = facts_by_port(out)[port]
    assert mid.summary.reason is not None and mid.summary.reason.code == "no-handshake"
    assert sum(mid.summary.opaque_bytes) > 0
    want = exchanges(full)
    del want[port]
    assert exchanges(out) == want


def test_a_damaged_record_costs_that_record(tmp_path: Path) -> None:
    frames = _frames(CAPTURES / "tls12_loopback.pcap")
    full = run(CAPTURES / "tls12_loopback.pcap", keylog("tls12_loopback"))
    # The response of the first connection: flip one byte in the middle of its last record.
    tx = full.txs[0]
    assert tx.response is not None
    frame = tx.response.frame
    n, ts, lt, data = frames[frame - 1]
    damaged = bytearray(data)
    damaged[-20] ^= 0xFF
    frames[frame - 1] = (n, ts, lt, bytes(damaged))
    path = tmp_path / "damaged.pcap"
    _write(path, frames)
    out = run(path, keylog("tls12_loopback"))
    t = facts_by_port(out)[int(tx.client.rsplit(":", 1)[1])]
    assert t.summary.reason is not None and t.summary.reason.code == "damaged-record"
    assert sum(t.summary.opaque_bytes) > 0
    # That exchange is incomplete; every other connection is untouched.
    damaged_port = int(tx.client.rsplit(":", 1)[1])
    assert {p: e for p, e in exchanges(out).items() if p != damaged_port} == \
        {p: e for p, e in exchanges(full).items() if p != damaged_port}


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (Wireshark) is not installed")
def test_keys_inside_the_pcapng_need_no_option(tmp_path: Path) -> None:
    out_path = tmp_path / "with-keys.pcapng"
    subprocess.run(["editcap", "--inject-secrets", f"tls,{CAPTURES / 'tls13_loopback.keys'}",
                    str(CAPTURES / "tls13_loopback.pcap"), str(out_path)], check=True, capture_output=True)
    out = run(out_path)
    assert exchanges(out) == truth_exchanges("tls13_loopback")
    assert all("Decryption Secrets Block 1" in (tx.tls.key_source or "") for tx in out.txs if tx.tls)


def test_a_key_log_that_grows_while_capturing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Live: the key log is written after the handshake was captured; held records are replayed."""
    import dmsniff.net.tls as tlsmod

    monkeypatch.setattr(tlsmod, "RELOAD_EVERY", 0.0)  # live, it looks twice a second of wall time
    keys_path = tmp_path / "live.keys"
    keys_path.write_text("")
    spec, _ = load_key_material([str(keys_path)], [], live=True)
    assert spec.watch == (str(keys_path),)
    frames = _frames(CAPTURES / "tls13_loopback.pcap")
    text = (CAPTURES / "tls13_loopback.keys").read_text()

    def feed() -> Any:
        for i, f in enumerate(frames):
            if i == 10:  # after the first connection's handshake: the client writes its key log only now
                keys_path.write_text(text)
            yield f

    out = Collect()
    with open_capture(str(CAPTURES / "tls13_loopback.pcap")) as cap:
        Pipeline([out], tls_keys=spec).run_frames(feed(), cap.info)
    assert exchanges(out) == truth_exchanges("tls13_loopback")


def test_parallel_workers_give_the_same_report(tmp_path: Path) -> None:
    """With keys, connections go to workers by host pair: resumed sessions find their master secret."""
    from dmsniff.cli import main

    transcripts = list(gentls.benchmark_transcripts(10, seed=5))
    cap = tmp_path / "tls.pcap"
    gentls.write_pcap(cap, transcripts)
    keys = tmp_path / "tls.keys"
    keys.write_text("".join(t.keylog for t in transcripts))
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.jsonl"
        assert main(["report", "-j", jobs, "--keylog", str(keys), "--format", "jsonl", "-o", str(out),
                     str(cap)]) == 0
        outs.append(out.read_text())
    assert outs[0] == outs[1]
    assert outs[0].count('"type":"tls"') == len(transcripts)
    assert '"decrypted":false' not in outs[0]



@pytest.mark.parametrize("name,keys", [("cwmp_loopback", False), ("tls_cwmp_loopback", True)])
def test_a_closed_connection_leaves_no_cycle_for_the_garbage_collector(name: str, keys: bool) -> None:
    """Reference counting frees a connection, its tracker, parsers and buffers when it closes.

    Cycles among them would be left until a collection came round, holding their buffers, and made
    the collections the decoding's garbage collector runs cost more (see TcpReassembler._close).
    """
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what a collection finds unreachable goes to gc.garbage
    try:
        out = run(CAPTURES / f"{name}.pcap", keylog(name) if keys else None)
        gc.collect()
        kinds = {type(o).__name__ for o in gc.garbage}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert out.txs  # the capture was decoded (through TLS for the second)
    assert not kinds & {"Connection", "_Half", "HttpTracker", "HttpStreamParser", "TlsTracker",
                        "TlsConnection"}, kinds
