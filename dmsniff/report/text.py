"""The human-readable report: one line per HTTP exchange, then a summary per capture."""

from __future__ import annotations

import shutil
import tempfile
import time
from typing import IO, TextIO

from dmsniff.capture import CaptureError, CaptureInfo
from dmsniff.model import ConnectionEnd, Finding, HttpMessage, TlsFacts, Transaction
from dmsniff.net.linktypes import link_type_name
from dmsniff.net.tls_keys import explain
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.records import CaptureSummary
from dmsniff.report.records import session_auth, tls_traits
from dmsniff.report.stats import ResponseTimes
from dmsniff.sessions.labels import conversation, dm_facts
from dmsniff.sessions.model import NAT_STEPS, Device, NatPath, Session
from dmsniff.verify.model import AuthResult, badge

MAX_AUTH_LINES = 200  # failed credentials listed one by one per capture; the rest are counted


def format_time(ts: float | None) -> str:
    """UTC wall-clock time with microseconds, as an engineer compares it with device logs."""
    if ts is None:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ts)) + f".{int(ts * 1e6) % 1000000:06d}"


def _size(n: int) -> str:
    if n < 10240:
        return f"{n} B"
    return f"{n / 1024:.1f} KiB" if n < 10 * 1024 * 1024 else f"{n / 1048576:.1f} MiB"


def _flags(msg: HttpMessage | None) -> str:
    if msg is None:
        return ""
    return "" if msg.complete else " [incomplete]"


def _frames(frames: list[int]) -> str:
    """`` (frame 7)``, `` (frames 7, 9, …)``: at most 8 listed."""
    if not frames:
        return ""
    listed = ", ".join(map(str, frames[:8])) + (", …" if len(frames) > 8 else "")
    return f" (frame{'s' if len(frames) > 1 else ''} {listed})"


def finding_line(f: Finding) -> str:
    return f"! {f.severity:<7} {f.code}: {f.message}{_frames(f.frames)}"


_NAT_LABELS = {"stun-request": "STUN request", "stun-response": "mapped", "reported": "reported",
               "udp-connection-request": "UDP connection request", "session": "session"}


def nat_path_line(p: NatPath) -> str:
    """``127.0.0.1:58774: STUN request (frame 76) → mapped 127.0.0.1:58774 (frame 77) → reported ? → …``:
    each step of TR-069 Annex G with its frames, ``?`` where the capture does not show it."""
    steps = {st.kind: st for st in p.steps}
    out = []
    for kind in NAT_STEPS:
        st = steps.get(kind)
        label = _NAT_LABELS[kind]
        if st is None:
            out.append(f"{label} ?")
            continue
        if kind == "session":
            label = f"session {st.ref}"
        elif kind == "reported" and st.ref:
            label += f" in {st.ref}"
        if kind == "udp-connection-request" and st.note and " copies" in st.note:
            label += f" ×{st.note.split(' copies', 1)[0]}"
        if st.address and (kind == "stun-response" or st.address != p.address):
            label += f" {st.address}"
        out.append(label + _frames(st.frames))
    return f"{p.address}: {' → '.join(out)}" + ("" if p.complete else f"  [missing: {', '.join(p.missing)}]")


def auth_line(r: AuthResult) -> str:
    who = f"{r.identity!r}" if r.identity is not None else "(no identity)"
    alg = f" {r.algorithm}" if r.algorithm else ""
    matched = f" = {r.matched}" if r.matched else ""
    reason = f": {r.reason}" if r.reason else ""
    notes = f" [{'; '.join(r.notes)}]" if r.notes else ""
    pw = f" password {r.password!r}" if r.password is not None else ""
    return f"{r.message:<9} frame {r.frame:<6} {r.scheme}{alg} {who} {r.result}{matched}{reason}{pw}{notes}"


def session_text(s: Session, base: float) -> str:
    """A session as a short block: who, when, how it ended, the conversation, its findings."""
    device = s.device_id or "(device unknown)"
    version = f" {s.version}" if s.version else ""
    head = (f"{s.id:<9} {s.protocol}{version}  {device}  {s.client} → {s.server}  "
            f"+{s.start - base:.3f}s  {s.end - s.start:.3f}s  {len(s.messages)} messages  "
            f"end: {s.end_reason}")
    judged = session_auth(s)
    if judged:
        valid = sum(1 for a in judged if a.result == "valid")
        head += f"  auth {badge(judged)} {valid}/{len(judged)}"
    if s.session_id is not None:
        head += f"  SessionID {s.session_id}"
    if s.server_name:
        head += f"  server {s.server_name}"
    lines = [head]
    lines.extend(f"    {line}" for line in dm_facts(s))
    for obj in s.large_objects:
        declared = f" of {obj.declared_size}" if obj.declared_size is not None else ""
        state = "" if obj.complete else ", incomplete"
        way = obj.direction.replace("_", " ")
        lines.append(f"    large object {obj.target} ({way}): {obj.chunks} chunks, "
                     f"{obj.size} bytes{declared}{state}{_frames(obj.frames)}")
    for cr in s.connection_requests:
        extra = f" ×{cr.copies}" if cr.copies > 1 else ""
        status = f" → {cr.status}" if cr.status is not None else ""
        lines.append(f"    caused by {cr.kind.upper()} connection request {cr.id} {cr.target}{status}{extra}"
                     f"{_frames(cr.frames)}")
    lines.append(f"    {conversation(s)}")
    lines.extend(f"    {finding_line(f)}" for f in s.findings)
    return "\n".join(lines) + "\n"


def tls_line(t: TlsFacts) -> str:
    """One TLS connection: what it was, and whether (and how) it was decrypted, or why not."""
    s = t.summary
    info = s.info
    what = "TLS (no ServerHello seen)"
    if info.version is not None:
        what = f"{info.version_name} {info.suite_name}"
    extra = tls_traits(info, s)
    if s.decrypted:
        state = f"decrypted ({info.key_source})" if info.key_source else "decrypted"
    elif s.reason is not None and s.reason.code == "no-application-data":
        state = s.reason.text
    else:
        opaque = sum(s.opaque_bytes)
        state = f"NOT decrypted, {_size(opaque)} opaque: {explain(s.reason)}" if s.reason else "NOT decrypted"
    extras = f"  {', '.join(extra)}" if extra else ""
    return f"{t.connection:<9} {t.client} → {t.server}  {what}{extras}  {state}"


class TextReport(Addon):
    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.info: CaptureInfo | None = None
        # Sessions end while transactions are still being listed; they are printed per
        # capture, after its transactions, from this spool.
        self.sessions: IO[str] = tempfile.SpooledTemporaryFile(1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115
        self.n_sessions = 0
        self.findings: list[Finding] = []
        self.devices: list[Device] = []
        self.auth_counts: dict[tuple[str, str | None, str, str | None], int] = {}
        self.auth_lines: list[str] = []
        self.auth_unlisted = 0
        self.tls_lines: list[str] = []
        self.tls_decrypted = 0
        self.response_times = ResponseTimes()

    def connection_end(self, end: ConnectionEnd) -> None:
        if end.tls is not None:
            self.tls_lines.append(tls_line(end.tls))
            self.tls_decrypted += end.tls.summary.decrypted

    def auth(self, result: AuthResult) -> None:
        key = (result.scheme, result.identity, result.result, result.matched)
        self.auth_counts[key] = self.auth_counts.get(key, 0) + 1
        # Failures are listed one by one, and so are successes with a catch worth reading.
        if result.result in ("invalid", "unverifiable") or result.caveat:
            if len(self.auth_lines) < MAX_AUTH_LINES:
                self.auth_lines.append(auth_line(result))
            else:
                self.auth_unlisted += 1

    def _flush_auth(self) -> None:
        if not self.auth_counts:
            return
        total = sum(self.auth_counts.values())
        self.out.write(f"-- {total} credential{'s' if total > 1 else ''} checked\n")
        for (scheme, identity, result, matched), n in sorted(
            self.auth_counts.items(), key=lambda kv: (kv[0][0], str(kv[0][1]), kv[0][2])
        ):
            by = f" (secret {matched})" if matched else ""
            self.out.write(f"   {n:>5} × {scheme} {identity!r} {result}{by}\n")
        for line in self.auth_lines:
            self.out.write(f"   {line}\n")
        if self.auth_unlisted:
            self.out.write(f"   … and {self.auth_unlisted} more not listed\n")
        self.auth_counts.clear()
        self.auth_lines.clear()
        self.auth_unlisted = 0

    def session(self, session: Session) -> None:
        base = self.info.first_time if self.info and self.info.first_time is not None else session.start
        self.sessions.write(session_text(session, base))
        self.n_sessions += 1

    def finding(self, finding: Finding) -> None:
        self.findings.append(finding)

    def device(self, device: Device) -> None:
        self.devices.append(device)

    def _flush_sessions(self) -> None:
        if not self.n_sessions:
            return
        self.out.write(f"-- {self.n_sessions} session{'s' if self.n_sessions > 1 else ''}\n")
        self.sessions.seek(0)
        shutil.copyfileobj(self.sessions, self.out)
        self.sessions.seek(0)
        self.sessions.truncate()
        self.n_sessions = 0

    def capture_start(self, index: int, info: CaptureInfo) -> None:
        self.info = info
        kind = info.format + (", gzip" if info.compressed else "")
        self.out.write(f"== {info.path} ({kind})\n")

    def transaction(self, tx: Transaction) -> None:
        self.response_times.add(tx)
        req, resp = tx.request, tx.response
        base = self.info.first_time if self.info and self.info.first_time is not None else 0.0
        first = req if req is not None else resp
        assert first is not None
        rel = first.first_time - base
        req_frame = f"{req.frame:>6}" if req else "     -"
        resp_frame = f"{resp.frame:<6}" if resp else "-     "
        left = f"{req.method} {req.uri}" if req else "(request not captured)"
        if resp is not None:
            right = f"{resp.status} {resp.reason}".rstrip()
        elif req is not None:
            right = "(no response)"
        else:
            right = ""
        sizes = (f"{_size(req.body_length) if req else '-'} / {_size(resp.body_length) if resp else '-'}")
        interim = "".join(f" {m.status}" for m in tx.interim)
        self.out.write(
            f"{tx.id:<9} {req_frame} → {resp_frame} {rel:>10.6f}  {tx.client} → {tx.server}  "
            f"{left}{_flags(req)}  ⇒{interim} {right}{_flags(resp)}  ({sizes})\n"
        )
        for msg in (req, resp):
            if msg is not None:
                for p in msg.problems:
                    self.out.write(f"{'':<10}! frame {msg.frame}: {p}\n")

    def capture_end(self, summary: CaptureSummary) -> None:
        self._flush_sessions()
        self._flush_auth()
        info = summary.info
        span = ""
        if info.first_time is not None and info.last_time is not None:
            span = (f", {format_time(info.first_time)} → {format_time(info.last_time)} UTC "
                    f"({info.last_time - info.first_time:.3f} s)")
        links = ", ".join(link_type_name(lt) for lt in info.link_types) or "no link type"
        tls = ""
        if summary.counters.get("tls_connections"):
            tls = (f" ({summary.counters['tls_connections']} TLS, "
                   f"{summary.counters['tls_connections_decrypted']} decrypted)")
        if info.frame_unit != "packet":  # a log read as a capture (dmsniff.logs): its own units, no TCP
            from dmsniff.logs.run import describe

            conns = summary.http_connections
            self.out.write(f"-- {describe(info)}{span}\n-- {conns} connection{'s' if conns != 1 else ''}, "
                           f"{summary.http_transactions} HTTP transactions, "
                           f"{summary.udp_datagrams} UDP messages\n")
            self.out.writelines(f"-- note: {note}\n" for note in info.notes)
        else:
            self.out.write(
                f"-- {info.packets} packets ({links}){span}\n"
                f"-- {summary.tcp_connections} TCP connections{tls}, {summary.http_connections} with HTTP, "
                f"{summary.http_transactions} HTTP transactions, {summary.udp_datagrams} UDP datagrams\n"
            )
        if info.parts:
            pieces = ", ".join(f"{first}–{first + n - 1} {path}" if n else f"(none) {path}"
                               for path, first, n in info.parts)
            self.out.write(f"-- read as one capture, frames {pieces}\n")
        if self.tls_lines:
            n = len(self.tls_lines)
            self.out.write(f"-- {n} TLS connection{'s' if n > 1 else ''}, {self.tls_decrypted} decrypted\n")
            for line in self.tls_lines:
                self.out.write(f"   {line}\n")
            self.tls_lines.clear()
            self.tls_decrypted = 0
        notable = {k: v for k, v in summary.counters.items()
                   if v and k not in ("tcp_segments", "tls_connections", "tls_connections_decrypted")}
        if notable:
            items = ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in notable.items())
            self.out.write(f"-- {items}\n")
        for err in info.errors:
            # The capture was read up to here (the rest is reported): a warning, as on stderr.
            self.out.write(f"-- warning: {err}\n")
        self.out.write("\n")

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.out.write(f"== {path}\n-- error: {error}\n\n")

    def done(self) -> None:
        self._flush_sessions()  # live captures end without capture_end
        self._flush_auth()
        if self.devices:
            self.out.write(f"== {len(self.devices)} device{'s' if len(self.devices) > 1 else ''}\n")
            for d in self.devices:
                where = ", ".join(d.addresses) or "?"
                if d.protocol == "omadm":
                    ident = " ".join(f"{k}={v}" for k, v in d.identity.items() if k != "DevId")
                    changes = sum(1 for p in d.parameters if p.source in ("Add", "Replace", "Delete", "Copy"))
                    self.out.write(f"{d.id}  {ident}  at {where}  sessions {', '.join(d.sessions)}  "
                                   f"{len(d.parameters)} tree values ({changes} changed by the server)\n")
                    continue
                changes = sum(1 for p in d.parameters if p.source == "SetParameterValues")
                url = f"  CR URL {d.connection_request_url}" if d.connection_request_url else ""
                stun = f"  {len(d.stun)} STUN binding(s)" if d.stun else ""
                nat = ""
                if d.nat_path:  # the latest; the JSON record has them all
                    more = f" (+{len(d.nat_path) - 1} more)" if len(d.nat_path) > 1 else ""
                    nat = f"  NAT path{more} {nat_path_line(d.nat_path[-1])}"
                self.out.write(f"{d.id}  at {where}  sessions {', '.join(d.sessions)}  "
                               f"{len(d.parameters)} parameter values ({changes} set){url}{stun}{nat}\n")
            self.out.write("\n")
        if self.findings:
            self.out.write("== findings outside sessions\n")
            for f in self.findings:
                where = f" [session {f.session}]" if f.session else ""
                self.out.write(f"{finding_line(f)}{where}\n")
            self.out.write("\n")
        times = self.response_times.lines()
        if times:
            self.out.write("\n".join(times) + "\n\n")
        self.out.flush()
