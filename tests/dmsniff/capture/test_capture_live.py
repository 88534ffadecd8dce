"""Live capture on the loopback interface, with traffic the tests make themselves (127.0.0.1 only)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dmsniff.capture import CaptureError, Frame, live_frames, open_capture

from .capbuild import tshark_available, tshark_frames


def _capture_problem() -> str | None:
    try:
        for _ in live_frames("lo", duration=0):
            pass
    except CaptureError as exc:
        return str(exc)
    return None


PROBLEM = _capture_problem()
needs_capture = pytest.mark.skipif(PROBLEM is not None, reason=f"cannot capture on lo: {PROBLEM}")


def free_udp_port() -> socket.socket:
    """A bound receiver, so the datagrams are delivered instead of drawing ICMP errors."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def collect(frames: Iterator[Frame], want: int, stop: threading.Event) -> list[Frame]:
    got = []
    for frame in frames:
        got.append(frame)
        if len(got) >= want:
            stop.set()
    return got


def send_later(port: int, payloads: list[bytes], delay: float = 0.3) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            for p in payloads:
                tx.sendto(p, ("127.0.0.1", port))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@needs_capture
def test_udp_datagrams_on_loopback(tmp_path: Path) -> None:
    rx = free_udp_port()
    port = rx.getsockname()[1]
    out = tmp_path / "live.pcapng"
    stop = threading.Event()
    payloads = [b"dmsniff-live-%d" % i for i in range(3)]
    frames_iter = live_frames("lo", bpf=f"udp and port {port}", duration=10, write_to=str(out), stop=stop)
    before = time.time()
    send_later(port, payloads)
    frames = collect(frames_iter, 3, stop)
    rx.close()
    # Each datagram once: the outgoing copy the kernel also shows on lo is dropped, as libpcap does.
    assert [f[0] for f in frames] == [1, 2, 3]
    assert [f[3][-len(p) :] for f, p in zip(frames, payloads, strict=True)] == payloads
    assert all(f[2] == 1 for f in frames)  # Linux shows lo as Ethernet
    assert all(before - 1 < f[1] < time.time() + 1 for f in frames)
    assert frames[0][1] <= frames[1][1] <= frames[2][1]
    with open_capture(str(out)) as cf:
        saved = list(cf)
    assert [(f[0], f[2], f[3]) for f in saved] == [(f[0], f[2], f[3]) for f in frames]
    assert [f[1] for f in saved] == pytest.approx([f[1] for f in frames], abs=1e-6)
    if tshark_available():
        assert [r[0] for r in tshark_frames(str(out))] == [1, 2, 3]


@needs_capture
def test_tcp_exchange_on_loopback() -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    stop = threading.Event()
    frames_iter = live_frames("lo", bpf=f"tcp and port {port}", duration=10, stop=stop)

    def exchange() -> None:
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port)) as client:
            conn, _ = server.accept()
            with conn:
                client.sendall(b"POST /acs HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
                conn.recv(1000)
                conn.sendall(b"HTTP/1.1 204 No Content\r\n\r\n")
                client.recv(1000)
        time.sleep(0.5)
        stop.set()

    thread = threading.Thread(target=exchange, daemon=True)
    thread.start()
    frames = list(frames_iter)
    thread.join()
    server.close()
    assert [f[0] for f in frames] == list(range(1, len(frames) + 1))
    syns = [f for f in frames if f[3][47] & 0x12 == 0x02]  # TCP flags at 14 + 20 + 13
    assert len(syns) == 1
    assert sum(b"POST /acs" in f[3] for f in frames) == 1
    assert sum(b"204 No Content" in f[3] for f in frames) == 1
    assert len(frames) >= 7  # handshake, 2 data + 2 acks (at least), teardown


@needs_capture
def test_stop_is_noticed_without_traffic() -> None:
    rx = free_udp_port()
    stop = threading.Event()
    frames_iter = live_frames("lo", bpf=f"udp and port {rx.getsockname()[1]}", stop=stop)
    timer = threading.Timer(0.3, stop.set)
    start = time.monotonic()
    timer.start()
    assert list(frames_iter) == []
    elapsed = time.monotonic() - start
    rx.close()
    assert 0.25 < elapsed < 0.3 + 0.4


@needs_capture
def test_duration_elapses_without_traffic() -> None:
    rx = free_udp_port()
    start = time.monotonic()
    assert list(live_frames("lo", bpf=f"udp and port {rx.getsockname()[1]}", duration=0.5)) == []
    rx.close()
    assert 0.45 < time.monotonic() - start < 1.2


@needs_capture
def test_consumer_may_stop_early() -> None:
    rx = free_udp_port()
    port = rx.getsockname()[1]
    frames_iter = live_frames("lo", bpf=f"udp and port {port}", duration=10)
    send_later(port, [b"a", b"b", b"c"], delay=0.2)
    start = time.monotonic()
    for frame in frames_iter:
        assert frame[0] == 1
        break
    close = getattr(frames_iter, "close", None)
    if close is not None:
        close()
    rx.close()
    assert time.monotonic() - start < 2


def test_unknown_interface() -> None:
    with pytest.raises(CaptureError, match=r"^cannot capture on 'dmsniff-nope0': no such interface$"):
        live_frames("dmsniff-nope0")


@needs_capture
def test_bad_filter() -> None:
    with pytest.raises(CaptureError, match=r"invalid capture filter 'udp port nonsense'") as err:
        live_frames("lo", bpf="udp port nonsense")
    assert "\n" not in str(err.value)


@needs_capture
def test_unwritable_output(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="cannot write"):
        live_frames("lo", duration=0, write_to=str(tmp_path / "missing-dir" / "x.pcapng"))


@pytest.mark.parametrize(
    ("exc", "words"),
    [
        (
            PermissionError(1, "Operation not permitted"),
            "permission denied (run as root or grant CAP_NET_RAW",
        ),
        (OSError(19, "No such device"), "no such interface"),
        (OSError(100, "Network is down"), "interface is down"),
    ],
)
def test_socket_errors_become_capture_errors(
    monkeypatch: pytest.MonkeyPatch, exc: OSError, words: str
) -> None:
    pytest.importorskip("scapy")
    import scapy.arch  # noqa: F401 - live_frames imports it; it must not reset the patch below
    from scapy.config import conf

    def refuse(*args: object, **kwargs: object) -> None:
        raise exc

    monkeypatch.setattr(conf, "L2listen", refuse)
    with pytest.raises(CaptureError) as err:
        live_frames("lo")
    assert str(err.value).startswith("cannot capture on 'lo': ")
    assert words in str(err.value)


def test_a_stream_a_command_writes_is_saved_as_pcapng_as_it_passes(tmp_path: Path) -> None:
    # live --from-cmd ... -w: the frames of the stream, saved as they reach the decoder, whatever
    # the stream's own format (here classic pcap).
    import os

    from dmsniff.capture.live import saving, stream_frames
    from dmsniff.capture.writer import PcapngWriter
    from tests.conftest import CAPTURES

    source = CAPTURES / "tls_cwmp_loopback.pcap"
    data = source.read_bytes()
    read_end, write_end = os.pipe()

    def writer() -> None:
        for i in range(0, len(data), 1000):
            os.write(write_end, data[i:i + 1000])
        os.close(write_end)

    threading.Thread(target=writer, daemon=True).start()
    saved = tmp_path / "saved.pcapng"
    frames, _info = stream_frames(read_end, "cmd", threading.Event())
    passed = list(saving(frames, PcapngWriter(str(saved), None)))
    os.close(read_end)
    with open_capture(str(source)) as cf:
        original = list(cf)
    with open_capture(str(saved)) as cf:
        again = list(cf)
        assert cf.info.format == "pcapng"
    assert passed == original
    assert [(f[0], f[2], f[3]) for f in again] == [(f[0], f[2], f[3]) for f in original]
    assert all(abs(a[1] - o[1]) < 1e-6 for a, o in zip(again, original, strict=True))
    if tshark_available():
        assert [r[2] for r in tshark_frames(str(saved))] == [len(f[3]) for f in original]


def test_a_saved_stream_gets_an_interface_per_link_type(tmp_path: Path) -> None:
    from dmsniff.capture.writer import PcapngWriter

    path = tmp_path / "two.pcapng"
    with PcapngWriter(str(path), None) as writer:
        writer.write(1.0, b"\x45" + bytes(39), linktype=101)  # raw IP
        writer.write(2.0, bytes(60), linktype=1)  # Ethernet
        writer.write(3.0, b"\x45" + bytes(39), linktype=101)
        with pytest.raises(ValueError, match="without its link type"):
            PcapngWriter(str(tmp_path / "none.pcapng"), None).write(4.0, bytes(60))
    with open_capture(str(path)) as cf:
        assert [(f[0], f[2]) for f in cf] == [(1, 101), (2, 1), (3, 101)]
    if tshark_available():
        assert [r[2] for r in tshark_frames(str(path))] == [40, 60, 40]
