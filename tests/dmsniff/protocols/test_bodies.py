"""A request resent after a 401/407 is decoded once: the retry is given the same record."""

from __future__ import annotations

from decoders.cwmp import CwmpMessage, Inform, decode
from dmsniff import protocols
from dmsniff.model import HttpMessage, Transaction
from dmsniff.protocols import parse_bodies

CT = "text/xml; charset=utf-8"


def _inform(serial: str) -> bytes:
    return (
        '<soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:cwmp="urn:dslforum-org:cwmp-1-0"><soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">1'
        "</cwmp:ID></soap-env:Header><soap-env:Body><cwmp:Inform><DeviceId><Manufacturer>M</Manufacturer>"
        f"<OUI>00AA00</OUI><ProductClass>P</ProductClass><SerialNumber>{serial}</SerialNumber></DeviceId>"
        "<Event><EventStruct><EventCode>1 BOOT</EventCode><CommandKey/></EventStruct></Event>"
        "<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime>"
        "<RetryCount>0</RetryCount><ParameterList/></cwmp:Inform></soap-env:Body></soap-env:Envelope>"
    ).encode()


def _post(body: bytes, content_type: str = CT) -> HttpMessage:
    return HttpMessage(frame=1, frames=[1], time=0.0, first_time=0.0, version="HTTP/1.1",
                       headers=[("Content-Type", content_type)], method="POST", uri="/acs",
                       body=body, body_length=len(body))


def _answer(status: int) -> HttpMessage:
    return HttpMessage(frame=2, frames=[2], time=0.0, first_time=0.0, version="HTTP/1.1", headers=[],
                       status=status)


def _exchange(req: HttpMessage, status: int, client: str = "10.0.0.2:5000", capture: int = 0) -> HttpMessage:
    parse_bodies(Transaction("T", capture, "C1", client, "10.0.0.1:7547", req, _answer(status)))
    return req


def _record(msg: HttpMessage) -> CwmpMessage:
    assert isinstance(msg.protocol, CwmpMessage)
    return msg.protocol


def test_the_retry_after_a_challenge_shares_the_record() -> None:
    body = _inform("S1")
    first = _record(_exchange(_post(body), 401))
    retry = _record(_exchange(_post(bytes(body)), 200))  # an equal body, another bytes object
    assert retry is first
    assert retry == decode(body, CT)  # what decoding it again gives
    assert isinstance(retry.rpc, Inform) and retry.rpc.device_id.serial_number == "S1"
    # The entry was used up: the next request with that body is decoded again.
    again = _record(_exchange(_post(body), 200))
    assert again is not first and again == first


def test_the_retry_may_come_on_a_new_connection() -> None:
    body = _inform("S5")
    first = _record(_exchange(_post(body), 401, client="10.0.0.5:5000"))
    assert _record(_exchange(_post(body), 200, client="10.0.0.5:5001")) is first
    first = _record(_exchange(_post(body), 401, client="[2001:db8::5]:5000"))
    assert _record(_exchange(_post(body), 200, client="[2001:db8::5]:5001")) is first


def test_only_the_same_body_and_type_from_the_same_host_after_a_challenge() -> None:
    body = _inform("S2")
    _exchange(_post(body), 401, client="10.0.0.2:1")
    other = _record(_exchange(_post(_inform("S3")), 200, client="10.0.0.2:1"))
    assert isinstance(other.rpc, Inform) and other.rpc.device_id.serial_number == "S3"

    first = _record(_exchange(_post(body), 407, client="10.0.0.3:1"))
    latin1 = _post(body, "text/xml; charset=iso-8859-1")
    assert _record(_exchange(latin1, 200, client="10.0.0.3:1")) is not first
    first = _record(_exchange(_post(body), 401, client="10.0.0.4:1"))
    assert _record(_exchange(_post(body), 200, client="10.0.0.40:1")) is not first  # another host
    assert _record(_exchange(_post(body), 200, client="10.0.0.4:1", capture=1)) is not first  # other capture
    ok = _record(_exchange(_post(body), 200, client="10.0.0.6:1"))
    assert _record(_exchange(_post(body), 200, client="10.0.0.6:1")) is not ok  # no challenge: no reuse


def test_the_table_stays_small() -> None:
    body = _inform("S4")
    for n in range(protocols._CHALLENGED_MAX * 3):
        _exchange(_post(body), 401, client=f"10.1.{n // 256}.{n % 256}:1")
    assert len(protocols._CHALLENGED) <= protocols._CHALLENGED_MAX
    big = _post(b"<soap-env:Envelope xmlns:cwmp='urn:dslforum-org:cwmp-1-0'>" + b" " * (70 << 10)
                + b"</soap-env:Envelope>")
    _exchange(big, 401, client="10.2.0.1:1")
    assert (0, "10.2.0.1") not in protocols._CHALLENGED  # a big body is not kept
    protocols._CHALLENGED.clear()
