"""Exceptions raised by the store."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of every error the store raises on purpose."""


class NotFound(StoreError):
    """The record or job does not exist (or is deleted)."""


class PreconditionFailed(StoreError):
    """A conditional write (if_match / create_only) did not hold.

    current_revision is the live revision at the time of the check, or None
    when no live record exists.
    """

    def __init__(self, current_revision: int | None) -> None:
        # Passing only the revision to Exception keeps the error picklable.
        super().__init__(current_revision)
        self.current_revision = current_revision

    def __str__(self) -> str:
        return f"precondition failed; current revision is {self.current_revision}"


class StoreUnavailable(StoreError):
    """The database could not be reached or did not answer."""
