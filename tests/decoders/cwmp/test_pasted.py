"""decode_pasted(): bare RPCs, web-page quotes, escaped documents; messages as sent stay untouched."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from decoders.cwmp import (
    CwmpHeader,
    GetParameterValues,
    Inform,
    Reboot,
    SetParameterValues,
    codes,
    decode,
    decode_pasted,
    looks_like_cwmp,
)

from .helpers import CWMP, MESSAGES, corpus_files, envelope

pytestmark = pytest.mark.skipif(not CWMP.is_dir(), reason="shared corpus missing")

THOMSON = MESSAGES / "test_parse_inform__cpe_string.xml"
FAULT = MESSAGES / "test_parse_fault_response__cpe_string.xml"

ARTICLE_INFORM = b"""<cwmp:Inform>
  <DeviceId>
    <Manufacturer>Acme</Manufacturer><OUI>00D09E</OUI>
    <ProductClass>HGW</ProductClass><SerialNumber>AC1234</SerialNumber>
  </DeviceId>
  <Event soap-enc:arrayType="cwmp:EventStruct[1]">
    <EventStruct><EventCode>6 CONNECTION REQUEST</EventCode><CommandKey/></EventStruct>
  </Event>
  <MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2024-05-01T10:00:00Z</CurrentTime><RetryCount>0</RetryCount>
  <ParameterList soap-enc:arrayType="cwmp:ParameterValueStruct[1]">
    <ParameterValueStruct><Name>Device.DeviceInfo.SoftwareVersion</Name>
      <Value xsi:type="xsd:string">1.2.3</Value></ParameterValueStruct>
  </ParameterList>
</cwmp:Inform>"""


def _messages_as_sent() -> list[Path]:
    return [p for p in corpus_files() if p.stat().st_size > 0]


@pytest.mark.parametrize("path", _messages_as_sent(), ids=lambda p: p.name)
def test_messages_as_sent_are_decoded_as_decode_does(path: Path) -> None:
    data = path.read_bytes()
    pasted = decode_pasted(data)
    assert pasted.message == decode(data)
    assert pasted.elements == ()


def test_truncated_envelope_is_left_to_recover_mode() -> None:
    data = THOMSON.read_bytes()[:2500]
    pasted = decode_pasted(data)
    assert pasted.message == decode(data) and pasted.elements == ()


def test_bare_unqualified_rpc_is_decoded_as_the_rpc_it_names() -> None:
    pasted = decode_pasted(b"<GetParameterValues><ParameterNames><string>Device.</string>"
                           b"<string>Device.DeviceInfo.</string></ParameterNames></GetParameterValues>")
    msg = pasted.message
    assert msg.kind == "GetParameterValues"
    assert msg.rpc == GetParameterValues(("Device.", "Device.DeviceInfo."))
    assert msg.cwmp_version is None and msg.namespace is None  # nothing said which version
    assert msg.problems == (
        "info: no SOAP envelope and no namespace: decoded as a bare cwmp:GetParameterValues",)
    assert len(pasted.elements) == 1 and pasted.elements[0].startswith(b"<GetParameterValues>")


def test_article_inform_without_namespace_declarations() -> None:
    pasted = decode_pasted(ARTICLE_INFORM)
    msg = pasted.message
    assert msg.kind == "Inform" and isinstance(msg.rpc, Inform)
    assert (msg.rpc.device_id.manufacturer, msg.rpc.device_id.serial_number) == ("Acme", "AC1234")
    assert [(e.code, e.meaning) for e in msg.rpc.events] == [("6 CONNECTION REQUEST", "CONNECTION REQUEST")]
    # xsi:type resolved through the namespace bound to the undeclared xsi prefix
    assert [(p.name, p.value, p.type) for p in msg.rpc.parameters] == [
        ("Device.DeviceInfo.SoftwareVersion", "1.2.3", "string")]
    assert msg.cwmp_version is None
    declared = next(p for p in msg.problems if "without a declaration" in p)
    assert declared.startswith("warning: ")
    for binding in ("cwmp bound to urn:dslforum-org:cwmp-1-0", "soap-enc bound to "
                    "http://schemas.xmlsoap.org/soap/encoding/", "xsi bound to "
                    "http://www.w3.org/2001/XMLSchema-instance"):
        assert binding in declared
    assert "the CWMP version is therefore unknown" in declared
    assert "info: no SOAP envelope: decoded as a bare cwmp:Inform" in msg.problems
    assert not msg.errors
    # The element printed declares what it uses, and nothing it does not.
    assert b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"' in pasted.elements[0]
    assert b"xmlns:soap=" not in pasted.elements[0]


def test_a_cwmp_namespace_named_in_the_text_is_the_one_bound() -> None:
    pasted = decode_pasted(b'<cwmp:Reboot xmlns:cwmp="urn:dslforum-org:cwmp-1-2"><CommandKey>k</CommandKey>'
                           b"</cwmp:Reboot>")
    assert pasted.message.rpc == Reboot("k")
    assert pasted.message.cwmp_version == "1.2"
    assert pasted.message.problems == ("info: no SOAP envelope: decoded as a bare cwmp:Reboot",)


@pytest.mark.parametrize(
    ("opening", "closing"),
    [("\u201c", "\u201d"), ("\u2018", "\u2019"), ("&quot;", "&quot;"), ("&#39;", "&#39;"),
     ("&#x22;", "&#x22;"), ("\u2033", "\u2033")],
    ids=["typographic-double", "typographic-single", "quot", "apos-decimal", "quot-hex", "double-prime"],
)
def test_web_page_quotes_around_attribute_values_are_repaired(opening: str, closing: str) -> None:
    data = THOMSON.read_bytes()
    damaged = re.sub(rb'(=\s*)"([^"<>]*)"', (r"\1" + opening + r"\2" + closing).encode(), data)
    assert damaged != data
    msg = decode_pasted(damaged).message
    original = decode(data)
    assert (msg.kind, msg.rpc, msg.header, msg.cwmp_version) == (
        original.kind, original.rpc, original.header, original.cwmp_version)
    quotes = [p for p in msg.problems if "quotes repaired" in p]
    assert len(quotes) == 1 and quotes[0].startswith("warning: ")
    count = len(re.findall(rb'=\s*"', data))
    assert f"{count} attribute value(s)" in quotes[0]


def test_quotes_inside_a_proper_value_are_left_alone() -> None:
    # A value quoted as XML wants may hold &quot; itself; only the broken tag next to it is repaired.
    body = ('<cwmp:SetParameterValues>'
            '<ParameterList soapenc:arrayType=\u201ccwmp:ParameterValueStruct[1]\u201d>'
            '<ParameterValueStruct><Name>A.B</Name><Value xsi:type="xsd:string" note="say &quot;hi&quot;">'
            'x</Value></ParameterValueStruct></ParameterList><ParameterKey>k</ParameterKey>'
            "</cwmp:SetParameterValues>")
    msg = decode_pasted(envelope(body)).message
    assert isinstance(msg.rpc, SetParameterValues)
    assert [(p.name, p.value, p.type) for p in msg.rpc.parameters] == [("A.B", "x", "string")]
    assert any(p.startswith("warning: 1 attribute value(s)") for p in msg.problems)
    assert msg.cwmp_version == "1.0"  # the envelope declares it


def test_html_escaped_document_is_unescaped() -> None:
    data = FAULT.read_bytes()
    msg = decode_pasted(html.escape(data.decode()).encode()).message
    original = decode(data)
    assert (msg.kind, msg.fault, msg.header) == (original.kind, original.fault, original.header)
    assert msg.problems[0] == (
        "warning: the document was HTML-escaped (&lt;…&gt;, as shown on a web page): unescaped")


def test_log_line_with_header_field_and_bare_cwmp_fault() -> None:
    data = (b"2024-05-01 10:00:01 DEBUG cpe -> acs: <cwmp:ID>77</cwmp:ID>"
            b"<cwmp:Fault><FaultCode>9003</FaultCode>"
            b"<FaultString>Invalid arguments</FaultString><SetParameterValuesFault>"
            b"<ParameterName>Device.X</ParameterName><FaultCode>9005</FaultCode>"
            b"<FaultString>no such parameter</FaultString></SetParameterValuesFault></cwmp:Fault>")
    pasted = decode_pasted(data)
    msg = pasted.message
    assert msg.kind == "Fault" and msg.header == CwmpHeader(id="77")
    assert msg.fault is not None and (msg.fault.code, msg.fault.meaning) == (9003, "Invalid arguments")
    [pf] = msg.fault.parameter_faults
    assert (pf.name, pf.code, pf.meaning, pf.string) == ("Device.X", 9005, "Invalid parameter name",
                                                         "no such parameter")
    assert "info: text outside the XML ignored: '2024-05-01 10:00:01 DEBUG cpe -> acs:'" in msg.problems
    assert "info: no SOAP envelope: decoded as a bare cwmp:Fault (the detail of a SOAP Fault)" in msg.problems
    assert [e.split(b">", 1)[0] for e in pasted.elements] == [
        b'<cwmp:ID xmlns:cwmp="urn:dslforum-org:cwmp-1-0"',
        b'<cwmp:Fault xmlns:cwmp="urn:dslforum-org:cwmp-1-0"',
    ]


def test_bare_soap_fault_and_body() -> None:
    fault = (b"<soap:Fault><faultcode>soap:Client</faultcode><faultstring>CWMP fault</faultstring><detail>"
             b"<cwmp:Fault><FaultCode>9000</FaultCode><FaultString>no</FaultString></cwmp:Fault></detail>"
             b"</soap:Fault>")
    msg = decode_pasted(fault).message
    assert msg.kind == "Fault" and msg.fault is not None
    fault_fields = (msg.fault.faultcode, msg.fault.code, msg.fault.meaning)
    assert fault_fields == ("Client", 9000, "Method not supported")
    assert "info: no SOAP envelope: decoded as a bare SOAP Fault" in msg.problems
    body = b"<soap:Body><cwmp:Reboot><CommandKey>r</CommandKey></cwmp:Reboot></soap:Body>"
    assert decode_pasted(body).message.rpc == Reboot("r")


def test_header_fields_alone_make_an_empty_message() -> None:
    msg = decode_pasted(b"<cwmp:ID>5</cwmp:ID><cwmp:HoldRequests>1</cwmp:HoldRequests>").message
    assert msg.kind == "empty" and msg.header == CwmpHeader(id="5", hold_requests=True)
    assert "info: no SOAP envelope and no RPC: only header fields were pasted" in msg.problems
    assert "info: SOAP Envelope with an empty Body" not in msg.problems  # (the envelope is not the user's)


def test_unknown_element_is_a_generic_rpc_with_the_decoder_warning() -> None:
    msg = decode_pasted(b"<Frobnicate><A>1</A></Frobnicate>").message
    assert msg.kind == "Frobnicate"
    assert "warning: unknown RPC Frobnicate" in msg.problems


@pytest.mark.parametrize("data", [b"<<<", b"&lt;", b"<?xml version='1.0'?>", b"</a>", b"\x00\xff<"])
def test_nothing_decodable_is_an_error_value(data: bytes) -> None:
    msg = decode_pasted(data).message
    assert msg.kind == "unknown" and msg.rpc is None and msg.header == CwmpHeader()
    assert msg.errors == ("error: no XML element found",)


def test_a_name_recover_mode_keeps_whole_is_cut_to_its_local_part() -> None:
    msg = decode_pasted(b"<a:b:c/").message  # (no valid QName, no end of tag)
    assert msg.kind == "c" and "warning: unknown RPC c" in msg.problems
    assert not msg.errors


def test_truncated_fragment_is_recovered() -> None:
    msg = decode_pasted(ARTICLE_INFORM[:120]).message
    assert msg.kind == "Inform" and isinstance(msg.rpc, Inform)
    assert msg.rpc.device_id.manufacturer == "Acme"
    assert any(p.startswith("warning: XML not well-formed, recovered") for p in msg.problems)


def test_looks_like_cwmp() -> None:
    for yes in (THOMSON.read_bytes(), ARTICLE_INFORM, b"<GetRPCMethods/>", b"<cwmp:ID>1</cwmp:ID>",
                b"&lt;cwmp:Inform&gt;", b"log: <Envelope><Body/></Envelope>", b"<cwmp:Inform",
                b"<a xmlns='urn:dslforum-org:cwmp-1-1'/>"):
        assert looks_like_cwmp(yes), yes
    for no in (b"<SyncML><SyncHdr/></SyncML>", b"<x/>", b"<html><body>ID</body></html>", b"<ID>1</ID>",
               b"hello", b""):
        assert not looks_like_cwmp(no), no


def test_event_descriptions_cover_every_numbered_event() -> None:
    assert set(codes.EVENT_DESCRIPTIONS) == set(codes.EVENT_CODES)
    assert codes.event_description("6 CONNECTION REQUEST") == codes.EVENT_DESCRIPTIONS[6]
    assert codes.event_description("6 connection request") == codes.EVENT_DESCRIPTIONS[6]
    assert codes.event_description("M Reboot") == "reboot requested by the ACS completed"
    assert codes.event_description("X 00147F Foo") == "vendor event 00147F Foo"
    assert codes.event_description("99 NEW") is None and codes.event_description("nonsense") is None


def test_status_meanings() -> None:
    assert codes.status_meaning("SetParameterValuesResponse", 0) == "all changes validated and applied"
    assert codes.status_meaning("DownloadResponse", 1) == "download not yet completed and applied"
    assert codes.status_meaning("DownloadResponse", 2) is None
    assert codes.status_meaning("InformResponse", 0) is None
    assert codes.status_meaning("AddObjectResponse", None) is None
