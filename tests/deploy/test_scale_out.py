"""Two service instances (separate gunicorns, two workers each) on one PostgreSQL: what replicas see."""
from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
import requests
from sqlalchemy.engine import make_url

from tests.support.postgres import fresh_database
from tests.support.system_packages import package_missing

from .support import ROOT, Server, assert_problem, free_port, neuron, wait_for

DEADLINE_SECONDS = 3


@pytest.fixture(scope="module")
def database(postgres_url):
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="module")
def pair(database, tmp_path_factory):
    logs = tmp_path_factory.mktemp("pair")
    env = {"NEURONHUB_DATABASE_URL": database, "NEURONHUB_WORKERS": "2", "NEURONHUB_REQUEST_TIMEOUT": str(DEADLINE_SECONDS)}
    a = Server(env, logs / "a.log")
    try:
        b = Server(env, logs / "b.log")
    except BaseException:
        a.stop()
        raise
    yield a, b
    for server in (a, b):
        server.stop()


def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def rows_named(database: str, name: str) -> list[tuple]:
    with psycopg.connect(libpq(database)) as conn:
        return conn.execute("SELECT kind, revision, deleted FROM definitions WHERE name = %s", (name,)).fetchall()


def run_together(calls):
    """Run the calls on as many threads, released at the same moment."""
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def test_a_write_through_one_instance_is_what_the_next_read_through_the_other_uses(pair):
    a, b = pair
    with requests.Session() as sa, requests.Session() as sb:
        for revision in range(1, 6):
            net = {"layers": [{"weights": [[float(revision), 0.0]], "activation": "identity"}]}
            headers = {"If-Match": f'"{revision - 1}"'} if revision > 1 else {"If-None-Match": "*"}
            assert sa.put(a.url + "/v1/networks/shared", json=net, headers=headers).status_code in (200, 201)
            for _ in range(4):  # both of B's workers, each with its compiled cache
                body = sb.post(b.url + "/v1/networks/shared/forward", json={"inputs": [1, 0]}).json()
                assert (body["revision"], body["outputs"]) == (revision, [float(revision)])
                got = sb.get(b.url + "/v1/networks/shared")
                assert got.headers["ETag"] == f'"{revision}"'
        assert sa.delete(a.url + "/v1/networks/shared").status_code == 204
        for _ in range(4):
            assert_problem(sb.post(b.url + "/v1/networks/shared/forward", json={"inputs": [1, 0]}), 404)


def test_sixteen_concurrent_creates_of_one_name_have_exactly_one_winner(pair, database):
    a, b = pair

    def create(i: int):
        server = (a, b)[i % 2]
        return requests.put(server.url + "/v1/neurons/contested", json=neuron([float(i)]), headers={"If-None-Match": "*"}, timeout=30)

    responses = run_together([lambda i=i: create(i) for i in range(16)])
    assert Counter(r.status_code for r in responses) == {201: 1, 412: 15}
    for response in responses:
        if response.status_code == 412:
            assert_problem(response, 412, "precondition-failed")
    winner = next(i for i, r in enumerate(responses) if r.status_code == 201)
    assert rows_named(database, "contested") == [("neuron", 1, False)]
    assert requests.get(b.url + "/v1/neurons/contested").json()["weights"] == [float(winner)]


def test_concurrent_if_match_updates_have_one_winner_and_lose_nothing(pair, database):
    a, b = pair
    assert requests.put(a.url + "/v1/neurons/counter", json=neuron([0.0])).status_code == 201

    def update(i: int):
        server = (a, b)[i % 2]
        return requests.put(server.url + "/v1/neurons/counter", json=neuron([100.0 + i]), headers={"If-Match": '"1"'}, timeout=30)

    responses = run_together([lambda i=i: update(i) for i in range(16)])
    assert Counter(r.status_code for r in responses) == {200: 1, 412: 15}
    winner = next(i for i, r in enumerate(responses) if r.status_code == 200)
    current = requests.get(b.url + "/v1/neurons/counter").json()
    assert (current["revision"], current["weights"]) == (2, [100.0 + winner])

    # Read-modify-write increments from 8 clients on both instances, retrying on 412: none is lost.
    clients, increments = 8, 5

    def incrementer(i: int) -> int:
        conflicts = 0
        with requests.Session() as session:
            for step in range(increments):
                server = (a, b)[(i + step) % 2]
                for _ in range(200):
                    got = session.get(server.url + "/v1/neurons/counter")
                    body = got.json()
                    put = session.put(server.url + "/v1/neurons/counter", json=neuron(body["weights"], body["bias"] + 1),
                                      headers={"If-Match": got.headers["ETag"]})
                    if put.status_code == 200:
                        break
                    assert_problem(put, 412, "precondition-failed")
                    conflicts += 1
                else:
                    raise AssertionError("no increment got through in 200 tries")
        return conflicts

    conflicts = run_together([lambda i=i: incrementer(i) for i in range(clients)])
    final = requests.get(a.url + "/v1/neurons/counter").json()
    assert final["bias"] == clients * increments
    assert final["revision"] == 2 + clients * increments
    assert sum(conflicts) > 0  # they really raced


def test_a_database_lock_wait_ends_at_the_request_deadline(pair, database):
    """A row held by someone else: the write waits at most NEURONHUB_REQUEST_TIMEOUT, then 503, not a killed worker."""
    a, _ = pair
    assert requests.put(a.url + "/v1/neurons/locked", json=neuron([1.0])).status_code == 201
    with psycopg.connect(libpq(database)) as holder:
        holder.execute("SELECT * FROM definitions WHERE name = 'locked' FOR UPDATE")
        started = time.monotonic()
        response = requests.put(a.url + "/v1/neurons/locked", json=neuron([2.0]), timeout=30)
        waited = time.monotonic() - started
        holder.rollback()
    body = assert_problem(response, 503, "deadline-exceeded")
    assert response.headers["Retry-After"] == "1" and body["request_id"] == response.headers["X-Request-ID"]
    assert DEADLINE_SECONDS - 0.5 < waited < DEADLINE_SECONDS + 2, waited
    after = requests.put(a.url + "/v1/neurons/locked", json=neuron([3.0]), headers={"If-Match": '"1"'})
    assert after.status_code == 200 and after.json()["revision"] == 2


# --- the compose load balancer's nginx configuration, in front of the two instances ---------------

def nginx_in_front(upstreams: list[str], directory) -> tuple[object, str]:
    """Run deploy/nginx.conf with `api:8000` replaced by a static upstream (no Docker DNS here)."""
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        package_missing("nginx", "nginx-light")
    port = free_port()
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    assert "set $api_upstream http://api:8000;" in site and "listen 8000;" in site and "resolver 127.0.0.11" in site
    site = site.replace("http://api:8000", "http://neuronhub_api").replace("listen 8000;", f"listen 127.0.0.1:{port};")
    servers = "".join(f"server {u};" for u in upstreams)
    temp = "".join(f"{kind}_temp_path {directory}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    (directory / "nginx.conf").write_text(
        f"daemon off; worker_processes 1; user root; pid {directory}/nginx.pid; error_log {directory}/error.log;\n"
        f"events {{}}\nhttp {{ {temp}\nupstream neuronhub_api {{ {servers} }}\n{site}\n}}\n"
    )
    log = open(directory / "access.log", "wb")
    process = subprocess.Popen([nginx, "-p", str(directory), "-c", str(directory / "nginx.conf")], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            requests.get(url + "/nginx-probe", timeout=2)
            return True
        except requests.ConnectionError:
            if process.poll() is not None:
                raise AssertionError((directory / "error.log").read_text()) from None
            return False

    wait_for(up, 10, "nginx")
    return process, url


def test_the_load_balancer_spreads_requests_and_keeps_errors_problem_json(pair, tmp_path):
    a, b = pair
    (tmp_path / "up").mkdir()
    process, url = nginx_in_front([a.url[7:], b.url[7:]], tmp_path / "up")
    try:
        before = {s: len(s.access_records()) for s in (a, b)}
        for i in range(8):
            response = requests.get(url + "/v1/neurons", headers={"X-Request-ID": f"through-lb-{i}"})
            assert response.status_code == 200 and response.headers["X-Request-ID"] == f"through-lb-{i}"
        for server in (a, b):  # round-robin: both instances answered some
            ids = [r["request_id"] for r in server.access_records()[before[server]:]]
            assert any(i.startswith("through-lb-") for i in ids), ids
        made_up = requests.get(url + "/healthz").headers["X-Request-ID"]  # nginx made one; the api logs it
        wait_for(lambda: any(r["request_id"] == made_up for s in (a, b) for r in s.access_records()), 5, "the id in the api log")
        assert_problem(requests.get(url + "/nowhere"), 404)  # the api's problem passes through unchanged
    finally:
        process.terminate()
        process.wait(10)

    (tmp_path / "down").mkdir()
    process, url = nginx_in_front([f"127.0.0.1:{free_port()}"], tmp_path / "down")  # nobody listens there
    try:
        response = requests.get(url + "/v1/neurons", headers={"X-Request-ID": "lb-down"})
        body = assert_problem(response, 503, "upstream-unavailable")
        assert response.headers["Retry-After"] == "1" and body["request_id"] == "lb-down"
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as sock:
            sock.sendall(b"PUT /v1/neurons/x HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40000000\r\n\r\n")
            head = sock.recv(65536).decode()
        assert head.startswith("HTTP/1.1 413") and "Content-Type: application/problem+json" in head, head
    finally:
        process.terminate()
        process.wait(10)
