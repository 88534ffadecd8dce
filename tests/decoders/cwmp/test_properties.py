"""Hypothesis: mutated corpus messages never raise; prefixes never change the result."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from decoders.cwmp import CwmpMessage, decode
from tests.mutation import mutations

from .helpers import CWMP, corpus_files

pytestmark = pytest.mark.skipif(not CWMP.is_dir(), reason="shared corpus missing")

# Small messages only for mutation (the 320 kB GetParameterNamesResponse would make examples slow).
SMALL = [p.read_bytes() for p in corpus_files() if 0 < p.stat().st_size < 60_000]


_INSERTS = (
    b"<", b">", b"&", b"<x>", b"</Body>", b"\x00", b"\xff\xfe", b"<!--", b"]]>", b'"', b"<cwmp:Fault>",
)

# The corpus, damaged: bit flips, cuts, insertions (the syntax itself, or random bytes), deletions.
mutated = mutations(SMALL, inserts=_INSERTS, max_ops=8, max_delete=64)


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(
    mutated, st.sampled_from([None, "text/xml", "text/xml; charset=ISO-8859-1", "text/xml; charset=utf-16"])
)
def test_mutations_never_raise(body: bytes, content_type: str | None) -> None:
    start = time.perf_counter()
    msg = decode(body, content_type)
    assert isinstance(msg, CwmpMessage)
    assert all(isinstance(p, str) and "\n" not in p for p in msg.problems)
    assert time.perf_counter() - start < 1.0
    hash(msg.kind)


@settings(max_examples=100, deadline=2000)
@given(st.binary(max_size=512))
def test_random_bytes_never_raise(body: bytes) -> None:
    assert isinstance(decode(body), CwmpMessage)


# ---------------------------------------------------------------- prefix independence

_PREFIX_DECL = re.compile(rb"xmlns:([A-Za-z_][\w.-]*)=")


def _rename_prefixes(data: bytes, suffix: bytes) -> bytes:
    """Rename every declared prefix p to p+suffix in tags, declarations and QName values."""
    for prefix in set(_PREFIX_DECL.findall(data)):
        new = prefix + suffix
        data = re.sub(rb'(?<=[<"/ :])' + re.escape(prefix) + rb"(?=:)", new, data)
        data = data.replace(b"xmlns:" + prefix + b"=", b"xmlns:" + new + b"=")
    return data


@pytest.mark.parametrize("path", [p for p in corpus_files() if p.stat().st_size], ids=lambda p: p.name)
def test_prefix_independence(path: Path) -> None:
    data = path.read_bytes()
    renamed = _rename_prefixes(data, b"_x9")
    assert renamed != data
    assert b"xmlns:cwmp=" not in renamed
    assert decode(renamed) == decode(data)


def test_default_namespace_rpc_equals_prefixed() -> None:
    prefixed = (
        b'<S:Envelope xmlns:S="http://schemas.xmlsoap.org/soap/envelope/"'
        b' xmlns:c="urn:dslforum-org:cwmp-1-1">'
        b"<S:Header><c:ID>7</c:ID></S:Header><S:Body><c:Reboot><CommandKey>k</CommandKey></c:Reboot>"
        b"</S:Body></S:Envelope>"
    )
    default = (
        b'<Envelope xmlns="http://schemas.xmlsoap.org/soap/envelope/">'
        b'<Header><ID xmlns="urn:dslforum-org:cwmp-1-1">7</ID></Header><Body>'
        b'<Reboot xmlns="urn:dslforum-org:cwmp-1-1"><CommandKey>k</CommandKey></Reboot></Body></Envelope>'
    )
    assert decode(default) == decode(prefixed)
    assert decode(default).cwmp_version == "1.1"


# ------------------------------------------------------------ ParameterValueStruct fast path

_XML_TEXT = st.one_of(
    st.sampled_from(["", " ", " 1 ", "a b", "\t1\n", "Device.X.1.", "&", "é"]),
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
)


@st.composite
def parameter_structs(draw: st.DrawFn) -> list[str]:
    """ParameterValueStructs in the shapes CPEs send, common and odd."""
    out = []
    for _ in range(draw(st.integers(0, 5))):
        name = _xml_escape(draw(_XML_TEXT))
        value = _xml_escape(draw(_XML_TEXT))
        type_attr = draw(st.sampled_from(['', ' xsi:type="xsd:string"', ' xsi:type=" xsd:int "',
                                          ' type="string"', ' xsi:type="unsignedInt"']))
        name_tag = draw(st.sampled_from(["Name", "cwmp:Name"]))
        inner = draw(st.sampled_from(["", "", "", "<!--c-->", "<b/>"]))
        out.append(f"<{name_tag}>{name}</{name_tag}><Value{type_attr}>{value}{inner}</Value>")
    return out


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _gpv_response(structs: list[str], comment: bool) -> bytes:
    extra = "<!--forces the general loop-->" if comment else ""
    items = "".join(f"<ParameterValueStruct>{extra}{s}</ParameterValueStruct>" for s in structs)
    return (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:cwmp="urn:dslforum-org:cwmp-1-0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<soap:Header><cwmp:ID soap:mustUnderstand="1">1</cwmp:ID></soap:Header><soap:Body>'
        f"<cwmp:GetParameterValuesResponse><ParameterList>{items}</ParameterList>"
        "</cwmp:GetParameterValuesResponse></soap:Body></soap:Envelope>"
    ).encode()


@given(parameter_structs())
@settings(max_examples=300, deadline=None)
def test_parameter_value_fast_path_agrees_with_general_loop(structs: list[str]) -> None:
    # A comment as each struct's first child sends it down the general loop; the decoded
    # parameters must be the same either way.
    fast = decode(_gpv_response(structs, comment=False))
    slow = decode(_gpv_response(structs, comment=True))
    assert isinstance(fast, CwmpMessage) and isinstance(slow, CwmpMessage)
    assert fast.rpc is not None and slow.rpc is not None
    assert fast.rpc == slow.rpc
    assert len(fast.rpc.parameters) == len(structs)  # type: ignore[attr-defined]
