"""TlsConnection between real peers: OpenSSL client and server in memory (``benchmarks/gentls.py``),
decoded with their own key log, the server's RSA key or a session cache; and each way a
connection stays encrypted, with the exact reason code the summary gives.
"""

from __future__ import annotations

import functools
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from benchmarks import gentls
from decoders.tls import (
    REASONS,
    AlertEvent,
    ApplicationData,
    DataLost,
    HandshakeMessage,
    KeyStore,
    OpaqueData,
    Phase,
    RsaKey,
    SessionCache,
    TlsConnection,
    load_rsa_key,
    parse_keylog,
)

from .helpers import (
    CLIENT,
    PROFILES,
    SERVER,
    SUITE_NAMES,
    client_random,
    config,
    exchanges,
    feed,
    handshake_messages,
    handshake_record,
    keystore,
    other_rsa_key_pem,
    relabel,
    run,
    sent,
    transcript,
)

ROOT = Path(__file__).resolve().parents[3]


@functools.cache
def rsa_key(pem: bytes, server: tuple[str, int] | None) -> RsaKey:
    key = load_rsa_key(pem, source="server.key", server=server)  # (loading checks the key: slow)
    assert isinstance(key, RsaKey)
    return key


def server_key(server: tuple[str, int] | None = None, pem: bytes | None = None) -> KeyStore:
    """A KeyStore holding only an RSA key: the servers' unless ``pem`` is given."""
    keys = KeyStore()
    keys.add_rsa_key(rsa_key(pem or gentls.server_key_pem(), server))
    return keys


def server_spki() -> str:
    return rsa_key(gentls.server_key_pem(), None).spki_sha256


# -- every suite, decrypted with the key log -----------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_real_peers_decrypted_with_their_key_log(profile: str) -> None:
    t = transcript(profile, 3, 1000)
    r = run(t)
    s = r.summary
    assert r.data == sent(t)
    assert (s.decrypted, s.reason, s.problems) == (True, None, ())
    tls13 = profile.startswith("1.3")
    assert s.info.version_name == ("TLS 1.3" if tls13 else "TLS 1.2")
    assert t.client.version == ("TLSv1.3" if tls13 else "TLSv1.2")
    assert s.info.suite_name == SUITE_NAMES[profile]
    assert (s.info.sni, s.info.resumed, s.info.client_direction) == ("acs.example", None, CLIENT)
    assert s.info.client_random == client_random(t)
    assert s.info.decrypting and s.info.key_source is not None
    assert s.info.key_source.startswith("key log test.keys line ")
    assert s.handshake_complete
    assert s.application_bytes == (len(sent(t)[CLIENT]), len(sent(t)[SERVER]))
    assert s.opaque_bytes == (0, 0)
    assert not r.opaque and not r.lost
    assert [(a.direction, a.name, a.encrypted) for a in s.alerts] == [(CLIENT, "close_notify", True),
                                                                      (SERVER, "close_notify", True)]
    cert = s.certificate
    assert cert is not None
    assert (cert.subject, cert.san, cert.public_key) == ("CN=acs.example", ("DNS:acs.example",), "RSA 2048")
    assert cert.spki_sha256 == server_spki()
    assert set(s.keylog_lines) <= set(t.keylog.splitlines())
    assert s.keylog_lines
    for direction in (CLIENT, SERVER):
        seqs = [e.seq for e in r.events if isinstance(e, ApplicationData) and e.direction == direction]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    if not tls13:
        cfg = PROFILES[profile]
        assert s.server_hello is not None
        assert s.server_hello.extended_master_secret is cfg.extended_master_secret
        if "cbc" in profile or "rsa" in profile:
            assert s.server_hello.encrypt_then_mac is cfg.encrypt_then_mac  # really with and without EtM


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
@pytest.mark.parametrize(("version", "name"), [(ssl.TLSVersion.TLSv1, "TLS 1.0"),
                                               (ssl.TLSVersion.TLSv1_1, "TLS 1.1")])
@pytest.mark.parametrize("etm", [True, False], ids=["etm", "mac-then-encrypt"])
def test_tls10_and_tls11_cbc_between_real_peers(version: ssl.TLSVersion, name: str, etm: bool) -> None:
    # TLS 1.0 chains its CBC IV from record to record; TLS 1.1 sends one per record.
    cfg = gentls.TLSConfig(min_version=version, max_version=version, ciphers="AES128-SHA:@SECLEVEL=0",
                           encrypt_then_mac=etm, exchanges=exchanges(3, 1000))
    t = gentls.transcript(cfg)
    for keys in (keystore(t.keylog), server_key()):
        r = run(t, keys)
        assert r.data == sent(t)
        assert (r.summary.decrypted, r.summary.reason, r.summary.info.version_name) == (True, None, name)
        assert r.summary.server_hello is not None and r.summary.server_hello.encrypt_then_mac is etm


def test_alpn_and_sni_are_reported() -> None:
    for profile in ("1.2-ecdhe-aes128gcm", "1.3-aes128gcm"):  # ServerHello / EncryptedExtensions
        t = gentls.transcript(config(profile, alpn=("http/1.1",), exchanges=exchanges(1)))
        s = run(t).summary
        assert (s.info.alpn, s.info.sni) == ("http/1.1", "acs.example")
        assert s.client_hello is not None and s.client_hello.alpn == ("http/1.1",)


def test_info_is_one_object_until_something_changes() -> None:
    t = transcript("1.3-aes128gcm", 3, 1000)
    conn = TlsConnection(keystore(t.keylog))
    feed(conn, t.flights[:2], eof=False)
    before = conn.info
    assert before is conn.info
    feed(conn, t.flights[2:])
    assert conn.info is conn.info
    assert before.cipher_suite == conn.info.cipher_suite == 0x1301


def test_a_connection_without_application_data() -> None:
    t = gentls.transcript(config("1.2-ecdhe-aes128gcm", exchanges=()))
    s = run(t).summary
    assert not s.decrypted
    assert s.reason is not None and s.reason.code == "no-application-data"
    assert s.handshake_complete and s.info.decrypting


# -- RSA key exchange ------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["1.2-rsa-aes128-sha-etm", "1.2-rsa-aes128-sha",
                                     "1.2-rsa-aes128-sha-noems"])
def test_rsa_key_exchange_with_the_server_key_alone(profile: str) -> None:
    t = transcript(profile, 3, 1000)
    r = run(t, server_key())
    assert r.data == sent(t)
    s = r.summary
    assert (s.decrypted, s.reason, s.info.key_source) == (True, None, "RSA key server.key")
    # The master secret the decoder derived is the one OpenSSL logged.
    assert s.keylog_lines == tuple(line for line in t.keylog.splitlines() if line.startswith("CLIENT_RANDOM"))


def test_rsa_key_bound_to_the_server_address() -> None:
    t = transcript("1.2-rsa-aes128-sha", 3, 1000)
    r = run(t, server_key(("192.168.0.1", 443)), server=("192.168.0.1", 443))
    assert r.data == sent(t) and r.summary.decrypted
    # Bound to another server: not tried for this one.
    r = run(t, server_key(("192.168.0.2", 443)), server=("192.168.0.1", 443))
    assert r.summary.reason is not None and r.summary.reason.code == "rsa-key-mismatch"


def test_rsa_key_exchange_with_an_rsa_premaster_key_log_line() -> None:
    # Old NSS wrote "RSA <first 8 bytes of the encrypted premaster> <premaster>".
    t = transcript("1.2-rsa-aes128-sha", 1)
    cke = handshake_messages([f for d, f in t.flights if d == CLIENT][1])[0]
    assert cke[0] == 16
    encrypted = cke[6:]
    key = serialization.load_pem_private_key(gentls.server_key_pem(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    premaster = key.decrypt(encrypted, padding.PKCS1v15())
    rsa_line = f"RSA {encrypted[:8].hex()} {premaster.hex()}"
    assert rsa_line == t.keylog.splitlines()[0]  # as OpenSSL logged it
    r = run(t, keystore(rsa_line + "\n"))
    assert r.data == sent(t)
    assert r.summary.info.key_source == "key log test.keys line 1"


def test_rsa_key_exchange_with_the_key_log() -> None:
    t = transcript("1.2-rsa-aes128-sha", 2)
    # OpenSSL logs both an RSA premaster line and the CLIENT_RANDOM line; the master secret wins.
    assert [line.split()[0] for line in t.keylog.splitlines()] == ["RSA", "CLIENT_RANDOM"]
    r = run(t)
    assert r.data == sent(t) and r.summary.info.key_source == "key log test.keys line 2"


# -- resumption ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("profile", "tickets", "how"), [
    ("1.2-ecdhe-aes128gcm", False, "session-id"),
    ("1.2-ecdhe-aes128gcm", True, "ticket"),
    ("1.2-rsa-aes128-sha", True, "ticket"),
])
def test_tls12_resumption_from_the_session_cache(profile: str, tickets: bool, how: str) -> None:
    cfg = config(profile, tickets=tickets, exchanges=exchanges(2, 500))
    full = gentls.transcript(cfg)
    resumed = gentls.transcript(config(profile, tickets=tickets, exchanges=exchanges(2, 500),
                                       session=full.session))
    assert resumed.client.session_reused
    cache = SessionCache()
    first = run(full, keystore(full.keylog), cache, name="conn-1")
    assert first.summary.decrypted and first.summary.info.resumed is None
    assert len(cache) >= 1
    # The resumed connection's own key log is not given: the master secret comes from the cache.
    r = run(resumed, keystore(full.keylog), cache)
    s = r.summary
    assert r.data == sent(resumed)
    assert (s.decrypted, s.reason, s.info.resumed) == (True, None, how)
    assert s.certificate is None and s.handshake_complete
    assert s.info.key_source is not None
    # Where the first connection's keys came from follows after a comma (one level of parentheses
    # around the whole in the reports).
    origin = f"resumed session: the session of conn-1, {first.summary.info.key_source}"
    assert s.info.key_source == origin
    # Resumed again after a connection that resumed it (which stored it in the cache again): still
    # the session whose full handshake made it, not "the session of conn-2, resumed session: ...".
    run(resumed, keystore(full.keylog), cache, name="conn-2")
    again = gentls.transcript(config(profile, tickets=tickets, exchanges=exchanges(2, 500),
                                     session=resumed.session or full.session))
    r = run(again, keystore(full.keylog), cache, name="conn-3")
    assert r.summary.decrypted and r.summary.info.key_source == origin
    # Without the cache: the reason says so.
    s = run(resumed, keystore(full.keylog), SessionCache()).summary
    assert s.info.resumed == how
    assert s.reason is not None and s.reason.code == "resumed-unknown"
    # With the resumed connection's own key log line, no cache is needed.
    r = run(resumed, keystore(resumed.keylog))
    assert r.data == sent(resumed) and r.summary.info.resumed == how


def test_tls12_resumption_of_a_session_decrypted_with_the_rsa_key() -> None:
    cfg = config("1.2-rsa-aes128-sha", tickets=False, exchanges=exchanges(1))
    full = gentls.transcript(cfg)
    resumed = gentls.transcript(config("1.2-rsa-aes128-sha", tickets=False, exchanges=exchanges(1),
                                       session=full.session))
    cache = SessionCache()
    assert run(full, server_key(), cache).summary.decrypted
    r = run(resumed, server_key(), cache)
    assert r.data == sent(resumed) and r.summary.info.resumed == "session-id"


def test_tls13_psk_resumption_with_the_key_log() -> None:
    cfg = config("1.3-aes128gcm", exchanges=exchanges(2, 500))
    full = gentls.transcript(cfg)
    resumed = gentls.transcript(config("1.3-aes128gcm", exchanges=exchanges(2, 500), session=full.session))
    assert resumed.client.session_reused
    cache = SessionCache()
    run(full, keystore(full.keylog), cache)
    r = run(resumed, keystore(resumed.keylog), cache)
    s = r.summary
    assert r.data == sent(resumed)
    assert (s.decrypted, s.reason, s.info.resumed) == (True, None, "psk")
    assert s.client_hello is not None and s.client_hello.psk_identities >= 1
    # TLS 1.3 resumption needs the resumed connection's own secrets: the first one's do not open it.
    s = run(resumed, keystore(full.keylog), cache).summary
    assert (s.info.resumed, s.reason and s.reason.code) == ("psk", "no-keylog-entry")


# -- each way to stay encrypted, with its reason --------------------------------------------------------


@pytest.mark.parametrize(("profile", "code"), [
    ("1.2-ecdhe-aes128gcm", "no-keylog-entry"),
    ("1.2-ecdhe-cbc-sha256", "no-keylog-entry"),
    ("1.3-aes256gcm", "no-keylog-entry"),
    ("1.2-rsa-aes128-sha", "rsa-key-needed"),
])
def test_no_key(profile: str, code: str) -> None:
    t = transcript(profile, 3, 1000)
    r = run(t, KeyStore())
    s = r.summary
    assert s.reason is not None and s.reason.code == code
    # One line for people: no key log at all is said as such (the fix is to give one), with the
    # client random still there to look it up by.
    short = client_random(t)[:4].hex()
    assert s.reason.text.startswith(f"no key log entries, given or in the capture (client random {short}…); ")
    assert "\n" not in s.reason.text
    assert not s.decrypted and not s.info.decrypting and s.info.key_source is None
    assert r.data == {CLIENT: b"", SERVER: b""}
    assert s.application_bytes == (0, 0)
    # Nothing is dropped silently: every application data record is an OpaqueData event.
    assert len([e for e in r.opaque if e.direction == SERVER]) >= 3
    assert sum(e.length for e in r.opaque) <= sum(s.opaque_bytes)
    assert s.opaque_bytes[CLIENT] > len(sent(t)[CLIENT]) and s.opaque_bytes[SERVER] > len(sent(t)[SERVER])
    # The handshake in the clear is still read.
    names = [e.name for e in r.events if isinstance(e, HandshakeMessage)]
    assert names[:2] == ["ClientHello", "ServerHello"]
    assert s.info.suite_name == SUITE_NAMES[profile]


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.3-aes256gcm", "1.2-rsa-aes128-sha"])
def test_another_connections_key_log_names_the_missing_client_random(profile: str) -> None:
    t = transcript(profile, 1)
    other = gentls.transcript(config(profile, exchanges=exchanges(1)))
    s = run(t, keystore(other.keylog)).summary
    short = client_random(t)[:4].hex()
    assert s.reason is not None and s.reason.code in ("no-keylog-entry", "rsa-key-needed")
    assert s.reason.text.startswith(f"no key log entry for client random {short}…; ")


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-chacha20", "1.2-ecdhe-cbc-sha256-etm",
                                     "1.2-ecdhe-cbc-sha384", "1.2-rsa-aes128-sha", "1.3-aes128gcm",
                                     "1.3-chacha20"])
def test_another_connections_key_log_relabelled(profile: str) -> None:
    t = transcript(profile, 3, 1000)
    other = gentls.transcript(config(profile, exchanges=exchanges(1)))
    r = run(t, keystore(relabel(other.keylog, client_random(t))))
    s = r.summary
    assert s.reason is not None and s.reason.code == "bad-record-mac"
    assert not s.decrypted and r.data == {CLIENT: b"", SERVER: b""}
    assert s.info.key_source is not None  # the keys were found, they just do not fit


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.3-aes128gcm"])
def test_a_truncated_secret_is_refused_by_the_parser(profile: str) -> None:
    t = transcript(profile, 1)
    text = "".join(line[:-2] + "\n" for line in t.keylog.splitlines())  # one hex digit pair short
    parsed = parse_keylog(text.encode())
    assert parsed.entries == ()
    assert len(parsed.problems) == len(t.keylog.splitlines())
    assert all("(truncated?)" in p for p in parsed.problems)
    keys = KeyStore()
    keys.add_keylog(parsed)
    s = run(t, keys).summary
    assert s.reason is not None and s.reason.code == "no-keylog-entry"


def test_a_key_log_with_garbage_lines_still_decrypts() -> None:
    t = transcript("1.3-aes128gcm", 2)
    garbage = ["this is not a key log line", "CLIENT_RANDOM zz", "\x00\x01\x02", "# a comment", "",
               f"CLIENT_RANDOM {client_random(t).hex()} {'00' * 47}"]
    lines = t.keylog.splitlines()
    mixed = [x for pair in zip(garbage, lines + [""] * len(garbage), strict=False) for x in pair]
    parsed = parse_keylog("\n".join(mixed).encode(), source="mixed.keys")
    assert len(parsed.entries) == len([x for x in lines if not x.startswith("EXPORTER_SECRET")])
    assert len(parsed.problems) == 4  # the comment and the blank line are not problems
    assert [p.split(":", 1)[0] for p in parsed.problems] == ["line 1", "line 3", "line 5", "line 11"]
    keys = KeyStore()
    keys.add_keylog(parsed)
    r = run(t, keys)
    assert r.data == sent(t) and r.summary.decrypted


def test_a_wrong_rsa_key() -> None:
    t = transcript("1.2-rsa-aes128-sha", 2)
    s = run(t, server_key(pem=other_rsa_key_pem())).summary
    assert s.reason is not None and s.reason.code == "rsa-key-mismatch"
    assert s.reason.text == REASONS["rsa-key-mismatch"]


def without_certificate(t: gentls.Transcript) -> list[tuple[int, bytes]]:
    """The transcript's flights with the Certificate message taken out of the server's first flight."""
    flights = list(t.flights)
    index = next(i for i, (d, _) in enumerate(flights) if d == SERVER)
    messages = handshake_messages(flights[index][1])
    assert [m[0] for m in messages] == [2, 11, 14]  # ServerHello, Certificate, ServerHelloDone
    flights[index] = (SERVER, handshake_record([messages[0], messages[2]]))
    return flights


def test_a_wrong_rsa_key_and_no_certificate_to_match_it_against() -> None:
    t = transcript("1.2-rsa-aes128-sha-noems", 2)
    conn = TlsConnection(server_key(pem=other_rsa_key_pem()))
    feed(conn, without_certificate(t))
    s = conn.summary()
    assert s.certificate is None
    assert s.reason is not None and s.reason.code == "rsa-decrypt-failed"
    # The right key opens the same certificate-less transcript (no extended master secret here, so
    # the missing message does not change the keys).
    conn = TlsConnection(server_key())
    events = feed(conn, without_certificate(t))
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData) and e.direction == SERVER) \
        == sent(t)[SERVER]
    assert conn.summary().decrypted


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-cbc-sha256"])
def test_an_rsa_key_for_an_ecdhe_session(profile: str) -> None:
    s = run(transcript(profile, 1), server_key()).summary
    assert s.reason is not None and s.reason.code == "rsa-key-not-rsa-kex"


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-rsa-aes128-sha", "1.3-aes128gcm"])
def test_a_stream_starting_mid_connection(profile: str) -> None:
    t = transcript(profile, 4, 1000)
    # From the second request on: the handshake (and the first exchange) are not in the capture.
    starts = [i for i, (d, f) in enumerate(t.flights) if d == CLIENT and f[0] == 23]
    later = t.flights[starts[-2]:]
    conn = TlsConnection(keystore(t.keylog), SessionCache())
    events = feed(conn, later)
    s = conn.summary()
    assert s.reason is not None and s.reason.code == "no-handshake"
    assert conn.phase is Phase.MIDSTREAM
    assert not [e for e in events if isinstance(e, ApplicationData)]
    assert [e for e in events if isinstance(e, OpaqueData)]
    assert s.client_hello is None and s.info.version is None


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-chacha20", "1.2-ecdhe-cbc-sha256-etm",
                                     "1.2-ecdhe-cbc-sha256", "1.2-rsa-aes128-sha", "1.3-aes256gcm"])
def test_one_record_with_its_tag_flipped(profile: str) -> None:
    t = transcript(profile, 5, 1000)
    clean = run(t)
    ends = clean.ends(SERVER)
    assert len(ends) == 5
    target = ends[2] - 1  # the last byte of the third response's record: its tag (or MAC, or padding)
    stream = bytearray(t.stream(SERVER))
    stream[target] ^= 0x80
    r = run(t, streams={SERVER: bytes(stream)})
    assert r.ends(SERVER) == ends[:2] + ends[3:]  # the others open
    got = [e.data for e in r.events if isinstance(e, ApplicationData) and e.direction == SERVER]
    want = [resp for _, resp in t.exchanges]
    assert got == want[:2] + want[3:]
    (opaque,) = r.opaque
    assert (opaque.direction, opaque.end) == (SERVER, ends[2])
    assert r.data[CLIENT] == sent(t)[CLIENT]
    s = r.summary
    assert not s.decrypted
    assert s.reason is not None and s.reason.code == "damaged-record"


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.2-ecdhe-chacha20", "1.2-ecdhe-cbc-sha256-etm",
                                     "1.2-ecdhe-cbc-sha384", "1.3-aes128gcm", "1.3-chacha20"])
def test_a_capture_gap_inside_application_data(profile: str) -> None:
    t = transcript(profile, 6, 1000)
    ends = run(t).ends(SERVER)
    # The capture loses the server's stream from 10 bytes into the third response's record to
    # 5 bytes before the end of the fourth: both are lost, the fifth and sixth must open again.
    gap = (SERVER, ends[1] + 10, ends[3] - 5)
    r = run(t, gaps=[gap])
    got = [e.data for e in r.events if isinstance(e, ApplicationData) and e.direction == SERVER]
    want = [resp for _, resp in t.exchanges]
    assert got == want[:2] + want[4:]
    assert r.ends(SERVER) == ends[:2] + ends[4:]
    assert r.data[CLIENT] == sent(t)[CLIENT]
    (lost,) = r.lost
    assert lost.direction == SERVER
    assert ends[3] <= lost.end <= ends[4]
    if "cbc" not in profile:  # AEAD: a fixed expansion per record, so the loss is known exactly
        assert lost.length == len(want[2]) + len(want[3])
    else:
        assert lost.length is None or lost.length >= len(want[2]) + len(want[3])


@pytest.mark.parametrize("profile", ["1.2-ecdhe-aes128gcm", "1.3-aes128gcm"])
def test_the_reason_after_a_resynchronised_gap(profile: str) -> None:
    t = transcript(profile, 6, 1000)
    ends = run(t).ends(SERVER)
    r = run(t, gaps=[(SERVER, ends[1] + 10, ends[3] - 5)])
    s = r.summary
    # The records after the gap decrypt again; what the gap cut is named as such.
    assert s.reason is not None and s.reason.code == "capture-gap", s.reason
    assert any(isinstance(e, DataLost) for e in r.events)


def test_a_gap_in_the_handshake_is_a_problem_not_a_crash() -> None:
    t = transcript("1.2-ecdhe-aes128gcm", 2)
    r = run(t, gaps=[(SERVER, 200, 300)])  # inside the server's certificate
    s = r.summary
    assert any("capture gap of 100 bytes in the server's handshake" in p for p in s.problems)
    # With the key log the lost handshake bytes do not matter: the keys come from the randoms.
    assert r.data == sent(t) and s.decrypted
    assert s.certificate is None


def test_a_gap_after_the_handshake_when_the_key_log_lacks_the_application_secret() -> None:
    t = transcript("1.3-aes128gcm", 3, 1000)
    keylog = "".join(line + "\n" for line in t.keylog.splitlines() if not line.startswith("CLIENT_TRAFFIC"))
    ends = run(t).ends(CLIENT)
    r = run(t, keystore(keylog), gaps=[(CLIENT, ends[0] + 10, ends[1] - 5)])
    assert r.summary.reason is not None


def test_application_data_events_name_the_end_of_their_record() -> None:
    t = transcript("1.2-ecdhe-cbc-sha256", 3, 1000)
    r = run(t)
    stream = t.stream(SERVER)
    offsets = []
    pos = 0
    while pos < len(stream):
        pos += 5 + int.from_bytes(stream[pos + 3:pos + 5], "big")
        offsets.append(pos)
    assert set(r.ends(SERVER)) <= set(offsets)
    alerts = [e for e in r.events if isinstance(e, AlertEvent) and e.alert.direction == SERVER]
    assert [a.end for a in alerts] == [len(stream)]


def test_keys_that_arrive_while_decoding() -> None:
    # A live capture: the key log grows while the connection is decoded.  Records wait for their
    # keys (bounded), and are decrypted once refresh() brings them.
    class Growing(KeyStore):
        def __init__(self, text: str, after: int) -> None:
            super().__init__()
            self.growing = True
            self.text, self.after, self.calls = text, after, 0

        def refresh(self) -> None:
            self.calls += 1
            if self.calls == self.after:
                self.add_keylog(parse_keylog(self.text.encode()))

    for profile in ("1.2-ecdhe-aes128gcm", "1.3-aes128gcm"):
        t = transcript(profile, 3, 1000)
        for after in (2, 4):
            r = run(t, Growing(t.keylog, after))
            assert r.data == sent(t)
            assert r.summary.decrypted
        # Keys that never come: what was held is counted as opaque at the end.
        never = Growing(t.keylog, 10**9)
        s = run(t, never).summary
        assert s.reason is not None and s.reason.code == "no-keylog-entry"
        assert s.opaque_bytes[SERVER] > len(sent(t)[SERVER])


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")
def test_data_lost_is_reported_when_a_chained_cipher_cannot_resume() -> None:
    # TLS 1.0 CBC chains its IV across records: after a gap the direction cannot resume.
    cfg = gentls.TLSConfig(min_version=ssl.TLSVersion.TLSv1, max_version=ssl.TLSVersion.TLSv1,
                           ciphers="AES128-SHA:@SECLEVEL=0", exchanges=exchanges(4, 1000))
    t = gentls.transcript(cfg)
    # (OpenSSL sends an empty record before each one, its 0/n split against BEAST.)
    clean = run(t).events
    ends = [e.end for e in clean if isinstance(e, ApplicationData) and e.direction == SERVER and e.data]
    r = run(t, gaps=[(SERVER, ends[1] + 10, ends[1] + 20)])
    assert r.data[SERVER] == b"".join(resp for _, resp in t.exchanges[:2])
    (lost,) = [e for e in r.events if isinstance(e, DataLost)]
    assert lost.length is None
    assert r.summary.reason is not None and r.summary.reason.code == "lost-sync"


def test_encrypted_traffic_without_a_handshake_does_not_load_cryptography() -> None:
    # A connection caught after its handshake, with no keys: records are framed and counted, and
    # nothing needs cryptography, whose import (about 0.1 s) every -j worker that met such a
    # connection used to pay.  The first handshake message, certificate or key loads it.
    code = (
        "import sys\n"
        "from decoders.tls import TlsConnection\n"
        "conn = TlsConnection()\n"
        "record = bytes([23, 3, 3, 0, 5]) + b'hello'\n"
        "events = conn.receive_data(0, record * 2) + conn.receive_data(1, record)\n"
        "print(sorted({type(e).__name__ for e in events}), 'cryptography' in sys.modules)\n"
        "conn = TlsConnection()\n"
        "conn.receive_data(0, bytes([22, 3, 1, 0, 4]) + bytes([1, 0, 0, 0]))\n"
        "print('cryptography' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.splitlines() == ["['OpaqueData'] False", "True"]
