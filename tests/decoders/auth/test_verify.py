"""verify_digest and verify_rspauth: the variants seen in the field, each named in the verdict."""

from __future__ import annotations

import hashlib

import pytest
from requests.auth import HTTPDigestAuth

from decoders.auth import (
    DigestCredentials,
    digest_ha1,
    digest_rspauth,
    parse_authentication_info,
    parse_authorization,
    verify_digest,
    verify_rspauth,
)

from .helpers import authorization, on_the_wire, reference_response

USER, REALM, PASSWORD = "cpe-001", "GenieACS", "s3cret"
NONCE, CNONCE, NC = "b7e5c3a1d2f4", "0a4f113b", "00000001"


def creds_for(
    uri: str = "/cwmp",
    *,
    algorithm: str = "MD5",
    qop: str | None = "auth",
    method: str = "POST",
    hashed_uri: str | None = None,
    password: str = PASSWORD,
    body: bytes = b"",
    sess_cnonce: str | None = None,
    response: str | None = None,
    send_algorithm: bool = True,
    extra: str = "",
) -> DigestCredentials:
    """Credentials whose response the reference computed over ``hashed_uri`` (default: ``uri``)."""
    if response is None:
        response = reference_response(
            # Without qop no cnonce is sent, so a -sess HA1 hashes an empty one.
            algorithm, USER, REALM, password, NONCE, CNONCE if qop else "", NC,
            None if qop is None else qop.strip('"'), method, hashed_uri or uri, body, sess_cnonce=sess_cnonce,
        )  # fmt: skip
    value = authorization(
        user=USER, realm=REALM, nonce=NONCE, uri=uri, response=response,
        algorithm=algorithm if send_algorithm else None, qop=qop, nc=NC, cnonce=CNONCE, extra=extra,
    )  # fmt: skip
    creds = parse_authorization(value)
    assert isinstance(creds, DigestCredentials), creds
    return creds


@pytest.mark.parametrize(
    "algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess"]
)
@pytest.mark.parametrize("qop", [None, "auth", "auth-int"])
def test_every_algorithm_and_qop(algorithm: str, qop: str | None) -> None:
    body = b"<soap-env:Envelope/>"
    creds = creds_for(algorithm=algorithm, qop=qop, body=body)
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp", body)
    assert verdict.valid and verdict.reason is None and verdict.notes == (), verdict
    assert verify_digest(creds, "wrong", "POST", "/cwmp", body).reason == "password mismatch"
    assert verify_digest(creds, PASSWORD, "GET", "/cwmp", body).reason == "password mismatch"
    if qop == "auth-int":
        assert verify_digest(creds, PASSWORD, "POST", "/cwmp", b"other").reason == "password mismatch"


def test_algorithm_absent_means_md5() -> None:
    creds = creds_for(send_algorithm=False)
    assert (creds.algorithm, creds.algorithm_raw) == ("MD5", None)
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp").valid


def test_uri_field_without_the_query_string() -> None:
    # mechanize#31 / urllib#396: the client hashes and sends the path without "?query".
    creds = creds_for("/cwmp")
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp?session=42")
    assert (verdict.valid, verdict.reason) == (False, "uri mismatch")
    assert any("lacks the query string" in note for note in verdict.notes)
    assert verdict.ha1 == digest_ha1("MD5", USER, REALM, PASSWORD)


def test_uri_field_of_another_resource() -> None:
    verdict = verify_digest(creds_for("/other"), PASSWORD, "POST", "/cwmp")
    assert (verdict.valid, verdict.reason) == (False, "uri mismatch")
    assert any("not the request line" in note for note in verdict.notes)


def test_absolute_form_request_line_with_origin_form_uri_field() -> None:
    # RFC 7616 §3.4.6: the same resource, once through a proxy: valid, with a note.
    verdict = verify_digest(creds_for("/cwmp?x=1"), PASSWORD, "POST", "http://acs.example:7547/cwmp?x=1")
    assert verdict.valid and verdict.reason is None
    assert any("origin-form" in note for note in verdict.notes)


def test_client_hashed_the_request_line_but_sent_another_uri_field() -> None:
    creds = creds_for("/cwmp", hashed_uri="/cwmp?x=1")
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp?x=1")
    assert verdict.valid
    assert any("differs from the request line" in note for note in verdict.notes)


def test_realm_mismatch_still_computes() -> None:
    creds = creds_for()
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp", realm="OpenACS")
    assert (verdict.valid, verdict.reason) == (False, "realm mismatch")
    assert "the response matches the password with the values as sent" in verdict.notes
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp", realm=REALM).valid


def test_username_mismatch() -> None:
    creds = creds_for()
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp", username="admin")
    assert (verdict.valid, verdict.reason) == (False, "username mismatch")
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp", username=USER).valid
    both = verify_digest(creds, "nope", "POST", "/cwmp", username="admin", realm="x")
    assert both.reason == "username mismatch"
    assert "the password does not reproduce the response either" in both.notes


def test_md5_sess_ha1_from_the_first_cnonce() -> None:
    # RFC 2617 §3.2.2.2: the session key comes from the first request's cnonce and is reused.
    creds = creds_for(algorithm="MD5-sess", sess_cnonce="first-cnonce")
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp").reason == "password mismatch"
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp", first_cnonce="first-cnonce")
    assert verdict.valid
    assert verdict.notes == ("MD5-sess HA1 from the first cnonce",)
    base = digest_ha1("MD5", USER, REALM, PASSWORD)
    assert verdict.ha1 == digest_ha1("MD5-sess", "", "", "", NONCE, "first-cnonce", ha1_base=base)


def test_md5_sess_per_request_cnonce_is_tried_first() -> None:
    verdict = verify_digest(creds_for(algorithm="MD5-sess"), PASSWORD, "POST", "/cwmp", first_cnonce="older")
    assert verdict.valid and verdict.notes == ()


def test_qop_option_list_echoed_and_hashed_verbatim() -> None:
    creds = creds_for(qop='"auth,auth-int"')
    assert creds.qop == "auth,auth-int"
    assert any("option list echoed" in q for q in creds.quirks)
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp")
    assert verdict.valid and verdict.notes == ()


def test_qop_option_list_echoed_but_auth_hashed() -> None:
    response = reference_response("MD5", USER, REALM, PASSWORD, NONCE, CNONCE, NC, "auth", "POST", "/cwmp")
    creds = creds_for(qop='"auth,auth-int"', response=response)
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp")
    assert verdict.valid
    assert verdict.notes == ("hashed with qop 'auth' although 'auth,auth-int' was sent",)


def test_uppercase_hex_response() -> None:
    response = reference_response("MD5", USER, REALM, PASSWORD, NONCE, CNONCE, NC, "auth", "POST", "/cwmp")
    creds = creds_for(response=response.upper())
    assert "response in uppercase hex" in creds.quirks
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp")
    assert verdict.valid and "response in uppercase hex" in verdict.notes


def test_auth_int_without_a_body_is_noted() -> None:
    verdict = verify_digest(creds_for(qop="auth-int"), PASSWORD, "POST", "/cwmp")
    assert verdict.valid and verdict.notes == ("auth-int checked against an empty body",)


@pytest.mark.parametrize("response", ["", "xyz", "abc", "0" * 31, "0" * 64, "g" * 32])
def test_malformed_response(response: str) -> None:
    verdict = verify_digest(creds_for(response=response), PASSWORD, "POST", "/cwmp")
    assert (verdict.valid, verdict.reason) == (False, "malformed response")


def test_sha256_length_response_with_md5_is_explained() -> None:
    verdict = verify_digest(creds_for(response="0" * 64), PASSWORD, "POST", "/cwmp")
    assert verdict.notes == ("response has 64 hex digits, MD5 gives 32",)


def test_unsupported_algorithm() -> None:
    creds = creds_for(response="0" * 32, algorithm="MD5", extra="")
    value = authorization(user=USER, realm=REALM, nonce=NONCE, uri="/", response="0" * 40, algorithm="SHA-1")
    odd = parse_authorization(value)
    assert isinstance(odd, DigestCredentials)
    assert odd.algorithm == "SHA-1" and any("unknown algorithm" in p for p in odd.problems)
    verdict = verify_digest(odd, PASSWORD, "GET", "/")
    assert (verdict.valid, verdict.reason) == (False, "unsupported algorithm SHA-1")
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp").reason == "password mismatch"


def test_latin1_credentials() -> None:
    # An RFC 2617 client hashing ISO-8859-1 bytes, its header bytes read as latin-1.
    password = "s\u00e9same"
    ha1 = hashlib.md5(f"{USER}:{REALM}:".encode() + password.encode("latin-1")).hexdigest()
    ha2 = hashlib.md5(b"POST:/cwmp").hexdigest()
    response = hashlib.md5(f"{ha1}:{NONCE}:{NC}:{CNONCE}:auth:{ha2}".encode()).hexdigest()
    verdict = verify_digest(creds_for(response=response), password, "POST", "/cwmp")
    assert verdict.valid and verdict.notes == ("credentials hashed as ISO-8859-1, not UTF-8",)
    assert verify_digest(creds_for(response=response), password.encode("latin-1"), "POST", "/cwmp").valid


def test_utf8_username_through_the_wire() -> None:
    user = "b\u00e9b\u00e9"
    response = reference_response("MD5", user, REALM, PASSWORD, NONCE, CNONCE, NC, "auth", "GET", "/")
    value = authorization(
        user=user, realm=REALM, nonce=NONCE, uri="/", response=response, qop="auth", nc=NC, cnonce=CNONCE
    )
    creds = parse_authorization(on_the_wire(value))
    assert isinstance(creds, DigestCredentials) and creds.username == user
    assert verify_digest(creds, PASSWORD, "GET", "/", username=user).valid


def test_rfc2069_form_without_qop() -> None:
    creds = creds_for(qop=None)
    assert any("RFC 2069" in p for p in creds.problems)
    assert verify_digest(creds, PASSWORD, "POST", "/cwmp").valid


def test_missing_username_uses_the_secret() -> None:
    response = reference_response("MD5", USER, REALM, PASSWORD, NONCE, CNONCE, NC, "auth", "GET", "/")
    creds = parse_authorization(
        f'Digest realm="{REALM}", nonce="{NONCE}", uri="/", qop=auth, nc={NC}, cnonce="{CNONCE}", '
        f'response="{response}"'
    )
    assert isinstance(creds, DigestCredentials) and "error: no username" in creds.problems
    assert verify_digest(creds, PASSWORD, "GET", "/").reason == "username unknown"
    verdict = verify_digest(creds, PASSWORD, "GET", "/", username=USER)
    assert verdict.valid and any("no username" in n for n in verdict.notes)


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256"])
def test_python_requests_as_an_oracle(algorithm: str) -> None:
    # python-requests builds real headers: quoted algorithm and qop (quirks), a fresh cnonce per
    # request and, for MD5-sess, HA1 recomputed with each cnonce.
    auth = HTTPDigestAuth(USER, PASSWORD)
    auth.init_per_thread_state()
    auth._thread_local.chal = {
        "realm": REALM, "nonce": NONCE, "qop": "auth,auth-int", "algorithm": algorithm, "opaque": "(null)",
    }  # fmt: skip
    for _ in range(3):
        value = auth.build_digest_header("POST", "http://acs.example:7547/cwmp?id=7")
        assert value is not None
        creds = parse_authorization(value)
        assert isinstance(creds, DigestCredentials)
        assert f'algorithm is quoted (algorithm="{algorithm}")' in creds.quirks
        assert 'qop is quoted (qop="auth")' in creds.quirks
        assert any("(null)" in q for q in creds.quirks)
        verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp?id=7", realm=REALM, username=USER)
        assert verdict.valid and verdict.notes == (), verdict
        assert verify_digest(creds, "s3cre7", "POST", "/cwmp?id=7").reason == "password mismatch"


def test_rspauth_round_trip() -> None:
    creds = creds_for(qop="auth")
    verdict = verify_digest(creds, PASSWORD, "POST", "/cwmp")
    assert verdict.ha1 is not None
    # Written out: A2 = ":" uri.
    ha2 = hashlib.md5(b":/cwmp").hexdigest()
    expected = hashlib.md5(f"{verdict.ha1}:{NONCE}:{NC}:{CNONCE}:auth:{ha2}".encode()).hexdigest()
    assert digest_rspauth("MD5", verdict.ha1, NONCE, NC, CNONCE, "auth", "/cwmp") == expected
    info = parse_authentication_info(f'rspauth="{expected}", qop=auth, nc={NC}, cnonce="{CNONCE}"')
    assert verify_rspauth(creds, PASSWORD, info["rspauth"])
    assert verify_rspauth(creds, "", info["rspauth"].upper(), ha1=verdict.ha1)
    assert not verify_rspauth(creds, "wrong", info["rspauth"])
    assert not verify_rspauth(creds, PASSWORD, "0" * 32)


def test_rspauth_auth_int_uses_the_response_body() -> None:
    creds = creds_for(qop="auth-int", algorithm="SHA-256")
    ha1 = digest_ha1("SHA-256", USER, REALM, PASSWORD)
    body_hash = hashlib.sha256(b"reply").hexdigest()
    ha2 = hashlib.sha256(f":/cwmp:{body_hash}".encode()).hexdigest()
    expected = hashlib.sha256(f"{ha1}:{NONCE}:{NC}:{CNONCE}:auth-int:{ha2}".encode()).hexdigest()
    assert verify_rspauth(creds, PASSWORD, expected, b"reply")
    assert not verify_rspauth(creds, PASSWORD, expected, b"")
