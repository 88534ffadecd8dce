"""Credentials and challenges are parsed once, where the transaction is built, and read the same."""

from __future__ import annotations

import pickle

from decoders.auth import DigestCredentials, parse_authorization, parse_www_authenticate
from dmsniff.model import HttpMessage, Transaction
from dmsniff.pipeline.parallel import dumps
from dmsniff.protocols import parse_bodies
from dmsniff.protocols.auth import challenges, credentials

DIGEST = ('Digest username="cpe", realm="acs", nonce="n1", uri="/acs", qop=auth, nc=00000001, '
          'cnonce="c1", response="0123456789abcdef0123456789abcdef"')
CHALLENGE = 'Digest realm="acs", nonce="n2", qop="auth", stale=true, Basic realm="acs"'


def _msg(headers: list[tuple[str, str]], *, method: str | None = None,
         status: int | None = None) -> HttpMessage:
    return HttpMessage(frame=1, frames=[1], time=0.0, first_time=0.0, version="HTTP/1.1", headers=headers,
                       method=method, uri="/acs" if method else None, status=status)


def _tx(req: HttpMessage, resp: HttpMessage) -> Transaction:
    return Transaction("T1", 0, "C1", "10.0.0.2:5000", "10.0.0.1:7547", req, resp)


def test_parse_bodies_parses_credentials_and_challenges_once() -> None:
    req = _msg([("Host", "acs"), ("Authorization", DIGEST), ("Proxy-Authorization", DIGEST)], method="POST")
    resp = _msg([("WWW-Authenticate", CHALLENGE), ("Content-Length", "0")], status=401)
    parse_bodies(_tx(req, resp))
    assert req.parsed_auth is not None and len(req.parsed_auth) == 1  # the same value twice: one parse
    creds = credentials(req, DIGEST)
    assert isinstance(creds, DigestCredentials) and creds.nonce == "n1" and creds.nc == "00000001"
    assert creds == parse_authorization(DIGEST)
    assert credentials(req, DIGEST) is creds  # the verifier and the session builders share it
    chs = challenges(resp, CHALLENGE)
    assert chs == parse_www_authenticate(CHALLENGE)
    assert [c.scheme for c in chs] == ["Digest", "Basic"] and chs[0].stale


def test_only_what_is_read_is_parsed() -> None:
    req = _msg([("Host", "acs")], method="POST")
    ok = _msg([("WWW-Authenticate", CHALLENGE)], status=200)  # challenges count only on a 401 or 407
    parse_bodies(_tx(req, ok))
    assert req.parsed_auth is None and ok.parsed_auth is None


def test_a_message_nobody_parsed_is_parsed_on_demand() -> None:
    req = _msg([("Authorization", DIGEST)], method="POST")  # built by hand: parse_bodies never ran
    assert req.parsed_auth is None
    assert credentials(req, DIGEST) == parse_authorization(DIGEST)
    assert challenges(_msg([], status=401), CHALLENGE) == parse_www_authenticate(CHALLENGE)
    bad = "Digest username=\"unterminated"
    assert credentials(req, bad) == parse_authorization(bad)  # an error value, as the parser gives it


def test_the_parse_crosses_process_boundaries_with_the_message() -> None:
    req = _msg([("Authorization", DIGEST)], method="POST")
    parse_bodies(_tx(req, _msg([("WWW-Authenticate", CHALLENGE)], status=401)))
    again = pickle.loads(dumps(req))
    assert again.parsed_auth == req.parsed_auth
    assert credentials(again, DIGEST) == parse_authorization(DIGEST)
