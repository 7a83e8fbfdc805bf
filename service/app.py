"""The application factory."""
from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, Response, g, request

from .api import definitions, evaluation, health
from .api.context import Services
from .api.problems import Problem, problem_response, register_error_handlers
from .catalog import CompiledCache
from .config import Config
from .store import Store, StoreUnavailable

log = logging.getLogger("neuronhub")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    store = Store(config.database_url)
    app.extensions["neuronhub"] = Services(config, store, CompiledCache(store, config.cache_size))

    register_error_handlers(app)

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> Response:
        log.warning("database unavailable: %s", exc)
        return problem_response(
            Problem(503, "database-unavailable", "Service Unavailable", "the database does not answer; try again shortly", headers={"Retry-After": "1"})
        )

    @app.before_request
    def _request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.fullmatch(given) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    app.register_blueprint(health.bp)
    app.register_blueprint(definitions.bp)
    app.register_blueprint(evaluation.bp)

    try:
        store.ensure_schema()
    except StoreUnavailable as exc:
        log.warning("database not reachable at start-up (%s); /readyz says 503 until it is", exc)
    return app
