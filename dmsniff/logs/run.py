"""Running a log through a :class:`~dmsniff.pipeline.runner.Pipeline`, as a capture is run.

The log's records go through the pipeline's own dispatcher, after the same protocol parsing
(:func:`dmsniff.protocols.parse_bodies`) the frame driver applies, so addons cannot tell a log
from a capture except by what the capture record says of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dmsniff.capture import CaptureInfo
from dmsniff.logs.source import SYNTHETIC_STEP, Assembler, LogSource
from dmsniff.model import ConnectionEnd, Datagram, Finding, Transaction
from dmsniff.pipeline import records
from dmsniff.pipeline.records import CaptureSummary, Item

if TYPE_CHECKING:
    from dmsniff.pipeline.runner import Pipeline

NO_TCP = "a log holds no TCP: no packets, segments, ports or connection set-up; frames are {units}"


def run_log(pipeline: Pipeline, path: str, fmt: str, source: LogSource | None = None) -> CaptureSummary:
    """Read one log (or message folder) of format ``fmt`` and feed the pipeline's addons; ``source``
    is the log already opened (a cluster run opens its logs first, to number the inputs)."""
    from dmsniff.logs import open_log

    if source is None:
        source = open_log(path, fmt)  # raises LogError (a CaptureError) when unusable
    info = source.info
    index = pipeline.begin_capture(info)
    dispatch = pipeline.hooks.record
    parse = pipeline.parse_protocols
    if parse:
        from dmsniff.protocols import parse_bodies, parse_datagram
    faults = 0

    def emit(record: Transaction | Datagram | ConnectionEnd) -> None:
        nonlocal faults
        if parse:
            try:
                if isinstance(record, Transaction):
                    parse_bodies(record)
                elif isinstance(record, Datagram):
                    record.protocol = parse_datagram(record.payload, record.sport, record.dport)
            except Exception as exc:  # a parser bug costs this record's parsing, nothing more
                faults += 1
                if faults <= 100:
                    frame = record.frame if isinstance(record, Datagram) else \
                        (record.request or record.response).frame  # type: ignore[union-attr]
                    where = f"decoding {getattr(record, 'id', '?')}"
                    dispatch(_item(records.internal_error(where, exc, [frame], index)))
        dispatch(_item(record))

    assembler = Assembler(index, emit, pipeline.max_body, info)
    try:
        source.run(assembler)
    except KeyboardInterrupt:
        info.errors.append("interrupted")
    except Exception as exc:  # a reader's bug costs the rest of this log, not the run
        info.errors.append(f"the {fmt} reader failed here (a dmsniff bug: {type(exc).__name__}: {exc}); "
                           "what came before is reported")
        dispatch(_item(records.internal_error(f"reading the {fmt} log", exc, [], index)))
    finally:
        assembler.finish()
    unit = info.frame_unit
    units = {"line": "line numbers of the file", "file": "the files' numbers",
             "entry": "the HAR's entry numbers"}
    info.notes.insert(0, NO_TCP.format(units=units.get(unit, f"{unit}s")))
    if assembler.synthetic_times:
        info.first_time = info.last_time = None  # no span to report: the log has no times
        info.notes.append(f"the log gives no times: message n is set at n × {SYNTHETIC_STEP * 1000:g} ms "
                          "after 1970-01-01 00:00 UTC, which orders them and nothing more")
    summary = CaptureSummary(index=index, info=info, tcp_connections=0,
                             http_connections=assembler.connections,
                             http_transactions=assembler.transactions, udp_datagrams=assembler.datagrams,
                             counters={"http_messages": assembler.messages})
    return pipeline.end_capture(summary)


def _item(record: Transaction | Datagram | ConnectionEnd | Finding) -> Item:
    # Records are dispatched in log order as they complete: the canonical key only matters
    # where several processes' records are merged, which a log never is.
    return ((0, 0, 0), record)


def describe(info: CaptureInfo) -> str:
    """One line for the text report: what the input is, in its own units."""
    unit = info.frame_unit
    plural = "entries" if unit == "entry" else f"{unit}s"
    return f"{info.packets} {plural} ({info.format})"
