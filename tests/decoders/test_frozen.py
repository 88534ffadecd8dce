"""decoders/_frozen.py: the quick ``__init__`` builds exactly what the dataclass's own builds."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any

import pytest

import decoders.auth._records
import decoders.cwmp._records
import decoders.http._events
import decoders.syncml._records
import decoders.tls._records
from decoders._frozen import QUICK, quick_init

MODULES = (decoders.auth._records, decoders.cwmp._records, decoders.http._events, decoders.syncml._records,
           decoders.tls._records)


def _reference(cls: type) -> type:
    """``cls`` as the dataclass decorator alone makes it: the same fields, its own ``__init__``."""
    fields = [(f.name, f.type, dataclasses.field(default=f.default, default_factory=f.default_factory))
              for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, fields, frozen=True, slots=True)


def test_every_frozen_record_of_the_hot_modules_has_it() -> None:
    """The records made per parameter, item, command or message (and the rest of their modules)."""
    frozen = [obj for m in MODULES for obj in vars(m).values()
              if isinstance(obj, type) and obj.__module__ == m.__name__ and dataclasses.is_dataclass(obj)
              and obj.__dataclass_params__.frozen]  # type: ignore[attr-defined]
    assert len(frozen) > 50
    assert set(frozen) <= set(QUICK)


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_same_object_as_the_dataclass_init(cls: type) -> None:
    ref = _reference(cls)
    fields = dataclasses.fields(cls)
    values = [object() for _ in fields]  # distinct, so a field set from the wrong argument shows
    by_position = cls(*values)
    by_name = cls(**{f.name: v for f, v in zip(fields, values, strict=True)})
    expected = ref(*values)
    for obj in (by_position, by_name):
        assert type(obj) is cls
        assert [getattr(obj, f.name) for f in fields] == [getattr(expected, f.name) for f in fields]
        if fields:  # (of a class without fields Python 3.11's own frozen __setattr__ is broken)
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(obj, fields[0].name, None)
    assert by_position == by_name
    # Defaults (factories called anew for each object, as the dataclass's own __init__ does).
    required = [f for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    minimal = {f.name: object() for f in required}
    got, want = cls(**minimal), ref(**minimal)
    assert [getattr(got, f.name) for f in fields] == [getattr(want, f.name) for f in fields]
    assert repr(got).partition("(")[2] == repr(want).partition("(")[2]


def _sample(cls: type) -> Any:
    return cls(*[f"v{i}" for i, _ in enumerate(dataclasses.fields(cls))])


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_pickle_copy_replace_hash(cls: type) -> None:
    obj = _sample(cls)
    assert pickle.loads(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) == obj
    assert copy.copy(obj) == obj and copy.deepcopy(obj) == obj
    assert hash(obj) == hash(_sample(cls))
    if not dataclasses.fields(cls):  # (an RPC without arguments)
        assert dataclasses.replace(obj) == obj
        return
    first = dataclasses.fields(cls)[0].name
    changed = dataclasses.replace(obj, **{first: "other"})
    assert getattr(changed, first) == "other" and type(changed) is cls and changed != obj


def test_a_subclass_is_refused() -> None:
    with pytest.raises(TypeError, match="cannot be subclassed"):
        type("Sub", (decoders.syncml._records.Item,), {})


@dataclasses.dataclass(frozen=True, slots=True)
class _PostInit:
    a: int

    def __post_init__(self) -> None:
        pass


@dataclasses.dataclass(frozen=True, slots=True)
class _KwOnly:
    a: int = dataclasses.field(kw_only=True)


@dataclasses.dataclass(frozen=True, slots=True)
class _NotInit:
    a: int = dataclasses.field(init=False, default=0)


@dataclasses.dataclass(frozen=True)
class _NoSlots:
    a: int


@dataclasses.dataclass(slots=True)
class _NotFrozen:
    a: int


@pytest.mark.parametrize("cls", [_PostInit, _KwOnly, _NotInit, _NoSlots, _NotFrozen, int])
def test_what_it_cannot_do_it_refuses(cls: type) -> None:
    with pytest.raises(TypeError, match="quick_init"):
        quick_init(cls)
