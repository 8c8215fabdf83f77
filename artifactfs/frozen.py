"""Read-only dicts and lists for values read from a store (no I/O).

A logged version's metadata, a table's fields, a run's config are shared by every object the
process reads them into (records and manifests are cached): changed in place, the change would
leak into later reads while nothing is written. :func:`freeze` makes such values read-only all
the way down. They are still a ``dict`` and a ``list`` (equal to plain ones, JSON- and
msgpack-encodable); any change raises :class:`ReadOnlyError`; ``copy.copy``, ``copy.deepcopy``
and :func:`thaw` give ordinary, editable copies.
"""

from __future__ import annotations

import copy
from typing import Any, NoReturn

from .errors import ReadOnlyError

__all__ = ["EMPTY", "FrozenDict", "FrozenList", "freeze", "thaw"]


def _refuse(*_: object, **__: object) -> NoReturn:
    raise ReadOnlyError(
        "this value belongs to a logged version and is read-only; "
        "edit a copy (copy.deepcopy(value)) and log a new version with it"
    )


class FrozenDict(dict[str, Any]):
    """A dict that refuses every change."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return thaw(self)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (thaw(self),))

    def __hash__(self) -> int:  # type: ignore[override]
        raise TypeError("unhashable type: 'FrozenDict'")


class FrozenList(list[Any]):
    """A list that refuses every change."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = remove = pop = clear = sort = reverse = _refuse

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        return thaw(self)  # type: ignore[no-any-return]

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (thaw(self),))


EMPTY = FrozenDict()


def freeze(value: Any) -> Any:
    """``value`` with every dict and list in it read-only (other values as they are)."""
    if type(value) is FrozenDict or type(value) is FrozenList:
        return value
    if isinstance(value, dict):
        if not value:
            return EMPTY
        out = FrozenDict()
        for k, v in value.items():
            dict.__setitem__(out, k, freeze(v))
        return out
    if isinstance(value, list | tuple):
        return FrozenList(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """An ordinary, editable deep copy of a frozen value."""
    if isinstance(value, dict):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [thaw(v) for v in value]
    return copy.copy(value)
