"""pcapng reading: interfaces, resolutions, block kinds, byte orders, damage, tshark."""

from __future__ import annotations

import struct
from fractions import Fraction
from pathlib import Path

import pytest

from dmsniff.capture import CaptureError, Frame, open_capture

from .capbuild import PcapngBuilder, eth_frame, tshark_available, tshark_frames
from .test_capture_pcap import check_frames, read_all

NEEDS_TSHARK = pytest.mark.skipif(not tshark_available(), reason="tshark is not installed")

T0 = 1_700_000_000


def write(tmp_path: Path, b: PcapngBuilder, name: str = "t.pcapng") -> Path:
    path = tmp_path / name
    path.write_bytes(b.data())
    return path


def mixed(endian: str = "<") -> PcapngBuilder:
    """Two interfaces (ns Ethernet, 2^-20 raw IP with an offset) and every skippable block kind."""
    b = PcapngBuilder().shb(endian=endian)
    b.idb(1, tsresol=9, name="eth0").idb(101, tsresol=0x80 | 20, tsoffset=-3600, snaplen=128)
    b.epb(0, 1000 * 10**9 + 1, eth_frame(1, 60))  # low epoch: nanoseconds are exact in a float
    b.epb(1, (2000 << 20) + 1, b"\x45" + bytes(27))  # 2000 s + 2^-20 s - 3600 s
    b.nrb().isb(0, T0 * 10**9).dsb().custom().custom(copyable=True).block(0x1234, b"unknown!")
    b.epb(0, T0 * 10**9 + 999_999_999, eth_frame(3, 1514), options=struct.pack(endian + "HHI", 2, 4, 1))
    b.epb(1, ((T0 + 5) << 20) + 12345, b"\x45" + bytes(99))
    return b


@pytest.mark.parametrize("endian", ["<", ">"])
def test_two_interfaces_and_skipped_blocks(tmp_path: Path, endian: str) -> None:
    b = mixed(endian)
    frames, info = read_all(write(tmp_path, b))
    check_frames(frames, b.expected)
    assert frames[0][1] == 1000.000000001
    assert frames[1][1] == float(Fraction(2000 * 2**20 + 1, 2**20) - 3600)
    assert info.format == "pcapng"
    assert info.link_types == [1, 101]
    assert info.packets == 4
    assert info.errors == []


def test_simple_and_obsolete_packet_blocks(tmp_path: Path) -> None:
    b = PcapngBuilder().shb().idb(1, snaplen=64)
    b.spb(eth_frame(1, 61))  # before any timestamp: 0.0
    b.pb(0, T0 * 10**6 + 250_000, eth_frame(2, 70))
    b.spb(eth_frame(3, 100))  # longer than snaplen 64: cut to 64
    b.spb(eth_frame(4, 50), orig=1500)  # captured part limited by the block body
    b.spb(eth_frame(5, 30), orig=20)  # original shorter than the body (padding): 20 bytes
    frames, info = read_all(write(tmp_path, b))
    check_frames(frames, b.expected)
    assert [len(f[3]) for f in frames] == [61, 70, 64, 52, 20]
    assert frames[0][1] == 0.0
    assert frames[2][1] == frames[1][1] == T0 + 0.25
    assert info.first_time == 0.0
    assert info.errors == []


def test_second_section_switches_byte_order_and_resets_interfaces(tmp_path: Path) -> None:
    b = PcapngBuilder().shb("<").idb(1).idb(113)
    b.epb(1, T0 * 10**6, eth_frame(1, 60))
    b.shb(">").idb(276, tsresol=3)
    b.epb(0, T0 * 1000 + 7, eth_frame(2, 80))
    b.shb("<").idb(0)
    b.epb(0, T0 * 10**6 + 1, b"\x02\0\0\0" + bytes(40))
    frames, info = read_all(write(tmp_path, b))
    check_frames(frames, b.expected)
    assert [f[2] for f in frames] == [113, 276, 0]
    assert info.link_types == [113, 276, 0]
    assert info.errors == []


def test_interface_ids_are_per_section(tmp_path: Path) -> None:
    b = PcapngBuilder().shb().idb(1).idb(101)
    b.epb(1, T0 * 10**6, b"\x45" + bytes(20))
    b.shb().idb(1)
    b.epb(1, T0 * 10**6, b"\x45" + bytes(20))  # interface 1 no longer exists
    b.epb(0, T0 * 10**6 + 1, eth_frame(2, 60))
    path = write(tmp_path, b)
    frames, info = read_all(path)
    assert [(f[0], f[2]) for f in frames] == [(1, 101), (2, 1)]
    assert len(info.errors) == 1
    assert "undefined interface 1" in info.errors[0]
    assert "(after frame 1)" in info.errors[0]


def test_packet_before_any_interface(tmp_path: Path) -> None:
    b = PcapngBuilder().shb()
    b.epb(0, 5, eth_frame(1, 60))
    b.idb(1).epb(0, 6, eth_frame(2, 60))
    frames, info = read_all(write(tmp_path, b))
    assert [f[0] for f in frames] == [1]
    assert frames[0][3] == eth_frame(2, 60)
    assert "undefined interface 0" in info.errors[0]


def test_captured_length_beyond_block_is_skipped(tmp_path: Path) -> None:
    b = PcapngBuilder().shb().idb(1)
    b.epb(0, 1, eth_frame(1, 60))
    start = len(b.out)
    b.epb(0, 2, eth_frame(2, 60))
    struct.pack_into("<I", b.out, start + 20, 500)  # caplen 500 in a 92-byte block
    b.epb(0, 3, eth_frame(3, 60))
    frames, info = read_all(write(tmp_path, b))
    assert [f[3] for f in frames] == [eth_frame(1, 60), eth_frame(3, 60)]
    assert info.errors == [
        f"corrupt packet block at offset {start} (after frame 1): captured length 500 exceeds the block"
    ]


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (lambda out, at: struct.pack_into("<I", out, at + 4, 94), "invalid block length 94"),
        (lambda out, at: struct.pack_into("<I", out, at + 4, 8), "invalid block length 8"),
        (lambda out, at: struct.pack_into("<I", out, at + 4, 0x7FFFFFF0), "invalid block length"),
        (lambda out, at: struct.pack_into("<I", out, at + 88, 96), "trailing length 96 differs"),
    ],
)
def test_bad_block_length_stops(tmp_path: Path, patch: object, message: str) -> None:
    b = PcapngBuilder().shb().idb(1)
    b.epb(0, 1, eth_frame(1, 60))
    at = len(b.out)
    b.epb(0, 2, eth_frame(2, 60))  # 92-byte block
    b.epb(0, 3, eth_frame(3, 60))
    assert callable(patch)
    patch(b.out, at)
    frames, info = read_all(write(tmp_path, b))
    assert [f[0] for f in frames] == [1]
    assert len(info.errors) == 1
    assert info.errors[0].startswith(f"corrupt block at offset {at} (after frame 1)")
    assert message in info.errors[0]


def test_truncated_inside_packet_and_other_blocks(tmp_path: Path) -> None:
    b = PcapngBuilder().shb().idb(1)
    b.epb(0, 1, eth_frame(1, 60))
    data_end = len(b.out)
    b.epb(0, 2, eth_frame(2, 60))
    path = tmp_path / "cut.pcapng"
    path.write_bytes(b.data()[:-10])
    frames, info = read_all(path)
    assert [f[0] for f in frames] == [1]
    assert info.errors == [f"truncated: capture ends inside frame 2 at offset {data_end}"]
    b.nrb()
    path.write_bytes(b.data()[:-3])
    frames, info = read_all(path)
    assert len(frames) == 2
    assert info.errors == [
        f"truncated: capture ends inside a block at offset {b.block_ends[-2]} (after frame 2)"
    ]


def test_unsupported_versions(tmp_path: Path) -> None:
    path = write(tmp_path, PcapngBuilder().shb(version=(2, 0)).idb(1))
    with pytest.raises(CaptureError, match=r"unsupported pcapng version 2\.0"):
        open_capture(str(path))
    b = PcapngBuilder().shb().idb(1).epb(0, 1, eth_frame(1, 60)).shb(version=(2, 0)).idb(1).epb(0, 2, b"x")
    frames, info = read_all(write(tmp_path, b, "later.pcapng"))
    assert len(frames) == 1
    assert "section header block" in info.errors[0]


def test_bad_byte_order_magic(tmp_path: Path) -> None:
    data = bytearray(PcapngBuilder().shb().idb(1).data())
    data[8:12] = b"\x11\x22\x33\x44"
    path = tmp_path / "bom.pcapng"
    path.write_bytes(bytes(data))
    with pytest.raises(CaptureError, match="byte-order magic"):
        open_capture(str(path))


def test_tsresol_variants(tmp_path: Path) -> None:
    b = PcapngBuilder().shb()
    for resol in (0, 3, 6, 9, 12, 0x80 | 10, 0x80 | 30):
        b.idb(1, tsresol=resol)
    for ifid, units in enumerate([1234, 1234_567, 1234_567_890, 1234_567_890_123, 1234_567_890_123_456]):
        b.epb(ifid, units, eth_frame(ifid, 60))
    b.epb(5, 1234 << 10 | 1023, eth_frame(5, 60))
    b.epb(6, 1234 << 30 | 1, eth_frame(6, 60))
    frames, info = read_all(write(tmp_path, b))
    check_frames(frames, b.expected)
    assert [f[1] for f in frames[:5]] == [1234.0, 1234.567, 1234.56789, 1234.567890123, 1234.567890123456]
    assert info.errors == []


def test_epb_options_and_large_blocks(tmp_path: Path) -> None:
    b = PcapngBuilder().shb(options=struct.pack("<HH", 4, 4) + b"test" + bytes(4)).idb(1, snaplen=0)
    big = bytes(range(256)) * 1024  # 256 KiB packet, more than a quarter of a chunk
    for i in range(12):  # 3 MiB: blocks straddle chunk boundaries
        b.epb(0, T0 * 10**6 + i, big[i:] + bytes(i), options=struct.pack("<HH", 1, 3) + b"hi!\0" + bytes(4))
    frames, info = read_all(write(tmp_path, b))
    check_frames(frames, b.expected)
    assert info.errors == []


@NEEDS_TSHARK
@pytest.mark.parametrize("endian", ["<", ">"])
def test_matches_tshark(tmp_path: Path, endian: str) -> None:
    # No custom blocks here: Wireshark 4 numbers them as records, while they carry no packet.
    b = PcapngBuilder().shb(endian=endian)
    b.idb(1, tsresol=9).idb(101, tsresol=0x80 | 20, tsoffset=100).idb(113)
    for i in range(200):
        if i % 3 == 0:
            b.epb(0, (T0 + i) * 10**9 + i * 1_000_003, eth_frame(i, 60 + i))
        elif i % 3 == 1:
            b.epb(1, ((T0 + i) << 20) + i * 997, b"\x45" + bytes(20 + i))
        else:
            b.pb(2, (T0 + i) * 10**6 + i, bytes(16) + eth_frame(i, 40))
        if i % 50 == 0:
            b.nrb().isb(0, T0 * 10**9).dsb().block(0x77, b"unknown")
    b.spb(eth_frame(999, 77))
    path = write(tmp_path, b)
    frames, info = read_all(path)
    ref = tshark_frames(str(path))
    assert info.errors == []
    assert [f[0] for f in frames] == [r[0] for r in ref]
    for frame, (_num, ts, caplen) in zip(frames, ref, strict=True):
        assert len(frame[3]) == caplen
        if ts is not None:  # Wireshark shows no time for a simple packet block
            assert abs(Fraction(frame[1]) - Fraction(ts)) < Fraction(1, 10**6)
    check_frames(frames, b.expected)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_frames_passed_over_are_counted_not_yielded(tmp_path: Path, fmt: str) -> None:
    # A -j worker's reader asks about each record before making it a frame (CaptureFile.pass_over):
    # it must be asked with the frame as it would be yielded, in frame order, and what it takes
    # keeps its number (the frames after it are numbered as before) and is counted.
    from .capbuild import pcap_bytes

    if fmt == "pcap":
        data, expected = pcap_bytes([(T0 + i, i, eth_frame(i, 60 + i)) for i in range(1, 40)])
        path = tmp_path / "t.pcap"
        path.write_bytes(data)
    else:
        b = mixed()
        for i in range(5, 40):
            b.epb(i % 2, T0 * 10**9 + i, eth_frame(i, 60 + i))
        path, expected = write(tmp_path, b), b.expected
    from dmsniff.net.packet import Dissector

    everything, _ = read_all(path)
    asked: list[Frame] = []

    class Even(Dissector):
        def passes_over(self, buf: bytes, off: int, size: int, linktype: int, number: int, ts: float) -> bool:
            asked.append((number, ts, linktype, buf[off:off + size]))
            return number % 2 == 0

    with open_capture(str(path)) as cap:
        cap.pass_over = Even(lambda *a: None, lambda *a: None)
        kept = list(cap)
        assert cap.info.packets == len(expected) and cap.info.errors == []
    assert asked == everything  # asked about every frame, as the frame it is
    assert kept == [f for f in everything if f[0] % 2] and len(kept) < len(everything)
