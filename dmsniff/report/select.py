"""``report -Y FILTER``: the sessions a filter keeps, and what of the rest of a report goes with them.

The filter is the session filter of the terminal UI and the HTML page
(:mod:`dmsniff.sessions.filter`).  A report is written while the captures are read, and whether a
transaction belongs to a kept session is known only when that session ends; so, as tshark's
two-pass analysis (``-2``) does, the captures are read twice.  The first pass builds the sessions
and notes the ids of those the filter keeps and of what they are made of (:class:`Selector`);
the second writes the report through a :class:`Gate` that lets only those through, in the order
an unfiltered report has them: a filtered report is the unfiltered one less some records.
Memory: the ids of what is kept and a one-line title per kept session, and while the first pass
runs, which exchanges of each connection the sessions left out took (a number's bits); for a
``tls:`` term, what the UI keeps of each TLS connection.

What goes with a kept session: the transactions and datagrams of its messages and connection
requests, the verdicts on their credentials, the ends of its connections (their TLS), its
device, the findings tied to it.  With them, the exchanges on its connections that no session
took, such as the 401 a CPE's first, empty POST drew before it sent its Inform, or a lone 401
on a connection the device then gave up: they are part of what happened on the connection, and
``--export-pcapng`` writes those connections whole anyway.  An exchange another session took
stays with that session.  Kept whatever the filter: the records of the captures themselves (their
summaries, a capture that could not be read), findings tied to no frame (of a whole capture), and
the pipeline's own failures (``dmsniff.internal-error``), which no filter may hide.  Everything
else (plain HTTP, connections no kept session used, the others' findings) is left out, as a
display filter leaves out the packets it does not match.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dmsniff.export import session_connections
from dmsniff.model import connection_of
from dmsniff.pipeline.addons import Addon
from dmsniff.sessions.filter import (
    Predicate,
    SessionTls,
    clear_cache,
    compile_filter,
    fields_used,
    parse_filter,
)
from dmsniff.sessions.labels import session_title
from dmsniff.sessions.tls import TlsKeeper

if TYPE_CHECKING:
    from dmsniff.capture import CaptureError, CaptureInfo
    from dmsniff.model import ConnectionEnd, Datagram, Finding, Transaction
    from dmsniff.pipeline.records import CaptureSummary
    from dmsniff.sessions.model import Device, Session
    from dmsniff.verify.model import AuthResult

#: Findings no filter leaves out: the pipeline could not process a record.
ALWAYS_KEPT = frozenset({"dmsniff.internal-error"})


@dataclass(slots=True)
class Selection:
    """The ids of what a filtered report keeps (the first pass's result)."""

    #: Kept session id -> (its start, one line naming it), in the order they ended (for HAR pages).
    sessions: dict[str, tuple[float, str]] = field(default_factory=dict)
    #: Transaction and datagram ids -> the kept session they belong to (the first, if several).
    #: The second pass adds the exchanges no session took on a kept session's connection.
    messages: dict[str, str] = field(default_factory=dict)
    #: The kept sessions' connections -> the first kept session on each.
    connections: dict[str, str] = field(default_factory=dict)
    devices: set[str] = field(default_factory=set)
    seen: int = 0  # sessions the first pass built, kept or not
    #: Connection id -> the exchanges on it that sessions left out took, as bits by exchange number.
    taken: dict[str, int] = field(default_factory=dict)

    def keep(self, session: Session) -> None:
        self.sessions[session.id] = (session.start, session_title(session))
        for ident in session.exchange_ids():
            self.messages.setdefault(ident, session.id)
        for conn in session_connections(session):
            self.connections.setdefault(conn, session.id)
        if session.device_id is not None:
            self.devices.add(session.device_id)

    def leave(self, session: Session) -> None:
        """Note what a session left out took, so that its exchanges do not go with a kept one."""
        taken = self.taken
        for ident in session.exchange_ids():
            conn, n = _exchange(ident)
            if conn is not None:
                taken[conn] = taken.get(conn, 0) | (1 << n)

    def settle(self) -> None:
        """End of the first pass: only the kept connections' bits are asked for again."""
        self.taken = {c: bits for c, bits in self.taken.items() if c in self.connections}

    def owner(self, ident: str) -> str | None:
        """The kept session transaction ``ident`` goes with, if any: its own, or, for an exchange no
        session took, the first kept session on its connection (then noted in ``messages``)."""
        sid = self.messages.get(ident)
        if sid is not None:
            return sid
        conn, n = _exchange(ident)
        if conn is None:
            return None
        sid = self.connections.get(conn)
        if sid is None or self.taken.get(conn, 0) >> n & 1:
            return None
        self.messages[ident] = sid  # (auth verdicts ask again; a HAR page reads it)
        return sid


#: Exchange numbers up to this are noted as bits (a connection's exchanges are numbered from 1).
_MAX_EXCHANGE = 1 << 16


def _exchange(ident: str) -> tuple[str | None, int]:
    """(connection, exchange number) of a transaction id ``C7.2``; (None, 0) for anything else."""
    conn = connection_of(ident)
    num = ident.partition(".")[2]
    if conn is None or not num.isdigit() or len(num) > 5 or int(num) > _MAX_EXCHANGE:
        return None, 0
    return conn, int(num)


class Selector(Addon):
    """The first pass's last addon: judges each session with the filter, as it ends.

    ``tls`` must run first in the same chain (the ``tls:`` field reads what it kept): a session
    is judged on the TLS of its connections as known when it ends, as the UI's filter judges a
    session shown while a capture is still being read.  :func:`needs_tls` says whether a filter
    reads it at all (a keeper holds every TLS connection's facts).
    """

    def __init__(self, text: str, tls: TlsKeeper | None) -> None:
        self.tls = tls
        self.predicate: Predicate = compile_filter(text, tls=self._session_tls)
        self.selection = Selection()

    def _session_tls(self, session: Session) -> SessionTls | None:
        return self.tls.session_tls(session_connections(session)) if self.tls is not None else None

    def session(self, session: Session) -> None:
        self.selection.seen += 1
        try:
            if self.predicate(session):
                self.selection.keep(session)
            else:
                self.selection.leave(session)
        finally:
            # Judged once: the free-text terms' cache of conversation lines would hold every
            # session of the capture alive (the UI keeps its sessions anyway; this pass does not).
            clear_cache()

    def done(self) -> None:
        self.selection.settle()


def needs_tls(text: str) -> bool:
    """Whether the filter ``text`` has a ``tls:`` term (so the first pass must keep TLS facts)."""
    return "tls" in fields_used(parse_filter(text))


class Gate(Addon):
    """The second pass: hands ``inner`` (a report writer) only what ``selection`` keeps."""

    def __init__(self, inner: Addon, selection: Selection) -> None:
        self.inner = inner
        self.selection = selection
        self.needs_bodies = inner.needs_bodies
        self.json_histories = inner.json_histories

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.inner.capture_start(index, info)

    def transaction(self, tx: Transaction) -> None:
        if self.selection.owner(tx.id) is not None:
            self.inner.transaction(tx)

    def datagram(self, dg: Datagram) -> None:
        if dg.id in self.selection.messages:
            self.inner.datagram(dg)

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.connection in self.selection.connections:
            self.inner.connection_end(end)

    def session(self, session: Session) -> None:
        if session.id in self.selection.sessions:
            self.inner.session(session)

    def finding(self, finding: Finding) -> None:
        if (finding.code in ALWAYS_KEPT or not finding.frames
                or (finding.session is not None and finding.session in self.selection.sessions)):
            self.inner.finding(finding)

    def device(self, device: Device) -> None:
        if device.id in self.selection.devices:
            self.inner.device(device)

    def auth(self, result: AuthResult) -> None:
        if self.selection.owner(result.message) is not None:
            self.inner.auth(result)

    def capture_end(self, summary: CaptureSummary) -> None:
        self.inner.capture_end(summary)

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.inner.capture_failed(path, error)

    def done(self) -> None:
        self.inner.done()
