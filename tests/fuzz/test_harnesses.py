"""The fuzz harnesses of ``fuzz/`` in CI: a short seeded campaign of each, and every committed crash
reproducer replayed through its harness.

The long campaigns (a million executions per harness) are run by hand with ``fuzz/run.py``; here
each harness runs a few hundred to a few thousand executions with ``-seed=1`` from the seeds
``fuzz/make_seeds.py`` builds, under the same limits (``-rss_limit_mb=200``), and must end without
an uncaught exception.  Every file in ``fuzz/regressions/<harness>/`` (a crash a campaign found,
minimised) must go through that harness's ``TestOneInput`` without raising.  Both run in child
processes: a harness changes a few class attributes while an input runs, and libFuzzer owns its
process.
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.run import HARNESSES

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("atheris") is None,
    reason="atheris is not installed (pip install atheris): the harnesses need it")

#: Executions of the short campaign, per harness: all of them together take well under a minute.
RUNS = {"capture": 200, "tcp": 1000, "tls": 1000, "reader": 1000, "packet": 1000, "keys": 500,
        "secrets": 500, "wbxml": 500}
DEFAULT_RUNS = 2000
#: Inputs are cut to this, and only seeds no longer are used (whole captures take a second each).
MAX_LEN = {"capture": 4096}
REGRESSIONS = ROOT / "fuzz" / "regressions"


@pytest.fixture(scope="session")
def seeds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "seeds"
    subprocess.run([sys.executable, "-m", "fuzz.make_seeds", "--out", str(out)], cwd=ROOT, check=True,
                   capture_output=True, timeout=300)
    return out


@pytest.mark.parametrize("harness", sorted(HARNESSES))
def test_short_seeded_campaign(harness: str, seeds: Path, tmp_path: Path) -> None:
    dict_name, max_len = HARNESSES[harness]
    max_len = MAX_LEN.get(harness, max_len)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seed_dir = seeds / harness
    if harness in MAX_LEN:
        seed_dir = tmp_path / "seeds"
        seed_dir.mkdir()
        for p in (seeds / harness).iterdir():
            if p.stat().st_size <= max_len:
                shutil.copy(p, seed_dir)
    runs = RUNS.get(harness, DEFAULT_RUNS)
    cmd = [sys.executable, "-m", f"fuzz.fuzz_{harness}", f"-runs={runs}", "-seed=1",
           f"-max_len={max_len}", "-timeout=10", "-rss_limit_mb=200", "-max_total_time=30",
           f"-dict={ROOT / 'fuzz' / 'dicts' / dict_name}.dict", f"-artifact_prefix={tmp_path}/",
           str(corpus), str(seed_dir)]
    # libFuzzer's -rss_limit_mb reads getrusage's ru_maxrss, which Linux carries across execve: a
    # harness started straight from this pytest process (hundreds of MB into a full run) would
    # start "out of memory".  A shell in between forks the harness from its own small process.
    res = subprocess.run(["sh", "-c", '"$@"; exit $?', "sh", *cmd], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)
    out = res.stdout + res.stderr
    assert res.returncode == 0, f"{harness}: libFuzzer exited {res.returncode}\n{out[-6000:]}"
    assert "Uncaught Python exception" not in out, out[-6000:]
    assert "DONE" in out or "Done" in out, out[-3000:]


def _reproducers() -> list[Path]:
    return sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file() and p.name != "README.md")


def test_reproducers_are_committed() -> None:
    """The crashes of issue 15 (and any a campaign finds) stay in the tree as reproducers."""
    assert {p.parent.name for p in _reproducers()} >= {"cwmp", "syncml", "capture"}


@pytest.mark.parametrize("harness", sorted({p.parent.name for p in _reproducers()}))
def test_crash_reproducers_do_not_raise(harness: str) -> None:
    files = [str(p) for p in _reproducers() if p.parent.name == harness]
    res = subprocess.run([sys.executable, "-m", "fuzz.replay", harness, *files], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
