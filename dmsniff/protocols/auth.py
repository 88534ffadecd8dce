"""The credentials and challenges in HTTP headers, parsed once per message.

Like the body parsing beside it this is stateless, and runs where the transaction is built: in a
parallel or cluster run the workers parse, and the verifier and the session builders, which both
read every ``Authorization`` header, share one parse (``HttpMessage.parsed_auth``).  A message
nobody parsed (built by hand, or by an older producer) is parsed on demand: the answer is the same.
"""

from __future__ import annotations

from decoders.auth import (
    AuthParseError,
    BasicCredentials,
    Challenge,
    DigestCredentials,
    parse_authorization,
    parse_www_authenticate,
)
from dmsniff.model import HttpMessage

__all__ = ["AUTHORIZATION", "CHALLENGES", "challenges", "credentials", "parse_auth_headers"]

AUTHORIZATION = ("authorization", "proxy-authorization")
CHALLENGES = ("www-authenticate", "proxy-authenticate")
_CREDENTIALS, _CHALLENGES = "c", "w"


def parse_auth_headers(msg: HttpMessage) -> None:
    """Parse a request's Authorization headers, or a 401/407 response's challenges (what the verifier
    and the session builders read), into ``msg.parsed_auth``."""
    if msg.method is not None:
        names, kind = AUTHORIZATION, _CREDENTIALS
    elif msg.status in (401, 407):
        names, kind = CHALLENGES, _CHALLENGES
    else:
        return
    parsed: dict[tuple[str, str], object] | None = None
    for name, value in msg.headers:
        if name.lower() in names:
            if parsed is None:
                parsed = {}
            key = (kind, value)
            if key not in parsed:
                parse = parse_authorization if kind == _CREDENTIALS else parse_www_authenticate
                parsed[key] = parse(value)
    msg.parsed_auth = parsed


def credentials(msg: HttpMessage, value: str) -> BasicCredentials | DigestCredentials | AuthParseError:
    """``value``, one of ``msg``'s Authorization headers, parsed (as by ``parse_authorization``)."""
    parsed = msg.parsed_auth
    got = parsed.get((_CREDENTIALS, value)) if parsed is not None else None
    if isinstance(got, BasicCredentials | DigestCredentials | AuthParseError):
        return got
    return parse_authorization(value)


def challenges(msg: HttpMessage, value: str) -> tuple[Challenge, ...]:
    """``value``, one of ``msg``'s WWW-Authenticate headers, parsed (as by ``parse_www_authenticate``)."""
    parsed = msg.parsed_auth
    got = parsed.get((_CHALLENGES, value)) if parsed is not None else None
    if isinstance(got, tuple):
        return got
    return parse_www_authenticate(value)
