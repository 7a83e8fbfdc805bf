"""Strict marshmallow fields for numbers, vectors and matrices.

JSON numbers only: a string such as "1.5" or a boolean is refused with what was received.
Shapes are checked here, before numpy sees the data (ragged lists would make numpy raise or build
object arrays). Vectors and matrices come out as float64 numpy arrays.
"""
from __future__ import annotations

from typing import Any, Protocol

import numpy as np
from marshmallow import ValidationError, fields

_NUMBER_TYPES = frozenset({int, float})


def describe(value: Any) -> str:
    """How a received JSON value reads in an error message: "string '1.5'", "boolean true"."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {'true' if value else 'false'}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, list):
        return f"a list of {len(value)} values"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return type(value) in _NUMBER_TYPES


def _number_errors(values: list[Any]) -> dict[int, list[str]]:
    return {i: [f"expected a number, got {describe(v)}"] for i, v in enumerate(values) if not _is_number(v)}


class Number(fields.Field):
    default_error_messages = {"required": "required: expected a number", "null": "expected a number, got null"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if not _is_number(value):
            raise ValidationError(f"expected a number, got {describe(value)}")
        return float(value)


class Integer(fields.Field):
    """A JSON whole number (not 3.0, not "3", not true)."""

    default_error_messages = {"required": "required: expected a whole number", "null": "expected a whole number, got null"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if type(value) is not int:
            raise ValidationError(f"expected a whole number, got {describe(value)}")
        return value


class WholeNumberIn(fields.Field):
    """A JSON whole number in low..high; anything else is refused saying so."""

    def __init__(self, low: int, high: int, **kwargs: Any) -> None:
        self.expected = f"a whole number in {low}..{high}"
        self.low, self.high = low, high
        super().__init__(error_messages={"required": f"required: expected {self.expected}",
                                         "null": f"expected {self.expected}, got null"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if type(value) is not int or not self.low <= value <= self.high:
            raise ValidationError(f"expected {self.expected}, got {describe(value)}")
        return value


class Range(Protocol):
    def holds(self, value: Any) -> bool: ...


class NumberIn(fields.Field):
    """A JSON number that `interval` holds (its str() says which, like "(0, 10]")."""

    def __init__(self, interval: Range, **kwargs: Any) -> None:
        self.expected = f"a number in {interval}"
        self.interval = interval
        super().__init__(error_messages={"required": f"required: expected {self.expected}",
                                         "null": f"expected {self.expected}, got null"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if not _is_number(value) or not self.interval.holds(value):
            raise ValidationError(f"expected {self.expected}, got {describe(value)}")
        return value


class ListOf(fields.Field):
    """A JSON list of min_length..max_length items, each read by `item`; errors keyed by index, all at once."""

    def __init__(self, item: fields.Field, min_length: int, max_length: int, **kwargs: Any) -> None:
        self.item = item
        self.min_length, self.max_length = min_length, max_length
        count = f"{min_length}" if min_length == max_length else f"{min_length} to {max_length}"
        self.expected = f"a list of {count} values"
        super().__init__(error_messages={"required": f"required: expected {self.expected}",
                                         "null": f"expected {self.expected}, got null"}, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list) or not self.min_length <= len(value) <= self.max_length:
            raise ValidationError(f"expected {self.expected}, got {describe(value)}")
        items, errors = [], {}
        for i, element in enumerate(value):
            try:
                items.append(self.item.deserialize(element))
            except ValidationError as exc:
                errors[i] = exc.messages
        if errors:
            raise ValidationError(errors)
        return items


class StrictBoolean(fields.Field):
    default_error_messages = {"null": "expected true or false, got null"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationError(f"expected true or false, got {describe(value)}")
        return value


class Vector(fields.Field):
    """A non-empty list of numbers -> 1-D float64 array."""

    default_error_messages = {"required": "required: expected a list of numbers", "null": "expected a list of numbers, got null"}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> np.ndarray:
        return as_vector(value)


class Matrix(fields.Field):
    """A non-empty list of equally long non-empty lists of numbers -> 2-D float64 array."""

    default_error_messages = {
        "required": "required: expected a list of lists of numbers",
        "null": "expected a list of lists of numbers, got null",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> np.ndarray:
        return as_matrix(value)


class Inputs(fields.Field):
    """One input vector, or a batch (list of vectors). Deserialises to ((batch, n) array, batched)."""

    default_error_messages = {
        "required": "required: expected a list of numbers, or a list of such lists for a batch",
        "null": "expected a list of numbers, or a list of such lists for a batch, got null",
    }

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> tuple[np.ndarray, bool]:
        return read_inputs(value)


def read_inputs(value: Any) -> tuple[np.ndarray, bool]:
    """One input vector, or a batch (list of vectors) -> ((batch, n) array, batched)."""
    if isinstance(value, list) and value and isinstance(value[0], list):
        return as_matrix(value), True
    return as_vector(value)[None, :], False


def quick_inputs(value: Any) -> tuple[np.ndarray, bool] | None:
    """read_inputs without marshmallow's machinery; None for anything it refuses (the schema then
    finds and words the errors)."""
    try:
        return read_inputs(value)
    except ValidationError:
        return None


def as_vector(value: Any) -> np.ndarray:
    if not isinstance(value, list):
        raise ValidationError(f"expected a list of numbers, got {describe(value)}")
    if not value:
        raise ValidationError("expected at least one number, got an empty list")
    if not set(map(type, value)) <= _NUMBER_TYPES:
        raise ValidationError(_number_errors(value))
    return np.array(value, dtype=np.float64)


def as_matrix(value: Any) -> np.ndarray:
    if not isinstance(value, list):
        raise ValidationError(f"expected a list of lists of numbers, got {describe(value)}")
    if not value:
        raise ValidationError("expected at least one row, got an empty list")
    errors: dict[int, Any] = {}
    width = len(value[0]) if isinstance(value[0], list) else None
    for i, row in enumerate(value):
        if not isinstance(row, list):
            errors[i] = [f"expected a list of numbers, got {describe(row)}"]
        elif not row:
            errors[i] = ["expected at least one number, got an empty list"]
        elif width is not None and len(row) != width:
            errors[i] = [f"expected {width} values (as in row 0), got {len(row)}"]
        elif not set(map(type, row)) <= _NUMBER_TYPES:
            errors[i] = _number_errors(row)
        if len(errors) >= 10:  # enough to act on; a huge matrix would otherwise flood the answer
            break
    if errors:
        raise ValidationError(errors)
    return np.array(value, dtype=np.float64)
