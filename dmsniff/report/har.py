"""``--format har``: the HTTP exchanges as an HTTP Archive (HAR 1.2), decrypted where keys were given.

For the tools ACS and MDM developers already have: a browser's developer tools (Network panel,
import), HAR viewers, Postman and Insomnia imports, HAR replay tools; and ``dmsniff report x.har``
reads it back.  With ``-Y`` it holds the exchanges of the kept sessions only.

One entry per transaction that has a request, in report order, written as it comes:

- ``request.url`` is ``http(s)://HOST:PORT/path``: the Host header's name (else the server's
  address), the TCP port the server listened on, ``https`` when the exchange was decrypted from
  TLS; an absolute request target (a proxy's) is kept as sent.
- Bodies are as HAR wants them, with any Content-Encoding undone: text when they are UTF-8,
  else base64 with ``"encoding": "base64"``, for the request's ``postData`` too (HAR 1.2 names
  that key on responses only; Chromium's and dmsniff's readers take it on both).  A body cut by
  ``--max-body`` says so in the entry's ``comment``.
- ``serverIPAddress`` and ``connection`` (dmsniff's connection id) are the capture's; ``timings``
  are what the frames show (``send``: the request's first to last frame, ``wait``: to the
  response's first, ``receive``: to its last), in milliseconds.
- A request never answered gets status 0 and ``_error``, as browsers write a failed request.
- ``_dmsniff`` says where the entry came from: transaction id, capture, the frames of each side.
- Where the sessions are known before the entries are written (``-Y``, ``dmsniff export``, the
  UI), each is a HAR page (titled with its id, device and conversation) and its entries name it
  in ``pageref``, so a HAR viewer groups them by session; a plain report streams and has none.

A response seen without its request (a capture that started mid-exchange) has no URL for a HAR
entry and is left out.
"""

from __future__ import annotations

import base64
import datetime as _dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import parse_qsl, urlsplit

import orjson

from dmsniff import __version__
from dmsniff.model import HttpMessage, Transaction, endpoint_host
from dmsniff.pipeline.addons import Addon

if TYPE_CHECKING:
    from dmsniff.sessions.model import Session

#: Control characters that make a body binary for HAR (a text body may hold tabs and line ends).
_BINARY = bytes(c for c in range(32) if c not in (9, 10, 13))


class HarReport(Addon):
    """Writes one HAR document: its entries as transactions arrive, the closing at :meth:`done`."""

    needs_bodies = True  # a HAR holds the bodies

    def __init__(self, out: TextIO, pages: Mapping[str, tuple[float, str]] | None = None,
                 pagerefs: Mapping[str, str] | None = None) -> None:
        """``pages``: session id -> (start, title), when the sessions are known before the entries
        (``-Y``, an export); ``pagerefs``: transaction id -> its session's id."""
        self.out = out
        self.entries = 0
        self.left_out = 0  # responses without their request
        self.pagerefs = pagerefs or {}
        creator = orjson.dumps({"name": "dmsniff", "version": __version__}).decode()
        listed = orjson.dumps([
            {"startedDateTime": _iso(start), "id": sid, "title": title,
             "pageTimings": {"onContentLoad": -1, "onLoad": -1}}
            for sid, (start, title) in (pages or {}).items()], option=orjson.OPT_INDENT_2).decode()
        out.write(f'{{"log":{{"version":"1.2","creator":{creator},"pages":{listed},"entries":[')

    def transaction(self, tx: Transaction) -> None:
        entry = har_entry(tx)
        if entry is None:
            self.left_out += 1
            return
        page = self.pagerefs.get(tx.id)
        if page is not None:
            entry = {"pageref": page, **entry}
        self.out.write(",\n" if self.entries else "\n")
        self.out.write(orjson.dumps(entry, option=orjson.OPT_INDENT_2).decode())
        self.entries += 1

    def done(self) -> None:
        self.out.write("\n]}}\n")
        self.out.flush()


def write_har(out: TextIO, transactions: Iterable[Transaction], sessions: Sequence[Session] = ()) -> int:
    """A HAR of these transactions (the UI's and ``dmsniff export``'s), a page for each of the
    ``sessions`` they belong to; returns how many entries."""
    from dmsniff.report.select import Selection  # (what -Y keeps of a session names the pages too)

    kept = Selection()
    for s in sessions:
        kept.keep(s)
    report = HarReport(out, kept.sessions, kept.messages)
    for tx in transactions:
        report.transaction(tx)
    report.done()
    return report.entries


def session_transactions(sessions: Sequence[Session], store: Mapping[str, object]) -> list[Transaction]:
    """The HTTP transactions of these sessions' messages and connection requests, found in ``store``
    (id -> transaction or datagram), in the order their requests began."""
    ids = dict.fromkeys(i for s in sessions for i in s.exchange_ids())
    found = [tx for i in ids if isinstance(tx := store.get(i), Transaction)]
    return sorted(found, key=lambda t: (t.capture, (t.request or t.response).first_time))  # type: ignore[union-attr]


def har_entry(tx: Transaction) -> dict[str, Any] | None:
    """The HAR entry of one transaction; None when it has no request (nothing to name it by)."""
    req, resp = tx.request, tx.response
    if req is None:
        return None
    comments: list[str] = []
    scheme = "https" if tx.tls is not None else "http"
    port = tx.server.rsplit(":", 1)[1]
    address = endpoint_host(tx.server)
    uri = req.uri or "/"
    if uri[:8].lower().startswith(("http://", "https://")) and _parses(uri):
        url = uri  # absolute-form, as sent to a proxy
    else:
        name = _host_name((req.header("Host") or "").strip())
        if not name:
            name = f"[{address}]" if ":" in address else address
        url = f"{scheme}://{name}:{port}{uri if uri.startswith('/') else '/' + uri}"
    request: dict[str, Any] = {
        "method": req.method or "",
        "url": url,
        "httpVersion": req.version,
        "cookies": _cookies(req.headers, "cookie"),
        "headers": _headers(req.headers),
        "queryString": [{"name": n, "value": v}
                        for n, v in parse_qsl(urlsplit(url).query, keep_blank_values=True)],
        "headersSize": -1,
        "bodySize": req.body_length,
    }
    body = _content(req, comments, "request")
    if req.body_length or body.get("text"):
        post: dict[str, Any] = {"mimeType": req.header("Content-Type") or ""}
        post.update((k, v) for k, v in body.items() if k in ("text", "encoding"))
        request["postData"] = post
    start = req.first_time
    entry: dict[str, Any] = {
        "startedDateTime": _iso(start),
        "time": 0.0,
        "request": request,
    }
    if resp is None:
        entry["response"] = {"status": 0, "statusText": "", "httpVersion": "", "cookies": [], "headers": [],
                             "content": {"size": 0, "mimeType": ""}, "redirectURL": "", "headersSize": -1,
                             "bodySize": -1, "_error": "no response in the capture"}
        entry["timings"] = {"send": _ms(req.time - start), "wait": -1, "receive": -1}
        entry["time"] = _ms(req.time - start)
    else:
        content = _content(resp, comments, "response")
        content["mimeType"] = resp.header("Content-Type") or ""
        entry["response"] = {
            "status": resp.status or 0,
            "statusText": resp.reason or "",
            "httpVersion": resp.version,
            "cookies": _cookies(resp.headers, "set-cookie"),
            "headers": _headers(resp.headers),
            "content": content,
            "redirectURL": resp.header("Location") or "",
            "headersSize": -1,
            "bodySize": resp.body_length,
        }
        send, wait, receive = req.time - start, tx.response_time or 0.0, resp.time - resp.first_time
        entry["timings"] = {"send": _ms(send), "wait": _ms(wait), "receive": _ms(receive)}
        entry["time"] = _ms(resp.time - start)
    entry["cache"] = {}
    entry["serverIPAddress"] = address
    entry["connection"] = tx.connection
    if comments:
        entry["comment"] = "; ".join(comments)
    entry["_dmsniff"] = {
        "transaction": tx.id,
        "capture": tx.capture,
        "request_frames": req.frames,
        "response_frames": resp.frames if resp is not None else [],
    }
    return entry


def _content(msg: HttpMessage, comments: list[str], side: str) -> dict[str, Any]:
    """A body as HAR content: size (after Content-Encoding), text or base64, and why it is short."""
    data = msg.decoded_body if msg.decoded_body is not None else msg.body
    size = msg.decoded_length if msg.decoded_length is not None else msg.body_length
    out: dict[str, Any] = {"size": size}
    if len(msg.body) < msg.body_length or not msg.complete:
        comments.append(f"the {side} body is incomplete: {len(data):,} of {size:,} bytes")
    if msg.decoded_body is not None and msg.body_length != size:
        out["compression"] = size - msg.body_length
    if data:
        text = _text(data)
        if text is None:
            out["text"], out["encoding"] = base64.b64encode(data).decode("ascii"), "base64"
        else:
            out["text"] = text
    return out


def _text(data: bytes) -> str | None:
    """The body as text when it is UTF-8 without control characters (other than tab and line ends)."""
    if any(c in data for c in _BINARY):
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _headers(headers: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": n, "value": v} for n, v in headers]


def _cookies(headers: list[tuple[str, str]], which: str) -> list[dict[str, str]]:
    """HAR cookies: the name=value pairs of Cookie headers, or the first pair of each Set-Cookie."""
    out = []
    for name, value in headers:
        if name.lower() != which:
            continue
        pairs = value.split(";") if which == "cookie" else value.split(";", 1)[:1]
        for pair in pairs:
            key, eq, val = pair.strip().partition("=")
            if key and eq:
                out.append({"name": key, "value": val})
    return out


#: What a Host header's name may hold to stand in a URL (RFC 3986 reg-name and IP literals).
_HOST_NAME = re.compile(r"\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%!$&'()*+,;=-]+")


def _host_name(host: str) -> str:
    """The name part of a Host header (``[v6]`` kept bracketed); "" when it has none, or one no URL
    could carry (then the server's address stands in)."""
    m = _HOST_NAME.match(host)
    if m is None or (m.end() < len(host) and host[m.end()] != ":"):
        return ""
    return m.group()


def _parses(url: str) -> bool:
    try:
        urlsplit(url)
    except ValueError:  # a bracket never closed in the host
        return False
    return True


def _iso(t: float) -> str:
    return _dt.datetime.fromtimestamp(t, _dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _ms(seconds: float) -> float:
    return round(max(seconds, 0.0) * 1000, 3)
