"""Immutable records produced by :func:`decoders.wbxml.decode`.

One :class:`WbxmlDocument` per input, or a :class:`WbxmlError` when not even the header and
the start of the root element could be read.  The tree is made of :class:`Element` nodes whose
children are further elements, text (``str``, adjacent pieces already joined) and
:class:`Opaque` blobs.  Problems are one-line strings starting with a severity: ``"error: "``,
``"warning: "`` or ``"info: "``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["Child", "Element", "Opaque", "WbxmlDocument", "WbxmlError"]


@dataclass(frozen=True, slots=True)
class Opaque:
    """An OPAQUE token's bytes, as sent.

    ``nested`` is set when the bytes are a complete WBXML document of their own (DevInf or a DM
    DDF ``MgmtTree`` inside ``<Data>``); it is decoded with the same limits, one level deeper.
    """

    data: bytes
    nested: WbxmlDocument | None = None


@dataclass(frozen=True, slots=True)
class Element:
    """One element of the decoded tree.

    ``tag`` is the local name: from the code page table for token tags, from the string table
    for LITERAL tags, or a label ``"tag-p<page>-0x<token>"`` for tokens the language does not
    define.  ``namespace`` is the one wbxml2xml gives the element (inherited from the parent
    when libwbxml writes no ``xmlns``).  ``token`` is None for LITERAL tags.
    """

    tag: str
    namespace: str | None
    attributes: tuple[tuple[str, str], ...]
    children: tuple[Child, ...]
    page: int  #: tag code page in force when the tag was read
    token: int | None  #: tag token without the attribute/content bits; None for LITERAL tags

    @property
    def text(self) -> str:
        """The element's own text children joined (OPAQUE and child elements left out)."""
        return "".join(c for c in self.children if isinstance(c, str))

    def find(self, tag: str) -> Element | None:
        """First child element with this local name, or None."""
        for c in self.children:
            if isinstance(c, Element) and c.tag == tag:
                return c
        return None


#: What an :class:`Element` may contain.
Child: TypeAlias = Element | str | Opaque


@dataclass(frozen=True, slots=True)
class WbxmlDocument:
    """A decoded WBXML document (possibly partial: see ``problems``)."""

    version: int  #: the raw version byte: 0 = WBXML 1.0 ... 3 = WBXML 1.3
    public_id: int  #: numeric public id; 0 when the FPI is given through the string table
    fpi: str | None  #: formal public identifier, from the public id or the string table
    language: str  #: key of ``LANGUAGES`` ("SYNCML12", "DEVINF11", "DMDDF12", ...) or "UNKNOWN"
    charset: int  #: MIBenum as sent; 0 = "from transport" (decoded as UTF-8)
    string_table: bytes
    root: Element
    problems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WbxmlError:
    """The bytes do not even start a WBXML document (header or root start unreadable)."""

    reason: str
    offset: int
