"""The sequence chart: SVG labels equal the TUI timeline's, Mermaid parses (mermaid-cli, the real
parser, driving the system chromium) and names every message in order, PlantUML has them too."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from dmsniff.report import msc
from dmsniff.sessions.model import Session, SessionMessage
from dmsniff.tui import views
from tests.dmsniff.report.conftest import Collect

SVG = "{http://www.w3.org/2000/svg}"
CHROMIUM = "/usr/bin/chromium"
# Where .ci/run installs @mermaid-js/mermaid-cli from the npm registry (or set DMSNIFF_MMDC).
MMDC_HOME = Path.home() / ".cache" / "dmsniff-node" / "node_modules" / ".bin" / "mmdc"
_TUI_LABEL = re.compile(r"(?:◀─|─) (.+?) ─+▶? ")


def tui_labels(s: Session, tls: set[str]) -> list[str]:
    """The labels of the TUI's timeline lines, drawn wide enough that none is shortened."""
    marks = views.finding_frames(s)
    out = []
    for st in views.steps(s):
        conn = views.connection_of(views.step_transaction(st))
        line = views.step_line(s, st, 400, marks, conn in tls).plain
        m = _TUI_LABEL.search(line)
        assert m is not None, line
        out.append(m.group(1))
    return out


def test_svg_is_well_formed_and_its_labels_are_the_timeline_s(our_sessions: Collect) -> None:
    assert len(our_sessions.sessions) >= 17
    for s in our_sessions.sessions:
        chart = msc.chart(s, our_sessions.tls)
        root = ET.fromstring(msc.svg(chart).encode())  # raises on anything not well-formed
        assert root.tag == f"{SVG}svg"
        arrows = root.findall(f".//{SVG}g[@class]")
        arrows = [g for g in arrows if g.get("class", "").startswith("arrow ")]
        labels = [g.find(f"{SVG}text[@class='label']").text for g in arrows]  # type: ignore[union-attr]
        assert labels == tui_labels(s, our_sessions.tls), s.id
        assert [int(g.get("data-step", "-1")) for g in arrows] == list(range(len(arrows)))
        frames = [int(g.get("data-frame", "0")) for g in arrows]
        assert frames == [msc.step_frame(st) for st in msc.steps(s)]


def test_connection_request_lane_marks_and_tls(our_sessions: Collect) -> None:
    by_id = {s.id: s for s in our_sessions.sessions}
    s55 = msc.chart(by_id["S55"])
    assert [lane.key for lane in s55.lanes] == ["device", "server", "wakeup"]
    assert s55.lanes[2].title == "connection request"
    first = s55.arrows[0]
    assert (first.source, first.target, first.style) == ("wakeup", "device", "wakeup")
    assert first.label == "HTTP connection request → 200"
    fault = next(a for a in s55.arrows if a.label == "Fault 9001")
    assert fault.finding == "warning" and fault.marks == " !" and fault.source == "device"
    d5 = msc.chart(by_id["D1-5"] if "D1-5" in by_id else by_id["D5"])
    assert d5.lanes[2].title == "notification"
    assert d5.arrows[0].label.startswith("#0 Notification") and d5.arrows[0].source == "wakeup"
    assert any(a.auth == "✗" for a in d5.arrows) and any(a.auth == "✓" for a in d5.arrows)
    assert any("401 Chal" in a.label for a in d5.arrows)  # a SyncML challenge: in the body, HTTP 200
    tls_chart = msc.chart(by_id["S10"], our_sessions.tls)
    assert all(a.tls for a in tls_chart.arrows) and " 🔒" in tls_chart.arrows[0].marks


def _message_lines(text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines()
            if re.match(r"\s+[DSW](->>|-->>|-\)|--x)[DSW]: ", line)]


def _unescape_mermaid(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


def test_mermaid_names_every_message_in_order(our_sessions: Collect) -> None:
    for s in our_sessions.sessions:
        chart = msc.chart(s, our_sessions.tls)
        text = msc.mermaid(chart)
        assert text.startswith("sequenceDiagram\n")
        shown = [_unescape_mermaid(t) for t in _message_lines(text)]
        want = [f"{a.offset:+.3f}s {a.label}{a.marks}" for a in chart.arrows]
        assert shown == want, s.id
        # ; would end the statement and # start an entity: both only appear as entity codes
        assert all(";" not in re.sub(r"#\d+;", "", t) for t in _message_lines(text))


def test_mermaid_and_plantuml_escape_what_their_grammars_use() -> None:
    s = Session("S1", "cwmp", 0, "10.0.0.1:1", "10.0.0.2:2", 0.0, 1.0, device_id="a;b#c<d>")
    s.messages.append(SessionMessage(1, 0.0, "to_server", "X;Y#1 <b>**bold** --x", "C1.1", "POST /", None, 0))
    chart = msc.chart(s)
    text = msc.mermaid(chart)
    body = text.split("\n", 2)[2]
    assert ";" not in re.sub(r"#\d+;", "", body)
    assert "<b>" not in text and "#" not in re.sub(r"#\d+;", "", body)
    assert _unescape_mermaid(_message_lines(text)[0]) == "+0.000s X;Y#1 <b>**bold** --x"
    puml = msc.plantuml(chart)
    assert "~*~*bold~*~*" in puml and "~-~-x" in puml
    assert puml.startswith("@startuml\n") and puml.endswith("@enduml\n")


def test_plantuml_names_every_message_in_order(our_sessions: Collect) -> None:
    for s in our_sessions.sessions:
        chart = msc.chart(s, our_sessions.tls)
        lines = [ln for ln in msc.plantuml(chart).splitlines() if re.match(r"[DSW] -+\[#", ln)]
        assert len(lines) == len(chart.arrows)
        for line, a in zip(lines, chart.arrows, strict=True):
            text = re.sub(r"~(.)", r"\1", line.split(" : ", 1)[1])
            assert text == f"{a.offset:+.3f}s {a.label}{a.marks}"


def _mmdc() -> str | None:
    for candidate in (os.environ.get("DMSNIFF_MMDC"), shutil.which("mmdc"), str(MMDC_HOME)):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def test_mermaid_cli_parses_and_renders_every_session(our_sessions: Collect, tmp_path: Path) -> None:
    mmdc = _mmdc()
    if mmdc is None or not Path(CHROMIUM).exists():
        pytest.skip("needs @mermaid-js/mermaid-cli (npm; .ci/run installs it to ~/.cache/dmsniff-node) and "
                    "/usr/bin/chromium")
    config = tmp_path / "puppeteer.json"
    config.write_text(json.dumps({"executablePath": CHROMIUM, "args": [
        "--no-sandbox", "--headless", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}"]}))
    charts = [msc.chart(s, our_sessions.tls) for s in our_sessions.sessions]
    # One markdown file with every diagram: mermaid-cli renders each block to its own SVG in one run.
    doc = tmp_path / "all.md"
    doc.write_text("".join(f"```mermaid\n{msc.mermaid(c)}```\n\n" for c in charts), encoding="utf-8")
    res = subprocess.run([mmdc, "-p", str(config), "-i", str(doc), "-o", str(tmp_path / "out.md")],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
    for i, c in enumerate(charts, start=1):
        svg = (tmp_path / f"out-{i}.svg").read_text(encoding="utf-8")
        root = ET.fromstring(svg)
        texts = [html.unescape("".join(t.itertext())) for t in root.iter(f"{SVG}text")
                 if "messageText" in t.get("class", "")]
        assert texts == [f"{a.offset:+.3f}s {a.label}{a.marks}" for a in c.arrows], c.session


def test_plantuml_checks_every_session(our_sessions: Collect, tmp_path: Path) -> None:
    """PlantUML's own syntax check, where it is installed (apt-get install plantuml: Java, so not in CI)."""
    plantuml = shutil.which("plantuml")
    if plantuml is None:
        pytest.skip("plantuml is not installed (apt-get install plantuml); the structure is checked above")
    files = []
    for i, s in enumerate(our_sessions.sessions):
        path = tmp_path / f"s{i}.puml"
        path.write_text(msc.plantuml(msc.chart(s, our_sessions.tls)), encoding="utf-8")
        files.append(str(path))
    res = subprocess.run([plantuml, "-checkonly", "-failfast2", *files], capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stdout + res.stderr
