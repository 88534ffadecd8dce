"""The authentication machine of DmSessions (DM Protocol §2.4): its table, hypothesis over random input
sequences (h2's state machine tests), and playbooks for the pair the table leaves out."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from dmsniff.sessions import DmSessions, omadm
from dmsniff.sessions.omadm import (
    FINAL_PHASES,
    RULES,
    TRANSITIONS,
    UNEXPECTED,
    AuthInput,
    AuthPhase,
    auth_step,
    classify_auth,
    draw_transitions,
)

from .dm import Dm, chal, cred, message, status
from .playbook import Playbook, codes
from .test_omadm_auth import answer, package3, pkg1

BASIC = cred("syncml:auth-basic", "ZG11c2VyOmRtcGFzcw==")


def challenge(msg_id: int) -> bytes:
    """The server's 401 + Chal for the SyncHdr of the client's message msg_id (which holds only Status)."""
    return message("1A", msg_id, status(1, msg_id, 0, "SyncHdr", 401, chal()), to_server=False)
STEPS = [e for e in AuthInput if e != AuthInput.END]


def test_the_module_docstring_draws_the_table() -> None:
    assert omadm.__doc__ is not None
    assert textwrap.indent(draw_transitions(), "    ") in omadm.__doc__


def test_every_phase_that_is_not_final_has_a_way_to_end_and_final_phases_none_out() -> None:
    for phase in AuthPhase:
        if phase in FINAL_PHASES:
            assert not any(p == phase for p, _ in TRANSITIONS)
        else:
            assert TRANSITIONS[(phase, AuthInput.END)][0] in FINAL_PHASES


def test_the_table_names_only_rules_it_has_and_the_unexpected_pair_is_a_rule() -> None:
    assert {rule for _, rule in TRANSITIONS.values() if rule is not None} | {UNEXPECTED} <= set(RULES)


@given(st.lists(st.sampled_from(STEPS), max_size=40))
def test_any_sequence_of_inputs_ends_in_a_final_phase(events: list[AuthInput]) -> None:
    phase = AuthPhase.OPEN
    for event in events:
        phase, rule = auth_step(phase, event)
        assert phase not in FINAL_PHASES
        assert rule is None or rule in RULES
    phase, rule = auth_step(phase, AuthInput.END)
    assert phase in FINAL_PHASES and rule is None


@given(
    st.one_of(st.none(), st.integers(100, 599)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_every_status_is_one_input(code: int | None, has_chal: bool, repeated: bool, has_cred: bool,
                                   forbidden: bool) -> None:
    event = classify_auth(code, chal=has_chal, repeated=repeated, cred=has_cred, forbidden=forbidden)
    challenge = event in (AuthInput.CHALLENGE, AuthInput.LOOP, AuthInput.BLIND, AuthInput.FORBIDDEN)
    assert challenge == (code in (401, 407))
    assert (event == AuthInput.BLIND) == (code in (401, 407) and not has_chal)


def book() -> tuple[Playbook, Dm]:
    b = Playbook(DmSessions())
    return b, Dm(b)


def test_a_challenge_after_212_is_unexpected() -> None:
    # 212: "no further authentication is needed for the remainder of the DM session".
    b, dm = book()
    dm.exchange(pkg1(BASIC), answer(1, 212))
    c = dm.exchange(package3(2), challenge(2))
    out = b.end()
    assert codes(out) == ["omadm.auth-unexpected", "omadm.session-not-completed"]
    f = out.sessions[0].findings[0]
    assert c.request and c.response and f.frames == [c.request.frame, c.response.frame]
    assert f.message == (
        f"the server challenges (401) in frame {c.response.frame} though it accepted the credentials with "
        "212 earlier in the session (401/407 with a Chal)"
    )


def test_a_challenge_after_200_is_in_the_table() -> None:
    # After 200 the same credentials are due again: refusing the next message is the server's right.
    b, dm = book()
    dm.exchange(pkg1(BASIC), answer(1, 200, chal(nonce="bmV4dA==")))
    dm.exchange(package3(2, BASIC), challenge(2))
    assert UNEXPECTED not in codes(b.end())
