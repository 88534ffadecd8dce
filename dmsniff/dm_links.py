"""Which Package #0 notification a Package #1 answers: one home for the verifier and DmSessions.

The verifier (which runs first) needs the link to know when the resync nonce is due (DM
Notification §6.2); :class:`~dmsniff.sessions.omadm.DmSessions` needs it to make the notification
package 0 of the session and check its rules.  Both keep a :class:`Notified` of their own, fed every
notification in the same order, and ask it at the same moment (a client message that opens a
session: :func:`opens_session`), so they always pick the same one.

The rule: the notification went to the device's address with the session id Pkg#1 carries (in
upper-case hex; Windows clients may send it in decimal); behind a NAT the address differs, so the
session id alone links too, the notification at the device's address first.  A server-initiated
start (Alert 1200) under another SessionID answers the latest notification sent to its address.
Only notifications from the last :data:`NOTIFICATION_WINDOW` seconds count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from decoders import syncml

__all__ = [
    "NOTIFICATION_WINDOW",
    "SESSION_IDLE",
    "Link",
    "Notified",
    "ends_session",
    "opens_session",
    "session_id_form",
]

NOTIFICATION_WINDOW = 120.0  # a Pkg#0 causes a session starting within this many seconds
SESSION_IDLE = 60.0  # capture seconds without a message before an open session is timed out

T = TypeVar("T")
_HEX = ("hex", "lower-case hex")


def opens_session(rec: syncml.SyncMLMessage) -> bool:
    """A client message carrying Alert 1200/1201: Package #1, a session's start (or its restart)."""
    return any(c.name == "Alert" and c.code in (1200, 1201) for c in rec.commands)


def ends_session(rec: syncml.SyncMLMessage) -> bool:
    """A server message with Final and nothing that needs an answer ends the session (DM 1.2 §8.6)."""
    if not rec.final:
        return False
    for c in rec.commands:
        if c.name not in ("Status", "Results"):
            return False
        if c.name == "Status" and c.is_header_status and c.code in (401, 407):
            return False  # the client may come back with credentials
    return True


def session_id_form(sent: str, session_id: int) -> str | None:
    """How a SessionID spells a notification's session id: "hex" (upper-case, as DM 1.2 §8.3 and DM
    Notification §6.2.10 want), "lower-case hex", "decimal" (Windows MDM's form), or None."""
    hexa = f"{session_id:X}"
    if sent == hexa:
        return "hex"
    if sent.upper() == hexa:
        return "lower-case hex"
    if sent == str(session_id):
        return "decimal"
    return None


@dataclass(frozen=True, slots=True)
class Link(Generic[T]):
    """The notification a Package #1 answers, and how its SessionID names it: a
    :func:`session_id_form`, or "other" (an Alert 1200 under another SessionID)."""

    notification: T
    session_id: int
    form: str


@dataclass(slots=True)
class _Pending(Generic[T]):
    item: T
    time: float
    session_id: int
    device_ip: str


class Notified(Generic[T]):
    """The notifications waiting for their Package #1, oldest first."""

    def __init__(self) -> None:
        self._pending: list[_Pending[T]] = []

    def __bool__(self) -> bool:
        return bool(self._pending)

    def __iter__(self) -> Iterator[T]:
        return (p.item for p in self._pending)

    def add(self, item: T, time: float, session_id: int, device_ip: str) -> None:
        self._pending.append(_Pending(item, time, session_id, device_ip))

    def expire(self, now: float) -> list[T]:
        """Take out (and return) the notifications too old to be answered any more."""
        old = [p.item for p in self._pending if now - p.time > NOTIFICATION_WINDOW]
        self._pending = [p for p in self._pending if now - p.time <= NOTIFICATION_WINDOW]
        return old

    def clear(self) -> None:
        self._pending.clear()

    def answer(self, rec: syncml.SyncMLMessage, device_ip: str, start: float) -> Link[T] | None:
        """The notification the client message ``rec`` (from ``device_ip``, opening a session at
        ``start``) answers, taken out of the waiting ones; None if it answers none."""
        recent = [p for p in self._pending if 0 <= start - p.time <= NOTIFICATION_WINDOW]
        sent = (rec.header.session_id or "").strip()

        def latest(test: Callable[[_Pending[T]], bool]) -> _Pending[T] | None:
            return next((p for p in reversed(recent) if test(p)), None)

        def spelled(p: _Pending[T]) -> str | None:
            return session_id_form(sent, p.session_id)

        match = (
            latest(lambda p: spelled(p) in _HEX and p.device_ip == device_ip)
            or latest(lambda p: spelled(p) in _HEX)
            or latest(lambda p: spelled(p) == "decimal" and p.device_ip == device_ip)
            or latest(lambda p: spelled(p) == "decimal")
        )
        form = "other" if match is None else spelled(match) or "other"
        if match is None:
            if not any(c.name == "Alert" and c.code == 1200 for c in rec.commands):
                return None
            match = latest(lambda p: p.device_ip == device_ip)
            if match is None:
                return None
        self._pending.remove(match)
        return Link(match.item, match.session_id, form)
