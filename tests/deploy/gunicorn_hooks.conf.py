"""TEST ONLY: the repository's gunicorn.conf.py plus a hook that holds a write open just before COMMIT.

Production never loads this file; nothing in service/ knows about it. A request carrying the header
X-Test-Pause-Before-Commit: SECONDS has its write transaction, every statement already executed,
write the worker's pid to the file named by NEURONHUB_TEST_PAUSE_MARKER and sleep SECONDS before it
commits. A test can then kill -9 that worker in the middle of the write, or stop the server while
the request is in flight. GET /test-sleep/SECONDS just sleeps, in Python, to outlast the request deadline.
"""
import os
import time
from pathlib import Path

_config = Path.cwd() / "gunicorn.conf.py"
exec(compile(_config.read_text(), str(_config), "exec"))  # every setting and hook of the real file


def post_worker_init(worker):
    import flask
    from sqlalchemy import event

    store = worker.wsgi.extensions["neuronhub"].store

    def pause_before_commit(conn):
        if not flask.has_request_context() or not conn.get_execution_options().get("neuronhub_write"):
            return
        seconds = flask.request.headers.get("X-Test-Pause-Before-Commit")
        if seconds:
            Path(os.environ["NEURONHUB_TEST_PAUSE_MARKER"]).write_text(str(os.getpid()))
            time.sleep(float(seconds))

    event.listen(store.engine, "commit", pause_before_commit)

    def sleep(seconds):
        time.sleep(float(seconds))
        return "woke up"

    worker.wsgi.add_url_rule("/test-sleep/<seconds>", "test_sleep", sleep)
