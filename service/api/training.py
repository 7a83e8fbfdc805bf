"""Training language networks from text: jobs queued here and run by worker processes (service/worker).

Web processes only enqueue, report and cancel; nothing here trains.
"""
from __future__ import annotations

import base64
import binascii
import time
from datetime import datetime
from typing import Any, Iterator
from urllib.parse import urlencode

import orjson
from flask import Blueprint, Response, g, request, stream_with_context, url_for

from .. import catalog
from ..catalog import timestamp
from ..engine.errors import EngineError
from ..engine.training import TrainingSettings, check_trainable, training_compute
from ..jobs import WEIGHTS_BLOB, enqueue_training, unpack_network, waiting_notice, worker_liveness_seconds
from ..store import Job, JobFinished, NotFound, Record, TooManyActiveJobs
from .context import services
from .evaluation import engine_problem
from .problems import Problem, validation_problem
from .ratelimit import client_of
from .requests import checked_name, expected_revision, json_body, limit_problem
from .responses import json_response
from .schemas import JobListQuerySchema, TrainSchema

bp = Blueprint("training", __name__, url_prefix="/v1")

EVENTS_POLL_SECONDS = 0.25
EVENTS_STREAM_SECONDS = 20.0
EVENTS_KEEPALIVE_SECONDS = 5.0
DEFINITION_FIELDS = ("description", "layers", "dtype", "vocabulary", "embeddings", "context_size", "punctuation")

_TRAIN = TrainSchema()
_LIST_QUERY = JobListQuerySchema()


@bp.post("/networks/<name>/train")
def train_network(name: str) -> Response:
    checked_name(name)
    data = _TRAIN.load_or_problem(json_body())
    texts = [data["text"]] if data["text"] is not None else data["texts"]
    try:
        settings = TrainingSettings.from_dict(data["settings"])
        corpus, n_params = check_trainable(texts, settings)  # empty text, too few words, too many parameters: 422 now, not a failed job later
    except EngineError as exc:
        raise engine_problem(exc) from None
    config, store = services().config, services().store
    estimate = training_compute(corpus, n_params, settings)
    if estimate > config.training_compute_budget:
        raise limit_problem("settings", "NEURONHUB_TRAINING_COMPUTE_BUDGET", config.training_compute_budget, estimate,
                            "compute units (steps x parameters x batch size)")
    requester = client_of(g.get("principal"), request.remote_addr)
    existing = store.get(catalog.NETWORK, name)
    if existing is not None and "language" not in existing.spec:
        raise Problem(409, "not-a-language-network", "Not a language network",
                      f"network {name!r} exists and is not a language network; training would replace it. "
                      "Delete it first or train under another name")
    expected_revision(lambda: None if existing is None else existing.revision)  # If-Match / If-None-Match: 412 now
    # the result may replace exactly what is there now: checked again when the job stores it
    expected = None if existing is None else existing.revision
    try:
        job = enqueue_training(store, name, texts, settings, data["description"], expected_revision=expected, requester=requester,
                               max_active=config.max_active_jobs_per_key)
    except TooManyActiveJobs as exc:
        raise Problem(429, "too-many-jobs", "Too Many Jobs",
                      f"{exc.active} training jobs of this client are queued or running; at most {config.max_active_jobs_per_key} "
                      "(NEURONHUB_MAX_ACTIVE_JOBS_PER_KEY). Wait for one to end, or cancel one",
                      headers={"Retry-After": "10"}, limit="NEURONHUB_MAX_ACTIVE_JOBS_PER_KEY",
                      maximum=config.max_active_jobs_per_key, received=exc.active + 1) from None
    location = url_for("training.get_job", job_id=job.id)
    return json_response(job_resource(job, live_workers()), status=202, headers={"Location": location})


@bp.get("/jobs")
def list_jobs() -> Response:
    config = services().config
    query = _LIST_QUERY.load_or_problem(request.args.to_dict())
    if query["limit"] > config.max_page_size:
        raise limit_problem("limit", "NEURONHUB_MAX_PAGE_SIZE", config.max_page_size, query["limit"], "items per page")
    before = _decode_cursor(query["cursor"]) if query["cursor"] else None
    rows = services().store.list_jobs(query["limit"] + 1, state=query["state"], target=query["network"], before=before)
    page, more = rows[: query["limit"]], len(rows) > query["limit"]
    live = live_workers()
    body: dict[str, Any] = {"items": [job_resource(job, live) for job in page], "next_cursor": None}
    headers = {}
    if more:
        body["next_cursor"] = _encode_cursor(page[-1])
        args = {k: v for k, v in (("state", query["state"]), ("network", query["network"])) if v is not None}
        link = url_for("training.list_jobs") + "?" + urlencode({**args, "limit": query["limit"], "cursor": body["next_cursor"]})
        headers["Link"] = f'<{link}>; rel="next"'
    return json_response(body, headers=headers)


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    job = services().store.get_job(job_id)
    if job is None:
        raise _no_job(job_id)
    return json_response(job_resource(job, live_workers()))


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str) -> Response:
    """The job as server-sent events: an `update` whenever it changed, `end` when it ended. A stream
    lasts at most EVENTS_STREAM_SECONDS (a sync web worker is held while it runs); EventSource and
    the SDK then reconnect."""
    store = services().store
    job = store.get_job(job_id)
    if job is None:
        raise _no_job(job_id)
    lasting = min(EVENTS_STREAM_SECONDS, services().config.worker_timeout / 2)

    def stream() -> Iterator[str]:
        current: Job | None = job
        retry = f"retry: {int(EVENTS_POLL_SECONDS * 1000)}\n\n"  # dispatches no event; also the keep-alive
        yield retry
        seen, until = None, time.monotonic() + lasting
        said = time.monotonic()
        while current is not None:
            if current.updated_at != seen or not current.active:
                seen, said = current.updated_at, time.monotonic()
                event = "update" if current.active else "end"
                yield f"event: {event}\ndata: {orjson.dumps(job_resource(current, live_workers())).decode()}\n\n"
                if not current.active:
                    return
            elif time.monotonic() - said > EVENTS_KEEPALIVE_SECONDS:  # so clients and proxies see the stream alive
                said = time.monotonic()
                yield retry
            if time.monotonic() > until:
                return
            time.sleep(EVENTS_POLL_SECONDS)
            current = store.get_job(job_id)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}  # no proxy buffering: events as they happen
    return Response(stream_with_context(stream()), content_type="text/event-stream; charset=utf-8", headers=headers)


@bp.get("/jobs/<job_id>/network")
def job_network(job_id: str) -> Response:
    """The network a job trained but could not store under its name (it changed meanwhile), kept for a
    day, as a definition putNetwork takes."""
    store = services().store
    job = store.get_job(job_id)
    if job is None:
        raise _no_job(job_id)
    blob = store.get_job_blob(job_id, WEIGHTS_BLOB)
    if blob is None:
        raise Problem(404, "not-found", "Not Found",
                      f"job {job_id!r} keeps no trained network: only a job whose network changed while it trained keeps one, for a day")
    spec, arrays = unpack_network(blob)
    when = job.finished_at or job.updated_at
    body = catalog.network_resource(Record(catalog.NETWORK, job.target, 1, spec, arrays, when, when))
    return json_response({key: body[key] for key in DEFINITION_FIELDS if key in body})  # a body putNetwork takes


@bp.post("/jobs/<job_id>/cancel")
def cancel_job(job_id: str) -> Response:
    try:
        job = services().store.cancel_job(job_id)
    except NotFound:
        raise _no_job(job_id) from None
    except JobFinished as exc:
        raise Problem(409, "job-finished", "Job finished", f"the job has already ended ({exc.state}); only a queued or running job can be cancelled") from None
    return json_response(job_resource(job, live_workers()), status=202 if job.state == "running" else 200)


def job_resource(job: Job, live_workers: int) -> dict[str, Any]:
    progress = job.progress
    return {
        "id": job.id,
        "kind": job.kind,
        "network": job.target,
        "state": job.state,
        "progress": {
            "step": job.step,
            "total_steps": job.total_steps,
            "loss": progress.get("loss"),
            "tokens_per_second": progress.get("tokens_per_second"),
            "eta_seconds": progress.get("eta_seconds"),
            "validation_loss": progress.get("validation_loss"),
        },
        "loss": job.loss_history[-1][1] if job.loss_history else None,
        "loss_history": job.loss_history,
        "settings": job.params.get("settings"),
        "result": job.result,
        "error": job.error,
        "warnings": job.warnings,
        "attempts": job.attempts,
        "cancel_requested": job.cancel_requested,
        "notice": waiting_notice(job, live_workers),
        "created_at": timestamp(job.created_at),
        "started_at": timestamp(job.started_at),
        "finished_at": timestamp(job.finished_at),
    }


def live_workers() -> int:
    """Training workers whose heartbeat is recent, on any machine."""
    return services().store.live_workers(worker_liveness_seconds(services().config.job_lease_seconds))


def _no_job(job_id: str) -> Problem:
    return Problem(404, "not-found", "Not Found", f"no job with id {job_id!r}")


def _encode_cursor(job: Job) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        text = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_", validate=True).decode("ascii")
        created_at, job_id = text.split("|")
        when = datetime.fromisoformat(created_at)
        if when.tzinfo is None or len(job_id) != 32:
            raise ValueError(cursor)
        return when, job_id
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise validation_problem({"cursor": [f"expected a cursor from a previous page's next_cursor, got {cursor!r}"]}) from None
