"""Session builders: addons that group protocol messages into sessions and check the rules.

``cwmp.py`` rebuilds TR-069 sessions, connection requests and STUN bindings;
``omadm.py`` OMA DM sessions, packages and Package #0 notifications; ``tls.py`` checks the
TLS connections they ran over (and those no session claimed).  The records they emit are in
``model.py``.
"""

from dmsniff.model import Finding
from dmsniff.pipeline import Addon
from dmsniff.sessions.cwmp import CwmpSessions
from dmsniff.sessions.model import ConnectionRequest, Device, Session, SessionMessage
from dmsniff.sessions.omadm import DmSessions
from dmsniff.sessions.tls import TlsChecks


def analysis_addons() -> list[Addon]:
    """The session builders and checkers, in the order they must see each record.

    The verifier goes before them (they read its verdicts) and the writers after.
    """
    return [CwmpSessions(), DmSessions(), TlsChecks()]

__all__ = [
    "ConnectionRequest",
    "CwmpSessions",
    "Device",
    "DmSessions",
    "Finding",
    "Session",
    "SessionMessage",
    "TlsChecks",
    "analysis_addons",
]
