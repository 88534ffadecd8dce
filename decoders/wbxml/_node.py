"""Node: the light element tree :func:`decoders.wbxml.fast_tree` builds.

Not compiled with the hot modules (pyproject's mypyc list): mypyc cannot compile a class
that derives from ``list``.
"""

from __future__ import annotations

__all__ = ["Node"]


class Node(list["Node"]):
    """One element of a plain document: its element children are its items.

    What the SyncML decoder reads of an lxml element, and no more: ``tag`` (the Clark name,
    ``{namespace}Name``), ``text``, ``tail`` (text after it, before its next sibling), ``len()``
    and iteration over the children.  A list, so that the decoder's loops over children run
    in C, and no per-element proxy or tag string as lxml makes when read (issue 18; the figures
    are in :mod:`decoders.wbxml._fast`).
    """

    __slots__ = ("tag", "tail", "text")
    tag: str
    text: str | None
    tail: str | None
