"""Columns: a tuple of frozen records, kept as one tuple per field.

Some records come by the hundred in one message: a CWMP ParameterList's values.  As objects
they cost more than the rest of the message: the decoder built each, the ``-j`` workers turned
them back into columns to pickle them, and the merging process built them all again.  A
:class:`Columns` holds the field tuples instead.  Three tuples of strings cross a pipe as they
are, and the hot consumers read the columns directly.

It reads as the tuple of records it stands for: index, slice, iterate, ``len``, ``in``, and
``==`` and ``hash`` as that tuple.  A record is made only when one is asked for.  Immutable,
like the records that hold it.  Not a dataclass, so orjson never encodes the columns as an
object of its own: it hands a Columns to its ``default`` (a list, as for a tuple).

It pays for long lists only.  A SyncML command's Items (four to eight a command in the OMA DM
benchmark) were tried as columns too: building the columns of each short list cost more than
the records saved, and the report of the 200k-packet OMA DM capture took 8% more CPU.

A subclass names its record class (``RECORD``) and its columns (``COLUMNS``: one per field of
the record, in the record's field order), which are its ``__slots__``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import FrozenInstanceError, fields
from typing import Any, ClassVar, Generic, TypeVar, overload

__all__ = ["Columns"]

R = TypeVar("R")
C = TypeVar("C", bound="Columns[Any]")


class Columns(Sequence[R], Generic[R]):
    """A tuple of ``RECORD`` records, kept as one tuple per field (``COLUMNS``)."""

    RECORD: ClassVar[type]
    COLUMNS: ClassVar[tuple[str, ...]]
    __slots__ = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if len(cls.COLUMNS) != len(fields(cls.RECORD)) or set(cls.COLUMNS) != set(cls.__slots__):
            raise TypeError(f"{cls.__name__}: one column per field of {cls.RECORD.__name__}, as its slots")

    def _set(self, *columns: tuple[Any, ...]) -> None:
        """Set the columns (from ``__init__``): all of one length."""
        n = len(columns[0])
        if any(len(c) != n for c in columns):
            lengths = ", ".join(f"{len(c)} {name}" for name, c in zip(self.COLUMNS, columns, strict=True))
            raise ValueError(f"{type(self).__name__}: columns of different lengths ({lengths})")
        for name, c in zip(self.COLUMNS, columns, strict=True):
            object.__setattr__(self, name, c)

    def columns(self) -> tuple[tuple[Any, ...], ...]:
        return tuple(getattr(self, name) for name in self.COLUMNS)

    @classmethod
    def of(cls: type[C], records: Iterable[Any]) -> C:
        """The columns of ``records`` (records of ``RECORD``)."""
        names = [f.name for f in fields(cls.RECORD)]
        rows = [tuple(getattr(r, n) for n in names) for r in records]
        return cls.from_rows(rows)

    @classmethod
    def from_rows(cls: type[C], rows: Sequence[tuple[Any, ...]]) -> C:
        """The columns of ``rows``, each a record's field values in order."""
        if not rows:
            return cls()
        return cls(*zip(*rows, strict=True))

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __len__(self) -> int:
        return len(getattr(self, self.COLUMNS[0]))

    @overload
    def __getitem__(self, index: int) -> R: ...
    @overload
    def __getitem__(self: C, index: slice) -> C: ...
    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return type(self)(*(c[index] for c in self.columns()))
        record: R = self.RECORD(*(c[index] for c in self.columns()))
        return record

    def __iter__(self) -> Iterator[R]:
        return map(self.RECORD, *self.columns())

    def __eq__(self, other: object) -> bool:
        if type(other) is type(self):
            return self.columns() == other.columns()
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self))  # as the tuple it equals

    def __repr__(self) -> str:
        return f"{type(self).__name__}({tuple(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self.columns()
