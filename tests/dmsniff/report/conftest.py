"""Sessions of our captures, read once for the report tests, where test artefacts go, and the
headless browser the HTML and HAR tests drive."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dmsniff.chain import addon_chain
from dmsniff.model import Transaction
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline import Addon, Pipeline
from dmsniff.sessions.model import Session
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier
from tests.conftest import CAPTURES, ROOT

SECRETS = Secrets([
    Secret("omadm_client", "dmuser", "dmpass"),
    Secret("omadm_server", "dmsniff-dm", "srvpass"),
    Secret("connection_request", "cruser", "crpass"),
])
#: Screenshots and pages the browser tests leave to be looked at (build/ is not committed).
ARTIFACTS = Path(os.environ.get("DMSNIFF_ARTIFACTS", ROOT / "build" / "test-artifacts"))


class Collect(Addon):
    def __init__(self) -> None:
        self.sessions: list[Session] = []
        self.tls: set[str] = set()

    def transaction(self, tx: Transaction) -> None:
        if tx.tls is not None:
            self.tls.add(tx.connection)

    def session(self, session: Session) -> None:
        self.sessions.append(session)


def read_sessions(*names: str, keylog: str | None = None) -> Collect:
    keys = TlsKeySpec()
    if keylog is not None:
        path = CAPTURES / keylog
        keys = TlsKeySpec(((path.name, path.read_bytes()),))
    collect = Collect()
    Pipeline(addon_chain(Verifier(SECRETS), last=[collect]), tls_keys=keys).run_files(
        [str(CAPTURES / n) for n in names])
    return collect


@pytest.fixture(scope="session")
def our_sessions() -> Collect:
    """Every session of our plaintext CWMP and OMA DM captures, and one over TLS 1.3."""
    plain = read_sessions("cwmp_loopback.pcap", "omadm_loopback.pcap")
    tls = read_sessions("tls13_loopback.pcap", keylog="tls13_loopback.keys")
    plain.sessions.extend(tls.sessions)
    plain.tls |= tls.tls
    return plain


CHROMIUM = "/usr/bin/chromium"
# The flags a closed network needs (without them chromium waits on connections it tries to make).
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless chromium (a Playwright persistent context), or the test skipped without one."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no browser: {CHROMIUM} is not installed (apt-get install chromium; .ci/run does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as p:
        # A persistent context gives chromium a fresh profile folder of its own.
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=ARGS, viewport={"width": 1400, "height": 900})
        yield context
        context.close()
