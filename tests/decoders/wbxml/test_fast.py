"""fast_element() is exactly to_element(decode()) of a document without problems, or None;
fast_tree() is that element as a light tree."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from lxml import etree

from benchmarks import gendm
from decoders import syncml, wbxml
from decoders.wbxml import fast_element, fast_tree
from decoders.wbxml._node import Node

from .helpers import (
    CHAL,
    CORPUS_WBXML,
    DATA,
    ITEM,
    META,
    NEXTNONCE,
    STATUS,
    SYNCBODY,
    SYNCHDR,
    SYNCML,
    TYPE,
    VERDTD,
    header,
    ident,
    opaque,
    str_i,
    switch,
    tag,
)


def _xml(el: etree._Element) -> bytes:
    return etree.tostring(el.getroottree(), encoding="utf-8")


def same_tree(node: Node, el: etree._Element) -> None:
    """The light tree reads as the lxml element: tags, texts, tails and children, all the way down."""
    work = [(node, el)]
    while work:
        n, e = work.pop()
        assert (n.tag, n.text, n.tail, len(n)) == (e.tag, e.text, e.tail, len(e))
        work.extend(zip(n, e, strict=True))


def check(data: bytes) -> bool:
    """Compare with the full decoder; True when the fast path answered."""
    fast = fast_element(data)
    tree = fast_tree(data)
    assert (fast is None) == (tree is None)
    if fast is None or tree is None:
        return False
    same_tree(tree[0], fast[0])
    assert tree[1] == fast[1]
    assert tree[2] == any(len(d) for d in fast[0].iter("{*}Data"))
    # The SyncML decoder reads the light tree (or the lxml element, for markup in Data) as the full way's.
    msg, slow = syncml.decode(data, gendm.WBXML_CT), syncml.decode_element(fast[0], "wbxml")
    assert isinstance(msg, syncml.SyncMLMessage) and isinstance(slow, syncml.SyncMLMessage)
    assert (msg.header, msg.commands, msg.final, msg.problems) == (slow.header, slow.commands, slow.final,
                                                                   slow.problems)
    doc = wbxml.decode(data)
    assert isinstance(doc, wbxml.WbxmlDocument)
    assert doc.problems == ()
    root, public_id = fast
    assert public_id == doc.public_id
    assert _xml(root) == _xml(wbxml.to_element(doc))
    assert root.getroottree().docinfo.doctype == wbxml.to_element(doc).getroottree().docinfo.doctype
    return True


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """The WBXML messages of a small gendm.py capture (every command kind, MoreData, Chal)."""
    folder = tmp_path_factory.mktemp("gendm")
    stats = gendm.generate(folder / "dm.pcap", 1500, 3, devices=60, keep_samples=True)
    return [data for data, _ in stats.samples]


def test_generated_messages_take_the_fast_path_and_match(samples: list[bytes]) -> None:
    assert len(samples) > 50
    assert all(check(data) for data in samples)


def test_the_syncml_decoder_gives_the_same_record_either_way(samples: list[bytes]) -> None:
    for data in samples:
        fast = syncml.decode(data, gendm.WBXML_CT)
        doc = wbxml.decode(data)
        assert isinstance(doc, wbxml.WbxmlDocument)
        slow = syncml.decode_element(wbxml.to_element(doc), "wbxml")
        assert isinstance(fast, syncml.SyncMLMessage) and isinstance(slow, syncml.SyncMLMessage)
        assert fast.wbxml_public_id == doc.public_id
        assert fast.problems == slow.problems
        assert (fast.header, fast.commands, fast.final) == (slow.header, slow.commands, slow.final)


@pytest.mark.parametrize("path", CORPUS_WBXML, ids=ident)
def test_corpus_files(path: Path) -> None:
    check(path.read_bytes())


def test_mutated_messages_never_differ(samples: list[bytes]) -> None:
    rng = random.Random(18)
    answered = 0
    for _ in range(3000):
        data = bytearray(rng.choice(samples))
        for _ in range(rng.randint(1, 3)):
            if not data:
                break
            at = rng.randrange(len(data))
            kind = rng.random()
            if kind < 0.4:
                data[at] = rng.randrange(256)
            elif kind < 0.6:
                del data[at : at + rng.randint(1, 10)]
            elif kind < 0.8:
                del data[at:]
            else:
                data[at:at] = bytes([rng.randrange(256)])
        answered += check(bytes(data))
    assert answered > 100  # many mutations (a changed character, a known token) stay plain


def _msg(*body: bytes, hdr: bytes = b"") -> bytes:
    return header() + tag(SYNCML, tag(SYNCHDR, tag(VERDTD, str_i("1.2")), hdr), tag(SYNCBODY, *body))


@pytest.mark.parametrize(
    "data",
    [
        _msg(tag(STATUS, tag(DATA, str_i("a & b < c > d\r\n"), str_i(" joined"), opaque(b"\r&<>")))),
        _msg(tag(STATUS, tag(CHAL, tag(META, switch(1), tag(NEXTNONCE, opaque(b"text nonce")), switch(0))))),
        _msg(tag(STATUS, tag(DATA, opaque(bytes(range(4, 256)))))),  # binary: base64
        _msg(tag(STATUS, tag(DATA, opaque("é\u2028".encode())))),
        _msg(tag(STATUS, tag(DATA, str_i("")))),  # an empty string is no text node
        _msg(tag(STATUS, tag(DATA))),
        bytes([0x02]) + header()[1:] + switch(0) + tag(SYNCML, tag(SYNCHDR), tag(SYNCBODY)),
        _msg(tag(ITEM, tag(DATA, opaque(b"\x01ab")))),  # too short for a document
        _msg(tag(STATUS, tag(DATA, str_i("a"), tag(META, switch(1), tag(TYPE, str_i("t")), switch(0)),
                             str_i("b")))),  # elements in Data, and text after them
    ],
    ids=["escapes", "nonce", "binary", "unicode", "empty-string", "empty", "wbxml-1.2", "short", "markup"],
)
def test_texts_and_opaques_as_to_element_renders_them(data: bytes) -> None:
    assert check(data)


@pytest.mark.parametrize(
    "data",
    [
        _msg(tag(ITEM, tag(META, switch(1), tag(TYPE, str_i("application/vnd.syncml-devinf+wbxml"))))),
        _msg(tag(STATUS, tag(DATA, str_i("\x01")))),  # not an XML character
        _msg(tag(STATUS, tag(DATA, b"\x03\xff\xfe\x00"))),  # not UTF-8
        _msg(tag(ITEM, tag(DATA, opaque(b"\x02\x00\x00\x6a\x00")))),  # maybe an embedded document
        _msg(tag(STATUS, tag(DATA, opaque(b"\xff\xfe\x80")))),  # not UTF-8, no C0 byte: base64 there
        header(strtbl=b"x\x00") + tag(SYNCML, tag(SYNCHDR), tag(SYNCBODY)),
        header(charset=4) + tag(SYNCML, tag(SYNCHDR), tag(SYNCBODY)),
        header(public_id=None) + tag(SYNCML, tag(SYNCHDR), tag(SYNCBODY)),
        _msg(b"\x02\x41"),  # ENTITY
        _msg(tag(STATUS), hdr=b"\x00\x07"),  # a code page SyncML lacks
        _msg(tag(STATUS)) + b"\x01",  # bytes after the root
        _msg(tag(STATUS))[:-3],  # truncated
        _msg(tag(STATUS, attrs=b"\x04\x00")),  # attributes
        _msg(bytes([0x3F])),  # a token SyncML lacks
    ],
    ids=["wbxml-type", "control", "not-utf8", "embedded", "binary", "string-table", "charset", "fpi",
         "entity",
         "page", "trailer", "truncated", "attributes", "unknown-token"],
)
def test_anything_unusual_goes_to_the_full_decoder(data: bytes) -> None:
    assert fast_element(data) is None
    syncml_msg = syncml.decode(data, gendm.WBXML_CT)  # which still reads it (or says why not)
    assert isinstance(syncml_msg, syncml.SyncMLMessage | syncml.SyncMLError)


def test_deep_nesting_is_left_to_the_full_decoder() -> None:
    inner = tag(DATA, str_i("x"))
    for _ in range(70):
        inner = tag(ITEM, inner)
    assert fast_element(_msg(inner)) is None
    assert fast_element(_msg(tag(ITEM, tag(ITEM, tag(DATA, str_i("x")))))) is not None
