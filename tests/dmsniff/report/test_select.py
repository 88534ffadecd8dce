"""``report -Y FILTER``: the report of the sessions a filter keeps, and of what goes with them.

The kept sessions are checked against the filter applied to the sessions of one plain in-process
run (the filter language itself is tested in tests/dmsniff/sessions/test_filter.py); the rest of
the report against what those sessions are made of.  A filtered report is the unfiltered one less
some records: every line of it is a line of the unfiltered report, in the same order.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dmsniff.chain import addon_chain
from dmsniff.cli import main
from dmsniff.export import session_connections
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Pipeline
from dmsniff.sessions.filter import compile_filter
from dmsniff.sessions.tls import TlsKeeper
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, CORPUS
from tests.dmsniff.report.conftest import Collect

TLS_KEYS = ["--keylog", str(CAPTURES / "tls_cwmp_loopback.keys"),
            "--keylog", str(CAPTURES / "tls13_loopback.keys")]
# (captures, filters): each filter keeps some sessions of the set and leaves out others.
CASES: list[tuple[list[Path], list[str]]] = [
    ([CAPTURES / "cwmp_loopback.pcap", CAPTURES / "omadm_loopback.pcap"],
     ["proto:omadm", "proto:cwmp", "rpc:Reboot", "auth:none", "not fault:", "finding:", "pkg:0", "x"]),
    ([CAPTURES / "tls_cwmp_loopback.pcap", CAPTURES / "tls13_loopback.pcap"],
     ["tls:1.3", "tls:1.2", "tls:decrypted", "tls:no", "event:boot or rpc:Download"]),
    ([CAPTURES / "omadm_rules_loopback.pcap"], ["status:4xx", "finding:omadm", "cmd:Exec"]),
    ([CORPUS / "pcap" / "genieacs_sim_basic_session.pcap"], ["rpc:GetParameterValues", "proto:omadm"]),
]


def _jsonl(args: list[str], tmp: Path, name: str) -> list[str]:
    out = tmp / name
    assert main(["report", "--format", "jsonl", "-q", "-o", str(out), *args]) == 0
    return out.read_text().splitlines()


def _expected(captures: list[Path], text: str, keys: bool) -> tuple[list[str], list[str]]:
    """(ids of the sessions ``text`` keeps, ids of all sessions), from one plain in-process run."""
    keeper, collect = TlsKeeper(), Collect()
    spec = TlsKeySpec(keylogs=tuple((k, Path(k).read_bytes()) for k in TLS_KEYS[1::2])) if keys else None
    Pipeline(addon_chain(Verifier(Secrets([])), first=[keeper], last=[collect]), jobs=1,
             tls_keys=spec).run_files([str(c) for c in captures])
    predicate = compile_filter(text, tls=lambda s: keeper.session_tls(session_connections(s)))
    return [s.id for s in collect.sessions if predicate(s)], [s.id for s in collect.sessions]


def _is_subsequence(part: list[str], whole: list[str]) -> bool:
    it = iter(whole)
    return all(any(line == other for other in it) for line in part)


@pytest.mark.parametrize(("captures", "filters"), CASES, ids=[c[0][0].stem for c in CASES])
def test_a_filtered_report_keeps_the_matching_sessions_and_what_they_are_made_of(
        captures: list[Path], filters: list[str], tmp_path: Path) -> None:
    keys = "tls" in captures[0].name
    opts = [*(TLS_KEYS if keys else []), *map(str, captures)]
    whole = _jsonl(opts, tmp_path, "all.jsonl")
    whole_recs = [json.loads(line) for line in whole]
    sessions = {r["id"]: r for r in whole_recs if r["type"] == "session"}
    assert sessions
    kept_some = left_some = False
    for text in filters:
        part = _jsonl(["-Y", text, *opts], tmp_path, "part.jsonl")
        recs = [json.loads(line) for line in part]
        want, every = _expected(captures, text, keys)
        assert list(sessions) == every
        got = [r["id"] for r in recs if r["type"] == "session"]
        assert got == want, text
        kept_some |= bool(want)
        left_some |= len(want) < len(every)
        assert _is_subsequence(part, whole), text
        # What goes with the kept sessions, and nothing else.
        kept = [sessions[i] for i in want]
        messages = {m["transaction"] for s in kept for m in s["messages"]}
        messages |= {cr["id"] for s in kept for cr in s.get("connection_requests", [])}
        devices = {s["device_id"] for s in kept if s.get("device_id")}
        # With them, the exchanges no session took on a kept session's connection.
        conns = {c for s in kept for c in s["connections"]}
        conns |= {cr["id"].rpartition(".")[0] for s in kept for cr in s.get("connection_requests", [])
                  if cr["kind"] == "http"}
        taken = {m["transaction"] for s in sessions.values() for m in s["messages"]}
        taken |= {cr["id"] for s in sessions.values() for cr in s.get("connection_requests", [])}
        messages |= {r["id"] for r in whole_recs
                     if r["type"] == "transaction" and r["connection"] in conns and r["id"] not in taken}
        wanted_tx = [r["id"] for r in whole_recs if r["type"] == "transaction" and r["id"] in messages]
        assert [r["id"] for r in recs if r["type"] == "transaction"] == wanted_tx, text
        assert {r["message"] for r in recs if r["type"] == "auth"} <= messages
        assert len([r for r in recs if r["type"] == "auth"]) == len(
            [r for r in whole_recs if r["type"] == "auth" and r["message"] in messages])
        assert {r["id"] for r in recs if r["type"] == "device"} == devices, text
        for r in recs:
            if r["type"] == "finding":
                assert r.get("session") in want or not r["frames"] or r["code"] == "dmsniff.internal-error"
        # The captures' own records stay whatever the filter.
        captures_said = [r for r in whole_recs if r["type"] == "capture"]
        assert [r for r in recs if r["type"] == "capture"] == captures_said
    assert kept_some and left_some  # the cases do select


def test_the_exchanges_no_session_took_go_with_the_kept_session_on_their_connection(tmp_path: Path) -> None:
    """The empty POST answered 401 before S12's Inform (C1.1) goes with S12; C29.1 goes with S40, not
    kept; a lone 401 on a connection no session used (C108.1) goes with none."""
    opts = [*TLS_KEYS[:2], str(CAPTURES / "tls_cwmp_loopback.pcap")]
    recs = [json.loads(line) for line in _jsonl(["-Y", "S12 or S132", *opts], tmp_path, "part.jsonl")]
    assert [r["id"] for r in recs if r["type"] == "session"] == ["S12", "S132"]
    txs = [r["id"] for r in recs if r["type"] == "transaction"]
    assert txs == ["C1.1", "C1.2", "C1.3", "C1.4", "C1.5", "C1.6", "C124.1", "C144.1", "C144.2", "C144.3",
                   "C144.4"]
    first = next(r for r in recs if r["type"] == "transaction")
    assert first["response"]["status"] == 401
    # HAR: such an exchange is on the page of the session it goes with.
    har = tmp_path / "part.har"
    assert main(["report", "--format", "har", "-q", "-o", str(har), "-Y", "S12", *opts]) == 0
    entries = json.loads(har.read_text())["log"]["entries"]
    assert [e["_dmsniff"]["transaction"] for e in entries] == ["C1.1", "C1.2", "C1.3", "C1.4", "C1.5", "C1.6"]
    assert {e["pageref"] for e in entries} == {"S12"}


def test_workers_give_the_filtered_report_of_one_process(tmp_path: Path, generated: Path) -> None:
    opts = ["-Y", "fault: or status:4xx", str(generated), str(CAPTURES / "cwmp_loopback.pcap")]
    one = _jsonl(["-j", "1", *opts], tmp_path, "one.jsonl")
    assert _jsonl(["-j", "2", *opts], tmp_path, "two.jsonl") == one
    assert sum('"type":"session"' in line for line in one) > 5


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A capture over the line where workers decode (CWMP and OMA DM)."""
    from benchmarks.gencap import main as gencap

    path = tmp_path_factory.mktemp("select") / "gen.pcap"
    gencap([str(path), "--packets", "12000", "--seed", "7"])
    return path


def test_the_text_report_lists_only_the_kept_sessions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-q", "-Y", "rpc:Reboot", str(CAPTURES / "cwmp_loopback.pcap")]) == 0
    out, err = capsys.readouterr()
    assert "-- 1 session\nS55 " in out
    assert "S4 " not in out.split("-- 1 session")[1].split("== 1 device")[0]
    assert err.strip() == "dmsniff: -Y kept 1 of 3 sessions"


def test_export_writes_the_packets_of_the_kept_sessions(tmp_path: Path) -> None:
    cap = CAPTURES / "cwmp_loopback.pcap"
    by_filter, by_id = tmp_path / "f.pcapng", tmp_path / "i.pcapng"
    assert main(["report", "-q", "-Y", "rpc:Reboot", "--export-pcapng", str(by_filter),
                 "-o", str(tmp_path / "r"), str(cap)]) == 0
    assert main(["report", "-q", "--export-session", "S55", "--export-pcapng", str(by_id), "-o",
                 str(tmp_path / "r"), str(cap)]) == 0
    assert by_filter.read_bytes() == by_id.read_bytes()


def test_export_with_no_session_kept_writes_nothing(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "none.pcapng"
    assert main(["report", "-q", "-Y", "rpc:NoSuchRpc", "--export-pcapng", str(out),
                 "-o", str(tmp_path / "r"), str(CAPTURES / "cwmp_loopback.pcap")]) == 0
    assert not out.exists()
    assert f"-Y kept 0 of 3 sessions; nothing exported to {out}" in capsys.readouterr().err


@pytest.mark.parametrize(("args", "said"), [
    (["-Y", "bogus:1"], "-Y 'bogus:1': unknown field 'bogus'"),
    (["-Y", "(proto:cwmp"], "-Y '(proto:cwmp': "),
    (["-Y", "proto:cwmp", "--http-only"], "--http-only builds no sessions, which -Y selects"),
    (["-Y", "proto:cwmp", "--export-session", "S4", "--export-pcapng", "x.pcapng"], "give either -Y or"),
])
def test_what_cannot_be_filtered_is_one_line(args: list[str], said: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", *args, str(CAPTURES / "cwmp_loopback.pcap")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"dmsniff: error: {said}") and err.count("\n") == 1, err


def test_a_stream_is_filtered_from_its_copy() -> None:
    # Standard input is kept in a temporary file as the first pass reads it (dmsniff.capture.stdin):
    # the text report is the file's, but for the capture's name.
    capture = CAPTURES / "cwmp_loopback.pcap"
    with capture.open("rb") as stdin:
        run = subprocess.run([sys.executable, "-m", "dmsniff", "report", "-Y", "proto:cwmp", "-"],
                             stdin=stdin, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    whole = subprocess.run([sys.executable, "-m", "dmsniff", "report", "-Y", "proto:cwmp", str(capture)],
                           capture_output=True, text=True, check=True)
    assert run.stdout.replace("<stdin>", str(capture)) == whole.stdout and "Inform" in whole.stdout
    assert run.stderr == whole.stderr == "dmsniff: -Y kept 3 of 3 sessions\n"


def test_a_long_bad_filter_is_shown_short(capsys: pytest.CaptureFixture[str]) -> None:
    text = "(" * 3000 + "x" + ")" * 3000
    assert main(["report", "-Y", text, str(CAPTURES / "cwmp_loopback.pcap")]) == 2
    err = capsys.readouterr().err
    assert err == (f"dmsniff: error: -Y '{'(' * 59}…': nested too deep (more than 64 parentheses or nots) "
                   "(at column 65)\n")


def test_the_first_pass_keeps_no_session_alive_for_free_text(tmp_path: Path) -> None:
    import dmsniff.sessions.filter as filter_module

    filter_module.clear_cache()
    _jsonl(["-Y", "zzzz", str(CAPTURES / "cwmp_loopback.pcap")], tmp_path, "none.jsonl")
    assert filter_module._CONVERSATIONS == {}


def test_a_session_the_filter_fails_on_is_left_out_and_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from dmsniff.report import select

    def broken(self: select.Selection, session: object) -> None:
        raise ValueError("boom")

    monkeypatch.setattr(select.Selection, "keep", broken)
    lines = _jsonl(["-Y", "proto:cwmp", str(CAPTURES / "cwmp_loopback.pcap")], tmp_path, "out.jsonl")
    assert [json.loads(line)["type"] for line in lines] == ["capture"]
    err = capsys.readouterr().err
    assert "dmsniff: warning: internal error in -Y: Selector.session failed on 3 record(s)" in err
    assert "ValueError: boom" in err and "kept 0 of 3 sessions" in err


def test_no_kept_line_when_no_capture_could_be_read(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("hello world\n")
    assert main(["report", "-q", "-Y", "proto:cwmp", str(junk)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dmsniff: error: ") and err.count("\n") == 1
