"""CWMP session building and rule checks, one behaviour per test, driven by a playbook."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from dmsniff.sessions.cwmp import CR_WINDOW, RECONNECT_GRACE, RULES, SESSION_IDLE
from dmsniff.sessions.labels import conversation
from tests.dmsniff.sessions.playbook import Playbook, codes, envelope, fault, inform, rpc

GPV = rpc("GetParameterValues", "a1", "<ParameterNames><string>D.X</string></ParameterNames>")
GPV_RESP = rpc(
    "GetParameterValuesResponse",
    "a1",
    "<ParameterList><ParameterValueStruct><Name>D.X</Name><Value>7</Value>"
    "</ParameterValueStruct></ParameterList>",
)
INFORM_RESP = rpc("InformResponse", "1", "<MaxEnvelopes>1</MaxEnvelopes>")
CR_URL = "InternetGatewayDevice.ManagementServer.ConnectionRequestURL"


def normal_session(pb: Playbook, conn: str = "C1", cookie: str = "session=abc", **inform_kw: object) -> None:
    pb.post(inform(**inform_kw), answer=INFORM_RESP, set_cookie=f"{cookie}; Path=/", conn=conn)  # type: ignore[arg-type]
    pb.post(b"", answer=GPV, cookie=cookie, conn=conn)
    pb.post(GPV_RESP, status=204, cookie=cookie, conn=conn)


def test_normal_session_has_no_findings() -> None:
    pb = Playbook()
    normal_session(pb)
    out = pb.end()
    [s] = out.sessions
    assert s.end_reason == "204"
    assert s.device_id == "00AA11-Box-SN1"
    assert [m.kind for m in s.messages] == [
        "Inform",
        "InformResponse",
        "empty",
        "GetParameterValues",
        "GetParameterValuesResponse",
        "empty",
    ]
    assert [m.direction for m in s.messages] == ["to_server", "to_client"] * 3
    assert conversation(s) == (
        "Inform(1 BOOT) → InformResponse → (empty) → GetParameterValues[1] → "
        "GetParameterValuesResponse[1] → 204"
    )
    assert codes(out) == []
    [dev] = out.devices
    assert [(p.name, p.value, p.source) for p in dev.parameters] == [
        ("D.X", "7", "GetParameterValuesResponse")
    ]


def test_every_rule_has_a_severity_and_reference() -> None:
    for code, rule in RULES.items():
        assert code.startswith("cwmp.")
        assert rule.severity in ("error", "warning", "info")
        assert rule.reference.startswith("TR-069")


def test_empty_post_with_a_body() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(envelope("", cwmp_id=None), status=204)
    out = pb.end()
    assert out.sessions[0].messages[2].kind == "empty"
    assert codes(out) == ["cwmp.empty-post-with-body"]


def test_rpc_before_inform() -> None:
    pb = Playbook()
    pb.post(b"", answer=GPV)
    pb.post(GPV_RESP, status=204)
    out = pb.end()
    [s] = out.sessions
    assert s.device_id is None
    assert codes(out) == ["cwmp.rpc-before-inform"]
    assert s.end_reason == "204"


def test_unanswered_acs_request() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=GPV)
    pb.post(b"", status=204)  # the CPE sends an empty POST instead of GetParameterValuesResponse
    out = pb.end()
    assert codes(out) == ["cwmp.unanswered-request"]
    assert out.sessions[0].findings[0].frames == [4, 5]


def test_request_pending_when_the_session_ends() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=GPV)
    out = pb.end()
    assert codes(out) == ["cwmp.unanswered-request", "cwmp.session-not-ended-by-204"]
    assert out.sessions[0].end_reason == "capture-end"


def test_cwmp_id_mismatch() -> None:
    pb = Playbook()
    pb.post(inform(cwmp_id="7"), answer=rpc("InformResponse", "8", "<MaxEnvelopes>1</MaxEnvelopes>"))
    pb.post(b"", status=204)
    out = pb.end()
    assert codes(out) == ["cwmp.id-mismatch"]
    assert "'8'" in out.sessions[0].findings[0].message


def test_cpe_fault_and_acs_fault() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=rpc("Reboot", "a2", "<CommandKey>r</CommandKey>"))
    pb.post(fault(9001, "a2"), status=204)
    pb.post(inform(cwmp_id="9"), answer=fault(8005, "9"), conn="C2")
    pb.post(b"", status=204, conn="C2")
    out = pb.end()
    assert codes(out) == ["cwmp.cpe-fault", "cwmp.acs-fault"]
    assert "9001" in out.sessions[0].findings[0].message
    assert "8005" in out.sessions[1].findings[0].message
    assert conversation(out.sessions[0]).endswith("Reboot → Fault 9001 → 204")


def test_200_with_empty_body_ends_the_session_with_an_info() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", status=200)
    out = pb.end()
    assert out.sessions[0].end_reason == "200-empty"
    [f] = out.sessions[0].findings
    assert (f.code, f.severity) == ("cwmp.session-not-ended-by-204", "info")


def test_connection_closed_without_204() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.close("C1")
    pb.post(inform(serial="OTHER"), answer=INFORM_RESP, conn="C9", advance=RECONNECT_GRACE + 10)
    out = pb.end()
    first = out.sessions[0]
    assert first.end_reason == "connection-closed"
    assert [f.code for f in first.findings] == ["cwmp.session-not-ended-by-204"]


def test_timeout() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(inform(serial="OTHER"), answer=INFORM_RESP, conn="C9", advance=SESSION_IDLE + 10)
    out = pb.end()
    assert out.sessions[0].end_reason == "timeout"


def test_new_inform_before_204_starts_a_new_session() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(inform(cwmp_id="2"), answer=rpc("InformResponse", "2", "<MaxEnvelopes>1</MaxEnvelopes>"))
    pb.post(b"", status=204)
    out = pb.end()
    assert [s.end_reason for s in out.sessions] == ["new-session", "204"]


def test_hold_requests_ignored() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    hold = '<cwmp:HoldRequests soap:mustUnderstand="1">1</cwmp:HoldRequests>'
    pb.post(b"", answer=rpc("GetRPCMethods", "a1", header_extra=hold))
    pb.post(
        rpc("GetRPCMethodsResponse", "a1", "<MethodList></MethodList>"), answer=rpc("GetRPCMethods", "a2")
    )
    # An ACS request with HoldRequests=true, then a CPE request: the rule is broken.
    pb.post(
        rpc("GetRPCMethodsResponse", "a2", "<MethodList></MethodList>"),
        answer=rpc("GetRPCMethods", "a3", header_extra=hold),
    )
    pb.post(rpc("GetRPCMethodsResponse", "a3", "<MethodList></MethodList>"), answer=INFORM_RESP)
    out = pb.end()
    assert "cwmp.hold-requests-ignored" not in codes(out)

    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=rpc("InformResponse", "x", header_extra=hold))  # odd, but carries the flag
    pb.post(
        rpc(
            "TransferComplete",
            "t1",
            "<CommandKey>k</CommandKey><FaultStruct><FaultCode>0</FaultCode>"
            "<FaultString></FaultString></FaultStruct>",
        ),
        answer=rpc("TransferCompleteResponse", "t1"),
    )
    out = pb.end()
    assert "cwmp.hold-requests-ignored" in codes(out)


def test_cookie_carries_the_session_to_a_new_connection() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, set_cookie="session=abc; Path=/")
    pb.close("C1")
    # genieacs-sim echoes the cookie's attributes; devices may join cookies with ",".
    pb.post(b"", answer=GPV, conn="C2", cookie="session=abc; Path=/", client="10.0.0.2:40001")
    pb.post(GPV_RESP, status=204, conn="C2", cookie="other=1, session=abc", client="10.0.0.2:40001")
    out = pb.end()
    [s] = out.sessions
    assert s.connections == ["C1", "C2"]
    assert s.end_reason == "204"
    assert codes(out) == []


def test_authenticated_retry_on_a_new_connection_continues_the_session() -> None:
    pb = Playbook()
    pb.post(inform(), status=401)
    pb.close("C1")
    pb.post(inform(), answer=INFORM_RESP, conn="C2")
    pb.post(b"", status=204, conn="C2")
    out = pb.end()
    [s] = out.sessions
    assert [m.kind for m in s.messages] == ["Inform", "empty", "Inform", "InformResponse", "empty", "empty"]
    assert "auth challenge" in s.messages[1].notes
    assert "retry after auth challenge" in s.messages[2].notes
    assert conversation(s).startswith("Inform(1 BOOT) → 401 challenge → Inform(1 BOOT) → InformResponse")
    assert codes(out) == []


TC = (
    "<CommandKey>dl-1</CommandKey><FaultStruct><FaultCode>0</FaultCode><FaultString></FaultString>"
    "</FaultStruct><StartTime>2026-01-01T00:00:00Z</StartTime><CompleteTime>2026-01-01T00:00:01Z</CompleteTime>"
)
DOWNLOAD = rpc(
    "Download",
    "d1",
    "<CommandKey>dl-1</CommandKey><FileType>1 Firmware Upgrade Image</FileType>"
    "<URL>http://acs/fw</URL><Username></Username><Password></Password><FileSize>1</FileSize>"
    "<TargetFileName></TargetFileName><DelaySeconds>0</DelaySeconds><SuccessURL></SuccessURL>"
    "<FailureURL></FailureURL>",
)
DOWNLOAD_RESP = rpc(
    "DownloadResponse",
    "d1",
    "<Status>1</Status><StartTime>0001-01-01T00:00:00Z</StartTime>"
    "<CompleteTime>0001-01-01T00:00:00Z</CompleteTime>",
)


def _download_then(events: tuple[str, ...], keys: dict[str, str] | None = None) -> list[str]:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=DOWNLOAD)
    pb.post(DOWNLOAD_RESP, status=204)
    pb.post(inform(events=events, command_keys=keys), answer=INFORM_RESP, conn="C2", advance=5)
    pb.post(rpc("TransferComplete", "t1", TC), answer=rpc("TransferCompleteResponse", "t1"), conn="C2")
    pb.post(b"", status=204, conn="C2")
    return codes(pb.end())


def test_transfer_complete_needs_its_events() -> None:
    assert _download_then(("6 CONNECTION REQUEST",)) == [
        "cwmp.transfer-complete-event-missing",
        "cwmp.m-download-event-missing",
    ]
    assert _download_then(("7 TRANSFER COMPLETE",)) == ["cwmp.m-download-event-missing"]
    assert _download_then(("7 TRANSFER COMPLETE", "M Download"), {"M Download": "dl-1"}) == []


def test_download_without_transfer_complete_is_noted() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=DOWNLOAD)
    pb.post(DOWNLOAD_RESP, status=204)
    out = pb.end()
    [f] = out.findings
    assert (f.code, f.severity, f.session) == ("cwmp.transfer-complete-missing", "info", "S1")


def test_http_connection_request_is_linked_to_the_session_it_causes() -> None:
    pb = Playbook()
    normal_session(pb, params=((CR_URL, "http://10.0.0.2:30005/cr"),))
    cr = pb.post(
        method="GET", uri="/cr", conn="C5", client="10.0.0.1:50000", server="10.0.0.2:30005", advance=20
    )
    normal_session(pb, conn="C6", cookie="session=def", events=("6 CONNECTION REQUEST",))
    out = pb.end()
    assert len(out.sessions) == 2
    [link] = out.sessions[1].connection_requests
    assert (link.kind, link.id, link.status, link.device) == ("http", cr.id, 200, "00AA11-Box-SN1")
    assert out.devices[0].connection_requests == [cr.id]
    assert codes(out) == []


def test_connection_request_without_a_session() -> None:
    pb = Playbook()
    normal_session(pb, params=((CR_URL, "http://10.0.0.2:30005/cr"),))
    pb.post(method="GET", uri="/cr", conn="C5", client="10.0.0.1:50000", server="10.0.0.2:30005", advance=1)
    pb.post(
        inform(serial="OTHER", events=("2 PERIODIC",)),
        answer=INFORM_RESP,
        conn="C7",
        client="10.0.0.9:1",
        advance=CR_WINDOW + 10,
    )
    out = pb.end()
    assert "cwmp.connection-request-without-session" in [f.code for f in out.findings]


def test_get_to_unknown_url_is_a_connection_request_only_if_a_session_follows() -> None:
    pb = Playbook()
    pb.post(method="GET", uri="/", conn="C5", client="10.0.0.1:50000", server="10.0.0.2:7777")
    pb.post(method="GET", uri="/x", conn="C8", client="10.0.0.1:50001", server="10.0.0.3:7777")
    normal_session(pb, events=("6 CONNECTION REQUEST",))
    out = pb.end()
    assert [cr.id for cr in out.sessions[0].connection_requests] == ["C5.1"]
    assert codes(out) == []


def test_a_binding_no_device_claims_is_listed_under_its_username() -> None:
    from tests.dmsniff.sessions.playbook import stun_request

    pb = Playbook()
    pb.datagram(stun_request(username=b"lonely00"), "10.0.0.7", 7000, "10.0.0.1", 3478)
    out = pb.end()
    assert [(d.id, [b.username for b in d.stun]) for d in out.devices] == [("stun:lonely00", ["lonely00"])]


def test_udp_connection_request_with_copies_and_stun_binding() -> None:
    import struct

    pb = Playbook()
    binding = (
        struct.pack("!HH", 0x0001, 24 + 12)
        + bytes(range(16))
        + struct.pack("!HH", 0xC001, 20)
        + b"dslforum.org/TR-111 "
        + struct.pack("!HH", 0x0006, 8)
        + b"stunuser"
    )
    stun_dg = pb.datagram(binding, "10.0.0.2", 7000, "10.0.0.1", 3478)
    udp_cr = (
        b"GET http://10.0.0.2:7000?ts=1700000000&id=1&un=cruser&cn=abc&sig="
        + b"0" * 40
        + b" HTTP/1.1\r\nHost: 10.0.0.2:7000\r\n\r\n"
    )
    first = pb.datagram(udp_cr, "10.0.0.1", 3478, "10.0.0.2", 7000)
    for _ in range(2):
        pb.datagram(udp_cr, "10.0.0.1", 3478, "10.0.0.2", 7000)
    normal_session(pb, events=("6 CONNECTION REQUEST",))
    out = pb.end()
    [cr] = out.sessions[0].connection_requests
    assert (cr.kind, cr.id, cr.copies, cr.stun_binding) == ("udp", first.id, 3, stun_dg.id)
    assert cr.frames == [first.frame, first.frame + 1, first.frame + 2]
    # The binding came before any Inform from that address; the request it opened, answered by the
    # device's session, makes it the device's (not a "stun:" device of its own).
    stun_devices = [d for d in out.devices if d.stun]
    assert [(d.id, b.username) for d in stun_devices for b in d.stun] == [("00AA11-Box-SN1", "stunuser")]


def test_set_parameter_values_are_recorded_as_changes() -> None:
    pb = Playbook()
    pb.post(inform(params=(("D.Y", "1"),)), answer=INFORM_RESP)
    spv = rpc(
        "SetParameterValues",
        "s1",
        "<ParameterList><ParameterValueStruct><Name>D.Y</Name>"
        "<Value>2</Value></ParameterValueStruct></ParameterList><ParameterKey>k</ParameterKey>",
    )
    pb.post(b"", answer=spv)
    pb.post(rpc("SetParameterValuesResponse", "s1", "<Status>0</Status>"), status=204)
    out = pb.end()
    assert [(p.value, p.source) for p in out.devices[0].parameters] == [
        ("1", "Inform"),
        ("2", "SetParameterValues"),
    ]


# -- property: any sequence of exchanges, in any state, is handled without an exception ------------

_REQUESTS = [
    b"",
    inform(),
    inform(events=("6 CONNECTION REQUEST",)),
    GPV_RESP,
    fault(9002, "a1"),
    envelope(""),
    b"<html>not xml",
    rpc("TransferComplete", "t", TC),
    b"<soap:Envelope",
]
_ANSWERS = [b"", INFORM_RESP, GPV, DOWNLOAD, fault(8000), b"<html>401</html>"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(_REQUESTS),
            st.sampled_from([200, 204, 401, 403]),
            st.sampled_from(_ANSWERS),
            st.sampled_from(["C1", "C2"]),
            st.sampled_from([None, "session=abc"]),
            st.booleans(),
            st.sampled_from([0.0, 1.0, 100.0]),
        ),
        max_size=12,
    )
)
def test_any_sequence_of_exchanges_builds_sessions(
    steps: list[tuple[bytes, int, bytes, str, str | None, bool, float]],
) -> None:
    pb = Playbook()
    for body, status, answer, conn, cookie, close, gap in steps:
        pb.post(body, status=status, answer=answer, conn=conn, cookie=cookie, set_cookie=cookie, advance=gap)
        if close:
            pb.close(conn)
    out = pb.end()
    ids = [s.id for s in out.sessions]
    assert len(ids) == len(set(ids))
    for s in out.sessions:
        assert s.end_reason is not None
        assert s.messages
    # Every POST that carried CWMP, or followed CWMP on its connection, is in exactly one session.
    frames = [m.frame for s in out.sessions for m in s.messages]
    assert len(frames) == len(set(frames))


# -- issue 16: the ACS refusing a device, cookies, Digest nc ----------------------------------------


def test_403_to_an_inform_names_the_device() -> None:
    pb = Playbook()
    pb.post(inform(), status=403)
    pb.close("C1")
    out = pb.end()
    [s] = out.sessions
    [f] = s.findings  # not also "unanswered" nor "not ended by 204": the ACS ended it on purpose
    assert (f.code, f.severity, f.frames) == ("cwmp.inform-refused", "warning", [1, 2])
    assert "00AA11-Box-SN1" in f.message and "'Acme'" in f.message and "403 Forbidden" in f.message


def test_403_to_another_post_is_not_a_refused_inform() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", status=403)
    out = pb.end()
    assert "cwmp.inform-refused" not in codes(out)
    pb = Playbook()
    normal_session(pb)
    assert codes(pb.end()) == []


def test_cookie_not_sent_back() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, set_cookie="session=abc; Path=/")
    pb.post(b"", answer=GPV)  # no Cookie
    pb.post(GPV_RESP, status=204, cookie="session=old")  # another value
    out = pb.end()
    [f] = out.sessions[0].findings
    assert f.code == "cwmp.cookie-not-returned"
    assert f.frames == [2, 3, 5]  # the Set-Cookie, then the two requests without it
    assert "'session=abc'" in f.message and "2 later requests" in f.message
    assert "'session=old' instead" in f.message


def test_cookie_sent_back_or_not_due() -> None:
    # Sent back (also with the attributes echoed, or quoted): nothing to say.
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, set_cookie='session="abc"; Path=/; HttpOnly')
    pb.post(b"", answer=GPV, cookie="session=abc; Path=/")
    pb.post(GPV_RESP, status=204, cookie='x=1; session="abc"')
    assert codes(pb.end()) == []
    # Not due: a cookie for another path, one deleted, one only for HTTPS.
    for set_cookie in (
        "session=abc; Path=/other",
        "session=abc; Max-Age=0",
        "session=abc; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
        "session=abc; Secure",
    ):
        pb = Playbook()
        pb.post(inform(), answer=INFORM_RESP, set_cookie=set_cookie)
        pb.post(b"", status=204)
        assert codes(pb.end()) == [], set_cookie
    # A cookie without Path is for the request's directory (RFC 6265 §5.1.4): /acs/x sets it for /acs.
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, set_cookie="session=abc", uri="/acs/x")
    pb.post(b"", status=204, uri="/other")
    assert codes(pb.end()) == []


def test_cookie_rule_follows_the_session_to_a_new_connection() -> None:
    pb = Playbook()
    pb.post(inform(), status=401, set_cookie="challenge=1")
    pb.close("C1")
    pb.post(inform(), answer=INFORM_RESP, conn="C2")  # the retry, followed by its DeviceId
    pb.post(b"", status=204, conn="C2")
    out = pb.end()
    [s] = out.sessions
    assert s.connections == ["C1", "C2"]
    [f] = s.findings
    assert (f.code, f.frames) == ("cwmp.cookie-not-returned", [2, 3, 5])


def _digest(nc: str, nonce: str = "n1") -> list[tuple[str, str]]:
    return [
        (
            "Authorization",
            f'Digest username="u", realm="acs", nonce="{nonce}", uri="/acs", qop=auth, nc={nc}, '
            'cnonce="c", response="0123456789abcdef0123456789abcdef"',
        )
    ]


def test_digest_nc_must_increase_on_a_connection() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, headers=_digest("00000001"))
    pb.post(b"", answer=GPV, headers=_digest("00000001"))
    pb.post(GPV_RESP, status=204, headers=_digest("00000001"))
    out = pb.end()
    found = out.sessions[0].findings
    assert [f.code for f in found] == ["cwmp.digest-nc-not-increasing"] * 2  # one per offending request
    assert [f.frames for f in found] == [[1, 3], [1, 5]]
    assert "nc 00000001 in frame 3" in found[0].message and "'n1'" in found[0].message


def test_digest_nc_increasing_or_on_another_connection() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP, headers=_digest("00000001"))
    pb.post(b"", answer=GPV, headers=_digest("00000002"))
    pb.post(GPV_RESP, status=204, headers=_digest("00000005"))
    # A new nonce starts again at 1; so may the same nonce on a new connection.
    pb.post(inform(), answer=INFORM_RESP, headers=_digest("00000001", "n2"), conn="C2")
    pb.post(b"", status=204, headers=_digest("00000002", "n2"), conn="C2")
    pb.post(inform(), answer=INFORM_RESP, headers=_digest("00000001", "n2"), conn="C3")
    pb.post(b"", status=204, headers=_digest("00000002", "n2"), conn="C3")
    assert codes(pb.end()) == []


def test_unexpected_response() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    pb.post(b"", answer=GPV)
    pb.post(rpc("RebootResponse", "a1"), answer=rpc("GetRPCMethods", "a2"))  # not what was asked
    pb.post(rpc("GetRPCMethodsResponse", "a2", "<MethodList></MethodList>"), status=204)
    pb.post(inform(cwmp_id="2"), answer=INFORM_RESP, conn="C2")
    pb.post(rpc("SetParameterValuesResponse", "zz", "<Status>0</Status>"), status=204, conn="C2")  # unasked
    out = pb.end()
    assert codes(out).count("cwmp.unexpected-response") == 2
    first, second = [f for s in out.sessions for f in s.findings if f.code == "cwmp.unexpected-response"]
    assert "answered GetParameterValues with RebootResponse" in first.message and first.frames == [4, 5]
    assert "no ACS request is outstanding" in second.message


def test_expected_responses_are_not_unexpected() -> None:
    pb = Playbook()
    normal_session(pb)
    assert "cwmp.unexpected-response" not in codes(pb.end())


def test_decode_error() -> None:
    pb = Playbook()
    pb.post(inform(), answer=INFORM_RESP)
    whole = envelope("<cwmp:GetParameterValuesResponse/>", "a1")
    broken = whole[:whole.index(b"<soap:Body>")] + b"</soap:Envelope>"  # an Envelope without Body
    pb.post(b"", answer=GPV)
    pb.post(broken, status=204)
    out = pb.end()
    assert "cwmp.decode-error" in codes(out)
    (f,) = [f for f in out.sessions[0].findings if f.code == "cwmp.decode-error"]
    assert f.frames and f.severity == "error"


def test_well_formed_messages_are_no_decode_error() -> None:
    pb = Playbook()
    normal_session(pb)
    pb.post(inform(cwmp_id="2"), answer=INFORM_RESP, conn="C2")
    pb.post(b"", status=204, conn="C2")
    assert "cwmp.decode-error" not in codes(pb.end())


def test_each_capture_keeps_its_own_clock() -> None:
    """Captures given together may cover the same hours (two sniffers, the same capture twice).
    A clock carried over from a capture that ended later would hold off the next one's timeouts
    until its time caught up: the same traffic must end its sessions the same way in each."""
    pb = Playbook()
    reasons = []
    for index in range(2):
        pb.builder.capture_start(index, None)
        pb.time = 1000.0
        pb.post(inform(), answer=INFORM_RESP)
        pb.post(inform(serial="OTHER"), answer=INFORM_RESP, conn="C9", advance=SESSION_IDLE + 10)
        pb.end_capture(index)
        reasons.append([s.end_reason for s in pb.out.sessions])
        pb.out.sessions.clear()
    assert reasons[0] == ["timeout", "capture-end"]
    assert reasons[1] == reasons[0]
