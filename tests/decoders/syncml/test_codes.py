"""Status and alert code tables."""

from __future__ import annotations

import pytest

from decoders.syncml import ALERT_CODES, STATUS_CODES, alert_meaning, status_meaning


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (101, "In progress"),
        (200, "OK"),
        (212, "Authentication accepted"),
        (213, "Chunked item accepted and buffered"),
        (216, "Atomic roll back OK"),
        (401, "Invalid credentials"),
        (407, "Missing credentials"),
        (424, "Size mismatch"),
        (507, "Atomic failed"),
        (516, "Atomic roll back failed"),
        (517, "Atomic response too large to fit"),
    ],
)
def test_status_meanings(code: int, meaning: str) -> None:
    assert status_meaning(code) == meaning
    assert status_meaning(str(code)) == meaning
    assert status_meaning(f" {code}\n") == meaning


@pytest.mark.parametrize(
    ("code", "meaning"),
    [
        (1100, "Display"),
        (1104, "Multiple choice"),
        (1200, "Server-initiated management"),
        (1201, "Client-initiated management"),
        (1222, "Next message"),
        (1223, "Session abort"),
        (1224, "Client event"),
        (1226, "Generic alert"),
        (200, "Two-way sync"),
        (201, "Slow sync"),
        (222, "Next message"),
        (225, "Resume"),
    ],
)
def test_alert_meanings(code: int, meaning: str) -> None:
    assert alert_meaning(code) == meaning
    assert alert_meaning(str(code)) == meaning


def test_tables_are_complete() -> None:
    # RepPro 1.2.1 lists 101, 200-216, 300-305, 400-428, 500-514 and 516; DM adds 517.
    expected = {101, *range(200, 217), *range(300, 306), *range(400, 429), *range(500, 515), 516, 517}
    assert set(STATUS_CODES) == expected
    assert set(ALERT_CODES) == {
        100,
        *range(200, 211),
        *range(221, 226),
        *range(1100, 1105),
        1200,
        1201,
        *range(1222, 1227),
    }


@pytest.mark.parametrize("code", [None, "", "abc", "2OO", "-200", 515, 999, "1e3", True])
def test_unknown_codes(code: int | str | None) -> None:
    assert status_meaning(code) is None
    assert alert_meaning(code) is None
