"""Hypothesis: random and mutated input never raises; encoded field values round-trip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.notification import (
    Notification,
    NotificationError,
    SyncAlert,
    WapPush,
    decode,
    decode_wap_push,
    looks_like_notification,
    looks_like_wap_push,
)
from tests.mutation import mutations

from .helpers import app_id_header, ds_body, pkg0, short, text, uintvar, wsp_push

DM = pkg0("com.example.dm", version=11, ui_mode=3, session_id=0x0ABC, vendor=b"\x01\x02")
SAN = pkg0("PC Suite Data Sync", version=12, ui_mode=1, session_id=0, vendor=ds_body([(6, 7, b"Contacts")]))
SEEDS = [
    DM,
    SAN,
    wsp_push(short(0x44), [app_id_header(0x07)], DM),
    wsp_push(text("application/vnd.syncml.notification"), [app_id_header(0x8002)], SAN),
    wsp_push(bytes([4, 0xC4, 0x81, 0xEA, 0x80]), [short(0x31) + text("http://x"), b"\x7f\x02\x85\x81"], DM),
]
SEVERITIES = {"error", "warning", "info"}


def check_notification(result: Notification | NotificationError) -> None:
    assert isinstance(result, Notification | NotificationError)
    if isinstance(result, NotificationError):
        assert result.reason
        return
    assert all(p.split(": ", 1)[0] in SEVERITIES for p in result.problems)
    assert len(result.digest) == 16
    assert 0 <= result.version < 1024 and 0 <= result.session_id <= 0xFFFF
    _ = (
        result.version_text,
        result.ui_mode_name,
        result.initiator_name,
        result.session_id_hex,
        result.errors,
    )
    for sync in result.syncs:
        _ = (sync.alert_code, sync.sync_type_name, sync.content_type_name)


def check_push(result: WapPush | NotificationError) -> None:
    assert isinstance(result, WapPush | NotificationError)
    if isinstance(result, WapPush):
        assert result.pdu_type == 0x06
        assert all(p.split(": ", 1)[0] in SEVERITIES for p in result.problems)
        assert all(isinstance(n, str) and isinstance(v, str) for n, v in result.headers)
        if result.notification is not None:
            check_notification(result.notification)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(data: bytes) -> None:
    check_notification(decode(data))
    check_push(decode_wap_push(data))
    assert isinstance(looks_like_notification(data), bool)
    assert isinstance(looks_like_wap_push(data), bool)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=200))
def test_random_push_bodies_never_raise(tail: bytes) -> None:
    # Force the push PDU type so the header walker sees the random bytes, not the type check.
    data = b"\x01\x06" + tail
    check_push(decode_wap_push(data))
    assert isinstance(looks_like_wap_push(data), bool)


def _special_byte(draw: st.DrawFn, data: bytearray, pos: int) -> None:
    if data:
        data[pos] = draw(st.sampled_from([0x00, 0x1F, 0x7F, 0x80, 0xFF, 0x1E, 0x20]))


# The seeds, damaged: bit flips, cuts, random insertions, deletions, special bytes.
mutated = mutations(SEEDS, max_ops=6, max_delete=16, extra={"set": _special_byte})


@settings(max_examples=1000, deadline=None)
@given(mutated)
def test_mutated_messages_never_raise(data: bytes) -> None:
    check_notification(decode(data))
    check_push(decode_wap_push(data))
    assert isinstance(looks_like_notification(data), bool)
    assert isinstance(looks_like_wap_push(data), bool)


# ---------------------------------------------------------------- round trips

server_ids = st.text(max_size=60).map(str.encode).filter(lambda b: len(b) <= 255)


@settings(max_examples=500, deadline=None)
@given(
    version=st.integers(0, 1023),
    ui_mode=st.integers(0, 3),
    initiator=st.integers(0, 1),
    future=st.integers(0, (1 << 27) - 1),
    session_id=st.integers(0, 0xFFFF),
    server_id=server_ids,
    vendor=st.binary(max_size=40),
    digest=st.binary(min_size=16, max_size=16),
)
def test_header_fields_round_trip(
    version: int,
    ui_mode: int,
    initiator: int,
    future: int,
    session_id: int,
    server_id: bytes,
    vendor: bytes,
    digest: bytes,
) -> None:
    data = pkg0(
        server_id,
        version=version,
        ui_mode=ui_mode,
        initiator=initiator,
        future=future,
        session_id=session_id,
        vendor=vendor,
        digest=digest,
    )
    n = decode(data)
    assert isinstance(n, Notification)
    assert (n.digest, n.trigger) == (digest, data[16:])
    assert (n.version, n.ui_mode, n.initiator, n.future, n.session_id) == (
        version,
        ui_mode,
        initiator,
        future,
        session_id,
    )
    assert n.session_id_hex == format(session_id, "X")
    assert (n.server_id, n.server_id_raw, n.vendor) == (server_id.decode(), server_id, vendor)
    assert not n.errors
    assert looks_like_notification(data) == (10 <= version <= 13)


syncs_strategy = st.lists(
    st.tuples(
        st.integers(0, 15),
        st.integers(0, (1 << 24) - 1),
        st.text(max_size=30).map(str.encode).filter(lambda b: len(b) <= 255),
    ),
    max_size=15,
)


@settings(max_examples=500, deadline=None)
@given(syncs=syncs_strategy, tail=st.binary(max_size=10), session_id=st.integers(0, 0xFFFF))
def test_ds_san_syncs_round_trip(syncs: list[tuple[int, int, bytes]], tail: bytes, session_id: int) -> None:
    body = ds_body(syncs, tail=tail)
    n = decode(pkg0("srv", version=12, session_id=session_id, vendor=body))
    assert isinstance(n, Notification)
    assert n.num_syncs == len(syncs)
    assert n.syncs == tuple(SyncAlert(t, c, u.decode()) for t, c, u in syncs)
    assert n.vendor == body
    assert not n.errors


@settings(max_examples=500, deadline=None)
@given(
    tid=st.integers(0, 255),
    form=st.sampled_from(["short", "text", "general"]),
    app_id=st.sampled_from([0x07, 0x05, 0x8002, 0x1234]),
    uris=st.lists(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=150), max_size=3),
    session_id=st.integers(0, 0xFFFF),
)
def test_wsp_push_round_trip(tid: int, form: str, app_id: int, uris: list[str], session_id: int) -> None:
    body = pkg0("srv", session_id=session_id, vendor=b"v")
    content_type = {
        "short": short(0x44),
        "text": text("application/vnd.syncml.notification"),
        "general": bytes([1, 0xC4]),
    }[form]
    headers = [short(0x31) + text(uri) for uri in uris] + [app_id_header(app_id)]
    data = wsp_push(content_type, headers, body, tid=tid)
    assert data[2 : 2 + len(uintvar(len(data) - len(body) - 2))]  # HeadersLen present
    assert looks_like_wap_push(data)
    push = decode_wap_push(data)
    assert isinstance(push, WapPush)
    assert push.transaction_id == tid
    assert push.content_type == "application/vnd.syncml.notification"
    assert push.content_type_code == (None if form == "text" else 0x44)
    expected_app = {
        0x07: "x-wap-application:syncml.dm",
        0x05: "x-wap-application:push.syncml",
        0x8002: "x-wap-docomo:imode.mail.ua",
        0x1234: "0x1234",
    }[app_id]
    assert push.headers == (
        *(("X-Wap-Initiator-URI", uri) for uri in uris),
        ("X-Wap-Application-Id", expected_app),
    )
    assert push.application_id == expected_app
    assert push.body == body
    assert isinstance(push.notification, Notification)
    assert push.notification.session_id == session_id
    assert push.problems == ()
