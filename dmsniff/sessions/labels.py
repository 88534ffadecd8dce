"""Short labels for session messages, as the text report and the TUI timeline show them.

``Inform(1 BOOT, 4 VALUE CHANGE)``, ``GetParameterValues[2]``, ``Fault 9005``,
``(empty)``, ``204``: enough to read a conversation at a glance.
"""

from __future__ import annotations

from collections.abc import Sequence

from decoders import Columns
from decoders.cwmp import CwmpMessage, GenericRpc, Inform
from decoders.notification import Notification
from dmsniff.model import Direction
from dmsniff.sessions.model import Session, SessionMessage

# The RPC field whose length is worth showing in brackets.
_COUNTED = ("names", "parameters", "entries", "methods")


def message_label(msg: SessionMessage) -> str:
    if msg.package is not None:
        return _dm_label(msg)
    rec = msg.record
    if msg.kind == "empty":
        if msg.direction == Direction.TO_SERVER:
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
        if isinstance(value, tuple | Columns):  # (a list of records kept as columns counts too)
            return f"{msg.kind}[{len(value)}]"
    label = msg.kind
    if msg.status is not None and msg.status != 200:
        label += f" ({msg.status})"
    return label


def _dm_label(msg: SessionMessage) -> str:
    """``#1 Alert 1200, Replace[5]``, ``#2 401 Chal, Status×2``: package, header status, commands."""
    rec = msg.record
    if isinstance(rec, Notification):
        return f"#0 Notification {rec.session_id_hex} ({rec.ui_mode_name})"
    parts: list[str] = []
    statuses = 0
    for c in msg.commands:
        if c.name == "Status":
            if c.cmd_ref == "0" and c.code not in (None, 200):
                parts.insert(0, f"{c.code}")
            statuses += 1
        elif c.depth == 0:
            parts.append(f"{c.name} {c.code}" if c.name == "Alert" and c.code is not None else c.name)
    if "auth challenge" in msg.notes and parts:
        parts[0] += " Chal"
    if statuses:
        parts.append(f"Status×{statuses}" if statuses > 1 else "Status")
    label = f"#{msg.package} " + (", ".join(_runs(parts)) or "(no commands)")
    if msg.kind == "SyncML" and rec is not None and not getattr(rec, "final", True):
        label += " …"
    return label


def _runs(parts: list[str]) -> list[str]:
    """Repeated names once with a count: ["Replace", "Replace", "Get"] -> ["Replace×2", "Get"]."""
    out: list[str] = []
    counts: list[int] = []
    for p in parts:
        if out and out[-1] == p:
            counts[-1] += 1
        else:
            out.append(p)
            counts.append(1)
    return [p if n == 1 else f"{p}×{n}" for p, n in zip(out, counts, strict=True)]


def conversation(session: Session, labels: Sequence[str] | None = None) -> str:
    """The whole session on one line: ``Inform(1 BOOT) → InformResponse → (empty) → … → 204``.

    ``labels``: the :func:`message_label` of each message, when the caller has them already.
    """
    parts = []
    for i, m in enumerate(session.messages):
        label = labels[i] if labels is not None else message_label(m)
        if "auth challenge" in m.notes and m.package is None:
            label = f"{m.status} challenge"
        parts.append(label)
    return " → ".join(parts)


_SID_FORMS = {
    "decimal": "decimal form",
    "hex": "2-byte (hex) form",
    "other": "neither decimal nor 2-byte form",
}


def dm_facts(session: Session) -> list[str]:
    """What an OMA DM session says besides its messages, one report line each: the Windows MDM client
    (what shows it is one, the LoginStatus, the SessionID's form), the ./User and ./Device targets by
    CSP, and each Generic Alert's type::

        Windows MDM client (Alert 1224 com.microsoft/MDM/LoginStatus in frame 5), login 'others' …
        ./User: EnterpriseModernAppManagement (Add, Replace)
        ./Device: Policy (Replace×2); DevInfo (Replace)
        generic alert com.microsoft:mdm.unenrollment.userrequest 'user' (frame 9)
    """
    f = session.dm
    if f is None:
        return []
    out: list[str] = []
    if f.windows is not None:
        head = [f"Windows MDM client ({f.windows})"]
        if f.login_state is not None:
            head.append(f"login {f.login_state!r} (frame {f.login_frame})")
        if f.session_id_form is not None:
            head.append(f"SessionID in {_SID_FORMS.get(f.session_id_form, f.session_id_form)}")
        out.append(", ".join(head))
        scopes: dict[str, list[str]] = {}
        for t in f.scopes:
            used = ", ".join(f"{name}×{n}" if n > 1 else name for name, n in t.commands.items())
            scopes.setdefault(t.scope, []).append(f"{t.csp or '(root)'} ({used})")
        out.extend(f"./{scope.capitalize()}: {'; '.join(scopes[scope])}" for scope in ("user", "device")
                   if scope in scopes)
    for g in f.generic_alerts:
        data = f" {g.data!r}" if g.data else ""
        out.append(f"generic alert {g.type or '(no type)'}{data} (frame {g.frame})")
    return out


def session_title(session: Session, limit: int = 300) -> str:
    """One line naming a session: ``S55 cwmp 00D09E-HGW-SN0042: Inform(…) → … → 204`` (cut at ``limit``)."""
    title = f"{session.id} {session.protocol} {session.device_id or '(no device)'}: {conversation(session)}"
    return title if len(title) <= limit else title[: limit - 1] + "…"
