"""OMA DS/DM SyncML credentials, the x-syncml-hmac header and the Package #0 digest.

H is MD5 (raw 16 bytes), B64 is base64 (RFC 4648 §4):

- syncml:auth-basic  Data = B64(user ":" password)                     (RepPro 1.2.1 §5.3)
- syncml:auth-md5    Data = B64(H(B64(H(user ":" password)) ":" nonce))  (RepPro 1.2.1 §5.3,
  DM Security 1.2 §5.1.3.2); nonce = the raw bytes of the base64-decoded NextNonce; in WBXML
  the 16 bytes may be sent without the base64 layer
- syncml:auth-MAC    x-syncml-hmac: algorithm=MD5, username="<LocName>", mac=B64(
  H(B64(H(user ":" password)) ":" nonce ":" B64(H(HTTP body as sent))))  (DM Security 1.2)
- Package #0         digest = H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))
  (DM Notification 1.2; libdmclient package0.c); trigger = every byte after the digest

The spec's HMAC example carries B64 of the 32-digit hex MAC while Motorola's dmlib sends B64
of the raw 16 bytes, so :func:`mac_matches` accepts both (padded or not) and says which.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Final

from ._records import AuthParseError, SyncmlHmac
from ._scan import WS, Scanner

__all__ = [
    "RESYNC_NONCES",
    "mac_matches",
    "parse_syncml_basic",
    "parse_syncml_hmac",
    "pkg0_digest",
    "syncml_basic",
    "syncml_hmac",
    "syncml_md5",
]

#: Nonces to try when a Package #0 digest fails with the stored nonce.  After a bad digest
#: DM Notification 1.2 has the client resynchronise with nonce 0x00000000; libdmclient puts
#: the literal string "0x00000000" instead of four zero bytes, so try both.
RESYNC_NONCES: Final[tuple[tuple[str, bytes], ...]] = (
    ("0x00000000 (4 zero bytes)", b"\0\0\0\0"),
    ("'0x00000000' (the literal string)", b"0x00000000"),
)


def _enc(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _b64md5(data: bytes) -> bytes:
    return base64.b64encode(hashlib.md5(data).digest())


def syncml_basic(username: str | bytes, password: str | bytes) -> str:
    """syncml:auth-basic Cred Data: B64(user ":" password)."""
    return base64.b64encode(_enc(username) + b":" + _enc(password)).decode("ascii")


def parse_syncml_basic(data: str | bytes) -> tuple[str, str] | None:
    """(user, password) from syncml:auth-basic Cred Data; None when it is not base64 "user:password".

    Missing padding is tolerated; non-UTF-8 credentials are read as ISO-8859-1.  Never raises.
    """
    raw = _b64decode(data)
    if raw is None:
        return None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    username, colon, password = text.partition(":")
    return (username, password) if colon else None


def syncml_md5(username: str | bytes, password: str | bytes, nonce: bytes) -> bytes:
    """syncml:auth-md5 digest, raw 16 bytes: H(B64(H(user ":" password)) ":" nonce)."""
    return hashlib.md5(_b64md5(_enc(username) + b":" + _enc(password)) + b":" + nonce).digest()


def syncml_hmac(username: str | bytes, password: str | bytes, nonce: bytes, body: bytes) -> bytes:
    """x-syncml-hmac MAC, raw 16 bytes: H(B64(H(user ":" password)) ":" nonce ":" B64(H(body)))."""
    secret = _b64md5(_enc(username) + b":" + _enc(password))
    return hashlib.md5(secret + b":" + nonce + b":" + _b64md5(body)).digest()


def pkg0_digest(server_id: str | bytes, password: str | bytes, nonce: bytes, trigger: bytes) -> bytes:
    """Package #0 digest, raw 16 bytes: H(B64(H(server-id ":" password)) ":" nonce ":" B64(H(trigger)))."""
    secret = _b64md5(_enc(server_id) + b":" + _enc(password))
    return hashlib.md5(secret + b":" + nonce + b":" + _b64md5(trigger)).digest()


def _b64decode(data: str | bytes) -> bytes | None:
    """Lenient base64: whitespace, missing padding and the URL-safe alphabet are accepted."""
    if isinstance(data, str):
        if not data.isascii():
            return None
        data = data.encode("ascii")
    compact = b"".join(bytes(data).split()).rstrip(b"=")
    if not compact or len(compact) % 4 == 1:
        return None
    compact = compact.replace(b"-", b"+").replace(b"_", b"/")
    try:
        return base64.b64decode(compact + b"=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


def mac_matches(data: str | bytes, expected: bytes) -> str | None:
    """How ``data`` (a MAC or md5 Cred as sent) encodes ``expected`` (raw digest); None if it doesn't.

    Returns "raw" (``bytes`` equal to the digest: WBXML opaque Cred), "b64-raw" (base64 of the
    raw bytes), "b64-hex" (base64 of the hex digits, as in the DM Security example; either case)
    or "hex" (the hex digits themselves).  Base64 may lack its padding.  Never raises.
    """
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if raw == expected:
            return "raw"
        try:
            data = raw.decode("ascii")
        except UnicodeDecodeError:
            return None
    text = "".join(data.split())
    if not text:
        return None
    decoded = _b64decode(text)
    if decoded is not None:
        if decoded == expected:
            return "b64-raw"
        if decoded.lower() == expected.hex().encode("ascii"):
            return "b64-hex"
    if text.lower() == expected.hex():
        return "hex"
    return None


def parse_syncml_hmac(value: str) -> SyncmlHmac | AuthParseError:
    """Parse ``x-syncml-hmac: algorithm=MD5, username="x", mac=<b64>``; never raises.

    Separators may be commas or semicolons, names any case, values quoted or not; algorithm
    defaults to MD5.  A value without a mac is an :class:`AuthParseError`.
    """
    try:
        return _parse_syncml_hmac(value)
    except Exception as exc:  # a parser bug must not take the analyser down
        return AuthParseError(f"internal parser error: {exc!r}"[:300])


_KNOWN: Final = ("algorithm", "username", "mac")


def _parse_syncml_hmac(value: str) -> SyncmlHmac | AuthParseError:
    text = value.strip(WS)
    name, colon, rest = text.partition(":")
    extra: list[str] = []
    if colon and name.strip(WS).lower() == "x-syncml-hmac":
        text = rest
        extra.append("info: the header name was included in the value")
    scanner = Scanner(text, seps=",;")
    params = scanner.params()
    problems = extra + scanner.problems
    by_name: dict[str, tuple[str, bool]] = {}
    for param in params:
        if param.name in by_name:
            problems.append(f"warning: {param.name} appears more than once, the first is used")
            continue
        by_name[param.name] = (param.value, param.quoted)
        if param.name not in _KNOWN:
            problems.append(f"info: unknown parameter {param.raw_name[:40]!r}")
    mac = by_name.get("mac")
    if mac is None or not mac[0]:
        return AuthParseError(
            "x-syncml-hmac without a mac" if mac is None else "x-syncml-hmac with an empty mac"
        )
    if mac[1]:
        problems.append("info: mac is quoted")
    if _b64decode(mac[0]) is None:
        problems.append(f"warning: mac {mac[0][:40]!r} is not base64")
    algorithm_value = by_name.get("algorithm")
    algorithm = "MD5" if algorithm_value is None else algorithm_value[0].upper()
    if algorithm != "MD5":
        problems.append(f"warning: algorithm {algorithm[:20]!r}, only MD5 is defined")
    user = by_name.get("username")
    if user is None:
        problems.append("warning: no username")
    elif not user[1]:
        problems.append("info: username is not quoted")
    return SyncmlHmac(
        algorithm=algorithm,
        username=None if user is None else user[0],
        mac=mac[0],
        problems=tuple(problems),
    )
