"""Progress on stderr: drawn on a terminal (a real pty here), never in a pipe, never with --quiet."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gencap import main as gencap
from tests.conftest import ROOT


def _stderr_of(args: list[str], tty: bool) -> tuple[int, str]:
    if not tty:
        res = subprocess.run([sys.executable, "-m", "dmsniff", "report", *args], capture_output=True,
                             cwd=ROOT, timeout=300)
        return res.returncode, res.stderr.decode("utf-8", "replace")
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "dmsniff", "report", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=slave, cwd=ROOT)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed its end
                break
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None:
            break
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, out.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("progress") / "big.pcap"
    gencap([str(path), "--packets", "60000", "--seed", "4"])
    return path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_is_drawn_on_a_terminal(capture: Path, jobs: str) -> None:
    code, err = _stderr_of(["-j", jobs, "-o", os.devnull, str(capture), str(capture)], tty=True)
    assert code == 0
    assert "pkts" in err and "sessions" in err and "MB" in err
    assert "2/2" in err and "all 2 inputs" in err  # per file and over all the inputs


def test_no_progress_in_a_pipe_or_with_quiet(capture: Path) -> None:
    code, err = _stderr_of(["-o", os.devnull, str(capture)], tty=False)
    assert code == 0 and err == ""
    code, err = _stderr_of(["--quiet", "-o", os.devnull, str(capture)], tty=True)
    assert code == 0 and err == ""
