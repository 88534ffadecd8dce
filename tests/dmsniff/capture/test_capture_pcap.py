"""Classic pcap reading: all four variants, link types, corruption, truncation, gzip, tshark."""

from __future__ import annotations

import gzip
import shutil
import struct
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from dmsniff.capture import CaptureError, CaptureInfo, Frame, link_type_name, open_capture
from dmsniff.capture.reader import MAX_PCAP_RECORD

from .capbuild import Expected, eth_frame, pcap_bytes, tshark_available, tshark_frames

NEEDS_TSHARK = pytest.mark.skipif(not tshark_available(), reason="tshark is not installed")

# Low epoch seconds first: there a float resolves nanoseconds, so the fraction arithmetic is checked
# exactly; the 2023 values check the common case to float resolution.
RECORDS_US = [(1000, 1, eth_frame(1, 60)), (1000, 999_999, eth_frame(2, 1514)), (1_700_000_000, 123_456, b"")]
RECORDS_NS = [(1000, 1, eth_frame(1, 60)), (1000, 999_999_999, eth_frame(2, 1514)), (1_700_000_000, 5, b"x")]


def read_all(path: Path | str) -> tuple[list[Frame], CaptureInfo]:
    with open_capture(str(path)) as cf:
        frames = list(cf)
        return frames, cf.info


def check_frames(frames: list[Frame], expected: list[Expected], tol: float = 2.5e-7) -> None:
    assert [f[0] for f in frames] == [e.number for e in expected]
    for frame, exp in zip(frames, expected, strict=True):
        assert frame[2] == exp.linktype
        assert frame[3] == exp.data
        assert isinstance(frame[3], bytes)
        if exp.time < 100_000:
            assert abs(Fraction(frame[1]) - exp.time) < Fraction(1, 10**10), (frame, exp)
        else:
            assert abs(Fraction(frame[1]) - exp.time) <= Fraction(tol), (frame, exp)


@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("nano", [False, True])
def test_four_pcap_variants(tmp_path: Path, endian: str, nano: bool) -> None:
    data, expected = pcap_bytes(RECORDS_NS if nano else RECORDS_US, endian=endian, nano=nano)
    path = tmp_path / "v.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    check_frames(frames, expected)
    assert info.format == "pcap"
    assert not info.compressed
    assert info.packets == 3
    assert info.link_types == [1]
    assert info.first_time == frames[0][1]
    assert info.last_time == frames[-1][1]
    assert info.errors == []


def test_linktype_fcs_bits_are_masked(tmp_path: Path) -> None:
    # 0x04000000: FCS length present; 0x40000000: FCS length 4 (as libpcap writes for 802.11).
    data, _ = pcap_bytes(RECORDS_US, linktype=0x44000000 | 113)
    path = tmp_path / "fcs.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    assert {f[2] for f in frames} == {113}
    assert info.link_types == [113]


def test_link_type_names() -> None:
    names = {0: "NULL", 1: "EN10MB", 101: "RAW", 108: "LOOP", 113: "LINUX_SLL", 228: "IPV4", 229: "IPV6"}
    names[276] = "LINUX_SLL2"
    for lt, name in names.items():
        assert link_type_name(lt) == name
    assert link_type_name(147) == "LINKTYPE_147"


def test_empty_capture_has_no_frames(tmp_path: Path) -> None:
    data, _ = pcap_bytes([])
    path = tmp_path / "empty.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    assert frames == []
    assert info.packets == 0
    assert info.first_time is None and info.last_time is None
    assert info.errors == []


def test_records_span_many_chunks(tmp_path: Path) -> None:
    # ~3.5 MiB: records straddle every 1 MiB chunk boundary at varying positions.
    records = [
        (1_600_000_000 + i // 1000, i % 1000 * 1000, eth_frame(i, 60 + (i * 37) % 1450)) for i in range(4600)
    ]
    data, expected = pcap_bytes(records)
    assert len(data) > 3 * (1 << 20)
    path = tmp_path / "big.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    check_frames(frames, expected)
    assert info.errors == []


def test_record_at_the_size_limit_is_read(tmp_path: Path) -> None:
    big = bytes(range(256)) * (MAX_PCAP_RECORD // 256)
    data, expected = pcap_bytes([(1, 0, b"a"), (2, 0, big), (3, 0, b"c")], snaplen=MAX_PCAP_RECORD)
    path = tmp_path / "limit.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    check_frames(frames, expected)
    assert info.errors == []


@pytest.mark.parametrize(("incl", "snaplen"), [(MAX_PCAP_RECORD + 1, 0), (0xFFFFFFF0, 65535), (200_000, 96)])
def test_absurd_record_length_is_corruption(tmp_path: Path, incl: int, snaplen: int) -> None:
    data, expected = pcap_bytes(RECORDS_US[:2], snaplen=snaplen)
    bad_offset = len(data)
    data += struct.pack("<IIII", 1000, 0, incl, incl) + b"\0" * 64
    path = tmp_path / "corrupt.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    check_frames(frames, expected)
    assert info.errors == [f"corrupt packet record at offset {bad_offset} (after frame 2)"]


def test_record_a_little_beyond_snaplen_is_tolerated(tmp_path: Path) -> None:
    # Some writers store more than snaplen; Wireshark reads such files, so must we.
    data, expected = pcap_bytes([(1000, 0, eth_frame(1, 1514))], snaplen=96)
    path = tmp_path / "snap.pcap"
    path.write_bytes(data)
    frames, info = read_all(path)
    check_frames(frames, expected)
    assert info.errors == []


def test_truncated_in_record_data(tmp_path: Path) -> None:
    data, expected = pcap_bytes(RECORDS_US)
    path = tmp_path / "cut.pcap"
    path.write_bytes(data[: expected[1].end - 5])
    frames, info = read_all(path)
    check_frames(frames, expected[:1])
    assert info.errors == [f"truncated: capture ends inside frame 2 at offset {expected[0].end}"]


def test_unsupported_version(tmp_path: Path) -> None:
    data, _ = pcap_bytes(RECORDS_US, version=(3, 0))
    path = tmp_path / "v3.pcap"
    path.write_bytes(data)
    with pytest.raises(CaptureError, match=r"unsupported pcap version 3\.0"):
        open_capture(str(path))


def test_iterating_again_restarts(tmp_path: Path) -> None:
    data, expected = pcap_bytes(RECORDS_US)
    path = tmp_path / "again.pcap"
    path.write_bytes(data)
    with open_capture(str(path)) as cf:
        first = list(cf)
        second = list(cf)
        assert first == second
        assert cf.info.packets == 3
    check_frames(first, expected)


def test_info_counts_frames_yielded_so_far(tmp_path: Path) -> None:
    data, _ = pcap_bytes(RECORDS_US)
    path = tmp_path / "partial.pcap"
    path.write_bytes(data)
    with open_capture(str(path)) as cf:
        it = iter(cf)
        next(it)
        assert cf.info.packets == 1
        next(it)
        assert cf.info.packets == 2
        assert cf.info.last_time == pytest.approx(1000.999999)


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_gzip_compressed(tmp_path: Path, fmt: str) -> None:
    records = [(1_600_000_000 + i, i, eth_frame(i, 60 + i % 1400)) for i in range(3000)]
    data, expected = pcap_bytes(records)
    plain = tmp_path / "plain.pcap"
    plain.write_bytes(data)
    if fmt == "pcapng":
        ng = tmp_path / "plain.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(plain), str(ng)], check=True, capture_output=True)
        plain = ng
    packed = tmp_path / f"c.{fmt}.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    frames, info = read_all(packed)
    check_frames(frames, expected, tol=1e-6)
    assert info.compressed
    assert info.format == fmt
    assert info.errors == []


def test_truncated_gzip_yields_what_decompressed(tmp_path: Path) -> None:
    records = [(1_600_000_000 + i, i, eth_frame(i, 60 + i % 1400)) for i in range(3000)]
    data, expected = pcap_bytes(records)
    packed = gzip.compress(data)
    path = tmp_path / "cut.pcap.gz"
    path.write_bytes(packed[: len(packed) // 2])
    frames, info = read_all(path)
    assert 100 < len(frames) < 3000
    check_frames(frames, expected[: len(frames)])
    assert info.errors[0].startswith("gzip stream damaged")
    assert info.errors[-1].startswith(f"truncated: capture ends inside frame {len(frames) + 1}")


@NEEDS_TSHARK
@pytest.mark.parametrize("variant", ["pcap", "nsecpcap", "pcapng", "swapped"])
def test_matches_tshark(tmp_path: Path, variant: str) -> None:
    records = [
        (1_700_000_000 + i // 3, (i * 104_729) % 1_000_000, eth_frame(i, 60 + i * 13 % 1400))
        for i in range(300)
    ]
    data, _ = pcap_bytes(records)
    path = tmp_path / "src.pcap"
    path.write_bytes(data)
    if variant == "swapped":
        data, _ = pcap_bytes(records, endian=">")
        path = tmp_path / "swapped.pcap"
        path.write_bytes(data)
    elif variant != "pcap":
        conv = tmp_path / f"conv.{variant}"
        subprocess.run(["editcap", "-F", variant, str(path), str(conv)], check=True, capture_output=True)
        path = conv
    frames, info = read_all(path)
    ref = tshark_frames(str(path))
    assert info.errors == []
    assert [f[0] for f in frames] == [r[0] for r in ref]
    for frame, (_num, ts, caplen) in zip(frames, ref, strict=True):
        assert ts is not None
        assert abs(Fraction(frame[1]) - Fraction(ts)) < Fraction(1, 10**6)
        assert len(frame[3]) == caplen


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap is not installed")
def test_editcap_nsec_timestamps(tmp_path: Path) -> None:
    data, expected = pcap_bytes(RECORDS_US)
    src = tmp_path / "us.pcap"
    src.write_bytes(data)
    ns = tmp_path / "ns.pcap"
    subprocess.run(["editcap", "-F", "nsecpcap", str(src), str(ns)], check=True, capture_output=True)
    assert ns.read_bytes()[:4] == b"\x4d\x3c\xb2\xa1"
    frames, _ = read_all(ns)
    check_frames(frames, expected)
