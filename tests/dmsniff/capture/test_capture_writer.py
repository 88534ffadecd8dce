"""The pcapng blocks and the small pcapng writer used for live captures."""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from dmsniff.capture import PcapngWriter, open_capture
from dmsniff.capture.writer import (
    BLOCK_DSB,
    BLOCK_EPB,
    BLOCK_IDB,
    BLOCK_SHB,
    SECRETS_TLS_KEYLOG,
    block,
    decryption_secrets_block,
    insert_tls_keylog,
    option,
    tls_keylog_block,
)
from tests.conftest import CAPTURES

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


def _block_types(path: Path) -> list[int]:
    data, types, pos = path.read_bytes(), [], 0
    while pos < len(data):
        btype, blen = struct.unpack_from("<II", data, pos)
        types.append(btype)
        pos += blen
    return types


def test_key_lines_put_in_front_of_a_saved_capture_open_it_in_tshark(tmp_path: Path) -> None:
    # What a live capture with -w and --keylog ends with: the packets saved as they came, then the
    # lines that opened its TLS connections put before the first packet (Wireshark reads secrets
    # only for the packets after their block: at the end they decrypt nothing).
    with open_capture(str(CAPTURES / "tls_cwmp_loopback.pcap")) as cf:
        frames = list(cf)
    path = tmp_path / "live.pcapng"
    with PcapngWriter(str(path), frames[0][2], if_name="lo") as writer:
        for _n, ts, _lt, data in frames:
            writer.write(ts, data)
    lines = [line for line in (CAPTURES / "tls_cwmp_loopback.keys").read_text().splitlines()
             if line and not line.startswith("#")]
    insert_tls_keylog(path, lines)
    assert _block_types(path) == [BLOCK_SHB, BLOCK_IDB, BLOCK_DSB] + [BLOCK_EPB] * len(frames)
    assert not (tmp_path / "live.pcapng.part").exists()
    with open_capture(str(path)) as cf:
        assert [(f[0], f[3]) for f in cf] == [(f[0], f[3]) for f in frames]
        assert cf.info.tls_keylogs == [("\n".join(lines) + "\n").encode()]
    if tshark_available():  # decrypted with no key option: the file carries them
        out = subprocess.run(["tshark", "-n", "-r", str(path), "-Y", "http.request", "-T", "fields",
                              "-e", "http.request.method"], capture_output=True, text=True, check=True).stdout
        assert len(out.split()) == 26


def test_key_lines_are_not_put_into_a_file_that_is_not_our_pcapng(tmp_path: Path) -> None:
    path = tmp_path / "not.pcapng"
    path.write_bytes(b"not a capture at all, but long enough")
    with pytest.raises(OSError, match="not a pcapng file"):
        insert_tls_keylog(path, ["CLIENT_RANDOM aa bb"])
    assert path.read_bytes() == b"not a capture at all, but long enough"
    assert not (tmp_path / "not.pcapng.part").exists()
    with pytest.raises(FileNotFoundError):
        insert_tls_keylog(tmp_path / "missing.pcapng", ["CLIENT_RANDOM aa bb"])
