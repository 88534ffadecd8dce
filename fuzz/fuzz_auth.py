"""Every auth header and credential parser of ``decoders.auth``, and the Digest checks run on what
they parse.

The first byte picks the parser: ``parse_authorization`` (then ``verify_digest`` and
``verify_rspauth`` on Digest credentials, as the verifier does), ``parse_www_authenticate``,
``parse_authentication_info``, ``parse_syncml_basic``, ``parse_syncml_hmac`` (then
``mac_matches``); the rest is the header value (ISO-8859-1, as the HTTP parser hands it on) or the
SyncML Cred data (UTF-8).  The parsers never raise by design: an "internal parser error" value
(a caught bug) is raised again with its real traceback.
"""

from __future__ import annotations

from fuzz._common import has_internal_error, instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import auth
    from decoders.auth import _digest, _headers, _oma

PASSWORD = "alice-pass"
METHODS = ("GET", "POST", "")


def _authorization(value: str, body: bytes) -> None:
    creds = auth.parse_authorization(value)
    if isinstance(creds, auth.AuthParseError):
        if "internal parser error" in creds.reason:
            reraise(creds.reason, _headers._parse_authorization, value)
        return
    if isinstance(creds, auth.DigestCredentials):
        for method in METHODS:
            verdict = auth.verify_digest(creds, PASSWORD, method, creds.uri or "/", body,
                                         realm=creds.realm, username="alice")
            if verdict.reason and verdict.reason.startswith("internal error"):
                reraise(verdict.reason, _digest._verify, creds, PASSWORD, method, creds.uri or "/", body,
                        creds.realm, "alice", None)
        auth.verify_rspauth(creds, PASSWORD, creds.response or "", body, username="alice")
        auth.digest_userhash(creds.algorithm if creds.algorithm in auth.DIGEST_ALGORITHMS else "MD5",
                             creds.username or "", creds.realm or "")


def _www_authenticate(value: str, body: bytes) -> None:
    for challenge in auth.parse_www_authenticate(value):
        bug = has_internal_error(challenge.problems)
        if bug:
            reraise(bug, _headers._parse_www_authenticate, value)


def _authentication_info(value: str, body: bytes) -> None:
    auth.parse_authentication_info(value)


def _syncml_basic(value: str, body: bytes) -> None:
    auth.parse_syncml_basic(value)
    auth.parse_syncml_basic(body)


def _syncml_hmac(value: str, body: bytes) -> None:
    hmac = auth.parse_syncml_hmac(value)
    if isinstance(hmac, auth.AuthParseError):
        if "internal parser error" in hmac.reason:
            reraise(hmac.reason, _oma._parse_syncml_hmac, value)
        return
    auth.mac_matches(hmac.mac, auth.syncml_hmac(hmac.username or "", PASSWORD, b"nonce", body))


PARSERS = (_authorization, _www_authenticate, _authentication_info, _syncml_basic, _syncml_hmac)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    parser = PARSERS[data[0] % len(PARSERS)]
    raw = data[1:]
    syncml = parser in (_syncml_basic, _syncml_hmac)
    text = raw.decode("utf-8", "replace") if syncml else raw.decode("latin-1")
    parser(text, raw)


if __name__ == "__main__":
    main(TestOneInput)
