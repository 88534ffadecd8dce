"""Code tables of the Package #0 trigger: versions, UI modes, initiators, DS SAN sync types.

Sources: OMA-TS-DM_Notification-V1_2 (the trigger header) and the three open DS SAN
implementations that agree on the sync-type field (see :data:`SYNC_TYPES`).
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "DIGEST_LENGTH",
    "DM_NOTIFICATION_VERSION",
    "DS_SAN_VERSION",
    "HEADER_LENGTH",
    "INITIATORS",
    "KNOWN_VERSIONS",
    "SYNC_TYPES",
    "SYNC_TYPE_ALERT_BASE",
    "UI_MODES",
]

DIGEST_LENGTH: Final = 16  # MD5
HEADER_LENGTH: Final = 8  # version .. server identifier length: 10+2+1+27+16+8 bits

#: '0000001011': what DM Notification 1.2 and libdmclient's package0.c write and require.
DM_NOTIFICATION_VERSION: Final = 11
#: '0000001100': the DS 1.2 Server Alerted Notification (buteo-syncml, Synthesis san.cpp).
DS_SAN_VERSION: Final = 12
KNOWN_VERSIONS: Final = frozenset({DM_NOTIFICATION_VERSION, DS_SAN_VERSION})

#: The 2-bit ui-mode field.
UI_MODES: Final[dict[int, str]] = {
    0: "not-specified",
    1: "background",
    2: "informative",
    3: "user-interaction",
}

#: The 1-bit initiator field.
INITIATORS: Final[dict[int, str]] = {0: "user", 1: "server"}

#: The DS SAN sync-type nibble is the SyncML alert code minus 200.  Confirmed in three
#: independent implementations: Synthesis libsynthesis san.cpp (``AddBits(..., syncType-200)``,
#: commented "the sync type 206..210"), buteo-syncml ServerAlertedNotification.cpp
#: (``SYNCALERT_BASE + (byte >> 4)`` with SYNCALERT_BASE 200) and Funambol's SyncAlert::set
#: ("Sync type (values: 6-10)", stored as ``sync_type + 200``, anything else rejected).
SYNC_TYPE_ALERT_BASE: Final = 200

#: Sync types a SAN may carry -> the server-alerted sync alert codes' names (SyncML DS
#: Representation alert codes 206..210).
SYNC_TYPES: Final[dict[int, str]] = {
    6: "two-way by server",
    7: "one-way from client by server",
    8: "refresh from client by server",
    9: "one-way from server by server",
    10: "refresh from server by server",
}
