"""What every session builder shares: the pipeline it emits to, the capture index in its ids,
and findings made from its table of rules."""

from __future__ import annotations

from typing import ClassVar

from dmsniff.pipeline import Addon, Pipeline
from dmsniff.sessions.model import Finding, Session


class SessionBuilder(Addon):
    """Base of the protocol session builders (an :class:`~dmsniff.pipeline.Addon`)."""

    needs_bodies = False  # bodies are decoded where transactions are built
    #: code -> (severity, reference): one row per rule the builder checks
    rules: ClassVar[dict[str, tuple[str, str]]] = {}

    def __init__(self) -> None:
        self.pipeline: Pipeline | None = None
        self.capture = 0
        self._tag = ""  # session ids of captures after the first carry their index

    def attach(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def capture_start(self, index: int, info: object) -> None:
        self.capture = index
        self._tag = "" if index == 0 else f"{index}-"

    def _finding(self, code: str, message: str, frames: list[int], session: str | None) -> Finding:
        severity, ref = self.rules[code]
        return Finding(severity, code, message, frames, ref, session, self.capture)

    def _flag(self, session: Session, code: str, message: str, frames: list[int]) -> None:
        """A finding that belongs to a session (reported with it)."""
        session.findings.append(self._finding(code, message, frames, session.id))

    def _emit_finding(self, code: str, message: str, frames: list[int], session: str | None) -> None:
        """A finding outside any session, reported at once."""
        assert self.pipeline is not None
        self.pipeline.emit_finding(self._finding(code, message, frames, session))
