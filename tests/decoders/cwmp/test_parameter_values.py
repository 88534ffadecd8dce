"""ParameterValues: a ParameterList kept as columns, read as the tuple of records it stands for
(what every Columns class does: tests/decoders/test_columns.py)."""

from __future__ import annotations

import copy
import operator
import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decoders.cwmp import GetParameterValuesResponse, ParameterValue, ParameterValues, decode

from .helpers import envelope

RECORDS = (ParameterValue("Device.A", "1", "int"), ParameterValue("Device.B", "", None),
           ParameterValue("Device.C", "x y", "string"))


def test_reads_as_the_tuple_of_its_records() -> None:
    p = ParameterValues.of(RECORDS)
    assert p.names == ("Device.A", "Device.B", "Device.C")
    assert p.values == ("1", "", "x y") and p.types == ("int", None, "string")
    assert len(p) == 3 and bool(p) and not ParameterValues()
    assert tuple(p) == RECORDS and list(p) == list(RECORDS)
    assert p[0] == RECORDS[0] and p[-1] == RECORDS[-1]
    assert p[1:] == RECORDS[1:] and type(p[1:]) is ParameterValues
    assert RECORDS[1] in p and p.index(RECORDS[2]) == 2
    with pytest.raises(IndexError):
        p[3]


def test_equality_and_hash_agree_with_the_tuple() -> None:
    p = ParameterValues.of(RECORDS)
    assert p == RECORDS and operator.eq(RECORDS, p)  # (the tuple's side: reflected to ours)
    assert p == ParameterValues.of(list(RECORDS))
    assert p != RECORDS[:2] and p != ParameterValues.of(RECORDS[:2]) and p != list(RECORDS)
    assert hash(p) == hash(RECORDS)
    assert {p, RECORDS} == {RECORDS}
    # A record holding it compares, hashes and pickles as with the tuple.
    a, b = GetParameterValuesResponse(p), GetParameterValuesResponse(ParameterValues.of(RECORDS))
    assert a == b and hash(a) == hash(b)
    assert pickle.loads(pickle.dumps(a)) == a
    assert copy.deepcopy(a) == a
    assert repr(p) == f"ParameterValues({RECORDS!r})"


def test_the_decoder_fills_the_columns() -> None:
    body = (
        "<cwmp:GetParameterValuesResponse><ParameterList>"
        "<ParameterValueStruct><Name>A.B</Name>"
        '<Value xsi:type="xsd:unsignedInt">7</Value></ParameterValueStruct>'
        "<ParameterValueStruct><Value>late</Value><Name>A.C</Name></ParameterValueStruct>"
        "<ParameterValueStruct><Name>A.D</Name></ParameterValueStruct>"
        "</ParameterList></cwmp:GetParameterValuesResponse>"
    )
    rpc = decode(envelope(body)).rpc
    assert isinstance(rpc, GetParameterValuesResponse) and type(rpc.parameters) is ParameterValues
    assert rpc.parameters == (ParameterValue("A.B", "7", "unsignedInt"), ParameterValue("A.C", "late", None),
                              ParameterValue("A.D", "", None))


@given(st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5), st.none() | st.text(max_size=3)),
                max_size=8), st.integers(-10, 10), st.integers(-10, 10))
def test_any_columns_behave_as_the_tuple(rows: list[tuple[str, str, str | None]], i: int, j: int) -> None:
    records = tuple(ParameterValue(*r) for r in rows)
    p = ParameterValues.of(records)
    assert tuple(p) == records and len(p) == len(records)
    assert tuple(p[i:j]) == records[i:j]
    if -len(records) <= i < len(records):
        assert p[i] == records[i]
    assert pickle.loads(pickle.dumps(p)) == p
