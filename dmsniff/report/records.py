"""The report's record shapes, as dicts ready for JSON.

This module is the one place where the report schema (``docs/report.schema.json``) is
produced; keep the two in step, and only ever add fields.

Decoded records (frozen dataclasses: CWMP RPCs, device trees) are mostly left in the dicts
as they are: :func:`dmsniff.report.json.dumps` encodes them in C, each as an object of its
fields, exactly as :func:`plain` would convert them.  The ones a report holds by the
million, CWMP parameter values and a device's parameter history, are made dicts here:
orjson takes about 0.5 µs for a slotted dataclass of seven fields and a tenth of that for
the same dict, so building the dict first halves their cost.  Whoever needs plain values
(``json.dumps``, the TUI) passes a record through :func:`plain`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass
from datetime import datetime
from operator import attrgetter
from typing import Any

from decoders.cwmp import CwmpMessage, ParameterValues
from decoders.notification import Notification
from decoders.syncml import SyncMLMessage
from decoders.tls import (
    EXTENSION_NAMES,
    GROUP_NAMES,
    CertificateInfo,
    ClientHello,
    ServerHello,
    TlsInfo,
    TlsSummary,
    suite_name,
    version_name,
)
from dmsniff.model import Finding, HttpMessage, TlsFacts, Transaction
from dmsniff.net.tls_keys import explain
from dmsniff.sessions.history import History
from dmsniff.sessions.labels import conversation, message_label
from dmsniff.sessions.model import (
    CommandSummary,
    ConnectionRequest,
    Device,
    ParameterObservation,
    Session,
    SessionMessage,
)
from dmsniff.verify.model import AuthResult, badge

SCHEMA_VERSION = "1.0"


def message_record(msg: HttpMessage) -> dict[str, Any]:
    rec: dict[str, Any] = {"frame": msg.frame, "frames": msg.frames, "time": msg.time}
    if msg.method is not None:
        rec["method"] = msg.method
        rec["uri"] = msg.uri
    else:
        rec["status"] = msg.status
        rec["reason"] = msg.reason
    rec["version"] = msg.version
    rec["headers"] = msg.headers  # (name, value) tuples: JSON arrays as they are
    rec["body_length"] = msg.body_length
    if msg.decoded_length is not None:
        rec["decoded_length"] = msg.decoded_length
    rec["complete"] = msg.complete
    proto = msg.protocol
    if isinstance(proto, CwmpMessage):
        # Which protocol message this is, in brief; sessions carry the decoded fields.
        rec["protocol"] = {"name": "cwmp", "kind": proto.kind}
    elif isinstance(proto, SyncMLMessage):
        rec["protocol"] = {"name": "omadm", "kind": "SyncML", "encoding": proto.encoding}
    elif isinstance(proto, Notification):
        rec["protocol"] = {"name": "omadm", "kind": "Notification"}
    if msg.problems:
        rec["problems"] = msg.problems
    if msg.frames_omitted:
        rec["frames_omitted"] = msg.frames_omitted
    return rec


def transaction_record(tx: Transaction) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "id": tx.id,
        "capture": tx.capture,
        "connection": tx.connection,
        "client": tx.client,
        "server": tx.server,
        "request": message_record(tx.request) if tx.request is not None else None,
        "response": message_record(tx.response) if tx.response is not None else None,
    }
    waited = tx.response_time
    # HAR's name for it (timings.wait).  To the µs, as the times: their difference carries float
    # noise below it.
    rec["wait"] = round(waited, 6) if waited is not None else None
    if tx.interim:
        rec["interim"] = [message_record(m) for m in tx.interim]
    if tx.tls is not None:
        rec["tls"] = tls_brief(tx.tls)
    return rec


# ---------------------------------------------------------------- TLS


def tls_traits(info: TlsInfo | None, summary: TlsSummary | None, *, alpn: bool = False) -> list[str]:
    """What is worth a word about a TLS connection: SNI, ALPN, resumption, retries, key updates ..."""
    out = []
    if info is not None and info.sni:
        out.append(f"SNI {info.sni}")
    if alpn and info is not None and info.alpn:
        out.append(f"ALPN {info.alpn}")
    if info is not None and info.resumed:
        out.append(f"resumed ({info.resumed})")
    if summary is not None:
        if summary.hello_retry:
            out.append("HelloRetryRequest")
        if summary.renegotiations:
            out.append(f"renegotiated ×{summary.renegotiations}")
        if any(summary.key_updates):
            out.append(f"{sum(summary.key_updates)} KeyUpdate")
        fatal = [a.name for a in summary.alerts if a.fatal]
        if fatal:
            out.append(f"fatal alert {', '.join(fatal)}")
    return out


def tls_brief(info: TlsInfo) -> dict[str, Any]:
    """What an exchange says of the TLS connection it was decrypted from."""
    return {
        "version": info.version_name,
        "cipher_suite": info.suite_name,
        "sni": info.sni,
        "alpn": info.alpn,
        "resumed": info.resumed,
        "key_source": info.key_source,
    }


def _certificate(c: CertificateInfo) -> dict[str, Any]:
    return {"subject": c.subject, "issuer": c.issuer, "san": list(c.san), "not_before": c.not_before,
            "not_after": c.not_after, "serial": c.serial, "public_key": c.public_key, "sha256": c.sha256,
            "chain_length": c.chain_length}


def _client_hello(ch: ClientHello) -> dict[str, Any]:
    return {
        "version": version_name(ch.version),
        "supported_versions": [version_name(v) for v in ch.supported_versions],
        "cipher_suites": [suite_name(c) for c in ch.cipher_suites],
        "sni": ch.sni,
        "alpn": list(ch.alpn),
        "extensions": [EXTENSION_NAMES.get(e, str(e)) for e in ch.extensions],
        "groups": [GROUP_NAMES.get(g, str(g)) for g in ch.supported_groups],
        "key_shares": [GROUP_NAMES.get(g, str(g)) for g in ch.key_share_groups],
        "session_id": ch.session_id.hex(),
        "session_ticket": ch.session_ticket is not None and len(ch.session_ticket) > 0,
        "psk_identities": ch.psk_identities,
        "early_data": ch.early_data,
        "extended_master_secret": ch.extended_master_secret,
        "encrypt_then_mac": ch.encrypt_then_mac,
    }


def _server_hello(sh: ServerHello) -> dict[str, Any]:
    return {
        "version": version_name(sh.negotiated_version),
        "cipher_suite": suite_name(sh.cipher_suite),
        "session_id": sh.session_id.hex(),
        "extensions": [EXTENSION_NAMES.get(e, str(e)) for e in sh.extensions],
        "key_share": GROUP_NAMES.get(sh.key_share_group, str(sh.key_share_group))
        if sh.key_share_group is not None else None,
        "extended_master_secret": sh.extended_master_secret,
        "encrypt_then_mac": sh.encrypt_then_mac,
        "compression": sh.compression_method,
    }


def tls_record(t: TlsFacts) -> dict[str, Any]:
    """One TLS connection, decrypted or not, with why not (the ``tls`` record)."""
    s = t.summary
    info = s.info
    c = t.client_direction

    def ways(pair: tuple[int, int]) -> dict[str, int]:
        return {"to_server": pair[c], "to_client": pair[1 - c]}

    return {
        "connection": t.connection,
        "capture": t.capture,
        "client": t.client,
        "server": t.server,
        "start": t.first_time,
        "end": t.last_time,
        "first_frame": t.first_frame,
        "last_frame": t.last_frame,
        "version": info.version_name if info.version is not None else None,
        "cipher_suite": info.suite_name,
        "sni": info.sni,
        "alpn": info.alpn,
        "client_random": info.client_random.hex() if info.client_random is not None else None,
        "resumed": info.resumed,
        "decrypted": s.decrypted,
        "reason": None if s.reason is None else {"code": s.reason.code, "text": explain(s.reason)},
        "key_source": info.key_source,
        "http": t.http,
        "certificate": _certificate(s.certificate) if s.certificate is not None else None,
        "client_hello": _client_hello(s.client_hello) if s.client_hello is not None else None,
        "server_hello": _server_hello(s.server_hello) if s.server_hello is not None else None,
        "alerts": [{"direction": "to_server" if a.direction == c else "to_client",
                    "level": {1: "warning", 2: "fatal"}.get(a.level) if a.level is not None else None,
                    "description": a.name, "encrypted": a.encrypted} for a in s.alerts],
        "records": ways(s.records),
        "application_bytes": ways(s.application_bytes),
        "opaque_bytes": ways(s.opaque_bytes),
        "hello_retry": s.hello_retry,
        "renegotiations": s.renegotiations,
        "key_updates": ways(s.key_updates),
        "handshake_complete": s.handshake_complete,
        "frames": t.frames,
        "problems": [*s.problems, *t.notes],
    }


# ---------------------------------------------------------------- sessions, findings, devices


_SCALARS = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A decoded record (frozen dataclasses, tuples, datetimes) as JSON-ready values."""
    t = type(value)
    if t in _SCALARS:
        return value
    conv = _CONVERTERS.get(t)
    if conv is not None:
        return conv(value)
    if isinstance(value, tuple | list):
        return [v if type(v) in _SCALARS else plain(v) for v in value]
    if t is ParameterValues:  # (not a dataclass: orjson hands it here, to become a list)
        return parameter_values(value)
    if isinstance(value, History):  # a device_record's parameters
        return observations(value)
    if isinstance(value, dict):
        return {k: v if type(v) in _SCALARS else plain(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if is_dataclass(value):
        return _converter(t)(value)
    return str(value)


def _converter(cls: type) -> Callable[[Any], dict[str, Any]]:
    """A function turning one instance of dataclass ``cls`` into a dict; made once per class.

    Reports can hold millions of parameter records: dataclasses.fields() and a recursive
    call per scalar field cost more than the JSON encoding itself.
    """
    names = tuple(f.name for f in fields(cls))
    getter: Callable[[Any], tuple[Any, ...]]
    if len(names) > 1:
        getter = attrgetter(*names)
    else:  # attrgetter of one name returns the value, not a 1-tuple
        def getter(v: Any) -> tuple[Any, ...]:
            return tuple(getattr(v, n) for n in names)

    def convert(value: Any) -> dict[str, Any]:
        values = getter(value)
        return {n: (x if type(x) in _SCALARS else plain(x)) for n, x in zip(names, values, strict=True)}

    _CONVERTERS[cls] = convert
    return convert


_CONVERTERS: dict[type, Callable[[Any], dict[str, Any]]] = {}


def parameter_values(values: ParameterValues) -> list[dict[str, Any]]:
    """CWMP parameter values as dicts (see the module's docstring for why), from their columns."""
    return [{"name": name, "value": value, "type": type_}
            for name, value, type_ in zip(values.names, values.values, values.types, strict=True)]


def observations(rows: Sequence[ParameterObservation]) -> list[dict[str, Any]]:
    """A device's parameter history as dicts (see the module's docstring for why)."""
    return [{"name": r.name, "value": r.value, "type": r.type, "source": r.source, "frame": r.frame,
             "time": r.time, "session": r.session} for r in rows]


_RPC_FIELDS: dict[type, tuple[str, ...]] = {}


def rpc_fields(rpc: Any) -> dict[str, Any]:
    """A CWMP RPC record as orjson writes a dataclass (its fields in order, none whose name starts
    with ``_``), with its parameter values as dicts."""
    cls = type(rpc)
    names = _RPC_FIELDS.get(cls)
    if names is None:
        names = _RPC_FIELDS[cls] = tuple(f.name for f in fields(cls) if not f.name.startswith("_"))
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(rpc, name)
        if type(value) is ParameterValues:
            value = parameter_values(value)
        out[name] = value
    return out


def _cwmp_fields(rec: CwmpMessage) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rec.cwmp_version is not None:
        out["cwmp_version"] = rec.cwmp_version
    header = {k: v for k, v in plain(rec.header).items() if v not in (None, [])}
    header.pop("id", None)
    if header:
        out["header"] = header
    if rec.rpc is not None:
        out["fields"] = rpc_fields(rec.rpc)
    if rec.fault is not None:
        out["fault"] = rec.fault
    if rec.problems:
        out["problems"] = list(rec.problems)
    return out


def command_record(c: CommandSummary) -> dict[str, Any]:
    rec: dict[str, Any] = {"name": c.name, "cmd_id": c.cmd_id}
    if c.depth:
        rec["depth"] = c.depth
    if c.name in ("Status", "Results"):
        rec["msg_ref"] = c.msg_ref
        rec["cmd_ref"] = c.cmd_ref
        rec["cmd"] = c.cmd
        rec["answers"] = c.answers  # frame of the message holding the command answered
    if c.code is not None:
        rec["code"] = c.code
        rec["meaning"] = c.meaning
    if c.targets:
        rec["targets"] = c.targets
    if c.data is not None:
        rec["data"] = c.data
    return rec


def _syncml_fields(rec: SyncMLMessage) -> dict[str, Any]:
    h = rec.header
    header: dict[str, Any] = {
        "ver_dtd": h.ver_dtd, "ver_proto": h.ver_proto, "source": h.source, "source_name": h.source_name,
        "target": h.target, "target_name": h.target_name, "resp_uri": h.resp_uri,
    }
    if h.cred is not None:
        header["cred"] = {"type": h.cred.type, "format": h.cred.format, "data": h.cred.data}
    if h.meta is not None:
        header["meta"] = {k: v for k, v in plain(h.meta).items() if v not in (None, [])}
    out: dict[str, Any] = {"header": {k: v for k, v in header.items() if v is not None}, "final": rec.final}
    if rec.problems:
        out["problems"] = list(rec.problems)
    return out


def _notification_fields(n: Notification) -> dict[str, Any]:
    out: dict[str, Any] = {
        "fields": {
            "version": n.version_text, "ui_mode": n.ui_mode_name, "initiator": n.initiator_name,
            "session_id": n.session_id, "server_id": n.server_id, "digest": n.digest.hex(),
            "vendor": n.vendor.hex(),
        }
    }
    if n.syncs:
        out["fields"]["syncs"] = plain(n.syncs)
    if n.problems:
        out["problems"] = list(n.problems)
    return out


def session_message_record(m: SessionMessage, label: str | None = None) -> dict[str, Any]:
    """One message of a session; ``label`` is its :func:`message_label` when the caller has it."""
    if label is None:
        label = message_label(m)
    if m.package is not None:
        return _dm_message_record(m, label)
    rec: dict[str, Any] = {
        "frame": m.frame, "time": m.time, "direction": m.direction, "kind": m.kind,
        "transaction": m.transaction, "http": m.http, "body_length": m.body_length,
        "cwmp_id": m.cwmp_id, "label": label,
    }
    if m.status is not None:
        rec["status"] = m.status
    if isinstance(m.record, CwmpMessage):
        rec.update(_cwmp_fields(m.record))
    if m.notes:
        rec["notes"] = m.notes
    if m.auth:
        rec["auth"] = [auth_record(a) for a in m.auth]  # type: ignore[arg-type]
    return rec


def _dm_message_record(m: SessionMessage, label: str) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "frame": m.frame, "time": m.time, "direction": m.direction, "kind": m.kind,
        "transaction": m.transaction, "http": m.http, "body_length": m.body_length, "cwmp_id": None,
        "label": label, "encoding": m.encoding, "session_id": m.session_id, "msg_id": m.msg_id,
        "package": m.package, "commands": [command_record(c) for c in m.commands],
    }
    if m.status is not None:
        rec["status"] = m.status
    if isinstance(m.record, SyncMLMessage):
        rec.update(_syncml_fields(m.record))
    elif isinstance(m.record, Notification):
        rec.update(_notification_fields(m.record))
    if m.notes:
        rec["notes"] = m.notes
    if m.auth:
        rec["auth"] = [auth_record(a) for a in m.auth]  # type: ignore[arg-type]
    return rec


def connection_request_record(cr: ConnectionRequest) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "kind": cr.kind, "id": cr.id, "frames": cr.frames, "time": cr.time, "client": cr.client,
        "target": cr.target, "device": cr.device, "session": cr.session,
    }
    if cr.status is not None:
        rec["status"] = cr.status
    if cr.auth:
        rec["auth"] = [auth_record(a) for a in cr.auth]  # type: ignore[arg-type]
    if cr.kind == "udp":
        rec["copies"] = cr.copies
        rec["stun_binding"] = cr.stun_binding
        if cr.record is not None:
            rec["fields"] = plain(cr.record)
    return rec


def auth_record(r: AuthResult) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "message": r.message, "frame": r.frame, "capture": r.capture, "scheme": r.scheme,
        "identity": r.identity, "algorithm": r.algorithm, "direction": r.direction, "result": r.result,
        "matched": r.matched,
    }
    if r.reason is not None:
        rec["reason"] = r.reason
    if r.notes:
        rec["notes"] = r.notes
    if r.caveat:
        rec["caveat"] = True
    if r.password is not None:  # only with --show-secrets
        rec["password"] = r.password
    return rec


def session_auth(s: Session) -> list[AuthResult]:
    """Every credential judged in a session: its messages' and its connection requests'."""
    out = [a for m in s.messages for a in m.auth]
    out.extend(a for cr in s.connection_requests for a in cr.auth)
    return out  # type: ignore[return-value]


def auth_summary(results: list[AuthResult]) -> dict[str, Any] | None:
    """A session's credentials in brief: counts per result and the badge (✓, ✗, ?)."""
    if not results:
        return None
    counts: dict[str, int] = {}
    for r in results:
        counts[r.result] = counts.get(r.result, 0) + 1
    return {"badge": badge(results), **counts}


def finding_record(f: Finding) -> dict[str, Any]:
    return {"severity": f.severity, "code": f.code, "message": f.message, "frames": f.frames,
            "reference": f.reference, "session": f.session, "capture": f.capture}


def session_record(s: Session) -> dict[str, Any]:
    labels = [message_label(m) for m in s.messages]  # for the summary and the messages alike
    rec = {
        "id": s.id, "protocol": s.protocol, "capture": s.capture, "device": s.device,
        "device_id": s.device_id, "client": s.client, "server": s.server, "start": s.start, "end": s.end,
        "end_reason": s.end_reason, "version": s.version, "events": s.events, "connections": s.connections,
        "summary": conversation(s, labels),
        "messages": [session_message_record(m, label) for m, label in zip(s.messages, labels, strict=True)],
        "connection_requests": [connection_request_record(cr) for cr in s.connection_requests],
        "findings": len(s.findings),
        "session_id": s.session_id, "server_name": s.server_name,
        "auth": auth_summary(session_auth(s)),
        "large_objects": [plain(o) for o in s.large_objects],
    }
    if s.dm is not None:  # OMA DM: Windows MDM facts (login, scopes and CSPs, SessionID form), Generic Alerts
        rec["dm"] = plain(s.dm)
    return rec


def device_record(d: Device, *, history_as_dicts: bool = True) -> dict[str, Any]:
    """``history_as_dicts=False`` leaves the parameter history as its records, for a writer that
    reads them column by column (Parquet) and would throw the dicts away.  A history read back from
    the log (a History) is left as it is either way: :func:`dmsniff.report.json.dumps` copies its
    JSON (a log kept for a JSON report) or encodes its rows, and :func:`plain` makes it dicts."""
    params: Sequence[Any] = d.parameters
    if history_as_dicts and not isinstance(params, History):
        params = observations(params)
    return {
        "id": d.id, "protocol": d.protocol, "identity": d.identity, "addresses": d.addresses,
        "sessions": d.sessions, "connection_request_url": d.connection_request_url,
        "udp_connection_request_address": d.udp_connection_request_address,
        "connection_requests": d.connection_requests,
        "parameters": params,
        "stun": d.stun,
        "nat_path": d.nat_path,
    }
