"""`dmsniff report --format parquet`: the JSON report's rows as tables, queried with DuckDB.

Row counts of every table equal the JSON report's over our captures and the shared corpus;
the README's three DuckDB queries (faults per firmware version, devices whose credentials
fail, sessions per hour) return the rows the README shows, and the rows the JSON document
gives when worked out by hand.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dmsniff.chain import addon_chain
from dmsniff.cli import main
from dmsniff.pipeline import Pipeline
from dmsniff.report.parquet import TABLES, ParquetReport, _array, _json, arrow_schema
from tests.conftest import CAPTURES, CORPUS, ROOT

GENIEACS = CORPUS / "pcap" / "genieacs_sim_basic_session.pcap"
TLS_KEYS = CAPTURES / "tls_cwmp_loopback.keys"

#: The fixed column list of every table (a change here is a change of the format: only add).
COLUMNS = {
    "transactions": [
        "id", "capture", "connection", "client", "server",
        "request_frame", "request_frames", "request_frames_omitted", "request_time", "request_method",
        "request_uri", "request_version", "request_headers", "request_body_length", "request_decoded_length",
        "request_complete", "request_problems", "request_protocol_name", "request_protocol_kind",
        "request_protocol_encoding",
        "response_frame", "response_frames", "response_frames_omitted", "response_time", "response_status",
        "response_reason", "response_version", "response_headers", "response_body_length",
        "response_decoded_length", "response_complete", "response_problems", "response_protocol_name",
        "response_protocol_kind", "response_protocol_encoding",
        "wait", "interim", "tls_version", "tls_cipher_suite", "tls_sni", "tls_alpn", "tls_resumed",
        "tls_key_source",
    ],
    "sessions": [
        "id", "protocol", "capture", "device", "device_id", "client", "server", "start", "end", "end_reason",
        "version", "events", "connections", "summary", "messages", "connection_requests", "findings",
        "session_id", "server_name", "auth_badge", "auth_valid", "auth_invalid", "auth_no_secret",
        "auth_unverifiable", "large_objects", "dm",
    ],
    "messages": [
        "session", "capture", "index", "frame", "time", "direction", "kind", "transaction", "http", "status",
        "body_length", "cwmp_id", "label", "cwmp_version", "encoding", "session_id", "msg_id", "package",
        "final", "header", "fields", "fault", "commands", "problems", "notes", "auth",
    ],
    "findings": ["severity", "code", "message", "frames", "reference", "session", "capture"],
    "auth": [
        "message", "frame", "capture", "scheme", "identity", "algorithm", "direction", "result", "matched",
        "reason", "notes", "caveat", "password",
    ],
    "parameters": ["device", "name", "value", "type", "source", "frame", "time", "session"],
    "devices": [
        "id", "protocol", "identity", "addresses", "sessions", "connection_request_url",
        "udp_connection_request_address", "connection_requests", "parameters", "stun", "nat_path",
    ],
    "captures": [
        "index", "path", "format", "compressed", "packets", "link_types", "first_time", "last_time",
        "tcp_connections", "http_connections", "http_transactions", "udp_datagrams", "counters", "errors",
        "parts", "frames", "notes",
    ],
    "tls": [
        "connection", "capture", "client", "server", "start", "end", "first_frame", "last_frame", "version",
        "cipher_suite", "sni", "alpn", "client_random", "resumed", "decrypted", "reason_code", "reason_text",
        "key_source", "http", "certificate_subject", "certificate_issuer", "certificate_san",
        "certificate_not_before", "certificate_not_after", "certificate_serial", "certificate_public_key",
        "certificate_sha256", "certificate_chain_length", "client_hello", "server_hello", "alerts",
        "records_to_server", "records_to_client", "application_bytes_to_server",
        "application_bytes_to_client", "opaque_bytes_to_server", "opaque_bytes_to_client", "hello_retry",
        "renegotiations", "key_updates_to_server", "key_updates_to_client", "handshake_complete", "frames",
        "problems",
    ],
}

RUNS: dict[str, list[str]] = {
    "cwmp": [str(CAPTURES / "cwmp_loopback.pcap")],
    "omadm": [str(CAPTURES / "omadm_loopback.pcap")],
    "tls": ["--keylog", str(TLS_KEYS), str(CAPTURES / "tls_cwmp_loopback.pcap")],
    "genieacs": [str(GENIEACS)],
}


def report(tmp_path: Path, args: list[str]) -> tuple[dict[str, Any], Path]:
    """The JSON document and the Parquet folder of one run over ``args``."""
    doc_path, out = tmp_path / "report.json", tmp_path / "out"
    assert main(["report", "--format", "json", "-o", str(doc_path), *args]) == 0
    assert main(["report", "--format", "parquet", "-o", str(out), *args]) == 0
    return json.loads(doc_path.read_text()), out


def rows(out: Path, table: str) -> list[dict[str, Any]]:
    """One table's rows, times as integer microseconds."""
    t = pq.read_table(out / table)
    for i, field in enumerate(t.schema):
        if pa.types.is_timestamp(field.type):
            t = t.set_column(i, field.name, t.column(i).cast(pa.int64()))
    table_rows: list[dict[str, Any]] = t.to_pylist()
    return table_rows


def us(t: float | None) -> int | None:
    return None if t is None else round(t * 1_000_000)


def json_counts(doc: dict[str, Any]) -> dict[str, int]:
    return {
        "transactions": len(doc["transactions"]),
        "sessions": len(doc["sessions"]),
        "messages": sum(len(s["messages"]) for s in doc["sessions"]),
        "findings": len(doc["findings"]),
        "auth": len(doc["auth"]),
        "parameters": sum(len(d["parameters"]) for d in doc["devices"]),
        "devices": len(doc["devices"]),
        "captures": len(doc["captures"]),
        "tls": len(doc["tls"]),
    }


def duck_counts(out: Path) -> dict[str, int]:
    con = duckdb.connect()
    return {t: con.execute(f"SELECT count(*) FROM read_parquet('{out}/{t}/*.parquet')").fetchall()[0][0]
            for t in TABLES}


# ---------------------------------------------------------------- schema


def test_every_table_has_the_fixed_columns() -> None:
    assert list(TABLES) == list(COLUMNS)
    for table, names in COLUMNS.items():
        assert [name for name, _ in TABLES[table]] == names, table
        assert arrow_schema(table).names == names


def test_column_types() -> None:
    tx = arrow_schema("transactions")
    assert tx.field("request_time").type == pa.timestamp("us", tz="UTC")
    assert tx.field("request_headers").type == pa.list_(pa.struct([("name", pa.string()),
                                                                    ("value", pa.string())]))
    assert tx.field("response_status").type == pa.int64()
    assert tx.field("request_frames").type == pa.list_(pa.int64())
    assert arrow_schema("sessions").field("events").type == pa.list_(pa.string())
    assert arrow_schema("messages").field("fields").type == pa.string()  # JSON text
    assert arrow_schema("tls").field("decrypted").type == pa.bool_()
    assert arrow_schema("sessions").metadata[b"dmsniff.schema"] == b"dmsniff-report/1.0"


# ---------------------------------------------------------------- row counts and values


@pytest.mark.parametrize("name", list(RUNS))
def test_row_counts_equal_the_json_report(name: str, tmp_path: Path, corpus: Path) -> None:
    doc, out = report(tmp_path, RUNS[name])
    expected = json_counts(doc)
    assert expected["transactions"] and expected["sessions"] and expected["messages"]
    assert expected["parameters"] and expected["auth"]
    if name == "tls":
        assert expected["tls"] == 7
    assert duck_counts(out) == expected
    for table, names in COLUMNS.items():
        files = sorted(p.name for p in (out / table).iterdir())
        assert files == ["part-0-0000.parquet"], table  # no hidden file left behind
        assert pq.read_schema(out / table / files[0]).names == names


@pytest.mark.parametrize("name", list(RUNS))
def test_values_are_the_json_reports(name: str, tmp_path: Path, corpus: Path) -> None:
    doc, out = report(tmp_path, RUNS[name])

    txs = rows(out, "transactions")
    assert [(t["id"], t["request_method"], t["request_uri"], t["response_status"], t["response_reason"])
            for t in txs] == [
        (t["id"], t["request"]["method"], t["request"]["uri"], t["response"]["status"],
         t["response"]["reason"]) for t in doc["transactions"]]
    for row, rec in zip(txs, doc["transactions"], strict=True):
        req, resp = rec["request"], rec["response"]
        assert [[h["name"], h["value"]] for h in row["request_headers"]] == req["headers"]
        assert row["request_time"] == us(req["time"]) and row["response_frame"] == resp["frame"]
        assert row["response_body_length"] == resp["body_length"]
        assert row["request_protocol_kind"] == (req.get("protocol") or {}).get("kind")
        assert row["tls_version"] == (rec.get("tls") or {}).get("version")

    sessions = rows(out, "sessions")
    assert [(s["id"], s["device_id"], s["end_reason"], s["summary"], s["messages"], s["start"], s["end"])
            for s in sessions] == [
        (s["id"], s["device_id"], s["end_reason"], s["summary"], len(s["messages"]), us(s["start"]),
         us(s["end"])) for s in doc["sessions"]]
    for row, rec in zip(sessions, doc["sessions"], strict=True):
        assert json.loads(row["device"]) == rec["device"]
        for col in ("large_objects", "dm"):
            assert (json.loads(row[col]) if row[col] is not None else None) == rec.get(col), col
        assert row["auth_badge"] == (rec["auth"] or {}).get("badge")
        assert row["auth_no_secret"] == ((rec["auth"] or {}).get("no-secret", 0) if rec["auth"] else None)

    messages = rows(out, "messages")
    expected = [(s["id"], i, m) for s in doc["sessions"] for i, m in enumerate(s["messages"])]
    assert len(messages) == len(expected)
    for row, (sid, i, m) in zip(messages, expected, strict=True):
        assert (row["session"], row["index"], row["frame"], row["kind"], row["direction"]) == (
            sid, i, m["frame"], m["kind"], m["direction"])
        assert (row["transaction"], row["time"]) == (m["transaction"], us(m["time"]))
        for col in ("fields", "fault", "header", "auth"):
            assert (json.loads(row[col]) if row[col] is not None else None) == m.get(col), col
        if "commands" in m:
            assert [c["name"] for c in row["commands"]] == [c["name"] for c in m["commands"]]

    assert [(p["device"], p["name"], p["value"], p["source"], p["frame"], p["session"], p["time"])
            for p in rows(out, "parameters")] == [
        (d["id"], p["name"], p["value"], p["source"], p["frame"], p["session"], us(p["time"]))
        for d in doc["devices"] for p in d["parameters"]]
    auth_fields = ("message", "frame", "scheme", "identity", "result")
    assert [tuple(a[k] for k in auth_fields) for a in rows(out, "auth")] == [
        tuple(a[k] for k in auth_fields) for a in doc["auth"]]
    assert [(f["code"], f["session"], f["frames"]) for f in rows(out, "findings")] == [
        (f["code"], f["session"], f["frames"]) for f in doc["findings"]]
    devices = rows(out, "devices")
    assert [(d["id"], d["sessions"], d["parameters"]) for d in devices] == [
        (d["id"], d["sessions"], len(d["parameters"])) for d in doc["devices"]]
    for row, rec in zip(devices, doc["devices"], strict=True):
        for col in ("identity", "stun", "nat_path"):
            assert (json.loads(row[col]) if row[col] is not None else None) == rec.get(col), col
    captures = rows(out, "captures")
    assert [(c["path"], c["packets"], c["errors"], json.loads(c["counters"])) for c in captures] == [
        (c["path"], c["packets"], c["errors"], c["counters"]) for c in doc["captures"]]
    assert [(t["connection"], t["version"], t["decrypted"], t["reason_code"], t["records_to_server"],
             json.loads(t["frames"])) for t in rows(out, "tls")] == [
        (t["connection"], t["version"], t["decrypted"], (t["reason"] or {}).get("code"),
         t["records"]["to_server"], t["frames"]) for t in doc["tls"]]


def test_several_captures_in_one_run(tmp_path: Path, corpus: Path) -> None:
    args = ["--keylog", str(TLS_KEYS), *(a for run in RUNS.values() for a in run if a.endswith(".pcap"))]
    doc, out = report(tmp_path, args)
    assert len(doc["captures"]) == 4
    assert duck_counts(out) == json_counts(doc)
    con = duckdb.connect()
    assert con.execute(f"SELECT DISTINCT capture FROM '{out}/sessions/*.parquet' ORDER BY 1").fetchall() == [
        (0,), (1,), (2,), (3,)]


def test_a_capture_that_cannot_be_read_is_a_row_of_captures(tmp_path: Path) -> None:
    args = [str(tmp_path / "missing.pcap"), str(CAPTURES / "cwmp_loopback.pcap")]
    doc_path, out = tmp_path / "report.json", tmp_path / "out"
    assert main(["report", "--format", "json", "-o", str(doc_path), *args]) == 1
    assert main(["report", "--format", "parquet", "-o", str(out), *args]) == 1
    doc = json.loads(doc_path.read_text())
    assert duck_counts(out) == json_counts(doc)
    captures = rows(out, "captures")
    assert [(c["index"], c["format"], c["packets"], len(c["errors"])) for c in captures] == [
        (c.get("index"), c["format"], c["packets"], len(c["errors"])) for c in doc["captures"]]
    assert captures[0]["format"] is None and captures[0]["errors"]


def test_http_only(tmp_path: Path) -> None:
    doc, out = report(tmp_path, ["--http-only", str(CAPTURES / "cwmp_loopback.pcap")])
    counts = duck_counts(out)
    assert counts == json_counts(doc)
    assert counts["transactions"] == 14 and counts["sessions"] == 0


# ---------------------------------------------------------------- the README's DuckDB queries


def readme_part() -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index("### Parquet and DuckDB")
    end = text.index("\n## ", start)
    return text[start:end]


def readme_command() -> list[str]:
    """The arguments of the README's ``dmsniff report --format parquet`` command."""
    block = re.search(r"```sh\n(.*?)```", readme_part(), re.S)
    assert block is not None
    words = shlex.split(block.group(1).replace("\\\n", " "))
    assert words[:2] == ["dmsniff", "report"]
    return words[2:]


def readme_queries() -> list[tuple[str, list[tuple[str, ...]]]]:
    """Each SQL block of the README with the rows it shows under it."""
    found = re.findall(r"```sql\n(.*?)```\s*```\n(.*?)```", readme_part(), re.S)
    out = []
    for sql, shown in found:
        lines = shown.strip().splitlines()
        out.append((sql, [tuple(re.split(r"\s{2,}", line.strip())) for line in lines[1:]]))
    return out


def run_query(con: duckdb.DuckDBPyConnection, sql: str, out: Path) -> list[tuple[Any, ...]]:
    statements = [s for s in sql.replace("'out/", f"'{out}/").split(";") if s.strip()]
    for s in statements[:-1]:
        con.execute(s)
    return con.execute(statements[-1]).fetchall()


def shown(values: tuple[Any, ...]) -> tuple[str, ...]:
    return tuple("NULL" if v is None else str(v) for v in values)


def firmware_faults(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Faults per firmware version, from the JSON document by hand."""
    per: dict[str, list[Any]] = {}
    for s in doc["sessions"]:
        inform = next((m for m in s["messages"] if m["kind"] == "Inform"), None)
        if inform is None:
            continue
        for p in inform["fields"]["parameters"]:
            if p["name"].endswith(".DeviceInfo.SoftwareVersion"):
                faults = [m["fault"]["code"] for m in s["messages"]
                          if m["kind"] == "Fault" and m["direction"] == "to_server"]
                entry = per.setdefault(p["value"], [0, 0, set()])
                entry[0] += 1
                entry[1] += len(faults)
                entry[2].update(str(c) for c in faults)
    return [(fw, n, f, ", ".join(sorted(codes)) or None) for fw, (n, f, codes) in sorted(per.items())]


def failing_devices(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Devices whose credentials (in session messages) were judged invalid, from the JSON by hand."""
    count: Counter[tuple[str, str]] = Counter()
    schemes: dict[tuple[str, str], set[str]] = {}
    by_transaction = {m["transaction"]: s for s in doc["sessions"] for m in s["messages"]}
    for a in doc["auth"]:
        s = by_transaction.get(a["message"])
        if a["result"] == "invalid" and s is not None:
            key = (s["device_id"], a["identity"])
            count[key] += 1
            schemes.setdefault(key, set()).add(a["scheme"])
    return [(d, i, n, ", ".join(sorted(schemes[(d, i)]))) for (d, i), n in sorted(count.items())]


def sessions_per_hour(doc: dict[str, Any]) -> list[tuple[Any, ...]]:
    hours: dict[str, list[Any]] = {}
    for s in doc["sessions"]:
        hour = datetime.fromtimestamp(s["start"], UTC).strftime("%Y-%m-%d %H:00")
        entry = hours.setdefault(hour, [0, set()])
        entry[0] += 1
        entry[1].add(s["device_id"])
    return [(h, n, len(devices)) for h, (n, devices) in sorted(hours.items())]


def check_queries(doc: dict[str, Any], out: Path) -> list[list[tuple[Any, ...]]]:
    queries = readme_queries()
    assert len(queries) == 3
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/New_York'")  # the hour query sets UTC itself
    results = [run_query(con, sql, out) for sql, _ in queries]
    assert results[0] == firmware_faults(doc)
    assert results[1] == failing_devices(doc)
    assert results[2] == sessions_per_hour(doc)
    return results


def test_readme_queries_return_the_rows_it_shows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = readme_command()
    assert args[:4] == ["--format", "parquet", "-o", "out"]
    out, doc_path = tmp_path / "out", tmp_path / "report.json"
    monkeypatch.chdir(ROOT)  # the README's capture paths
    assert main(["report", "--format", "parquet", "-o", str(out), *args[4:]]) == 0
    assert main(["report", "--format", "json", "-o", str(doc_path), *args[4:]]) == 0
    doc = json.loads(doc_path.read_text())
    results = check_queries(doc, out)
    for (_, shown_rows), result in zip(readme_queries(), results, strict=True):
        assert [shown(r) for r in result] == shown_rows
    # What the README says of these captures.
    assert results[0] == [("1.0.0", 5, 0, None), ("1.1.0", 2, 1, "9001")]
    assert results[1] == [("00D09E-HGW-SN0042", "cpe-user", 1, "http-digest"),
                          ("IMEI:493005100592800", "dmuser", 6, "syncml-basic, syncml-hmac, syncml-md5")]


def test_queries_over_every_capture_with_a_wrong_password(tmp_path: Path, corpus: Path) -> None:
    """Our three captures and genieacs-sim's, with a wrong password for genieacs-sim's CPE."""
    args = ["--keylog", str(TLS_KEYS), "--secret", "8KA8WA1151100043:not-the-password",
            *(a for run in RUNS.values() for a in run if a.endswith(".pcap"))]
    doc, out = report(tmp_path, args)
    faults, failing, hours = check_queries(doc, out)
    assert faults == [("1.0.0", 5, 0, None), ("1.1.0", 2, 1, "9001"), ("V100R001IRQC56B017", 2, 2, "9000")]
    # Only the device whose password was given wrong: the others' credentials have no secret.
    assert failing == [("202BC1-BM632w-000007", "8KA8WA1151100043", 15, "http-basic")]
    assert hours == [("2026-11-25 00:00", 2, 1), ("2026-11-25 02:00", 3, 1), ("2026-11-25 03:00", 3, 1),
                     ("2026-12-04 11:00", 4, 1)]


# ---------------------------------------------------------------- writing


def run_writer(path: Path, *writers: ParquetReport) -> None:
    from dmsniff.verify.secrets import Secrets
    from dmsniff.verify.verifier import Verifier

    Pipeline(addon_chain(Verifier(Secrets()), last=[*writers])).run_files([str(path)])


def test_row_groups_and_part_files_as_rows_arrive(tmp_path: Path) -> None:
    writer = ParquetReport(str(tmp_path), batch_rows=3, file_rows=5)
    run_writer(CAPTURES / "cwmp_loopback.pcap", writer)
    assert writer.counts["transactions"] == 14
    files = sorted((tmp_path / "transactions").iterdir())
    assert [f.name for f in files] == [f"part-0-{n:04d}.parquet" for n in range(3)]  # 5 + 5 + 4 rows
    # Batches of 3 rows cut at 5 rows a file: 3+2 | 1+3+1 | 2+2 (the last 2 when the run is done).
    assert [pq.ParquetFile(f).metadata.num_row_groups for f in files] == [2, 3, 2]
    assert sum(pq.ParquetFile(f).metadata.num_rows for f in files) == 14
    assert duck_counts(tmp_path)["transactions"] == 14
    assert [r["id"] for r in rows(tmp_path, "transactions")][:3] == ["C1.1", "C1.2", "C1.3"]


def test_several_writers_fill_one_folder(tmp_path: Path) -> None:
    a, b = ParquetReport(str(tmp_path), part="a"), ParquetReport(str(tmp_path), part="b")
    run_writer(CAPTURES / "cwmp_loopback.pcap", a)
    run_writer(CAPTURES / "omadm_loopback.pcap", b)
    assert sorted(p.name for p in (tmp_path / "sessions").iterdir()) == ["part-a-0000.parquet",
                                                                          "part-b-0000.parquet"]
    assert duck_counts(tmp_path)["sessions"] == 6
    # A second writer with the same part never writes over the first one's file.
    again = ParquetReport(str(tmp_path), part="a")
    run_writer(CAPTURES / "cwmp_loopback.pcap", again)
    assert (tmp_path / "sessions" / "part-a-0001.parquet").exists()
    assert duck_counts(tmp_path)["sessions"] == 9


def test_same_part_at_once_fails_rather_than_mixing(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    first = ParquetReport(str(tmp_path), batch_rows=1)
    second = ParquetReport(str(tmp_path), batch_rows=1)
    run_writer(CAPTURES / "cwmp_loopback.pcap", first, second)
    assert first.failed is None
    assert second.failed is not None and "File exists" in second.failed
    assert capsys.readouterr().err.count("dmsniff: error: writing parquet tables to") == 1
    assert duck_counts(tmp_path)["transactions"] == 14  # the first writer's, whole


def test_hostile_values_are_stored() -> None:
    assert _array(["ok", "bad \udc80"], "str").to_pylist() == ["ok", "bad \\udc80"]
    assert _array([1, 1 << 70], "int").to_pylist() == [1, None]
    assert _array([1.5, None, float("inf"), 1e300], "time").cast(pa.int64()).to_pylist() == [1_500_000, None,
                                                                                              None, None]
    assert _array([[("X-\udcff", "v")]], "headers").to_pylist() == [[{"name": "X-\\udcff", "value": "v"}]]
    assert json.loads(_json({"n": 1 << 70, "s": "\udc80"}) or "") == {"n": 1 << 70, "s": "\udc80"}


# ---------------------------------------------------------------- the command line


def test_without_pyarrow_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    code = main(["report", "--format", "parquet", "-o", str(tmp_path / "out"),
                 str(CAPTURES / "cwmp_loopback.pcap")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("dmsniff: error: --format parquet needs pyarrow: pip install 'dmsniff[cluster]'")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("case", ["no -o", "stdout", "not empty", "a file", "under a file"])
def test_output_folder_problems(case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out"
    if case == "not empty":
        target.mkdir()
        (target / "notes.txt").write_text("mine")
    elif case == "a file":
        target.write_text("mine")
    elif case == "under a file":
        (tmp_path / "file").write_text("mine")
        target = tmp_path / "file" / "out"
    output = {"no -o": [], "stdout": ["-o", "-"]}.get(case, ["-o", str(target)])
    code = main(["report", "--format", "parquet", *output, str(CAPTURES / "cwmp_loopback.pcap")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("dmsniff: error: ")
    if case == "not empty":
        assert os.listdir(target) == ["notes.txt"]


def test_an_empty_folder_is_used(tmp_path: Path) -> None:
    assert main(["report", "--format", "parquet", "-o", str(tmp_path),
                 str(CAPTURES / "cwmp_loopback.pcap")]) == 0
    assert sorted(os.listdir(tmp_path)) == sorted(TABLES)


def test_a_failed_write_is_a_failed_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """A full disk half way: one error line, and the run's exit status says the tables are not whole."""
    def full(self: pq.ParquetWriter, *args: Any, **kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pq.ParquetWriter, "write_table", full)
    monkeypatch.setattr(pq.ParquetWriter, "write_batch", full, raising=False)
    code = main(["report", "--format", "parquet", "-o", str(tmp_path / "t"), "-j", "1",
                 str(CAPTURES / "cwmp_loopback.pcap")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("No space left on device") == 1, err
