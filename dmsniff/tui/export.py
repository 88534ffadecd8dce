"""Exports of one session: its packets as a pcap, its record as JSON, its message bodies as files.

Used by the terminal UI's export actions, and usable without it.  Every failure a user can
cause (a capture that moved, a folder that cannot be written) is an :class:`ExportError`
whose text is one line, ready for a status bar.

Which frames belong to a session is worked out again from the capture, in one streaming
pass: a session only records the frames of its messages, while a pcap that Wireshark (or
dmsniff) can read again needs every packet of its TCP connections — handshake, ACKs,
retransmissions, FIN/RST — and every IP fragment of its datagrams.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

from scapy.utils import PcapWriter

from decoders.cwmp import CwmpMessage
from decoders.syncml import SyncMLMessage
from dmsniff.capture import CaptureError, CaptureInfo, Frame, open_capture
from dmsniff.model import Datagram, HttpMessage, Transaction
from dmsniff.net.packet import FRAGMENT_TIMEOUT, Dissector, TcpHandler, UdpHandler
from dmsniff.net.tcp import ACK, FIN, RST, SYN
from dmsniff.report.records import auth_record, finding_record, plain, session_auth, session_record
from dmsniff.sessions.model import Finding, Session, SessionMessage

__all__ = ["ExportError", "export_bodies", "export_json", "export_pcap", "session_frames"]

# Written into the pcap headers; large enough for any frame the reader accepts.
SNAPLEN = 262144


class ExportError(Exception):
    """An export could not be done; ``str(e)`` is one line for the user."""

    def __init__(self, message: str) -> None:
        # A multi-line OS or capture message would break the one-line promise of a status bar.
        super().__init__(" ".join(message.split()))


# ---------------------------------------------------------------------------------- ids


def _id_frame(ident: str) -> int:
    """The frame number an id names: ``C7`` -> 7, ``C1-7`` -> 7, ``C1-7.2`` -> 7, ``U12`` -> 12.

    Ids are built from the frame where the thing starts (see dmsniff.model); a second
    capture's ids carry an ``N-`` prefix, which names the capture, not the frame.
    """
    body = ident.lstrip("CU").split(".", 1)[0]
    try:
        return int(body.rsplit("-", 1)[-1])
    except ValueError:
        raise ExportError(f"not a connection or datagram id: {ident!r}") from None


def _wanted(session: Session) -> tuple[set[int], set[int]]:
    """(first frames of the session's TCP connections, frames wanted one by one)."""
    conns = {_id_frame(c) for c in session.connections}
    frames: set[int] = set()
    for m in session.messages:
        if m.transaction.startswith("U"):
            frames.add(m.frame)  # a Pkg#0 (or other) datagram: its frame is the datagram's
        elif m.transaction.startswith("C"):
            # Already in ``connections`` when the builder did its job; cheap insurance if not.
            conns.add(_id_frame(m.transaction))
    for cr in session.connection_requests:
        frames.update(cr.frames)
        if cr.kind == "http":
            # The device's answer alone does not make a readable pcap: take the whole connection.
            conns.add(_id_frame(cr.id))
    return conns, frames


# ----------------------------------------------------------------------- frame selection


class _FragmentDissector(Dissector):
    """A Dissector that says which frames carried the fragments of a reassembled datagram.

    The Dissector reports a reassembled datagram under the frame that completed it; an
    exported pcap without the other fragments could not be reassembled again.
    """

    def __init__(self, on_tcp: TcpHandler, on_udp: UdpHandler) -> None:
        super().__init__(on_tcp, on_udp)
        # While a completed datagram is handed on: every frame that carried a piece of it.
        self.fragment_frames: list[int] | None = None
        self.last_fragment = 0  # the latest frame that carried a fragment

    def pending_frames(self) -> set[int]:
        """Frames holding fragments of datagrams that may still complete."""
        return {n for p in self._frags.values() for n in p.frames}

    def _ipv4_fragment(
        self,
        number: int,
        ts: float,
        src: bytes,
        dst: bytes,
        ident: int,
        proto: int,
        frag: int,
        payload: bytes,
    ) -> None:
        self.last_fragment = number
        pending = self._frags.get((src, dst, ident, proto))
        self.fragment_frames = [*(pending.frames if pending is not None else ()), number]
        try:
            super()._ipv4_fragment(number, ts, src, dst, ident, proto, frag, payload)
        finally:
            self.fragment_frames = None


class _Connection:
    """What is needed to tell where one wanted TCP connection ends."""

    __slots__ = ("closed", "fins", "opener", "payload_seen", "syn_seq")

    def __init__(self, opener: tuple[bytes, int, bytes, int], syn_seq: int | None) -> None:
        self.opener = opener  # 4-tuple as sent by the side whose frame opened it
        self.syn_seq = syn_seq  # sequence number of its SYN, to recognise retransmissions
        self.fins: set[tuple[bytes, int, bytes, int]] = set()  # directions that sent FIN
        self.closed = False
        self.payload_seen = False


def _canonical(key: tuple[bytes, int, bytes, int]) -> tuple[bytes, int, bytes, int]:
    """The same key for both directions of a 4-tuple."""
    rkey = (key[2], key[3], key[0], key[1])
    return min(key, rkey)


class _Selector:
    """Picks a session's frames out of a capture as it streams past, and emits them in order.

    A wanted connection starts at its id's frame (which gives the 4-tuple) and takes
    every later frame of that 4-tuple, either direction, until a SYN that starts another
    connection on the same tuple — the rule the TCP reassembler numbers connections by:
    a retransmission of the opening SYN belongs to the connection, any other bare SYN
    (after a close, or reusing the tuple) is a new one.  Stragglers after FIN/RST (the
    last ACK, a retransmitted FIN) stay with the connection they belong to.
    """

    def __init__(self, conn_starts: set[int], frames: set[int], emit: Callable[[Frame], None]) -> None:
        self.conn_starts = conn_starts
        self.frames = frames
        self.emit = emit
        self.dissector = _FragmentDissector(self._on_tcp, self._on_udp)
        self.conns: dict[tuple[bytes, int, bytes, int], _Connection] = {}
        self.current: Frame = (0, 0.0, 0, b"")
        self.selected = False
        # Fragments wait here until their datagram completes (selected or not) or is given up;
        # selected frames wait in ``out`` behind any held fragment so the output stays in order.
        self.held: dict[int, Frame] = {}
        self.out: list[tuple[int, Frame]] = []

    def run(self, frames: Iterator[Frame]) -> None:
        """Read every frame once, emitting the selected ones in frame order."""
        self.dissector.run(self._follow(frames), [], _nothing)
        self.dissector.finish()
        self.held.clear()
        self._release(None)

    def _follow(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        # The code after ``yield`` runs once the Dissector has finished with that frame
        # (it asks for the next one), which is where a frame's fate is known.
        for frame in frames:
            self.current = frame
            self.selected = False
            yield frame
            number = frame[0]
            if not self.selected:
                if number in self.frames:
                    self._select([number])  # wanted by number but not TCP/UDP (or unparsable)
                elif self.dissector.last_fragment == number:
                    self.held[number] = frame  # a piece of a datagram that may turn out wanted
            if self.held:
                # Also let go of fragments older than the Dissector's reassembly timeout: one
                # lost fragment must not keep every later selected frame waiting in memory.
                pending = self.dissector.pending_frames()
                oldest = frame[1] - FRAGMENT_TIMEOUT
                for n in [n for n, f in self.held.items() if n not in pending or f[1] < oldest]:
                    del self.held[n]  # its datagram completed unselected, or was given up
            self._release(min(self.held) if self.held else None)

    def _release(self, floor: int | None) -> None:
        out = self.out
        while out and (floor is None or out[0][0] < floor):
            self.emit(heapq.heappop(out)[1])

    def _select(self, numbers: list[int]) -> None:
        """Queue the current frame and any earlier fragments of the datagram it completed."""
        current = self.current
        for n in numbers:
            frame = current if n == current[0] else self.held.pop(n, None)
            if frame is not None:
                heapq.heappush(self.out, (n, frame))
        self.selected = True

    def _on_tcp(
        self,
        frame: int,
        ts: float,
        src: bytes,
        sport: int,
        dst: bytes,
        dport: int,
        seq: int,
        ack: int,
        flags: int,
        payload: bytes,
    ) -> None:
        key = (src, sport, dst, dport)
        ckey = _canonical(key)
        conn = self.conns.get(ckey)
        if frame in self.conn_starts:
            # Replaces whatever ran on this tuple before: this frame starts the wanted one.
            conn = self.conns[ckey] = _Connection(key, seq if flags & SYN and not flags & ACK else None)
        elif conn is None:
            return
        elif flags & SYN and (conn.closed or not flags & ACK):
            # After a close any SYN opens a new connection (a SYN-ACK too: its SYN was missed);
            # before, only a bare SYN that is not the opening one sent again.
            retransmitted = (
                not conn.closed and not conn.payload_seen and key == conn.opener and seq == conn.syn_seq
            )
            if not retransmitted:
                del self.conns[ckey]  # the tuple is reused: that connection is not ours
                return
        if payload and key == conn.opener:
            conn.payload_seen = True
        if flags & RST:
            conn.closed = True
        elif flags & FIN:
            conn.fins.add(key)
            conn.closed = len(conn.fins) == 2
        self._select(self._fragments(frame))

    def _on_udp(
        self, frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int, payload: bytes
    ) -> None:
        if frame in self.frames:
            self._select(self._fragments(frame))

    def _fragments(self, frame: int) -> list[int]:
        # The Dissector calls back inside _ipv4_fragment for a reassembled datagram.
        return self.dissector.fragment_frames or [frame]


def _nothing() -> None:
    """Dissector.run's per-frame flush: nothing is pending here."""


def _scan(session: Session, capture_path: str | Path, emit: Callable[[Frame], None]) -> CaptureInfo:
    """Stream the capture once, handing each of the session's frames to ``emit`` in order.

    Every message's frame must come out: if one does not, this is not the capture the
    session was read from (another file, or one changed since), and an export would
    quietly hold the wrong packets.
    """
    conns, frames = _wanted(session)
    missing = {m.frame for m in session.messages}

    def check(frame: Frame) -> None:
        missing.discard(frame[0])
        emit(frame)

    path = str(capture_path)
    try:
        with open_capture(path) as cap:
            _Selector(conns, frames, check).run(iter(cap))
            info = cap.info
    except CaptureError as exc:
        raise ExportError(str(exc)) from None
    if missing:
        why = f" ({info.errors[0]})" if info.errors else ""
        raise ExportError(
            f"{path} ({info.packets} frames{why}) does not hold frame {min(missing)} of session "
            f"{session.id} as it was read: is it the capture the session came from?"
        )
    return info


def session_frames(session: Session, capture_path: str | Path) -> list[int]:
    """Every frame (1-based) of the session in the capture it was read from, in order.

    That is all packets of its TCP connections and of its HTTP connection requests'
    connections, the frames of its UDP messages and UDP connection requests, and the
    IP fragments these were reassembled from.  Raises ExportError if the capture cannot
    be read or is not the one the session came from.
    """
    numbers: list[int] = []
    _scan(session, capture_path, lambda f: numbers.append(f[0]))
    return numbers


# -------------------------------------------------------------------------------- pcap


def _option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + b"\0" * (-len(value) % 4)


def _block(btype: int, body: bytes) -> bytes:
    blen = 12 + len(body)
    return struct.pack("<II", btype, blen) + body + struct.pack("<I", blen)


def _micros(ts: float) -> tuple[int, int]:
    """(seconds, microseconds) of a timestamp.

    Microseconds, not nanoseconds: a float near today's epoch is exact only to ~0.2 µs,
    so a microsecond capture's timestamps come back exactly, and a nanosecond one's are
    rounded to the microsecond rather than given noise digits.
    """
    sec = int(ts)
    usec = round((ts - sec) * 1e6)
    if usec >= 1_000_000:
        sec, usec = sec + 1, usec - 1_000_000
    return sec, usec


class _PcapWriter:
    """Classic pcap while every frame has the same link type; pcapng once another one appears.

    Classic pcap is what every tool reads; it has one link type per file, so a frame of a
    second link type (possible in a pcapng input) turns what was written into pcapng, with
    one interface per link type.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: BinaryIO = open(path, "wb")  # noqa: SIM115 - closed by close()
        self.linktype: int | None = None
        self.ifaces: dict[int, int] | None = None  # pcapng: link type -> interface id
        self.scapy: PcapWriter | None = None
        self.count = 0

    def write(self, frame: Frame) -> None:
        """Append one frame."""
        if self.linktype is None:
            self.linktype = frame[2]
            # Classic pcap is written by scapy (the project's pcap writer), on our open file.
            self.scapy = PcapWriter(self.fh, linktype=self.linktype, sync=False, snaplen=SNAPLEN)
            self.scapy.write_header(None)  # write_packet() alone, for raw bytes, does not
        elif self.ifaces is None and frame[2] != self.linktype:
            self._to_pcapng()
        self._record(frame)
        self.count += 1

    def _record(self, frame: Frame) -> None:
        _number, ts, linktype, data = frame
        sec, usec = _micros(ts)
        n = len(data)
        # The original length is not known here; the captured bytes are all there is.
        if self.ifaces is None:
            assert self.scapy is not None
            self.scapy.write_packet(data, sec=sec, usec=usec, caplen=n, wirelen=n)
        else:
            units = sec * 1_000_000 + usec  # no if_tsresol option: microseconds
            body = struct.pack("<IIIII", self._iface(linktype), units >> 32, units & 0xFFFFFFFF, n, n)
            self.fh.write(_block(6, body + data + b"\0" * (-n % 4)))

    def _iface(self, linktype: int) -> int:
        assert self.ifaces is not None
        iface = self.ifaces.get(linktype)
        if iface is None:
            iface = self.ifaces[linktype] = len(self.ifaces)
            # pcapng allows an interface to be described anywhere before its first packet.
            self.fh.write(_block(1, struct.pack("<HHI", linktype, 0, SNAPLEN) + _option(0, b"")))
        return iface

    def _to_pcapng(self) -> None:
        """Rewrite the classic pcap written so far as pcapng and go on in that format."""
        if self.scapy is not None:
            self.scapy.flush()
            self.scapy = None
        self.fh.close()
        tmp = self.path.with_name(self.path.name + ".ng")
        try:
            # Read back rather than kept in memory: a session can be large.
            with open_capture(str(self.path)) as cap, open(tmp, "wb") as fh:
                self.fh = fh
                self.ifaces = {}
                shb = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + _option(4, b"dmsniff") + _option(0, b"")
                fh.write(_block(0x0A0D0D0A, shb))
                for frame in cap:
                    self._record(frame)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self.fh = open(self.path, "ab")  # noqa: SIM115 - closed by close()

    def close(self) -> None:
        if self.scapy is not None:
            self.scapy.flush()
        self.fh.close()


def _write_error(out: Path, exc: OSError) -> ExportError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ExportError(f"cannot write {out}: {reason}")


def _part_path(out: Path) -> Path:
    """Where a file is written before it is renamed into place (so no half file is left)."""
    return out.with_name(f".{out.name}.part")


def export_pcap(session: Session, capture_path: str | Path, out: str | Path) -> int:
    """Write the session's frames (see :func:`session_frames`) to ``out``; return how many.

    Frames keep their bytes, link type and timestamp (to the microsecond).  The file is
    classic pcap when all frames share a link type, pcapng otherwise.  The original
    lengths of frames cut by a snaplen are not known, so each is written as captured.
    """
    out = Path(out)
    part = _part_path(out)
    try:
        writer = _PcapWriter(part)
    except OSError as exc:
        raise _write_error(out, exc) from None
    try:
        try:
            _scan(session, capture_path, writer.write)
        finally:
            writer.close()
        if not writer.count:
            raise ExportError(f"no frame of session {session.id} found in {capture_path}")
        os.replace(part, out)
    except OSError as exc:
        raise _write_error(out, exc) from None
    finally:
        with contextlib.suppress(OSError):
            part.unlink()  # only left when something failed: the rename consumed it otherwise
    return writer.count


# -------------------------------------------------------------------------------- JSON


def _write_text(out: Path, text: str) -> None:
    part = _part_path(out)
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            part.unlink()
        raise _write_error(out, exc) from None


def export_json(session: Session, out: str | Path, findings: Sequence[Finding] = ()) -> None:
    """Write the session as a JSON document: its report record, findings and credentials.

    ``{"session": ..., "findings": [...], "auth": [...]}``, with the shapes of
    ``docs/report.schema.json``; ``findings`` are added to the session's own (the UI
    passes those not tied to a session that concern it), each once.
    """
    every: list[Finding] = []
    for f in (*session.findings, *findings):
        if not any(f is g or f == g for g in every):
            every.append(f)
    doc = {
        "session": session_record(session),
        "findings": [finding_record(f) for f in every],
        "auth": [auth_record(a) for a in session_auth(session)],
    }
    _write_text(Path(out), json.dumps(plain(doc), indent=2, ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------------- bodies

# Dots too: a kind is a name, and ".." in a file name only confuses.
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _safe(text: str, fallback: str) -> str:
    """A file-name part: letters, digits, ``_`` and ``-`` only, not too long."""
    return _UNSAFE.sub("_", text).strip("_-")[:64] or fallback


def _http_message(tx: Transaction, m: SessionMessage) -> HttpMessage | None:
    """The HTTP message of a transaction that carried ``m``.

    By frame first: a message sent by the server is usually a response, but not always
    (an HTTP Package #0 is the server's request), so direction alone can be wrong.
    """
    for msg in (tx.request, tx.response):
        if msg is not None and msg.frame == m.frame:
            return msg
    return tx.request if m.direction == "to_server" else tx.response


def _extension(m: SessionMessage, body: bytes) -> str:
    record = m.record
    encoding = m.encoding or (record.encoding if isinstance(record, SyncMLMessage) else None)
    if encoding == "wbxml":
        return ".wbxml"
    if encoding == "xml" or isinstance(record, CwmpMessage) or body.lstrip()[:1] == b"<":
        return ".xml"
    return ".bin"


def _body(m: SessionMessage, transactions: Mapping[str, Transaction | Datagram]) -> bytes | None:
    """The message's body bytes, or None when they are not available."""
    rec = transactions.get(m.transaction)
    if isinstance(rec, Datagram):
        return rec.payload
    if not isinstance(rec, Transaction):
        return None
    msg = _http_message(rec, m)
    if msg is None:
        return None
    body = msg.content
    if not body and (msg.body_length or msg.decoded_length):
        return None  # the bytes were dropped (a memory budget): an empty file would mislead
    return body


def export_bodies(
    session: Session, transactions: Mapping[str, Transaction | Datagram], folder: str | Path
) -> list[Path]:
    """Write each message's body to ``folder`` (created); return the files written.

    Names are ``{index:03d}-f{frame}-{direction}-{kind}{ext}`` with ``index`` the
    message's 1-based place in the session (so names stay the same when some are
    skipped), ``ext`` ``.wbxml`` for WBXML, ``.xml`` for XML, ``.bin`` otherwise.  HTTP
    bodies are written with their Content-Encoding undone; a datagram's payload as is.
    Messages whose transaction (or body) is not in ``transactions`` are skipped.
    """
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _write_error(folder, exc) from None
    written: list[Path] = []
    for index, m in enumerate(session.messages, 1):
        body = _body(m, transactions)
        if body is None:
            continue
        name = (
            f"{index:03d}-f{m.frame}-{_safe(m.direction, 'dir')}-{_safe(m.kind, 'message')}"
            f"{_extension(m, body)}"
        )
        path = folder / name
        try:
            path.write_bytes(body)
        except OSError as exc:
            raise _write_error(path, exc) from None
        written.append(path)
    return written
