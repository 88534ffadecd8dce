"""Where the CPU of ``dmsniff report`` goes, per stage, on one capture: µs per message, session, record.

Run by hand or by bench_report.py (which runs it as a child process, so that its memory does not
raise the floor of the RSS figures)::

    python benchmarks/bench_stages.py CAPTURE [--repeat 3] [--sample 3000] [--json] [--profile 25]

All in this one process, with the code of this checkout, and the garbage collector set up as
``dmsniff report`` sets it (``settle_heap``).  Times are CPU times (``time.process_time``),
which a busy neighbour disturbs less than wall time.

1. **HTTP pass**: the capture through the pipeline without protocol decoding (what
   ``--http-only`` does), with an addon that keeps a sample of the HTTP bodies and UDP
   payloads: CPU per packet and per HTTP transaction.
2. **Decoders**, timed on that sample (``--sample`` messages per kind, spread over the capture
   by reservoir sampling; each loop ``--repeat`` times, the fastest kept): ``decoders.cwmp.decode``
   per CWMP body, ``decoders.syncml.decode`` per SyncML body, XML and WBXML apart, and for WBXML
   its inner steps: ``decoders.wbxml.fast_element`` (plain WBXML straight to lxml, with how many
   of the sample are plain) and the full way the others take (``decoders.wbxml.decode``: bytes
   to the WBXML tree; ``to_element``: that tree to lxml), which the SyncML reader then walks;
   ``decoders.notification.decode_wap_push`` per Pkg#0 datagram.
3. **Full pipeline** (what ``dmsniff report -j 1 --format jsonl`` runs: the verifier, the session
   builders, the JSON Lines writer to /dev/null), each addon wrapped so that the CPU spent in its
   hooks is summed, exclusive of the hooks it calls in turn (a builder emitting a session into
   the writer): µs per transaction for the verifier, per session and per message for each
   session builder, per JSON record for the writer.  What is left of the run's CPU is the
   pipeline itself: reading, TCP, HTTP and the body decoding done where transactions are built.

``--profile N`` then runs the full pipeline once more under cProfile and prints the N
functions with the most own time (tottime).  ``--json`` prints one JSON object instead of
the tables.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(ROOT) not in sys.path:  # run as a script: benchmark this checkout
    sys.path.insert(0, str(ROOT))

from decoders import cwmp, notification, syncml, wbxml  # noqa: E402
from dmsniff.chain import addon_chain  # noqa: E402
from dmsniff.model import Datagram, Transaction  # noqa: E402
from dmsniff.pipeline import Addon, CaptureSummary, Emitter, Pipeline, settle_heap  # noqa: E402
from dmsniff.protocols import cwmp as cwmp_proto  # noqa: E402
from dmsniff.protocols import omadm as omadm_proto  # noqa: E402
from dmsniff.report import JsonLinesReport  # noqa: E402
from dmsniff.sessions.model import Session  # noqa: E402
from dmsniff.verify.secrets import Secrets  # noqa: E402
from dmsniff.verify.verifier import Verifier  # noqa: E402

KINDS = ("cwmp", "syncml-xml", "syncml-wbxml", "pkg0")
Body = tuple[bytes, str | None]  # (body, Content-Type)


@dataclass
class Stage:
    name: str
    count: int  # how many units
    unit: str  # "message", "session", ...
    cpu_s: float  # CPU seconds for all of them
    note: str = ""

    @property
    def us_each(self) -> float | None:
        return self.cpu_s / self.count * 1e6 if self.count else None


@dataclass
class Result:
    capture: str
    packets: int = 0
    transactions: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # bodies per kind in the whole capture
    sampled: dict[str, int] = field(default_factory=dict)
    mean_bytes: dict[str, float] = field(default_factory=dict)
    stages: list[Stage] = field(default_factory=list)
    sessions: dict[str, int] = field(default_factory=dict)  # per protocol
    session_messages: dict[str, int] = field(default_factory=dict)
    records: dict[str, int] = field(default_factory=dict)  # JSON records per type
    full_cpu_s: float = 0.0
    http_cpu_s: float = 0.0
    profile: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["stages"] = [{**asdict(s), "us_each": s.us_each} for s in self.stages]
        return out


def _cpu() -> float:
    return time.process_time()


# ---------------------------------------------------------------------------------------------
# 1. HTTP pass and the sample of bodies


def kind_of(body: bytes, content_type: str | None) -> str | None:
    """What dmsniff.protocols would decode a body as: the decoder it is handed to."""
    if cwmp_proto.recognise(body):
        return "cwmp"
    if omadm_proto.is_notification_type(content_type):
        return "pkg0"
    if syncml.looks_like_syncml(body, content_type):
        media = (content_type or "").partition(";")[0].strip().lower()
        return "syncml-wbxml" if media.endswith("+wbxml") or body[:1] in (b"\x01", b"\x02", b"\x03") \
            else "syncml-xml"
    return None


class Sampler(Addon):
    """Keeps up to ``size`` bodies of each kind, a uniform sample over the capture (reservoir)."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.samples: dict[str, list[Body]] = {k: [] for k in KINDS}
        self.counts: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.bytes: dict[str, int] = dict.fromkeys(KINDS, 0)
        self.transactions = 0
        self.packets = 0

    def _keep(self, kind: str, item: Body) -> None:
        n = self.counts[kind] = self.counts[kind] + 1
        self.bytes[kind] += len(item[0])
        sample = self.samples[kind]
        if len(sample) < self.size:
            sample.append(item)
        else:
            j = self.rng.randrange(n)
            if j < self.size:
                sample[j] = item

    def transaction(self, tx: Transaction) -> None:
        self.transactions += 1
        for msg in (tx.request, tx.response):
            if msg is None or not msg.body_length:
                continue
            body, ct = msg.content, msg.header("Content-Type")
            kind = kind_of(body, ct)
            if kind is not None:
                self._keep(kind, (body, ct))

    def datagram(self, dg: Datagram) -> None:
        if omadm_proto.decode_udp(dg.payload, dg.sport, dg.dport) is not None:
            self._keep("pkg0", (dg.payload, None))

    def capture_end(self, summary: CaptureSummary) -> None:
        self.packets += summary.info.packets


def http_pass(path: str, sample: int) -> tuple[Sampler, float]:
    sampler = Sampler(sample)
    t0 = _cpu()
    Pipeline([sampler], jobs=1, parse_protocols=False).run_files([path])
    return sampler, _cpu() - t0


# ---------------------------------------------------------------------------------------------
# 2. Decoders on the sample


def best_loop(fn: Callable[[bytes, str | None], object], items: list[Body], repeat: int) -> float:
    """The fastest of ``repeat`` loops of fn over items, in CPU seconds."""
    best = float("inf")
    for _ in range(repeat):
        t0 = _cpu()
        for body, ct in items:
            fn(body, ct)
        best = min(best, _cpu() - t0)
    return best


def _wbxml_tree(body: bytes, _ct: str | None) -> object:
    return wbxml.decode(body)


def _wbxml_fast(body: bytes, _ct: str | None) -> object:
    return wbxml.fast_element(body)


def decoder_stages(sampler: Sampler, repeat: int) -> list[Stage]:
    out: list[Stage] = []
    s = sampler.samples

    def stage(name: str, kind: str, fn: Callable[[bytes, str | None], object], note: str = "") -> None:
        if s[kind]:
            out.append(Stage(name, len(s[kind]), "message", best_loop(fn, s[kind], repeat), note))

    stage("CWMP body: decoders.cwmp.decode", "cwmp", cwmp.decode)
    stage("SyncML XML body: decoders.syncml.decode", "syncml-xml", syncml.decode)
    stage("SyncML WBXML body: decoders.syncml.decode", "syncml-wbxml", syncml.decode)
    if s["syncml-wbxml"]:
        plain = sum(wbxml.fast_element(b) is not None for b, _ in s["syncml-wbxml"])
        stage("  of which plain WBXML -> lxml: decoders.wbxml.fast_element", "syncml-wbxml", _wbxml_fast,
              f"{plain} of {len(s['syncml-wbxml'])} plain; the others go the full way (next two)")
        docs = [wbxml.decode(b) for b, _ in s["syncml-wbxml"]]
        stage("  full way, bytes -> WBXML tree: decoders.wbxml.decode", "syncml-wbxml", _wbxml_tree)
        best = float("inf")
        for _ in range(repeat):
            t0 = _cpu()
            for d in docs:
                if isinstance(d, wbxml.WbxmlDocument):
                    wbxml.to_element(d)
            best = min(best, _cpu() - t0)
        out.append(Stage("  full way, WBXML tree -> lxml: decoders.wbxml.to_element", len(docs), "message",
                         best))
    stage("Pkg#0 WAP Push: decoders.notification.decode_wap_push", "pkg0",
          lambda b, _ct: notification.decode_wap_push(b))
    return out


# ---------------------------------------------------------------------------------------------
# 3. The full pipeline, each addon's hooks timed


class Clock:
    """CPU time per name, exclusive: a timed call inside another is not counted in the outer one."""

    def __init__(self) -> None:
        self.totals: dict[str, float] = {}
        self.calls: dict[str, int] = {}
        self.stack: list[str] = []
        self.mark = 0.0

    def call(self, name: str, fn: Callable[..., Any], *args: Any) -> Any:
        now = _cpu()
        if self.stack:
            outer = self.stack[-1]
            self.totals[outer] = self.totals.get(outer, 0.0) + now - self.mark
        self.stack.append(name)
        self.calls[name] = self.calls.get(name, 0) + 1
        self.mark = now
        try:
            return fn(*args)
        finally:
            now = _cpu()
            self.totals[name] = self.totals.get(name, 0.0) + now - self.mark
            self.stack.pop()
            self.mark = now


_HOOKS = ("capture_start", "transaction", "datagram", "connection_end", "session", "finding", "device",
          "auth", "capture_end", "capture_failed", "done")


class Timed(Emitter):
    """Wraps an addon: every hook goes through the clock under ``label.hook``; what the addon makes
    goes out through the wrapper's outbox."""

    def __init__(self, inner: Addon, label: str, clock: Clock) -> None:
        super().__init__()
        self.inner = inner
        self.label = label
        self.clock = clock
        self.needs_bodies = inner.needs_bodies
        if isinstance(inner, Emitter):
            inner.outbox = self.outbox

    def _run(self, hook: str, *args: Any) -> None:
        self.clock.call(f"{self.label}.{hook}", getattr(self.inner, hook), *args)

    def capture_start(self, *args: Any) -> None:
        self._run("capture_start", *args)

    def transaction(self, *args: Any) -> None:
        self._run("transaction", *args)

    def datagram(self, *args: Any) -> None:
        self._run("datagram", *args)

    def connection_end(self, *args: Any) -> None:
        self._run("connection_end", *args)

    def session(self, *args: Any) -> None:
        self._run("session", *args)

    def finding(self, *args: Any) -> None:
        self._run("finding", *args)

    def device(self, *args: Any) -> None:
        self._run("device", *args)

    def auth(self, *args: Any) -> None:
        self._run("auth", *args)

    def capture_end(self, *args: Any) -> None:
        self._run("capture_end", *args)

    def capture_failed(self, *args: Any) -> None:
        self._run("capture_failed", *args)

    def done(self) -> None:
        self._run("done")


class Counting(JsonLinesReport):
    """The JSON Lines writer, counting the records it writes and the sessions' messages."""

    def __init__(self, out: TextIO) -> None:
        super().__init__(out)
        self.records: dict[str, int] = {}
        self.sessions: dict[str, int] = {}
        self.messages: dict[str, int] = {}

    def _write(self, rec: dict[str, Any]) -> None:
        kind = str(rec.get("type"))
        self.records[kind] = self.records.get(kind, 0) + 1
        super()._write(rec)

    def session(self, session: Session) -> None:
        p = session.protocol
        self.sessions[p] = self.sessions.get(p, 0) + 1
        self.messages[p] = self.messages.get(p, 0) + len(session.messages)
        super().session(session)


def full_addons(out: TextIO) -> tuple[list[Addon], Counting]:
    """The addons of ``dmsniff report --format jsonl`` without secrets, in their order."""
    writer = Counting(out)
    return addon_chain(Verifier(Secrets()), last=[writer]), writer


def full_pass(path: str, res: Result) -> None:
    clock = Clock()
    with open(os.devnull, "w", encoding="utf-8") as out:
        addons, writer = full_addons(out)
        labels = {"Verifier": "verifier", "CwmpSessions": "cwmp-sessions", "DmSessions": "omadm-sessions",
                  "TlsChecks": "tls-checks", "Counting": "json"}
        timed: list[Addon] = [Timed(a, labels.get(type(a).__name__, type(a).__name__), clock) for a in addons]
        t0 = _cpu()
        Pipeline(timed, jobs=1).run_files([path])
        res.full_cpu_s = _cpu() - t0
    res.sessions, res.session_messages, res.records = writer.sessions, writer.messages, writer.records

    def total(label: str) -> float:
        return sum(v for k, v in clock.totals.items() if k.startswith(label + "."))

    hooks = sum(clock.totals.values())
    res.stages += [
        Stage("pipeline: read, TCP, HTTP, body decoding (all but the addons)", res.transactions,
              "transaction", res.full_cpu_s - hooks, "the full pass's CPU less the addons' hooks"),
        Stage("verifier (no secrets): its hooks", res.transactions, "transaction", total("verifier")),
        Stage("CWMP session building: CwmpSessions hooks", res.sessions.get("cwmp", 0), "session",
              total("cwmp-sessions"), f"{res.session_messages.get('cwmp', 0)} messages"),
        Stage("OMA DM session building: DmSessions hooks", res.sessions.get("omadm", 0), "session",
              total("omadm-sessions"), f"{res.session_messages.get('omadm', 0)} messages"),
        Stage("TLS checks: TlsChecks hooks", res.transactions, "transaction", total("tls-checks")),
        Stage("JSON Lines records: the writer's hooks", sum(res.records.values()), "record", total("json"),
              ", ".join(f"{n} {k}" for k, n in sorted(res.records.items()))),
    ]
    for proto in ("cwmp", "omadm"):
        msgs = res.session_messages.get(proto, 0)
        if msgs:
            label = "cwmp-sessions" if proto == "cwmp" else "omadm-sessions"
            name = "CWMP" if proto == "cwmp" else "OMA DM"
            res.stages.append(Stage(f"  {name} session building, per message", msgs, "message", total(label)))
    json_tx = clock.totals.get("json.transaction", 0.0)
    if res.records.get("transaction"):
        res.stages.append(Stage("  JSON transaction records alone", res.records["transaction"], "record",
                                json_tx))


def profile_pass(path: str, top: int) -> str:
    """cProfile of the full pipeline (as dmsniff report -j 1 --format jsonl -o /dev/null): top by tottime."""
    with open(os.devnull, "w", encoding="utf-8") as out:
        addons, _ = full_addons(out)
        pipeline = Pipeline(addons, jobs=1)
        prof = cProfile.Profile()
        prof.enable()
        pipeline.run_files([path])
        prof.disable()
    text = io.StringIO()
    pstats.Stats(prof, stream=text).sort_stats("tottime").print_stats(top)
    return text.getvalue()


# ---------------------------------------------------------------------------------------------


def run(path: str, repeat: int = 3, sample: int = 3000, profile: int = 0) -> Result:
    settle_heap()
    res = Result(capture=path)
    sampler, http_cpu = http_pass(path, sample)
    res.packets, res.transactions, res.http_cpu_s = sampler.packets, sampler.transactions, http_cpu
    res.counts = dict(sampler.counts)
    res.sampled = {k: len(v) for k, v in sampler.samples.items()}
    res.mean_bytes = {k: sampler.bytes[k] / n for k, n in sampler.counts.items() if n}
    res.stages.append(Stage("HTTP pass (--http-only, in process)", res.packets, "packet", http_cpu,
                            f"{res.transactions} transactions"))
    res.stages += decoder_stages(sampler, repeat)
    del sampler
    full_pass(path, res)
    if profile:
        res.profile = profile_pass(path, profile)
    return res


def _fmt_us(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:,.1f}" if v < 1000 else f"{v:,.0f}"


def table(res: Result) -> str:
    bodies = ", ".join(f"{k} {n:,} (mean {res.mean_bytes.get(k, 0):,.0f} B, {res.sampled.get(k, 0):,} timed)"
                       for k, n in res.counts.items() if n)
    lines = [f"per-stage CPU on {res.capture}: {res.packets:,} packets, {res.transactions:,} HTTP "
             f"transactions", f"bodies: {bodies}"]
    w = max(len(s.name) for s in res.stages)
    lines.append(f"  {'stage':<{w}}  {'count':>9}  {'unit':<11}  {'µs each':>9}  {'CPU s':>8}  note")
    for s in res.stages:
        lines.append(f"  {s.name:<{w}}  {s.count:>9,}  {s.unit:<11}  {_fmt_us(s.us_each):>9}  "
                     f"{s.cpu_s:>8.2f}  {s.note}".rstrip())
    lines.append(f"  full pass (dmsniff report -j 1 --format jsonl, in process): {res.full_cpu_s:.2f} s CPU; "
                 f"HTTP pass {res.http_cpu_s:.2f} s CPU")
    if res.profile:
        lines += ["", "cProfile of the full pass, top by tottime:", res.profile]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("capture")
    ap.add_argument("--repeat", type=int, default=3, help="loops of each decoder over the sample (default 3)")
    ap.add_argument("--sample", type=int, default=3000, help="bodies of each kind timed (default 3000)")
    ap.add_argument("--profile", type=int, default=0, metavar="N",
                    help="also print the top N functions of a cProfile of the full pass")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args(argv)
    if not Path(args.capture).is_file():
        ap.error(f"no such capture: {args.capture}")
    res = run(args.capture, max(1, args.repeat), max(1, args.sample), args.profile)
    print(json.dumps(res.to_json()) if args.json else table(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
