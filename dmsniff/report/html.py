"""The HTML report: one self-contained page to mail, open offline, read at a glance.

``dmsniff report --format html -o report.html CAPTURE...`` and the TUI's ``H`` write it;
``dmsniff export SESSION --as html`` writes the page of one session.  Everything is inside
the file: the styles, the script (both allowed by their hashes in the page's own Content
Security Policy, which forbids every fetch: ``default-src 'none'``), the overview's charts as
inline SVG, and the data.

What keeps a page of 10,000 sessions quick:

- the overview is HTML and SVG made here, painted before any script runs;
- the sessions table is an index (one small JSON row per session, with just what the filter
  language needs) drawn by the script as a virtual list: only the rows in view exist;
- each session's detail (its sequence chart, every message decoded, its XML, HTTP headers and
  frames, credentials, findings) and each device's (identity, parameter history, DM tree) is a
  gzip'd JSON blob in its own inert ``<script type="application/gzip+json">``, unpacked with the
  browser's DecompressionStream only when it is opened;
- each session's detail has a budget (:data:`SESSION_BUDGET` bytes of JSON, XML cut at
  :data:`XML_LIMIT` characters a message), so the file grows by a bounded amount per session;
  :attr:`HtmlReport.summary` says how much it came to.

Secrets are masked (HTTP Basic credentials, SyncML auth-basic Cred data, the values of
parameters and tree nodes named like passwords) unless ``show_secrets``: the page is made to
be shared.

Written as a pipeline addon like the other writers: message details are spooled to a temporary
file as exchanges complete, and sessions' blobs as sessions end, so memory holds the index, not
the capture.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import IO, Any, TextIO

import orjson

from decoders import wbxml
from decoders.syncml import SyncMLMessage
from dmsniff import __version__
from dmsniff.capture import CaptureError, CaptureInfo
from dmsniff.model import ConnectionEnd, Datagram, Finding, HttpMessage, TlsFacts, Transaction, connection_of
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.report import msc
from dmsniff.report.records import auth_record, plain, session_auth
from dmsniff.report.text import format_time
from dmsniff.sessions.labels import conversation
from dmsniff.sessions.model import Device, ParameterObservation, Session, SessionMessage
from dmsniff.verify.model import AuthResult, badge

XML_LIMIT = 8 << 10  # characters of one message's XML kept
RECORD_LIST_LIMIT = 200  # items of one list in a decoded record kept
SESSION_BUDGET = 128 << 10  # bytes of JSON detail per session; later messages keep their headers only
AUTH_ROWS = 10_000  # credentials listed one by one in the verification table; the rest are counted
FINDING_ROWS = 10_000  # findings listed one by one (their rules are all counted, with references)
FINDING_TEXTS = 10  # distinct finding messages per session that the page's free-text filter searches
HISTORY_VALUES = 200  # values kept per parameter of a device (the newest), with the count of all
MASK = "••••••"

_SECRET_NAME = re.compile(r"(password|passwd|passphrase|presharedkey|wepkey|secret)\Z", re.IGNORECASE)
_DATA_MSG = re.compile(r"(<Data>)([^<]*)(</Data>)")


def secret_name(name: str) -> bool:
    """Whether a parameter or tree node holds a secret (``...ConnectionRequestPassword``, ``AAuthSecret``):
    its last name ends so."""
    return _SECRET_NAME.search(name.rstrip("./")) is not None


# ------------------------------------------------------------------------------------ masking


def mask_header(name: str, value: str) -> str:
    """HTTP Basic credentials are a password in base64: masked.  Digest answers are hashes, kept."""
    if name.lower() in ("authorization", "proxy-authorization"):
        scheme, _, rest = value.partition(" ")
        if scheme.lower() == "basic" and rest:
            return f"{scheme} {MASK} (masked: --show-secrets shows it)"
    return value


def _mask_cred(block: str) -> str:
    if "auth-basic" not in block:
        return block
    return _DATA_MSG.sub(lambda d: d.group(1) + MASK + d.group(3), block)


def _mask_value(m: re.Match[str]) -> str:
    return m.group(1) + (MASK if m.group(3) and secret_name(m.group(2)) else m.group(3)) + m.group(4)


def _mask_item(block: str) -> str:
    uri = re.search(r"<LocURI>([^<]*)</LocURI>", block)
    if uri is None or not secret_name(uri.group(1)):
        return block
    return _DATA_MSG.sub(lambda d: d.group(1) + (MASK if d.group(2).strip() else "") + d.group(3), block)


def _blocks(text: str, tag: str, mask: Callable[[str], str]) -> str:
    """``text`` with each ``<tag>...</tag>`` block (to the first close after its open) replaced by
    ``mask(block)``.  Not ``re.sub(r"<tag>.*?</tag>")``: with many opens and no close, the regex
    scans to the end of the text from every open, and 60,000 unclosed Items took minutes."""
    start, end = f"<{tag}>", f"</{tag}>"
    out: list[str] = []
    pos = 0
    while (i := text.find(start, pos)) >= 0:
        j = text.find(end, i + len(start))
        if j < 0:  # no close after this open, hence none after any later one
            break
        j += len(end)
        out.append(text[pos:i])
        out.append(mask(text[i:j]))
        pos = j
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def mask_xml(text: str) -> str:
    """The secrets of a CWMP or SyncML document masked in its text (see the module's docstring)."""
    if "<Cred>" in text:
        text = _blocks(text, "Cred", _mask_cred)
    if "<Name>" in text:
        text = re.sub(r"(<Name>([^<]*)</Name>\s*<Value[^>]*>)([^<]*)(</Value>)", _mask_value, text)
    if "<Item>" in text:
        text = _blocks(text, "Item", _mask_item)
    return text


def mask_record(value: Any) -> Any:
    """A plain (JSON-ready) decoded record with its secrets masked: the ``value``/``data`` of an entry
    whose name, target or URI names a password, and the data of a SyncML auth-basic Cred."""
    return _cap(value, True)


# ------------------------------------------------------------------------------- small helpers


_NAME_KEYS = ("name", "target", "source", "uri")


def _cap(value: Any, mask: bool) -> Any:
    """A plain record with long lists cut (``… N more``), so one message cannot fill a session's budget,
    empty fields left out, and (``mask``) its secrets masked as :func:`mask_record` does.  One pass:
    a session's records hold thousands of values."""
    t = type(value)
    if t is dict:
        out = {k: v if type(v) in _SCALARS else _cap(v, mask) for k, v in value.items()
               if v is not None and v != "" and v != [] and v != {}}
        if mask:
            for key in _NAME_KEYS:
                name = value.get(key)
                if type(name) is str and _SECRET_NAME.search(name.rstrip("./")) is not None:
                    for secret in ("value", "data"):
                        if out.get(secret):
                            out[secret] = MASK
                    break
            if value.get("data") and "basic" in str(value.get("type", "")):
                out["data"] = MASK  # a SyncML Cred of type syncml:auth-basic
        return out
    if t is list:
        head = [v if type(v) in _SCALARS else _cap(v, mask) for v in value[:RECORD_LIST_LIMIT]]
        if len(value) > RECORD_LIST_LIMIT:
            head.append(f"… {len(value) - RECORD_LIST_LIMIT} more")
        return head
    if t is str and len(value) > 4096:
        return value[:4096] + f"… ({len(value) - 4096} more characters)"
    return value


_SCALARS = frozenset({int, float, bool})  # strings go through _cap: a long one is cut


def _size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    return f"{n / 1024:.1f} KiB" if n < 1 << 20 else f"{n / 1048576:.1f} MiB"


def pack(obj: Any) -> tuple[str, int]:
    """``obj`` as gzip'd JSON in base64 (what the page's script unpacks), and the JSON's size."""
    raw = orjson.dumps(obj, default=plain)
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii"), len(raw)


def script_json(obj: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>`` or ``<!--`` can close or confuse it."""
    return orjson.dumps(obj, default=plain).decode().replace("<", "\\u003c").replace(">", "\\u003e")


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# ------------------------------------------------------------------------------ message detail


def _http_text(msg: HttpMessage, show_secrets: bool) -> str:
    first = (f"{msg.method} {msg.uri} {msg.version}" if msg.method
             else f"{msg.version} {msg.status} {msg.reason}")
    lines = [first]
    for k, v in msg.headers:
        lines.append(f"{k}: {v if show_secrets else mask_header(k, v)}")
    extra = f" ({msg.decoded_length} decoded)" if msg.decoded_length is not None else ""
    lines.append("")
    lines.append(f"{msg.body_length} body bytes{extra}" + ("" if msg.complete else "  [incomplete]"))
    lines.extend(f"! {p}" for p in msg.problems)
    return "\n".join(lines)


def _xml_of(msg: HttpMessage) -> str | None:
    """The body as XML text (WBXML decoded to XML); the page indents it when shown."""
    body = msg.content
    if not body:
        return None
    proto = msg.protocol
    if isinstance(proto, SyncMLMessage) and proto.encoding == "wbxml":
        doc = wbxml.decode(body)
        return wbxml.to_xml(doc).decode("utf-8", "replace") if isinstance(doc, wbxml.WbxmlDocument) else None
    if body.lstrip()[:1] != b"<":
        return None
    return body.decode("utf-8", "replace")


def _tls_text(info: Any) -> str:
    what = f"{info.version_name} {info.suite_name}" if info.suite_name else info.version_name
    how = f" ({info.key_source})" if info.key_source else ""
    extra = [f"SNI {info.sni}"] if info.sni else []
    if info.resumed:
        extra.append(f"resumed ({info.resumed})")
    tail = ("\n" + "  ".join(extra)) if extra else ""
    return f"{'decrypted from' if info.decrypting else 'carried by'} {what}{how}{tail}"


def http_detail(msg: HttpMessage, tls: Any, show_secrets: bool) -> dict[str, Any]:
    """One HTTP message as the page's HTTP, XML and Frames tabs show it."""
    out: dict[str, Any] = {"http": _http_text(msg, show_secrets)}
    if tls is not None:
        out["tls"] = _tls_text(tls)
    xml = _xml_of(msg)
    if xml is not None:
        if not show_secrets:
            xml = mask_xml(xml)
        if len(xml) > XML_LIMIT:
            out["xml_cut"] = len(xml) - XML_LIMIT
            xml = xml[:XML_LIMIT]
        out["xml"] = xml
    elif msg.body_length and not msg.body:
        out["xml_note"] = "(body not kept)"
    carried = "its TLS records ended in frames" if tls is not None else "carried by frames"
    frames = ", ".join(map(str, msg.frames[:200]))
    more = f" and {msg.frames_omitted + max(0, len(msg.frames) - 200)} more" if (
        msg.frames_omitted or len(msg.frames) > 200) else ""
    out["frames"] = f"completed in frame {msg.frame}; {carried} {frames}{more}"
    return out


def datagram_detail(dg: Datagram) -> dict[str, Any]:
    return {
        "http": f"UDP {dg.src}:{dg.sport} → {dg.dst}:{dg.dport}, {len(dg.payload)} bytes, frame {dg.frame}",
        "frames": f"frame {dg.frame}",
    }


def command_lines(m: SessionMessage, show_secrets: bool) -> list[list[Any]]:
    """The SyncML commands as the TUI's Decoded tab lists them: [text, ok] per command."""
    out = []
    for c in m.commands:
        line = "  " * c.depth + f"{c.name} {c.cmd_id or '(no CmdID)'}"
        ok = True
        if c.name in ("Status", "Results"):
            line += f" → {c.cmd or '?'} {c.cmd_ref} of msg {c.msg_ref}"
            if c.answers is not None:
                line += f" (frame {c.answers})"
        if c.code is not None:
            ok = c.code < 300 or c.name == "Alert"
            line += f"  {c.code} {c.meaning or ''}"
        if c.targets:
            line += "  " + ", ".join(c.targets[:4])
        if c.data:
            secret = not show_secrets and any(secret_name(t) for t in c.targets)
            line += f"  = {MASK if secret else c.data}"
        out.append([line, ok])
    return out


_SECRET_ANY = re.compile(rb"password|passwd|passphrase|presharedkey|wepkey|secret|basic", re.IGNORECASE)
_FAST_RECORD = 16 << 10


def _record(rec: object, mask: bool) -> Any:
    """A decoded record for the page.  orjson encodes the frozen dataclasses in C; a record that is not
    long and names no secret goes into the page as that JSON (a Fragment, not parsed again), the others
    through :func:`_cap`."""
    try:
        raw = orjson.dumps(rec, default=plain)
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return _cap(plain(rec), mask)  # what orjson refuses (an integer over 64 bits ...)
    if len(raw) <= _FAST_RECORD and not (mask and _SECRET_ANY.search(raw)):
        return orjson.Fragment(raw)
    return _cap(orjson.loads(raw), mask)


def decoded(step: msc.Step, show_secrets: bool) -> dict[str, Any]:
    """What the Decoded tab shows: a heading, the commands, the record as a tree, the notes."""
    if step.request is not None:
        cr = step.request
        fields = [[k, v] for k, v in (("target", cr.target), ("from", cr.client), ("status", cr.status),
                                      ("copies", cr.copies), ("STUN binding", cr.stun_binding),
                                      ("device", cr.device)) if v is not None]
        rec = plain(cr.record) if cr.record is not None else None
        return {"head": f"{cr.kind.upper()} connection request {cr.id}", "fields": fields,
                "record": _cap(rec, not show_secrets)}
    m = step.message
    assert m is not None
    out: dict[str, Any] = {"head": f"{m.kind}  {m.http}"}
    if m.commands:
        out["commands"] = command_lines(m, show_secrets)
    if m.record is not None:
        out["record"] = _record(m.record, not show_secrets)
    if m.notes:
        out["notes"] = list(m.notes)
    return out


# ------------------------------------------------------------------------------------- charts

_PALETTE = ["#0b6e99", "#1b7f3b", "#9c2a9c", "#a66a00", "#c62828", "#52606d", "#2f6f8f", "#7a5c00"]
SEVERITY_COLOURS = {"error": "#c62828", "warning": "#a66a00", "info": "#0b6e99", "": "#1b7f3b"}
AUTH_COLOURS = {"valid": "#1b7f3b", "invalid": "#c62828", "no-secret": "#a66a00", "unverifiable": "#9c2a9c"}


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def bar_chart(title: str, items: list[tuple[str, int, str]], *, width: int = 460, limit: int = 12) -> str:
    """Horizontal bars, largest first: what a person reads at a glance.  Items beyond ``limit`` are
    summed into one "other" bar."""
    items = sorted(items, key=lambda it: -it[1])
    if len(items) > limit:
        rest = sum(v for _l, v, _c in items[limit - 1:])
        items = [*items[: limit - 1], (f"{len(items) - limit + 1} others", rest, "#9aa5b1")]
    row, top, label_w = 20, 26, 210
    height = top + max(1, len(items)) * row + 8
    top_value = max((v for _l, v, _c in items), default=0) or 1
    out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{_esc(title)}" font-family="DejaVu Sans, Segoe UI, Helvetica, Arial, sans-serif" '
           f'font-size="12"><text x="0" y="15" font-weight="bold" font-size="13">{_esc(title)}</text>']
    if not items:
        out.append(f'<text x="0" y="{top + 14}" fill="#7b8794">none</text>')
    for i, (label, value, colour) in enumerate(items):
        y = top + i * row
        w = max(2.0, (width - label_w - 60) * value / top_value)
        shown = label if len(label) <= 30 else label[:29] + "…"
        out.append(
            f'<g><title>{_esc(label)}: {value:,}</title>'
            f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_esc(shown)}</text>'
            f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" rx="2" fill="{colour}"/>'
            f'<text x="{label_w + w + 5:.1f}" y="{y + 13}" fill="#3e4c59">{value:,}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def timeline_chart(rows: list[dict[str, Any]], t0: float, t1: float, *, width: int = 860) -> str:
    """Sessions over capture time: a bar per session (start to end, coloured by its worst finding)
    when there are few, else how many sessions started in each slice of the capture, stacked by
    their worst finding."""
    span = max(t1 - t0, 1e-6)
    left, right = 60, 12
    plot = width - left - right
    title = "Sessions over capture time"
    if len(rows) <= 40:
        row = 14
        height = 40 + max(1, len(rows)) * row + 20
        out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
               'role="img" aria-label="sessions over capture time" font-family="DejaVu Sans, Segoe UI, '
               f'Helvetica, Arial, sans-serif" font-size="11"><text x="0" y="15" font-weight="bold" '
               f'font-size="13">{title}</text>']
        for i, r in enumerate(sorted(rows, key=lambda r: r["start"])):
            y = 30 + i * row
            x = left + plot * (r["start"] - t0) / span
            w = max(3.0, plot * (r["end"] - r["start"]) / span)
            colour = SEVERITY_COLOURS[r["sev"]]
            device = r["device"] or "(no device)"  # (a SyncML message without SyncHdr names none)
            out.append(f'<a href="#session/{_esc(r["id"])}"><g><title>{_esc(r["id"])} {_esc(r["proto"])} '
                       f'{_esc(device)} +{r["start"] - t0:.3f}s, {r["end"] - r["start"]:.3f}s, '
                       f'{r["msgs"]} messages</title>'
                       f'<text x="{left - 4}" y="{y + 10}" text-anchor="end">{_esc(r["id"])}</text>'
                       f'<rect x="{x:.1f}" y="{y + 1}" width="{w:.1f}" height="{row - 4}" rx="2" '
                       f'fill="{colour}"/></g></a>')
        base = 30 + len(rows) * row
    else:
        bins = 60
        counts = [[0, 0, 0, 0] for _ in range(bins)]  # ok, info, warning, error
        order = {"": 0, "info": 1, "warning": 2, "error": 3}
        for r in rows:
            b = min(bins - 1, int(bins * (r["start"] - t0) / span))
            counts[b][order[r["sev"]]] += 1
        top = max((sum(c) for c in counts), default=1) or 1
        ph = 120
        height = 30 + ph + 30
        out = [f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
               'role="img" aria-label="sessions over capture time" font-family="DejaVu Sans, Segoe UI, '
               f'Helvetica, Arial, sans-serif" font-size="11"><text x="0" y="15" font-weight="bold" '
               f'font-size="13">{title} (sessions started per {span / bins:.3g} s)</text>'
               f'<text x="{left - 4}" y="34" text-anchor="end">{top:,}</text>'
               f'<text x="{left - 4}" y="{30 + ph}" text-anchor="end">0</text>']
        bw = plot / bins
        colours = [SEVERITY_COLOURS[""], SEVERITY_COLOURS["info"], SEVERITY_COLOURS["warning"],
                   SEVERITY_COLOURS["error"]]
        for i, c in enumerate(counts):
            bar_y = 30.0 + ph
            parts = []
            for k in range(4):
                if c[k]:
                    h = ph * c[k] / top
                    bar_y -= h
                    parts.append(f'<rect x="{left + i * bw:.1f}" y="{bar_y:.1f}" '
                                 f'width="{max(bw - 1, 1):.1f}" height="{h:.1f}" fill="{colours[k]}"/>')
            if parts:
                out.append(f"<g><title>+{span * i / bins:.3f} s: {sum(c):,} sessions ({c[3]} with errors, "
                           f"{c[2]} with warnings)</title>{''.join(parts)}</g>")
        base = 30 + ph
    out.append(f'<line x1="{left}" y1="{base + 2}" x2="{left + plot}" y2="{base + 2}" stroke="#9aa5b1"/>'
               f'<text x="{left}" y="{base + 16}">+0 s</text>'
               f'<text x="{left + plot}" y="{base + 16}" text-anchor="end">+{span:.3f} s</text></svg>')
    return "".join(out)


# -------------------------------------------------------------------------------- the addon


@dataclass(slots=True)
class _Blob:
    """Where a session's or device's packed detail sits in the spool, and its sizes."""

    offset: int
    length: int  # base64 characters
    raw: int  # bytes of JSON before packing


class HtmlReport(Addon):
    """Collects a run's records and writes the page at :meth:`done`.

    ``single``: the id of the one session the page is about (``dmsniff export --as html``): only
    it is kept, and the page opens on it.
    """

    needs_bodies = True  # the XML tab

    def __init__(self, out: TextIO, *, show_secrets: bool = False, single: str | None = None,
                 title: str | None = None) -> None:
        self.out = out
        self.show_secrets = show_secrets
        self.single = single
        self.title = title
        self.started = time.monotonic()
        self.captures: list[dict[str, Any]] = []
        self.capture_paths: dict[int, str] = {}
        self._spool: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in done()
        self._end = 0
        self._details: dict[str, tuple[int, int]] = {}  # transaction/datagram id -> spooled detail
        self._blobs: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in done()
        self._blob_end = 0
        self.session_blobs: dict[str, _Blob] = {}
        self.device_blobs: dict[str, _Blob] = {}
        self.tls_connections: set[str] = set()  # connections some exchange was decrypted from
        self.tls_facts: dict[str, dict[str, Any]] = {}  # connection -> what the tls: filter needs
        self.rows: list[dict[str, Any]] = []
        self._pending: list[Session] = []  # sessions whose last exchange is not spooled yet
        self.session_conns: dict[str, list[str]] = {}
        self.tx_session: dict[str, str] = {}  # exchange or datagram id -> the session it was part of
        self.devices: list[dict[str, Any]] = []
        # every finding, sessions' and loose ones: [severity, code, message, frames, session]
        self.findings: list[list[Any]] = []
        self.findings_total = 0
        self.auth_rows: list[dict[str, Any]] = []
        self.auth_total = 0
        self.auth_counts: Counter[tuple[str, str, str, str]] = Counter()
        self.kinds: Counter[str] = Counter()
        self.codes: Counter[str] = Counter()
        self.severities: Counter[str] = Counter()
        self.finding_codes: Counter[tuple[str, str, str]] = Counter()
        self.messages = 0
        self.summary = ""  # what was written, for the closing line on stderr
        self.written = 0  # characters written

    # -- spools --------------------------------------------------------------------------------
    def _spool_detail(self, ident: str, detail: dict[str, Any]) -> None:
        data = orjson.dumps(detail)
        self._spool.seek(self._end)
        self._spool.write(data)
        self._details[ident] = (self._end, len(data))
        self._end += len(data)

    def _detail(self, ident: str) -> dict[str, Any] | None:
        where = self._details.get(ident)
        if where is None:
            return None
        self._spool.seek(where[0])
        result: dict[str, Any] = orjson.loads(self._spool.read(where[1]))
        return result

    def _add_blob(self, obj: Any) -> _Blob:
        text, raw = pack(obj)
        data = text.encode("ascii")
        self._blobs.seek(self._blob_end)
        self._blobs.write(data)
        blob = _Blob(self._blob_end, len(data), raw)
        self._blob_end += len(data)
        return blob

    # -- pipeline hooks --------------------------------------------------------------------------
    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.capture_paths[index] = info.path

    def capture_end(self, summary: CaptureSummary) -> None:
        self._flush()
        self.captures.append(summary.to_dict())

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.captures.append({"path": path, "format": None, "packets": 0, "errors": [str(error)]})

    def transaction(self, tx: Transaction) -> None:
        if tx.tls is not None:
            self.tls_connections.add(tx.connection)
        detail: dict[str, Any] = {}
        if tx.request is not None:
            detail["req"] = http_detail(tx.request, tx.tls, self.show_secrets)
        if tx.response is not None:
            detail["resp"] = http_detail(tx.response, tx.tls, self.show_secrets)
        self._spool_detail(tx.id, detail)
        if self._pending:
            self._flush()

    def datagram(self, dg: Datagram) -> None:
        if dg.protocol is not None:  # only those a decoder claimed can be part of a session
            self._spool_detail(dg.id, {"req": datagram_detail(dg)})
        if self._pending:
            self._flush()

    def connection_end(self, end: ConnectionEnd) -> None:
        if self._pending:
            self._flush()
        if end.tls is not None:
            self.add_tls(end.tls)

    def add_tls(self, facts: TlsFacts) -> None:
        from dmsniff.sessions.tls import tls_state
        from dmsniff.tui.views import tls_connection_text

        s = facts.summary
        self.tls_facts[facts.connection] = {
            "version": s.info.version_name if s.info.version is not None else None,
            "encrypted": tls_state(facts) == "encrypted",
            "resumed": bool(s.info.resumed),
            "text": tls_connection_text(facts.connection, None, facts).plain,
        }

    def add_transactions(self, records: Iterable[Transaction | Datagram]) -> None:
        """Exchanges kept elsewhere (the TUI's), before their sessions are added."""
        for rec in records:
            if isinstance(rec, Transaction):
                self.transaction(rec)
            else:
                self.datagram(rec)

    def session(self, session: Session) -> None:
        if self.single is not None and session.id != self.single:
            return
        # A builder hands a session on from inside its hook for the exchange that ended it, before
        # this addon (after the builders) has seen that exchange: its detail is made once it has.
        self._pending.append(session)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        for s in pending:
            self._add_session(s)

    def _add_session(self, session: Session) -> None:
        self.rows.append(self._row(session))
        for m in session.messages:
            self.tx_session.setdefault(m.transaction, session.id)
        for cr in session.connection_requests:
            self.tx_session.setdefault(cr.id, session.id)
        self.session_blobs[session.id] = self._add_blob(self._session_detail(session))
        for f in session.findings:
            self._add_finding(f)

    def finding(self, finding: Finding) -> None:
        if self.single is None:
            self._add_finding(finding)

    def auth(self, result: AuthResult) -> None:
        if self.single is not None:
            return  # the session's page lists its own
        self.auth_total += 1
        self.auth_counts[(result.scheme, result.identity or "", result.result, result.matched or "")] += 1
        if len(self.auth_rows) < AUTH_ROWS:
            self.auth_rows.append(_auth_row(result))

    def device(self, device: Device) -> None:
        if self.single is not None:
            return
        detail = self._device_detail(device)
        self.device_blobs[device.id] = self._add_blob(detail)
        self.devices.append({
            "id": device.id, "proto": device.protocol,
            "identity": " ".join(f"{k}={v}" for k, v in device.identity.items() if k != "DevId"),
            "addresses": ", ".join(device.addresses), "sessions": len(device.sessions),
            "params": len(device.parameters), "names": detail["names"], "sids": list(device.sessions),
        })

    # -- records -----------------------------------------------------------------------------------
    def _add_finding(self, f: Finding) -> None:
        self.findings_total += 1
        self.severities[f.severity] += 1
        self.finding_codes[(f.code, f.severity, f.reference)] += 1
        if len(self.findings) < FINDING_ROWS:
            # [severity, code, message, frames, session]: the reference is in the table of rules
            self.findings.append([f.severity, f.code, f.message, f.frames[:8], f.session])

    def _row(self, s: Session) -> dict[str, Any]:
        """The sessions table's row: what it shows and what the filter language asks of a session."""
        kinds: set[str] = set()
        statuses: set[int] = set()
        faults: set[int] = set()
        for m in s.messages:
            self.messages += 1
            kinds.add(m.kind)
            self.kinds[m.kind if m.package is None else f"{m.kind} (DM)"] += 1
            if m.status is not None:
                statuses.add(m.status)
                if m.status >= 300:
                    self.codes[f"HTTP {m.status}"] += 1
            for c in m.commands:
                kinds.add(c.name)
                if c.depth == 0 and c.name not in ("Status", "Results"):
                    self.kinds[f"{c.name} (DM)"] += 1
                if c.name == "Status" and c.code is not None:
                    statuses.add(c.code)
                    if c.code >= 300:
                        self.codes[f"DM Status {c.code}"] += 1
            fault = getattr(m.record, "fault", None)
            if fault is not None:
                # -1: a fault without a code (``fault:`` alone matches it, no code does)
                faults.add(fault.code if fault.code is not None else -1)
                if fault.code is not None:
                    self.codes[f"Fault {fault.code}"] += 1
                faults.update(pf.code for pf in fault.parameter_faults if pf.code is not None)
        results = [a for a in session_auth(s) if isinstance(a, AuthResult)]
        worst = min((f.severity for f in s.findings), key=lambda x: msc.SEVERITY_ORDER.get(x, 9), default="")
        conns = sorted({conn for m in s.messages if (conn := connection_of(m.transaction)) is not None})
        self.session_conns[s.id] = conns
        return {
            "id": s.id, "proto": s.protocol, "cap": s.capture, "start": s.start, "end": s.end,
            "device": s.device_id, "dvals": list(s.device.values()) if s.device else [],
            "client": s.client, "server": s.server, "sname": s.server_name, "sid": s.session_id,
            "msgs": len(s.messages), "conv": conversation(s), "why": s.end_reason,
            "kinds": sorted(kinds), "status": sorted(statuses), "faults": sorted(faults),
            "auth": sorted({a.result for a in results}), "badge": badge(results) or "",
            # (severity, code) once each for the finding: field, and the first distinct messages for free text
            "find": sorted({(f.severity, f.code) for f in s.findings}), "nfind": len(s.findings),
            "fm": list(dict.fromkeys(f.message for f in s.findings))[:FINDING_TEXTS], "sev": worst,
            "events": list(s.events),
            "pkgs": sorted({m.package for m in s.messages if m.package is not None}),
            "tls": None,
        }

    def _session_detail(self, s: Session) -> dict[str, Any]:
        chart = msc.chart(s, self.tls_connections)
        all_steps = msc.steps(s)
        budget = SESSION_BUDGET
        out_steps = []
        cut = 0
        for st, arrow in zip(all_steps, chart.arrows, strict=True):
            item: dict[str, Any] = {"label": arrow.label, "offset": arrow.offset, "frame": arrow.frame,
                                    "tx": arrow.transaction, "decoded": decoded(st, self.show_secrets)}
            detail = self._detail(arrow.transaction) or {}
            if st.request is not None or (st.message is not None and st.message.transaction.startswith("U")):
                msg = detail.get("req")  # a connection request's GET, or a datagram
            else:
                assert st.message is not None
                msg = detail.get("req" if st.message.direction == "to_server" else "resp")
            if msg is not None:
                item.update(msg)
            results = st.request.auth if st.request is not None else st.message.auth if st.message else []
            item["auth"] = [_auth_row(a) for a in results if isinstance(a, AuthResult)]
            size = len(orjson.dumps(item, default=plain))
            if size > budget:
                cut += 1
                for key in ("xml", "decoded"):
                    item.pop(key, None)
                item["cut"] = (f"not kept: this session's detail is over the page's budget of "
                               f"{SESSION_BUDGET >> 10} KiB (dmsniff report --format json has it all)")
                size = len(orjson.dumps(item, default=plain))
            budget -= size
            out_steps.append(item)
        steps_of: dict[int, int] = {}
        for a in chart.arrows:
            steps_of.setdefault(a.frame, a.index)
        findings = []
        for f in s.findings:
            findings.append({"severity": f.severity, "code": f.code, "message": f.message, "frames": f.frames,
                             "reference": f.reference,
                             "steps": sorted({steps_of[fr] for fr in f.frames if fr in steps_of})})
        crs = []
        for cr in s.connection_requests:
            extra = f" ×{cr.copies}" if cr.copies > 1 else ""
            status = f" → {cr.status}" if cr.status is not None else ""
            crs.append(f"caused by {cr.kind.upper()} connection request {cr.id} {cr.target}{status}{extra} "
                       f"(frames {', '.join(map(str, cr.frames[:8]))})")
        objects = [f"large object {o.target} ({o.direction.replace('_', ' ')}): {o.chunks} chunks, "
                   f"{o.size} bytes" + (f" of {o.declared_size}" if o.declared_size is not None else "")
                   + ("" if o.complete else ", incomplete") for o in s.large_objects]
        head = {
            "id": s.id, "protocol": s.protocol, "version": s.version, "device": s.device_id,
            "identity": s.device or {}, "client": s.client, "server": s.server, "server_name": s.server_name,
            "session_id": s.session_id, "start": format_time(s.start), "duration": s.end - s.start,
            "end_reason": s.end_reason, "events": s.events, "connections": s.connections,
            "messages": len(s.messages), "summary": conversation(s),
        }
        return {"head": head, "svg": msc.svg(chart, standalone=False, id_prefix=f"{s.id}-"),
                "lanes": [[lane.title, lane.detail] for lane in chart.lanes], "steps": out_steps,
                "findings": findings, "crs": crs, "objects": objects, "cut": cut,
                "mermaid": msc.mermaid(chart), "plantuml": msc.plantuml(chart)}

    def _device_detail(self, d: Device) -> dict[str, Any]:
        changes = ("Add", "Replace", "Delete", "Copy", "SetParameterValues")
        by_name: dict[str, list[ParameterObservation]] = {}
        accepted = []
        for p in d.parameters:
            by_name.setdefault(p.name, []).append(p)
            if p.source in changes:
                accepted.append(p)
        secret = not self.show_secrets

        def value(p: ParameterObservation) -> str:
            return MASK if secret and p.value and secret_name(p.name) else p.value

        params = []
        for name in sorted(by_name):
            obs = by_name[name]
            kept = obs[-HISTORY_VALUES:]
            numeric = all(_number(p.value) is not None for p in obs) and not (secret and secret_name(name))
            params.append({"name": name, "count": len(obs), "numeric": numeric, "type": obs[-1].type,
                           "values": [[p.time, value(p), p.source, p.session, p.frame] for p in kept]})
        tree = []
        if d.protocol == "omadm":
            # The tree as the device reported it: each node's newest reported value.
            for name in sorted(by_name):
                reported = [p for p in by_name[name] if p.source not in changes]
                if reported:
                    p = reported[-1]
                    tree.append([name, value(p), p.source, p.session, p.frame])
        return {
            "id": d.id, "protocol": d.protocol, "identity": d.identity, "addresses": d.addresses,
            "sessions": d.sessions, "cr_url": d.connection_request_url,
            "udp_cr": d.udp_connection_request_address, "connection_requests": d.connection_requests,
            "stun": len(d.stun), "params": params, "names": len(by_name), "tree": tree,
            "changes": [[p.time, p.name, value(p), p.source, p.session, p.frame] for p in accepted[-2000:]],
            "changes_total": len(accepted),
        }

    # -- the page --------------------------------------------------------------------------------
    def done(self) -> None:
        try:
            self._flush()
            self._write()
        finally:
            self._spool.close()
            self._blobs.close()

    def _finish_rows(self) -> None:
        for row in self.rows:
            facts = [self.tls_facts[c] for c in self.session_conns.get(row["id"], ()) if c in self.tls_facts]
            conns = self.session_conns.get(row["id"], ())
            if facts or any(c in self.tls_connections for c in conns):
                row["tls"] = {"v": sorted({f["version"] for f in facts if f["version"]}),
                              "enc": any(f["encrypted"] for f in facts),
                              "res": any(f["resumed"] for f in facts),
                              "lines": [f["text"] for f in facts]}
        # Times in the table count from the start of the session's own capture.
        firsts = {c.get("index", i): c.get("first_time") for i, c in enumerate(self.captures)}
        for row in self.rows:
            first = firsts.get(row["cap"])
            row["rel"] = row["start"] - (first if first is not None else row["start"])
        self.rows.sort(key=lambda r: (r["cap"], r["start"]))
        for a in self.auth_rows:
            a["session"] = self.tx_session.get(a["message"])

    def overview(self) -> dict[str, Any]:
        """The overview's numbers and charts (SVG strings)."""
        t0 = min((c["first_time"] for c in self.captures if c.get("first_time") is not None), default=None)
        t1 = max((c["last_time"] for c in self.captures if c.get("last_time") is not None), default=None)
        if t0 is None and self.rows:
            t0, t1 = min(r["start"] for r in self.rows), max(r["end"] for r in self.rows)
        t0 = t0 or 0.0
        t1 = t1 if t1 is not None else t0
        kinds = [(k, v, _PALETTE[i % len(_PALETTE)]) for i, (k, v) in enumerate(self.kinds.most_common())]
        codes = [(k, v, "#c62828" if k.startswith("Fault") else "#a66a00" if "401" in k or "407" in k
                  else "#9c2a9c") for k, v in self.codes.items()]
        auth = Counter[str]()
        for (_scheme, _ident, result, _m), n in self.auth_counts.items():
            auth[result] += n
        if self.single is not None:
            for row in self.rows:
                for r in row["auth"]:
                    auth[r] += 1
        auth_items = [(k, v, AUTH_COLOURS.get(k, "#52606d")) for k, v in auth.items()]
        sev_items = [(k, self.severities[k], SEVERITY_COLOURS[k]) for k in ("error", "warning", "info")
                     if self.severities[k]]
        return {
            "t0": t0, "t1": t1,
            "cards": [("sessions", len(self.rows)), ("messages", self.messages),
                      ("devices", len(self.devices)), ("credentials", self.auth_total),
                      ("findings", self.findings_total),
                      ("TLS connections", len(self.tls_facts))],
            "timeline": timeline_chart(self.rows, t0, t1),
            "kinds": bar_chart("RPCs and commands", kinds),
            "codes": bar_chart("Faults and error statuses", codes),
            "auth": bar_chart("Credentials", auth_items),
            "severity": bar_chart("Findings by severity", sev_items),
        }

    def _write(self) -> None:
        import jinja2
        from markupsafe import Markup

        self._finish_rows()
        ov = self.overview()
        static = resources.files("dmsniff.report") / "static"
        css = (static / "report.css").read_text(encoding="utf-8")
        js = (static / "report.js").read_text(encoding="utf-8")
        env = jinja2.Environment(
            loader=jinja2.PackageLoader("dmsniff.report", "templates"),
            autoescape=True,  # every value from a capture is escaped unless marked Markup here
            undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True,
        )
        index = {
            "sessions": self.rows, "devices": self.devices, "auth": self.auth_rows,
            "auth_total": self.auth_total,
            "refs": {code: ref for (code, _sev, ref) in self.finding_codes},
            "findings": self.findings, "findings_total": self.findings_total,
            "single": self.single, "t0": ov["t0"], "captures": len(self.captures),
        }
        auth_summary = sorted(self.auth_counts.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2]))
        csp = (f"default-src 'none'; script-src {_csp_hash(js)}; style-src {_csp_hash(css)}; "
               "img-src data:; base-uri 'none'; form-action 'none'")
        names = ", ".join(Path(c["path"]).name for c in self.captures)
        title = self.title or ("dmsniff " + (self.single or names))
        page = env.get_template("report.html.j2").render(
            title=title, csp=csp, css=Markup(css), js=Markup(js), version=__version__,
            generated=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            captures=[_capture_view(c) for c in self.captures], ov=ov, svg=Markup,
            index_json=Markup(script_json(index)), auth_summary=auth_summary,
            finding_codes=sorted(self.finding_codes.items(),
                                 key=lambda kv: (msc.SEVERITY_ORDER.get(kv[0][1], 9), -kv[1])),
            single=self.single, show_secrets=self.show_secrets,
        )
        head, _marker, tail = page.partition("<!--BLOBS-->")
        out = self.out
        out.write(head)
        written = len(head)
        for kind, blobs in (("s", self.session_blobs), ("d", self.device_blobs)):
            for ident, blob in blobs.items():
                self._blobs.seek(blob.offset)
                data = self._blobs.read(blob.length).decode("ascii")
                line = f'<script type="application/gzip+json" id="{kind}:{_esc(ident)}">{data}</script>\n'
                out.write(line)
                written += len(line)
        out.write(tail)
        written += len(tail)
        out.flush()
        self.written = written
        n = len(self.session_blobs)
        seconds = time.monotonic() - self.started
        if n:
            sizes = [b.length for b in self.session_blobs.values()]
            biggest = max(self.session_blobs.items(), key=lambda kv: kv[1].length)
            devices = sum(b.length for b in self.device_blobs.values())
            per = (f", {_size((written - devices) / n)} per session "
                   f"(detail {_size(sum(sizes) / n)} on average, at most {_size(biggest[1].length)}: "
                   f"{biggest[0]})")
        else:
            per = ""
        self.summary = (f"HTML report: {n:,} session{'s' if n != 1 else ''}, "
                        f"{len(self.device_blobs):,} device{'s' if len(self.device_blobs) != 1 else ''}, "
                        f"{_size(written)}{per}, "
                        f"written in {seconds:.1f} s")


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if value == value and abs(value) != float("inf") else None


def _auth_row(r: AuthResult) -> dict[str, Any]:
    rec = auth_record(r)
    keys = ("message", "frame", "scheme", "identity", "algorithm", "direction", "result", "matched", "reason",
            "notes", "password")
    return {k: rec.get(k) for k in keys if rec.get(k) not in (None, [])}


def _capture_view(c: Mapping[str, Any]) -> dict[str, Any]:
    first, last = c.get("first_time"), c.get("last_time")
    span = f"{format_time(first)} → {format_time(last)} UTC ({last - first:.3f} s)" if (
        first is not None and last is not None) else "-"
    return {"path": c["path"], "format": c.get("format") or "?", "packets": c.get("packets", 0), "span": span,
            "tcp": c.get("tcp_connections", 0), "http": c.get("http_transactions", 0),
            "udp": c.get("udp_datagrams", 0), "errors": c.get("errors", [])}


def write_html(out: TextIO, sessions: Iterable[Session], transactions: Mapping[str, Transaction | Datagram],
               *,
               devices: Iterable[Device] = (), findings: Iterable[Finding] = (),
               auth: Iterable[AuthResult] = (), tls: Iterable[TlsFacts] = (),
               captures: Iterable[CaptureSummary] = (), single: str | None = None,
               show_secrets: bool = False, title: str | None = None) -> HtmlReport:
    """The page from records kept in memory (the TUI's, an export's): the same as the report addon."""
    report = HtmlReport(out, show_secrets=show_secrets, single=single, title=title)
    for c in captures:
        report.capture_end(c)
    sessions = list(sessions)
    wanted: set[str] | None = None
    if single is not None:
        wanted = set()
        for s in sessions:
            if s.id == single:
                wanted.update(m.transaction for m in s.messages)
                wanted.update(cr.id for cr in s.connection_requests)
    report.add_transactions(r for k, r in transactions.items() if wanted is None or k in wanted)
    for t in tls:
        report.add_tls(t)
    for a in auth:
        report.auth(a)
    for s in sessions:
        report.session(s)
    for f in findings:
        report.finding(f)
    for d in devices:
        report.device(d)
    report.done()
    return report


def print_summary(report: HtmlReport, path: str | None) -> None:
    where = f" to {path}" if path and path != "-" else ""
    print(f"dmsniff: {report.summary}{where}", file=sys.stderr)


__all__ = ["HtmlReport", "mask_header", "mask_record", "mask_xml", "print_summary", "secret_name",
           "write_html"]
