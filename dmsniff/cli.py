"""Command line: ``dmsniff report CAPTURE...`` and friends.

Exit status: 0 when every input could be read (faults inside a capture are reported
in the output, and what came before them is kept); 1 when some inputs could not be
read at all; 2 when none could, or on a usage error.  No traceback reaches the user:
unexpected errors become one line (set DMSNIFF_DEBUG=1 to see the traceback).
"""

from __future__ import annotations

import argparse
import codecs
import contextlib
import io
import os
import shlex
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, TextIO

from dmsniff import __version__
from dmsniff.capture import CaptureError

if TYPE_CHECKING:
    from dmsniff.export import PcapngExport
    from dmsniff.net.tls_keys import TlsKeySpec
    from dmsniff.pipeline.addons import Addon
    from dmsniff.pipeline.parallel import WorkerPool
    from dmsniff.pipeline.records import Input
    from dmsniff.pipeline.runner import Pipeline
    from dmsniff.report.select import Selection
    from dmsniff.sessions.filter import FilterError
    from dmsniff.verify.secrets import Secrets
    from dmsniff.verify.verifier import Verifier

EXIT_OK, EXIT_SOME_FAILED, EXIT_ALL_FAILED = 0, 1, 2
EXIT_INTERNAL = 70  # EX_SOFTWARE


def _size(text: str) -> int:
    """A byte count with an optional k/M/G suffix."""
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    mult = units.get(t[-1:], 1)
    if t[-1:] in units:
        t = t[:-1]
    try:
        value = int(float(t) * mult)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError("size must not be negative")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmsniff",
        description="Protocol analyser for device-management traffic (TR-069/CWMP, OMA DM) in captures.",
    )
    parser.add_argument("--version", action="version", version=f"dmsniff {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    rep = sub.add_parser(
        "report",
        help="decode captures and write a report (text, JSON or JSON Lines)",
        description="Decode pcap/pcapng captures (optionally gzip-compressed) or a live interface, and "
        "report every HTTP exchange found, on any port.",
    )
    rep.add_argument("captures", nargs="*", metavar="CAPTURE",
                     help="pcap or pcapng file(s), may be .gz; - reads a capture stream from standard input; "
                     "also logs: HTTP dumps, GenieACS debug logs, curl traces, HAR files, "
                     "Fiddler .saz archives, message folders")
    _input_format_option(rep)
    rep.add_argument(
        "--format",
        choices=("text", "json", "jsonl", "parquet", "html", "har"),
        default=None,
        help="output format (default: text; jsonl with --live); parquet writes tables to -o DIR; html one "
        "self-contained page (overview, sessions, sequence charts, devices); har the HTTP exchanges, "
        "decrypted, with their bodies, as an HTTP Archive for browser tools and HAR viewers",
    )
    rep.add_argument("-o", "--output", metavar="FILE",
                     help="write the report to FILE instead of stdout (parquet: a new or empty folder)")
    rep.add_argument(
        "--max-body",
        type=_size,
        default=16 << 20,
        metavar="BYTES",
        help="body bytes kept per HTTP message for decoding (default 16M); longer bodies "
        "are counted and reported as cut",
    )
    rep.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=0,
        metavar="N",
        help="worker processes for large captures (default: 2 where there are 2 cores; 1 = "
        "decode in this process)",
    )
    rep.add_argument(
        "--http-only",
        action="store_true",
        help="report HTTP transactions only, without CWMP/OMA DM decoding, sessions or "
        "verification (the fastest pass, like tshark -Y http)",
    )
    rep.add_argument(
        "-Y", "--display-filter",
        metavar="FILTER",
        help="report only the sessions FILTER matches, with their transactions, credentials, "
        "devices and findings (the UI's filter language: 'device:ABC fault:', 'proto:omadm "
        "auth:invalid'; dmsniff tui's ? lists it); the captures are read twice, as tshark -2 does",
    )
    ver = rep.add_argument_group("verification")
    ver.add_argument(
        "--secrets",
        metavar="FILE",
        action="append",
        default=[],
        help="TOML file of passwords to check every credential against (see README)",
    )
    ver.add_argument(
        "--secret",
        metavar="USER:PASSWORD",
        action="append",
        default=[],
        help="a password for USER, for any kind of credential (repeatable)",
    )
    ver.add_argument(
        "--wordlist", metavar="FILE", help="try every word as the password of every identity seen (an audit)"
    )
    ver.add_argument(
        "--show-secrets",
        action="store_true",
        help="print matched passwords in the report (never printed otherwise)",
    )
    ver.add_argument(
        "--fail-on-invalid", action="store_true", help="exit 1 when a credential is judged invalid (for CI)"
    )
    _tls_options(rep)
    _export_options(rep)
    rep.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="decode on a Dask cluster: a scheduler address (tcp://host:8786) or local:N for N worker "
        "processes here; captures are read from paths the workers share (needs dmsniff[cluster])",
    )
    rep.add_argument(
        "-q", "--quiet", action="store_true",
        help="no progress display (it is shown only when stderr is a terminal)",
    )
    rep.add_argument(
        "--merge",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="read the captures as one, in time order, so connections and sessions that cross from one "
        "file to the next stay whole (the pieces of tcpdump -C or dumpcap -b; their names are recognised "
        "without this option)",
    )
    live = rep.add_argument_group("live capture")
    live.add_argument("--live", action="store_true", help="capture from an interface instead of files")
    live.add_argument("-i", "--interface", metavar="IFACE", help="interface to capture on (with --live)")
    live.add_argument("-f", "--filter", metavar="BPF", help="capture filter, as in tcpdump")
    live.add_argument("--duration", type=float, metavar="SECONDS", help="stop after this many seconds")
    live.add_argument("-w", "--write", metavar="FILE", help="also save the captured packets as pcapng")

    tui = sub.add_parser(
        "tui",
        help="open captures in the terminal UI (what `dmsniff CAPTURE` does in a terminal)",
        description="Browse the sessions of captures: timeline, decoded messages, credentials, findings.",
    )
    tui.add_argument("captures", nargs="+", metavar="CAPTURE",
                     help="pcap or pcapng file(s), may be .gz, or logs (see dmsniff report --help)")
    _input_format_option(tui)
    tui.add_argument(
        "--wordlist", metavar="FILE",
        help="first try every word as the password of every identity seen; credentials of identities "
        "whose password is found are then judged with it (matched \"wordlist\")",
    )
    tui.add_argument("--show-secrets", action="store_true", help="show passwords the wordlist found")
    live_ui = sub.add_parser(
        "live",
        help="the terminal UI fed by a live capture",
        description="Capture on an interface and show sessions as they happen (needs capture permission).",
    )
    live_ui.add_argument("-i", "--interface", metavar="IFACE", help="interface to capture on")
    live_ui.add_argument(
        "--from-cmd",
        metavar="COMMAND",
        help="read the pcap/pcapng stream a command writes (e.g. \"ssh acs tcpdump -U -w - port 7547\") "
        "instead of capturing here",
    )
    live_ui.add_argument("-f", "--filter", metavar="BPF", help="capture filter, as in tcpdump")
    live_ui.add_argument("-w", "--write", metavar="FILE", help="also save the captured packets as pcapng")
    for p in (tui, live_ui):
        p.add_argument("-Y", "--display-filter", metavar="FILTER", default="",
                       help="open with this session filter applied, as if typed after f (see ?)")
        _tls_options(p)
        p.add_argument(
            "--secrets", metavar="FILE", action="append", default=[], help="TOML file of passwords"
        )
        p.add_argument(
            "--secret",
            metavar="USER:PASSWORD",
            action="append",
            default=[],
            help="a password for USER (repeatable)",
        )

    _export_parser(sub)
    rules = sub.add_parser(
        "rules",
        help="list every finding code: its severity, what it means, the spec it holds peers to",
        description="Every finding dmsniff can report (docs/rules.md has the same table).",
    )
    rules.add_argument("--format", choices=("text", "markdown", "json"), default="text")

    dec = sub.add_parser(
        "decode",
        help="print one WBXML/XML SyncML message, CWMP message, Package #0 or WAP Push readably",
        description="Decode one standalone message: WBXML is printed as XML (like wbxml2xml), SyncML and "
        "CWMP XML re-indented, a Package #0 notification or WAP Push as its fields. A CWMP RPC pasted "
        "without its SOAP envelope or namespaces, or copied from a web page, is repaired with a warning.",
    )
    dec.add_argument("file", metavar="FILE", help="the message; - reads standard input")
    dec.add_argument(
        "--as",
        dest="kind",
        default="auto",
        choices=("auto", "wbxml", "xml", "cwmp", "pkg0", "wap-push"),
        help="what the input is (default: recognised by content)",
    )
    dec.add_argument(
        "-s",
        "--summary",
        action="store_true",
        help="SyncML: list header and commands with status/alert codes explained; CWMP: the RPC, its "
        "header, DeviceId, events, parameters and faults explained; not XML",
    )
    dec.add_argument("--json", action="store_true", help="the decoded record as JSON")
    return parser


def _export_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    exp = sub.add_parser(
        "export",
        help="one session as a picture (Mermaid, PlantUML, SVG sequence chart), its HTML page or a HAR",
        description="Write one session's message sequence chart: a Mermaid sequenceDiagram or a PlantUML "
        "sequence (to paste into Markdown and tickets), a standalone SVG, the session's HTML page, or its "
        "HTTP exchanges as an HTTP Archive (HAR 1.2, decrypted, with bodies).",
    )
    exp.add_argument("session", metavar="SESSION-ID",
                     help="the session's id, as the report shows it (S55, D5, S1-7)")
    exp.add_argument("captures", nargs="+", metavar="CAPTURE", help="the capture(s) it is in")
    exp.add_argument("--as", dest="kind", required=True,
                     choices=("mermaid", "plantuml", "svg", "html", "har"), help="what to write")
    exp.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    exp.add_argument("--secrets", metavar="FILE", action="append", default=[], help="TOML file of passwords")
    exp.add_argument("--secret", metavar="USER:PASSWORD", action="append", default=[],
                     help="a password for USER (repeatable)")
    exp.add_argument("--show-secrets", action="store_true", help="do not mask passwords in the HTML page")
    _tls_options(exp)


def cmd_export(args: argparse.Namespace) -> int:
    import io

    from dmsniff.report.session_export import SessionNotFound, export_session

    for path in args.captures:
        if path != "-" and not os.path.exists(path):
            raise CliError(f"cannot read {path}: No such file or directory")
    secrets = _secrets(args)
    tls = _tls_spec(args, secrets)
    text = io.StringIO()  # one session: held until it is known to be there, so no empty file is left
    try:
        export_session(args.session, args.captures, args.kind, text, secrets=secrets, tls=tls,
                       show_secrets=args.show_secrets)
    except SessionNotFound as exc:
        raise CliError(str(exc)) from None
    out = _open_output(args.output)
    try:
        out.write(text.getvalue())
    finally:
        if out is not sys.stdout:
            out.close()
    if args.output and args.output != "-":
        print(f"dmsniff: wrote {args.session} as {args.kind} to {args.output} "
              f"({len(text.getvalue()):,} characters)", file=sys.stderr)
    return EXIT_OK


def _input_format_option(p: argparse.ArgumentParser) -> None:
    from dmsniff.logs import INPUT_FORMATS

    p.add_argument(
        "--input-format",
        choices=INPUT_FORMATS,
        default="auto",
        help="what the inputs are (default: recognised by content; a directory is a folder of messages): "
        "capture, http-dump (raw HTTP conversation), genieacs-log (GENIEACS_DEBUG_FILE), curl (-v, --trace, "
        "--trace-ascii), har, saz (Fiddler session archive), folder",
    )


def _tls_options(p: argparse.ArgumentParser) -> None:
    tls = p.add_argument_group("TLS decryption")
    tls.add_argument(
        "--keylog",
        metavar="FILE",
        action="append",
        default=[],
        help="NSS key log (SSLKEYLOGFILE) to decrypt TLS with (repeatable; re-read while capturing live)",
    )
    tls.add_argument(
        "--tls-key",
        metavar="FILE[:PASSWORD][@IP:PORT]",
        action="append",
        default=[],
        help="the server's RSA private key (PEM, DER or PKCS#12), for RSA key exchange; @IP:PORT binds it "
        "to one server (repeatable)",
    )


def _export_options(p: argparse.ArgumentParser) -> None:
    exp = p.add_argument_group("export")
    exp.add_argument(
        "--export-pcapng",
        metavar="OUT.pcapng",
        help="also write the capture's packets (all, or those of --export-session) to OUT.pcapng, with the "
        "TLS key log lines that opened its connections in a Decryption Secrets Block: Wireshark opens it "
        "decrypted with no key option (one CAPTURE; only the exported connections' lines are written)",
    )
    exp.add_argument(
        "--export-session",
        metavar="ID",
        action="append",
        default=[],
        help="with --export-pcapng: only this session's packets (S55, D5 ...: its TCP connections, datagrams "
        "and connection requests, as the UI's P key writes them); repeatable",
    )


def _export_problem(args: argparse.Namespace) -> str | None:
    """What is wrong with the --export-* options, if anything."""
    if args.export_session and not args.export_pcapng:
        return "--export-session needs --export-pcapng OUT.pcapng"
    if args.export_pcapng and (args.live or len(args.captures) != 1):
        return "--export-pcapng exports one capture file: give exactly one CAPTURE (not --live)"
    if args.export_session and args.http_only:
        return "--http-only builds no sessions: drop --export-session (or --http-only)"
    return None


def _filter_problem(args: argparse.Namespace) -> str | None:
    """What keeps -Y FILTER from working with the other options, if anything (a bad filter too)."""
    from dmsniff.sessions.filter import FilterError, compile_filter

    if args.http_only:
        return "--http-only builds no sessions, which -Y selects: drop one of them"
    if args.live:
        return ("-Y reads the captures twice, and a live capture can be read once: save it with -w first, or "
                "filter the JSON Lines (the UI filters live sessions as they come)")
    if args.export_session:
        return "give either -Y or --export-session: -Y already chooses the sessions --export-pcapng writes"
    try:
        compile_filter(args.display_filter)
    except FilterError as exc:
        return _filter_error(args.display_filter, exc)
    return None


def _filter_error(text: str, exc: FilterError) -> str:
    """A bad -Y filter in one line of readable length (the filter shown up to 60 characters)."""
    shown = text if len(text) <= 60 else text[:59] + "…"
    return f"-Y {shown!r}: {exc.message} (at column {exc.position + 1})"


def _select(args: argparse.Namespace, jobs: int, verifier: Verifier, tls: TlsKeySpec) -> Selection:
    """-Y's first pass: the sessions the filter keeps, with the ids of what goes with them."""
    from dmsniff.chain import addon_chain
    from dmsniff.pipeline.runner import Pipeline
    from dmsniff.progress import Progress
    from dmsniff.report.select import Selector, needs_tls
    from dmsniff.sessions.tls import TlsKeeper

    keeper = TlsKeeper() if needs_tls(args.display_filter) else None
    selector = Selector(args.display_filter, keeper)
    last: list[Addon] = [selector]
    progress = None
    if Progress.wanted(args.quiet):
        progress = Progress(_total_size(args.inputs), len(args.inputs))
        last.append(progress)
    # A verifier of its own: the second pass must start from the state the first one started from.
    addons = addon_chain(verifier.again(), first=[keeper] if keeper is not None else [], last=last)
    pipeline = Pipeline(addons, max_body=args.max_body, jobs=jobs, tls_keys=tls, progress=progress,
                        cluster=args.cluster, input_format=args.input_format)
    pipeline.run_files(args.inputs)
    _read_again(args.inputs)
    # The other addons fail again in the second pass, which says so; the filter's own failures (a
    # session it could not judge is left out) would be said nowhere else.
    for line in pipeline.hooks.fault_lines():
        if line.startswith("Selector."):
            print(f"dmsniff: warning: internal error in -Y: {line}; those sessions are left out "
                  "(set DMSNIFF_DEBUG=1 for details)", file=sys.stderr)
    return selector.selection


def _read_again(inputs: Sequence[Input]) -> None:
    """Before a pass that reads the inputs again: standard input, if one of them, from its copy."""
    if "-" in inputs:
        from dmsniff.capture.stdin import StdinCopyError, rewind

        try:
            rewind()
        except StdinCopyError as exc:
            raise CliError(str(exc)) from None


def _write_export(export: PcapngExport, args: argparse.Namespace) -> None:
    from dmsniff.export import ExportError

    _read_again(args.captures)
    try:
        frames, lines = export.write(args.captures[0], args.export_pcapng)
    except ExportError as exc:
        raise CliError(str(exc)) from None
    keys = f" and {lines} TLS key log line{'s' if lines != 1 else ''}" if lines else ""
    print(f"dmsniff: wrote {frames} frames{keys} to {args.export_pcapng}", file=sys.stderr)


class CliError(Exception):
    """A problem with what the user asked for; its text is the one-line message."""


def _open_output(path: str | None, *, for_terminal: bool = False) -> TextIO:
    """The file at ``path`` (UTF-8), or standard output.  JSON, JSON Lines, HTML and the exports
    are UTF-8 on standard output too, whatever the locale; the text report (``for_terminal``) is
    in the terminal's encoding, with what that cannot show escaped (``\\u2192``), never dropped."""
    if path is None or path == "-":
        out = sys.stdout
        encoding = getattr(out, "encoding", None) or "utf-8"
        if codecs.lookup(encoding).name != "utf-8" and isinstance(out, io.TextIOWrapper):
            if for_terminal:
                out.reconfigure(errors="backslashreplace")
            else:
                out.reconfigure(encoding="utf-8")
        return out
    try:
        return open(path, "w", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None


def cmd_report(args: argparse.Namespace) -> int:
    from dmsniff.pipeline.parallel import WorkerError, WorkerPool
    from dmsniff.pipeline.policy import default_jobs, use_workers

    if args.live:
        if not args.interface:
            print("dmsniff: error: --live needs -i IFACE", file=sys.stderr)
            return EXIT_ALL_FAILED
        if args.captures:
            print("dmsniff: error: give either capture files or --live, not both", file=sys.stderr)
            return EXIT_ALL_FAILED
    elif not args.captures:
        print(
            "dmsniff: error: no capture given (dmsniff report FILE..., or --live -i IFACE)", file=sys.stderr
        )
        return EXIT_ALL_FAILED
    elif args.interface or args.filter or args.duration is not None or args.write:
        print("dmsniff: error: -i/-f/--duration/-w need --live", file=sys.stderr)
        return EXIT_ALL_FAILED

    if args.http_only and (args.secrets or args.secret or args.wordlist or args.fail_on_invalid):
        print(
            "dmsniff: error: --http-only does not verify credentials: drop --secrets/--secret/"
            "--wordlist/--fail-on-invalid, or --http-only",
            file=sys.stderr,
        )
        return EXIT_ALL_FAILED
    problem = _export_problem(args)
    if problem is None and "-" in args.captures and not args.live and sys.stdin.isatty():
        problem = ("- reads standard input, and here it is the terminal: pipe a capture or a log into it "
                   "(tcpdump -U -w - ... | dmsniff report -)")
    if problem is None and args.display_filter is not None:
        problem = _filter_problem(args)
    if problem is None and args.format == "html" and args.http_only:
        problem = "--http-only builds no sessions, which the HTML report is made of: drop one of them"
    if problem is None and args.format == "parquet":
        from dmsniff.report.parquet import output_problem  # -o DIR, and pyarrow installed

        problem = output_problem(args.output)
    if problem is not None:
        print(f"dmsniff: error: {problem}", file=sys.stderr)
        return EXIT_ALL_FAILED
    if "-" in args.captures and not args.live and (args.display_filter is not None or args.wordlist
                                                    or args.export_pcapng):
        # Read twice (or three times): standard input is kept in a temporary file as it is read.
        from dmsniff.capture.stdin import StdinCopyError, keep_copy

        try:
            keep_copy()
        except StdinCopyError as exc:
            print(f"dmsniff: error: {exc}", file=sys.stderr)
            return EXIT_ALL_FAILED
    secrets = _secrets(args)
    tls = _tls_spec(args, secrets, live=args.live)
    args.inputs = _inputs(args)
    # The HTML page shows every message's XML, so every body would cross from the workers: measured on
    # a 540 MB capture, two workers took 150 s where one process took 108 s.  -j still overrides it.
    jobs = 1 if args.live or (args.format == "html" and not args.jobs) else (args.jobs or default_jobs())
    pool = None
    logs = _log_inputs(args)
    if args.cluster is not None:
        if args.live or "-" in args.captures:
            raise CliError("--cluster reads capture files the workers share, not --live or standard input")
        try:
            import distributed  # noqa: F401 - checked before any work: a missing extra is one line
        except ImportError:
            raise CliError("--cluster needs dask distributed: pip install 'dmsniff[cluster]'") from None
    elif (args.inputs and args.inputs[0] not in logs and use_workers(args.inputs[0], jobs)
          and not _wordlist_first(args) and args.display_filter is None):  # (passes that read first)
        # Fork the decoding workers and start them on the first capture before the
        # imports in _report (writers, verifier, session builders), which take a tenth of a run
        # on a big capture.  The pipeline uses them only if it asks for this very job.  The
        # protocol decoders, which every worker needs too, are imported first, once, and the
        # workers inherit them: each worker imported them itself (80 ms of CPU each, on two cores
        # shared by three processes), 1-2% of a report of a 200k-packet benchmark capture.
        if not args.http_only:
            import dmsniff.protocols  # noqa: F401
        pool = WorkerPool(jobs)
        keep_bodies = not args.http_only and (bool(args.secrets or args.secret or args.wordlist)
                                              or args.format in ("html", "har"))  # (they show bodies)
        pool.start(args.inputs[0], 0, args.max_body, keep_bodies, not args.http_only, tls)
    from dmsniff.pipeline.cluster import ClusterError

    try:
        return _report(args, jobs, pool, secrets, tls)
    except WorkerError as exc:  # killed from outside (out of memory ...): what was merged is written
        raise CliError(str(exc)) from None
    except ClusterError as exc:  # no scheduler at that address ...
        raise CliError(str(exc)) from None
    finally:
        if pool is not None:
            pool.close()


def _report(args: argparse.Namespace, jobs: int, pool: WorkerPool | None, secrets: Secrets,
            tls: TlsKeySpec) -> int:
    from dmsniff.chain import addon_chain
    from dmsniff.pipeline.policy import settle_heap
    from dmsniff.pipeline.runner import Pipeline
    from dmsniff.progress import Progress
    from dmsniff.report import FORMATS, JsonLinesReport

    # (--http-only verifies nothing: no verifier, and none of its imports)
    verifier = None if args.http_only else _verifier(args, secrets, jobs, tls)
    selection = None
    if args.display_filter is not None:
        assert verifier is not None  # (-Y is refused with --http-only: _filter_problem)
        selection = _select(args, jobs, verifier, tls)
    fmt = args.format or ("jsonl" if args.live else "text")
    out = _open_output(None if fmt == "parquet" else args.output,  # parquet: -o is a folder of tables
                       for_terminal=fmt == "text")
    try:
        writer: Addon
        if fmt == "html":  # written at the end; says on stderr how big it came out per session
            from dmsniff.report.html import HtmlReport

            writer = HtmlReport(out, show_secrets=args.show_secrets)
        else:
            if fmt == "har" and selection is not None:  # (-Y: the sessions are known, each is a page)
                from dmsniff.report.har import HarReport

                writer = HarReport(out, selection.sessions, selection.messages)
            else:
                writer = JsonLinesReport(out, flush=True) if (fmt == "jsonl" and args.live) else \
                    FORMATS[fmt](args.output if fmt == "parquet" else out)
        last: list[Addon] = [writer]
        if selection is not None:
            from dmsniff.report.select import Gate

            last = [Gate(writer, selection)]
        export = None
        if args.export_pcapng and not (selection is not None and not selection.sessions):
            from dmsniff.export import PcapngExport

            # (with -Y, the sessions it keeps; none kept, no file: see below)
            ids = args.export_session if selection is None else list(selection.sessions)
            export = PcapngExport(ids)  # collects sessions and TLS key log lines
            last.append(export)
        if args.live and args.write and tls:  # its connections' key lines go into the saved file
            from dmsniff.export import PcapngExport

            export = PcapngExport()
            last.append(export)
        progress = None
        if not args.live and Progress.wanted(args.quiet):
            progress = Progress(_total_size(args.inputs), len(args.inputs))
            last.append(progress)
        addons = addon_chain(verifier, sessions=not args.http_only, last=last)
        pipeline = Pipeline(addons, max_body=args.max_body, jobs=jobs, parse_protocols=not args.http_only,
                            pool=pool, tls_keys=tls, progress=progress, cluster=args.cluster,
                            input_format=args.input_format)
        if args.live:
            return _run_live(pipeline, args, export)
        settle_heap()
        results = pipeline.run_files(args.inputs)
    finally:
        if out is not sys.stdout:
            out.close()
    if verifier is not None and verifier.audit_summary is not None:
        words, identities, checks, seconds, found = verifier.audit_summary
        rate = f", {checks / seconds:,.0f} checks/s" if seconds > 0 else ""
        judged = ""
        if found and verifier.cracked is not None:
            judged = "; every credential of those identities judged with them (matched \"wordlist\")"
        elif found and args.wordlist:
            judged = "; credentials not judged with them: a live capture cannot be read a second time"
        print(
            f"dmsniff: wordlist: {words:,} words × {identities} credentials, {checks:,} checks in "
            f"{seconds:.1f} s{rate}; {found} password(s) found{judged}",
            file=sys.stderr,
        )
    if selection is not None and not all(isinstance(r, CaptureError) for r in results):
        kept = len(selection.sessions)
        print(f"dmsniff: -Y kept {kept:,} of {selection.seen:,} session{'s' if selection.seen != 1 else ''}"
              + (f"; nothing exported to {args.export_pcapng}" if args.export_pcapng and not kept else ""),
              file=sys.stderr)
    for line in pipeline.hooks.fault_lines():  # (each also a dmsniff.internal-error finding)
        print(f"dmsniff: warning: internal error: {line} (set DMSNIFF_DEBUG=1 for details)", file=sys.stderr)
    if getattr(writer, "failed", None):  # parquet: a write failed (disk full ...), already said on stderr
        return EXIT_ALL_FAILED
    failed = 0
    for source, res in zip(args.inputs, results, strict=True):
        path = source if isinstance(source, str) else " + ".join(source)
        if isinstance(res, CaptureError):
            failed += 1
            print(f"dmsniff: error: {res}", file=sys.stderr)
        else:
            for err in res.errors:
                print(f"dmsniff: warning: {path}: {err}", file=sys.stderr)
    if failed == len(results):
        return EXIT_ALL_FAILED
    if failed:
        return EXIT_SOME_FAILED
    if export is not None:
        _write_export(export, args)
    if fmt == "html":
        from dmsniff.report.html import HtmlReport, print_summary

        assert isinstance(writer, HtmlReport)
        print_summary(writer, args.output)
    if args.fail_on_invalid and verifier is not None and verifier.counts.get("invalid"):
        n = verifier.counts["invalid"]
        print(f"dmsniff: {n} invalid credential(s) (--fail-on-invalid)", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _total_size(inputs: list[Input]) -> int | None:
    """The bytes a run will read (None when a stream is among them)."""
    total = 0
    for source in inputs:
        for path in (source,) if isinstance(source, str) else source:
            if path == "-":
                return None
            with contextlib.suppress(OSError):
                total += os.path.getsize(path)
    return total


def _inputs(args: argparse.Namespace) -> list[Input]:
    """The captures to read: each file alone, or (--merge, or a rotated set's file names) all as one."""
    from dmsniff.capture import looks_rotated

    captures: list[str] = list(args.captures)
    if len(captures) < 2 or args.merge is False or (args.merge is None and _log_inputs(args)):
        return list(captures)  # logs are never pieces of a rotated capture
    if args.merge is None:
        if not looks_rotated(captures):
            return list(captures)
        print(f"dmsniff: reading {len(captures)} files of a rotated capture as one (--no-merge to read them "
              "apart)", file=sys.stderr)
    if "-" in captures:
        raise CliError("--merge reads files, not standard input")
    return [tuple(captures)]


def _log_inputs(args: argparse.Namespace) -> list[str]:
    """The inputs that are logs or message folders (dmsniff.logs), not captures."""
    from dmsniff.logs import log_format

    if getattr(args, "live", False):
        return []
    return [p for p in args.captures if log_format(p, args.input_format) is not None]


def cmd_decode(args: argparse.Namespace) -> int:
    from dmsniff.decode import DecodeError, stream_message

    limit = 64 << 20  # a message, not a capture: refuse to slurp more than this
    try:
        if args.file == "-":
            data = sys.stdin.buffer.read(limit + 1)
        else:
            with open(args.file, "rb") as f:
                data = f.read(limit + 1)
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    if len(data) > limit:
        raise CliError(f"{args.file}: larger than {limit >> 20} MiB; not a single message")
    try:
        pieces, problems = stream_message(data, args.kind, summary=args.summary, as_json=args.json)
    except DecodeError as exc:
        raise CliError(f"{args.file}: {exc}") from None
    sys.stdout.flush()
    raw = getattr(sys.stdout, "buffer", None)  # None when stdout is a StringIO (scripts, tests)
    for piece in pieces:  # bytes as they are made: a 50 MB message is never copied into one str
        if raw is not None:
            raw.write(piece)
        else:
            sys.stdout.write(piece.decode("utf-8", "replace"))
    (raw or sys.stdout).flush()
    for p in problems:
        print(f"dmsniff: {args.file}: {p}", file=sys.stderr)
    return EXIT_OK


def cmd_tui(args: argparse.Namespace) -> int:
    from dmsniff.pipeline.policy import settle_heap
    from dmsniff.sessions.filter import FilterError, compile_filter
    from dmsniff.tui.app import DmsniffApp

    try:  # a bad filter is said before any capture starts, as report -Y says it
        compile_filter(args.display_filter)
    except FilterError as exc:
        raise CliError(_filter_error(args.display_filter, exc)) from None
    secrets = _secrets(args)
    tls = _tls_spec(args, secrets, live=args.command == "live")
    import threading

    from dmsniff.capture.live import live_frames, saving, stream_frames

    stop = threading.Event()
    command: subprocess.Popen[bytes] | None = None
    errors = None
    if args.command == "live" and args.from_cmd:
        if args.interface or args.filter:
            raise CliError("-i and -f are for a capture made here: with --from-cmd, give the interface and "
                           "filter to the command (\"ssh acs tcpdump -U -w - -i eth0 port 7547\")")
        writer = None
        if args.write:  # opened first, so that a path that cannot be written costs nothing
            from dmsniff.capture.writer import PcapngWriter

            try:
                writer = PcapngWriter(args.write, None)
            except OSError as exc:
                raise CliError(f"cannot write {args.write!r}: {exc.strerror or exc}") from None
        # A capture command's output (ssh host tcpdump -U -w - ...), shown as it arrives; what the
        # command says on stderr is kept aside, not drawn over the screen.
        errors = tempfile.TemporaryFile()  # noqa: SIM115 - read after the UI ends, closed with the process
        try:
            command = subprocess.Popen(shlex.split(args.from_cmd), stdin=subprocess.DEVNULL,
                                       stdout=subprocess.PIPE, stderr=errors)
        except OSError as exc:
            raise CliError(f"cannot run {args.from_cmd!r}: {exc.strerror}") from None
        assert command.stdout is not None
        try:
            frames, _info = stream_frames(command.stdout.fileno(), args.from_cmd, stop)
        except CaptureError as exc:
            command.kill()
            if writer is not None:
                writer.close()
            raise CliError(f"{args.from_cmd!r}: {exc}; {_said(errors)}") from None
        if writer is not None:  # saved as pcapng, whatever the command writes
            frames = saving(frames, writer)
        app = DmsniffApp(secrets=secrets, tls=tls, display_filter=args.display_filter,
                         live=(f"cmd {args.from_cmd}", frames, stop))
    elif args.command == "live":
        if not args.interface:
            raise CliError("live needs -i IFACE or --from-cmd COMMAND")
        # Opened here, before the screen changes, so a missing permission is one line on stderr.
        try:
            frames = live_frames(
                args.interface, bpf=args.filter, duration=None, write_to=args.write, stop=stop
            )
        except CaptureError as exc:
            raise CliError(str(exc)) from None
        app = DmsniffApp(secrets=secrets, tls=tls, display_filter=args.display_filter,
                         live=(args.interface, frames, stop))
    elif "-" in args.captures:
        if getattr(args, "wordlist", None):
            raise CliError("--wordlist reads the captures twice: give files, not standard input")
        if len(args.captures) > 1:
            raise CliError("- (standard input) cannot be opened with other captures")
        # The capture comes down the pipe on standard input; the keyboard is the terminal.
        fd = os.dup(0)
        try:
            tty = os.open("/dev/tty", os.O_RDONLY)
        except OSError:
            raise CliError("the UI needs a terminal: use dmsniff report - in a pipeline") from None
        os.dup2(tty, 0)
        os.close(tty)
        try:
            frames, _info = stream_frames(fd, "<stdin>", stop)
        except CaptureError as exc:
            raise CliError(str(exc)) from None
        app = DmsniffApp(secrets=secrets, tls=tls, display_filter=args.display_filter,
                         live=("stdin", frames, stop))
    else:
        for path in args.captures:
            if not os.path.exists(path):
                raise CliError(f"cannot read {path}: No such file or directory")
        cracked = None
        if args.wordlist:  # audited before the screen opens, so every credential is judged with it
            from dmsniff.net.http import DEFAULT_MAX_BODY
            from dmsniff.pipeline.policy import default_jobs

            args.inputs, args.max_body, args.jobs = list(args.captures), DEFAULT_MAX_BODY, 0
            verifier = _verifier(args, secrets, default_jobs(), tls)
            cracked, secrets = verifier.cracked, verifier.secrets
            if cracked is not None:
                words, targets, checks, seconds, found = cracked.summary
                print(f"dmsniff: wordlist: {words:,} words × {targets} credentials, {checks:,} checks in "
                      f"{seconds:.1f} s; {found} password(s) found", file=sys.stderr)
        app = DmsniffApp(args.captures, secrets=secrets, tls=tls, cracked=cracked,
                         show_secrets=getattr(args, "show_secrets", False),
                         display_filter=args.display_filter)
        app.loader.input_format = args.input_format  # logs read as captures (dmsniff.logs)
    settle_heap(tidy=False)  # the TUI keeps every record of its captures: full collections grow with them
    try:
        app.run()
    finally:
        stop.set()
        if command is not None:
            command.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                command.wait(timeout=5)
    if args.command == "live" and args.write and tls:
        from dmsniff.export import capture_keylog_lines

        # The capture stopped with the screen; its last connections end as the loader finishes.
        deadline = time.monotonic() + 10
        while not app.feed.progress.done and time.monotonic() < deadline:
            time.sleep(0.05)
        _save_keylog(args.write, capture_keylog_lines(app.feed.tls.facts))
    if command is not None and command.returncode not in (0, -15, None) and errors is not None:
        print(f"dmsniff: {args.from_cmd!r} ended with status {command.returncode}: {_said(errors)}",
              file=sys.stderr)
    return EXIT_OK


def _said(errors: IO[bytes]) -> str:
    """The last lines a command wrote to its stderr (kept in a temporary file)."""
    errors.seek(0)
    lines = [ln.strip() for ln in errors.read()[-2000:].decode("utf-8", "replace").splitlines() if ln.strip()]
    return " | ".join(lines[-3:]) or "it said nothing"


def _secrets(args: argparse.Namespace) -> Secrets:
    from dmsniff.verify.secrets import SecretError, Secrets, load_secrets, parse_secret_option

    secrets = Secrets()
    try:
        for path in args.secrets:
            load_secrets(path, secrets)
        for text in args.secret:
            secrets.entries.append(parse_secret_option(text))
    except SecretError as exc:
        raise CliError(str(exc)) from None
    for w in secrets.warnings:
        print(f"dmsniff: warning: {w}", file=sys.stderr)
    return secrets


def _tls_spec(args: argparse.Namespace, secrets: Secrets, live: bool = False) -> TlsKeySpec:
    """The TLS key material of --keylog/--tls-key and the secrets file, read and checked once."""
    from dmsniff.net.tls_keys import KeyMaterialError, TlsKeySpec, load_key_material, parse_tls_key_option

    keylogs = [*secrets.keylogs, *args.keylog]
    keys = [*secrets.tls_keys, *(parse_tls_key_option(t) for t in args.tls_key)]
    if not keylogs and not keys:
        return TlsKeySpec()
    try:
        spec, report = load_key_material(keylogs, keys, live=live)
    except KeyMaterialError as exc:
        raise CliError(str(exc)) from None
    for w in report.warnings:
        print(f"dmsniff: warning: {w}", file=sys.stderr)
    return spec


def _wordlist_first(args: argparse.Namespace) -> bool:
    """Whether the wordlist audit runs as a pass of its own before the report (files only)."""
    if not getattr(args, "wordlist", None) or getattr(args, "live", False):
        return False
    # Imported only now: report asks this before it forks its decoding workers, and the audit's
    # imports (verifier, decoders) held the fork back a tenth of a second on every run.
    from dmsniff.verify.audit import rereadable

    return rereadable(args.inputs)


def _verifier(args: argparse.Namespace, secrets: Secrets, jobs: int, tls: TlsKeySpec | None) -> Verifier:
    """The verification addon, from --secrets/--secret/--wordlist; warnings go to stderr now.

    With a wordlist, the audit runs first (dmsniff.verify.audit), so that the report judges every
    credential of an identity whose password it found (standard input is read again from its copy:
    dmsniff.capture.stdin); on a live capture it runs at the end and only its findings say what it found."""
    from dmsniff.verify.verifier import Verifier
    from dmsniff.verify.wordlist import load_wordlist

    words = None
    if args.wordlist:
        try:
            words = load_wordlist(args.wordlist)
        except OSError as exc:
            raise CliError(f"cannot read wordlist {args.wordlist}: {exc.strerror}") from None
    if words is not None and _wordlist_first(args):
        from dmsniff.progress import Progress
        from dmsniff.verify.audit import first_pass, with_cracked

        progress = None
        if Progress.wanted(getattr(args, "quiet", False)):
            progress = Progress(_total_size(args.inputs), len(args.inputs))
        cracked = first_pass(args.inputs, secrets, words, jobs=jobs, max_body=args.max_body, tls=tls,
                             input_format=getattr(args, "input_format", None), progress=progress)
        _read_again(args.inputs)
        return Verifier(with_cracked(secrets, cracked), show_secrets=args.show_secrets, jobs=args.jobs,
                        cracked=cracked)
    return Verifier(secrets, show_secrets=args.show_secrets, wordlist=words, jobs=args.jobs)


def _run_live(pipeline: Pipeline, args: argparse.Namespace, export: PcapngExport | None) -> int:
    """Capture until --duration or Ctrl-C.  Ctrl-C stops the capture between two frames, and the run
    ends as at --duration (as tshark's does): the packets captured are decoded, the sessions still
    open reported, the saved file gets its keys; not an error of the capture.  A second Ctrl-C, while
    the frames captured are still being decoded, raises KeyboardInterrupt where it lands: FrameDriver
    then ends the capture there, as "interrupted"."""
    import signal
    import threading

    from dmsniff.capture.live import live_frames, live_info

    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("dmsniff: capture stopped; decoding what it holds (Ctrl-C again to cut that short)",
              file=sys.stderr)

    info = live_info(args.interface)
    previous = signal.getsignal(signal.SIGINT)
    if previous is not signal.SIG_IGN:  # (a background job ignores Ctrl-C, and keeps ignoring it)
        signal.signal(signal.SIGINT, interrupted)
    try:
        frames = live_frames(args.interface, bpf=args.filter, duration=args.duration, write_to=args.write,
                             stop=stop)
        pipeline.run_live(frames, info)
    except CaptureError as exc:
        print(f"dmsniff: error: {exc}", file=sys.stderr)
        return EXIT_ALL_FAILED
    finally:
        signal.signal(signal.SIGINT, previous)
    if export is not None:
        _save_keylog(args.write, export.keylog_lines())
    return EXIT_OK


def _save_keylog(path: str, lines: Sequence[str]) -> None:
    """Put the key log lines that opened the live capture's TLS connections into its saved file
    (``-w``), so that Wireshark opens it decrypted; a failure is a warning, the file stays."""
    if not lines:
        return
    from dmsniff.capture.writer import insert_tls_keylog

    try:
        insert_tls_keylog(path, lines)
    except OSError as exc:
        print(f"dmsniff: warning: cannot add the TLS key log to {path}: {exc.strerror or exc}",
              file=sys.stderr)
        return
    print(f"dmsniff: {path}: {len(lines)} TLS key log line{'s' if len(lines) != 1 else ''} in a Decryption "
          "Secrets Block (Wireshark opens it decrypted)", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    # ``dmsniff CAPTURE`` opens the UI in a terminal, and is ``dmsniff report CAPTURE`` in a
    # pipe or a script, so scripts written before the UI keep working.
    if argv and not argv[0].startswith("-") and argv[0] not in ("report", "decode", "tui", "live", "export",
                                                                "rules"):
        argv.insert(0, "tui" if sys.stdin.isatty() and sys.stdout.isatty() else "report")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_ALL_FAILED
    try:
        if args.command == "decode":
            return cmd_decode(args)
        if args.command == "export":
            return cmd_export(args)
        if args.command == "rules":
            from dmsniff import rules as catalogue

            out = {"text": catalogue.text, "markdown": catalogue.markdown}.get(args.format)
            if out is None:
                sys.stdout.buffer.write(catalogue.as_json() + b"\n")
            else:
                sys.stdout.write(out() + "\n")
            return EXIT_OK
        if args.command in ("tui", "live"):
            return cmd_tui(args)
        return cmd_report(args)
    except CliError as exc:
        print(f"dmsniff: error: {exc}", file=sys.stderr)
        return EXIT_ALL_FAILED
    except BrokenPipeError:
        # Output piped into head(1) or similar: not an error worth a message.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silence the flush at exit
        return EXIT_OK
    except KeyboardInterrupt:
        print("dmsniff: interrupted", file=sys.stderr)
        return 130
    except SystemExit:
        raise
    except Exception as exc:  # the promise: never a traceback for the user
        from dmsniff.pipeline.records import debug_traceback

        debug_traceback(exc)
        print(
            f"dmsniff: internal error: {type(exc).__name__}: {exc} (set DMSNIFF_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
