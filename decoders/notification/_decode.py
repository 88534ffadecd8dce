"""decode() and decode_wap_push(): Package #0 bytes to records, never raising.

Package #0 (OMA-TS-DM_Notification-V1_2 "General Notification Initiated Session Alert";
the DS 1.2 Server Alerted Notification shares the header)::

     0               16                         24                 24+n
    +----------------+--------------------------+------------------+-----------------------+
    | digest         | trigger header (64 bits) | server identifier| vendor-specific (DM)  |
    | 128 bits (MD5) |                          | n octets         | or DS SAN body        |
    +----------------+--------------------------+------------------+-----------------------+
                     |<------------------------ trigger: input of the inner MD5 ----------->|

    trigger header, most significant bit first:
    +---------+---------+-----------+------------+------------+---------------+
    | version | ui-mode | initiator | future use | session id | server id len |
    | 10 bits | 2 bits  | 1 bit     | 27 bits    | 16 bits    | 8 bits (= n)  |
    +---------+---------+-----------+------------+------------+---------------+
    version: tenths ('0000001011' = 11 = 1.1 in DM Notification 1.2; 12 in the DS 1.2 SAN)
    ui-mode: 0 not specified, 1 background, 2 informative, 3 user interaction
    initiator: 0 user, 1 server

    DS SAN body (version 12):
    +-----------+--------+----------------- per sync, num-syncs times ------------------+--------+
    | num-syncs | future | sync-type | future | content-type | server URI len | URI    | vendor |
    | 4 bits    | 4 bits | 4 bits    | 4 bits | 24 bits      | 8 bits (= m)   | m oct. | rest   |
    +-----------+--------+-----------+--------+--------------+----------------+--------+--------+
    num-syncs 0: every data store.  sync-type = alert code - 200 (6..10 -> 206..210).
    content-type: a WSP well-known code (7 text/x-vCard, 6 text/x-vCalendar), 0 unspecified.

    digest = MD5(B64(MD5(server-id ":" password)) ":" nonce ":" B64(MD5(trigger)))

Sources: OMA DM Notification 1.2 (via the shared reference notes omadm.md and libdmclient
package0.c), Synthesis libsynthesis san.cpp, buteo-syncml ServerAlertedNotification.cpp,
Funambol SyncNotification.cpp/SyncAlert.cpp.  The digest is not checked here: it needs the
server password, and verification belongs to the auth layer; ``Notification.trigger`` and
``digest`` are what it needs.

The WSP push that carries Pkg#0 over UDP 2948 is read by :mod:`._wsp`.
"""

from __future__ import annotations

from typing import Final

from decoders._errors import internal_error

from ._records import Notification, NotificationError, SyncAlert, WapPush
from ._tables import DIGEST_LENGTH, DS_SAN_VERSION, HEADER_LENGTH, KNOWN_VERSIONS, SYNC_TYPES
from ._wsp import (
    CONTENT_TYPES,
    PDU_TYPES,
    PUSH,
    ContentType,
    WspFormatError,
    read_content_type,
    read_headers,
    read_uintvar,
)

__all__ = [
    "NOTIFICATION_MEDIA_TYPES",
    "decode",
    "decode_wap_push",
    "looks_like_notification",
    "looks_like_wap_push",
]

#: Media types whose body is a Package #0, lower-case.  0x44 is the DM one the spec names;
#: 0x4E is registered for DS; IANA also lists the .dm. spelling.
NOTIFICATION_MEDIA_TYPES: Final = frozenset(
    {
        "application/vnd.syncml.notification",
        "application/vnd.syncml.ds.notification",
        "application/vnd.syncml.dm.notification",
    }
)

_MIN_LENGTH: Final = DIGEST_LENGTH + HEADER_LENGTH
_SNIFF_VERSIONS: Final = range(10, 14)  # 1.0 .. 1.3: what a Pkg#0 sniffer accepts
_SYNC_FIXED: Final = 5  # sync-type/future, content-type, URI length
_MIN_PUSH: Final = 3  # TID, type, a one-octet HeadersLen


# ---------------------------------------------------------------- Package #0


def looks_like_notification(data: bytes) -> bool:
    """Cheap test for a raw Pkg#0: header present, version 1.0..1.3, server id within the data."""
    if len(data) < _MIN_LENGTH:
        return False
    version = (data[DIGEST_LENGTH] << 2) | (data[DIGEST_LENGTH + 1] >> 6)
    return version in _SNIFF_VERSIONS and _MIN_LENGTH + data[_MIN_LENGTH - 1] <= len(data)


def decode(data: bytes) -> Notification | NotificationError:
    """Decode one Package #0 (HTTP body, SMS/WSP push body, file).  Never raises."""
    try:
        return _decode(bytes(data))
    except Exception as exc:  # a decoder bug must not take the analyser down
        return NotificationError(internal_error(exc))


def _decode(data: bytes) -> Notification | NotificationError:
    if len(data) < DIGEST_LENGTH:
        return NotificationError(f"{len(data)} bytes: shorter than the {DIGEST_LENGTH}-byte digest")
    if len(data) < _MIN_LENGTH:
        return NotificationError(
            f"{len(data)} bytes: the {HEADER_LENGTH}-byte trigger header after the digest is cut short"
        )
    problems: list[str] = []
    digest, trigger = data[:DIGEST_LENGTH], data[DIGEST_LENGTH:]
    header = int.from_bytes(trigger[:HEADER_LENGTH], "big")
    version = header >> 54
    ui_mode = (header >> 52) & 0x3
    initiator = (header >> 51) & 0x1
    future = (header >> 24) & ((1 << 27) - 1)
    session_id = (header >> 8) & 0xFFFF
    server_id_length = header & 0xFF

    if version not in KNOWN_VERSIONS:
        problems.append(
            f"warning: version field {version} ({version // 10}.{version % 10}): "
            "DM Notification 1.2 sends 11, the DS 1.2 SAN 12"
        )
    if future:
        problems.append(f"warning: the 27 future-use bits are 0x{future:07X}, they must be 0")
    if not any(digest):
        # Synthesis sends a zero digest when it has no credentials to sign with.
        problems.append("info: the digest is all zeros (an unsigned notification)")

    server_id_raw = trigger[HEADER_LENGTH : HEADER_LENGTH + server_id_length]
    vendor = trigger[HEADER_LENGTH + server_id_length :]
    if len(server_id_raw) < server_id_length:
        problems.append(
            f"error: the server identifier length is {server_id_length} "
            f"but only {len(server_id_raw)} bytes follow the header"
        )
    elif not server_id_length:
        problems.append("warning: empty server identifier: the client cannot find the account")
    server_id = _utf8(server_id_raw, "the server identifier", problems)

    syncs: tuple[SyncAlert, ...] = ()
    num_syncs: int | None = None
    if version == DS_SAN_VERSION and len(server_id_raw) == server_id_length:
        parsed = _ds_body(vendor, problems)
        if parsed is not None:
            num_syncs, syncs = parsed

    return Notification(
        digest=digest,
        trigger=trigger,
        version=version,
        ui_mode=ui_mode,
        initiator=initiator,
        future=future,
        session_id=session_id,
        server_id=server_id,
        server_id_raw=server_id_raw,
        server_id_length=server_id_length,
        vendor=vendor,
        syncs=syncs,
        num_syncs=num_syncs,
        problems=tuple(problems),
    )


def _utf8(raw: bytes, what: str, problems: list[str]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        problems.append(f"warning: {what} is not valid UTF-8 (bad bytes replaced)")
        return raw.decode("utf-8", errors="replace")


def _ds_body(body: bytes, problems: list[str]) -> tuple[int, tuple[SyncAlert, ...]] | None:
    """(num-syncs, syncs) of a DS SAN body, or None (with an info problem) when it is not one.

    A version-12 body that does not parse is reported as info, not error: the same version
    number may come from a DM server with a vendor-specific part of its own.
    """
    if not body:
        problems.append("info: version 12 but no DS SAN body (num-syncs) after the server identifier")
        return None
    num_syncs, body_future = body[0] >> 4, body[0] & 0x0F
    local: list[str] = []
    if body_future:
        local.append(f"warning: the DS SAN body's future-use bits are 0x{body_future:X}, they must be 0")
    syncs: list[SyncAlert] = []
    pos = 1
    for index in range(1, num_syncs + 1):
        if pos + _SYNC_FIXED > len(body):
            problems.append(
                f"info: the body is not a complete DS SAN sync list: sync {index} of {num_syncs} "
                f"needs {_SYNC_FIXED} bytes, {len(body) - pos} left"
            )
            return None
        sync_type, sync_future = body[pos] >> 4, body[pos] & 0x0F
        content_type = int.from_bytes(body[pos + 1 : pos + 4], "big")
        uri_length = body[pos + 4]
        uri_raw = body[pos + _SYNC_FIXED : pos + _SYNC_FIXED + uri_length]
        if len(uri_raw) < uri_length:
            problems.append(
                f"info: the body is not a complete DS SAN sync list: sync {index} of {num_syncs} "
                f"has a {uri_length}-byte server URI, {len(uri_raw)} bytes left"
            )
            return None
        pos += _SYNC_FIXED + uri_length
        if sync_type not in SYNC_TYPES:
            local.append(
                f"warning: sync {index} has sync-type {sync_type} (alert {200 + sync_type}), "
                "the SAN allows 6..10 (alerts 206..210)"
            )
        if sync_future:
            local.append(f"warning: sync {index}'s future-use bits are 0x{sync_future:X}, they must be 0")
        if content_type and content_type not in CONTENT_TYPES:
            local.append(
                f"info: sync {index} has content type 0x{content_type:06X}, not a WSP well-known code"
            )
        uri = _utf8(uri_raw, f"sync {index}'s server URI", local)
        syncs.append(SyncAlert(sync_type, content_type, uri, sync_future))
    if num_syncs == 0:
        local.append("info: num-syncs is 0: the server alerts every data store")
    if pos < len(body):
        local.append(f"info: {len(body) - pos} vendor-specific bytes after the sync list")
    problems.extend(local)
    return num_syncs, tuple(syncs)


# ---------------------------------------------------------------- WSP push


def looks_like_wap_push(data: bytes) -> bool:
    """Cheap test: a connectionless WSP Push whose content type is a SyncML notification."""
    if len(data) < _MIN_PUSH or data[1] != PUSH:
        return False
    try:
        headers_length, start = read_uintvar(data, 2, len(data))
        if headers_length < 1 or start + headers_length > len(data):
            return False
        content_type, _ = read_content_type(data, start, start + headers_length)
    except WspFormatError:
        return False
    return content_type.media.lower() in NOTIFICATION_MEDIA_TYPES


def decode_wap_push(data: bytes) -> WapPush | NotificationError:
    """Decode one connectionless WSP push PDU (a UDP payload).  Never raises."""
    try:
        return _decode_wap_push(bytes(data))
    except Exception as exc:  # a decoder bug must not take the analyser down
        return NotificationError(internal_error(exc))


def _decode_wap_push(data: bytes) -> WapPush | NotificationError:
    if len(data) < _MIN_PUSH:
        return NotificationError(f"{len(data)} bytes: too short for a WSP push (TID, type, HeadersLen)")
    tid, pdu_type = data[0], data[1]
    if pdu_type != PUSH:
        name = PDU_TYPES.get(pdu_type, "unknown")
        return NotificationError(f"WSP PDU type 0x{pdu_type:02X} ({name}) is not Push (0x06)")
    try:
        headers_length, start = read_uintvar(data, 2, len(data))
    except WspFormatError as exc:
        return NotificationError(f"unreadable HeadersLen: {exc}")

    problems: list[str] = []
    end = start + headers_length
    if end > len(data):
        problems.append(
            f"error: HeadersLen {headers_length} runs past the end ({len(data) - start} bytes follow)"
        )
        end = len(data)
    if headers_length == 0:
        problems.append("error: HeadersLen is 0: no Content-Type")

    content_type = ContentType("", None)
    headers: tuple[tuple[str, str], ...] = ()
    application_id: str | None = None
    if start < end:
        try:
            content_type, after = read_content_type(data, start, end)
        except WspFormatError as exc:
            problems.append(f"error: unreadable Content-Type: {exc}")
        else:
            if content_type.code is not None and content_type.code not in CONTENT_TYPES:
                problems.append(f"warning: Content-Type code 0x{content_type.code:02X} is not well-known")
            read = read_headers(data, after, end)
            headers, application_id = read.fields, read.application_id
            if read.error is not None:
                problems.append(f"error: headers: {read.error}")

    body = data[end:]
    notification: Notification | NotificationError | None = None
    if content_type.media.lower() in NOTIFICATION_MEDIA_TYPES:
        notification = decode(body)
        if isinstance(notification, NotificationError):
            problems.append(f"error: the notification body: {notification.reason}")
        else:
            problems.extend(f"error: the notification body: {p[7:]}" for p in notification.errors)
        if application_id is None:
            problems.append("warning: no X-Wap-Application-Id (DM Pkg#0 uses x-wap-application:syncml.dm)")

    return WapPush(
        transaction_id=tid,
        pdu_type=pdu_type,
        headers_length=headers_length,
        content_type=content_type.media,
        content_type_code=content_type.code,
        headers=headers,
        application_id=application_id,
        body=body,
        notification=notification,
        content_type_parameters=content_type.parameters,
        problems=tuple(problems),
    )
