"""The small pcapng writer used for live captures."""

from __future__ import annotations

from pathlib import Path

from dmsniff.capture import PcapngWriter, open_capture

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
