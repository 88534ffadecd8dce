"""``dmsniff decode`` of CWMP messages: as sent, as pasted from an article or a log, and damaged."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from decoders import cwmp
from dmsniff import cli
from dmsniff.decode import DecodeError, decode_message, stream_message
from dmsniff.report.records import plain
from tests.conftest import CORPUS

MESSAGES = CORPUS / "cwmp" / "messages"
DISCOVER = CORPUS / "cwmp" / "sessions" / "freeacs-discover"
THOMSON = MESSAGES / "test_parse_inform__cpe_string.xml"
FAULT = MESSAGES / "test_parse_fault_response__cpe_string.xml"

ARTICLE = """Here is the Inform the CPE sent:
<cwmp:Inform>
  <DeviceId><Manufacturer>Acme</Manufacturer><OUI>00D09E</OUI><ProductClass>HGW</ProductClass>
    <SerialNumber>AC1234</SerialNumber></DeviceId>
  <Event soap-enc:arrayType=\u201ccwmp:EventStruct[2]\u201d>
    <EventStruct><EventCode>6 CONNECTION REQUEST</EventCode><CommandKey></CommandKey></EventStruct>
    <EventStruct><EventCode>M Reboot</EventCode><CommandKey>rb-17</CommandKey></EventStruct>
  </Event>
  <MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2024-05-01T10:00:00Z</CurrentTime><RetryCount>0</RetryCount>
  <ParameterList soap-enc:arrayType=&quot;cwmp:ParameterValueStruct[2]&quot;>
    <ParameterValueStruct><Name>Device.DeviceInfo.SoftwareVersion</Name>
      <Value xsi:type=&#39;xsd:string&#39;>1.2.3</Value></ParameterValueStruct>
    <ParameterValueStruct><Name>Device.ManagementServer.PeriodicInformInterval</Name>
      <Value xsi:type="xsd:unsignedInt">300</Value></ParameterValueStruct>
  </ParameterList>
</cwmp:Inform>
""".encode()


def dmsniff(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dmsniff", "decode", *args], input=stdin, capture_output=True, timeout=120
    )


def _tree(xml: bytes) -> list[tuple[str, str, dict[str, str]]]:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    return [(el.tag, (el.text or "").strip(), dict(el.attrib))
            for el in root.iter() if isinstance(el.tag, str)]


def test_inform_summary() -> None:
    res = dmsniff("--summary", str(THOMSON))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().splitlines()
    assert lines[0] == "Inform, CWMP 1.0 (urn:dslforum-org:cwmp-1-0)"
    assert lines[1] == "  Header: ID 0_THOM_TR69_ID"
    assert lines[2:7] == ["  DeviceId", "    Manufacturer  THOMSON", "    OUI           00147F",
                          "    ProductClass  SpeedTouch 780", "    SerialNumber  CP0611JTLNW"]
    assert lines[7] == "  Events (4)"
    assert lines[8] == f"    0 BOOTSTRAP     {cwmp.codes.EVENT_DESCRIPTIONS[0]}"
    assert lines[11] == f"    4 VALUE CHANGE  {cwmp.codes.EVENT_DESCRIPTIONS[4]}"
    assert lines[12] == "  MaxEnvelopes 2  RetryCount 5  CurrentTime 1970-01-01T00:01:09Z"
    assert lines[13] == "  ParameterList (12): name / value / type"
    rows = lines[14:]
    assert len(rows) == 12
    spec = next(r for r in rows if "SpecVersion" in r)
    assert spec.split() == ["InternetGatewayDevice.DeviceInfo.SpecVersion", "1.1", "string"]
    # name / value / type aligned: values and types start in one column each, but for the rows a
    # name over 72 characters or a value over 40 pushes (they keep two spaces before the next column)
    aligned = [r for r in rows if "'" not in r and len(r.split()[0]) <= 72]
    assert len(aligned) == 10  # not DeviceSummary (quoted: it starts with a newline), nor the long name
    value_columns = {r.index(r.split()[1], 4 + len(r.split()[0])) for r in aligned}
    type_columns = {r.rindex(r.split()[2]) for r in aligned}
    assert len(value_columns) == 1 and len(type_columns) == 1, aligned
    assert all(len(re.split(r"\s{2,}", r.strip())) == 3 for r in rows if "'" not in r), rows
    assert res.stderr == b""


def test_fault_summary_explains_codes() -> None:
    res = dmsniff("-s", str(FAULT))
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert "SOAP Fault, CWMP 1.0 (urn:dslforum-org:cwmp-1-0)" in text
    assert "  faultcode Client  faultstring 'CWMP fault'" in text
    assert "  FaultCode 9003: Invalid arguments" in text
    assert "  SetParameterValuesFault (2): name / code / string" in text
    assert re.search(r"WANPPPConnection\.1\.Password  9003 Invalid arguments  'Invalid arguments'", text)


def test_other_rpcs_summaries() -> None:
    spv = dmsniff("-s", str(DISCOVER / "9_SetParameterValuesResponse.xml")).stdout.decode()
    assert "  Status  0 (all changes validated and applied)" in spv
    gpn = dmsniff("-s", str(DISCOVER / "4_GetParameterNames.xml")).stdout.decode()
    assert "  ParameterPath  InternetGatewayDevice.\n  NextLevel      0 (false)\n" in gpn
    gpv = dmsniff("-s", str(DISCOVER / "6_GetParameterValues.xml")).stdout.decode()
    assert "  ParameterNames (6)\n    InternetGatewayDevice.DeviceInfo.SoftwareVersion\n" in gpv
    names = dmsniff("-s", str(DISCOVER / "5_GetParameterNamesResponse.xml")).stdout.decode()
    assert "  ParameterList (1384): name / writable" in names
    assert re.search(r"\n    InternetGatewayDevice\.DeviceInfo\.Manufacturer +read-only\n", names)


def test_summary_of_header_fields_and_generic_rpcs() -> None:
    header = ("<cwmp:ID soap:mustUnderstand='1'>7</cwmp:ID><cwmp:HoldRequests>0</cwmp:HoldRequests>"
              "<cwmp:NoMoreRequests>1</cwmp:NoMoreRequests><cwmp:SessionTimeout>60</cwmp:SessionTimeout>")
    body = ("<cwmp:ScheduleDownload><CommandKey>sd</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
            "</cwmp:ScheduleDownload>")
    data = _envelope(body, header)
    text, problems = decode_message(data, summary=True)
    assert text.splitlines()[:4] == [
        "ScheduleDownload, CWMP 1.0 (urn:dslforum-org:cwmp-1-0)",
        "  Header: ID 7  HoldRequests 0 (false)  NoMoreRequests 1 (true)  SessionTimeout 60",
        "  CommandKey  sd",
        "  FileType    1 Firmware Upgrade Image",
    ]
    assert problems == []


def test_transfer_complete_and_download_summaries() -> None:
    tc = ("<cwmp:TransferComplete><CommandKey>dl</CommandKey><FaultStruct><FaultCode>9010</FaultCode>"
          "<FaultString>failed</FaultString></FaultStruct><StartTime>2024-01-01T00:00:00Z</StartTime>"
          "<CompleteTime>2024-01-01T00:00:05Z</CompleteTime></cwmp:TransferComplete>")
    text, _ = decode_message(_envelope(tc), summary=True)
    assert "  FaultCode     9010 File transfer failure\n" in text
    assert "  FaultString   failed\n" in text
    dl = "<cwmp:DownloadResponse><Status>1</Status></cwmp:DownloadResponse>"
    text, _ = decode_message(_envelope(dl), summary=True)
    assert "  Status        1 (download not yet completed and applied)\n" in text
    assert "  StartTime     (absent)\n" in text


def test_json_is_the_record() -> None:
    data = THOMSON.read_bytes()
    res = dmsniff("--json", "-", stdin=data)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc == json.loads(json.dumps(plain(cwmp.decode(data))))
    assert doc["kind"] == "Inform" and doc["header"]["id"] == "0_THOM_TR69_ID"
    assert doc["rpc"]["device_id"]["serial_number"] == "CP0611JTLNW"
    assert doc["rpc"]["events"][0] == {"code": "0 BOOTSTRAP", "command_key": "", "meaning": "BOOTSTRAP"}


def test_plain_output_is_the_same_xml_reindented() -> None:
    data = FAULT.read_bytes()
    res = dmsniff(str(FAULT))
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b'<?xml version="1.0"?>\n<soapenv:Envelope')
    assert _tree(res.stdout) == _tree(data)
    assert b"\n    <cwmp:Fault>" not in res.stdout and b"\n      <detail>" in res.stdout


def test_article_fragment_summary_with_notes() -> None:
    res = dmsniff("-s", "-", stdin=ARTICLE)
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert text.startswith("Inform, CWMP version unknown\n  (no SOAP header: no cwmp:ID)\n  DeviceId\n")
    assert f"    6 CONNECTION REQUEST  {cwmp.codes.EVENT_DESCRIPTIONS[6]}\n" in text
    assert "    M Reboot              reboot requested by the ACS completed [CommandKey 'rb-17']\n" in text
    assert "    Device.DeviceInfo.SoftwareVersion               1.2.3  string\n" in text
    assert "    Device.ManagementServer.PeriodicInformInterval  300    unsignedInt\n" in text
    err = res.stderr.decode().splitlines()
    assert "dmsniff: -: info: no SOAP envelope: decoded as a bare cwmp:Inform" in err
    assert "dmsniff: -: info: text outside the XML ignored: 'Here is the Inform the CPE sent:'" in err
    assert any("3 attribute value(s) quoted with typographic or HTML-escaped quotes" in e for e in err)
    assert all(e.startswith(("dmsniff: -: info: ", "dmsniff: -: warning: ")) for e in err), err


def test_article_fragment_plain_and_json() -> None:
    res = dmsniff("-", stdin=ARTICLE)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b'<?xml version="1.0"?>\n<cwmp:Inform xmlns:cwmp=')
    tree = _tree(res.stdout)
    assert ("{http://schemas.xmlsoap.org/soap/encoding/}arrayType", "cwmp:EventStruct[2]") in [
        kv for _, _, attrs in tree for kv in attrs.items()]
    assert b"\n  <DeviceId>\n    <Manufacturer>Acme</Manufacturer>\n" in res.stdout
    res = dmsniff("--json", "-", stdin=ARTICLE)
    doc = json.loads(res.stdout)
    assert doc["kind"] == "Inform" and doc["cwmp_version"] is None
    assert "info: no SOAP envelope: decoded as a bare cwmp:Inform" in doc["problems"]


def test_html_escaped_document_from_a_web_page() -> None:
    res = dmsniff("-s", "-", stdin=html.escape(FAULT.read_text()).encode())
    assert res.returncode == 0, res.stderr
    assert "  FaultCode 9003: Invalid arguments" in res.stdout.decode()
    assert b"warning: the document was HTML-escaped" in res.stderr


def test_forced_and_http_wrapped() -> None:
    res = dmsniff("--as", "cwmp", "-s", "-", stdin=b"<Reboot><CommandKey>x</CommandKey></Reboot>")
    assert res.returncode == 0 and "  CommandKey  x" in res.stdout.decode()
    body = "<cwmp:Reboot><CommandKey>caf\xe9</CommandKey></cwmp:Reboot>"
    latin = _envelope(body, "", "latin-1")
    data = (b"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Type: text/xml; charset=ISO-8859-1\r\n"
            b"Content-Length: %d\r\n\r\n" % len(latin)) + latin
    res = dmsniff("-s", "-", stdin=data)
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert text.startswith("POST /acs HTTP/1.1\n") and "  CommandKey  caf\xe9\n" in text


@pytest.mark.parametrize("data", [b"<<<", b"&lt;&lt;", b"<?xml version='1.0'?>"],
                         ids=["lt", "escaped", "decl"])
def test_nothing_decodable_is_one_line_and_nonzero(data: bytes) -> None:
    for args in (("-s",), ("--json",), (), ("--as", "cwmp", "-s")):
        res = dmsniff(*args, "-", stdin=data)
        assert res.returncode != 0 and res.stdout == b""
        lines = res.stderr.decode().strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("dmsniff: error: -: "), lines
        assert "internal error" not in lines[0]


def _envelope(body: str, header: str = "<cwmp:ID soap:mustUnderstand='1'>1</cwmp:ID>",
              encoding: str = "utf-8") -> bytes:
    return (
        "<soap:Envelope xmlns:soap='http://schemas.xmlsoap.org/soap/envelope/' "
        "xmlns:cwmp='urn:dslforum-org:cwmp-1-0'>"
        f"<soap:Header>{header}</soap:Header><soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode(encoding)


# ---------------------------------------------------------------- every corpus message


def _corpus() -> list[str]:
    return sorted(
        str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*")
        if p.is_file() and p.suffix not in (".pcap", ".xsd", ".md")
    )


def _nothing_in(data: bytes) -> bool:
    """An empty body (a CWMP empty POST) or an XML declaration alone: no message to decode."""
    return re.sub(rb"<\?xml[^>]*\?>", b"", data).strip() == b""


@pytest.mark.parametrize("name", _corpus())
def test_every_corpus_message_decodes_with_summary(name: str,
                                                   capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    path = CORPUS / name
    rc = cli.main(["decode", "--summary", str(path)])
    out, err = capsysbinary.readouterr()
    assert b"internal error" not in err and b"Traceback" not in err
    if _nothing_in(path.read_bytes()):
        assert rc != 0 and out == b"" and len(err.splitlines()) == 1, err
        return
    assert rc == 0, err
    assert out.strip()
    if name.startswith("cwmp/"):
        assert cwmp.decode(path.read_bytes()).kind.encode() in out.split(b",")[0]  # ("SOAP Fault")


# ---------------------------------------------------------------- damaged corpus messages

SMALL = [p.read_bytes() for d in (MESSAGES, DISCOVER) for p in sorted(d.iterdir())
         if 0 < p.stat().st_size < 60_000]

_QUOTES = [("\u201c", "\u201d"), ("\u2018", "\u2019"), ("&quot;", "&quot;"), ("&#39;", "&#39;"),
           ("&#34;", "&#34;"), ("\u2033", "\u2033")]
_ATTRIBUTE = re.compile(r'(=\s*)"([^"<>]*)"')
_DECLARATION = re.compile(r'\s+xmlns(?::[\w.-]+)?\s*=\s*"[^"]*"')
_BODY = re.compile(r"<([\w.-]+:)?Body\b[^>]*>(.*)</([\w.-]+:)?Body>", re.S)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[str, bytes, bool]:
    """(the original RPC name, the damaged message, whether it was cut short)."""
    original = draw(st.sampled_from(SMALL))
    kind = cwmp.decode(original).kind
    text = original.decode("utf-8")
    if draw(st.booleans()):  # quotes from a web page, each attribute its own way
        picks = iter(draw(st.lists(st.sampled_from([None, *_QUOTES]), min_size=64, max_size=64)) * 64)
        text = _ATTRIBUTE.sub(lambda m: m.group(0) if (q := next(picks)) is None
                              else f"{m.group(1)}{q[0]}{m.group(2)}{q[1]}", text)
    if draw(st.booleans()) and (m := _BODY.search(text)):  # the RPC alone, as an article shows it
        text = m.group(2)
    if draw(st.booleans()):  # some or all namespace declarations gone
        keep = draw(st.lists(st.booleans(), min_size=16, max_size=16)) * 8
        n = iter(range(len(keep)))
        text = _DECLARATION.sub(lambda m: m.group(0) if keep[next(n) % len(keep)] else "", text)
    if draw(st.booleans()):
        text = html.escape(text, quote=False)
    data = text.encode()
    cut = draw(st.booleans())
    if cut:
        data = data[: draw(st.integers(0, len(data)))]
    return kind, data, cut


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged(), st.sampled_from([(True, False), (False, True), (False, False)]))
def test_damaged_messages_never_raise_and_keep_their_rpc(case: tuple[str, bytes, bool],
                                                         mode: tuple[bool, bool]) -> None:
    kind, data, cut = case
    summary, as_json = mode
    try:
        pieces, problems = stream_message(data, "auto", summary, as_json)
        out = b"".join(pieces)
    except DecodeError as exc:
        assert "\n" not in str(exc)
        assert cut, f"only a message cut short may be undecodable: {exc}"
        return
    assert all("internal" not in p and "\n" not in p for p in problems), problems
    if not cut:
        assert cwmp.decode_pasted(data).message.kind == kind
        if summary:
            assert kind.encode() in out.split(b",")[0]
        if as_json:
            assert json.loads(out)["kind"] == kind
