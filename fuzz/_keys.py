"""The TLS key material the TLS, TCP and capture harnesses decrypt with: the key logs and server
keys of the TLS captures in ``captures/``, and the key log of the transcripts in
``fuzz/seeds/tls/`` (made by ``make_seeds.py --tls-transcripts``)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from fuzz._common import CAPTURES

TLS_SEEDS = Path(__file__).resolve().parent / "seeds" / "tls"


@cache
def keylogs() -> tuple[tuple[str, bytes], ...]:
    files = sorted(CAPTURES.glob("*.keys")) + sorted(TLS_SEEDS.glob("*.keys"))
    return tuple((p.name, p.read_bytes()) for p in files)


@cache
def rsa_keys() -> tuple[tuple[str, bytes, None, None], ...]:
    return tuple((p.name, p.read_bytes(), None, None) for p in sorted(CAPTURES.glob("*.server.key")))
