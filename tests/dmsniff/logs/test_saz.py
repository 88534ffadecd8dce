"""Fiddler session archives (.saz): a capture's exchanges written as Fiddler writes them (the layout and
metadata of an archive Fiddler Everywhere 2025 saved: raw/N_c.txt, N_s.txt, N_m.xml with
SessionTimers and SessionFlags) report what the capture reports."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dmsniff.logs import log_format
from dmsniff.model import HttpMessage, Transaction
from tests.conftest import CAPTURES
from tests.dmsniff.logs.helpers import kinds, report_json, run

SECRETS = ("alice:alice-pass", "bob:bob-pass")


def _iso(t: float) -> str:
    # Fiddler's form: seven fractional digits and the recording machine's offset.
    local = dt.datetime.fromtimestamp(t, dt.timezone(dt.timedelta(hours=-7)))
    return local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0-07:00"


def _raw(msg: HttpMessage, start_line: str) -> bytes:
    head = "".join(f"{k}: {v}\r\n" for k, v in msg.headers)
    return f"{start_line}\r\n{head}\r\n".encode("latin-1") + msg.body


def _meta(no: int, tx: Transaction) -> bytes:
    req, resp = tx.request, tx.response
    assert req is not None
    client_ip, client_port = tx.client.rsplit(":", 1)
    server_ip = tx.server.rsplit(":", 1)[0]
    done = _iso(resp.time) if resp is not None else "0001-01-01T00:00:00"
    began = _iso(resp.first_time) if resp is not None else "0001-01-01T00:00:00"
    return (
        '\ufeff<?xml version="1.0" encoding="utf-8"?>\r\n'
        f'<Session SID="{no}" BitFlags="9">\r\n'
        f'  <SessionTimers ClientConnected="{_iso(req.first_time)}" '
        f'ClientBeginRequest="{_iso(req.first_time)}" '
        f'GotRequestHeaders="{_iso(req.first_time)}" ClientDoneRequest="{_iso(req.time)}" GatewayTime="0" '
        f'DNSTime="0" TCPConnectTime="0" HTTPSHandshakeTime="0" ServerConnected="{_iso(req.time)}" '
        f'ServerGotRequest="{_iso(req.time)}" ServerBeginResponse="{began}" GotResponseHeaders="{began}" '
        f'ServerDoneResponse="{done}" '
        f'ClientBeginResponse="{done}" ClientDoneResponse="{done}" />\r\n'
        '  <PipeInfo CltReuse="true" />\r\n  <SessionFlags>\r\n'
        f'    <SessionFlag N="x-clientport" V="{client_port}" />\r\n'
        f'    <SessionFlag N="x-clientip" V="{client_ip}" />\r\n'
        f'    <SessionFlag N="x-hostip" V="{server_ip}" />\r\n'
        '    <SessionFlag N="x-processinfo" V="cpe:4242" />\r\n'
        "  </SessionFlags>\r\n</Session>"
    ).encode()


def saz_of(capture: Path) -> tuple[bytes, list[Transaction]]:
    """The capture's HTTP exchanges as a session archive, one session each, as a proxy saw them."""
    txs = run(capture).transactions
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("raw/", b"")
        for no, tx in enumerate(txs, 1):
            req, resp = tx.request, tx.response
            assert req is not None
            absolute = f"{req.method} http://{tx.server}{req.uri} {req.version}"  # as a proxy receives it
            z.writestr(f"raw/{no}_c.txt", _raw(req, absolute))
            if resp is not None:
                z.writestr(f"raw/{no}_s.txt", _raw(resp, f"{resp.version} {resp.status} {resp.reason}"))
            z.writestr(f"raw/{no}_m.xml", _meta(no, tx))
        z.writestr("_index.htm", b"<html><body>sessions</body></html>")
        z.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types/>')
    return buf.getvalue(), txs


def test_archive_reports_what_the_capture_reports(tmp_path: Path) -> None:
    capture = CAPTURES / "digest_loopback.pcap"
    data, txs = saz_of(capture)
    path = tmp_path / "cpe.saz"
    path.write_bytes(data)
    assert log_format(str(path)) == "saz"
    ours, theirs = run(path, secrets=SECRETS), run(capture, secrets=SECRETS)
    assert len(ours.transactions) == len(txs) > 3
    for a, b in zip(ours.transactions, theirs.transactions, strict=True):
        assert (a.client, a.server) == (b.client, b.server)
        assert a.request is not None and b.request is not None
        assert (a.request.method, a.request.uri) == (b.request.method, b.request.uri)
        assert a.request.body == b.request.body
        assert a.request.time == pytest.approx(b.request.time, abs=1e-5)
        if b.response is not None:
            assert a.response is not None
            assert (a.response.status, a.response.body) == (b.response.status, b.response.body)
            assert a.response_time == pytest.approx(b.response_time, abs=1e-5)  # the JSON's wait
    assert [kinds(s) for s in ours.sessions] == [kinds(s) for s in theirs.sessions]
    assert [s.device_id for s in ours.sessions] == [s.device_id for s in theirs.sessions]
    verdicts = sorted((r.scheme, r.identity, r.result) for r in ours.auth_results)
    assert verdicts == sorted((r.scheme, r.identity, r.result) for r in theirs.auth_results)
    assert ("http-digest", "alice", "valid") in verdicts
    # Frames are session numbers: a request and its response share one.
    assert [(t.request.frame, t.response.frame if t.response else None) for t in ours.transactions] == [
        (n, n if t.response else None) for n, t in enumerate(txs, 1)]
    assert ours.summaries[0].info.frame_unit == "session"


def test_the_command_line_reads_it_by_content(tmp_path: Path) -> None:
    data, _txs = saz_of(CAPTURES / "cwmp_loopback.pcap")
    path = tmp_path / "Fiddler Session.saz"
    path.write_bytes(data)
    code, doc = report_json(tmp_path, str(path))
    assert code == 0
    [cap] = doc["captures"]  # type: ignore[index]
    assert cap["format"] == "saz" and not cap["errors"]
    assert doc["sessions"] and all(s["protocol"] == "cwmp" for s in doc["sessions"])  # type: ignore[index]


def _with(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, value in members.items():
            z.writestr(name, value)
    return buf.getvalue()


REQUEST = (b"POST https://acs.example:7547/cwmp?x=1 HTTP/1.1\r\nHost: acs.example:7547\r\n"
           b"Content-Length: 0\r\n\r\n")
RESPONSE = b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"


def test_damaged_sessions_cost_themselves_only(tmp_path: Path) -> None:
    path = tmp_path / "mixed.saz"
    path.write_bytes(_with({
        "raw/1_c.txt": REQUEST, "raw/1_s.txt": RESPONSE,
        "raw/2_s.txt": RESPONSE,  # no request
        "raw/3_c.txt": b"\x00\x01 not http", "raw/3_s.txt": RESPONSE,
        "raw/4_c.txt": b"CONNECT acs.example:443 HTTP/1.1\r\nHost: acs.example:443\r\n\r\n",
        "raw/4_s.txt": b"HTTP/1.1 200 Connection Established\r\n\r\n",
        "raw/4_m.xml": b"<Session><SessionFlags><SessionFlag N='x-hostip' V='192.0.2.9'/></SessionFlags>"
                       b"</Session>",
        "raw/5_c.txt": REQUEST, "raw/5_m.xml": b"<not xml",  # metadata that does not parse: no times
    }))
    out = run(path)
    got = [(t.request.method, t.request.uri, t.server, t.response.status if t.response else None)
           for t in out.transactions if t.request is not None]
    assert got == [("POST", "/cwmp?x=1", "acs.example:7547", 204),
                   ("CONNECT", "acs.example:443", "192.0.2.9:443", 200),
                   ("POST", "/cwmp?x=1", "acs.example:7547", None)]
    errors = out.summaries[0].info.errors
    assert any("session 2: no request" in e for e in errors)
    assert any("session 3: raw/3_c.txt is not an HTTP request" in e for e in errors)


@pytest.mark.parametrize(("data", "says"), [
    (b"PK\x03\x04raw/ and then nothing", "is not a readable Fiddler session archive (zip)"),
    (_with({"[Content_Types].xml": b"<Types/>", "_index.htm": b"<html/>"}),
     "is a zip with no Fiddler sessions"),
])
def test_an_archive_that_cannot_be_read_is_one_line(tmp_path: Path, data: bytes, says: str,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.saz"
    path.write_bytes(data)
    code, _doc = report_json(tmp_path, str(path))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and says in err[0] and "Traceback" not in err[0]


def test_a_member_past_the_size_bound_costs_its_session(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from dmsniff.logs import saz

    monkeypatch.setattr(saz, "MAX_MEMBER", 1000)
    big = REQUEST.replace(b"Content-Length: 0", b"Content-Length: 2000") + b"x" * 2000
    path = tmp_path / "big.saz"
    path.write_bytes(_with({"raw/1_c.txt": big, "raw/2_c.txt": REQUEST, "raw/2_s.txt": RESPONSE}))
    out = run(path)
    assert [t.request.frame for t in out.transactions if t.request] == [2]
    assert any("raw/1_c.txt: over 0 MiB" in e for e in out.summaries[0].info.errors)


class _Stream(io.RawIOBase):
    """A file that cannot seek: zipfile then writes each member's sizes after its data (a data
    descriptor), as Fiddler Everywhere does."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:  # type: ignore[no-untyped-def,override]
        self.chunks.append(bytes(b))
        return len(b)


@pytest.mark.parametrize("descriptors", [False, True], ids=["sizes-in-headers", "data-descriptors"])
def test_a_cut_archive_keeps_the_sessions_before_the_cut(tmp_path: Path, descriptors: bool) -> None:
    data, txs = saz_of(CAPTURES / "cwmp_loopback.pcap")
    if descriptors:
        stream = _Stream()
        src = zipfile.ZipFile(io.BytesIO(data))
        with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as zo:
            for info in src.infolist():
                zo.writestr(info.filename, src.read(info))
        data = b"".join(stream.chunks)
        assert zipfile.ZipFile(io.BytesIO(data)).infolist()[1].flag_bits & 0x08
    path = tmp_path / "cut.saz"
    path.write_bytes(data[: len(data) * 2 // 3])  # an interrupted download: no zip directory
    out = run(path)
    [error] = out.summaries[0].info.errors[:1]
    assert "cut short or damaged" in error
    (tmp_path / "whole.saz").write_bytes(data)
    whole = run(tmp_path / "whole.saz")
    assert len(whole.transactions) == len(txs)
    kept = [(t.request.frame, t.request.uri) for t in out.transactions if t.request is not None]
    assert 0 < len(kept) < len(txs)
    assert kept == [(t.request.frame, t.request.uri) for t in whole.transactions if t.request][: len(kept)]


_SMALL: list[bytes] = []


def _small_archive() -> bytes:
    if not _SMALL:
        _SMALL.append(saz_of(CAPTURES / "cwmp_loopback.pcap")[0])
    return _SMALL[0]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_mangled_archive_costs_what_it_breaks_never_the_run(tmp_path: Path, data: st.DataObject,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """Bytes flipped, cut or inserted anywhere (in the zip's headers, its deflate streams, its
    directory): the report is one line (exit 2) or what could be read, never a traceback."""
    raw = bytearray(_small_archive())
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw) - 1))
        op = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if op == "flip":
            raw[at] ^= data.draw(st.integers(1, 255))
        elif op == "cut":
            del raw[at:at + data.draw(st.integers(1, 64))]
        else:
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    path = tmp_path / "mangled.saz"
    path.write_bytes(bytes(raw))
    code, _doc = report_json(tmp_path, "--input-format", "saz", str(path))
    assert code in (0, 1, 2)
    assert "internal error" not in capsys.readouterr().err


def test_a_password_protected_archive_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    raw = bytearray(_with({"raw/1_c.txt": REQUEST, "raw/1_s.txt": RESPONSE}))
    # Mark every member encrypted, as Fiddler's "Password-protected SAZ" does (general purpose flag
    # bit 0, in each local header and each directory entry).
    for sig, flags_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = raw.find(sig)
        while at >= 0:
            raw[at + flags_at] |= 0x01
            at = raw.find(sig, at + 4)
    path = tmp_path / "locked.saz"
    path.write_bytes(bytes(raw))
    code, _doc = report_json(tmp_path, str(path))
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "password-protected Fiddler archive" in err[0]
