"""The NAT path of TR-069 Annex G, end to end, on the device record: STUN Binding Request →
MAPPED-ADDRESS → UDPConnectionRequestAddress reported → UDP connection request → the
"6 CONNECTION REQUEST" session; and the findings when the chain breaks."""

from __future__ import annotations

from dmsniff.report.records import device_record
from dmsniff.report.text import nat_path_line
from dmsniff.sessions.cwmp import CR_WINDOW
from dmsniff.sessions.model import NAT_STEPS, Device
from tests.dmsniff.sessions.playbook import (
    Collector,
    Playbook,
    codes,
    gpv_response,
    inform,
    rpc,
    stun_request,
    stun_response,
    udp_cr,
)

INFORM_RESP = rpc("InformResponse", "1", "<MaxEnvelopes>1</MaxEnvelopes>")
MS = "InternetGatewayDevice.ManagementServer."
UDP_ADDR = MS + "UDPConnectionRequestAddress"
NAT = MS + "NATDetected"
ACS, STUN_PORT = "198.51.100.1", 3478
PUBLIC = "203.0.113.5"  # the NAT's public side
CPE = f"{PUBLIC}:40000"  # where the CPE's TCP sessions come from


def session(
    pb: Playbook, events: tuple[str, ...], params: tuple[tuple[str, str], ...] = (), **kw: object
) -> None:
    conn = f"C{pb.frame + 1}"
    pb.post(inform(events=events, params=params), answer=INFORM_RESP, conn=conn, client=CPE, **kw)  # type: ignore[arg-type]
    pb.post(b"", status=204, conn=conn, client=CPE)


def device(out: Collector) -> Device:
    [dev] = [d for d in out.devices if d.id == "00AA11-Box-SN1"]
    return dev


def steps(dev: Device, i: int = -1) -> dict[str, tuple[str | None, list[int], str | None]]:
    return {st.kind: (st.address, st.frames, st.ref) for st in dev.nat_path[i].steps}


def test_the_whole_path_on_the_acs_side() -> None:
    pb = Playbook()
    req = pb.datagram(stun_request(), PUBLIC, 7000, ACS, STUN_PORT)  # frame 1
    resp = pb.datagram(stun_response(PUBLIC, 7000), ACS, STUN_PORT, PUBLIC, 7000)  # frame 2
    session(pb, ("4 VALUE CHANGE",), ((UDP_ADDR, f"{PUBLIC}:7000"), (NAT, "true")))  # frames 3-6
    copies = [
        pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=i) for i in (20, 1, 1)
    ]
    session(pb, ("6 CONNECTION REQUEST",))  # frames 10-13
    out = pb.end()
    assert codes(out) == []
    dev = device(out)
    [path] = dev.nat_path
    assert (path.address, path.complete, path.missing) == (f"{PUBLIC}:7000", True, [])
    assert [st.kind for st in path.steps] == list(NAT_STEPS)
    s1, s2 = out.sessions
    assert steps(dev) == {
        "stun-request": (f"{PUBLIC}:7000", [1], req.id),
        "stun-response": (f"{PUBLIC}:7000", [2], resp.id),
        "reported": (f"{PUBLIC}:7000", [3], s1.id),
        "udp-connection-request": (f"{PUBLIC}:7000", [d.frame for d in copies], copies[0].id),
        "session": (None, [10], s2.id),
    }
    reported = path.steps[2]
    assert reported.note == "Inform (4 VALUE CHANGE), NATDetected=true"
    [b] = dev.stun
    assert (b.mapped_address, b.response, b.response_frame) == (f"{PUBLIC}:7000", resp.id, 2)
    # In the report: the JSON device record and the text device line.
    assert device_record(dev)["nat_path"] == dev.nat_path
    assert nat_path_line(path) == (
        f"{PUBLIC}:7000: STUN request (frame 1) → mapped {PUBLIC}:7000 (frame 2) → reported in {s1.id} "
        f"(frame 3) → UDP connection request ×3 (frames 7, 8, 9) → session {s2.id} (frame 10)"
    )


def test_the_address_reported_in_a_get_parameter_values_response() -> None:
    pb = Playbook()
    pb.datagram(stun_request(), PUBLIC, 7000, ACS, STUN_PORT)
    pb.datagram(stun_response(PUBLIC, 7000), ACS, STUN_PORT, PUBLIC, 7000)
    gpv = rpc("GetParameterValues", "a1", f"<ParameterNames><string>{UDP_ADDR}</string></ParameterNames>")
    pb.post(inform(events=("2 PERIODIC",)), answer=INFORM_RESP, client=CPE)
    pb.post(b"", answer=gpv, client=CPE)
    answer = pb.post(gpv_response(((UDP_ADDR, f"{PUBLIC}:7000"),)), status=204, client=CPE)
    pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=5)
    session(pb, ("6 CONNECTION REQUEST",))
    out = pb.end()
    dev = device(out)
    assert dev.nat_path[0].complete and codes(out) == []
    assert steps(dev)["reported"][1] == [answer.request.frame]  # type: ignore[union-attr]
    assert dev.nat_path[0].steps[2].note == "GetParameterValuesResponse"
    assert dev.udp_connection_request_address == f"{PUBLIC}:7000"


def test_the_path_captured_inside_the_nat() -> None:
    """On the LAN side the CPE's private address is the Binding Request's source and the UDP
    request's destination; the mapped, reported and request-line address is the public one."""
    pb = Playbook()
    lan, public = "192.168.1.2:7000", f"{PUBLIC}:41000"
    pb.datagram(stun_request(txid=bytes(12)), "192.168.1.2", 7000, ACS, STUN_PORT)
    pb.datagram(stun_response(PUBLIC, 41000, txid=bytes(12)), ACS, STUN_PORT, "192.168.1.2", 7000)  # XOR
    kw = {"client": "192.168.1.2:50000"}
    pb.post(inform(events=("4 VALUE CHANGE",), params=((UDP_ADDR, public),)), answer=INFORM_RESP, **kw)
    pb.post(b"", status=204, **kw)  # type: ignore[arg-type]
    pb.datagram(udp_cr(public), ACS, STUN_PORT, "192.168.1.2", 7000, advance=5)
    pb.post(inform(events=("6 CONNECTION REQUEST",)), answer=INFORM_RESP, conn="C2", **kw)  # type: ignore[arg-type]
    pb.post(b"", status=204, conn="C2", **kw)  # type: ignore[arg-type]
    out = pb.end()
    assert codes(out) == []
    dev = device(out)
    [path] = dev.nat_path
    assert path.complete and path.address == lan
    got = steps(dev)
    assert (got["stun-request"][0], got["stun-response"][0], got["reported"][0]) == (lan, public, public)
    assert path.steps[1].note == f"the NAT maps {lan} to it"
    assert path.steps[3].note == f"request line names {public}"
    assert out.sessions[1].connection_requests[0].stun_binding == "U1"


def test_udp_connection_request_to_an_address_never_reported() -> None:
    pb = Playbook()
    session(pb, ("1 BOOT",), ((UDP_ADDR, f"{PUBLIC}:7000"),))
    sent = pb.datagram(udp_cr(f"{PUBLIC}:7001"), ACS, STUN_PORT, PUBLIC, 7001, advance=5)  # a stale port
    session(pb, ("6 CONNECTION REQUEST",))
    out = pb.end()
    [f] = out.findings
    assert (f.code, f.severity) == ("cwmp.udp-connection-request-unreported-address", "warning")
    assert f.frames == [sent.frame, 1] and f.session == out.sessions[1].id
    assert f"{PUBLIC}:7001" in f.message and "00AA11-Box-SN1 never reported" in f.message
    assert f"{PUBLIC}:7000 (frame 1)" in f.message
    dev = device(out)
    # Two paths: the request's (nothing reported for it), and the reported address no request reached.
    assert [p.address for p in dev.nat_path] == [f"{PUBLIC}:7001", f"{PUBLIC}:7000"]
    assert dev.nat_path[0].missing == ["stun-request", "stun-response", "reported"]
    assert dev.nat_path[1].missing == ["stun-request", "stun-response", "udp-connection-request", "session"]


def test_udp_connection_request_to_the_reported_address_or_none_reported() -> None:
    for reported in ((UDP_ADDR, f"{PUBLIC}:7000"),), ():
        pb = Playbook()
        session(pb, ("1 BOOT",), reported)
        pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=5)
        session(pb, ("6 CONNECTION REQUEST",))
        out = pb.end()
        assert codes(out) == [], reported
        # Without a report the path says so rather than accuse the ACS: the capture may have
        # begun after the device reported it.
        assert device(out).nat_path[0].missing == ["stun-request", "stun-response"] + (
            [] if reported else ["reported"]
        )


def test_udp_connection_request_never_answered() -> None:
    pb = Playbook()
    session(pb, ("1 BOOT",), ((UDP_ADDR, f"{PUBLIC}:7000"),))
    copies = [
        pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=3) for _ in range(3)
    ]
    session(pb, ("2 PERIODIC",), advance=CR_WINDOW + 20)
    out = pb.end()
    [f] = out.findings
    assert f.code == "cwmp.connection-request-without-session"
    assert f.frames == [d.frame for d in copies]
    assert f"sent 3 times, the last in frame {copies[-1].frame}" in f.message
    assert "within 60 s of its last copy" in f.message
    assert device(out).nat_path[0].missing == ["stun-request", "stun-response", "session"]


def test_the_window_counts_from_the_last_copy() -> None:
    pb = Playbook()
    session(pb, ("1 BOOT",), ((UDP_ADDR, f"{PUBLIC}:7000"),))
    pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=5)
    pb.datagram(udp_cr(f"{PUBLIC}:7000"), ACS, STUN_PORT, PUBLIC, 7000, advance=9)
    # The session starts more than CR_WINDOW after the first copy, within it of the last.
    session(pb, ("6 CONNECTION REQUEST",), advance=CR_WINDOW - 5)
    out = pb.end()
    assert codes(out) == []
    [cr] = out.sessions[1].connection_requests
    assert cr.copies == 2 and device(out).nat_path[0].missing == ["stun-request", "stun-response"]


def test_binding_change_and_a_new_address() -> None:
    """After a NAT rebinding the CPE reports its new address; the ACS's request to it is on the new path."""
    pb = Playbook()
    pb.datagram(stun_request(), PUBLIC, 7000, ACS, STUN_PORT)
    pb.datagram(stun_response(PUBLIC, 7000), ACS, STUN_PORT, PUBLIC, 7000)
    session(pb, ("1 BOOT",), ((UDP_ADDR, f"{PUBLIC}:7000"),))
    txid = bytes(range(1, 17))
    pb.datagram(stun_request(txid, binding_change=True), PUBLIC, 7002, ACS, STUN_PORT, advance=30)
    pb.datagram(stun_response(PUBLIC, 7002, txid), ACS, STUN_PORT, PUBLIC, 7002)
    session(pb, ("4 VALUE CHANGE",), ((UDP_ADDR, f"{PUBLIC}:7002"),))
    pb.datagram(udp_cr(f"{PUBLIC}:7002"), ACS, STUN_PORT, PUBLIC, 7002, advance=5)
    session(pb, ("6 CONNECTION REQUEST",))
    out = pb.end()
    assert codes(out) == []
    dev = device(out)
    [path] = dev.nat_path  # the old address is superseded: only the latest report gets a partial path
    assert path.complete and path.address == f"{PUBLIC}:7002"
    assert path.steps[0].note == "USERNAME 'stunuser', CONNECTION-REQUEST-BINDING, BINDING-CHANGE"
    assert [b.source for b in dev.stun] == [f"{PUBLIC}:7000", f"{PUBLIC}:7002"]


def test_no_nat_path_without_udp() -> None:
    pb = Playbook()
    session(pb, ("1 BOOT",))
    out = pb.end()
    assert device(out).nat_path == [] and device_record(device(out))["nat_path"] == []


def test_an_address_reported_only_after_the_request_was_still_reported() -> None:
    pb = Playbook()
    session(pb, ("1 BOOT",), ((UDP_ADDR, f"{PUBLIC}:7000"),))
    sent = pb.datagram(udp_cr(f"{PUBLIC}:7001"), ACS, STUN_PORT, PUBLIC, 7001, advance=5)
    session(pb, ("6 CONNECTION REQUEST",))
    session(pb, ("4 VALUE CHANGE",), ((UDP_ADDR, f"{PUBLIC}:7001"),), advance=10)  # the capture missed
    out = pb.end()  # the first report of 7001 (it came before the capture began): not the ACS's fault
    assert codes(out) == []
    path = device(out).nat_path[0]
    assert path.address == f"{PUBLIC}:7001" and path.steps[0].kind == "reported"
    assert path.steps[0].note == "Inform (4 VALUE CHANGE) (after the request)"
    assert path.steps[1].frames == [sent.frame]
