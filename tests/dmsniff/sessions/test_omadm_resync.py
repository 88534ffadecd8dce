"""Nonce resynchronisation (DM Notification §6.2), with the verifier in front of the session builder as in a
real run: a notification valid only with the nonce 0x00000000, Pkg#1 credentials made with that nonce,
Pkg#2 and Pkg#3 each a success Status with a Chal, Pkg#4 a success Status; the new nonces followed into
the next session."""

from __future__ import annotations

import base64

from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import Session
from dmsniff.verify.model import AuthResult
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier

from .dm import (
    Chain,
    Dm,
    alert,
    chal,
    command,
    devinfo,
    item,
    md5_cred,
    message,
    notification_push,
    results,
    status,
)
from .playbook import Collector, Playbook, codes

ZERO = b"\0\0\0\0"
OLD = b"old-client-nonce"  # the client nonce before the resync (the device lost it, or the server did)
CLIENT_NONCE = b"new-client-nonce-1"  # Pkg#2's Chal
SERVER_NONCE = b"new-server-nonce-1"  # Pkg#3's Chal
SERVER = "dm-server"
SECRETS = Secrets([Secret("omadm_client", "dmuser", "dmpass"), Secret("omadm_server", SERVER, "srvpass")])


class Judged(Collector):
    def __init__(self) -> None:
        super().__init__()
        self.judged: list[AuthResult] = []

    def auth(self, result: AuthResult) -> None:
        self.judged.append(result)


def book() -> tuple[Playbook, Dm]:
    b = Playbook(Chain(Verifier(SECRETS), DmSessions()), out=Judged())  # a collector of the verdicts too
    return b, Dm(b)


def b64(nonce: bytes) -> str:
    return base64.b64encode(nonce).decode()


def server_cred(nonce: bytes) -> str:
    return md5_cred("srvpass", nonce, user=SERVER)


def pkg1(sid: str, nonce: bytes) -> bytes:
    return message(sid, 1, alert(1, 1200) + devinfo(2), to_server=True, cred=md5_cred("dmpass", nonce))


def pkg2(
    sid: str, code: int = 212, new_nonce: bytes | None = CLIENT_NONCE, cred_nonce: bytes = ZERO
) -> bytes:
    """The server: SyncHdr status (with a Chal renewing the client nonce), its own Cred, a Get."""
    extra = chal(nonce=b64(new_nonce)) if new_nonce is not None else ""
    body = (
        status(1, 1, 0, "SyncHdr", code, extra)
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Replace", 200)
        + command("Get", 4, item("./DevDetail/FwV"))
    )
    return message(sid, 1, body, to_server=False, name=SERVER, cred=server_cred(cred_nonce))


def pkg3(sid: str, code: int = 200, new_nonce: bytes | None = SERVER_NONCE) -> bytes:
    """The client: Status for the server's SyncHdr (with a Chal renewing the server nonce), Get's."""
    extra = chal(nonce=b64(new_nonce)) if new_nonce is not None else ""
    body = (
        status(1, 1, 0, "SyncHdr", code, extra)
        + status(2, 1, 4, "Get", 200)
        + results(3, 1, 4, "./DevDetail/FwV", "2.0")
    )
    return message(sid, 2, body, to_server=True)


def pkg4(sid: str, code: int = 200, cred_nonce: bytes = SERVER_NONCE) -> bytes:
    return message(
        sid, 2, status(1, 2, 0, "SyncHdr", code), to_server=False, name=SERVER, cred=server_cred(cred_nonce)
    )


def zero_push(sid: int) -> bytes:
    """The server's Package #0 for session ``sid``, its digest made with the resync nonce 0x00000000."""
    return notification_push(sid, SERVER, password="srvpass", nonce=ZERO)


def resync_notification(b: Playbook, sid: int) -> None:
    b.datagram(zero_push(sid), "10.0.0.1", 40000, "10.0.0.2", 2948)


def accepted(sid: str, extra: str = "") -> bytes:
    """The server's 212 to a Package #1, ending the session."""
    body = (
        status(1, 1, 0, "SyncHdr", 212, extra)
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Replace", 200)
    )
    return message(sid, 1, body, to_server=False)


def verdicts(out: Judged) -> list[tuple[str, str, str, str]]:
    return [
        (a.scheme, a.direction, a.result, a.notes[0].split(":")[0] if a.notes else "") for a in out.judged
    ]


def session(out: Collector, sid: str) -> Session:
    return next(s for s in out.sessions if s.session_id == sid)


def test_full_resync_flow_is_clean_and_its_nonces_carry_into_the_next_session() -> None:
    b, dm = book()
    resync_notification(b, 0x6B2)
    dm.exchange(pkg1("6B2", ZERO), pkg2("6B2"))
    dm.exchange(pkg3("6B2"), pkg4("6B2"))
    # The next notification is signed with the server nonce the device handed over in Pkg#3, and the
    # next session's client credentials use the nonce of Pkg#2's Chal.
    b.datagram(
        notification_push(0x7C3, SERVER, password="srvpass", nonce=SERVER_NONCE),
        "10.0.0.1",
        40000,
        "10.0.0.2",
        2948,
    )
    dm.exchange(pkg1("7C3", CLIENT_NONCE), accepted("7C3"))
    out = b.end()
    assert isinstance(out, Judged)
    assert codes(out) == []
    assert [(s.session_id, s.end_reason) for s in out.sessions] == [
        ("6B2", "completed"),
        ("7C3", "completed"),
    ]
    assert verdicts(out) == [
        ("pkg0-digest", "to_client", "valid", "valid only with the resync nonce 0x00000000 (4 zero bytes)"),
        ("syncml-md5", "to_server", "valid", "resync nonce 0x00000000 (4 zero bytes)"),  # Pkg#1
        ("syncml-md5", "to_client", "valid", "resync nonce 0x00000000 (4 zero bytes)"),  # Pkg#2
        ("syncml-md5", "to_client", "valid", "nonce from the Chal in frame 4"),  # Pkg#4: Pkg#3's Chal
        (
            "pkg0-digest",
            "to_client",
            "valid",
            "verified with the nonce the device gave the server in frame 4",
        ),
        ("syncml-md5", "to_server", "valid", "nonce from the Chal in frame 3"),  # Pkg#2's Chal
    ]
    assert not any(a.caveat for a in out.judged[1:])
    pkg1_cred = out.judged[1]
    assert pkg1_cred.notes == [
        "resync nonce 0x00000000 (4 zero bytes): the notification in frame 1 verified only with it"
    ]


def test_pkg1_made_with_the_stored_nonce() -> None:
    b, dm = book()
    # A first session leaves the client nonce OLD (the 212's Chal), then the server resynchronises.
    dm.exchange(pkg1("11", b""), accepted("11", chal(nonce=b64(OLD))))
    resync_notification(b, 0x6B2)
    dm.exchange(pkg1("6B2", OLD), pkg2("6B2"))
    dm.exchange(pkg3("6B2"), pkg4("6B2"))
    out = b.end()
    assert isinstance(out, Judged)
    stale = out.judged[2]
    assert (stale.result, stale.caveat) == ("valid", True)
    assert stale.notes[0].startswith("not the resync nonce: nonce from the Chal in frame 2 (the notification")
    assert codes(out) == ["omadm.resync-step-missing"]
    f = session(out, "6B2").findings[0]
    assert f.message == (
        "Package #1 (frame 4) computes its syncml-md5 credentials with the stored nonce, not the resync "
        "nonce 0x00000000 (4 zero bytes) its notification (frame 3) verified with"
    )


def test_pkg2_without_chal() -> None:
    b, dm = book()
    resync_notification(b, 0x6B2)
    dm.exchange(pkg1("6B2", ZERO), pkg2("6B2", new_nonce=None))
    dm.exchange(pkg3("6B2"), pkg4("6B2"))
    out = b.end()
    assert codes(out) == ["omadm.resync-step-missing"]
    assert session(out, "6B2").findings[0].message == (
        "Package #2 (frame 3) accepts the client with 212 but no Chal: the client nonce is not renewed after "
        "the resync nonce 0x00000000 (4 zero bytes)"
    )


def test_pkg3_without_chal_and_pkg4_failing() -> None:
    b, dm = book()
    resync_notification(b, 0x6B2)
    dm.exchange(pkg1("6B2", ZERO), pkg2("6B2"))
    dm.exchange(pkg3("6B2", new_nonce=None), pkg4("6B2", code=500))
    out = b.end()
    got = [f.message for f in session(out, "6B2").findings if f.code == "omadm.resync-step-missing"]
    assert got == [
        "Package #3 (frame 4) answers Package #2 (frame 3) with Status 200 for the SyncHdr and no Chal: the "
        "server nonce is not renewed",
        "Package #4 (frame 5) answers the client's Chal (frame 4) with Status 500 for the SyncHdr, not a "
        "success Status",
    ]


def test_session_ending_after_pkg2() -> None:
    b, dm = book()
    resync_notification(b, 0x6B2)
    closing = message(
        "6B2",
        1,
        status(1, 1, 0, "SyncHdr", 212, chal(nonce=b64(CLIENT_NONCE)))
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Replace", 200),
        to_server=False,
    )
    dm.exchange(pkg1("6B2", ZERO), closing)
    out = b.end()
    assert codes(out) == ["omadm.resync-step-missing"]
    assert session(out, "6B2").findings[0].message == (
        "the session ended after Package #2 (frame 3): no Package #3 renewed the server nonce"
    )


def test_refused_resync_is_an_authentication_failure_not_a_missing_step() -> None:
    b, dm = book()
    resync_notification(b, 0x6B2)
    refused = message(
        "6B2",
        1,
        status(1, 1, 0, "SyncHdr", 401, chal(nonce=b64(CLIENT_NONCE)))
        + status(2, 1, 1, "Alert", 215)
        + status(3, 1, 2, "Replace", 215),
        to_server=False,
    )
    dm.exchange(
        message("6B2", 1, alert(1, 1200) + devinfo(2), to_server=True, cred=md5_cred("wrong", ZERO)), refused
    )
    out = b.end()
    assert codes(out) == ["omadm.session-not-completed"]


def test_no_resync_checks_after_a_normally_valid_notification() -> None:
    b, dm = book()
    b.datagram(notification_push(0x6B2, SERVER, password="srvpass"), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("6B2", b""), pkg2("6B2", new_nonce=None, cred_nonce=b""))
    dm.exchange(pkg3("6B2", new_nonce=None), pkg4("6B2", cred_nonce=b""))
    out = b.end()
    assert isinstance(out, Judged)
    assert codes(out) == []
    assert (out.judged[0].scheme, out.judged[0].result, out.judged[0].caveat) == (
        "pkg0-digest",
        "valid",
        False,
    )


def test_without_secrets_nothing_is_known_of_a_resync() -> None:
    b = Playbook(Chain(Verifier(Secrets()), DmSessions()))
    dm = Dm(b)
    resync_notification(b, 0x6B2)
    dm.exchange(pkg1("6B2", ZERO), pkg2("6B2", new_nonce=None))
    out = b.end()
    assert "omadm.resync-step-missing" not in codes(out)
