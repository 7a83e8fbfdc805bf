"""Training-job records.

A job is "queued" or "running" while active and ends "succeeded" or
"failed". Only active jobs change: update_job and finish_job on a finished
job leave it as it is and return it, so a runner whose job was failed as
stale learns that from the returned state.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import Database, UTCDateTime, jobs, utcnow
from .errors import NotFound

JOB_STATES = ("queued", "running", "succeeded", "failed")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed")
LOSS_HISTORY_LIMIT = 200
INTERRUPTED = {"title": "interrupted", "detail": "the process running this job stopped"}
UPDATABLE_FIELDS = frozenset(
    {"state", "step", "total_steps", "result", "error", "loss_history", "owner", "started_at", "heartbeat_at"}
)

_j = jobs.c


@dataclass(frozen=True)
class Job:
    id: str
    kind: str
    target: str
    state: str
    step: int
    total_steps: int
    params: dict[str, Any]
    result: dict[str, Any] | None
    error: dict[str, Any] | None
    loss_history: list[float]
    owner: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime


class JobStore(Database):
    def create_job(
        self,
        kind: str,
        target: str,
        params: dict[str, Any],
        *,
        total_steps: int = 0,
        owner: str | None = None,
    ) -> Job:
        """Record a new queued job."""
        now = utcnow()
        values = dict(
            id=uuid.uuid4().hex, kind=kind, target=target, state="queued", step=0,
            total_steps=total_steps, params=params, result=None, error=None, loss_history=[],
            owner=owner, created_at=now, updated_at=now, started_at=None, finished_at=None,
            heartbeat_at=now,
        )
        with self.write() as conn:
            return _job(conn.execute(sa.insert(jobs).values(values).returning(*jobs.c)).one())

    def get_job(self, job_id: str) -> Job | None:
        with self.read() as conn:
            return _get_job(conn, job_id)

    def active_jobs(self, kind: str, limit: int) -> list[Job]:
        """The newest `limit` queued or running jobs of this kind, newest first."""
        query = sa.select(jobs).where(_j.kind == kind, _j.state.in_(ACTIVE_STATES)).order_by(_j.created_at.desc(), _j.id).limit(limit)
        with self.read() as conn:
            return [_job(row) for row in conn.execute(query)]

    def update_job(self, job_id: str, **fields: Any) -> Job:
        """Change fields of an active job; every update is also a heartbeat.

        Setting state="running" sets started_at the first time. loss_history
        is replaced, keeping its last LOSS_HISTORY_LIMIT points.
        """
        unknown = fields.keys() - UPDATABLE_FIELDS
        if unknown:
            raise ValueError(f"cannot update job fields: {', '.join(sorted(unknown))}")
        if "state" in fields and fields["state"] not in JOB_STATES:
            raise ValueError(f"unknown job state {fields['state']!r}")
        if "loss_history" in fields:
            fields["loss_history"] = list(fields["loss_history"])[-LOSS_HISTORY_LIMIT:]
        now = utcnow()
        values: dict[str, Any] = {"heartbeat_at": now, **fields, "updated_at": now}
        if fields.get("state") == "running" and "started_at" not in fields:
            values["started_at"] = sa.func.coalesce(_j.started_at, sa.literal(now, UTCDateTime))
        if fields.get("state") in FINAL_STATES:
            values.setdefault("finished_at", now)
        return self._update_active_job(job_id, values)

    def finish_job(
        self,
        job_id: str,
        state: str,
        result: dict[str, Any] | None = None,
        error: dict[str, Any] | None = None,
    ) -> Job:
        """End an active job as "succeeded" or "failed"."""
        if state not in FINAL_STATES:
            raise ValueError(f"a job finishes as one of {', '.join(FINAL_STATES)}, not {state!r}")
        now = utcnow()
        values = dict(state=state, result=result, error=error, finished_at=now, updated_at=now)
        return self._update_active_job(job_id, values)

    def fail_stale_jobs(
        self,
        older_than_seconds: float,
        owner_alive: Callable[[str | None], bool] | None = None,
    ) -> list[str]:
        """Fail active jobs without a heartbeat for older_than_seconds; return their ids.

        When owner_alive is given, a stale job whose owner it reports alive is spared.
        """
        stale = (_j.state.in_(ACTIVE_STATES), _j.heartbeat_at < utcnow() - timedelta(seconds=older_than_seconds))
        with self.read() as conn:
            candidates = conn.execute(sa.select(_j.id, _j.owner).where(*stale)).all()
        ids = [row.id for row in candidates if owner_alive is None or not owner_alive(row.owner)]
        if not ids:
            return []
        # Re-check staleness: a job may have sent a heartbeat since it was read.
        return self._fail_interrupted(_j.id.in_(ids), *stale)

    def fail_jobs_of_owner(self, owner: str) -> list[str]:
        """Fail every active job run by owner (e.g. a process that is gone); return their ids."""
        return self._fail_interrupted(_j.owner == owner, _j.state.in_(ACTIVE_STATES))

    def _update_active_job(self, job_id: str, values: dict[str, Any]) -> Job:
        with self.write() as conn:
            row = conn.execute(
                sa.update(jobs)
                .where(_j.id == job_id, _j.state.in_(ACTIVE_STATES))
                .values(values)
                .returning(*jobs.c)
            ).one_or_none()
            job = _job(row) if row is not None else _get_job(conn, job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return job

    def _fail_interrupted(self, *conditions: sa.ColumnElement[bool]) -> list[str]:
        now = utcnow()
        with self.write() as conn:
            rows = conn.execute(
                sa.update(jobs)
                .where(*conditions)
                .values(state="failed", error=INTERRUPTED, finished_at=now, updated_at=now)
                .returning(_j.id)
            )
            return sorted(row.id for row in rows)


def _get_job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(sa.select(jobs).where(_j.id == job_id)).one_or_none()
    return None if row is None else _job(row)


def _job(row: sa.Row) -> Job:
    return Job(**row._mapping)
