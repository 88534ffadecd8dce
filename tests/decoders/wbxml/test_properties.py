"""Hypothesis: arbitrary and mutated WBXML never raises and stays fast; documents survive
decode -> to_element -> encode -> decode; random element trees survive encode -> decode."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from decoders.wbxml import (
    SYNCML12_TAGS,
    Element,
    Opaque,
    WbxmlDocument,
    WbxmlError,
    decode,
    encode,
    to_element,
    to_xml,
)
from tests.mutation import mutations

from .helpers import CORPUS_WBXML, CORPUS_XML
from .oracle import assert_same_tree

TIME_LIMIT = 1.0  # seconds per decode: the requirement, with room for a slow CI machine

SEEDS: list[bytes] = [p.read_bytes() for p in CORPUS_WBXML]
for _path in CORPUS_XML:
    _encoded = encode(_path.read_bytes())
    assert isinstance(_encoded, bytes), (_path, _encoded)
    SEEDS.append(_encoded)  # the XML corpus as WBXML: nested DevInf / DDF, MetInf, literals


def checked_decode(data: bytes) -> WbxmlDocument | WbxmlError:
    start = time.perf_counter()
    result = decode(data)
    elapsed = time.perf_counter() - start
    assert elapsed < TIME_LIMIT, f"decode took {elapsed:.2f}s for {len(data)} bytes"
    assert isinstance(result, WbxmlDocument | WbxmlError)
    if isinstance(result, WbxmlError):
        assert 0 <= result.offset <= len(data)
        return result
    assert all(p.split(": ", 1)[0] in {"error", "warning", "info"} for p in result.problems)
    assert all("\n" not in p for p in result.problems)
    _check_tree(result)
    to_xml(result)  # whatever was decoded can be shown
    return result


def _check_tree(doc: WbxmlDocument) -> None:
    work = [doc.root]
    while work:
        element = work.pop()
        assert isinstance(element.tag, str) and element.tag
        previous: object = None
        for child in element.children:
            assert not (isinstance(child, str) and isinstance(previous, str)), "text not joined"
            if isinstance(child, Element):
                work.append(child)
            elif isinstance(child, Opaque) and child.nested is not None:
                _check_tree(child.nested)
            previous = child


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_random_bytes_never_raise(data: bytes) -> None:
    checked_decode(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(min_size=1, max_size=512))
def test_random_body_after_a_valid_header(body: bytes) -> None:
    checked_decode(b"\x03\xa4\x01\x6a\x00" + body)


# The corpus, damaged: bit flips, cuts, random insertions, deletions.
mutated = mutations(SEEDS, max_ops=8, max_delete=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated)
def test_mutated_corpus_never_raises(data: bytes) -> None:
    checked_decode(data)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(SEEDS), st.sampled_from([0, 1, 2, 3]))
def test_decode_to_element_encode_round_trip(data: bytes, version: int) -> None:
    first = checked_decode(data)
    assert isinstance(first, WbxmlDocument)
    element = to_element(first)
    again = encode(element, version=version)
    assert isinstance(again, bytes), again
    second = checked_decode(again)
    assert isinstance(second, WbxmlDocument)
    assert second.language == first.language
    assert not [p for p in second.problems if p.startswith("error:")], second.problems
    assert_same_tree(to_element(second), element)


# ---------------------------------------------------------------- random trees

_TAG_NAMES = sorted(set(SYNCML12_TAGS[0].values()) - {"Reserved for future use"})
_METINF_NAMES = sorted(SYNCML12_TAGS[1].values())
_TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
    max_size=20,
).map(lambda s: "".join(c for c in s if c in "\t\n" or (c >= " " and c not in "\ufffe\uffff")))
# LITERAL names must not be token names (those get tokenised, as libwbxml does, and then take
# the token's namespace).
_LITERAL = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.-]{0,10}", fullmatch=True).filter(
    lambda name: name not in _TAG_NAMES and name not in _METINF_NAMES
)


@st.composite
def syncml_trees(draw: st.DrawFn) -> etree._Element:
    root = etree.Element("{SYNCML:SYNCML1.2}SyncML", nsmap={None: "SYNCML:SYNCML1.2"})
    open_elements = [root]
    for _ in range(draw(st.integers(0, 30))):
        parent = draw(st.sampled_from(open_elements))
        kind = draw(st.sampled_from(["syncml", "metinf", "literal", "text"]))
        if kind == "text":
            text = draw(_TEXT)
            if len(parent):
                parent[-1].tail = (parent[-1].tail or "") + text
            else:
                parent.text = (parent.text or "") + text
            continue
        if kind == "syncml":
            child = etree.SubElement(parent, "{SYNCML:SYNCML1.2}" + draw(st.sampled_from(_TAG_NAMES)))
        elif kind == "metinf":
            child = etree.SubElement(parent, "{syncml:metinf}" + draw(st.sampled_from(_METINF_NAMES)))
        else:
            # A LITERAL inherits its parent's namespace and hands that on: libwbxml's model
            # cannot say "token element in another namespace below a literal", so literals
            # stay leaves here.
            ns = etree.QName(parent).namespace
            etree.SubElement(parent, f"{{{ns}}}{draw(_LITERAL)}")
            continue
        open_elements.append(child)
    return root


@settings(max_examples=200, deadline=None)
@given(syncml_trees(), st.sampled_from([0, 1, 2, 3]))
def test_random_trees_survive_encode_and_decode(tree: etree._Element, version: int) -> None:
    data = encode(tree, version=version)
    assert isinstance(data, bytes), data
    doc = checked_decode(data)
    assert isinstance(doc, WbxmlDocument)
    assert doc.problems == (), doc.problems
    assert_same_tree(to_element(doc), tree)
