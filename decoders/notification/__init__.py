"""Sans-IO decoder for OMA DM Package #0 and the connectionless WSP push that carries it.

:func:`decode` takes a raw Package #0 (the DM 1.2 "General Notification Initiated Session
Alert", or the DS 1.2 Server Alerted Notification that shares its header) and returns an
immutable :class:`Notification`; :func:`decode_wap_push` takes a UDP payload sent to WDP
port 2948/2949 and returns a :class:`WapPush` whose ``notification`` is filled when the
content type is a SyncML notification.  Both return a :class:`NotificationError` for bytes
that are not that at all, and never raise::

    push = decode_wap_push(payload)
    if isinstance(push, WapPush) and isinstance(push.notification, Notification):
        print(push.notification.server_id, push.notification.session_id_hex)

:func:`looks_like_notification` and :func:`looks_like_wap_push` are the cheap tests for
picking these out of arbitrary data.  The digest is exposed (``digest``, ``trigger``) but
not verified here.  Problems are one-line strings prefixed with their severity ("error: ",
"warning: ", "info: ").
"""

from ._decode import (
    NOTIFICATION_MEDIA_TYPES,
    decode,
    decode_wap_push,
    looks_like_notification,
    looks_like_wap_push,
)
from ._records import Notification, NotificationError, SyncAlert, WapPush
from ._tables import INITIATORS, SYNC_TYPES, UI_MODES
from ._wsp import APPLICATION_IDS, CONTENT_TYPES, HEADER_NAMES

__all__ = [
    "APPLICATION_IDS",
    "CONTENT_TYPES",
    "HEADER_NAMES",
    "INITIATORS",
    "NOTIFICATION_MEDIA_TYPES",
    "SYNC_TYPES",
    "UI_MODES",
    "Notification",
    "NotificationError",
    "SyncAlert",
    "WapPush",
    "decode",
    "decode_wap_push",
    "looks_like_notification",
    "looks_like_wap_push",
]
