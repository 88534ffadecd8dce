"""Hand-built WBXML edge cases: headers, tokens, limits, truncation, never raising."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import pytest

from decoders.wbxml import (
    LANGUAGES,
    PUBLIC_IDS,
    Element,
    Opaque,
    WbxmlDocument,
    WbxmlError,
    decode,
    to_element,
    to_xml,
)

from .helpers import (
    ALERT,
    CHAL,
    CORPUS_WBXML,
    CRED,
    DATA,
    DEVINF,
    DEVINF_MAN,
    DEVINF_VERDTD,
    ITEM,
    META,
    NEXTNONCE,
    STATUS,
    SYNCHDR,
    SYNCML,
    TYPE,
    VERDTD,
    header,
    ident,
    mb,
    opaque,
    str_i,
    switch,
    tag,
)


def ok(data: bytes, **kwargs: int) -> WbxmlDocument:
    doc = decode(data, **kwargs)
    assert isinstance(doc, WbxmlDocument), doc
    return doc


def errors(doc: WbxmlDocument) -> list[str]:
    return [p for p in doc.problems if p.startswith("error:")]


def warnings(doc: WbxmlDocument) -> list[str]:
    return [p for p in doc.problems if p.startswith("warning:")]


# ---------------------------------------------------------------- header


def test_wbxml_1_0_header_has_no_charset() -> None:
    doc = ok(header(version=0) + tag(SYNCML, tag(DATA, str_i("a"))))
    assert (doc.version, doc.public_id, doc.charset, doc.language) == (0, 0x1201, 0, "SYNCML12")
    assert doc.problems == ()
    # the same bytes read as WBXML 1.3 would take 0x00 (the string table length) as charset
    assert isinstance(decode(b"\x03\xa4\x01\x00" + tag(SYNCML)), WbxmlError)


@pytest.mark.parametrize(
    ("fpi", "language", "exact"),
    [
        ("-//SYNCML//DTD SyncML 1.1//EN", "SYNCML11", True),
        ("-//syncml//dtd syncml 1.0//en", "SYNCML10", True),
        ("-//OMA//DTD-DM-DDF 1.2//EN", "DMDDF12", True),
        ("-//SYNCML//DTD MetaInf 1.2//EN", "METINF12", True),  # the OMNA registry's spelling
        ("-//OMA//DTD SyncML 1.2//EN", "SYNCML12", False),  # does not exist, but means that
    ],
)
def test_public_id_from_string_table(fpi: str, language: str, exact: bool) -> None:
    strtbl = b"xx\x00" + fpi.encode() + b"\x00"
    root = {"DMDDF12": switch(2) + tag(0x20), "METINF12": switch(1) + tag(0x0E)}.get(language, tag(SYNCML))
    doc = ok(header(public_id=None, strtbl=strtbl, fpi_index=3) + root)
    assert (doc.public_id, doc.fpi, doc.language, doc.string_table) == (0, fpi, language, strtbl)
    assert not errors(doc) and not warnings(doc)
    assert any("read as" in p for p in doc.problems) != exact
    if LANGUAGES[language].public_id is not None:  # Motorola/Android DM habit, worth a note
        assert any("although" in p for p in doc.problems)


def test_fpi_index_outside_string_table() -> None:
    doc = ok(header(public_id=None, strtbl=b"abc\x00", fpi_index=9) + tag(SYNCML))
    assert doc.fpi is None and doc.language == "SYNCML12"  # recognised by its root instead
    assert any("outside" in p for p in errors(doc))


def test_every_numeric_public_id() -> None:
    for number, entry in PUBLIC_IDS.items():
        doc = ok(header(public_id=number) + tag(SYNCML))
        assert doc.fpi == entry.fpi
        assert doc.language == (entry.language or "SYNCML12")  # 2.0 ids: guessed from the root


@pytest.mark.parametrize(
    ("public_id", "root", "language"),
    [
        (0x01, tag(SYNCML, tag(SYNCHDR, tag(VERDTD, str_i("1.1")))), "SYNCML11"),
        (0x01, tag(SYNCML), "SYNCML12"),
        (0x7777, tag(DEVINF, tag(DEVINF_VERDTD, str_i("1.1"))), "DEVINF11"),
        (0x01, switch(2) + tag(0x20), "DMDDF12"),
        (0x01, switch(1) + tag(0x0E), "METINF12"),
    ],
)
def test_unknown_public_id_language_from_root(public_id: int, root: bytes, language: str) -> None:
    doc = ok(header(public_id=public_id) + root)
    assert doc.language == language
    assert any("inferred from the root" in p for p in doc.problems)
    assert (public_id == 0x01) != any("unknown public id" in p for p in doc.problems)


def test_unknown_language_gives_labelled_tree() -> None:
    doc = ok(header(public_id=0x4242) + tag(0x05, tag(0x3F, str_i("x")), tag(0x06)))
    assert doc.language == "UNKNOWN" and doc.fpi is None
    assert [c.tag for c in doc.root.children if isinstance(c, Element)] == ["tag-p0-0x3F", "tag-p0-0x06"]
    assert doc.root.tag == "tag-p0-0x05" and doc.root.token == 0x05 and doc.root.namespace is None
    assert any("language unknown" in p for p in doc.problems)
    assert "<tag-p0-0x05>" in to_xml(doc).decode()


def test_nokia_xmlns_literal_without_string_table() -> None:
    attrs = b"\x04\x00" + str_i("SYNCML:SYNCML1.1")
    doc = ok(header(public_id=0x01) + tag(SYNCML, tag(SYNCHDR), attrs=attrs))
    assert doc.language == "SYNCML11"  # from the xmlns value
    assert doc.root.attributes == (("xmlns", "SYNCML:SYNCML1.1"),)
    assert to_element(doc).attrib == {}  # the namespace is the element's, not an attribute


@pytest.mark.parametrize(("charset", "codec_text"), [(4, "é"), (3, "\ufffd"), (0, "é"), (106, "é")])
def test_charsets(charset: int, codec_text: str) -> None:
    raw = "é".encode() if charset in (0, 106) else b"\xe9"
    doc = ok(header(charset=charset) + tag(SYNCML, tag(DATA, b"\x03" + raw + b"\x00")))
    assert doc.charset == charset
    data = doc.root.find("Data")
    assert data is not None and data.text == codec_text
    assert (charset == 3) == any("not valid ascii" in p for p in doc.problems)


def test_utf16_strings_end_with_two_zero_bytes() -> None:
    text = "Hé".encode("utf-16-be") + b"\x00\x00"
    doc = ok(header(charset=1013) + tag(SYNCML, tag(DATA, b"\x03" + text)))
    data = doc.root.find("Data")
    assert data is not None and data.text == "Hé"
    assert any("is unusual" in p for p in doc.problems)


def test_unknown_charset_read_as_utf8() -> None:
    doc = ok(header(charset=9999) + tag(SYNCML, tag(DATA, str_i("ok"))))
    assert any("unknown charset" in p for p in doc.problems)
    data = doc.root.find("Data")
    assert data is not None and data.text == "ok"


def test_unknown_version_byte_read_on() -> None:
    doc = ok(header(version=0x13) + tag(SYNCML))
    assert doc.version == 0x13 and any("version" in p for p in warnings(doc))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "version"),
        (b"\x03", "public id"),
        (b"\x03\xa4", "public id"),
        (b"\x03\xa4\x01", "charset"),
        (b"\x03\xa4\x01\x6a", "string table length"),
        (b"\x03\xa4\x01\x6a\x05ab", "runs past"),
        (b"\x03\xa4\x01\x6a\x00", "no root"),
        (b"\x03\x90\x80\x80\x80\x00\x6a\x00\x6d", "overflows 32 bits"),
        (b"\x03\x81\x81\x81\x81\x81\x01\x6a\x00\x6d", "longer than 5 bytes"),
        (b"\x03\xa4\x01\x6a\x00\x04", "root element unreadable"),
    ],
)
def test_wbxml_error_when_no_header_or_root(data: bytes, reason: str) -> None:
    result = decode(data)
    assert isinstance(result, WbxmlError) and reason in result.reason, result
    assert 0 <= result.offset <= len(data)


def test_not_bytes() -> None:
    result = decode("text")  # type: ignore[arg-type]
    assert isinstance(result, WbxmlError) and "bytes" in result.reason
    assert isinstance(decode(bytearray(header() + tag(SYNCML))), WbxmlDocument)
    assert isinstance(decode(memoryview(header() + tag(SYNCML))), WbxmlDocument)


def test_mb_uint32_limits() -> None:
    # 0xFFFFFFFF is the largest mb_u_int32; one more bit is an error, also inside the body
    assert ok(b"\x03" + mb(0xFFFFFFFF) + b"\x6a\x00" + tag(SYNCML)).public_id == 0xFFFFFFFF
    doc = ok(header() + tag(SYNCML, tag(DATA, str_i("kept")), tag(DATA, b"\x83\x90\x80\x80\x80\x00")))
    assert any("overflows 32 bits" in p for p in errors(doc))
    first = doc.root.find("Data")
    assert first is not None and first.text == "kept"


# ---------------------------------------------------------------- tokens


def test_code_page_persists_across_end() -> None:
    # After </Meta> (a cp0 tag holding cp1 tags) the page is still 1: 0x6C is not SyncHdr.
    doc = ok(header() + tag(SYNCML, tag(META, switch(1), tag(TYPE, str_i("t"))), tag(SYNCHDR)))
    meta, unknown = (c for c in doc.root.children if isinstance(c, Element))
    assert meta.tag == "Meta" and meta.find("Type") is not None
    assert (unknown.tag, unknown.page, unknown.token) == ("tag-p1-0x2C", 1, 0x2C)
    assert any("unknown token 0x2c on code page 1" in p for p in warnings(doc))
    # with the SWITCH_PAGE 0 an encoder writes, it is SyncHdr again
    doc = ok(header() + tag(SYNCML, tag(META, switch(1), tag(TYPE, str_i("t"))), switch(0), tag(SYNCHDR)))
    assert doc.root.find("SyncHdr") is not None and doc.problems == ()


def test_namespaces_follow_wbxml2xml() -> None:
    doc = ok(header() + tag(SYNCML, tag(META, switch(1), tag(0x0D, tag(0x09, str_i("1"))))))
    meta = doc.root.find("Meta")
    assert meta is not None
    mem = meta.find("Mem")
    assert mem is not None
    free = mem.find("FreeMem")
    assert free is not None
    assert (doc.root.namespace, meta.namespace, mem.namespace, free.namespace) == (
        "SYNCML:SYNCML1.2",
        "SYNCML:SYNCML1.2",
        "syncml:metinf",
        "syncml:metinf",  # same page as its parent: inherited, no xmlns of its own
    )


def test_literal_tags_all_four_forms() -> None:
    strtbl = b"Empty\x00Full\x00WithAttr\x00Both\x00name\x00"
    body = tag(
        SYNCML,
        b"\x04\x00",  # LITERAL: no attributes, no content
        b"\x44\x06" + str_i("text") + b"\x01",  # LITERAL_C
        b"\x84\x0b" + b"\x04\x19" + str_i("v") + b"\x01",  # LITERAL_A
        b"\xc4\x14" + b"\x04\x19" + str_i("w") + b"\x01" + tag(DATA, str_i("d")) + b"\x01",  # LITERAL_AC
    )
    doc = ok(header(strtbl=strtbl) + body)
    kids = [c for c in doc.root.children if isinstance(c, Element)]
    assert [(k.tag, k.token, k.attributes) for k in kids] == [
        ("Empty", None, ()),
        ("Full", None, ()),
        ("WithAttr", None, (("name", "v"),)),
        ("Both", None, (("name", "w"),)),
    ]
    assert kids[1].text == "text" and kids[3].find("Data") is not None
    assert all(k.namespace == "SYNCML:SYNCML1.2" for k in kids)  # inherited, as wbxml2xml shows
    assert doc.problems == ()


def test_bad_literal_index_is_labelled() -> None:
    doc = ok(header(strtbl=b"ab\x00") + tag(SYNCML, b"\x04\x09"))
    assert [c.tag for c in doc.root.children if isinstance(c, Element)] == ["literal-9"]
    assert any("outside" in p for p in errors(doc))


def test_empty_literal_name_is_labelled() -> None:
    # Found by the mutation test: a LITERAL pointing at an empty string table entry.
    # wbxml2xml writes "< xmlns=...>x</>", which is not XML; an element needs a name.
    doc = ok(header(strtbl=b"ab\x00\x00") + tag(SYNCML, b"\x04\x03"))
    assert [c.tag for c in doc.root.children if isinstance(c, Element)] == ["literal-3"]
    assert any("LITERAL name at offset" in p and "is empty" in p for p in doc.problems)
    attrs = b"\x04\x03" + b"\x03v\x00" + b"\x01"  # LITERAL attribute name, same empty entry
    doc = ok(header(strtbl=b"ab\x00\x00") + tag(SYNCML, b"\xc4\x00" + attrs + b"\x01"))
    assert [c.attributes for c in doc.root.children if isinstance(c, Element)] == [(("literal-3", "v"),)]


def test_attribute_tokens_are_labelled() -> None:
    attrs = b"\x05" + str_i("a") + b"\x85" + b"\x00\x02" + b"\x06" + b"\x83\x00"
    doc = ok(header(strtbl=b"tbl\x00") + tag(SYNCML, attrs=attrs))
    assert doc.root.attributes == (("attr-p0-0x05", "aattrvalue-p0-0x85"), ("attr-p2-0x06", "tbl"))
    assert len(warnings(doc)) == 3


def test_entities() -> None:
    doc = ok(header() + tag(SYNCML, tag(DATA, str_i("a"), b"\x02\x81\x20", b"\x02\x41", b"\x02\x00")))
    data = doc.root.find("Data")
    assert data is not None and data.children == ("a\xa0A\ufffd",)  # adjacent text joined
    assert any("ENTITY 0x0" in p for p in warnings(doc))


def test_extensions_and_pi_are_skipped() -> None:
    body = tag(
        SYNCML,
        tag(
            DATA,
            str_i("a"),
            b"\xc0",
            b"\x40" + b"x\x00",
            b"\x80\x05",
            b"\x43\x04\x00" + str_i("v") + b"\x01",
            str_i("b"),
        ),
    )
    doc = ok(header(strtbl=b"pi\x00") + body)
    data = doc.root.find("Data")
    assert data is not None and data.text == "ab"
    assert [p.split(" at ")[0] for p in warnings(doc)] == [
        "warning: extension token EXT_0",
        "warning: extension token EXT_I_0",
        "warning: extension token EXT_T_0",
        "warning: processing instruction",
    ]


def test_pi_before_and_after_root() -> None:
    pi = b"\x43\x04\x00\x01"
    doc = ok(header(strtbl=b"x\x00") + pi + tag(SYNCML) + pi)
    assert doc.root.tag == "SyncML" and len(warnings(doc)) == 2


def test_trailing_garbage_reported() -> None:
    doc = ok(header() + tag(SYNCML) + b"\x01\x01")
    assert any("2 bytes after the root" in p for p in warnings(doc))


def test_str_t() -> None:
    doc = ok(header(strtbl=b"one\x00two\x00") + tag(SYNCML, tag(DATA, b"\x83\x04", b"\x83\x00", b"\x83\x05")))
    data = doc.root.find("Data")
    assert data is not None and data.text == "twoonewo"  # an index may point into a string


def test_empty_content_and_empty_strings() -> None:
    doc = ok(header() + tag(SYNCML, tag(DATA, str_i(""), opaque(b""))))
    data = doc.root.find("Data")
    assert data is not None and data.children == (Opaque(b""),)


# ---------------------------------------------------------------- OPAQUE


def _cred_and_chal(cred: bytes, nonce: bytes) -> bytes:
    return header() + tag(
        SYNCML,
        tag(
            SYNCHDR,
            tag(
                CRED,
                tag(META, switch(1), tag(TYPE, str_i("syncml:auth-md5"))),
                switch(0),
                tag(DATA, opaque(cred)),
            ),
        ),
        tag(STATUS, tag(CHAL, tag(META, switch(1), tag(NEXTNONCE, opaque(nonce))))),
    )


def test_opaque_binary_kept_and_rendered_base64() -> None:
    digest = bytes(range(250, 256)) + b"\x00\x01"
    doc = ok(_cred_and_chal(digest, b"Nonce"))
    hdr = doc.root.find("SyncHdr")
    assert hdr is not None
    cred = hdr.find("Cred")
    assert cred is not None
    data = cred.find("Data")
    assert data is not None and data.children == (Opaque(digest),)
    rendered = to_element(doc)
    ns = "{SYNCML:SYNCML1.2}"
    # libwbxml would copy these bytes raw into its XML; we show base64 instead
    assert rendered.findtext(f"{ns}SyncHdr/{ns}Cred/{ns}Data") == base64.b64encode(digest).decode()
    # NextNonce is base64 even when it is text (libwbxml does that for every OPAQUE NextNonce)
    assert rendered.findtext(".//{syncml:metinf}NextNonce") == base64.b64encode(b"Nonce").decode()


def test_opaque_text_with_crlf_padding_kept_as_text() -> None:
    doc = ok(header() + tag(SYNCML, tag(DATA, opaque(b"\r\n  000000011234564\r\n  "))))
    assert to_element(doc).findtext("{SYNCML:SYNCML1.2}Data") == "\r\n  000000011234564\r\n  "


def test_opaque_too_long_is_truncation() -> None:
    doc = ok(header() + tag(SYNCML, tag(DATA, str_i("x"))) + b"")
    assert doc.problems == ()
    doc = ok(header() + b"\x6d\x4f" + str_i("x") + b"\xc3\x10abc")
    assert any("runs past the end" in p for p in errors(doc))
    data = doc.root.find("Data")
    assert data is not None and data.text == "x"


def _devinf(version: str = "1.2", public_id: int = 0x1203) -> bytes:
    return header(public_id=public_id) + tag(
        DEVINF, tag(DEVINF_VERDTD, str_i(version)), tag(DEVINF_MAN, str_i("Acme"))
    )


def _item_with(type_text: str | None, payload: bytes) -> bytes:
    meta = tag(META, switch(1), tag(TYPE, str_i(type_text)), switch(0)) if type_text else b""
    return header() + tag(SYNCML, tag(ALERT, meta, tag(ITEM, tag(DATA, opaque(payload)))))


def test_nested_document_declared_by_grandparent_meta() -> None:
    doc = ok(_item_with("application/vnd.syncml-devinf+wbxml", _devinf()))
    blob = doc.root.children[0].children[1].children[0].children[0]  # type: ignore[union-attr]
    assert isinstance(blob, Opaque) and blob.nested is not None
    assert blob.nested.language == "DEVINF12" and blob.nested.root.find("Man") is not None
    assert doc.problems == ()


def test_nested_document_without_type_found_by_its_header() -> None:
    doc = ok(_item_with(None, _devinf("1.1", 0x0FD4)))
    blob = doc.root.children[0].children[0].children[0].children[0]  # type: ignore[union-attr]
    assert isinstance(blob, Opaque) and blob.nested is not None and blob.nested.language == "DEVINF11"
    assert any("no +wbxml Meta/Type" in p for p in doc.problems)


def test_declared_nested_document_that_is_not_one() -> None:
    doc = ok(_item_with("application/vnd.syncml.dmtnds+wbxml", b"\x03\x01\x02\x03\x04"))
    blob = doc.root.children[0].children[1].children[0].children[0]  # type: ignore[union-attr]
    assert isinstance(blob, Opaque) and blob.nested is None and blob.data == b"\x03\x01\x02\x03\x04"
    assert any("not a complete WBXML document" in p for p in warnings(doc))


def test_binary_that_only_looks_like_a_header_stays_bytes() -> None:
    doc = ok(_item_with(None, b"\x01\x02\x03\x04\x05\x06"))
    blob = doc.root.children[0].children[0].children[0].children[0]  # type: ignore[union-attr]
    assert isinstance(blob, Opaque) and blob.nested is None
    assert doc.problems == ()


def test_nested_documents_nest_at_most_three_deep() -> None:
    inner = _devinf()
    for _ in range(5):
        inner = _item_with("application/vnd.syncml-devinf+wbxml", inner)
    doc = ok(inner)
    depth, current = 0, doc
    while True:
        blobs = [c for c in _walk(current.root) if isinstance(c, Opaque)]
        nested = [b.nested for b in blobs if b.nested is not None]
        if not nested:
            break
        current, depth = nested[0], depth + 1
    assert depth == 3


def _walk(element: Element) -> list[Element | str | Opaque]:
    out: list[Element | str | Opaque] = []
    work = [element]
    while work:
        e = work.pop()
        for c in e.children:
            out.append(c)
            if isinstance(c, Element):
                work.append(c)
    return out


# ---------------------------------------------------------------- limits and truncation


@pytest.mark.parametrize("path", CORPUS_WBXML, ids=ident)
def test_truncated_at_every_offset(path: Path) -> None:
    data = path.read_bytes()
    full = ok(data)
    assert not errors(full)
    for cut in range(len(data)):
        result = decode(data[:cut])
        if isinstance(result, WbxmlError):
            assert 0 <= result.offset <= cut, (cut, result)
            continue
        assert errors(result), f"no error problem when cut at {cut}"
        assert result.root.tag == full.root.tag
        to_element(result)  # a partial tree renders too


def test_partial_document_keeps_what_was_read() -> None:
    data = header() + tag(SYNCML, tag(SYNCHDR, tag(VERDTD, str_i("1.2"))), tag(DATA, str_i("abc")))
    doc = ok(data[: data.index(b"abc") + 2])
    hdr = doc.root.find("SyncHdr")
    assert hdr is not None and hdr.find("VerDTD") is not None
    assert any("inline string" in p and "inside <Data>" in p and "2 open elements" in p for p in errors(doc))


def test_nesting_100000_deep_is_bounded() -> None:
    deep = header() + bytes([ITEM | 0x40]) * 100_000 + b"\x01" * 100_000
    start = time.perf_counter()
    doc = ok(deep)
    assert time.perf_counter() - start < 1.0
    assert any("deeper than max_depth=64" in p for p in errors(doc))
    depth, element = 1, doc.root
    while element.children:
        child = element.children[0]
        assert isinstance(child, Element)
        depth, element = depth + 1, child
    assert depth == 64
    # With the limit lifted the explicit stack takes it all, no RecursionError anywhere.
    doc = ok(deep, max_depth=200_000, max_nodes=200_000)
    assert doc.problems == ()
    start = time.perf_counter()
    rendered = to_element(doc)
    assert time.perf_counter() - start < 2.0
    # One list holds every proxy (lxml frees a lone proxy by walking up a 100 000-deep tree).
    assert len(rendered.xpath("//*")) == 100_000


def test_max_nodes() -> None:
    doc = ok(header() + tag(SYNCML, *[tag(DATA)] * 50), max_nodes=10)
    assert any("max_nodes=10" in p for p in errors(doc))
    assert len(doc.root.children) == 9


def test_string_table_bomb_is_bounded() -> None:
    big = b"x" * 100_000
    data = header(strtbl=big + b"\x00") + b"\x6d\x4f" + b"\x83\x00" * 200_000 + b"\x01\x01"
    start = time.perf_counter()
    doc = ok(data)
    assert time.perf_counter() - start < 1.0
    assert any("expand to more text" in p for p in errors(doc))
    data_element = doc.root.find("Data")
    assert data_element is not None and len(data_element.text) < 20 * len(data)


def test_token_budget() -> None:
    start = time.perf_counter()
    doc = ok(header() + b"\x6d" + b"\xc0" * 3_000_000)
    assert time.perf_counter() - start < 1.0
    assert any("too many tokens" in p for p in errors(doc))
    assert len(doc.problems) <= 102  # capped, with a count of the rest
    assert doc.problems[-1].endswith("further problems not listed")


def test_a_few_megabytes_decode_fast() -> None:
    payload = bytes(range(256)) * 12_000  # ~3 MB of binary
    data = header() + tag(SYNCML, *[tag(ITEM, tag(DATA, opaque(payload[i:] + b"x"))) for i in range(4)])
    start = time.perf_counter()
    doc = ok(data)
    assert time.perf_counter() - start < 1.0
    assert doc.problems == ()


def test_records_are_frozen() -> None:
    doc = ok(header() + tag(SYNCML))
    with pytest.raises(AttributeError):
        doc.root.tag = "x"  # type: ignore[misc]
