"""Immutable records produced by :func:`decoders.syncml.decode`.

Values are kept as text, as sent: CmdID, MsgRef, CmdRef and SessionID are strings because
sessions compare them as strings (a server may well send ``CmdRef`` "007").  Identifier
fields (IDs, refs, LocURI/LocName, Meta tokens) have surrounding whitespace removed; Data
is kept exactly, since WBXML OPAQUE values often carry CR/LF padding that matters to nobody
but may matter to a digest.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .._frozen import quick_init
from .codes import alert_meaning, status_meaning, to_code

__all__ = ["Chal", "Command", "Cred", "Item", "Meta", "SyncHdr", "SyncMLError", "SyncMLMessage"]


@quick_init
@dataclass(frozen=True, slots=True)
class Meta:
    """A ``<Meta>`` (MetInf) block; ``fields`` keeps every other MetInf element in order.

    Nested MetInf elements are flattened with a slash: ``("Anchor/Last", "1230717403")``.
    """

    type: str | None = None
    format: str | None = None
    size: int | None = None
    next_nonce: str | None = None
    max_msg_size: int | None = None
    max_obj_size: int | None = None
    version: str | None = None
    mark: str | None = None
    emi: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()


@quick_init
@dataclass(frozen=True, slots=True)
class Cred:
    """Credentials: ``type`` e.g. "syncml:auth-md5", ``format`` e.g. "b64", ``data`` as sent."""

    type: str | None = None
    format: str | None = None
    data: str = ""


@quick_init
@dataclass(frozen=True, slots=True)
class Chal:
    """An authentication challenge (in a Status): Meta with Type, Format and NextNonce."""

    meta: Meta = Meta()

    @property
    def type(self) -> str | None:
        return self.meta.type

    @property
    def format(self) -> str | None:
        return self.meta.format

    @property
    def next_nonce(self) -> str | None:
        return self.meta.next_nonce


@quick_init
@dataclass(frozen=True, slots=True)
class Item:
    """One ``<Item>`` (or a Map's ``<MapItem>``).

    ``data`` is the Data text, or the serialised XML when Data holds an element tree
    (DevInf, a DDF MgmtTree); then ``embedded`` names that tree's root element.
    """

    target: str | None = None
    target_name: str | None = None
    source: str | None = None
    source_name: str | None = None
    source_parent: str | None = None
    target_parent: str | None = None
    meta: Meta | None = None
    data: str | None = None
    embedded: str | None = None
    more_data: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Command:
    """One SyncBody command; Atomic, Sequence and Sync hold their commands in ``children``.

    Only the fields that the command's element has are set.  ``data`` is the Alert code or
    the Status code text; ``target``/``source`` are Sync, Map and Search Target/Source LocURIs.
    """

    name: str
    cmd_id: str | None = None
    no_resp: bool = False
    meta: Meta | None = None
    cred: Cred | None = None
    items: tuple[Item, ...] = ()
    children: tuple[Command, ...] = ()
    data: str | None = None
    correlator: str | None = None
    msg_ref: str | None = None
    cmd_ref: str | None = None
    cmd: str | None = None
    target_refs: tuple[str, ...] = ()
    source_refs: tuple[str, ...] = ()
    chal: Chal | None = None
    target: str | None = None
    source: str | None = None
    number_of_changes: int | None = None

    @property
    def code(self) -> int | None:
        """The status code of a Status or the alert code of an Alert, as an int."""
        if self.name in ("Status", "Alert"):
            return to_code(self.data)
        return None

    @property
    def meaning(self) -> str | None:
        """Meaning of :attr:`code` (status text for Status, alert name for Alert)."""
        if self.name == "Status":
            return status_meaning(self.data)
        if self.name == "Alert":
            return alert_meaning(self.data)
        return None

    @property
    def is_header_status(self) -> bool:
        """True for the Status answering the SyncHdr (CmdRef "0" or Cmd "SyncHdr")."""
        return self.name == "Status" and (self.cmd_ref == "0" or self.cmd == "SyncHdr")


@quick_init
@dataclass(frozen=True, slots=True)
class SyncHdr:
    """The SyncHdr; ``source_name`` (Source/LocName) is the userid of md5/HMAC auth."""

    ver_dtd: str | None = None
    ver_proto: str | None = None
    session_id: str | None = None
    msg_id: str | None = None
    target: str | None = None
    target_name: str | None = None
    source: str | None = None
    source_name: str | None = None
    resp_uri: str | None = None
    no_resp: bool = False
    cred: Cred | None = None
    meta: Meta | None = None


@quick_init
@dataclass(frozen=True, slots=True)
class SyncMLMessage:
    """One decoded SyncML message (OMA DM or DS), XML or WBXML.

    ``commands`` are the SyncBody children in order without Final; ``problems`` are
    one-line strings starting with "error: ", "warning: " or "info: ".
    """

    encoding: str
    namespace: str | None = None
    header: SyncHdr = SyncHdr()
    commands: tuple[Command, ...] = ()
    final: bool = False
    wbxml_public_id: int | None = None
    problems: tuple[str, ...] = ()

    @property
    def all_commands(self) -> Iterator[Command]:
        """Every command depth-first, including those inside Atomic, Sequence and Sync."""
        stack = list(reversed(self.commands))
        while stack:
            cmd = stack.pop()
            yield cmd
            stack.extend(reversed(cmd.children))

    @property
    def is_dm(self) -> bool:
        """True for OMA DM (VerProto "DM/1.x"), False for DS and unknown protocols."""
        return (self.header.ver_proto or "").startswith("DM/")


@quick_init
@dataclass(frozen=True, slots=True)
class SyncMLError:
    """The body is not a SyncML document at all (not XML, empty, or WBXML that did not decode)."""

    reason: str
