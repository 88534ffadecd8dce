"""Suites OpenSSL here still negotiates at security level 0, between real peers in memory
(``benchmarks/gentls.py``): the decoder opens every record with the key log alone."""

from __future__ import annotations

import ssl

import pytest

from benchmarks import gentls
from decoders.tls import ApplicationData, KeyStore, TlsConnection, parse_keylog

REQUEST = b"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Length: 5\r\n\r\nhello"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


@pytest.mark.parametrize(("ciphers", "iana"), [
    ("CAMELLIA128-SHA", "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"),
    ("CAMELLIA256-SHA256", "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA256"),
    ("NULL-SHA", "TLS_RSA_WITH_NULL_SHA"),
    ("NULL-SHA256", "TLS_RSA_WITH_NULL_SHA256"),
    ("AES128-CCM", "TLS_RSA_WITH_AES_128_CCM"),
    ("AES128-CCM8", "TLS_RSA_WITH_AES_128_CCM_8"),
    ("ECDHE-RSA-AES256-SHA384", "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"),
])
def test_suite_between_real_peers(ciphers: str, iana: str) -> None:
    cfg = gentls.TLSConfig(max_version=ssl.TLSVersion.TLSv1_2, ciphers=f"{ciphers}:@SECLEVEL=0",
                           exchanges=((REQUEST, RESPONSE),))
    t = gentls.transcript(cfg)
    keys = KeyStore()
    keys.add_keylog(parse_keylog(t.keylog.encode()))
    conn = TlsConnection(keys)
    got = {0: b"", 1: b""}
    for direction, flight in t.flights:
        for ev in conn.receive_data(direction, flight):
            if isinstance(ev, ApplicationData):
                got[ev.direction] += ev.data
    s = conn.summary()
    assert s.info.suite_name == iana
    assert (s.decrypted, s.reason) == (True, None)
    assert got == {0: REQUEST, 1: RESPONSE}
