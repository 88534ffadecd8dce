"""OMA DM sessions as playbooks (mitmproxy's ``playbook >> event << command``): the device's POST with
``>> client(...)``, the server's response with ``<< server(...)``, a Package #0 with ``>> push(...)``,
and right after the step that raises it each finding the builder must report; nothing else may be
reported.  One playbook per path through the machines of dmsniff/sessions/omadm_machine.py."""

from __future__ import annotations

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
from .test_omadm_resync import OLD, SECRETS, SERVER, ZERO, Judged, accepted, b64, pkg2, pkg3, pkg4
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
def zero_push(sid: int) -> bytes:
    return notification_push(sid, SERVER, password="srvpass", nonce=ZERO)


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

