"""Every public corpus message decodes without errors, with the values the captures hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from decoders.cwmp import (
    CwmpMessage,
    DeviceId,
    FaultRecord,
    GetParameterNames,
    GetParameterNamesResponse,
    GetParameterValues,
    GetParameterValuesResponse,
    Inform,
    InformResponse,
    SetParameterValues,
    SetParameterValuesResponse,
    decode,
)

from .helpers import CWMP, DISCOVER, MESSAGES, corpus_files

pytestmark = pytest.mark.skipif(not CWMP.is_dir(), reason="shared corpus missing")


def _decode(path: Path) -> CwmpMessage:
    data = path.read_bytes()
    if path.suffix == ".txt":  # an HTTP body dump: start at the first "<" in case of headers
        data = data[data.find(b"<") :] if b"<" in data else data
    return decode(data)


@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_decodes_without_errors(path: Path) -> None:
    msg = _decode(path)
    assert isinstance(msg, CwmpMessage)
    assert msg.errors == (), msg.problems
    assert msg.kind != "unknown"


def _inform(name: str) -> tuple[CwmpMessage, Inform]:
    msg = _decode(MESSAGES / name)
    assert msg.kind == "Inform"
    assert isinstance(msg.rpc, Inform)
    return msg, msg.rpc


def test_thomson_speedtouch_inform() -> None:
    msg, inform = _inform("test_parse_inform__cpe_string.xml")
    assert msg.cwmp_version == "1.0"
    assert msg.namespace == "urn:dslforum-org:cwmp-1-0"
    assert msg.header.id == "0_THOM_TR69_ID"
    assert inform.device_id == DeviceId("THOMSON", "00147F", "SpeedTouch 780", "CP0611JTLNW")
    assert [e.code for e in inform.events] == ["0 BOOTSTRAP", "1 BOOT", "2 PERIODIC", "4 VALUE CHANGE"]
    assert [e.meaning for e in inform.events] == ["BOOTSTRAP", "BOOT", "PERIODIC", "VALUE CHANGE"]
    assert all(e.command_key == "" for e in inform.events)
    assert inform.max_envelopes == 2
    assert inform.retry_count == 5  # sent as "05"
    assert inform.current_time == "1970-01-01T00:01:09Z"
    assert inform.current_datetime == datetime(1970, 1, 1, 0, 1, 9, tzinfo=UTC)
    assert len(inform.parameters) == 12
    spec = next(p for p in inform.parameters if p.name == "InternetGatewayDevice.DeviceInfo.SpecVersion")
    assert (spec.value, spec.type) == ("1.1", "string")
    assert msg.problems == ()  # the arrayType "[04]" count matches: leading zeros are fine


def test_cavium_inform() -> None:
    msg, inform = _inform("test_parse_inform_cavium__cpe_string.xml")
    assert msg.header.id == "CPE_1002"
    assert inform.device_id == DeviceId("Cavium, Inc.", "000FB7", "Cavium eNB", "10.18.104.79")
    assert inform.current_time == "1970-01-02T00:01:05.021239+00:00"
    assert inform.current_datetime == datetime(1970, 1, 2, 0, 1, 5, 21239, tzinfo=timezone(timedelta(0)))
    assert inform.retry_count == 2
    assert [e.code for e in inform.events] == ["0 BOOTSTRAP"]
    assert len(inform.parameters) == 15


def test_zyxel_inform_2601() -> None:
    msg, inform = _inform("inform_2601.xml")
    assert msg.cwmp_version == "1.0"
    assert inform.device_id.manufacturer == "ZyXEL"
    assert inform.device_id.serial_number == "EC43F69AF408"
    assert inform.current_time == "2015-01-19T23:08:24"
    assert inform.current_datetime == datetime(2015, 1, 19, 23, 8, 24)  # naive: no zone sent
    assert any("no time zone" in p and p.startswith("info: ") for p in msg.problems)
    assert [e.code for e in inform.events] == ["2 PERIODIC"]
    assert len(inform.parameters) == 8


def test_fault_response_9003() -> None:
    msg = _decode(MESSAGES / "test_parse_fault_response__cpe_string.xml")
    assert msg.kind == "Fault"
    assert msg.rpc is None
    assert msg.cwmp_version == "1.0"
    f = msg.fault
    assert isinstance(f, FaultRecord)
    assert (f.faultcode, f.faultstring, f.code, f.string) == (
        "Client",
        "CWMP fault",
        9003,
        "Invalid arguments",
    )
    assert f.meaning == "Invalid arguments"
    prefix = "InternetGatewayDevice.WANDevice.1.WANConnectionDevice.3.WANPPPConnection.1."
    assert [(p.name, p.code) for p in f.parameter_faults] == [
        (prefix + "Password", 9003),
        (prefix + "Username", 9003),
    ]
    assert all(p.string == "Invalid arguments" for p in f.parameter_faults)


def test_femtocell_get_parameter_values_response() -> None:
    msg = _decode(MESSAGES / "femtocell_getvalues.txt")
    assert msg.kind == "GetParameterValuesResponse"
    assert isinstance(msg.rpc, GetParameterValuesResponse)
    assert msg.header.id == "16781903"
    # The arrayType says [213], but the body really carries 227 structs (all distinct names):
    # the count is reported, the children are what we keep.
    assert len(msg.rpc.parameters) == 227
    assert len({p.name for p in msg.rpc.parameters}) == 227
    assert msg.problems == ("warning: ParameterList: arrayType declares 213 items, found 227",)
    first = msg.rpc.parameters[0]
    assert (first.name, first.value, first.type) == (
        "Device.DeviceSummary",
        "FAPService:1.0(Baseline:1)",
        "string",
    )
    last = msg.rpc.parameters[-1]
    assert last.value == "220" and last.type == "int"


DISCOVER_KINDS = {
    1: ("Inform", Inform),
    2: ("InformResponse", InformResponse),
    3: ("empty", type(None)),
    4: ("GetParameterNames", GetParameterNames),
    5: ("GetParameterNamesResponse", GetParameterNamesResponse),
    6: ("GetParameterValues", GetParameterValues),
    7: ("GetParameterValuesResponse", GetParameterValuesResponse),
    8: ("SetParameterValues", SetParameterValues),
    9: ("SetParameterValuesResponse", SetParameterValuesResponse),
    10: ("empty", type(None)),
}


def _discover() -> list[tuple[int, CwmpMessage]]:
    files = sorted(DISCOVER.iterdir(), key=lambda p: int(p.name.split("_")[0]))
    return [(int(p.name.split("_")[0]), _decode(p)) for p in files]


def test_freeacs_discover_sequence() -> None:
    seq = _discover()
    assert [n for n, _ in seq] == list(range(1, 11))
    for n, msg in seq:
        kind, record = DISCOVER_KINDS[n]
        assert msg.kind == kind, n
        assert isinstance(msg.rpc, record), n


def test_freeacs_discover_values() -> None:
    msgs = dict(_discover())
    inform = msgs[1].rpc
    assert isinstance(inform, Inform)
    assert inform.device_id == DeviceId("FakeManufacturer", "000000", "FakeProductClass", "FakeSerialNumber")
    assert [(e.code, e.command_key) for e in inform.events] == [
        ("0 BOOTSTRAP", "TR069_FakeManufacturer_HOMEGATEWAY"),
        ("1 BOOT", ""),
        ("4 VALUE CHANGE", ""),
    ]
    assert msgs[2].rpc == InformResponse(max_envelopes=1)
    assert msgs[4].rpc == GetParameterNames("InternetGatewayDevice.", False)
    gpn = msgs[5].rpc
    assert isinstance(gpn, GetParameterNamesResponse)
    assert len(gpn.entries) == 1384
    assert gpn.entries[0].name == "InternetGatewayDevice."
    assert gpn.entries[0].writable is False
    assert msgs[5].problems == ()
    gpv = msgs[6].rpc
    assert isinstance(gpv, GetParameterValues)
    assert len(gpv.names) == 6
    assert gpv.names[0] == "InternetGatewayDevice.DeviceInfo.SoftwareVersion"
    gpvr = msgs[7].rpc
    assert isinstance(gpvr, GetParameterValuesResponse)
    assert len(gpvr.parameters) == 9
    assert gpvr.parameters[0].value == "v1.1.91"
    spv = msgs[8].rpc
    assert isinstance(spv, SetParameterValues)
    assert len(spv.parameters) == 1
    spvr = msgs[9].rpc
    assert isinstance(spvr, SetParameterValuesResponse)
    assert spvr.status in (0, 1)
    assert msgs[4].header.id == "FREEACS-0"
