"""Package #0 linking (issue 16): a notification is package 0 of the session whose Package #1 comes from
the notified device (by address, else by session id alone) with its session id, whatever the Alert code;
and every message of the session carries that SessionID (DM Notification §6.1)."""

from __future__ import annotations

from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import Session

from .dm import Dm, alert, command, devinfo, item, login_status, message, notification_push, status
from .playbook import Collector, Playbook, codes


def book() -> tuple[Playbook, Dm]:
    b = Playbook(DmSessions())
    return b, Dm(b)


def pkg1(session: str, code: int = 1200, **kw: object) -> bytes:
    return message(session, 1, alert(1, code) + devinfo(2), to_server=True, **kw)  # type: ignore[arg-type]


def pkg2(session: str, final: bool = True, get: bool = False) -> bytes:
    body = status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 1, "Alert", 200) + status(3, 1, 2, "Replace", 200)
    if get:
        body += command("Get", 4, item("./DevDetail/SwV"))
    return message(session, 1, body, to_server=False, final=final)


def only(out: Collector) -> Session:
    assert len(out.sessions) == 1, [s.id for s in out.sessions]
    return out.sessions[0]


def test_notification_answered_with_alert_1201_is_linked_and_flagged() -> None:
    """The issue's case: Pkg#1 0.6 s after the Pkg#0, same SessionID, Alert 1201 instead of 1200."""
    b, dm = book()
    push = b.datagram(notification_push(0x5A1), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("5A1", code=1201), pkg2("5A1"), advance=0.6)
    out = b.end()
    s = only(out)
    assert [(m.kind, m.package) for m in s.messages] == [("Notification", 0), ("SyncML", 1), ("SyncML", 2)]
    assert out.findings == []  # no "not followed by a session"
    assert codes(out) == ["omadm.pkg1-not-alert-1200"]
    (f,) = s.findings
    assert f.frames == [push.frame, s.messages[1].frame]
    assert f.message == (
        f"Package #1 (frame {s.messages[1].frame}) answers the notification of frame {push.frame} with "
        "Alert 1201, not Alert 1200 (server-initiated)"
    )


def test_notification_answered_with_alert_1200_is_clean() -> None:
    b, dm = book()
    b.datagram(notification_push(0x5A1), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("5A1"), pkg2("5A1"), advance=0.6)
    out = b.end()
    assert only(out).messages[0].kind == "Notification"
    assert codes(out) == []


def test_behind_a_nat_the_session_id_alone_links() -> None:
    """The push went to the device's private address; its Pkg#1 arrives from the NAT's public one."""
    b, dm = book()
    b.datagram(notification_push(0x77), "10.0.0.1", 40000, "192.168.1.20", 2948)
    dm.exchange(pkg1("77"), pkg2("77"), client="198.51.100.7:51000")
    out = b.end()
    assert only(out).messages[0].kind == "Notification"
    assert codes(out) == []


def test_address_first_when_two_devices_were_told_the_same_session_id() -> None:
    b, dm = book()
    to_other = b.datagram(notification_push(0x42), "10.0.0.1", 40000, "10.0.0.9", 2948)
    to_this = b.datagram(notification_push(0x42), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("42"), pkg2("42"))
    out = b.end()
    assert only(out).messages[0].frame == to_this.frame
    assert [f.frames for f in out.findings] == [[to_other.frame]]  # the other one is still unanswered


def test_linking_does_not_depend_on_the_server_id_spelling() -> None:
    """Pkg#0 names the server by its DMAcc ServerID; the SyncHdr by its URL (and the push left from
    another address than the one the device posts to)."""
    b, dm = book()
    b.datagram(notification_push(0x1B, server_id="corp-mdm-01"), "10.9.9.9", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("1B"), pkg2("1B"))
    out = b.end()
    s = only(out)
    assert s.server_name == "corp-mdm-01"
    assert s.messages[1].record.header.target == "http://10.0.0.1/dm"  # type: ignore[attr-defined]
    assert codes(out) == []


def test_windows_decimal_session_id_links() -> None:
    """Windows clients send the SessionID as a decimal integer (0x1A = 26): no finding from one."""
    b, dm = book()
    b.datagram(notification_push(0x1A), "10.0.0.1", 40000, "10.0.0.2", 2948)
    windows = message("26", 1, alert(1, 1200) + devinfo(2) + login_status(3, "user"), to_server=True)
    answer = status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 1, "Alert", 200) + status(3, 1, 2, "Replace", 200)
    dm.exchange(windows, message("26", 1, answer + status(4, 1, 3, "Alert", 200), to_server=False))
    out = b.end()
    s = only(out)
    assert s.messages[0].kind == "Notification"
    assert s.dm is not None and s.dm.session_id_form == "decimal"
    assert codes(out) == []


def test_decimal_session_id_from_a_client_that_is_not_windows() -> None:
    """DM 1.2 §8.3: upper-case hex.  Decimal is Windows MDM's form, not this client's."""
    b, dm = book()
    push = b.datagram(notification_push(0x1A), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("26"), pkg2("26"))
    out = b.end()
    s = only(out)
    assert s.messages[0].kind == "Notification"
    assert codes(out) == ["omadm.pkg1-session-id-form"]
    assert s.findings[0].frames == [push.frame, s.messages[1].frame]
    assert s.findings[0].message == (
        f"Package #1 (frame {s.messages[1].frame}) gives the session id 1A of the notification (frame "
        f"{push.frame}) as '26', in decimal, not upper-case hex"
    )


def test_lower_case_hex_session_id_links_and_is_flagged() -> None:
    b, dm = book()
    b.datagram(notification_push(0x5A1), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("5a1"), pkg2("5a1"))
    out = b.end()
    s = only(out)
    assert s.messages[0].kind == "Notification"
    assert codes(out) == ["omadm.pkg1-session-id-form"]
    assert "as '5a1', in lower-case hex, not upper-case hex" in s.findings[0].message


def test_a_client_initiated_session_under_another_id_is_not_the_answer() -> None:
    b, dm = book()
    b.datagram(notification_push(0x3D), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("3E", code=1201), pkg2("3E"))
    out = b.end()
    assert only(out).messages[0].kind == "SyncML"
    assert codes(out) == ["omadm.notification-without-session"]


def test_wrong_pkg1_session_id_is_reported_once() -> None:
    """Pkg#1 (Alert 1200) under another id is flagged; the messages after it, carrying the same wrong
    id, are not flagged again."""
    b, dm = book()
    b.datagram(notification_push(0x3D), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("3E"), pkg2("3E", get=True))
    dm.exchange(
        message("3E", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True),
        message("3E", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    assert codes(out) == ["omadm.pkg1-session-id-mismatch"]


def test_server_answering_under_another_session_id() -> None:
    b, dm = book()
    b.datagram(notification_push(0x1A), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("1A"), pkg2("1B", get=True))
    dm.exchange(
        message("1A", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True),
        message("1B", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    s = only(out)
    assert codes(out) == ["omadm.session-id-changed"]  # once, not for each message
    head, answer = s.messages[0], s.messages[2]
    assert s.findings[0].frames == [head.frame, answer.frame]
    assert s.findings[0].message == (
        f"frame {answer.frame} from the server has SessionID '1B', not the notification's (frame "
        f"{head.frame}) '1A'"
    )


def test_client_changing_session_id_mid_session_stays_in_the_session() -> None:
    """Package #3 under another SessionID continues the session (its MsgID follows on): a finding, not a
    new session."""
    b, dm = book()
    dm.exchange(pkg1("1A", code=1201), pkg2("1A", get=True))
    dm.exchange(
        message("1C", 2, status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 4, "Get", 200), to_server=True),
        message("1A", 2, status(1, 2, 0, "SyncHdr", 200), to_server=False),
    )
    out = b.end()
    s = only(out)
    assert [m.package for m in s.messages] == [1, 2, 3, 4]
    assert s.end_reason == "completed"
    assert codes(out) == ["omadm.session-id-changed"]
    assert "from the client has SessionID '1C', not the session's '1A'" in s.findings[0].message


def test_a_new_pkg1_under_another_session_id_is_a_new_session() -> None:
    b, dm = book()
    dm.exchange(pkg1("1A", code=1201), pkg2("1A", get=True))
    dm.exchange(pkg1("1C", code=1201), pkg2("1C"))
    out = b.end()
    assert sorted(s.session_id or "" for s in out.sessions) == ["1A", "1C"]
    assert "omadm.session-id-changed" not in codes(out)


def test_a_notification_that_cannot_be_decoded_is_a_finding_of_its_own() -> None:
    b, _dm = book()
    push = notification_push(0x5A1)
    b.datagram(push[:-12], "10.0.0.1", 40000, "10.0.0.2", 2948)  # the Pkg#0 cut short
    out = b.end()
    assert codes(out) == ["omadm.notification-decode-error"]
    assert out.findings[0].session is None and "frame" in out.findings[0].message


def test_a_whole_notification_is_no_decode_error() -> None:
    b, dm = book()
    b.datagram(notification_push(0x5A1), "10.0.0.1", 40000, "10.0.0.2", 2948)
    dm.exchange(pkg1("5A1"), pkg2("5A1"), client="10.0.0.2:40000")
    assert "omadm.notification-decode-error" not in codes(b.end())
