"""What the harnesses share: instrumentation, the op stream they are driven by, crash signatures.

Every harness module ``fuzz/fuzz_<thing>.py`` defines ``TestOneInput(data: bytes)`` and ends with
``if __name__ == "__main__": main(TestOneInput)``.  Run one by hand with
``.venv/bin/python -m fuzz.fuzz_cwmp -runs=1000 /tmp/dmsniff-fuzz/seeds/cwmp`` or through
``fuzz/run.py``, which passes the dictionary, the limits and the seed directory.

The structured harnesses read their input as a stream of *ops* through
:class:`atheris.FuzzedDataProvider`, front to back only (``ConsumeUInt`` and ``ConsumeBytes``
both read from the front), so that ``make_seeds.py`` can write real traffic in the same shape
with :func:`encode_ops`: one op byte, then the op's fields (a 1-, 2- or 4-byte little-endian
number, or a 2-byte length and that many bytes).
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: Where make_seeds.py and run.py build seeds, corpora and crash artifacts (never in the repository).
WORK = Path(os.environ.get("DMSNIFF_FUZZ_WORK", "/tmp/dmsniff-fuzz"))
#: The shared public corpus (``../shared/corpus`` beside the checkout, or ``$DMSNIFF_FUZZ_CORPUS``).
CORPUS = Path(os.environ.get("DMSNIFF_FUZZ_CORPUS", ROOT.parent / "shared" / "corpus"))
CAPTURES = ROOT / "captures"

#: The texts the never-raising entry points put in their error value when a bug was caught.
INTERNAL_MARKERS = ("internal decoder error", "internal parser error", "internal error")


class InternalError(AssertionError):
    """An entry point that never raises reported a bug it caught (an error *value*), and calling
    its inner function did not raise it again: the harness raises this instead."""


def instrumented(active: bool) -> contextlib.AbstractContextManager[Any]:
    """Instrument the project's modules for coverage when the harness runs as a fuzzer (not when a
    test imports it to replay regressions)."""
    if not active:
        return contextlib.nullcontext()
    import atheris

    return atheris.instrument_imports(include=["decoders", "dmsniff"])


def has_internal_error(texts: object) -> str | None:
    """The first text in ``texts`` (a string or strings) that reports a caught bug."""
    items = (texts,) if isinstance(texts, str) else texts
    if not isinstance(items, Sequence):
        return None
    for text in items:
        if isinstance(text, str) and any(m in text for m in INTERNAL_MARKERS):
            return text
    return None


def reraise(message: str, inner: Callable[..., object], *args: object, **kwargs: object) -> None:
    """An entry point returned ``message`` for a bug it caught: call its inner function so the bug
    raises with its real traceback (that is the crash), or raise :class:`InternalError`."""
    inner(*args, **kwargs)
    raise InternalError(message)


# -- the op stream -------------------------------------------------------------------------------


class Ops:
    """The fuzzer's bytes read as a sequence of calls (see the module docstring)."""

    def __init__(self, data: bytes) -> None:
        import atheris

        self.fdp = atheris.FuzzedDataProvider(data)

    def __bool__(self) -> bool:
        return self.fdp.remaining_bytes() > 0

    def op(self, n: int) -> int:
        return int(self.fdp.ConsumeUInt(1)) % n

    def u8(self) -> int:
        return int(self.fdp.ConsumeUInt(1))

    def u16(self) -> int:
        return int(self.fdp.ConsumeUInt(2))

    def u32(self) -> int:
        return int(self.fdp.ConsumeUInt(4))

    def chunk(self) -> bytes:
        """A 2-byte length, then that many bytes (fewer at the end of the input)."""
        return bytes(self.fdp.ConsumeBytes(self.u16()))

    def rest(self) -> bytes:
        return bytes(self.fdp.ConsumeBytes(self.fdp.remaining_bytes()))


Field = int | bytes | tuple[str, int]


def encode_ops(steps: Sequence[tuple[int, Sequence[Field]]]) -> bytes:
    """The bytes that :class:`Ops` reads back as ``steps``: (op, fields); an ``int`` field is one
    byte, ``("u16", n)``/``("u32", n)`` a wider number, ``bytes`` a chunk (cut to 65535 bytes)."""
    out = bytearray()
    for op, fields in steps:
        out.append(op & 0xFF)
        for f in fields:
            if isinstance(f, bytes):
                f = f[:0xFFFF]
                out += struct.pack("<H", len(f)) + f
            elif isinstance(f, tuple):
                kind, value = f
                out += struct.pack("<H" if kind == "u16" else "<I", value & (0xFFFF if kind == "u16" else
                                                                           0xFFFFFFFF))
            else:
                out.append(f & 0xFF)
    return bytes(out)


def split_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


# -- crashes -------------------------------------------------------------------------------------


def signature(exc: BaseException) -> str:
    """``Type@path:line`` of the deepest frame in the project's code: one name per distinct bug."""
    where = "?"
    for frame, line in traceback.walk_tb(exc.__traceback__):
        path = Path(frame.f_code.co_filename)
        try:
            rel = path.resolve().relative_to(ROOT)
        except ValueError:
            continue
        if rel.parts and rel.parts[0] in ("decoders", "dmsniff"):
            where = f"{rel}:{line}"
    return f"{type(exc).__name__}@{where}"


def _known() -> frozenset[str]:
    """Crash signatures already reported (``DMSNIFF_FUZZ_KNOWN``, comma-separated), which a long
    campaign steps over to look for the next bug: ``run.py --keep-going`` sets it."""
    return frozenset(s for s in os.environ.get("DMSNIFF_FUZZ_KNOWN", "").split(",") if s)


def main(test_one_input: Callable[[bytes], None]) -> None:
    """Run ``test_one_input`` under libFuzzer with the flags in ``sys.argv``."""
    import atheris

    known = _known()
    target = test_one_input
    if known:
        def target(data: bytes) -> None:
            try:
                test_one_input(data)
            except Exception as exc:
                if signature(exc) not in known:
                    raise

    atheris.Setup(sys.argv, target)
    atheris.Fuzz()
