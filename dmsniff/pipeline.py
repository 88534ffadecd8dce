"""The pipeline: frames → IP/TCP/UDP → HTTP transactions and datagrams → addons.

Everything that consumes decoded traffic (report writers now; the CWMP and OMA DM
decoders, session builders and verifiers later) is an :class:`Addon`, in the manner of
mitmproxy: it implements the hooks it cares about and is called in order.  The
pipeline itself knows nothing about what the addons do, so a new protocol plugs in as
one more addon fed with transactions and datagrams.

Nothing here keeps transactions once the addons have seen them, so memory is bounded
by the open connections, not by the size of the capture.

Order is canonical: records are handed on sorted by (frame being processed when the
record was completed, connection number, exchange number), so a report is the same
whether one process decoded the capture or several (see :mod:`dmsniff.parallel`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from dmsniff.capture import CaptureError, CaptureInfo, Frame, link_type_name, open_input
from dmsniff.logs import log_format
from dmsniff.model import ConnectionEnd, Datagram, Finding, Rule, Transaction, format_ip
from dmsniff.net.http import DEFAULT_MAX_BODY, HttpStats, HttpTracker, make_classifier
from dmsniff.net.packet import Dissector
from dmsniff.net.tcp import Connection, TcpReassembler
from dmsniff.net.tls_keys import TlsKeySpec

if TYPE_CHECKING:
    from dmsniff.net.tls import CaptureKeys, TlsContext, TlsTracker
    from dmsniff.parallel import WorkerPool
    from dmsniff.progress import Progress
    from dmsniff.sessions.model import Device, Session
    from dmsniff.verify.model import AuthResult


@dataclass(slots=True)
class CaptureSummary:
    """What was read from one capture: the ``captures`` entry of a report."""

    index: int
    info: CaptureInfo
    tcp_connections: int = 0
    http_connections: int = 0
    http_transactions: int = 0
    udp_datagrams: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return self.info.errors

    def to_dict(self) -> dict[str, object]:
        info = self.info
        return {
            "index": self.index,
            "path": info.path,
            "format": info.format,
            "compressed": info.compressed,
            "packets": info.packets,
            "link_types": [link_type_name(lt) for lt in info.link_types],
            "first_time": info.first_time,
            "last_time": info.last_time,
            "tcp_connections": self.tcp_connections,
            "http_connections": self.http_connections,
            "http_transactions": self.http_transactions,
            "udp_datagrams": self.udp_datagrams,
            "counters": self.counters,
            "errors": list(info.errors),
            **({"parts": [{"path": p, "first_frame": first, "frames": n} for p, first, n in info.parts]}
               if info.parts else {}),
            # A log read as a capture (dmsniff.logs): what its frame numbers are, what it cannot tell.
            **({"frames": "entries" if info.frame_unit == "entry" else f"{info.frame_unit}s",
                "notes": list(info.notes)} if info.frame_unit != "packet" else {}),
        }


class Addon:
    """Base class for pipeline consumers; override the hooks you need."""

    #: Whether :meth:`transaction` reads message bodies.  When no addon does, bodies are
    #: not copied between processes in a parallel run (lengths are always kept).
    needs_bodies: bool = False

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        """A capture is about to be read."""

    def transaction(self, tx: Transaction) -> None:
        """An HTTP request/response pair completed (or its connection ended)."""

    def datagram(self, dg: Datagram) -> None:
        """A UDP datagram was seen."""

    def connection_end(self, end: ConnectionEnd) -> None:
        """An HTTP connection ended; its transactions have all been handed on."""

    def session(self, session: Session) -> None:
        """A session builder finished a session (CWMP, OMA DM)."""

    def finding(self, finding: Finding) -> None:
        """A finding not tied to one session (sessions carry their own)."""

    def device(self, device: Device) -> None:
        """What was learned about one device, once every capture has been read."""

    def auth(self, result: AuthResult) -> None:
        """dmsniff.verify judged one credential (emitted before the session builders see it)."""

    def attach(self, pipeline: Pipeline) -> None:
        """Called once when the addon joins a pipeline; builders keep it to emit results."""

    def capture_end(self, summary: CaptureSummary) -> None:
        """A capture has been read to its end (or to the fault that stopped it)."""

    def capture_failed(self, path: str, error: CaptureError) -> None:
        """A capture could not be read at all."""

    def done(self) -> None:
        """Every capture has been read."""


#: What a run reads: a capture file, "-" for standard input, or several files read as one.
Input = str | tuple[str, ...]

#: A record in canonical order: ((frame, connection number, exchange number), record).
Item = tuple[tuple[int, int, int], "Transaction | Datagram | ConnectionEnd | Finding"]

#: The finding for a record dmsniff could not process (a bug): the rest of the capture goes on.
INTERNAL_ERROR = "dmsniff.internal-error"
RULES: dict[str, Rule] = {
    INTERNAL_ERROR: Rule(
        "error",
        "dmsniff itself: a bug, please report it with the capture",
        "A part of dmsniff failed on one record (both are named); the rest of the capture was "
        "analysed without it.",
    ),
}
MAX_INTERNAL_ERRORS = 100  # per addon (and per capture for the decoding layers), then one summary


def internal_error(where: str, exc: BaseException, frames: list[int], capture: int) -> Finding:
    """The finding that stands for a record one part of dmsniff failed on."""
    text = str(exc).replace("\n", " ")[:200]
    return RULES[INTERNAL_ERROR].finding(INTERNAL_ERROR, f"{where}: {type(exc).__name__}: {text}", frames,
                                         None, capture)


class Decoder:
    """Decodes the frames of one capture into an ordered stream of :data:`Item`.

    With ``nshards > 1`` this decoder handles only the TCP connections that hash to
    ``shard`` (whole connections, both directions, so each is followed exactly as a
    single decoder would) and only shard 0 reports UDP datagrams.
    """

    def __init__(self, index: int, out: Callable[[Item], None], *, max_body: int = DEFAULT_MAX_BODY,
                 shard: int = 0, nshards: int = 1, decode: bool = True,
                 keys: Callable[[], CaptureKeys] | None = None, by_hosts: bool = False,
                 info: CaptureInfo | None = None) -> None:
        self.index = index
        self.out = out
        self._decode = decode  # False: HTTP and UDP only, no protocol decoders
        if decode:
            # Imported here, not at the top: an HTTP-only run (and a worker forked before
            # the main process has loaded the decoders) never needs lxml and the decoders.
            from dmsniff.protocols import decode_datagram, decode_transaction

            self._decode_transaction = decode_transaction
            self._decode_datagram = decode_datagram
        self._pending: list[Item] = []
        # Ids name the frame where a thing starts, so every shard (and every run) agrees.
        self._tag = "" if index == 0 else f"{index}-"
        self._want_datagrams = shard == 0
        self._finishing = False
        self.http_stats = HttpStats()
        # TLS is always followed (an HTTPS connection is reported, decrypted or not); the keys are
        # the user's, plus those in the capture's own Decryption Secrets Blocks.  The TLS state is
        # made when the first TLS connection shows up: plaintext captures never load the crypto.
        self._keys = keys
        self._info = info
        self.tls: TlsContext | None = None
        classify = make_classifier(index, self._emit_transaction, self.http_stats, max_body, self._closed,
                                   self._tls_context)
        self.tcp = TcpReassembler(classify, id_prefix=f"C{self._tag}")
        # With TLS keys, connections are split between workers by host pair, not by 4-tuple: a
        # resumed TLS session then meets the full handshake whose master secret it reuses.
        self.dissector = Dissector(self.tcp.segment, self._on_udp, shard=shard, nshards=nshards,
                                   by_hosts=by_hosts)
        self._faults = 0
        self.dissector.on_fault = self._frame_fault
        self.tcp.on_fault = self._connection_fault

    def _tls_context(self) -> TlsContext:
        if self.tls is None:
            from dmsniff.net.tls import CaptureKeys, TlsContext

            keys = self._keys() if self._keys is not None else CaptureKeys(TlsKeySpec())
            self.tls = TlsContext(keys, self._info)
        return self.tls

    def _emit_transaction(self, tx: Transaction, conn_frame: int, number: int) -> None:
        if self._decode:
            try:
                self._decode_transaction(tx)
            except Exception as exc:  # a decoder bug costs this exchange's decoding, nothing more
                msg = tx.request or tx.response
                self._report(f"decoding the bodies of {tx.id}", exc, [msg.frame] if msg else [], conn_frame)
        self._pending.append(((self.dissector.current_frame, conn_frame, number), tx))

    def _report(self, where: str, exc: Exception, frames: list[int], conn_frame: int) -> None:
        """A part of the decoding failed (a bug): say so as a finding, in canonical order."""
        if os.environ.get("DMSNIFF_DEBUG"):
            traceback.print_exception(exc)
        self._faults += 1
        if self._faults > MAX_INTERNAL_ERRORS:
            return
        if self._faults == MAX_INTERNAL_ERRORS:
            where += " (further internal errors in this capture are not reported)"
        finding = internal_error(where, exc, frames, self.index)
        self._pending.append(((self.dissector.current_frame, conn_frame, 0), finding))

    def _frame_fault(self, frame: int, exc: Exception) -> None:
        self._report(f"decoding frame {frame}", exc, [frame], 0)

    def _connection_fault(self, conn: Connection, exc: Exception) -> None:
        frame = self.dissector.current_frame
        self._report(f"following connection {conn.id} (the rest of it is skipped)", exc, [frame],
                     conn.first_frame)

    def _closed(self, tracker: HttpTracker | TlsTracker) -> None:
        conn = tracker.conn
        end = ConnectionEnd(self.index, conn.id, conn.last_ts, self._finishing, tracker.tls_facts)
        # Sorts after the connection's last exchange.
        self._pending.append(((self.dissector.current_frame, conn.first_frame, tracker.count + 1), end))

    def _on_udp(self, frame: int, ts: float, src: bytes, sport: int, dst: bytes, dport: int,
                payload: bytes) -> None:
        if self._want_datagrams:
            record = None
            if self._decode:
                try:
                    record = self._decode_datagram(payload, sport, dport)
                except Exception as exc:
                    self._report(f"decoding datagram U{self._tag}{frame}", exc, [frame], 0)
            dg = Datagram(f"U{self._tag}{frame}", self.index, frame, ts, format_ip(src), sport,
                          format_ip(dst), dport, payload, record)
            self._pending.append(((frame, 0, 0), dg))

    def _flush(self) -> None:
        pending = self._pending
        if len(pending) > 1:
            pending.sort(key=itemgetter(0))
        out = self.out
        for item in pending:
            out(item)
        pending.clear()

    def run(self, frames: Iterable[Frame], info: CaptureInfo) -> None:
        """Decode every frame, then flush what is still open at the end of the capture."""
        try:
            # Records are flushed after the frame that completed them: live captures stream.
            self.dissector.run(frames, self._pending, self._flush)
        except KeyboardInterrupt:
            info.errors.append("interrupted")
        finally:
            self._finishing = True
            self.dissector.current_frame += 1  # records completed by the end sort after every frame
            self.dissector.finish()
            self.tcp.finish()
            self._flush()

    def summary(self, info: CaptureInfo) -> CaptureSummary:
        st, tcp, http = self.dissector.stats, self.tcp, self.http_stats
        tls = self.tls.stats if self.tls is not None else None
        return CaptureSummary(
            index=self.index, info=info, tcp_connections=tcp.connections,
            http_connections=http.connections, http_transactions=http.transactions,
            udp_datagrams=st.udp_datagrams,
            counters={
                "tcp_segments": st.tcp_segments,
                "ip_fragments": st.ip_fragments,
                "ip_datagrams_reassembled": st.reassembled_datagrams,
                "ip_fragments_dropped": st.fragments_dropped,
                "non_ip_or_other_protocol": st.other,
                "malformed": st.malformed,
                "unknown_link_type": sum(st.unknown_linktypes.values()),
                "tcp_gaps": tcp.gaps,
                "tcp_gap_bytes": tcp.gap_bytes,
                "tcp_conflicting_retransmissions": tcp.conflicts,
                "tcp_segments_after_close": tcp.late_segments,
                "http_bytes_outside_messages": http.skipped_bytes,
                "tls_connections": tls.connections if tls else 0,
                "tls_connections_decrypted": tls.decrypted if tls else 0,
                "tls_opaque_bytes": tls.opaque_bytes if tls else 0,
            },
        )


def _describe(obj: object) -> tuple[str, list[int], int]:
    """(what a record is, its frames, its capture), for an internal-error finding."""
    capture = getattr(obj, "capture", 0)
    if isinstance(capture, bool) or not isinstance(capture, int):
        capture = 0
    if isinstance(obj, Transaction):
        msg = obj.response or obj.request or (obj.interim[0] if obj.interim else None)
        return f"exchange {obj.id}", [msg.frame] if msg is not None else [], capture
    if isinstance(obj, Datagram):
        return f"datagram {obj.id}", [obj.frame], capture
    if isinstance(obj, ConnectionEnd):
        return f"the end of connection {obj.connection}", [], capture
    ident = getattr(obj, "id", None)
    frames = [f for f in [getattr(obj, "frame", None)] if isinstance(f, int)]
    return (f"{type(obj).__name__} {ident}" if ident else type(obj).__name__), frames, capture


def settle_heap() -> None:
    """Tune the garbage collector for a long decoding run, once the modules it needs are loaded.

    Decoding allocates millions of short-lived containers, and each full collection
    walked every object of the loaded modules (lxml, the decoders' tables) again.
    Freezing what exists now takes those out of all later collections (and keeps their
    pages shared with forked workers); a larger first generation makes young collections
    rarer.  Cycles are still collected, so memory stays bounded: on the 200k-packet
    benchmark capture the full report ran 3.9 s -> 3.3 s at the same peak RSS.  For the
    process that owns the run (the CLI, a worker), not for library callers.
    """
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


# Below this size a capture is decoded in one process: forking would cost more than it saves.
PARALLEL_MIN_BYTES = 8 << 20


class Pipeline:
    """Runs captures through the decoders and hands the results to the addons."""

    def __init__(self, addons: Sequence[Addon], *, max_body: int = DEFAULT_MAX_BODY, jobs: int = 1,
                 decode: bool = True, pool: WorkerPool | None = None,
                 tls_keys: TlsKeySpec | None = None, progress: Progress | None = None,
                 cluster: str | None = None, input_format: str | None = None) -> None:
        self.addons = list(addons)
        for a in self.addons:
            a.attach(self)
        self.max_body = max_body
        self.jobs = max(1, jobs)
        #: Whether HTTP bodies and UDP payloads go through the protocol decoders (CWMP,
        #: OMA DM, ...); off for an HTTP-only report.
        self.decode = decode
        #: Workers forked early by the caller (see :class:`dmsniff.parallel.WorkerPool`), used
        #: for big captures when there are ``jobs`` of them; the caller closes it.
        self.pool = pool
        #: Shows how far run_files is (on a terminal); also one of the addons, to count sessions.
        self.progress = progress
        #: A Dask scheduler address (or local:N) to decode on instead of this machine's workers.
        self.cluster = cluster
        #: ``--input-format``: None/"auto" recognises logs by content (:mod:`dmsniff.logs`).
        self.input_format = input_format
        self._faults: dict[str, int] = {}  # addon hook -> failures so far
        #: The TLS key material the user gave (key logs, RSA keys), as read from the files.
        self.tls_keys = tls_keys if tls_keys is not None else TlsKeySpec()
        self._keys: CaptureKeys | None = None
        self._capture_index = 0

    @property
    def keys(self) -> CaptureKeys:
        """The key store built from :attr:`tls_keys`, shared by the captures of this run (made
        when a capture first meets TLS)."""
        if self._keys is None:
            from dmsniff.net.tls import CaptureKeys

            self._keys = CaptureKeys(self.tls_keys)
        return self._keys

    def dispatcher(self) -> Callable[[Item], None]:
        """A function that hands one record to every addon hook that wants it."""
        hooks: dict[type, list[Callable[[Any], None]]] = {
            Transaction: self._hooks("transaction"),
            Datagram: self._hooks("datagram"),
            ConnectionEnd: self._hooks("connection_end"),
            Finding: self._hooks("finding"),
        }
        guard = self._guard

        def dispatch(item: Item) -> None:
            obj = item[1]
            for hook in hooks[type(obj)]:
                try:  # (free in Python 3.11 unless something raises)
                    hook(obj)
                except Exception as exc:
                    guard(hook, obj, exc)

        return dispatch

    def _guard(self, hook: Callable[[Any], None], obj: object, exc: Exception) -> None:
        """An addon failed on one record: that record is lost to that addon, nothing else is.

        The failure becomes a ``dmsniff.internal-error`` finding naming the record and its
        frame, handed to the other addons (at most ``MAX_INTERNAL_ERRORS`` per addon).
        """
        if os.environ.get("DMSNIFF_DEBUG"):
            traceback.print_exc()
        addon = getattr(hook, "__self__", hook)
        name = f"{type(addon).__name__}.{getattr(hook, '__name__', 'hook')}"
        n = self._faults[name] = self._faults.get(name, 0) + 1
        if n > MAX_INTERNAL_ERRORS:
            return
        what, frames, capture = _describe(obj)
        where = f"{name} failed on {what}" if n < MAX_INTERNAL_ERRORS else \
            f"{name} failed on {what} (and further failures of it are not reported)"
        finding = internal_error(where, exc, frames, capture)
        for a in self.addons:
            if a is not addon:
                with contextlib.suppress(Exception):  # a failure to report a failure stops here
                    a.finding(finding)

    def _hooks(self, name: str) -> list[Callable[[Any], None]]:
        """The addons' bound ``name`` hooks, leaving out those that only inherit the no-op."""
        base = getattr(Addon, name)
        return [getattr(a, name) for a in self.addons if getattr(type(a), name) is not base]

    def _each(self, name: str, *args: Any) -> None:
        """Call one hook of every addon, each failure isolated (see :meth:`_guard`)."""
        for a in self.addons:
            hook = getattr(a, name)
            try:
                hook(*args)
            except Exception as exc:
                self._guard(hook, args[0] if args else None, exc)

    def finish(self) -> None:
        """Every input has been read: the addons' ``done`` hooks (each failure isolated)."""
        self._each("done")

    def report_failure(self, path: str, error: CaptureError) -> None:
        """A capture could not be read at all: the addons' ``capture_failed`` hooks."""
        self._each("capture_failed", path, error)

    def emit_session(self, session: Session) -> None:
        self._each("session", session)

    def emit_finding(self, finding: Finding) -> None:
        self._each("finding", finding)

    def emit_device(self, device: Device) -> None:
        self._each("device", device)

    def emit_auth(self, result: AuthResult) -> None:
        self._each("auth", result)

    def run_files(self, paths: Iterable[Input]) -> list[CaptureSummary | CaptureError]:
        """Read each capture in turn; a capture that cannot be opened is reported, not raised.

        An input is a file, ``-`` (a pcap or pcapng stream on standard input: ``tcpdump -w - ... |
        dmsniff report -``), or a tuple of files read as one capture (a rotated set).
        """
        if self.cluster is not None:
            from dmsniff.cluster import run_on_cluster

            return run_on_cluster(self, list(paths), self.cluster)
        results: list[CaptureSummary | CaptureError] = []
        for path in paths:
            if isinstance(path, str) and (fmt := log_format(path, self.input_format)) is not None:
                results.append(self.run_log(path, fmt))  # a log or a message folder, not a capture
                continue
            try:
                cap = open_input(path)
            except CaptureError as exc:
                self.report_failure(path if isinstance(path, str) else " + ".join(path), exc)
                results.append(exc)
                continue
            with cap:
                progress = self.progress
                if progress is not None:
                    progress.start_file(cap.info.path, cap.size)
                if decode_in_workers(path, self.jobs):
                    from dmsniff.parallel import run_sharded

                    results.append(run_sharded(self, path, cap))
                else:
                    results.append(self.run_frames(progress.frames(cap) if progress else cap, cap.info))
                if progress is not None:
                    progress.end_file(cap.size)
        self.finish()
        return results

    def run_log(self, path: str, fmt: str) -> CaptureSummary | CaptureError:
        """Read one log as a capture (see :mod:`dmsniff.logs`); a log that cannot be read is reported."""
        from dmsniff.logs.run import run_log

        size = None if os.path.isdir(path) else os.path.getsize(path) if os.path.exists(path) else None
        if self.progress is not None:
            self.progress.start_file(path, size)
        try:
            return run_log(self, path, fmt)
        except CaptureError as exc:
            self.report_failure(path, exc)
            return exc
        finally:
            if self.progress is not None:
                self.progress.end_file(size)

    def begin_capture(self, info: CaptureInfo) -> int:
        index = self._capture_index
        self._capture_index += 1
        self._each("capture_start", index, info)
        return index

    def end_capture(self, summary: CaptureSummary) -> CaptureSummary:
        self._each("capture_end", summary)
        return summary

    def run_frames(self, frames: Iterable[Frame], info: CaptureInfo) -> CaptureSummary:
        """Decode frames from any source (file or live) in this process and feed the addons."""
        index = self.begin_capture(info)
        decoder = Decoder(index, self.dispatcher(), max_body=self.max_body, decode=self.decode,
                          keys=lambda: self.keys, info=info)
        decoder.run(frames, info)
        return self.end_capture(decoder.summary(info))


def decode_in_workers(path: Input, jobs: int) -> bool:
    """Whether :meth:`Pipeline.run_files` decodes ``path`` in worker processes."""
    if jobs < 2 or path == "-":
        return False
    try:
        size = sum(os.path.getsize(p) for p in ((path,) if isinstance(path, str) else path))
    except OSError:
        return False
    return size >= PARALLEL_MIN_BYTES
