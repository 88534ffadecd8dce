"""The HTML report opened in a real headless browser: Debian's chromium, driven by Playwright (from
PyPI; its own browser download is never used).

Every page is checked for console errors and for requests that leave the file (there must be
none: the page is for mail attachments and closed networks), and leaves a screenshot in
``build/test-artifacts/html/`` (or ``$DMSNIFF_ARTIFACTS``) to be looked at.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from dmsniff.capture import open_capture
from dmsniff.chain import addon_chain
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Pipeline
from dmsniff.report.html import HtmlReport
from dmsniff.sessions.filter import SessionTls, compile_filter
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, ROOT
from tests.dmsniff.report.conftest import ARTIFACTS, SECRETS, Collect

SHOTS = ARTIFACTS / "html"


class Page:
    """A page of the report with what it logged and asked for."""

    def __init__(self, context: Any, path: Path) -> None:
        self.errors: list[str] = []
        self.requests: list[str] = []
        self.page = page = context.new_page()
        page.on("console", lambda m: self.errors.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))

        def request(route: Any) -> None:
            url = route.request.url
            if url.startswith(("file:", "data:", "blob:")):
                route.continue_()
            else:
                self.requests.append(url)
                route.abort()

        page.route("**/*", request)
        page.goto(path.as_uri(), wait_until="load")

    def go(self, hash_: str) -> None:
        self.page.evaluate(f"location.hash = {hash_!r}")
        self.page.wait_for_timeout(150)

    def shot(self, name: str) -> Path:
        SHOTS.mkdir(parents=True, exist_ok=True)
        out = SHOTS / f"{name}.png"
        self.page.screenshot(path=str(out))
        return out

    def clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.requests == [], f"the page asked the network for {self.requests}"
        self.page.close()


def build(tmp: Path, *captures: str, keylog: str | None = None,
          single: str | None = None) -> tuple[Path, Collect]:
    """The report of our captures, written by the same addon as ``dmsniff report --format html``,
    and the sessions the same run found."""
    keys = TlsKeySpec()
    if keylog is not None:
        key = CAPTURES / keylog
        keys = TlsKeySpec(((key.name, key.read_bytes()),))
    collect = Collect()
    out = tmp / ("page-" + "-".join(Path(c).stem for c in captures) + ".html")
    with out.open("w", encoding="utf-8") as fh:
        report = HtmlReport(fh, single=single)
        Pipeline(addon_chain(Verifier(SECRETS), last=[collect, report]), tls_keys=keys).run_files(
            [str(CAPTURES / c) for c in captures])
    return out, collect


@pytest.fixture(scope="module")
def ours(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Collect]:
    return build(tmp_path_factory.mktemp("pages"), "cwmp_loopback.pcap", "omadm_loopback.pcap")


def test_overview_sessions_and_a_clicked_arrow(browser: Any, ours: tuple[Path, Collect]) -> None:
    path, collect = ours
    p = Page(browser, path)
    page = p.page
    assert page.locator(".card b").first.inner_text() == "6"
    assert page.locator("#overview svg.chart").count() == 5
    p.shot("overview")
    p.go("#sessions")
    rows = page.locator("#sessions-table .vrow")
    shown = [rows.nth(i).get_attribute("data-id") for i in range(rows.count())]
    assert shown == [s.id for s in collect.sessions]
    assert page.locator("#count").inner_text() == "6 of 6 sessions"
    p.shot("sessions")
    page.locator('#sessions-table .vrow[data-id="S55"]').click()
    page.wait_for_selector("#session svg.msc .arrow")
    arrows = page.locator("#session svg.msc .arrow")
    labels = [arrows.nth(i).locator("text.label").text_content() for i in range(arrows.count())]
    assert labels[0] == "HTTP connection request → 200" and "Fault 9001" in labels
    arrows.nth(labels.index("Fault 9001")).click()
    detail = page.locator("#msg-detail")
    assert "Fault 9001" in detail.inner_text() and "Request denied" in detail.inner_text()
    p.shot("session-S55-decoded")
    page.locator("#tab-xml").click()
    assert "<FaultCode>9001</FaultCode>" in detail.inner_text()
    page.locator("#tab-http").click()
    assert detail.inner_text().splitlines()[1].startswith("POST /acs HTTP/1.1")
    page.locator("#tab-frames").click()
    assert "completed in frame 71" in detail.inner_text()
    page.locator("#tab-findings").click()
    assert "cwmp.cpe-fault" in detail.inner_text()
    page.locator("#msg-detail a.link").first.click()  # the finding's link selects its arrow
    selected = page.locator("#session svg.msc .arrow.selected")
    assert selected.count() == 1 and selected.get_attribute("data-frame") in ("69", "71")
    p.go("#session/D1-5")
    page.wait_for_selector("#session svg.msc .arrow")
    page.locator("#tab-auth").click()
    assert "syncml-md5" in detail.inner_text() and "invalid" in detail.inner_text()
    p.shot("session-D1-5-auth")
    for view in ("verification", "findings"):
        p.go("#" + view)
        assert page.locator(f"#{view}").is_visible()
        p.shot(view)
    assert "omadm.pkg1-session-id-mismatch" in page.locator("#findings").inner_text()
    p.clean()


FILTERS = (
    "", "proto:cwmp", "proto:dm", "fault:9001", "fault:", "fault:90*", "rpc:Get*", "rpc:Inform",
    "cmd:Replace", "kind:notification", "status:401", "status:4xx", "status:204", "auth:invalid",
    "auth:valid", "auth:none", "auth:any", "auth:no-secret", "finding:", "finding:error", "finding:warning",
    "finding:omadm.status",
    "session:S55", "id:1A2B", "end:204", "end:completed", "end:auth-failed", "event:boot",
    'event:"6 CONNECTION"', "event:", "pkg:0", "pkg:3", "device:00D09E", "device:imei", "server:dmsniff",
    "server:41727", "127.0.0.1", "transfer", "not proto:cwmp", "!auth:valid", "Download",
    "proto:cwmp (fault:9001 or rpc:Reboot) !auth:valid", "rpc:Reboot | pkg:0", "(proto:dm and auth:invalid)",
    "mismatch", '"#2 401"', "tls:no", "tls:", "tls:1.3",
)


def test_the_page_filter_is_the_tui_filter(browser: Any, ours: tuple[Path, Collect]) -> None:
    path, collect = ours
    p = Page(browser, path)
    page = p.page
    p.go("#sessions")
    plain = lambda s: None  # noqa: E731 - these captures ran over no TLS
    for text in FILTERS:
        want = [s.id for s in collect.sessions if compile_filter(text, tls=plain)(s)]
        assert page.evaluate("t => window.dmsniff.applyFilter(t)", text), text
        assert page.evaluate("window.dmsniff.rows()") == want, text
    # typed as a person would: the table narrows to the one session
    page.fill("#filter", "fault:9001 proto:cwmp")
    page.press("#filter", "Enter")
    page.wait_for_timeout(100)
    assert page.locator("#sessions-table .vrow").count() == 1
    assert page.locator("#count").inner_text() == "1 of 6 sessions"
    p.shot("sessions-filtered")
    page.fill("#filter", "colour:red")
    page.press("#filter", "Enter")
    assert "filter error at column 1: unknown field 'colour'" in page.locator("#filter-error").inner_text()
    page.fill("#filter", "(" * 5000 + "x")  # as the TUI: an error past 64 levels, no stack overflow
    page.press("#filter", "Enter")
    assert "filter error at column 65: nested too deep" in page.locator("#filter-error").inner_text()
    page.fill("#filter", "")
    page.press("#filter", "Enter")
    page.fill("#search", "imei")
    page.wait_for_timeout(100)
    assert page.locator("#sessions-table .vrow").count() == 3
    page.locator('#sessions-head span[data-sort="msgs"]').click()
    ids = [page.locator("#sessions-table .vrow").nth(i).get_attribute("data-id") for i in range(3)]
    assert ids == ["D1-22", "D1-35", "D1-5"]  # 5, 5, 9 messages
    p.clean()


def test_devices(browser: Any, ours: tuple[Path, Collect]) -> None:
    path, _collect = ours
    p = Page(browser, path)
    page = p.page
    p.go("#devices")
    assert page.locator("#device-count").inner_text() == "2 of 2 devices"
    page.fill("#device-filter", "proto:dm")
    page.press("#device-filter", "Enter")
    assert page.locator("#device-count").inner_text() == "1 of 2 devices"
    p.shot("devices")
    page.locator("#device-list a").first.click()
    page.wait_for_selector("#device .tree")
    text = page.locator("#device").inner_text()
    assert "Management tree" in text and "DevInfo" in text and "Changes the device accepted" in text
    p.shot("device-omadm")
    p.go("#device/00D09E-HGW-SN0042")
    page.wait_for_selector("#device svg.spark")  # PeriodicInformInterval went 86400 → 300
    assert "Parameter history" in page.locator("#device").inner_text()
    p.shot("device-cwmp")
    p.clean()


def test_a_session_over_tls_and_the_single_session_page(browser: Any,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    tmp = tmp_path_factory.mktemp("tls")
    path, collect = build(tmp, "tls13_loopback.pcap", keylog="tls13_loopback.keys")
    p = Page(browser, path)
    page = p.page
    p.go("#sessions")
    tls = lambda s: SessionTls(frozenset({"TLS 1.3"}), False, False)  # noqa: E731 - every session of it
    for text in ("tls:", "tls:1.3", "tls:decrypted", "tls:no", "tls:1.2", "tls:encrypted"):
        want = [s.id for s in collect.sessions if compile_filter(text, tls=tls)(s)]
        assert page.evaluate("t => window.dmsniff.applyFilter(t)", text)
        assert page.evaluate("window.dmsniff.rows()") == want, text
    first = collect.sessions[0].id
    p.go(f"#session/{first}")
    page.wait_for_selector("#session svg.msc .arrow")
    assert "🔒" in (page.locator("#session svg.msc .arrow").first.text_content() or "")
    assert "TLS 1.3" in page.locator("#session").inner_text()
    page.locator("#session svg.msc .arrow").nth(1).click()
    page.locator("#tab-http").click()
    assert "decrypted from TLS 1.3" in page.locator("#msg-detail").inner_text()
    p.shot("session-tls")
    p.clean()
    single, _ = build(tmp, "cwmp_loopback.pcap", single="S84")
    p = Page(browser, single)
    p.page.wait_for_selector("#session svg.msc .arrow")
    assert p.page.url.endswith("#session/S84")
    assert "UDP connection request" in (p.page.locator("#session svg.msc").text_content() or "")
    p.shot("single-session")
    p.clean()


def test_ten_thousand_sessions(browser: Any, tmp_path_factory: pytest.TempPathFactory,
                               record_property: Any) -> None:
    """10,000 sessions: the page paints in ≤ 2 s, lists them all, scrolls and filters at once."""
    sys.path.insert(0, str(ROOT))
    from benchmarks.bench_tui import generate

    tmp = tmp_path_factory.mktemp("big")
    pcap = tmp / "10k.pcap"
    generate(pcap, 10_000)
    out = tmp / "10k.html"
    t0 = time.perf_counter()
    with out.open("w", encoding="utf-8") as fh, open_capture(str(pcap)) as cap:
        report = HtmlReport(fh)
        pipeline = Pipeline(addon_chain(Verifier(SECRETS), last=[report]))
        pipeline.run_frames(cap, cap.info)
        pipeline.finish()
    built = time.perf_counter() - t0
    size = out.stat().st_size
    record_property("html_10k", report.summary)
    print(f"\n10,000 sessions: {report.summary}; capture read and page written in {built:.1f} s")
    p = Page(browser, out)
    page = p.page
    paint = page.evaluate("""() => {
        const e = performance.getEntriesByName("first-contentful-paint")[0];
        return e ? e.startTime : null; }""")
    print(f"first contentful paint {paint:.0f} ms, {size / 1048576:.1f} MiB")
    record_property("first_paint_ms", paint)
    assert paint is not None and paint <= 2000, paint
    assert page.locator(".card b").first.inner_text() == "10,000"
    p.go("#sessions")
    assert page.locator("#count").inner_text() == "10,000 of 10,000 sessions"
    assert page.locator("#sessions-table .vrow").count() < 100  # only the rows in view exist
    started = time.perf_counter()
    page.evaluate("document.getElementById('sessions-table').scrollTop = 1e9")
    page.wait_for_timeout(50)
    last = page.locator("#sessions-table .vrow").last.get_attribute("data-id")
    assert last is not None
    assert page.evaluate("t => window.dmsniff.applyFilter(t)", "device:00BEEF-Gen-9999")
    assert page.evaluate("window.dmsniff.rows().length") == 1
    took = time.perf_counter() - started
    assert took < 2, took
    p.shot("sessions-10k")
    page.locator("#sessions-table .vrow").first.click()
    page.wait_for_selector("#session svg.msc .arrow")
    p.shot("session-10k")
    p.clean()
    if os.environ.get("DMSNIFF_KEEP_10K"):
        (ARTIFACTS / "10k.html").write_bytes(out.read_bytes())
    assert size / 10_000 < 16 << 10  # bounded per session (these are small sessions: far less)


