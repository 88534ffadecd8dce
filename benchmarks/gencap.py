"""Generate a deterministic mixed capture for the report benchmark.

The mix is what an ACS sees: CWMP sessions (Inform, a 401 Digest challenge and the
authenticated retry, GetParameterValues exchanges, 204) as HTTP POSTs with bodies
spread over several segments on several ports and keep-alive connections, and
non-HTTP bulk flows (which must cost little).  Written with plain struct so that
generating a million packets takes seconds, not minutes.

    python benchmarks/gencap.py OUT.pcap --packets 200000 [--seed 1]
"""

from __future__ import annotations

import argparse
import random
import struct
import sys
from collections.abc import Iterator
from typing import BinaryIO

MSS = 1400
HTTP_PORTS = (7547, 8080, 80, 30005, 8089)
FLEET = 1000  # distinct CPEs


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Writer:
    """Writes Ethernet/IPv4/TCP (and UDP) frames to a classic µs pcap."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.count = 0
        self.t = 1_700_000_000.0
        fh.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))

    def frame(self, src: tuple[int, int], dst: tuple[int, int], seq: int, ack: int,
              flags: int, payload: bytes = b"") -> None:
        tcp = struct.pack("!HHIIBBHHH", src[1], dst[1], seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          5 << 4, flags, 65535, 0, 0)
        self._write(src[0], dst[0], 6, tcp + payload)

    def udp(self, src: tuple[int, int], dst: tuple[int, int], payload: bytes) -> None:
        """One UDP datagram (checksum 0: none, as IPv4 allows)."""
        self._write(src[0], dst[0], 17, struct.pack("!HHHH", src[1], dst[1], 8 + len(payload), 0) + payload)

    def _write(self, src: int, dst: int, proto: int, l4: bytes) -> None:
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), self.count & 0xFFFF,
                         0x4000, 64, proto, 0, struct.pack("!I", src), struct.pack("!I", dst))
        ip = ip[:10] + struct.pack("!H", _csum(ip)) + ip[12:]
        eth = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00"
        pkt = eth + ip + l4
        self.t += 0.0001
        sec = int(self.t)
        self.fh.write(struct.pack("<IIII", sec, int((self.t - sec) * 1e6), len(pkt), len(pkt)))
        self.fh.write(pkt)
        self.count += 1


class Conn:
    """One TCP connection; send() splits into MSS segments and ACKs them."""

    def __init__(self, w: Writer, cli: tuple[int, int], srv: tuple[int, int], rng: random.Random) -> None:
        self.w, self.cli, self.srv = w, cli, srv
        self.cseq = rng.randrange(1 << 32)
        self.sseq = rng.randrange(1 << 32)
        w.frame(cli, srv, self.cseq, 0, 0x02)
        w.frame(srv, cli, self.sseq, self.cseq + 1, 0x12)
        self.cseq += 1
        self.sseq += 1
        w.frame(cli, srv, self.cseq, self.sseq, 0x10)

    def send(self, from_client: bool, data: bytes) -> None:
        for off in range(0, len(data), MSS):
            seg = data[off:off + MSS]
            if from_client:
                self.w.frame(self.cli, self.srv, self.cseq, self.sseq, 0x18, seg)
                self.cseq += len(seg)
            else:
                self.w.frame(self.srv, self.cli, self.sseq, self.cseq, 0x18, seg)
                self.sseq += len(seg)
        if from_client:
            self.w.frame(self.srv, self.cli, self.sseq, self.cseq, 0x10)
        else:
            self.w.frame(self.cli, self.srv, self.cseq, self.sseq, 0x10)

    def close(self) -> None:
        self.w.frame(self.cli, self.srv, self.cseq, self.sseq, 0x11)
        self.w.frame(self.srv, self.cli, self.sseq, self.cseq + 1, 0x11)
        self.w.frame(self.cli, self.srv, self.cseq + 1, self.sseq + 1, 0x10)


def _envelope(cwmp_id: str, body: str) -> bytes:
    return (
        '<?xml version="1.0"?><soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">'
        f'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">{cwmp_id}</cwmp:ID></soap-env:Header>'
        f"<soap-env:Body>{body}</soap-env:Body></soap-env:Envelope>"
    ).encode()


def _params(rng: random.Random, n_params: int) -> str:
    return "".join(
        f"<ParameterValueStruct><Name>Device.X.{i}.Value</Name>"
        f"<Value xsi:type=\"xsd:string\">{rng.randrange(10**9)}</Value></ParameterValueStruct>"
        for i in range(n_params)
    )


def _inform(rng: random.Random, serial: int, n_params: int) -> bytes:
    return _envelope("1", (
        "<cwmp:Inform><DeviceId><Manufacturer>Bench</Manufacturer><OUI>00BEEF</OUI>"
        f"<ProductClass>Gen</ProductClass><SerialNumber>{serial}</SerialNumber></DeviceId>"
        "<Event><EventStruct><EventCode>2 PERIODIC</EventCode><CommandKey></CommandKey></EventStruct></Event>"
        "<MaxEnvelopes>1</MaxEnvelopes><CurrentTime>2026-01-01T00:00:00Z</CurrentTime><RetryCount>0</RetryCount>"
        f"<ParameterList>{_params(rng, n_params)}</ParameterList></cwmp:Inform>"))


def _gpv(cwmp_id: str, n_names: int) -> bytes:
    names = "".join(f"<string>Device.X.{i}.Value</string>" for i in range(n_names))
    return _envelope(cwmp_id, f"<cwmp:GetParameterValues><ParameterNames>{names}</ParameterNames>"
                              "</cwmp:GetParameterValues>")


def _gpv_response(rng: random.Random, cwmp_id: str, n_params: int) -> bytes:
    return _envelope(cwmp_id, "<cwmp:GetParameterValuesResponse>"
                              f"<ParameterList>{_params(rng, n_params)}</ParameterList>"
                              "</cwmp:GetParameterValuesResponse>")


def _post(port: int, body: bytes, auth: bool) -> bytes:
    head = f"POST /acs HTTP/1.1\r\nHost: acs.example:{port}\r\nContent-Type: text/xml; charset=utf-8\r\n"
    if auth:
        head += ('Authorization: Digest username="cpe", realm="acs", nonce="abcdef0123456789", uri="/acs", '
                 'response="0123456789abcdef0123456789abcdef", qop=auth, nc=00000001, cnonce="c0ffee"\r\n')
    return (head + f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _resp(status: int, body: bytes) -> bytes:
    reason = {200: "OK", 204: "No Content", 401: "Unauthorized"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nServer: bench\r\n"
    if status == 401:
        head += 'WWW-Authenticate: Digest realm="acs", qop="auth", nonce="abcdef0123456789"\r\n'
    if status != 204:
        head += f"Content-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


def scenarios(w: Writer, rng: random.Random) -> Iterator[None]:
    """Yields after each connection so the caller can stop at the target size."""
    n = 0
    while True:
        n += 1
        cli = (0x0A000000 + rng.randrange(1, 1 << 16), rng.randrange(1024, 65535))
        kind = n % 4
        if kind == 3:
            # Non-HTTP bulk flow (TLS-like records) of ~60 segments.
            srv = (0xC0A80001, 443)
            c = Conn(w, cli, srv, rng)
            c.send(True, b"\x16\x03\x01" + bytes(rng.randrange(256) for _ in range(200)))
            c.send(False, b"\x17\x03\x03" + rng.randbytes(MSS * 60))
            c.close()
        else:
            port = HTTP_PORTS[n % len(HTTP_PORTS)]
            c = Conn(w, cli, (0xC0A80002, port), rng)
            # A CWMP session: Inform, Digest challenge and retry, then GetParameterValues
            # exchanges on the keep-alive connection until the ACS's 204.
            # A fleet of FLEET devices informing in turn: a longer capture means more sessions,
            # not more devices.
            inform = _inform(rng, n % FLEET, rng.randrange(5, 40))
            c.send(True, _post(port, inform, auth=False))
            c.send(False, _resp(401, b""))
            c.send(True, _post(port, inform, auth=True))
            c.send(False, _resp(200, _envelope("1", "<cwmp:InformResponse><MaxEnvelopes>1</MaxEnvelopes>"
                                                    "</cwmp:InformResponse>")))
            c.send(True, _post(port, b"", auth=True))
            rounds = rng.randrange(2, 6)
            for i in range(rounds):
                n_params = rng.randrange(1, 60)
                c.send(False, _resp(200, _gpv(f"acs-{i}", n_params)))
                c.send(True, _post(port, _gpv_response(rng, f"acs-{i}", n_params), auth=True))
            c.send(False, _resp(204, b""))
            c.close()
        yield


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    with open(args.out, "wb") as fh:
        w = Writer(fh)
        for _ in scenarios(w, rng):
            if w.count >= args.packets:
                break
    print(f"{args.out}: {w.count} packets", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
