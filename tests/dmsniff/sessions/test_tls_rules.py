"""The TLS rules (dmsniff/sessions/tls.py), each fired and not fired on TlsFacts built directly."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from decoders.tls import Alert, CertificateInfo, ClientHello, ServerHello, TlsInfo, TlsSummary
from dmsniff.model import TlsFacts
from dmsniff.sessions.tls import RULES, check, findings, names_host, url_host

T0 = 1_800_000_000.0  # the connection's time
HOST = "acs.example.net"

CERT = CertificateInfo(
    subject=f"CN={HOST}", issuer="CN=Test CA", san=(f"DNS:{HOST}",), not_before="2026-01-01T00:00:00Z",
    not_after="2028-01-01T00:00:00Z", not_before_ts=T0 - 86400 * 300, not_after_ts=T0 + 86400 * 300,
    serial="01", public_key="RSA 2048", spki_sha256="00" * 32, sha256="11" * 32, chain_length=1,
)


def facts(*, version: int = 0x0303, sni: str | None = HOST, cert: CertificateInfo | None = CERT,
          alerts: tuple[Alert, ...] = (), renegotiations: int = 0, compression: int = 0,
          hello: bool = True) -> TlsFacts:
    ch = ClientHello(version=0x0303, random=b"\0" * 32, session_id=b"", cipher_suites=(0xC02F,),
                     compression_methods=(0,), extensions=(), sni=sni) if hello else None
    sh = ServerHello(version=min(version, 0x0303), random=b"\1" * 32, session_id=b"", cipher_suite=0xC02F,
                     compression_method=compression, extensions=())
    info = TlsInfo(version=version, cipher_suite=0xC02F, sni=sni, alpn=None, client_random=b"\0" * 32,
                   resumed=None, decrypting=True, key_source="key log", client_direction=0)
    summary = TlsSummary(info=info, client_hello=ch, server_hello=sh, certificate=cert, decrypted=True,
                         reason=None, records=(5, 5), application_bytes=(100, 100), opaque_bytes=(0, 0),
                         alerts=alerts, hello_retry=False, renegotiations=renegotiations, key_updates=(0, 0),
                         compression=compression, handshake_complete=True, keylog_lines=(),
                         problems=())
    hellos = [4, 40] if renegotiations else [4]
    return TlsFacts(connection="C1", capture=0, client="192.0.2.7:50000", server="198.51.100.1:443",
                    client_direction=0, summary=summary,
                    frames={"ClientHello": hellos, "ServerHello": [6], "Certificate": [6]},
                    first_frame=4, last_frame=50, first_time=T0, last_time=T0 + 1, http=True,
                    alert_frames=[48] * len(alerts))


def codes(t: TlsFacts, protocol: str | None = "cwmp", host: str | None = HOST) -> list[str]:
    return [code for code, _msg, _frames in check(t, protocol, host)]


def cert(**changes: Any) -> CertificateInfo:
    return dataclasses.replace(CERT, **changes)


def test_a_clean_connection_breaks_no_rule() -> None:
    assert codes(facts()) == []
    assert codes(facts(version=0x0304)) == []


@pytest.mark.parametrize(("version", "fired"), [(0x0300, True), (0x0301, True), (0x0302, True),
                                                (0x0303, False), (0x0304, False)])
def test_old_version(version: int, fired: bool) -> None:
    assert ("tls.old-version" in codes(facts(version=version))) is fired
    # Only for a connection that carried a device-management session: a browser's is not ours to judge.
    assert "tls.old-version" not in codes(facts(version=version), protocol=None)


def test_sni_missing() -> None:
    assert codes(facts(sni=None)) == ["tls.sni-missing"]
    by_ip = facts(sni=None, cert=cert(san=("IP:192.0.2.1",)))
    assert codes(by_ip, host="192.0.2.1") == []  # an ACS URL with an IP address needs no SNI
    assert codes(facts(sni=None), protocol=None) == []
    assert codes(facts(sni=None, hello=False)) == []  # no ClientHello seen: nothing to say


def test_sni_mismatch() -> None:
    assert codes(facts(sni="other.example.net"))[:1] == ["tls.sni-mismatch"]
    assert codes(facts(sni="ACS.Example.NET.")) == []  # case and a trailing dot do not matter


def test_certificate_validity() -> None:
    assert codes(facts(cert=cert(not_after_ts=T0 - 1))) == ["tls.certificate-expired"]
    assert codes(facts(cert=cert(not_before_ts=T0 + 1))) == ["tls.certificate-not-yet-valid"]
    assert codes(facts(cert=cert(not_after_ts=T0 + 1, not_before_ts=T0 - 1))) == []
    assert codes(facts(cert=None)) == []  # TLS 1.3 keeps the certificate encrypted without keys


def test_certificate_name_mismatch() -> None:
    assert codes(facts(cert=cert(san=("DNS:other.example.net",)))) == ["tls.certificate-name-mismatch"]
    assert codes(facts(cert=cert(san=("DNS:*.example.net",)))) == []
    assert codes(facts(cert=cert(san=(), subject=f"CN={HOST},O=Lab"))) == []  # no SAN: the CN
    assert not names_host(("DNS:*.example.net",), "", "a.b.example.net")  # one label only
    assert names_host(("IP:192.0.2.1",), "", "192.0.2.1")


def test_fatal_alert() -> None:
    fatal = Alert(direction=1, level=2, description=42, encrypted=False)  # bad_certificate
    warning = Alert(direction=0, level=1, description=0, encrypted=False)  # close_notify
    out = check(facts(alerts=(fatal,)), "cwmp", HOST)
    assert [(c, f) for c, _m, f in out] == [("tls.fatal-alert", [48])]
    assert "from the server" in out[0][1]
    assert codes(facts(alerts=(warning,))) == []


def test_renegotiation_and_compression() -> None:
    out = check(facts(renegotiations=1), "cwmp", HOST)
    assert [(c, f) for c, _m, f in out] == [("tls.renegotiation", [40])]
    assert codes(facts(compression=1)) == ["tls.compression"]


def test_findings_carry_the_rules_severity_and_reference() -> None:
    t = facts(version=0x0301, sni=None)
    out = findings(t, "omadm", HOST, "D7")
    assert t.checked
    assert [(f.code, f.severity, f.session) for f in out] == [
        ("tls.old-version", "warning", "D7"), ("tls.sni-missing", "warning", "D7")]
    assert all(f.reference == RULES[f.code].reference for f in out)
    assert "DM client" in out[0].message


def test_url_host() -> None:
    assert url_host("ACS.example.net:7547") == "acs.example.net"
    assert url_host("[2001:db8::1]:443") == "2001:db8::1"
    assert url_host(None) is None
