"""Training language networks from text, as jobs that any worker or replica can report on."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, url_for

from ..engine.errors import EngineError
from ..engine.training import TrainingSettings, check_trainable
from ..catalog import timestamp
from ..jobs import fail_abandoned_jobs, may_be_abandoned
from ..store import Job
from .context import services
from .evaluation import engine_problem
from .problems import Problem
from .requests import checked_name, json_body
from .responses import json_response
from .schemas import TrainSchema

bp = Blueprint("training", __name__, url_prefix="/v1")

_TRAIN = TrainSchema()


@bp.post("/networks/<name>/train")
def train_network(name: str) -> Response:
    checked_name(name)
    data = _TRAIN.load_or_problem(json_body())
    texts = [data["text"]] if data["text"] is not None else data["texts"]
    try:
        settings = TrainingSettings.from_dict(data["settings"])
        prepared = check_trainable(texts, settings)  # empty text, too few words, too many parameters: 422 now, not a failed job later
    except EngineError as exc:
        raise engine_problem(exc) from None
    job = services().runner.submit(name, texts, settings, data["description"], prepared)
    location = url_for("training.get_job", job_id=job.id)
    return json_response(job_resource(job), status=202, headers={"Location": location})


@bp.get("/jobs/<job_id>")
def get_job(job_id: str) -> Response:
    store = services().store
    job = store.get_job(job_id)
    if job is not None and may_be_abandoned(job) and job.id in fail_abandoned_jobs(store):
        job = store.get_job(job_id)
    if job is None:
        raise Problem(404, "not-found", "Not Found", f"no job with id {job_id!r}")
    return json_response(job_resource(job))


def job_resource(job: Job) -> dict[str, Any]:
    latest_loss = job.loss_history[-1][1] if job.loss_history else None
    return {
        "id": job.id,
        "kind": job.kind,
        "network": job.target,
        "state": job.state,
        "progress": {"step": job.step, "total_steps": job.total_steps},
        "loss": latest_loss,
        "loss_history": job.loss_history,
        "settings": job.params.get("settings"),
        "result": job.result,
        "error": job.error,
        "created_at": timestamp(job.created_at),
        "started_at": timestamp(job.started_at),
        "finished_at": timestamp(job.finished_at),
    }
