"""Parsers for Authorization, WWW-Authenticate and Authentication-Info values; never raising.

Grammar: RFC 7235 §2.1/§4.1 (challenges and credentials), RFC 7617 (Basic), RFC 7616 §3.3-3.5
and RFC 2617 §3.2 (Digest), RFC 8187 (``username*``).  Interop deviations that real peers
send (cwmp.md §3: quoted ``algorithm``, ``opaque="(null)"``, ``qop="auth,auth-int"`` echoed,
``qop=undefined`` ...) are accepted and listed in ``quirks``; outright breakage goes to
``problems``.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final
from urllib.parse import unquote_to_bytes

from ._digest import HEX_LENGTHS, normalise_algorithm
from ._records import AuthParseError, BasicCredentials, Challenge, DigestCredentials
from ._scan import TOKEN68_RE, WS, Param, Scanner

__all__ = ["parse_authentication_info", "parse_authorization", "parse_www_authenticate"]

_MUST_QUOTE: Final = ("username", "realm", "nonce", "uri", "response", "cnonce", "opaque")
_MUST_NOT_QUOTE: Final = ("algorithm", "qop", "nc", "userhash")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_QOPS: Final = ("auth", "auth-int")


def _internal_error(exc: Exception) -> AuthParseError:
    return AuthParseError(f"internal parser error: {exc!r}"[:300])


# ---------------------------------------------------------------------------------------------
# Authorization


def parse_authorization(value: str) -> BasicCredentials | DigestCredentials | AuthParseError:
    """Parse an ``Authorization`` or ``Proxy-Authorization`` value (Basic or Digest)."""
    try:
        return _parse_authorization(value)
    except Exception as exc:  # a parser bug must not take the analyser down
        return _internal_error(exc)


def _parse_authorization(value: str) -> BasicCredentials | DigestCredentials | AuthParseError:
    scanner = Scanner(value.strip(WS))
    if scanner.at_end():
        return AuthParseError("empty credentials")
    scheme = scanner.token()
    if not scheme:
        return AuthParseError(f"no auth-scheme at the start of {value[:40]!r}")
    lowered = scheme.lower()
    if lowered == "basic":
        return _basic(scanner.text[scanner.pos :], scheme)
    if lowered == "digest":
        return _digest(scanner, scheme)
    return AuthParseError(f"unsupported scheme {scheme[:40]!r}", scheme)


def _basic(rest: str, scheme: str) -> BasicCredentials | AuthParseError:
    problems: list[str] = []
    token = "".join(rest.split())
    if not token:
        return AuthParseError("Basic without credentials", scheme)
    if token != rest.strip(WS):
        problems.append("warning: whitespace inside the Basic credentials")
    raw = _b64decode(token, problems)
    if raw is None:
        return AuthParseError(f"Basic credentials are not base64: {token[:40]!r}", scheme)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
        problems.append("warning: credentials are not UTF-8, read as ISO-8859-1")
    username, colon, password = text.partition(":")
    if not colon:
        problems.append("error: no ':' between user-id and password")
    return BasicCredentials(username, password, tuple(problems))


def _b64decode(token: str, problems: list[str]) -> bytes | None:
    """Standard base64, tolerating missing padding and the URL-safe alphabet (with a warning)."""
    if not token.isascii():
        return None
    if "-" in token or "_" in token:
        problems.append("warning: URL-safe base64 alphabet")
        token = token.replace("-", "+").replace("_", "/")
    stripped = token.rstrip("=")
    if len(stripped) % 4 == 1:
        return None
    padded = stripped + "=" * (-len(stripped) % 4)
    if padded != token:
        problems.append("warning: base64 padding is wrong or missing")
    try:
        return base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None


def _collect(
    params: list[Param], quirks: list[str], problems: list[str]
) -> tuple[dict[str, Param], tuple[tuple[str, str], ...]]:
    """First occurrence of each name, plus the full (name, value) list in wire order."""
    first: dict[str, Param] = {}
    for param in params:
        if param.name in first:
            problems.append(f"warning: {param.name} appears more than once, the first is used")
            continue
        first[param.name] = param
        if param.literal_backslash:
            quirks.append(f"unescaped backslash in {param.name} kept literally (e.g. DOMAIN\\user)")
    return first, tuple((p.name, p.value) for p in params)


def _digest(scanner: Scanner, scheme: str) -> DigestCredentials | AuthParseError:
    if not scanner.at_end() and scanner.peek() not in WS:
        scanner.problems.append(f"warning: no space after {scheme!r}")
    found = scanner.params()
    if not found:
        return AuthParseError("Digest credentials without parameters", scheme)
    quirks: list[str] = []
    problems = scanner.problems
    by_name, params = _collect(found, quirks, problems)

    def get(name: str) -> str | None:
        param = by_name.get(name)
        return None if param is None else param.value

    for name in _MUST_QUOTE:
        param = by_name.get(name)
        if param is not None and not param.quoted:
            quirks.append(f"{name} is not quoted")
    for name in _MUST_NOT_QUOTE:
        param = by_name.get(name)
        if param is not None and param.quoted:
            quirks.append(f'{name} is quoted ({name}="{param.value}")')

    username = get("username")
    username_star = _username_star(by_name.get("username*"), quirks, problems)
    if username is not None and username_star is not None:
        problems.append("warning: both username and username* (RFC 7616 §3.4 allows one)")
    elif username is None and username_star is None:
        problems.append("error: no username")

    userhash = _flag(get("userhash"), "userhash", problems)
    if userhash and username is None:
        problems.append("warning: userhash=true without a username to hold the hash")

    algorithm_raw = get("algorithm")
    algorithm = _algorithm(algorithm_raw, quirks, problems)

    qop, nc, cnonce = get("qop"), get("nc"), get("cnonce")
    _check_qop(qop, nc, cnonce, quirks, problems)

    for name in ("realm", "nonce", "uri"):
        if name not in by_name:
            problems.append(f"{'error' if name == 'nonce' else 'warning'}: no {name}")
    response = get("response")
    _check_response(response, algorithm, quirks, problems)

    opaque = get("opaque")
    if opaque == "(null)":
        quirks.append('opaque "(null)": a C NULL printed by the client (gSOAP)')
    elif opaque == "":
        quirks.append("opaque is empty")

    return DigestCredentials(
        username=username,
        username_star=username_star,
        userhash=userhash,
        realm=get("realm"),
        nonce=get("nonce"),
        uri=get("uri"),
        response=response,
        algorithm=algorithm,
        algorithm_raw=algorithm_raw,
        qop=qop,
        nc=nc,
        cnonce=cnonce,
        opaque=opaque,
        params=params,
        quirks=tuple(quirks),
        problems=tuple(problems),
    )


def _username_star(param: Param | None, quirks: list[str], problems: list[str]) -> str | None:
    """Decode an RFC 8187 ext-value: charset "'" [language] "'" pct-encoded octets."""
    if param is None:
        return None
    if param.quoted:
        quirks.append("username* is quoted")
    charset, sep1, rest = param.value.partition("'")
    _language, sep2, encoded = rest.partition("'")
    if not (sep1 and sep2):
        problems.append("warning: username* is not an RFC 8187 ext-value, kept as sent")
        return param.value
    codec = charset.lower()
    if codec not in ("utf-8", "iso-8859-1"):
        problems.append(f"warning: username* charset {charset[:20]!r} (RFC 8187 allows UTF-8 and ISO-8859-1)")
        codec = "utf-8"
    raw = unquote_to_bytes(encoded)
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        problems.append(f"warning: username* is not valid {codec}")
        return raw.decode(codec, errors="replace")


def _flag(value: str | None, name: str, problems: list[str]) -> bool:
    if value is None:
        return False
    lowered = value.strip(WS).lower()
    if lowered not in ("true", "false"):
        problems.append(f"warning: {name}={value[:20]!r} is neither true nor false")
    return lowered == "true"


def _algorithm(raw: str | None, quirks: list[str], problems: list[str]) -> str:
    if raw is None:
        return "MD5"
    algorithm = normalise_algorithm(raw)
    if algorithm is None:
        problems.append(f"warning: unknown algorithm {raw[:40]!r}")
        return raw
    if algorithm.upper() != raw.strip(WS).upper():
        quirks.append(f"algorithm {raw!r} read as {algorithm}")
    return algorithm


def _check_qop(
    qop: str | None, nc: str | None, cnonce: str | None, quirks: list[str], problems: list[str]
) -> None:
    if qop is None:
        if nc is not None or cnonce is not None:
            problems.append("warning: nc or cnonce without qop")
        problems.append("info: no qop: RFC 2069 compatibility form (RFC 7616 requires qop)")
        return
    if "," in qop:
        quirks.append(f"qop {qop!r}: the challenge's option list echoed (psf/requests#2408)")
    elif qop.strip(WS).lower() == "undefined":
        quirks.append("qop=undefined (old GenieACS connection-request code, genieacs#181)")
    elif qop.lower() not in _QOPS:
        problems.append(f"warning: qop {qop[:40]!r} is neither auth nor auth-int")
    if nc is None or cnonce is None:
        problems.append("warning: qop without nc or cnonce")
    if nc is not None and not (len(nc) == 8 and set(nc) <= _HEX):
        problems.append(f"warning: nc {nc[:20]!r} is not 8 hex digits")


def _check_response(response: str | None, algorithm: str, quirks: list[str], problems: list[str]) -> None:
    if response is None:
        problems.append("error: no response")
        return
    if not (response and set(response) <= _HEX):
        problems.append(f"warning: response {response[:80]!r} is not hex")
        return
    if response != response.lower():
        quirks.append("response in uppercase hex")
    expected = HEX_LENGTHS.get(algorithm)
    if expected is not None and len(response) != expected:
        problems.append(f"warning: response has {len(response)} hex digits, {algorithm} gives {expected}")


# ---------------------------------------------------------------------------------------------
# WWW-Authenticate


def parse_www_authenticate(value: str) -> tuple[Challenge, ...]:
    """Every challenge in a ``WWW-Authenticate``/``Proxy-Authenticate`` value, in order.

    Several challenges may share one value (``Digest realm="a", nonce="b", Basic realm="c"``):
    a token not followed by ``=`` starts a new challenge.  Never raises: an empty value gives
    (), problems found before the first scheme go to the first challenge, and a value without
    any scheme gives one ``Challenge(scheme="")`` that carries them.
    """
    try:
        return _parse_www_authenticate(value)
    except Exception as exc:  # a parser bug must not take the analyser down
        return (Challenge(scheme="", problems=(f"error: internal parser error: {exc!r}"[:300],)),)


class _Pending:
    """A challenge being read: its scheme, token68 and params (internal)."""

    __slots__ = ("params", "problems", "scheme", "token68")

    def __init__(self, scheme: str) -> None:
        self.scheme = scheme
        self.token68: str | None = None
        self.params: list[Param] = []
        self.problems: list[str] = []


def _parse_www_authenticate(value: str) -> tuple[Challenge, ...]:
    scanner = Scanner(value)
    pending: list[_Pending] = []
    while True:
        scanner.skip_separators()
        if scanner.at_end():
            break
        start = scanner.pos
        raw_name = scanner.token()
        if not raw_name:
            skipped = scanner.skip_element()
            target = pending[-1].problems if pending else scanner.problems
            target.append(f"warning: unreadable element {skipped[:40]!r} skipped")
            continue
        scanner.skip_ws()
        if scanner.peek() == "=" and pending:
            before = len(scanner.problems)
            pending[-1].params.append(scanner.param_after_name(raw_name))
            pending[-1].problems.extend(scanner.problems[before:])
            del scanner.problems[before:]
            continue
        if scanner.peek() == "=":  # a parameter before any scheme
            scanner.pos = start
            scanner.problems.append(
                f"warning: parameters before any auth-scheme: {scanner.skip_element()[:40]!r}"
            )
            continue
        challenge = _Pending(raw_name)
        pending.append(challenge)
        _token68(scanner, challenge)
    challenges = tuple(_challenge(p) for p in pending)
    if scanner.problems and challenges:
        first = challenges[0]
        challenges = (_with_problems(first, tuple(scanner.problems)), *challenges[1:])
    elif scanner.problems:
        challenges = (Challenge(scheme="", problems=tuple(scanner.problems)),)
    return challenges


def _token68(scanner: Scanner, challenge: _Pending) -> None:
    """After a scheme: take a token68 (RFC 7235 §2.1) when one stands alone before the next comma."""
    if challenge.scheme.lower() == "digest":
        return  # Digest has only auth-params
    match = TOKEN68_RE.match(scanner.text, scanner.pos)
    if match is None:
        return
    after = match.end()
    while after < len(scanner.text) and scanner.text[after] in WS:
        after += 1
    if after < len(scanner.text) and scanner.text[after] not in scanner.seps:
        return  # "realm=x": an auth-param follows
    challenge.token68 = match.group()
    scanner.pos = after


def _with_problems(challenge: Challenge, extra: tuple[str, ...]) -> Challenge:
    return Challenge(
        scheme=challenge.scheme,
        realm=challenge.realm,
        nonce=challenge.nonce,
        opaque=challenge.opaque,
        algorithm=challenge.algorithm,
        algorithm_raw=challenge.algorithm_raw,
        qop_options=challenge.qop_options,
        stale=challenge.stale,
        domain=challenge.domain,
        userhash=challenge.userhash,
        charset=challenge.charset,
        params=challenge.params,
        quirks=challenge.quirks,
        problems=challenge.problems + extra,
        token68=challenge.token68,
    )


def _challenge(pending: _Pending) -> Challenge:
    quirks: list[str] = []
    problems = pending.problems
    by_name, params = _collect(pending.params, quirks, problems)

    def get(name: str) -> str | None:
        param = by_name.get(name)
        return None if param is None else param.value

    lowered = pending.scheme.lower()
    realm = get("realm")
    if realm is None and lowered in ("basic", "digest"):
        problems.append("warning: no realm (RFC 7235 §2.2 requires one)")
    charset = get("charset")
    if charset is not None and charset.lower() != "utf-8":
        problems.append(f"warning: charset {charset[:20]!r} (only UTF-8 is defined)")

    algorithm: str | None = None
    algorithm_raw = get("algorithm")
    qop_options: tuple[str, ...] = ()
    if lowered == "digest":
        algorithm = _algorithm(algorithm_raw, quirks, problems)
        for name in ("algorithm", "stale", "userhash"):
            param = by_name.get(name)
            if param is not None and param.quoted:
                quirks.append(f'{name} is quoted ({name}="{param.value}")')
        for name in ("realm", "nonce", "opaque", "qop", "domain"):
            param = by_name.get(name)
            if param is not None and not param.quoted:
                quirks.append(f"{name} is not quoted")
        if get("nonce") is None:
            problems.append("error: no nonce")
        qop = get("qop")
        if qop is None:
            problems.append("info: no qop: RFC 2069 compatibility challenge (RFC 7616 requires qop)")
        else:
            qop_options = tuple(o for o in (s.strip(WS) for s in qop.split(",")) if o)
            for option in qop_options:
                if option.lower() not in _QOPS:
                    problems.append(f"info: unknown qop option {option[:40]!r}")
        if get("opaque") == "(null)":
            quirks.append('opaque "(null)": a C NULL printed by the server')
    return Challenge(
        scheme=pending.scheme,
        realm=realm,
        nonce=get("nonce"),
        opaque=get("opaque"),
        algorithm=algorithm,
        algorithm_raw=algorithm_raw,
        qop_options=qop_options,
        stale=_flag(get("stale"), "stale", problems),
        domain=get("domain"),
        userhash=_flag(get("userhash"), "userhash", problems),
        charset=charset,
        params=params,
        quirks=tuple(quirks),
        problems=tuple(problems),
        token68=pending.token68,
    )


# ---------------------------------------------------------------------------------------------
# Authentication-Info


def parse_authentication_info(value: str) -> dict[str, str]:
    """``Authentication-Info`` (RFC 7615; rspauth, qop, nc, cnonce, nextnonce) as a dict.

    Keys are lower-cased; the first occurrence of a name wins.  Never raises.
    """
    try:
        found: dict[str, str] = {}
        for param in Scanner(value).params():
            found.setdefault(param.name, param.value)
        return found
    except Exception:  # a parser bug must not take the analyser down
        return {}
