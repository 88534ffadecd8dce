"""Session builders: addons that group protocol messages into sessions and check the rules.

``cwmp.py`` rebuilds TR-069 sessions, connection requests and STUN bindings;
``omadm.py`` OMA DM sessions, packages and Package #0 notifications.  The records they
emit are in ``model.py``.
"""

from dmsniff.sessions.cwmp import CwmpSessions
from dmsniff.sessions.model import ConnectionRequest, Device, Finding, Session, SessionMessage
from dmsniff.sessions.omadm import DmSessions

__all__ = [
    "ConnectionRequest",
    "CwmpSessions",
    "Device",
    "DmSessions",
    "Finding",
    "Session",
    "SessionMessage",
]
