"""The golden reports: every capture of ``captures/`` and ``../shared/corpus/pcap/``, analysed in full.

Each case is the command line of ``dmsniff report --format jsonl`` whose output is kept in
``tests/golden/data/<name>.jsonl``.  A refactor or a speed-up must leave every one byte for byte
the same; a change that means to alter the report regenerates them with
``python -m tests.golden.regen`` and says why in its commit.
"""

from __future__ import annotations

import io
import os
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import CAPTURES, CORPUS, ROOT

DATA = Path(__file__).resolve().parent / "data"

# Every password our captures were recorded with, and a few wrong ones for identities that have
# none here: each capture is judged with all of them, so the verifier's verdicts are in the report.
SECRETS = (
    "cpe-user:cpe-pass", "dmuser:dmpass", "dmsniff-dm:srvpass", "alice:alice-pass", "bob:bob-pass",
    "cruser:crpass", "cpe-0001:s3cret", "enb-0001:femto-pass", "202BC1-BM632w-000007:cpe-pass-7",
    "8KA8WA1151100043:not-the-password",
)


@dataclass(frozen=True)
class Case:
    name: str
    capture: Path

    def argv(self) -> list[str]:
        """The command line, with paths relative to the checkout (the report names the capture)."""
        args = ["report", "--format", "jsonl", "-q", "-j", "1"]
        for secret in SECRETS:
            args += ["--secret", secret]
        keys = self.capture.with_suffix(".keys")
        if keys.exists():
            args += ["--keylog", os.path.relpath(keys, ROOT)]
        return [*args, os.path.relpath(self.capture, ROOT)]

    @property
    def golden(self) -> Path:
        return DATA / f"{self.name}.jsonl"

    def run(self) -> bytes:
        """The report as the command prints it (run here, in-process, from the checkout)."""
        from dmsniff.cli import main

        out = io.StringIO()
        cwd = os.getcwd()
        os.chdir(ROOT)
        try:
            with redirect_stdout(out):
                code = main(self.argv())
        finally:
            os.chdir(cwd)
        if code != 0:
            raise RuntimeError(f"{self.name}: dmsniff report exited {code}")
        return out.getvalue().encode()


def cases() -> list[Case]:
    found = [Case(p.stem, p) for p in sorted(CAPTURES.glob("*.pcap*"))]
    found += [Case(f"corpus-{p.stem}", p) for p in sorted((CORPUS / "pcap").glob("*.pcap*"))]
    return found
