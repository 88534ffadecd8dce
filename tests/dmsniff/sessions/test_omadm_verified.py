"""The verifier and the session builder on one conversation, as in a real run: both follow a session
to the address its RespURI names, and both tie a Package #1 to the same notification."""

from __future__ import annotations

import base64

from dmsniff.sessions import DmSessions
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier

from .dm import (
    DEVICE,
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
from .playbook import Playbook, codes
from .test_omadm_resync import Judged

FIRST = b"first-client-nonce"  # the client nonce before the capture (the secrets file gives it)
NEXT = b"next-client-nonce"  # the one the server's Chal hands over


def book(*secrets: Secret) -> tuple[Playbook, Dm, Judged]:
    out = Judged()  # a collector of the verdicts too
    b = Playbook(Chain(Verifier(Secrets(list(secrets))), DmSessions()), out=out)
    return b, Dm(b), out


def test_a_nonce_handed_over_before_a_resp_uri_to_another_host_verifies_the_credentials_sent_there() -> None:
    b, dm, out = book(Secret("omadm_client", "dmuser", "dmpass", nonce=FIRST))
    answer = (
        status(1, 1, 0, "SyncHdr", 200, chal(nonce=base64.b64encode(NEXT).decode()))
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Replace", 200)
        + command("Get", 4, item("./DevDetail/FwV"))
    )
    dm.exchange(
        message("1A", 1, alert(1, 1201) + devinfo(2), to_server=True, cred=md5_cred("dmpass", FIRST)),
        message("1A", 1, answer, to_server=False, resp_uri="https://10.0.0.9:8443/dm"),
    )
    dm.conn = "C2"
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200)
            + status(2, 1, 4, "Get", 200)
            + results(3, 1, 4, "./DevDetail/FwV", "2"),
            to_server=True,
            cred=md5_cred("dmpass", NEXT),
        ),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
        server="10.0.0.9:8443",
    )
    b.end()
    assert [(a.frame, a.result, a.notes[0]) for a in out.judged] == [
        (1, "valid", "nonce from the secrets file (none in the capture)"),
        (3, "valid", "nonce from the Chal in frame 2"),
    ]
    assert len(out.sessions) == 1 and codes(out) == []


# -- the Package #0 digest: the server nonce the notified device holds -----------------------------------

SERVER = "dm-server"
NONCE_A, NONCE_B = b"server-nonce-of-a", b"server-nonce-of-b"
DEVICE_B = "IMEI:490154203237518"


def hand_over_server_nonce(dm: Dm, sid: str, nonce: bytes, device: str, client: str) -> None:
    """A short session in which the device's Status for the server's SyncHdr carries a Chal: the server
    nonce the server's next Pkg#0 to that device is signed with."""
    answer = status(1, 1, 0, "SyncHdr", 212) + status(2, 1, 1, "Alert", 200) + status(3, 1, 2, "Replace", 200)
    dm.exchange(
        message(sid, 1, alert(1, 1201) + devinfo(2), to_server=True, device=device),
        message(sid, 1, answer + command("Get", 4, item("./DevDetail/FwV")), to_server=False, device=device),
        client=client,
    )
    dm.exchange(
        message(
            sid,
            2,
            status(1, 1, 0, "SyncHdr", 200, chal(nonce=base64.b64encode(nonce).decode()))
            + status(2, 1, 4, "Get", 200),
            to_server=True,
            device=device,
        ),
        message(sid, 2, status(1, 2, 0, "SyncHdr", 200), to_server=False, device=device),
        client=client,
    )


def pkg0_verdicts(signed_with: bytes) -> list[tuple[str, list[str]]]:
    """Devices A (10.0.0.2) then B (10.0.0.3) give the server a nonce each; the server then notifies A."""
    b, dm, out = book(Secret("omadm_server", SERVER, "srvpass"))
    hand_over_server_nonce(dm, "1", NONCE_A, DEVICE, "10.0.0.2:40000")
    hand_over_server_nonce(dm, "2", NONCE_B, DEVICE_B, "10.0.0.3:40000")
    b.datagram(notification_push(0x3D, SERVER, password="srvpass", nonce=signed_with), "10.0.0.1", 40000,
               "10.0.0.2", 2948)
    b.end()
    return [(a.result, a.notes) for a in out.judged if a.scheme == "pkg0-digest"]


def test_a_package0_digest_is_verified_with_the_nonce_the_notified_device_gave_the_server() -> None:
    # B gave the server its nonce last, but the notification is A's: A's nonce verifies it.
    verdicts = pkg0_verdicts(NONCE_A)
    assert verdicts == [("valid", ["verified with the nonce the device gave the server in frame 3"])]


def test_a_package0_digest_made_with_another_device_s_nonce_does_not_verify() -> None:
    [(result, _notes)] = pkg0_verdicts(NONCE_B)
    assert result == "invalid"


# -- one link, for both: which notification a Package #1 answers ------------------------------------------

ZERO = b"\0\0\0\0"


def resync_then(b: Playbook, second: bytes | None) -> None:
    """A notification valid only with the resync nonce (session id 6B2) and, if given, a second one with
    the same session id signed with ``second``, both to the device's address."""
    for nonce in (ZERO, second) if second is not None else (ZERO,):
        b.datagram(notification_push(0x6B2, SERVER, password="srvpass", nonce=nonce), "10.0.0.1", 40000,
                   "10.0.0.2", 2948)


def pkg1_and_212(dm: Dm, sid: str, nonce: bytes, code: int = 1200) -> None:
    answer = status(1, 1, 0, "SyncHdr", 212) + status(2, 1, 1, "Alert", 200) + status(3, 1, 2, "Replace", 200)
    dm.exchange(
        message(sid, 1, alert(1, code) + devinfo(2), to_server=True, cred=md5_cred("dmpass", nonce)),
        message(sid, 1, answer, to_server=False),
    )


BOTH = (Secret("omadm_client", "dmuser", "dmpass", nonce=FIRST), Secret("omadm_server", SERVER, "srvpass"))


def test_the_verifier_links_the_latest_notification_as_the_session_builder_does() -> None:
    # The server re-sent the notification, now signed with the empty nonce: Pkg#1 answers the latest one
    # (DmSessions always took it; the verifier took the resync one and wanted the resync nonce).
    b, dm, out = book(*BOTH)
    resync_then(b, b"")
    pkg1_and_212(dm, "6B2", FIRST)
    b.end()
    [s] = out.sessions
    assert s.messages[0].frame == 2
    assert codes(out) == ["omadm.notification-without-session"] and out.findings[0].frames == [1]
    cred = next(a for a in out.judged if a.scheme == "syncml-md5")
    assert (cred.result, cred.caveat, cred.notes) == (
        "valid", False, ["nonce from the secrets file (none in the capture)"]
    )


def test_a_pkg1_under_another_session_id_answers_the_resync_for_the_verifier_too() -> None:
    # Alert 1200 under another SessionID answers the notification just before it: a resync one, so
    # Pkg#1's credentials are due with the resync nonce, for the verifier as for DmSessions.
    b, dm, out = book(*BOTH)
    resync_then(b, None)
    pkg1_and_212(dm, "6B3", ZERO)
    b.end()
    cred = next(a for a in out.judged if a.scheme == "syncml-md5")
    assert (cred.result, cred.notes) == (
        "valid", ["resync nonce 0x00000000 (4 zero bytes): the notification in frame 1 verified only with it"]
    )
    assert codes(out)[0] == "omadm.pkg1-session-id-mismatch"
    assert "omadm.resync-step-missing" in codes(out)  # 212 without a Chal: the client nonce not renewed


def test_a_notification_not_answered_within_a_session_is_not_linked_by_either() -> None:
    # The device is mid-session under SessionID 6B2 when the notification with that session id comes:
    # its next message continues that session and answers nothing, for both.
    b, dm, out = book(*BOTH)
    dm.exchange(
        message("6B2", 1, alert(1, 1201) + devinfo(2), to_server=True, cred=md5_cred("dmpass", FIRST)),
        message("6B2", 1, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 1, "Alert", 200)
                + status(3, 1, 2, "Replace", 200) + command("Get", 4, item("./X")), to_server=False),
    )
    resync_then(b, None)
    dm.exchange(
        message("6B2", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True,
                cred=md5_cred("dmpass", FIRST)),
        message("6B2", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    b.end()
    assert [a.result for a in out.judged if a.scheme == "syncml-md5"] == ["valid", "valid"]
    assert not any(a.caveat for a in out.judged if a.scheme == "syncml-md5")
    assert codes(out) == ["omadm.notification-without-session"]


# -- memory: what the verifier keeps per DM session ends with the session ------------------------------


def test_the_verifier_forgets_dm_sessions_long_over() -> None:
    """A DM server front end sees sessions without end: the verifier's per-session entries (the open
    conversations, the RespURIs given) are dropped once the sessions are long over, not kept to the end
    of the capture; a RespURI followed in time still takes the session to its new address."""
    verifier = Verifier(Secrets([]))
    b = Playbook(Chain(verifier, DmSessions()), out=Judged())
    dm = Dm(b)
    peaks: list[int] = []
    for n in range(300):  # a session every 20 s of capture time, each sent elsewhere and abandoned there
        sid = f"{n:X}"
        dm.conn = f"C{n}"
        ask = status(1, 1, 0, "SyncHdr", 200) + command("Get", 2, item("./DevInfo/Lang"))  # not the end
        dm.exchange(message(sid, 1, alert(1, 1201) + devinfo(2), to_server=True),
                    message(sid, 1, ask, to_server=False, resp_uri="https://10.0.0.9:8443/dm"))
        b.time += 20.0
        peaks.append(len(verifier.dm_open) + len(verifier.dm_resp_from))
    assert max(peaks) <= 2 * (12 + 2)  # the sessions of the last 2 x 2 minutes at most, not 300 of each
    dm.conn = "C-last"
    moved = dm.exchange(message(sid, 2, status(1, 1, 0, "SyncHdr", 200), to_server=True),
                        message(sid, 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
                        server="10.0.0.9:8443")
    assert moved.request is not None
    assert verifier.dm_moved[("10.0.0.9", DEVICE)] == "10.0.0.1"  # 20 s after the RespURI: the same session


def test_a_resp_uri_in_the_message_that_ends_the_session_is_forgotten_with_it() -> None:
    verifier = Verifier(Secrets([]))
    b = Playbook(Chain(verifier, DmSessions()), out=Judged())
    Dm(b).exchange(message("1B", 1, alert(1, 1201) + devinfo(2), to_server=True),
                   message("1B", 1, status(1, 1, 0, "SyncHdr", 200), to_server=False,
                           resp_uri="https://10.0.0.9:8443/dm"))
    assert not verifier.dm_resp_from and not verifier.dm_open
