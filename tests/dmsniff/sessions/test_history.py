"""The per-device parameter history kept on disk (dmsniff/sessions/history.py)."""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any

import orjson
import pytest

from dmsniff.sessions import history
from dmsniff.sessions.history import ParameterLog
from dmsniff.sessions.model import ObservationRow, ParameterObservation


@pytest.fixture(params=[False, True], ids=["pickled", "json"])
def as_json(request: pytest.FixtureRequest) -> bool:
    """Every test runs on both forms of the log: pickled rows, and JSON kept for a JSON report."""
    return bool(request.param)


def _rows(device: str, n: int, start: int) -> list[ObservationRow]:
    return [
        (f"Device.{device}.{i}", str(start + i), "string", "Inform", start + i, float(start + i), "S1")
        for i in range(n)
    ]


def test_each_device_reads_back_its_own_rows_in_the_order_added(as_json: bool) -> None:
    log = ParameterLog(json=as_json)
    added: dict[str, list[ObservationRow]] = {"a": [], "b": []}
    # Interleaved blocks of different sizes, so offsets and lengths must both be right.
    for k, (device, n) in enumerate([("a", 3), ("b", 1), ("a", 50), ("b", 7), ("a", 1)]):
        rows = _rows(device, n, start=100 * k)
        log.add(device, rows)
        added[device].extend(rows)
    try:
        for device, rows in added.items():
            got = log.read(device)
            assert got == [ParameterObservation(*row) for row in rows]
        assert log.read("unknown") == []
        assert log.read("a") == log.read("a")  # reading does not consume
    finally:
        log.close()
    assert log.read("a") == []  # closed: the history is gone


def test_empty_blocks_and_an_unused_log(as_json: bool) -> None:
    log = ParameterLog(json=as_json)
    assert log.read("a") == []
    log.add("a", [])
    assert log.read("a") == []
    log.close()
    log.close()  # twice is harmless


def test_blocks_added_after_a_read_land_at_the_end(as_json: bool) -> None:
    """Blocks added after a read chain onto those before it (a read writes out the blocks kept
    in memory, and where there is no pread moves the file's position)."""
    log = ParameterLog(json=as_json)
    first, second, third = _rows("a", 4, 0), _rows("b", 2, 10), _rows("a", 3, 20)
    try:
        log.add("a", first)
        log.add("b", second)
        assert log.read("a") == [ParameterObservation(*row) for row in first]  # position: mid-file
        log.add("a", third)
        assert log.read("a") == [ParameterObservation(*row) for row in first + third]
        assert log.read("b") == [ParameterObservation(*row) for row in second]
        log.add("b", first)
        assert log.read("b") == [ParameterObservation(*row) for row in second + first]
    finally:
        log.close()


def test_long_chains_of_blocks_read_back_whole_and_in_order(as_json: bool) -> None:
    """Each block names the device's block before it: a device's history is a chain through the
    file, read from its newest block back.  Many devices, many blocks each, interleaved."""
    log = ParameterLog(json=as_json)
    added: dict[str, list[ObservationRow]] = {f"d{i}": [] for i in range(7)}
    try:
        for k in range(700):
            device = f"d{(k * k) % 7}"
            rows = _rows(device, 1 + k % 5, start=10 * k)
            log.add(device, rows)
            added[device].extend(rows)
            if k == 350:  # a read midway: later blocks still chain onto the earlier ones
                assert log.read("d1") == [ParameterObservation(*row) for row in added["d1"]]
        for device, rows in added.items():
            assert log.read(device) == [ParameterObservation(*row) for row in rows]
    finally:
        log.close()


def _interleaved(log: ParameterLog, blocks: int, rows_each: int) -> dict[str, list[ObservationRow]]:
    """Add ``blocks`` blocks for 5 devices in turn, reading one device back every 7 blocks; check
    every device's history at the end and return what was added."""
    added: dict[str, list[ObservationRow]] = {f"d{i}": [] for i in range(5)}
    for k in range(blocks):
        device = f"d{(k * 3) % 5}"
        rows = _rows(device, rows_each + k % 3, start=1000 * k)
        log.add(device, rows)
        added[device].extend(rows)
        if k % 7 == 6:
            assert log.read(device) == [ParameterObservation(*row) for row in added[device]]
    for device, rows in added.items():
        assert log.read(device) == [ParameterObservation(*row) for row in rows]
    return added


def test_blocks_are_written_in_batches_and_read_back_from_the_file_and_from_memory(as_json: bool) -> None:
    """The log keeps blocks in memory until they make ``_WRITE_AT`` bytes: a read meets some in the
    file and some not yet written, and the blocks after it still go at the file's end."""
    log = ParameterLog(json=as_json)
    try:
        added = _interleaved(log, blocks=60, rows_each=200)  # ~15 KB a block: a write every ~17
        assert log._file is not None
        size = os.fstat(log._file.fileno()).st_size
        assert size > history._WRITE_AT  # (written more than once)
        assert size + log._pending_size == log._end
        assert sum(map(len, added.values())) == sum(len(log.read(d)) for d in added)
    finally:
        log.close()


def test_a_write_that_takes_part_of_the_blocks_is_carried_on(
    as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unbuffered write may take less than it was given: the rest is written after it."""

    class Grudging(io.FileIO):
        def write(self, data: Any) -> int:
            return super().write(bytes(data)[:1000])

    unlinked = tempfile.TemporaryFile

    def temporary(buffering: int = -1) -> io.FileIO:
        assert buffering == 0
        with unlinked() as f:  # (a file without a name: the copy of its descriptor keeps it)
            return Grudging(os.dup(f.fileno()), "r+b")

    monkeypatch.setattr(tempfile, "TemporaryFile", temporary)
    monkeypatch.setattr(history, "_WRITE_AT", 3000)
    log = ParameterLog(json=as_json)
    try:
        _interleaved(log, blocks=40, rows_each=20)
        assert isinstance(log._file, Grudging)
    finally:
        log.close()


def test_where_there_is_no_pread_the_log_seeks_and_reads(
    as_json: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history, "_PREAD", None)  # (Windows)
    monkeypatch.setattr(history, "_WRITE_AT", 3000)
    log = ParameterLog(json=as_json)
    try:
        _interleaved(log, blocks=40, rows_each=20)
    finally:
        log.close()


def test_a_history_is_a_sequence_of_observations_counted_without_being_read(as_json: bool) -> None:
    log = ParameterLog(json=as_json)
    rows = _rows("a", 5, 0) + _rows("a", 3, 50)
    log.add("a", rows[:5])
    log.add("a", rows[5:])
    try:
        history = log.read("a")
        assert len(history) == 8
        assert history._items is None  # (counted from the blocks' headers)
        assert list(history.rows()) == rows
        assert history[0] == ParameterObservation(*rows[0])
        assert history[-2:] == [ParameterObservation(*r) for r in rows[-2:]]
        assert [p.value for p in history] == [r[1] for r in rows]
        assert history != [ParameterObservation(*r) for r in rows[:-1]]
    finally:
        log.close()


def test_the_report_writes_a_history_from_its_rows_as_it_writes_its_observations(as_json: bool) -> None:
    from dmsniff.report.json import dumps
    from dmsniff.report.records import observations, plain

    log = ParameterLog(json=as_json)
    rows = [*_rows("a", 4, 0), ("Device.X", "a\udc80b", None, "Inform", 7, 1e16, "S2")]  # (orjson refuses it)
    log.add("a", rows[:2])
    log.add("a", rows[2:4])
    log.add("b", rows)
    try:
        for device in ("a", "b"):
            history = log.read(device)
            listed = observations(list(history))
            assert dumps({"p": history}) == dumps({"p": listed})
            assert plain({"p": history}) == {"p": listed}
    finally:
        log.close()


def test_a_json_log_keeps_the_json_the_report_writes_and_pickles_what_orjson_refuses() -> None:
    from dmsniff.report.records import observations

    log = ParameterLog(json=True)
    plain_rows = [*_rows("a", 3, 0), ("Device.Y", "", None, "Inform", 2 ** 40, 1234567890.123456, "S2")]
    refused: list[ObservationRow] = [("Device.X", "a\udc80b", None, "Inform", 7, 1e16, "S2")]
    log.add("a", plain_rows[:2])
    log.add("a", plain_rows[2:])
    log.add("b", plain_rows[:1])
    log.add("b", refused)
    log.add("c", plain_rows[1:2])
    try:
        a, b = log.read("a"), log.read("b")
        assert a._blocks[0][:1] == b"{" and b._blocks[1][:1] == b"\x80"  # JSON; the refused one pickled
        assert a.json() == orjson.dumps(observations([ParameterObservation(*r) for r in plain_rows]))
        # (one block, and none: the brackets are put on the end blocks)
        assert log.read("c").json() == orjson.dumps(observations([ParameterObservation(*plain_rows[1])]))
        assert log.read("nothing").json() == b"[]"
        assert list(a.rows()) == plain_rows  # (the JSON reads back to the same values and types)
        assert b.json() is None  # not all JSON: the report encodes its rows (the slow way here)
        assert list(b.rows()) == plain_rows[:1] + refused
    finally:
        log.close()


def test_the_session_builders_keep_json_histories_only_for_a_json_report() -> None:
    from dmsniff.chain import addon_chain
    from dmsniff.report.json import JsonLinesReport, JsonReport
    from dmsniff.report.text import TextReport
    from dmsniff.sessions.cwmp import CwmpSessions
    from dmsniff.sessions.omadm import DmSessions

    def logs(last: list[object]) -> list[bool]:
        chain = addon_chain(None, last=last)  # type: ignore[arg-type]
        return [a.parameters._json if isinstance(a, CwmpSessions) else a.tree._json
                for a in chain if isinstance(a, CwmpSessions | DmSessions)]

    out = io.StringIO()
    assert logs([JsonLinesReport(out)]) == [True, True]
    assert logs([TextReport(out), JsonReport(out)]) == [True, True]
    assert logs([TextReport(out)]) == [False, False]
    assert logs([]) == [False, False]
