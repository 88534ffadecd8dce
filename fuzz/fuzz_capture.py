"""The whole pipeline on a capture: ``dmsniff.pipeline.Pipeline.run_files`` over a file holding the
input (pcap or pcapng, plain or gzip), with the addons of ``dmsniff report``: the credential
``Verifier`` (with the captures' passwords), the session builders and checkers
(``dmsniff.chain.addon_chain``: CWMP, OMA DM, TLS) and the JSON Lines writer (to
/dev/null), and the TLS keys of ``captures/``.  This reaches every layer: reader, link/IP, TCP,
HTTP, TLS, the protocol decoders (CWMP, SyncML, WBXML, Pkg#0, STUN, TR-111), sessions, verdicts,
findings and report records.

The pipeline turns a bug in any layer or addon into a ``dmsniff.internal-error`` finding and goes
on; that is how a user meets it, so while an input runs ``dmsniff.pipeline.records.internal_error`` (which
builds that finding) raises the bug instead, and so does the HTTP parser
(``HttpStreamParser._raise_internal_errors``, as in its own tests), which would otherwise skip the
bytes it failed on.  An unusable file is reported by ``run_files`` (a ``CaptureError``
in its results, not raised): not a crash.  The decoders that never raise return their own bugs as
an "internal ... error" value, which the pipeline hands on like any problem: the ``CaughtBugs``
addon raises for those.
"""

from __future__ import annotations

import os
import tempfile

from fuzz._common import InternalError, has_internal_error, instrumented, main

with instrumented(__name__ == "__main__"):
    from decoders.http import HttpStreamParser
    from decoders.tls import _connection, _crypto, _handshake, _keys  # noqa: F401  (lazy: instrument now)
    from dmsniff import protocols  # noqa: F401
    from dmsniff.chain import addon_chain
    from dmsniff.net import tls as net_tls  # noqa: F401
    from dmsniff.net.tls_keys import TlsKeySpec
    from dmsniff.pipeline import Addon, Pipeline
    from dmsniff.pipeline import records as pipeline_records
    from dmsniff.report import JsonLinesReport
    from dmsniff.verify.secrets import Secret, Secrets
    from dmsniff.verify.verifier import Verifier

from fuzz import _keys as fuzz_keys


def _raise(where: str, exc: BaseException, frames: list[int], capture: int) -> object:
    raise exc


def _check(record: object, where: str) -> None:
    """A decoded body or datagram, or a verdict, that carries a bug its decoder caught."""
    if record is None:
        return
    bug = has_internal_error(getattr(record, "problems", ())) or has_internal_error(
        getattr(record, "reason", None) or "")
    if bug:
        raise InternalError(f"{where}: {type(record).__name__}: {bug}")


class CaughtBugs(Addon):
    """Raises for what the decoders report as their own bugs (an "internal ... error" value): the
    pipeline does not see those as failures, the user sees them as problems."""

    def transaction(self, tx: object) -> None:
        for msg in (getattr(tx, "request", None), getattr(tx, "response", None)):
            if msg is not None:
                _check(msg.protocol, f"{tx.id}")  # type: ignore[attr-defined]
                for result in msg.auth or ():
                    _check(result, f"{tx.id} auth")  # type: ignore[attr-defined]

    def datagram(self, dg: object) -> None:
        _check(dg.protocol, dg.id)  # type: ignore[attr-defined]
        for result in dg.auth or ():  # type: ignore[attr-defined]
            _check(result, f"{dg.id} auth")  # type: ignore[attr-defined]

_DIR = tempfile.mkdtemp(prefix="dmsniff-fuzz-capture-")
_PATH = os.path.join(_DIR, "input.pcap")
_DEVNULL = open(os.devnull, "w")  # noqa: SIM115 - the whole process writes its reports here
SECRETS = Secrets([
    Secret("any", "alice", "alice-pass"), Secret("any", "bob", "bob-pass"),
    Secret("any", "cruser", "crpass"), Secret("omadm_client", "dmuser", "dmpass"),
    Secret("omadm_server", "dmsniff-dm", "srvpass", nonce=b""),
])
TLS_KEYS = TlsKeySpec(fuzz_keys.keylogs(), fuzz_keys.rsa_keys())


def TestOneInput(data: bytes) -> None:
    with open(_PATH, "wb") as f:
        f.write(data)
    addons = addon_chain(Verifier(SECRETS), last=[CaughtBugs(), JsonLinesReport(_DEVNULL)])
    saved = pipeline_records.internal_error
    pipeline_records.internal_error = _raise  # type: ignore[assignment]
    HttpStreamParser._raise_internal_errors = True
    try:
        Pipeline(addons, tls_keys=TLS_KEYS).run_files([_PATH])
    finally:
        pipeline_records.internal_error = saved
        HttpStreamParser._raise_internal_errors = False


if __name__ == "__main__":
    main(TestOneInput)
