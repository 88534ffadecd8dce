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
