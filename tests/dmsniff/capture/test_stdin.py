"""Standard input read ahead, then read whole by one reader (dmsniff/capture/stdin.py)."""

from __future__ import annotations

import io
import sys

import pytest

from dmsniff.capture.stdin import stdin_head, stdin_stream


class Trickle(io.RawIOBase):
    """A pipe that hands over a few bytes a read."""

    def __init__(self, data: bytes, step: int) -> None:
        self.data, self.step, self.pos = data, step, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buf: bytearray) -> int:  # type: ignore[override]
        n = min(len(buf), self.step, len(self.data) - self.pos)
        buf[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


@pytest.mark.parametrize("step", [1, 3, 4096])
def test_what_was_read_ahead_is_read_again_by_the_reader(monkeypatch: pytest.MonkeyPatch, step: int) -> None:
    data = bytes(range(256)) * 40
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(data, step), 8)))
    assert stdin_head(4) == data[:4]
    assert stdin_head(100) == data[:100]  # (however few bytes each read of the pipe gives)
    stream = stdin_stream()
    assert stream.read(10) == data[:10]
    assert stream.read(200) == data[10:210]  # across the end of what was read ahead
    assert stream.read() == data[210:]
    assert stream.read(5) == b""


def test_a_short_stream_ends_within_the_look_ahead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"abc", 1))))
    assert stdin_head(64) == b"abc"
    assert stdin_stream().read() == b"abc"
