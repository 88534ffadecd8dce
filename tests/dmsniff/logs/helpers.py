"""Running logs through the pipeline (and the CLI) as the tests of each format need it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from dmsniff.capture import CaptureError
from dmsniff.chain import addon_chain
from dmsniff.cli import main
from dmsniff.model import Transaction
from dmsniff.pipeline import CaptureSummary, Pipeline
from dmsniff.sessions.model import Session
from dmsniff.verify.model import AuthResult
from dmsniff.verify.secrets import Secrets, parse_secret_option
from dmsniff.verify.verifier import Verifier
from tests.dmsniff.sessions.playbook import Collector

DATA = Path(__file__).parent / "data"


@dataclass
class Out(Collector):
    """The playbook's collector of sessions, findings and devices, and what a whole run emits besides."""

    transactions: list[Transaction] = field(default_factory=list)
    auth_results: list[AuthResult] = field(default_factory=list)
    summaries: list[CaptureSummary] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def transaction(self, tx: Transaction) -> None:
        self.transactions.append(tx)

    def auth(self, result: AuthResult) -> None:
        self.auth_results.append(result)

    def capture_end(self, summary: CaptureSummary) -> None:
        self.summaries.append(summary)

    def capture_failed(self, path: str, error: CaptureError) -> None:
        self.failures.append(str(error))


def run(*paths: str | Path, secrets: tuple[str, ...] = (), input_format: str | None = None) -> Out:
    """Every input through the verifier, the session builders and a collector."""
    s = Secrets()
    s.entries.extend(parse_secret_option(t) for t in secrets)
    out = Out()
    Pipeline(addon_chain(Verifier(s), last=[out]), input_format=input_format).run_files(
        [str(p) for p in paths])
    return out


def kinds(session: Session) -> list[str]:
    return [m.kind for m in session.messages]


def report_json(tmp_path: Path, *args: str) -> tuple[int, dict[str, object]]:
    out = tmp_path / "report.json"
    code = main(["report", "--format", "json", "-o", str(out), *args])
    return code, json.loads(out.read_text()) if out.exists() and out.stat().st_size else {}
