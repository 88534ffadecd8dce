"""TR-069 Annex G UDP Connection Request decoder: fields, problems, the signature."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac

import pytest

from decoders.tr111 import (
    UdpConnectionRequest,
    UdpCrError,
    decode,
    looks_like_udp_connection_request,
    signature,
)

SIG = "ed0aafbde91a8a4869bc3a823f1d623c73e18009"
QUERY = f"ts=1700000000&id=305419896&un=cruser&cn=0a1b2c3d4e5f6071&sig={SIG}"
VECTOR = f"GET http://10.0.0.1:7547?{QUERY} HTTP/1.1\r\nHost: 10.0.0.1:7547\r\n\r\n".encode()


def cr(query: str = QUERY, uri: str = "http://10.0.0.1:7547?{q}", head: str = "GET", tail: str = "") -> bytes:
    """A UDP CR; ``tail`` replaces the standard Host header + empty line when given."""
    line = f"{head} {uri.format(q=query)} HTTP/1.1\r\n"
    return (line + (tail or "Host: 10.0.0.1:7547\r\n\r\n")).encode()


def ok(payload: bytes) -> UdpConnectionRequest:
    result = decode(payload)
    assert isinstance(result, UdpConnectionRequest), result
    return result


# ---------------------------------------------------------------- the TR-069 test vector


def test_vector_decodes_cleanly() -> None:
    req = ok(VECTOR)
    assert req.method == "GET"
    assert req.uri == f"http://10.0.0.1:7547?{QUERY}"
    assert (req.host, req.port, req.path, req.version) == ("10.0.0.1", 7547, "", "HTTP/1.1")
    assert req.headers == (("Host", "10.0.0.1:7547"),)
    assert (req.ts, req.id, req.un, req.cn, req.sig) == (
        "1700000000",
        "305419896",
        "cruser",
        "0a1b2c3d4e5f6071",
        SIG,
    )
    assert req.query == (
        ("ts", "1700000000"),
        ("id", "305419896"),
        ("un", "cruser"),
        ("cn", "0a1b2c3d4e5f6071"),
        ("sig", SIG),
    )
    assert req.problems == ()
    assert req.timestamp_unit == "s"


def test_vector_signature() -> None:
    """The TR-069 notes' vector: HMAC-SHA1(crpass, ts+id+un+cn)."""
    req = ok(VECTOR)
    assert req.signed_text == "1700000000305419896cruser0a1b2c3d4e5f6071"
    assert signature("crpass", req) == SIG
    assert signature(b"crpass", req) == SIG
    assert signature("wrong", req) != SIG


def test_signature_sha256_and_lowercase() -> None:
    req = ok(VECTOR)
    expected = hmac.new(b"crpass", req.signed_text.encode(), hashlib.sha256).hexdigest()
    assert signature("crpass", req, "sha256") == expected
    assert len(expected) == 64 and expected == expected.lower()


def test_signature_uses_decoded_values() -> None:
    req = ok(cr("ts=1&id=2&un=J%C3%BCrgen+M&cn=x%26y&sig=" + "0" * 40))
    assert req.signed_text == "12Jürgen Mx&y"
    assert signature("k", req) == hmac.new(b"k", "12Jürgen Mx&y".encode(), hashlib.sha1).hexdigest()


def test_records_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        ok(VECTOR).ts = "1"  # type: ignore[misc]


# ---------------------------------------------------------------- looks_like


@pytest.mark.parametrize(
    "payload",
    [VECTOR, cr(uri="http://[2001:db8::1]:7547/?{q}"), b"GET http://h?ts=1 HTTP/1.0\r\n\r\n"],
)
def test_looks_like(payload: bytes) -> None:
    assert looks_like_udp_connection_request(payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"POST http://h?ts=1 HTTP/1.1\r\n\r\n",
        b"GET http://h?id=1 HTTP/1.1\r\n\r\n",  # no ts
        b"GET http://h?ts=1\r\n\r\n",  # no version
        b"GET http://h HTTP/1.1\r\nX: ts=1\r\n\r\n",  # ts= only in a header
        b"\x00\x01\x00\x00" + bytes(16),  # STUN
    ],
)
def test_does_not_look_like(payload: bytes) -> None:
    assert not looks_like_udp_connection_request(payload)


# ---------------------------------------------------------------- rejections


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\r\n\r\n",
        b"GET\r\n\r\n",
        b"GET http://h?ts=1\r\n\r\n",
        b"\x00\x01\x00\x00" + bytes(16),
        b"GET / FTP/1.0",
    ],
)
def test_no_request_line_is_an_error(payload: bytes) -> None:
    result = decode(payload)
    assert isinstance(result, UdpCrError)
    assert result.reason.startswith("no HTTP request line")


# ---------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("ts", "unit"),
    [("1700000000", "s"), ("0", "s"), ("1700000000000", "ms"), ("17e8", None), ("-1", None), ("١٢٣", None)],
)
def test_timestamp_unit(ts: str, unit: str | None) -> None:
    assert ok(cr(f"ts={ts}&id=1&un=u&cn=c&sig={SIG}")).timestamp_unit == unit


def test_missing_ts_has_no_unit() -> None:
    assert ok(cr(f"id=1&un=u&cn=c&sig={SIG}")).timestamp_unit is None


def test_millisecond_ts_warns() -> None:
    req = ok(cr(f"ts=1700000000000&id=1&un=u&cn=c&sig={SIG}"))
    assert req.problems == ("warning: ts has 13 digits: milliseconds, Annex G specifies seconds",)


def test_non_numeric_ts_warns() -> None:
    req = ok(cr(f"ts=yesterday&id=1&un=u&cn=c&sig={SIG}"))
    assert req.problems == ("warning: ts 'yesterday' is not a decimal number",)


# ---------------------------------------------------------------- fields and query


@pytest.mark.parametrize("missing", ["ts", "id", "un", "cn", "sig"])
def test_missing_field_warns(missing: str) -> None:
    query = "&".join(p for p in QUERY.split("&") if not p.startswith(f"{missing}="))
    req = ok(cr(query))
    assert getattr(req, missing) is None
    assert req.problems == (f"warning: no {missing} in the query",)


def test_missing_fields_count_as_empty_in_signed_text() -> None:
    assert ok(cr("ts=1&cn=c")).signed_text == "1c"
    assert ok(cr("")).signed_text == ""


def test_all_fields_missing() -> None:
    req = ok(b"GET http://10.0.0.1:7547 HTTP/1.1\r\nHost: 10.0.0.1:7547\r\n\r\n")
    assert req.query == ()
    assert req.problems == tuple(f"warning: no {f} in the query" for f in ("ts", "id", "un", "cn", "sig"))


def test_query_keeps_every_pair_in_order() -> None:
    req = ok(cr(f"x=1&ts=1700000000&&flag&id=7&un=u&cn=c&sig={SIG}&ts=9"))
    assert req.query == (
        ("x", "1"),
        ("ts", "1700000000"),
        ("flag", ""),
        ("id", "7"),
        ("un", "u"),
        ("cn", "c"),
        ("sig", SIG),
        ("ts", "9"),
    )
    assert req.ts == "1700000000"  # the first one
    assert req.problems == ("warning: ts appears more than once, the first is used",)


def test_query_values_are_form_decoded() -> None:
    req = ok(cr(f"ts=1700000000&id=1&un=cpe%2Fuser+one%2B&cn=a%3Db&sig={SIG}"))
    assert (req.un, req.cn) == ("cpe/user one+", "a=b")
    assert "un=cpe%2Fuser+one%2B" in req.uri  # the URI stays as sent


def test_raw_utf8_in_the_query() -> None:
    req = ok(cr(f"ts=1700000000&id=1&un=jürgen&cn=c&sig={SIG}"))
    assert req.un == "jürgen"
    assert req.problems == ("warning: raw non-ASCII bytes in the Request-URI (query values read as UTF-8)",)


# ---------------------------------------------------------------- sig


def test_uppercase_sig_warns() -> None:
    req = ok(cr(QUERY.replace(SIG, SIG.upper())))
    assert req.sig == SIG.upper()
    assert req.problems == ("warning: sig uses uppercase hex digits",)


def test_sha256_sized_sig_is_info() -> None:
    req = ok(cr(QUERY.replace(SIG, "ab" * 32)))
    assert req.problems == (
        "info: sig has 64 hex digits: looks like HMAC-SHA256, Annex G specifies HMAC-SHA1",
    )


def test_uppercase_sha256_sized_sig() -> None:
    req = ok(cr(QUERY.replace(SIG, "AB" * 32)))
    assert [p.split(":")[0] for p in req.problems] == ["warning", "info"]


@pytest.mark.parametrize("sig", ["", "abc", SIG[:-1], SIG + "0", "g" * 40, "ab" * 16, "zz" * 32])
def test_sig_of_the_wrong_shape_warns(sig: str) -> None:
    req = ok(cr(QUERY.replace(SIG, sig)))
    assert req.sig == sig
    assert req.problems == (f"warning: sig {sig!r} is not 40 hex digits (HMAC-SHA1)",)


# ---------------------------------------------------------------- request line and URI


def test_slash_path_warns() -> None:
    req = ok(cr(uri="http://10.0.0.1:7547/?{q}"))
    assert req.path == "/"
    assert req.ts == "1700000000"
    assert req.problems == ("warning: Request-URI path '/', Annex G requires an empty path",)


def test_longer_path_warns() -> None:
    req = ok(cr(uri="http://10.0.0.1:7547/cr/udp?{q}"))
    assert req.path == "/cr/udp"
    assert req.problems == ("warning: Request-URI path '/cr/udp', Annex G requires an empty path",)


def test_method_other_than_get_warns() -> None:
    req = ok(cr(head="POST"))
    assert req.method == "POST"
    assert req.problems == ("warning: method POST, Annex G requires GET",)


def test_missing_host_header_warns() -> None:
    req = ok(cr(tail="\r\n"))
    assert req.headers == ()
    assert req.host == "10.0.0.1"
    assert req.problems == ("warning: no Host header (HTTP/1.1 requires one)",)


def test_body_after_the_header_warns() -> None:
    req = ok(cr(tail="Host: 10.0.0.1:7547\r\n\r\nhello"))
    assert req.problems == ("warning: 5 bytes after the header, Annex G allows no body",)


def test_content_length_other_than_zero_warns() -> None:
    assert ok(cr(tail="Host: h\r\nContent-Length: 0\r\n\r\n")).problems == ()
    req = ok(cr(tail="Host: h\r\nContent-Length: 3\r\n\r\n"))
    assert req.problems == ("warning: Content-Length '3', Annex G requires 0 when present",)


def test_header_without_empty_line_warns() -> None:
    req = ok(cr(tail="Host: 10.0.0.1:7547\r\n"))
    assert req.headers == (("Host", "10.0.0.1:7547"),)
    assert req.problems == ("warning: the header is not ended by an empty line",)


def test_bare_lf_line_ends_are_accepted() -> None:
    req = ok(VECTOR.replace(b"\r\n", b"\n"))
    assert req.headers == (("Host", "10.0.0.1:7547"),)
    assert req.problems == ()


def test_headers_in_wire_order_and_malformed_lines() -> None:
    req = ok(cr(tail="Host: h:1\r\nX-A:  one \r\nnot a header\r\nX-B:\r\n\r\n"))
    assert req.headers == (("Host", "h:1"), ("X-A", "one"), ("X-B", ""))
    assert req.problems == ("warning: malformed header line 'not a header' ignored",)


def test_http_1_0_is_info() -> None:
    req = ok(VECTOR.replace(b"HTTP/1.1", b"HTTP/1.0"))
    assert req.version == "HTTP/1.0"
    assert req.problems == ("info: version HTTP/1.0, Annex G specifies HTTP/1.1",)


@pytest.mark.parametrize(
    ("uri", "host", "port"),
    [
        ("http://cpe.example.net:30005?{q}", "cpe.example.net", 30005),
        ("http://[2001:db8::1]:7547?{q}", "2001:db8::1", 7547),
        ("http://[2001:db8::1]?{q}", "2001:db8::1", None),
        ("HTTP://10.0.0.1?{q}", "10.0.0.1", None),
        ("http://user@10.0.0.1:1?{q}", "10.0.0.1", 1),
    ],
)
def test_authorities(uri: str, host: str, port: int | None) -> None:
    req = ok(cr(uri=uri))
    assert (req.host, req.port, req.path) == (host, port, "")
    assert req.problems == ()


@pytest.mark.parametrize(
    ("uri", "problem"),
    [
        ("http://10.0.0.1:?{q}", "warning: unreadable port ':' in the Request-URI"),
        ("http://10.0.0.1:http?{q}", "warning: unreadable port ':http' in the Request-URI"),
        ("http://10.0.0.1:99999?{q}", "warning: port 99999 is out of range"),
        ("http://[::1]x?{q}", "warning: unreadable port 'x' in the Request-URI"),
        ("http://:7547?{q}", "warning: Request-URI has no host"),
        ("https://10.0.0.1:7547?{q}", "warning: scheme 'https', Annex G requires http"),
    ],
)
def test_bad_authorities_warn(uri: str, problem: str) -> None:
    req = ok(cr(uri=uri))
    assert req.problems == (problem,)
    assert req.ts == "1700000000"


def test_origin_form_takes_the_host_header() -> None:
    req = ok(cr(uri="/?{q}"))
    assert (req.host, req.port, req.path) == ("10.0.0.1", 7547, "/")
    assert req.problems[0].startswith("warning: Request-URI '/?ts=")
    assert req.problems[0].endswith("is not absolute, Annex G requires http://host:port")
    assert req.problems[1:] == ("warning: Request-URI path '/', Annex G requires an empty path",)
