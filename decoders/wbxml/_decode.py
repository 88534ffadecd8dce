"""decode(): WBXML bytes to a :class:`WbxmlDocument`, never raising.

The reader is one explicit state object (:class:`_Reader`: position, code pages, budgets,
problems) and an explicit stack of open elements; nothing recurses per element, so depth is
limited by ``max_depth`` and not by Python's recursion limit.  The only recursion is for an
OPAQUE that holds a whole WBXML document (DevInf, DM DDF), at most ``_MAX_NESTING`` deep.

Reading follows WBXML 1.3 §5.3 with libwbxml's leniency where real devices need it:

* header: version (a byte above 3 is read on with a warning), public id (numeric, or 0 and a
  string table index), charset (absent in WBXML 1.0; 0 = "transport", read as UTF-8), string
  table.  Language comes from the numeric id, else from the FPI (string table), else from
  the root element (public id 0x01 or unknown ids; wbxml2xml would give up there);
* the tag code page persists across END (encoders rely on it: libwbxml writes SWITCH_PAGE 0
  only before the next code page 0 tag after ``</Meta>``);
* SWITCH_PAGE may appear anywhere in content (Nokia 6600 put it in odd places);
* LITERAL index 0 without a string table in an attribute list means ``xmlns`` (Nokia; the
  libwbxml workaround);
* tokens the language does not define become labelled elements (``tag-p<page>-0x<token>``),
  attribute tokens become ``attr-p<page>-0x<token>`` (SyncML has no attribute tables);
  extension tokens and processing instructions are skipped, each with a problem;
* an OPAQUE inside ``<Data>`` whose sibling ``Meta/Type`` says
  ``application/vnd.syncml-devinf+wbxml`` or ``application/vnd.syncml.dmtnds+wbxml`` (the
  libwbxml rule, parent then grandparent) is decoded as a nested document; one that merely
  *looks* like a complete WBXML document of a known language is decoded too, with an info.

Truncation or a bad token after the root started gives a partial document (everything read
so far, open elements closed) with an ``"error: "`` problem.  Work is bounded: ``max_nodes``
elements/texts/attributes, ``max_depth`` open elements, a token budget, and a budget on the
text produced from string table references (they could otherwise multiply the input).
"""

from __future__ import annotations

import base64
from typing import Final

from ._records import Child, Element, Opaque, WbxmlDocument, WbxmlError
from ._tables import (
    END,
    ENTITY,
    EXT_0,
    EXT_1,
    EXT_2,
    EXT_I_0,
    EXT_I_1,
    EXT_I_2,
    EXT_T_0,
    EXT_T_1,
    EXT_T_2,
    GLOBAL_TOKEN_NAMES,
    LANGUAGES,
    LITERAL,
    LITERAL_A,
    LITERAL_AC,
    LITERAL_C,
    MIBENUM_CODECS,
    OPAQUE,
    PI,
    PUBLIC_ID_UNKNOWN,
    PUBLIC_IDS,
    STR_I,
    STR_T,
    SWITCH_PAGE,
    TAG_HAS_ATTRIBUTES,
    TAG_HAS_CONTENT,
    TAG_TOKEN_MASK,
    Language,
    language_for_fpi,
)

__all__ = ["EMBEDDED_WBXML_TYPES", "decode"]

#: Meta/Type values that make libwbxml parse a ``<Data>`` OPAQUE as a nested document.
EMBEDDED_WBXML_TYPES: Final = frozenset(
    {"application/vnd.syncml-devinf+wbxml", "application/vnd.syncml.dmtnds+wbxml"}
)

_MAX_NESTING: Final = 3  # OPAQUE documents inside OPAQUE documents
_MAX_NESTED_ATTEMPTS: Final = 32  # OPAQUEs tried as embedded documents, per document
_MAX_PROBLEMS: Final = 100  # further problems are only counted
_MAX_NAME: Final = 256  # longer LITERAL names are cut (with a warning)
_MAX_LEADING_SWITCHES: Final = 64  # SWITCH_PAGEs before the root looked through to guess a language
_MIB: Final = 1 << 20
_EXTENSIONS_I: Final = frozenset({EXT_I_0, EXT_I_1, EXT_I_2})
_EXTENSIONS_T: Final = frozenset({EXT_T_0, EXT_T_1, EXT_T_2})
_EXTENSIONS_0: Final = frozenset({EXT_0, EXT_1, EXT_2})
_NOT_IN_ATTRIBUTES: Final = frozenset({PI, LITERAL_C, LITERAL_A, LITERAL_AC})

# Root tokens by which a document without a usable public id is recognised.
_ROOT_TOKENS: Final[dict[tuple[int, int], str]] = {
    (0, 0x2D): "SyncML",
    (0, 0x0A): "DevInf",
    (1, 0x0E): "MetInf",
    (2, 0x20): "MgmtTree",
}


class _Stop(Exception):
    """Internal: reading cannot go on at ``offset``; becomes an error problem or WbxmlError."""

    def __init__(self, offset: int, reason: str) -> None:
        super().__init__(reason)
        self.offset = offset
        self.reason = reason


class _Open:
    """An element whose END has not been read yet (mutable; frozen on close)."""

    __slots__ = (
        "attributes",
        "children",
        "known",
        "meta_type",
        "namespace",
        "page",
        "seen_meta",
        "tag",
        "token",
    )

    def __init__(self, tag: str, token: int | None, page: int, known: bool, namespace: str | None) -> None:
        self.tag = tag
        self.token = token
        self.page = page
        self.known = known  # a token the language defines (libwbxml writes xmlns only for those)
        self.namespace = namespace
        self.attributes: list[tuple[str, str]] = []
        self.children: list[Child] = []
        # Type text of the first <Meta> child, kept when it closes, so that each OPAQUE in a
        # sibling <Data> finds it without rescanning the children (libwbxml's look-up).
        self.seen_meta = False
        self.meta_type: str | None = None

    def freeze(self) -> Element:
        merged: list[Child] = []
        run: list[str] = []  # adjacent text pieces (STR_I, STR_T, ENTITY) join, in one go:
        for child in self.children:  # adding them one by one copied a 17 MB text 17 times
            if isinstance(child, str):
                run.append(child)
                continue
            if run:
                merged.append("".join(run))
                run.clear()
            merged.append(child)
        if run:
            merged.append("".join(run))
        return Element(self.tag, self.namespace, tuple(self.attributes), tuple(merged), self.page, self.token)


def _terminator(buf: bytes, start: int, width: int) -> int:
    """Offset of the string terminator (``width`` zero bytes, aligned) from ``start``, or -1."""
    if width == 1:
        return buf.find(b"\x00", start)
    zero = b"\x00" * width
    i = buf.find(zero, start)
    while i >= 0 and (i - start) % width:
        i = buf.find(zero, i + 1)
    return i


class _Reader:
    """All state of one decode: input, position, code pages, language, budgets, problems."""

    def __init__(self, data: bytes, max_depth: int, max_nodes: int, level: int,
                 budget: tuple[int, int] | None = None) -> None:
        self.data = data
        self.pos = 0
        self.level = level
        self.max_depth = max(1, max_depth)
        self.max_nodes = max(1, max_nodes)
        self.nodes = 0
        self.steps = 0
        # Tokens that make no node (SWITCH_PAGE, extensions, ...) still cost time.
        self.max_steps = 4 * self.max_nodes + 1024
        # Text produced by string table references and LITERAL names; without a budget a
        # small input could reference one long string millions of times.  Eight times the
        # first MiB, then once more the size: a 16 MiB body may not make 128 MB of text.
        self.text_budget = _MIB + 8 * min(len(data), _MIB) + len(data)
        if budget is not None:  # an embedded document: what its container has left
            self.max_steps = min(self.max_steps, budget[0])
            self.text_budget = min(self.text_budget, budget[1])
        self.text_allowed = self.text_budget
        # Steps all attempts at embedded documents may take together: as many as this document.
        self.nested_steps = self.max_steps
        self.problems: list[str] = []
        self.suppressed = 0
        self.version = 0
        self.public_id = PUBLIC_ID_UNKNOWN
        self.fpi: str | None = None
        self.charset = 0
        self.codec = "utf-8"
        self.width = 1
        self.strtbl = b""
        self.table_cache: dict[int, str] = {}
        self.bad_strings = 0
        self.first_bad_string = -1
        self.language: Language | None = None
        self.tags: dict[int, dict[int, str]] = {}
        self.namespaces: dict[int, str] = {}
        self.tag_page = 0
        self.attr_page = 0
        self.root: Element | None = None
        self.nested_attempts = 0

    # ------------------------------------------------------------ bookkeeping

    def problem(self, text: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(_one_line(text))
        else:
            self.suppressed += 1

    def count_node(self, offset: int) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _Stop(offset, f"more than max_nodes={self.max_nodes} nodes")

    def step(self, offset: int) -> None:
        self.steps += 1
        if self.steps > self.max_steps:
            raise _Stop(offset, "too many tokens")

    def spend_text(self, amount: int, offset: int) -> None:
        self.text_budget -= amount
        if self.text_budget < 0:
            raise _Stop(offset, "string table references expand to more text than the input allows")

    @property
    def language_name(self) -> str:
        return self.language.name if self.language else "UNKNOWN"

    # ------------------------------------------------------------ primitives

    def byte(self, what: str) -> int:
        if self.pos >= len(self.data):
            raise _Stop(self.pos, f"input ends where {what} should be")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def mb_uint32(self, what: str) -> int:
        """WBXML mb_u_int32: big-endian 7-bit groups, at most 5 bytes, at most 32 bits."""
        data, pos, start = self.data, self.pos, self.pos
        value = 0
        for _ in range(5):
            if pos >= len(data):
                raise _Stop(start, f"input ends inside the mb_u_int32 {what}")
            b = data[pos]
            pos += 1
            value = (value << 7) | (b & 0x7F)
            if not b & 0x80:
                if value > 0xFFFFFFFF:
                    raise _Stop(start, f"mb_u_int32 {what} overflows 32 bits")
                self.pos = pos
                return value
        raise _Stop(start, f"mb_u_int32 {what} is longer than 5 bytes")

    def text(self, raw: bytes, offset: int) -> str:
        try:
            return raw.decode(self.codec)
        except UnicodeDecodeError:
            self.bad_strings += 1
            if self.first_bad_string < 0:
                self.first_bad_string = offset
            return raw.decode(self.codec, errors="replace")

    def inline_string(self) -> str:
        """termstr at the current position (after STR_I or EXT_I_n)."""
        start = self.pos
        end = _terminator(self.data, start, self.width)
        if end < 0:
            raise _Stop(start, "inline string without terminator")
        self.pos = end + self.width
        return self.text(self.data[start:end], start)

    def table_string(self, index: int, offset: int, *, attribute_name: bool = False) -> str | None:
        """String table entry at ``index``; None (with an error problem) when out of range."""
        cached = self.table_cache.get(index)
        if cached is not None:
            self.spend_text(len(cached), offset)
            return cached
        if not self.strtbl:
            if index == 0 and attribute_name:
                # Nokia writes the SyncML xmlns as LITERAL 0 without a string table; libwbxml
                # reads it as "xmlns" (wbxml_parser.c get_strtbl_reference workaround).
                self.problem(f"info: LITERAL index 0 without a string table at offset {offset} read as xmlns")
                return "xmlns"
            self.problem(
                f"error: string table reference {index} at offset {offset} but there is no string table"
            )
            return None
        if index >= len(self.strtbl):
            self.problem(
                f"error: string table index {index} at offset {offset} is outside the"
                f" {len(self.strtbl)}-byte string table"
            )
            return None
        end = _terminator(self.strtbl, index, self.width)
        if end < 0:
            end = len(self.strtbl)  # an unterminated last entry is fine (libwbxml pads it)
        self.spend_text(end - index, offset)
        value = self.text(self.strtbl[index:end], offset)
        self.table_cache[index] = value
        return value

    def literal_name(self, offset: int, *, attribute: bool) -> str:
        index = self.mb_uint32("LITERAL index")
        name = self.table_string(index, offset, attribute_name=attribute)
        if name is None:
            return f"literal-{index}"
        if not name:  # an empty table entry: no name at all (wbxml2xml writes "< ...>" then)
            self.problem(f"warning: LITERAL name at offset {offset} is empty (string table index {index})")
            return f"literal-{index}"
        if len(name) > _MAX_NAME:
            self.problem(f"warning: LITERAL name at offset {offset} cut to {_MAX_NAME} characters")
            name = name[:_MAX_NAME]
        return name

    def entity(self, offset: int) -> str:
        code = self.mb_uint32("ENTITY code")
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            self.problem(f"warning: ENTITY {code:#x} at offset {offset} is not a character; U+FFFD used")
            return "\ufffd"
        return chr(code)

    # ------------------------------------------------------------ header

    def read_header(self) -> None:
        """version publicid [charset] strtbl; raises _Stop when incomplete."""
        self.version = self.byte("the version byte")
        if self.version > 3:
            self.problem(f"warning: unknown WBXML version byte {self.version:#04x}; read as WBXML 1.3")
        fpi_index: int | None = None
        if self.pos < len(self.data) and self.data[self.pos] == 0x00:
            self.pos += 1
            fpi_index = self.mb_uint32("public id string table index")
            self.public_id = 0
        else:
            self.public_id = self.mb_uint32("public id")
        if self.version != 0:  # WBXML 1.0 has no charset field
            self.charset = self.mb_uint32("charset")
        self.set_charset()
        length_at = self.pos
        length = self.mb_uint32("string table length")
        if length > len(self.data) - self.pos:
            raise _Stop(length_at, f"string table length {length} runs past the end of the input")
        self.strtbl = self.data[self.pos : self.pos + length]
        self.pos += length
        if fpi_index is not None:
            self.fpi = self.table_string(fpi_index, length_at)

    def set_charset(self) -> None:
        entry = MIBENUM_CODECS.get(self.charset)
        if entry is None:
            self.problem(f"warning: unknown charset MIBenum {self.charset}; strings read as UTF-8")
            entry = ("utf-8", 1)
        elif self.charset == 0 and self.version != 0:
            self.problem("info: charset 0 (from transport): strings read as UTF-8")
        elif self.charset not in (3, 4, 106, 0):
            self.problem(
                f"warning: charset MIBenum {self.charset} ({entry[0]}) is unusual; strings read with it"
            )
        self.codec, self.width = entry

    def choose_language(self) -> None:
        name: str | None = None
        if self.public_id:
            entry = PUBLIC_IDS.get(self.public_id)
            if entry is not None:
                self.fpi = entry.fpi
                name = entry.language
                if name is None:
                    self.problem(
                        f"warning: public id {self.public_id:#x} ({entry.fpi}) has no token tables here"
                    )
            elif self.public_id != PUBLIC_ID_UNKNOWN:
                self.problem(f"warning: unknown public id {self.public_id:#x}")
        elif self.fpi is not None:
            name, exact = language_for_fpi(self.fpi)
            if name is None:
                self.problem(f"warning: unknown formal public identifier {self.fpi!r}")
            else:
                if not exact:
                    self.problem(f"info: formal public identifier {self.fpi!r} read as {name}")
                numeric = LANGUAGES[name].public_id
                if numeric is not None:
                    self.problem(
                        f"info: public id given as FPI in the string table although {name} has {numeric:#x}"
                    )
        if name is None:
            name = self.language_from_root()
        if name is not None:
            self.language = LANGUAGES[name]
            self.tags = self.language.tags
            self.namespaces = self.language.namespaces

    def language_from_root(self) -> str | None:
        """Guess the language from the root tag (and xmlns / VerDTD bytes) when the header can't."""
        data, pos, page = self.data, self.pos, 0
        if pos < len(data) and data[pos] == PI:  # a rare leading PI: don't guess through it
            return None
        switches = 0
        while pos + 1 < len(data) and data[pos] == SWITCH_PAGE and switches < _MAX_LEADING_SWITCHES:
            page = data[pos + 1]
            pos += 2
            switches += 1  # (a run of zero bytes is a run of SWITCH_PAGE 0: 25M of them in 50 MB)
        if pos >= len(data):
            return None
        b = data[pos]
        root: str | None
        if b & TAG_TOKEN_MASK == LITERAL:
            saved = self.pos
            self.pos = pos + 1
            try:
                index = self.mb_uint32("LITERAL index")
            except _Stop:
                return None
            finally:
                self.pos = saved
            root = self.table_cache.get(index)
            if root is None and index < len(self.strtbl):
                end = _terminator(self.strtbl, index, self.width)
                root = self.text(self.strtbl[index : end if end >= 0 else len(self.strtbl)], pos)
        else:
            root = _ROOT_TOKENS.get((page, b & TAG_TOKEN_MASK))
        head = data[: 1 << 16]
        name: str | None = None
        if root == "SyncML":
            # The xmlns (inline or in the string table) says it best, else <VerDTD> STR_I "1.x".
            versions = ("1.2", "1.1", "1.0")
            found = [v for v in versions if f"SYNCML:SYNCML{v}".encode() in head.upper()]
            found = found or [v for v in versions if b"\x71\x03" + v.encode() + b"\x00" in head]
            name = "SYNCML1" + found[0][-1] if found else "SYNCML12"
        elif root == "DevInf":
            name = "DEVINF12"
            for version in ("1.0", "1.1"):
                if b"\x65\x03" + version.encode() + b"\x00" in head:  # DevInf <VerDTD> STR_I
                    name = "DEVINF1" + version[-1]
        elif root == "MetInf":
            name = "METINF12"
        elif root == "MgmtTree":
            name = "DMDDF12"
        if name is None:
            self.problem("warning: language unknown: tags are labelled by code page and token")
        else:
            self.problem(f"info: language {name} inferred from the root element")
        return name

    # ------------------------------------------------------------ body

    def read_body(self) -> Element | WbxmlError:
        data = self.data
        try:
            while self.pos < len(data) and data[self.pos] == PI:
                self.skip_pi()
            if self.pos >= len(data):
                return WbxmlError("no root element after the header", self.pos)
            while self.pos < len(data) and data[self.pos] == SWITCH_PAGE:
                self.step(self.pos)
                self.pos += 1
                self.tag_page = self.byte("a code page")
            if self.pos >= len(data):
                return WbxmlError("no root element after the header", self.pos)
        except _Stop as stop:
            return WbxmlError(stop.reason, stop.offset)
        stack: list[_Open] = []
        try:
            self.open_element(stack)
        except _Stop as stop:
            if not stack and self.root is None:
                return WbxmlError(f"root element unreadable: {stop.reason}", stop.offset)
            self.stopped(stop, stack)
        else:
            try:
                self.read_content(stack)
            except _Stop as stop:
                self.stopped(stop, stack)
            else:
                self.read_trailer()
        if self.root is None:  # cannot happen: the root was opened, and closing it sets it
            return WbxmlError("internal error: no root after reading the body", self.pos)
        return self.root

    def stopped(self, stop: _Stop, stack: list[_Open]) -> None:
        """Record the fault and close what is open, keeping everything read so far."""
        left = len(stack)
        where = f" inside <{stack[-1].tag}>" if stack else ""
        note = f"; {left} open element{'s' if left != 1 else ''} closed" if left else ""
        # Always kept, even past the problem cap: it is the one that matters.
        self.problems.append(_one_line(f"error: {stop.reason}{where} at offset {stop.offset}{note}"))
        while stack:
            self.close(stack)

    def close(self, stack: list[_Open]) -> None:
        element = stack.pop().freeze()
        if stack:
            parent = stack[-1]
            parent.children.append(element)
            if element.tag == "Meta" and not parent.seen_meta:
                parent.seen_meta = True
                parent.meta_type = _type_text(element)
        else:
            self.root = element

    def open_element(self, stack: list[_Open]) -> None:
        """stag [attributes END]; an element without content is closed at once."""
        offset = self.pos
        if len(stack) >= self.max_depth:
            raise _Stop(offset, f"elements nested deeper than max_depth={self.max_depth}")
        self.count_node(offset)
        b = self.byte("a tag")
        page = self.tag_page
        parent = stack[-1] if stack else None
        if b & TAG_TOKEN_MASK == LITERAL:
            element = _Open(self.literal_name(offset, attribute=False), None, page, False, None)
        else:
            token = b & TAG_TOKEN_MASK
            name = self.tags.get(page, {}).get(token)
            if name is None:
                self.problem(
                    f"warning: unknown token {token:#04x} on code page {page} at offset {offset}"
                    f" ({self.language_name}); labelled tag-p{page}-0x{token:02X}"
                )
                element = _Open(f"tag-p{page}-0x{token:02X}", token, page, False, None)
            else:
                element = _Open(name, token, page, True, None)
        # wbxml2xml writes xmlns on the root and on a token element whose token parent is on
        # another code page; everything else inherits its parent's namespace.
        inherited = parent.namespace if parent else None
        if element.known and (parent is None or (parent.known and parent.page != page)):
            element.namespace = self.namespaces.get(page, inherited)
        else:
            element.namespace = inherited
        stack.append(element)
        if b & TAG_HAS_ATTRIBUTES:
            self.read_attributes(element.attributes)
        if not b & TAG_HAS_CONTENT:
            self.close(stack)

    def read_attributes(self, out: list[tuple[str, str]]) -> None:
        """attribute* END (also the body of a PI).  SyncML has no attribute tables, so only
        LITERAL names are real names; attribute tokens are labelled."""
        name: str | None = None
        parts: list[str] = []

        def finish() -> None:
            if name is not None:
                out.append((name, "".join(parts)))
            elif parts:
                out.append(("attr-unnamed", "".join(parts)))
            parts.clear()

        while True:
            offset = self.pos
            b = self.byte("an attribute or END")
            if b == END:
                break
            self.steps += 1
            if self.steps > self.max_steps:
                raise _Stop(offset, "too many tokens")
            if b == SWITCH_PAGE:
                self.attr_page = self.byte("a code page")
            elif b == LITERAL:
                finish()
                self.count_node(offset)
                name = self.literal_name(offset, attribute=True)
            elif b == STR_I:
                parts.append(self.inline_string())
            elif b == STR_T:
                parts.append(self.table_string(self.mb_uint32("STR_T index"), offset) or "")
            elif b == ENTITY:
                parts.append(self.entity(offset))
            elif b == OPAQUE:
                raw = self.opaque_bytes(offset)
                try:
                    parts.append(raw.decode("utf-8"))
                except UnicodeDecodeError:
                    self.problem(f"info: binary OPAQUE attribute value at offset {offset} shown as base64")
                    parts.append(base64.b64encode(raw).decode("ascii"))
            elif b in _EXTENSIONS_I or b in _EXTENSIONS_T or b in _EXTENSIONS_0:
                self.pos = offset
                self.skip_extension()
            elif b in _NOT_IN_ATTRIBUTES:
                raise _Stop(offset, f"{GLOBAL_TOKEN_NAMES[b]} inside an attribute list")
            elif b < 0x80:
                finish()
                self.count_node(offset)
                name = f"attr-p{self.attr_page}-0x{b:02X}"
                self.problem(
                    f"warning: attribute token {b:#04x} on code page {self.attr_page} at offset {offset}:"
                    f" {self.language_name} defines no attribute tokens; labelled {name}"
                )
            else:
                label = f"attrvalue-p{self.attr_page}-0x{b:02X}"
                self.problem(
                    f"warning: attribute value token {b:#04x} at offset {offset}: {self.language_name}"
                    f" defines none; shown as {label}"
                )
                parts.append(label)
        finish()

    def opaque_bytes(self, offset: int) -> bytes:
        length = self.mb_uint32("OPAQUE length")
        if length > len(self.data) - self.pos:
            raise _Stop(offset, f"OPAQUE of {length} bytes runs past the end of the input")
        raw = self.data[self.pos : self.pos + length]
        self.pos += length
        return raw

    def skip_pi(self) -> None:
        offset = self.pos
        self.step(offset)  # "PI END" is two bytes: 25 million of them in 50 MB
        self.pos += 1
        self.read_attributes([])
        self.problem(f"warning: processing instruction at offset {offset} skipped")

    def skip_extension(self) -> None:
        offset = self.pos
        b = self.byte("an extension token")
        if b in _EXTENSIONS_I:
            self.inline_string()
        elif b in _EXTENSIONS_T:
            self.mb_uint32(f"{GLOBAL_TOKEN_NAMES[b]} index")
        self.problem(
            f"warning: extension token {GLOBAL_TOKEN_NAMES[b]} at offset {offset} skipped"
            f" ({self.language_name} defines no extensions)"
        )

    def read_content(self, stack: list[_Open]) -> None:
        """content* END for every open element, until the root is closed."""
        data = self.data
        n = len(data)
        while stack:
            offset = self.pos
            if offset >= n:
                raise _Stop(offset, "input ends")
            self.steps += 1
            if self.steps > self.max_steps:
                raise _Stop(offset, "too many tokens")
            b = data[offset]
            if b == END:
                self.pos += 1
                self.close(stack)
            elif b == SWITCH_PAGE:
                self.pos += 1
                page = self.byte("a code page")
                if self.tags and page not in self.tags:
                    self.problem(
                        f"warning: SWITCH_PAGE to code page {page} at offset {offset}, which"
                        f" {self.language_name} does not define"
                    )
                self.tag_page = page
            elif b == STR_I:
                self.pos += 1
                text = self.inline_string()
                if text:
                    self.count_node(offset)
                    stack[-1].children.append(text)
            elif b == STR_T:
                self.pos += 1
                text = self.table_string(self.mb_uint32("STR_T index"), offset) or ""
                if text:
                    self.count_node(offset)
                    stack[-1].children.append(text)
            elif b == ENTITY:
                self.pos += 1
                self.count_node(offset)
                stack[-1].children.append(self.entity(offset))
            elif b == OPAQUE:
                self.pos += 1
                raw = self.opaque_bytes(offset)
                self.count_node(offset)
                stack[-1].children.append(Opaque(raw, self.nested(stack, raw, offset)))
            elif b == PI:
                self.skip_pi()
            elif b in _EXTENSIONS_I or b in _EXTENSIONS_T or b in _EXTENSIONS_0:
                self.skip_extension()
            else:
                self.open_element(stack)

    def read_trailer(self) -> None:
        """*pi after the root; anything else is reported, not read."""
        data = self.data
        try:
            while self.pos < len(data) and data[self.pos] == PI:
                self.skip_pi()
        except _Stop as stop:
            self.problem(f"warning: {stop.reason} after the root element at offset {stop.offset}")
            return
        if self.pos < len(data):
            self.problem(
                f"warning: {len(data) - self.pos} bytes after the root element (offset {self.pos}) ignored"
            )

    # ------------------------------------------------------------ embedded documents

    def nested(self, stack: list[_Open], raw: bytes, offset: int) -> WbxmlDocument | None:
        """Decode an OPAQUE in ``<Data>`` that holds a whole WBXML document, or None."""
        if stack[-1].tag != "Data" or self.level >= _MAX_NESTING or len(raw) < 4:
            return None
        declared = _declared_type(stack)
        if declared not in EMBEDDED_WBXML_TYPES and raw[0] > 3:
            return None  # not even a WBXML version byte: the usual case, text or binary data
        if raw.isspace():  # (not raw.strip(), which copies a 50 MB OPAQUE to find that out)
            return None  # libwbxml writes the whitespace around an embedded document as OPAQUE
        self.nested_attempts += 1
        if self.nested_attempts > _MAX_NESTED_ATTEMPTS:
            if self.nested_attempts == _MAX_NESTED_ATTEMPTS + 1:
                self.problem(
                    f"warning: more than {_MAX_NESTED_ATTEMPTS} OPAQUE <Data> candidates for embedded"
                    f" documents; from offset {offset} on they are kept as bytes"
                )
            return None
        if self.nested_steps <= 0:
            return None  # the attempts so far took as long as this whole document may
        # An attempt gets what this document has left, and what it takes is charged here: the
        # nodes and text of one that is kept (32 documents of 100,000 nodes each would take
        # 600 MB), the steps of every one (a zero-filled OPAQUE reads as millions of
        # SWITCH_PAGE tokens until the step budget stops it).
        budget_nodes = max(1, self.max_nodes - self.nodes)
        reader = _Reader(raw, max(1, self.max_depth - len(stack)), budget_nodes, self.level + 1,
                         (self.nested_steps, self.text_budget))
        result = reader.run()
        self.nested_steps -= reader.steps
        errors = (
            [] if isinstance(result, WbxmlError) else [p for p in result.problems if p.startswith("error:")]
        )
        if isinstance(result, WbxmlDocument) and not errors:
            if declared in EMBEDDED_WBXML_TYPES:
                return self.keep(result, reader)
            guessed = any("inferred from the root" in p for p in result.problems)
            if result.language != "UNKNOWN" and not guessed:
                self.problem(
                    f"info: OPAQUE in <Data> at offset {offset} is a {result.language} WBXML document"
                    " (no +wbxml Meta/Type); decoded"
                )
                return self.keep(result, reader)
            return None
        if declared in EMBEDDED_WBXML_TYPES:
            reason = result.reason if isinstance(result, WbxmlError) else errors[0][len("error: ") :]
            self.problem(
                f"warning: <Data> at offset {offset} is declared {declared} but its OPAQUE is not a"
                f" complete WBXML document ({reason}); kept as bytes"
            )
        return None

    def keep(self, doc: WbxmlDocument, reader: _Reader) -> WbxmlDocument:
        """An embedded document kept: its nodes and text count as this document's."""
        self.nodes += reader.nodes
        self.text_budget -= reader.text_allowed - reader.text_budget
        return doc

    # ------------------------------------------------------------ result

    def run(self) -> WbxmlDocument | WbxmlError:
        """Read the whole input."""
        try:
            self.read_header()
        except _Stop as stop:
            return WbxmlError(stop.reason, stop.offset)
        self.choose_language()
        root = self.read_body()
        if isinstance(root, WbxmlError):
            return root
        return WbxmlDocument(
            version=self.version,
            public_id=self.public_id,
            fpi=self.fpi,
            language=self.language_name,
            charset=self.charset,
            string_table=self.strtbl,
            root=root,
            problems=self.finish_problems(),
        )

    def finish_problems(self) -> tuple[str, ...]:
        if self.bad_strings:
            self.problem(
                f"warning: {self.bad_strings} string(s) not valid {self.codec} (first at offset"
                f" {self.first_bad_string}); undecodable bytes replaced"
            )
        if self.suppressed:
            self.problems.append(f"warning: {self.suppressed} further problems not listed")
        return tuple(self.problems)


def _type_text(meta: Element) -> str | None:
    """Text of the ``<Type>`` in a ``<Meta>``, or None when there is none."""
    type_element = meta.find("Type")
    if type_element is None:
        return None
    parts: list[str] = []
    for c in type_element.children:
        if isinstance(c, str):
            parts.append(c)
        elif isinstance(c, Opaque):
            parts.append(c.data.decode("utf-8", errors="replace"))
    return "".join(parts).strip()


def _declared_type(stack: list[_Open]) -> str | None:
    """Meta/Type beside the ``<Data>`` on top of ``stack``: the Type in the parent's first
    ``Meta``, else in the grandparent's (libwbxml's wbxml_tree_node_get_syncml_data_type)."""
    for depth in (2, 3):
        if len(stack) >= depth and stack[-depth].meta_type is not None:
            return stack[-depth].meta_type
    return None


def decode(data: bytes, *, max_depth: int = 64, max_nodes: int = 100_000) -> WbxmlDocument | WbxmlError:
    """Decode one WBXML document.  Never raises: bad input gives a :class:`WbxmlError` (header or
    root unreadable) or a partial :class:`WbxmlDocument` with an ``"error: "`` problem."""
    if not isinstance(data, bytes | bytearray | memoryview):
        return WbxmlError(f"expected bytes, not {type(data).__name__}", 0)
    return _Reader(bytes(data), max_depth, max_nodes, 0).run()


def _one_line(text: str) -> str:
    """Problems are one line: names read from the input may hold newlines; long ones are cut."""
    line = " ".join(text.split())
    return line if len(line) <= 300 else line[:299] + "…"
