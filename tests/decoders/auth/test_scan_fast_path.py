"""The scanner's regex fast path gives exactly what the tolerant path gives, or steps aside."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from decoders.auth._scan import Scanner


def _slow(text: str) -> tuple[list[tuple[str, str, bool, bool]], list[str]]:
    s = Scanner(text)
    params = s.tolerant_params()
    return [(p.raw_name, p.value, p.quoted, p.literal_backslash) for p in params], list(s.problems)


PIECES = st.sampled_from(
    [
        'username="Mufasa"',
        "realm=testrealm@host.com",
        'nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093"',
        "qop=auth",
        "nc=00000001",
        'cnonce="0a4f113b"',
        'uri="/dir/index.html?x=1&y=2"',
        'opaque=""',
        'response="6629fae49393a05397450978507c4ef1"',
        "algorithm=MD5",
        'algorithm="MD5-sess"',
        "realm=My Realm",
        'user="a\\"b"',
        'domain="D\\x"',
        'x="unterminated',
        "bare",
        "=v",
        'k="v"w',
        'name="J\u00e4s\u00f8n"',
        "a=",
        " ",
        ",",
        ", ,",
        "\r\n\t",
        'q=" spaced "',
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(PIECES, max_size=8), st.sampled_from([", ", ",", " , ", "\r\n ,"]))
def test_fast_path_agrees_with_the_tolerant_path(pieces: list[str], sep: str) -> None:
    text = sep.join(pieces)
    fast = Scanner(text)._clean_params()
    slow, problems = _slow(text)
    if fast is not None:
        assert [(p.raw_name, p.value, p.quoted, p.literal_backslash) for p in fast] == slow
        assert problems == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_fast_path_on_any_text(text: str) -> None:
    fast = Scanner(text)._clean_params()
    if fast is not None:
        slow, problems = _slow(text)
        assert [(p.raw_name, p.value, p.quoted, p.literal_backslash) for p in fast] == slow
        assert problems == []


def test_common_headers_take_the_fast_path() -> None:
    header = (
        'username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", '
        'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", '
        'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"'
    )
    fast = Scanner(header)._clean_params()
    assert fast is not None and [p.name for p in fast][:3] == ["username", "realm", "nonce"]
    assert Scanner('user="a\\"b"')._clean_params() is None  # escapes: the tolerant path
