"""WBXML documents: ``decoders.wbxml.decode``, then what is done with a decoded document
(``to_xml``, ``to_element``, ``encode`` back) and SyncML's WBXML path (``decoders.syncml.decode``
with a WBXML Content-Type)."""

from __future__ import annotations

from fuzz._common import instrumented, main, reraise

with instrumented(__name__ == "__main__"):
    from decoders import syncml, wbxml
    from decoders.syncml import _decode as syncml_decode

WBXML_TYPE = "application/vnd.syncml.dm+wbxml"


def TestOneInput(data: bytes) -> None:
    doc = wbxml.decode(data)
    if isinstance(doc, wbxml.WbxmlDocument):
        xml = wbxml.to_xml(doc)
        wbxml.to_element(doc)
        wbxml.encode(xml)
    msg = syncml.decode(data, WBXML_TYPE)
    if isinstance(msg, syncml.SyncMLError) and "internal decoder error" in msg.reason:
        reraise(msg.reason, syncml_decode._decode, data, WBXML_TYPE)


if __name__ == "__main__":
    main(TestOneInput)
