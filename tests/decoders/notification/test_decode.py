"""Package #0 and WSP push decoding: the buteo SAN, hand-built DM notifications, every problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from decoders.notification import (
    CONTENT_TYPES,
    UI_MODES,
    Notification,
    NotificationError,
    SyncAlert,
    WapPush,
    decode,
    decode_wap_push,
    looks_like_notification,
    looks_like_wap_push,
)

from .helpers import (
    DIGEST,
    app_id_header,
    digest_for,
    ds_body,
    long_integer,
    pkg0,
    short,
    text,
    uintvar,
    wsp_push,
)

SERVER_ID = "com.example.dm"
VENDOR = b"\x00\x01vendor-specific\xff"
#: The DM 1.2 notification of the brief: version 11, user interaction, server, session 0x0ABC.
DM_NOTIFICATION = pkg0(SERVER_ID, version=11, ui_mode=3, initiator=1, session_id=0x0ABC, vendor=VENDOR)
NOTIFICATION_CT = "application/vnd.syncml.notification"


def ok(data: bytes) -> Notification:
    result = decode(data)
    assert isinstance(result, Notification), result
    return result


def push_ok(data: bytes) -> WapPush:
    result = decode_wap_push(data)
    assert isinstance(result, WapPush), result
    return result


def with_text(problems: tuple[str, ...], text_: str) -> list[str]:
    return [p for p in problems if text_ in p]


@pytest.fixture(scope="module")
def san01(corpus: Path) -> bytes:
    return (corpus / "omadm" / "pkg0" / "buteo_SAN01.bin").read_bytes()


# ---------------------------------------------------------------- buteo SAN01 (DS 1.2 SAN)


def test_buteo_san01_fields(san01: bytes) -> None:
    n = ok(san01)
    assert n.digest == bytes.fromhex("0179ab671b68f26698269b4ca78222ad")
    assert n.trigger == san01[16:]
    assert (n.version, n.version_text) == (12, "1.2")
    assert (n.ui_mode, n.ui_mode_name) == (1, "background")
    assert (n.initiator, n.initiator_name) == (1, "server")
    assert n.future == 0
    assert (n.session_id, n.session_id_hex) == (0, "0")
    assert n.server_id == "PC Suite Data Sync"
    assert n.server_id_raw == b"PC Suite Data Sync"
    assert n.server_id_length == 18
    assert n.vendor == b"\x10\x60\x00\x00\x00\x08Contacts"
    assert n.num_syncs == 1
    assert n.syncs == (SyncAlert(sync_type=6, content_type=0, server_uri="Contacts"),)
    sync = n.syncs[0]
    assert (sync.alert_code, sync.sync_type_name, sync.content_type_name) == (206, "two-way by server", None)
    assert n.problems == ()


def test_buteo_san01_digest_verifies_with_empty_password_and_nonce(san01: bytes) -> None:
    n = ok(san01)
    assert digest_for(san01, "PC Suite Data Sync", "", b"") == n.digest
    assert digest_for(san01, "PC Suite Data Sync", "x", b"") != n.digest


def test_buteo_san01_is_recognised(san01: bytes) -> None:
    assert looks_like_notification(san01)
    assert not looks_like_wap_push(san01)


def test_buteo_san01_in_a_wap_push(san01: bytes) -> None:
    push = push_ok(wsp_push(short(0x44), [app_id_header(0x07)], san01, tid=0x2A))
    assert push.transaction_id == 0x2A
    assert push.notification == decode(san01)
    assert push.problems == ()


# ---------------------------------------------------------------- hand-built DM 1.2 notification


def test_dm_notification_fields() -> None:
    n = ok(DM_NOTIFICATION)
    assert n.digest == DIGEST
    assert n.trigger == DM_NOTIFICATION[16:]
    assert (n.version, n.version_text) == (11, "1.1")
    assert (n.ui_mode, n.ui_mode_name) == (3, "user-interaction")
    assert (n.initiator, n.initiator_name) == (1, "server")
    assert n.future == 0
    assert n.session_id == 0x0ABC
    assert n.session_id_hex == "ABC"
    assert n.server_id == SERVER_ID
    assert n.server_id_raw == SERVER_ID.encode()
    assert n.vendor == VENDOR
    assert n.syncs == ()
    assert n.num_syncs is None  # version 11: the part after the server id is vendor-specific
    assert n.problems == ()
    assert looks_like_notification(DM_NOTIFICATION)


@pytest.mark.parametrize(
    ("session_id", "expected"), [(0, "0"), (1, "1"), (0x0ABC, "ABC"), (0x0100, "100"), (0xFFFF, "FFFF")]
)
def test_session_id_hex_is_uppercase_without_leading_zeros(session_id: int, expected: str) -> None:
    assert ok(pkg0(SERVER_ID, session_id=session_id)).session_id_hex == expected


@pytest.mark.parametrize("ui_mode", sorted(UI_MODES))
def test_every_ui_mode(ui_mode: int) -> None:
    n = ok(pkg0(SERVER_ID, ui_mode=ui_mode))
    assert (n.ui_mode, n.ui_mode_name) == (ui_mode, UI_MODES[ui_mode])


@pytest.mark.parametrize(("initiator", "name"), [(0, "user"), (1, "server")])
def test_initiator(initiator: int, name: str) -> None:
    assert ok(pkg0(SERVER_ID, initiator=initiator)).initiator_name == name


def test_the_digest_formula_on_a_built_notification() -> None:
    unsigned = pkg0(SERVER_ID, digest=bytes(16))
    signed = digest_for(unsigned, SERVER_ID, "secret", b"nonce") + unsigned[16:]
    assert ok(signed).digest == digest_for(signed, SERVER_ID, "secret", b"nonce")


# ---------------------------------------------------------------- Pkg#0 problems


@pytest.mark.parametrize("version", [0, 10, 13, 1023])
def test_unknown_version_warns(version: int) -> None:
    n = ok(pkg0(SERVER_ID, version=version))
    assert n.version == version
    assert with_text(n.problems, f"warning: version field {version} ")
    assert not n.errors


def test_future_bits_warn() -> None:
    n = ok(pkg0(SERVER_ID, future=0x4000001))
    assert n.future == 0x4000001
    assert n.problems == ("warning: the 27 future-use bits are 0x4000001, they must be 0",)


def test_zero_digest_is_noted() -> None:
    n = ok(pkg0(SERVER_ID, digest=bytes(16)))
    assert n.problems == ("info: the digest is all zeros (an unsigned notification)",)


def test_empty_server_id_warns() -> None:
    n = ok(pkg0(b""))
    assert n.server_id == "" and n.vendor == b""
    assert with_text(n.problems, "warning: empty server identifier")


def test_server_id_not_utf8_is_replaced_with_a_warning() -> None:
    n = ok(pkg0(b"srv\xff\xfe"))
    assert n.server_id == "srv\ufffd\ufffd"
    assert n.server_id_raw == b"srv\xff\xfe"
    assert n.problems == ("warning: the server identifier is not valid UTF-8 (bad bytes replaced)",)


def test_server_id_length_beyond_the_end_is_an_error() -> None:
    n = ok(pkg0(b"short", server_id_length=40))
    assert n.server_id == "short"
    assert n.server_id_length == 40
    assert n.vendor == b""
    assert n.errors == ("error: the server identifier length is 40 but only 5 bytes follow the header",)
    assert not looks_like_notification(pkg0(b"short", server_id_length=40))


@pytest.mark.parametrize("length", [0, 1, 15])
def test_shorter_than_the_digest(length: int) -> None:
    result = decode(DM_NOTIFICATION[:length])
    assert isinstance(result, NotificationError)
    assert "16-byte digest" in result.reason


@pytest.mark.parametrize("length", [16, 20, 23])
def test_trigger_header_cut_short(length: int) -> None:
    result = decode(DM_NOTIFICATION[:length])
    assert isinstance(result, NotificationError)
    assert "trigger header" in result.reason


@pytest.mark.parametrize(
    "data",
    [b"", bytes(23), pkg0(SERVER_ID, version=5), pkg0(SERVER_ID, version=14), pkg0(b"x", server_id_length=9)],
)
def test_looks_like_notification_rejects(data: bytes) -> None:
    assert not looks_like_notification(data)


@pytest.mark.parametrize("version", [10, 11, 12, 13])
def test_looks_like_notification_accepts_versions_1_0_to_1_3(version: int) -> None:
    assert looks_like_notification(pkg0(SERVER_ID, version=version))


# ---------------------------------------------------------------- DS SAN body


def san(body: bytes, version: int = 12) -> Notification:
    return ok(pkg0("ds.example", version=version, vendor=body))


def test_ds_san_with_several_syncs_and_a_vendor_tail() -> None:
    body = ds_body([(6, 0x07, b"./contacts"), (10, 0x06, b"./calendar"), (9, 0x03, b"notes")], tail=b"VND")
    n = san(body)
    assert n.num_syncs == 3
    assert n.syncs == (
        SyncAlert(6, 0x07, "./contacts"),
        SyncAlert(10, 0x06, "./calendar"),
        SyncAlert(9, 0x03, "notes"),
    )
    assert [s.alert_code for s in n.syncs] == [206, 210, 209]
    assert [s.sync_type_name for s in n.syncs] == [
        "two-way by server",
        "refresh from server by server",
        "one-way from server by server",
    ]
    assert [s.content_type_name for s in n.syncs] == ["text/x-vCard", "text/x-vCalendar", "text/plain"]
    assert n.vendor == body
    assert n.problems == ("info: 3 vendor-specific bytes after the sync list",)


def test_every_valid_sync_type_maps_to_its_alert_code() -> None:
    n = san(ds_body([(t, 0, b"db") for t in range(6, 11)]))
    assert [(s.sync_type, s.alert_code) for s in n.syncs] == [(t, 200 + t) for t in range(6, 11)]
    assert n.problems == ()


def test_sync_type_outside_6_to_10_warns_but_is_kept() -> None:
    n = san(ds_body([(3, 0, b"db")]))
    assert n.syncs == (SyncAlert(3, 0, "db"),)
    assert n.syncs[0].sync_type_name is None
    assert n.problems == (
        "warning: sync 1 has sync-type 3 (alert 203), the SAN allows 6..10 (alerts 206..210)",
    )


def test_num_syncs_zero_means_every_data_store() -> None:
    n = san(b"\x00")
    assert (n.num_syncs, n.syncs) == (0, ())
    assert n.problems == ("info: num-syncs is 0: the server alerts every data store",)


def test_ds_future_bits_warn() -> None:
    body = bytearray(ds_body([(6, 0, b"db")]))
    body[0] |= 0x05
    body[1] |= 0x0A
    n = san(bytes(body))
    assert n.syncs == (SyncAlert(6, 0, "db", future=0x0A),)
    assert n.problems == (
        "warning: the DS SAN body's future-use bits are 0x5, they must be 0",
        "warning: sync 1's future-use bits are 0xA, they must be 0",
    )


def test_unknown_sync_content_type_and_bad_uri_bytes() -> None:
    n = san(ds_body([(6, 0x123456, b"db\xff")]))
    assert n.syncs == (SyncAlert(6, 0x123456, "db\ufffd"),)
    assert n.syncs[0].content_type_name is None
    assert n.problems == (
        "info: sync 1 has content type 0x123456, not a WSP well-known code",
        "warning: sync 1's server URI is not valid UTF-8 (bad bytes replaced)",
    )


def test_version_12_without_a_body() -> None:
    n = san(b"")
    assert (n.num_syncs, n.syncs) == (None, ())
    assert n.problems == ("info: version 12 but no DS SAN body (num-syncs) after the server identifier",)


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (ds_body([(6, 0, b"db")], num_syncs=2), "sync 2 of 2 needs 5 bytes, 0 left"),
        (ds_body([(6, 0, b"db")])[:4], "sync 1 of 1 needs 5 bytes, 3 left"),
        (ds_body([(6, 0, b"contacts")])[:-3], "sync 1 of 1 has a 8-byte server URI, 5 bytes left"),
    ],
)
def test_incomplete_sync_list_is_info_and_leaves_syncs_empty(body: bytes, detail: str) -> None:
    n = san(body)
    assert (n.num_syncs, n.syncs) == (None, ())
    assert n.vendor == body
    assert n.problems == (f"info: the body is not a complete DS SAN sync list: {detail}",)


def test_a_ds_like_body_is_not_parsed_for_dm_version_11() -> None:
    body = ds_body([(6, 0, b"db")])
    n = san(body, version=11)
    assert (n.syncs, n.num_syncs, n.vendor, n.problems) == ((), None, body, ())


# ---------------------------------------------------------------- WSP push


def test_push_with_short_integer_content_type() -> None:
    push = push_ok(wsp_push(short(0x44), [app_id_header(0x07)], DM_NOTIFICATION, tid=0x7E))
    assert push.transaction_id == 0x7E
    assert push.pdu_type == 0x06
    assert push.headers_length == 3
    assert (push.content_type, push.content_type_code) == (NOTIFICATION_CT, 0x44)
    assert push.content_type_parameters == ()
    assert push.headers == (("X-Wap-Application-Id", "x-wap-application:syncml.dm"),)
    assert push.application_id == "x-wap-application:syncml.dm"
    assert push.body == DM_NOTIFICATION
    assert push.notification == ok(DM_NOTIFICATION)
    assert push.problems == ()


def test_push_with_text_content_type() -> None:
    push = push_ok(wsp_push(text(NOTIFICATION_CT), [app_id_header(0x07)], DM_NOTIFICATION))
    assert (push.content_type, push.content_type_code) == (NOTIFICATION_CT, None)
    assert push.application_id == "x-wap-application:syncml.dm"
    n = push.notification
    assert isinstance(n, Notification)
    assert (n.server_id, n.session_id_hex, n.ui_mode, n.vendor) == (SERVER_ID, "ABC", 3, VENDOR)
    assert push.problems == ()


def test_push_with_general_form_content_type_and_parameters() -> None:
    # Value-length 5: media 0x44, Charset (0x81) utf-8 (0xEA), untyped "x" = 7.
    content_type = bytes([6, 0xC4, 0x81, 0xEA]) + b"x\x00" + short(7)
    push = push_ok(wsp_push(content_type, [app_id_header(0x07)], DM_NOTIFICATION))
    assert (push.content_type, push.content_type_code) == (NOTIFICATION_CT, 0x44)
    assert push.content_type_parameters == (("Charset", "utf-8"), ("x", "7"))
    assert isinstance(push.notification, Notification)
    assert push.problems == ()


def test_push_with_a_long_integer_media_and_typed_parameters() -> None:
    # 0x0201 as a Long-integer; Q 0.5 (uintvar 51), SEC USERPIN, MAC text.
    inner = (
        long_integer(0x0201) + short(0x00) + uintvar(51) + short(0x11) + short(1) + short(0x12) + text("AB")
    )
    push = push_ok(wsp_push(bytes([len(inner)]) + inner, body=b"x"))
    assert (push.content_type, push.content_type_code) == ("application/vnd.uplanet.cacheop-wbxml", 0x0201)
    assert push.content_type_parameters == (("Q", "0.5"), ("SEC", "USERPIN"), ("MAC", "AB"))
    assert push.notification is None
    assert push.problems == ()


@pytest.mark.parametrize(
    "content_type",
    [
        short(0x4E),
        text("application/vnd.syncml.ds.notification"),
        text("Application/Vnd.SyncML.DM.Notification"),
    ],
)
def test_push_notification_variants(content_type: bytes) -> None:
    data = wsp_push(content_type, [app_id_header(0x07)], DM_NOTIFICATION)
    assert looks_like_wap_push(data)
    assert isinstance(push_ok(data).notification, Notification)


def test_push_of_something_else_is_not_decoded_as_a_notification() -> None:
    data = wsp_push(short(0x2E), [app_id_header(0x01)], b"\x02\x05\x6a\x00")
    push = push_ok(data)
    assert push.content_type == "application/vnd.wap.sic"
    assert push.application_id == "x-wap-application:push.sia"
    assert push.notification is None
    assert push.problems == ()
    assert not looks_like_wap_push(data)


def test_push_headers_are_rendered() -> None:
    headers = [
        short(0x31) + text("http://dm.example/push"),  # X-Wap-Initiator-URI
        short(0x0D) + short(58),  # Content-Length
        short(0x12) + long_integer(1_700_000_000),  # Date
        short(0x34) + short(3),  # Push-Flag
        short(0x43) + short(0x12),  # Encoding-Version 1.2
        short(0x43) + short(0x1F),  # Encoding-Version 1, no minor
        short(0x70) + bytes([2, 0xAB, 0xCD]),  # not in the table
        text("X-Custom") + text("yes"),  # application header
        short(0x2F) + long_integer(0x8002),  # a registered application id
        short(0x11) + bytes([3, 0x83, 0x81, 0xEA]),  # Content-Type again, as a header
    ]
    push = push_ok(wsp_push(short(0x44), headers, DM_NOTIFICATION))
    assert push.headers == (
        ("X-Wap-Initiator-URI", "http://dm.example/push"),
        ("Content-Length", "58"),
        ("Date", "2023-11-14T22:13:20Z"),
        ("Push-Flag", "3"),
        ("Encoding-Version", "1.2"),
        ("Encoding-Version", "1"),
        ("Header-0x70", "0x02abcd"),
        ("X-Custom", "yes"),
        ("X-Wap-Application-Id", "x-wap-docomo:imode.mail.ua"),
        ("Content-Type", "text/plain; Charset=utf-8"),
    )
    assert push.application_id == "x-wap-docomo:imode.mail.ua"
    assert push.problems == ()


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (app_id_header(0x1234), "0x1234"),
        (short(0x2F) + text("x-wap-application:syncml.dm"), "x-wap-application:syncml.dm"),
        (text("X-Wap-Application-Id") + text("urn:example"), "urn:example"),
    ],
)
def test_application_id_forms(header: bytes, expected: str) -> None:
    assert push_ok(wsp_push(short(0x44), [header], DM_NOTIFICATION)).application_id == expected


def test_header_code_page_shifts() -> None:
    headers = [b"\x7f\x02" + short(0x05) + short(1), b"\x01" + app_id_header(0x07)]
    push = push_ok(wsp_push(short(0x44), headers, DM_NOTIFICATION))
    assert push.headers == (
        ("Page2-Header-0x05", "0x81"),
        ("X-Wap-Application-Id", "x-wap-application:syncml.dm"),
    )


def test_push_without_application_id_warns() -> None:
    push = push_ok(wsp_push(short(0x44), [], DM_NOTIFICATION))
    assert push.application_id is None
    assert push.problems == ("warning: no X-Wap-Application-Id (DM Pkg#0 uses x-wap-application:syncml.dm)",)


def test_multi_octet_headers_length() -> None:
    uri = "http://dm.example/" + "p" * 200
    data = wsp_push(short(0x44), [short(0x31) + text(uri), app_id_header(0x07)], DM_NOTIFICATION)
    assert data[2] & 0x80  # HeadersLen needed two octets
    push = push_ok(data)
    assert push.headers_length == 1 + 1 + len(uri) + 1 + 2
    assert push.headers[0] == ("X-Wap-Initiator-URI", uri)
    assert isinstance(push.notification, Notification)
    assert looks_like_wap_push(data)


def test_unknown_content_type_code_warns() -> None:
    push = push_ok(wsp_push(short(0x7E), [], b"data"))
    assert push.content_type == "wsp-content-type-0x7E"
    assert push.problems == ("warning: Content-Type code 0x7E is not well-known",)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "too short"),
        (b"\x01\x06", "too short"),
        (bytes([1, 0x60, 1, 0xC4]), "0x60 (Post) is not Push"),
        (bytes([1, 0x07, 1, 0xC4]), "0x07 (ConfirmedPush) is not Push"),
        (bytes([1, 0x06]) + b"\x80" * 6, "longer than 5 octets"),
        (bytes([1, 0x06, 0x90, 0x80, 0x80, 0x80, 0x00]), "exceeds 32 bits"),
        (bytes([1, 0x06, 0x81]), "runs past the end"),
    ],
)
def test_not_a_push(data: bytes, reason: str) -> None:
    result = decode_wap_push(data)
    assert isinstance(result, NotificationError)
    assert reason in result.reason
    assert not looks_like_wap_push(data)


def test_headers_length_beyond_the_end() -> None:
    data = bytes([1, 0x06, 40, 0xC4]) + app_id_header(0x07)
    push = push_ok(data)
    assert push.errors[0] == "error: HeadersLen 40 runs past the end (3 bytes follow)"
    assert push.content_type == NOTIFICATION_CT
    assert push.application_id == "x-wap-application:syncml.dm"
    assert isinstance(push.notification, NotificationError)  # nothing left for a body
    assert not looks_like_wap_push(data)


def test_zero_headers_length() -> None:
    push = push_ok(bytes([1, 0x06, 0]) + DM_NOTIFICATION)
    assert push.errors == ("error: HeadersLen is 0: no Content-Type",)
    assert (push.content_type, push.notification, push.body) == ("", None, DM_NOTIFICATION)


def test_broken_header_stops_the_walk_but_keeps_the_body() -> None:
    # An application header whose value has no NUL inside the header block.
    data = wsp_push(short(0x44), [app_id_header(0x07), b"X-Bad\x00novalue"], DM_NOTIFICATION)
    push = push_ok(data)
    assert push.headers == (("X-Wap-Application-Id", "x-wap-application:syncml.dm"),)
    assert with_text(push.errors, "error: headers: text at offset")
    assert push.notification == ok(DM_NOTIFICATION)


def test_unreadable_content_type() -> None:
    push = push_ok(wsp_push(bytes([9, 0xC4]), [], DM_NOTIFICATION))  # Value-length 9 > block
    assert with_text(push.errors, "error: unreadable Content-Type:")
    assert push.notification is None


def test_a_broken_notification_body_is_an_error_of_the_push() -> None:
    push = push_ok(wsp_push(short(0x44), [app_id_header(0x07)], pkg0(b"x", server_id_length=3)))
    assert push.errors == (
        "error: the notification body: the server identifier length is 3 but only 1 bytes follow the header",
    )
    push = push_ok(wsp_push(short(0x44), [app_id_header(0x07)], b"tiny"))
    assert push.errors == ("error: the notification body: 4 bytes: shorter than the 16-byte digest",)


def test_content_types_table_has_the_syncml_codes() -> None:
    assert CONTENT_TYPES[0x42] == "application/vnd.syncml.dm+wbxml"
    assert CONTENT_TYPES[0x43] == "application/vnd.syncml.dm+xml"
    assert CONTENT_TYPES[0x44] == "application/vnd.syncml.notification"
    assert CONTENT_TYPES[0x4E] == "application/vnd.syncml.ds.notification"


# ---------------------------------------------------------------- truncation at every offset


def test_raw_truncated_at_every_offset() -> None:
    for data, end_of_server_id in ((DM_NOTIFICATION, 24 + len(SERVER_ID)),):
        for cut in range(len(data)):
            result = decode(data[:cut])
            if cut < end_of_server_id:
                assert isinstance(result, NotificationError) or result.errors, cut
            else:  # the vendor part has no length: a shorter one is still a valid message
                assert isinstance(result, Notification) and not result.errors, cut
                assert result.vendor == VENDOR[: cut - end_of_server_id]


def test_san01_truncated_at_every_offset(san01: bytes) -> None:
    for cut in range(len(san01)):
        result = decode(san01[:cut])
        if cut < 24 + 18:
            assert isinstance(result, NotificationError) or result.errors, cut
        else:
            assert isinstance(result, Notification) and not result.errors, cut
            assert result.syncs == ()  # the one sync is incomplete
            assert result.problems and result.problems[0].startswith("info: "), cut


def test_wsp_truncated_at_every_offset(san01: bytes) -> None:
    for body, end_of_server_id in ((DM_NOTIFICATION, 24 + len(SERVER_ID)), (san01, 24 + 18)):
        data = wsp_push(short(0x44), [short(0x31) + text("http://dm.example"), app_id_header(0x07)], body)
        body_start = len(data) - len(body)
        for cut in range(len(data)):
            result = decode_wap_push(data[:cut])
            if cut < body_start + end_of_server_id:
                assert isinstance(result, NotificationError) or result.errors, cut
            else:
                assert isinstance(result, WapPush) and not result.errors, cut
                assert isinstance(result.notification, Notification)
