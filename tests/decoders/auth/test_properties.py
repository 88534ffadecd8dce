"""Hypothesis: verify_digest agrees with an independent reimplementation; parsers never raise."""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from decoders.auth import (
    AuthParseError,
    BasicCredentials,
    Challenge,
    DigestCredentials,
    SyncmlHmac,
    mac_matches,
    parse_authentication_info,
    parse_authorization,
    parse_syncml_basic,
    parse_syncml_hmac,
    parse_www_authenticate,
    verify_digest,
    verify_rspauth,
)

from .helpers import authorization, on_the_wire, reference_response
from .test_rfc_vectors import RFC2617_AUTHORIZATION, RFC2617_CHALLENGE, RFC7616_392_CHALLENGE

SEVERITIES = {"error", "warning", "info"}

# Header text can hold anything but control characters (a header line cannot carry them).
header_text = st.text(st.characters(blacklist_categories=("Cc", "Cs")), max_size=24)
ALGORITHMS = ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]


@settings(max_examples=300, deadline=None)
@given(
    user=header_text,
    realm=header_text,
    password=st.text(max_size=24),
    other=st.text(max_size=24),
    nonce=header_text,
    cnonce=header_text,
    nc=st.integers(1, 2**32 - 1).map(lambda n: f"{n:08x}"),
    algorithm=st.sampled_from(ALGORITHMS),
    send_algorithm=st.booleans(),
    qop=st.sampled_from([None, "auth", "auth-int"]),
    method=st.sampled_from(["GET", "POST", "PUT"]),
    uri=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=24),
    body=st.binary(max_size=32),
)
def test_verify_digest_agrees_with_a_reimplementation(
    user: str,
    realm: str,
    password: str,
    other: str,
    nonce: str,
    cnonce: str,
    nc: str,
    algorithm: str,
    send_algorithm: bool,
    qop: str | None,
    method: str,
    uri: str,
    body: bytes,
) -> None:
    assume(other != password)
    if not send_algorithm and algorithm != "MD5":
        algorithm = "MD5"  # an absent algorithm means MD5
    cnonce = cnonce if qop else ""  # no cnonce is sent without qop
    response = reference_response(algorithm, user, realm, password, nonce, cnonce, nc, qop, method, uri, body)
    value = authorization(
        user=user, realm=realm, nonce=nonce, uri=uri, response=response,
        algorithm=algorithm if send_algorithm else None, qop=qop, nc=nc, cnonce=cnonce,
    )  # fmt: skip
    creds = parse_authorization(on_the_wire(value))
    assert isinstance(creds, DigestCredentials), creds
    assert (creds.username, creds.realm, creds.nonce, creds.uri, creds.algorithm) == (
        user, realm, nonce, uri, algorithm,
    )  # fmt: skip
    verdict = verify_digest(creds, password, method, uri, body, realm=realm, username=user)
    assert verdict.valid and verdict.reason is None, verdict
    assert verdict.ha1 is not None
    wrong = verify_digest(creds, other, method, uri, body, realm=realm, username=user)
    assert (wrong.valid, wrong.reason) == (False, "password mismatch"), wrong
    assert verify_rspauth(creds, password, "0" * 8) is False


def check_problems(problems: tuple[str, ...]) -> None:
    assert all(p.split(": ", 1)[0] in SEVERITIES for p in problems), problems


SEEDS = [
    RFC2617_AUTHORIZATION,
    RFC2617_CHALLENGE,
    RFC7616_392_CHALLENGE,
    'Digest username="a\\"b", realm="x,y", qop="auth,auth-int", nc="00000001", opaque="(null)"',
    "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==",
    "Negotiate abc==, Basic realm=\"r\", Digest username*=UTF-8''%C3%A4",
    'algorithm=MD5, username="dmuser", mac=abc=',
]


@st.composite
def mutated(draw: st.DrawFn) -> str:
    text = list(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        pos = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "truncate"]))
        if op == "insert":
            chunk = draw(
                st.sampled_from(['"', "\\", ",", "=", ";", " ", "\r\n", "*", "'", "%"]) | st.text(max_size=4)
            )
            text[pos:pos] = list(chunk)
        elif op == "delete":
            del text[pos : pos + draw(st.integers(1, 8))]
        else:
            del text[pos:]
    return "".join(text)


any_text = st.text(max_size=200) | mutated()


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_parse_authorization_never_raises(value: str) -> None:
    result = parse_authorization(value)
    assert isinstance(result, BasicCredentials | DigestCredentials | AuthParseError)
    if isinstance(result, AuthParseError):
        assert not result.reason.startswith("internal")
    if isinstance(result, BasicCredentials | DigestCredentials):
        check_problems(result.problems)
    if isinstance(result, DigestCredentials):
        _ = result.identity
        verdict = verify_digest(result, "pw", "GET", "/", realm="r", username="u", first_cnonce="c")
        assert verdict.reason is None or not verdict.reason.startswith("internal")
        assert verify_rspauth(result, "pw", value) in (True, False)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_parse_www_authenticate_never_raises(value: str) -> None:
    for challenge in parse_www_authenticate(value):
        assert isinstance(challenge, Challenge)
        check_problems(challenge.problems)
        assert not any(p.startswith("error: internal") for p in challenge.problems)


@settings(max_examples=500, deadline=None)
@given(any_text)
def test_syncml_and_info_parsers_never_raise(value: str) -> None:
    result = parse_syncml_hmac(value)
    assert isinstance(result, SyncmlHmac | AuthParseError)
    if isinstance(result, SyncmlHmac):
        check_problems(result.problems)
        assert result.mac
    else:
        assert not result.reason.startswith("internal")
    assert isinstance(parse_authentication_info(value), dict)
    assert parse_syncml_basic(value) is None or isinstance(parse_syncml_basic(value), tuple)
    assert mac_matches(value, b"\0" * 16) in (None, "b64-raw", "b64-hex", "hex")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40), st.binary(min_size=16, max_size=16))
def test_mac_matches_on_bytes_never_raises(data: bytes, expected: bytes) -> None:
    assert mac_matches(data, expected) in (None, "raw", "b64-raw", "b64-hex", "hex")
    assert mac_matches(expected, expected) == "raw"
