"""The text every decoder returns for a bug of its own (decoders/_errors.py)."""

from __future__ import annotations

from decoders._errors import INTERNAL_ERROR_LIMIT, internal_error


def test_names_the_exception_in_one_line() -> None:
    assert internal_error(RuntimeError("bug")) == "internal decoder error: RuntimeError('bug')"
    assert "\n" not in internal_error(ValueError("two\nlines"))  # (repr escapes it)


def test_a_huge_exception_text_is_cut() -> None:
    text = internal_error(ValueError("x" * 100_000))
    assert len(text) == INTERNAL_ERROR_LIMIT
    assert text.startswith("internal decoder error: ValueError('xxx")
