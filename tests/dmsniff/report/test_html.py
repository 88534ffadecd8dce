"""The HTML report as a file: self-contained (its own CSP allows nothing from outside), its details
unpack to what the TUI shows, secrets masked, its size per session bounded; and the CLI commands."""

from __future__ import annotations

import base64
import gzip
import hashlib
import html
import io
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from dmsniff.model import HttpMessage
from dmsniff.report import html as report_html
from dmsniff.report import msc
from tests.conftest import CAPTURES, ROOT
from tests.dmsniff.report.conftest import Collect

CWMP = str(CAPTURES / "cwmp_loopback.pcap")
OMADM = str(CAPTURES / "omadm_loopback.pcap")


def dmsniff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dmsniff", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def blobs(page: str) -> dict[str, Any]:
    """Every session's and device's detail, unpacked as the page's script does."""
    out = {}
    for kind, ident, data in re.findall(
            r'<script type="application/gzip\+json" id="([sd]):([^"]*)">([^<]*)</script>', page):
        out[f"{kind}:{ident}"] = json.loads(gzip.decompress(base64.b64decode(data)))
    return out


def index(page: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="dm-index">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    out = tmp_path_factory.mktemp("html") / "report.html"
    res = dmsniff("report", "--format", "html", "-o", str(out), "--secret", "dmuser:dmpass",
                  "--secret", "cruser:crpass", CWMP, OMADM)
    assert res.returncode == 0, res.stderr
    assert re.search(r"HTML report: 6 sessions, 2 devices, [\d.]+ KiB, [\d.]+ KiB per session", res.stderr)
    return out.read_text(encoding="utf-8")


def test_the_page_allows_nothing_from_outside(page: str) -> None:
    csp = re.search(r'<meta http-equiv="Content-Security-Policy" content="([^"]+)">', page)
    assert csp is not None
    policy = dict(p.strip().split(" ", 1) for p in html.unescape(csp.group(1)).split(";"))
    assert policy["default-src"] == "'none'" and policy["img-src"] == "data:"
    # the one script and the one style are allowed by their hashes, nothing else is
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    styles = re.findall(r"<style>(.*?)</style>", page, re.S)
    assert len(scripts) == 1 and len(styles) == 1
    for text, directive in ((scripts[0], "script-src"), (styles[0], "style-src")):
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        assert policy[directive] == f"'sha256-{digest}'"
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in styles[0]
    assert 'style="' not in page  # inline style attributes would be refused by the policy


def test_index_and_details_are_the_sessions(page: str, our_sessions: Collect) -> None:
    idx = index(page)
    assert [r["id"] for r in idx["sessions"]] == ["S4", "S55", "S84", "D1-5", "D1-22", "D1-35"]
    details = blobs(page)
    assert {k for k in details if k.startswith("d:")} == {"d:00D09E-HGW-SN0042", "d:IMEI:493005100592800"}
    by_id = {s.id: s for s in our_sessions.sessions}
    s55 = details["s:S55"]
    chart = msc.chart(by_id["S55"])
    assert [st["label"] for st in s55["steps"]] == [a.label for a in chart.arrows]
    fault = next(st for st in s55["steps"] if st["label"] == "Fault 9001")
    assert "<FaultCode>9001</FaultCode>" in fault["xml"] and fault["http"].startswith("POST /acs HTTP/1.1")
    assert fault["frames"].startswith("completed in frame 71")
    assert s55["findings"][0]["code"] == "cwmp.cpe-fault" and s55["findings"][0]["steps"]
    assert 'data-step="0"' in s55["svg"] and "HTTP connection request → 200" in s55["svg"]
    assert s55["mermaid"].startswith("sequenceDiagram") and s55["plantuml"].startswith("@startuml")
    d5 = details["s:D1-5"]
    assert any(st["decoded"].get("commands") for st in d5["steps"])
    assert any("<SyncML" in st.get("xml", "") for st in d5["steps"])  # WBXML shown as XML
    device = details["d:00D09E-HGW-SN0042"]
    interval = next(p for p in device["params"] if p["name"].endswith("PeriodicInformInterval"))
    assert interval["numeric"] and [v[1] for v in interval["values"]][:2] == ["86400", "300"]
    dm = details["d:IMEI:493005100592800"]
    assert dm["tree"] and dm["changes"]


def test_secrets_are_masked_unless_asked_for(page: str, tmp_path: Path) -> None:
    # omadm_loopback.pcap's first client message carries syncml:auth-basic, base64 of dmuser:<password>
    basic = base64.b64encode(b"dmuser:wrongpass").decode()
    raw = (CAPTURES / "omadm_loopback.pcap").read_bytes()
    creds = set(re.findall(rb"<Cred>.*?<Data>([^<]+)</Data>", raw, re.S))
    assert creds, "the capture's XML messages carry Cred data"
    text = json.dumps(blobs(page), ensure_ascii=False) + page
    assert report_html.MASK in text
    assert basic not in text
    out = tmp_path / "shown.html"
    res = dmsniff("report", "--format", "html", "--show-secrets", "-o", str(out), OMADM)
    assert res.returncode == 0, res.stderr
    shown = json.dumps(blobs(out.read_text(encoding="utf-8")), ensure_ascii=False)
    assert any(c.decode() in shown for c in creds)


def test_masking_rules() -> None:
    assert report_html.secret_name("InternetGatewayDevice.ManagementServer.ConnectionRequestPassword")
    assert report_html.secret_name("./DMAcc/x/AppAuth/1/AAuthSecret")
    assert report_html.secret_name("Device.WiFi.AccessPoint.1.Security.KeyPassphrase")
    assert not report_html.secret_name("Device.ManagementServer.Username")
    assert report_html.mask_header("Authorization", "Basic ZG06cHc=").startswith("Basic ••")
    assert report_html.mask_header("Authorization", 'Digest username="a"') == 'Digest username="a"'
    xml = ("<ParameterValueStruct><Name>X.ConnectionRequestPassword</Name>"
           "<Value xsi:type=\"xsd:string\">s3cret</Value></ParameterValueStruct>"
           "<Cred><Meta><Type>syncml:auth-basic</Type></Meta><Data>ZG06cHc=</Data></Cred>"
           "<Item><Target><LocURI>./DMAcc/a/AppAuth/1/AAuthSecret</LocURI></Target><Data>pw</Data></Item>")
    masked = report_html.mask_xml(xml)
    assert "s3cret" not in masked and "ZG06cHc=" not in masked and ">pw<" not in masked
    rec = {"parameters": [{"name": "A.Password", "value": "x"}, {"name": "A.User", "value": "u"}]}
    assert report_html._cap(rec, True) == {"parameters": [{"name": "A.Password", "value": report_html.MASK},
                                                          {"name": "A.User", "value": "u"}]}
    msg = HttpMessage(frame=1, frames=[1], time=0.0, first_time=0.0, method="POST", uri="/",
                      version="HTTP/1.1", headers=[("Authorization", "Basic ZG06cHc=")], body=b"")
    assert "ZG06cHc=" not in report_html.http_detail(msg, None, False)["http"]
    assert "ZG06cHc=" in report_html.http_detail(msg, None, True)["http"]


def test_a_session_without_a_device_is_drawn(tmp_path: Path) -> None:
    """A SyncML message without SyncHdr names no device: the page is still written (its timeline
    said 'internal error' and the file was empty, found by fuzzing)."""
    from tests.builders import Conversation, request, response, write

    body = b'<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Final/></SyncBody></SyncML>'
    conv = Conversation()
    ctype = "Content-Type: application/vnd.syncml.dm+xml\r\n"
    conv.send(True, request(body=body, headers=ctype))
    conv.send(False, response(body=body, headers=ctype))
    conv.close()
    capture = write(tmp_path / "nohdr.pcap", conv.packets)
    out = tmp_path / "r.html"
    res = dmsniff("report", "--format", "html", "-o", str(out), str(capture))
    assert res.returncode == 0 and "internal error" not in res.stderr, res.stderr
    assert "(no device)" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("tag", ["Item", "Cred"])
def test_masking_unclosed_blocks_does_not_hang(tag: str) -> None:
    """60,000 unclosed Items took minutes to mask (a lazy regex scanned to the end from each open);
    the bound here only catches that hang again (it takes milliseconds)."""
    import time

    text = f"<{tag}><Data>x</Data>" * 60_000
    t0 = time.process_time()
    assert report_html.mask_xml(text) == text
    assert time.process_time() - t0 < 30


def test_masking_takes_a_block_to_its_first_close() -> None:
    cred = "<Cred><Meta><Type>syncml:auth-basic</Type></Meta><Data>pw</Data></Cred>"
    assert report_html.mask_xml("<Cred>" + cred) == "<Cred>" + cred.replace(">pw<", f">{report_html.MASK}<")
    item = "<Item><Target><LocURI>./A/Password</LocURI></Target><Data>pw</Data></Item>"
    assert report_html.mask_xml(item + "<Item>" + item) == (item + "<Item>" + item).replace(
        ">pw<", f">{report_html.MASK}<")


def test_size_per_session_is_bounded() -> None:
    """However big a session's messages, its detail is cut at the budget (and says so)."""
    from tests.dmsniff.sessions.playbook import Playbook, inform, rpc

    b = Playbook()
    b.post(inform(), answer=rpc("InformResponse"))
    big = b"<x>" + b"A" * 200_000 + b"</x>"
    for _ in range(40):
        b.post(big, answer=rpc("GetParameterValues"))
    b.post(b"", status=204)
    (s,) = b.end().sessions
    report = report_html.HtmlReport(io.StringIO())
    detail = report._session_detail(s)
    raw = len(orjson.dumps(detail))
    assert raw < report_html.SESSION_BUDGET + 64 << 10


def test_export_formats(tmp_path: Path) -> None:
    for fmt, check in (("mermaid", "sequenceDiagram\n"), ("plantuml", "@startuml\n"),
                       ("svg", '<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns=')):
        res = dmsniff("export", "S55", CWMP, "--as", fmt)
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith(check), fmt
        assert "Fault 9001" in res.stdout
    out = tmp_path / "s55.html"
    res = dmsniff("export", "S55", CWMP, "--as", "html", "-o", str(out))
    assert res.returncode == 0, res.stderr
    page = out.read_text(encoding="utf-8")
    assert 'data-single="S55"' in page and list(blobs(page)) == ["s:S55"]
    res = dmsniff("export", "S99", CWMP, "--as", "svg")
    assert res.returncode == 2 and "no session S99" in res.stderr and "S4, S55, S84" in res.stderr


def test_http_only_has_no_sessions_for_a_page(tmp_path: Path) -> None:
    res = dmsniff("report", "--format", "html", "--http-only", "-o", str(tmp_path / "x.html"), CWMP)
    assert res.returncode == 2 and "--http-only" in res.stderr
