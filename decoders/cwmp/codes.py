"""CWMP code tables: fault codes (ACS 8000-8006, CPE 9000-9032), Inform event codes, the Status
of responses and parameter Notification values.

Texts follow the ``CPEFaultCodeType``/``ACSFaultCodeType`` comments in ``cwmp-1-2.xsd`` and
the event list of ``cwmp-1-4.xsd`` plus TR-069 Amendment 6 (``14 HEARTBEAT``).  Adding a code
is a one-line change to the matching dict.  Status and Notification texts are the enumeration
comments of ``cwmp-1-2.xsd`` and ``cwmp-1-4.xsd``.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "EVENT_CODES",
    "EVENT_DESCRIPTIONS",
    "FAULT_CODES",
    "METHOD_EVENTS",
    "NOTIFICATION_VALUES",
    "STATUS_MEANINGS",
    "event_description",
    "event_meaning",
    "fault_meaning",
    "status_meaning",
]

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

#: Why a numbered event opens a session, in short (after TR-069 Amendment 6, Table 7).
EVENT_DESCRIPTIONS: Final[dict[int, str]] = {
    0: "first contact with this ACS: new CPE, factory reset, or the ACS URL changed",
    1: "the CPE started: power-up or reboot, whatever the cause",
    2: "the periodic Inform interval elapsed",
    3: "the time asked for with ScheduleInform came",
    4: "a parameter the ACS set notification on changed by other means than the ACS",
    5: "the session serves a Kicked call (a web page asked the ACS to act)",
    6: "the ACS asked for this session with a Connection Request",
    7: "a Download or Upload the ACS asked for ended (TransferComplete follows)",
    8: "diagnostics the ACS started have completed",
    9: "the CPE asks for a download (RequestDownload follows)",
    10: "a transfer the ACS did not ask for ended (AutonomousTransferComplete follows)",
    11: "a ChangeDUState the ACS asked for ended (DUStateChangeComplete follows)",
    12: "a deployment-unit change the ACS did not ask for ended (AutonomousDUStateChangeComplete follows)",
    13: "the CPE woke up from standby",
    14: "the heartbeat interval of ManagementServer.HeartbeatPolicy elapsed",
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


#: The Status argument of responses whose request may take effect later: 0 done, 1 not yet.
STATUS_MEANINGS: Final[dict[str, dict[int, str]]] = {
    "SetParameterValuesResponse": {
        0: "all changes validated and applied",
        1: "all changes validated and committed, some not yet applied (e.g. a reboot is needed)",
    },
    "AddObjectResponse": {0: "the object has been created", 1: "creation committed, not yet applied"},
    "DeleteObjectResponse": {0: "the object has been deleted", 1: "deletion committed, not yet applied"},
    "DownloadResponse": {0: "download completed and applied", 1: "download not yet completed and applied"},
    "UploadResponse": {0: "upload completed", 1: "upload not yet completed"},
}

#: Parameter attribute Notification values (0-2 since CWMP 1.0, 3-6 lightweight, 1.4).
NOTIFICATION_VALUES: Final[dict[int, str]] = {
    0: "off",
    1: "passive",
    2: "active",
    3: "passive lightweight",
    4: "passive + passive lightweight",
    5: "active lightweight",
    6: "passive + active lightweight",
}


def status_meaning(kind: str, status: int | None) -> str | None:
    """What the Status of the response ``kind`` says, None when it is absent or not 0/1."""
    return None if status is None else STATUS_MEANINGS.get(kind, {}).get(status)


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


def event_description(code: str) -> str | None:
    """Why the event ``code`` opened the session: :data:`EVENT_DESCRIPTIONS` for a numbered code
    (whatever the spelling of its name), :func:`event_meaning` for the others; None if the code
    fits no pattern of the schema."""
    head, _, _ = code.strip().partition(" ")
    if head.isascii() and head.isdigit():
        return EVENT_DESCRIPTIONS.get(int(head))
    return event_meaning(code)
