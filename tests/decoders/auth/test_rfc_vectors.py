"""The worked examples of RFC 2617 §3.5 and RFC 7616 §3.9, parsed from their header text and verified."""

from __future__ import annotations

import hashlib

import pytest

from decoders.auth import (
    DIGEST_ALGORITHMS,
    Challenge,
    DigestCredentials,
    digest_ha1,
    digest_response,
    digest_userhash,
    parse_authorization,
    parse_www_authenticate,
    verify_digest,
)

# RFC 2617 §3.5, as printed (continuation lines and all).
RFC2617_CHALLENGE = """Digest
                 realm="testrealm@host.com",
                 qop="auth,auth-int",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41\""""
RFC2617_AUTHORIZATION = """Digest username="Mufasa",
                 realm="testrealm@host.com",
                 nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
                 uri="/dir/index.html",
                 qop=auth,
                 nc=00000001,
                 cnonce="0a4f113b",
                 response="6629fae49393a05397450978507c4ef1",
                 opaque="5ccc069c403ebaf9f0171e9517f40e41\""""

# RFC 7616 §3.9.1: one 401 carrying two challenges (SHA-256 preferred, MD5 for old clients).
RFC7616_CHALLENGE_SHA256 = """Digest
       realm="http-auth@example.org",
       qop="auth, auth-int",
       algorithm=SHA-256,
       nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
       opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\""""
RFC7616_CHALLENGE_MD5 = RFC7616_CHALLENGE_SHA256.replace("SHA-256", "MD5")
RFC7616_NONCE = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
RFC7616_CNONCE = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
RFC7616_OPAQUE = "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"


def rfc7616_authorization(algorithm: str, response: str) -> str:
    return f"""Digest username="Mufasa",
       realm="http-auth@example.org",
       uri="/dir/index.html",
       algorithm={algorithm},
       nonce="{RFC7616_NONCE}",
       nc=00000001,
       cnonce="{RFC7616_CNONCE}",
       qop=auth,
       response="{response}",
       opaque="{RFC7616_OPAQUE}\""""


RFC7616_MD5 = "8ca523f5e9506fed4657c9700eebdbec"
RFC7616_SHA256 = "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"

# RFC 7616 §3.9.2 (SHA-512-256, charset, userhash).  The username hash and response printed
# in the RFC (488869477bf2...254ec and ae66e67d6b42...79dd) do not follow from the example's
# inputs with FIPS 180-4 SHA-512/256.  RFC Errata ID 4897 (status "Reported") gives the
# values below, which hashlib computes and independent implementations (Go, Rust, Java, PHP
# and JS Digest clients in public repositories) assert as well.
RFC7616_USER = "J\u00e4s\u00f8n Doe"
RFC7616_USERHASH_ERRATUM = "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b"
RFC7616_RESPONSE_ERRATUM = "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5"
RFC7616_USERHASH_PRINTED = "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec"
RFC7616_RESPONSE_PRINTED = "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd"
RFC7616_392_CHALLENGE = """Digest
       realm="api@example.org",
       qop="auth",
       algorithm=SHA-512-256,
       nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
       opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
       charset=UTF-8,
       userhash=true"""


def rfc7616_392(username_param: str, response: str, userhash: str) -> str:
    return f"""Digest
       {username_param},
       realm="api@example.org",
       uri="/doe.json",
       algorithm=SHA-512-256,
       nonce="5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK",
       nc=00000001,
       cnonce="NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v",
       qop=auth,
       response="{response}",
       opaque="HRPCssKJSGjCrkzDg8OhwpzCiGPChXYjwrI2QmXDnsOS",
       userhash={userhash}"""


def digest(value: str) -> DigestCredentials:
    creds = parse_authorization(value)
    assert isinstance(creds, DigestCredentials), creds
    return creds


def test_rfc2617_example_parses_exactly() -> None:
    creds = digest(RFC2617_AUTHORIZATION)
    assert creds.username == "Mufasa"
    assert creds.identity == "Mufasa"
    assert creds.realm == "testrealm@host.com"
    assert creds.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093"
    assert creds.uri == "/dir/index.html"
    assert (creds.qop, creds.nc, creds.cnonce) == ("auth", "00000001", "0a4f113b")
    assert creds.response == "6629fae49393a05397450978507c4ef1"
    assert creds.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert (creds.algorithm, creds.algorithm_raw, creds.userhash) == ("MD5", None, False)
    assert [name for name, _ in creds.params] == [
        "username", "realm", "nonce", "uri", "qop", "nc", "cnonce", "response", "opaque",
    ]  # fmt: skip
    assert creds.quirks == ()
    assert creds.problems == ()


def test_rfc2617_example_verifies() -> None:
    creds = digest(RFC2617_AUTHORIZATION)
    verdict = verify_digest(creds, "Circle Of Life", "GET", "/dir/index.html")
    assert verdict.valid and verdict.reason is None and verdict.notes == ()
    assert verdict.ha1 == hashlib.md5(b"Mufasa:testrealm@host.com:Circle Of Life").hexdigest()
    wrong = verify_digest(creds, "Circle of Life", "GET", "/dir/index.html")
    assert (wrong.valid, wrong.reason, wrong.ha1) == (False, "password mismatch", None)


def test_rfc2617_formulas_directly() -> None:
    ha1 = digest_ha1("MD5", "Mufasa", "testrealm@host.com", "Circle Of Life")
    response = digest_response(
        "MD5",
        ha1,
        "dcd98b7102dd2f0e8b11d0f600bfb0c093",
        "00000001",
        "0a4f113b",
        "auth",
        "GET",
        "/dir/index.html",
    )
    assert response == "6629fae49393a05397450978507c4ef1"


def test_rfc2617_challenge() -> None:
    (challenge,) = parse_www_authenticate(RFC2617_CHALLENGE)
    assert challenge.scheme == "Digest"
    assert challenge.realm == "testrealm@host.com"
    assert challenge.qop_options == ("auth", "auth-int")
    assert challenge.nonce == "dcd98b7102dd2f0e8b11d0f600bfb0c093"
    assert challenge.opaque == "5ccc069c403ebaf9f0171e9517f40e41"
    assert (challenge.algorithm, challenge.algorithm_raw, challenge.stale) == ("MD5", None, False)
    assert challenge.quirks == () and challenge.problems == ()


@pytest.mark.parametrize(("algorithm", "response"), [("MD5", RFC7616_MD5), ("SHA-256", RFC7616_SHA256)])
def test_rfc7616_391_examples(algorithm: str, response: str) -> None:
    creds = digest(rfc7616_authorization(algorithm, response))
    assert (creds.algorithm, creds.algorithm_raw) == (algorithm, algorithm)
    assert creds.cnonce == RFC7616_CNONCE and creds.opaque == RFC7616_OPAQUE
    assert creds.quirks == () and creds.problems == ()
    verdict = verify_digest(creds, "Circle of Life", "GET", "/dir/index.html", realm="http-auth@example.org")
    assert verdict.valid, verdict
    assert verify_digest(creds, "Circle Of Life", "GET", "/dir/index.html").reason == "password mismatch"
    ha1 = digest_ha1(algorithm, "Mufasa", "http-auth@example.org", "Circle of Life")
    assert verdict.ha1 == ha1
    assert (
        digest_response(
            algorithm, ha1, RFC7616_NONCE, "00000001", RFC7616_CNONCE, "auth", "GET", "/dir/index.html"
        )
        == response
    )


def test_rfc7616_391_two_challenges_in_one_value() -> None:
    challenges = parse_www_authenticate(RFC7616_CHALLENGE_SHA256 + ",\n" + RFC7616_CHALLENGE_MD5)
    assert [c.algorithm for c in challenges] == ["SHA-256", "MD5"]
    for challenge in challenges:
        assert challenge.scheme == "Digest"
        assert challenge.realm == "http-auth@example.org"
        assert challenge.qop_options == ("auth", "auth-int")
        assert challenge.nonce == RFC7616_NONCE and challenge.opaque == RFC7616_OPAQUE
        assert challenge.quirks == () and challenge.problems == ()


def test_sha512_256_is_the_fips_algorithm() -> None:
    # FIPS 180-4 SHA-512/256 of "" (its own IV, not truncated SHA-512).
    assert "SHA-512-256" in DIGEST_ALGORITHMS and "SHA-512-256-sess" in DIGEST_ALGORITHMS
    factory, sess = DIGEST_ALGORITHMS["SHA-512-256"]
    assert not sess
    assert factory(b"").hexdigest() == "c672b8d1ef56ed28ab87c3622c5114069bdd3ad7b8f9737498d0c01ecef0967a"
    assert factory(b"").hexdigest() != hashlib.sha512(b"").hexdigest()[:64]


def test_rfc7616_392_challenge() -> None:
    (challenge,) = parse_www_authenticate(RFC7616_392_CHALLENGE)
    assert isinstance(challenge, Challenge)
    assert (challenge.algorithm, challenge.charset, challenge.userhash) == ("SHA-512-256", "UTF-8", True)
    assert challenge.qop_options == ("auth",)
    assert challenge.quirks == () and challenge.problems == ()


def test_rfc7616_392_userhash_per_erratum_4897() -> None:
    assert digest_userhash("SHA-512-256", RFC7616_USER, "api@example.org") == RFC7616_USERHASH_ERRATUM
    creds = digest(rfc7616_392(f'username="{RFC7616_USERHASH_ERRATUM}"', RFC7616_RESPONSE_ERRATUM, "true"))
    assert creds.userhash and creds.identity == RFC7616_USERHASH_ERRATUM
    assert creds.algorithm == "SHA-512-256"
    verdict = verify_digest(creds, "Secret, or not?", "GET", "/doe.json", username=RFC7616_USER)
    assert verdict.valid, verdict
    # Another user's name does not hash to the username field.
    other = verify_digest(creds, "Secret, or not?", "GET", "/doe.json", username="Jason Doe")
    assert (other.valid, other.reason) == (False, "username mismatch")
    # Without the plain username the hash cannot be checked.
    assert verify_digest(creds, "Secret, or not?", "GET", "/doe.json").reason == "username unknown"


def test_rfc7616_392_username_star_per_erratum_4897() -> None:
    creds = digest(rfc7616_392("username*=UTF-8''J%C3%A4s%C3%B8n%20Doe", RFC7616_RESPONSE_ERRATUM, "false"))
    assert creds.username is None and not creds.userhash
    assert creds.username_star == RFC7616_USER == creds.identity
    assert ("username*", "UTF-8''J%C3%A4s%C3%B8n%20Doe") in creds.params
    assert creds.problems == () and creds.quirks == ()
    assert verify_digest(creds, "Secret, or not?", "GET", "/doe.json", username=RFC7616_USER).valid


def test_rfc7616_392_printed_values_do_not_verify() -> None:
    # The values as printed in the RFC: kept to document why the erratum's are asserted above.
    assert digest_userhash("SHA-512-256", RFC7616_USER, "api@example.org") != RFC7616_USERHASH_PRINTED
    creds = digest(rfc7616_392(f'username="{RFC7616_USERHASH_PRINTED}"', RFC7616_RESPONSE_PRINTED, "true"))
    verdict = verify_digest(creds, "Secret, or not?", "GET", "/doe.json", username=RFC7616_USER)
    assert (verdict.valid, verdict.reason) == (False, "username mismatch")
    assert "the password does not reproduce the response either" in verdict.notes
