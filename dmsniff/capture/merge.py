"""Several capture files read as one: the pieces of a rotated capture (``tcpdump -C``, ``dumpcap -b``).

A TCP connection or a CWMP session that crosses from one file to the next stays whole when the
files are read as one capture: :class:`MergedCapture` hands on the frames of each file in turn, in
the order of their first packets, numbered 1..N across them.  Each file keeps a contiguous range
of those numbers (``CaptureInfo.parts``), so frame 1042 of the merged capture is frame 42 of the
second file when the first holds 1000: ids stay traceable to a file and a frame.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from types import TracebackType

from dmsniff.capture.reader import CaptureError, CaptureFile, CaptureInfo, Frame, open_capture

__all__ = ["MergedCapture", "looks_rotated", "open_input"]

# tcpdump -C/-W: name, name1, name2 ... (or name0 ...); dumpcap/tshark -b: prefix_00001_20250101120000.ext
_TCPDUMP = re.compile(r"^(?P<stem>.+?)(?P<n>\d*)$")
_DUMPCAP = re.compile(r"^(?P<stem>.+)_(?P<n>\d{5})_(?P<time>\d{14})(?P<ext>\.[A-Za-z.]+)$")


def looks_rotated(paths: Sequence[str]) -> bool:
    """Whether these files are the pieces of one rotated capture (by their names)."""
    if len(paths) < 2:
        return False
    names = [os.path.basename(p) for p in paths]
    dumpcap = [_DUMPCAP.match(n) for n in names]
    if all(dumpcap):
        return len({(m.group("stem"), m.group("ext")) for m in dumpcap if m}) == 1
    stems = set()
    numbered = 0
    for n in names:
        m = _TCPDUMP.match(n)
        if m is None:
            return False
        stems.add(m.group("stem"))
        numbered += bool(m.group("n"))
    # tcpdump names the first file without a number when only -C is given.
    return len(stems) == 1 and numbered >= len(names) - 1


class MergedCapture:
    """Frames of several captures, one file after the other in time order, numbered across them."""

    def __init__(self, caps: list[CaptureFile]) -> None:
        self._caps = caps
        first = caps[0].info
        self.info = CaptureInfo(path=" + ".join(c.info.path for c in caps), format=first.format,
                                compressed=any(c.info.compressed for c in caps))
        self.info.format = "+".join(dict.fromkeys(c.info.format for c in caps))

    def __enter__(self) -> MergedCapture:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for c in self._caps:
            c.close()

    @property
    def position(self) -> int:
        """Bytes read so far over all the files (those before the current one in full)."""
        return sum(c.position for c in self._caps)

    @property
    def size(self) -> int | None:
        sizes = [c.size for c in self._caps]
        return None if None in sizes else sum(s for s in sizes if s is not None)

    def __iter__(self) -> Iterator[Frame]:
        info = self.info
        info.packets = 0
        info.parts.clear()
        info.errors.clear()
        info.tls_keylogs.clear()
        offset = 0
        previous_end: float | None = None
        for cap in self._caps:
            part = cap.info
            n = 0
            first_ts: float | None = None
            keylogs_seen = 0
            for number, ts, lt, data in cap:
                n = number
                if first_ts is None:
                    first_ts = ts
                    if previous_end is not None and ts < previous_end:
                        info.errors.append(f"{part.path} begins before the previous file ends: read after it "
                                           "(use mergecap to interleave captures taken side by side)")
                if len(part.tls_keylogs) > keylogs_seen:  # Decryption Secrets Blocks of this part
                    info.tls_keylogs.extend(part.tls_keylogs[keylogs_seen:])
                    keylogs_seen = len(part.tls_keylogs)
                if lt not in info.link_types:
                    info.link_types.append(lt)
                if info.first_time is None:
                    info.first_time = ts
                info.last_time = ts
                info.packets = offset + number
                yield offset + number, ts, lt, data
            info.errors.extend(f"{part.path}: {e}" for e in part.errors)
            info.tls_keylogs.extend(part.tls_keylogs[keylogs_seen:])
            info.parts.append((part.path, offset + 1, n))
            offset += n
            if part.last_time is not None:
                previous_end = part.last_time


def _first_time(path: str) -> float:
    try:
        with open_capture(path) as cap:
            for _n, ts, _lt, _data in cap:
                return ts
    except CaptureError:
        pass
    return float("inf")


def open_input(source: str | Sequence[str]) -> CaptureFile | MergedCapture:
    """One capture, ``-`` (standard input), or several files read as one (in time order)."""
    if isinstance(source, str):
        if source == "-":
            from dmsniff.capture.stdin import stdin_stream

            return open_capture(stdin_stream(), "<stdin>")
        return open_capture(source)
    paths = sorted(source, key=_first_time)
    caps: list[CaptureFile] = []
    try:
        for p in paths:
            caps.append(open_capture(p))
    except CaptureError:
        for c in caps:
            c.close()
        raise
    return MergedCapture(caps)
