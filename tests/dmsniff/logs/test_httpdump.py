"""Raw HTTP conversation dumps: a femtocell's recorded session, LF and CRLF, chunked, gzip, lengths
that lie, and text that is no HTTP at all."""

from __future__ import annotations

import base64
import gzip
import re
from pathlib import Path

import pytest

from dmsniff.logs import log_format
from tests.conftest import CORPUS
from tests.dmsniff.logs.helpers import kinds, report_json, run

MESSAGES = CORPUS / "cwmp" / "messages"
ACS = "acs.femto.example.net:7547"
CREDENTIALS = base64.b64encode(b"enb-0001:femto-pass").decode()

GPV = (
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><SOAP-ENV:Header><cwmp:ID SOAP-ENV:mustUnderstand="1">16781903'
    b"</cwmp:ID></SOAP-ENV:Header><SOAP-ENV:Body><cwmp:GetParameterValues><ParameterNames>"
    b"<string>Device.DeviceInfo.</string></ParameterNames></cwmp:GetParameterValues></SOAP-ENV:Body>"
    b"</SOAP-ENV:Envelope>"
)
INFORM_RESPONSE = (
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><SOAP-ENV:Header><cwmp:ID SOAP-ENV:mustUnderstand="1">CPE_1002'
    b"</cwmp:ID></SOAP-ENV:Header><SOAP-ENV:Body><cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
    b"</cwmp:InformResponse></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def _req(body: bytes, extra: str = "") -> bytes:
    head = (f"POST /cwmp HTTP/1.1\r\nHost: {ACS}\r\nUser-Agent: Cavium eNB TR-069 client\r\n"
            f"Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _resp(status: str, body: bytes = b"", extra: str = "") -> bytes:
    length = "" if status.startswith("204") else f"Content-Length: {len(body)}\r\n"
    return f"HTTP/1.1 {status}\r\nServer: acs/4.1\r\n{extra}{length}\r\n".encode() + body


def femtocell_conversation() -> bytes:
    """Inform -> 401 Basic -> Inform with credentials -> 200 + cookie -> empty -> GPV -> GPVResponse -> 204,
    with the real Cavium eNB Inform and Cisco femtocell GetParameterValuesResponse from the corpus."""
    inform = (MESSAGES / "test_parse_inform_cavium__cpe_string.xml").read_bytes()
    gpv_response = (MESSAGES / "femtocell_getvalues.txt").read_bytes()
    auth = f"Authorization: Basic {CREDENTIALS}\r\n"
    cookie = "Cookie: JSESSIONID=8F2A61C0\r\n"
    return b"\r\n".join([
        _req(inform),
        _resp("401 Unauthorized", extra='WWW-Authenticate: Basic realm="femto-acs"\r\n'),
        _req(inform, auth),
        _resp("200 OK", INFORM_RESPONSE,
              "Content-Type: text/xml\r\nSet-Cookie: JSESSIONID=8F2A61C0; Path=/cwmp\r\n"),
        _req(b"", auth + cookie),
        _resp("200 OK", GPV, "Content-Type: text/xml\r\n"),
        _req(gpv_response, auth + cookie),
        _resp("204 No Content"),
    ]) + b"\r\n"


@pytest.fixture
def femto(tmp_path: Path) -> Path:
    p = tmp_path / "femto-acs.txt"
    p.write_bytes(femtocell_conversation())
    return p


def test_recorded_conversation_is_one_session(femto: Path) -> None:
    assert log_format(str(femto)) == "http-dump"
    out = run(femto)
    [s] = out.sessions
    assert kinds(s) == ["Inform", "empty", "Inform", "InformResponse", "empty", "GetParameterValues",
                        "GetParameterValuesResponse", "empty"]
    assert s.device_id == "000FB7-Cavium eNB-10.18.104.79"
    assert s.end_reason == "204" and s.server == ACS
    assert s.id == "S1"  # the session's first message is on line 1
    gpv = next(m for m in s.messages if m.kind == "GetParameterValuesResponse")
    sent = (MESSAGES / "femtocell_getvalues.txt").read_bytes().count(b"<ParameterValueStruct>")
    assert len(gpv.record.rpc.parameters) == sent  # type: ignore[attr-defined]
    assert not [f for f in out.findings + s.findings if f.code == "cwmp.cookie-not-returned"]


def test_basic_credential_judged_with_secret(femto: Path, tmp_path: Path) -> None:
    code, doc = report_json(tmp_path, "--secret", "enb-0001:femto-pass", str(femto))
    assert code == 0
    results = {(a["identity"], a["result"]) for a in doc["auth"]}  # type: ignore[attr-defined]
    assert results == {("enb-0001", "valid")}
    [s] = doc["sessions"]  # type: ignore[misc]
    assert s["auth"]["valid"] == 3 if isinstance(s.get("auth"), dict) else True
    code, doc = report_json(tmp_path, "--secret", "enb-0001:wrong", str(femto))
    assert {a["result"] for a in doc["auth"]} == {"invalid"}  # type: ignore[attr-defined]
    # Frames and ids point at lines of the file.
    first = doc["transactions"][0]  # type: ignore[index]
    text = femto.read_bytes().split(b"\n")
    assert text[first["request"]["frame"] - 1].startswith(b"POST /cwmp")
    assert text[first["response"]["frame"] - 1].startswith(b"HTTP/1.1 401")
    cap = doc["captures"][0]  # type: ignore[index]
    assert (cap["format"], cap["frames"], cap["tcp_connections"]) == ("http-dump", "lines", 0)
    assert any("no TCP" in n for n in cap["notes"]) and any("no times" in n for n in cap["notes"])


def test_bare_lf_gives_the_same_session(tmp_path: Path) -> None:
    p = tmp_path / "femto-lf.txt"
    p.write_bytes(femtocell_conversation().replace(b"\r\n", b"\n"))
    out = run(p)
    [s] = out.sessions
    assert kinds(s) == kinds(run_conversation(tmp_path).sessions[0])
    assert all(not (m.problems) for t in out.transactions for m in (t.request, t.response) if m is not None)


@pytest.mark.parametrize("delta", [+40, -40])
def test_lying_content_length_gives_the_same_session(tmp_path: Path, delta: int) -> None:
    """Bodies re-indented on the way (a ticket, a wiki): every Content-Length over- or understates."""
    text = re.sub(rb"Content-Length: (\d\d\d+)", lambda m: b"Content-Length: %d" % (int(m.group(1)) + delta),
                  femtocell_conversation())
    p = tmp_path / "femto-edited.txt"
    p.write_bytes(text)
    out = run(p)
    [s] = out.sessions
    assert kinds(s) == kinds(run_conversation(tmp_path).sessions[0])
    inform = out.transactions[0].request
    assert inform is not None and inform.body.endswith(b"</SOAP-ENV:Envelope>")
    assert [p for p in inform.problems if "Content-Length" in p and "disagrees" in p]


def run_conversation(tmp_path: Path):  # type: ignore[no-untyped-def]
    p = tmp_path / "crlf.txt"
    p.write_bytes(femtocell_conversation())
    return run(p)


def test_no_blank_lines_between_messages(tmp_path: Path) -> None:
    p = tmp_path / "tight.txt"
    p.write_bytes(femtocell_conversation().replace(b"\r\n\r\nHTTP/1.1", b"\r\nHTTP/1.1")
                  .replace(b"\r\n\r\nPOST", b"\r\nPOST"))
    assert len(run(p).sessions) == 1


ROUTER_INFORM = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap:Header><cwmp:ID soap:mustUnderstand="1">42</cwmp:ID>'
    b"</soap:Header><soap:Body><cwmp:Inform><DeviceId><Manufacturer>Zyxel</Manufacturer><OUI>001349</OUI>"
    b"<ProductClass>P-2601HN</ProductClass><SerialNumber>S090Y18040123</SerialNumber></DeviceId><Event>"
    b"<EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey/></EventStruct></Event>"
    b"<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-12-01T10:00:00</CurrentTime><RetryCount>0</RetryCount>"
    b"<ParameterList/></cwmp:Inform></soap:Body></soap:Envelope>"
)


def chunked(body: bytes, size: int = 100, eol: bytes = b"\r\n") -> bytes:
    parts = [f"{len(body[i:i + size]):x}".encode() + eol + body[i:i + size] + eol
             for i in range(0, len(body), size)]
    return b"".join(parts) + b"0" + eol + eol


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_chunked_dump_decodes(tmp_path: Path, eol: bytes) -> None:
    """A router's messages with their headers, the Inform sent chunked (as Thomson/Technicolor CPEs do)."""
    head = (b"POST /acs HTTP/1.1\r\nHost: 192.0.2.1:7547\r\nContent-Type: text/xml\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n").replace(b"\r\n", eol)
    text = (head + chunked(ROUTER_INFORM, eol=eol) + eol
            + _resp("200 OK", INFORM_RESPONSE.replace(b"CPE_1002", b"42"), "Content-Type: text/xml\r\n")
            .replace(b"\r\n", eol) + eol
            + b"POST /acs HTTP/1.1\r\nHost: 192.0.2.1:7547\r\nContent-Length: 0\r\n\r\n".replace(b"\r\n", eol)
            + b"HTTP/1.1 204 No Content\r\n\r\n".replace(b"\r\n", eol))
    p = tmp_path / "router.http"
    p.write_bytes(text)
    out = run(p)
    [s] = out.sessions
    assert kinds(s) == ["Inform", "InformResponse", "empty", "empty"] and s.end_reason == "204"
    req = out.transactions[0].request
    assert req is not None and req.body == ROUTER_INFORM and req.complete and not req.problems


def test_gzip_body_undone(tmp_path: Path) -> None:
    body = gzip.compress(ROUTER_INFORM)
    text = (b"POST /acs HTTP/1.1\r\nHost: 192.0.2.1:7547\r\nContent-Encoding: gzip\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode() + body + b"\r\n" + _resp("204 No Content"))
    p = tmp_path / "gz.dump"
    p.write_bytes(text)
    out = run(p, input_format="http-dump")  # binary bytes in the body: named by --input-format
    [s] = out.sessions
    assert s.device_id == "001349-P-2601HN-S090Y18040123"


def test_text_that_is_no_http_is_one_error(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("these are my notes about the ACS\nnothing to see\n")
    out = run(p)
    assert out.failures and "nor a log dmsniff reads" in out.failures[0]
    assert not out.summaries


def test_garbage_between_messages_is_skipped_and_said(tmp_path: Path) -> None:
    p = tmp_path / "mixed.txt"
    p.write_bytes(b"2026-12-04 12:00:00 INFO dumping the exchange\n" + femtocell_conversation()
                  + b"--- end of dump ---\n")
    out = run(p, input_format="http-dump")
    assert len(out.sessions) == 1
    errors = out.summaries[0].info.errors
    assert errors[0].startswith("lines 1–1: not an HTTP message") and len(errors) == 1


def test_responses_glued_to_the_bodies_before_them_read_in_linear_time(tmp_path: Path) -> None:
    """A dump whose every response starts on the last line of the request body before it (no
    newline after the body): finding where each message ends scanned for a status line to the
    end of the file, once per message (4,000 messages took 33 s; found by fuzzing).  The bound
    here only catches that hang again: 6,000 messages take well under a second."""
    import time

    body = b"<x>" + b"a" * 80 + b"</x>"
    for length, answered in ((len(body), True), (999, False)):
        pair = (f"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Length: {length}\r\n\r\n".encode() + body
                + b"HTTP/1.1 204 No Content\r\n\r\n")
        p = tmp_path / "glued.http"
        p.write_bytes(pair * 6000)
        t0 = time.process_time()
        out = run(p)
        assert time.process_time() - t0 < 30
        assert len(out.transactions) == 6000
        # Where the Content-Length ends, a response may start mid-line; where it lies, the body
        # runs to the next line that starts a message (the response is then part of it).
        assert all((tx.response is not None and tx.response.status == 204) == answered
                   for tx in out.transactions)
