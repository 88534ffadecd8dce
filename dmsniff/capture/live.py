"""Live capture source built on scapy's Linux packet socket.

scapy is imported inside live_frames(): importing it costs a noticeable fraction of
a second and file reading must not pay for it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Final

from dmsniff.capture.reader import CaptureError, CaptureInfo, Frame
from dmsniff.capture.writer import PcapngWriter

POLL: Final = 0.1  # seconds; stop/duration are checked at least this often
SNAPLEN: Final = 262144
QUEUE_MAX: Final = 100_000  # frames buffered for a slow consumer before the kernel starts dropping
RCVBUF: Final = 8 * 1024 * 1024
_ARPHRD_LOOPBACK: Final = 772
_PERM_HINT: Final = "permission denied (run as root or grant CAP_NET_RAW to the Python binary)"


class _Done:
    """Queue sentinel: the reader thread has finished."""


def _open_error(iface: str, exc: BaseException) -> CaptureError:
    where = f"cannot capture on {iface!r}"
    if isinstance(exc, PermissionError) or (
        isinstance(exc, OSError) and exc.errno in (errno.EPERM, errno.EACCES)
    ):
        return CaptureError(f"{where}: {_PERM_HINT}")
    if isinstance(exc, OSError) and exc.errno == errno.ENODEV:
        return CaptureError(f"{where}: no such interface")
    if isinstance(exc, OSError) and exc.errno == errno.ENETDOWN:
        return CaptureError(f"{where}: interface is down")
    text = " ".join(str(exc).split()) or type(exc).__name__
    return CaptureError(f"{where}: {text}")


def _hardware_type(sock: Any) -> int | None:
    """ARPHRD type of a Linux packet socket; None elsewhere (e.g. BPF devices)."""
    try:
        return int(sock.ins.getsockname()[3])
    except (AttributeError, OSError, IndexError, TypeError, ValueError):
        return None


def _linktype(sock: Any, hatype: int | None) -> int:
    """LINKTYPE number for the socket's hardware type, as scapy maps it."""
    from scapy.config import conf
    from scapy.data import ARPHRD_TO_DLT

    dlt = None if hatype is None else ARPHRD_TO_DLT.get(hatype)
    if dlt is None or dlt < 0:
        dlt = conf.l2types.layer2num.get(sock.LL, 1)
    # DLT_RAW is 12 (14 on OpenBSD) in the API but LINKTYPE_RAW (101) in files.
    return 101 if dlt in (12, 14) else int(dlt)


def live_frames(
    iface: str,
    bpf: str | None = None,
    duration: float | None = None,
    write_to: str | None = None,
    stop: threading.Event | None = None,
) -> Iterator[Frame]:
    """Capture on iface, yielding frames as they arrive until duration elapses or stop is set.

    The socket is opened here, so CaptureError for a bad interface, filter or missing
    privilege is raised by the call itself, not by the first next().
    """
    try:
        socket.if_nametoindex(iface)
    except OSError:
        raise CaptureError(f"cannot capture on {iface!r}: no such interface") from None
    try:
        # scapy.arch sets conf.L2listen; scapy.layers.l2 registers the link layers that scapy
        # uses to name the socket type (a fraction of the cost of scapy.all).
        import scapy.arch
        import scapy.layers.l2  # noqa: F401
        from scapy.config import conf
        from scapy.error import Scapy_Exception
    except ImportError as exc:  # pragma: no cover - scapy is a dependency
        raise CaptureError(f"cannot capture on {iface!r}: scapy is not available ({exc})") from None
    try:
        sock = conf.L2listen(iface=iface, filter=bpf)
    except Scapy_Exception as exc:
        if bpf is not None and "filter" in str(exc).lower():
            raise CaptureError(f"invalid capture filter {bpf!r}: {' '.join(str(exc).split())}") from None
        raise _open_error(iface, exc) from None
    except (OSError, ValueError) as exc:
        raise _open_error(iface, exc) from None
    # scapy leaves a 64 KiB receive buffer; bursts while the consumer is busy would be dropped.
    # Failing to enlarge it is harmless.
    with contextlib.suppress(AttributeError, OSError):
        sock.ins.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    hatype = _hardware_type(sock)
    linktype = _linktype(sock, hatype)
    writer = None
    if write_to:
        try:
            writer = PcapngWriter(write_to, linktype, SNAPLEN, if_name=iface)
        except OSError as exc:
            sock.close()
            raise CaptureError(f"cannot write {write_to!r}: {exc.strerror or exc}") from None
    return _frames(iface, sock, linktype, hatype, writer, duration, stop)


def _reader(
    sock: Any,
    linktype: int,
    hatype: int | None,
    writer: PcapngWriter | None,
    out: queue.Queue[Frame | BaseException | _Done],
    halt: threading.Event,
) -> None:
    """Thread body: read the socket, number and save frames, hand them to the consumer."""
    # libpcap hides outgoing copies on loopback, else every packet would appear twice.
    loopback = hatype == _ARPHRD_LOOPBACK
    # _recv_raw() also returns the address, whose packet type tells outgoing copies apart;
    # it is scapy's Linux packet-socket internals, so fall back to recv_raw() elsewhere.
    recv_addr = getattr(sock, "_recv_raw", None) if hatype is not None else None
    num = 0
    item: Frame | BaseException | _Done = _Done()
    try:
        while not halt.is_set():
            ready, _, _ = select.select([sock], [], [], POLL)
            if not ready:
                continue
            if recv_addr is not None:
                data, addr, ts = recv_addr(sock.ins, SNAPLEN)
                if loopback and addr[2] == socket.PACKET_OUTGOING:
                    continue
            else:
                _cls, data, ts = sock.recv_raw(SNAPLEN)
            if not data:
                continue
            num += 1
            frame: Frame = (num, float(ts) if ts else time.time(), linktype, bytes(data))
            if writer is not None:
                writer.write(frame[1], frame[3])
            while not halt.is_set():
                try:
                    out.put(frame, timeout=POLL)
                    break
                except queue.Full:
                    continue
    except Exception as exc:  # handed to the consumer, which raises CaptureError
        item = exc
    finally:
        while not halt.is_set():
            try:
                out.put(item, timeout=POLL)
                break
            except queue.Full:
                continue


def _frames(
    iface: str,
    sock: Any,
    linktype: int,
    hatype: int | None,
    writer: PcapngWriter | None,
    duration: float | None,
    stop: threading.Event | None,
) -> Iterator[Frame]:
    out: queue.Queue[Frame | BaseException | _Done] = queue.Queue(QUEUE_MAX)
    halt = threading.Event()
    thread = threading.Thread(
        target=_reader, args=(sock, linktype, hatype, writer, out, halt), name=f"capture-{iface}", daemon=True
    )
    deadline = None if duration is None else time.monotonic() + duration
    thread.start()
    try:
        while stop is None or not stop.is_set():
            timeout = POLL
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                timeout = min(timeout, remaining)
            try:
                item = out.get(timeout=timeout)
            except queue.Empty:
                continue
            if isinstance(item, _Done):
                break
            if isinstance(item, BaseException):
                raise CaptureError(f"capture on {iface!r} failed: {' '.join(str(item).split())}") from item
            yield item
        # Stopped by duration or ``stop``: frames already captured (and written to the
        # pcapng file) are still decoded, so the report matches the saved file.
        halt.set()
        thread.join(timeout=2.0)
        while True:
            try:
                item = out.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, tuple):
                yield item
    finally:
        halt.set()
        thread.join(timeout=2.0)
        sock.close()
        if writer is not None:
            writer.close()


def live_info(iface: str) -> CaptureInfo:
    """The CaptureInfo of a live capture: filled in as frames arrive (packets, times, link types)."""
    return CaptureInfo(path=f"live:{iface}", format="live", compressed=False, packets=0, link_types=[],
                       first_time=None, last_time=None, errors=[])


class _StoppableStream:
    """A pipe's read end that gives up (end of data) once ``stop`` is set, so quitting never hangs."""

    def __init__(self, fd: int, stop: threading.Event) -> None:
        self.fd = fd
        self.stop = stop
        self.name = "<stream>"

    def read(self, size: int = -1) -> bytes:
        want = size if size > 0 else 1 << 20
        while not self.stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], POLL)
            if ready:
                try:
                    return os.read(self.fd, want)
                except OSError:
                    return b""
        return b""


def saving(frames: Iterator[Frame], writer: PcapngWriter) -> Iterator[Frame]:
    """``frames``, each saved with ``writer`` as it passes (``-w`` for a stream a command writes:
    pcapng whatever the stream was, an interface per link type); the writer is closed at the end."""
    try:
        for frame in frames:
            writer.write(frame[1], frame[3], linktype=frame[2])
            yield frame
    finally:
        writer.close()


def stream_frames(fd: int, name: str, stop: threading.Event) -> tuple[Iterator[Frame], CaptureInfo]:
    """Frames of a pcap or pcapng stream on a file descriptor (a pipe from tcpdump -w -), read as
    they arrive; the stream ends at its end of data or when ``stop`` is set."""
    from dmsniff.capture.reader import open_capture

    cap = open_capture(_StoppableStream(fd, stop), name)  # type: ignore[arg-type]
    return iter(cap), cap.info
