"""decoders/_strings.py: one str object per repeated value, in a table that stays bounded."""

from __future__ import annotations

import pytest

from decoders import _strings
from decoders._strings import MAX_ENTRIES, MAX_LENGTH, share
from decoders.http._headers import parse_fields


def _fresh(text: str) -> str:
    return "".join(list(text))  # an equal str that is another object


def test_equal_values_become_one_object() -> None:
    a = share(_fresh("Device.DeviceInfo.SoftwareVersion"))
    b = share(_fresh("Device.DeviceInfo.SoftwareVersion"))
    assert a == b and a is b


def test_long_values_are_left_alone() -> None:
    long = "x" * (MAX_LENGTH + 1)
    assert share(long) is long
    assert share(_fresh(long)) is not long
    assert long not in _strings._TABLE


def test_the_table_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_strings, "_TABLE", {})
    for i in range(3 * MAX_ENTRIES + 5):  # a stream of unique values: dates, cookies, nonces
        assert share(f"value {i}") == f"value {i}"
        assert len(_strings._TABLE) <= MAX_ENTRIES
    again = share(_fresh("value 7"))  # still works after being emptied
    assert share(_fresh("value 7")) is again


def test_decoded_header_fields_share_their_strings() -> None:
    a, _ = parse_fields("Content-Type: text/xml; charset=utf-8\r\nHost: acs\r\n")
    b, _ = parse_fields(_fresh("Content-Type: text/xml; charset=utf-8\r\nHost: acs\r\n"))
    assert a == b
    assert all(x is y for (n1, v1), (n2, v2) in zip(a, b, strict=True) for x, y in ((n1, n2), (v1, v2)))
