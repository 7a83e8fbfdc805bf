"""A deadline for every request (NEURONHUB_REQUEST_TIMEOUT), shorter than gunicorn's worker timeout.

gunicorn kills a sync worker that has been busy for NEURONHUB_WORKER_TIMEOUT seconds, and the client
then gets a dropped connection or gunicorn's HTML page. So each request arms a one-shot real-time
timer (signal.setitimer) for NEURONHUB_REQUEST_TIMEOUT seconds; when it fires, the SIGALRM handler
raises DeadlineExceeded in the request's code, and the request is answered 503 problem+json
(`deadline-exceeded`, Retry-After: 1) by the usual error handling. The timer is disarmed as soon as
the view has answered. The handler is installed once, when the app is built or, if something else
owned SIGALRM then, by the first request after it let go (an unarmed alarm is ignored); a request
only sets and clears the timer, two system calls.

Where the exception lands matters. The handler never raises inside SQLAlchemy, the database
drivers, logging or prometheus-client (an interrupted query would leave a pooled connection half
way through its protocol): when the signal finds one of those on the stack, it re-arms itself for
a few milliseconds and tries again when control is back in the service's own code, which cleans up
through its `with` blocks (a write transaction rolls back). Nor does it raise while Flask is already
building an error response. Waits inside the database are bounded separately by the time left:
each PostgreSQL transaction begins with SET LOCAL statement_timeout, each SQLite transaction sets
its busy timeout, so a lock wait ends by the deadline instead of deferring it.

Signals are delivered to the main thread only: the deadline works in gunicorn's sync workers
(NEURONHUB_THREADS=1, the default) and the Flask test client, and is off for requests on other
threads (NEURONHUB_THREADS > 1) and when something else in the process already owns SIGALRM (such
as pytest-timeout's signal method): there the worker timeout is the only limit.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from types import FrameType
from typing import Any

from flask import Flask, Response, request
from sqlalchemy import event

from ..store import Store
from ..store.db import SQLITE_BUSY_TIMEOUT_SECONDS
from .problems import Problem, problem_response

log = logging.getLogger("neuronhub")

RETRY_SECONDS = 0.005
# Never raise while one of these is on the stack: their state could be left half-changed.
_SHIELDED_MODULES = ("sqlalchemy", "psycopg", "sqlite3", "logging", "prometheus_client")
_SHIELDED_FLASK_CODE = frozenset({"handle_user_exception", "handle_exception", "handle_http_exception", "finalize_request"})


class DeadlineExceeded(Exception):
    pass


# A request handed over by the fast lane (service/api/fastlane.py) keeps the deadline it had there:
# its time.monotonic() deadline travels in the WSGI environ under this key.
ENVIRON_KEY = "neuronhub.deadline"


class _State(threading.local):
    deadline: float | None = None  # time.monotonic() by which the request must be answered
    fired = False


_state = _State()


def remaining() -> float | None:
    """Seconds left for the current request, or None when no deadline is armed in this thread."""
    return None if _state.deadline is None else _state.deadline - time.monotonic()


def expired() -> bool:
    left = remaining()
    return left is not None and left <= 0


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    if _state.deadline is None or _state.fired:
        return  # a timer that outlived its request, or one already acted on
    if _shielded(frame):
        signal.setitimer(signal.ITIMER_REAL, RETRY_SECONDS)
        return
    _state.fired = True  # raise once
    raise DeadlineExceeded()


def _shielded(frame: FrameType | None) -> bool:
    while frame is not None:
        module = frame.f_globals.get("__name__", "")
        if module.startswith(_SHIELDED_MODULES):
            return True
        if module == "flask.app" and frame.f_code.co_name in _SHIELDED_FLASK_CODE:
            return True
        frame = frame.f_back
    return False


def install_handler() -> bool:
    """Make _on_alarm the SIGALRM handler of this process, unless something else owns SIGALRM."""
    if threading.current_thread() is not threading.main_thread():
        return False
    current = signal.getsignal(signal.SIGALRM)
    if current is _on_alarm:
        return True
    if current not in (signal.SIG_DFL, signal.SIG_IGN, None) or signal.getitimer(signal.ITIMER_REAL)[0] > 0:
        return False  # someone else's handler or timer
    signal.signal(signal.SIGALRM, _on_alarm)
    return True


def arm(seconds: float) -> bool:
    """Start the deadline for this request; False (and nothing armed) where it cannot work."""
    return arm_until(time.monotonic() + seconds)


def arm_until(when: float) -> bool:
    """arm() for a deadline at time.monotonic() == when; one already past fires at once."""
    if threading.current_thread() is not threading.main_thread():
        return False  # signals reach the main thread only
    if signal.getsignal(signal.SIGALRM) is not _on_alarm and not install_handler():
        return False  # SIGALRM is someone else's now; taken again once they let it go
    _state.deadline = when
    _state.fired = False
    signal.setitimer(signal.ITIMER_REAL, max(when - time.monotonic(), 1e-6))  # 0 would disarm the timer
    return True


def disarm() -> None:
    if _state.deadline is None:
        return
    _state.deadline = None
    _state.fired = False
    signal.setitimer(signal.ITIMER_REAL, 0)


def exceeded(seconds: float) -> Problem:
    """Log a request that ran past NEURONHUB_REQUEST_TIMEOUT and return its 503 problem."""
    log.warning("request exceeded NEURONHUB_REQUEST_TIMEOUT (%s s)", seconds)
    return deadline_problem()


def deadline_problem() -> Problem:
    return Problem(
        503, "deadline-exceeded", "Service Unavailable",
        "the request took longer than the service allows (NEURONHUB_REQUEST_TIMEOUT); try again shortly",
        headers={"Retry-After": "1"},
    )


def _bound_database_waits(store: Store) -> None:
    """Begin every transaction with the request's remaining time as its database wait limit."""
    engine = store.engine  # created lazily; this opens no connection
    postgres = not store.is_sqlite

    def _on_begin(conn: Any) -> None:
        left = remaining()
        if postgres:
            if left is not None:
                conn.exec_driver_sql(f"SET LOCAL statement_timeout = {max(1, int(left * 1000))}")
        else:  # the pooled connection keeps it: set it for every transaction, in or out of a request
            milliseconds = SQLITE_BUSY_TIMEOUT_SECONDS * 1000 if left is None else max(1, int(left * 1000))
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {min(milliseconds, SQLITE_BUSY_TIMEOUT_SECONDS * 1000)}")

    # SQLite: before db.py's listener emits BEGIN, so the wait for the write lock is bounded too.
    event.listen(engine, "begin", _on_begin, insert=True)


def install(app: Flask, seconds: int, threads: int, store: Store) -> None:
    """Install last of all request hooks, so its after_request runs first."""
    if not seconds:
        return
    if threads > 1:
        log.warning("NEURONHUB_REQUEST_TIMEOUT is not enforced with NEURONHUB_THREADS > 1 (signals reach the main thread only)")
    _bound_database_waits(store)
    install_handler()

    @app.errorhandler(DeadlineExceeded)
    def _deadline_exceeded(exc: DeadlineExceeded) -> Response:
        return problem_response(exceeded(seconds))

    @app.before_request
    def _arm() -> None:
        until = request.environ.get(ENVIRON_KEY)
        if until is None:
            arm(seconds)
        else:
            arm_until(until)

    @app.after_request
    def _disarm_after(response: Response) -> Response:
        disarm()
        return response

    @app.teardown_request
    def _disarm_teardown(exc: BaseException | None) -> None:
        disarm()
