"""Immutable records produced by :func:`decoders.tr111.decode`.

One :class:`UdpConnectionRequest` per datagram, or a :class:`UdpCrError` when the bytes
have no request line at all.  Query values are kept as strings (percent-decoded, never
converted to numbers) because the signature is computed over the text.  Problems are
one-line strings starting with a severity: ``"error: "``, ``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["UdpConnectionRequest", "UdpCrError"]


@dataclass(frozen=True, slots=True)
class UdpConnectionRequest:
    """A TR-069 Annex G UDP Connection Request (an HTTP GET line in one datagram)."""

    method: str  #: "GET" unless the sender got it wrong (then with a warning)
    uri: str  #: Request-URI as sent
    host: str  #: from the Request-URI; from the Host header when the URI has no authority
    port: int | None  #: None when absent (port 80) or not a number
    path: str  #: between authority and "?": Annex G wants "" and "/" is common
    version: str  #: e.g. "HTTP/1.1"
    headers: tuple[tuple[str, str], ...]  #: wire order, names as sent, values stripped
    ts: str | None  #: seconds since the epoch, as text
    id: str | None  #: message id; retransmissions repeat it
    un: str | None  #: connection request username
    cn: str | None  #: cnonce
    sig: str | None  #: hex HMAC-SHA1 over ts+id+un+cn keyed with the CR password
    query: tuple[tuple[str, str], ...] = ()  #: every name=value pair, decoded, in order
    problems: tuple[str, ...] = ()

    @property
    def signed_text(self) -> str:
        """The HMAC input: ts, id, un and cn concatenated, missing ones as ""."""
        return "".join(v or "" for v in (self.ts, self.id, self.un, self.cn))

    @property
    def timestamp_unit(self) -> str | None:
        """Unit of ts: "s", or "ms" for 13 digits (a common mistake); None if ts is not a number."""
        if self.ts is None or not (self.ts.isascii() and self.ts.isdigit()):
            return None
        return "ms" if len(self.ts) == 13 else "s"

    @property
    def errors(self) -> tuple[str, ...]:
        """Problems of severity "error"."""
        return tuple(p for p in self.problems if p.startswith("error: "))


@dataclass(frozen=True, slots=True)
class UdpCrError:
    """The datagram has no HTTP-like request line."""

    reason: str
