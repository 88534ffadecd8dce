"""The runner: reads the inputs of a run and feeds their records to the addons.

One runner serves ``dmsniff report``, the terminal UI's loader, ``dmsniff export``, the wordlist
audit's first pass and live capture.  Per input it chooses how: a log or message folder goes
through :mod:`dmsniff.logs.run`; a small capture is driven in this process
(:class:`~dmsniff.pipeline.frames.FrameDriver`); a large one in worker processes
(:mod:`dmsniff.pipeline.parallel`) or on a Dask cluster (:mod:`dmsniff.pipeline.cluster`), whose
records are merged back into the order one process would give.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from dmsniff.capture import CaptureError, CaptureInfo, Frame, open_input
from dmsniff.logs import log_format
from dmsniff.net.http import DEFAULT_MAX_BODY
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline.addons import Addon, Dispatcher
from dmsniff.pipeline.frames import FrameDriver
from dmsniff.pipeline.policy import use_workers
from dmsniff.pipeline.records import CaptureSummary, Input

if TYPE_CHECKING:
    from dmsniff.net.tls import CaptureKeys
    from dmsniff.pipeline.parallel import WorkerPool
    from dmsniff.progress import Progress


class Pipeline:
    """Runs inputs through the decoding layers and hands the results to the addons."""

    def __init__(self, addons: Sequence[Addon], *, max_body: int = DEFAULT_MAX_BODY, jobs: int = 1,
                 parse_protocols: bool = True, pool: WorkerPool | None = None,
                 tls_keys: TlsKeySpec | None = None, progress: Progress | None = None,
                 cluster: str | None = None, input_format: str | None = None,
                 stop: threading.Event | None = None) -> None:
        #: The addons' hooks, worked out once (see :class:`~dmsniff.pipeline.addons.Dispatcher`).
        self.hooks = Dispatcher(addons)
        self.addons = self.hooks.addons
        self.max_body = max_body
        self.jobs = max(1, jobs)
        #: Whether HTTP bodies and UDP payloads go through the protocol parsers (CWMP, OMA DM,
        #: ...); off for an HTTP-only report.
        self.parse_protocols = parse_protocols
        #: Workers forked early by the caller (see :class:`dmsniff.pipeline.parallel.WorkerPool`),
        #: used for big captures when there are ``jobs`` of them; the caller closes it.
        self.pool = pool
        #: Shows how far run_files is (on a terminal); also one of the addons, to count sessions.
        self.progress = progress
        #: A Dask scheduler address (or local:N) to decode on instead of this machine's workers.
        self.cluster = cluster
        #: ``--input-format``: None/"auto" recognises logs by content (:mod:`dmsniff.logs`).
        self.input_format = input_format
        #: Set from another thread (the UI's) to end the run early: the capture being read ends
        #: where it is, as a capture that ends there would, and no further input is read.
        self.stop = stop
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

    def _stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def run_files(self, paths: Iterable[Input]) -> list[CaptureSummary | CaptureError]:
        """Read each input in turn, then the addons' ``done``; an input that cannot be opened is
        reported, not raised.

        An input is a file (a capture, or a log or message folder: :mod:`dmsniff.logs`), ``-`` (a
        pcap or pcapng stream on standard input: ``tcpdump -w - ... | dmsniff report -``), or a
        tuple of files read as one capture (a rotated set).
        """
        if self.cluster is not None:
            from dmsniff.pipeline.cluster import run_on_cluster

            return run_on_cluster(self, list(paths), self.cluster)
        results: list[CaptureSummary | CaptureError] = []
        for path in paths:
            if self._stopped():
                break
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
                if use_workers(path, self.jobs):
                    from dmsniff.pipeline.parallel import run_sharded

                    results.append(run_sharded(self, path, cap))
                else:
                    results.append(self.run_frames(progress.frames(cap) if progress else cap, cap.info))
                if progress is not None:
                    progress.end_file(cap.size)
        self.finish()
        return results

    def run_live(self, frames: Iterator[Frame], info: CaptureInfo) -> CaptureSummary:
        """Read a live capture (an interface, or a stream a command or standard input gives) to its
        end, keeping ``info`` up to date as frames pass, then the addons' ``done``.  A capture that
        fails midway raises :class:`CaptureError` (``done`` is then not called)."""
        summary = self.run_frames(_counting(frames, info), info)
        self.finish()
        return summary

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

    def run_frames(self, frames: Iterable[Frame], info: CaptureInfo) -> CaptureSummary:
        """Drive frames from any source (file or live) in this process and feed the addons."""
        index = self.begin_capture(info)
        driver = FrameDriver(index, self.hooks.record, max_body=self.max_body,
                             parse_protocols=self.parse_protocols, keys=lambda: self.keys, info=info)
        driver.run(frames if self.stop is None else _until(frames, self.stop), info)
        return self.end_capture(driver.summary(info))

    def begin_capture(self, info: CaptureInfo) -> int:
        """Number the next capture and tell the addons it starts."""
        index = self._capture_index
        self._capture_index += 1
        self.hooks.capture_start(index, info)
        return index

    def end_capture(self, summary: CaptureSummary) -> CaptureSummary:
        self.hooks.capture_end(summary)
        return summary

    def report_failure(self, path: str, error: CaptureError) -> None:
        """A capture could not be read at all: the addons' ``capture_failed`` hooks."""
        self.hooks.capture_failed(path, error)

    def finish(self) -> None:
        """Every input has been read: the addons' ``done`` hooks."""
        self.hooks.done()


def _counting(frames: Iterator[Frame], info: CaptureInfo) -> Iterator[Frame]:
    """Keep a live capture's info (packets, times, link types) up to date as frames pass."""
    for frame in frames:
        info.packets += 1
        if info.first_time is None:
            info.first_time = frame[1]
        info.last_time = frame[1]
        if frame[2] not in info.link_types:
            info.link_types.append(frame[2])
        yield frame


def _until(frames: Iterable[Frame], stop: threading.Event) -> Iterator[Frame]:
    for frame in frames:
        if stop.is_set():
            return
        yield frame
