"""What a decoder returns when it fails on a bug of its own, instead of raising.

Every decoder's entry point catches what its code raised (a decoder bug must not take the
analyser down: that message is lost, not the capture) and returns its error record with this text.
"""

from __future__ import annotations

__all__ = ["INTERNAL_ERROR_LIMIT", "internal_error"]

#: Characters of the text kept: an exception's repr can hold a whole hostile message.
INTERNAL_ERROR_LIMIT = 300


def internal_error(exc: BaseException) -> str:
    """One line naming the exception, cut to :data:`INTERNAL_ERROR_LIMIT` characters."""
    return f"internal decoder error: {exc!r}"[:INTERNAL_ERROR_LIMIT]
