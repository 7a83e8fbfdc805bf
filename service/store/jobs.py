"""Jobs: a queue in the application's own database, as Oban and procrastinate keep one.

A job is "queued" or "running" while active and ends "succeeded", "failed" or "cancelled". A worker
takes a job with claim_job(): one atomic statement per backend (PostgreSQL: UPDATE .. WHERE id =
(SELECT .. FOR UPDATE SKIP LOCKED); SQLite: the same inside BEGIN IMMEDIATE, which serialises writers),
so a job is given to one worker at a time. The claim carries a lease the worker renews while it
works; a running job whose lease lapsed (its worker was killed, its machine lost) is claimed again,
and one that lost its worker MAX_LOST times ends failed.

Every write a worker makes names its Claim (job id, worker id, attempt): once the job was claimed
again, by the next attempt, the writes of the earlier one change nothing and answer None, so a worker
that was presumed dead cannot overwrite its successor's progress or result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .db import Database, UTCDateTime, job_blobs, jobs, utcnow, workers
from .errors import NotFound, StoreError

JOB_STATES = ("queued", "running", "succeeded", "failed", "cancelled")
ACTIVE_STATES = ("queued", "running")
FINAL_STATES = ("succeeded", "failed", "cancelled")
LOSS_HISTORY_LIMIT = 200
MAX_LOST = 3  # a job whose worker was lost this many times ends failed
INTERRUPTED = {"title": "interrupted", "detail": "the process running this job stopped"}
LOST_TOO_OFTEN = {
    "title": "worker lost",
    "detail": f"the job lost its worker {MAX_LOST} times (each was killed or stopped answering before its lease ran out); "
              "it may need more memory or time than a worker has",
}
UPDATABLE_FIELDS = frozenset(
    {"state", "step", "total_steps", "result", "error", "loss_history", "owner", "started_at", "heartbeat_at", "progress", "warnings"}
)

_j = jobs.c
_b = job_blobs.c
_w = workers.c


class JobFinished(StoreError):
    """The job has already ended; it cannot be cancelled."""

    def __init__(self, state: str) -> None:
        super().__init__(state)
        self.state = state


class TooManyActiveJobs(StoreError):
    """The requester has as many queued or running jobs as it may."""

    def __init__(self, active: int) -> None:
        super().__init__(active)
        self.active = active


_REQUESTER_LOCK = 0x4E48_0002  # PostgreSQL advisory lock class: job submissions of one requester


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
    loss_history: list[Any]
    owner: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    heartbeat_at: datetime
    lease_expires_at: datetime | None
    attempts: int
    lost: int
    cancel_requested: bool
    progress: dict[str, Any]
    warnings: list[str]
    requester: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class Claim:
    """A worker's hold on a job: valid while the job is running under this worker and attempt."""

    job_id: str
    worker_id: str
    attempt: int


class JobStore(Database):
    # --- submitting and reading ----------------------------------------------------------------------

    def create_job(
        self,
        kind: str,
        target: str,
        params: dict[str, Any],
        *,
        total_steps: int = 0,
        owner: str | None = None,
        requester: str | None = None,
        blobs: dict[str, bytes] | None = None,
        max_active: int | None = None,
    ) -> Job:
        """Record a new queued job, with the blobs it needs (its input), in one transaction. With
        max_active, raises TooManyActiveJobs when the requester has that many queued or running jobs
        already: counted and inserted under a lock per requester (PostgreSQL: an advisory lock; SQLite:
        BEGIN IMMEDIATE), so concurrent submissions cannot overshoot."""
        now = utcnow()
        values = dict(
            id=uuid.uuid4().hex, kind=kind, target=target, state="queued", step=0,
            total_steps=total_steps, params=params, result=None, error=None, loss_history=[],
            owner=owner, created_at=now, updated_at=now, started_at=None, finished_at=None,
            heartbeat_at=now, lease_expires_at=None, attempts=0, lost=0, cancel_requested=False,
            progress={}, warnings=[], requester=requester,
        )
        with self.write() as conn:
            if max_active is not None:
                if not self.is_sqlite:
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_REQUESTER_LOCK, sa.func.hashtext(requester or ""))))
                active = conn.execute(
                    sa.select(sa.func.count()).where(_j.requester == requester, _j.state.in_(ACTIVE_STATES))
                ).scalar_one()
                if active >= max_active:
                    raise TooManyActiveJobs(int(active))
            job = _job(conn.execute(sa.insert(jobs).values(values).returning(*jobs.c)).one())
            for name, data in (blobs or {}).items():
                conn.execute(sa.insert(job_blobs).values(job_id=job.id, name=name, data=data, updated_at=now))
            return job

    def get_job(self, job_id: str) -> Job | None:
        with self.read() as conn:
            return _get_job(conn, job_id)

    def active_jobs(self, kind: str, limit: int) -> list[Job]:
        """The newest `limit` queued or running jobs of this kind, newest first."""
        query = sa.select(jobs).where(_j.kind == kind, _j.state.in_(ACTIVE_STATES)).order_by(_j.created_at.desc(), _j.id).limit(limit)
        with self.read() as conn:
            return [_job(row) for row in conn.execute(query)]

    def list_jobs(self, limit: int, *, state: str | None = None, target: str | None = None,
                  before: tuple[datetime, str] | None = None) -> list[Job]:
        """Up to limit jobs, newest first (created_at, then id, descending); `before` is the
        (created_at, id) of the last job of the previous page."""
        query = sa.select(jobs).order_by(_j.created_at.desc(), _j.id.desc()).limit(limit)
        if state is not None:
            query = query.where(_j.state == state)
        if target is not None:
            query = query.where(_j.target == target)
        if before is not None:
            created_at, job_id = before
            at = sa.literal(created_at, UTCDateTime)
            query = query.where(sa.or_(_j.created_at < at, sa.and_(_j.created_at == at, _j.id < job_id)))
        with self.read() as conn:
            return [_job(row) for row in conn.execute(query)]

    def count_jobs(self) -> dict[str, int]:
        """The number of jobs in each state (states without jobs are 0)."""
        with self.read() as conn:
            counts = dict(conn.execute(sa.select(_j.state, sa.func.count()).group_by(_j.state)).all())
        return {state: int(counts.get(state, 0)) for state in JOB_STATES}

    def job_durations(self) -> dict[str, tuple[int, float]]:
        """(count, total seconds from start to end) of the finished jobs that started, by final state."""
        if self.is_sqlite:
            seconds = (sa.func.julianday(_j.finished_at) - sa.func.julianday(_j.started_at)) * 86400.0
        else:
            seconds = sa.func.extract("epoch", _j.finished_at - _j.started_at)
        query = (sa.select(_j.state, sa.func.count(), sa.func.coalesce(sa.func.sum(seconds), 0.0))
                 .where(_j.state.in_(FINAL_STATES), _j.started_at.is_not(None)).group_by(_j.state))
        with self.read() as conn:
            found = {state: (int(count), float(total)) for state, count, total in conn.execute(query)}
        return {state: found.get(state, (0, 0.0)) for state in FINAL_STATES}

    # --- a worker's side ---------------------------------------------------------------------------

    def claim_job(self, worker_id: str, lease_seconds: float) -> tuple[Claim, Job] | None:
        """Take the oldest claimable job: a queued one, or a running one whose lease lapsed (it then
        counts one more lost worker). Jobs that would lose their worker the MAX_LOST-th time end failed
        instead. None when there is nothing to do."""
        now = utcnow()
        at = sa.literal(now, UTCDateTime)
        # a running job without a lease was set running by an older version, whose runner is gone
        lapsed = sa.and_(_j.state == "running", sa.or_(_j.lease_expires_at.is_(None), _j.lease_expires_at < at))
        with self.write() as conn:
            lost_too_often = (
                sa.select(_j.id).where(lapsed, _j.lost >= MAX_LOST - 1).with_for_update(skip_locked=True).scalar_subquery()
            )
            conn.execute(
                sa.update(jobs).where(_j.id.in_(lost_too_often), lapsed).values(
                    state="failed", error=LOST_TOO_OFTEN, lost=_j.lost + 1, owner=None, lease_expires_at=None,
                    finished_at=now, updated_at=now,
                )
            )
            claimable = sa.or_(_j.state == "queued", lapsed)
            oldest = (
                sa.select(_j.id).where(claimable).order_by(_j.created_at, _j.id).limit(1)
                .with_for_update(skip_locked=True).scalar_subquery()
            )
            row = conn.execute(
                sa.update(jobs).where(_j.id == oldest, claimable).values(
                    state="running", owner=worker_id, attempts=_j.attempts + 1,
                    lost=_j.lost + sa.case((_j.state == "running", 1), else_=0),
                    lease_expires_at=now + timedelta(seconds=lease_seconds), heartbeat_at=now, updated_at=now,
                    started_at=sa.func.coalesce(_j.started_at, at),
                ).returning(*jobs.c)
            ).one_or_none()
        if row is None:
            return None
        job = _job(row)
        return Claim(job.id, worker_id, job.attempts), job

    def renew_job(self, claim: Claim, lease_seconds: float, **fields: Any) -> Job | None:
        """Extend the claim's lease, writing fields (step, total_steps, progress, loss_history) with it.
        The job as it is now (cancel_requested tells the worker to stop), or None when the claim is no
        longer valid (the job was claimed again or ended)."""
        unknown = fields.keys() - {"step", "total_steps", "progress", "loss_history"}
        if unknown:
            raise ValueError(f"cannot renew job fields: {', '.join(sorted(unknown))}")
        if "loss_history" in fields:
            fields["loss_history"] = list(fields["loss_history"])[-LOSS_HISTORY_LIMIT:]
        now = utcnow()
        values = {**fields, "lease_expires_at": now + timedelta(seconds=lease_seconds), "heartbeat_at": now, "updated_at": now}
        return self._update_claimed(claim, values)

    def release_job(self, claim: Claim) -> Job | None:
        """Hand the job back to the queue (the worker is stopping); it is not a lost worker."""
        now = utcnow()
        return self._update_claimed(claim, dict(state="queued", owner=None, lease_expires_at=None, updated_at=now))

    def finish_claimed_job(self, claim: Claim, state: str, *, result: dict[str, Any] | None = None,
                           error: dict[str, Any] | None = None, warnings: list[str] | None = None,
                           blobs: dict[str, bytes] | None = None, **fields: Any) -> Job | None:
        """End the claimed job; its checkpoint and input go, `blobs` (trained weights it could not
        store) are kept. None when the claim is no longer valid."""
        if state not in FINAL_STATES:
            raise ValueError(f"a job finishes as one of {', '.join(FINAL_STATES)}, not {state!r}")
        now = utcnow()
        values = dict(fields, state=state, result=result, error=error, warnings=warnings or [], lease_expires_at=None,
                      finished_at=now, updated_at=now)
        with self.write() as conn:
            job = self._update_claimed(claim, values, conn)
            if job is not None:
                conn.execute(sa.delete(job_blobs).where(_b.job_id == claim.job_id))
                for name, data in (blobs or {}).items():
                    conn.execute(sa.insert(job_blobs).values(job_id=claim.job_id, name=name, data=data, updated_at=now))
            return job

    def save_checkpoint(self, claim: Claim, data: bytes, lease_seconds: float) -> bool:
        """Store the job's checkpoint (replacing the last one) while the claim holds; renews the lease."""
        now = utcnow()
        with self.write() as conn:
            if self._update_claimed(claim, {"lease_expires_at": now + timedelta(seconds=lease_seconds), "updated_at": now}, conn) is None:
                return False
            _put_blob(conn, claim.job_id, "checkpoint", data, now)
            return True

    def _update_claimed(self, claim: Claim, values: dict[str, Any], conn: Connection | None = None) -> Job | None:
        statement = (
            sa.update(jobs)
            .where(_j.id == claim.job_id, _j.state == "running", _j.owner == claim.worker_id, _j.attempts == claim.attempt)
            .values(values)
            .returning(*jobs.c)
        )
        if conn is not None:
            row = conn.execute(statement).one_or_none()
        else:
            with self.write() as own:
                row = own.execute(statement).one_or_none()
        return None if row is None else _job(row)

    # --- control -----------------------------------------------------------------------------------

    def cancel_job(self, job_id: str) -> Job:
        """Cancel a queued job at once; ask the worker of a running one to stop (it ends "cancelled"
        when the worker sees the request). Raises NotFound, or JobFinished for a job that has ended."""
        now = utcnow()
        with self.write() as conn:
            row = conn.execute(
                sa.update(jobs).where(_j.id == job_id, _j.state == "queued").values(
                    state="cancelled", cancel_requested=True, error=None, finished_at=now, updated_at=now,
                ).returning(*jobs.c)
            ).one_or_none()
            if row is not None:
                conn.execute(sa.delete(job_blobs).where(_b.job_id == job_id))
                return _job(row)
            row = conn.execute(
                sa.update(jobs).where(_j.id == job_id, _j.state == "running").values(cancel_requested=True, updated_at=now)
                .returning(*jobs.c)
            ).one_or_none()
            if row is not None:
                return _job(row)
            job = _get_job(conn, job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist")
        raise JobFinished(job.state)

    # --- blobs ---------------------------------------------------------------------------------------

    def get_job_blob(self, job_id: str, name: str) -> bytes | None:
        with self.read() as conn:
            return conn.execute(sa.select(_b.data).where(_b.job_id == job_id, _b.name == name)).scalar_one_or_none()

    def delete_expired_blobs(self, name: str, older_than_seconds: float) -> int:
        """Delete blobs of `name` of finished jobs that ended more than older_than_seconds ago."""
        ended = sa.select(_j.id).where(_j.state.in_(FINAL_STATES), _j.finished_at < utcnow() - timedelta(seconds=older_than_seconds))
        with self.write() as conn:
            return conn.execute(sa.delete(job_blobs).where(_b.name == name, _b.job_id.in_(ended))).rowcount

    # --- workers -----------------------------------------------------------------------------------

    def worker_heartbeat(self, worker_id: str, host: str, pid: int, job_id: str | None) -> None:
        """Record that the worker is alive (and what it runs), creating its row the first time."""
        now = utcnow()
        with self.write() as conn:
            updated = conn.execute(sa.update(workers).where(_w.id == worker_id).values(job_id=job_id, heartbeat_at=now)).rowcount
            if not updated:
                conn.execute(sa.insert(workers).values(id=worker_id, host=host, pid=pid, job_id=job_id, started_at=now, heartbeat_at=now))

    def remove_worker(self, worker_id: str) -> None:
        with self.write() as conn:
            conn.execute(sa.delete(workers).where(_w.id == worker_id))

    def live_workers(self, within_seconds: float) -> int:
        """Workers whose last heartbeat is at most within_seconds old."""
        with self.read() as conn:
            since = sa.literal(utcnow() - timedelta(seconds=within_seconds), UTCDateTime)
            return int(conn.execute(sa.select(sa.func.count()).where(_w.heartbeat_at >= since)).scalar_one())

    def forget_dead_workers(self, older_than_seconds: float) -> int:
        with self.write() as conn:
            since = sa.literal(utcnow() - timedelta(seconds=older_than_seconds), UTCDateTime)
            return conn.execute(sa.delete(workers).where(_w.heartbeat_at < since)).rowcount

    # --- plain updates (tests, tools) ------------------------------------------------------------

    def update_job(self, job_id: str, **fields: Any) -> Job:
        """Change fields of an active job, whoever runs it. loss_history keeps its last LOSS_HISTORY_LIMIT points."""
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

    def finish_job(self, job_id: str, state: str, result: dict[str, Any] | None = None, error: dict[str, Any] | None = None) -> Job:
        """End an active job, whoever runs it."""
        if state not in FINAL_STATES:
            raise ValueError(f"a job finishes as one of {', '.join(FINAL_STATES)}, not {state!r}")
        now = utcnow()
        return self._update_active_job(job_id, dict(state=state, result=result, error=error, finished_at=now, updated_at=now))

    def _update_active_job(self, job_id: str, values: dict[str, Any]) -> Job:
        with self.write() as conn:
            row = conn.execute(
                sa.update(jobs).where(_j.id == job_id, _j.state.in_(ACTIVE_STATES)).values(values).returning(*jobs.c)
            ).one_or_none()
            job = _job(row) if row is not None else _get_job(conn, job_id)
        if job is None:
            raise NotFound(f"job {job_id!r} does not exist")
        return job


def _put_blob(conn: Connection, job_id: str, name: str, data: bytes, now: datetime) -> None:
    replaced = conn.execute(sa.update(job_blobs).where(_b.job_id == job_id, _b.name == name).values(data=data, updated_at=now)).rowcount
    if not replaced:
        conn.execute(sa.insert(job_blobs).values(job_id=job_id, name=name, data=data, updated_at=now))


def _get_job(conn: Connection, job_id: str) -> Job | None:
    row = conn.execute(sa.select(jobs).where(_j.id == job_id)).one_or_none()
    return None if row is None else _job(row)


def _job(row: sa.Row) -> Job:
    return Job(**row._mapping)
