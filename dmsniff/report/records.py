"""The report's record shapes, as plain dicts ready for JSON.

This module is the one place where the report schema (``docs/report.schema.json``) is
produced; keep the two in step, and only ever add fields.
"""

from __future__ import annotations

from typing import Any

from dmsniff.model import HttpMessage, Transaction

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
    if tx.interim:
        rec["interim"] = [message_record(m) for m in tx.interim]
    return rec
