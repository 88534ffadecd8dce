"""Progress of a batch run on standard error, when it is a terminal (and not ``--quiet``).

A 25 s report over a million packets should say how far it is: per file the bytes read of its
size, packets, sessions found, the rate and the time left, and over all the files the same. It is
drawn with ``rich`` (which the terminal UI already brings) and only ever on a terminal: in a pipe,
a script or CI nothing is written, so stderr keeps only warnings and errors.

The reading loop calls :meth:`Progress.advance` with the file position it has reached (the
decoding workers send theirs through their pipe); the display refreshes at most a few times a
second, so the cost per frame is a counter.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from dmsniff.pipeline.addons import Addon

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from dmsniff.capture import CaptureFile, Frame, MergedCapture
    from dmsniff.sessions.model import Session

REFRESH = 0.25  # seconds between updates of the display
_EVERY = 1024  # frames between looks at the clock


class Progress(Addon):
    """Shows how far a run is; a no-op object when stderr is not a terminal."""

    def __init__(self, total_bytes: int | None, files: int, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.sessions = 0
        self.files = files
        self._file_no = 0
        self._bar: RichProgress | None = None
        self._overall: TaskID | None = None
        self._current: TaskID | None = None
        self._done_bytes = 0  # bytes of the files already read
        self._next = 0.0
        self._total = total_bytes
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )
        from rich.progress import Progress as RichProgress

        console = Console(file=self.stream, stderr=True)
        self._bar = RichProgress(
            TextColumn("{task.description}"), BarColumn(bar_width=12), DownloadColumn(),
            TransferSpeedColumn(),
            TextColumn("{task.fields[packets]:,} pkts {task.fields[sessions]:,} sessions"),
            TimeRemainingColumn(), console=console, transient=True, auto_refresh=False,
        )
        self._bar.start()
        if files > 1:
            self._overall = self._bar.add_task(f"all {files} inputs", total=total_bytes, packets=0,
                                               sessions=0)

    @staticmethod
    def wanted(quiet: bool, stream: TextIO | None = None) -> bool:
        """Whether to show progress: on a terminal, unless asked not to."""
        s = stream if stream is not None else sys.stderr
        return not quiet and hasattr(s, "isatty") and s.isatty()

    # -- the reading loop ---------------------------------------------------------------------------
    def start_file(self, name: str, size: int | None) -> None:
        assert self._bar is not None
        self._file_no += 1
        label = name if len(name) <= 24 else "…" + name[-23:]
        if self.files > 1:
            label = f"{self._file_no}/{self.files} {label}"
        self._current = self._bar.add_task(label, total=size, packets=0, sessions=self.sessions)
        self._bar.refresh()

    def advance(self, position: int, packets: int, force: bool = False) -> None:
        """The current file has been read up to ``position`` bytes, ``packets`` frames."""
        now = time.monotonic()
        if not force and now < self._next:
            return
        self._next = now + REFRESH
        bar = self._bar
        if bar is None or self._current is None:
            return
        bar.update(self._current, completed=position, packets=packets, sessions=self.sessions)
        if self._overall is not None:
            bar.update(self._overall, completed=self._done_bytes + position, packets=packets,
                       sessions=self.sessions)
        bar.refresh()

    def end_file(self, size: int | None) -> None:
        if self._bar is not None and self._current is not None:
            self._bar.remove_task(self._current)
        self._current = None
        self._done_bytes += size or 0

    def frames(self, cap: CaptureFile | MergedCapture) -> Iterator[Frame]:
        """The frames of ``cap``, advancing the display as they are read."""
        n = 0
        for frame in cap:
            yield frame
            n += 1
            if not n % _EVERY:
                self.advance(cap.position, n)
        self.advance(cap.position, n, force=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    # -- Addon hooks --------------------------------------------------------------------------------
    def session(self, session: Session) -> None:
        self.sessions += 1

    def done(self) -> None:
        self.close()
