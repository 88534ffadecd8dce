"""SyncBody commands: the table of what each command contains, and the parsers.

``COMMANDS`` is RepPro 1.2.1's DTD in table form: which child elements each command may
have, which it must have, and which commands a container (Atomic, Sequence, Sync) may hold.
Parsing is lenient — every known child is read wherever it appears — and the table only
decides which problems to report.  Container nesting is bounded by ``MAX_DEPTH`` and the
total number of commands and items by ``MAX_COMMANDS`` / ``MAX_ITEMS``, so a hostile message
costs time linear in its size and a fixed amount of stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, cast

from .._strings import share
from ._records import Chal, Command, Cred, Item, Meta
from ._xml import LOCAL_NAMES, Element, LxmlElement, Problems, kids, local, local_name, safe_tostring, text_of

__all__ = [
    "COMMANDS",
    "MAX_COMMANDS",
    "MAX_DEPTH",
    "MAX_ITEMS",
    "CommandSpec",
    "Walker",
    "loc",
    "parse_cred",
    "parse_meta",
]

MAX_DEPTH: Final = 16  #: containers nested deeper than this are skipped (real messages use 2-3)
MAX_COMMANDS: Final = 100_000
MAX_ITEMS: Final = 100_000


@dataclass(frozen=True, slots=True)
class CommandSpec:
    """What one command element may contain (RepPro 1.2.1 DTD)."""

    fields: frozenset[str]  #: allowed non-command child elements
    required: tuple[str, ...] = ()  #: children whose absence is an error (besides CmdID, a warning)
    needs_item: bool = False  #: Item+ (MapItem+ for Map) in the DTD; absence is a warning
    holds: frozenset[str] = frozenset()  #: commands a container may hold


_ITEM_CMD = frozenset({"CmdID", "NoResp", "Cred", "Meta", "Item"})
_ATOMIC_HOLDS = frozenset(
    {"Add", "Delete", "Copy", "Atomic", "Map", "Move", "Replace", "Sequence", "Sync", "Get", "Exec", "Alert"}
)

COMMANDS: Final[dict[str, CommandSpec]] = {
    "Add": CommandSpec(_ITEM_CMD, needs_item=True),
    "Alert": CommandSpec(frozenset({"CmdID", "NoResp", "Cred", "Data", "Correlator", "Item"})),
    "Atomic": CommandSpec(frozenset({"CmdID", "NoResp", "Meta"}), holds=_ATOMIC_HOLDS),
    "Copy": CommandSpec(_ITEM_CMD, needs_item=True),
    "Delete": CommandSpec(_ITEM_CMD | {"Archive", "SftDel"}, needs_item=True),
    "Exec": CommandSpec(_ITEM_CMD | {"Correlator"}, needs_item=True),
    "Get": CommandSpec(_ITEM_CMD | {"Lang"}, needs_item=True),
    "Map": CommandSpec(frozenset({"CmdID", "Target", "Source", "Cred", "Meta", "MapItem"}), needs_item=True),
    "Move": CommandSpec(_ITEM_CMD, needs_item=True),
    "Put": CommandSpec(_ITEM_CMD | {"Lang"}, needs_item=True),
    "Replace": CommandSpec(_ITEM_CMD, needs_item=True),
    "Results": CommandSpec(
        frozenset({"CmdID", "MsgRef", "CmdRef", "Meta", "TargetRef", "SourceRef", "Item"}), needs_item=True
    ),
    "Search": CommandSpec(
        frozenset({"CmdID", "NoResp", "NoResults", "Cred", "Target", "Source", "Lang", "Meta", "Data"})
    ),
    "Sequence": CommandSpec(frozenset({"CmdID", "NoResp", "Meta"}), holds=_ATOMIC_HOLDS - {"Sequence"}),
    "Status": CommandSpec(
        frozenset(
            {"CmdID", "MsgRef", "CmdRef", "Cmd", "TargetRef", "SourceRef", "Cred", "Chal", "Data", "Item"}
        ),
        required=("MsgRef", "CmdRef", "Cmd", "Data"),
    ),
    "Sync": CommandSpec(
        frozenset({"CmdID", "NoResp", "Cred", "Target", "Source", "Meta", "NumberOfChanges"}),
        holds=frozenset({"Add", "Atomic", "Copy", "Delete", "Move", "Replace", "Sequence"}),
    ),
}

#: Every element a command may contain, across all commands (for "unexpected" vs "unknown").
_KNOWN_FIELDS: Final = frozenset().union(*(spec.fields for spec in COMMANDS.values()))

_LOC_TAGS: Final = frozenset({"Target", "Source", "SourceParent", "TargetParent"})
# Command children that may repeat; of any other repeated child the first counts.
_REPEATABLE: Final = frozenset({"Item", "MapItem", "TargetRef", "SourceRef"})
# Command children read as stripped text.
_TEXT_FIELDS: Final = frozenset({"CmdID", "MsgRef", "CmdRef", "Cmd", "Data", "Correlator"})
# MetInf elements read as integers (Meta's size, max_msg_size, max_obj_size); the str ones
# with a field of their own are Type, Format, NextNonce, Version and Mark.
_META_INT: Final = frozenset({"Size", "MaxMsgSize", "MaxObjSize"})


def _strip(el: Element) -> str:
    if len(el):  # text after a child is in the child's tail: text_of joins them
        return text_of(el).strip()
    text = el.text
    # Identifiers and LocURIs repeat in every message: one str each (decoders/_strings.py).
    return share(text.strip()) if text else ""


def _int(raw: str, what: str, ctx: Problems) -> int | None:
    """A non-negative size or count; up to 18 digits (no int() of a megabyte of digits)."""
    s = raw.strip()
    if 0 < len(s) <= 18 and s.isascii() and s.isdigit():
        return int(s)
    ctx.limited("warning", "non-integer " + what, f"{what} is not an integer: {s[:60]!r}")
    return None


# Item Metas repeat a few Type/Format pairs thousands of times: one (immutable) record for each
# pair.  Bounded: emptied when full, so that made-up types cannot grow it.
_PLAIN_METAS: dict[tuple[str | None, str | None], Meta] = {}
_MAX_PLAIN_METAS: Final = 1024


def _plain_meta(mtype: str | None, mformat: str | None) -> Meta:
    """``Meta(type=mtype, format=mformat)``, shared."""
    key = (mtype, mformat)
    meta = _PLAIN_METAS.get(key)
    if meta is None:
        if len(_PLAIN_METAS) >= _MAX_PLAIN_METAS:
            _PLAIN_METAS.clear()
        meta = _PLAIN_METAS[key] = Meta(type=mtype, format=mformat)
    return meta


def parse_meta(el: Element, ctx: Problems, wrapped: bool = True) -> Meta:
    """A ``<Meta>`` element; a ``<MetInf>`` wrapper (seen in SyncML 1.0 stacks) is looked through.

    ``wrapped``: whether ``el`` may still be such a wrapper's parent (False inside the wrapper).
    """
    # The str fields: the first of each counts.
    mtype = mformat = next_nonce = version = mark = None
    sizes: dict[str, int | None] = {}  # Size, MaxMsgSize, MaxObjSize (None: not an integer)
    emi: list[str] = []
    fields: list[tuple[str, str]] = []
    names = LOCAL_NAMES
    for c in el:
        name = names.get(c.tag) or local_name(c.tag)
        # A repeated field is kept in ``fields``, as any other MetInf element.
        if name == "Format" and mformat is None:
            mformat = _strip(c)
        elif name == "Type" and mtype is None:
            mtype = _strip(c)
        elif name == "NextNonce" and next_nonce is None:
            next_nonce = _strip(c)
        elif name == "Version" and version is None:
            version = _strip(c)
        elif name == "Mark" and mark is None:
            mark = _strip(c)
        elif name in _META_INT and name not in sizes:
            sizes[name] = _int(text_of(c), f"Meta/{name}", ctx)
        elif name == "EMI":
            emi.append(_strip(c))
        elif not name:  # a comment or PI
            continue
        elif name == "MetInf" and wrapped and len(kids(el)) == 1:
            return parse_meta(c, ctx, wrapped=False)  # nothing read before it: it is the only element
        else:
            sub = kids(c)
            if sub:  # Anchor(Last, Next), Mem(SharedMem, FreeMem, FreeID): one level, flattened
                fields.extend((f"{name}/{sub_name}", _strip(s)) for sub_name, s in sub)
            else:
                fields.append((name, _strip(c)))
    if not (sizes or emi or fields) and next_nonce is None and version is None and mark is None:
        return _plain_meta(mtype, mformat)
    return Meta(
        type=mtype,
        format=mformat,
        size=sizes.get("Size"),
        next_nonce=next_nonce,
        max_msg_size=sizes.get("MaxMsgSize"),
        max_obj_size=sizes.get("MaxObjSize"),
        version=version,
        mark=mark,
        emi=tuple(emi),
        fields=tuple(fields),
    )


def parse_cred(el: Element, ctx: Problems) -> Cred:
    """``<Cred>``: Meta Type/Format and the Data text as sent."""
    meta: Meta | None = None
    data = ""
    for name, c in kids(el):
        if name == "Meta" and meta is None:
            meta = parse_meta(c, ctx)
        elif name == "Data":
            data = text_of(c)
    return Cred(type=meta.type if meta else None, format=meta.format if meta else None, data=data)


def loc(el: Element) -> tuple[str | None, str | None]:
    """(LocURI, LocName) of a Target/Source/…Parent element."""
    uri: str | None = None
    name: str | None = None
    names = LOCAL_NAMES
    for c in el:
        tag = names.get(c.tag) or local_name(c.tag)
        if tag == "LocURI":
            if uri is None:
                uri = _strip(c)
        elif tag == "LocName" and name is None:
            name = _strip(c)
    return uri, name


def _data(el: Element) -> tuple[str, str | None]:
    """Data text, or (serialised tree, root name) when Data holds elements (DevInf, MgmtTree)."""
    if not len(el):  # plain text (most Data): no children to look at
        text = el.text
        return (share(text) if text else ""), None
    children = kids(el)
    if not children:
        return text_of(el), None
    # Only lxml elements get here: plain WBXML whose Data holds elements is parsed into lxml.
    xml = "".join(safe_tostring(cast(LxmlElement, k)) for _, k in children)
    return xml, children[0][0]


class _Fields:
    """Mutable accumulator for one command's fields while its children are read."""

    __slots__ = (
        "chal",
        "cred",
        "items",
        "meta",
        "no_resp",
        "number_of_changes",
        "source_refs",
        "target_refs",
        "text",
    )

    def __init__(self) -> None:
        self.text: dict[str, str] = {}  # CmdID, MsgRef, CmdRef, Cmd, Data, Correlator, Target, Source
        self.items: list[Item] = []
        self.target_refs: list[str] = []
        self.source_refs: list[str] = []
        self.no_resp = False
        self.meta: Meta | None = None
        self.cred: Cred | None = None
        self.chal: Chal | None = None
        self.number_of_changes: int | None = None


class Walker:
    """Turns SyncBody command elements into :class:`Command` records, counting as it goes."""

    __slots__ = ("_depth_reported", "commands", "ctx", "items")

    def __init__(self, ctx: Problems) -> None:
        self.ctx = ctx
        self.commands = 0
        self.items = 0
        self._depth_reported = False

    def over_limit(self) -> bool:
        """Count one more command; False (with one error) once ``MAX_COMMANDS`` is passed."""
        self.commands += 1
        if self.commands == MAX_COMMANDS + 1:
            self.ctx.error(f"more than {MAX_COMMANDS} commands; the rest are ignored")
        return self.commands > MAX_COMMANDS

    def command(self, el: Element, parents: tuple[str, ...]) -> Command:
        """Parse one command element; ``parents`` are the names of the enclosing containers."""
        ctx = self.ctx
        name = local(el.tag)
        spec = COMMANDS.get(name)
        where = parents[-1] if parents else "SyncBody"
        if spec is None:
            ctx.limited("warning", "unknown command", f"unknown command <{name}> in {where}")
        elif parents and name not in COMMANDS[parents[-1]].holds:
            ctx.limited("warning", "misplaced command", f"{name} is not allowed inside {where}")
        if "Atomic" in parents:
            if name == "Atomic":
                ctx.limited("warning", "nested Atomic", "Atomic nested inside Atomic")
            elif name == "Get":
                ctx.limited("warning", "Get in Atomic", "Get inside Atomic")

        f = _Fields()
        children: list[Command] = []
        seen: set[str] = set()
        names = LOCAL_NAMES
        for c in el:
            tag = names.get(c.tag) or local_name(c.tag)
            if not tag:  # a comment or PI
                continue
            repeated = tag in seen
            seen.add(tag)
            # In a container every element that is not one of its fields is a (maybe unknown)
            # command: Windows answers such an element with its own Status 400.
            if tag in COMMANDS or (spec is not None and spec.holds and tag not in spec.fields):
                if spec is None or not spec.holds:
                    ctx.limited("warning", "command in command", f"command <{tag}> inside {name} ignored")
                elif len(parents) >= MAX_DEPTH:
                    if not self._depth_reported:
                        self._depth_reported = True
                        ctx.error(f"commands nested deeper than {MAX_DEPTH} levels; deeper ones are ignored")
                elif not self.over_limit():
                    children.append(self.command(c, (*parents, name)))
                continue
            if spec is not None and tag not in spec.fields:
                if tag in _KNOWN_FIELDS:
                    ctx.limited("info", "unexpected element", f"<{tag}> is not expected in {name}")
                else:
                    ctx.limited("warning", "unknown element", f"unknown element <{tag}> in {name}")
            if not repeated or tag in _REPEATABLE:
                self._field(f, tag, c)
            else:
                ctx.limited("warning", "repeated element", f"repeated <{tag}> in {name}; the first counts")

        text = f.text
        # Positional, in field order, as Item in item() below (and held to the class the same way).
        cmd = Command(name, text.get("CmdID"), f.no_resp, f.meta, f.cred, tuple(f.items), tuple(children),
                      text.get("Data"), text.get("Correlator"), text.get("MsgRef"), text.get("CmdRef"),
                      text.get("Cmd"), tuple(f.target_refs), tuple(f.source_refs), f.chal, text.get("Target"),
                      text.get("Source"), f.number_of_changes)
        if spec is not None:
            self._check(cmd, spec, seen)
        return cmd

    def _field(self, f: _Fields, tag: str, c: Element) -> None:
        """Read one non-command child element into ``f``."""
        if tag in ("Item", "MapItem"):
            self.items += 1
            if self.items == MAX_ITEMS + 1:
                self.ctx.error(f"more than {MAX_ITEMS} items; the rest are ignored")
            if self.items <= MAX_ITEMS:
                f.items.append(self.item(c))
        elif tag == "TargetRef":
            f.target_refs.append(_strip(c))
        elif tag == "SourceRef":
            f.source_refs.append(_strip(c))
        elif tag in _TEXT_FIELDS:
            f.text[tag] = _strip(c)
        elif tag in ("Target", "Source"):
            uri = loc(c)[0]
            if uri is not None:
                f.text[tag] = uri
        elif tag == "NoResp":
            f.no_resp = True
        elif tag == "Meta":
            f.meta = parse_meta(c, self.ctx)
        elif tag == "Cred":
            f.cred = parse_cred(c, self.ctx)
        elif tag == "Chal":
            meta_el = next((m for n, m in kids(c) if n == "Meta"), None)
            f.chal = Chal(parse_meta(meta_el, self.ctx) if meta_el is not None else Meta())
        elif tag == "NumberOfChanges":
            f.number_of_changes = _int(text_of(c), "NumberOfChanges", self.ctx)
        # Archive, SftDel, Lang, NoResults: allowed, but not part of the record.

    def _check(self, cmd: Command, spec: CommandSpec, seen: set[str]) -> None:
        """Report what the DTD requires but the command lacks, and malformed codes."""
        ctx = self.ctx
        label = f"{cmd.name} (CmdID {cmd.cmd_id})" if cmd.cmd_id else cmd.name
        if "CmdID" not in seen:
            # Windows answers 400 for a command without CmdID; not fatal to reading it.
            ctx.limited("warning", "missing CmdID", f"{cmd.name} without CmdID")
        for req in spec.required:
            if req not in seen:
                ctx.limited("error", f"{cmd.name} without {req}", f"{label} without {req}")
        if spec.needs_item and not cmd.items:
            what = "MapItem" if cmd.name == "Map" else "Item"
            ctx.limited("warning", f"{cmd.name} without {what}", f"{label} without {what}")
        if cmd.name == "Results" and "CmdRef" not in seen:
            ctx.limited("warning", "Results without CmdRef", f"{label} without CmdRef")
        if cmd.name == "Alert" and "Data" not in seen:
            ctx.limited("warning", "Alert without code", f"{label} without Data (the alert code)")
        if cmd.name in ("Status", "Alert") and cmd.data is not None and cmd.code is None:
            ctx.limited(
                "error", f"non-integer {cmd.name} code", f"{label}: code is not an integer: {cmd.data[:60]!r}"
            )

    def item(self, el: Element) -> Item:
        """One Item or MapItem; of a repeated child the first counts."""
        target = target_name = source = source_name = source_parent = target_parent = None
        locs: set[str] = set()
        meta: Meta | None = None
        data: str | None = None
        embedded: str | None = None
        more_data = False
        names = LOCAL_NAMES
        for c in el:
            tag = names.get(c.tag) or local_name(c.tag)
            if tag == "Data":
                if data is None:
                    data, embedded = _data(c)
            elif tag == "Meta":
                if meta is None:
                    meta = parse_meta(c, self.ctx)
            elif tag in _LOC_TAGS:
                if tag not in locs:
                    locs.add(tag)
                    uri, name = loc(c)
                    if tag == "Target":
                        target, target_name = uri, name
                    elif tag == "Source":
                        source, source_name = uri, name
                    elif tag == "SourceParent":
                        source_parent = uri
                    else:
                        target_parent = uri
            elif tag == "MoreData":
                more_data = True
            elif tag:  # not a comment or PI
                self.ctx.limited("warning", "unknown element", f"unknown element <{tag}> in Item")
        for uri in (target, source, source_parent, target_parent):
            if uri is not None and uri.startswith("/"):
                # Windows rejects such URIs; the session layer decides whether that is a finding.
                self.ctx.limited("info", "LocURI starting with /", f"LocURI starts with '/': {uri[:80]!r}")
        # Positional, in field order (tests/decoders/syncml/test_commands.py holds the order to the
        # class): a record built with keywords goes through a keyword dict in type.__call__, 0.8 µs
        # an Item against 0.4, and the OMA DM benchmark capture has half a million Items.
        return Item(target, target_name, source, source_name, source_parent, target_parent, meta, data,
                    embedded, more_data)
