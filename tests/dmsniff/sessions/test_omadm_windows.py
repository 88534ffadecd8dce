"""Windows MDM (Microsoft's "OMA DM protocol support"): the rules about what the Windows client answers and
does not support, checked only in sessions that show a Windows client; and the Windows facts (LoginStatus,
./User and ./Device scopes and CSPs, Generic Alert types, the SessionID's form) in the session record and
the text report."""

from __future__ import annotations

from dmsniff.report.records import session_record
from dmsniff.report.text import session_text
from dmsniff.sessions import DmSessions
from dmsniff.sessions.model import GenericAlert, Session, TargetScope

from .dm import Dm, alert, command, devinfo, item, login_status, message, status, typed_alert
from .playbook import Collector, Playbook, codes

GUID = "6F9619FF-8B86-D011-B42D-00C04FC964FF"  # a Windows client's DevId
APP = "./User/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/App1/StoreInstall"
POLICY = "./Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera"
OLD = "./Vendor/MSFT/Policy/Config/Old"
SYNC_VERSION = "./Vendor/MSFT/DMClient/Provider/MDMSRV/SyncApplicationVersion"
WINDOWS_ONLY = {
    "omadm.cmdid-missing-not-400",
    "omadm.nested-atomic-codes",
    "omadm.atomic-add-then-replace",
    "omadm.synchdr-meta-ignored",
    "omadm.user-config-without-login",
}
META = '<MaxMsgSize xmlns="syncml:metinf">65536</MaxMsgSize>'


def book() -> tuple[Playbook, Dm]:
    b = Playbook(DmSessions())
    return b, Dm(b)


def pkg1(sid: str = "12", login: str | None = "others", device: str = GUID) -> bytes:
    body = alert(1, 1201) + (login_status(2, login) if login is not None else "") + devinfo(3)
    return message(sid, 1, body, to_server=True, device=device)


def pkg2(
    sid: str = "12", meta: str = META, replace_same: bool = True, device: str = GUID, app: str = APP
) -> bytes:
    """Add then Replace of the same ./User node in Atomic 5, which also holds Atomic 8; a Delete without
    CmdID; the SyncApplicationVersion that makes the next SessionIDs 2 bytes."""
    second = app if replace_same else app.replace("StoreInstall", "HostedInstall")
    inner = command("Atomic", 8, inner=command("Replace", 9, item(POLICY, "0")))
    add_replace = command("Add", 6, item(app, "x")) + command("Replace", 7, item(second, "y"))
    atomic = command("Atomic", 5, inner=add_replace + inner)
    body = (
        status(1, 1, 0, "SyncHdr", 200)
        + status(2, 1, 1, "Alert", 200)
        + status(3, 1, 2, "Alert", 200)
        + status(4, 1, 3, "Replace", 200)
        + atomic
        + command("Delete", None, item(OLD))
        + command("Replace", 10, item(SYNC_VERSION, "2.0"))
    )
    return message(sid, 1, body, to_server=False, meta=meta, device=device)


def pkg3(
    sid: str = "12", outer: int = 500, nested: int = 507, blank: int | None = 500, device: str = GUID
) -> bytes:
    body = (
        status(1, 1, 0, "SyncHdr", 200)
        + status(2, 1, 5, "Atomic", outer)
        + status(3, 1, 6, "Add", 216)
        + status(4, 1, 7, "Replace", 216)
        + status(5, 1, 8, "Atomic", nested)
        + status(6, 1, 9, "Replace", 216)
        + (status(7, 1, "", "Delete", blank) if blank is not None else "")
        + status(8, 1, 10, "Replace", 200)
    )
    return message(sid, 2, body, to_server=True, device=device)


def pkg4(sid: str = "12", device: str = GUID) -> bytes:
    return message(sid, 2, status(1, 2, 0, "SyncHdr", 200), to_server=False, device=device)


def run(
    login: str | None = "others",
    meta: str = META,
    replace_same: bool = True,
    app: str = APP,
    outer: int = 500,
    nested: int = 507,
    blank: int | None = 500,
) -> tuple[Collector, Session]:
    """A Windows session: Pkg#1 with LoginStatus, pkg2(), the client's answers, the server's end."""
    b, dm = book()
    dm.exchange(pkg1(login=login), pkg2(meta=meta, replace_same=replace_same, app=app))
    dm.exchange(pkg3(outer=outer, nested=nested, blank=blank), pkg4())
    out = b.end()
    assert len(out.sessions) == 1
    return out, out.sessions[0]


def test_windows_session_breaking_every_windows_rule() -> None:
    out, s = run()
    got = codes(out)
    assert sorted(got) == sorted(
        [
            "omadm.user-config-without-login",
            "omadm.atomic-add-then-replace",
            "omadm.nested-atomic",
            "omadm.cmdid-missing",
            "omadm.cmdid-missing-not-400",
            "omadm.nested-atomic-codes",
            "omadm.command-failed",  # Atomic 5: 500
            "omadm.command-failed",  # Atomic 8: 507
            "omadm.synchdr-meta-ignored",
        ]
    )
    c1, s1, c2 = (m.frame for m in s.messages[:3])
    f = {x.code: x for x in s.findings}
    assert f["omadm.user-config-without-login"].message == (
        f"frame {s1} configures the user (Add 6 {APP}, Replace 7 {APP}) while the LoginStatus of frame {c1} "
        "is 'others': no enrolled user is logged in"
    )
    assert f["omadm.user-config-without-login"].frames == [c1, s1]
    assert f["omadm.atomic-add-then-replace"].message == (
        f"Atomic 5 in frame {s1} adds {APP} (Add 6) and then replaces it (Replace 7)"
    )
    assert f["omadm.cmdid-missing-not-400"].message == (
        f"Delete without CmdID in frame {s1} got 500 with an empty CmdRef in frame {c2}, not 400"
    )
    assert f["omadm.nested-atomic-codes"].message == (
        f"the client answered the nested Atomic 8 with 507, parent Atomic 5 with 500 of frame {s1} in frame "
        f"{c2}; Windows answers 500 for a nested Atomic, 507 for its parent"
    )
    assert f["omadm.synchdr-meta-ignored"].message == (
        f"the server's SyncHdr carries Meta in frame {s1}; the Windows client ignores it"
    )
    assert f["omadm.synchdr-meta-ignored"].severity == "info"
    # The Delete's Status (empty CmdRef) is not a failed command of its own: cmdid-missing says it.
    failed = [x.message for x in s.findings if x.code == "omadm.command-failed"]
    assert all("Atomic" in m for m in failed)


def test_windows_session_the_way_windows_documents_it_is_clean_of_windows_findings() -> None:
    out, _s = run(login="user", meta="", replace_same=False, outer=507, nested=500, blank=400)
    got = codes(out)
    # What the server sent is still wrong in OMA DM terms; the client's answers are Windows' own.
    assert sorted(got) == [
        "omadm.cmdid-missing",
        "omadm.command-failed",
        "omadm.command-failed",
        "omadm.nested-atomic",
    ]
    assert not WINDOWS_ONLY & set(got)


def test_device_scope_configuration_is_fine_without_a_user() -> None:
    out, _s = run(
        login="none",
        app=APP.replace("./User/", "./Device/"),
        meta="",
        replace_same=False,
        outer=507,
        nested=500,
        blank=400,
    )
    assert "omadm.user-config-without-login" not in codes(out)


def test_a_missing_answer_to_a_command_without_cmdid() -> None:
    _out, s = run(blank=None)
    f = next(x for x in s.findings if x.code == "omadm.cmdid-missing-not-400")
    assert f.message.endswith(f"got no Status with an empty CmdRef in frame {s.messages[2].frame}")


def test_the_same_faults_from_a_device_that_is_not_windows_are_not_windows_findings() -> None:
    """No LoginStatus, no ./User, ./Device or ./Vendor/MSFT node: the Windows-only rules stay quiet."""
    b, dm = book()
    app = "./Apps/App1/Install"
    body = pkg2(app=app).decode().replace(POLICY, "./Settings/Camera").replace(OLD, "./Settings/Old")
    body = body.replace(SYNC_VERSION, "./Settings/Version")
    dm.exchange(pkg1(login=None, device="IMEI:1"), body.replace(GUID, "IMEI:1").encode())
    dm.exchange(pkg3(device="IMEI:1"), pkg4(device="IMEI:1"))
    out = b.end()
    got = codes(out)
    assert "omadm.nested-atomic" in got and "omadm.cmdid-missing" in got
    assert not WINDOWS_ONLY & set(got)
    assert out.sessions[0].dm is None


def test_windows_findings_wait_for_the_sign_that_shows_a_windows_client() -> None:
    """The first sign comes after the faults (a ./Vendor/MSFT Get late in the session): they are kept."""
    b, dm = book()
    dm.exchange(
        pkg1(login=None),
        pkg2(app="./Apps/App1/Install", meta=META)
        .replace(POLICY.encode(), b"./Settings/Camera")
        .replace(OLD.encode(), b"./Settings/Old")
        .replace(SYNC_VERSION.encode(), b"./Settings/Version"),
    )
    dm.exchange(
        pkg3(),
        message(
            "12",
            2,
            status(1, 2, 0, "SyncHdr", 200) + command("Get", 11, item("./Vendor/MSFT/DeviceStatus/OS/Mode")),
            to_server=False,
            device=GUID,
        ),
    )
    dm.exchange(
        message(
            "12",
            3,
            status(1, 2, 0, "SyncHdr", 200) + status(2, 2, 11, "Get", 404),
            to_server=True,
            device=GUID,
        ),
        message("12", 3, status(1, 3, 0, "SyncHdr", 200), to_server=False, device=GUID),
    )
    out = b.end()
    (s,) = out.sessions
    assert (
        s.dm is not None
        and s.dm.windows == f"Get of ./Vendor/MSFT/DeviceStatus/OS/Mode in frame {s.messages[3].frame}"
    )
    # The LocURIs addressed before the sign count in the scopes as well, in the order they came.
    c1, s1, s2 = s.messages[0].frame, s.messages[1].frame, s.messages[3].frame
    assert [(t.scope, t.csp, t.commands, t.frames) for t in s.dm.scopes] == [
        ("device", "DevInfo", {"Replace": 5}, [c1]),
        ("device", "Apps", {"Add": 1, "Replace": 1}, [s1]),
        ("device", "Settings", {"Replace": 2, "Delete": 1}, [s1]),
        ("device", "DeviceStatus", {"Get": 1}, [s2]),
    ]
    assert s.dm.scopes[2].uris == ["./Settings/Camera", "./Settings/Old", "./Settings/Version"]
    got = codes(out)
    for code in (
        "omadm.atomic-add-then-replace",
        "omadm.cmdid-missing-not-400",
        "omadm.nested-atomic-codes",
        "omadm.synchdr-meta-ignored",
    ):
        assert code in got


def test_windows_facts_in_the_session_record_and_the_text_report() -> None:
    b, dm = book()
    dm.exchange(pkg1(), pkg2())
    dm.exchange(pkg3(), pkg4())
    # The next session, after SyncApplicationVersion 2.0: a 2-byte SessionID, the user logged in, and a
    # Generic Alert asking to unenroll.
    unenroll = typed_alert(
        4, 1226, "com.microsoft:mdm.unenrollment.userrequest", "1", fmt="int", source="./Vendor/MSFT/DMClient"
    )
    dm.exchange(
        message(
            "A1B2",
            1,
            alert(1, 1201) + login_status(2, "user") + devinfo(3) + unenroll,
            to_server=True,
            device=GUID,
        ),
        message(
            "A1B2",
            1,
            status(1, 1, 0, "SyncHdr", 200)
            + status(2, 1, 1, "Alert", 200)
            + status(3, 1, 2, "Alert", 200)
            + status(4, 1, 3, "Replace", 200)
            + status(5, 1, 4, "Alert", 200),
            to_server=False,
            device=GUID,
        ),
    )
    out = b.end()
    first, second = out.sessions
    assert first.dm is not None and second.dm is not None
    c1 = first.messages[0].frame
    assert (first.dm.windows, first.dm.login_state, first.dm.login_frame, first.dm.session_id_form) == (
        f"Alert 1224 com.microsoft/MDM/LoginStatus in frame {c1}",
        "others",
        c1,
        "decimal",
    )
    s1 = first.messages[1].frame
    assert [(t.scope, t.csp, t.commands) for t in first.dm.scopes] == [
        ("device", "DevInfo", {"Replace": 5}),
        ("user", "EnterpriseModernAppManagement", {"Add": 1, "Replace": 1}),
        ("device", "Policy", {"Replace": 1, "Delete": 1}),
        ("device", "DMClient", {"Replace": 1}),
    ]
    assert first.dm.scopes[1] == TargetScope(
        "user", "EnterpriseModernAppManagement", {"Add": 1, "Replace": 1}, [APP], [s1]
    )
    assert first.dm.generic_alerts == []
    assert (second.dm.login_state, second.dm.session_id_form) == ("user", "hex")
    c1b = second.messages[0].frame
    assert second.dm.generic_alerts == [
        GenericAlert(
            "com.microsoft:mdm.unenrollment.userrequest",
            "int",
            "1",
            "./Vendor/MSFT/DMClient",
            c1b,
            "to_server",
        )
    ]
    rec = session_record(second)
    assert rec["dm"]["login_state"] == "user"
    assert rec["dm"]["generic_alerts"] == [
        {
            "type": "com.microsoft:mdm.unenrollment.userrequest",
            "format": "int",
            "data": "1",
            "source": "./Vendor/MSFT/DMClient",
            "frame": c1b,
            "direction": "to_server",
        }
    ]
    assert session_record(first)["dm"]["scopes"][1] == {
        "scope": "user",
        "csp": "EnterpriseModernAppManagement",
        "commands": {"Add": 1, "Replace": 1},
        "uris": [APP],
        "frames": [s1],
    }
    text = session_text(first, first.start)
    assert (
        f"    Windows MDM client (Alert 1224 com.microsoft/MDM/LoginStatus in frame {c1}), login 'others' "
        f"(frame {c1}), SessionID in decimal form\n" in text
    )
    assert "    ./User: EnterpriseModernAppManagement (Add, Replace)\n" in text
    assert "    ./Device: DevInfo (Replace×5); Policy (Replace, Delete); DMClient (Replace)\n" in text
    text2 = session_text(second, second.start)
    assert "SessionID in 2-byte (hex) form" in text2
    assert f"    generic alert com.microsoft:mdm.unenrollment.userrequest '1' (frame {c1b})\n" in text2


def test_generic_alerts_are_recorded_for_any_device() -> None:
    b, dm = book()
    fumo = typed_alert(
        3,
        1226,
        "org.openmobilealliance.dm.firmwareupdate.devicerequest",
        "0",
        fmt="int",
        source="./FwUpdate/1",
    )
    dm.exchange(
        message("1A", 1, alert(1, 1201) + devinfo(2) + fumo, to_server=True),
        message(
            "1A",
            1,
            status(1, 1, 0, "SyncHdr", 200)
            + status(2, 1, 1, "Alert", 200)
            + status(3, 1, 2, "Replace", 200)
            + status(4, 1, 3, "Alert", 200),
            to_server=False,
        ),
    )
    out = b.end()
    s = out.sessions[0]
    assert s.dm is not None and s.dm.windows is None and s.dm.scopes == []
    assert [g.type for g in s.dm.generic_alerts] == ["org.openmobilealliance.dm.firmwareupdate.devicerequest"]
    assert codes(out) == []
    assert "Windows" not in session_text(s, s.start)


def test_sessions_without_windows_facts_or_generic_alerts_have_none() -> None:
    b, dm = book()
    dm.exchange(
        message("1A", 1, alert(1, 1201) + devinfo(2), to_server=True),
        message(
            "1A",
            1,
            status(1, 1, 0, "SyncHdr", 200) + status(2, 1, 1, "Alert", 200) + status(3, 1, 2, "Replace", 200),
            to_server=False,
        ),
    )
    s = b.end().sessions[0]
    assert s.dm is None and "dm" not in session_record(s)
