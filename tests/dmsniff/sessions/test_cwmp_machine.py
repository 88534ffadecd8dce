"""The CWMP session machine: its table on its own (hyper-h2 style, hypothesis over phase x input),
the main flows as playbooks that state their findings, and random exchanges through the builder."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dmsniff.sessions import cwmp_machine
from dmsniff.sessions.cwmp import RULES
from dmsniff.sessions.cwmp_machine import (
    ACS_WAITING,
    CPE_WAITING,
    END_INPUTS,
    TRANSITIONS,
    UNEXPECTED,
    Input,
    Machine,
    Phase,
    acs_input,
    answer_input,
    cpe_inputs,
    ends_session,
    picture,
)
from tests.dmsniff.sessions.book import Book, acs, close, cpe, end, finding, wait
from tests.dmsniff.sessions.playbook import Playbook, envelope, fault, inform, rpc

# -- the table --------------------------------------------------------------------------------------


def test_the_docstring_shows_the_table() -> None:
    drawn = "\n".join(f"    {line}" if line else line for line in picture().splitlines())
    assert cwmp_machine.__doc__ is not None
    assert f"::\n\n{drawn}\n\n" in cwmp_machine.__doc__


def test_every_finding_of_the_table_is_a_rule() -> None:
    assert UNEXPECTED in RULES
    assert {code for _, code in TRANSITIONS.values() if code is not None} <= set(RULES)


def test_ended_is_final_and_every_other_phase_is_left_or_ended() -> None:
    assert not [pair for pair in TRANSITIONS if pair[0] is Phase.ENDED]
    for phase in Phase:
        if phase is not Phase.ENDED:
            assert any(at is phase for at, _ in TRANSITIONS), phase


def test_phases_with_a_turn_take_every_way_of_ending() -> None:
    settled = {Phase.CPE_TURN, Phase.HELD, Phase.AWAITING_INFORM}
    for phase in settled:
        for event in [*END_INPUTS.values(), Input.END_REFUSED]:
            nxt, _ = TRANSITIONS[(phase, event)]
            assert nxt is Phase.ENDED
    # Phases with a request outstanding settle it first, and land in one of those.
    for phase in ACS_WAITING:
        assert TRANSITIONS[(phase, Input.NEVER_ANSWERED)][0] in settled
    for phase in CPE_WAITING:
        assert TRANSITIONS[(phase, Input.NO_RESPONSE)][0] in settled


def test_a_missing_pair_is_the_unexpected_finding_and_changes_nothing() -> None:
    m = Machine(Phase.CPE_TURN)
    step = m.step(Input.ANSWER)  # an answer with nothing pending is never classified so
    assert (step.code, step.in_table, m.phase) == (UNEXPECTED, False, Phase.CPE_TURN)


def test_a_challenge_is_read_around() -> None:
    m = Machine(Phase.ACS_PENDING)
    assert m.step(Input.CHALLENGE).next is Phase.CHALLENGED
    assert m.step(Input.CHALLENGE).next is Phase.CHALLENGED  # another 401 to the retry
    assert m.current is Phase.ACS_PENDING
    step = m.step(Input.ANSWER)  # the retry is read in the phase the challenge interrupted
    assert (step.phase, step.next, m.phase) == (Phase.ACS_PENDING, Phase.CPE_TURN, Phase.CPE_TURN)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(list(Input)), max_size=30), st.sampled_from(sorted(END_INPUTS)), st.booleans()
)
def test_any_input_sequence_ends(events: list[Input], reason: str, refused: bool) -> None:
    m = Machine()
    fired = [m.step(e).code for e in events]
    settle, how = m.end_inputs(reason, refused)
    if m.phase is Phase.ENDED:
        assert (settle, how) == (None, None)
    else:
        steps = [m.step(e) for e in (settle, how) if e is not None]
        assert all(s.in_table for s in steps), steps  # every phase handles the end
        fired += [s.code for s in steps]
    assert m.phase is Phase.ENDED
    assert {c for c in fired if c is not None} <= set(RULES)


# -- classification --------------------------------------------------------------------------------


def test_the_cpe_message_is_read_against_the_pending_request() -> None:
    assert cpe_inputs("Inform", None, False) == (Input.INFORM,)
    assert cpe_inputs("empty", None, False) == (Input.EMPTY_POST,)
    assert cpe_inputs("RebootResponse", None, False) == (Input.STRAY_RESPONSE,)
    assert cpe_inputs("InformResponse", None, False) == (Input.OTHER,)
    assert cpe_inputs("Fault", None, True) == (Input.OTHER,)
    assert cpe_inputs("RebootResponse", "Reboot", False) == (Input.ANSWER,)
    assert cpe_inputs("Fault", "Reboot", True) == (Input.FAULT,)
    assert cpe_inputs("Fault", "Reboot", False) == (Input.ANSWER,)  # no fault code to name
    assert cpe_inputs("http", "Reboot", False) == (Input.WRONG_ANSWER,)
    assert cpe_inputs("TransferComplete", "Reboot", False) == (Input.NOT_ANSWERED, Input.REQUEST)
    assert cpe_inputs("empty", "Reboot", False) == (Input.NOT_ANSWERED, Input.EMPTY_POST)


def test_the_acs_response_is_an_answer_then_a_message() -> None:
    assert answer_input("Inform", None, None, False) is Input.NO_RESPONSE
    assert answer_input("Inform", "empty", 403, False) is Input.REFUSAL
    assert answer_input("TransferComplete", "empty", 403, False) is Input.NOT_ANSWERED
    assert answer_input("Inform", "InformResponse", 200, False) is Input.ANSWER
    assert answer_input("Inform", "GetParameterValues", 200, False) is Input.NOT_ANSWERED
    assert acs_input("empty", 401, False) is Input.CHALLENGE
    assert acs_input("Reboot", 200, True) is Input.ACS_REQUEST_HELD
    assert acs_input("InformResponse", 200, False) is Input.ACS_MESSAGE
    assert ends_session(204, 0) is Input.END_204
    assert ends_session(200, 0) is Input.END_200_EMPTY
    assert ends_session(200, 10) is None


# -- playbooks: the main flows, with the findings they must raise ----------------------------------

TC = (
    "<CommandKey>k</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString>"
    "</FaultStruct>"
)


def test_normal_session() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe() << acs("GetParameterValues")
        >> cpe("GetParameterValuesResponse") << acs("Reboot")
        >> cpe("RebootResponse") << acs(status=204)
    )


def test_digest_challenge_and_retry() -> None:
    digest = (("Authorization", 'Digest username="cpe", realm="acs", nonce="n1", uri="/acs", '
                                'response="0", qop=auth, nc=00000001, cnonce="c"'),)
    book = (
        Book()
        >> cpe("Inform") << acs(status=401)
        >> cpe("Inform", headers=digest) << acs("InformResponse")
        >> cpe(headers=digest) << acs(status=204)  # the same nonce, nc not increased
        << finding("cwmp.digest-nc-not-increasing", "does not increase")
    )
    assert book
    [s] = book.pb.out.sessions
    assert s.end_reason == "204"
    assert "retry after auth challenge" in s.messages[2].notes


def test_challenge_closes_the_connection_and_the_retry_continues_on_another() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs(status=401)
        >> close()
        >> cpe("Inform", conn="C2") << acs("InformResponse")
        >> cpe(conn="C2") << acs(status=204)
    )


def test_hold_requests() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse", hold=True)
        >> cpe("GetRPCMethods") << acs("GetRPCMethodsResponse")
        << finding("cwmp.hold-requests-ignored", "CPE sent GetRPCMethods although")
        >> cpe() << acs("GetRPCMethods", hold=True)
        >> cpe("GetRPCMethodsResponse") << acs(status=204)  # answering while held is what it is for
    )


def test_empty_post_and_the_ways_to_end() -> None:
    assert Book() >> cpe("Inform") << acs("InformResponse") >> cpe() << acs(status=204)
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe(envelope("")) << acs(status=200)
        << finding("cwmp.empty-post-with-body")
        << finding("cwmp.session-not-ended-by-204", "200 and an empty body")
    )
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe() << acs("GetParameterValues")
        >> end()
        << finding("cwmp.unanswered-request", "capture-end) before the CPE answered GetParameterValues")
        << finding("cwmp.session-not-ended-by-204", "capture ended")
    )
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> wait(100)
        >> cpe("Inform", conn="C2") << acs("InformResponse")
        << finding("cwmp.session-not-ended-by-204", "no message for 60 s")
        >> cpe(conn="C2") << acs(status=204)
    )


def test_unexpected_responses() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe() << acs("GetParameterValues")
        >> cpe("RebootResponse") << acs(status=204)
        << finding("cwmp.unexpected-response", "CPE answered GetParameterValues with RebootResponse")
    )
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe("SetParameterValuesResponse") << acs(status=204)
        << finding("cwmp.unexpected-response", "no ACS request is outstanding")
    )


def test_unanswered_requests_both_ways() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs("GetParameterValues")
        << finding("cwmp.unanswered-request", "ACS answered Inform with GetParameterValues")
        >> cpe() << acs(status=204)
        << finding("cwmp.unanswered-request", "CPE did not answer GetParameterValues")
    )
    assert (
        Book()
        >> cpe("Inform")
        << finding("cwmp.unanswered-request", "ACS sent no HTTP response to Inform")
        >> end()
        << finding("cwmp.session-not-ended-by-204")
    )


def test_faults_and_refusal() -> None:
    assert (
        Book()
        >> cpe("Inform") << acs("InformResponse")
        >> cpe("GetRPCMethods") << acs(fault(8005))
        << finding("cwmp.acs-fault", "fault 8005")
        >> cpe() << acs("Reboot")
        >> cpe(fault(9001)) << acs(status=204)
        << finding("cwmp.cpe-fault", "fault 9001")
    )
    assert (
        Book()
        >> cpe("Inform") << acs(status=403)
        << finding("cwmp.inform-refused", "refused the Inform of 00AA11-Box-SN1")
        >> close()
        >> end()  # a refused session ends as the ACS wants: no 204 expected
    )


def test_a_session_seen_from_its_middle() -> None:
    assert (
        Book()
        >> cpe("GetParameterValuesResponse") << acs(status=204)
        << finding("cwmp.rpc-before-inform", "session starts with GetParameterValuesResponse")
        << finding("cwmp.unexpected-response", "no ACS request is outstanding")
    )


# -- random exchanges through the builder ------------------------------------------------------------

_HOLD = '<cwmp:HoldRequests soap:mustUnderstand="1">1</cwmp:HoldRequests>'
_CPE = [
    inform(),
    inform(("6 CONNECTION REQUEST",)),
    inform(("7 TRANSFER COMPLETE", "M Download"), command_keys={"M Download": "k"}),
    inform(serial="SN2"),
    b"",
    envelope(""),
    rpc("TransferComplete", "t1", TC),
    rpc("GetRPCMethods", "c1"),
    rpc("GetParameterValuesResponse", "a1", "<ParameterList></ParameterList>"),
    rpc("DownloadResponse", "a1", "<Status>1</Status>"),
    rpc("RebootResponse", "a2"),
    rpc("InformResponse"),
    fault(9002, "a1"),
    envelope("<soap:Fault><faultcode>Client</faultcode></soap:Fault>"),
    b"<html>not xml",
    b"<soap:Envelope",
]
_ACS = [
    b"",
    rpc("InformResponse"),
    rpc("InformResponse", header_extra=_HOLD),
    rpc("TransferCompleteResponse", "t1"),
    rpc("GetParameterValues", "a1", "<ParameterNames><string>D.</string></ParameterNames>"),
    rpc("GetParameterValues", "a1", header_extra=_HOLD),
    rpc("SetParameterValues", "a3", "<ParameterList></ParameterList><ParameterKey>x</ParameterKey>"),
    rpc("Download", "a1", "<CommandKey>k</CommandKey>"),
    rpc("Reboot", "a2"),
    envelope("", "1", _HOLD),
    fault(8005, "t1"),
    b"<html>oops</html>",
]

exchange = st.tuples(
    st.sampled_from(_CPE),
    st.sampled_from([200, 200, 204, 401, 403, 500]),
    st.sampled_from(_ACS),
    st.sampled_from(["C1", "C2"]),
    st.sampled_from([None, "s=1"]),
    st.sampled_from(["answered", "answered", "no response", "then closed"]),
    st.sampled_from([0.0, 0.0, 5.0, 40.0, 100.0]),
)


def run_exchanges(steps: list[tuple[bytes, int, bytes, str, str | None, str, float]]) -> list[str]:
    """Feed the exchanges to a fresh builder; every finding's code, and its message."""
    pb = Playbook()
    for body, status, answer, conn, cookie, how, gap in steps:
        pb.post(
            body,
            status=status,
            answer=answer,
            conn=conn,
            cookie=cookie,
            set_cookie=cookie,
            no_response=how == "no response",
            advance=gap,
        )
        if how == "then closed":
            pb.close(conn)
    out = pb.end()
    return [f"{f.code}: {f.message}" for s in out.sessions for f in s.findings] + [
        f"{f.code}: {f.message}" for f in out.findings
    ]


@settings(max_examples=300, deadline=None)
@given(st.lists(exchange, max_size=14))
def test_the_builder_takes_any_exchanges_within_its_table(
    steps: list[tuple[bytes, int, bytes, str, str | None, str, float]],
) -> None:
    said = run_exchanges(steps)
    assert {line.split(":", 1)[0] for line in said} <= set(RULES)
    # The builder only ever steps pairs the table has: the missing-pair wording never shows.
    assert not [line for line in said if "was not expected in phase" in line]

