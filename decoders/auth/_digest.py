"""HTTP Digest formulas (RFC 2617 §3.2.2, RFC 7616 §3.4) and :func:`verify_digest`.

Strings are hashed as UTF-8 (RFC 7616 ``charset=UTF-8``); pass ``bytes`` for another encoding.
:func:`verify_digest` also tries ISO-8859-1 when a non-ASCII username, realm or password
allows it, because RFC 2617 clients hash whatever bytes they have.

The formula functions take an algorithm name from :data:`DIGEST_ALGORITHMS` (other spellings
are normalised) and raise :class:`ValueError` for one they cannot compute; everything fed
from the wire goes through :func:`verify_digest`, which reports instead of raising.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Final

from ._records import DigestCredentials, DigestVerdict
from ._scan import wire_text

__all__ = [
    "DIGEST_ALGORITHMS",
    "HEX_LENGTHS",
    "digest_ha1",
    "digest_response",
    "digest_rspauth",
    "digest_userhash",
    "normalise_algorithm",
    "verify_digest",
    "verify_rspauth",
]

HashFactory = Callable[[bytes], "hashlib._Hash"]


def _sha512_256(data: bytes = b"") -> hashlib._Hash:
    # SHA-512/256 (FIPS 180-4 §5.3.6.2) has its own initial values: it is not SHA-512 cut to
    # 256 bits, so it cannot be built from hashlib.sha512.  OpenSSL provides it as sha512_256.
    return hashlib.new("sha512_256", data)


def _sha512_256_available() -> bool:
    try:
        _sha512_256(b"")
    except ValueError:  # an OpenSSL build without it (1.1.1 and later have it)
        return False
    return True


_CANONICAL: Final = ("MD5", "MD5-sess", "SHA-256", "SHA-256-sess", "SHA-512-256", "SHA-512-256-sess")

#: Digest algorithm name (RFC 7616 §6.1 registry spelling) -> (hash constructor, is a -sess variant).
#: SHA-512-256 and its -sess variant are left out when the local OpenSSL lacks SHA-512/256.
DIGEST_ALGORITHMS: Final[dict[str, tuple[HashFactory, bool]]] = {
    "MD5": (hashlib.md5, False),
    "MD5-sess": (hashlib.md5, True),
    "SHA-256": (hashlib.sha256, False),
    "SHA-256-sess": (hashlib.sha256, True),
}
if _sha512_256_available():
    DIGEST_ALGORITHMS["SHA-512-256"] = (_sha512_256, False)
    DIGEST_ALGORITHMS["SHA-512-256-sess"] = (_sha512_256, True)

#: Hex digits in a response of each algorithm (32 for MD5, 64 for the SHA-2 ones).
HEX_LENGTHS: Final = {name: factory(b"").digest_size * 2 for name, (factory, _) in DIGEST_ALGORITHMS.items()}


def _aliases() -> dict[str, str]:
    # Keys are upper-case with "_" read as "-"; values are the registry spelling.
    table = {name.upper(): name for name in _CANONICAL}
    for spelling, name in (
        ("SHA256", "SHA-256"),
        ("SHA-512/256", "SHA-512-256"),
        ("SHA512/256", "SHA-512-256"),
        ("SHA512-256", "SHA-512-256"),
    ):
        table[spelling] = name
        table[spelling + "-SESS"] = name + "-sess"
    return table


_ALIASES: Final = _aliases()


def normalise_algorithm(raw: str | None) -> str | None:
    """The registry spelling of a Digest algorithm ("md5-SESS" -> "MD5-sess"); None if unknown.

    Matching is case-insensitive; "SHA256" and "SHA-512/256" style spellings are accepted too.
    A name is known even when the local OpenSSL cannot compute it (see :data:`DIGEST_ALGORITHMS`).
    """
    if raw is None:
        return None
    return _ALIASES.get(raw.strip(" \t").upper().replace("_", "-"))


def _lookup(algorithm: str) -> tuple[HashFactory, bool]:
    entry = DIGEST_ALGORITHMS.get(algorithm)
    if entry is None:
        entry = DIGEST_ALGORITHMS.get(normalise_algorithm(algorithm) or "")
        if entry is None:
            raise ValueError(f"unsupported digest algorithm {algorithm!r}")
    return entry


def _enc(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def digest_ha1(
    algorithm: str,
    username: str | bytes,
    realm: str | bytes,
    password: str | bytes,
    nonce: str = "",
    cnonce: str = "",
    *,
    ha1_base: str | None = None,
) -> str:
    """HA1 in hex: H(username:realm:password); for -sess H(H(username:realm:password):nonce:cnonce).

    ``ha1_base`` is a precomputed H(username:realm:password) (then username, realm and password
    are not used), so a -sess HA1 can be rebuilt for another cnonce without the password.
    """
    factory, sess = _lookup(algorithm)
    base = ha1_base
    if base is None:
        base = factory(b":".join((_enc(username), _enc(realm), _enc(password)))).hexdigest()
    if not sess:
        return base
    return factory(f"{base}:{nonce}:{cnonce}".encode()).hexdigest()


def _ha2(factory: HashFactory, method: str, uri: str, qop: str | None, body: bytes) -> str:
    if qop is not None and qop.lower() == "auth-int":
        return factory(f"{method}:{uri}:{factory(body).hexdigest()}".encode()).hexdigest()
    return factory(f"{method}:{uri}".encode()).hexdigest()


def _kd(
    factory: HashFactory, ha1: str, nonce: str, nc: str | None, cnonce: str | None, qop: str | None, ha2: str
) -> str:
    if qop is None:  # RFC 2069 compatibility form
        return factory(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    return factory(f"{ha1}:{nonce}:{nc or ''}:{cnonce or ''}:{qop}:{ha2}".encode()).hexdigest()


def digest_response(
    algorithm: str,
    ha1: str,
    nonce: str,
    nc: str | None,
    cnonce: str | None,
    qop: str | None,
    method: str,
    uri: str,
    body: bytes = b"",
) -> str:
    """The ``response`` in hex: H(HA1:nonce:nc:cnonce:qop:HA2), or H(HA1:nonce:HA2) without qop.

    HA2 = H(method:uri), or H(method:uri:H(body)) when qop is "auth-int".  ``qop`` is hashed
    verbatim (a client that echoes "auth,auth-int" hashes that string); a missing nc or cnonce
    is hashed as "".
    """
    factory, _ = _lookup(algorithm)
    return _kd(factory, ha1, nonce, nc, cnonce, qop, _ha2(factory, method, uri, qop, body))


def digest_rspauth(
    algorithm: str,
    ha1: str,
    nonce: str,
    nc: str | None,
    cnonce: str | None,
    qop: str | None,
    uri: str,
    body: bytes = b"",
) -> str:
    """``rspauth`` of Authentication-Info: the response formula with A2 = ":" uri [":" H(body)].

    ``body`` is the *response* body, used for auth-int (RFC 2617 §3.2.3, RFC 7616 §3.5).
    """
    return digest_response(algorithm, ha1, nonce, nc, cnonce, qop, "", uri, body)


def digest_userhash(algorithm: str, username: str | bytes, realm: str | bytes) -> str:
    """RFC 7616 §3.4.4 username hashing: H(username:realm) in hex (the -sess suffix is ignored)."""
    factory, _ = _lookup(algorithm)
    return factory(_enc(username) + b":" + _enc(realm)).hexdigest()


_HEX: Final = frozenset("0123456789abcdefABCDEF")


def _is_hex(text: str) -> bool:
    return bool(text) and set(text) <= _HEX


def _encodings(
    user: str, realm: str, password: str | bytes
) -> Iterator[tuple[bytes, bytes, bytes, str | None]]:
    """(user, realm, password) as UTF-8, then as ISO-8859-1 when that gives other bytes."""
    yield _enc(user), _enc(realm), _enc(password), None
    texts = [t for t in (user, realm, password) if isinstance(t, str)]
    if all(t.isascii() for t in texts):
        return
    try:
        latin = [t.encode("latin-1") if isinstance(t, str) else t for t in (user, realm, password)]
    except UnicodeEncodeError:
        return
    yield latin[0], latin[1], latin[2], "credentials hashed as ISO-8859-1, not UTF-8"


def _ha1s(
    algorithm: str,
    user: str,
    realm: str,
    password: str | bytes,
    nonce: str,
    cnonce: str,
    first_cnonce: str | None,
) -> Iterator[tuple[str, str | None]]:
    """Candidate HA1s, most likely first, each with a note (None for the RFC way)."""
    factory, sess = DIGEST_ALGORITHMS[algorithm]
    for user_b, realm_b, password_b, note in _encodings(user, realm, password):
        base = factory(b":".join((user_b, realm_b, password_b))).hexdigest()
        if not sess:
            yield base, note
            continue
        # RFC 2617 §3.2.2.2 computes the -sess HA1 once, with the cnonce of the first request;
        # python-requests recomputes it with every new cnonce.  Try this request's first.
        yield digest_ha1(algorithm, "", "", "", nonce, cnonce, ha1_base=base), note
        if first_cnonce is not None and first_cnonce != cnonce:
            extra = f"{algorithm} HA1 from the first cnonce"
            yield (
                digest_ha1(algorithm, "", "", "", nonce, first_cnonce, ha1_base=base),
                extra if note is None else f"{extra}; {note}",
            )


def _qops(qop: str | None) -> list[tuple[str | None, str | None]]:
    """The qop as sent, then each value of an echoed list ("auth,auth-int")."""
    found: list[tuple[str | None, str | None]] = [(qop, None)]
    if qop is not None and "," in qop:
        for option in qop.split(","):
            option = option.strip(" \t")
            if option:
                found.append((option, f"hashed with qop {option!r} although {qop!r} was sent"))
    return found


def _origin_form(uri: str) -> str:
    scheme, sep, rest = uri.partition("://")
    if not sep or "/" in scheme:
        return uri
    slash = rest.find("/")
    query = rest.find("?")
    if slash < 0 or 0 <= query < slash:
        return "/" + rest[query:] if query >= 0 else "/"
    return rest[slash:]


def _same_resource(request_uri: str, field_uri: str) -> bool:
    """True when one is the absolute-form and the other the origin-form of the same target."""
    return _origin_form(request_uri) == _origin_form(field_uri)


def _uri_note(request_uri: str, field_uri: str) -> str:
    if request_uri.partition("?")[0] == field_uri and "?" in request_uri:
        return (
            f"the response is computed over the uri field {field_uri!r}, which lacks the query string "
            f"of the request line {request_uri!r} (mechanize#31, urllib#396)"
        )
    return f"the response is computed over the uri field {field_uri!r}, not the request line {request_uri!r}"


def verify_digest(
    creds: DigestCredentials,
    password: str | bytes,
    method: str,
    request_uri: str,
    body: bytes = b"",
    *,
    realm: str | None = None,
    username: str | None = None,
    first_cnonce: str | None = None,
) -> DigestVerdict:
    """Check a Digest ``response`` against a password; never raises.

    The response is computed with ``method`` and ``request_uri`` from the request line
    (RFC 7616 §3.4.6: the server uses its own view of the request, not the uri field).  When
    that fails, the variants seen in the field are tried and named in ``notes``:

    - the ``uri`` field instead of the request line: valid when it is only the origin-form of
      an absolute-form request-target (§3.4.6 lets servers accept that), else "uri mismatch"
      (typically the query string left out, mechanize#31, urllib#396);
    - each qop of an echoed option list ``"auth,auth-int"`` (psf/requests#2408);
    - for -sess algorithms, HA1 from ``first_cnonce``: RFC 2617 computes the session key once
      with the first request's cnonce and reuses it, while python-requests recomputes it with
      each request's cnonce (tried first);
    - the username, realm and password as ISO-8859-1 instead of UTF-8.

    ``realm``/``username`` come from the secret: a difference from the credentials gives
    "realm mismatch"/"username mismatch" (the response is still computed with the values as
    sent, and the notes say whether it matched).  With ``userhash`` the ``username`` argument
    is required and H(username:realm) is compared with the username field.  For auth-int,
    ``body`` is the request body (b"" when absent; a note says so).
    """
    try:
        return _verify(creds, password, method, request_uri, body, realm, username, first_cnonce)
    except Exception as exc:  # a bug must not take the verifier down
        return DigestVerdict(False, f"internal error: {exc!r}"[:300])


def _verify(
    creds: DigestCredentials,
    password: str | bytes,
    method: str,
    request_uri: str,
    body: bytes,
    secret_realm: str | None,
    secret_user: str | None,
    first_cnonce: str | None,
) -> DigestVerdict:
    algorithm = creds.algorithm
    if algorithm not in DIGEST_ALGORITHMS:
        return DigestVerdict(False, f"unsupported algorithm {creds.algorithm_raw or algorithm}")

    notes: list[str] = []
    response = (creds.response or "").strip(" \t")
    expected_len = HEX_LENGTHS[algorithm]
    if not _is_hex(response) or len(response) != expected_len:
        if _is_hex(response):
            notes.append(f"response has {len(response)} hex digits, {algorithm} gives {expected_len}")
        elif creds.response is None:
            notes.append("no response parameter")
        return DigestVerdict(False, "malformed response", tuple(notes))
    wanted = response.lower()
    if wanted != response:
        notes.append("response in uppercase hex")

    reason: str | None = None
    realm = creds.realm
    if realm is None:
        realm = secret_realm or ""
        notes.append(f"no realm in the credentials: computed with {realm!r}")
    elif secret_realm is not None and secret_realm != realm:
        reason = "realm mismatch"
        notes.append(f"realm {realm!r} in the credentials, {secret_realm!r} in the secret")

    if creds.userhash:
        if secret_user is None:
            return DigestVerdict(
                False, "username unknown", (*notes, "userhash: the secret names no username")
            )
        user = secret_user
        if (creds.username or "").lower() != digest_userhash(algorithm, user, realm):
            reason = "username mismatch"
            notes.append(f"the userhash is not H({user!r}:{realm!r})")
    else:
        sent = creds.identity
        if sent is None:
            if secret_user is None:
                return DigestVerdict(False, "username unknown", (*notes, "no username in the credentials"))
            sent = secret_user
            notes.append(f"no username in the credentials: computed with {sent!r}")
        elif secret_user is not None and secret_user != sent:
            reason = "username mismatch"
            notes.append(f"username {sent!r} in the credentials, {secret_user!r} in the secret")
        user = sent

    nonce = creds.nonce
    if nonce is None:
        nonce = ""
        notes.append("no nonce: computed with an empty nonce")
    if creds.qop is not None and (creds.nc is None or creds.cnonce is None):
        notes.append("qop without nc or cnonce: the missing ones hashed as empty")
    cnonce = creds.cnonce or ""

    request_uri = wire_text(request_uri)
    uris = [request_uri]
    if creds.uri is not None and creds.uri != request_uri:
        uris.append(creds.uri)
    qops = _qops(creds.qop)
    ha1s = list(_ha1s(algorithm, user, realm, password, nonce, cnonce, first_cnonce))

    for index, uri in enumerate(uris):
        for qop, qop_note in qops:
            for ha1, ha1_note in ha1s:
                if digest_response(algorithm, ha1, nonce, creds.nc, cnonce, qop, method, uri, body) != wanted:
                    continue
                notes.extend(n for n in (qop_note, ha1_note) if n is not None)
                if qop is not None and qop.lower() == "auth-int" and not body:
                    notes.append("auth-int checked against an empty body")
                if reason is not None:
                    notes.append("the response matches the password with the values as sent")
                if index == 0:
                    if len(uris) > 1:
                        notes.append(
                            f"the uri field {creds.uri!r} differs from the request line {request_uri!r}"
                        )
                elif _same_resource(request_uri, uri):
                    notes.append(
                        f"the uri field {uri!r} is the origin-form of the request line {request_uri!r}"
                        " (accepted, RFC 7616 §3.4.6)"
                    )
                else:
                    notes.append(_uri_note(request_uri, uri))
                    reason = reason or "uri mismatch"
                return DigestVerdict(reason is None, reason, tuple(notes), ha1)

    if reason is not None:
        notes.append("the password does not reproduce the response either")
    elif any(q is not None and q.lower() == "auth-int" for q, _ in qops) and not body:
        notes.append("auth-int checked against an empty body")
    return DigestVerdict(False, reason or "password mismatch", tuple(notes))


def verify_rspauth(
    creds: DigestCredentials,
    password: str | bytes,
    rspauth: str,
    body: bytes = b"",
    ha1: str | None = None,
    *,
    username: str | None = None,
) -> bool:
    """Whether ``rspauth`` (from Authentication-Info) proves the server knows the password.

    Pass ``ha1`` from :class:`DigestVerdict` to reuse the key that verified the request (needed
    for the first-cnonce -sess variant); ``username`` is needed with userhash.  ``body`` is the
    response body (auth-int).  Never raises.
    """
    try:
        algorithm = creds.algorithm
        if algorithm not in DIGEST_ALGORITHMS:
            return False
        wanted = rspauth.strip(" \t").lower()
        nonce, cnonce = creds.nonce or "", creds.cnonce or ""
        if ha1 is not None:
            keys = [ha1]
        else:
            user = username if (creds.userhash or creds.identity is None) else creds.identity
            if user is None:
                return False
            keys = [k for k, _ in _ha1s(algorithm, user, creds.realm or "", password, nonce, cnonce, None)]
        return any(
            digest_rspauth(algorithm, key, nonce, creds.nc, cnonce, qop, creds.uri or "", body) == wanted
            for key in keys
            for qop, _ in _qops(creds.qop)
        )
    except Exception:  # never raise on what came off the wire
        return False
