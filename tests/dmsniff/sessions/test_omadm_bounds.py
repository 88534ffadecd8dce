"""What DmSessions keeps after a session ends is bounded by count as well as by time."""

from __future__ import annotations

import pickle

import pytest

from dmsniff.sessions import DmSessions, omadm

from .dm import Dm, alert, devinfo, message, status
from .playbook import Playbook


def test_completed_sessions_kept_for_late_answers_are_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(omadm, "MAX_CLOSED", 3)
    builder = DmSessions()
    dm = Dm(Playbook(builder))
    for n in range(5):  # five sessions, each completed by a server message of only Status
        sid = f"{n + 1:X}"
        dm.exchange(
            message(sid, 1, alert(1, 1201) + devinfo(2), to_server=True),
            message(sid, 1, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 1, "Alert", 200)
                    + status(3, 1, 2, "Replace", 200), to_server=False),
        )
    assert [key[0] for key in builder.closed] == ["3", "4", "5"]  # the newest three
    for kept, _time in builder.closed.values():
        sent = pickle.loads(kept)  # (pickled: see DmSessions.closed)
        assert sent.message.record is None  # kept without the decoded SyncML
        assert sent.message.commands[0].cmd == "SyncHdr" and sent.message.commands[0].code == 200
