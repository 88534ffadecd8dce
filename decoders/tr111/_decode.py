"""decode(): one UDP datagram to a :class:`UdpConnectionRequest`, never raising.

TR-069 Annex G (G.2.2.3): the message is an HTTP 1.1 GET with no body whose Request-URI is
absolute, has an empty path and a form-urlencoded query carrying ts, id, un, cn and sig.
Deviations seen in the field are decoded anyway and reported as problems; only a datagram
without a request line is rejected.
"""

from __future__ import annotations

import hmac
import re
from typing import Final
from urllib.parse import unquote_plus

from decoders._errors import internal_error

from ._records import UdpConnectionRequest, UdpCrError

__all__ = ["FIELDS", "decode", "looks_like_udp_connection_request", "signature"]

#: The query names Annex G requires, in signing order (sig last, it is not signed).
FIELDS: Final = ("ts", "id", "un", "cn", "sig")

_REQUEST_LINE: Final = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+) +(\S+) +(HTTP/\d+\.\d+)\s*")
_HEX: Final = frozenset("0123456789abcdefABCDEF")
_SNIFF_LIMIT: Final = 2048  # a request line longer than this is not a UDP CR


def looks_like_udp_connection_request(payload: bytes) -> bool:
    """Cheap test: a GET whose first line carries ``ts=`` and an HTTP/1.x version."""
    if not payload.startswith(b"GET "):
        return False
    line = payload[:_SNIFF_LIMIT].split(b"\n", 1)[0]
    return b"ts=" in line and b" HTTP/1." in line


def signature(password: str | bytes, request: UdpConnectionRequest, algorithm: str = "sha1") -> str:
    """Lowercase hex HMAC of ``request.signed_text`` keyed with the CR password.

    ``algorithm`` is a :mod:`hashlib` name; Annex G specifies "sha1" (some stacks use "sha256").
    """
    key = password.encode("utf-8") if isinstance(password, str) else password
    return hmac.new(key, request.signed_text.encode("utf-8"), algorithm).hexdigest()


def decode(payload: bytes) -> UdpConnectionRequest | UdpCrError:
    """Decode one UDP Connection Request datagram.  Never raises."""
    try:
        return _decode(bytes(payload))
    except Exception as exc:  # a decoder bug must not take the analyser down
        return UdpCrError(internal_error(exc))


def _decode(payload: bytes) -> UdpConnectionRequest | UdpCrError:
    problems: list[str] = []
    # latin-1 maps every byte to one character, so nothing is lost before percent-decoding.
    text = payload.decode("latin-1")
    head, body, terminated = _split_head(text)
    lines = head.split("\n")
    match = _REQUEST_LINE.fullmatch(lines[0].rstrip("\r"))
    if match is None:
        return UdpCrError(f"no HTTP request line: {lines[0][:80]!r}")
    method, uri, version = match.groups()

    if not uri.isascii():
        problems.append("warning: raw non-ASCII bytes in the Request-URI (query values read as UTF-8)")
    if method != "GET":
        problems.append(f"warning: method {method}, Annex G requires GET")
    if version != "HTTP/1.1":
        problems.append(f"info: version {version}, Annex G specifies HTTP/1.1")
    if not terminated:
        problems.append("warning: the header is not ended by an empty line")
    headers = _headers(lines[1:], problems)
    _check_body(body, headers, problems)

    host, port, path, query_text = _split_uri(uri, problems)
    host_header = next((v for n, v in headers if n.lower() == "host"), None)
    if host_header is None:
        problems.append("warning: no Host header (HTTP/1.1 requires one)")
    if not host and host_header:
        host, port, _, _ = _split_uri(f"http://{host_header}", [])
    if path:
        problems.append(f"warning: Request-URI path {path!r}, Annex G requires an empty path")

    query = _query(query_text)
    values = _fields(query, problems)
    _check_ts(values["ts"], problems)
    _check_sig(values["sig"], problems)

    return UdpConnectionRequest(
        method=method,
        uri=uri,
        host=host,
        port=port,
        path=path,
        version=version,
        headers=headers,
        ts=values["ts"],
        id=values["id"],
        un=values["un"],
        cn=values["cn"],
        sig=values["sig"],
        query=query,
        problems=tuple(problems),
    )


def _split_head(text: str) -> tuple[str, str, bool]:
    """(head, body, whether an empty line ended the head); bare LF line ends are accepted."""
    match = re.search(r"\r?\n\r?\n", text)
    if match is None:
        return text.rstrip("\r\n"), "", False
    return text[: match.start()], text[match.end() :], True


def _headers(lines: list[str], problems: list[str]) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    for line in lines:
        line = line.rstrip("\r")
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip():
            problems.append(f"warning: malformed header line {line[:80]!r} ignored")
            continue
        headers.append((name, value.strip(" \t")))
    return tuple(headers)


def _check_body(body: str, headers: tuple[tuple[str, str], ...], problems: list[str]) -> None:
    if body:
        problems.append(f"warning: {len(body)} bytes after the header, Annex G allows no body")
    for name, value in headers:
        if name.lower() == "content-length" and value != "0":
            problems.append(f"warning: Content-Length {value!r}, Annex G requires 0 when present")


def _split_uri(uri: str, problems: list[str]) -> tuple[str, int | None, str, str]:
    """(host, port, path, query text) of an absolute or origin-form Request-URI."""
    rest, _, query_text = uri.partition("?")
    scheme, sep, after = rest.partition("://")
    if not sep:
        problems.append(
            f"warning: Request-URI {uri[:80]!r} is not absolute, Annex G requires http://host:port"
        )
        return "", None, rest, query_text
    if scheme.lower() != "http":
        problems.append(f"warning: scheme {scheme!r}, Annex G requires http")
    slash = after.find("/")
    authority, path = (after, "") if slash < 0 else (after[:slash], after[slash:])
    authority = authority.rpartition("@")[2]  # userinfo has no place here, but must not become the host
    host, port = _split_authority(authority, problems)
    return host, port, path, query_text


def _split_authority(authority: str, problems: list[str]) -> tuple[str, int | None]:
    if authority.startswith("["):  # IPv6 literal
        close = authority.find("]")
        host, after = (authority[1:close], authority[close + 1 :]) if close >= 0 else (authority[1:], "")
    else:
        host, colon, port_text = authority.partition(":")
        after = colon + port_text
    if not host:
        problems.append("warning: Request-URI has no host")
    if not after:
        return host, None
    port_text = after[1:]
    if not after.startswith(":") or not (port_text.isascii() and port_text.isdigit()):
        problems.append(f"warning: unreadable port {after[:40]!r} in the Request-URI")
        return host, None
    port = int(port_text)
    if port > 65535:
        problems.append(f"warning: port {port} is out of range")
        return host, None
    return host, port


def _query(query_text: str) -> tuple[tuple[str, str], ...]:
    # application/x-www-form-urlencoded (Annex G says so): '+' is a space, %xx is UTF-8.
    pairs: list[tuple[str, str]] = []
    for item in query_text.split("&"):
        if not item:
            continue
        name, _, value = item.partition("=")
        pairs.append((_unquote(name), _unquote(value)))
    return tuple(pairs)


def _unquote(text: str) -> str:
    raw = text.encode("latin-1")  # back to the wire bytes, so raw UTF-8 reads like %xx UTF-8
    return unquote_plus(raw.decode("utf-8", errors="replace"), errors="replace")


def _fields(query: tuple[tuple[str, str], ...], problems: list[str]) -> dict[str, str | None]:
    values: dict[str, str | None] = dict.fromkeys(FIELDS)
    for name, value in query:
        if name not in values:
            continue
        if values[name] is not None:
            problems.append(f"warning: {name} appears more than once, the first is used")
            continue
        values[name] = value
    for name in FIELDS:
        if values[name] is None:
            problems.append(f"warning: no {name} in the query")
    return values


def _check_ts(ts: str | None, problems: list[str]) -> None:
    if ts is None:
        return
    if not (ts.isascii() and ts.isdigit()):
        problems.append(f"warning: ts {ts[:40]!r} is not a decimal number")
    elif len(ts) == 13:
        problems.append("warning: ts has 13 digits: milliseconds, Annex G specifies seconds")


def _check_sig(sig: str | None, problems: list[str]) -> None:
    if sig is None:
        return
    is_hex = bool(sig) and set(sig) <= _HEX
    if is_hex and sig != sig.lower():
        problems.append("warning: sig uses uppercase hex digits")
    if is_hex and len(sig) == 64:
        problems.append("info: sig has 64 hex digits: looks like HMAC-SHA256, Annex G specifies HMAC-SHA1")
    elif not (is_hex and len(sig) == 40):
        problems.append(f"warning: sig {sig[:80]!r} is not 40 hex digits (HMAC-SHA1)")
