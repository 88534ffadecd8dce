"""The CWMP session protocol (TR-069 Amd 6 §3.7) as a transition table, in the manner of hyper-h2.

A session is in one :class:`Phase`.  Each message, and the session's end, is classified into
inputs (:func:`cpe_inputs`, :func:`answer_input`, :func:`acs_input`, :meth:`Machine.end_inputs`), and
``TRANSITIONS[(phase, input)]`` gives the next phase and the finding it raises, if any (a code
of :data:`dmsniff.sessions.cwmp.RULES`).  A pair missing from the table raises
:data:`UNEXPECTED` and leaves the phase as it was; nothing here raises.  This module holds no
data and reads no bytes: :class:`~dmsniff.sessions.cwmp.CwmpSessions` classifies the messages,
steps a :class:`Machine`, words the findings and keeps the side effects (parameter history,
downloads, events, cookies, Digest nc) beside it.

Two rules sit outside the table:

* CHALLENGED remembers the phase it interrupted.  A challenged exchange (401/407) does not
  count, so every input but another CHALLENGE is read in that phase (the retry continues it).
* One message may be several inputs, in order, as h2 reads HEADERS with END_STREAM as two.
  A CPE request or empty POST while an ACS request is pending is NOT_ANSWERED, then itself;
  the HTTP response to a CPE request is its answer, then the ACS's own message; a session
  ends with its pending request unanswered (NEVER_ANSWERED, or NO_RESPONSE), then the way
  it ended.

HELD is CPE_TURN with HoldRequests=true in the ACS's last message (the CPE must send no
requests); the ``_HELD`` phases carry the same flag through a pending request.  The table,
as :func:`picture` draws it (a test keeps the two in step)::

    AWAITING_INFORM
        MID_SESSION                                 -> CPE_TURN          cwmp.rpc-before-inform
        INFORM, REQUEST                             -> CPE_PENDING
        EMPTY_POST, OTHER, ACS_MESSAGE              -> CPE_TURN
        STRAY_RESPONSE                              -> CPE_TURN          cwmp.unexpected-response
        ACS_REQUEST                                 -> ACS_PENDING
        ACS_REQUEST_HELD                            -> ACS_PENDING_HELD
        ACS_MESSAGE_HELD                            -> HELD
        CHALLENGE                                   -> CHALLENGED
        END_204, END_REFUSED                        -> ENDED
        END_200_EMPTY, CONNECTION_CLOSED, TIMEOUT,  -> ENDED             cwmp.session-not-ended-by-204
          NEW_SESSION, CAPTURE_END
    CHALLENGED
        CHALLENGE                                   -> CHALLENGED
    CPE_TURN
        INFORM, REQUEST                             -> CPE_PENDING
        EMPTY_POST, OTHER, ACS_MESSAGE              -> CPE_TURN
        STRAY_RESPONSE                              -> CPE_TURN          cwmp.unexpected-response
        ACS_REQUEST                                 -> ACS_PENDING
        ACS_REQUEST_HELD                            -> ACS_PENDING_HELD
        ACS_MESSAGE_HELD                            -> HELD
        CHALLENGE                                   -> CHALLENGED
        END_204, END_REFUSED                        -> ENDED
        END_200_EMPTY, CONNECTION_CLOSED, TIMEOUT,  -> ENDED             cwmp.session-not-ended-by-204
          NEW_SESSION, CAPTURE_END
    HELD
        INFORM, REQUEST                             -> CPE_PENDING_HELD  cwmp.hold-requests-ignored
        EMPTY_POST, OTHER, ACS_MESSAGE_HELD         -> HELD
        STRAY_RESPONSE                              -> HELD              cwmp.unexpected-response
        ACS_REQUEST                                 -> ACS_PENDING
        ACS_REQUEST_HELD                            -> ACS_PENDING_HELD
        ACS_MESSAGE                                 -> CPE_TURN
        CHALLENGE                                   -> CHALLENGED
        END_204, END_REFUSED                        -> ENDED
        END_200_EMPTY, CONNECTION_CLOSED, TIMEOUT,  -> ENDED             cwmp.session-not-ended-by-204
          NEW_SESSION, CAPTURE_END
    CPE_PENDING
        ANSWER                                      -> CPE_TURN
        FAULT                                       -> CPE_TURN          cwmp.acs-fault
        WRONG_ANSWER, NOT_ANSWERED, NO_RESPONSE     -> CPE_TURN          cwmp.unanswered-request
        REFUSAL                                     -> CPE_TURN          cwmp.inform-refused
    CPE_PENDING_HELD
        ANSWER                                      -> HELD
        FAULT                                       -> HELD              cwmp.acs-fault
        WRONG_ANSWER, NOT_ANSWERED, NO_RESPONSE     -> HELD              cwmp.unanswered-request
        REFUSAL                                     -> HELD              cwmp.inform-refused
    ACS_PENDING
        ANSWER                                      -> CPE_TURN
        FAULT                                       -> CPE_TURN          cwmp.cpe-fault
        WRONG_ANSWER                                -> CPE_TURN          cwmp.unexpected-response
        NOT_ANSWERED, NEVER_ANSWERED                -> CPE_TURN          cwmp.unanswered-request
        ACS_REQUEST, ACS_MESSAGE                    -> ACS_PENDING
        ACS_REQUEST_HELD, ACS_MESSAGE_HELD          -> ACS_PENDING_HELD
        CHALLENGE                                   -> CHALLENGED
    ACS_PENDING_HELD
        ANSWER                                      -> HELD
        FAULT                                       -> HELD              cwmp.cpe-fault
        WRONG_ANSWER                                -> HELD              cwmp.unexpected-response
        NOT_ANSWERED, NEVER_ANSWERED                -> HELD              cwmp.unanswered-request
        ACS_REQUEST, ACS_MESSAGE                    -> ACS_PENDING
        ACS_REQUEST_HELD, ACS_MESSAGE_HELD          -> ACS_PENDING_HELD
        CHALLENGE                                   -> CHALLENGED
    ENDED

A normal session: AWAITING_INFORM -INFORM-> CPE_PENDING -ANSWER-> CPE_TURN -ACS_MESSAGE->
CPE_TURN -EMPTY_POST-> CPE_TURN -ACS_REQUEST-> ACS_PENDING -ANSWER-> CPE_TURN -ACS_MESSAGE->
CPE_TURN -END_204-> ENDED.
"""

from __future__ import annotations

import enum
import textwrap
from dataclasses import dataclass
from typing import Final, NamedTuple

__all__ = [
    "TRANSITIONS",
    "UNEXPECTED",
    "Input",
    "Machine",
    "Phase",
    "Step",
    "acs_input",
    "answer_input",
    "cpe_inputs",
    "end_input",
    "picture",
]

#: What a pair missing from the table raises.
UNEXPECTED: Final = "cwmp.unexpected-response"


class Phase(enum.Enum):
    __hash__ = object.__hash__  # identity hash: members are singletons

    #: The session is open; its first message, the CPE's Inform, comes next.
    AWAITING_INFORM = "AWAITING_INFORM"
    #: The ACS answered the last message with 401/407; the retry continues the phase before.
    CHALLENGED = "CHALLENGED"
    #: Nothing outstanding: the CPE sends a request or an empty POST, the ACS a request or 204.
    CPE_TURN = "CPE_TURN"
    #: CPE_TURN, but the ACS's last message said HoldRequests=true: the CPE sends no requests.
    HELD = "HELD"
    #: A CPE request awaits its answer in the HTTP response.
    CPE_PENDING = "CPE_PENDING"
    #: CPE_PENDING, the ACS's last message having said HoldRequests=true.
    CPE_PENDING_HELD = "CPE_PENDING_HELD"
    #: An ACS request awaits the CPE's answer in its next POST.
    ACS_PENDING = "ACS_PENDING"
    #: ACS_PENDING with HoldRequests=true.
    ACS_PENDING_HELD = "ACS_PENDING_HELD"
    #: The session is over; nothing more is read.
    ENDED = "ENDED"


class Input(enum.Enum):
    __hash__ = object.__hash__

    # The CPE's message (an HTTP request body), nothing pending
    INFORM = "INFORM"  #: an Inform
    MID_SESSION = "MID_SESSION"  #: the session's first message is not an Inform
    REQUEST = "REQUEST"  #: any other CPE request (TransferComplete, GetRPCMethods...)
    EMPTY_POST = "EMPTY_POST"  #: the CPE has no more requests
    STRAY_RESPONSE = "STRAY_RESPONSE"  #: a response (but InformResponse) with no ACS request pending
    OTHER = "OTHER"  #: a Fault, an InformResponse, or a body that is not CWMP, with nothing pending
    # A reply to the pending request, either side's
    ANSWER = "ANSWER"  #: its response (or a Fault naming no CWMP fault code)
    FAULT = "FAULT"  #: a SOAP Fault with a CWMP fault code
    WRONG_ANSWER = "WRONG_ANSWER"  #: anything else but a request or empty message
    NOT_ANSWERED = "NOT_ANSWERED"  #: a request or empty message instead: the peer moved on
    NO_RESPONSE = "NO_RESPONSE"  #: the ACS sent no HTTP response to the CPE's request
    REFUSAL = "REFUSAL"  #: the ACS answered the Inform with 403
    NEVER_ANSWERED = "NEVER_ANSWERED"  #: the session ended with the ACS's request pending
    # The ACS's message (an HTTP response), after the answer it carries
    ACS_REQUEST = "ACS_REQUEST"  #: an ACS request
    ACS_REQUEST_HELD = "ACS_REQUEST_HELD"  #: an ACS request with HoldRequests=true
    ACS_MESSAGE = "ACS_MESSAGE"  #: no request
    ACS_MESSAGE_HELD = "ACS_MESSAGE_HELD"  #: no request, HoldRequests=true
    CHALLENGE = "CHALLENGE"  #: 401/407: the exchange does not count
    # The session's end
    END_204 = "END_204"  #: the ACS's 204 No Content
    END_200_EMPTY = "END_200_EMPTY"  #: the ACS's 200 with an empty body
    CONNECTION_CLOSED = "CONNECTION_CLOSED"  #: its connection closed (and the CPE did not return)
    TIMEOUT = "TIMEOUT"  #: no message for a while
    NEW_SESSION = "NEW_SESSION"  #: a new Inform from the device
    CAPTURE_END = "CAPTURE_END"  #: the capture ended
    END_REFUSED = "END_REFUSED"  #: any end after a REFUSAL: the ACS had its way


# Short names for the table (and the functions that build its rows).
P = Phase
I = Input  # noqa: E741

#: Phases in which an ACS request awaits the CPE's answer.
ACS_WAITING: Final = frozenset({P.ACS_PENDING, P.ACS_PENDING_HELD})
#: Phases a step may lead to with an ACS request still pending (CHALLENGED: from one of those).
KEEPS_PENDING: Final = ACS_WAITING | {P.CHALLENGED}
#: Phases in which a CPE request awaits the ACS's answer.
CPE_WAITING: Final = frozenset({P.CPE_PENDING, P.CPE_PENDING_HELD})

#: The end reason (``Session.end_reason``) -> its input.
END_INPUTS: Final[dict[str, Input]] = {
    "204": I.END_204,
    "200-empty": I.END_200_EMPTY,
    "connection-closed": I.CONNECTION_CLOSED,
    "timeout": I.TIMEOUT,
    "new-session": I.NEW_SESSION,
    "capture-end": I.CAPTURE_END,
}
_NOT_BY_204 = (I.END_200_EMPTY, I.CONNECTION_CLOSED, I.TIMEOUT, I.NEW_SESSION, I.CAPTURE_END)


def _turn(here: Phase, held: bool) -> dict[tuple[Phase, Input], tuple[Phase, str | None]]:
    """The rows of a phase where nothing is outstanding (CPE_TURN, HELD, AWAITING_INFORM).

    The CPE's message or the ACS's moves the session on; HoldRequests in the ACS's last
    message forbids the CPE's requests.  ``here`` is where messages that change nothing
    leave it (AWAITING_INFORM, once a message came, is CPE_TURN).
    """
    ask = (P.CPE_PENDING_HELD, "cwmp.hold-requests-ignored") if held else (P.CPE_PENDING, None)
    rows: dict[tuple[Phase, Input], tuple[Phase, str | None]] = {
        (here, I.INFORM): ask,
        (here, I.REQUEST): ask,
        (here, I.EMPTY_POST): (_stay(here), None),
        (here, I.OTHER): (_stay(here), None),
        (here, I.STRAY_RESPONSE): (_stay(here), UNEXPECTED),
        (here, I.ACS_REQUEST): (P.ACS_PENDING, None),
        (here, I.ACS_REQUEST_HELD): (P.ACS_PENDING_HELD, None),
        (here, I.ACS_MESSAGE): (P.CPE_TURN, None),
        (here, I.ACS_MESSAGE_HELD): (P.HELD, None),
        (here, I.CHALLENGE): (P.CHALLENGED, None),
        (here, I.END_204): (P.ENDED, None),
        (here, I.END_REFUSED): (P.ENDED, None),
    }
    rows.update({(here, end): (P.ENDED, "cwmp.session-not-ended-by-204") for end in _NOT_BY_204})
    return rows


def _stay(here: Phase) -> Phase:
    return P.CPE_TURN if here is P.AWAITING_INFORM else here


def _waiting(
    here: Phase, then: Phase, fault: str, wrong: str
) -> dict[tuple[Phase, Input], tuple[Phase, str | None]]:
    """The rows of a phase where one side's request awaits the other's reply."""
    return {
        (here, I.ANSWER): (then, None),
        (here, I.FAULT): (then, fault),
        (here, I.WRONG_ANSWER): (then, wrong),
        (here, I.NOT_ANSWERED): (then, "cwmp.unanswered-request"),
    }


def _acs_waiting(here: Phase, then: Phase) -> dict[tuple[Phase, Input], tuple[Phase, str | None]]:
    """An ACS request is pending: the CPE's next POST answers it, or the session ends first;
    a response without a CPE message (the request missing) may bring another request."""
    return {
        **_waiting(here, then, "cwmp.cpe-fault", UNEXPECTED),
        (here, I.NEVER_ANSWERED): (then, "cwmp.unanswered-request"),
        (here, I.ACS_REQUEST): (P.ACS_PENDING, None),
        (here, I.ACS_MESSAGE): (P.ACS_PENDING, None),
        (here, I.ACS_REQUEST_HELD): (P.ACS_PENDING_HELD, None),
        (here, I.ACS_MESSAGE_HELD): (P.ACS_PENDING_HELD, None),
        (here, I.CHALLENGE): (P.CHALLENGED, None),
    }


def _cpe_waiting(here: Phase, then: Phase) -> dict[tuple[Phase, Input], tuple[Phase, str | None]]:
    """A CPE request awaits its answer in the HTTP response (the ACS's own message follows)."""
    return {
        **_waiting(here, then, "cwmp.acs-fault", "cwmp.unanswered-request"),
        (here, I.NO_RESPONSE): (then, "cwmp.unanswered-request"),
        (here, I.REFUSAL): (then, "cwmp.inform-refused"),
    }


#: (phase, input) -> (next phase, the finding code it raises or None).
TRANSITIONS: Final[dict[tuple[Phase, Input], tuple[Phase, str | None]]] = {
    (P.AWAITING_INFORM, I.MID_SESSION): (P.CPE_TURN, "cwmp.rpc-before-inform"),
    **_turn(P.AWAITING_INFORM, held=False),
    (P.CHALLENGED, I.CHALLENGE): (P.CHALLENGED, None),
    **_turn(P.CPE_TURN, held=False),
    **_turn(P.HELD, held=True),
    **_cpe_waiting(P.CPE_PENDING, P.CPE_TURN),
    **_cpe_waiting(P.CPE_PENDING_HELD, P.HELD),
    **_acs_waiting(P.ACS_PENDING, P.CPE_TURN),
    **_acs_waiting(P.ACS_PENDING_HELD, P.HELD),
}


class Step(NamedTuple):
    """One transition taken: where it was read, the input, where it led, the finding code."""

    phase: Phase
    input: Input
    next: Phase
    code: str | None
    in_table: bool  # False: the pair is missing, ``code`` is UNEXPECTED


@dataclass(slots=True)
class Machine:
    """One session's phase, and the phase a challenge interrupted."""

    phase: Phase = Phase.AWAITING_INFORM
    resume: Phase = Phase.AWAITING_INFORM

    @property
    def current(self) -> Phase:
        """The phase the next input (but a CHALLENGE) is read in."""
        return self.resume if self.phase is Phase.CHALLENGED else self.phase

    def step(self, event: Input) -> Step:
        at = self.phase
        if at is Phase.CHALLENGED and event is not Input.CHALLENGE:
            at = self.resume
        row = TRANSITIONS.get((at, event))
        nxt, code = row if row is not None else (at, UNEXPECTED)
        if nxt is Phase.CHALLENGED and at is not Phase.CHALLENGED:
            self.resume = at
        self.phase = nxt
        return Step(at, event, nxt, code, row is not None)

    def end_inputs(self, reason: str, refused: bool) -> tuple[Input | None, Input | None]:
        """What ending now is: the outstanding request settled (or None), then the way it ends
        (None once ENDED)."""
        at = self.current
        if at is Phase.ENDED:
            return None, None
        settle = (
            Input.NEVER_ANSWERED if at in ACS_WAITING else Input.NO_RESPONSE if at in CPE_WAITING else None
        )
        return settle, end_input(reason, refused)


# -- classification: a message (its kind, status, flags) -> inputs ---------------------------------

# Kinds that are no request: replies, and the decoder's names for what is not an RPC.
_NOT_REQUESTS = ("Fault", "empty", "unknown", "http")


def is_request(kind: str) -> bool:
    """An RPC that asks (Inform, GetParameterValues...), not a reply or a non-CWMP body."""
    return not kind.endswith("Response") and kind not in _NOT_REQUESTS


def reply_input(kind: str, request: str, names_fault: bool) -> Input:
    """A message read as the reply to ``request`` (the other side's pending RPC)."""
    if kind == request + "Response":
        return Input.ANSWER
    if kind == "Fault":
        return Input.FAULT if names_fault else Input.ANSWER
    if is_request(kind) or kind == "empty":
        return Input.NOT_ANSWERED
    return Input.WRONG_ANSWER


def own_input(kind: str) -> Input:
    """The CPE's message read on its own, nothing pending."""
    if kind == "Inform":
        return Input.INFORM
    if is_request(kind):
        return Input.REQUEST
    if kind == "empty":
        return Input.EMPTY_POST
    if kind.endswith("Response") and kind != "InformResponse":
        return Input.STRAY_RESPONSE
    return Input.OTHER


def cpe_inputs(kind: str, pending: str | None, names_fault: bool) -> tuple[Input, ...]:
    """The CPE's message of ``kind``, with the ACS's request ``pending`` (its kind) or None.

    ``names_fault``: a Fault carrying a readable CWMP fault code.
    """
    if pending is None:
        return (own_input(kind),)
    reply = reply_input(kind, pending, names_fault)
    return (reply, own_input(kind)) if reply is Input.NOT_ANSWERED else (reply,)


def answer_input(request: str, kind: str | None, status: int | None, names_fault: bool) -> Input:
    """The HTTP response (``kind`` None: there was none) to the CPE's ``request``."""
    if kind is None:
        return Input.NO_RESPONSE
    if request == "Inform" and status == 403:
        return Input.REFUSAL
    return reply_input(kind, request, names_fault)


def acs_input(kind: str, status: int | None, hold: bool) -> Input:
    """The ACS's own message: a challenge, or a request or not, with HoldRequests or not."""
    if status in (401, 407):
        return Input.CHALLENGE
    if is_request(kind):
        return Input.ACS_REQUEST_HELD if hold else Input.ACS_REQUEST
    return Input.ACS_MESSAGE_HELD if hold else Input.ACS_MESSAGE


def ends_session(status: int | None, body_length: int) -> Input | None:
    """The ACS's response ends the session: 204, or 200 with an empty body."""
    if status == 204:
        return Input.END_204
    if status == 200 and not body_length:
        return Input.END_200_EMPTY
    return None


def end_input(reason: str, refused: bool) -> Input:
    """The way a session ended (``reason`` as in ``Session.end_reason``)."""
    return Input.END_REFUSED if refused else END_INPUTS[reason]


# -- the picture ------------------------------------------------------------------------------------


def picture() -> str:
    """The table, one block per phase, inputs with the same outcome on one line."""
    lines: list[str] = []
    for phase in Phase:
        lines.append(phase.value)
        groups: dict[tuple[Phase, str | None], list[str]] = {}
        for (at, event), outcome in TRANSITIONS.items():
            if at is phase:
                groups.setdefault(outcome, []).append(event.value)
        for (nxt, code), events in groups.items():
            names = textwrap.wrap(", ".join(events), 42, subsequent_indent="  ")
            lines.append(f"    {names[0]:<43} -> {nxt.value:<17} {code or ''}".rstrip())
            lines.extend(f"    {more}" for more in names[1:])
    return "\n".join(lines)
