"""Session builders: addons that group protocol messages into sessions and check the rules.

``cwmp.py`` rebuilds TR-069 sessions, connection requests and STUN bindings;
``omadm.py`` OMA DM sessions, packages and Package #0 notifications; ``tls.py`` checks the
TLS connections they ran over (and those no session claimed).  The records they emit are in
``model.py``; where they stand in a run's addons, :mod:`dmsniff.chain`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from dmsniff.model import Finding
from dmsniff.sessions.model import ConnectionRequest, Device, Session, SessionMessage

if TYPE_CHECKING:
    from dmsniff.sessions.cwmp import CwmpSessions
    from dmsniff.sessions.omadm import DmSessions
    from dmsniff.sessions.tls import TlsChecks

# The builders are imported when first asked for (PEP 562): what needs only the model or the
# labels (the report writers) does not load every decoder with them (an HTTP-only report, whose
# merging process shares two cores with its decoding workers).
_BUILDERS = {"CwmpSessions": "cwmp", "DmSessions": "omadm", "TlsChecks": "tls"}


def __getattr__(name: str) -> Any:
    module = _BUILDERS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "ConnectionRequest",
    "CwmpSessions",
    "Device",
    "DmSessions",
    "Finding",
    "Session",
    "SessionMessage",
    "TlsChecks",
]
