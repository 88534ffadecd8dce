"""HTTP transactions rebuilt from captures: the pipeline end to end on built conversations."""

from __future__ import annotations

import gzip
import random
import zlib
from pathlib import Path

import pytest

from dmsniff.model import Transaction
from dmsniff.pipeline import Addon, CaptureSummary, Pipeline
from tests.builders import Conversation, request, response, write

BODY = b"<soap-env:Envelope>" + b"x" * 5000 + b"</soap-env:Envelope>"


class Collect(Addon):
    def __init__(self) -> None:
        self.txs: list[Transaction] = []
        self.summaries: list[CaptureSummary] = []

    def transaction(self, tx: Transaction) -> None:
        self.txs.append(tx)

    def capture_end(self, summary: CaptureSummary) -> None:
        self.summaries.append(summary)


def run(path: Path, **kw: int) -> Collect:
    c = Collect()
    Pipeline([c], **kw).run_files([str(path)])
    return c


def basic_exchange(conv: Conversation) -> None:
    conv.send(True, request(body=BODY), mss=1000)
    conv.send(False, response(body=b"<ok/>"))
    conv.send(True, request(body=b""))
    conv.send(False, response(204, "No Content"))
    conv.close()


def test_keep_alive_exchange(tmp_path: Path) -> None:
    conv = Conversation()
    basic_exchange(conv)
    c = run(write(tmp_path / "a.pcap", conv.packets))
    assert [(t.id, t.request.method, t.response.status) for t in c.txs] == [  # type: ignore[union-attr]
        ("C1.1", "POST", 200), ("C1.2", "POST", 204)]
    t = c.txs[0]
    assert t.client == "192.0.2.10:40000" and t.server == "198.51.100.1:7547"
    assert t.request is not None and t.response is not None
    assert t.request.body == BODY and t.request.body_length == len(BODY)
    assert t.request.frames == [4, 5, 6, 7, 8, 9]  # 5 segments; the head's frame is 4
    assert t.request.frame == 9 and t.response.frame == 11
    # Times are those of the completing frames (builders.write spaces frames 1 ms apart).
    assert t.request.time == pytest.approx(1_700_000_000 + 8 * 0.001, abs=1e-6)
    assert t.request.first_time == pytest.approx(1_700_000_000 + 3 * 0.001, abs=1e-6)
    assert t.response.time == pytest.approx(1_700_000_000 + 10 * 0.001, abs=1e-6)
    assert t.request.header("content-length") == str(len(BODY))
    assert t.request.complete and t.response.complete


@pytest.mark.parametrize("seed", range(6))
def test_reordered_duplicated_overlapping_segments(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    clean = Conversation()
    basic_exchange(clean)
    ref = run(write(tmp_path / "clean.pcap", clean.packets))

    conv = Conversation()
    idx = conv.send(True, request(body=BODY), mss=700)
    body_segments = [conv.packets[i] for i in idx]
    # Reorder the data segments, duplicate some, and add an overlapping copy.
    mixed = body_segments[:]
    rng.shuffle(mixed)
    mixed += rng.sample(body_segments, 3)
    first = body_segments[2]
    overlap = first.copy()
    overlap.seq = first.seq + 100
    overlap.load = first.load[100:] + body_segments[3].load[:50]
    mixed.insert(rng.randrange(len(mixed)), overlap)
    start = idx[0]
    conv.packets[start:idx[-1] + 1] = mixed
    conv.send(False, response(body=b"<ok/>"))
    conv.send(True, request(body=b""))
    conv.send(False, response(204, "No Content"))
    conv.close()
    c = run(write(tmp_path / "mixed.pcap", conv.packets))
    assert [(t.request.body, t.response.status) for t in c.txs] == [  # type: ignore[union-attr]
        (t.request.body, t.response.status) for t in ref.txs]  # type: ignore[union-attr]
    assert c.summaries[0].counters["tcp_conflicting_retransmissions"] == 0


def test_pipelined_requests_in_one_segment(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, request("GET", "/a") + request("GET", "/b") + request("HEAD", "/c"))
    conv.send(False, response(body=b"A") + response(body=b"BB") + response(headers="Content-Length: 99\r\n"))
    conv.close()
    c = run(write(tmp_path / "p.pcap", conv.packets))
    got = [(t.request.uri, t.response.status, t.response.body) for t in c.txs]  # type: ignore[union-attr]
    assert got == [("/a", 200, b"A"), ("/b", 200, b"BB"), ("/c", 200, b"")]  # HEAD: no body despite CL


def test_headers_split_byte_by_byte(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, request(body=b"hello", headers="X-Folded: one\r\n two\r\n"), mss=1)
    conv.send(False, response(body=b"ok"), mss=3)
    conv.close()
    [t] = run(write(tmp_path / "s.pcap", conv.packets)).txs
    assert t.request is not None and t.request.body == b"hello"
    assert t.request.header("X-Folded") == "one two"


def test_chunked_with_trailers_and_gzip(tmp_path: Path) -> None:
    payload = b"<InformResponse/>" * 50
    gz = gzip.compress(payload)
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(gz[i:i + 100]), gz[i:i + 100]) for i in range(0, len(gz), 100))
    chunked += b"0\r\nX-Checksum: abc\r\n\r\n"
    conv = Conversation()
    conv.send(True, request("GET", "/gz"))
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Encoding: gzip\r\n\r\n"
    conv.send(False, head + chunked,
              mss=64)
    conv.close()
    [t] = run(write(tmp_path / "c.pcap", conv.packets)).txs
    assert t.response is not None
    assert t.response.body == gz and t.response.decoded_body == payload
    assert t.response.content == payload
    assert ("X-Checksum", "abc") in t.response.headers


def test_deflate_response(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, request("GET", "/d"))
    conv.send(False, response(body=zlib.compress(b"hello" * 20), headers="Content-Encoding: deflate\r\n"))
    conv.close()
    [t] = run(write(tmp_path / "d.pcap", conv.packets)).txs
    assert t.response is not None and t.response.decoded_body == b"hello" * 20


def test_read_until_close_response(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, request("GET", "/old"))
    conv.send(False, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"z" * 3000)
    conv.close()
    [t] = run(write(tmp_path / "r.pcap", conv.packets)).txs
    assert t.response is not None and t.response.body == b"z" * 3000 and t.response.complete


def test_expect_100_continue(tmp_path: Path) -> None:
    conv = Conversation()
    head, _, body = request(body=BODY, headers="Expect: 100-continue\r\n").partition(b"\r\n\r\n")
    conv.send(True, head + b"\r\n\r\n")
    conv.send(False, b"HTTP/1.1 100 Continue\r\n\r\n")
    conv.send(True, body)
    conv.send(False, response(body=b"done"))
    conv.close()
    [t] = run(write(tmp_path / "e.pcap", conv.packets)).txs
    assert [m.status for m in t.interim] == [100]
    assert t.response is not None and t.response.status == 200 and t.response.body == b"done"
    assert t.request is not None and t.request.body == BODY


def test_lost_segment_marks_message_incomplete_and_resyncs(tmp_path: Path) -> None:
    conv = Conversation()
    idx = conv.send(True, request(body=BODY), mss=1000)
    del conv.packets[idx[2]]  # lost from the capture, never retransmitted
    conv.send(False, response(body=b"1"))
    conv.send(True, request("GET", "/next"))
    conv.send(False, response(body=b"2"))
    conv.close()
    c = run(write(tmp_path / "g.pcap", conv.packets))
    assert [t.request.uri for t in c.txs] == ["/acs", "/next"]  # type: ignore[union-attr]
    first = c.txs[0].request
    assert first is not None and not first.complete
    assert first.body_length == len(BODY) - 1000  # what was captured; the gap is a problem
    assert first.problems == ["gap of 1000 bytes in capture"]
    assert c.txs[1].request is not None and c.txs[1].request.complete
    assert c.summaries[0].counters["tcp_gap_bytes"] == 1000


def test_capture_starting_mid_connection(tmp_path: Path) -> None:
    conv = Conversation(handshake=False)
    conv.send(True, BODY[1000:2000])  # tail of a body whose start was not captured
    conv.send(False, response(body=b"late"))
    conv.send(True, request("POST", "/second", body=b"abc"))
    conv.send(False, response(201, "Created"))
    conv.close()
    c = run(write(tmp_path / "m.pcap", conv.packets))
    assert [(t.request.uri if t.request else None, t.response.status) for t in c.txs] == [  # type: ignore[union-attr]
        (None, 200), ("/second", 201)]


def test_huge_content_length_is_capped(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, b"POST /big HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n" + b"a" * 20000)
    conv.close()
    [t] = run(write(tmp_path / "h.pcap", conv.packets), max_body=4096).txs
    assert t.request is not None
    assert len(t.request.body) == 4096 and t.request.body_length == 20000
    assert not t.request.complete and t.response is None
    assert any("4096" in p for p in t.request.problems)


def test_http_over_ipv6_and_vlan_on_odd_port(tmp_path: Path) -> None:
    conv = Conversation(client="2001:db8::10", server="2001:db8::1", sport=30005, vlan=42)
    conv.send(True, request("GET", "/cr"))
    conv.send(False, response())
    conv.close()
    [t] = run(write(tmp_path / "v6.pcap", conv.packets)).txs
    assert t.client == "[2001:db8::10]:40000" and t.server == "[2001:db8::1]:30005"


def test_unanswered_request_reported_at_close(tmp_path: Path) -> None:
    conv = Conversation()
    conv.send(True, request(body=b"ping"))
    conv.close()
    [t] = run(write(tmp_path / "u.pcap", conv.packets)).txs
    assert t.request is not None and t.response is None


def test_non_http_flows_ignored(tmp_path: Path) -> None:
    conv = Conversation(sport=443)
    conv.send(True, b"\x16\x03\x01\x02\x00" + bytes(500))
    conv.send(False, b"\x16\x03\x03" + bytes(3000))
    conv.close()
    c = run(write(tmp_path / "tls.pcap", conv.packets))
    assert c.txs == []
    assert c.summaries[0].tcp_connections == 1 and c.summaries[0].http_connections == 0


def test_ids_stable_across_runs_and_captures(tmp_path: Path) -> None:
    paths = []
    for n in range(2):
        conv = Conversation(cport=40000 + n)
        basic_exchange(conv)
        paths.append(write(tmp_path / f"{n}.pcap", conv.packets))
    runs = []
    for _ in range(2):
        c = Collect()
        Pipeline([c]).run_files([str(p) for p in paths])
        runs.append([(t.id, t.capture) for t in c.txs])
    # Ids name the first frame; captures after the first carry their index.
    assert runs[0] == runs[1] == [("C1.1", 0), ("C1.2", 0), ("C1-1.1", 1), ("C1-1.2", 1)]
