"""What passes between the pipeline's stages: inputs, records in canonical order, capture summaries,
and the finding that stands for a record dmsniff itself failed on.

Order is canonical: records are handed on sorted by (frame being processed when the record was
completed, connection number, exchange number), so a report is the same whether one process
decoded the capture or several (see :mod:`dmsniff.pipeline.parallel`).
"""

from __future__ import annotations

import os
import traceback
from dataclasses import dataclass, field

from dmsniff.capture import CaptureInfo, link_type_name
from dmsniff.model import ConnectionEnd, Datagram, Finding, Rule, Transaction

#: What a run reads: a capture file, "-" for standard input, or several files read as one.
Input = str | tuple[str, ...]

#: A record in canonical order: ((frame, connection number, exchange number), record).
Item = tuple[tuple[int, int, int], "Transaction | Datagram | ConnectionEnd | Finding"]


@dataclass(slots=True)
class CaptureSummary:
    """What was read from one capture: the ``captures`` entry of a report."""

    index: int
    info: CaptureInfo
    tcp_connections: int = 0
    http_connections: int = 0
    http_transactions: int = 0
    udp_datagrams: int = 0
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[str]:
        return self.info.errors

    def to_dict(self) -> dict[str, object]:
        info = self.info
        return {
            "index": self.index,
            "path": info.path,
            "format": info.format,
            "compressed": info.compressed,
            "packets": info.packets,
            "link_types": [link_type_name(lt) for lt in info.link_types],
            "first_time": info.first_time,
            "last_time": info.last_time,
            "tcp_connections": self.tcp_connections,
            "http_connections": self.http_connections,
            "http_transactions": self.http_transactions,
            "udp_datagrams": self.udp_datagrams,
            "counters": self.counters,
            "errors": list(info.errors),
            **({"parts": [{"path": p, "first_frame": first, "frames": n} for p, first, n in info.parts]}
               if info.parts else {}),
            # A log read as a capture (dmsniff.logs): what its frame numbers are, what it cannot tell.
            **({"frames": "entries" if info.frame_unit == "entry" else f"{info.frame_unit}s",
                "notes": list(info.notes)} if info.frame_unit != "packet" else {}),
        }


#: The finding for a record dmsniff could not process (a bug): the rest of the capture goes on.
INTERNAL_ERROR = "dmsniff.internal-error"
RULES: dict[str, Rule] = {
    INTERNAL_ERROR: Rule(
        "error",
        "dmsniff itself: a bug, please report it with the capture",
        "A part of dmsniff failed on one record (both are named); the rest of the capture was "
        "analysed without it.",
    ),
}
MAX_INTERNAL_ERRORS = 100  # per addon hook (and per capture for the decoding layers), then one summary


def debug_traceback(exc: BaseException) -> None:
    """``exc``'s traceback on stderr when DMSNIFF_DEBUG is set (for a bug report); else nothing."""
    if os.environ.get("DMSNIFF_DEBUG"):
        traceback.print_exception(exc)


def internal_error(where: str, exc: BaseException, frames: list[int], capture: int) -> Finding:
    """The finding that stands for a record one part of dmsniff failed on (and, with DMSNIFF_DEBUG
    set, the failure's traceback on stderr)."""
    debug_traceback(exc)
    text = str(exc).replace("\n", " ")[:200]
    return RULES[INTERNAL_ERROR].finding(INTERNAL_ERROR, f"{where}: {type(exc).__name__}: {text}", frames,
                                         None, capture)


def describe(obj: object) -> tuple[str, list[int], int]:
    """(what a record is, its frames, its capture), for an internal-error finding."""
    capture = getattr(obj, "capture", 0)
    if isinstance(capture, bool) or not isinstance(capture, int):
        capture = 0
    if isinstance(obj, Transaction):
        msg = obj.response or obj.request or (obj.interim[0] if obj.interim else None)
        return f"exchange {obj.id}", [msg.frame] if msg is not None else [], capture
    if isinstance(obj, Datagram):
        return f"datagram {obj.id}", [obj.frame], capture
    if isinstance(obj, ConnectionEnd):
        return f"the end of connection {obj.connection}", [], capture
    ident = getattr(obj, "id", None)
    frames = [f for f in [getattr(obj, "frame", None)] if isinstance(f, int)]
    return (f"{type(obj).__name__} {ident}" if ident else type(obj).__name__), frames, capture
