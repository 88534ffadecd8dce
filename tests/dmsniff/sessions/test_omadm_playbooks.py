"""OMA DM sessions as playbooks (mitmproxy's ``playbook >> event << command``): the device's POST with
``>> client(...)``, the server's response with ``<< server(...)``, a Package #0 with ``>> push(...)``,
and right after the step that raises it each finding the builder must report; nothing else may be
reported.  One playbook per path through the machines of dmsniff/sessions/omadm_machine.py."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dmsniff.sessions import DmSessions
from dmsniff.sessions.omadm import RULES, _Live
from dmsniff.sessions.omadm_machine import FINAL_AUTH_PHASES, PackagePhase, ResyncPhase
from dmsniff.verify.verifier import Verifier

from .book import end, finding, wait
from .dm import (
    alert,
    chal,
    devinfo,
    dm_book,
    message,
    notification_push,
    push,
    results,
    server,
    status,
)
from .dm import client as device
from .test_omadm_auth import BASIC, MD5_A, answer, package3, pkg1, refused, retry
from .test_omadm_auth import end as last
from .test_omadm_resync import (
    OLD,
    SECRETS,
    SERVER,
    ZERO,
    Judged,
    accepted,
    b64,
    pkg2,
    pkg3,
    pkg4,
    zero_push,
)
from .test_omadm_resync import pkg1 as resync_pkg1


def get_answered(msg_id: int, cmd_ref: int = 4) -> bytes:
    """The client's Package #3: Status for the server's SyncHdr and Get, the Get's Results."""
    body = (
        status(1, msg_id - 1, 0, "SyncHdr", 200)
        + status(2, msg_id - 1, cmd_ref, "Get", 200)
        + results(3, msg_id - 1, cmd_ref, "./DevDetail/SwV", "1.0")
    )
    return message("1A", msg_id, body, to_server=True)


# -- packages and the end of a session -------------------------------------------------------------------
def test_a_whole_session_raises_nothing() -> None:
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> device(get_answered(2)) << server(last(2))
    )


def test_a_package_in_two_messages_asks_for_the_next_with_alert_1222() -> None:
    # Package #3 without Final: the server answers with Alert 1222 and Status only, the client sends
    # the rest of its package.  No rule is broken; the server's Get stays answered.
    first = message(
        "1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True, final=False
    )
    more = message("1A", 2, status(1, 2, 0, "SyncHdr", 200) + alert(2, 1222), to_server=False, final=False)
    statuses = status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 2, "Alert", 200)
    rest = message("1A", 3, statuses + results(3, 1, 4, "./DevDetail/SwV", "1.0"), to_server=True)
    book = dm_book()
    assert (
        book
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> device(first) << server(more)
        >> device(rest) << server(last(3))
    )
    # Package numbers from the package machine: a side without Final goes on in the same package.
    assert [m.package for m in book.pb.out.sessions[0].messages] == [1, 2, 3, 4, 3, 4]


def test_a_command_left_without_status() -> None:
    # The client's Package #3 answers the SyncHdr but not the Get (CmdID 4).
    no_get = message("1A", 2, status(1, 1, 0, "SyncHdr", 200), to_server=True)
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> device(no_get) << server(last(2))
        << finding("omadm.status-missing", "Get")
    )


def test_a_session_the_capture_cuts_off() -> None:
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> end()
        << finding("omadm.status-missing", "Get")
        << finding("omadm.session-not-completed", "capture ended")
    )


def test_a_session_that_goes_quiet_times_out() -> None:
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> wait(3600)
        >> device(message("2B", 1, alert(1, 1201) + devinfo(2), to_server=True, cred=BASIC))
        << server(answer(1, 212).replace(b"1A", b"2B"))
        << finding("omadm.status-missing", "Get")
        << finding("omadm.session-not-completed", "no message for")
        >> end()
        << finding("omadm.status-missing", "Get")
        << finding("omadm.session-not-completed", "capture ended")
    )


# -- authentication -------------------------------------------------------------------------------------
def test_a_challenge_met_by_new_credentials() -> None:
    assert (
        dm_book()
        >> device(pkg1(MD5_A)) << server(refused(1))
        >> device(retry(MD5_A.replace("Zz6E", "Qz6E"))) << server(answer(2, 212, first=2))
        >> device(get_answered(3)) << server(last(3))
    )


def test_a_challenge_repeated_after_credentials_is_a_loop() -> None:
    assert (
        dm_book()
        >> device(pkg1(MD5_A)) << server(refused(1))
        >> device(retry(MD5_A)) << server(refused(2, first=2))
        << finding("omadm.auth-loop", "repeats the challenge of frame 2")
        >> end()
        << finding("omadm.session-not-completed", "did not meet")
    )


def test_a_challenge_without_chal() -> None:
    body = status(1, 1, 0, "SyncHdr", 401) + status(2, 1, 1, "Alert", 215) + status(3, 1, 2, "Replace", 215)
    blind = message("1A", 1, body, to_server=False)
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(blind)
        << finding("omadm.challenge-missing", "has no Chal")
        >> end()
        << finding("omadm.session-not-completed", "did not meet")
    )


def test_a_challenge_after_212_is_unexpected() -> None:
    challenge = message("1A", 2, status(1, 2, 0, "SyncHdr", 401, chal()), to_server=False)
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 212))
        >> device(package3(2)) << server(challenge)
        << finding("omadm.auth-unexpected", "accepted the credentials with 212")
        >> end()
        << finding("omadm.session-not-completed", "did not meet")
    )


def test_credentials_not_sent_again_after_200() -> None:
    assert (
        dm_book()
        >> device(pkg1(BASIC)) << server(answer(1, 200))
        >> device(package3(2)) << server(last(2))
        << finding("omadm.credentials-not-resent", "carries none")
    )


# -- nonce resynchronisation (DM Notification §6.2), the verifier in front as in a real run -----------------
def test_the_four_resync_steps() -> None:
    book = dm_book(Verifier(SECRETS), out=Judged())
    assert (
        book
        >> push(zero_push(0x6B2))
        >> device(resync_pkg1("6B2", ZERO)) << server(pkg2("6B2"))
        >> device(pkg3("6B2")) << server(pkg4("6B2"))
    )


def test_resync_package_2_without_chal() -> None:
    book = dm_book(Verifier(SECRETS), out=Judged())
    assert (
        book
        >> push(zero_push(0x6B2))
        >> device(resync_pkg1("6B2", ZERO)) << server(pkg2("6B2", new_nonce=None))
        << finding("omadm.resync-step-missing", "client nonce is not renewed")
        >> device(pkg3("6B2")) << server(pkg4("6B2"))
    )


def test_resync_package_3_without_chal() -> None:
    book = dm_book(Verifier(SECRETS), out=Judged())
    assert (
        book
        >> push(zero_push(0x6B2))
        >> device(resync_pkg1("6B2", ZERO)) << server(pkg2("6B2"))
        >> device(pkg3("6B2", new_nonce=None)) << server(pkg4("6B2", cred_nonce=ZERO))
        << finding("omadm.resync-step-missing", "server nonce is not renewed")
    )


def test_resync_cut_after_package_2() -> None:
    book = dm_book(Verifier(SECRETS), out=Judged())
    assert (
        book
        >> push(zero_push(0x6B2))
        >> device(resync_pkg1("6B2", ZERO)) << server(pkg2("6B2"))
        >> end()
        << finding("omadm.resync-step-missing", "no Package #3")
        << finding("omadm.status-missing", "Get")
        << finding("omadm.session-not-completed", "capture ended")
    )


def test_resync_package_1_with_the_stored_nonce() -> None:
    # A first session leaves the client nonce OLD (its 212's Chal); then the server resynchronises.
    book = dm_book(Verifier(SECRETS), out=Judged())
    assert (
        book
        >> device(resync_pkg1("11", b"")) << server(accepted("11", chal(nonce=b64(OLD))))
        >> push(zero_push(0x6B2))
        >> device(resync_pkg1("6B2", OLD)) << server(pkg2("6B2"))
        << finding("omadm.resync-step-missing", "stored nonce")
        >> device(pkg3("6B2")) << server(pkg4("6B2"))
    )



# -- any sequence of exchanges, through the builder and the verifier ----------------------------------------
_CLIENT = [
    pkg1(BASIC),
    pkg1(MD5_A),
    retry(MD5_A),
    retry(BASIC, header_status=False),
    package3(2),
    package3(2, BASIC),
    get_answered(2),
    message("1A", 2, status(1, 1, 0, "SyncHdr", 200), to_server=True, final=False),
    message("1A", 3, status(1, 2, 0, "SyncHdr", 401, chal()), to_server=True),
    message("1A", 3, alert(1, 1223), to_server=True),
    resync_pkg1("6B2", ZERO),
    pkg3("6B2"),
    pkg3("6B2", new_nonce=None),
    b"<SyncML><SyncHdr>",  # cut off
    b"",
]
_SERVER = [
    answer(1, 212),
    answer(1, 200),
    answer(2, 200, chal()),
    refused(1),
    refused(2, first=2),
    message("1A", 1, status(1, 1, 0, "SyncHdr", 401), to_server=False),
    message("1A", 2, status(1, 2, 0, "SyncHdr", 407, chal()) + alert(2, 1222), to_server=False, final=False),
    last(2),
    last(3),
    pkg2("6B2"),
    pkg2("6B2", new_nonce=None),
    pkg4("6B2"),
    pkg4("6B2", code=401),
    b"",
]
_STEP = st.one_of(
    st.tuples(st.just("x"), st.integers(0, len(_CLIENT) - 1), st.integers(-1, len(_SERVER) - 1)),
    st.tuples(st.just("push"), st.sampled_from([0x1A, 0x6B2]), st.booleans()),
    st.tuples(st.just("wait"), st.sampled_from([1, 60, 3600]), st.just(False)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_STEP, max_size=12))
def test_the_builder_takes_any_exchanges(steps: list[tuple[str, int, int | bool]]) -> None:
    """Random exchanges, pushes and pauses: no exception, every finding a rule, every session ended with
    its machines in a final phase."""
    book = dm_book(Verifier(SECRETS), out=Judged())
    builder = book.pb.builder.addons[-1]
    assert isinstance(builder, DmSessions)
    seen: dict[int, _Live] = {}
    for kind, a, b in steps:
        seen.update((id(v), v) for v in builder.live.values())
        if kind == "x":
            post = device(_CLIENT[a])
            book = book >> post if b == -1 else book >> post << server(_SERVER[int(b)])
        elif kind == "push":
            payload = zero_push(a) if b else notification_push(a, SERVER, password="srvpass", nonce=b"n")
            book = book >> push(payload)
        else:
            book = book >> wait(a)
    seen.update((id(v), v) for v in builder.live.values())
    book = book >> end()
    assert set(book.codes) <= set(RULES)
    assert not builder.live
    for live in seen.values():
        assert live.ended
        assert all(phase in FINAL_AUTH_PHASES for phase in live.auth.values())
        assert all(phase is PackagePhase.ENDED for phase in live.packages.values())
        assert live.resync is None or live.resync.phase is ResyncPhase.DONE
