"""HAR files: one recorded by headless Chromium (Playwright, data/record_har.py) against a local ACS."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from dmsniff.capture import CaptureInfo
from dmsniff.logs import har, log_format
from tests.dmsniff.logs.data.record_har import CHROMIUM, PASSWORD, USER, record
from tests.dmsniff.logs.helpers import DATA, kinds, run

HAR = DATA / "chromium.har"
SESSION = ["Inform", "empty", "Inform", "InformResponse", "empty", "GetParameterValues",
           "GetParameterValuesResponse", "empty"]


def _check(out) -> None:  # type: ignore[no-untyped-def]
    [s] = out.sessions
    assert kinds(s) == SESSION and s.end_reason == "204"
    assert s.device_id == "00AA11-WebCPE-HAR0001"
    assert {(r.scheme, r.identity, r.result) for r in out.auth_results} == {("http-basic", USER, "valid")}
    assert out.summaries[0].info.first_time > 1.7e9  # the browser's own times


def test_browser_har(tmp_path: Path) -> None:
    assert log_format(str(HAR)) == "har"
    out = run(HAR, secrets=(f"{USER}:{PASSWORD}",))
    _check(out)
    # Playwright writes the HAR on one line: frames are entry numbers (entry 1 is the page itself).
    info = out.summaries[0].info
    assert (info.frame_unit, info.packets) == ("entry", 5)
    assert [m.frame for m in out.sessions[0].messages] == [2, 2, 3, 3, 4, 4, 5, 5]


def test_indented_har_gives_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "indented.har"
    p.write_text(json.dumps(json.loads(HAR.read_text()), indent=2))
    out = run(p, secrets=(f"{USER}:{PASSWORD}",))
    _check(out)
    text = p.read_text().split("\n")
    for m in out.sessions[0].messages:
        key = '"request"' if m.direction == "to_server" else '"response"'
        assert text[m.frame - 1].strip().startswith(key)


def test_har_cut_short_keeps_the_entries_before(tmp_path: Path) -> None:
    text = HAR.read_text()
    p = tmp_path / "cut.har"
    p.write_text(text[: text.index('"startedDateTime"', text.index('"entries"') + 200 * 10) + 40]
                 if text.count('"startedDateTime"') > 5 else text[: len(text) * 4 // 5])
    out = run(p)
    [error] = out.summaries[0].info.errors
    assert "cut short" in error and "are kept" in error
    assert out.transactions and len(out.transactions) < 5


@pytest.mark.skipif(not os.path.exists(CHROMIUM) or importlib.util.find_spec("playwright") is None,
                    reason="needs Debian's chromium and the playwright package")
def test_recorded_now(tmp_path: Path) -> None:
    """Chromium run against the local ACS again, here: the same session from a fresh HAR."""
    har = tmp_path / "fresh.har"
    record(har)
    _check(run(har, secrets=(f"{USER}:{PASSWORD}",)))


@pytest.mark.parametrize("value", [[1, 2], 7, 1.5, True, {"a": 1}])
def test_fields_of_the_wrong_json_type_cost_that_field(tmp_path: Path, value: object) -> None:
    """A HAR is JSON anyone may write: a field of another type than HAR 1.2 says is left out, not a
    crash of the run (serverIPAddress as a list, a base64 body's text as a number: found by fuzzing)."""
    har = json.loads(HAR.read_text())
    for entry in har["log"]["entries"]:
        entry["serverIPAddress"] = value
        entry["response"]["content"] = {"text": value, "encoding": "base64", "size": value}
        entry["response"]["status"] = entry["response"]["status"] if value is not True else True
    p = tmp_path / "typed.har"
    p.write_text(json.dumps(har))
    out = run(p)
    assert out.failures == []
    assert len(out.transactions) == 5  # every entry, with or without its response
    if value is True:  # (a status of true is no status: the request stands alone)
        assert all(tx.response is None for tx in out.transactions)
    else:
        assert all("the body's text is a JSON" in " ".join(tx.response.problems)
                   for tx in out.transactions if tx.response is not None)


def test_a_reader_bug_costs_the_rest_of_that_log_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a log reader's bug, the entries before it and the run's other inputs are reported."""
    from dmsniff.logs import har

    real = har._messages

    def failing(entry, where, named, errors, no):  # type: ignore[no-untyped-def]
        if no == 3:
            raise RuntimeError("a bug")
        return real(entry, where, named, errors, no)

    monkeypatch.setattr(har, "_messages", failing)
    out = run(HAR, HAR)
    assert out.failures == []
    said = "the har reader failed here (a dmsniff bug: RuntimeError: a bug); what came before is reported"
    assert [s.info.errors for s in out.summaries] == [[said], [said]]
    assert len(out.transactions) == 2 * 2  # entries 1 and 2 of each log
    assert sum(f.code == "dmsniff.internal-error" for f in out.findings) == 2


def test_an_entry_whose_url_does_not_parse_costs_that_entry(tmp_path: Path) -> None:
    bad = {"request": {"method": "GET", "url": "http://[::1/x", "headers": []},
           "response": {"status": 200, "headers": [], "content": {}}}
    good = {"request": {"method": "GET", "url": "http://192.0.2.1:7547/ok", "headers": []},
            "response": {"status": 204, "headers": [], "content": {}}}
    path = tmp_path / "bad-url.har"
    path.write_text(json.dumps({"log": {"version": "1.2", "entries": [bad, good]}}))
    errors: list[str] = []
    info = CaptureInfo(path=str(path), format="har", compressed=False)
    got = list(har.parse(path.read_bytes(), errors, info))
    assert [m.uri for m in got if m.request] == ["/ok"]
    assert errors == ["entry 1: the request URL 'http://[::1/x' does not parse (Invalid IPv6 URL): skipped"]


def test_each_exchange_waits_what_the_browser_timed() -> None:
    # The request is complete once sent (after blocked, dns, connect, send), the response begins
    # timings.wait later: the exchange's wait (the JSON's) is the browser's own.
    entries = json.loads(HAR.read_text())["log"]["entries"]
    out = run(HAR, secrets=(f"{USER}:{PASSWORD}",))
    assert len(out.transactions) == len(entries) == 5
    by_start = sorted(out.transactions, key=lambda t: t.request.time if t.request else 0.0)
    for tx, entry in zip(by_start, entries, strict=True):
        assert tx.response_time == pytest.approx(entry["timings"]["wait"] / 1000, abs=1e-6)
