"""Standard input read ahead, then read whole by one reader (dmsniff/capture/stdin.py)."""

from __future__ import annotations

import io
import sys

import pytest

from dmsniff.capture import stdin as stdin_module
from dmsniff.capture.stdin import StdinCopyError, keep_copy, kept, rewind, stdin_head, stdin_stream


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


def test_a_kept_copy_is_read_again_as_often_as_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes(range(256)) * 4000  # (larger than any one read)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(data, 1000))))
    monkeypatch.setattr(stdin_module, "_current", None)
    keep_copy()
    assert kept()
    assert stdin_head(4) == data[:4]  # (read ahead: copied when the reader takes it)
    stream = stdin_stream()
    assert stream.read(10) + stream.read() == data
    for _ in range(2):
        rewind()
        assert stdin_head(100) == data[:100]
        assert stdin_stream().read() == data


def test_what_the_first_reader_left_is_not_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # A pass that stopped early (a capture cut by a bad record) is read again as it was read.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"abcdef", 2))))
    monkeypatch.setattr(stdin_module, "_current", None)
    keep_copy()
    assert stdin_stream().read(3) == b"abc"
    rewind()
    assert stdin_stream().read() == b"abc"


def test_what_was_only_read_ahead_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first pass looked at the first bytes, did not like them and read no further.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"hello, no capture", 3))))
    monkeypatch.setattr(stdin_module, "_current", None)
    keep_copy()
    assert stdin_head(8) == b"hello, n"
    rewind()
    assert stdin_head(4) == b"hell"
    assert stdin_stream().read() == b"hello, n"  # (what the first pass read of standard input)


def test_without_a_copy_there_is_no_second_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"abc", 1))))
    monkeypatch.setattr(stdin_module, "_current", None)
    assert stdin_stream().read() == b"abc"
    keep_copy()  # too late: part of it was read
    assert not kept()
    with pytest.raises(StdinCopyError, match="cannot be read a second time: its copy failed"):
        rewind()


def test_a_copy_that_cannot_be_written_refuses_the_second_reading(monkeypatch: pytest.MonkeyPatch) -> None:
    class Full(io.BytesIO):
        def write(self, b: object) -> int:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"abcdef", 2))))
    monkeypatch.setattr(stdin_module, "_current", None)
    keep_copy()
    monkeypatch.setattr(stdin_module._stdin(), "copy", Full())
    assert stdin_stream().read() == b"abcdef"  # the first reading goes on
    with pytest.raises(StdinCopyError, match=r"its copy failed \(No space left on device\)"):
        rewind()


def test_no_temporary_file_is_said_before_anything_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    def nowhere(**_: object) -> object:
        raise FileNotFoundError(2, "No usable temporary directory found")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(Trickle(b"abc", 1))))
    monkeypatch.setattr(stdin_module, "_current", None)
    monkeypatch.setattr(stdin_module.tempfile, "TemporaryFile", nowhere)
    with pytest.raises(StdinCopyError, match=r"no temporary file can hold it \(No usable temporary directory "
                                             r"found; TMPDIR chooses the folder\)"):
        keep_copy()
    assert stdin_stream().read() == b"abc"  # (nothing was read)
