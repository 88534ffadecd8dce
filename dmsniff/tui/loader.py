"""Feeding the UI: the pipeline runs in a worker thread and hands sessions over in batches.

The UI thread never decodes: :class:`Loader` reads captures (or a live interface) through
the same addons as ``dmsniff report`` (verifier, session builders) plus :class:`Feed`, which
keeps what the detail views need (transactions, datagrams, findings) and posts sessions to
the app in batches, so the screen stays responsive on a 1 GB capture.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from dmsniff.capture import CaptureError, CaptureInfo, Frame, open_capture
from dmsniff.model import Datagram, HttpMessage, Transaction
from dmsniff.net.tls import TlsKeySpec
from dmsniff.pipeline import Addon, CaptureSummary, Pipeline
from dmsniff.sessions import analysis_addons
from dmsniff.sessions.model import Device, Finding, Session
from dmsniff.verify.model import AuthResult
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier

BODY_BUDGET = 256 << 20  # body bytes kept for the detail views; beyond it only headers are kept
BATCH_SECONDS = 0.2  # sessions are handed to the UI at most this often (and at the end)


@dataclass(slots=True)
class Progress:
    """Read by the UI thread from a timer; plain ints and strings, so no lock is needed."""

    capture: str = ""
    packets: int = 0
    sessions: int = 0
    done: bool = False
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


class Feed(Addon):
    """Keeps what the UI shows and posts new sessions in batches through ``post``."""

    needs_bodies = True

    def __init__(self, post: Callable[[list[Session]], None], progress: Progress) -> None:
        self.post = post
        self.progress = progress
        self.transactions: dict[str, Transaction | Datagram] = {}
        self.findings: list[Finding] = []
        self.devices: list[Device] = []
        self.auth_results: list[AuthResult] = []
        self.capture_paths: dict[int, str] = {}
        self._batch: list[Session] = []
        self._lock = threading.Lock()
        self._last_post = time.monotonic()
        self._body_bytes = 0

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.capture_paths[index] = info.path
        self.progress.capture = info.path

    def transaction(self, tx: Transaction) -> None:
        for msg in (tx.request, tx.response):
            if msg is not None:
                self._budget(msg)
        self.transactions[tx.id] = tx

    def _budget(self, msg: HttpMessage) -> None:
        size = len(msg.body) + len(msg.decoded_body or b"")
        if self._body_bytes + size > BODY_BUDGET:
            msg.drop_bodies()
        else:
            self._body_bytes += size

    def datagram(self, dg: Datagram) -> None:
        if dg.protocol is not None:  # only those a decoder claimed can be part of a session
            self.transactions[dg.id] = dg

    def session(self, session: Session) -> None:
        with self._lock:
            self._batch.append(session)
        self.progress.sessions += 1
        now = time.monotonic()
        if now - self._last_post >= BATCH_SECONDS:
            self.flush()

    def take(self) -> list[Session]:
        """Sessions not yet handed over (the UI's timer collects them: a live capture may
        end one session and then stay quiet)."""
        with self._lock:
            batch, self._batch = self._batch, []
        return batch

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def device(self, device: Device) -> None:
        self.devices.append(device)

    def auth(self, result: AuthResult) -> None:
        self.auth_results.append(result)

    def capture_end(self, summary: CaptureSummary) -> None:
        self.progress.errors.extend(f"{summary.info.path}: {e}" for e in summary.info.errors)
        self.flush()

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.progress.errors.append(str(error))

    def done(self) -> None:
        self.flush()

    def flush(self) -> None:
        self._last_post = time.monotonic()
        batch = self.take()
        if batch:
            self.post(batch)


class Loader:
    """Runs the pipeline over files or a live interface; call :meth:`run` in a worker thread."""

    def __init__(self, feed: Feed, secrets: Secrets | None = None, tls: TlsKeySpec | None = None) -> None:
        self.feed = feed
        self.stop = threading.Event()
        self.pipeline = Pipeline([Verifier(secrets or Secrets()), *analysis_addons(), feed], jobs=1,
                                 tls_keys=tls)

    def _frames(self, frames: Iterator[Frame] | Sequence[Frame]) -> Iterator[Frame]:
        progress = self.feed.progress
        for frame in frames:
            if self.stop.is_set():
                return
            progress.packets += 1
            yield frame

    def run_files(self, paths: Sequence[str]) -> None:
        try:
            for path in paths:
                if self.stop.is_set():
                    break
                try:
                    cap = open_capture(path)
                except CaptureError as exc:
                    for a in self.pipeline.addons:
                        a.capture_failed(path, exc)
                    continue
                with cap:
                    self.pipeline.run_frames(self._frames(cap), cap.info)
            for a in self.pipeline.addons:
                a.done()
        finally:
            self.feed.progress.done = True

    def run_live(self, interface: str, frames: Iterator[Frame]) -> None:
        """Decode frames from an already opened live capture (see ``dmsniff.capture.live``)."""
        from dmsniff.capture.live import live_info

        info = live_info(interface)
        try:
            self.pipeline.run_frames(self._frames(frames), info)
            for a in self.pipeline.addons:
                a.done()
        except CaptureError as exc:
            self.feed.progress.errors.append(str(exc))
        finally:
            self.feed.progress.done = True
