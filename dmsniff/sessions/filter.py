"""The session filter language of the terminal UI: a filter string compiled into a predicate.

Pure Python (no Textual): :func:`compile_filter` turns the text a user types into a
``Callable[[Session], bool]``, or raises :class:`FilterError` with the column to put a caret under.

Grammar (``|`` is alternation here, quoted strings are literal, keywords are case-insensitive)::

    filter   := [ or_expr ]                         an empty filter matches every session
    or_expr  := and_expr { ( "or" | "|" ) and_expr }
    and_expr := unary { [ "and" ] unary }           terms side by side are ANDed
    unary    := ( "not" | "!" ) unary | primary
    primary  := "(" or_expr ")" | term
    term     := FIELD ":" [ value ] | value          FIELD is a letter, then letters, digits, _ or -
    value    := WORD | QUOTED
    WORD     := characters up to whitespace, "(", ")", "|" or '"'
    QUOTED   := '"' ... '"'                          with \\" for a quote and \\\\ for a backslash

``or`` binds looser than AND (``a b or c`` is ``(a b) or c``), ``not`` tighter than both.  A word
whose part before its first colon looks like a field name is a ``field:value`` term, and an
unknown field name is an error; other words (``127.0.0.1:7547``) and quoted strings are free text.

Fields (names and values are case-insensitive):

``proto:`` / ``protocol:``
    ``cwmp`` (aliases ``tr069``, ``tr-069``, ``tr69``) or ``omadm`` (``dm``, ``oma-dm``).
``device:``
    substring of the device id or of any value of the device identity.
``server:``
    substring of the server endpoint (ip:port) or of the OMA DM server name.
``rpc:`` / ``cmd:`` / ``kind:``
    a message kind (CWMP RPC, ``Fault``, ``Notification``, ``SyncML``) or an OMA DM command name
    (nested ones too) present in the session; exact, or a prefix with a trailing ``*`` (``rpc:Get*``).
``status:``
    an HTTP status of a message, or the code of an OMA DM Status command: ``status:401``, or a
    class: ``status:4xx``.
``fault:``
    a CWMP fault code (``fault:9001``), or a code prefix (``fault:90*``); SetParameterValuesFault
    codes count too.  ``fault:`` alone: the session has a fault.
``auth:``
    ``valid``, ``invalid``, ``no-secret``, ``unverifiable``: some credential of the session (its
    messages' or its connection requests') has that result; ``none``: no credential; ``any``: some.
``finding:``
    alone: the session has a finding; ``error``, ``warning``, ``info``: a finding of that severity;
    anything else: a substring of a finding code (``finding:omadm.status``).
``session:`` / ``id:``
    the session id (``S55``) or the OMA DM SessionID, exactly.
``end:``
    the end reason, exactly (``204``, ``completed``, ``timeout``, ``auth-failed``, ...).
``event:``
    substring of an Inform event code (``event:boot``, ``event:"6 CONNECTION"``); alone: has events.
``pkg:``
    an OMA DM package number present (``pkg:0``: the session began with a notification).
``tls:``
    alone, ``yes`` or ``any``: the session ran over TLS; ``no``: it did not; ``1.0`` ... ``1.3`` (or
    ``ssl3``): a connection of that version; ``decrypted``: everything it sent over TLS could be
    read; ``encrypted``: some of it stayed encrypted; ``resumed``: a connection resumed a TLS
    session.  What a session ran over comes from the ``tls`` lookup given to
    :func:`compile_filter` (without one, every session is plaintext).

A free-text term is a substring of the session id, device id, device identity values, client,
server, server name, finding codes and messages, or the one-line conversation summary
(:func:`dmsniff.sessions.labels.conversation`, cached per session).

Values are checked and lower-cased once, at compile time; the predicates do no parsing.
Operands of AND and OR are reordered cheapest first (they have no side effects), so a
``proto:`` term spares the costlier ones the sessions it rejects.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dmsniff.sessions.labels import conversation
from dmsniff.sessions.model import SEVERITIES, Session

__all__ = [
    "FIELDS",
    "HELP",
    "And",
    "FilterError",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Predicate",
    "SessionTls",
    "Term",
    "TlsLookup",
    "clear_cache",
    "compile_filter",
    "fields_used",
    "parse_filter",
]

Predicate = Callable[[Session], bool]


@dataclass(frozen=True, slots=True)
class SessionTls:
    """What the ``tls:`` field knows of the TLS a session ran over."""

    versions: frozenset[str]  # "TLS 1.2", "TLS 1.3" ... of its TLS connections
    encrypted: bool  # some of what its connections carried stayed encrypted
    resumed: bool  # a connection resumed an earlier TLS session


#: The TLS a session ran over, or None when it ran over plain TCP.
TlsLookup = Callable[[Session], SessionTls | None]

HELP = """\
Terms separated by spaces must all match; bare words search ids, device, server,
findings and the conversation line.
  a b   both        a or b   a | b   either        not a   !a   negation
  ( )   grouping    "two words"   quoted (\\" inside)    name:value   a field
Fields (case-insensitive):
  proto:cwmp|omadm (tr069, dm)      device:text        server:text
  rpc:Inform  rpc:Get*              (also cmd:, kind:; CWMP RPC or OMA DM command)
  status:401  status:4xx            HTTP status or OMA DM Status code
  fault:9001  fault:90*  fault:     CWMP fault code; fault: alone = any fault
  auth:valid|invalid|no-secret|unverifiable|none|any
  finding:  finding:error|warning|info  finding:omadm.status (code substring)
  session:S55 (id:)   end:204|completed|timeout|auth-failed   pkg:0
  event:boot  event:"6 CONNECTION"
  tls:  tls:no  tls:1.2|1.3  tls:decrypted|encrypted|resumed   (tls: alone = over TLS)
Example:  proto:cwmp (fault:9001 or rpc:Reboot) !auth:valid"""


class FilterError(ValueError):
    """A filter that cannot be compiled: ``message`` for people, ``position`` the 0-based column."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message, position)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


# ---------------------------------------------------------------- syntax tree


@dataclass(frozen=True, slots=True)
class Term:
    """``field:value`` (``field`` lower-cased), or free text when ``field`` is None."""

    field: str | None
    value: str
    position: int  # where the term starts
    value_position: int  # where its value starts (the opening quote when quoted)

    def __str__(self) -> str:
        value = self.value
        if not value or any(c.isspace() or c in '()|"\\' for c in value):
            value = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return f"{self.field}:{value}" if self.field is not None else value


@dataclass(frozen=True, slots=True)
class Not:
    operand: Node

    def __str__(self) -> str:
        return f"NOT {self.operand}"


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " AND ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Node, ...]

    def __str__(self) -> str:
        return "(" + " OR ".join(map(str, self.operands)) + ")"


@dataclass(frozen=True, slots=True)
class MatchAll:
    """The empty filter."""

    def __str__(self) -> str:
        return "ALL"


Node = Term | Not | And | Or | MatchAll


# ---------------------------------------------------------------- tokenizer

# Token kinds: "(", ")", "or", "and", "not", "term", "end".
_KEYWORDS = {"or": "or", "and": "and", "not": "not"}
_SINGLE = {"(": "(", ")": ")", "|": "or", "!": "not"}
_WORD_END = frozenset('()|"')
_FIELD_WORD = re.compile(r"([A-Za-z][A-Za-z0-9_-]*):(.*)", re.ASCII | re.DOTALL)


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str
    position: int
    term: Term | None = None


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The string whose opening quote is at ``start``, unescaped, and the index after its closing quote."""
    out: list[str] = []
    i = start + 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in '"\\':
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise FilterError("unterminated quoted string", start)


def _tokenize(text: str) -> list[_Token]:
    """Split ``text`` into tokens, ending with an "end" token at ``len(text)``."""
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in _SINGLE:
            tokens.append(_Token(_SINGLE[c], i))
            i += 1
        elif c == '"':
            value, end = _read_quoted(text, i)
            tokens.append(_Token("term", i, Term(None, value, i, i)))
            i = end
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in _WORD_END:
                j += 1
            word = text[i:j]
            keyword = _KEYWORDS.get(word.lower())
            m = _FIELD_WORD.fullmatch(word)
            if keyword is not None:
                tokens.append(_Token(keyword, i))
            elif m is not None:
                name = m.group(1).lower()
                if name not in _FACTORIES and name not in _CONTEXT_FIELDS:
                    raise FilterError(
                        f"unknown field {m.group(1)!r}: known fields are {', '.join(FIELDS)}"
                        ' (put text with a colon in "quotes" to search for it)',
                        i,
                    )
                value, value_pos = m.group(2), i + len(m.group(1)) + 1
                if not value and j < n and text[j] == '"':
                    value, j = _read_quoted(text, j)
                tokens.append(_Token("term", i, Term(name, value, i, value_pos)))
            else:
                tokens.append(_Token("term", i, Term(None, word, i, i)))
            i = j
    tokens.append(_Token("end", n))
    return tokens


# ---------------------------------------------------------------- parser

_STARTS_TERM = frozenset({"(", "not", "term"})
_SHOWN = {"(": "'('", ")": "')'", "or": "'or'", "and": "'and'", "not": "'not'", "end": "the end"}


#: How deep parentheses and ``not`` may nest: the parser (and the compiler after it) recurse once a
#: level, and a typed or pasted filter of thousands of "(" must be an error, not a crash.
MAX_NESTING = 64


class _Parser:
    """Recursive descent over the tokens, one method per grammar rule."""

    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0  # parentheses and nots open around the current token

    def enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FilterError(f"nested too deep (more than {MAX_NESTING} parentheses or nots)",
                              token.position)

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> Node:
        if self.peek().kind == "end":
            return MatchAll()
        node = self.or_expr()
        token = self.peek()
        if token.kind == ")":
            raise FilterError("unmatched ')'", token.position)
        assert token.kind == "end", token  # and_expr consumes everything else
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.peek().kind == "or":
            self.expect_term_after(self.take(), "'or'")
            operands.append(self.and_expr())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while True:
            kind = self.peek().kind
            if kind == "and":
                self.expect_term_after(self.take(), "'and'")
            elif kind not in _STARTS_TERM:
                break
            operands.append(self.unary())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def unary(self) -> Node:
        if self.peek().kind == "not":
            token = self.take()
            self.expect_term_after(token, "'not'")
            self.enter(token)
            node = Not(self.unary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "term":
            assert token.term is not None
            return token.term
        if token.kind == "(":
            if self.peek().kind == ")":
                raise FilterError("empty parentheses", self.peek().position)
            self.enter(token)
            node = self.or_expr()
            if self.peek().kind != ")":
                raise FilterError("unclosed '('", token.position)
            self.take()
            self.depth -= 1
            return node
        if token.kind == ")":
            raise FilterError("unmatched ')'", token.position)
        raise FilterError(f"expected a term, found {_SHOWN[token.kind]}", token.position)

    def expect_term_after(self, operator: _Token, shown: str) -> None:
        """Raise unless a term can start at the current token (``operator`` was just taken)."""
        token = self.peek()
        if token.kind in _STARTS_TERM:
            return
        if token.kind == "end":
            raise FilterError(f"{shown} needs a term after it", operator.position)
        raise FilterError(f"expected a term after {shown}, found {_SHOWN[token.kind]}", token.position)


def parse_filter(text: str) -> Node:
    """The syntax tree of ``text`` (field names checked, values not); raises :class:`FilterError`."""
    return _Parser(text).parse()


def fields_used(node: Node) -> set[str | None]:
    """The fields a filter's terms name (None for free text): a caller can skip gathering what the
    filter never reads (``report -Y`` keeps TLS facts only for a ``tls:`` term)."""
    used: set[str | None] = set()
    work: list[Node] = [node]
    while work:  # (a loop, not recursion: a filter may nest deep)
        n = work.pop()
        if isinstance(n, Term):
            used.add(n.field)
        elif isinstance(n, Not):
            work.append(n.operand)
        elif isinstance(n, And | Or):
            work.extend(n.operands)
    return used


# ---------------------------------------------------------------- field matchers
#
# A factory takes the term's value as typed and the column it starts at, checks it (raising
# FilterError there), and returns the predicate with everything it needs precomputed.

_Factory = Callable[[str, int], Predicate]

_PROTOCOLS = {
    "cwmp": "cwmp",
    "tr069": "cwmp",
    "tr-069": "cwmp",
    "tr69": "cwmp",
    "omadm": "omadm",
    "dm": "omadm",
    "oma-dm": "omadm",
}
_INT = re.compile(r"[0-9]+", re.ASCII)
_STATUS_CLASS = re.compile(r"([1-9])xx", re.ASCII | re.IGNORECASE)
_FAULT = re.compile(r"([0-9]*)(\*?)", re.ASCII)
_AUTH_RESULTS = ("valid", "invalid", "no-secret", "unverifiable")


def _required(field: str, value: str, position: int) -> str:
    """``value`` lower-cased, or a FilterError when it is empty."""
    if not value:
        raise FilterError(f"{field}: needs a value", position)
    return value.lower()


def _proto(value: str, position: int) -> Predicate:
    proto = _PROTOCOLS.get(_required("proto", value, position))
    if proto is None:
        raise FilterError(f"unknown protocol {value!r}: use cwmp (tr069) or omadm (dm)", position)
    return lambda s: s.protocol == proto


def _device(value: str, position: int) -> Predicate:
    needle = _required("device", value, position)

    def match(s: Session) -> bool:
        if s.device_id is not None and needle in s.device_id.lower():
            return True
        return s.device is not None and any(needle in v.lower() for v in s.device.values())

    return match


def _server(value: str, position: int) -> Predicate:
    needle = _required("server", value, position)
    return lambda s: (
        needle in s.server.lower() or (s.server_name is not None and needle in s.server_name.lower())
    )


def _rpc(value: str, position: int) -> Predicate:
    name = _required("rpc", value, position)
    test: Callable[[str], bool]
    if name.endswith("*"):
        prefix = name[:-1]
        test = lambda kind: kind.lower().startswith(prefix)  # noqa: E731
    else:
        test = lambda kind: kind.lower() == name  # noqa: E731

    def match(s: Session) -> bool:
        for m in s.messages:
            if test(m.kind):
                return True
            for c in m.commands:
                if test(c.name):
                    return True
        return False

    return match


#: Digits a number of a term may have: no status, fault code or package number is longer, and
#: Python refuses to read a number of over 4,300 digits.
_MAX_DIGITS = 9


def _number(field: str, digits: str, position: int) -> int:
    """``digits`` as an int, or FilterError when no code or number could be that long."""
    if len(digits) > _MAX_DIGITS:
        raise FilterError(f"{field}: {digits[:12]}… is longer than any {field} "
                          f"({_MAX_DIGITS} digits at most)", position)
    return int(digits)


def _status(value: str, position: int) -> Predicate:
    text = _required("status", value, position)
    if _INT.fullmatch(text):
        low = _number("status", text, position)
        high = low + 1
    elif m := _STATUS_CLASS.fullmatch(text):
        low = int(m.group(1)) * 100
        high = low + 100
    else:
        raise FilterError(f"status: needs a code (401) or a class (4xx), not {value!r}", position)

    def match(s: Session) -> bool:
        for m in s.messages:
            if m.status is not None and low <= m.status < high:
                return True
            for c in m.commands:
                if c.name == "Status" and c.code is not None and low <= c.code < high:
                    return True
        return False

    return match


def _fault(value: str, position: int) -> Predicate:
    m = _FAULT.fullmatch(value)
    if m is None:
        raise FilterError(f"fault: needs a fault code (9001) or a prefix (90*), not {value!r}", position)
    digits, star = m.groups()
    test: Callable[[int | None], bool]
    if not digits:  # "fault:" or "fault:*": any fault
        test = lambda code: True  # noqa: E731
    elif star:
        test = lambda code: code is not None and str(code).startswith(digits)  # noqa: E731
    else:
        number = _number("fault", digits, position)
        test = lambda code: code == number  # noqa: E731

    def match(s: Session) -> bool:
        for m in s.messages:
            fault = getattr(m.record, "fault", None)
            if fault is None:
                continue
            if test(fault.code):
                return True
            for pf in fault.parameter_faults:
                if pf.code is not None and test(pf.code):
                    return True
        return False

    return match


def _auth(value: str, position: int) -> Predicate:
    wanted = _required("auth", value, position)
    if wanted == "none":
        return lambda s: not _has_auth(s)
    if wanted == "any":
        return _has_auth
    if wanted not in _AUTH_RESULTS:
        choices = ", ".join((*_AUTH_RESULTS, "none", "any"))
        raise FilterError(f"auth: needs one of {choices}, not {value!r}", position)

    def match(s: Session) -> bool:
        for m in s.messages:
            for a in m.auth:
                if getattr(a, "result", None) == wanted:
                    return True
        for cr in s.connection_requests:
            for a in cr.auth:
                if getattr(a, "result", None) == wanted:
                    return True
        return False

    return match


def _has_auth(s: Session) -> bool:
    return any(m.auth for m in s.messages) or any(cr.auth for cr in s.connection_requests)


def _finding(value: str, position: int) -> Predicate:
    wanted = value.lower()
    if not wanted:
        return lambda s: bool(s.findings)
    if wanted in SEVERITIES:
        return lambda s: any(f.severity == wanted for f in s.findings)
    return lambda s: any(wanted in f.code.lower() for f in s.findings)


def _session(value: str, position: int) -> Predicate:
    wanted = _required("session", value, position)
    return lambda s: s.id.lower() == wanted or (s.session_id is not None and s.session_id.lower() == wanted)


def _end(value: str, position: int) -> Predicate:
    wanted = _required("end", value, position)
    return lambda s: s.end_reason is not None and s.end_reason.lower() == wanted


def _event(value: str, position: int) -> Predicate:
    needle = value.lower()
    if not needle:
        return lambda s: bool(s.events)
    return lambda s: any(needle in e.lower() for e in s.events)


def _pkg(value: str, position: int) -> Predicate:
    if not _INT.fullmatch(value):
        raise FilterError(f"pkg: needs a package number (0..), not {value!r}", position)
    number = _number("pkg", value, position)
    return lambda s: any(m.package == number for m in s.messages)


_TLS_VERSION = re.compile(r"(?:tls)?v?(1\.[0-3])", re.ASCII)
_TLS_WORDS = ("yes", "any", "no", "none", "decrypted", "encrypted", "resumed")


def _tls(value: str, position: int, lookup: TlsLookup | None) -> Predicate:
    wanted = value.lower()
    tls: TlsLookup = lookup if lookup is not None else (lambda s: None)
    if wanted in ("", "yes", "any"):
        return lambda s: tls(s) is not None
    if wanted in ("no", "none"):
        return lambda s: tls(s) is None
    if wanted == "decrypted":
        return lambda s: (t := tls(s)) is not None and not t.encrypted
    if wanted == "encrypted":
        return lambda s: (t := tls(s)) is not None and t.encrypted
    if wanted == "resumed":
        return lambda s: (t := tls(s)) is not None and t.resumed
    m = _TLS_VERSION.fullmatch(wanted)
    version = f"TLS {m.group(1)}" if m is not None else "SSL 3.0" if wanted in ("ssl3", "3.0") else None
    if version is None:
        choices = ", ".join(_TLS_WORDS)
        raise FilterError(f"tls: needs one of {choices}, or a version (1.0 ... 1.3), not {value!r}", position)
    return lambda s: (t := tls(s)) is not None and version in t.versions


# Fields whose predicates need more than the session: factory(value, position, tls lookup), cost.
_CONTEXT_FIELDS: dict[str, tuple[Callable[[str, int, TlsLookup | None], Predicate], int]] = {
    "tls": (_tls, 2),
}

# Field name -> (factory, cost).  Cost orders the operands of AND/OR: 0 a comparison or two,
# 1 a few strings, 2 a walk over the messages, 3 free text (may build the conversation line).
_FIELD_TABLE: tuple[tuple[tuple[str, ...], _Factory, int], ...] = (
    (("proto", "protocol"), _proto, 0),
    (("device",), _device, 1),
    (("server",), _server, 1),
    (("rpc", "cmd", "kind"), _rpc, 2),
    (("status",), _status, 2),
    (("fault",), _fault, 2),
    (("auth",), _auth, 2),
    (("finding",), _finding, 1),
    (("session", "id"), _session, 0),
    (("end",), _end, 0),
    (("event",), _event, 1),
    (("pkg",), _pkg, 2),
)
_FACTORIES: dict[str, tuple[_Factory, int]] = {
    name: (factory, cost) for names, factory, cost in _FIELD_TABLE for name in names
}
#: Every field name the language knows, aliases included, in the order the help lists them.
FIELDS: tuple[str, ...] = (*_FACTORIES, *_CONTEXT_FIELDS)
_TEXT_COST = 3


# ---------------------------------------------------------------- free text

_CACHE_LIMIT = 500_000
# id(session) -> (session, its message count then, lower-cased conversation).  Holding the session
# keeps its id from being reused by another object; the count notices messages added since.
_CONVERSATIONS: dict[int, tuple[Session, int, str]] = {}


def _conversation(s: Session) -> str:
    """``conversation(s)``, lower-cased, computed once per session (and again if it gains messages)."""
    hit = _CONVERSATIONS.get(id(s))
    count = len(s.messages)
    if hit is not None and hit[0] is s and hit[1] == count:
        return hit[2]
    text = conversation(s).lower()
    if len(_CONVERSATIONS) >= _CACHE_LIMIT:
        _CONVERSATIONS.clear()
    _CONVERSATIONS[id(s)] = (s, count, text)
    return text


def clear_cache() -> None:
    """Forget the cached conversation lines (and the sessions they hold), e.g. when a capture is closed."""
    _CONVERSATIONS.clear()


def _text(value: str) -> Predicate:
    needle = value.lower()

    def match(s: Session) -> bool:
        if needle in s.id.lower() or needle in s.client.lower() or needle in s.server.lower():
            return True
        if s.device_id is not None and needle in s.device_id.lower():
            return True
        if s.device is not None and any(needle in v.lower() for v in s.device.values()):
            return True
        if s.server_name is not None and needle in s.server_name.lower():
            return True
        for f in s.findings:
            if needle in f.code.lower() or needle in f.message.lower():
                return True
        return needle in _conversation(s)

    return match


# ---------------------------------------------------------------- compiler


def _always(s: Session) -> bool:
    return True


def _compile(node: Node, tls: TlsLookup | None = None) -> tuple[Predicate, int]:
    """The predicate for ``node`` and its cost."""
    if isinstance(node, Term):
        if node.field is None:
            return _text(node.value), _TEXT_COST
        if node.field in _CONTEXT_FIELDS:
            context_factory, cost = _CONTEXT_FIELDS[node.field]
            return context_factory(node.value, node.value_position, tls), cost
        factory, cost = _FACTORIES[node.field]
        return factory(node.value, node.value_position), cost
    if isinstance(node, Not):
        inner, cost = _compile(node.operand, tls)
        return (lambda s: not inner(s)), cost
    if isinstance(node, And | Or):
        compiled = sorted((_compile(n, tls) for n in node.operands), key=lambda pc: pc[1])
        predicates = [p for p, _ in compiled]
        combine = _all_of if isinstance(node, And) else _any_of
        return combine(predicates), compiled[-1][1]
    return _always, 0


def _all_of(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda s: first(s) and second(s)

    def match(s: Session) -> bool:
        return all(p(s) for p in predicates)

    return match


def _any_of(predicates: Sequence[Predicate]) -> Predicate:
    if len(predicates) == 2:
        first, second = predicates
        return lambda s: first(s) or second(s)

    def match(s: Session) -> bool:
        return any(p(s) for p in predicates)

    return match


def compile_filter(text: str, tls: TlsLookup | None = None) -> Predicate:
    """A predicate over sessions for the filter ``text``; raises :class:`FilterError` on a bad filter.

    ``tls`` tells the ``tls:`` field what TLS a session ran over (the sessions do not say).
    """
    predicate, _ = _compile(parse_filter(text), tls)
    return predicate
