"""encode() choices (language, public id, code pages, nested documents) and to_xml()."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from decoders.wbxml import Opaque, WbxmlDocument, WbxmlError, decode, encode, to_element, to_xml

from .helpers import DATA, NEXTNONCE, SYNCML, header, opaque, str_i, switch, tag
from .oracle import assert_same_tree, parse_xml, run_xml2wbxml

SYNCML11_DOCTYPE = (
    b'<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.1//EN"'
    b' "http://www.syncml.org/docs/syncml_represent_v11_20020213.dtd">'
)


def enc(xml: bytes | etree._Element, **kwargs: int | str | None) -> bytes:
    out = encode(xml, **kwargs)  # type: ignore[arg-type]
    assert isinstance(out, bytes), out
    return out


def dec(data: bytes) -> WbxmlDocument:
    doc = decode(data)
    assert isinstance(doc, WbxmlDocument), doc
    return doc


@pytest.mark.parametrize(
    ("xml", "head", "language"),
    [
        (b"<SyncML/>", b"\x03\xa4\x01\x6a\x00", "SYNCML12"),  # bare root: first in libwbxml's table
        (b'<SyncML xmlns="SYNCML:SYNCML1.1"/>', b"\x03\x9f\x53\x6a\x00", "SYNCML11"),
        (b'<SyncML xmlns="syncml:syncml1.0"/>', b"\x03\x9f\x51\x6a\x00", "SYNCML10"),  # case-insensitive
        (SYNCML11_DOCTYPE + b'<SyncML xmlns="SYNCML:SYNCML1.2"/>', b"\x03\x9f\x53\x6a\x00", "SYNCML11"),
        (b'<DevInf xmlns="syncml:devinf"/>', b"\x03\xa4\x03\x6a\x00", "DEVINF12"),
        (b"<MetInf/>", b"\x03\xa4\x02\x6a\x00", "METINF12"),
        (b"<MgmtTree/>", b"\x03\x00\x00\x6a\x1b-//OMA//DTD-DM-DDF 1.2//EN\x00", "DMDDF12"),
    ],
)
def test_language_choice(xml: bytes, head: bytes, language: str) -> None:
    out = enc(xml)
    assert out.startswith(head), out
    assert dec(out).language == language


def test_language_choice_matches_xml2wbxml(tmp_path: Path) -> None:
    for index, xml in enumerate(
        (b"<SyncML/>", b'<SyncML xmlns="SYNCML:SYNCML1.1"/>', SYNCML11_DOCTYPE + b"<SyncML/>", b"<MgmtTree/>")
    ):
        run = run_xml2wbxml(xml, tmp_path, name=f"lang{index}")
        assert run.returncode == 0, run.messages
        assert enc(xml)[:4] == run.output[:4]


def test_unknown_language_is_all_literal() -> None:
    out = enc(b'<Foo a="1"><Bar>x</Bar><Bar/></Foo>')
    doc = dec(out)
    assert doc.public_id == 0x01 and doc.language == "UNKNOWN"
    assert doc.string_table == b"Foo\x00a\x00Bar\x00"
    assert [(c.tag, c.token) for c in doc.root.children if not isinstance(c, str)] == [("Bar", None)] * 2
    assert doc.root.attributes == (("a", "1"),)


@pytest.mark.parametrize(
    ("public_id", "head", "language"),
    [
        (0x0FD3, b"\x03\x9f\x53\x6a\x00", "SYNCML11"),  # a known number: its tables too
        (0x4321, b"\x03\x81\x86\x21\x6a\x00", "SYNCML12"),  # unknown number: tables from the XML
        (
            "-//SYNCML//DTD SyncML 1.1//EN",
            b"\x03\x00\x00\x6a\x1e-//SYNCML//DTD SyncML 1.1//EN\x00",
            "SYNCML11",
        ),
    ],
)
def test_public_id_override(public_id: int | str, head: bytes, language: str) -> None:
    out = enc(b"<SyncML><SyncHdr/></SyncML>", public_id=public_id)
    assert out.startswith(head), out
    doc = decode(out, max_depth=8)
    assert isinstance(doc, WbxmlDocument)
    assert doc.root.find("SyncHdr") is not None
    if isinstance(public_id, str) or public_id == 0x0FD3:
        assert doc.language == language


@pytest.mark.parametrize("version", [0, 1, 2, 3])
def test_versions(version: int) -> None:
    out = enc(b"<SyncML><SyncHdr/></SyncML>", version=version)
    expected = bytes([version]) + b"\xa4\x01" + (b"" if version == 0 else b"\x6a") + b"\x00"
    assert out.startswith(expected)
    assert dec(out).version == version


@pytest.mark.parametrize(
    ("xml", "kwargs", "reason"),
    [
        (b"<SyncML/>", {"version": 4}, "version"),
        (b"<SyncML/>", {"public_id": 0}, "mb_u_int32"),
        (b"<SyncML/>", {"public_id": 1 << 32}, "mb_u_int32"),
        (b"<SyncML/>", {"public_id": 1.5}, "public_id"),
        (b"", {}, "XML not readable"),
        (b"no xml at all", {}, "XML not readable"),
        ("<SyncML/>", {}, "expected XML bytes"),
    ],
)
def test_encode_errors(xml: object, kwargs: dict[str, object], reason: str) -> None:
    result = encode(xml, **kwargs)  # type: ignore[arg-type]
    assert isinstance(result, WbxmlError) and reason in result.reason, result


def test_code_pages_switch_only_when_needed() -> None:
    xml = (
        b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><Meta>'
        b'<MaxMsgSize xmlns="syncml:metinf">1</MaxMsgSize><MaxObjSize xmlns="syncml:metinf">2</MaxObjSize>'
        b"</Meta><MsgID>1</MsgID></SyncHdr></SyncML>"
    )
    body = enc(xml)[5:]
    # SyncML SyncHdr Meta SWITCH 1 MaxMsgSize ... MaxObjSize ... END(Meta) SWITCH 0 MsgID
    assert body == (
        b"\x6d\x6c\x5a\x00\x01\x4c" + str_i("1") + b"\x01\x55" + str_i("2") + b"\x01\x01"
        b"\x00\x00\x5b" + str_i("1") + b"\x01\x01\x01"
    )


def test_whitespace_comments_and_entities() -> None:
    xml = b"<SyncML>\n  <!-- note -->\n  <Data> a &amp; b <!-- x --> c </Data>\n  <Final/>\n</SyncML>"
    doc = dec(enc(xml))
    data = doc.root.find("Data")
    assert data is not None and data.text == " a & b  c "  # kept verbatim, comments left out
    assert [c.tag for c in doc.root.children if not isinstance(c, str)] == ["Data", "Final"]


def test_raw_ampersand_recovered() -> None:
    doc = dec(enc(b"<SyncML><Data>MINDT=15&DR=1</Data></SyncML>"))
    assert doc.root.find("Data") is not None


def test_embedded_devinf_follows_syncml_version() -> None:
    for version, public in (("1.0", b"\x9f\x52"), ("1.1", b"\x9f\x54"), ("1.2", b"\xa4\x03")):
        xml = (
            f'<SyncML xmlns="SYNCML:SYNCML{version}"><Put><Meta>'
            '<Type xmlns="syncml:metinf">application/vnd.syncml-devinf+xml</Type></Meta>'
            '<Item><Data><DevInf xmlns="syncml:devinf"><Man>M</Man></DevInf></Data></Item></Put></SyncML>'
        ).encode()
        out = enc(xml)
        assert b"application/vnd.syncml-devinf+wbxml" in out  # the Type follows the encoding
        assert b"\xc3" in out and b"\x03" + public + b"\x6a" in out
        doc = dec(out)
        assert doc.problems == ()
        assert_same_tree(to_element(doc), parse_xml(xml))  # and +xml again on the way back


def test_type_rewritten_only_when_data_is_embedded() -> None:
    xml = (
        b"<SyncML><Put><Meta><Type xmlns='syncml:metinf'>application/vnd.syncml-devinf+xml</Type></Meta>"
        b"<Item><Data>&lt;DevInf/&gt;</Data></Item></Put></SyncML>"
    )
    out = enc(xml)
    assert b"devinf+xml" in out and b"devinf+wbxml" not in out


def test_devinf_without_namespace_is_not_embedded() -> None:
    out = enc(b"<SyncML><Results><Item><Data><DevInf><Man>M</Man></DevInf></Data></Item></Results></SyncML>")
    doc = dec(out)
    assert b"\xc3" not in out and b"DevInf\x00" in doc.string_table  # a LITERAL, as xml2wbxml does


def test_attributes_kept_as_literals() -> None:
    doc = dec(enc(b'<SyncML xml:lang="en"><Data x="1" y="">t</Data></SyncML>'))
    data = doc.root.find("Data")
    assert doc.root.attributes == (("xml:lang", "en"),)
    assert data is not None and data.attributes == (("x", "1"), ("y", ""))
    rendered = to_element(doc)
    assert rendered.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_element_input_and_its_doctype() -> None:
    tree = parse_xml(SYNCML11_DOCTYPE + b"<SyncML><SyncHdr><VerDTD>1.1</VerDTD></SyncHdr></SyncML>")
    assert enc(tree)[:3] == b"\x03\x9f\x53"
    # a sub-element is a document of its own: its language comes from its own name
    hdr = tree[0]
    assert dec(enc(hdr)).language == "UNKNOWN"


def test_deep_xml_without_recursion() -> None:
    root = etree.Element("SyncML")
    chain = [root]  # kept: lxml frees a lone proxy by walking up the whole chain
    for _ in range(50_000):
        chain.append(etree.SubElement(chain[-1], "Item"))
    out = enc(root)
    doc = decode(out, max_depth=100_000, max_nodes=100_000)
    assert isinstance(doc, WbxmlDocument) and doc.problems == ()


# ---------------------------------------------------------------- to_xml / to_element


def test_to_xml_header_and_doctype() -> None:
    doc = dec(header() + tag(SYNCML, tag(DATA, str_i("a & <b>"))))
    text = to_xml(doc)
    assert text.startswith(
        b'<?xml version="1.0"?>\n<!DOCTYPE SyncML PUBLIC "-//SYNCML//DTD SyncML 1.2//EN"'
        b' "http://www.openmobilealliance.org/tech/DTD/OMA-TS-SyncML_RepPro_DTD-V1_2.dtd">\n'
        b'<SyncML xmlns="SYNCML:SYNCML1.2">\n  <Data>a &amp; &lt;b&gt;</Data>'
    )
    compact = to_xml(doc, pretty=False)
    assert b"\n" not in compact
    assert_same_tree(parse_xml(compact), parse_xml(text))
    assert etree.fromstring(compact).getroottree().docinfo.public_id == "-//SYNCML//DTD SyncML 1.2//EN"


def test_to_element_tree_carries_doctype_for_encode() -> None:
    devinf11 = header(public_id=0x0FD4) + tag(0x0A, tag(0x1C, str_i("9")))  # 0x1C is Size in 1.1
    doc = dec(devinf11)
    element = to_element(doc)
    assert element.getroottree().docinfo.public_id == "-//SYNCML//DTD DevInf 1.1//EN"
    assert enc(element) == devinf11  # xmlns alone would have said DevInf 1.2, where Size is a LITERAL


def test_to_element_sanitises_what_xml_cannot_hold() -> None:
    strtbl = b"bad name\x00ok\x00"
    data = header(strtbl=strtbl) + tag(
        SYNCML,
        b"\x44\x00" + str_i("ctl\x01char") + b"\x01",
        tag(DATA, attrs=b"\x04\x09" + str_i("v") + b"\x04\x00" + str_i("w")),
    )
    doc = dec(data)
    rendered = to_element(doc)
    literal = rendered[0]
    assert etree.QName(literal).localname == "literal-" + b"bad name".hex()
    assert literal.text == "ctl\ufffdchar"
    assert dict(rendered[1].attrib) == {"ok": "v"}  # "bad name" is no attribute name


def test_opaque_records_render_as_text_or_base64() -> None:
    doc = dec(
        header()
        + tag(
            SYNCML,
            tag(DATA, opaque(b"plain")),
            tag(DATA, opaque(b"\xff\xfe")),
            switch(1),
            tag(NEXTNONCE, opaque(b"n")),
        )
    )
    kinds = [c.children[0] for c in doc.root.children if not isinstance(c, str | Opaque)]
    assert all(isinstance(k, Opaque) for k in kinds)
    rendered = to_element(doc)
    assert [e.text for e in rendered] == ["plain", "//4=", "bg=="]
