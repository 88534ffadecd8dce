"""One str object for each value that every message repeats.

Field names and short values (Content-Type, Host, a CWMP parameter name, a SyncML LocURI,
status code or version) are the same few thousand strings in every message; decoded, each
would be a separate object in every record.  :func:`share` gives back the first equal string
seen instead: less memory wherever records are kept, and cheaper records to pickle for the
process that merges the decoding workers' output (pickle writes a repeated object once).

Not :func:`sys.intern`: Python 3.12.0 to 3.12.4 make interned strings immortal, so a
capture's every Date header or session cookie would stay in memory to the end of the run.
The table here is bounded (emptied when full) and values longer than ``MAX_LENGTH`` are
never kept.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MAX_ENTRIES", "MAX_LENGTH", "share"]

MAX_LENGTH: Final = 64
MAX_ENTRIES: Final = 16_384  # at most ~2 MiB, whatever the input

_TABLE: dict[str, str] = {}


def share(text: str) -> str:
    """``text``, or an equal string returned before (values over ``MAX_LENGTH`` as they are)."""
    if len(text) > MAX_LENGTH:
        return text
    seen = _TABLE.get(text)
    if seen is not None:
        return seen
    if len(_TABLE) >= MAX_ENTRIES:  # a stream of unique values (dates, cookies): start again
        _TABLE.clear()
    _TABLE[text] = text
    return text
