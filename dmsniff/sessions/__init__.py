"""Session builders: addons that group protocol messages into sessions and check the rules.

``cwmp.py`` rebuilds TR-069 sessions, connection requests and STUN bindings; OMA DM
comes next.  The records they emit are in ``model.py``.
"""

from dmsniff.sessions.cwmp import CwmpSessions
from dmsniff.sessions.model import ConnectionRequest, Device, Finding, Session, SessionMessage

__all__ = ["ConnectionRequest", "CwmpSessions", "Device", "Finding", "Session", "SessionMessage"]
