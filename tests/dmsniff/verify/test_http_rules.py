"""HTTP Basic and Digest through the verifier, one playbook per behaviour."""

from __future__ import annotations

import base64

import pytest

from decoders import auth
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.dmsniff.sessions.playbook import Playbook

from .test_omadm_capture import AuthCollector

REALM = "acs"
NONCE = "nonce-1"


def book(*secrets: Secret, show: bool = False) -> tuple[Playbook, AuthCollector]:
    out = AuthCollector()
    b = Playbook(Verifier(Secrets(list(secrets)), show_secrets=show), more=[out])
    return b, out


def challenge(b: Playbook, nonce: str = NONCE, extra: str = "", conn: str = "C1") -> None:
    b.post(
        b"",
        status=401,
        conn=conn,
        answer_headers=[
            ("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{nonce}", qop="auth", algorithm=MD5{extra}')
        ],
    )


def digest_header(
    user: str,
    password: str,
    *,
    uri: str = "/acs",
    hashed_uri: str | None = None,
    nonce: str = NONCE,
    nc: str = "00000001",
    algorithm: str = "MD5",
    method: str = "POST",
) -> str:
    cnonce = "c0ffee"
    ha1 = auth.digest_ha1(algorithm, user, REALM, password, nonce, cnonce)
    resp = auth.digest_response(algorithm, ha1, nonce, nc, cnonce, "auth", method, hashed_uri or uri)
    return (
        f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{hashed_uri or uri}", '
        f'response="{resp}", qop=auth, nc={nc}, cnonce="{cnonce}", algorithm={algorithm}'
    )


def send(
    b: Playbook,
    header: str,
    status: int = 200,
    uri: str = "/acs",
    conn: str = "C1",
    answer_headers: list[tuple[str, str]] | None = None,
) -> None:
    b.post(
        b"",
        status=status,
        uri=uri,
        conn=conn,
        headers=[("Authorization", header)],
        answer_headers=answer_headers,
    )


def results(out: AuthCollector) -> list[tuple[str, str | None]]:
    return [(a.result, a.reason) for a in out.auth_results]


@pytest.mark.parametrize("algorithm", ["MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256"])
def test_digest_algorithms(algorithm: str) -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    send(b, digest_header("cpe", "pw", algorithm=algorithm))
    send(b, digest_header("cpe", "wrong", algorithm=algorithm, nc="00000002"), status=401)
    assert results(out) == [("valid", None), ("invalid", "password mismatch")]
    assert out.auth_results[0].algorithm == algorithm
    assert "nonce issued in frame 2" in out.auth_results[0].notes


def test_uri_field_without_the_query_is_a_uri_mismatch() -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    send(b, digest_header("cpe", "pw", uri="/acs?sn=1", hashed_uri="/acs"), uri="/acs?sn=1", status=400)
    assert results(out) == [("invalid", "uri mismatch")]


def test_stale_nonce_and_never_issued_nonce() -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    stale = [("WWW-Authenticate", f'Digest realm="{REALM}", nonce="n2", qop="auth", stale=true')]
    send(b, digest_header("cpe", "pw"), status=401, answer_headers=stale)
    send(b, digest_header("cpe", "pw", nonce="forged"), status=401)
    send(b, digest_header("cpe", "pw", nonce="earlier"), status=200)  # the capture began too late
    assert results(out) == [("invalid", "stale nonce"), ("invalid", "nonce never issued"), ("valid", None)]
    assert "nonce never issued by this server in the capture" in out.auth_results[2].notes


def test_nonce_unknown_when_the_server_never_challenged() -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    send(b, digest_header("cpe", "pw"), status=401)
    assert results(out) == [("invalid", "nonce unknown")]


def test_md5_sess_with_ha1_from_the_first_cnonce() -> None:
    """RFC 2617 computes the -sess HA1 once; a client may keep it while changing its cnonce."""
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    ha1 = auth.digest_ha1("MD5-sess", "cpe", REALM, "pw", NONCE, "first")
    for nc, cnonce in (("00000001", "first"), ("00000002", "second")):
        resp = auth.digest_response("MD5-sess", ha1, NONCE, nc, cnonce, "auth", "POST", "/acs")
        send(
            b,
            f'Digest username="cpe", realm="{REALM}", nonce="{NONCE}", uri="/acs", response="{resp}", '
            f'qop=auth, nc={nc}, cnonce="{cnonce}", algorithm=MD5-sess',
        )
    assert results(out) == [("valid", None), ("valid", None)]
    assert any("first cnonce" in n for n in out.auth_results[1].notes), out.auth_results[1].notes


def test_nc_that_does_not_increase() -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    send(b, digest_header("cpe", "pw", nc="00000002"))
    send(b, digest_header("cpe", "pw", nc="00000002"))
    assert [r for r, _ in results(out)] == ["valid", "valid"]
    assert any("does not increase" in n for n in out.auth_results[1].notes)


def test_realm_from_the_secret_must_match() -> None:
    b, out = book(Secret("http", "cpe", "pw", realm="other"))
    challenge(b)
    send(b, digest_header("cpe", "pw"))
    assert results(out) == [("invalid", "realm mismatch")]


def test_basic_no_secret_and_label() -> None:
    b, out = book(Secret("http", "cpe", "pw", label="lab box"))
    basic = "Basic " + base64.b64encode(b"cpe:pw").decode()
    send(b, basic)
    send(b, "Basic " + base64.b64encode(b"other:pw").decode())
    send(b, "Basic !!!")
    assert [(a.scheme, a.identity, a.result, a.matched) for a in out.auth_results] == [
        ("http-basic", "cpe", "valid", "lab box"),
        ("http-basic", "other", "no-secret", None),
        ("http-basic", None, "unverifiable", None),
    ]
    assert all(a.password is None for a in out.auth_results)


def test_show_secrets_keeps_the_matched_password() -> None:
    b, out = book(Secret("http", "cpe", "pw"), show=True)
    send(b, "Basic " + base64.b64encode(b"cpe:pw").decode())
    assert out.auth_results[0].password == "pw"


def test_results_are_attached_to_the_request() -> None:
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    send(b, digest_header("cpe", "pw"))
    tx = b.post(b"", headers=[("Authorization", digest_header("cpe", "pw", nc="00000003"))])
    assert tx.request is not None and tx.request.auth == [out.auth_results[-1]]


def test_valid_with_a_catch_is_marked_caveat() -> None:
    # A right password the server refused anyway, and a server whose rspauth is wrong: both
    # valid, both marked, so the text report lists them with the failures.
    b, out = book(Secret("http", "cpe", "pw"))
    challenge(b)
    send(b, digest_header("cpe", "pw"), status=401)
    bad_rspauth = [("Authentication-Info", 'rspauth="00000000000000000000000000000000", qop=auth, '
                    'nc=00000002, cnonce="c0ffee"')]
    send(b, digest_header("cpe", "pw", nc="00000002"), answer_headers=bad_rspauth)
    send(b, digest_header("cpe", "pw", nc="00000003"))
    assert results(out) == [("valid", None)] * 3
    refused, wrong_rspauth, plain_ok = out.auth_results
    assert refused.caveat and any("yet the server answered 401" in n for n in refused.notes)
    assert wrong_rspauth.caveat and "server's rspauth does NOT match" in wrong_rspauth.notes
    assert not plain_ok.caveat
