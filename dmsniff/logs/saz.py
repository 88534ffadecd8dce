"""Fiddler session archives (``.saz``): what Fiddler and Fiddler Everywhere save, and what a Windows
MDM or ACS developer often has instead of a capture (Fiddler decrypts the device's HTTPS as its proxy).

A SAZ file is a zip.  Each session ``N`` (Fiddler's session number) is up to three members:
``raw/N_c.txt`` the request as the client sent it to the proxy (start line in absolute form,
``POST https://host/path HTTP/1.1``), ``raw/N_s.txt`` the response as the server sent it (bodies as
on the wire: chunked, gzip), and ``raw/N_m.xml`` the metadata: ``SessionTimers``
(``ClientDoneRequest``, ``ClientDoneResponse`` …, ISO times with the recording machine's offset)
and ``SessionFlags`` (``x-clientip``, ``x-clientport``: the client's connection to the proxy;
``x-hostip``: the server's address).  ``raw/N_w.txt`` (WebSocket messages) and the index page are
not read.

Frames are the session numbers (a request and its response share one); sessions from one client
connection (its ``x-clientport``) are one connection, as keep-alive had them.  A member too big or
damaged costs what it holds (the session, its response, or its times), a session without its
request costs itself, each with one line saying so; an archive cut short is read up to the cut; a
password-protected one, or a zip with no sessions, is one line.
"""

from __future__ import annotations

import datetime as _dt
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from dmsniff.capture import CaptureInfo
from dmsniff.logs.httpdump import RawHttp, parse_raw
from dmsniff.logs.source import LogError, LogMessage, endpoint, origin_target

__all__ = ["looks_like", "open_archive", "parse"]

MAX_MEMBER = 64 << 20  # one message: larger is refused (the zip's own sizes may lie: read is bounded)
MAX_TOTAL = 2 << 30  # every member read, uncompressed
_MEMBER = re.compile(r"raw/(\d{1,9})_([csm])\.(?:txt|xml)", re.IGNORECASE)
_UNSET = 1900  # Fiddler writes an unset timer as 0001-01-01T00:00:00
# The times of a request and of its response: when each was complete, as a capture's completing frame
# would show it (the first present of each list).
_REQUEST_TIMES = ("ClientDoneRequest", "GotRequestHeaders", "ClientBeginRequest")
_RESPONSE_TIMES = ("ClientDoneResponse", "ServerDoneResponse", "ClientBeginResponse", "GotResponseHeaders")
# ... and when the response's first bytes came (the proxy had its headers): where its wait ends.
_RESPONSE_STARTS = ("GotResponseHeaders", "ServerBeginResponse")
_MEMBERS_SEEN = (b"raw/", b"[Content_Types].xml", b"_index.htm")  # names in an archive's first members
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def looks_like(head: bytes) -> bool:
    """A zip whose first members are a session archive's."""
    return head[:4] == b"PK\x03\x04" and any(m in head for m in _MEMBERS_SEEN)


def _time(value: str | None) -> float | None:
    if not value:
        return None
    try:
        t = _dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.year < _UNSET:
        return None
    if t.tzinfo is None:  # (Fiddler writes the offset; without one, UTC)
        t = t.replace(tzinfo=_dt.UTC)
    return t.timestamp()


def _meta(data: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(SessionTimers' attributes, SessionFlags' N -> V) of an ``N_m.xml``; empty when it does not parse."""
    try:
        root = etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError:
        return {}, {}
    timers: dict[str, str] = {}
    flags: dict[str, str] = {}
    for el in root.iter("SessionTimers"):
        timers.update((str(k), str(v)) for k, v in el.attrib.items())
    for el in root.iter("SessionFlag"):
        name, value = el.get("N"), el.get("V")
        if name is not None and value is not None:
            flags[name.lower()] = value
    return timers, flags


def _first_time(timers: dict[str, str], names: tuple[str, ...]) -> float | None:
    for name in names:
        t = _time(timers.get(name))
        if t is not None:
            return t
    return None


def _origin_form(method: str | None, uri: str, host_ip: str | None) -> tuple[str, str | None]:
    """(request target, server endpoint) of a request as a proxy receives it: an absolute-form
    target in origin form (``https://acs.example:7547/cwmp?x`` -> ``/cwmp?x``), a CONNECT's as it is."""
    if method == "CONNECT":
        host, _, tcp_port = uri.rpartition(":")
        return uri, endpoint(host_ip or host, tcp_port) if host else None
    if not uri.lower().startswith(("http://", "https://")):
        return uri, None
    try:
        url = urlsplit(uri)
    except ValueError:  # "http://[::1/x": a bracket never closed
        return uri, None
    target, port = origin_target(uri, url)
    return target, endpoint(host_ip or url.hostname, port)


@dataclass(frozen=True, slots=True)
class _Member:
    """A member of the archive: its name, and where its bytes are when the zip's directory is lost
    (``method``: 0 stored, 8 deflated; ``end`` -1 until found)."""

    name: str
    info: zipfile.ZipInfo | None = None  # from the zip's directory
    method: int = 0
    start: int = 0
    end: int = -1
    encrypted: bool = False


_LOCAL = struct.Struct("<4sHHHHHIIIHH")  # a local file header (APPNOTE 4.3.7)


class _Archive:
    """The members of the zip, read one at a time within the size bounds.

    A cut archive (an interrupted download or upload) has lost the directory at its end: its
    members are then found from their own headers, in order, as far as the file goes.
    """

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.errors: list[str] = []
        self.total = 0
        self.recovered = False
        members: list[_Member]
        try:
            self.zip: zipfile.ZipFile | None = zipfile.ZipFile(io.BytesIO(data))
            members = [_Member(zi.filename, zi, encrypted=bool(zi.flag_bits & 0x01))
                       for zi in self.zip.infolist()]
        except Exception as exc:  # (a cut file loses its directory; a damaged one raises what it may:
            # BadZipFile, NotImplementedError for a "version needed" it does not know, ValueError ...)
            self.zip = None
            members = _scan(data)
            if not any(_MEMBER.fullmatch(m.name) for m in members):
                raise LogError(f"{where} is not a readable Fiddler session archive (zip): {exc}") from None
            self.recovered = True
        #: session number -> member kind ("c", "s", "m") -> member
        self.sessions: dict[int, dict[str, _Member]] = {}
        for member in members:
            m = _MEMBER.fullmatch(member.name)
            if m is not None:
                self.sessions.setdefault(int(m[1]), {})[m[2].lower()] = member
        parts = [member for kinds in self.sessions.values() for member in kinds.values()]
        if parts and all(member.encrypted for member in parts):
            # Fiddler's "Password-protected SAZ": every member would fail alike, one line each.  (One
            # member marked so, among others that are not, is a damaged one: it costs its session.)
            raise LogError(f"{where} is a password-protected Fiddler archive; dmsniff takes no archive "
                           "password: save the sessions again without one")

    def read(self, member: _Member) -> bytes | None:
        if self.total > MAX_TOTAL:
            return None
        try:
            data = self._read(member)
        except Exception as exc:  # untrusted compressed data: whatever its decompressor raises
            # (BadZipFile: a damaged member or CRC; RuntimeError: a password-protected archive;
            # NotImplementedError: an unknown compression; zlib.error, lzma.LZMAError, EOFError ...)
            self.errors.append(f"{member.name}: cannot be read ({exc}): {_lost(member.name)}")
            return None
        if data is None or len(data) > MAX_MEMBER:
            what = "cut short by the end of the file" if data is None else f"over {MAX_MEMBER >> 20} MiB"
            self.errors.append(f"{member.name}: {what}: {_lost(member.name)}")
            return None
        self.total += len(data)
        if self.total > MAX_TOTAL:
            self.errors.append(f"more than {MAX_TOTAL >> 20} MiB in all, once unpacked: the sessions after "
                               f"{member.name} are not read")
            return None
        return data

    def _read(self, member: _Member) -> bytes | None:
        if member.info is not None and self.zip is not None:
            with self.zip.open(member.info) as f:
                return f.read(MAX_MEMBER + 1)
        if member.method == 0:
            return self.data[member.start:member.end] if member.end >= 0 else None
        inflate = zlib.decompressobj(-15)
        out = inflate.decompress(self.data[member.start:member.end if member.end >= 0 else None],
                                 MAX_MEMBER + 1)
        return out if inflate.eof or len(out) > MAX_MEMBER else None


def _lost(name: str) -> str:
    """What an unreadable member costs."""
    kind = name[-5:-4].lower()  # raw/N_c.txt -> "c"
    if kind == "s":
        return "the session's response is left out"
    if kind == "m":
        return "the session's times and addresses are not known"
    return "its session is skipped"


def _scan(data: bytes) -> list[_Member]:
    """The members of a zip whose directory is lost, from their local headers: stored or deflated
    ones, with their sizes in the header or (a data descriptor follows) found by inflating."""
    members: list[_Member] = []
    # Bytes the search may inflate in all: a signature inside compressed data starts a false member
    # whose stream can run on, and a crafted file full of them would cost time by its size squared.
    budget = [2 * len(data) + (1 << 20)]
    pos = data.find(b"PK\x03\x04")
    while pos >= 0 and pos + _LOCAL.size <= len(data) and budget[0] > 0:
        _sig, _ver, flags, method, _t, _d, _crc, csize, _usize, nlen, xlen = _LOCAL.unpack_from(data, pos)
        start = pos + _LOCAL.size + nlen + xlen
        raw_name = data[pos + _LOCAL.size:pos + _LOCAL.size + nlen]
        name = raw_name.decode("utf-8" if flags & 0x800 else "cp437", "replace")
        end = -1
        if method in (0, 8):
            if not flags & 0x08 and csize != 0xFFFFFFFF:  # the size is in the header
                end = start + csize if start + csize <= len(data) else -1
            elif method == 8:  # after the data: the deflate stream says where it ends
                end = _inflated_end(data, start, budget)
            members.append(_Member(name, None, method, start, end, encrypted=bool(flags & 0x01)))
        nxt = data.find(b"PK\x03\x04", max(end, pos + 4))
        pos = nxt
    return members


def _inflated_end(data: bytes, start: int, budget: list[int]) -> int:
    """Where the raw deflate stream at ``start`` ends (-1: it does not, before the end of ``data`` or
    of ``budget``, the bytes left to inflate), inflated in pieces that are thrown away, so a member's
    size costs no memory."""
    inflate = zlib.decompressobj(-15)
    pos = start
    try:
        while pos < len(data) and not inflate.eof and budget[0] > 0:
            chunk = data[pos:pos + (1 << 16)]
            budget[0] -= len(chunk)
            inflate.decompress(chunk, 1 << 20)  # (at most 1 MiB out at a time: a bomb costs no memory)
            while inflate.unconsumed_tail and not inflate.eof:
                inflate.decompress(inflate.unconsumed_tail, 1 << 20)
            pos += len(chunk)
    except zlib.error:
        return -1
    return pos - len(inflate.unused_data) if inflate.eof else -1


def open_archive(data: bytes, where: str) -> _Archive:
    """The archive in ``data``; LogError (one line) when it is no zip or holds no session."""
    archive = _Archive(data, where)
    if not archive.sessions:
        raise LogError(f"{where} is a zip with no Fiddler sessions in it (no raw/N_c.txt)")
    return archive


def parse(archive: _Archive, errors: list[str], info: CaptureInfo) -> Iterator[LogMessage]:
    archive.errors = errors
    if archive.recovered:
        errors.append("the archive is cut short or damaged (its zip directory is lost): the sessions are "
                      "read from the members' own headers, as far as the file goes")
    sessions = archive.sessions
    info.frame_unit = "session"
    info.packets = len(sessions)
    info.notes.append("frames are Fiddler's session numbers; the client is each session's connection to "
                      "the proxy (x-clientip, x-clientport), the server the address Fiddler reached")
    last: list[float | None] = [None]  # the time of the session before
    for no in sorted(sessions):
        parts = sessions[no]
        if "c" not in parts:
            errors.append(f"session {no}: no request (raw/{no}_c.txt): skipped")
            continue
        yield from _session(archive, no, parts, errors, last)


def _session(archive: _Archive, no: int, parts: dict[str, _Member], errors: list[str],
             last: list[float | None]) -> Iterator[LogMessage]:
    raw_meta = archive.read(parts["m"]) if "m" in parts else None
    timers, flags = _meta(raw_meta) if raw_meta else ({}, {})
    request_time = _first_time(timers, _REQUEST_TIMES)
    if request_time is None and last[0] is not None:
        # No times (metadata cut off, or never written): the session before's keeps the order, where
        # a log's made-up times (from 1970, for logs without any) would stand among real ones.
        errors.append(f"session {no}: no times (raw/{no}_m.xml missing or unreadable): given the time of "
                      "the session before")
        request_time = last[0]
    response_time = _first_time(timers, _RESPONSE_TIMES) or request_time
    last[0] = response_time
    raw_request = archive.read(parts["c"])
    if raw_request is None:
        return
    request = parse_raw(raw_request, 0, len(raw_request))
    if request is None or not request.request:
        errors.append(f"session {no}: raw/{no}_c.txt is not an HTTP request: skipped")
        return
    uri, server = _origin_form(request.method, request.uri or "/", flags.get("x-hostip"))
    client_ip, client_port = flags.get("x-clientip"), flags.get("x-clientport")
    client = endpoint(client_ip, client_port) if client_ip else None
    # One client connection to the proxy: one connection here (keep-alive); else one per session.
    key = f"{client_ip}:{client_port}" if client_ip and client_port else f"s{no}"
    yield _message(no, request, request_time, key, client, server, uri=uri)
    if "s" not in parts:
        return
    raw_response = archive.read(parts["s"])
    if raw_response is None:
        return
    response = parse_raw(raw_response, 0, len(raw_response), request.method)
    if response is None or response.request:
        errors.append(f"session {no}: raw/{no}_s.txt is not an HTTP response: left out")
        return
    out = _message(no, response, response_time, key, client, server)
    out.first_time = _first_time(timers, _RESPONSE_STARTS)
    yield out


def _message(no: int, raw: RawHttp, t: float | None, key: str, client: str | None, server: str | None,
             uri: str | None = None) -> LogMessage:
    return LogMessage(line=no, request=raw.request, headers=raw.headers, body=raw.body, method=raw.method,
                      uri=uri if uri is not None else raw.uri, status=raw.status, reason=raw.reason,
                      version=raw.version, time=t, connection=key, client=client,
                      server=server if raw.request else None, complete=raw.complete, problems=raw.problems)
