"""Faults a production service lives through: database restarts and outages, killed workers, shutdowns."""
from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from service.store import Store
from tests.support.postgres import fresh_database

from .support import HOOKS_CONFIG, PAUSE_HEADER, assert_problem, neuron, wait_for

XOR = {"layers": [
    {"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
    {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"},
]}


@pytest.fixture
def own_pg_url(own_postgres):
    with fresh_database(own_postgres.url()) as url:
        yield url


def test_a_postgres_restart_costs_at_most_the_requests_in_flight(own_postgres, own_pg_url, serve):
    server = serve({"NEURONHUB_DATABASE_URL": own_pg_url, "NEURONHUB_WORKERS": "2"})
    assert requests.put(server.url + "/v1/networks/xor", json=XOR).status_code == 201
    outcomes: list[tuple[float, str, int | str]] = []  # (time, what, status or error)
    stop = threading.Event()

    def client(i: int) -> None:
        with requests.Session() as session:
            n = 0
            while not stop.is_set() and n < 2000:
                n += 1
                what = ("forward", "put", "get")[n % 3]
                try:
                    if what == "forward":
                        r = session.post(server.url + "/v1/networks/xor/forward", json={"inputs": [1, 0]}, timeout=30)
                    elif what == "put":
                        r = session.put(server.url + f"/v1/neurons/n{i}", json=neuron([float(n)]), timeout=30)
                    else:
                        r = session.get(server.url + "/v1/networks/xor", timeout=30)
                except requests.RequestException as exc:
                    outcomes.append((time.monotonic(), what, type(exc).__name__))
                    continue
                if r.status_code >= 500:
                    assert_problem(r, 503, "database-unavailable")
                    assert r.headers["Retry-After"] == "1"
                outcomes.append((time.monotonic(), what, r.status_code))
                time.sleep(0.005)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    try:
        time.sleep(1.0)
        restart_began = time.monotonic()
        own_postgres.restart("fast")
        restart_ended = time.monotonic()
        time.sleep(2.0)
    finally:
        stop.set()
        for t in threads:
            t.join(60)

    failed = [o for o in outcomes if o[2] not in (200, 201)]
    after = [o for o in outcomes if o[0] > restart_ended + 1.0]
    summary = Counter(o[2] for o in outcomes)
    print(f"\nPostgreSQL restart took {restart_ended - restart_began:.2f} s; outcomes {dict(summary)}; failed {len(failed)}")
    assert all(isinstance(o[2], int) for o in outcomes), failed  # no reset connections, no gunicorn errors
    assert len(after) > 20 and all(o[2] in (200, 201) for o in after), [o for o in after if o[2] not in (200, 201)]
    # Only the requests in flight when the server went down failed (one per client at most): the ones
    # that came while it was down waited for it (NEURONHUB_DATABASE_CONNECT_RETRY) and got through.
    assert all(restart_began - 0.2 <= o[0] <= restart_ended + 1.0 for o in failed), failed
    assert len(failed) <= 3, failed


def test_readyz_is_503_until_the_database_answers_and_while_it_does_not(own_postgres, serve, tmp_path):
    with fresh_database(own_postgres.url()) as url:
        own_postgres.stop()
        try:
            server = serve({"NEURONHUB_DATABASE_URL": url, "NEURONHUB_WORKERS": "1", "NEURONHUB_DATABASE_CONNECT_RETRY": "1"},
                           wait="/healthz")
            assert_not_ready(requests.get(server.url + "/readyz"))
            assert_problem(requests.get(server.url + "/v1/neurons"), 503, "database-unavailable")
        finally:
            own_postgres.start()
        server.wait_until("/readyz", 200, timeout=15)  # the app was never restarted: it made the schema now
        assert requests.put(server.url + "/v1/neurons/after", json=neuron([1.0])).status_code == 201

        own_postgres.stop()
        try:
            assert_not_ready(requests.get(server.url + "/readyz"))
            assert requests.get(server.url + "/healthz").status_code == 200  # alive, just not ready
            assert_oip_not_ready(server)
        finally:
            own_postgres.start()
        server.wait_until("/readyz", 200, timeout=15)
        assert requests.get(server.url + "/v1/neurons/after").status_code == 200
        assert requests.get(server.url + "/v2/health/ready").json() == {"ready": True}


def assert_oip_not_ready(server) -> None:
    """The Open Inference Protocol's readiness says the same as /readyz, in its own envelope, to tritonclient too."""
    import tritonclient.http as httpclient

    response = requests.get(server.url + "/v2/health/ready")
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.json() == {"error": "not ready: the database does not answer"}
    client = httpclient.InferenceServerClient(server.url.removeprefix("http://"))
    try:
        assert client.is_server_live() and not client.is_server_ready()
    finally:
        client.close()


def assert_not_ready(response: requests.Response) -> None:
    body = assert_problem(response, 503)
    assert body["type"].rsplit(":", 1)[1] in ("not-ready", "database-unavailable")
    assert response.headers["Retry-After"] == "1"


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'neuronhub.db'}"
    else:
        with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield url


def test_kill_9_in_the_middle_of_a_write_leaves_the_old_definition_and_a_new_worker(any_db_url, serve, tmp_path):
    marker = tmp_path / "paused-pid"
    server = serve({"NEURONHUB_DATABASE_URL": any_db_url, "NEURONHUB_WORKERS": "2", "NEURONHUB_TEST_PAUSE_MARKER": str(marker)},
                   config=HOOKS_CONFIG)
    old = {"layers": [{"weights": [[1.0] * 200] * 50, "biases": [0.5] * 50, "activation": "relu"}]}
    new = {"layers": [{"weights": [[2.0] * 200] * 50, "biases": [-0.5] * 50, "activation": "tanh"}]}
    assert requests.put(server.url + "/v1/networks/big", json=old).status_code == 201
    workers = server.wait_for_workers(2)

    def doomed_write():
        try:
            return requests.put(server.url + "/v1/networks/big", json=new, headers={"If-Match": '"1"', PAUSE_HEADER: "30"}, timeout=60)
        except requests.ConnectionError as exc:
            return exc

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(doomed_write)
        pid = int(wait_for(lambda: marker.exists() and marker.read_text(), 20, "the write to pause before COMMIT"))
        assert pid in workers
        os.kill(pid, signal.SIGKILL)
        outcome = pending.result(30)
    assert isinstance(outcome, requests.ConnectionError), outcome  # the client saw the connection drop

    replaced = server.wait_for_workers(2, exclude={pid})
    assert pid not in replaced
    for _ in range(4):  # whichever worker answers: the old definition, whole
        got = requests.get(server.url + "/v1/networks/big")
        body = got.json()
        assert got.headers["ETag"] == '"1"' and body["layers"][0]["activation"] == "relu"
        assert body["layers"][0]["weights"] == old["layers"][0]["weights"] and body["layers"][0]["biases"] == [0.5] * 50
    store = Store(any_db_url)
    try:
        record = store.get("network", "big")
        assert record.revision == 1 and record.arrays[0].tolist() == old["layers"][0]["weights"]
    finally:
        store.dispose()
    # No lock was left behind: the same write now goes through at once.
    started = time.monotonic()
    retry = requests.put(server.url + "/v1/networks/big", json=new, headers={"If-Match": '"1"'}, timeout=30)
    assert retry.status_code == 200 and retry.json()["revision"] == 2 and time.monotonic() - started < 5
    assert "Traceback" not in server.log()


def test_sigterm_lets_the_request_in_flight_finish(sqlite_url, serve, tmp_path):
    marker = tmp_path / "paused-pid"
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "2", "NEURONHUB_TEST_PAUSE_MARKER": str(marker)},
                   config=HOOKS_CONFIG)
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(requests.put, server.url + "/v1/neurons/last", json=neuron([1.0]), headers={PAUSE_HEADER: "1.5"}, timeout=30)
        wait_for(marker.exists, 20, "the write to be in flight")
        server.send(signal.SIGTERM)  # what `docker stop` sends
        response = pending.result(30)
    assert response.status_code == 201
    assert server.stop() == 0
    assert "Handling signal: term" in server.log() or "Handling signal: TERM" in server.log()
    store = Store(sqlite_url)
    try:
        assert store.get("neuron", "last").revision == 1
    finally:
        store.dispose()


def test_concurrent_writes_on_sqlite_with_several_workers_never_find_the_database_locked(sqlite_url, serve):
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "4"})
    writes = 96

    def write(i: int) -> int:
        with requests.Session() as session:
            name = "shared" if i % 2 else f"own-{i}"
            return session.put(server.url + f"/v1/neurons/{name}", json=neuron([float(i)] * 64), timeout=60).status_code

    with ThreadPoolExecutor(16) as pool:
        statuses = Counter(pool.map(write, range(writes)))
    assert statuses == {201: writes // 2 + 1, 200: writes // 2 - 1}, statuses
    assert requests.get(server.url + "/v1/neurons/shared").json()["revision"] == writes // 2
    assert "database is locked" not in server.log()
    with sqlite3.connect(sqlite_url.removeprefix("sqlite:///")) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT count(*) FROM definitions").fetchone() == (writes // 2 + 1,)


def test_a_sqlite_lock_wait_ends_at_the_request_deadline(sqlite_url, serve):
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "1", "NEURONHUB_REQUEST_TIMEOUT": "2"})
    assert requests.put(server.url + "/v1/neurons/held", json=neuron([1.0])).status_code == 201
    holder = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # someone else holds the write lock
        started = time.monotonic()
        response = requests.put(server.url + "/v1/neurons/held", json=neuron([2.0]), timeout=30)
        waited = time.monotonic() - started
        assert requests.get(server.url + "/v1/neurons/held").status_code == 200  # readers are not blocked
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert_problem(response, 503, "deadline-exceeded")
    assert 1.5 < waited < 4, waited
    assert requests.put(server.url + "/v1/neurons/held", json=neuron([3.0])).status_code == 200


def test_a_request_past_its_deadline_gets_503_from_its_own_worker(sqlite_url, serve, tmp_path):
    """The SIGALRM deadline in a real sync worker: a 503 problem, not a worker killed by gunicorn's timeout."""
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "1", "NEURONHUB_REQUEST_TIMEOUT": "1",
                    "NEURONHUB_WORKER_TIMEOUT": "10", "NEURONHUB_TEST_PAUSE_MARKER": str(tmp_path / "unused")}, config=HOOKS_CONFIG)
    (worker,) = server.wait_for_workers(1)
    assert requests.get(server.url + "/test-sleep/0.1").text == "woke up"
    started = time.monotonic()
    response = requests.get(server.url + "/test-sleep/8", timeout=30)
    assert_problem(response, 503, "deadline-exceeded")
    assert response.headers["Retry-After"] == "1" and 0.9 < time.monotonic() - started < 3
    time.sleep(1.5)  # nothing left armed fires later
    assert requests.get(server.url + "/healthz").status_code == 200
    assert server.worker_pids() == {worker}  # the same worker answered: none was killed
    assert "WORKER TIMEOUT" not in server.log()


def test_a_refused_connection_is_retried_once_per_outage():
    from .support import free_port

    store = Store(f"postgresql://nobody@127.0.0.1:{free_port()}/none", connect_retry_seconds=0.6)
    try:
        started = time.monotonic()
        assert store.ping() is False
        first = time.monotonic() - started
        started = time.monotonic()
        assert store.ping() is False
        second = time.monotonic() - started
    finally:
        store.dispose()
    assert 0.5 < first < 3 and second < 0.3, (first, second)  # waited once, then answers fast until it reconnects


def test_switching_a_new_sqlite_file_to_wal_waits_out_a_busy_answer():
    """Workers opening a new file together race to switch it to WAL, and SQLite may answer "database is
    locked" at once, without its busy handler (seen here when 4 gunicorn workers started on a new file
    under load). The store retries: here, a cursor that is refused twice."""
    from service.store import db

    class Cursor:
        def __init__(self):
            self.mode, self.refusals = "delete", 2

        def execute(self, statement):
            if statement == "PRAGMA journal_mode = WAL":
                if self.refusals:
                    self.refusals -= 1
                    raise sqlite3.OperationalError("database is locked")
                self.mode = "wal"
            return self

        def fetchone(self):
            return (self.mode,)

    cursor = Cursor()
    db._switch_to_wal(cursor)
    assert (cursor.mode, cursor.refusals) == ("wal", 0)

    class Broken(Cursor):
        def execute(self, statement):
            raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk I/O"):  # other errors are not retried
        db._switch_to_wal(Broken())
