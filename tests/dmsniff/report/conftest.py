"""Sessions of our captures, read once for the report tests, and where test artefacts go."""

from __future__ import annotations

import os
from pathlib import Path

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
