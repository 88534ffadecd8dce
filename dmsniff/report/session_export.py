"""``dmsniff export SESSION-ID CAPTURE... --as mermaid|plantuml|svg|html|har``: one session as a
picture, a page or an HTTP Archive.

Reads the captures through the same pipeline as ``dmsniff report`` (credentials checked, TLS
decrypted with the keys given), keeps the one session asked for, and writes its sequence chart
(:mod:`dmsniff.report.msc`) as Mermaid or PlantUML text, a standalone SVG, its HTML page
(:mod:`dmsniff.report.html`, the report's page with that session alone), or its HTTP exchanges
as a HAR (:mod:`dmsniff.report.har`; the page and the HAR keep the capture's exchanges in memory
until the session is known).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from dmsniff.model import Transaction
from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline.addons import Addon
from dmsniff.pipeline.runner import Pipeline
from dmsniff.report import msc
from dmsniff.report.har import session_transactions, write_har
from dmsniff.report.html import HtmlReport
from dmsniff.sessions.model import Session
from dmsniff.verify.secrets import Secrets

FORMATS = ("mermaid", "plantuml", "svg", "html", "har")
SUFFIXES = {"mermaid": ".mmd", "plantuml": ".puml", "svg": ".svg", "html": ".html", "har": ".har"}


class SessionNotFound(Exception):
    """The session asked for is not in the captures; the text names the ones that are."""


class _Catch(Addon):
    """Keeps one session, the ids of the others (for the error message) and which connections ran TLS."""

    def __init__(self, wanted: str, keep: bool = False) -> None:
        self.wanted = wanted
        self.found: Session | None = None
        self.others: list[str] = []
        self.tls: set[str] = set()
        self.needs_bodies = keep
        self.transactions: dict[str, Transaction] | None = {} if keep else None  # (keep: for a HAR)

    def transaction(self, tx: Transaction) -> None:
        if tx.tls is not None:
            self.tls.add(tx.connection)
        if self.transactions is not None:
            self.transactions[tx.id] = tx

    def session(self, session: Session) -> None:
        if session.id == self.wanted:
            self.found = session
        elif len(self.others) < 20:
            self.others.append(session.id)


def render(session: Session, fmt: str, tls: set[str] | frozenset[str] = frozenset()) -> str:
    """The session's chart as Mermaid, PlantUML or SVG text."""
    c = msc.chart(session, tls)
    if fmt == "mermaid":
        return msc.mermaid(c)
    if fmt == "plantuml":
        return msc.plantuml(c)
    if fmt == "svg":
        return msc.svg(c)
    raise ValueError(f"not a chart format: {fmt}")


def export_session(session_id: str, captures: Sequence[str], fmt: str, out: TextIO, *,
                   secrets: Secrets | None = None, tls: TlsKeySpec | None = None,
                   show_secrets: bool = False) -> Session:
    """Write ``session_id``'s chart (or HTML page) to ``out``; raises :class:`SessionNotFound`."""
    from dmsniff.chain import addon_chain
    from dmsniff.verify.verifier import Verifier

    catch = _Catch(session_id, keep=fmt == "har")
    page = HtmlReport(out, show_secrets=show_secrets, single=session_id) if fmt == "html" else None
    verifier = Verifier(secrets or Secrets(), show_secrets=show_secrets)
    last: list[Addon] = [catch]
    if page is not None:
        last.append(page)
        page.done = lambda: None  # type: ignore[method-assign]  # written below, once the session is known
    pipeline = Pipeline(addon_chain(verifier, last=last), jobs=1, tls_keys=tls)
    pipeline.run_files(list(captures))
    if catch.found is None:
        known = ", ".join(catch.others) + (", …" if len(catch.others) == 20 else "") or "none"
        raise SessionNotFound(f"no session {session_id} in {', '.join(captures)} (sessions: {known})")
    if page is not None:
        HtmlReport.done(page)
    elif catch.transactions is not None:
        write_har(out, session_transactions([catch.found], catch.transactions), [catch.found])
    else:
        out.write(render(catch.found, fmt, catch.tls))
    out.flush()
    return catch.found
