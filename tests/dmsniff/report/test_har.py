"""``report --format har``: the HTTP exchanges as an HTTP Archive 1.2.

Two readers other than the writer judge it: Playwright's HAR replay (``route_from_har``, the HAR
parser of the Node driver) serves every recorded response to the requests a page sends again,
and dmsniff's own HAR reader, which must find the capture's sessions in it again.
"""

from __future__ import annotations

import base64
import io
import json
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.tls import TlsInfo
from dmsniff.cli import main
from dmsniff.model import HttpMessage, Transaction
from dmsniff.report.har import write_har
from tests.conftest import CAPTURES

# HAR 1.2's required fields (http://www.softwareishard.com/blog/har-12-spec/).
ENTRY = {"startedDateTime", "time", "request", "response", "cache", "timings"}
REQUEST = {"method", "url", "httpVersion", "cookies", "headers", "queryString", "headersSize", "bodySize"}
RESPONSE = {"status", "statusText", "httpVersion", "cookies", "headers", "content", "redirectURL",
            "headersSize", "bodySize"}


def _har(args: list[str], tmp: Path, name: str = "out.har") -> dict[str, Any]:
    out = tmp / name
    assert main(["report", "-q", "--format", "har", "-o", str(out), *args]) == 0
    doc: dict[str, Any] = json.loads(out.read_text())
    return doc


def _sessions(path: Path, *args: str) -> list[tuple[str | None, str]]:
    """(device, conversation) of each session dmsniff reports for ``path``."""
    run = subprocess.run([sys.executable, "-m", "dmsniff", "report", "-q", "--format", "jsonl", *args,
                          str(path)], capture_output=True, text=True, check=True)
    recs = [json.loads(line) for line in run.stdout.splitlines()]
    return [(r.get("device_id"), r["summary"].split("#1 ", 1)[-1]) for r in recs if r["type"] == "session"]


def test_every_exchange_is_an_entry_with_the_fields_har_requires(tmp_path: Path) -> None:
    doc = _har([str(CAPTURES / "http_loopback.pcap")], tmp_path)
    log = doc["log"]
    assert log["version"] == "1.2" and log["creator"]["name"] == "dmsniff" and log["pages"] == []
    entries = log["entries"]
    assert [e["_dmsniff"]["transaction"] for e in entries] == [
        "C1.1", "C1.2", "C15.1", "C27.1", "C42.1", "C54.1", "C54.2", "C54.3", "C71.1"]
    for e in entries:
        assert set(e) >= ENTRY and set(e["request"]) >= REQUEST and set(e["response"]) >= RESPONSE
        assert {"send", "wait", "receive"} <= set(e["timings"]) and e["time"] >= 0
        assert e["startedDateTime"].endswith("Z") and e["serverIPAddress"] == "127.0.0.1"
    gzip = entries[4]
    assert gzip["request"]["url"] == "http://127.0.0.1:7547/gzip"
    content = gzip["response"]["content"]
    assert ("Content-Encoding", "gzip") in [(h["name"], h["value"]) for h in gzip["response"]["headers"]]
    assert content["text"].startswith("<") and content["size"] == len(content["text"].encode())
    assert content["compression"] == content["size"] - gzip["response"]["bodySize"] > 0
    empty = entries[1]
    assert "postData" not in empty["request"] and empty["response"]["status"] == 204
    # (Set by the ACS in the first answer; this CPE never sends it back: cwmp.cookie-not-returned.)
    assert [c["name"] for c in entries[0]["response"]["cookies"]] == ["session"]
    assert empty["request"]["cookies"] == []
    assert entries[8]["request"]["method"] == "GET" and entries[8]["connection"] == "C71"


def test_binary_bodies_are_base64_and_decrypted_exchanges_are_https(tmp_path: Path) -> None:
    doc = _har([str(CAPTURES / "omadm_loopback.pcap")], tmp_path)
    wbxml = [e for e in doc["log"]["entries"]
             if e["request"].get("postData", {}).get("mimeType") == "application/vnd.syncml.dm+wbxml"]
    assert wbxml and all(e["request"]["postData"]["encoding"] == "base64" for e in wbxml)
    assert base64.b64decode(wbxml[0]["request"]["postData"]["text"])[:1] in (b"\x01", b"\x02", b"\x03")
    tls = _har(["--keylog", str(CAPTURES / "tls_cwmp_loopback.keys"),
                str(CAPTURES / "tls_cwmp_loopback.pcap")], tmp_path, "tls.har")
    urls = {e["request"]["url"].split("://")[0] for e in tls["log"]["entries"]}
    assert urls == {"https"}
    assert all("cwmp" in e["request"].get("postData", {}).get("text", "cwmp") for e in tls["log"]["entries"])


@pytest.mark.parametrize(("capture", "keys"), [
    ("cwmp_loopback.pcap", None), ("omadm_loopback.pcap", None),
    ("tls_omadm_loopback.pcap", "tls_omadm_loopback.keys"),
])
def test_dmsniff_reads_its_har_back_to_the_same_sessions(capture: str, keys: str | None,
                                                         tmp_path: Path) -> None:
    opts = ["--keylog", str(CAPTURES / keys)] if keys else []
    har = tmp_path / "back.har"
    assert main(["report", "-q", "--format", "har", "-o", str(har), *opts, str(CAPTURES / capture)]) == 0
    original = _sessions(CAPTURES / capture, *opts)
    # (A HAR holds HTTP only: the Package #0 notifications sent on UDP are not in it.)
    assert original and _sessions(har) == original


def test_with_minus_y_the_har_holds_the_kept_sessions_exchanges_a_page_each(tmp_path: Path) -> None:
    doc = _har(["-Y", "rpc:Reboot", str(CAPTURES / "cwmp_loopback.pcap")], tmp_path)
    assert [e["_dmsniff"]["transaction"] for e in doc["log"]["entries"]] == [
        "C42.1", "C52.1", "C52.2", "C52.3", "C52.4"]  # S55 and the connection request that caused it
    [page] = doc["log"]["pages"]
    assert page["id"] == "S55" and page["title"].startswith("S55 cwmp 00D09E-HGW-SN0042: Inform(6 CONNECTION")
    assert {"startedDateTime", "id", "title", "pageTimings"} <= set(page)
    assert {e["pageref"] for e in doc["log"]["entries"]} == {"S55"}
    both = _har(["-Y", "proto:cwmp", str(CAPTURES / "cwmp_loopback.pcap"),
                 str(CAPTURES / "omadm_loopback.pcap")], tmp_path, "both.har")["log"]
    assert [p["id"] for p in both["pages"]] == ["S4", "S55", "S84"]
    assert all(e["pageref"] in ("S4", "S55", "S84") for e in both["entries"]) and len(both["entries"]) == 13


def test_playwright_replays_every_response_from_the_har(browser: Any, tmp_path: Path) -> None:
    """A page at the capture's origin sends each request again; Playwright answers from our HAR."""
    har = tmp_path / "replay.har"
    assert main(["report", "-q", "--format", "har", "-o", str(har),
                 str(CAPTURES / "http_loopback.pcap")]) == 0
    entries = json.loads(har.read_text())["log"]["entries"]
    page = browser.new_page()
    try:
        page.route_from_har(str(har), not_found="abort")
        page.route("http://127.0.0.1:7547/__blank", lambda route: route.fulfill(
            status=200, body="<html></html>", content_type="text/html"))
        page.goto("http://127.0.0.1:7547/__blank")
        seen: set[tuple[str, str]] = set()
        checked = 0
        for e in entries:
            req = e["request"]
            if not req["url"].startswith("http://127.0.0.1:7547/"):
                continue  # (the connection request went to another port: another origin)
            body = req.get("postData", {}).get("text")
            key = (req["method"], req["url"])
            if key in seen and not body:
                # Playwright picks among the entries of one URL and method by their body, and for a
                # request without one by its headers: the CWMP session's empty POST then looks like
                # its Inform (same URL, same headers a page may send).
                continue
            seen.add(key)
            status, text = page.evaluate(
                """async ([url, method, body, headers]) => {
                       const h = new Headers();
                       for (const [n, v] of headers) { try { h.append(n, v); } catch (e) {} }
                       const r = await fetch(url, {method, body, headers: h});
                       return [r.status, await r.text()];
                   }""",
                [req["url"], req["method"], body, [[h["name"], h["value"]] for h in req["headers"]]])
            assert status == e["response"]["status"], req["url"]
            assert text == e["response"]["content"].get("text", ""), req["url"]
            checked += 1
        assert checked == 7  # the gzip'd answer too, served decoded with its Content-Encoding header
    finally:
        page.close()


def test_export_as_har_writes_one_session_with_its_connection_request(tmp_path: Path) -> None:
    out = tmp_path / "s55.har"
    assert main(["export", "S55", str(CAPTURES / "cwmp_loopback.pcap"), "--as", "har", "-o", str(out)]) == 0
    entries = json.loads(out.read_text())["log"]["entries"]
    whole = _har(["-Y", "session:S55", str(CAPTURES / "cwmp_loopback.pcap")], tmp_path)["log"]["entries"]
    assert entries == whole and entries[0]["_dmsniff"]["transaction"] == "C42.1"
    assert [p["id"] for p in json.loads(out.read_text())["log"]["pages"]] == ["S55"]
    assert "<cwmp:Reboot>" in entries[3]["response"]["content"]["text"]  # the ACS asks; then Fault 9001


# -- the writer against dmsniff's HAR reader, on made-up exchanges --------------------------------

_TOKEN = st.text(alphabet=string.ascii_letters + string.digits + "-", min_size=1, max_size=12)
_PATH = st.text(alphabet=string.ascii_letters + string.digits + "/-._~%!$&'()*+,;=:@?", max_size=40)
_VALUE = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=0x2FF, exclude_characters="\x7f"),
                 max_size=30)


TLS_INFO = TlsInfo(version=0x0303, cipher_suite=0xC02F, sni=None, alpn=None, client_random=None, resumed=None,
                   decrypting=True, key_source="test", client_direction=0)


@st.composite
def _exchange(draw: st.DrawFn) -> Transaction:
    v6 = draw(st.booleans())
    server = ("[2001:db8::2]:7547" if v6
              else f"192.0.2.{draw(st.integers(1, 254))}:{draw(st.integers(1, 65535))}")
    host = draw(st.one_of(st.none(), st.just("acs.example.net"), st.just("acs.example.net:8443"),
                          st.just("[2001:db8::2]:7547"), st.just(""), st.just("a[b"), st.just("[::1"),
                          _VALUE))
    headers = [(draw(_TOKEN), draw(_VALUE)) for _ in range(draw(st.integers(0, 3)))]
    headers = [(n, v) for n, v in headers if n.lower() not in ("host", "content-encoding")]
    if host is not None:
        headers.insert(0, ("Host", host))
    body = draw(st.one_of(st.binary(max_size=64), st.text(max_size=64).map(lambda t: t.encode())))
    path = draw(st.one_of(_PATH.map(lambda p: "/" + p), st.just("http://[::1/x"), st.just("*"),
                          st.just("http://proxy.example/acs?x=1")))
    req = HttpMessage(frame=3, frames=[2, 3], time=10.25, first_time=10.0, version="HTTP/1.1",
                      headers=headers, method=draw(_TOKEN).upper(), uri=path, body=body,
                      body_length=len(body))
    resp = None
    if draw(st.booleans()):
        rbody = draw(st.binary(max_size=64))
        resp = HttpMessage(frame=5, frames=[5], time=10.5, first_time=10.5, version="HTTP/1.1",
                           headers=[("Content-Type", "application/octet-stream")],
                           status=draw(st.integers(100, 599)), reason=draw(_VALUE).strip(), body=rbody,
                           body_length=len(rbody))
    return Transaction("C2.1", 0, "C2", "192.0.2.9:40000", server, req, resp)


@settings(max_examples=300, deadline=None)
@given(_exchange(), st.booleans())
def test_dmsniffs_har_reader_reads_each_entry_back(tx: Transaction, tls: bool) -> None:
    from dmsniff.capture import CaptureInfo
    from dmsniff.logs import har as har_reader

    if tls:
        tx.tls = TLS_INFO
    out = io.StringIO()
    assert write_har(out, [tx]) == 1
    doc = json.loads(out.getvalue())  # valid JSON whatever the bytes and text
    url = doc["log"]["entries"][0]["request"]["url"]
    assert url == tx.request.uri if tx.request.uri == "http://proxy.example/acs?x=1" else url.startswith(
        "https://" if tls else "http://")  # (an absolute-form target is the URL as sent)
    errors: list[str] = []
    info = CaptureInfo(path="x.har", format="har", compressed=False)
    got = list(har_reader.parse(out.getvalue().encode(), errors, info))
    assert errors == []
    req, resp = tx.request, tx.response
    assert req is not None
    back = got[0]
    assert (back.method, back.body) == (req.method, req.body) and back.connection == "C2"
    assert back.time == pytest.approx(req.time)  # sent whole: startedDateTime + timings.send
    if req.uri is not None and req.uri.startswith("/"):  # (a target in absolute form names the server itself)
        assert back.uri == req.uri and back.server == tx.server
    assert [(n, v) for n, v in back.headers] == req.headers
    if resp is None:
        assert len(got) == 1 and "no response" in back.problems[0]
    else:
        assert len(got) == 2
        assert (got[1].status, got[1].reason, got[1].body) == (resp.status, resp.reason, resp.body)
        # Its first byte wait (timings.wait) after the request, complete at the entry's end: the
        # times, and so the exchange's wait, come back as they were.
        assert got[1].first_time == pytest.approx(resp.first_time)
        assert got[1].time == pytest.approx(resp.time)
