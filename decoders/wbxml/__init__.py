"""Sans-IO WBXML decoder and encoder for the SyncML family (OMA DM / DS, DevInf, MetInf, DM DDF).

:func:`decode` reads WBXML 1.0-1.3 bytes into an immutable :class:`WbxmlDocument` (or a
:class:`WbxmlError` when not even a header and root start are there); it never raises::

    doc = decode(body)
    if isinstance(doc, WbxmlDocument):
        print(doc.language, doc.root.tag, doc.problems)
        xml = to_xml(doc)                 # what wbxml2xml would print
        element = to_element(doc)         # the same as an lxml element

:func:`encode` goes the other way, choosing the language the way libwbxml's xml2wbxml does.
Layout: ``_tables`` (global tokens, code pages, public ids, ``LANGUAGES``), ``_records``
(the frozen records), ``_decode`` (the reader), ``_render`` (``to_element``/``to_xml``) and
``_encode``.  Each module's docstring lists the libwbxml behaviours it mirrors or departs
from.  Problems are one-line strings prefixed "error: ", "warning: " or "info: ".
"""

from ._decode import EMBEDDED_WBXML_TYPES, decode
from ._encode import encode
from ._fast import fast_element, fast_tree, tree_element
from ._records import *  # noqa: F403
from ._records import __all__ as _record_names
from ._render import to_element, to_xml, to_xml_chunks
from ._tables import *  # noqa: F403
from ._tables import __all__ as _table_names

__all__ = [
    "EMBEDDED_WBXML_TYPES",
    "decode",
    "encode",
    "fast_element",
    "fast_tree",
    "to_element",
    "to_xml",
    "to_xml_chunks",
    "tree_element",
    *_record_names,
    *_table_names,
]
