"""Exact numbers read from input, and bad values named in messages.

The ground floor for every pure core that takes numbers from people (the allocation
policy and engine, money splits): a float is read through its shortest decimal form, so
``0.1`` is exactly one tenth on every machine, and a bad value raises :class:`InputError`
naming the field it came from.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from functools import lru_cache
from typing import Any

#: Numbers accepted wherever the policy or a candidate takes a ratio or a multiplier.
Number = int | float | Decimal | Fraction


class InputError(ValueError):
    """A value that cannot be used, with the field it came from."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message

    def within(self, prefix: str) -> InputError:
        """The same error, its field placed under ``prefix`` (``policy`` + ``cap``)."""
        joined = f"{prefix}{self.field}" if self.field.startswith("[") else f"{prefix}.{self.field}"
        return InputError(joined, self.message)


def describe(value: Any) -> str:
    """A short JSON-ish rendering of a bad value for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = value if len(value) <= 40 else value[:37] + "..."
        return f'"{text}"'
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "a list"
    return str(value)


def as_fraction(value: Any, field: str, expected: str = "a number") -> Fraction:
    """An exact fraction from an int, float, Decimal, Fraction or decimal string."""
    kind = type(value)  # a plain int or float (nearly always): none of the checks below
    if kind is int or (kind is float and math.isfinite(value)):
        return _exact(value)
    # bool is an int to Python, but `true` is never a sensible ratio.
    if isinstance(value, bool) or value is None:
        raise InputError(field, f"expected {expected}, got {describe(value)}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise InputError(field, f"expected {expected}, got {value}")
        return _exact(value)
    if isinstance(value, Decimal | str):
        try:
            number = Decimal(value.strip()) if isinstance(value, str) else value
        except InvalidOperation:
            raise InputError(field, f"expected {expected}, got {describe(value)}") from None
        if not number.is_finite():
            raise InputError(field, f"expected {expected}, got {describe(value)}")
        return Fraction(number)
    raise InputError(field, f"expected {expected}, got {describe(value)}")


@lru_cache(maxsize=4096)  # risks, boosts and weights repeat: thousands of projects, few values
def _exact(value: int | float) -> Fraction:
    # repr() is the shortest decimal that round-trips: 0.1 -> "0.1" -> 1/10.
    return Fraction(value) if isinstance(value, int) else Fraction(repr(value))
