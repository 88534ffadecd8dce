"""``dmsniff decode``: standalone WBXML, SyncML XML, Pkg#0 and WAP Push messages, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from tests.conftest import CORPUS
from tests.decoders.notification.helpers import app_id_header, pkg0, short, wsp_push

OMADM = CORPUS / "omadm"


def dmsniff(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dmsniff", "decode", *args], input=stdin, capture_output=True, timeout=120
    )


def _tree(xml: bytes) -> list[tuple[str, str]]:
    parser = etree.XMLParser(remove_blank_text=True, resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    return [(el.tag, (el.text or "").strip()) for el in root.iter() if isinstance(el.tag, str)]


def test_wbxml_file_prints_the_same_tree_as_wbxml2xml(tmp_path: Path) -> None:
    src = OMADM / "dm11" / "testget.wbxml"
    res = dmsniff(str(src))
    assert res.returncode == 0, res.stderr
    out = tmp_path / "oracle.xml"
    subprocess.run(["wbxml2xml", "-o", str(out), str(src)], check=True, capture_output=True, timeout=60)
    assert _tree(res.stdout) == _tree(out.read_bytes())


def test_wbxml_summary_explains_codes() -> None:
    res = dmsniff("--summary", str(OMADM / "dm11" / "testget.wbxml"))
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert "SessionID 22100  MsgID 1" in text
    assert "Status 1 → SyncHdr 0 of msg 1: 212 Authentication accepted" in text
    assert "Cred syncml:auth-basic (b64) U2N0czpTYW1wbGVDbGllbnQ=" in text


def test_xml_from_stdin_summary_and_json() -> None:
    data = (OMADM / "ds" / "syncml_init.xml").read_bytes()
    res = dmsniff("-s", "-", stdin=data)
    assert res.returncode == 0, res.stderr
    assert "Cred syncml:auth-md5 (b64) pi7qlvm20/3ssN2yQm2xAg==" in res.stdout.decode()
    res = dmsniff("--json", "-", stdin=data)
    doc = json.loads(res.stdout)
    assert doc["header"]["source_name"] == "guest" and doc["encoding"] == "xml"


def test_broken_xml_is_recovered_with_a_warning() -> None:
    res = dmsniff("-s", str(OMADM / "dm11" / "testalerttextinput.xml"))
    assert res.returncode == 0, res.stderr
    assert "Alert 1: 1102 Text input" in res.stdout.decode()
    assert "MAXLEN=" in res.stdout.decode()  # the options after the raw '&' survive
    assert b"recovered" in res.stderr


def test_pkg0_fields() -> None:
    res = dmsniff(str(OMADM / "pkg0" / "buteo_SAN01.bin"))
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert "server_id: PC Suite Data Sync" in text
    assert "version: 1.2" in text and "ui_mode: 1 (background)" in text
    assert "digest: 0179ab671b68f26698269b4ca78222ad" in text
    # A DS SAN: what follows the server identifier is its sync list, not a vendor part.
    assert "vendor:" not in text and "num_syncs: 1" in text
    assert "sync 1: 'Contacts', type 6 (alert 206, two-way by server), content type 0 (not specified)" in text


def test_wap_push_carrying_a_dm_notification() -> None:
    push = wsp_push(short(0x44), [app_id_header(0x07)], pkg0("com.example.dm", session_id=0xABC, ui_mode=3))
    res = dmsniff("-", stdin=push)
    assert res.returncode == 0, res.stderr
    text = res.stdout.decode()
    assert "application/vnd.syncml.notification" in text
    assert "x-wap-application:syncml.dm" in text
    assert "session_id: 2748 (SessionID ABC in Package #1)" in text and "server_id: com.example.dm" in text
    assert "vendor: (none)" in text  # (a DM notification: no vendor part here)


@pytest.mark.parametrize(
    ("data", "args"),
    [
        (b"", ()),
        (b"hello, not a message", ()),
        (b"\x03\x01", ("--as", "wbxml")),
        (b"\x00" * 10, ("--as", "pkg0")),
    ],
    ids=["empty", "text", "short-wbxml", "short-pkg0"],
)
def test_bad_input_is_one_line_and_nonzero(data: bytes, args: tuple[str, ...]) -> None:
    res = dmsniff(*args, "-", stdin=data)
    assert res.returncode != 0
    assert res.stdout == b""
    lines = res.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("dmsniff: error: -: "), lines
    assert b"Traceback" not in res.stderr


def test_missing_file() -> None:
    res = dmsniff("/nonexistent/x.wbxml")
    assert res.returncode == 2
    assert (
        res.stderr.decode().strip()
        == "dmsniff: error: cannot read /nonexistent/x.wbxml: No such file or directory"
    )
