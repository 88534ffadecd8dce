"""The addon chain of a run: which addons it has and the order they see each record in.

Built here and nowhere else (``dmsniff report``, the terminal UI, ``dmsniff export``, the wordlist
audit).  The order is what makes it work:

1. ``first``: the UI's TLS keeper, so that a session a builder hands on from inside its hook for
   the record that ended it reaches the screen with that record's TLS already kept;
2. the verifier: it attaches its verdicts to each message before anything after it reads them;
3. the session builders and checkers: CWMP, OMA DM, then the TLS checks, whose
   ``connection_end`` judges only the connections no builder's session took;
4. ``last``: whatever consumes the results (report writers, the UI's feed, which may drop
   bodies the ones before it still read, the pcapng export, the progress display).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dmsniff.pipeline.addons import Addon
    from dmsniff.verify.verifier import Verifier


def addon_chain(verifier: Verifier | None, *, sessions: bool = True, first: Sequence[Addon] = (),
                last: Sequence[Addon] = ()) -> list[Addon]:
    """The addons of a run in order (see the module docstring).  ``verifier=None, sessions=False``:
    an HTTP-only report; ``sessions=False`` alone: the wordlist audit's first pass."""
    builders: list[Addon] = []
    if sessions:
        # Imported here: an HTTP-only report builds no sessions, and the builders bring in every
        # decoder and the session model (a tenth of a second its merging process would spend while
        # the decoding workers want both cores).
        from dmsniff.sessions.cwmp import CwmpSessions
        from dmsniff.sessions.omadm import DmSessions
        from dmsniff.sessions.tls import TlsChecks

        as_json = any(a.json_histories for a in last)  # (how the builders keep parameter histories)
        builders = [CwmpSessions(json_histories=as_json), DmSessions(json_histories=as_json), TlsChecks()]
    return [*first, *([verifier] if verifier is not None else []), *builders, *last]
