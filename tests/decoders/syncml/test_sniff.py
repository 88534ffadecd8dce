"""looks_like_syncml() and how decode() chooses between XML and WBXML."""

from __future__ import annotations

import pytest

from decoders.syncml import SyncMLMessage, decode, looks_like_syncml

from .helpers import OMADM, syncml


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.syncml.dm+xml",
        "application/vnd.syncml.dm+wbxml",
        "application/vnd.syncml+xml; charset=UTF-8",
        "Application/VND.SyncML+WBXML",
    ],
)
def test_content_types(content_type: str) -> None:
    assert looks_like_syncml(b"", content_type)


@pytest.mark.parametrize(
    "content_type",
    [
        "application/vnd.syncml.notification",
        "application/vnd.syncml-devinf+xml",
        "application/vnd.syncml.dmtnds+xml",
        "text/xml",
        None,
    ],
)
def test_other_content_types_need_a_syncml_body(content_type: str | None) -> None:
    assert not looks_like_syncml(b"<html/>", content_type)
    assert looks_like_syncml(syncml(""), content_type)


@pytest.mark.parametrize(
    "body",
    [
        b'<?xml version="1.0"?>\n<SyncML xmlns="SYNCML:SYNCML1.2">',
        b'<s:SyncML xmlns:s="SYNCML:SYNCML1.1">',
        b"\x02\x9f\x53\x6a\x00",  # WBXML 1.2, SyncML 1.1
        b"\x03\xa4\x01\x6a\x00",  # WBXML 1.3, SyncML 1.2
        b"\x01\x9f\x51\x6a\x00",  # WBXML 1.1, SyncML 1.0
        b"\x02\x00\x00\x6a\x1d-//SYNCML//DTD SyncML 1.1//EN\x00",  # FPI in the string table
    ],
)
def test_syncml_bodies(body: bytes) -> None:
    assert looks_like_syncml(body)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<html><body>SyncML</body></html>",
        b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"/>',
        b"\x03\xa4\x03\x6a\x00",  # WBXML DevInf 1.2
        b"\x02\x00\x00\x6a\x00",
        b"x" * 2000 + b"<SyncML>",  # beyond the first kilobyte
    ],
)
def test_other_bodies(body: bytes) -> None:
    assert not looks_like_syncml(body)


def test_corpus_files_are_recognised() -> None:
    not_messages = {"devinf01.xml", "devinf02.xml", "syncml-011.xml", "derived_devinf01_libwbxml.wbxml"}
    paths = [p for d in ("dm11", "ds") for p in sorted((OMADM / d).iterdir()) if p.name not in not_messages]
    assert len(paths) > 30
    for path in paths:
        assert looks_like_syncml(path.read_bytes()), path
    for name in not_messages:
        assert not looks_like_syncml((OMADM / "ds" / name).read_bytes()), name


def test_utf16_xml_is_not_taken_for_wbxml() -> None:
    body = syncml("<Alert><CmdID>1</CmdID><Data>1201</Data></Alert>").decode().encode("utf-16-be")
    msg = decode(body, "application/vnd.syncml.dm+xml; charset=utf-16be")
    assert isinstance(msg, SyncMLMessage)
    assert msg.encoding == "xml" and msg.commands[0].code == 1201
