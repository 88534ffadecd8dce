"""The addon API: the typed hooks an addon implements, the outbox it hands on what it makes with,
and the dispatcher that calls them.

Everything that consumes decoded traffic (session builders, the verifier, report writers, the
UI's feed) is an :class:`Addon`, in the manner of mitmproxy: it overrides the hooks it cares
about and is called in the order of the addon list (:func:`dmsniff.chain.addon_chain`).  Which
addons implement which hook is worked out once, when the :class:`Dispatcher` is made; an addon
that only inherits a hook's no-op is never called for it.

What an addon makes (sessions, findings not tied to a session, devices, credential verdicts) it
puts in its :class:`Outbox`; it knows nothing of the pipeline.  The dispatcher takes over the
outbox of every addon it is given and hands each thing on to all the addons the moment it is
put there, so the order of a report is the order of the making, and the devices made at the end
(each with its whole parameter history) pass one at a time rather than all at once.  An outbox
no dispatcher took keeps what it is given (:attr:`Outbox.made`): a builder fed by hand in a test
returns its results there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from dmsniff.model import ConnectionEnd, Datagram, Finding, Transaction
from dmsniff.pipeline import records
from dmsniff.pipeline.policy import TIDY_RECORDS, tidy_heap
from dmsniff.pipeline.records import MAX_INTERNAL_ERRORS, CaptureSummary, Item, describe

if TYPE_CHECKING:
    from dmsniff.capture import CaptureError, CaptureInfo
    from dmsniff.sessions.model import Device, Session
    from dmsniff.verify.model import AuthResult

class Outbox:
    """Where an addon puts what it makes, one typed method per kind (see the module docstring)."""

    __slots__ = ("_dispatcher", "made")

    def __init__(self) -> None:
        self._dispatcher: Dispatcher | None = None
        #: What was put here while no dispatcher had taken the outbox over, in order.
        self.made: list[Session | Finding | Device | AuthResult] = []

    def session(self, session: Session) -> None:
        """A session is complete (CWMP, OMA DM)."""
        self._put(session, Dispatcher.session)

    def finding(self, finding: Finding) -> None:
        """A finding not tied to one session (sessions carry their own)."""
        self._put(finding, Dispatcher.finding)

    def device(self, device: Device) -> None:
        """What was learned about one device (once every capture has been read)."""
        self._put(device, Dispatcher.device)

    def auth(self, result: AuthResult) -> None:
        """One credential judged (before the session builders see its message)."""
        self._put(result, Dispatcher.auth)

    def _put(self, made: Any, deliver: Callable[[Dispatcher, Any], None]) -> None:
        if self._dispatcher is None:
            self.made.append(made)
        else:
            deliver(self._dispatcher, made)


class Addon:
    """Base class for pipeline consumers; override the hooks you need."""

    #: Whether :meth:`transaction` reads message bodies.  When no addon does, bodies are
    #: not copied between processes in a parallel run (lengths are always kept).
    needs_bodies: bool = False
    #: Whether :meth:`device` writes the devices' parameter histories as JSON.  When one of the
    #: run's last addons does, the session builders keep the histories as JSON from the start
    #: (:class:`~dmsniff.sessions.history.ParameterLog`).
    json_histories: bool = False

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
        """dmsniff.verify judged one credential (handed on before the session builders see it)."""

    def capture_end(self, summary: CaptureSummary) -> None:
        """A capture has been read to its end (or to the fault that stopped it)."""

    def capture_failed(self, path: str, error: CaptureError) -> None:
        """A capture could not be read at all."""

    def done(self) -> None:
        """Every capture has been read."""


class Emitter(Addon):
    """An addon that makes things of its own (session builders, the verifier, the TLS checks)."""

    def __init__(self) -> None:
        self.outbox = Outbox()


def _implementing(addons: Sequence[Addon], base: Callable[..., None]) -> list[Callable[..., None]]:
    """The addons' bound hooks that override ``base`` (one of :class:`Addon`'s no-ops), in order."""
    name = base.__name__
    return [getattr(a, name) for a in addons if getattr(type(a), name) is not base]


class Dispatcher:
    """Calls the addons' hooks, each failure isolated.

    An addon whose hook raises loses that one record, nothing else does: the failure becomes a
    ``dmsniff.internal-error`` finding naming the hook, the record and its frame, handed to the
    other addons (at most ``MAX_INTERNAL_ERRORS`` per hook, then one that says so), and a line
    of :meth:`fault_lines`, which the command prints on stderr.  A broken pipe is not a failure
    of one record: the output is gone, and it ends the run.
    """

    def __init__(self, addons: Sequence[Addon]) -> None:
        self.addons = list(addons)
        for a in self.addons:
            if isinstance(a, Emitter):
                a.outbox._dispatcher = self  # the one place an outbox is taken over
        self._faults: dict[str, int] = {}  # "Addon.hook" -> failures so far
        # "Addon.hook" -> what it first failed on and how: a report writer's own failure reaches
        # no other addon's output, so the command says these on stderr at the end.
        self._first_faults: dict[str, str] = {}
        each = self.addons
        self._capture_start = _implementing(each, Addon.capture_start)
        self._transaction = _implementing(each, Addon.transaction)
        self._datagram = _implementing(each, Addon.datagram)
        self._connection_end = _implementing(each, Addon.connection_end)
        self._session = _implementing(each, Addon.session)
        self._finding = _implementing(each, Addon.finding)
        self._device = _implementing(each, Addon.device)
        self._auth = _implementing(each, Addon.auth)
        self._capture_end = _implementing(each, Addon.capture_end)
        self._capture_failed = _implementing(each, Addon.capture_failed)
        self._done = _implementing(each, Addon.done)
        # The decoding layers' records, by type: the hot path (one dict lookup a record).
        self._records: dict[type, list[Callable[..., None]]] = {
            Transaction: self._transaction, Datagram: self._datagram, ConnectionEnd: self._connection_end,
            Finding: self._finding,
        }
        self._until_tidy = TIDY_RECORDS

    @property
    def keep_bodies(self) -> bool:
        """Whether some addon reads message bodies (so they must cross from worker processes)."""
        return any(a.needs_bodies for a in self.addons)

    def record(self, item: Item) -> None:
        """Hand one record of the decoding layers to every addon that takes its kind."""
        obj = item[1]
        for hook in self._records[type(obj)]:
            try:  # (free in Python 3.11 unless something raises)
                hook(obj)
            except BrokenPipeError:  # the output is gone (piped into head): the run is over
                raise
            except Exception as exc:
                self._failed(hook, obj, exc)
        self._until_tidy -= 1
        if not self._until_tidy:
            self._until_tidy = TIDY_RECORDS
            tidy_heap()

    def _call(self, hooks: list[Callable[..., None]], *args: Any) -> None:
        for hook in hooks:
            try:
                hook(*args)
            except BrokenPipeError:
                raise
            except Exception as exc:
                self._failed(hook, args[0] if args else None, exc)

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self._call(self._capture_start, index, info)

    def session(self, session: Session) -> None:
        self._call(self._session, session)

    def finding(self, finding: Finding) -> None:
        self._call(self._finding, finding)

    def device(self, device: Device) -> None:
        self._call(self._device, device)

    def auth(self, result: AuthResult) -> None:
        self._call(self._auth, result)

    def capture_end(self, summary: CaptureSummary) -> None:
        self._call(self._capture_end, summary)

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self._call(self._capture_failed, path, error)

    def done(self) -> None:
        self._call(self._done)

    def fault_lines(self) -> list[str]:
        """One line for each hook that failed: how often, and on what first."""
        return [f"{name} failed on {self._faults[name]:,} record(s), first on {first}"
                for name, first in self._first_faults.items()]

    def _failed(self, hook: Callable[..., None], obj: object, exc: Exception) -> None:
        """An addon failed on one record: say so to the others as a finding (see the class)."""
        addon = getattr(hook, "__self__", hook)
        name = f"{type(addon).__name__}.{getattr(hook, '__name__', 'hook')}"
        n = self._faults[name] = self._faults.get(name, 0) + 1
        if n > MAX_INTERNAL_ERRORS:
            return
        what, frames, capture = describe(obj)
        if n == 1:
            self._first_faults[name] = f"{what}: {type(exc).__name__}: {exc}"
        where = f"{name} failed on {what}" if n < MAX_INTERNAL_ERRORS else \
            f"{name} failed on {what} (and further failures of it are not reported)"
        finding = records.internal_error(where, exc, frames, capture)  # (looked up: fuzz/ patches it)
        for a in self.addons:
            if a is not addon:
                with contextlib.suppress(Exception):  # a failure to report a failure stops here
                    a.finding(finding)
