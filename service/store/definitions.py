"""The repository of named definitions (neurons and networks).

Revisions are never reused for a (kind, name): a delete leaves a tombstone
row (deleted=True, revision bumped, blob emptied) and a later put continues
from it. A missing row behaves like a tombstone at revision 0.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Sequence

import numpy as np
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row

from .db import Database, definitions, utcnow
from .errors import NotFound, PreconditionFailed
from .weights import decode_arrays, encode_arrays

KINDS = ("neuron", "network")

_d = definitions.c
_SUMMARY_COLUMNS = (_d.kind, _d.name, _d.revision, _d.spec, _d.created_at, _d.updated_at)


@dataclass(frozen=True)
class RecordSummary:
    kind: str
    name: str
    revision: int
    spec: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Record:
    """A live definition. arrays are read-only; they take no part in == or repr
    (the revision identifies the content)."""

    kind: str
    name: str
    revision: int
    spec: dict[str, Any]
    arrays: list[np.ndarray] = field(compare=False, repr=False)
    created_at: datetime
    updated_at: datetime


class DefinitionStore(Database):
    def put(
        self,
        kind: str,
        name: str,
        spec: dict[str, Any],
        arrays: Sequence[np.ndarray],
        if_match: int | None = None,
        create_only: bool = False,
    ) -> tuple[Record, bool]:
        """Create or replace a definition; return (record, created).

        Raises PreconditionFailed when create_only is set and a live record
        exists, or when if_match is not the live revision.
        """
        _check_kind(kind)
        spec = json.loads(json.dumps(spec))  # store and return exactly what get() will
        blob = encode_arrays(arrays)
        now = utcnow()
        with self.write_definitions() as conn:
            current = _lock_row_creating_tombstone(conn, kind, name, now)
            _check_preconditions(current, if_match, create_only)
            created = current.deleted
            revision = current.revision + 1
            created_at = now if created else current.created_at
            conn.execute(
                sa.update(definitions)
                .where(*_key(kind, name))
                .values(revision=revision, deleted=False, spec=spec, arrays=blob,
                        created_at=created_at, updated_at=now)
            )
        return Record(kind, name, revision, spec, decode_arrays(blob), created_at, now), created

    def delete(self, kind: str, name: str, if_match: int | None = None) -> int:
        """Delete a live definition; return the tombstone's revision."""
        _check_kind(kind)
        with self.write_definitions() as conn:
            current = conn.execute(_select_for_update(kind, name)).one_or_none()
            if current is None or current.deleted:
                raise NotFound(f"{kind} {name!r} does not exist")
            _check_preconditions(current, if_match, create_only=False)
            revision = current.revision + 1
            conn.execute(
                sa.update(definitions)
                .where(*_key(kind, name))
                .values(revision=revision, deleted=True, spec={}, arrays=b"", updated_at=utcnow())
            )
        return revision

    def get(self, kind: str, name: str) -> Record | None:
        """The live definition, or None."""
        _check_kind(kind)
        query = sa.select(*_SUMMARY_COLUMNS, _d.arrays).where(*_live(kind, name))
        with self.read() as conn:
            row = conn.execute(query).one_or_none()
        if row is None:
            return None
        return Record(row.kind, row.name, row.revision, row.spec, decode_arrays(row.arrays),
                      row.created_at, row.updated_at)

    def current_revision(self, kind: str, name: str) -> int | None:
        """The live revision, or None; a primary-key lookup that reads no blob."""
        _check_kind(kind)
        with self.read() as conn:
            return conn.execute(sa.select(_d.revision).where(*_live(kind, name))).scalar_one_or_none()

    def list(self, kind: str, limit: int, after: str | None = None) -> list[RecordSummary]:
        """Up to limit live definitions sorted by name, with names greater than after."""
        _check_kind(kind)
        query = (
            sa.select(*_SUMMARY_COLUMNS)
            .where(_d.kind == kind, sa.not_(_d.deleted))
            .order_by(_d.name)
            .limit(limit)
        )
        if after is not None:
            query = query.where(_d.name > after)
        with self.read() as conn:
            return [RecordSummary(*row) for row in conn.execute(query)]


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def _key(kind: str, name: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (_d.kind == kind, _d.name == name)


def _live(kind: str, name: str) -> tuple[sa.ColumnElement[bool], ...]:
    return (*_key(kind, name), sa.not_(_d.deleted))


def _select_for_update(kind: str, name: str) -> sa.Select:
    # FOR UPDATE serialises writers on PostgreSQL; SQLite needs nothing more
    # than the BEGIN IMMEDIATE the write transaction already holds.
    return sa.select(_d.revision, _d.deleted, _d.created_at).where(*_key(kind, name)).with_for_update()


def _lock_row_creating_tombstone(conn: Connection, kind: str, name: str, now: datetime) -> Row:
    """Lock the row of (kind, name), first inserting a revision-0 tombstone if there is none.

    Concurrent creators block on the unique key until the first one commits or
    rolls back, so exactly one of them sees the tombstone.
    """
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(definitions)
        .values(kind=kind, name=name, revision=0, deleted=True, spec={}, arrays=b"",
                created_at=now, updated_at=now)
        .on_conflict_do_nothing(index_elements=[_d.kind, _d.name])
    )
    return conn.execute(_select_for_update(kind, name)).one()


def _check_preconditions(current: Row, if_match: int | None, create_only: bool) -> None:
    live_revision = None if current.deleted else current.revision
    if create_only and live_revision is not None:
        raise PreconditionFailed(live_revision)
    if if_match is not None and if_match != live_revision:
        raise PreconditionFailed(live_revision)
