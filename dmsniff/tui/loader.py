"""Feeding the UI: the pipeline runs in a worker thread and hands sessions over in batches.

The UI thread never decodes: :class:`Loader` reads captures (or a live interface) with the
runner and the addon chain of ``dmsniff report`` (verifier, session builders) plus :class:`Feed`, which
keeps what the detail views need (transactions, datagrams, findings) and posts sessions to
the app in batches, so the screen stays responsive on a 1 GB capture.  A
:class:`~dmsniff.sessions.tls.TlsKeeper`, run first, keeps what TLS each connection ran over
(every TLS connection's :class:`TlsFacts`, decrypted or not) for the lock marks, the TLS views
and the exports' key logs.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from dmsniff.capture import CaptureError, CaptureInfo, Frame
from dmsniff.chain import addon_chain
from dmsniff.model import Datagram, Finding, HttpMessage, Transaction
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.pipeline.runner import Pipeline
from dmsniff.sessions.model import Device, Session
from dmsniff.sessions.tls import TlsKeeper
from dmsniff.verify.model import AuthResult, Cracked
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier

BODY_BUDGET = 256 << 20  # body bytes kept for the detail views; beyond it only headers are kept
BATCH_SECONDS = 0.2  # sessions are handed to the UI at most this often (and at the end)


@dataclass(slots=True)
class Progress:
    """Read by the UI thread from a timer; plain ints and strings, so no lock is needed."""

    capture: str = ""
    sessions: int = 0
    done: bool = False
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    read: int = 0  # packets of the captures read to their end
    current: CaptureInfo | None = None  # the capture being read (its reader counts its packets)

    @property
    def packets(self) -> int:
        """Packets read so far, over all captures."""
        current = self.current
        return self.read + (current.packets if current is not None else 0)


class Feed(Addon):
    """Keeps what the UI shows and posts new sessions in batches through ``post``.

    ``tls`` (a :class:`TlsKeeper`) is a separate addon the :class:`Loader` runs first.
    """

    needs_bodies = True

    def __init__(self, post: Callable[[list[Session]], None], progress: Progress) -> None:
        self.post = post
        self.progress = progress
        self.transactions: dict[str, Transaction | Datagram] = {}
        self.findings: list[Finding] = []
        self.devices: list[Device] = []
        self.auth_results: list[AuthResult] = []
        self.capture_paths: dict[int, str] = {}
        self.summaries: list[CaptureSummary] = []  # for the HTML report's overview
        self.tls = TlsKeeper()  # an addon of its own, ahead of the session builders (see Loader)
        self._batch: list[Session] = []
        self._lock = threading.Lock()
        self._last_post = time.monotonic()
        self._body_bytes = 0

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.capture_paths[index] = info.path
        self.progress.capture = info.path
        self.progress.current = info

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
        self.summaries.append(summary)
        self.progress.read += summary.info.packets
        self.progress.current = None
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
    """Runs the pipeline over files or a live interface; call :meth:`run_files` or :meth:`run_live`
    in a worker thread (setting :attr:`stop` ends the run where it is)."""

    def __init__(self, feed: Feed, secrets: Secrets | None = None, tls: TlsKeySpec | None = None, *,
                 cracked: Cracked | None = None, show_secrets: bool = False) -> None:
        self.feed = feed
        self.stop = threading.Event()
        # The TLS keeper comes first, so a session meets its connections' TLS when it reaches the
        # UI; the Feed comes last, so the builders see each record before its bodies may be dropped.
        verifier = Verifier(secrets or Secrets(), cracked=cracked, show_secrets=show_secrets)
        addons = addon_chain(verifier, first=[feed.tls], last=[feed])
        self.pipeline = Pipeline(addons, jobs=1, tls_keys=tls, stop=self.stop)

    @property
    def input_format(self) -> str | None:
        """--input-format: None/"auto" recognises logs by content."""
        return self.pipeline.input_format

    @input_format.setter
    def input_format(self, value: str | None) -> None:
        self.pipeline.input_format = value

    def run_files(self, paths: Sequence[str]) -> None:
        try:
            self.pipeline.run_files(paths)
        finally:
            self.feed.progress.done = True

    def run_live(self, interface: str, frames: Iterator[Frame]) -> None:
        """Decode frames from an already opened live capture (see ``dmsniff.capture.live``)."""
        from dmsniff.capture.live import live_info

        try:
            self.pipeline.run_live(frames, live_info(interface))
        except CaptureError as exc:
            self.feed.progress.errors.append(str(exc))
        finally:
            self.feed.progress.done = True
