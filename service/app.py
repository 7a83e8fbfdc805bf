"""The application factory."""
from __future__ import annotations

import logging

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import explorer, openai_compat
from .api import (auth, cors, deadline, definitions, demo, diagram, evaluation, fastlane, health, insight, language, monitoring, onnx_files, ratelimit,
                  spec, training)
from .api.context import Services
from .api.problems import Problem, problem_response, register_error_handlers
from .api.request_ids import request_id
from .catalog import CompiledCache
from .config import Config
from .oip import routes as oip
from .store import Store, StoreUnavailable

log = logging.getLogger("neuronhub")


def create_app(config: Config | None = None) -> Flask:
    config = config or Config.from_env()
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    store = Store(config.database_url, connect_retry_seconds=config.connect_retry_seconds,
                  postgres_change_notify=config.postgres_change_notify)
    app.extensions["neuronhub"] = Services(config, store, CompiledCache(store, config.cache_size))

    register_error_handlers(app)

    @app.errorhandler(StoreUnavailable)
    def _store_unavailable(exc: StoreUnavailable) -> Response:
        if deadline.expired():  # the database wait was cut short by the request deadline
            return problem_response(deadline.deadline_problem())
        log.warning("database unavailable: %s", exc)
        return problem_response(
            Problem(503, "database-unavailable", "Service Unavailable", "the database does not answer; try again shortly", headers={"Retry-After": "1"})
        )

    @app.before_request
    def _request_id() -> None:
        g.request_id = request_id(request.headers.get("X-Request-ID"))

    @app.after_request
    def _echo_request_id(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    monitoring.install(app)  # first: counts and times the early answers of the hooks below too
    cors.install(app, config)
    auth.install(app, config)
    ratelimit.install(app, config)

    app.register_blueprint(health.bp)
    app.register_blueprint(definitions.bp)
    app.register_blueprint(evaluation.bp)
    app.register_blueprint(language.bp)
    app.register_blueprint(insight.bp)
    app.register_blueprint(training.bp)
    app.register_blueprint(diagram.bp)
    app.register_blueprint(explorer.bp)
    app.register_blueprint(onnx_files.bp)
    app.register_blueprint(spec.bp)
    openai_compat.install(app)
    oip.install(app)
    deadline.install(app, config.request_timeout, config.threads, store)  # last: disarms first
    fastlane.install(app)  # after every other hook
    if config.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies)  # type: ignore[method-assign]

    try:
        store.ensure_schema()
        if config.seed_demo:
            demo.seed(store, english=config.seed_demo_english)
    except StoreUnavailable as exc:
        log.warning("database not reachable at start-up (%s); /readyz says 503 until it is", exc)
    return app
