"""Synthetic messages: every RPC record, headers, faults, odd encodings and broken input."""

from __future__ import annotations

import pytest

from decoders import cwmp
from decoders.cwmp import (
    RPC_PARSERS,
    AddObject,
    AddObjectResponse,
    CwmpHeader,
    DeleteObject,
    DeleteObjectResponse,
    Download,
    DownloadResponse,
    FactoryReset,
    GenericRpc,
    GetParameterAttributes,
    GetParameterAttributesResponse,
    GetRPCMethods,
    GetRPCMethodsResponse,
    Inform,
    ParameterAttribute,
    ParameterValue,
    Reboot,
    ScheduleInform,
    SetParameterAttribute,
    SetParameterAttributes,
    SetParameterValues,
    TransferComplete,
    TransferCompleteResponse,
    Upload,
    UploadResponse,
    codes,
    decode,
    parse_datetime,
)

from .helpers import envelope

# ---------------------------------------------------------------- typed RPCs

RPC_CASES = [
    ("<cwmp:GetRPCMethods/>", GetRPCMethods()),
    (
        '<cwmp:GetRPCMethodsResponse><MethodList soapenc:arrayType="xsd:string[2]">'
        "<string>Inform</string><string>TransferComplete</string></MethodList></cwmp:GetRPCMethodsResponse>",
        GetRPCMethodsResponse(("Inform", "TransferComplete")),
    ),
    (
        "<cwmp:AddObject><ObjectName>Device.IP.Interface.</ObjectName><ParameterKey>k1</ParameterKey>"
        "</cwmp:AddObject>",
        AddObject("Device.IP.Interface.", "k1"),
    ),
    (
        "<cwmp:AddObjectResponse><InstanceNumber>3</InstanceNumber><Status>0</Status></cwmp:AddObjectResponse>",
        AddObjectResponse(3, 0),
    ),
    (
        "<cwmp:DeleteObject><ObjectName>Device.IP.Interface.3.</ObjectName><ParameterKey/></cwmp:DeleteObject>",
        DeleteObject("Device.IP.Interface.3.", ""),
    ),
    ("<cwmp:DeleteObjectResponse><Status>1</Status></cwmp:DeleteObjectResponse>", DeleteObjectResponse(1)),
    ("<cwmp:Reboot><CommandKey>rb</CommandKey></cwmp:Reboot>", Reboot("rb")),
    ("<cwmp:FactoryReset/>", FactoryReset()),
    (
        "<cwmp:ScheduleInform><DelaySeconds>30</DelaySeconds><CommandKey>si</CommandKey></cwmp:ScheduleInform>",
        ScheduleInform(30, "si"),
    ),
    (
        "<cwmp:Download><CommandKey>dl</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
        "<URL>http://acs/fw.bin</URL><Username>u</Username><Password>p</Password><FileSize>1024</FileSize>"
        "<TargetFileName>fw.bin</TargetFileName><DelaySeconds>0</DelaySeconds>"
        "<SuccessURL></SuccessURL><FailureURL></FailureURL></cwmp:Download>",
        Download("dl", "1 Firmware Upgrade Image", "http://acs/fw.bin", "u", "p", 1024, "fw.bin", 0, "", ""),
    ),
    (
        "<cwmp:DownloadResponse><Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>"
        "<CompleteTime>0001-01-01T00:00:00Z</CompleteTime></cwmp:DownloadResponse>",
        DownloadResponse(1, "0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z"),
    ),
    (
        "<cwmp:Upload><CommandKey>up</CommandKey><FileType>1 Vendor Configuration File</FileType>"
        "<URL>http://acs/up</URL><Username/><Password/><DelaySeconds>5</DelaySeconds></cwmp:Upload>",
        Upload("up", "1 Vendor Configuration File", "http://acs/up", "", "", 5),
    ),
    (
        "<cwmp:UploadResponse><Status>0</Status><StartTime>2024-01-01T00:00:00Z</StartTime>"
        "<CompleteTime>2024-01-01T00:00:05Z</CompleteTime></cwmp:UploadResponse>",
        UploadResponse(0, "2024-01-01T00:00:00Z", "2024-01-01T00:00:05Z"),
    ),
    (
        "<cwmp:TransferComplete><CommandKey>dl</CommandKey><FaultStruct><FaultCode>9010</FaultCode>"
        "<FaultString>Download failed</FaultString></FaultStruct><StartTime>2024-01-01T00:00:00Z</StartTime>"
        "<CompleteTime>2024-01-01T00:01:00Z</CompleteTime></cwmp:TransferComplete>",
        TransferComplete("dl", 9010, "Download failed", "2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"),
    ),
    ("<cwmp:TransferCompleteResponse/>", TransferCompleteResponse()),
    (
        '<cwmp:GetParameterAttributes><ParameterNames soapenc:arrayType="xsd:string[1]">'
        "<string>Device.DeviceInfo.</string></ParameterNames></cwmp:GetParameterAttributes>",
        GetParameterAttributes(("Device.DeviceInfo.",)),
    ),
    (
        "<cwmp:GetParameterAttributesResponse><ParameterList><ParameterAttributeStruct>"
        "<Name>Device.DeviceInfo.SoftwareVersion</Name><Notification>2</Notification>"
        "<AccessList><string>Subscriber</string></AccessList></ParameterAttributeStruct></ParameterList>"
        "</cwmp:GetParameterAttributesResponse>",
        GetParameterAttributesResponse(
            (ParameterAttribute("Device.DeviceInfo.SoftwareVersion", 2, ("Subscriber",)),)
        ),
    ),
    (
        "<cwmp:SetParameterAttributes><ParameterList><SetParameterAttributesStruct>"
        "<Name>Device.X.</Name><NotificationChange>true</NotificationChange><Notification>1</Notification>"
        "<AccessListChange>0</AccessListChange><AccessList/></SetParameterAttributesStruct></ParameterList>"
        "</cwmp:SetParameterAttributes>",
        SetParameterAttributes((SetParameterAttribute("Device.X.", True, 1, False, ()),)),
    ),
]


@pytest.mark.parametrize(("body", "expected"), RPC_CASES, ids=lambda v: type(v).__name__)
def test_typed_rpcs(body: str, expected: object) -> None:
    msg = decode(envelope(body))
    assert msg.rpc == expected
    assert msg.kind == type(expected).__name__
    assert msg.problems == ()


def test_every_table_entry_decodes_an_empty_element() -> None:
    for name in RPC_PARSERS:
        msg = decode(envelope(f"<cwmp:{name}/>"))
        assert msg.kind == name
        assert msg.rpc is not None
        assert msg.errors == ()


def test_generic_known_rpc_is_kept_without_problem() -> None:
    msg = decode(
        envelope(
            "<cwmp:Kicked><Command>c</Command><Referer>r</Referer><Arg/><Next>http://n/</Next></cwmp:Kicked>"
        )
    )
    assert msg.kind == "Kicked"
    assert msg.rpc == GenericRpc(
        "Kicked", (("Command", "c"), ("Referer", "r"), ("Arg", ""), ("Next", "http://n/"))
    )
    assert msg.problems == ()


def test_generic_nested_paths() -> None:
    msg = decode(
        envelope(
            "<cwmp:AutonomousTransferComplete><AnnounceURL/><TransferURL>u</TransferURL>"
            "<FaultStruct><FaultCode>0</FaultCode><FaultString/></FaultStruct></cwmp:AutonomousTransferComplete>"
        )
    )
    assert isinstance(msg.rpc, GenericRpc)
    assert ("FaultStruct/FaultCode", "0") in msg.rpc.fields
    assert msg.problems == ()


def test_unknown_rpc_is_kept_with_problem() -> None:
    msg = decode(envelope("<cwmp:X_ACME_Frobnicate><Level>3</Level></cwmp:X_ACME_Frobnicate>"))
    assert msg.kind == "X_ACME_Frobnicate"
    assert msg.rpc == GenericRpc("X_ACME_Frobnicate", (("Level", "3"),))
    assert "warning: unknown RPC X_ACME_Frobnicate" in msg.problems


# ---------------------------------------------------------------- header and version


def test_header_fields() -> None:
    header = (
        '<cwmp:ID soap:mustUnderstand="1">abc</cwmp:ID><cwmp:HoldRequests soap:mustUnderstand="1">1'
        "</cwmp:HoldRequests><cwmp:NoMoreRequests>0</cwmp:NoMoreRequests>"
        "<cwmp:SessionTimeout>60</cwmp:SessionTimeout>"
        "<cwmp:SupportedCWMPVersions>1.0,1.1,1.2,1.3,1.4</cwmp:SupportedCWMPVersions>"
        "<cwmp:UseCWMPVersion>1.4</cwmp:UseCWMPVersion><cwmp:X_Vendor>v</cwmp:X_Vendor>"
    )
    msg = decode(
        envelope(
            "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes></cwmp:InformResponse>",
            header=header,
            ns="urn:dslforum-org:cwmp-1-4",
        )
    )
    assert msg.header == CwmpHeader(
        "abc", True, False, 60, "1.0,1.1,1.2,1.3,1.4", "1.4", (("X_Vendor", "v"),)
    )
    assert msg.cwmp_version == "1.4"
    assert msg.problems == ()


@pytest.mark.parametrize("minor", range(5))
def test_versions(minor: int) -> None:
    msg = decode(envelope("<cwmp:GetRPCMethods/>", ns=f"urn:dslforum-org:cwmp-1-{minor}"))
    assert msg.cwmp_version == f"1.{minor}"
    assert msg.namespace == f"urn:dslforum-org:cwmp-1-{minor}"


def test_malformed_header_values() -> None:
    msg = decode(
        envelope(
            "<cwmp:GetRPCMethods/>",
            header="<cwmp:HoldRequests>maybe</cwmp:HoldRequests>"
            "<cwmp:SessionTimeout>soon</cwmp:SessionTimeout>",
        )
    )
    assert msg.header.hold_requests is None and msg.header.session_timeout is None
    assert len([p for p in msg.problems if p.startswith("warning: ")]) == 2


# ---------------------------------------------------------------- irregular values


def _inform(
    extra: str = "", array: str = "[1]", retry: str = "05", time: str = "2024-05-01T10:00:00.123Z"
) -> str:
    return (
        "<cwmp:Inform><DeviceId><Manufacturer>M</Manufacturer><OUI>001122</OUI>"
        "<ProductClass>P</ProductClass><SerialNumber>S</SerialNumber></DeviceId>"
        '<Event soapenc:arrayType="cwmp:EventStruct[2]"><EventStruct><EventCode>M Reboot</EventCode>'
        "<CommandKey>k</CommandKey></EventStruct><EventStruct><EventCode>X 001122 Custom</EventCode>"
        "<CommandKey/></EventStruct></Event><MaxEnvelopes>1</MaxEnvelopes>"
        f"<CurrentTime>{time}</CurrentTime><RetryCount>{retry}</RetryCount>"
        f'<ParameterList soapenc:arrayType="cwmp:ParameterValueStruct{array}"><ParameterValueStruct>'
        '<Name>A.B</Name><Value xsi:type="xsd:unsignedInt">7</Value></ParameterValueStruct>'
        f"{extra}</ParameterList></cwmp:Inform>"
    )


def test_inform_events_and_retry() -> None:
    msg = decode(envelope(_inform()))
    assert isinstance(msg.rpc, Inform)
    assert msg.rpc.retry_count == 5
    assert [e.meaning for e in msg.rpc.events] == [
        "reboot requested by the ACS completed",
        "vendor event 001122 Custom",
    ]
    assert msg.rpc.parameters == (ParameterValue("A.B", "7", "unsignedInt"),)
    assert msg.rpc.current_datetime is not None and msg.rpc.current_datetime.microsecond == 123000
    assert msg.problems == ()


def test_array_count_mismatch_and_padded_count() -> None:
    assert decode(envelope(_inform(array="[0001]"))).problems == ()
    msg = decode(envelope(_inform(array="[0008]")))
    assert msg.problems == ("warning: ParameterList: arrayType declares 8 items, found 1",)


def test_malformed_retry_and_time() -> None:
    msg = decode(envelope(_inform(retry="x5", time="yesterday")))
    assert isinstance(msg.rpc, Inform)
    assert msg.rpc.retry_count is None
    assert msg.rpc.current_time == "yesterday" and msg.rpc.current_datetime is None
    assert len(msg.problems) == 2 and all(p.startswith("warning: ") for p in msg.problems)


def test_unknown_event_code() -> None:
    body = _inform().replace("M Reboot", "99 SOMETHING")
    msg = decode(envelope(body))
    assert isinstance(msg.rpc, Inform)
    assert msg.rpc.events[0].meaning is None
    assert any("unknown event code" in p for p in msg.problems)


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2015-01-19T23:08:24", "2015-01-19T23:08:24"),
        ("1970-01-02T00:01:05.021239+00:00", "1970-01-02T00:01:05.021239+00:00"),
        ("2024-01-01T00:00:00.1234567-05:30", "2024-01-01T00:00:00.123456-05:30"),
        ("0001-01-01T00:00:00Z", "0001-01-01T00:00:00+00:00"),
    ],
)
def test_parse_datetime(raw: str, iso: str) -> None:
    dt = parse_datetime(raw)
    assert dt is not None and dt.isoformat() == iso


@pytest.mark.parametrize(
    "raw", ["", "2015-13-01T00:00:00", "2015-01-01 00:00:00", "2015-01-01T00:00:00+25:00"]
)
def test_parse_datetime_rejects(raw: str) -> None:
    assert parse_datetime(raw) is None


# ---------------------------------------------------------------- faults


def test_acs_fault_with_prefixed_faultcode() -> None:
    body = (
        "<soap:Fault><faultcode>soap:Server</faultcode><faultstring>CWMP FAULT</faultstring><detail>"
        '<cwmp:Fault><FaultCode xsi:type="xsd:unsignedInt">8005</FaultCode><FaultString>retry</FaultString>'
        "</cwmp:Fault></detail></soap:Fault>"
    )
    msg = decode(envelope(body, ns="urn:dslforum-org:cwmp-1-2"))
    assert msg.kind == "Fault" and msg.fault is not None
    assert (msg.fault.faultcode, msg.fault.code, msg.fault.meaning) == ("Server", 8005, "Retry request")
    assert msg.cwmp_version == "1.2"


def test_fault_without_detail() -> None:
    msg = decode(
        envelope("<soap:Fault><faultcode>Client</faultcode><faultstring>x</faultstring></soap:Fault>")
    )
    assert msg.kind == "Fault" and msg.fault is not None and msg.fault.code is None
    assert any("without detail" in p for p in msg.problems)


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (8006, "ACS version incompatible"),
        (9005, "Invalid parameter name"),
        (9032, codes.FAULT_CODES[9032]),
        (8850, "vendor-specific ACS fault"),
        (9850, "vendor-specific CPE fault"),
        (9500, "reserved fault code"),
        (42, "not a CWMP fault code"),
    ],
)
def test_fault_meanings(code: int, meaning: str) -> None:
    assert codes.fault_meaning(code) == meaning


def test_code_tables_complete() -> None:
    assert set(codes.FAULT_CODES) == set(range(8000, 8007)) | set(range(9000, 9033))
    assert set(codes.EVENT_CODES) == set(range(15))
    assert codes.event_meaning("14 HEARTBEAT") == "HEARTBEAT"
    assert codes.event_meaning("M X_ACME_Foo") == "vendor method event X_ACME_Foo"


# ---------------------------------------------------------------- encodings and broken input


def test_charset_from_content_type_latin1() -> None:
    body = envelope("<cwmp:Reboot><CommandKey>caf\xe9</CommandKey></cwmp:Reboot>").decode().encode("latin-1")
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + body
    for ct in ("text/xml; charset=ISO-8859-1", 'text/xml; charset="iso-8859-1"', None):
        msg = decode(body, ct)
        assert msg.rpc == Reboot("caf\xe9"), ct
        assert msg.problems == ()


def test_charset_overrides_wrong_declaration() -> None:
    body = envelope("<cwmp:Reboot><CommandKey>\xfc</CommandKey></cwmp:Reboot>").decode().encode("latin-1")
    msg = decode(b'<?xml version="1.0" encoding="UTF-8"?>' + body, "text/xml; charset=ISO-8859-1")
    assert msg.rpc == Reboot("\xfc")


@pytest.mark.parametrize("charset", ["klingon", "hex", "rot13"])
def test_unknown_charset_falls_back(charset: str) -> None:
    msg = decode(
        envelope("<cwmp:Reboot><CommandKey>k</CommandKey></cwmp:Reboot>"), f"text/xml; charset={charset}"
    )
    assert msg.rpc == Reboot("k")
    assert any("unknown charset" in p for p in msg.problems)


def test_html_mangled_body_recovers() -> None:
    body = envelope(
        "<cwmp:SetParameterValues><ParameterList><ParameterValueStruct><Name>A</Name>"
        "<Value>x &nbsp; <br> y</Value></ParameterValueStruct></ParameterList>"
        "<ParameterKey>k</ParameterKey></cwmp:SetParameterValues>"
    )
    msg = decode(body)
    assert msg.kind == "SetParameterValues"
    assert isinstance(msg.rpc, SetParameterValues)
    assert msg.rpc.parameters[0].name == "A"
    assert any(p.startswith("warning: XML not well-formed, recovered") for p in msg.problems)


def test_truncated_body_recovers_what_it_can() -> None:
    full = envelope(_inform())
    msg = decode(full[: full.index(b"<RetryCount>")])
    assert msg.kind == "Inform"
    assert isinstance(msg.rpc, Inform) and msg.rpc.device_id.serial_number == "S"
    assert msg.problems and msg.errors == ()


@pytest.mark.parametrize("body", [b"", b"   \r\n\t"])
def test_empty(body: bytes) -> None:
    assert decode(body) == cwmp.CwmpMessage(kind="empty")


def test_empty_envelope_body() -> None:
    msg = decode(envelope(""))
    assert msg.kind == "empty" and msg.header.id == "42"


@pytest.mark.parametrize(
    "body", [b"<html><body>502 Bad Gateway</body></html>", b"\x00\x01\x02garbage", b"<<<"]
)
def test_not_soap(body: bytes) -> None:
    msg = decode(body)
    assert msg.kind == "unknown"
    assert msg.errors


def test_no_body_element() -> None:
    msg = decode(b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Header/></e:Envelope>')
    assert msg.kind == "unknown" and msg.errors


def test_entities_not_expanded() -> None:
    body = b'<?xml version="1.0"?><!DOCTYPE e [<!ENTITY x SYSTEM "file:///etc/passwd">]>' + envelope(
        "<cwmp:Reboot><CommandKey>&x;</CommandKey></cwmp:Reboot>"
    )
    msg = decode(body)
    assert isinstance(msg.rpc, Reboot)
    assert "root:" not in msg.rpc.command_key


def test_internal_bug_becomes_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(el: object, ctx: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setitem(RPC_PARSERS, "Reboot", boom)
    msg = decode(envelope("<cwmp:Reboot/>"))
    assert msg.kind == "unknown"
    assert msg.problems == ("error: internal decoder error: RuntimeError('bug')",)
