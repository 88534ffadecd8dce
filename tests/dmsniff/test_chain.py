"""The addon chain: who is in a run and in what order (dmsniff/chain.py)."""

from __future__ import annotations

from dmsniff.chain import addon_chain
from dmsniff.pipeline import Addon
from dmsniff.sessions import CwmpSessions, DmSessions, TlsChecks
from dmsniff.verify.secrets import Secrets
from dmsniff.verify.verifier import Verifier


class Mark(Addon):
    def __init__(self, name: str) -> None:
        self.name = name


def kinds(chain: list[Addon]) -> list[str]:
    return [a.name if isinstance(a, Mark) else type(a).__name__ for a in chain]


def test_a_report_first_the_verifier_then_the_builders_then_the_consumers() -> None:
    chain = addon_chain(Verifier(Secrets()), first=[Mark("keeper")], last=[Mark("writer"), Mark("export")])
    assert kinds(chain) == ["keeper", "Verifier", "CwmpSessions", "DmSessions", "TlsChecks",
                            "writer", "export"]


def test_http_only_has_no_verifier_and_no_builders() -> None:
    assert kinds(addon_chain(None, sessions=False, last=[Mark("writer")])) == ["writer"]


def test_the_audit_pass_has_the_verifier_alone() -> None:
    assert kinds(addon_chain(Verifier(Secrets()), sessions=False, last=[Mark("progress")])) == [
        "Verifier", "progress"]


def test_each_chain_has_builders_of_its_own() -> None:
    a, b = addon_chain(None), addon_chain(None)
    assert [type(x) for x in a] == [CwmpSessions, DmSessions, TlsChecks]
    assert all(x is not y for x, y in zip(a, b, strict=True))
