"""The child-process side of ``test_bounded_resources``: hostile inputs and how they are measured.

Each case has a generator, which writes the input into a work directory, and a runner, which
feeds it to a real entry point (``dmsniff decode FILE``, ``dmsniff report CAPTURE``, or a
decoder function).  The test runs them as two separate processes::

    python -m tests.regressions._bounded gen CASE DIR [ARG]
    python -m tests.regressions._bounded run CASE DIR [ARG]

so that neither the test process nor the generator's memory counts in the measurement.  ``run``
prints one JSON line: ``rss_mb`` (this process's peak resident set, ``VmHWM``), ``workers_rss_mb``
(the largest peak of the worker processes a report forked, from ``RUSAGE_CHILDREN``),
``seconds`` (wall time of the entry point alone, not of interpreter start-up or the imports
every run shares) and ``facts`` (what came out, gathered after the measurement).

``VmHWM`` and not ``getrusage(RUSAGE_SELF).ru_maxrss``: across ``exec`` Linux carries the old
process image's peak into ``ru_maxrss``, so a child spawned by a large pytest process would
report pytest's peak, not its own.  ``VmHWM`` belongs to the new image alone.

Generators write in pieces: none holds more than one copy of its input (most hold a few MB).
"""

from __future__ import annotations

import json
import os
import random
import resource
import struct
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from benchmarks.gencap import Conn, Writer

MB = 1_000_000
MAX_BODY = 16 * 1024 * 1024  # dmsniff's default --max-body

SYNCML_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>'
    b"<VerProto>DM/1.2</VerProto><SessionID>1A2B</SessionID><MsgID>1</MsgID>"
    b"<Target><LocURI>IMEI:493005100592800</LocURI></Target><Source><LocURI>https://dm.example/</LocURI>"
    b"</Source></SyncHdr><SyncBody>"
)
SYNCML_TAIL = b"<Final/></SyncBody></SyncML>"

SOAP_HEAD = (
    b'<?xml version="1.0"?><soap-env:Envelope xmlns:soap-env="http://schemas.xmlsoap.org/soap/envelope/"'
    b' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:cwmp="urn:dslforum-org:cwmp-1-0">'
    b'<soap-env:Header><cwmp:ID soap-env:mustUnderstand="1">42</cwmp:ID></soap-env:Header><soap-env:Body>'
)
SOAP_TAIL = b"</soap-env:Body></soap-env:Envelope>"

CLIENT = (0x0A000002, 40000)
SERVER = (0x0A000001, 7547)


# ---------------------------------------------------------------- writing inputs


def write_repeated(fh: BinaryIO, unit: bytes, count: int) -> None:
    """``unit * count`` written in ~1 MB pieces."""
    per = max(1, MB // max(1, len(unit)))
    block = unit * per
    while count >= per:
        fh.write(block)
        count -= per
    fh.write(unit * count)


def doc_file(path: Path, head: bytes, unit: bytes, count: int, tail: bytes) -> int:
    with open(path, "wb") as fh:
        fh.write(head)
        write_repeated(fh, unit, count)
        fh.write(tail)
    return path.stat().st_size


def post(body: bytes, content_type: str = "text/xml; charset=utf-8", extra: str = "") -> bytes:
    head = (f"POST /acs HTTP/1.1\r\nHost: acs.example:7547\r\nContent-Type: {content_type}\r\n{extra}"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def capture(path: Path, exchanges: list[tuple[bytes, bytes]]) -> int:
    """A pcap with one keep-alive TCP connection carrying the (request, response) pairs."""
    with open(path, "wb") as fh:
        w = Writer(fh)
        c = Conn(w, CLIENT, SERVER, random.Random(15))
        for request, response in exchanges:
            c.send(True, request)
            if response:
                c.send(False, response)
        c.close()
    return path.stat().st_size


OK_204 = b"HTTP/1.1 204 No Content\r\nServer: acs\r\n\r\n"


# ---------------------------------------------------------------- WBXML pieces


def mb_u_int32(value: int) -> bytes:
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def str_i(text: bytes) -> bytes:
    return b"\x03" + text + b"\x00"


# SyncML 1.2 code page 0 tokens (OMA-TS-SyncML_RepPro / libwbxml), | 0x40 = has content.
_T = {"SyncML": 0x2D, "SyncHdr": 0x2C, "SyncBody": 0x2B, "VerDTD": 0x31, "VerProto": 0x32,
      "SessionID": 0x25, "MsgID": 0x1D, "Target": 0x2E, "Source": 0x27, "LocURI": 0x17, "Alert": 0x06,
      "CmdID": 0x0B, "Data": 0x0F, "Item": 0x14, "Final": 0x12, "Replace": 0x20}
WBXML_HEADER = b"\x02\xa4\x01\x6a\x00"  # WBXML 1.2, public id 0x1201 (SyncML DM 1.2), UTF-8, no strtbl
END = b"\x01"


def tag(name: str, *content: bytes) -> bytes:
    if not content:
        return bytes([_T[name]])
    return bytes([_T[name] | 0x40]) + b"".join(content) + END


def wbxml_syncml(body: bytes) -> bytes:
    """A SyncML DM 1.2 WBXML message whose SyncBody holds ``body`` (already encoded) then Final."""
    hdr = tag("SyncHdr", tag("VerDTD", str_i(b"1.2")), tag("VerProto", str_i(b"DM/1.2")),
              tag("SessionID", str_i(b"1")), tag("MsgID", str_i(b"1")),
              tag("Target", tag("LocURI", str_i(b"IMEI:1"))), tag("Source", tag("LocURI", str_i(b"srv"))))
    return WBXML_HEADER + bytes([_T["SyncML"] | 0x40]) + hdr + bytes([_T["SyncBody"] | 0x40]) + body \
        + tag("Final") + END + END


# ---------------------------------------------------------------- compression bombs


def _crc32_zeros(n: int, crc: int = 0) -> int:
    """zlib.crc32(bytes(n), crc) without n bytes: the CRC register advanced over n zero bytes is
    a linear map over GF(2) (zlib's crc32_combine), applied by repeated squaring."""

    def times(mat: list[int], vec: int) -> int:
        out, i = 0, 0
        while vec:
            if vec & 1:
                out ^= mat[i]
            vec >>= 1
            i += 1
        return out

    def square(mat: list[int]) -> list[int]:
        return [times(mat, mat[i]) for i in range(32)]

    # zlib's register is inverted before and after; over zeros the map is on the raw register.
    reg = crc ^ 0xFFFFFFFF
    one_bit = [0xEDB88320] + [1 << i for i in range(31)]  # one zero *bit*
    mat = square(square(square(one_bit)))  # eight zero bits: one zero byte
    while n:
        if n & 1:
            reg = times(mat, reg)
        n >>= 1
        if n:
            mat = square(mat)
    return reg ^ 0xFFFFFFFF


def deflate_zeros(total: int, fh: BinaryIO, wrapper: str) -> None:
    """Write ``total`` zero bytes compressed (``wrapper`` "gzip" or "zlib") in about total/1000
    bytes, without compressing them all: after Z_FULL_FLUSH deflate starts afresh, so every further
    MiB of zeros compresses to the same bytes, written again and again."""
    chunk = 1 << 20
    assert total % chunk == 0
    co = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    piece = co.compress(bytes(chunk)) + co.flush(zlib.Z_FULL_FLUSH)
    again = co.compress(bytes(chunk)) + co.flush(zlib.Z_FULL_FLUSH)
    assert piece == again
    if wrapper == "gzip":
        fh.write(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
    else:
        fh.write(b"\x78\xda")
    write_repeated(fh, piece, total // chunk)
    fh.write(co.flush())  # the final (empty) block
    if wrapper == "gzip":
        fh.write(struct.pack("<II", _crc32_zeros(total), total & 0xFFFFFFFF))
    else:
        fh.write(struct.pack(">I", ((total % 65521) << 16) | 1))  # Adler-32 of zeros: s1 = 1, s2 = n


# ---------------------------------------------------------------- generators

Gen = Callable[[Path, str], int]
GENERATORS: dict[str, Gen] = {}


def generator(name: str) -> Callable[[Gen], Gen]:
    def register(fn: Gen) -> Gen:
        GENERATORS[name] = fn
        return fn
    return register


AMP_ALERT = b"<Alert><CmdID>1</CmdID><Data>1100</Data><Item><Data>"
AMP_ALERT_END = b"</Data></Item></Alert>"


@generator("amp_decode")
def _amp_decode(d: Path, arg: str) -> int:
    # 50 MB of "A&B " in one SyncML Alert item: every '&' bare.
    return doc_file(d / "in.xml", SYNCML_HEAD + AMP_ALERT, b"A&B ", 50 * MB // 4, AMP_ALERT_END + SYNCML_TAIL)


def amp_alerts(size: int) -> bytes:
    """A SyncML message of ``size`` bytes: UI alerts whose options carry bare '&' (the Android
    dmlib messages do), 400 of them per alert."""
    alert = (b"<Alert><CmdID>%d</CmdID><Data>1100</Data><Item><Data>MINDT=10&DR=1&" + b"A&B " * 400
             + b"</Data></Item></Alert>")
    n = (size - len(SYNCML_HEAD) - len(SYNCML_TAIL)) // len(alert % 100000)
    return SYNCML_HEAD + b"".join(alert % (100000 + i) for i in range(n)) + SYNCML_TAIL


@generator("amp_report")
def _amp_report(d: Path, arg: str) -> int:
    # 16 MB of them in a SyncML POST, within --max-body; the decoder alone on the same body.
    body = amp_alerts(16 * MB)
    (d / "body.xml").write_bytes(body)
    return capture(d / "in.pcap", [(post(body, "application/vnd.syncml.dm+xml"), OK_204)])


@generator("opaque_zeros")
def _opaque_zeros(d: Path, arg: str) -> int:
    # <Replace><Item><Data>OPAQUE(50 MB of zeros)</Data></Item></Replace>: a version byte 0 makes it a
    # candidate embedded document.
    size = 50 * MB
    head = wbxml_syncml(b"@@")
    before, after = head.split(b"@@")
    with open(d / "in.wbxml", "wb") as fh:
        fh.write(before + bytes([_T["Replace"] | 0x40]) + tag("CmdID", str_i(b"2"))
                 + bytes([_T["Item"] | 0x40, _T["Data"] | 0x40]) + b"\xc3" + mb_u_int32(size))
        write_repeated(fh, b"\0", size)
        fh.write(END + END + END + after)
    return (d / "in.wbxml").stat().st_size


@generator("empty_elements")
def _empty_elements(d: Path, arg: str) -> int:
    # 10^6 empty <Final/> tokens (one byte each) in the SyncBody: 1 MB.
    head = wbxml_syncml(b"@@")
    before, after = head.split(b"@@")
    with open(d / "in.wbxml", "wb") as fh:
        fh.write(before)
        write_repeated(fh, bytes([_T["Final"]]), 10**6)
        fh.write(after)
    return (d / "in.wbxml").stat().st_size


def gpv_response_body(n: int) -> Iterator[bytes]:
    yield SOAP_HEAD + b"<cwmp:GetParameterValuesResponse><ParameterList>"
    for i in range(0, n, 1000):
        yield b"".join(
            b"<ParameterValueStruct><Name>Device.Services.X.%d.Value</Name>"
            b'<Value xsi:type="xsd:string">%d</Value></ParameterValueStruct>' % (k, k * 7919)
            for k in range(i, min(n, i + 1000)))
    yield b"</ParameterList></cwmp:GetParameterValuesResponse>" + SOAP_TAIL


@generator("cwmp_17mib")
def _cwmp_17mib(d: Path, arg: str) -> int:
    # A GetParameterValuesResponse of 17 MiB (~150k parameters), beyond --max-body.
    body = b""
    n = 140_000
    while len(body) < 17 << 20:
        n += 5_000
        body = b"".join(gpv_response_body(n))
    return capture(d / "in.pcap", [(post(body), OK_204)])


def status(i: int) -> bytes:
    return (b"<Status><CmdID>%d</CmdID><MsgRef>1</MsgRef><CmdRef>%d</CmdRef><Cmd>Replace</Cmd>"
            b"<Data>200</Data></Status>" % (i, i))


@generator("status_200k")
def _status_200k(d: Path, arg: str) -> int:
    with open(d / "in.xml", "wb") as fh:
        fh.write(SYNCML_HEAD)
        for i in range(2, 200_002, 1000):
            fh.write(b"".join(status(k) for k in range(i, i + 1000)))
        fh.write(SYNCML_TAIL)
    return (d / "in.xml").stat().st_size


LOLS = b"".join(b'<!ENTITY lol%d "%s">' % (i, b"&lol%d;" % (i - 1) * 10) for i in range(1, 10))
BILLION_LAUGHS = b'<?xml version="1.0"?>\n<!DOCTYPE SyncML [<!ENTITY lol0 "lol">' + LOLS + b"]>\n"
QUADRATIC = (b'<?xml version="1.0"?>\n<!DOCTYPE SyncML [<!ENTITY big "' + b"x" * 100_000 + b'">]>\n')


def entity_docs(kind: str) -> tuple[bytes, bytes]:
    """(CWMP Inform, SyncML message), each referencing the entities of ``kind`` in its text."""
    if kind == "billion":
        prolog, ref = BILLION_LAUGHS, b"&lol9;"
    else:  # quadratic blow-up: 100 kB entity referenced 30000 times = 3 GB expanded
        prolog, ref = QUADRATIC, b"&big;" * 30_000
    inform = (prolog.replace(b"SyncML", b"soap-env:Envelope") + SOAP_HEAD[SOAP_HEAD.index(b"<soap-env:Env"):]
              + b"<cwmp:Inform><DeviceId><Manufacturer>" + ref + b"</Manufacturer><OUI>00D09E</OUI>"
              b"<ProductClass>HGW</ProductClass><SerialNumber>1</SerialNumber></DeviceId></cwmp:Inform>"
              + SOAP_TAIL)
    syncml = (prolog + SYNCML_HEAD[SYNCML_HEAD.index(b"<SyncML"):] + AMP_ALERT + ref + AMP_ALERT_END
              + SYNCML_TAIL)
    return inform, syncml


@generator("entities")
def _entities(d: Path, arg: str) -> int:
    inform, syncml = entity_docs(arg)
    (d / "inform.xml").write_bytes(inform)
    (d / "syncml.xml").write_bytes(syncml)
    capture(d / "in.pcap", [(post(inform), OK_204), (post(syncml, "application/vnd.syncml.dm+xml"), OK_204)])
    return len(inform) + len(syncml)


DEPTH = 100_000


@generator("deep_xml")
def _deep_xml(d: Path, arg: str) -> int:
    inner = b"<a>" * DEPTH + b"x" + b"</a>" * DEPTH
    inform = SOAP_HEAD + b"<cwmp:Inform><DeviceId><Manufacturer>" + inner + b"</Manufacturer></DeviceId>" \
        b"</cwmp:Inform>" + SOAP_TAIL
    syncml = SYNCML_HEAD + AMP_ALERT + inner + AMP_ALERT_END + SYNCML_TAIL
    (d / "inform.xml").write_bytes(inform)
    (d / "syncml.xml").write_bytes(syncml)
    capture(d / "in.pcap", [(post(inform), OK_204), (post(syncml, "application/vnd.syncml.dm+xml"), OK_204)])
    return len(inform) + len(syncml)


@generator("deep_wbxml")
def _deep_wbxml(d: Path, arg: str) -> int:
    inner = bytes([_T["Item"] | 0x40]) * DEPTH + END * DEPTH
    doc = wbxml_syncml(bytes([_T["Replace"] | 0x40]) + inner + END)
    (d / "in.wbxml").write_bytes(doc)
    capture(d / "in.pcap", [(post(doc, "application/vnd.syncml.dm+wbxml"), OK_204)])
    return len(doc)


def wbxml_lies() -> dict[str, bytes]:
    """WBXML documents whose lengths and string table references lie."""
    # A 1 MB string table of one long string, referenced a million times: 10^12 bytes of text.
    table = b"x" * (MB - 1) + b"\0"
    refs = (b"\x83\x00") * 500_000  # STR_T 0
    body = bytes([_T["Replace"] | 0x40]) + tag("CmdID", str_i(b"2")) \
        + bytes([_T["Item"] | 0x40, _T["Data"] | 0x40]) + refs + END + END + END
    with_table = b"\x02\xa4\x01\x6a" + mb_u_int32(len(table)) + table
    many_refs = wbxml_syncml(body).replace(WBXML_HEADER, with_table, 1)
    return {
        # string table length 2^32-1 in a 100-byte document
        "strtbl_length": b"\x02\xa4\x01\x6a\x8f\xff\xff\xff\x7f" + wbxml_syncml(b"")[5:],
        # an OPAQUE claiming 2^32-1 bytes
        "opaque_length": wbxml_syncml(bytes([_T["Item"] | 0x40, _T["Data"] | 0x40])
                                      + b"\xc3\x8f\xff\xff\xff\x7f"),
        # STR_T indices past the table, 10^5 times
        "strt_index": wbxml_syncml(bytes([_T["Item"] | 0x40, _T["Data"] | 0x40])
                                   + b"\x83\x8f\xff\xff\xff\x7f" * 100_000 + END + END),
        # LITERAL tags naming a 1 MB string table entry
        "many_refs": many_refs,
    }


@generator("wbxml_lies")
def _wbxml_lies(d: Path, arg: str) -> int:
    docs = wbxml_lies()
    total = 0
    for name, doc in docs.items():
        (d / f"{name}.wbxml").write_bytes(doc)
        total += len(doc)
    capture(d / "in.pcap", [(post(doc, "application/vnd.syncml.dm+wbxml"), OK_204) for doc in docs.values()])
    return total


BOMB_SIZE = 10 * 1024**3  # 10 GiB of zeros


@generator("bomb")
def _bomb(d: Path, arg: str) -> int:
    coding = arg  # gzip or deflate
    body_path = d / "body"
    with open(body_path, "wb") as fh:
        deflate_zeros(BOMB_SIZE, fh, "gzip" if coding == "gzip" else "zlib")
    body = body_path.read_bytes()
    body_path.unlink()
    req = post(body, "application/vnd.syncml.dm+xml", f"Content-Encoding: {coding}\r\n")
    resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Encoding: " + coding.encode()
            + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    return capture(d / "in.pcap", [(req, resp)])


@generator("content_length")
def _content_length(d: Path, arg: str) -> int:
    # Content-Length 2^63, then 20 MB of body, then the connection ends.
    head = (b"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Type: text/xml\r\n"
            b"Content-Length: 9223372036854775808\r\n\r\n")
    return capture(d / "in.pcap", [(head + SOAP_HEAD + b"x" * (20 * MB), b"")])


@generator("endless_chunks")
def _endless_chunks(d: Path, arg: str) -> int:
    # 2 million 8-byte chunks (26 MB of chunked framing, 16 MB of body) and no last chunk; then a
    # chunk that claims 2^128-1 bytes.
    head = b"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
    data = head + b"8\r\nAAAAAAAA\r\n" * 2_000_000 + b"ffffffffffffffffffffffffffffffff\r\n" + b"B" * MB
    return capture(d / "in.pcap", [(data, b"")])


@generator("long_header")
def _long_header(d: Path, arg: str) -> int:
    # A 1 MB header line, then a well-formed request on the same connection.
    bad = b"GET /one HTTP/1.1\r\nHost: acs\r\nX-Long: " + b"a" * MB + b"\r\n\r\n"
    good = b"GET /two HTTP/1.1\r\nHost: acs\r\n\r\n"
    (d / "stream.bin").write_bytes(bad + good)
    return capture(d / "in.pcap", [(bad, b""), (good, OK_204)])


@generator("many_headers")
def _many_headers(d: Path, arg: str) -> int:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(100_000))
    bad = b"GET /one HTTP/1.1\r\nHost: acs\r\n" + headers + b"\r\n"
    good = b"GET /two HTTP/1.1\r\nHost: acs\r\n\r\n"
    (d / "stream.bin").write_bytes(bad + good)
    return capture(d / "in.pcap", [(bad, b""), (good, OK_204)])


@generator("params_1e6")
def _params_1e6(d: Path, arg: str) -> int:
    # GetParameterValues naming 10^6 parameters, for the decoder function (26 MB) ...
    names = (b"<string>Device.%d.</string>" % (i % 10) for i in range(10**6))
    doc = SOAP_HEAD + b"<cwmp:GetParameterValues><ParameterNames>" \
        + b"".join(names) + b"</ParameterNames></cwmp:GetParameterValues>" + SOAP_TAIL
    (d / "in.xml").write_bytes(doc)
    # ... and, in a capture, a SetParameterValues of minimal structures as long as --max-body allows
    spv = SOAP_HEAD + b"<cwmp:SetParameterValues><ParameterList>" \
        + b"<ParameterValueStruct><Name/><Value/></ParameterValueStruct>" * (MAX_BODY // 58) \
        + b"</ParameterList></cwmp:SetParameterValues>" + SOAP_TAIL
    capture(d / "in.pcap", [(post(spv[:MAX_BODY]), OK_204)])
    return len(doc)


SEGMENTS = 10**6


@generator("tiny_segments")
def _tiny_segments(d: Path, arg: str) -> int:
    """A POST whose 10^6-byte body comes one byte per segment, each run of 500 segments in reverse
    order (the reassembler buffers up to 512 out of order), written with one frame template."""
    head = (b"POST /acs HTTP/1.1\r\nHost: acs\r\nContent-Type: text/plain\r\n"
            b"Content-Length: %d\r\n\r\n" % SEGMENTS)
    path = d / "in.pcap"
    with open(path, "wb") as fh:
        w = Writer(fh)
        c = Conn(w, CLIENT, SERVER, random.Random(1))
        c.send(True, head)
        base = c.cseq
        # Every data frame is the same but for its timestamp, sequence number and byte.
        proto = _frame_template(w)
        rec = struct.Struct("<IIII")
        t0 = int(w.t) + 1
        n = 0
        block = 500
        out = bytearray()
        for start in range(0, SEGMENTS, block):
            for off in range(min(SEGMENTS, start + block) - 1, start - 1, -1):
                n += 1
                out += rec.pack(t0 + n // 1_000_000, n % 1_000_000, len(proto) + 1, len(proto) + 1)
                out += proto[:38] + struct.pack("!I", (base + off) & 0xFFFFFFFF) + proto[42:]
                out += b"%c" % (65 + off % 26)
            if len(out) > MB:
                fh.write(out)
                out.clear()
        fh.write(out)
        w.count += n
        c.cseq = base + SEGMENTS
        c.send(False, b"HTTP/1.1 204 No Content\r\n\r\n")
        c.close()
    return path.stat().st_size


def _frame_template(w: Writer) -> bytes:
    """An Ethernet/IPv4/TCP header for a 1-byte client segment, as gencap's Writer would build it."""
    import io

    buf = io.BytesIO()
    tmp = Writer.__new__(Writer)
    tmp.fh, tmp.count, tmp.t = buf, 0, w.t
    tmp.frame(CLIENT, SERVER, 0, 1, 0x18, b"x")
    return buf.getvalue()[16:-1]


@generator("pcapng_block")
def _pcapng_block(d: Path, arg: str) -> int:
    from tests.dmsniff.capture.capbuild import PcapngBuilder

    b = PcapngBuilder().shb().idb(1)
    good = b.data()
    # An Enhanced Packet Block claiming 2^32-1 bytes, with a few real ones after it.
    epb = struct.pack("<II", 6, 0xFFFFFFFF) + struct.pack("<IIIII", 0, 0, 0, 60, 60) + bytes(60)
    (d / "in.pcapng").write_bytes(good + epb + b"\0" * 4096)
    # and a section header block that does the same
    (d / "shb.pcapng").write_bytes(b"\x0a\x0d\x0d\x0a\xff\xff\xff\xff\x4d\x3c\x2b\x1a" + b"\0" * 4096)
    return len(good) + len(epb) + 4096


XXE_DOCTYPE = (
    '<!DOCTYPE {root} SYSTEM "http://127.0.0.1:{port}/x.dtd" [\n'
    '  <!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd">\n  %p;\n'
    '  <!ENTITY % q "<!ENTITY r SYSTEM \'file://{canary}\'>">\n  %q;\n'
    '  <!ENTITY e SYSTEM "file://{canary}">\n'
    '  <!ENTITY n SYSTEM "http://127.0.0.1:{port}/n.xml">\n'
    "]>\n"
)


def xxe_docs(port: int, canary: str) -> tuple[bytes, bytes]:
    inform = (b'<?xml version="1.0"?>\n'
              + XXE_DOCTYPE.format(root="soap-env:Envelope", port=port, canary=canary).encode()
              + SOAP_HEAD[SOAP_HEAD.index(b"<soap-env:Env"):]
              + b"<cwmp:Inform><DeviceId><Manufacturer>&e;&r;&n;</Manufacturer><OUI>00D09E</OUI>"
                b"<ProductClass>HGW</ProductClass><SerialNumber>&e;</SerialNumber></DeviceId></cwmp:Inform>"
              + SOAP_TAIL)
    doctype = XXE_DOCTYPE.format(root="SyncML", port=port, canary=canary).encode()
    syncml = (b'<?xml version="1.0"?>\n' + doctype
              + SYNCML_HEAD[SYNCML_HEAD.index(b"<SyncML"):] + AMP_ALERT + b"&e;&r;&n;" + AMP_ALERT_END
              + SYNCML_TAIL)
    return inform, syncml


@generator("xxe")
def _xxe(d: Path, arg: str) -> int:
    port, canary = arg.split(":", 1)
    inform, syncml = xxe_docs(int(port), canary)
    (d / "inform.xml").write_bytes(inform)
    (d / "syncml.xml").write_bytes(syncml)
    capture(d / "in.pcap", [(post(inform), OK_204), (post(syncml, "application/vnd.syncml.dm+xml"), OK_204)])
    return len(inform) + len(syncml)


# ---------------------------------------------------------------- running


def peak_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Cli:
    """``dmsniff ARGS`` run in this process (so that its memory is this process's), with standard
    output and error going to files."""

    def __init__(self, d: Path, name: str) -> None:
        self.out = d / f"{name}.stdout"
        self.err = d / f"{name}.stderr"
        self.rc: int | None = None

    def __call__(self, *argv: str) -> int:
        from dmsniff.cli import main

        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            os.dup2(out.fileno(), 1)
            os.dup2(err.fileno(), 2)
            try:
                self.rc = main(list(argv))
            except SystemExit as exc:
                self.rc = exc.code if isinstance(exc.code, int) else 2
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        return self.rc

    def facts(self) -> dict[str, Any]:
        size = self.out.stat().st_size
        with open(self.out, "rb") as fh:
            head = fh.read(4000).decode("utf-8", "replace")
            fh.seek(max(0, size - 2000))
            tail = fh.read().decode("utf-8", "replace")
        facts: dict[str, Any] = {
            "rc": self.rc, "stdout_bytes": size, "stdout_head": head, "stdout_tail": tail,
            "stderr": self.err.read_bytes()[:20000].decode("utf-8", "replace"),
        }
        if head.startswith("{"):  # decode --json: is it JSON, and how many commands
            with open(self.out, "rb") as fh:
                doc = json.load(fh)
            facts["json_commands"] = len(doc.get("commands", []))
        return facts


def jsonl_facts(path: Path) -> dict[str, Any]:
    """What a JSON Lines report says, in brief: every transaction's messages (without frame lists),
    the problems of every session message, findings and capture errors."""
    txs: list[dict[str, Any]] = []
    messages: list[dict[str, Any]] = []
    findings: list[str] = []
    captures: list[dict[str, Any]] = []
    with open(path, "rb") as fh:
        for line in fh:
            rec = json.loads(line)
            kind = rec.get("type")
            if kind == "transaction":
                brief: dict[str, Any] = {"id": rec["id"]}
                for side in ("request", "response"):
                    m = rec.get(side)
                    if m:
                        brief[side] = {k: m.get(k) for k in ("method", "uri", "status", "body_length",
                                                              "decoded_length", "complete", "protocol")}
                        brief[side]["problems"] = (m.get("problems") or [])[:20]
                        brief[side]["headers"] = len(m.get("headers") or [])
                txs.append(brief)
            elif kind == "session":
                for m in rec.get("messages", []):
                    messages.append({"kind": m.get("kind"), "problems": (m.get("problems") or [])[:30],
                                     "fields_json_bytes": len(json.dumps(m.get("fields"))),
                                     "commands": len(m.get("commands") or [])})
            elif kind == "finding":
                findings.append(f"{rec['code']}: {rec['message']}"[:500])
            elif kind == "capture":
                captures.append({"packets": rec.get("packets"), "errors": rec.get("errors"),
                                 "format": rec.get("format"),
                                 "http_bytes_outside_messages": (rec.get("counters") or {}).get(
                                     "http_bytes_outside_messages")})
    return {"transactions": txs, "messages": messages, "findings": findings[:50], "captures": captures}


# ---------------------------------------------------------------- runners

Step = Callable[[], None]
Facts = Callable[[], dict[str, Any]]


class Plan:
    """The entry-point calls of one case (timed and measured together), and how to describe what
    came out of them (after the measurement)."""

    def __init__(self, d: Path) -> None:
        self.d = d
        self.steps: list[Step] = []
        self.describe: list[tuple[str, Facts]] = []

    def decode(self, label: str, name: str, *options: str) -> None:
        cli = Cli(self.d, label)

        def run() -> None:
            cli("decode", *options, str(self.d / name))

        self.steps.append(run)
        self.describe.append((label, cli.facts))

    def report(self, label: str, name: str = "in.pcap", *options: str) -> None:
        cli = Cli(self.d, label)
        out = self.d / f"{label}.jsonl"

        def run() -> None:
            cli("report", "--format", "jsonl", "-o", str(out), *options, str(self.d / name))

        def facts() -> dict[str, Any]:
            f = cli.facts()
            f.update(jsonl_facts(out) if out.exists() else {})
            return f

        self.steps.append(run)
        self.describe.append((label, facts))

    def call(self, label: str, fn: Callable[[bytes], object], name: str) -> None:
        """A decoder function on the file's bytes (read before the clock starts: the input is the
        caller's, but its memory counts)."""
        data = (self.d / name).read_bytes()
        box: list[object] = []
        self.steps.append(lambda: box.append(fn(data)))

        def facts() -> dict[str, Any]:
            rec = box[0]
            text = repr(rec)
            return {"type": type(rec).__name__, "repr_bytes": len(text),
                    "repr_head": text if len(text) < 100_000 else text[:3000],
                    "problems": brief(list(getattr(rec, "problems", ()))), "summary": summarise(rec)}

        self.describe.append((label, facts))

    def run(self) -> None:
        for step in self.steps:
            step()

    def facts(self) -> dict[str, Any]:
        return {label: facts() for label, facts in self.describe}


def brief(problems: list[str]) -> list[str]:
    """The first 40 problems and the last three (where the summary lines are)."""
    return problems if len(problems) <= 43 else problems[:40] + problems[-3:]


def summarise(rec: object) -> dict[str, Any]:
    """A few numbers about a decoder's record, by kind."""
    from decoders import cwmp, syncml, wbxml

    if isinstance(rec, cwmp.CwmpMessage):
        rpc = rec.rpc
        out: dict[str, Any] = {"kind": rec.kind}
        for attr in ("names", "parameters", "parameter_list"):
            if rpc is not None and hasattr(rpc, attr):
                out[attr] = len(getattr(rpc, attr))
        if isinstance(rpc, cwmp.Inform):
            out["manufacturer"] = rpc.device_id.manufacturer[:200]
            out["serial"] = rpc.device_id.serial_number[:200]
        return out
    if isinstance(rec, syncml.SyncMLMessage):
        commands = list(rec.all_commands)
        data = [it.data for c in commands for it in c.items if it.data is not None]
        return {"commands": len(commands), "encoding": rec.encoding,
                "item_data": [x[:200] for x in data[:3]], "item_data_len": [len(x) for x in data[:3]]}
    if isinstance(rec, wbxml.WbxmlDocument):
        return {"language": rec.language, "root": rec.root.tag}
    if isinstance(rec, syncml.SyncMLError | wbxml.WbxmlError):
        return {"reason": rec.reason}
    if isinstance(rec, dict):
        return rec
    return {}


def _syncml(data: bytes) -> object:
    from decoders import syncml

    return syncml.decode(data, "application/vnd.syncml.dm+xml")


def _syncml_wbxml(data: bytes) -> object:
    from decoders import syncml

    return syncml.decode(data, "application/vnd.syncml.dm+wbxml")


def _cwmp(data: bytes) -> object:
    from decoders import cwmp

    return cwmp.decode(data, "text/xml; charset=utf-8")


def _http(data: bytes) -> object:
    """The HTTP parser over one direction of a connection, fed segment by segment: what it says."""
    from decoders.http import NEED_DATA, HttpStreamParser, RequestHead, Role, Skipped

    parser = HttpStreamParser(Role.CLIENT)
    heads: list[str] = []
    skipped: list[tuple[int, int, str]] = []

    def drain() -> None:
        while (ev := parser.next_event()) is not NEED_DATA:
            if isinstance(ev, RequestHead):
                heads.append(f"{ev.method} {ev.target} ({len(ev.headers)} headers)")
            elif isinstance(ev, Skipped):
                skipped.append((ev.start, ev.end, ev.reason))

    for i in range(0, len(data), 1460):
        parser.feed(data[i : i + 1460])
        drain()
    parser.feed_eof()
    drain()
    return {"heads": heads, "skipped": skipped}


def _wbxml(data: bytes) -> object:
    from decoders import wbxml

    return wbxml.decode(data)


def plan(case: str, d: Path, arg: str) -> Plan:
    p = Plan(d)
    if case == "amp_decode":
        p.decode("decode", "in.xml")
    elif case == "opaque_zeros" or case == "empty_elements":
        p.decode("decode", "in.wbxml")
    elif case == "status_200k":
        p.decode("decode", "in.xml", "--json")
    elif case in ("entities", "deep_xml", "xxe"):
        p.call("cwmp", _cwmp, "inform.xml")
        p.call("syncml", _syncml, "syncml.xml")
        p.decode("decode_syncml", "syncml.xml")
        p.decode("decode_syncml_json", "syncml.xml", "--json")
        p.decode("decode_inform", "inform.xml")
        if case == "xxe":
            p.decode("decode_syncml_summary", "syncml.xml", "--summary")
        p.report("report")
    elif case == "deep_wbxml":
        p.call("wbxml", _wbxml, "in.wbxml")
        p.call("syncml", _syncml_wbxml, "in.wbxml")
        p.decode("decode", "in.wbxml")
        p.report("report")
    elif case == "wbxml_lies":
        for name in wbxml_lies():
            p.call(f"wbxml_{name}", _wbxml, f"{name}.wbxml")
            p.call(f"syncml_{name}", _syncml_wbxml, f"{name}.wbxml")
            p.decode(f"decode_{name}", f"{name}.wbxml")
        p.report("report")
    elif case == "params_1e6":
        p.call("cwmp", _cwmp, "in.xml")
        p.report("report")
    elif case in ("long_header", "many_headers"):
        p.call("http", _http, "stream.bin")
        p.report("report")
    elif case == "amp_report":
        p.call("syncml", _syncml, "body.xml")
        p.report("report")
    elif case == "pcapng_block":
        p.report("report", "in.pcapng")
        p.report("report_shb", "shb.pcapng")
    else:  # the capture cases
        p.report("report")
    return p


def main(argv: list[str]) -> int:
    mode, case, d = argv[0], argv[1], Path(argv[2])
    arg = argv[3] if len(argv) > 3 else ""
    if mode == "gen":
        size = GENERATORS[case](d, arg)
        (d / "input_bytes").write_text(str(size))
        return 0
    # The imports every run shares are not part of the measurement.
    import dmsniff.cli
    import dmsniff.decode

    del dmsniff

    p = plan(case, d, arg)
    before = peak_rss_mb()
    t0 = time.perf_counter()
    p.run()
    seconds = time.perf_counter() - t0
    rss = peak_rss_mb()
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {"rss_mb": round(rss, 1), "rss_before_mb": round(before, 1), "workers_rss_mb": round(workers, 1),
              "seconds": round(seconds, 3), "input_bytes": int((d / "input_bytes").read_text()),
              "facts": p.facts()}
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
