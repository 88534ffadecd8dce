"""SyncML status codes and alert codes with their meanings.

Status codes are the full list of OMA-TS-SyncML_RepPro-V1_2_1 §10 plus 517, which OMA DM
Protocol 1.2 defines for Atomic responses that do not fit a message.  Alert codes are the
OMA DM ones (1100-1104 UI alerts, 1200-1226 session alerts) and the SyncML DS ones
(100, 200-210 sync types, 221-225), because DS messages share the decoder.
"""

from __future__ import annotations

from typing import Final

__all__ = ["ALERT_CODES", "STATUS_CODES", "alert_meaning", "status_meaning"]

STATUS_CODES: Final[dict[int, str]] = {
    101: "In progress",
    200: "OK",
    201: "Item added",
    202: "Accepted for processing",
    203: "Non-authoritative response",
    204: "No content",
    205: "Reset content",
    206: "Partial content",
    207: "Conflict resolved with merge",
    208: 'Conflict resolved with client\'s command "winning"',
    209: "Conflict resolved with duplicate",
    210: "Delete without archive",
    211: "Item not deleted",
    212: "Authentication accepted",
    213: "Chunked item accepted and buffered",
    214: "Operation cancelled",
    215: "Not executed",
    216: "Atomic roll back OK",
    300: "Multiple choices",
    301: "Moved permanently",
    302: "Found",
    303: "See other",
    304: "Not modified",
    305: "Use proxy",
    400: "Bad request",
    401: "Invalid credentials",
    402: "Payment needed",
    403: "Forbidden",
    404: "Not found",
    405: "Command not allowed",
    406: "Optional feature not supported",
    407: "Missing credentials",
    408: "Request timeout",
    409: "Conflict",
    410: "Gone",
    411: "Size required",
    412: "Incomplete command",
    413: "Request entity too large",
    414: "URI too long",
    415: "Unsupported media type or format",
    416: "Requested size too big",
    417: "Retry later",
    418: "Already exists",
    419: "Conflict resolved with server data",
    420: "Device full",
    421: "Unknown search grammar",
    422: "Bad CGI script",
    423: "Soft-delete conflict",
    424: "Size mismatch",
    425: "Permission denied",
    426: "Partial item not accepted",
    427: "Item not empty",
    428: "Move failed",
    500: "Command failed",
    501: "Command not implemented",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
    505: "DTD version not supported",
    506: "Processing error",
    507: "Atomic failed",
    508: "Refresh required",
    509: "Reserved",
    510: "Data store failure",
    511: "Server failure",
    512: "Synchronization failed",
    513: "Protocol version not supported",
    514: "Operation cancelled",
    516: "Atomic roll back failed",
    517: "Atomic response too large to fit",
}

ALERT_CODES: Final[dict[int, str]] = {
    # SyncML DS (RepPro / DS Protocol)
    100: "Display",
    200: "Two-way sync",
    201: "Slow sync",
    202: "One-way sync from client",
    203: "Refresh sync from client",
    204: "One-way sync from server",
    205: "Refresh sync from server",
    206: "Two-way sync alerted by server",
    207: "One-way sync from client alerted by server",
    208: "Refresh sync from client alerted by server",
    209: "One-way sync from server alerted by server",
    210: "Refresh sync from server alerted by server",
    221: "Result alert",
    222: "Next message",
    223: "No end of data",
    224: "Suspend",
    225: "Resume",
    # OMA DM 1.2 (DM Protocol §Alert)
    1100: "Display",
    1101: "Confirm or reject",
    1102: "Text input",
    1103: "Single choice",
    1104: "Multiple choice",
    1200: "Server-initiated management",
    1201: "Client-initiated management",
    1222: "Next message",
    1223: "Session abort",
    1224: "Client event",
    1225: "No end of data",
    1226: "Generic alert",
}


def to_code(code: int | str | None) -> int | None:
    """``code`` as an int when it is one (surrounding whitespace allowed), else None."""
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if code is None:
        return None
    s = code.strip()
    if 0 < len(s) <= 9 and s.isascii() and s.isdigit():
        return int(s)
    return None


def status_meaning(code: int | str | None) -> str | None:
    """Meaning of a SyncML status code (``212`` -> ``"Authentication accepted"``), None if unknown."""
    n = to_code(code)
    return None if n is None else STATUS_CODES.get(n)


def alert_meaning(code: int | str | None) -> str | None:
    """Meaning of an alert code (``1201`` -> ``"Client-initiated management"``), None if unknown."""
    n = to_code(code)
    return None if n is None else ALERT_CODES.get(n)
