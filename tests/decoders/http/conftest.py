from __future__ import annotations

from collections.abc import Iterator

import pytest

from decoders.http import HttpStreamParser


@pytest.fixture(autouse=True, scope="package")
def _parser_bugs_raise() -> Iterator[None]:
    """In production an internal error becomes a Skipped event; in these tests it must fail.

    Package-scoped (not monkeypatch) so that hypothesis tests may use it too.
    """
    HttpStreamParser._raise_internal_errors = True
    yield
    HttpStreamParser._raise_internal_errors = False
