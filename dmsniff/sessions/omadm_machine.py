"""The OMA DM session protocol as transition tables, in the manner of hyper-h2: three machines.

Each machine has a phase enum, an input enum, a classification function from a message (what
:class:`~dmsniff.sessions.omadm.DmSessions` read of it) to an input, and a table
``X_TRANSITIONS[(phase, input)] = (next phase, rule or None)``.  A pair missing from a table is
that machine's "unexpected" outcome (a finding, or nothing), never an exception.  This module
holds no session data and reads no bytes: ``DmSessions`` classifies, steps the machines, words
the findings and keeps what a step records (credentials due again, Chal nonces, frames) beside
the tables.

**Packages, one machine per direction** (DM Protocol 1.2 §8): a side's package runs until a
message with Final; its next message opens the package after the peer's current one; the
client's Alert 1200/1201 is always Package #1 (the start, or the restart after a challenge).
Each cell is the next phase and how the message's package number is found (``#1``, ``same``
package, ``next`` after the peer's).  No step here breaks a rule on its own: the rules about
packages (Pkg#1 contents, MsgIDs, SessionIDs) are checked beside it::

    input / phase  idle           sending        sent
    START          sent, #1       sent, #1       sent, #1
    START_MORE     sending, #1    sending, #1    sending, #1
    FINAL          sent, next     sent, same     sent, next
    MORE           sending, next  sending, same  sending, next
    END            ended          ended          ended

**Authentication, one machine per side** (DM Protocol §2.4), the client's credentials and the
server's: each Status for a side's SyncHdr (:func:`classify_auth`), and the session's end::

    input / phase  open            challenged      accepted        authenticated
    OK             open            open            accepted        authenticated
    ACCEPT         accepted        accepted        accepted        accepted
    AUTHENTICATE   authenticated   authenticated   authenticated   authenticated
    CHALLENGE      challenged      challenged      challenged      x
    LOOP           challenged (1)  challenged (1)  challenged (1)  x
    BLIND          challenged (2)  challenged (2)  challenged (2)  challenged (2)
    FORBIDDEN      challenged (3)  challenged (3)  challenged (3)  x
    OTHER          open            challenged      accepted        authenticated
    END            ended           failed          ended           ended
    (1) omadm.auth-loop
    (2) omadm.challenge-missing
    (3) omadm.client-challenge-status-only
    x  not in the table: omadm.auth-unexpected, the phase stays

**Nonce resynchronisation, one machine per session** that answers a Package #0 valid only with
the nonce 0x00000000 (DM Notification §6.2): the client's Package #1 made with that nonce, the
server's Package #2 a success Status with a Chal (a new client nonce; a 401/407 Chal before it
renews it too), the client's Package #3 a success Status with a Chal (a new server nonce), the
server's Package #4 a success Status.  A step is due once the previous one succeeded: a refusal
of Package #1 ends the flow (it is reported as an authentication failure, not a missing step)::

    input / phase   pkg1      pkg2      renewed  pkg3      pkg4
    PKG1            pkg2      .         .        .         .
    PKG1_STALE      pkg2 (1)  .         .        .         .
    CLIENT_OK_CHAL  .         .         .        pkg4      .
    CLIENT_OTHER    .         .         .        pkg4 (1)  .
    SERVER_OK_CHAL  pkg3      pkg3      pkg3     .         done
    SERVER_OK       pkg3 (1)  pkg3 (1)  pkg3     .         done
    SERVER_CHAL     renewed   renewed   renewed  .         done (1)
    SERVER_BLIND    .         .         .        .         done (1)
    SERVER_REFUSED  done      done      done     .         done (1)
    SERVER_SILENT   .         .         .        .         done (1)
    END             done      done      done     done (1)  done (1)
    (1) omadm.resync-step-missing
    .  the phase stays: the message is no step of the flow
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar

__all__ = [
    "AUTH_TRANSITIONS",
    "AUTH_UNEXPECTED",
    "FINAL_AUTH_PHASES",
    "PACKAGE_TRANSITIONS",
    "RESYNC_MISSING",
    "RESYNC_TRANSITIONS",
    "AuthInput",
    "AuthPhase",
    "Numbering",
    "PackageInput",
    "PackagePhase",
    "ResyncInput",
    "ResyncPhase",
    "auth_step",
    "classify_auth",
    "classify_package",
    "classify_resync",
    "draw_auth",
    "draw_package",
    "draw_resync",
    "package_step",
    "resync_step",
]

SUCCESS: Final = (200, 212)  # a SyncHdr Status that accepts the credentials
CHALLENGES: Final = (401, 407)


# -- packages (DM Protocol §8) -------------------------------------------------------------------------
class PackagePhase(enum.Enum):
    """Where one side's packages stand."""

    IDLE = "idle"  # it has sent nothing yet
    SENDING = "sending"  # its last message had no Final: the package goes on in its next message
    SENT = "sent"  # its last message had Final: its next message opens a new package
    ENDED = "ended"  # final: the session is over


class PackageInput(enum.Enum):
    """A message of the side, as :func:`classify_package` reads it."""

    START = "the client's Alert 1200/1201, with Final"
    START_MORE = "the client's Alert 1200/1201, without Final"
    FINAL = "a message with Final"
    MORE = "a message without Final"
    END = "the session ends"


class Numbering(enum.Enum):
    """How a message's package number is found."""

    FIRST = "#1"  # Package #1
    SAME = "same"  # the side's current package
    NEXT = "next"  # the package after the peer's current one


def _package_table() -> dict[tuple[PackagePhase, PackageInput], tuple[PackagePhase, Numbering | None]]:
    table: dict[tuple[PackagePhase, PackageInput], tuple[PackagePhase, Numbering | None]] = {}
    for p in (PackagePhase.IDLE, PackagePhase.SENDING, PackagePhase.SENT):
        table[(p, PackageInput.END)] = (PackagePhase.ENDED, None)
        table[(p, PackageInput.START)] = (PackagePhase.SENT, Numbering.FIRST)
        table[(p, PackageInput.START_MORE)] = (PackagePhase.SENDING, Numbering.FIRST)
        going = Numbering.SAME if p is PackagePhase.SENDING else Numbering.NEXT
        table[(p, PackageInput.FINAL)] = (PackagePhase.SENT, going)
        table[(p, PackageInput.MORE)] = (PackagePhase.SENDING, going)
    return table


#: (phase, input) -> (next phase, how the package number is found); every pair of a phase that is not
#: final is in it.
PACKAGE_TRANSITIONS: Final = _package_table()


def classify_package(*, to_server: bool, opens: bool, final: bool) -> PackageInput:
    """A message: from the client opening a session (Alert 1200/1201) or not, with Final or not."""
    if to_server and opens:
        return PackageInput.START if final else PackageInput.START_MORE
    return PackageInput.FINAL if final else PackageInput.MORE


def package_step(phase: PackagePhase, event: PackageInput) -> tuple[PackagePhase, Numbering | None]:
    """The next phase and how to number the message; a message after the end (never stepped: a
    session that ended takes no more messages) stays ended, numbered after the peer."""
    return PACKAGE_TRANSITIONS.get((phase, event), (phase, Numbering.NEXT))


# -- authentication (DM Protocol §2.4) -----------------------------------------------------------------
class AuthPhase(enum.Enum):
    """Where one side's authentication stands, moved by the peer's Status for its SyncHdr."""

    OPEN = "open"  # no verdict on its credentials yet
    CHALLENGED = "challenged"  # 401/407: it must come back with (other) credentials
    ACCEPTED = "accepted"  # 200 to its credentials: the same ones again in its next message
    AUTHENTICATED = "authenticated"  # 212: no further authentication in this session
    FAILED = "failed"  # final: the session ended while it was challenged
    ENDED = "ended"  # final


class AuthInput(enum.Enum):
    """What a Status for a side's SyncHdr (or the session's end) means to that side: :func:`classify_auth`."""

    OK = "2xx to a message without credentials"
    ACCEPT = "200 to credentials"
    AUTHENTICATE = "212 to credentials"
    CHALLENGE = "401/407 with a Chal"
    LOOP = "401/407 repeating the last Chal, after credentials"
    BLIND = "401/407 without a Chal"
    FORBIDDEN = "the client's 401/407, alone, to a Package #2 of only Status"
    OTHER = "another code"
    END = "the session ends"


FINAL_AUTH_PHASES: Final = frozenset({AuthPhase.FAILED, AuthPhase.ENDED})
AUTH_UNEXPECTED: Final = "omadm.auth-unexpected"  # the rule a pair missing from AUTH_TRANSITIONS breaks


def _auth_table() -> dict[tuple[AuthPhase, AuthInput], tuple[AuthPhase, str | None]]:
    live = (AuthPhase.OPEN, AuthPhase.CHALLENGED, AuthPhase.ACCEPTED, AuthPhase.AUTHENTICATED)
    table: dict[tuple[AuthPhase, AuthInput], tuple[AuthPhase, str | None]] = {}
    for p in live:
        table[(p, AuthInput.OK)] = (AuthPhase.OPEN if p == AuthPhase.CHALLENGED else p, None)
        table[(p, AuthInput.ACCEPT)] = (AuthPhase.ACCEPTED, None)
        table[(p, AuthInput.AUTHENTICATE)] = (AuthPhase.AUTHENTICATED, None)
        table[(p, AuthInput.BLIND)] = (AuthPhase.CHALLENGED, "omadm.challenge-missing")
        table[(p, AuthInput.OTHER)] = (p, None)
        table[(p, AuthInput.END)] = (AuthPhase.FAILED if p == AuthPhase.CHALLENGED else AuthPhase.ENDED, None)
        if p != AuthPhase.AUTHENTICATED:  # after 212 "no further authentication is needed": unexpected
            table[(p, AuthInput.CHALLENGE)] = (AuthPhase.CHALLENGED, None)
            table[(p, AuthInput.LOOP)] = (AuthPhase.CHALLENGED, "omadm.auth-loop")
            table[(p, AuthInput.FORBIDDEN)] = (AuthPhase.CHALLENGED, "omadm.client-challenge-status-only")
    return table


#: (phase, input) -> (next phase, the rule the step breaks or None).
AUTH_TRANSITIONS: Final = _auth_table()


def classify_auth(code: int | None, *, chal: bool, repeated: bool, cred: bool, forbidden: bool) -> AuthInput:
    """The input a Status for a side's SyncHdr is: its code, whether it carries a Chal (and the same one
    as the side's last challenge: ``repeated``), whether the answered message carried credentials, and
    whether it is the client's challenge DM Protocol §2.4 forbids.  One Status is one input: a challenge
    without Chal is BLIND whatever else holds, then LOOP, then FORBIDDEN."""
    if code in CHALLENGES:
        if not chal:
            return AuthInput.BLIND
        if repeated and cred:
            return AuthInput.LOOP
        return AuthInput.FORBIDDEN if forbidden else AuthInput.CHALLENGE
    if code == 200 and cred:
        return AuthInput.ACCEPT
    if code == 212 and cred:
        return AuthInput.AUTHENTICATE
    if code is not None and 200 <= code < 300:
        return AuthInput.OK
    return AuthInput.OTHER


def auth_step(phase: AuthPhase, event: AuthInput) -> tuple[AuthPhase, str | None]:
    """The next phase and the rule broken; a pair the table lacks keeps the phase and is unexpected."""
    return AUTH_TRANSITIONS.get((phase, event), (phase, AUTH_UNEXPECTED))


# -- nonce resynchronisation (DM Notification §6.2) -------------------------------------------------------
class ResyncPhase(enum.Enum):
    """The step of a resynchronisation whose success is awaited next."""

    PKG1 = "pkg1"  # the client's Package #1, its credentials made with the resync nonce
    PKG2 = "pkg2"  # the server's success Status with a Chal: a new client nonce
    RENEWED = "renewed"  # a 401/407 Chal already gave the client a new nonce: a bare success will do
    PKG3 = "pkg3"  # the client's success Status with a Chal: a new server nonce
    PKG4 = "pkg4"  # the server's success Status
    DONE = "done"  # final: met, refused (an authentication failure) or reported missing


class ResyncInput(enum.Enum):
    """A message of the session, as :func:`classify_resync` reads it, or the session's end."""

    PKG1 = "the client's Package #1"
    PKG1_STALE = "the client's Package #1, its credentials valid only with the stored nonce"
    CLIENT_OK_CHAL = "the client's success Status for the SyncHdr, with a Chal"
    CLIENT_OTHER = "another client message"
    SERVER_OK_CHAL = "the server's success Status for the SyncHdr, with a Chal"
    SERVER_OK = "the server's success Status for the SyncHdr, without a Chal"
    SERVER_CHAL = "the server's 401/407 with a Chal"
    SERVER_BLIND = "the server's 401/407 without a Chal"
    SERVER_REFUSED = "the server's Status for the SyncHdr with another code"
    SERVER_SILENT = "a server message without Status for the SyncHdr"
    END = "the session ends"


RESYNC_MISSING: Final = "omadm.resync-step-missing"


def _resync_table() -> dict[tuple[ResyncPhase, ResyncInput], tuple[ResyncPhase, str | None]]:
    P, I = ResyncPhase, ResyncInput  # noqa: E741
    table: dict[tuple[ResyncPhase, ResyncInput], tuple[ResyncPhase, str | None]] = {
        (P.PKG1, I.PKG1): (P.PKG2, None),
        (P.PKG1, I.PKG1_STALE): (P.PKG2, RESYNC_MISSING),
        (P.PKG3, I.CLIENT_OK_CHAL): (P.PKG4, None),
        (P.PKG3, I.CLIENT_OTHER): (P.PKG4, RESYNC_MISSING),
        (P.PKG3, I.END): (P.DONE, RESYNC_MISSING),
        (P.PKG4, I.SERVER_OK_CHAL): (P.DONE, None),
        (P.PKG4, I.SERVER_OK): (P.DONE, None),
        (P.PKG4, I.END): (P.DONE, RESYNC_MISSING),
    }
    for p in (P.PKG1, P.PKG2, P.RENEWED):  # the server's Package #2 (or its challenge) is due
        table[(p, I.SERVER_OK_CHAL)] = (P.PKG3, None)
        table[(p, I.SERVER_OK)] = (P.PKG3, None if p is P.RENEWED else RESYNC_MISSING)
        table[(p, I.SERVER_CHAL)] = (P.RENEWED, None)
        table[(p, I.SERVER_REFUSED)] = (P.DONE, None)  # reported as an authentication failure
        table[(p, I.END)] = (P.DONE, None)
    for i in (I.SERVER_CHAL, I.SERVER_BLIND, I.SERVER_REFUSED, I.SERVER_SILENT):  # Package #4 no success
        table[(P.PKG4, i)] = (P.DONE, RESYNC_MISSING)
    return table


#: (phase, input) -> (next phase, the rule the step breaks or None); a missing pair is no step of the
#: flow (a client message while the server's step is due, a second Package #1): the phase stays.
RESYNC_TRANSITIONS: Final = _resync_table()


def classify_resync(*, to_server: bool, package: int | None, code: int | None, chal_nonce: bool,
                    stale: bool) -> ResyncInput:
    """A message: its direction and package, the code of its Status for the peer's SyncHdr, whether
    that Status has a Chal with a NextNonce, and (Package #1) whether the verifier found its
    credentials made with the stored nonce rather than the resync nonce."""
    if to_server:
        if package == 1:
            return ResyncInput.PKG1_STALE if stale else ResyncInput.PKG1
        return ResyncInput.CLIENT_OK_CHAL if code in SUCCESS and chal_nonce else ResyncInput.CLIENT_OTHER
    if code in CHALLENGES:
        return ResyncInput.SERVER_CHAL if chal_nonce else ResyncInput.SERVER_BLIND
    if code in SUCCESS:
        return ResyncInput.SERVER_OK_CHAL if chal_nonce else ResyncInput.SERVER_OK
    return ResyncInput.SERVER_SILENT if code is None else ResyncInput.SERVER_REFUSED


def resync_step(phase: ResyncPhase, event: ResyncInput) -> tuple[ResyncPhase, str | None]:
    return RESYNC_TRANSITIONS.get((phase, event), (phase, None))


# -- pictures ---------------------------------------------------------------------------------------
_P = TypeVar("_P", bound=enum.Enum)
_I = TypeVar("_I", bound=enum.Enum)


def _grid(table: Mapping[tuple[_P, _I], tuple[_P, object]], phases: Iterable[_P], inputs: Iterable[_I],
          missing: str) -> str:
    """A row per input, a column per phase, each cell the next phase and what the step says (a rule,
    marked by a footnote number, or a numbering); ``missing`` explains a cell the table lacks."""
    columns = list(phases)
    rules = sorted({str(v) for _, v in table.values() if isinstance(v, str)})
    mark = {rule: str(n) for n, rule in enumerate(rules, 1)}
    rows = [["input / phase", *(p.value for p in columns)]]
    for event in inputs:
        cells = [event.name]
        for p in columns:
            step = table.get((p, event))
            if step is None:
                cells.append(missing[:1])
            elif isinstance(step[1], enum.Enum):
                cells.append(f"{step[0].value}, {step[1].value}")
            else:
                cells.append(step[0].value + (f" ({mark[step[1]]})" if isinstance(step[1], str) else ""))
        rows.append(cells)
    width = [max(len(r[i]) for r in rows) + 2 for i in range(len(rows[0]))]
    lines = ["".join(c.ljust(w) for c, w in zip(r, width, strict=True)).rstrip() for r in rows]
    lines += [f"({mark[rule]}) {rule}" for rule in rules]
    if missing and any(missing[:1] in r[1:] for r in rows[1:]):
        lines.append(missing)
    return "\n".join(lines)


def draw_package() -> str:
    phases = [p for p in PackagePhase if p is not PackagePhase.ENDED]
    return _grid(PACKAGE_TRANSITIONS, phases, PackageInput, "")


def draw_auth() -> str:
    phases = [p for p in AuthPhase if p not in FINAL_AUTH_PHASES]
    missing = f"x  not in the table: {AUTH_UNEXPECTED}, the phase stays"
    return _grid(AUTH_TRANSITIONS, phases, AuthInput, missing)


def draw_resync() -> str:
    phases = [p for p in ResyncPhase if p is not ResyncPhase.DONE]
    missing = ".  the phase stays: the message is no step of the flow"
    return _grid(RESYNC_TRANSITIONS, phases, ResyncInput, missing)
