"""GenieACS debug logs, as GenieACS's own lib/debug.ts writes them (data/record_genieacs.ts): two
CPEs at once, Digest challenges, cookies, a connection request and the session it causes."""

from __future__ import annotations

import os
import random
from pathlib import Path

from dmsniff.cli import main
from dmsniff.logs import log_format
from tests.dmsniff.logs.helpers import DATA, kinds, report_json, run

YAML = DATA / "genieacs-debug.yaml"
JSONL = DATA / "genieacs-debug.jsonl"
SECRETS = ("202BC1-BM632w-000007:cpe-pass-7", "00259E-HG8245-000042:cpe-pass-42", "cruser:crpass")
SESSION = ["Inform", "http", "Inform", "InformResponse", "empty", "GetParameterValues",
           "GetParameterValuesResponse", "empty"]


def lines(path: Path) -> list[str]:
    return path.read_text().split("\n")


def test_recognised_by_content() -> None:
    assert log_format(str(YAML)) == "genieacs-log"
    assert log_format(str(JSONL)) == "genieacs-log"


def test_two_devices_and_a_connection_request() -> None:
    out = run(YAML, secrets=SECRETS)
    assert [(s.device_id, s.events) for s in out.sessions] == [
        ("202BC1-BM632w-000007", ["2 PERIODIC"]),
        ("00259E-HG8245-000042", ["1 BOOT"]),
        ("202BC1-BM632w-000007", ["6 CONNECTION REQUEST"]),
    ]
    assert all(kinds(s) == SESSION and s.end_reason == "204" for s in out.sessions)
    # The devices' connections interleave in the log and are told apart by the log's own stamps.
    first, second, woken = out.sessions
    assert first.connections != second.connections and first.client == "127.0.0.2:0"
    assert second.client == "127.0.0.3:0"
    # The connection request (challenged, then sent again with Digest) is tied to the session it caused.
    text = lines(YAML)
    crs = woken.connection_requests
    assert [cr.status for cr in crs] == [401, 200]
    for cr in crs:
        assert cr.device == "202BC1-BM632w-000007" and cr.session == woken.id
        assert text[cr.frames[0] - 1] == "event: outgoing HTTP request"
        assert text[cr.frames[1] - 1] == "event: incoming HTTP response"
    assert not [f for f in out.findings if f.code == "cwmp.connection-request-without-session"]
    # Sessions and messages point at the lines where their records start.
    assert woken.id == f"S{woken.messages[0].frame}"
    assert text[woken.messages[0].frame - 1] == "event: incoming HTTP request"
    assert {d.id for d in out.devices} == {"202BC1-BM632w-000007", "00259E-HG8245-000042"}
    [cpe7] = [d for d in out.devices if d.id == "202BC1-BM632w-000007"]
    assert cpe7.sessions == [first.id, woken.id] and cpe7.connection_request_url.startswith("http://127.0.0.2:")


def test_digest_credentials_verified() -> None:
    out = run(YAML, secrets=SECRETS)
    results = sorted((r.scheme, r.identity, r.result) for r in out.auth_results)
    assert results == [("http-digest", "00259E-HG8245-000042", "valid"),
                       ("http-digest", "202BC1-BM632w-000007", "valid"),
                       ("http-digest", "202BC1-BM632w-000007", "valid"),
                       ("http-digest", "cruser", "valid")]
    wrong = run(YAML, secrets=("202BC1-BM632w-000007:nope",))
    assert {r.result for r in wrong.auth_results if r.identity == "202BC1-BM632w-000007"} == {"invalid"}


def test_times_are_the_logs_own(tmp_path: Path) -> None:
    code, doc = report_json(tmp_path, str(YAML))
    assert code == 0
    cap = doc["captures"][0]  # type: ignore[index]
    assert cap["format"] == "genieacs-log" and cap["frames"] == "lines"
    assert cap["first_time"] > 1.7e9 and cap["last_time"] >= cap["first_time"]
    assert not any("no times" in n for n in cap["notes"])
    assert cap["packets"] == len(lines(YAML)) - 1


def test_json_format_gives_the_same_sessions() -> None:
    yaml_out, json_out = run(YAML), run(JSONL)
    assert [(s.device_id, kinds(s), s.events) for s in json_out.sessions] == \
        [(s.device_id, kinds(s), s.events) for s in yaml_out.sessions]
    # JSON Lines: one record per line, so frames are the records' numbers.
    assert [len(s.connection_requests) for s in json_out.sessions] == [0, 0, 2]


def test_truncated_log_keeps_everything_before_the_cut(tmp_path: Path) -> None:
    text = YAML.read_bytes()
    cut = text.index(b"<cwmp:GetParameterValuesResponse>", len(text) * 3 // 4)
    p = tmp_path / "cut.yaml"
    p.write_bytes(text[:cut])
    out = run(p)
    assert out.summaries[0].info.errors == []  # the last record still reads, and says it is cut
    assert len(out.sessions) == 3  # the last one ends with the log
    last = out.sessions[-1]
    assert last.end_reason == "capture-end"
    cut_request = out.transactions[-1].request
    assert cut_request is not None and not cut_request.complete
    assert "the log ends inside this record: it may be cut short" in cut_request.problems
    # Cut inside the record's head instead: that record is lost, with one error, and nothing else.
    cut = text.index(b"\nheaders:", cut - 2000) + 5
    p.write_bytes(text[:cut])
    out = run(p)
    [error] = out.summaries[0].info.errors
    assert "cut short at the end of the file" in error
    assert len(out.sessions) == 3


def test_broken_document_in_the_middle_costs_itself_only(tmp_path: Path) -> None:
    docs = YAML.read_text().split("\n---\n")
    # A document whose headers block never closes (a hand edit, a write interrupted by another).
    docs.insert(9, 'event: incoming HTTP request\ntimestamp: 2026-12-04T12:30:33.470Z\n'
                   'headers: {host: "x\nbody: ]')
    p = tmp_path / "broken.yaml"
    p.write_text("\n---\n".join(docs))
    out = run(p)
    [error] = out.summaries[0].info.errors
    assert "not valid YAML" in error and error.startswith("lines ")
    assert [s.device_id for s in out.sessions] == [s.device_id for s in run(YAML).sessions]


def test_binary_garbage_named_log_is_one_clear_error(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / "genieacs-debug.log"
    rng = random.Random(7)
    p.write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    assert main(["report", str(p)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "binary data" in err[0] and "genieacs-debug.log" in err[0]


def test_a_log_and_a_capture_side_by_side(tmp_path: Path) -> None:
    from tests.conftest import CAPTURES

    code, doc = report_json(tmp_path, str(CAPTURES / "cwmp_loopback.pcap"), str(YAML))
    assert code == 0
    assert [c["format"] for c in doc["captures"]] == ["pcap", "genieacs-log"]  # type: ignore[index]
    ids = [s["id"] for s in doc["sessions"]]  # type: ignore[union-attr]
    assert "S4" in ids and any(i.startswith("S1-") for i in ids)
    assert os.path.basename(doc["captures"][1]["path"]) == YAML.name  # type: ignore[index]
