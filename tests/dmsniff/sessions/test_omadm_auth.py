"""DM authentication (OMA DM Protocol §2.4.1, DM 1.2 §9.1): credentials sent again after 200, an
authentication loop shown with its entity, and what the message after a failure must carry."""

from __future__ import annotations

from dmsniff.sessions import DmSessions

from .dm import Dm, alert, chal, command, cred, devinfo, item, message, status
from .playbook import Playbook, codes

BASIC = cred("syncml:auth-basic", "ZG11c2VyOmRtcGFzcw==")  # dmuser:dmpass
MD5_A = cred("syncml:auth-md5", "Zz6EivR3yeaaENcRN6lpAQ==")
MD5_B = cred("syncml:auth-md5", "p6yBOHGV6hMfNBCgRsMJ2g==")


def book() -> tuple[Playbook, Dm]:
    b = Playbook(DmSessions())
    return b, Dm(b)


def pkg1(with_cred: str, msg_id: int = 1) -> bytes:
    return message("1A", msg_id, alert(1, 1201) + devinfo(2), to_server=True, cred=with_cred)


def retry(with_cred: str, msg_id: int = 2, header_status: bool = True) -> bytes:
    """Package #1 again after the server's challenge of message msg_id - 1."""
    head = status(1, msg_id - 1, 0, "SyncHdr", 200) if header_status else ""
    return message("1A", msg_id, head + alert(2, 1201) + devinfo(3), to_server=True, cred=with_cred)


def answer(msg_id: int, code: int, extra: str = "", get: bool = True, first: int = 1) -> bytes:
    """The server's answer to Package #1 (message msg_id): SyncHdr status, Alert/Replace 200, a Get."""
    alert_ref, replace_ref = (first, first + 1)
    body = (
        status(1, msg_id, 0, "SyncHdr", code, extra)
        + status(2, msg_id, alert_ref, "Alert", 200)
        + status(3, msg_id, replace_ref, "Replace", 200)
    )
    if get:
        body += command("Get", 4, item("./DevDetail/SwV"))
    return message("1A", msg_id, body, to_server=False)


def refused(msg_id: int, nonce: str = "bm9uY2U=", entity: str = "", first: int = 1) -> bytes:
    """401 + Chal for the SyncHdr of message msg_id (its Alert and Replace not executed)."""
    body = (
        status(1, msg_id, 0, "SyncHdr", 401, chal(nonce=nonce), entity=entity)
        + status(2, msg_id, first, "Alert", 215)
        + status(3, msg_id, first + 1, "Replace", 215)
    )
    return message("1A", msg_id, body, to_server=False)


def package3(msg_id: int, with_cred: str = "") -> bytes:
    body = status(1, msg_id - 1, 0, "SyncHdr", 200) + status(2, msg_id - 1, 4, "Get", 200)
    return message("1A", msg_id, body, to_server=True, cred=with_cred)


def end(msg_id: int) -> bytes:
    return message("1A", msg_id, status(1, msg_id, 0, "SyncHdr", 200), to_server=False)


# -- omadm.credentials-not-resent ----------------------------------------------------------------------


def test_credentials_dropped_after_200() -> None:
    b, dm = book()
    c1 = dm.exchange(pkg1(BASIC), answer(1, 200))
    c2 = dm.exchange(package3(2), end(2))
    out = b.end()
    assert codes(out) == ["omadm.credentials-not-resent"]
    f = out.sessions[0].findings[0]
    assert c1.request and c1.response and c2.request
    assert f.frames == [c1.request.frame, c1.response.frame, c2.request.frame]
    assert f.message == (
        f"the client's syncml:auth-basic credentials of frame {c1.request.frame} got 200 in frame "
        f"{c1.response.frame}, yet its next message (frame {c2.request.frame}) carries none"
    )


def test_same_md5_digest_after_a_chal_with_the_next_nonce() -> None:
    b, dm = book()
    dm.exchange(pkg1(MD5_A), answer(1, 200, chal(nonce="bmV4dA==")))
    dm.exchange(package3(2, MD5_A), end(2))
    out = b.end()
    assert codes(out) == ["omadm.credentials-not-resent"]
    assert "repeats the md5 digest of frame 1 although the Chal in frame 2 gave the next nonce" in (
        out.sessions[0].findings[0].message
    )


def test_other_basic_credentials_after_200() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), answer(1, 200))
    dm.exchange(package3(2, cred("syncml:auth-basic", "b3RoZXI6cGFzcw==")), end(2))
    out = b.end()
    assert codes(out) == ["omadm.credentials-not-resent"]
    assert "carries other basic credentials than those of frame 1" in out.sessions[0].findings[0].message


def test_another_md5_digest_after_200_without_a_chal() -> None:
    # No Chal, so no new nonce: the same password makes the same digest; another one is a change.
    b, dm = book()
    dm.exchange(pkg1(MD5_A), answer(1, 200))
    dm.exchange(package3(2, MD5_B), end(2))
    out = b.end()
    assert codes(out) == ["omadm.credentials-not-resent"]
    assert out.sessions[0].findings[0].message == (
        "frame 3 carries another md5 digest than frame 1, accepted with 200 in frame 2, though no Chal gave "
        "it a new nonce"
    )


def test_another_md5_digest_after_a_refusal_is_no_change() -> None:
    # A 401 (with its Chal) refused the first digest: the retry may carry another one.
    b, dm = book()
    dm.exchange(pkg1(MD5_A), refused(1))
    dm.exchange(retry(MD5_B), answer(2, 200, first=2))
    dm.exchange(package3(3, MD5_B), end(3))
    assert codes(b.end()) == []


def test_credentials_resent_as_due_are_clean() -> None:
    # Basic again after 200; a new md5 digest after 200 + Chal; nothing needed after 212.
    for first, second, code, extra in (
        (BASIC, BASIC, 200, ""),
        (MD5_A, MD5_B, 200, chal(nonce="bmV4dA==")),
        (MD5_A, MD5_A, 200, ""),  # no Chal: the same nonce, the same digest
        (BASIC, "", 212, ""),
        (MD5_A, "", 212, chal(nonce="bmV4dA==")),  # 212: the Chal's nonce is for the next session
    ):
        b, dm = book()
        dm.exchange(pkg1(first), answer(1, code, extra))
        dm.exchange(package3(2, second), end(2))
        assert codes(b.end()) == [], (first, second, code)


def test_a_server_dropping_its_credentials_after_200() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), message("1A", 1, answer_body(), to_server=False, cred=BASIC))
    dm.exchange(
        message(
            "1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True, cred=BASIC
        ),
        end(2),
    )
    out = b.end()
    assert codes(out) == ["omadm.credentials-not-resent"]
    assert out.sessions[0].findings[0].message.startswith("the server's syncml:auth-basic credentials")


def answer_body() -> str:
    return (
        status(1, 1, 0, "SyncHdr", 200)
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Replace", 200)
        + command("Get", 4, item("./DevDetail/SwV"))
    )


# -- omadm.auth-loop -----------------------------------------------------------------------------------


def test_the_same_challenge_after_credentials_is_a_loop_shown_with_its_entity() -> None:
    b, dm = book()
    first = dm.exchange(pkg1(BASIC), refused(1))
    again = dm.exchange(retry(MD5_A), refused(2, entity="account dmuser locked: 5 failures", first=2))
    out = b.end()
    assert codes(out) == ["omadm.auth-loop", "omadm.session-not-completed"]
    f = out.sessions[0].findings[0]
    assert first.response and again.request and again.response
    assert f.frames == [first.response.frame, again.request.frame, again.response.frame]
    assert f.message == (
        f"the server repeats the challenge of frame {first.response.frame} (syncml:auth-md5, same nonce) in "
        f"frame {again.response.frame}, refusing the credentials of frame {again.request.frame}: it says "
        "'account dmuser locked: 5 failures'"
    )


def test_a_loop_without_entity_says_so() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), refused(1))
    dm.exchange(retry(MD5_A), refused(2, first=2))
    out = b.end()
    loop = next(f for f in out.sessions[0].findings if f.code == "omadm.auth-loop")
    assert loop.message.endswith(": it sent no entity (Status Item) to show")


def test_a_new_nonce_is_a_new_challenge_not_a_loop() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), refused(1))
    dm.exchange(retry(MD5_A), refused(2, nonce="b3RoZXI=", first=2))
    assert "omadm.auth-loop" not in codes(b.end())


def test_the_same_challenge_to_a_message_without_credentials_is_no_loop() -> None:
    b, dm = book()
    dm.exchange(pkg1(""), refused(1))
    dm.exchange(retry(""), refused(2, first=2))
    got = codes(b.end())
    assert "omadm.auth-loop" not in got and "omadm.challenge-not-followed" in got


# -- omadm.challenge-not-followed: what the message after a failure carries --------------------------


def test_retry_without_status_for_the_synchdr() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), refused(1))
    dm.exchange(retry(MD5_A, header_status=False), answer(2, 212, first=2, get=False))
    out = b.end()
    assert codes(out) == ["omadm.challenge-not-followed"]
    assert out.sessions[0].findings[0].message.endswith("lacks a Status for the SyncHdr of frame 2")


def test_retry_with_other_credentials_than_the_chal_asked_for() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), refused(1))
    dm.exchange(retry(BASIC), answer(2, 212, first=2, get=False))
    out = b.end()
    assert codes(out) == ["omadm.challenge-not-followed"]
    assert "lacks the syncml:auth-md5 credentials the Chal asked for (it sent syncml:auth-basic)" in (
        out.sessions[0].findings[0].message
    )


def test_retry_with_everything_due_is_clean() -> None:
    b, dm = book()
    dm.exchange(pkg1(BASIC), refused(1, entity="try md5"))
    dm.exchange(retry(MD5_A), answer(2, 212, first=2, get=False))
    out = b.end()
    assert codes(out) == [] and out.sessions[0].end_reason == "completed"
