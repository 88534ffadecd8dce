"""Short labels for session messages, as the text report and the TUI timeline show them.

``Inform(1 BOOT, 4 VALUE CHANGE)``, ``GetParameterValues[2]``, ``Fault 9005``,
``(empty)``, ``204``: enough to read a conversation at a glance.
"""

from __future__ import annotations

from decoders.cwmp import CwmpMessage, GenericRpc, Inform
from dmsniff.sessions.model import Session, SessionMessage

# The RPC field whose length is worth showing in brackets.
_COUNTED = ("names", "parameters", "entries", "methods")


def message_label(msg: SessionMessage) -> str:
    rec = msg.record
    if msg.kind == "empty":
        if msg.direction == "to_server":
            return "(empty)"
        return str(msg.status) if msg.status != 200 else "200 (empty)"
    if msg.kind == "http":
        return f"{msg.status}" if msg.status is not None else "(not CWMP)"
    if not isinstance(rec, CwmpMessage):
        return msg.kind
    if rec.fault is not None:
        return f"Fault {rec.fault.code}" if rec.fault.code is not None else "Fault"
    rpc = rec.rpc
    if isinstance(rpc, Inform):
        return f"Inform({', '.join(e.code for e in rpc.events)})"
    if isinstance(rpc, GenericRpc):
        return rpc.name
    for name in _COUNTED:
        value = getattr(rpc, name, None)
        if isinstance(value, tuple):
            return f"{msg.kind}[{len(value)}]"
    label = msg.kind
    if msg.status is not None and msg.status != 200:
        label += f" ({msg.status})"
    return label


def conversation(session: Session) -> str:
    """The whole session on one line: ``Inform(1 BOOT) → InformResponse → (empty) → … → 204``."""
    parts = []
    for m in session.messages:
        label = message_label(m)
        if "auth challenge" in m.notes:
            label = f"{m.status} challenge"
        parts.append(label)
    return " → ".join(parts)
