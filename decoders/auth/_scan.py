"""A tolerant scanner for the auth-param lists of RFC 7235 §2.1 (and look-alike SyncML headers).

Grammar (RFC 7235, RFC 7230 §3.2.6)::

    auth-param    = token BWS "=" BWS ( token / quoted-string )
    quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE
    quoted-pair   = "\\" ( HTAB / SP / VCHAR / obs-text )
    token68       = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="

Deviations seen in the field are read anyway and reported: unquoted values are taken up to
the next separator (so ``realm=My Realm`` works), a backslash that does not escape ``"`` or
``\\`` is kept (Windows ``DOMAIN\\user`` sent without escaping), an unterminated quoted-string
runs to the end.  Line folds and CR/LF count as whitespace, so the multi-line examples printed
in the RFCs parse as they are.
"""

from __future__ import annotations

import re
from typing import Final

__all__ = ["Param", "Scanner", "wire_text"]

_WS_RE: Final = re.compile(r"[ \t\r\n]*")
_TOKEN_RE: Final = re.compile(r"[-!#$%&'*+.^_`|~0-9A-Za-z]+")
_QDTEXT_RE: Final = re.compile(r'[^"\\]*')
TOKEN68_RE: Final = re.compile(r"[-A-Za-z0-9._~+/]+=*")
WS: Final = " \t\r\n"
# One well-formed auth-param and its separator: quoted values without escapes, unquoted ones
# up to the next comma.  Lists made only of these (nearly every real header) are read with
# this one regex; anything else goes through the tolerant character-by-character path.
_CLEAN_PARAM_RE: Final = re.compile(
    r'[ \t\r\n,]*([-!#$%&\'*+.^_`|~0-9A-Za-z]+)[ \t\r\n]*=[ \t\r\n]*(?:"([^"\\]*)"|([^,"]*))[ \t\r\n]*(?=,|$)'
)


class Param:
    """One ``name=value`` as found on the wire (internal, mutable while parsing)."""

    __slots__ = ("literal_backslash", "name", "quoted", "raw_name", "value")

    def __init__(self, raw_name: str, value: str, quoted: bool, literal_backslash: bool) -> None:
        self.raw_name = raw_name
        self.name = raw_name.lower()
        self.value = value
        self.quoted = quoted
        self.literal_backslash = literal_backslash


def wire_text(text: str) -> str:
    """Read UTF-8 byte sequences in latin-1 text (how the HTTP decoder gives header values) as UTF-8.

    Text that is ASCII, holds characters above U+00FF (already real Unicode) or is not valid
    UTF-8 once mapped back to bytes (a genuine ISO-8859-1 value) is returned unchanged.
    """
    if text.isascii():
        return text
    try:
        return text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return text


class Scanner:
    """Cursor over one header value; every method is total (never raises on any input)."""

    __slots__ = ("pos", "problems", "seps", "text")

    def __init__(self, text: str, seps: str = ",") -> None:
        self.text = text
        self.pos = 0
        self.seps = seps
        self.problems: list[str] = []

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def skip_ws(self) -> None:
        match = _WS_RE.match(self.text, self.pos)
        if match is not None:
            self.pos = match.end()

    def skip_separators(self) -> None:
        """Skip whitespace and empty list elements (RFC 7230 §7 allows ``a, , b``)."""
        while True:
            self.skip_ws()
            if self.peek() == "" or self.peek() not in self.seps:
                return
            self.pos += 1

    def token(self) -> str:
        match = _TOKEN_RE.match(self.text, self.pos)
        if match is None:
            return ""
        self.pos = match.end()
        return match.group()

    def skip_element(self) -> str:
        """Skip to the next separator outside quotes; return what was skipped."""
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in self.seps:
            if text[self.pos] == '"':
                self.quoted_string()
            else:
                self.pos += 1
        return text[start : self.pos]

    def quoted_string(self) -> tuple[str, bool]:
        """Read a quoted-string at the cursor; return (content, whether a backslash was kept)."""
        text = self.text
        i = self.pos + 1
        out: list[str] = []
        literal = False
        while True:
            match = _QDTEXT_RE.match(text, i)
            end = match.end() if match is not None else i
            out.append(text[i:end])
            i = end
            if i >= len(text):
                self.problems.append("warning: unterminated quoted-string runs to the end of the value")
                self.pos = i
                return "".join(out), literal
            if text[i] == '"':
                self.pos = i + 1
                return "".join(out), literal
            # A backslash: a quoted-pair only before '"' or '\'.  Senders that escape never
            # need it elsewhere, so anything else is an unescaped backslash meant literally.
            if i + 1 < len(text) and text[i + 1] in '"\\':
                out.append(text[i + 1])
                i += 2
            else:
                out.append("\\")
                literal = True
                i += 1

    def value(self) -> tuple[str, bool, bool]:
        """Read a parameter value: (value, quoted, literal backslash kept)."""
        self.skip_ws()
        if self.peek() == '"':
            text, literal = self.quoted_string()
            return text, True, literal
        start = self.pos
        text = self.text
        while self.pos < len(text) and text[self.pos] not in self.seps and text[self.pos] != '"':
            self.pos += 1
        return text[start : self.pos].rstrip(WS), False, False

    def param_after_name(self, raw_name: str) -> Param:
        """At the ``=`` after ``raw_name``: read the value and check what follows it."""
        self.pos += 1  # the "="
        value, quoted, literal = self.value()
        self.skip_ws()
        if not self.at_end() and self.peek() not in self.seps:
            # Carry on from here: the next element usually follows without its comma.
            self.problems.append(f"warning: no separator after {raw_name[:40]!r} before {self._context()}")
        return Param(raw_name, wire_text(value), quoted, literal)

    def params(self) -> list[Param]:
        """Read ``name=value`` elements to the end (credentials, Authentication-Info, SyncML)."""
        if self.seps == ",":
            clean = self._clean_params()
            if clean is not None:
                return clean
        return self.tolerant_params()

    def tolerant_params(self) -> list[Param]:
        """:meth:`params` character by character, reading and reporting every deviation."""
        found: list[Param] = []
        while True:
            self.skip_separators()
            if self.at_end():
                return found
            raw_name = self.token()
            if not raw_name:
                skipped = self.skip_element()
                self.problems.append(f"warning: unreadable element {skipped[:40]!r} skipped")
                continue
            self.skip_ws()
            if self.peek() != "=":
                self.problems.append(f"warning: {raw_name[:40]!r} has no '=value', ignored")
                self.skip_element()
                continue
            found.append(self.param_after_name(raw_name))

    def _clean_params(self) -> list[Param] | None:
        """The whole rest as well-formed params (the same result the tolerant path gives), or None."""
        text, pos = self.text, self.pos
        found: list[Param] = []
        while True:
            match = _CLEAN_PARAM_RE.match(text, pos)
            if match is None:
                break
            name, quoted, plain = match.group(1, 2, 3)
            if quoted is not None:
                found.append(Param(name, wire_text(quoted), True, False))
            else:
                found.append(Param(name, wire_text(plain.rstrip(WS)), False, False))
            pos = match.end()
        if text[pos:].strip(" \t\r\n,"):
            return None
        self.pos = len(text)
        return found

    def _context(self) -> str:
        return repr(self.text[self.pos : self.pos + 20])
