"""Immutable records produced by the parsers in :mod:`decoders.auth`.

Header values come in as the HTTP decoder gives them (latin-1 text, one character per byte);
parameter values that hold UTF-8 byte sequences are read back as UTF-8.  ``params`` keeps every
parameter in wire order with lower-cased names; ``quirks`` lists tolerated interoperability
deviations (one line each, no severity); ``problems`` are one-line strings prefixed with their
severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .._frozen import quick_init

__all__ = [
    "AuthParseError",
    "BasicCredentials",
    "Challenge",
    "DigestCredentials",
    "DigestVerdict",
    "SyncmlHmac",
]


@quick_init
@dataclass(frozen=True, slots=True)
class AuthParseError:
    """The header value could not be read as credentials of a supported scheme."""

    reason: str
    scheme: str | None = None  #: the auth-scheme as sent, when one was found


@quick_init
@dataclass(frozen=True, slots=True)
class BasicCredentials:
    """``Authorization: Basic <base64(user ":" password)>`` (RFC 7617)."""

    username: str
    password: str
    problems: tuple[str, ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class DigestCredentials:
    """``Authorization: Digest ...`` (RFC 7616 §3.4, RFC 2617 §3.2.2)."""

    username: str | None  #: as sent; the hash itself when ``userhash`` is true
    username_star: str | None  #: ``username*`` (RFC 5987/8187 ext-value), decoded
    userhash: bool
    realm: str | None
    nonce: str | None
    uri: str | None  #: the digest-uri field, which the client hashed (not the request line)
    response: str | None
    algorithm: str  #: normalised ("MD5", "SHA-256-sess", ...); "MD5" when absent; as sent when unknown
    algorithm_raw: str | None  #: as sent, None when absent
    qop: str | None  #: as sent (the hash uses it verbatim)
    nc: str | None
    cnonce: str | None
    opaque: str | None
    params: tuple[tuple[str, str], ...] = ()  #: every parameter, lower-cased names, wire order
    quirks: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def identity(self) -> str | None:
        """Who the client claims to be: ``username`` (the hash for userhash), else ``username*``."""
        return self.username if self.username is not None else self.username_star


@quick_init
@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a ``WWW-Authenticate``/``Proxy-Authenticate`` value (RFC 7235 §4.1)."""

    scheme: str  #: as sent ("Digest", "Basic", "Negotiate", ...)
    realm: str | None = None
    nonce: str | None = None
    opaque: str | None = None
    algorithm: str | None = None  #: Digest only: normalised, "MD5" when absent, as sent when unknown
    algorithm_raw: str | None = None
    qop_options: tuple[str, ...] = ()
    stale: bool = False
    domain: str | None = None
    userhash: bool = False
    charset: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    quirks: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    token68: str | None = None  #: for schemes such as Negotiate/NTLM that send a token, not params


@quick_init
@dataclass(frozen=True, slots=True)
class DigestVerdict:
    """Outcome of :func:`decoders.auth.verify_digest`.

    ``reason`` is None when valid, else one of "password mismatch", "uri mismatch",
    "realm mismatch", "username mismatch", "malformed response", "unsupported algorithm X",
    "username unknown" (none sent, or userhash without a username in the secret).  ``ha1``
    is the HA1 (session key for -sess) that reproduced the response, for checking
    ``rspauth``; None when nothing matched.
    """

    valid: bool
    reason: str | None
    notes: tuple[str, ...] = ()
    ha1: str | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class SyncmlHmac:
    """The ``x-syncml-hmac`` HTTP header carrying an OMA DM syncml:auth-MAC (DM Security 1.2)."""

    algorithm: str  #: upper-cased; "MD5" when absent (the only one defined)
    username: str | None
    mac: str  #: base64 text as sent
    problems: tuple[str, ...] = ()
