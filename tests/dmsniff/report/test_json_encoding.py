"""The report's JSON encoder: orjson for speed, with json as the fallback, same output."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from decoders.cwmp import DeviceId, Inform, ParameterValue, ParameterValues
from dmsniff.report.json import JsonLinesReport, dumps, dumps_line
from dmsniff.report.records import plain

INFORM = Inform(
    device_id=DeviceId("Acme", "00AABB", "Box", "1"),
    events=(),
    max_envelopes=1,
    current_time="2026-01-01T00:00:00+05:30",
    current_datetime=datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    retry_count=0,
    parameters=ParameterValues.of(
        (ParameterValue("Device.A", "é \u2028 \"q\"", "string"), ParameterValue("Device.B", "", None))
    ),
)


def _reference(rec: object) -> str:
    return json.dumps(plain(rec), ensure_ascii=False, separators=(",", ":"))


def test_dataclasses_encode_as_plain_would() -> None:
    rec = {"type": "x", "fields": INFORM, "naive": datetime(2026, 1, 1, 12, 0, 0, 5), "n": [1, 2.5, None]}
    assert json.loads(dumps(rec)) == json.loads(_reference(rec))
    assert dumps(rec) == _reference(rec)


def test_bytes_encode_as_hex() -> None:
    rec = {"digest": b"\x00\xff", "nested": [b"\x01"]}
    assert dumps(rec) == '{"digest":"00ff","nested":["01"]}'


def test_what_orjson_refuses_falls_back_to_json() -> None:
    # An integer over 64 bits (a hostile MaxEnvelopes).
    rec = {"max_envelopes": 10**30, "text": "é"}
    assert dumps(rec) == _reference(rec)


def test_lone_surrogates_are_escaped() -> None:
    # A wordlist password read with surrogateescape, shown with --show-secrets: the line
    # must still be writable as UTF-8.
    text = dumps({"password": "a\udc80b", "x": "é"})
    text.encode("utf-8")
    assert json.loads(text) == {"password": "a\udc80b", "x": "é"}


def test_rpcs_and_parameter_histories_made_dicts_encode_as_the_dataclasses_do() -> None:
    # records.py makes the parameter values (and the RPC holding them) and a device's parameter
    # history dicts before orjson sees them; the JSON must be the dataclasses' own, key for key.
    from decoders.cwmp import GetParameterValuesResponse, GetRPCMethods, SetParameterValues
    from dmsniff.report.records import observations, rpc_fields
    from dmsniff.sessions.model import ParameterObservation

    rpcs = [INFORM, GetRPCMethods(), GetParameterValuesResponse(parameters=ParameterValues()),
            SetParameterValues(parameters=INFORM.parameters, parameter_key="k")]
    for rpc in rpcs:
        assert dumps({"fields": rpc_fields(rpc)}) == dumps({"fields": rpc}) == _reference({"fields": rpc})
    assert type(rpc_fields(INFORM)["parameters"][0]) is dict
    rows = [ParameterObservation("Device.A", "é", "string", "Inform", 3, 1700000000.25, "S1"),
            ParameterObservation("Device.B", "", None, "SetParameterValues", 9, 1.0, "S1-2")]
    assert dumps({"p": observations(rows)}) == dumps({"p": rows}) == _reference({"p": rows})


RECORDS = [
    {"type": "x", "fields": INFORM, "digest": b"\x00\xff"},
    {"max_envelopes": 10**30, "text": "é"},  # orjson refuses: json's text
    {"password": "a\udc80b", "x": "é"},  # json refuses too: escaped
]


def test_a_line_as_bytes_is_the_text_line_in_utf8() -> None:
    for rec in RECORDS:
        assert dumps_line(rec) == (dumps(rec) + "\n").encode("utf-8")


def test_jsonl_to_a_utf8_file_writes_bytes_and_the_same_lines(tmp_path: Path) -> None:
    # A UTF-8 file takes orjson's bytes under its text layer; a StringIO (or a file in another
    # encoding) takes the text.  Both give the same lines, after what was written as text first.
    path = tmp_path / "out.jsonl"
    with open(path, "w", encoding="utf-8") as f:
        f.write("head\n")
        report = JsonLinesReport(f)
        assert report.raw is not None
        for rec in RECORDS:
            report._write(rec)
        report.done()
        text = io.StringIO()
        text.write("head\n")
        other = JsonLinesReport(text)
        assert other.raw is None
        for rec in RECORDS:
            other._write(rec)
    assert path.read_text(encoding="utf-8") == text.getvalue()
    latin = tmp_path / "latin.jsonl"
    with open(latin, "w", encoding="latin-1") as f:
        assert JsonLinesReport(f).raw is None
