"""Session exports (pcap, JSON, bodies), checked against tshark, the report schema and a re-read.

Sessions decrypted from TLS are exported as pcapng with their key log lines in a Decryption
Secrets Block: the real tshark must open those decrypted with no key option (and not once
editcap has taken the block out), and dmsniff must read them back decrypted too.
"""

from __future__ import annotations

import dataclasses
import json
import struct
import subprocess
from collections.abc import Callable, Iterator, Sequence
from functools import cache
from pathlib import Path

import jsonschema
import pytest
from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

from dmsniff.capture import Frame, open_capture
from dmsniff.capture.writer import BLOCK_DSB, BLOCK_EPB, BLOCK_IDB, BLOCK_SHB, SECRETS_TLS_KEYLOG, FrameWriter
from dmsniff.export import (
    ExportError,
    _Selector,
    export_bodies,
    export_json,
    export_pcap,
    export_pcapng,
    keylog_lines,
    session_connections,
    session_frames,
)
from dmsniff.model import ConnectionEnd, Datagram, TlsFacts, Transaction
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.sessions import CwmpSessions, DmSessions
from dmsniff.sessions.model import ConnectionRequest, Finding, Session, SessionMessage
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier
from tests.builders import MAC_A, MAC_B, Conversation, request, response, write
from tests.conftest import CAPTURES, CORPUS, ROOT
from tests.dmsniff.capture.capbuild import PcapngBuilder, tshark_frames

SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
DEFS = SCHEMA["$defs"]

CWMP = CAPTURES / "cwmp_loopback.pcap"
OMADM = CAPTURES / "omadm_loopback.pcap"
GENIEACS = CORPUS / "pcap" / "genieacs_sim_basic_session.pcap"
ALL = [CWMP, OMADM, GENIEACS]


class Collector(Addon):
    """What the UI's Feed keeps: sessions, transactions and datagrams by id, loose findings, TLS facts."""

    needs_bodies = True

    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.transactions: dict[str, Transaction | Datagram] = {}
        self.findings: list[Finding] = []
        self.tls: dict[str, TlsFacts] = {}

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self.tls[end.connection] = end.tls

    def transaction(self, tx: Transaction) -> None:
        self.transactions[tx.id] = tx

    def datagram(self, dg: Datagram) -> None:
        self.transactions[dg.id] = dg

    def session(self, session: Session) -> None:
        self.sessions.append(session)

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)


def read(path: Path, keys: TlsKeySpec | None = None) -> Collector:
    """Run the same addons as ``dmsniff report``."""
    out = Collector()
    Pipeline([Verifier(Secrets()), CwmpSessions(), DmSessions(), out], tls_keys=keys).run_files([str(path)])
    return out


@cache
def read_cached(path: Path) -> Collector:
    return read(path)


def schema_of(name: str) -> dict[str, object]:
    return {"$defs": DEFS, **DEFS[name]}


# ------------------------------------------------------------------------------ tshark


Row = tuple[int, str, str, str]  # frame, method, uri, response code


def tshark_http(path: Path, *options: str) -> list[Row]:
    """The HTTP requests and responses tshark finds, on any port (``options``: more ``-o``s)."""
    out = subprocess.run(
        ["tshark", "-n", "-r", str(path), "-Y", "http", "-T", "fields", "-e", "frame.number",
         "-e", "http.request.method", "-e", "http.request.uri", "-e", "http.response.code",
         "-o", "tcp.try_heuristic_first:TRUE", *options],
        check=True, capture_output=True, text=True, timeout=120,
    ).stdout  # fmt: skip
    rows = []
    for line in out.splitlines():
        num, method, uri, code = line.split("\t")
        rows.append((int(num), method, uri, code))
    return rows


def session_http(session: Session, transactions: dict[str, Transaction | Datagram]) -> list[Row]:
    """The HTTP lines of a session's messages and of its HTTP connection requests, by frame."""
    rows: list[Row] = []
    for m in session.messages:
        if not m.transaction.startswith("C"):
            continue
        if m.status is None:
            method, uri = m.http.split(" ", 1)
            rows.append((m.frame, method, uri, ""))
        else:
            rows.append((m.frame, "", "", str(m.status)))
    for cr in session.connection_requests:
        tx = transactions[cr.id] if cr.kind == "http" else None
        if isinstance(tx, Transaction):
            assert tx.request is not None and tx.response is not None
            rows.append((tx.request.frame, tx.request.method or "", tx.request.uri or "", ""))
            rows.append((tx.response.frame, "", "", str(tx.response.status)))
    return sorted(rows)


# ------------------------------------------------------------------- the real captures


@pytest.mark.parametrize("capture", ALL, ids=lambda p: p.name)
def test_exported_pcap_holds_exactly_the_session(capture: Path, tmp_path: Path) -> None:
    run = read_cached(capture)
    assert run.sessions
    original = tshark_http(capture)
    original_frames = {row[0]: row[1:] for row in tshark_frames(str(capture))}
    for s in run.sessions:
        out = tmp_path / f"{s.id}.pcap"
        frames = session_frames(s, capture)
        assert export_pcap(s, capture, out) == len(frames), s.id
        assert frames == sorted(set(frames))
        with open_capture(str(out)) as cap:
            assert cap.info.format == "pcap"
            assert [f[0] for f in cap] == list(range(1, len(frames) + 1))

        # tshark on the export: the HTTP lines of those frames in the original, which are
        # the session's messages plus its connection requests.
        exported = [(frames[n - 1], *rest) for n, *rest in tshark_http(out)]
        wanted = set(frames)
        assert exported == [r for r in original if r[0] in wanted], s.id
        assert exported == session_http(s, run.transactions), s.id
        # Bytes and timestamps as they were (these captures are in microseconds).
        copies = tshark_frames(str(out))
        assert [row[1:] for row in copies] == [original_frames[n] for n in frames], s.id


@pytest.mark.parametrize("capture", ALL, ids=lambda p: p.name)
def test_exported_pcap_rebuilds_the_session(capture: Path, tmp_path: Path) -> None:
    for s in read_cached(capture).sessions:
        out = tmp_path / f"{s.id}.pcap"
        export_pcap(s, capture, out)
        again = read(out)
        assert len(again.sessions) == 1, s.id
        (r,) = again.sessions
        assert (r.protocol, r.end_reason, r.session_id) == (s.protocol, s.end_reason, s.session_id)
        assert [(m.direction, m.kind, m.http) for m in r.messages] == [
            (m.direction, m.kind, m.http) for m in s.messages
        ]
        assert [(c.kind, c.target, c.status) for c in r.connection_requests] == [
            (c.kind, c.target, c.status) for c in s.connection_requests
        ]


def test_omadm_export_includes_the_package0_datagram(tmp_path: Path) -> None:
    sessions = read_cached(OMADM).sessions
    assert len(sessions) == 3
    for s in sessions:
        first = s.messages[0]
        assert first.kind == "Notification" and first.transaction.startswith("U")
        frames = session_frames(s, OMADM)
        assert frames[0] == first.frame
        out = tmp_path / f"{s.id}.pcap"
        export_pcap(s, OMADM, out)
        with open_capture(str(out)) as cap:
            exported = [f[3] for f in cap]
        dg = read_cached(OMADM).transactions[first.transaction]
        assert isinstance(dg, Datagram)
        assert dg.payload in exported[0]


def test_connection_requests_are_in_the_export() -> None:
    by_id = {s.id: s for s in read_cached(CWMP).sessions}
    http_cr = by_id["S55"]  # woken by GET /cr on connection C42 (frames 42-51)
    assert [cr.id for cr in http_cr.connection_requests] == ["C42.1"]
    assert set(range(42, 52)) <= set(session_frames(http_cr, CWMP))
    udp_cr = by_id["S84"]  # woken by three copies of a TR-111 UDP request
    assert udp_cr.connection_requests[0].frames == [78, 79, 80]
    assert session_frames(udp_cr, CWMP)[:3] == [78, 79, 80]


def test_other_connections_are_left_out() -> None:
    # genieacs: connection C41 (the firmware download) interleaves with C7, the session.
    s = next(s for s in read_cached(GENIEACS).sessions if s.connections == ["C7"])
    frames = session_frames(s, GENIEACS)
    assert frames == [*range(7, 41), 44, 51, 52, 53, 54]


# ------------------------------------------------------------------------- JSON, bodies


@pytest.mark.parametrize("capture", ALL, ids=lambda p: p.name)
def test_json_matches_the_schema(capture: Path, tmp_path: Path) -> None:
    run = read_cached(capture)
    for s in run.sessions:
        out = tmp_path / f"{s.id}.json"
        extra = [*run.findings, *s.findings[:1]]  # a finding given twice is written once
        export_json(s, out, extra)
        doc = json.loads(out.read_text(encoding="utf-8"))
        assert set(doc) == {"session", "findings", "auth"}
        jsonschema.validate(doc["session"], schema_of("session"))
        for f in doc["findings"]:
            jsonschema.validate(f, schema_of("finding"))
        for a in doc["auth"]:
            jsonschema.validate(a, schema_of("auth"))
        assert doc["session"]["id"] == s.id
        assert len(doc["session"]["messages"]) == len(s.messages)
        assert len(doc["findings"]) == len(s.findings) + len(run.findings)
        assert out.read_text(encoding="utf-8").startswith('{\n  "session": {')


def test_json_carries_credentials(tmp_path: Path) -> None:
    s = next(s for s in read_cached(OMADM).sessions if s.session_id == "1A2B")
    export_json(s, tmp_path / "s.json")
    doc = json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))
    assert doc["auth"] and {a["scheme"] for a in doc["auth"]}


def test_cwmp_bodies(tmp_path: Path) -> None:
    run = read_cached(CWMP)
    s = run.sessions[0]
    files = export_bodies(s, run.transactions, tmp_path / "bodies")
    assert [p.name for p in files] == [
        "001-f4-to_server-Inform.xml",
        "002-f8-to_client-InformResponse.xml",
        "003-f10-to_server-empty.bin",
        "004-f13-to_client-GetParameterValues.xml",
        "005-f15-to_server-GetParameterValuesResponse.xml",
        "006-f18-to_client-SetParameterValues.xml",
        "007-f20-to_server-SetParameterValuesResponse.xml",
        "008-f23-to_client-Download.xml",
        "009-f25-to_server-DownloadResponse.xml",
        "010-f26-to_client-empty.bin",
    ]
    for p, m in zip(files, s.messages, strict=True):
        tx = run.transactions[m.transaction]
        assert isinstance(tx, Transaction)
        msg = tx.request if m.direction == "to_server" else tx.response
        assert msg is not None
        assert p.read_bytes() == msg.content
    assert b"<cwmp:Inform>" in files[0].read_bytes() or b"Inform" in files[0].read_bytes()
    assert files[2].read_bytes() == b""


def test_omadm_bodies(tmp_path: Path) -> None:
    run = read_cached(OMADM)
    wb, xml = (next(s for s in run.sessions if s.session_id == sid) for sid in ("1A2B", "2C"))
    files = export_bodies(wb, run.transactions, tmp_path / "wbxml")
    assert [p.name for p in files] == [
        "001-f1-to_client-Notification.bin",
        *(f"{i:03d}-f{m.frame}-{m.direction}-SyncML.wbxml" for i, m in enumerate(wb.messages[1:], 2)),
    ]
    dg = run.transactions[wb.messages[0].transaction]
    assert isinstance(dg, Datagram) and files[0].read_bytes() == dg.payload
    for p, m in zip(files[1:], wb.messages[1:], strict=True):
        tx = run.transactions[m.transaction]
        assert isinstance(tx, Transaction) and tx.request is not None and tx.response is not None
        msg = tx.request if m.direction == "to_server" else tx.response
        assert p.read_bytes() == msg.body == msg.content  # WBXML as it was on the wire
        assert p.read_bytes()[:1] in (b"\x01", b"\x02", b"\x03")  # a WBXML version byte
    files = export_bodies(xml, run.transactions, tmp_path / "xml")
    assert [p.suffix for p in files] == [".bin", ".xml", ".xml", ".xml", ".xml"]
    assert all(p.read_bytes().lstrip().startswith(b"<") for p in files[1:])


def test_bodies_skip_what_is_missing_and_sanitise_names(tmp_path: Path) -> None:
    run = read_cached(CWMP)
    s = run.sessions[0]
    odd = dataclasses.replace(s.messages[0], kind="../x y/../../Inform:1\\2")
    transactions = dict(run.transactions)
    # Bodies dropped by the UI's memory budget are not written as empty files.
    dropped_tx = transactions[s.messages[1].transaction]
    assert isinstance(dropped_tx, Transaction) and dropped_tx.response is not None
    copy = dataclasses.replace(dropped_tx, response=dataclasses.replace(dropped_tx.response))
    assert copy.response is not None
    copy.response.drop_bodies()
    transactions[copy.id] = copy
    lost = dataclasses.replace(s.messages[2], transaction="C999.1")  # not in the map
    session = dataclasses.replace(s, messages=[odd, s.messages[1], lost, *s.messages[3:5]])
    folder = tmp_path / "deep" / "er"
    files = export_bodies(session, transactions, folder)
    assert [p.name for p in files] == [
        "001-f4-to_server-x_y_Inform_1_2.xml",
        "004-f13-to_client-GetParameterValues.xml",
        "005-f15-to_server-GetParameterValuesResponse.xml",
    ]
    assert all(p.parent == folder for p in files)


# ------------------------------------------------------------------------------ errors


def test_missing_capture(tmp_path: Path) -> None:
    s = read_cached(CWMP).sessions[0]
    out = tmp_path / "s.pcap"
    for call in (lambda: export_pcap(s, tmp_path / "gone.pcap", out),
                 lambda: session_frames(s, tmp_path / "gone.pcap")):  # fmt: skip
        with pytest.raises(ExportError) as exc:
            call()
        assert "\n" not in str(exc.value) and "gone.pcap" in str(exc.value)
        assert exc.value.__cause__ is None and exc.value.__suppress_context__
    assert not list(tmp_path.iterdir())


def test_not_a_capture(tmp_path: Path) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("not a capture\nat all\n")
    with pytest.raises(ExportError, match="not a pcap") as exc:
        export_pcap(read_cached(CWMP).sessions[0], bad, tmp_path / "s.pcap")
    assert "\n" not in str(exc.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


@pytest.mark.parametrize(
    ("origin", "other"),
    [
        (GENIEACS, CAPTURES / "http_loopback.pcap"),  # needs frame 128 of 80
        (CWMP, GENIEACS),  # long enough, but frame 4 is a FIN there, not an Inform
    ],
    ids=["too-short", "other-packets"],
)
def test_wrong_capture(tmp_path: Path, origin: Path, other: Path) -> None:
    s = read_cached(origin).sessions[-1 if origin == GENIEACS else 0]
    for call in (lambda: export_pcap(s, other, tmp_path / "s.pcap"), lambda: session_frames(s, other)):
        with pytest.raises(ExportError, match="is it the capture the session came from") as exc:
            call()
        assert "\n" not in str(exc.value) and str(other) in str(exc.value)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("where", ["missing-dir", "under-a-file", "a-directory"])
def test_unwritable_output(tmp_path: Path, where: str) -> None:
    run = read_cached(CWMP)
    s = run.sessions[0]
    (tmp_path / "file").write_text("x")
    (tmp_path / "dir").mkdir()
    target = {
        "missing-dir": tmp_path / "nope" / "out",
        "under-a-file": tmp_path / "file" / "out",
        "a-directory": tmp_path / "dir",
    }[where]
    calls: list[Callable[[], object]] = [lambda: export_pcap(s, CWMP, target), lambda: export_json(s, target)]
    if where == "under-a-file":  # bodies go to a folder, created (with its parents) when missing
        calls.append(lambda: export_bodies(s, run.transactions, target))
    for call in calls:
        with pytest.raises(ExportError, match="cannot write") as exc:
            call()
        assert "\n" not in str(exc.value) and str(target) in str(exc.value)
    # Nothing half-written left behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dir", "file"]
    assert not list((tmp_path / "dir").iterdir())


def test_output_replaced_whole(tmp_path: Path) -> None:
    s = read_cached(CWMP).sessions[0]
    out = tmp_path / "s.pcap"
    out.write_bytes(b"old" * 100000)
    n = export_pcap(s, CWMP, out)
    with open_capture(str(out)) as cap:
        assert len(list(cap)) == n
    assert [p.name for p in tmp_path.iterdir()] == ["s.pcap"]


# --------------------------------------------------------- frame selection, synthetic


def session(connections: Sequence[str] = (), datagrams: Sequence[int] = (), capture: int = 0,
            requests: Sequence[ConnectionRequest] = ()) -> Session:  # fmt: skip
    msgs = [
        SessionMessage(frame=f, time=0.0, direction="to_client", kind="Notification", transaction=f"U{f}",
                       http="", status=None, body_length=0)
        for f in datagrams
    ]  # fmt: skip
    return Session(id="S", protocol="cwmp", capture=capture, client="", server="", start=0.0, end=0.0,
                   connections=list(connections), messages=msgs,
                   connection_requests=list(requests))  # fmt: skip


def exchange(conv: Conversation) -> None:
    conv.send(True, request(body=b"<x/>"))
    conv.send(False, response(body=b"<y/>"))


def test_tuple_reuse_starts_another_connection(tmp_path: Path) -> None:
    first = Conversation(cport=40000)
    exchange(first)
    first.close()
    first.packets.append(first.packets[-2])  # a retransmitted FIN after the close: a straggler
    other = Conversation(cport=40001)
    exchange(other)
    again = Conversation(cport=40000, isn_c=90000, isn_s=70000)  # same 4-tuple, new SYN
    exchange(again)
    packets = [*first.packets, *other.packets[:3], *again.packets, *other.packets[3:]]
    path = write(tmp_path / "reuse.pcap", packets)
    n_first = len(first.packets)
    again_start = n_first + 4
    assert session_frames(session(["C1"]), path) == list(range(1, n_first + 1))
    assert session_frames(session([f"C{again_start}"]), path) == list(
        range(again_start, again_start + len(again.packets))
    )
    assert session_frames(session(["C1", f"C{n_first + 1}"]), path) == [
        *range(1, n_first + 4),
        *range(again_start + len(again.packets), len(packets) + 1),
    ]
    # dmsniff numbers the connections the same way.
    ids = [tx.connection for tx in read(path).transactions.values() if isinstance(tx, Transaction)]
    assert sorted(set(ids)) == sorted({"C1", f"C{n_first + 1}", f"C{again_start}"})


def test_retransmitted_syn_belongs_to_the_connection(tmp_path: Path) -> None:
    conv = Conversation()
    conv.packets.insert(1, conv.packets[0])  # SYN sent twice
    exchange(conv)
    conv.close()
    path = write(tmp_path / "syn.pcap", conv.packets)
    assert session_frames(session(["C1"]), path) == list(range(1, len(conv.packets) + 1))


def test_prefixed_ids_of_a_second_capture(tmp_path: Path) -> None:
    conv = Conversation()
    exchange(conv)
    path = write(tmp_path / "c.pcap", [Ether(src=MAC_A, dst=MAC_B) / IP() / UDP() / Raw(b"x"), *conv.packets])
    s = session(["C1-2"], capture=1)
    assert session_frames(s, path) == list(range(2, len(conv.packets) + 2))
    s.messages.append(
        SessionMessage(frame=1, time=0.0, direction="to_client", kind="Notification", transaction="U1-1",
                       http="", status=None, body_length=0)
    )  # fmt: skip
    assert session_frames(s, path)[0] == 1


def test_ip_fragments_of_a_datagram_are_kept_in_order(tmp_path: Path) -> None:
    conv = Conversation(client="192.0.2.10", server="198.51.100.1")
    exchange(conv)
    big = IP(src="198.51.100.1", dst="192.0.2.10", id=7) / UDP(sport=1000, dport=2948) / Raw(b"P" * 2500)
    noise = IP(src="198.51.100.9", dst="192.0.2.10", id=8) / UDP(sport=1000, dport=2948) / Raw(b"N" * 2500)
    frags = [Ether(src=MAC_A, dst=MAC_B) / f for f in fragment(big, fragsize=1000)]
    other = [Ether(src=MAC_A, dst=MAC_B) / f for f in fragment(noise, fragsize=1000)]
    assert len(frags) == 3 and len(other) == 3
    n = len(conv.packets)
    # 1..n the connection, then fragments interleaved with the connection's close.
    conv.close()
    closing = conv.packets[n:]
    packets: list[Packet] = [*conv.packets[:n], frags[0], other[0], closing[0], frags[1], other[1],
                             closing[1], other[2], frags[2], closing[2]]  # fmt: skip
    path = write(tmp_path / "frag.pcap", packets)
    done = len(packets) - 1  # frags[2] completes the datagram
    s = session(["C1"], datagrams=[done])
    frames = session_frames(s, path)
    assert frames == [*range(1, n + 1), n + 1, n + 3, n + 4, n + 6, n + 8, n + 9]
    out = tmp_path / "out.pcap"
    assert export_pcap(s, path, out) == len(frames)
    with open_capture(str(path)) as cap:
        originals = {f[0]: f[1:] for f in cap}
    with open_capture(str(out)) as cap:
        assert [f[1:] for f in cap] == [originals[f] for f in frames]
    # The datagram alone: its three fragments.
    assert session_frames(session(datagrams=[done]), path) == [n + 1, n + 4, n + 8]
    # dmsniff (and so a later export) reassembles it from the exported file.
    dgs = [d for d in read(out).transactions.values() if isinstance(d, Datagram)]
    assert [len(d.payload) for d in dgs] == [2500]


def test_mixed_link_types_make_a_pcapng(tmp_path: Path) -> None:
    conv = Conversation()
    exchange(conv)
    conv.close()
    dg = IP(src="198.51.100.1", dst="192.0.2.10") / UDP(sport=1000, dport=2948) / Raw(b"push")
    b = PcapngBuilder().shb().idb(1).idb(101, tsresol=9)
    half = 5
    for i, p in enumerate(conv.packets[:half]):
        b.epb(0, 1_700_000_000_000_000 + i * 1000, bytes(p))
    b.epb(1, 1_700_000_000_123_456_000, bytes(dg))  # raw IP, nanosecond interface
    for i, p in enumerate(conv.packets[half:], half):
        b.epb(0, 1_700_000_000_000_000 + i * 1000, bytes(p))
    path = tmp_path / "mixed.pcapng"
    path.write_bytes(b.data())
    s = session(["C1"], datagrams=[half + 1])
    out = tmp_path / "out.pcap"
    assert export_pcap(s, path, out) == len(conv.packets) + 1
    with open_capture(str(path)) as cap:
        originals = list(cap)
    with open_capture(str(out)) as cap:
        copies = list(cap)
        assert cap.info.format == "pcapng" and cap.info.link_types == [1, 101]
    assert len(copies) == len(originals)
    assert [c[1:] for c in copies] == [o[1:] for o in originals]
    # tshark reads it as well, with the same times.
    assert [row[1] for row in tshark_frames(str(out))] == [row[1] for row in tshark_frames(str(path))]
    # One link type only (the connection alone): classic pcap.
    assert export_pcap(session(["C1"]), path, out) == len(conv.packets)
    with open_capture(str(out)) as cap:
        assert [f[2] for f in cap] == [1] * len(conv.packets)
        assert cap.info.format == "pcap"


def test_frames_without_a_connection_start_are_ignored(tmp_path: Path) -> None:
    # A session whose connection id names a frame that is not TCP: nothing but what is asked.
    path = tmp_path / "u.pcap"
    wrpcap(str(path), [Ether(src=MAC_A, dst=MAC_B) / IP() / UDP() / Raw(b"x")] * 3)
    assert session_frames(session(["C2"], datagrams=[3]), path) == [3]


def test_a_lost_fragment_does_not_hold_up_the_rest(tmp_path: Path) -> None:
    lost = IP(src="198.51.100.9", dst="192.0.2.10", id=9) / UDP(sport=1, dport=2) / Raw(b"L" * 2500)
    first_piece = Ether(src=MAC_A, dst=MAC_B) / fragment(lost, fragsize=1000)[0]
    conv = Conversation()
    exchange(conv)
    conv.close()
    packets = [first_piece, *conv.packets]
    for i, p in enumerate(packets):
        p.time = 1_700_000_000 + i * 30  # the connection outlives the fragment timeout (60 s)
    path = tmp_path / "lost.pcap"
    wrpcap(str(path), packets)
    frames = list(range(2, len(packets) + 1))
    assert session_frames(session(["C2"]), path) == frames
    # Selected frames are handed on as the capture is read (not kept until its end) once the
    # fragment that could have come before them has timed out.
    read_so_far = 0
    emitted: list[tuple[int, int]] = []

    def counting(cap: Iterator[Frame]) -> Iterator[Frame]:
        nonlocal read_so_far
        for f in cap:
            read_so_far = f[0]
            yield f

    with open_capture(str(path)) as cap:
        _Selector({2}, set(), lambda f: emitted.append((f[0], read_so_far))).run(counting(iter(cap)))
    assert [n for n, _ in emitted] == frames
    assert all(at <= n + 1 for n, at in emitted if n >= 4), emitted
    out = tmp_path / "out.pcap"
    assert export_pcap(session(["C2"]), path, out) == len(frames)
    with open_capture(str(out)) as cap:
        assert [int(f[1]) - 1_700_000_000 for f in cap] == [(n - 1) * 30 for n in frames]


# ------------------------------------------------------------------ TLS: pcapng with its keys

TLS12 = CAPTURES / "tls12_loopback.pcap"
TLS13 = CAPTURES / "tls13_loopback.pcap"
TLS_OMADM = CAPTURES / "tls_omadm_loopback.pcap"


def keylog_spec(capture: Path) -> TlsKeySpec:
    keys = capture.with_suffix(".keys")
    return TlsKeySpec(((keys.name, keys.read_bytes()),))


def rsa_spec(capture: Path) -> TlsKeySpec:
    key = capture.with_suffix(".server.key")
    return TlsKeySpec(rsa_keys=((key.name, key.read_bytes(), None, None),))


@cache
def read_tls(capture: Path, rsa: bool = False) -> Collector:
    return read(capture, rsa_spec(capture) if rsa else keylog_spec(capture))


def blocks(path: Path) -> list[tuple[int, bytes]]:
    """(type, body) of every block of a little-endian pcapng file."""
    data = path.read_bytes()
    out = []
    pos = 0
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        assert blen >= 12 and blen % 4 == 0 and struct.unpack_from("<I", data, pos + blen - 4)[0] == blen
        out.append((btype, data[pos + 8 : pos + blen - 4]))
        pos += blen
    assert pos == len(data)
    return out


def secrets_of(path: Path) -> list[bytes]:
    """The TLS key logs in a pcapng's Decryption Secrets Blocks (checking their layout)."""
    found = []
    for btype, body in blocks(path):
        if btype == BLOCK_DSB:
            kind, length = struct.unpack_from("<II", body)
            assert kind == SECRETS_TLS_KEYLOG == 0x544C534B
            assert len(body) == 8 + length + (-length % 4)  # padded to 32 bits, no options
            assert body[8 + length :] == bytes(-length % 4)
            found.append(body[8 : 8 + length])
    return found


def without_secrets(path: Path, tmp_path: Path) -> Path:
    """The same file through editcap, with its Decryption Secrets Blocks taken out."""
    out = tmp_path / f"nosecrets-{path.name}"
    subprocess.run(["editcap", "--discard-all-secrets", str(path), str(out)], check=True, capture_output=True,
                   timeout=60)  # fmt: skip
    return out


def capinfos_secrets(path: Path) -> int:
    out = subprocess.run(["capinfos", str(path)], check=True, capture_output=True, text=True,
                         timeout=60).stdout  # fmt: skip
    # capinfos 4.0 says nothing when there are none.
    line = next((x for x in out.splitlines() if x.startswith("Number of decryption secrets")), ": 0")
    return int(line.rsplit(":", 1)[1])


@pytest.mark.parametrize(
    ("capture", "rsa", "wanted"),
    [
        (TLS13, False, "S10"),  # TLS 1.3, AES-128-GCM
        (TLS13, False, "S118"),  # TLS 1.3 resumed with a PSK
        (TLS12, False, "S28"),  # TLS 1.2, ECDHE ChaCha20-Poly1305
        (TLS12, True, "S100"),  # TLS 1.2 RSA key exchange, decrypted with the server's key alone
        (TLS_OMADM, False, "D11"),  # OMA DM over TLS 1.2, with a Pkg#0 datagram in the clear
    ],
    ids=lambda v: v.name if isinstance(v, Path) else str(v),
)
def test_tls_session_export_opens_decrypted_in_tshark(capture: Path, rsa: bool, wanted: str,
                                                      tmp_path: Path) -> None:  # fmt: skip
    run = read_tls(capture, rsa)
    s = next(s for s in run.sessions if s.id == wanted)
    conns = session_connections(s)
    lines = keylog_lines(conns, run.tls)
    assert lines == list(dict.fromkeys(line for c in conns for line in run.tls[c].summary.keylog_lines))
    assert lines  # decrypted: its connections' keys are known
    out = tmp_path / f"{s.id}.pcapng"
    frames = session_frames(s, capture)
    assert export_pcap(s, capture, out, lines) == len(frames)

    # The file: SHB, IDB, the DSB with exactly these lines, then the packets.
    kinds = [btype for btype, _ in blocks(out)]
    assert kinds == [BLOCK_SHB, BLOCK_IDB, BLOCK_DSB] + [BLOCK_EPB] * len(frames)
    assert secrets_of(out) == [("\n".join(lines) + "\n").encode()]
    assert capinfos_secrets(out) == 1
    with open_capture(str(out)) as cap:
        assert cap.info.format == "pcapng" and [f[0] for f in cap] == list(range(1, len(frames) + 1))

    # tshark, given no key at all, decrypts the session's HTTP messages: those of the session.
    exported = [(frames[n - 1], *rest) for n, *rest in tshark_http(out)]
    assert exported == session_http(s, run.transactions)
    assert exported  # (not vacuous)
    # ... and the same as tshark finds in the original with the whole key log.
    keys = capture.with_suffix(".keys")
    original = tshark_http(capture, "-o", f"tls.keylog_file:{keys}")
    assert exported == [r for r in original if r[0] in set(frames)]
    # Without the block (editcap takes it out), tshark sees no HTTP over TLS: the keys did it.
    bare = without_secrets(out, tmp_path)
    assert capinfos_secrets(bare) == 0
    tls_frames = {m.frame for m in s.messages if m.transaction.startswith("C")}
    over_tls = {n for n, f in enumerate(frames, 1) if f in tls_frames}  # their numbers in the export
    assert over_tls and [r for r in tshark_http(bare) if r[0] in over_tls] == []

    # dmsniff reads its own export decrypted too, with no key given: the same session.
    again = read(out)
    (r,) = [x for x in again.sessions if x.protocol == s.protocol]
    assert [(m.direction, m.kind, m.http) for m in r.messages] == [
        (m.direction, m.kind, m.http) for m in s.messages
    ]
    assert all(tx.tls is not None for tx in again.transactions.values() if isinstance(tx, Transaction))


def test_only_the_exported_connections_lines_are_written(tmp_path: Path) -> None:
    run = read_tls(TLS13)
    every = {line for f in run.tls.values() for line in f.summary.keylog_lines}
    (s,) = [s for s in run.sessions if s.id == "S10"]
    lines = keylog_lines(session_connections(s), run.tls)
    assert session_connections(s) == ["C1"]
    # TLS 1.3: the handshake and traffic secrets of C1's client random, nothing else.
    assert {line.split()[0] for line in lines} >= {
        "CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
        "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0",
    }  # fmt: skip
    random = run.tls["C1"].summary.info.client_random
    assert random is not None and {line.split()[1] for line in lines} == {random.hex()}
    assert set(lines) < every
    key_file = set((CAPTURES / "tls13_loopback.keys").read_text().splitlines())
    assert set(lines) <= key_file
    export_pcap(s, TLS13, tmp_path / "s.pcapng", lines)
    (secrets,) = secrets_of(tmp_path / "s.pcapng")
    assert set(secrets.decode().splitlines()) == set(lines)
    # Connections that are not TLS, or not known, add nothing.
    assert keylog_lines(["C999", "U5"], run.tls) == []


def test_a_plaintext_session_is_still_a_classic_pcap(tmp_path: Path) -> None:
    run = read_cached(CWMP)
    s = run.sessions[0]
    assert keylog_lines(session_connections(s), run.tls) == [] and not run.tls
    out = tmp_path / "plain.pcap"
    lines = keylog_lines(session_connections(s), run.tls)
    assert export_pcap(s, CWMP, out, lines) == len(session_frames(s, CWMP))
    with open_capture(str(out)) as cap:
        assert cap.info.format == "pcap"
    assert out.read_bytes()[:4] == bytes.fromhex("d4c3b2a1")


def test_whole_capture_as_pcapng_with_every_connections_keys(tmp_path: Path) -> None:
    run = read_tls(TLS_OMADM)
    lines = keylog_lines(sorted(run.tls), run.tls)
    out = tmp_path / "all.pcapng"
    with open_capture(str(TLS_OMADM)) as cap:
        packets = sum(1 for _ in cap)
    assert export_pcapng(TLS_OMADM, out, keylog=lines) == packets
    keys = TLS_OMADM.with_suffix(".keys")
    assert tshark_http(out) == tshark_http(TLS_OMADM, "-o", f"tls.keylog_file:{keys}")
    assert len(tshark_http(out)) == 2 * 8  # the 8 exchanges of the 3 sessions
    # Two sessions in one file: the union of their frames, in order, with their lines.
    two = run.sessions[:2]
    both = keylog_lines([c for s in two for c in session_connections(s)], run.tls)
    out2 = tmp_path / "two.pcapng"
    n = export_pcapng(TLS_OMADM, out2, two, both)
    assert n == len(set(session_frames(two[0], TLS_OMADM)) | set(session_frames(two[1], TLS_OMADM)))
    assert secrets_of(out2) == [("\n".join(both) + "\n").encode()]


def test_keys_come_before_the_first_packet_whatever_the_link_types(tmp_path: Path) -> None:
    out = tmp_path / "mixed.pcapng"
    writer = FrameWriter(out, ["CLIENT_RANDOM 00 11", "CLIENT_RANDOM 22 33x"])  # 40 bytes: padded
    for frame in [(1, 1.5, 1, b"\x00" * 60), (2, 2.5, 101, b"\x45" + bytes(19)), (3, 3.5, 1, b"\x01" * 61)]:
        writer.write(frame)
    writer.close()
    assert [t for t, _ in blocks(out)] == [BLOCK_SHB, BLOCK_IDB, BLOCK_DSB, BLOCK_EPB, BLOCK_IDB, BLOCK_EPB,
                                           BLOCK_EPB]  # fmt: skip
    assert secrets_of(out) == [b"CLIENT_RANDOM 00 11\nCLIENT_RANDOM 22 33x\n"]
    with open_capture(str(out)) as cap:
        assert [(f[0], f[1], f[2]) for f in cap] == [(1, 1.5, 1), (2, 2.5, 101), (3, 3.5, 1)]
        assert cap.info.tls_keylogs == [b"CLIENT_RANDOM 00 11\nCLIENT_RANDOM 22 33x\n"]
    assert [row[0] for row in tshark_frames(str(out))] == [1, 2, 3]
