"""benchmarks/gentls.py: real OpenSSL transcripts are what was asked, and tshark reads its pcaps.

The transcript tests need only Python's ssl; the capture tests run the real tshark (skipped when it
is missing) on a small capture of every benchmark profile, with and without resumption, CWMP
sessions and small firmware downloads, interleaved, plus one RSA key exchange connection.
"""

from __future__ import annotations

import dataclasses
import random
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from benchmarks.gentls import (
    CLIENT,
    PROFILES,
    SERVER,
    V12,
    V13,
    PcapStats,
    TLSConfig,
    Transcript,
    cwmp_session,
    firmware_download,
    server_key_pem,
    streams,
    transcript,
    write_pcap,
)

GET = (b"GET /x HTTP/1.1\r\nHost: acs.example\r\n\r\n", b"HTTP/1.1 204 No Content\r\nServer: t\r\n\r\n")
EXPECTED = {  # profile -> (version, the cipher name OpenSSL reports)
    "1.2-aes128gcm": ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    "1.2-aes128gcm-noticket": ("TLSv1.2", "ECDHE-RSA-AES128-GCM-SHA256"),
    "1.2-aes256gcm": ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384"),
    "1.2-chacha20": ("TLSv1.2", "ECDHE-RSA-CHACHA20-POLY1305"),
    "1.3-aes128gcm": ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
    "1.3-aes256gcm": ("TLSv1.3", "TLS_AES_256_GCM_SHA384"),
    "1.3-chacha20": ("TLSv1.3", "TLS_CHACHA20_POLY1305_SHA256"),
}
RSA = TLSConfig(max_version=V12, ciphers="AES128-SHA")
TLS13_LABELS = {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0", "EXPORTER_SECRET"}


def records(data: bytes) -> list[tuple[int, int]]:
    """(content type, length) of each TLS record; the stream must be whole records."""
    out = []
    off = 0
    while off < len(data):
        assert off + 5 <= len(data), "truncated record header"
        kind, length = data[off], int.from_bytes(data[off + 3:off + 5], "big")
        off += 5 + length
        out.append((kind, length))
    assert off == len(data), "truncated record"
    return out


def assert_facts(t: Transcript, version: str, cipher: str, reused: bool) -> None:
    for facts in (t.client, t.server):
        assert facts.version == version
        assert facts.cipher is not None and facts.cipher[0] == cipher
        assert facts.session_reused is reused


@pytest.mark.parametrize("name", sorted(PROFILES))
def test_transcript_facts_are_what_was_asked(name: str) -> None:
    version, cipher = EXPECTED[name]
    cfg = dataclasses.replace(PROFILES[name], exchanges=(GET,))
    first = transcript(cfg)
    assert_facts(first, version, cipher, reused=False)
    assert first.session is not None
    if version == "TLSv1.2":  # without tickets TLS 1.2 resumes by session ID
        assert first.session.has_ticket is cfg.tickets
    again = transcript(dataclasses.replace(cfg, session=first.session))
    assert_facts(again, version, cipher, reused=True)

    c2s, s2c = streams(first)
    assert first.stream(CLIENT) == c2s and first.stream(SERVER) == s2c
    assert [d for d, _ in first.flights][:2] == [CLIENT, SERVER]
    for data in (c2s, s2c):
        recs = records(data)
        kinds = [k for k, _ in recs]
        assert kinds[0] == 22 and 23 in kinds
        # close_notify last: an alert record in 1.2; in 1.3 application data of 2 + 1 + 16 (tag) bytes.
        assert recs[-1][0] == 21 if version == "TLSv1.2" else recs[-1] == (23, 19)
    # The key log is this connection's: its lines name the ClientHello's random.
    client_random = c2s[11:43].hex()
    lines = [line.split() for line in first.keylog.splitlines()]
    assert lines and all(parts[1] == client_random for parts in lines)
    labels = {parts[0] for parts in lines}
    assert labels == ({"CLIENT_RANDOM"} if version == "TLSv1.2" else TLS13_LABELS)


def test_other_choices() -> None:
    # RSA key exchange, with the server key exposed for decryption.
    t = transcript(dataclasses.replace(RSA, exchanges=(GET,)))
    assert_facts(t, "TLSv1.2", "AES128-SHA", reused=False)
    assert server_key_pem().startswith(b"-----BEGIN PRIVATE KEY-----")
    # A TLS 1.3 suite OpenSSL leaves off by default, and TLS 1.3 resumption without stateless
    # tickets (OP_NO_TICKET: stateful tickets) and without any application data.
    ccm = TLSConfig(min_version=V13, tls13_ciphersuites="TLS_AES_128_CCM_SHA256", tickets=False)
    first = transcript(ccm)
    assert_facts(first, "TLSv1.3", "TLS_AES_128_CCM_SHA256", reused=False)
    assert_facts(transcript(dataclasses.replace(ccm, session=first.session)), "TLSv1.3",
                 "TLS_AES_128_CCM_SHA256", reused=True)
    # A session belongs to its profile's contexts.
    with pytest.raises(ValueError, match="same profile"):
        transcript(dataclasses.replace(PROFILES["1.3-aes128gcm"], session=first.session))
    # No close_notify: the last flight is application data.
    t = transcript(TLSConfig(max_version=V12, exchanges=(GET,), close_notify=False))
    assert records(t.flights[-1][1])[-1][0] == 23


# --------------------------------------------------------------------------------------------
# The pcap, through tshark

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")


def request_line(request: bytes) -> tuple[str, str]:
    method, uri, _ = request.split(b"\r\n", 1)[0].decode().split(" ")
    return method, uri


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Transcript], PcapStats]:
    rng = random.Random(5)
    made: list[Transcript] = []
    for n, name in enumerate(sorted(PROFILES)):
        cfg = PROFILES[name]
        first = transcript(dataclasses.replace(cfg, exchanges=tuple(cwmp_session(rng, n, digest=n % 2 == 0))))
        fw = firmware_download(rng, rng.randrange(20_000, 60_000), f"t-{n}.bin")
        again = transcript(dataclasses.replace(cfg, exchanges=(fw,), session=first.session))
        assert again.client.session_reused
        made += [first, again]
    made.append(transcript(dataclasses.replace(RSA, exchanges=tuple(cwmp_session(rng, 99)))))
    path = tmp_path_factory.mktemp("gentls") / "small.pcap"
    stats = write_pcap(path, made, interleave=3, seed=5)
    path.with_suffix(".keys").write_text("".join(t.keylog for t in made))
    path.with_suffix(".key").write_bytes(server_key_pem())
    return path, made, stats


def tshark(pcap: Path, *args: str) -> list[list[str]]:
    assert TSHARK is not None
    out = subprocess.run([TSHARK, "-n", "-r", str(pcap), *args], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def http(pcap: Path, *args: str) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    rows = tshark(pcap, *args, "-Y", "http", "-T", "fields", "-e", "http.request.method",
                  "-e", "http.request.uri", "-e", "http.response.code")
    requests = Counter((r[0], r[1]) for r in rows if r[0])
    responses = Counter(r[2] for r in rows if r[2])
    return requests, responses


def expected_http(made: list[Transcript]) -> tuple[Counter[tuple[str, str]], Counter[str]]:
    requests = Counter(request_line(q) for t in made for q, _ in t.exchanges)
    responses = Counter(r.split(b" ", 2)[1].decode() for t in made for _, r in t.exchanges)
    return requests, responses


@needs_tshark
def test_capture_is_small_and_well_formed(capture: tuple[Path, list[Transcript], PcapStats]) -> None:
    pcap, made, stats = capture
    assert pcap.stat().st_size < 1_000_000
    assert stats.connections == len(made) == len(PROFILES) * 2 + 1
    # Proper seq/ack (no retransmission, lost segment, ...), segments of at most the MSS.
    assert tshark(pcap, "-Y", "tcp.analysis.flags || tcp.len > 1400") == []
    hellos = tshark(pcap, "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tcp.stream")
    assert len(hellos) == len(made)


@needs_tshark
def test_tshark_decrypts_every_request_with_the_key_log(
        capture: tuple[Path, list[Transcript], PcapStats]) -> None:
    pcap, made, _ = capture
    assert http(pcap, "-o", f"tls.keylog_file:{pcap.with_suffix('.keys')}") == expected_http(made)


@needs_tshark
def test_tshark_sees_no_http_without_secrets(capture: tuple[Path, list[Transcript], PcapStats]) -> None:
    pcap, _, _ = capture
    assert http(pcap) == (Counter(), Counter())


@needs_tshark
def test_tshark_decrypts_rsa_key_exchange_with_the_server_key(
        capture: tuple[Path, list[Transcript], PcapStats]) -> None:
    pcap, made, _ = capture
    rsa_only = [t for t in made if t.client.cipher and t.client.cipher[0] == "AES128-SHA"]
    key = pcap.with_suffix(".key")
    assert http(pcap, "-o", f'uat:rsa_keys:"{key}",""') == expected_http(rsa_only)
