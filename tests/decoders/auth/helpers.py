"""An independent Digest reimplementation (plain hashlib) and a header builder for the tests."""

from __future__ import annotations

import hashlib

HASHLIB_NAMES = {"MD5": "md5", "SHA-256": "sha256", "SHA-512-256": "sha512_256"}


def reference_response(
    algorithm: str,
    user: str,
    realm: str,
    password: str,
    nonce: str,
    cnonce: str,
    nc: str,
    qop: str | None,
    method: str,
    uri: str,
    body: bytes = b"",
    *,
    sess_cnonce: str | None = None,
) -> str:
    """RFC 7616 §3.4.1-3.4.3 written out; ``sess_cnonce`` overrides the cnonce in a -sess HA1."""
    name = HASHLIB_NAMES[algorithm.removesuffix("-sess")]

    def h(data: bytes) -> str:
        return hashlib.new(name, data).hexdigest()

    ha1 = h(f"{user}:{realm}:{password}".encode())
    if algorithm.endswith("-sess"):
        ha1 = h(f"{ha1}:{nonce}:{sess_cnonce if sess_cnonce is not None else cnonce}".encode())
    ha2 = h(f"{method}:{uri}:{h(body)}".encode() if qop == "auth-int" else f"{method}:{uri}".encode())
    if qop is None:
        return h(f"{ha1}:{nonce}:{ha2}".encode())
    return h(f"{ha1}:{nonce}:{nc}:{cnonce}:{qop}:{ha2}".encode())


def quote(text: str) -> str:
    """An RFC 7230 quoted-string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def on_the_wire(value: str) -> str:
    """A header value as the HTTP decoder hands it over: UTF-8 bytes read as latin-1."""
    return value.encode("utf-8").decode("latin-1")


def authorization(
    *,
    user: str,
    realm: str,
    nonce: str,
    uri: str,
    response: str,
    algorithm: str | None = None,
    qop: str | None = None,
    nc: str | None = None,
    cnonce: str | None = None,
    extra: str = "",
) -> str:
    parts = [f"username={quote(user)}", f"realm={quote(realm)}", f"nonce={quote(nonce)}", f"uri={quote(uri)}"]
    if algorithm is not None:
        parts.append(f"algorithm={algorithm}")
    if qop is not None:
        parts += [f"qop={qop}", f"nc={nc}", f"cnonce={quote(cnonce or '')}"]
    parts.append(f"response={quote(response)}")
    if extra:
        parts.append(extra)
    return "Digest " + ", ".join(parts)
