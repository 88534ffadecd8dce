"""libwbxml's real tools as the oracle, and an element-tree comparison to check against them.

``wbxml2xml`` / ``xml2wbxml`` (libwbxml2-utils 0.11.8) must be installed; when they are not,
the tests fail with a message saying so rather than skipping.  Reused by the SyncML tests:

    tree = wbxml2xml_tree(data, tmp_path)        # what libwbxml makes of WBXML bytes
    assert_same_tree(to_element(doc), tree)      # namespace+tag, attributes, text, order

Comparison rules (:func:`tree_difference`): elements only (comments and PIs are left out,
their tails join the surrounding text), qualified names, attributes as a mapping, and the
text before, between and after child elements with surrounding XML whitespace stripped and
line ends normalised as an XML parser would (so ``\\r\\n`` kept inside our tree matches the
``\\n`` a parser gives for the serialised form).
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from lxml import etree

_XML_WHITESPACE = " \t\r\n"


def tool(name: str) -> str:
    """Path of a libwbxml tool; fails the test when it is missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} (libwbxml2-utils) is not installed; the WBXML oracle tests need it")
    return path


@dataclass(frozen=True)
class ToolRun:
    returncode: int
    output: bytes  #: the file the tool wrote (empty when it wrote none)
    messages: str  #: stdout + stderr


def run_wbxml2xml(data: bytes, tmp_path: Path, *, language: str | None = None, name: str = "in") -> ToolRun:
    """``wbxml2xml [-l LANG] -o out.xml in.wbxml``."""
    src = tmp_path / f"{name}.wbxml"
    out = tmp_path / f"{name}.wbxml2xml.xml"
    src.write_bytes(data)
    out.unlink(missing_ok=True)
    cmd = [tool("wbxml2xml"), *(["-l", language] if language else []), "-o", str(out), str(src)]
    res = subprocess.run(cmd, capture_output=True, timeout=60, check=False)
    text = (res.stdout + res.stderr).decode("utf-8", errors="replace")
    return ToolRun(res.returncode, out.read_bytes() if out.exists() else b"", text)


def run_xml2wbxml(xml: bytes, tmp_path: Path, *, name: str = "in") -> ToolRun:
    """``xml2wbxml -o out.wbxml in.xml`` with the defaults (WBXML 1.3, string table on)."""
    src = tmp_path / f"{name}.xml"
    out = tmp_path / f"{name}.xml2wbxml.wbxml"
    src.write_bytes(xml)
    out.unlink(missing_ok=True)
    res = subprocess.run(
        [tool("xml2wbxml"), "-o", str(out), str(src)], capture_output=True, timeout=60, check=False
    )
    text = (res.stdout + res.stderr).decode("utf-8", errors="replace")
    return ToolRun(res.returncode, out.read_bytes() if out.exists() else b"", text)


def parse_xml(data: bytes, *, recover: bool = False) -> etree._Element:
    """Parse XML safely (no entities, network or DTD); ``recover`` for files with a raw '&'."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=recover)
    root = etree.fromstring(data, parser)
    assert root is not None, "no XML root element"
    return root


def wbxml2xml_tree(data: bytes, tmp_path: Path, *, language: str | None = None) -> etree._Element:
    """What libwbxml makes of WBXML bytes, as an element tree (fails the test if it can't)."""
    run = run_wbxml2xml(data, tmp_path, language=language)
    assert run.returncode == 0, f"wbxml2xml failed: {run.messages}"
    return parse_xml(run.output)


def _normalise(text: str | None) -> str:
    if not text:
        return ""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip(_XML_WHITESPACE)


def _content(element: etree._Element) -> tuple[list[etree._Element], list[str]]:
    """Child elements, and the text segments around them (len(children) + 1)."""
    children: list[etree._Element] = []
    segments = [element.text or ""]
    for child in element:
        if isinstance(child.tag, str):
            children.append(child)
            segments.append(child.tail or "")
        else:  # comment, PI or entity: gone in the other tree, its tail joins the text
            segments[-1] += child.tail or ""
    return children, [_normalise(s) for s in segments]


def tree_difference(
    actual: etree._Element, expected: etree._Element, *, lenient_namespaces: bool = False
) -> str | None:
    """First difference between two trees, as a message with a path; None when they match.

    ``lenient_namespaces``: an element that has no namespace in ``expected`` (an original XML
    file without xmlns) matches whatever namespace libwbxml gave it in ``actual``."""
    work = [(actual, expected, "/" + etree.QName(expected).localname)]
    while work:
        a, e, here = work.pop()
        qa, qe = etree.QName(a), etree.QName(e)
        if qa.localname != qe.localname:
            return f"{here}: tag {qa.localname!r} != expected {qe.localname!r}"
        if qa.namespace != qe.namespace and not (lenient_namespaces and qe.namespace is None):
            return f"{here}: namespace {qa.namespace!r} != expected {qe.namespace!r}"
        if dict(a.attrib) != dict(e.attrib):
            return f"{here}: attributes {dict(a.attrib)!r} != expected {dict(e.attrib)!r}"
        a_children, a_text = _content(a)
        e_children, e_text = _content(e)
        if [etree.QName(c).localname for c in a_children] != [etree.QName(c).localname for c in e_children]:
            got = [etree.QName(c).localname for c in a_children]
            want = [etree.QName(c).localname for c in e_children]
            return f"{here}: children {got} != expected {want}"
        if a_text != e_text:
            return f"{here}: text {a_text!r} != expected {e_text!r}"
        for index in reversed(range(len(a_children))):
            child = e_children[index]
            work.append((a_children[index], child, f"{here}/{etree.QName(child).localname}[{index}]"))
    return None


def assert_same_tree(
    actual: etree._Element, expected: etree._Element, *, lenient_namespaces: bool = False
) -> None:
    difference = tree_difference(actual, expected, lenient_namespaces=lenient_namespaces)
    assert difference is None, difference
