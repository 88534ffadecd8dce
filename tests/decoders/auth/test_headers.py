"""Header parsing: RFC grammar, the interop quirks of cwmp.md §3, and broken input (never raising)."""

from __future__ import annotations

import base64

import pytest

from decoders.auth import (
    AuthParseError,
    BasicCredentials,
    DigestCredentials,
    normalise_algorithm,
    parse_authentication_info,
    parse_authorization,
    parse_www_authenticate,
)


def digest(value: str) -> DigestCredentials:
    creds = parse_authorization(value)
    assert isinstance(creds, DigestCredentials), creds
    return creds


def basic(value: str) -> BasicCredentials:
    creds = parse_authorization(value)
    assert isinstance(creds, BasicCredentials), creds
    return creds


# --- Basic -----------------------------------------------------------------------------------


def test_basic_rfc7617_example() -> None:
    creds = basic("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    assert (creds.username, creds.password, creds.problems) == ("Aladdin", "open sesame", ())


def test_basic_scheme_is_case_insensitive_and_password_may_hold_colons() -> None:
    token = base64.b64encode(b"acs:pa:ss").decode()
    assert (basic(f"bAsIc   {token}").username, basic(f"BASIC {token}").password) == ("acs", "pa:ss")


def test_basic_utf8_and_latin1() -> None:
    utf8 = base64.b64encode("J\u00e4s\u00f8n:pw".encode()).decode()
    assert basic(f"Basic {utf8}").username == "J\u00e4s\u00f8n"
    latin1 = basic("Basic " + base64.b64encode("J\u00e4s\u00f8n:pw".encode("latin-1")).decode())
    assert latin1.username == "J\u00e4s\u00f8n"
    assert latin1.problems == ("warning: credentials are not UTF-8, read as ISO-8859-1",)


def test_basic_without_colon() -> None:
    creds = basic("Basic " + base64.b64encode(b"justauser").decode())
    assert (creds.username, creds.password) == ("justauser", "")
    assert creds.problems == ("error: no ':' between user-id and password",)


def test_basic_without_padding() -> None:
    creds = basic("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ")
    assert creds.password == "open sesame"
    assert creds.problems == ("warning: base64 padding is wrong or missing",)


@pytest.mark.parametrize(
    "value", ["Basic", "Basic ", "Basic !!!", "Basic a", 'Basic realm="x"', "Basic \u00e9t\u00e9"]
)
def test_basic_unreadable(value: str) -> None:
    result = parse_authorization(value)
    assert isinstance(result, AuthParseError) and result.scheme == "Basic"


# --- Digest credentials ----------------------------------------------------------------------


def test_digest_names_are_case_insensitive_and_order_free() -> None:
    creds = digest(
        'DIGEST Response="0123456789abcdef0123456789abcdef", URI="/", NONCE="n", UserName="u", Realm="r"'
    )
    assert (creds.username, creds.realm, creds.nonce, creds.uri) == ("u", "r", "n", "/")
    assert creds.params[0] == ("response", "0123456789abcdef0123456789abcdef")


def test_escapes_and_commas_inside_quotes() -> None:
    creds = digest(r'Digest username="a \"quoted\", name\\x", realm="r, with comma", nonce="n", uri="/a,b", '
                   r'response="0123456789abcdef0123456789abcdef"')  # fmt: skip
    assert creds.username == 'a "quoted", name\\x'
    assert creds.realm == "r, with comma"
    assert creds.uri == "/a,b"
    assert creds.quirks == ()


def test_unescaped_backslash_is_kept() -> None:
    creds = digest(r'Digest username="CORP\jdoe", realm="r", nonce="n", uri="/", response="00"')
    assert creds.username == "CORP\\jdoe"
    assert any("unescaped backslash in username" in q for q in creds.quirks)


def test_interop_quirks() -> None:
    creds = digest(
        'Digest username="cpe", realm="GenieACS", nonce="abc", uri="/", algorithm="MD5", '
        'qop="auth,auth-int", nc="00000001", cnonce="c", opaque="(null)", '
        'response="0123456789ABCDEF0123456789ABCDEF"'
    )
    assert creds.algorithm == "MD5" and creds.algorithm_raw == "MD5"
    assert creds.qop == "auth,auth-int" and creds.nc == "00000001"
    assert set(creds.quirks) == {
        'algorithm is quoted (algorithm="MD5")',
        'qop is quoted (qop="auth,auth-int")',
        'nc is quoted (nc="00000001")',
        "qop 'auth,auth-int': the challenge's option list echoed (psf/requests#2408)",
        'opaque "(null)": a C NULL printed by the client (gSOAP)',
        "response in uppercase hex",
    }
    assert creds.problems == ()


def test_unquoted_values_are_read() -> None:
    creds = digest("Digest username=cpe, realm=My Realm, nonce=abc, uri=/cwmp?a=1, response=00ff, opaque=")
    assert (creds.username, creds.realm, creds.nonce, creds.uri, creds.response) == (
        "cpe", "My Realm", "abc", "/cwmp?a=1", "00ff",
    )  # fmt: skip
    assert {"username is not quoted", "realm is not quoted", "uri is not quoted", "opaque is empty"} <= set(
        creds.quirks
    )


def test_genieacs_qop_undefined() -> None:
    creds = digest('Digest username="u", realm="r", nonce="n", uri="/", qop=undefined, nc=00000001, '
                   'cnonce="c", response="00", opaque=""')  # fmt: skip
    assert any("qop=undefined" in q for q in creds.quirks)
    assert "opaque is empty" in creds.quirks


def test_digest_problems() -> None:
    creds = digest('Digest username="u", username="v", qop=auth, nc=1, response="zz", algorithm=SHA-3')
    assert creds.username == "u"
    assert creds.algorithm == "SHA-3" and creds.algorithm_raw == "SHA-3"
    assert set(creds.problems) >= {
        "warning: username appears more than once, the first is used",
        "warning: unknown algorithm 'SHA-3'",
        "warning: qop without nc or cnonce",
        "warning: nc '1' is not 8 hex digits",
        "warning: no realm",
        "error: no nonce",
        "warning: no uri",
        "warning: response 'zz' is not hex",
    }
    assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in creds.problems)


def test_algorithm_spellings() -> None:
    assert digest('Digest algorithm=md5-SESS, username="u"').algorithm == "MD5-sess"
    creds = digest('Digest algorithm=SHA256, username="u"')
    assert creds.algorithm == "SHA-256" and "algorithm 'SHA256' read as SHA-256" in creds.quirks
    assert normalise_algorithm("sha-512/256-sess") == "SHA-512-256-sess"
    assert normalise_algorithm(" sha_256 ") == "SHA-256"
    assert normalise_algorithm("SHA-1") is None
    assert normalise_algorithm(None) is None


def test_username_star_variants() -> None:
    latin = digest("Digest username*=iso-8859-1'en'J%E4s%F8n")
    assert latin.username_star == latin.identity == "J\u00e4s\u00f8n"
    assert "error: no username" not in latin.problems
    odd = digest("Digest username*=\"UTF-8''%FF\"")
    assert odd.username_star == "\ufffd"
    assert "username* is quoted" in odd.quirks
    assert "warning: username* is not valid utf-8" in odd.problems
    raw = digest("Digest username*=plain")
    assert raw.username_star == "plain"
    both = digest("Digest username=\"a\", username*=UTF-8''b")
    assert both.identity == "a"
    assert "warning: both username and username* (RFC 7616 §3.4 allows one)" in both.problems


def test_userhash_flag() -> None:
    assert digest('Digest username="ab", userhash=TRUE').userhash
    creds = digest('Digest username="ab", userhash="true"')
    assert creds.userhash and 'userhash is quoted (userhash="true")' in creds.quirks
    assert not digest('Digest username="ab", userhash=maybe').userhash


def test_utf8_bytes_read_from_latin1_text() -> None:
    wire = 'Digest username="J\u00e4s\u00f8n", realm="r"'.encode().decode("latin-1")
    assert digest(wire).username == "J\u00e4s\u00f8n"
    # Genuine ISO-8859-1 bytes (not valid UTF-8) stay as they are.
    assert digest('Digest username="J\u00e4s\u00f8n"').username == "J\u00e4s\u00f8n"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("", "empty credentials"),
        ("   ", "empty credentials"),
        ("Digest", "Digest credentials without parameters"),
        ("Digest ,,, ", "Digest credentials without parameters"),
        ('"Digest"', "no auth-scheme"),
        ("Bearer abc.def", "unsupported scheme 'Bearer'"),
        ("NTLM TlRMTVNTUAABAAAAB4IIAAAAAAAAAAAAAAAAAAAAAAA=", "unsupported scheme 'NTLM'"),
    ],
)
def test_unreadable_authorization(value: str, reason: str) -> None:
    result = parse_authorization(value)
    assert isinstance(result, AuthParseError)
    assert result.reason.startswith(reason)


@pytest.mark.parametrize(
    "value",
    [
        'Digest username="unterminated',
        'Digest username="a" realm="b"',
        "Digest =x, ==, username",
        'Digest username="a"garbage, realm="r"',
        'Digest username=a"b", realm=r',
        "Digest username=\\, realm=\x00",
        'Digest username="\\',
        "Digest \u2028username=\u00ff\ud800",
    ],
)
def test_broken_digest_is_reported_not_raised(value: str) -> None:
    result = parse_authorization(value)
    assert isinstance(result, DigestCredentials | AuthParseError)
    if isinstance(result, DigestCredentials):
        assert result.problems
        assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in result.problems)


def test_missing_comma_is_tolerated() -> None:
    creds = digest('Digest username="a" realm="b", nonce="n"')
    assert (creds.username, creds.realm, creds.nonce) == ("a", "b", "n")
    assert any("no separator after 'username'" in p for p in creds.problems)


def test_unterminated_quote_runs_to_the_end() -> None:
    creds = digest('Digest realm="r", username="abc, def')
    assert creds.username == "abc, def"
    assert "warning: unterminated quoted-string runs to the end of the value" in creds.problems


# --- WWW-Authenticate ------------------------------------------------------------------------


def test_multiple_challenges_in_one_value() -> None:
    challenges = parse_www_authenticate(
        'Digest realm="a", nonce="b", qop="auth", Basic realm="c", charset="UTF-8"'
    )
    assert [(c.scheme, c.realm) for c in challenges] == [("Digest", "a"), ("Basic", "c")]
    assert challenges[0].nonce == "b" and challenges[0].qop_options == ("auth",)
    assert challenges[1].charset == "UTF-8" and challenges[1].algorithm is None


def test_rfc7235_example_with_token68_and_escapes() -> None:
    challenges = parse_www_authenticate(
        'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", '
        "Negotiate, NTLM TlRMTVNTUAACAAAADAAMADgAAAAFgomi=="
    )
    assert [c.scheme for c in challenges] == ["Newauth", "Basic", "Negotiate", "NTLM"]
    assert challenges[0].params == (("realm", "apps"), ("type", "1"), ("title", 'Login to "apps"'))
    assert challenges[2].token68 is None and challenges[2].params == ()
    assert challenges[3].token68 == "TlRMTVNTUAACAAAADAAMADgAAAAFgomi=="


def test_genieacs_challenge() -> None:
    (challenge,) = parse_www_authenticate('Digest realm="GenieACS",qop="auth,auth-int",nonce="0123abcd"')
    assert challenge.qop_options == ("auth", "auth-int") and challenge.algorithm == "MD5"
    assert challenge.opaque is None and challenge.problems == () and challenge.quirks == ()


def test_challenge_quirks() -> None:
    (challenge,) = parse_www_authenticate(
        'Digest realm="r", nonce="n", algorithm="MD5-sess", qop=auth, opaque="(null)", stale="TRUE", '
        'domain="/cwmp /other", userhash=true, charset=latin1'
    )
    assert challenge.algorithm == "MD5-sess" and challenge.algorithm_raw == "MD5-sess"
    assert challenge.stale and challenge.userhash and challenge.domain == "/cwmp /other"
    assert challenge.qop_options == ("auth",)
    assert set(challenge.quirks) == {
        'algorithm is quoted (algorithm="MD5-sess")',
        'stale is quoted (stale="TRUE")',
        "qop is not quoted",
        'opaque "(null)": a C NULL printed by the server',
    }
    assert challenge.problems == ("warning: charset 'latin1' (only UTF-8 is defined)",)


def test_challenge_without_qop_or_nonce() -> None:
    (challenge,) = parse_www_authenticate('Digest realm="TR069 Client"')
    assert "error: no nonce" in challenge.problems
    assert any("RFC 2069" in p for p in challenge.problems)
    (bare,) = parse_www_authenticate("Basic")
    assert bare.problems == ("warning: no realm (RFC 7235 §2.2 requires one)",)


@pytest.mark.parametrize(
    "value",
    ["", " , ,", 'realm="orphan"', "Digest realm=", '"quoted"', "=", 'Digest realm="a" \\ nonce=b'],
)
def test_odd_challenges_never_raise(value: str) -> None:
    challenges = parse_www_authenticate(value)
    for challenge in challenges:
        assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in challenge.problems)


def test_parameters_before_a_scheme_are_reported() -> None:
    (challenge,) = parse_www_authenticate('realm="orphan", Basic realm="x"')
    assert challenge.scheme == "Basic" and challenge.realm == "x"
    assert any("before any auth-scheme" in p for p in challenge.problems)


# --- Authentication-Info ---------------------------------------------------------------------


def test_authentication_info() -> None:
    info = parse_authentication_info(
        'NextNonce="n2", QOP=auth, rspauth="d3b07384d113edec49eaa6238ad5ff00", cnonce="c", nc=00000001, '
        'rspauth="second"'
    )
    assert info == {
        "nextnonce": "n2",
        "qop": "auth",
        "rspauth": "d3b07384d113edec49eaa6238ad5ff00",
        "cnonce": "c",
        "nc": "00000001",
    }
    assert parse_authentication_info("") == {}
    assert parse_authentication_info('garbage "x') == {}
