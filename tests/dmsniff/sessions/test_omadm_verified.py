"""The verifier and the session builder on one conversation, as in a real run: both follow a session
to the address its RespURI names, and both tie a Package #1 to the same notification."""

from __future__ import annotations

import base64

from dmsniff.sessions import DmSessions
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier

from .dm import Chain, Dm, alert, chal, command, devinfo, item, md5_cred, message, results, status
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
