"""decoders/_columns.py: records kept as columns read as the tuple of records they stand for.

The behaviour every Columns class shares (checked here on each); what a decoder puts in one is
tested with that decoder (tests/decoders/cwmp/test_parameter_values.py).
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

from decoders._columns import Columns
from decoders.cwmp import ParameterValue, ParameterValues

# Every Columns class, with a few records of its kind.
KINDS: list[tuple[type[Columns[Any]], tuple[Any, ...]]] = [
    (ParameterValues, (ParameterValue("Device.A", "1", "int"), ParameterValue("Device.B", "", None),
                       ParameterValue("Device.C", "x", "string"))),
]


@pytest.mark.parametrize(("cls", "records"), KINDS, ids=lambda k: getattr(k, "__name__", ""))
def test_each_kind_reads_as_its_tuple(cls: type[Columns[Any]], records: tuple[Any, ...]) -> None:
    c = cls.of(records)
    # One column per field, in the record's order, each as long as the list.
    assert len(c.COLUMNS) == len(dataclasses.fields(cls.RECORD))
    for name, f in zip(c.COLUMNS, dataclasses.fields(cls.RECORD), strict=True):
        assert getattr(c, name) == tuple(getattr(r, f.name) for r in records)
    rows = [tuple(getattr(r, f.name) for f in dataclasses.fields(r)) for r in records]
    assert cls.from_rows(rows) == c and cls.from_rows([]) == cls() == cls.of(())
    assert tuple(c) == records and len(c) == len(records) and c[1] == records[1] and c[-1] == records[-1]
    assert c[:2] == records[:2] and type(c[:2]) is cls and records[2] in c and not cls()
    assert c == records and c != records[:2] and c != list(records)
    assert hash(c) == hash(records) and {c, records} == {records}
    assert pickle.loads(pickle.dumps(c)) == c and copy.deepcopy(c) == c
    assert repr(c) == f"{cls.__name__}({records!r})"
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(c, c.COLUMNS[0], ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(c, c.COLUMNS[0])
    with pytest.raises(AttributeError):
        c.other = 1  # type: ignore[attr-defined]
    with pytest.raises(IndexError):
        c[len(records)]


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match=r"columns of different lengths \(2 names, 1 values, 2 types\)"):
        ParameterValues(("a", "b"), ("1",), (None, None))


def test_a_subclass_has_a_column_per_field_as_its_slots() -> None:
    with pytest.raises(TypeError, match="one column per field of ParameterValue"):
        class _Short(Columns[ParameterValue]):
            RECORD = ParameterValue
            COLUMNS = ("names", "values")
            __slots__ = ("names", "values")

    with pytest.raises(TypeError, match="as its slots"):
        class _Unslotted(Columns[ParameterValue]):
            RECORD = ParameterValue
            COLUMNS = ("names", "values", "types")
            __slots__ = ("kinds", "names", "values")
