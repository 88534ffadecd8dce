"""Parquet writer: the report as tables that DuckDB, pandas or Spark query directly.

``dmsniff report --format parquet -o DIR`` writes one folder per table under ``DIR``
(``transactions``, ``sessions``, ``messages``, ``findings``, ``auth``, ``parameters``,
``devices``, ``captures``, ``tls``), each holding ``part-<part>-<n>.parquet`` files: a
reader takes the folder as one table (``read_parquet('DIR/sessions/*.parquet')``).

The rows are the JSON report's records (:mod:`dmsniff.report.records` makes them), with
the JSON field names:

- lists of plain values are Arrow lists; HTTP headers, TLS alerts, OMA DM commands and
  capture parts are lists of structs;
- objects with a fixed handful of fields are flattened into columns named by their path
  joined with ``_`` (``request.method`` → ``request_method``, ``tls.version`` →
  ``tls_version``, ``reason.code`` → ``reason_code``, a session's ``auth.invalid`` →
  ``auth_invalid``);
- free-form objects (a message's decoded ``fields``, ``header`` and ``fault``, a device's
  ``identity``, TLS hellos, capture counters ...) are JSON text columns of the same name;
- times are UTC timestamps in microseconds, not the JSON's epoch seconds;
- what the JSON nests in sessions and devices has its own table: ``messages`` (one row per
  session message, with its ``session`` and ``index``) and ``parameters`` (one row per
  parameter value, with its ``device``); the session's ``messages`` and the device's
  ``parameters`` columns count them.

Memory stays flat: each table keeps at most ``batch_rows`` rows (or about ``batch_bytes``
of Arrow data; the last thousand as Python values) before writing them out as a row group,
and rolls over to a new part file after ``file_rows`` rows.  On a 119,000-frame
gencap.py capture (65,000 exchanges, 10,000 sessions, 1.3 million parameter rows, ``-j 1``)
the run peaks at 157 MB against the JSON writer's 69 MB (31 MB of it is pyarrow itself),
level from the first 10,000 exchanges to the end, for 18 % more CPU; the tables take
26 MB where the JSON document takes 456 MB.  A part file is written under a hidden name and
renamed when it is complete, so a reader never sees half a file; its name never replaces
an existing one, so several writers (one per capture or per worker of a cluster run, each
with its own ``part``) can fill the same folder at once.

pyarrow is optional (``pip install 'dmsniff[cluster]'``): this module imports it only when
a writer is made.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from functools import cache, partial
from operator import attrgetter
from typing import IO, TYPE_CHECKING, Any

import orjson

from dmsniff import __version__
from dmsniff.capture import CaptureError
from dmsniff.model import ConnectionEnd, Finding, Transaction
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.report.json import failed_capture_record
from dmsniff.report.records import (
    SCHEMA_VERSION,
    auth_record,
    device_record,
    finding_record,
    plain,
    session_record,
    tls_record,
    transaction_record,
)
from dmsniff.sessions.history import History
from dmsniff.sessions.model import Device, Session
from dmsniff.verify.model import AuthResult

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

#: What to install when pyarrow is missing.
INSTALL_HINT = "pip install 'dmsniff[cluster]'"

Row = tuple[Any, ...]

# ---------------------------------------------------------------- the tables

# Column types, by a short name (see _arrow_type).
_HEADERS = "headers"  # [(name, value)] in wire order
_ALERTS = "alerts"
_COMMANDS = "commands"
_PARTS = "parts"

def _columns(spec: str) -> tuple[tuple[str, str], ...]:
    """``"name:type name:type ..."`` as ((name, type), ...)."""
    return tuple((name, kind) for name, _, kind in (word.partition(":") for word in spec.split()))


def _message(p: str, first: str, second: str) -> str:
    """The columns of one HTTP message of a transaction (``request_`` or ``response_``)."""
    return f"""
        {p}_frame:int {p}_frames:list<int> {p}_frames_omitted:int {p}_time:time {p}_{first} {p}_{second}
        {p}_version:str {p}_headers:{_HEADERS} {p}_body_length:int {p}_decoded_length:int {p}_complete:bool
        {p}_problems:list<str> {p}_protocol_name:str {p}_protocol_kind:str {p}_protocol_encoding:str"""


#: Every table's columns, in order: (name, type).  ``json`` columns hold JSON text.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "transactions": _columns(f"""
        id:str capture:int connection:str client:str server:str
        {_message("request", "method:str", "uri:str")}
        {_message("response", "status:int", "reason:str")}
        wait:float interim:json tls_version:str tls_cipher_suite:str tls_sni:str tls_alpn:str
        tls_resumed:str tls_key_source:str"""),
    "sessions": _columns("""
        id:str protocol:str capture:int device:json device_id:str client:str server:str start:time end:time
        end_reason:str version:str events:list<str> connections:list<str> summary:str messages:int
        connection_requests:json findings:int session_id:str server_name:str auth_badge:str auth_valid:int
        auth_invalid:int auth_no_secret:int auth_unverifiable:int large_objects:json dm:json"""),
    "messages": _columns(f"""
        session:str capture:int index:int frame:int time:time direction:str kind:str transaction:str http:str
        status:int body_length:int cwmp_id:str label:str cwmp_version:str encoding:str session_id:str
        msg_id:str package:int final:bool header:json fields:json fault:json commands:{_COMMANDS}
        problems:list<str> notes:list<str> auth:json"""),
    "findings": _columns("""
        severity:str code:str message:str frames:list<int> reference:str session:str capture:int"""),
    "auth": _columns("""
        message:str frame:int capture:int scheme:str identity:str algorithm:str direction:str result:str
        matched:str reason:str notes:list<str> caveat:bool password:str"""),
    "parameters": _columns("""
        device:str name:str value:str type:str source:str frame:int time:time session:str"""),
    "devices": _columns("""
        id:str protocol:str identity:json addresses:list<str> sessions:list<str> connection_request_url:str
        udp_connection_request_address:str connection_requests:list<str> parameters:int stun:json
        nat_path:json"""),
    "captures": _columns(f"""
        index:int path:str format:str compressed:bool packets:int link_types:list<str> first_time:time
        last_time:time tcp_connections:int http_connections:int http_transactions:int udp_datagrams:int
        counters:json errors:list<str> parts:{_PARTS} frames:str notes:list<str>"""),
    "tls": _columns(f"""
        connection:str capture:int client:str server:str start:time end:time first_frame:int last_frame:int
        version:str cipher_suite:str sni:str alpn:str client_random:str resumed:str decrypted:bool
        reason_code:str reason_text:str key_source:str http:bool certificate_subject:str
        certificate_issuer:str certificate_san:list<str> certificate_not_before:str certificate_not_after:str
        certificate_serial:str certificate_public_key:str certificate_sha256:str certificate_chain_length:int
        client_hello:json server_hello:json alerts:{_ALERTS} records_to_server:int records_to_client:int
        application_bytes_to_server:int application_bytes_to_client:int opaque_bytes_to_server:int
        opaque_bytes_to_client:int hello_retry:bool renegotiations:int key_updates_to_server:int
        key_updates_to_client:int handshake_complete:bool frames:json problems:list<str>"""),
}


class ParquetError(Exception):
    """Parquet output cannot be written (pyarrow missing, an unusable folder); one line."""


def require_pyarrow() -> None:
    """Raise :class:`ParquetError` naming the extra to install when pyarrow is missing."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        raise ParquetError(f"--format parquet needs pyarrow: {INSTALL_HINT} "
                           "(or 'dmsniff[parquet]', pyarrow alone)") from None


def output_problem(directory: str | None) -> str | None:
    """What stops ``--format parquet -o DIR`` before any capture is read, if anything.

    ``DIR`` must be given, and be a new or empty folder: dmsniff never mixes a report's
    tables with what is already there (the rows of two runs would be counted twice).
    """
    if not directory or directory == "-":
        return "--format parquet writes a folder of tables: give -o DIR"
    try:
        require_pyarrow()
    except ParquetError as exc:
        return str(exc)
    if os.path.exists(directory) and not os.path.isdir(directory):
        return f"-o {directory}: not a folder (--format parquet writes a folder of tables)"
    try:
        os.makedirs(directory, exist_ok=True)
        if os.listdir(directory):
            return f"-o {directory}: the folder is not empty (parquet tables go to a new or empty folder)"
        if not os.access(directory, os.W_OK | os.X_OK):
            return f"cannot write to {directory}: Permission denied"
    except OSError as exc:
        return f"cannot write to {directory}: {exc.strerror}"
    return None


@cache
def _arrow_type(kind: str) -> pa.DataType:
    import pyarrow as pa

    string, int64 = pa.string(), pa.int64()
    simple: dict[str, pa.DataType] = {
        "str": string, "json": string, "int": int64, "float": pa.float64(), "bool": pa.bool_(),
        "time": pa.timestamp("us", tz="UTC"), "list<str>": pa.list_(string), "list<int>": pa.list_(int64),
    }
    if kind in simple:
        return simple[kind]
    fields: dict[str, list[tuple[str, pa.DataType]]] = {
        _HEADERS: [("name", string), ("value", string)],
        _ALERTS: [("direction", string), ("level", string), ("description", string),
                  ("encrypted", pa.bool_())],
        _COMMANDS: [("name", string), ("cmd_id", string), ("depth", int64), ("msg_ref", string),
                    ("cmd_ref", string), ("cmd", string), ("answers", int64), ("code", int64),
                    ("meaning", string), ("targets", pa.list_(string)), ("data", string)],
        _PARTS: [("path", string), ("first_frame", int64), ("frames", int64)],
    }
    return pa.list_(pa.struct(fields[kind]))


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of one table (its metadata names the report schema it follows)."""
    import pyarrow as pa

    return pa.schema(
        [pa.field(name, _arrow_type(kind)) for name, kind in TABLES[table]],
        metadata={"dmsniff.schema": f"dmsniff-report/{SCHEMA_VERSION}", "dmsniff.table": table,
                  "dmsniff.generator": f"dmsniff {__version__}"},
    )


# ---------------------------------------------------------------- values


def _json(value: Any) -> str | None:
    """A free-form value as JSON text (None stays null)."""
    if value is None:
        return None
    try:
        return orjson.dumps(value, default=plain).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        # An integer over 64 bits, a lone surrogate: escaped ASCII JSON is always valid UTF-8.
        return json.dumps(plain(value), separators=(",", ":"))


_MESSAGE_WIDTH = 15  # columns per HTTP message in ``transactions``


def _message_columns(m: dict[str, Any] | None, request: bool) -> Row:
    if m is None:
        return (None,) * _MESSAGE_WIDTH
    proto = m.get("protocol") or {}
    return (
        m["frame"], m["frames"], m.get("frames_omitted"), m["time"],
        m.get("method") if request else m.get("status"), m.get("uri") if request else m.get("reason"),
        m["version"], m["headers"], m["body_length"], m.get("decoded_length"), m["complete"],
        m.get("problems", []), proto.get("name"), proto.get("kind"), proto.get("encoding"),
    )


_NO_TLS = (None,) * 6


def transaction_row(rec: dict[str, Any]) -> Row:
    tls = rec.get("tls")
    return (
        rec["id"], rec["capture"], rec["connection"], rec["client"], rec["server"],
        *_message_columns(rec["request"], True), *_message_columns(rec["response"], False),
        rec["wait"], _json(rec.get("interim")),
        *((tls["version"], tls["cipher_suite"], tls["sni"], tls["alpn"], tls["resumed"], tls["key_source"])
          if tls is not None else _NO_TLS),
    )


def session_row(rec: dict[str, Any]) -> Row:
    auth = rec["auth"]
    counts = (None,) * 4 if auth is None else tuple(
        auth.get(k, 0) for k in ("valid", "invalid", "no-secret", "unverifiable"))
    return (
        rec["id"], rec["protocol"], rec["capture"], _json(rec["device"]), rec["device_id"], rec["client"],
        rec["server"], rec["start"], rec["end"], rec["end_reason"], rec["version"],
        rec["events"], rec["connections"], rec["summary"], len(rec["messages"]),
        _json(rec["connection_requests"]), rec["findings"], rec["session_id"], rec["server_name"],
        auth["badge"] if auth is not None else None, *counts, _json(rec["large_objects"]),
        _json(rec.get("dm")),
    )


def _command(c: dict[str, Any]) -> dict[str, Any]:
    return c if "depth" in c else {**c, "depth": 0}


def message_row(session: str, capture: int, index: int, m: dict[str, Any]) -> Row:
    commands = m.get("commands")
    return (
        session, capture, index, m["frame"], m["time"], m["direction"], m["kind"], m["transaction"],
        m["http"], m.get("status"), m["body_length"], m["cwmp_id"], m["label"], m.get("cwmp_version"),
        m.get("encoding"), m.get("session_id"), m.get("msg_id"), m.get("package"), m.get("final"),
        _json(m.get("header")), _json(m.get("fields")), _json(m.get("fault")),
        [_command(c) for c in commands] if commands is not None else None,
        m.get("problems", []), m.get("notes", []), _json(m.get("auth")),
    )


def finding_row(rec: dict[str, Any]) -> Row:
    return (rec["severity"], rec["code"], rec["message"], rec["frames"], rec["reference"], rec["session"],
            rec["capture"])


def auth_row(rec: dict[str, Any]) -> Row:
    return (
        rec["message"], rec["frame"], rec["capture"], rec["scheme"], rec["identity"], rec["algorithm"],
        rec["direction"], rec["result"], rec["matched"], rec.get("reason"), rec.get("notes", []),
        rec.get("caveat", False), rec.get("password"),
    )


_PARAMETER_KEYS = ("name", "value", "type", "source", "frame", "time", "session")


def parameter_columns(device: str, parameters: Iterable[Any]) -> list[list[Any]]:
    """A device's parameter values, one list per column of ``parameters``.

    Millions on a big capture, so read column by column from the ParameterObservation
    records ``device_record(..., history_as_dicts=False)`` leaves in place (plain dicts are taken too).
    """
    if isinstance(parameters, History):  # read back from the log: its rows are the columns
        rows = list(parameters.rows())
        return [[device] * len(rows), *([list(c) for c in zip(*rows, strict=True)] if rows else
                                        [[] for _ in _PARAMETER_KEYS])]
    params = list(parameters)
    try:
        columns = [list(map(attrgetter(k), params)) for k in _PARAMETER_KEYS]
    except AttributeError:
        dicts = [plain(p) for p in params]
        columns = [[d.get(k) for d in dicts] for k in _PARAMETER_KEYS]
    return [[device] * len(params), *columns]


def device_row(rec: dict[str, Any]) -> Row:
    return (
        rec["id"], rec["protocol"], _json(rec["identity"]), rec["addresses"], rec["sessions"],
        rec["connection_request_url"], rec["udp_connection_request_address"], rec["connection_requests"],
        len(rec["parameters"]), _json(rec["stun"]), _json(rec.get("nat_path")),
    )


def capture_row(rec: dict[str, Any]) -> Row:
    return (
        rec.get("index"), rec["path"], rec["format"], rec.get("compressed"), rec["packets"],
        rec.get("link_types", []), rec.get("first_time"), rec.get("last_time"),
        rec.get("tcp_connections"), rec.get("http_connections"), rec.get("http_transactions"),
        rec.get("udp_datagrams"), _json(rec.get("counters")), rec["errors"], rec.get("parts", []),
        rec.get("frames"), rec.get("notes", []),
    )


_NO_CERTIFICATE = (None,) * 9


def tls_row(rec: dict[str, Any]) -> Row:
    reason, cert = rec["reason"], rec["certificate"]
    return (
        rec["connection"], rec["capture"], rec["client"], rec["server"], rec["start"],
        rec["end"], rec["first_frame"], rec["last_frame"], rec["version"], rec["cipher_suite"],
        rec["sni"], rec["alpn"], rec["client_random"], rec["resumed"], rec["decrypted"],
        reason["code"] if reason is not None else None, reason["text"] if reason is not None else None,
        rec["key_source"], rec["http"],
        *((cert["subject"], cert["issuer"], cert["san"], cert["not_before"], cert["not_after"],
           cert["serial"], cert["public_key"], cert["sha256"], cert["chain_length"])
          if cert is not None else _NO_CERTIFICATE),
        _json(rec["client_hello"]), _json(rec["server_hello"]), rec["alerts"],
        *(rec[k][w] for k in ("records", "application_bytes", "opaque_bytes")
          for w in ("to_server", "to_client")),
        rec["hello_retry"], rec["renegotiations"], rec["key_updates"]["to_server"],
        rec["key_updates"]["to_client"], rec["handshake_complete"], _json(rec["frames"]), rec["problems"],
    )


# ---------------------------------------------------------------- writing


_INT64 = (-(1 << 63), (1 << 63) - 1)


def _clean(value: Any) -> Any:
    """A value Arrow refused, made storable: lone surrogates escaped, integers over 64 bits null."""
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        return value if _INT64[0] <= value <= _INT64[1] else None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, tuple):  # a header's (name, value)
        return tuple(_clean(v) for v in value)
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _array(values: list[Any], kind: str) -> pa.Array:
    import pyarrow as pa

    t = _arrow_type(kind)
    if kind == "time":  # capture times (epoch seconds) as microseconds
        values = [round(v * 1_000_000) if v is not None and math.isfinite(v) else None for v in values]
    try:
        return pa.array(values, type=t)
    except (UnicodeEncodeError, OverflowError, pa.ArrowInvalid):  # hostile input: the slow way
        return pa.array([_clean(v) for v in values], type=t)


# Rows wait as Python values only until there are _CHUNK_ROWS of them (or about _CHUNK_BYTES of
# text): then they become an Arrow record batch, several times smaller, until a row group's worth
# is written.  A row's size for those budgets: its JSON text columns counted, the rest guessed.
_CHUNK_ROWS = 1000
_CHUNK_BYTES = 1 << 20
_ROW_OVERHEAD = 200


class _Table:
    """One table being written: rows buffered, then written as row groups, rolled into part files."""

    def __init__(self, name: str, directory: str, part: str, batch_rows: int, batch_bytes: int,
                 file_rows: int, compression: str) -> None:
        self.name = name
        self.folder = os.path.join(directory, name)
        self.part = part
        self.kinds = [kind for _, kind in TABLES[name]]
        self.sized = [i for i, kind in enumerate(self.kinds) if kind == "json"]
        self.schema = arrow_schema(name)
        self.batch_rows, self.batch_bytes, self.file_rows = batch_rows, batch_bytes, file_rows
        self.chunk_rows, self.chunk_bytes = min(_CHUNK_ROWS, batch_rows), min(_CHUNK_BYTES, batch_bytes)
        self.compression = compression
        self.columns: list[list[Any]] = [[] for _ in self.kinds]  # rows not yet converted, per column
        self.buffered = self.bytes = 0
        self.batches: list[pa.RecordBatch] = []  # converted rows not yet written
        self.batched = self.batched_bytes = 0
        self.count = 0  # rows written, all files
        self.file_count = 0  # rows in the open file
        self.files: list[str] = []  # complete part files
        self.writer: pq.ParquetWriter | None = None
        self._file: IO[bytes] | None = None
        self.path = self.tmp = ""
        os.makedirs(self.folder, exist_ok=True)

    def extend(self, rows: list[Row]) -> None:
        if rows:
            self.extend_columns(list(zip(*rows, strict=True)))

    def extend_columns(self, columns: Sequence[Sequence[Any]]) -> None:
        """Add rows given as one sequence per column."""
        n = len(columns[0])
        for buffer, values in zip(self.columns, columns, strict=True):
            buffer.extend(values)
        self.buffered += n
        self.bytes += _ROW_OVERHEAD * n + sum(len(v) for i in self.sized for v in columns[i] if v is not None)
        if self.buffered >= self.chunk_rows or self.bytes >= self.chunk_bytes:
            self._convert()

    def _convert(self) -> None:
        """The buffered rows as an Arrow record batch; a row group written when there is one's worth."""
        import pyarrow as pa

        columns, n = self.columns, self.buffered
        self.columns, self.buffered, self.bytes = [[] for _ in self.kinds], 0, 0
        if n:
            arrays = [_array(col, kind) for col, kind in zip(columns, self.kinds, strict=True)]
            batch = pa.RecordBatch.from_arrays(arrays, schema=self.schema)
            self.batches.append(batch)
            self.batched += n
            self.batched_bytes += batch.nbytes
        if self.batched >= self.batch_rows or self.batched_bytes >= self.batch_bytes:
            self.flush()

    def _open(self) -> pq.ParquetWriter:
        import pyarrow.parquet as pq

        n = len(self.files)
        while True:
            self.path = os.path.join(self.folder, f"part-{self.part}-{n:04d}.parquet")
            if not os.path.exists(self.path):
                break
            n += 1  # another writer's file: never replaced
        self.tmp = os.path.join(self.folder, f".part-{self.part}-{n:04d}.parquet.tmp")
        # Exclusive: two writers given the same part fail rather than write over each other.
        f = open(self.tmp, "xb")  # noqa: SIM115 - closed in _close, after the writer
        try:
            self.writer = pq.ParquetWriter(f, self.schema, compression=self.compression)
        except BaseException:
            f.close()
            raise
        self._file = f
        self.file_count = 0
        return self.writer

    def _close(self) -> None:
        if self.writer is None:
            return
        self.writer.close()
        if self._file is not None:
            self._file.close()
        self.writer, self._file = None, None
        if os.path.exists(self.path):
            raise ParquetError(f"{self.path}: written by another writer meanwhile (each needs its own part)")
        os.rename(self.tmp, self.path)
        self.files.append(self.path)

    def flush(self) -> None:
        """Write what is converted as row groups (batch_rows at most each), rolling part files."""
        import pyarrow as pa

        if self.buffered:
            self._convert()  # (which comes back here when it fills a row group)
        batches, n = self.batches, self.batched
        self.batches, self.batched, self.batched_bytes = [], 0, 0
        if not n:
            return
        table = pa.Table.from_batches(batches, schema=self.schema)
        del batches
        start = 0
        while start < n:
            writer = self.writer or self._open()
            take = min(n - start, self.file_rows - self.file_count)
            writer.write_table(table.slice(start, take), row_group_size=self.batch_rows)
            start += take
            self.file_count += take
            self.count += take
            if self.file_count >= self.file_rows:
                self._close()

    def close(self) -> None:
        self.flush()
        if self.writer is None and not self.files:
            self._open()  # an empty table is still a table: a reader's glob finds its schema
        self._close()


class ParquetReport(Addon):
    """The report as Parquet tables under ``directory`` (see the module's docstring).

    ``part`` names this writer's files (``part-<part>-<n>.parquet``): writers filling one
    folder at once (one per capture or per worker) each need their own.
    """

    def __init__(self, directory: str, *, part: str = "0", batch_rows: int = 10_000,
                 batch_bytes: int = 4 << 20, file_rows: int = 5_000_000, compression: str = "zstd") -> None:
        require_pyarrow()
        if not part or os.sep in part or part.startswith("."):
            raise ValueError(f"part {part!r}: a plain name is needed")
        self.directory = directory
        self.tables = {name: _Table(name, directory, part, batch_rows, batch_bytes, file_rows, compression)
                       for name in TABLES}
        self.failed: str | None = None  # the first write error, after which nothing more is written

    def _guarded(self, write: Callable[[], None]) -> None:
        """Write, or after a write error (a full disk ...) say so once on stderr and stop writing."""
        if self.failed is not None:
            return
        try:
            write()
        except (OSError, ParquetError) as exc:
            self.failed = f"writing parquet tables to {self.directory}: {exc}"
            print(f"dmsniff: error: {self.failed}", file=sys.stderr)

    def _add(self, table: str, rows: list[Row]) -> None:
        if rows:
            self._guarded(partial(self.tables[table].extend, rows))

    def transaction(self, tx: Transaction) -> None:
        self._add("transactions", [transaction_row(transaction_record(tx))])

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self._add("tls", [tls_row(tls_record(end.tls))])

    def session(self, session: Session) -> None:
        rec = session_record(session)
        sid, capture = rec["id"], rec["capture"]
        self._add("sessions", [session_row(rec)])
        self._add("messages", [message_row(sid, capture, i, m) for i, m in enumerate(rec["messages"])])
        self._add("findings", [finding_row(finding_record(f)) for f in session.findings])

    def finding(self, finding: Finding) -> None:
        self._add("findings", [finding_row(finding_record(finding))])

    def device(self, device: Device) -> None:
        rec = device_record(device, history_as_dicts=False)
        did = rec["id"]
        self._add("devices", [device_row(rec)])
        columns = parameter_columns(did, rec["parameters"])
        if columns[0]:
            self._guarded(partial(self.tables["parameters"].extend_columns, columns))

    def auth(self, result: AuthResult) -> None:
        self._add("auth", [auth_row(auth_record(result))])

    def capture_end(self, summary: CaptureSummary) -> None:
        self._add("captures", [capture_row(summary.to_dict())])

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self._add("captures", [capture_row(failed_capture_record(path, error))])

    def done(self) -> None:
        for t in self.tables.values():
            self._guarded(t.close)

    @property
    def counts(self) -> dict[str, int]:
        """Rows written so far, per table."""
        return {name: t.count for name, t in self.tables.items()}
