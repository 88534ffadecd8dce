"""Captures from pipes (``tcpdump -w - | dmsniff report -``) and rotated sets read as one.

A stream written to a pipe in small chunks gives the report of the file; a rotated set (split
by the real editcap, as ``tcpdump -C`` or ``dumpcap -b`` would) gives the sessions of the
unsplit capture, including those that cross from one file to the next, and each part keeps a
contiguous range of frame numbers.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from dmsniff.capture import looks_rotated
from dmsniff.cli import main
from tests.conftest import CAPTURES

CWMP = CAPTURES / "cwmp_loopback.pcap"


Records = list[dict[str, object]]


def _report(*args: str, stdin: bytes | None = None, chunk: int = 7) -> tuple[int, Records, str]:
    """dmsniff report in a child process, stdin fed through a real pipe ``chunk`` bytes at a time."""
    proc = subprocess.Popen([sys.executable, "-m", "dmsniff", "report", "--format", "jsonl", *args],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pipe, proc.stdin = proc.stdin, None  # written by the thread below, not by communicate()
    assert pipe is not None

    def feed() -> None:
        try:
            if stdin:
                for i in range(0, len(stdin), chunk):
                    pipe.write(stdin[i:i + chunk])
                    pipe.flush()
        except BrokenPipeError:
            pass
        finally:
            pipe.close()

    writer = threading.Thread(target=feed)
    writer.start()
    out, err = proc.communicate(timeout=120)
    writer.join()
    recs = [json.loads(line) for line in out.decode().splitlines()]
    return proc.returncode, recs, err.decode()


def _without_capture(recs: list[dict[str, object]]) -> list[dict[str, object]]:
    return [r for r in recs if r["type"] != "capture"]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng", "pcap.gz"])
def test_a_stream_on_standard_input_equals_the_file(tmp_path: Path, fmt: str) -> None:
    data = CWMP.read_bytes()
    if fmt == "pcapng":
        if shutil.which("editcap") is None:
            pytest.skip("editcap (Wireshark) is not installed")
        ng = tmp_path / "c.pcapng"
        subprocess.run(["editcap", "-F", "pcapng", str(CWMP), str(ng)], check=True)
        data = ng.read_bytes()
    elif fmt == "pcap.gz":
        import gzip

        data = gzip.compress(data)
    code, piped, err = _report("-", stdin=data, chunk=997)
    assert code == 0, err
    code, whole, _ = _report(str(CWMP))
    assert _without_capture(piped) == _without_capture(whole)


def test_a_stream_cut_short_ends_cleanly(tmp_path: Path) -> None:
    data = CWMP.read_bytes()
    code, recs, err = _report("-", stdin=data[:len(data) // 2])
    assert code == 0
    assert "truncated: capture ends inside frame" in err and "Traceback" not in err
    assert any(r["type"] == "transaction" for r in recs)


@pytest.mark.parametrize("options", [
    ("-Y", "proto:cwmp rpc:Inform"),  # the filter's pass, then the report's
    ("--wordlist", "WORDS"),  # the audit's pass first: every credential judged with what it found
    ("-Y", "proto:cwmp", "--wordlist", "WORDS"),  # three passes
])
def test_a_stream_read_twice_equals_the_file(tmp_path: Path, options: tuple[str, ...]) -> None:
    # ssh acs tcpdump -U -w - | dmsniff report -Y ... -: standard input is kept in a temporary
    # file as the first pass reads it, and the later passes read that copy.
    words = tmp_path / "words"
    words.write_text("nope\nalice-pass\nbob-pass\n")
    capture = CAPTURES / "digest_loopback.pcap" if "--wordlist" in options and "-Y" not in options else CWMP
    opts = [str(words) if o == "WORDS" else o for o in options]
    code, piped, err = _report(*opts, "-", stdin=capture.read_bytes(), chunk=997)
    assert code == 0, err
    code, whole, err_file = _report(*opts, str(capture))
    assert _without_capture(piped) == _without_capture(whole) and len(whole) > 1
    def notes(text: str) -> list[str]:
        # "-Y kept ...", "wordlist: ...", but not how many checks ran, nor their rate: the audit's
        # workers stop at a password found, each after however many checks it had made by then.
        checks = r", [\d,]+ checks in .* s, ([\d,.]+ checks/s)?"
        return [re.sub(checks, "", line) for line in text.splitlines()]

    assert notes(err) == notes(err_file)
    if capture != CWMP:  # the passwords found judged every credential of their identities
        assert sum(a.get("matched") == "wordlist" for a in whole if a["type"] == "auth") > 0


def test_export_reads_standard_input_again(tmp_path: Path) -> None:
    # --export-pcapng writes the frames of the sessions read: from standard input, it read "-" as a
    # file name, after the whole report ("cannot open '-': no such file").
    piped, whole = tmp_path / "piped.pcapng", tmp_path / "whole.pcapng"
    code, _, err = _report("--export-pcapng", str(piped), "-", stdin=CWMP.read_bytes())
    assert code == 0, err
    code, _, _ = _report("--export-pcapng", str(whole), str(CWMP))
    assert piped.read_bytes() == whole.read_bytes()


def test_a_live_capture_is_not_read_twice() -> None:
    cmd = [sys.executable, "-m", "dmsniff", "report", "--live", "-i", "lo", "-Y", "proto:cwmp"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert res.stderr.startswith("dmsniff: error: -Y reads the captures twice, and a live capture can be "
                                 "read once")


LOGS = Path(__file__).resolve().parents[1] / "logs" / "data"


@pytest.mark.parametrize(("name", "forced"), [("chromium.har", None), ("genieacs-debug.yaml", None),
                                              ("genieacs-debug.jsonl", "genieacs-log")])
def test_a_log_on_standard_input_equals_the_file(name: str, forced: str | None) -> None:
    # kubectl logs genieacs-cwmp | dmsniff report -: told from a capture stream by its first bytes
    # (a few bytes at a time through a real pipe), then read whole as the file is.
    option = ["--input-format", forced] if forced else []
    code, piped, err = _report(*option, "-", stdin=(LOGS / name).read_bytes(), chunk=61)
    assert code == 0, err
    code, whole, _ = _report(*option, str(LOGS / name))
    assert any(r["type"] == "transaction" for r in whole)
    assert _without_capture(piped) == _without_capture(whole)
    assert [r["path"] for r in piped if r["type"] == "capture"] == ["<stdin>"]


def test_standard_input_in_no_known_format_is_one_line() -> None:
    code, recs, err = _report("-", stdin=b"hello, this is not a capture\n")
    assert code == 2 and [r["type"] for r in recs] == ["capture"]  # (its error in the record too)
    assert err.strip() == ("dmsniff: error: '<stdin>' is not a pcap or pcapng capture, nor a log dmsniff "
                           "reads (an HTTP dump, a GenieACS debug log, a curl -v or --trace trace, a HAR "
                           "file, a Fiddler .saz archive, or a folder of messages); --input-format forces "
                           "one")
    code, _recs, err = _report("--input-format", "folder", "-", stdin=b"")
    assert code == 2
    assert err.strip() == "dmsniff: error: a folder of messages is a directory, not standard input"


def test_rotated_names_are_recognised() -> None:
    assert looks_rotated(["acs.pcap", "acs.pcap1", "acs.pcap2"])  # tcpdump -C
    assert looks_rotated(["acs0", "acs1", "acs2"])  # tcpdump -C -W
    assert looks_rotated(["a_00001_20250101120000.pcapng", "a_00002_20250101120500.pcapng"])  # dumpcap -b
    assert not looks_rotated(["a.pcap", "b.pcap"])
    assert not looks_rotated(["acs.pcap"])


@pytest.mark.skipif(shutil.which("editcap") is None, reason="editcap (Wireshark) is not installed")
@pytest.mark.parametrize(("name", "per_file"), [("cwmp_loopback", 20), ("tls_cwmp_loopback", 30)])
def test_a_rotated_set_gives_the_sessions_of_the_whole(tmp_path: Path, name: str, per_file: int) -> None:
    whole = CAPTURES / f"{name}.pcap"
    subprocess.run(["editcap", "-c", str(per_file), str(whole), str(tmp_path / f"{name}.pcap")], check=True,
                   capture_output=True)
    parts = sorted(str(p) for p in tmp_path.iterdir())
    assert len(parts) >= 3
    keys = CAPTURES / f"{name}.keys"
    opts = ["--keylog", str(keys)] if keys.exists() else []
    out_whole, out_set, out_apart = (tmp_path / f"{n}.jsonl" for n in ("whole", "set", "apart"))
    assert main(["report", *opts, "--format", "jsonl", "-o", str(out_whole), str(whole)]) == 0
    # (the files in any order: they are read in the order of their first packets)
    assert main(["report", *opts, "--format", "jsonl", "-o", str(out_set), *reversed(parts)]) == 0
    assert main(["report", *opts, "--no-merge", "--format", "jsonl", "-o", str(out_apart), *parts]) == 0
    whole_recs = [json.loads(line) for line in out_whole.read_text().splitlines()]
    set_recs = [json.loads(line) for line in out_set.read_text().splitlines()]
    assert _without_capture(set_recs) == _without_capture(whole_recs)
    sessions = [r for r in whole_recs if r["type"] == "session"]
    assert sessions
    # Some session crosses a file boundary: read apart, it is cut (so merging mattered).
    capture = next(r for r in set_recs if r["type"] == "capture")
    bounds = [p["first_frame"] for p in capture["parts"]][1:]
    assert [p["path"] for p in capture["parts"]] == parts
    assert sum(p["frames"] for p in capture["parts"]) == capture["packets"]
    crossing = [s for s in sessions
                if any(min(m["frame"] for m in s["messages"]) < b <= max(m["frame"] for m in s["messages"])
                       for b in bounds)]
    assert crossing, "no session crosses a file boundary: the test proves nothing"
    apart = [json.loads(line) for line in out_apart.read_text().splitlines()]
    assert sum(r["type"] == "capture" for r in apart) == len(parts)
    assert [s["id"] for s in sessions] != [r["id"] for r in apart if r["type"] == "session"]


def test_merge_refuses_standard_input() -> None:
    res = subprocess.run([sys.executable, "-m", "dmsniff", "report", "--merge", "-", str(CWMP)],
                         capture_output=True, text=True, timeout=60, env={**os.environ})
    assert res.returncode == 2 and "--merge reads files" in res.stderr
