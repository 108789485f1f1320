"""Turning known exceptions into one protocol's error by a table, the same way for every
protocol layer (S3, Lambda, CloudFront): the first class in the exception's MRO that the
table names decides; an exception no entry names is a bug, and the caller makes it a 500."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

E = TypeVar("E", bound=Exception)

Table = Mapping[type[Exception], Callable[[Exception], E]]


def translate(exc: Exception, own: type[E], table: Table[E]) -> E | None:
    if isinstance(exc, own):
        return exc
    for cls in type(exc).__mro__:
        mapper = table.get(cls)
        if mapper is not None:
            return mapper(exc)
    return None
