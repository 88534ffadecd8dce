"""TLS in the terminal UI, driven by Textual's Pilot over the HTTPS captures recorded with real peers.

Oracles: tshark given the key log (which frames carried each handshake message, the client
random of each connection), the key log file itself (which line holds it), and tshark given no
key option on what the P key writes.
"""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

from dmsniff.model import ConnectionEnd, TlsFacts
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.tui import views
from dmsniff.tui.app import DmsniffApp, TlsScreen
from dmsniff.tui.session_list import SessionList
from tests.conftest import CAPTURES
from tests.dmsniff.tui.test_app import drive, settle, text_of, timeline_lines

TLS13 = str(CAPTURES / "tls13_loopback.pcap")
KEYS13 = CAPTURES / "tls13_loopback.keys"
CWMP = str(CAPTURES / "cwmp_loopback.pcap")
LOCK = "🔒"
HANDSHAKE = {"1": "ClientHello", "2": "ServerHello", "4": "NewSessionTicket", "8": "EncryptedExtensions",
             "11": "Certificate", "15": "CertificateVerify", "20": "Finished"}  # fmt: skip


def keylog(data: bytes, name: str = "tls13_loopback.keys") -> TlsKeySpec:
    return TlsKeySpec(((name, data),))


def view(app: DmsniffApp, name: str) -> str:
    return text_of(app.query_one(f"#view-{name}").content)  # type: ignore[attr-defined]


def status(app: DmsniffApp) -> str:
    return text_of(app.query_one("#status").content).strip()  # type: ignore[attr-defined]


def tshark_fields(*args: str) -> list[list[str]]:
    out = subprocess.run(["tshark", "-n", "-r", TLS13, "-o", f"tls.keylog_file:{KEYS13}", *args],
                         check=True, capture_output=True, text=True, timeout=120).stdout  # fmt: skip
    return [line.split("\t") for line in out.splitlines()]


def test_a_decrypted_session_shows_its_tls(tmp_path: Path) -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 11
        assert all(lst.row_at(i).lock == LOCK for i in range(lst.row_count))
        assert status(app) == "done: 224 packets, 11 sessions (11 shown) · 12 TLS"  # nothing left encrypted
        assert app.current is not None and app.current.id == "S10"

        # The line above the timeline: the session's connection, and where its keys came from.
        header = app.query_one("#session-tls")
        assert header.display
        lines = text_of(header.content).splitlines()  # type: ignore[attr-defined]
        assert lines[0].split() == [LOCK, "C1", "TLS", "1.3", "TLS_AES_128_GCM_SHA256", "SNI",
                                    "acs.dmsniff.test"]  # fmt: skip
        assert lines[1].strip() == "decrypted (key log tls13_loopback.keys line 4)"
        # ... which is the line of C1's client random (tshark: the ClientHello in frame 4).
        ((random,),) = tshark_fields("-Y", "frame.number == 4", "-T", "fields", "-e", "tls.handshake.random")
        assert KEYS13.read_text().splitlines()[3].split()[1] == random.replace(":", "")

        # Both arrows carry a lock.
        assert all(f"ACS {LOCK} f" in line or f"! {LOCK} f" in line for line in timeline_lines(app))

        # HTTP: how it was decrypted, then the request as sent.
        http = view(app, "http").splitlines()
        assert http[0] == "decrypted from TLS 1.3 TLS_AES_128_GCM_SHA256 (key log tls13_loopback.keys line 4)"
        assert http[1] == "SNI acs.dmsniff.test"
        assert http[3] == "POST /acs HTTP/1.1"

        # Frames: the frames of the message's records and of the connection's handshake, as
        # tshark (given the key log) finds them on that TCP stream.
        frames = view(app, "frames")
        ((request_frame,),) = tshark_fields("-Y", "tcp.stream == 0 and http.request", "-T", "fields",
                                            "-e", "frame.number")  # fmt: skip
        assert frames.startswith(f"completed in frame {request_frame}; its TLS records ended in frames "
                                 f"{request_frame}\n")  # fmt: skip
        expected: dict[str, list[str]] = {}
        for number, types in tshark_fields("-Y", "tcp.stream == 0 and tls.handshake.type", "-T", "fields",
                                           "-e", "frame.number", "-e", "tls.handshake.type"):  # fmt: skip
            for t in dict.fromkeys(types.split(",")):
                expected.setdefault(HANDSHAKE[t], []).append(number)
        shown = {}
        for line in frames.splitlines():
            words = line.split()
            if words and words[0] in HANDSHAKE.values():
                shown[words[0]] = words[2].replace(",", " ").split() + words[3:]
        assert shown == expected
        assert expected["ClientHello"] == ["4"] and expected["Finished"] == ["6", "8"]
        ((alert_frame,),) = tshark_fields("-Y", "tcp.stream == 0 and tls.alert_message", "-T", "fields",
                                          "-e", "frame.number")  # fmt: skip
        assert f"alert                frame {alert_frame}  close_notify" in frames

        # The second session (another connection, TLS_AES_256_GCM_SHA384).
        await pilot.press("j")  # type: ignore[attr-defined]
        await settle(pilot)
        assert app.current.id == "S28"
        assert "TLS_AES_256_GCM_SHA384" in text_of(header.content)  # type: ignore[attr-defined]
        assert view(app, "http").startswith("decrypted from TLS 1.3 TLS_AES_256_GCM_SHA384 (key log "
                                            "tls13_loopback.keys line 9)")  # fmt: skip

        # P: pcapng with the keys inside; tshark opens it decrypted with no key option.
        await pilot.press("P")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]

    drive(DmsniffApp([TLS13], tls=keylog(KEYS13.read_bytes()), export_dir=tmp_path), steps)
    out = tmp_path / "dmsniff-S28.pcapng"
    assert not (tmp_path / "dmsniff-S28.pcap").exists()
    rows = subprocess.run(["tshark", "-n", "-r", str(out), "-Y", "http", "-T", "fields", "-e",
                           "http.request.method", "-e", "http.response.code"],
                          check=True, capture_output=True, text=True, timeout=60).stdout  # fmt: skip
    assert rows.splitlines() == ["POST\t", "\t200"]


def test_the_tls_filter() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert lst.row_count == 3 + 11
        for text, count in [("tls:", 11), ("tls:no", 3), ("tls:1.3", 11), ("tls:1.2", 0), ("tls:resumed", 2),
                            ("tls:encrypted", 0), ("tls:decrypted proto:cwmp", 11)]:  # fmt: skip
            assert app.apply_filter(text), text
            assert lst.row_count == count, text
        assert app.apply_filter("tls:resumed")
        assert {lst.row_at(i).key for i in range(2)} == {"S1-118", "S1-154"}  # C109, C145: PSK resumption
        assert not app.apply_filter("tls:maybe")
        assert "filter error at column 5: tls: needs one of" in status(app)

    drive(DmsniffApp([CWMP, TLS13], tls=keylog(KEYS13.read_bytes())), steps)


def test_connections_that_stayed_encrypted_are_shown_with_why() -> None:
    notes: list[str] = []

    async def steps(app: DmsniffApp, pilot: object) -> None:
        assert app.query_one(SessionList).row_count == 0  # nothing decrypted: no session at all
        assert status(app) == "done: 389 packets, 0 sessions (0 shown) · 22 TLS, 20 not decrypted (t)"
        assert notes == ["20 TLS connections not decrypted: t shows why"]
        await pilot.press("t")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert isinstance(app.screen, TlsScreen)
        text = text_of(app.screen.query_one("#tls-connections").content, width=400)  # type: ignore[attr-defined]
        lines = text.splitlines()
        assert lines[0] == ("22 TLS connections ended: 0 decrypted, 20 not decrypted, 2 without application "
                            "data")  # fmt: skip
        assert lines[2] == "Not decrypted"
        # Each with why, and what would help: ECDHE needs a key log, RSA key exchange a server key too.
        by_conn = {lines[i].split()[1]: lines[i + 1].strip() for i in range(3, len(lines) - 1)
                   if lines[i].startswith("✗ ")}  # fmt: skip
        assert len(by_conn) == 20
        c1, c91 = by_conn["C1"], by_conn["C91"]
        assert c1.startswith("NOT decrypted, 2631 B opaque: no key log entries, given or in the capture "
                             "(client random a33da08b…)")
        assert c1.endswith(" \N{EM DASH} give its key log with --keylog, or a pcapng with the keys inside")
        assert c91.endswith(" \N{EM DASH} give the server's private key with --tls-key, or a key log with "
                            "--keylog")
        # Those that sent nothing to decrypt, apart, then the findings no session holds.
        start = lines.index("No application data")
        assert [line.split()[1] for line in lines[start + 1 :: 2][:2]] == ["C352", "C362"]
        assert "no application data: the handshake ended with a fatal alert (unknown_ca)" in text
        assert "tls.fatal-alert  fatal alert unknown_ca from the client on C352" in text
        await pilot.press("escape")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        assert not isinstance(app.screen, TlsScreen)

    app = DmsniffApp([str(CAPTURES / "tls12_loopback.pcap")])
    app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign, assignment]
    drive(app, steps)


def test_a_partly_encrypted_session_says_why() -> None:
    # The key log without C1's SERVER_TRAFFIC_SECRET_0: the device's Inform is read, the ACS's
    # answers are not.
    lines = KEYS13.read_text().splitlines(keepends=True)
    assert lines[2].startswith("SERVER_TRAFFIC_SECRET_0 beafb2bc")
    partial = "".join(lines[:2] + lines[3:]).encode()

    async def steps(app: DmsniffApp, pilot: object) -> None:
        assert app.current is not None and app.current.id == "S10"
        assert [m.kind for m in app.current.messages] == ["Inform"]
        header = text_of(app.query_one("#session-tls").content, width=300).splitlines()  # type: ignore[attr-defined]
        assert header[0].split()[:2] == ["✗", "C1"]
        assert header[1].strip().startswith("partly decrypted, ") and " B opaque: " in header[1]
        assert app.apply_filter("tls:encrypted")
        assert app.query_one(SessionList).row_count == 1
        assert "1 not decrypted (t)" in status(app)

    drive(DmsniffApp([TLS13], tls=keylog(partial, "partial.keys")), steps)


def test_plaintext_sessions_show_no_tls() -> None:
    async def steps(app: DmsniffApp, pilot: object) -> None:
        lst = app.query_one(SessionList)
        assert all(lst.row_at(i).lock == "" for i in range(lst.row_count))
        assert not app.query_one("#session-tls").display
        assert "TLS" not in status(app)
        assert all(LOCK not in line for line in timeline_lines(app))
        assert view(app, "http").startswith("POST /acs HTTP/1.1")
        assert "TLS" not in view(app, "frames")
        await pilot.press("t")  # type: ignore[attr-defined]
        await pilot.pause()  # type: ignore[attr-defined]
        body = text_of(app.screen.query_one("#tls-connections").content)  # type: ignore[attr-defined]
        assert "No TLS connection (yet)." in body

    drive(DmsniffApp([CWMP]), steps)


class Ends(Addon):
    def __init__(self) -> None:
        self.facts: dict[str, TlsFacts] = {}

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self.facts[end.connection] = end.tls


def test_tls_views_of_real_connections() -> None:
    keys = CAPTURES / "tls12_loopback.keys"
    ends = Ends()
    pipeline = Pipeline([ends], tls_keys=keylog(keys.read_bytes(), keys.name))
    pipeline.run_files([str(CAPTURES / "tls12_loopback.pcap")])
    resumed = views.tls_connection_text("C145", None, ends.facts["C145"], ["S153"])
    first, second = text_of(resumed).splitlines()
    assert first.startswith(f"{LOCK} C145   127.0.0.1:45586 → 127.0.0.1:41563  TLS 1.2 ")
    assert first.rstrip().endswith("SNI acs.dmsniff.test  resumed (session-id)  S153")
    assert second.strip() == "decrypted (key log tls12_loopback.keys line 11)"
    assert "renegotiated ×1" in text_of(views.tls_connection_text("C307", None, ends.facts["C307"]))
    failed = text_of(views.tls_connection_text("C362", None, ends.facts["C362"]))
    assert failed.startswith("· C362") and "TLS (no ServerHello seen)" in failed
    assert "fatal alert handshake_failure" in failed
    assert "no application data: the handshake ended with a fatal alert (handshake_failure)" in failed
    frames = text_of(views.tls_frames("C362", None, ends.facts["C362"])).splitlines()
    assert frames[-1].split() == ["alert", "frame", "367", "handshake_failure"]  # the finding's frame too
    # Two alerts in one frame: each listed with the frame that carried it.
    two = ends.facts["C362"]
    doubled = replace(two, summary=replace(two.summary, alerts=two.summary.alerts * 2),
                      alert_frames=two.alert_frames * 2)
    lines = text_of(views.tls_frames("C362", None, doubled)).splitlines()
    assert [ln.split() for ln in lines[-2:]] == [["alert", "frame", "367", "handshake_failure"]] * 2
