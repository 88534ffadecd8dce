"""TLS over a reassembled TCP connection: records in, plaintext HTTP out.

A :class:`TlsTracker` is the :class:`~dmsniff.net.tcp.StreamSink` of a connection whose first
payload is a TLS record (any port).  It drives a sans-IO :class:`decoders.tls.TlsConnection`,
maps each record back to the capture frames that carried it, and feeds the decrypted
application data to an ordinary :class:`~dmsniff.net.http.HttpTracker`, so transactions,
sessions, verification and findings behave exactly as on plaintext; each transaction says
which TLS connection it came from.  When the connection ends, its :class:`TlsFacts` ride on
the :class:`~dmsniff.model.ConnectionEnd`, decrypted or not.

The key material a run uses is a :class:`~dmsniff.net.tls_keys.TlsKeySpec` (the user's files,
read once, picklable for worker processes), turned into a :class:`CaptureKeys` store, which also
takes the keys of the capture's own pcapng Decryption Secrets Blocks and, live, re-reads key log
files that grow while capturing.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from decoders.http import Role, sniff_role
from decoders.tls import (
    AlertEvent,
    ApplicationData,
    DataLost,
    HandshakeMessage,
    KeyLoadError,
    KeyStore,
    OpaqueData,
    SessionCache,
    TlsConnection,
    TlsEvent,
    load_rsa_key,
    parse_keylog,
)
from dmsniff.model import TlsFacts, format_endpoint
from dmsniff.net.tls_keys import MAX_KEY_FILE, TlsKeySpec

if TYPE_CHECKING:
    from dmsniff.capture import CaptureInfo
    from dmsniff.net.http import HttpTracker
    from dmsniff.net.tcp import Connection

#: An HTTP gap of unknown length (data lost inside TLS): big enough that the HTTP parser
#: gives up the message it was in and looks for the next start line.
_UNKNOWN_GAP = 1 << 40
_MAX_MARKS = 32  # frames remembered per kind of handshake message or alert
RELOAD_EVERY = 0.5  # seconds between looks at a live key log file


class CaptureKeys(KeyStore):
    """The keys for one run: the user's files, the capture's Decryption Secrets Blocks, and
    (live) key log files re-read as they grow."""

    def __init__(self, spec: TlsKeySpec) -> None:
        super().__init__()
        for name, data in spec.keylogs:
            self.add_keylog(parse_keylog(data, name))
        for name, data, pw, server in spec.rsa_keys:
            key = load_rsa_key(data, pw, name, server)
            if not isinstance(key, KeyLoadError):
                self.add_rsa_key(key)
        self._watch = {path: 0 for path in spec.watch}  # path -> bytes read so far
        self.growing = bool(spec.watch)
        self._next_look = 0.0
        self._info: CaptureInfo | None = None
        self._dsb_seen = 0

    def attach(self, info: CaptureInfo) -> None:
        """Take the keys of this capture's Decryption Secrets Blocks as the reader meets them."""
        self._info = info
        self._dsb_seen = 0

    def refresh(self) -> None:
        info = self._info
        if info is not None and len(info.tls_keylogs) > self._dsb_seen:
            for n, data in enumerate(info.tls_keylogs[self._dsb_seen:], self._dsb_seen + 1):
                self.add_keylog(parse_keylog(data, f"Decryption Secrets Block {n}"))
            self._dsb_seen = len(info.tls_keylogs)
        if self._watch:
            now = time.monotonic()
            if now >= self._next_look:
                self._next_look = now + RELOAD_EVERY
                self._reread()

    def _reread(self) -> None:
        for path, done in self._watch.items():
            try:
                with open(path, "rb") as f:
                    f.seek(done)
                    more = f.read(MAX_KEY_FILE)
            except OSError:
                continue
            cut = more.rfind(b"\n") + 1  # only whole lines: the writer may be mid-line
            if cut:
                self._watch[path] = done + cut
                self.add_keylog(parse_keylog(more[:cut], os.path.basename(path)))


@dataclass(slots=True)
class TlsStats:
    connections: int = 0
    decrypted: int = 0
    opaque_bytes: int = 0


class TlsContext:
    """What the TLS trackers of one capture share: the keys, the session cache, the counters."""

    def __init__(self, keys: CaptureKeys, info: CaptureInfo | None = None) -> None:
        self.keys = keys
        if info is not None:
            keys.attach(info)
        self.cache = SessionCache()
        self.stats = TlsStats()


MakeHttp = Callable[["Connection", int], "HttpTracker"]
Closed = Callable[["TlsTracker"], None]


class TlsTracker:
    """The :class:`~dmsniff.net.tcp.StreamSink` of one TLS connection."""

    def __init__(self, conn: Connection, direction: int, first: bytes, ctx: TlsContext, make_http: MakeHttp,
                 closed: Closed, capture: int) -> None:
        self.conn = conn
        self.ctx = ctx
        self.capture = capture
        self.make_http = make_http
        self.closed = closed
        ctx.stats.connections += 1
        # Who is the client?  The sender of a ClientHello; the receiver of a ServerHello; for a
        # capture that starts mid-connection, the side with the higher port.
        if first[0] == 22 and len(first) > 5:
            client = direction if first[5] == 1 else 1 - direction
        else:
            client = 0 if conn.a_port > conn.b_port else 1
        self.client_dir = client
        ends = ((conn.a_ip, conn.a_port), (conn.b_ip, conn.b_port))
        self.client = format_endpoint(*ends[client])
        self.server = format_endpoint(*ends[1 - client])
        self.tls = TlsConnection(ctx.keys, ctx.cache, server=ends[1 - client], name=conn.id)
        self.http: HttpTracker | None = None
        self.not_http = False
        self.count = 0  # HTTP exchanges (read by the pipeline when the connection ends)
        self.tls_facts: TlsFacts | None = None
        self.chunks: tuple[deque[tuple[int, int, float]], ...] = (deque(), deque())  # (end offset, frame, ts)
        self.offsets = [0, 0]
        self.marks: dict[str, list[int]] = {}
        self.alert_frames: list[int] = []
        self.first_frame = 0
        self.last_frame = 0
        self.first_time = 0.0
        self.last_time = 0.0

    # -- StreamSink ----------------------------------------------------------------------------------
    def data(self, direction: int, data: bytes, frame: int, ts: float) -> None:
        end = self.offsets[direction] + len(data)
        self.offsets[direction] = end
        self.chunks[direction].append((end, frame, ts))
        if not self.first_frame:
            self.first_frame, self.first_time = frame, ts
        self.last_frame, self.last_time = frame, ts
        events = self.tls.receive_data(direction, data)
        if events:
            self._handle(events)
            self._forget(direction)

    def gap(self, direction: int, length: int, frame: int, ts: float) -> None:
        self.offsets[direction] += length
        self.chunks[direction].append((self.offsets[direction], frame, ts))
        events = self.tls.receive_gap(direction, length)
        if events:
            self._handle(events)

    def eof(self, direction: int, frame: int, ts: float) -> None:
        self._handle(self.tls.receive_eof(direction))
        if self.http is not None:
            self.http.eof(direction, frame, ts)

    def close(self) -> None:
        summary = self.tls.summary()
        if summary.info.client_direction is not None and summary.info.client_direction != self.client_dir:
            self.client_dir = summary.info.client_direction  # the ClientHello says otherwise
            self.client, self.server = self.server, self.client
        stats = self.ctx.stats
        if summary.decrypted:
            stats.decrypted += 1
        stats.opaque_bytes += sum(summary.opaque_bytes)
        self.tls_facts = TlsFacts(
            connection=self.conn.id, capture=self.capture, client=self.client, server=self.server,
            client_direction=self.client_dir, summary=summary, frames=self.marks,
            first_frame=self.first_frame, last_frame=self.last_frame, first_time=self.first_time,
            last_time=self.last_time, http=self.http is not None, notes=self._notes(summary.info.alpn),
            alert_frames=self.alert_frames,
        )
        if self.http is not None:
            self.http.tls = self.tls.info
            self.http.tls_facts = self.tls_facts
            self.http.close()  # its closed() callback reports the connection's end, with these facts
        else:
            self.closed(self)

    def _notes(self, alpn: str | None) -> list[str]:
        if not self.not_http:
            return []
        if alpn in ("h2", "h3"):
            return [f"warning: the decrypted data is HTTP/2 (ALPN {alpn}), which dmsniff does not decode"]
        return ["info: the decrypted data is not HTTP/1.x: counted, not decoded"]

    # -- events ---------------------------------------------------------------------------------------
    def _handle(self, events: list[TlsEvent]) -> None:
        for ev in events:
            t = type(ev)
            if t is ApplicationData:
                self._plaintext(ev)  # type: ignore[arg-type]
            elif t is HandshakeMessage:
                self._mark(ev.name, ev.direction, ev.end)  # type: ignore[union-attr]
                if self.http is not None:
                    self.http.tls = self.tls.info
            elif t is AlertEvent:
                self._mark("alert", ev.alert.direction, ev.end)  # type: ignore[union-attr]
                if len(self.alert_frames) < 64:  # as many as the decoder keeps, one per alert
                    self.alert_frames.append(self._frame_at(ev.alert.direction, ev.end)[0])  # type: ignore[union-attr]
            elif t is OpaqueData or t is DataLost:
                http = self.http
                if http is not None:
                    frame, ts = self._frame_at(ev.direction, ev.end)  # type: ignore[union-attr]
                    length = ev.length  # type: ignore[union-attr]
                    http.gap(ev.direction, length if length else _UNKNOWN_GAP, frame, ts)  # type: ignore[union-attr]

    def _plaintext(self, ev: ApplicationData) -> None:
        http = self.http
        if http is None:
            if self.not_http or not ev.data:
                return
            role = sniff_role(ev.data)
            if role is None:
                if len(ev.data) >= 16 or b"\n" in ev.data:
                    self.not_http = True  # another protocol inside TLS: counted, not parsed
                return
            req_dir = ev.direction if role is Role.CLIENT else 1 - ev.direction
            http = self.http = self.make_http(self.conn, req_dir)
            http.tls = self.tls.info
        frame, ts = self._frame_at(ev.direction, ev.end)
        http.data(ev.direction, ev.data, frame, ts)

    def _frame_at(self, direction: int, end: int) -> tuple[int, float]:
        """The frame (and its time) that carried the byte just before stream offset ``end``."""
        for c_end, frame, ts in self.chunks[direction]:
            if c_end >= end:
                return frame, ts
        return self.last_frame, self.last_time

    def _forget(self, direction: int) -> None:
        """Drop the frame map of bytes the TLS decoder has consumed (it keeps at most a record)."""
        chunks = self.chunks[direction]
        consumed = self.offsets[direction] - self.tls.buffered(direction)
        while len(chunks) > 1 and chunks[0][0] <= consumed:
            chunks.popleft()

    def _mark(self, name: str, direction: int, end: int) -> None:
        frames = self.marks.setdefault(name, [])
        if len(frames) < _MAX_MARKS:
            frame = self._frame_at(direction, end)[0]
            if not frames or frames[-1] != frame:
                frames.append(frame)
