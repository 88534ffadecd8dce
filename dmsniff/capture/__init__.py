"""Capture sources: fast pcap/pcapng file readers and a live-capture source."""

from dmsniff.capture.live import live_frames
from dmsniff.capture.merge import MergedCapture, looks_rotated, open_input
from dmsniff.capture.reader import (
    CaptureError,
    CaptureFile,
    CaptureInfo,
    Frame,
    open_capture,
)
from dmsniff.capture.writer import PcapngWriter
from dmsniff.net.linktypes import link_type_name  # the names live with the link types

__all__ = [
    "CaptureError",
    "CaptureFile",
    "CaptureInfo",
    "Frame",
    "MergedCapture",
    "PcapngWriter",
    "link_type_name",
    "live_frames",
    "looks_rotated",
    "open_capture",
    "open_input",
]
