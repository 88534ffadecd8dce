"""Exports of sessions: their packets as pcap or pcapng, their records as JSON, their bodies as files.

Used by the terminal UI's export actions and by ``dmsniff report --export-pcapng``.  Every
failure a user can cause (a capture that moved, a folder that cannot be written) is an
:class:`ExportError` whose text is one line, ready for a status bar.

Which frames belong to a session is worked out again from the capture, in one streaming
pass: a session only records the frames of its messages, while a pcap that Wireshark (or
dmsniff) can read again needs every packet of its TCP connections — handshake, ACKs,
retransmissions, FIN/RST — and every IP fragment of its datagrams.

A session decrypted from TLS is written as pcapng with the NSS key log lines that open its
connections in a Decryption Secrets Block ahead of the packets, so Wireshark (and dmsniff)
open the file already decrypted, with no key option.  The lines are the connections' own,
never the rest of the key log the user gave.
"""

from __future__ import annotations

import contextlib
import heapq
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

from decoders.cwmp import CwmpMessage
from decoders.syncml import SyncMLMessage
from dmsniff.capture import CaptureError, CaptureInfo, Frame, open_input
from dmsniff.capture.writer import FrameWriter
from dmsniff.model import ConnectionEnd, Datagram, Finding, HttpMessage, TlsFacts, Transaction, connection_of
from dmsniff.net.packet import FRAGMENT_TIMEOUT, Dissector, TcpHandler, UdpHandler
from dmsniff.net.tcp import ACK, FIN, RST, SYN
from dmsniff.pipeline.addons import Addon
from dmsniff.report.records import auth_record, finding_record, plain, session_auth, session_record
from dmsniff.sessions.model import Session, SessionMessage

__all__ = [
    "ExportError",
    "PcapngExport",
    "capture_keylog_lines",
    "export_bodies",
    "export_json",
    "export_pcap",
    "export_pcapng",
    "keylog_lines",
    "session_connections",
    "session_frames",
]

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


def session_connections(session: Session) -> list[str]:
    """The ids of the TCP connections a session's export holds, in order of first frame.

    Its own connections, and those of its HTTP connection requests (the device's answer
    alone does not make a readable pcap: the whole connection is taken).
    """
    ids: dict[str, None] = dict.fromkeys(session.connections)
    for m in session.messages:
        conn = connection_of(m.transaction)
        if conn is not None:
            # Already in ``connections`` when the builder did its job; cheap insurance if not.
            ids[conn] = None
    for cr in session.connection_requests:
        conn = connection_of(cr.id)
        if cr.kind == "http" and conn is not None:
            ids[conn] = None
    return sorted(ids, key=_id_frame)


def keylog_lines(connections: Iterable[str], tls: Mapping[str, TlsFacts]) -> list[str]:
    """The NSS key log lines that open these TLS connections (each line once, in order).

    Connections that are not in ``tls`` (plaintext, or not ended yet) add nothing.
    """
    lines: dict[str, None] = {}
    for conn in connections:
        facts = tls.get(conn)
        if facts is not None:
            lines.update(dict.fromkeys(facts.summary.keylog_lines))
    return list(lines)


def capture_keylog_lines(tls: Mapping[str, TlsFacts]) -> list[str]:
    """The key log lines of every TLS connection in ``tls`` (by connection id), in capture order."""
    return keylog_lines(sorted(tls, key=_id_frame), tls)


def _wanted(session: Session) -> tuple[set[int], set[int]]:
    """(first frames of the session's TCP connections, frames wanted one by one)."""
    conns = {_id_frame(c) for c in session_connections(session)}
    frames: set[int] = set()
    for m in session.messages:
        if m.transaction.startswith("U"):
            frames.add(m.frame)  # a Pkg#0 (or other) datagram: its frame is the datagram's
    for cr in session.connection_requests:
        frames.update(cr.frames)
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


def _scan(sessions: Sequence[Session], capture_path: str | Path,
          emit: Callable[[Frame], None]) -> CaptureInfo:
    """Stream the capture once, handing each frame of the sessions to ``emit`` in order.

    With no session, every frame of the capture.  Every message's frame must come out: if
    one does not, this is not the capture the sessions were read from (another file, or one
    changed since), and an export would quietly hold the wrong packets.
    """
    conns: set[int] = set()
    frames: set[int] = set()
    missing: dict[int, str] = {}  # frame -> the session that needs it
    for session in sessions:
        c, f = _wanted(session)
        conns |= c
        frames |= f
        for m in session.messages:
            missing.setdefault(m.frame, session.id)

    def check(frame: Frame) -> None:
        missing.pop(frame[0], None)
        emit(frame)

    path = str(capture_path)
    try:
        with open_input(path) as cap:  # ("-": standard input, read again from its copy)
            if sessions:
                _Selector(conns, frames, check).run(iter(cap))
            else:
                for frame in cap:
                    emit(frame)
            info = cap.info
    except CaptureError as exc:
        raise ExportError(str(exc)) from None
    if missing:
        first = min(missing)
        why = f" ({info.errors[0]})" if info.errors else ""
        raise ExportError(
            f"{path} ({info.packets} frames{why}) does not hold frame {first} of session "
            f"{missing[first]} as it was read: is it the capture the session came from?"
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
    _scan([session], capture_path, lambda f: numbers.append(f[0]))
    return numbers


def _write_error(out: Path, exc: OSError) -> ExportError:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return ExportError(f"cannot write {out}: {reason}")


def _part_path(out: Path) -> Path:
    """Where a file is written before it is renamed into place (so no half file is left)."""
    return out.with_name(f".{out.name}.part")


def _write_frames(sessions: Sequence[Session], capture_path: str | Path, out: str | Path,
                  keylog: Sequence[str], pcapng: bool) -> int:
    out = Path(out)
    part = _part_path(out)
    try:
        writer = FrameWriter(part, keylog, pcapng=pcapng)
    except OSError as exc:
        raise _write_error(out, exc) from None
    try:
        try:
            _scan(sessions, capture_path, writer.write)
        finally:
            writer.close()
        if not writer.count:
            what = f"session {sessions[0].id}" if len(sessions) == 1 else "the export"
            raise ExportError(f"no frame of {what} found in {capture_path}")
        os.replace(part, out)
    except OSError as exc:
        raise _write_error(out, exc) from None
    finally:
        with contextlib.suppress(OSError):
            part.unlink()  # only left when something failed: the rename consumed it otherwise
    return writer.count


def export_pcap(session: Session, capture_path: str | Path, out: str | Path,
                keylog: Sequence[str] = ()) -> int:
    """Write the session's frames (see :func:`session_frames`) to ``out``; return how many.

    Frames keep their bytes, link type and timestamp (to the microsecond).  The file is
    classic pcap when all frames share a link type and no ``keylog`` is given, pcapng
    otherwise; ``keylog`` (the session's :func:`keylog_lines`) goes in a Decryption Secrets
    Block before the first packet, so Wireshark decrypts the session's TLS with no key
    option.  The original lengths of frames cut by a snaplen are not known, so each is
    written as captured.
    """
    return _write_frames([session], capture_path, out, keylog, pcapng=False)


def export_pcapng(capture_path: str | Path, out: str | Path, sessions: Sequence[Session] = (),
                  keylog: Sequence[str] = ()) -> int:
    """Write the frames of ``sessions`` (every frame of the capture when none) as pcapng.

    Like :func:`export_pcap`, always pcapng, with ``keylog`` in a Decryption Secrets Block
    when there is any.  Returns the number of frames written.
    """
    return _write_frames(list(sessions), capture_path, out, keylog, pcapng=True)


class PcapngExport(Addon):
    """Collects what :func:`export_pcapng` needs while a capture is read (``report --export-pcapng``).

    The sessions named in ``session_ids`` (none: the whole capture is exported) and the
    key log lines of every TLS connection, kept by connection id; :meth:`write` then makes
    the file from the capture.
    """

    def __init__(self, session_ids: Sequence[str] = ()) -> None:
        self.session_ids = list(dict.fromkeys(session_ids))
        self.sessions: dict[str, Session] = {}
        self.keylogs: dict[str, tuple[str, ...]] = {}  # connection id -> its key log lines

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None and end.tls.summary.keylog_lines:
            self.keylogs[end.connection] = end.tls.summary.keylog_lines

    def session(self, session: Session) -> None:
        if session.id in self.session_ids:
            self.sessions[session.id] = session

    def write(self, capture_path: str | Path, out: str | Path) -> tuple[int, int]:
        """Write the export; return (frames, key log lines) written.  Raises ExportError."""
        unknown = [i for i in self.session_ids if i not in self.sessions]
        if unknown:
            raise ExportError(f"no session {', '.join(unknown)} in {capture_path}")
        sessions = [self.sessions[i] for i in self.session_ids]
        lines = self.keylog_lines(sessions)
        return export_pcapng(capture_path, out, sessions, lines), len(lines)

    def keylog_lines(self, sessions: Sequence[Session] = ()) -> list[str]:
        """The key log lines that opened these sessions' TLS connections (none given: every TLS
        connection's), each once, in the order of the connections."""
        conns = ([c for s in sessions for c in session_connections(s)] if sessions
                 else sorted(self.keylogs, key=_id_frame))
        lines: dict[str, None] = {}
        for conn in conns:
            lines.update(dict.fromkeys(self.keylogs.get(conn, ())))
        return list(lines)


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
