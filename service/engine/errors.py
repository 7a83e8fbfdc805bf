"""Errors the engine raises; the API turns them into problem+json answers."""
from __future__ import annotations


class EngineError(ValueError):
    """A definition or an input the engine cannot work with. `field` is a path like 'layers[1].weights'."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NonFiniteResult(EngineError):
    """A computation left float range (e.g. weights of 1e200 times inputs of 1e200)."""
