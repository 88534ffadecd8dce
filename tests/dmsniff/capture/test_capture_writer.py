"""The pcapng blocks and the small pcapng writer used for live captures."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

from dmsniff.capture import PcapngWriter, open_capture
from dmsniff.capture.writer import (
    BLOCK_DSB,
    SECRETS_TLS_KEYLOG,
    block,
    decryption_secrets_block,
    option,
    tls_keylog_block,
)

from .capbuild import eth_frame, tshark_available, tshark_frames


def test_written_file_reads_back_while_still_open(tmp_path: Path) -> None:
    path = tmp_path / "w.pcapng"
    writer = PcapngWriter(str(path), 1, if_name="lo")
    times = [1_700_000_000.123456, 1_700_000_000.5, 1000.000000001]
    frames = [eth_frame(i, size) for i, size in enumerate([60, 61, 1514])]
    for ts, data in zip(times, frames, strict=True):
        writer.write(ts, data)
    # Flushed per frame: usable even if the process died now.
    with open_capture(str(path)) as cf:
        got = list(cf)
        assert cf.info.errors == []
    writer.close()
    assert [g[0] for g in got] == [1, 2, 3]
    assert [g[3] for g in got] == frames
    assert [g[2] for g in got] == [1, 1, 1]
    assert abs(got[0][1] - times[0]) < 1e-6
    assert got[2][1] == 1000.000000001  # nanosecond resolution
    if tshark_available():
        assert [r[2] for r in tshark_frames(str(path))] == [60, 61, 1514]


def test_orig_len_and_context_manager(tmp_path: Path) -> None:
    path = tmp_path / "o.pcapng"
    with PcapngWriter(str(path), 101, snaplen=64) as writer:
        writer.write(5.25, b"\x45" + bytes(63), orig_len=1500)
    with open_capture(str(path)) as cf:
        (frame,) = list(cf)
    assert frame == (1, 5.25, 101, b"\x45" + bytes(63))


def test_block_layout() -> None:
    assert option(2, b"lo") == b"\x02\x00\x02\x00lo\x00\x00"
    assert block(1, b"abcd") == b"\x01\x00\x00\x00\x10\x00\x00\x00abcd\x10\x00\x00\x00"
    dsb = tls_keylog_block(["CLIENT_RANDOM aa bb"])  # 20 bytes with its newline: no padding
    assert dsb[:8] == struct.pack("<II", BLOCK_DSB, 12 + 8 + 20)
    assert dsb[8:16] == struct.pack("<II", SECRETS_TLS_KEYLOG, 20) and dsb[16:36] == b"CLIENT_RANDOM aa bb\n"
    padded = decryption_secrets_block(SECRETS_TLS_KEYLOG, b"x" * 5)
    assert len(padded) == 12 + 8 + 8 and padded[16:24] == b"xxxxx\0\0\0"
    assert struct.unpack("<II", padded[4:8] + padded[-4:]) == (28, 28)


def test_secrets_block_read_back_by_dmsniff_and_capinfos(tmp_path: Path) -> None:
    path = tmp_path / "k.pcapng"
    lines = ["CLIENT_RANDOM " + "ab" * 32 + " " + "cd" * 48, "SERVER_TRAFFIC_SECRET_0 " + "01" * 32 + " x"]
    with PcapngWriter(str(path), 1) as writer:
        writer.write_tls_keylog(lines)
        writer.write(1.0, eth_frame(0))
    with open_capture(str(path)) as cf:
        assert [f[0] for f in cf] == [1]
        assert cf.info.tls_keylogs == [("\n".join(lines) + "\n").encode()]
    if tshark_available():
        out = subprocess.run(["capinfos", str(path)], capture_output=True, text=True, check=True).stdout
        assert "Number of decryption secrets in file: 1" in out
