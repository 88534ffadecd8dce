"""Header (and trailer) sections, and the framing facts the parser needs from them.

Field lines are parsed from latin-1 text, which maps every byte to one character, so
nothing is ever lost and offsets stay countable.  The observer is lenient: a line that
cannot be a field is dropped with a problem string rather than failing the message,
because the peer that received it evidently carried on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from .._strings import share
from ._events import Headers

__all__ = ["Framing", "parse_fields", "scan_framing"]

_MAX_LENGTH_DIGITS: Final = 30  # 10**30 bytes is already absurd; also stays below int() limits
_DIGITS: Final = re.compile(r"[0-9]+")
_PROBLEM_SAMPLE: Final = 40


def _sample(line: str) -> str:
    return repr(line if len(line) <= _PROBLEM_SAMPLE else line[:_PROBLEM_SAMPLE] + "...")


def parse_fields(block: str) -> tuple[Headers, list[str]]:
    """Parse LF-separated field lines (each may end in CR; no final empty line).

    Returns the fields in wire order, names as sent and values stripped of SP/HT, plus
    problems.  Obsolete line folding joins a continuation line to the previous value
    with one space.
    """
    fields: list[tuple[str, str]] = []
    problems: list[str] = []
    for line in block.split("\n"):
        if not line:
            continue
        if line[-1] == "\r":
            line = line[:-1]
            if not line:
                continue
        if line[0] in " \t":
            if not fields:
                problems.append(f"continuation line without a field ignored: {_sample(line)}")
                continue
            name, value = fields[-1]
            more = line.strip(" \t")
            if more:
                fields[-1] = (name, f"{value} {more}" if value else more)
            continue
        name, colon, value = line.partition(":")
        if not colon:
            problems.append(f"field line without colon ignored: {_sample(line)}")
            continue
        if name[-1:] in (" ", "\t"):
            problems.append(f"whitespace between field name and colon: {_sample(name)}")
            name = name.rstrip(" \t")
        if not name:
            problems.append(f"field line without name ignored: {_sample(line)}")
            continue
        # Names and short values (Content-Type, Host, User-Agent) repeat in every message: one str each.
        fields.append((share(name), share(value.strip(" \t"))))
    return tuple(fields), problems


@dataclass(slots=True)
class Framing:
    """What the fields of one head say about message length and connection reuse."""

    chunked: bool = False  #: Transfer-Encoding present, final coding chunked
    transfer_encoding: str | None = None  #: the raw Transfer-Encoding codings, if any (not identity)
    length: int | None = None  #: a valid Content-Length
    length_problem: str | None = None  #: Content-Length present but unusable
    close: bool = False  #: ``Connection: close``
    keep_alive: bool = False  #: ``Connection: keep-alive``


def _content_length(values: list[str]) -> tuple[int | None, str | None]:
    if len(values) == 1:
        value = values[0]
        if value.isascii() and value.isdigit() and len(value) <= _MAX_LENGTH_DIGITS:
            return int(value), None
    parts = [p.strip(" \t") for v in values for p in v.split(",")]
    numbers: set[int] = set()
    for part in parts:
        if len(part) > _MAX_LENGTH_DIGITS or not _DIGITS.fullmatch(part):
            return None, f"invalid Content-Length {_sample(part)}"
        numbers.add(int(part))
    if len(numbers) != 1:
        shown = ", ".join(sorted(set(parts)))
        return None, f"conflicting Content-Length values: {_sample(shown)}"
    return numbers.pop(), None


def scan_framing(fields: Headers) -> Framing:
    """Collect Transfer-Encoding, Content-Length and Connection from ``fields``."""
    framing = Framing()
    lengths: list[str] | None = None
    codings: list[str] | None = None
    for name, value in fields:
        if len(name) not in (10, 14, 17):  # cheap pre-filter on the three names we care for
            continue
        lname = name.lower()
        if lname == "content-length":
            if lengths is None:
                lengths = []
            lengths.append(value)
        elif lname == "transfer-encoding":
            if codings is None:
                codings = []
            for coding in value.split(","):
                coding = coding.split(";", 1)[0].strip(" \t").lower()
                if coding and coding != "identity":
                    codings.append(coding)
        elif lname == "connection":
            for token in value.split(","):
                token = token.strip(" \t").lower()
                if token == "close":
                    framing.close = True
                elif token == "keep-alive":
                    framing.keep_alive = True
    if codings:
        framing.transfer_encoding = ", ".join(codings)
        framing.chunked = codings[-1] == "chunked"
    if lengths is not None:
        framing.length, framing.length_problem = _content_length(lengths)
    return framing
