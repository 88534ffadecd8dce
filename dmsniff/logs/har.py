"""HAR files (HTTP Archive 1.2): what browsers' developer tools, Playwright, mitmproxy and many
proxies save.

Each entry holds a request and its response, with ``startedDateTime``, ``time`` and ``timings``
(so the times are real: the request is taken as complete once sent, after ``blocked``, ``dns``,
``connect`` and ``send``; the response as begun ``wait`` later, and complete at the entry's end),
the server's address (``serverIPAddress``) and, from Chromium, the socket's
id (``connection``).  Bodies are as the browser saw them: the request's ``postData.text`` and
the response's ``content.text`` (base64 when ``encoding`` says so) after any Content-Encoding
was undone.  A HAR names no client address.

Frames are the lines where each entry's request and response begin (HAR writers indent their
JSON); a HAR written on one line has entry numbers instead.  A HAR cut short keeps every
entry before the cut.
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from dmsniff.capture import CaptureInfo
from dmsniff.logs.source import LogMessage, endpoint, origin_target

__all__ = ["looks_like", "parse"]

_ENTRIES = re.compile(r'"entries"\s*:\s*\[')
_KEY = re.compile(r'"(request|response)"\s*:\s*\{')


def looks_like(head: bytes) -> bool:
    text = head.lstrip(b"\xef\xbb\xbf\r\n\t ")
    return text.startswith(b"{") and b'"log"' in text[:2048] and (
        b'"entries"' in text or b'"creator"' in text or b'"version"' in text[:4096])


def _time(value: object) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        t = _dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=_dt.UTC)
    return t.timestamp()


def _headers(items: object) -> list[tuple[str, str]]:
    out = []
    for h in items if isinstance(items, list) else []:
        if isinstance(h, dict) and isinstance(h.get("name"), str) and not h["name"].startswith(":"):
            out.append((h["name"], str(h.get("value", ""))))
    return out


def _version(v: object) -> str:
    text = str(v or "HTTP/1.1")
    return text.upper() if text.lower().startswith("http/1") else text


def _text(obj: dict[str, Any], problems: list[str]) -> bytes | None:
    text = obj.get("text")
    if text is None:
        return None
    if not isinstance(text, str):
        problems.append(f"the body's text is a JSON {type(text).__name__}, not a string: left out")
        return None
    if obj.get("encoding") == "base64":
        try:
            return base64.b64decode(text)
        except (binascii.Error, ValueError):
            problems.append("the body is marked base64 but is not: taken as text")
    return str(text).encode("utf-8", "surrogatepass")


# The phases of an entry's timings before its request is sent whole (HAR 1.2: -1 when not known;
# "ssl" is part of "connect", so not added again).
_BEFORE_SENT = ("blocked", "dns", "connect", "send")


def _phases(start: float | None, timings: object) -> tuple[float | None, float | None]:
    """(when the request was sent whole, when the response's first byte came) from an entry's start
    and its timings (phases they do not give count 0; no first byte without a wait)."""
    if start is None or not isinstance(timings, dict):
        return start, None
    ms = {k: float(v) for k, v in timings.items()
          if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0}
    sent = start + sum(ms.get(k, 0.0) for k in _BEFORE_SENT) / 1000
    return sent, sent + ms["wait"] / 1000 if "wait" in ms else None


def _entries(text: str, errors: list[str]) -> Iterator[tuple[dict[str, Any], int, int]]:
    """(entry, its start offset, its end offset); stops with one error where the JSON breaks."""
    m = _ENTRIES.search(text)
    if m is None:
        errors.append("no log.entries in the HAR")
        return
    dec = json.JSONDecoder()
    pos = m.end()
    n = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= len(text):
            errors.append(f"the HAR is cut short after entry {n}: the entries before are kept")
            return
        if text[pos] == "]":
            return
        try:
            entry, end = dec.raw_decode(text, pos)
        except ValueError as exc:
            line = text.count("\n", 0, pos) + 1
            why = getattr(exc, "msg", exc)  # json's JSONDecodeError says it shortest
            errors.append(f"line {line}: entry {n + 1} of the HAR is broken or cut short ({why}): "
                          f"the {n} entries before it are kept")
            return
        n += 1
        if isinstance(entry, dict):
            yield entry, pos, end
        else:
            errors.append(f"entry {n} is not an object: skipped")
        pos = end


def parse(data: bytes, errors: list[str], info: CaptureInfo) -> Iterator[LogMessage]:
    text = data.decode("utf-8", "replace").lstrip("\ufeff")
    lines = text.count("\n") + (not text.endswith("\n"))
    info.packets = lines
    spans = list(_entries(text, errors))
    by_line = lines > len(spans)  # an indented HAR: every entry on lines of its own
    if not by_line:
        info.frame_unit = "entry"
        info.packets = len(spans)
    named_connections = any("connection" in e for e, _s, _e in spans)
    if not named_connections:
        info.notes.append("the HAR names no connections: the entries to one server are read as one "
                          "connection")
    info.notes.append("a HAR holds bodies after any Content-Encoding was undone, and no client address")
    line, at = 1, 0
    for no, (entry, start, end) in enumerate(spans, 1):
        where = {"request": no, "response": no}
        if by_line:
            found: set[str] = set()
            for k in _KEY.finditer(text, start, end):  # the first of each is the entry's own
                if k.group(1) not in found:
                    found.add(k.group(1))
                    line += text.count("\n", at, k.start())
                    at = k.start()
                    where[k.group(1)] = line
        yield from _messages(entry, where, named_connections, errors, no)


def _messages(entry: dict[str, Any], where: dict[str, int], named: bool, errors: list[str],
              no: int) -> Iterator[LogMessage]:
    req, resp = entry.get("request"), entry.get("response")
    if not isinstance(req, dict) or not isinstance(req.get("url"), str):
        errors.append(f"entry {no}: no request URL: skipped")
        return
    try:
        url = urlsplit(req["url"])
    except ValueError as exc:  # "http://[::1/x": a bracket never closed
        errors.append(f"entry {no}: the request URL {req['url'][:80]!r} does not parse ({exc}): skipped")
        return
    uri, port = origin_target(req["url"], url)
    address = entry.get("serverIPAddress")
    server = endpoint(address if isinstance(address, str) and address else url.hostname, port)
    key = f"{entry['connection']}" if named and entry.get("connection") is not None else server
    start = _time(entry.get("startedDateTime"))
    sent, answered = _phases(start, entry.get("timings"))
    problems: list[str] = []
    post = req.get("postData") if isinstance(req.get("postData"), dict) else None
    body = b""
    if post is not None:
        got = _text(post, problems)
        if got is None and isinstance(post.get("params"), list):
            got = urlencode([(p.get("name", ""), p.get("value", "")) for p in post["params"]
                             if isinstance(p, dict)]).encode()
        body = got or b""
    size = req.get("bodySize")
    msg = LogMessage(line=where["request"], request=True, headers=_headers(req.get("headers")), body=body,
                     method=str(req.get("method") or "GET"), uri=uri,
                     version=_version(req.get("httpVersion")),
                     time=sent, connection=key, server=server, wire_body=False, problems=problems)
    if type(size) is int and size > 0 and not body:  # (type: a JSON true is no size)
        msg.body_length, msg.complete = size, False
        msg.problems.append(f"the HAR does not hold the request body ({size} bytes)")
    yield msg
    if not isinstance(resp, dict):
        return
    status = resp.get("status")
    if type(status) is not int or status <= 0:
        # No response (blocked, failed, aborted): the request stands alone.
        error = resp.get("_error") or entry.get("_error") or "no response"
        msg.problems.append(f"the HAR records no response: {error}")
        return
    total = entry.get("time")
    end_time = start + float(total) / 1000 if start is not None and isinstance(total, int | float) else start
    rproblems: list[str] = []
    content: dict[str, Any] = resp["content"] if isinstance(resp.get("content"), dict) else {}
    rbody = _text(content, rproblems)
    out = LogMessage(line=where["response"], request=False, headers=_headers(resp.get("headers")),
                     body=rbody or b"", status=status, reason=str(resp.get("statusText") or ""),
                     version=_version(resp.get("httpVersion")), time=end_time, first_time=answered,
                     connection=key,
                     wire_body=False, problems=rproblems)
    size = content.get("size")
    if rbody is None and type(size) is int and size > 0:
        out.body_length, out.complete = size, False
        out.problems.append(f"the HAR does not hold the response body ({size} bytes)")
    yield out
