"""The machines of DmSessions (dmsniff/sessions/omadm_machine.py): packages per direction, authentication
per side (DM Protocol §2.4), nonce resynchronisation (DM Notification §6.2).  Their tables against the
module docstring's pictures, hypothesis over random input sequences (h2's state machine tests), and
playbooks for the pairs the tables leave out."""

from __future__ import annotations

import textwrap

from hypothesis import given
from hypothesis import strategies as st

from dmsniff.sessions import DmSessions, omadm_machine
from dmsniff.sessions.omadm import RULES
from dmsniff.sessions.omadm_machine import (
    AUTH_TRANSITIONS,
    AUTH_UNEXPECTED,
    FINAL_AUTH_PHASES,
    PACKAGE_TRANSITIONS,
    RESYNC_TRANSITIONS,
    AuthInput,
    AuthPhase,
    Numbering,
    PackageInput,
    PackagePhase,
    ResyncInput,
    ResyncPhase,
    auth_step,
    classify_auth,
    classify_package,
    classify_resync,
    draw_auth,
    draw_package,
    draw_resync,
    package_step,
    resync_step,
)

from .dm import Dm, chal, cred, message, status
from .playbook import Playbook, codes
from .test_omadm_auth import answer, package3, pkg1

BASIC = cred("syncml:auth-basic", "ZG11c2VyOmRtcGFzcw==")


def challenge(msg_id: int) -> bytes:
    """The server's 401 + Chal for the SyncHdr of the client's message msg_id (which holds only Status)."""
    return message("1A", msg_id, status(1, msg_id, 0, "SyncHdr", 401, chal()), to_server=False)
STEPS = [e for e in AuthInput if e != AuthInput.END]


def test_the_module_docstring_draws_the_tables() -> None:
    assert omadm_machine.__doc__ is not None
    for draw in (draw_package, draw_auth, draw_resync):
        assert textwrap.indent(draw(), "    ") + "\n" in omadm_machine.__doc__


def test_every_phase_that_is_not_final_has_a_way_to_end_and_final_phases_none_out() -> None:
    for phase in AuthPhase:
        if phase in FINAL_AUTH_PHASES:
            assert not any(p == phase for p, _ in AUTH_TRANSITIONS)
        else:
            assert AUTH_TRANSITIONS[(phase, AuthInput.END)][0] in FINAL_AUTH_PHASES


def test_the_table_names_only_rules_it_has_and_the_unexpected_pair_is_a_rule() -> None:
    rules = {rule for _, rule in AUTH_TRANSITIONS.values() if rule is not None}
    assert rules | {AUTH_UNEXPECTED} <= set(RULES)


@given(st.lists(st.sampled_from(STEPS), max_size=40))
def test_any_sequence_of_inputs_ends_in_a_final_phase(events: list[AuthInput]) -> None:
    phase = AuthPhase.OPEN
    for event in events:
        phase, rule = auth_step(phase, event)
        assert phase not in FINAL_AUTH_PHASES
        assert rule is None or rule in RULES
    phase, rule = auth_step(phase, AuthInput.END)
    assert phase in FINAL_AUTH_PHASES and rule is None


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


# -- packages ---------------------------------------------------------------------------------------
def test_every_package_pair_is_in_the_table_and_ended_is_final() -> None:
    live = [p for p in PackagePhase if p is not PackagePhase.ENDED]
    assert set(PACKAGE_TRANSITIONS) == {(p, i) for p in live for i in PackageInput}
    assert {PACKAGE_TRANSITIONS[(p, PackageInput.END)][0] for p in live} == {PackagePhase.ENDED}


# (to_server, opens, Final) per message
@given(st.lists(st.tuples(st.booleans(), st.booleans(), st.booleans()), max_size=40))
def test_package_numbers_follow_dm_protocol_section_8(messages: list[tuple[bool, bool, bool]]) -> None:
    """The machine against the rule as the spec words it, message by message: a side's package goes on
    until it sends Final, its next message opens the package after the peer's, Alert 1200/1201 from
    the client is Package #1."""
    phase = {True: PackagePhase.IDLE, False: PackagePhase.IDLE}
    number = {True: 0, False: 0}
    final = {True: True, False: True}
    for to_server, opens, fin in messages:
        event = classify_package(to_server=to_server, opens=opens, final=fin)
        phase[to_server], how = package_step(phase[to_server], event)
        peer = number[not to_server] + 1
        got = 1 if how is Numbering.FIRST else number[to_server] if how is Numbering.SAME else peer
        if to_server and opens:
            want = 1
        elif number[to_server] and not final[to_server]:
            want = number[to_server]
        else:
            want = number[not to_server] + 1
        assert got == want
        assert phase[to_server] is (PackagePhase.SENT if fin else PackagePhase.SENDING)
        number[to_server], final[to_server] = got, fin
    for side in (True, False):
        assert package_step(phase[side], PackageInput.END)[0] is PackagePhase.ENDED


# -- nonce resynchronisation --------------------------------------------------------------------------
RESYNC_STEPS = [e for e in ResyncInput if e != ResyncInput.END]


def test_the_resync_table_names_only_its_rule_and_every_waiting_phase_ends() -> None:
    rules = {rule for _, rule in RESYNC_TRANSITIONS.values() if rule is not None}
    assert rules == {"omadm.resync-step-missing"}
    for phase in ResyncPhase:
        if phase is ResyncPhase.DONE:
            assert not any(p is phase for p, _ in RESYNC_TRANSITIONS)
        else:
            assert RESYNC_TRANSITIONS[(phase, ResyncInput.END)][0] is ResyncPhase.DONE


@given(st.lists(st.sampled_from(RESYNC_STEPS), max_size=40))
def test_any_resync_sequence_ends_done_and_moves_only_forward(events: list[ResyncInput]) -> None:
    order = list(ResyncPhase)
    phase = ResyncPhase.PKG1
    for event in events:
        nxt, rule = resync_step(phase, event)
        assert order.index(nxt) >= order.index(phase)  # no step is undone
        assert rule is None or rule in RULES
        phase = nxt
    phase, _rule = resync_step(phase, ResyncInput.END)
    assert phase is ResyncPhase.DONE


@given(st.booleans(), st.one_of(st.none(), st.integers(1, 9)), st.one_of(st.none(), st.integers(100, 599)),
       st.booleans(), st.booleans())
def test_every_message_is_one_resync_input_of_its_side(to_server: bool, package: int | None, code: int | None,
                                                       nonce: bool, stale: bool) -> None:
    event = classify_resync(to_server=to_server, package=package, code=code, chal_nonce=nonce, stale=stale)
    assert event.name.startswith(("PKG1", "CLIENT")) == to_server
    if event is ResyncInput.SERVER_OK_CHAL or event is ResyncInput.CLIENT_OK_CHAL:
        assert code in (200, 212) and nonce


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
    assert AUTH_UNEXPECTED not in codes(b.end())
