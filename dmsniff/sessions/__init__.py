"""Session builders: addons that group protocol messages into sessions and check the rules.

``cwmp.py`` rebuilds TR-069 sessions, connection requests and STUN bindings;
``omadm.py`` OMA DM sessions, packages and Package #0 notifications; ``tls.py`` checks the
TLS connections they ran over (and those no session claimed).  The records they emit are in
``model.py``; where they stand in a run's addons, :mod:`dmsniff.chain`.
"""

from dmsniff.model import Finding
from dmsniff.sessions.cwmp import CwmpSessions
from dmsniff.sessions.model import ConnectionRequest, Device, Session, SessionMessage
from dmsniff.sessions.omadm import DmSessions
from dmsniff.sessions.tls import TlsChecks

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
