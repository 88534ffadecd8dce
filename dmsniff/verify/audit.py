"""The wordlist audit as a pass of its own, before the report's.

A password found at the end of a run comes too late for the credentials already reported.  So when
the captures can be read twice (files, not a stream), a first pass runs only the verifier, audits
the credentials it kept against the wordlist, and returns what it found; the report's pass then
judges **every** credential of those identities with the found passwords exactly as if the user
had supplied them (valid or invalid with the reason, ``matched: "wordlist"``), in the report, the
JSON and the TUI alike.  The first pass costs a read of the captures with decoding but no session
building: well under the audit itself for any real wordlist.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from dmsniff.net.tls_keys import TlsKeySpec
from dmsniff.pipeline.records import Input
from dmsniff.pipeline.runner import Pipeline
from dmsniff.progress import Progress
from dmsniff.verify.model import Cracked
from dmsniff.verify.secrets import Secret, Secrets
from dmsniff.verify.verifier import Verifier

#: How results name a password the audit found (the ``matched`` of the credentials it verifies).
WORDLIST_LABEL = "wordlist"


def rereadable(inputs: Sequence[Input]) -> bool:
    """Inputs a second pass can read again: files, and standard input once its copy is kept
    (:func:`dmsniff.capture.stdin.keep_copy`)."""
    from dmsniff.capture.stdin import kept

    return all(p != "-" or kept() for i in inputs for p in ((i,) if isinstance(i, str) else i))


def first_pass(inputs: Sequence[Input], secrets: Secrets, wordlist: list[bytes], *, jobs: int,
               max_body: int, tls: TlsKeySpec | None, input_format: str | None,
               progress: Progress | None = None) -> Cracked:
    """Read the captures with only the verifier, audit its credentials, return what was found."""
    from dmsniff.chain import addon_chain  # (the session builders' imports, only when it runs)

    verifier = Verifier(secrets, wordlist=wordlist, jobs=jobs)
    addons = addon_chain(verifier, sessions=False, last=[progress] if progress is not None else [])
    pipeline = Pipeline(addons, max_body=max_body, jobs=jobs, tls_keys=tls,
                        input_format=input_format, progress=progress)
    pipeline.run_files(list(inputs))
    summary = verifier.audit_summary or (len(wordlist), 0, 0, 0.0, 0)
    return Cracked(found=verifier.found, summary=summary)


def with_cracked(secrets: Secrets, cracked: Cracked) -> Secrets:
    """The user's secrets and, after them, the passwords the audit found (the user's win a tie)."""
    extra = [Secret(c.kind, c.identity, c.password, label=WORDLIST_LABEL) for c in cracked.found]
    return dataclasses.replace(secrets, entries=[*secrets.entries, *extra])
