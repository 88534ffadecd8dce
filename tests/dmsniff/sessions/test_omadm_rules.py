"""OMA DM session grouping, packages, Status links and every rule, one playbook each."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import Session
from dmsniff.sessions.omadm import RULES

from .dm import (
    DEVICE,
    Dm,
    alert,
    chal,
    command,
    cred,
    devinfo,
    item,
    login_status,
    message,
    notification_push,
    results,
    status,
)
from .playbook import Collector, Playbook, codes


def book() -> tuple[Playbook, Dm]:
    b = Playbook(DmSessions())
    return b, Dm(b)


def pkg1(session: str = "1A", msg_id: int = 1, code: int = 1201, with_cred: str = "", **kw: object) -> bytes:
    return message(session, msg_id, alert(1, code) + devinfo(2), to_server=True, cred=with_cred, **kw)  # type: ignore[arg-type]


def ok_statuses(
    msg_ref: int, start: int = 1, cmds: tuple[tuple[int, str], ...] = ((1, "Alert"), (2, "Replace"))
) -> str:
    out = status(start, msg_ref, 0, "SyncHdr", 200)
    for n, (ref, name) in enumerate(cmds, start + 1):
        out += status(n, msg_ref, ref, name, 200)
    return out


def retry(session: str = "1A", msg_id: int = 2, with_cred: str = "", code: int = 1201, **kw: object) -> bytes:
    """Package #1 again after the server's challenge (message 1): the Status for its SyncHdr first."""
    body = status(1, msg_id - 1, 0, "SyncHdr", 200) + alert(2, code) + devinfo(3)
    return message(session, msg_id, body, to_server=True, cred=with_cred, **kw)  # type: ignore[arg-type]


RETRIED = ((2, "Alert"), (3, "Replace"))  # the commands of retry()


def challenged(**kw: object) -> bytes:
    """The server's answer to pkg1(): 401 and a Chal on the SyncHdr, Alert and Replace not executed."""
    not_executed = status(2, 1, 1, "Alert", 215) + status(3, 1, 2, "Replace", 215)
    return message("1A", 1, status(1, 1, 0, "SyncHdr", 401, chal()) + not_executed, to_server=False, **kw)  # type: ignore[arg-type]


def only(out: Collector) -> Session:
    assert len(out.sessions) == 1, [s.id for s in out.sessions]
    return out.sessions[0]


def test_clean_session_packages_links_and_tree() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(),
        message("1A", 1, ok_statuses(1) + command("Get", 4, item("./DevDetail/SwV")), to_server=False),
    )
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200)
            + status(2, 1, 4, "Get", 200)
            + results(3, 1, 4, "./DevDetail/SwV", "1.2.3"),
            to_server=True,
        ),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    s = only(out)
    assert (s.protocol, s.session_id, s.device_id, s.end_reason) == ("omadm", "1A", DEVICE, "completed")
    assert [m.package for m in s.messages] == [1, 2, 3, 4]
    assert [m.direction for m in s.messages] == ["to_server", "to_client"] * 2
    assert s.findings == []
    # Status and Results point at the frame of the command they answer.
    s1 = s.messages[1]
    assert [(c.name, c.cmd_ref, c.answers) for c in s1.commands if c.name == "Status"] == [
        ("Status", "0", s.messages[0].frame),
        ("Status", "1", s.messages[0].frame),
        ("Status", "2", s.messages[0].frame),
    ]
    res = next(c for c in s.messages[2].commands if c.name == "Results")
    assert (res.cmd_ref, res.answers, res.targets) == ("4", s1.frame, ["./DevDetail/SwV"])
    assert s.device == {
        "id": DEVICE,
        "DevId": DEVICE,
        "Man": "Acme",
        "Mod": "Phone 3",
        "DmV": "1.2",
        "Lang": "en-US",
    }
    (dev,) = out.devices
    assert [(p.name, p.value, p.source) for p in dev.parameters][-1] == (
        "./DevDetail/SwV",
        "1.2.3",
        "Results",
    )
    assert len(dev.parameters) == 6


def test_sessions_grouped_across_connections_by_session_id_and_device() -> None:
    b, dm = book()
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")), to_server=False))
    dm.conn = "C2"
    dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 404), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    # Another device with the same SessionID is another session.
    dm.exchange(pkg1(device="IMEI:1"), message("1A", 1, ok_statuses(1), to_server=False, device="IMEI:1"))
    out = b.end()
    first, second = out.sessions
    assert first.connections == ["C1", "C2"] and first.end_reason == "completed"
    assert second.device_id == "IMEI:1"
    assert codes(out) == ["omadm.command-failed"]
    assert "Get 4 (./X) with 404 (Not found)" in first.findings[0].message


def test_messages_posted_to_a_resp_uri_on_another_host_stay_in_the_session() -> None:
    # The server sends the client to another host (and port, over TLS): SessionID and device tie the
    # messages posted there, and the server's answers from there, to the session.
    b, dm = book()
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")), to_server=False,
                                resp_uri="https://10.0.0.9:8443/dm2?s=1A"))
    dm.conn, dm.uri = "C2", "/dm2?s=1A"
    dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200)
                + results(3, 1, 4, "./X", "x"), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200) + command("Get", 3, item("./Y")), to_server=False),
        server="10.0.0.9:8443",
    )
    dm.exchange(
        message("1A", 3, status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 3, "Get", 200)
                + results(3, 2, 3, "./Y", "y"), to_server=True),
        message("1A", 3, status(1, 3, 0, "SyncHdr", 200), to_server=False),
        server="10.0.0.9:8443",
    )
    out = b.end()
    s = only(out)
    assert s.connections == ["C1", "C2"] and s.end_reason == "completed"
    assert [m.package for m in s.messages] == [1, 2, 3, 4, 5, 6]
    assert codes(out) == []


def test_same_session_id_at_another_server_without_a_resp_uri_is_another_session() -> None:
    b, dm = book()
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")), to_server=False))
    dm.conn = "C2"
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1), to_server=False), server="10.0.0.9:80")
    out = b.end()
    assert [(s.server, s.end_reason) for s in out.sessions] == [
        ("10.0.0.9:80", "completed"), ("10.0.0.1:80", "capture-end")
    ]
    assert codes(out) == ["omadm.status-missing", "omadm.session-not-completed"]


def test_challenge_then_md5_retry_is_clean() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred("syncml:auth-basic")),
        challenged(resp_uri="http://10.0.0.1/dm?s=1A"),
    )
    dm.uri = "/dm?s=1A"
    dm.exchange(
        retry(with_cred=cred("syncml:auth-md5", "Zz6EivR3yeaaENcRN6lpAQ==")),
        message("1A", 2, ok_statuses(2, cmds=RETRIED), to_server=False),
    )
    out = b.end()
    s = only(out)
    assert [m.package for m in s.messages] == [1, 2, 1, 2]
    assert "auth challenge" in s.messages[1].notes
    assert s.end_reason == "completed"
    assert codes(out) == []


def test_challenge_without_chal() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred()),
        message(
            "1A",
            1,
            status(1, 1, 0, "SyncHdr", 401) + status(2, 1, 1, "Alert", 215) + status(3, 1, 2, "Replace", 215),
            to_server=False,
        ),
    )
    out = b.end()
    assert codes(out) == ["omadm.challenge-missing", "omadm.session-not-completed"]
    assert only(out).end_reason == "auth-failed"


def test_auth_failure_carrying_commands_and_missing_status() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred()),
        message(
            "1A",
            1,
            status(1, 1, 0, "SyncHdr", 401, chal())
            + status(2, 1, 1, "Alert", 215)
            + command("Get", 3, item("./X")),
            to_server=False,
        ),
    )
    out = b.end()
    assert "omadm.auth-failure-with-commands" in codes(out)
    # The Replace (CmdID 2) got no Status in the failure response.
    missing = [f for f in out.sessions[0].findings if f.code == "omadm.status-missing"]
    assert missing and "Replace 2" in missing[0].message


def test_restart_under_another_session_id_after_challenge() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred()),
        challenged(resp_uri="http://10.0.0.1/dm/next"),
    )
    dm.exchange(
        pkg1("1B", with_cred=cred("syncml:auth-md5", "x")), message("1B", 1, ok_statuses(1), to_server=False)
    )
    out = b.end()
    assert [s.session_id for s in out.sessions] == ["1A", "1B"]
    assert out.sessions[0].end_reason == "auth-failed"
    # The message after the failure is checked for all three: SessionID, SyncHdr Status, RespURI.
    f = out.sessions[1].findings
    assert [x.code for x in f] == [
        "omadm.challenge-not-followed",
        "omadm.challenge-not-followed",
        "omadm.resp-uri-ignored",
    ]
    assert "SessionID '1B'" in f[0].message
    assert f[1].message.endswith("lacks a Status for the SyncHdr of frame 2")
    assert "gave RespURI http://10.0.0.1/dm/next, the client posted to /dm" in f[2].message


def test_restart_after_challenge_with_everything_due_is_one_finding() -> None:
    b, dm = book()
    dm.exchange(pkg1(with_cred=cred()), challenged())
    dm.exchange(
        retry("1B", with_cred=cred("syncml:auth-md5", "x")),
        message("1B", 2, ok_statuses(2, cmds=RETRIED), to_server=False),
    )
    out = b.end()
    assert [f.code for f in out.sessions[1].findings] == ["omadm.challenge-not-followed"]


def test_retry_without_devinfo_and_credentials_and_off_resp_uri() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred()),
        challenged(resp_uri="http://10.0.0.1/dm/next"),
    )
    dm.exchange(
        message("1A", 2, alert(1, 1201), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 1, "Alert", 200), to_server=False),
    )
    out = b.end()
    f = {x.code: x for x in out.sessions[0].findings}
    assert "DevInfo, credentials" in f["omadm.challenge-not-followed"].message
    assert "posted to /dm" in f["omadm.resp-uri-ignored"].message


def test_client_challenging_a_status_only_server_message() -> None:
    # DM Protocol §2.4: the server's Package #2 is only Status (no credentials, no challenge, no
    # commands); the client MUST NOT send back only a Status for the SyncHdr with a challenge.
    b, dm = book()
    c1 = dm.exchange(pkg1(with_cred=cred()), message("1A", 1, ok_statuses(1), to_server=False))
    c2 = dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 401, chal()), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert out.sessions[0].end_reason == "completed"  # the server had closed it: the challenge comes after
    assert codes(out) == ["omadm.client-challenge-status-only"]
    f = out.sessions[1].findings[0]
    assert c1.response and c2.request and f.frames == [c1.response.frame, c2.request.frame]
    assert f.message == (
        f"the client challenges (401) the server's Package #2 (frame {c1.response.frame}), which held only "
        "Status and no challenge, with a message of only Status"
    )


def test_client_challenging_a_status_only_message_while_asking_for_more_is_allowed() -> None:
    # Package #2 is not over (no Final): the client asks for the rest (Alert 1222) and challenges the
    # server meanwhile.  That is no "only a Status for the SyncHdr with a challenge".
    b, dm = book()
    dm.exchange(pkg1(with_cred=cred()), message("1A", 1, ok_statuses(1), to_server=False, final=False))
    dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 401, chal()) + alert(2, 1222), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 2, "Alert", 200), to_server=False),
    )
    assert "omadm.client-challenge-status-only" not in codes(b.end())


def test_client_challenging_a_later_status_only_package_is_not_this_rule() -> None:
    # The server's closing Package #4 of only Status, not Package #2: the rule is about Package #2.
    b, dm = book()
    dm.exchange(pkg1(with_cred=cred()), message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")),
                                                to_server=False))
    dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True,
                cred=cred()),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    late = dm.exchange(
        message("1A", 3, status(1, 2, 0, "SyncHdr", 401, chal()), to_server=True),
        message("1A", 3, status(1, 3, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    first, second = out.sessions
    assert [m.package for m in first.messages] == [1, 2, 3, 4]
    assert late.request and second.messages[0].frame == late.request.frame
    assert second.messages[0].commands[0].answers == first.messages[-1].frame  # tied to Package #4
    assert "omadm.client-challenge-status-only" not in codes(out)


def test_auth_type_changing_without_being_asked() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(with_cred=cred("syncml:auth-md5", "x")),
        message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")), to_server=False),
    )
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200),
            to_server=True,
            cred=cred("syncml:auth-basic"),
        ),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert codes(out) == ["omadm.auth-type-changed"]
    assert out.sessions[0].findings[0].message == (
        "the client used syncml:auth-md5, now syncml:auth-basic in frame 3, though syncml:auth-md5 was "
        "accepted in frame 2"
    )


def test_auth_type_changing_before_any_success_is_no_change() -> None:
    # DM Protocol §2.4.1: the type is kept "once authentication has occurred".  Basic refused by a 401
    # whose Chal names no type, then md5 accepted: nothing had been accepted before the md5.
    b, dm = book()
    untyped = (
        '<Chal><Meta><Format xmlns="syncml:metinf">b64</Format>'
        '<NextNonce xmlns="syncml:metinf">bm9uY2U=</NextNonce></Meta></Chal>'
    )
    not_executed = status(2, 1, 1, "Alert", 215) + status(3, 1, 2, "Replace", 215)
    dm.exchange(
        pkg1(with_cred=cred("syncml:auth-basic")),
        message("1A", 1, status(1, 1, 0, "SyncHdr", 401, untyped) + not_executed, to_server=False),
    )
    dm.exchange(
        retry(with_cred=cred("syncml:auth-md5", "Zz6EivR3yeaaENcRN6lpAQ==")),
        message("1A", 2, ok_statuses(2, cmds=RETRIED) + command("Get", 4, item("./X")), to_server=False),
    )
    dm.exchange(
        message(
            "1A",
            3,
            status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 4, "Get", 200),
            to_server=True,
            cred=cred("syncml:auth-md5", "Zz6EivR3yeaaENcRN6lpAQ=="),
        ),
        message("1A", 3, status(1, 3, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert codes(out) == []
    assert [m.notes for m in only(out).messages if m.direction == "to_server"] == [
        ["syncml:auth-basic"], ["syncml:auth-md5"], ["syncml:auth-md5"]
    ]


def test_notification_opens_the_session_as_package_0() -> None:
    b, dm = book()
    b.datagram(notification_push(0x1A), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1(code=1200), message("1A", 1, ok_statuses(1), to_server=False))
    out = b.end()
    s = only(out)
    assert [(m.kind, m.package) for m in s.messages] == [("Notification", 0), ("SyncML", 1), ("SyncML", 2)]
    assert s.messages[0].session_id == "1A" and s.messages[0].transaction.startswith("U")
    assert s.server_name == "dm-server"
    assert codes(out) == []


def test_notification_session_id_mismatch_and_unused_notification() -> None:
    b, dm = book()
    b.datagram(notification_push(0x3D), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("3E", code=1200), message("3E", 1, ok_statuses(1), to_server=False))
    b.datagram(notification_push(0x77), "10.0.0.1", 40000, "10.0.0.9", 2948)
    out = b.end()
    assert codes(out) == ["omadm.pkg1-session-id-mismatch", "omadm.notification-without-session"]
    assert "'3E'" in out.sessions[0].findings[0].message and "'3D'" in out.sessions[0].findings[0].message
    assert out.sessions[0].messages[0].kind == "Notification"


def test_windows_rules() -> None:
    b, dm = book()
    inner = command("Atomic", 5, inner=command("Get", 6, item("./DevDetail/FwV")))
    body = (
        ok_statuses(1)
        + command("Atomic", 4, inner=inner)
        + command("Replace", 7, item("/Vendor/Leading", "x"))
        + command("Delete", None, item("./Vendor/Old"))
    )
    dm.exchange(pkg1(), message("1A", 1, body, to_server=False))
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200)
            + status(2, 1, 4, "Atomic", 507)
            + status(3, 1, 5, "Atomic", 500)
            + status(4, 1, 6, "Get", 215)
            + status(5, 1, 7, "Replace", 404),
            to_server=True,
        ),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    got = codes(out)
    for code in (
        "omadm.nested-atomic",
        "omadm.get-in-atomic",
        "omadm.locuri-leading-slash",
        "omadm.cmdid-missing",
    ):
        assert code in got
    assert "omadm.status-missing" not in got  # a command without CmdID cannot be answered
    depths = [(c.name, c.depth) for c in out.sessions[0].messages[1].commands if c.name != "Status"]
    assert depths == [("Atomic", 0), ("Atomic", 1), ("Get", 2), ("Replace", 0), ("Delete", 0)]


def test_status_missing_mismatched_and_msgid_gap() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(),
        message(
            "1A",
            1,
            ok_statuses(1) + command("Get", 4, item("./A")) + command("Exec", 5, item("./B")),
            to_server=False,
        ),
    )
    dm.exchange(
        message("1A", 3, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Replace", 200), to_server=True),
        message("1A", 2, status(1, 3, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    f = {x.code: x for x in out.sessions[0].findings}
    assert set(f) == {"omadm.msgid-sequence", "omadm.status-cmd-mismatch", "omadm.status-missing"}
    assert "Exec 5" in f["omadm.status-missing"].message
    assert "Cmd 'Replace' for CmdRef 4, which is Get" in f["omadm.status-cmd-mismatch"].message


def test_msgids_not_starting_at_1() -> None:
    # Package #1 is in the capture: each side's first MsgID of the session must be 1.
    b, dm = book()
    c = dm.exchange(pkg1(msg_id=3), message("1A", 2, ok_statuses(3), to_server=False))
    out = b.end()
    assert codes(out) == ["omadm.msgid-sequence", "omadm.msgid-sequence"]
    assert c.request and c.response
    assert [f.message for f in out.sessions[0].findings] == [
        f"the client's first message of the session (frame {c.request.frame}) has MsgID 3, not 1",
        f"the server's first message of the session (frame {c.response.frame}) has MsgID 2, not 1",
    ]


def test_msgids_of_a_session_seen_from_its_middle_are_not_checked_for_their_start() -> None:
    # The capture begins in Package #3 (no Alert 1200/1201): MsgID 5 is not a wrong start.
    b, dm = book()
    dm.exchange(
        message("1A", 5, status(1, 4, 0, "SyncHdr", 200) + status(2, 4, 7, "Get", 200), to_server=True),
        message("1A", 5, status(1, 5, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert codes(out) == []
    assert [m.msg_id for m in only(out).messages] == ["5", "5"]


def test_large_object_reassembled_and_size_checked() -> None:
    b, dm = book()
    part1 = command("Replace", 4, item("./Blob", "a" * 10, more=True, size=25))
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1) + part1, to_server=False, final=False))
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Replace", 213) + alert(3, 1222),
            to_server=True,
        ),
        message(
            "1A",
            2,
            status(1, 2, 0, "SyncHdr", 200)
            + status(2, 2, 3, "Alert", 200)
            + command("Replace", 5, item("./Blob", "b" * 10)),
            to_server=False,
        ),
    )
    dm.exchange(
        message("1A", 3, status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 5, "Replace", 200), to_server=True),
        message("1A", 3, status(1, 3, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    s = only(out)
    assert [m.package for m in s.messages] == [1, 2, 3, 2, 3, 4]
    (obj,) = s.large_objects
    assert (obj.target, obj.chunks, obj.size, obj.declared_size, obj.complete) == ("./Blob", 2, 20, 25, True)
    assert obj.data == "a" * 10 + "b" * 10
    assert codes(out) == ["omadm.large-object-size-mismatch"]
    # The accepted Replace puts the whole object in the device's tree.
    (dev,) = out.devices
    assert ("./Blob", "a" * 10 + "b" * 10, "Replace") in [(p.name, p.value, p.source) for p in dev.parameters]


def test_incomplete_large_object_and_open_session_at_capture_end() -> None:
    b, dm = book()
    dm.exchange(
        pkg1(),
        message(
            "1A",
            1,
            ok_statuses(1) + command("Replace", 4, item("./Blob", "abc", more=True)),
            to_server=False,
            final=False,
        ),
    )
    out = b.end()
    s = only(out)
    assert s.end_reason == "capture-end"
    assert codes(out) == [
        "omadm.status-missing",
        "omadm.session-not-completed",
        "omadm.large-object-incomplete",
    ]
    assert not s.large_objects[0].complete


def test_session_abort_alert() -> None:
    b, dm = book()
    dm.exchange(pkg1(), message("1A", 1, ok_statuses(1) + command("Get", 4, item("./A")), to_server=False))
    dm.exchange(
        message(
            "1A",
            2,
            status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200) + alert(3, 1223),
            to_server=True,
        ),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert only(out).end_reason == "completed"  # the server's Status-only reply closes it anyway


def test_undecodable_syncml_is_a_finding() -> None:
    b, dm = book()
    dm.exchange(b"<SyncML xmlns='SYNCML:SYNCML1.2'><SyncHdr>", b"")
    out = b.end()
    # Recovered as far as it goes: a session (of unknown id) holding the message, flagged.
    assert codes(out)[0] == "omadm.decode-error"
    assert only(out).messages[0].kind == "SyncML"


def test_wbxml_and_xml_messages_of_one_session() -> None:
    from decoders import wbxml

    b, _ = book()
    first = wbxml.encode(pkg1(with_cred=cred()))
    assert isinstance(first, bytes)
    answer = wbxml.encode(message("1A", 1, ok_statuses(1), to_server=False))
    assert isinstance(answer, bytes)
    b.post(
        first, answer=answer, content_type="application/vnd.syncml.dm+wbxml", uri="/dm", server="10.0.0.1:80"
    )
    out = b.end()
    s = only(out)
    assert [(m.encoding, m.package) for m in s.messages] == [("wbxml", 1), ("wbxml", 2)]
    assert s.end_reason == "completed" and codes(out) == []


def test_notification_over_http_post() -> None:
    from tests.decoders.notification.helpers import pkg0

    b, dm = book()
    # The server POSTs the Pkg#0 to the device (the HTTP binding), then the device opens the session.
    b.post(
        pkg0("dm-server", session_id=0x42),
        content_type="application/vnd.syncml.notification",
        server="10.0.0.2:8080",
        client="10.0.0.1:5000",
        conn="C9",
    )
    dm.exchange(pkg1("42", code=1200), message("42", 1, ok_statuses(1), to_server=False))
    out = b.end()
    s = only(out)
    head = s.messages[0]
    assert (head.kind, head.package, head.http) == ("Notification", 0, "POST /acs")
    assert codes(out) == []


_CLIENT = [
    pkg1(),
    pkg1(code=1200),
    pkg1(with_cred=cred("syncml:auth-md5", "x")),
    message("1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True),
    message("1A", 2, status(1, 1, 0, "SyncHdr", 401, chal()), to_server=True),
    message("1A", 3, alert(1, 1222), to_server=True, final=False),
    message("1B", 1, alert(1, 1223), to_server=True),
    message("1A", 2, command("Replace", 1, item("./B", "x", more=True)), to_server=True),
    message("1C", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, "", "Delete", 500), to_server=True),
    message("1A", 1, alert(1, 1201) + login_status(2, "none") + devinfo(3), to_server=True, cred=cred()),
    retry(with_cred=cred("syncml:auth-md5", "x")),
    b"<SyncML><SyncHdr>",
    b"",
]
_SERVER = [
    message("1A", 1, ok_statuses(1), to_server=False),
    message("1A", 1, ok_statuses(1) + command("Get", 4, item("./X")), to_server=False),
    message("1A", 1, status(1, 1, 0, "SyncHdr", 401, chal()), to_server=False, resp_uri="http://x/y"),
    message("1A", 1, status(1, 1, 0, "SyncHdr", 407), to_server=False),
    message(
        "1A", 2, command("Replace", 5, item("./Blob", "a", more=True, size=3)), to_server=False, final=False
    ),
    message("1A", 3, command("Atomic", 6, inner=command("Atomic", 7)), to_server=False),
    message(
        "1A",
        2,
        status(1, 2, 0, "SyncHdr", 200, chal())
        + command(
            "Atomic", 4, inner=command("Add", 5, item("./User/X")) + command("Replace", 6, item("./User/X"))
        )
        + command("Delete", None, item("./Vendor/MSFT/Y")),
        to_server=False,
        meta='<MaxMsgSize xmlns="syncml:metinf">9</MaxMsgSize>',
    ),
    message("1A", 2, status(1, 2, 0, "SyncHdr", 401, chal(), entity="locked"), to_server=False),
    b"",
]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_CLIENT),
            st.sampled_from(_SERVER),
            st.sampled_from(["C1", "C2"]),
            st.sampled_from([None, 0x1A, 0x1B, 0x1C]),
            st.sampled_from([0.0, 1.0, 200.0]),
        ),
        max_size=12,
    )
)
def test_any_sequence_of_dm_exchanges_builds_sessions(
    steps: list[tuple[bytes, bytes, str, int | None, float]],
) -> None:
    b, dm = book()
    for client, server, conn, notify, gap in steps:
        if notify is not None:
            b.datagram(notification_push(notify), "10.0.0.1", 40000, "10.0.0.2", 2948)
        dm.conn = conn
        dm.exchange(client, server, advance=gap)
    out = b.end()
    ids = [s.id for s in out.sessions]
    assert len(ids) == len(set(ids))
    frames = [m.frame for s in out.sessions for m in s.messages]
    assert len(frames) == len(set(frames))  # no message in two sessions
    for s in out.sessions:
        assert s.end_reason in ("completed", "auth-failed", "aborted", "timeout", "capture-end")
        for m in s.messages:  # an empty or non-SyncML body between DM messages has no package
            assert (m.package is not None and m.package >= 0) == (m.kind in ("SyncML", "Notification"))
        assert [m.time for m in s.messages] == sorted(m.time for m in s.messages)
    for f in [f for s in out.sessions for f in s.findings] + out.findings:
        assert f.code in RULES and f.frames
