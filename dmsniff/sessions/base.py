"""What every session builder shares: the outbox it hands its sessions, findings and devices on
with, the capture index in its ids, and findings made from its table of rules."""

from __future__ import annotations

from typing import ClassVar

from dmsniff.model import Finding, Rule
from dmsniff.pipeline.addons import Emitter
from dmsniff.sessions.model import Session

SWEEP_EVERY = 5.0  # capture seconds between sweeps for sessions (and requests) that timed out


class SessionBuilder(Emitter):
    """Base of the protocol session builders (an :class:`~dmsniff.pipeline.addons.Addon` that
    puts what it makes in its :attr:`outbox`: sessions, findings outside a session, devices)."""

    needs_bodies = False  # bodies are decoded where transactions are built
    #: code -> its Rule: one row per rule the builder checks
    rules: ClassVar[dict[str, Rule]] = {}

    def __init__(self) -> None:
        super().__init__()
        self.capture = 0
        self._tag = ""  # session ids of captures after the first carry their index
        self.now = 0.0  # the latest time seen in this capture: timeouts count in capture time
        self._next_sweep = 0.0

    def capture_start(self, index: int, info: object) -> None:
        self.capture = index
        self._tag = "" if index == 0 else f"{index}-"
        # Each capture keeps its own clock (its sessions all end with it).  Captures given together
        # may cover the same hours (two sniffers, a capture given twice); a clock carried over from
        # one that ended later held off this one's timeouts until its time caught up, so an idle
        # session ended as "capture-end" instead of "timeout".
        self.now = 0.0
        self._next_sweep = 0.0

    def _sweep_due(self, now: float) -> bool:
        """Advance the capture clock; True every SWEEP_EVERY seconds, when timeouts are checked."""
        if now > self.now:
            self.now = now
        if self.now < self._next_sweep:
            return False
        self._next_sweep = self.now + SWEEP_EVERY
        return True

    def _finding(self, code: str, message: str, frames: list[int], session: str | None) -> Finding:
        return self.rules[code].finding(code, message, frames, session, self.capture)

    def _flag(self, session: Session, code: str, message: str, frames: list[int]) -> None:
        """A finding that belongs to a session (reported with it)."""
        session.findings.append(self._finding(code, message, frames, session.id))

    def _emit_finding(self, code: str, message: str, frames: list[int], session: str | None) -> None:
        """A finding outside any session, handed on at once."""
        self.outbox.finding(self._finding(code, message, frames, session))
