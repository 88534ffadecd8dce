"""CWMP code tables: fault codes (ACS 8000-8006, CPE 9000-9032) and Inform event codes.

Texts follow the ``CPEFaultCodeType``/``ACSFaultCodeType`` comments in ``cwmp-1-2.xsd`` and
the event list of ``cwmp-1-4.xsd`` plus TR-069 Amendment 6 (``14 HEARTBEAT``).  Adding a code
is a one-line change to the matching dict.
"""

from __future__ import annotations

from typing import Final

__all__ = ["EVENT_CODES", "FAULT_CODES", "METHOD_EVENTS", "event_meaning", "fault_meaning"]

#: ACS (8xxx) and CPE (9xxx) fault codes.
FAULT_CODES: Final[dict[int, str]] = {
    8000: "Method not supported",
    8001: "Request denied (no reason specified)",
    8002: "Internal error",
    8003: "Invalid arguments",
    8004: "Resources exceeded",
    8005: "Retry request",
    8006: "ACS version incompatible",
    9000: "Method not supported",
    9001: "Request denied (no reason specified)",
    9002: "Internal error",
    9003: "Invalid arguments",
    9004: "Resources exceeded",
    9005: "Invalid parameter name",
    9006: "Invalid parameter type",
    9007: "Invalid parameter value",
    9008: "Attempt to set a non-writable parameter",
    9009: "Notification request rejected",
    9010: "File transfer failure",
    9011: "Upload failure",
    9012: "File transfer server authentication failure",
    9013: "Unsupported protocol for file transfer",
    9014: "File transfer failure: unable to join multicast group",
    9015: "File transfer failure: unable to contact file server",
    9016: "File transfer failure: unable to access file",
    9017: "File transfer failure: unable to complete download",
    9018: "File transfer failure: file corrupted",
    9019: "File transfer failure: file authentication failure",
    9020: "File transfer failure: unable to complete download within specified time windows",
    9021: "Cancelation of file transfer not permitted in current transfer state",
    9022: "Invalid UUID Format",
    9023: "Unknown Execution Environment",
    9024: "Disabled Execution Environment",
    9025: "Deployment Unit to Execution Environment Mismatch",
    9026: "Duplicate Deployment Unit",
    9027: "System Resources Exceeded",
    9028: "Unknown Deployment Unit",
    9029: "Invalid Deployment Unit State",
    9030: "Invalid Deployment Unit Update - Downgrade not permitted",
    9031: "Invalid Deployment Unit Update - Version not specified",
    9032: "Invalid Deployment Unit Update - Version already exists",
}

#: Numbered Inform event codes, keyed by number.
EVENT_CODES: Final[dict[int, str]] = {
    0: "BOOTSTRAP",
    1: "BOOT",
    2: "PERIODIC",
    3: "SCHEDULED",
    4: "VALUE CHANGE",
    5: "KICKED",
    6: "CONNECTION REQUEST",
    7: "TRANSFER COMPLETE",
    8: "DIAGNOSTICS COMPLETE",
    9: "REQUEST DOWNLOAD",
    10: "AUTONOMOUS TRANSFER COMPLETE",
    11: "DU STATE CHANGE COMPLETE",
    12: "AUTONOMOUS DU STATE CHANGE COMPLETE",
    13: "WAKEUP",
    14: "HEARTBEAT",
}

#: "M <method>" events: the method whose completion or request the event reports.
METHOD_EVENTS: Final[dict[str, str]] = {
    "Reboot": "reboot requested by the ACS completed",
    "ScheduleInform": "Inform scheduled by the ACS",
    "Download": "download requested by the ACS completed",
    "ScheduleDownload": "scheduled download completed",
    "Upload": "upload requested by the ACS completed",
    "ChangeDUState": "deployment-unit state change completed",
}


def fault_meaning(code: int | None) -> str:
    """Meaning of a CWMP fault code, including the vendor and reserved ranges."""
    if code is None:
        return "no fault code"
    if code in FAULT_CODES:
        return FAULT_CODES[code]
    if code == 0:
        return "no fault"
    if 8800 <= code <= 8899:
        return "vendor-specific ACS fault"
    if 9800 <= code <= 9899:
        return "vendor-specific CPE fault"
    if 8007 <= code <= 8799 or 9033 <= code <= 9799:
        return "reserved fault code"
    return "not a CWMP fault code"


def event_meaning(code: str) -> str | None:
    """Meaning of an EventCode string such as "0 BOOTSTRAP", "M Reboot" or "X 00147F Foo".

    Returns None when the code fits none of the patterns of the schema.
    """
    text = code.strip()
    head, _, rest = text.partition(" ")
    if head.isascii() and head.isdigit():
        name = EVENT_CODES.get(int(head))
        if name is None:
            return None
        return name if rest.strip().upper() == name else f"{name} (sent as {text!r})"
    if head == "M" and rest:
        method = rest.strip()
        if method.startswith("X_"):
            return f"vendor method event {method}"
        return METHOD_EVENTS.get(method, f"method event {method}")
    if head == "X" and rest:
        return f"vendor event {rest.strip()}"
    return None
