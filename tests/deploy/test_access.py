"""API keys, CORS, rate limits and the request deadline, in process (Flask's test client)."""
from __future__ import annotations

import hashlib
import logging
import os
import time

import pytest

from service import create_app
from service.api import deadline
from service.api.ratelimit import TokenBuckets
from service.config import Config

ADMIN, READER = "admin-key-0123456789abcdef", "read-key-0123456789abcdef"
NEURON = {"weights": [1.0, 2.0], "activation": "relu"}
ORIGIN = "https://app.example.com"


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def make(**settings):
        app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'access.db'}", seed_demo=False, **settings))
        apps.append(app)
        return app.test_client()

    yield make
    for app in apps:
        app.extensions["neuronhub"].store.dispose()


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def assert_problem(response, status: int, slug: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["type"] == "urn:neuronhub:problem:" + slug and body["status"] == status
    return body


# --- API keys ---------------------------------------------------------------------------------

def test_with_keys_writes_need_an_admin_key(make_app):
    client = make_app(admin_keys=ADMIN, read_keys=READER)
    missing = client.put("/v1/neurons/n", json=NEURON)
    assert_problem(missing, 401, "unauthorized")
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="neuronhub"'
    wrong = client.put("/v1/neurons/n", json=NEURON, headers=bearer("not-a-key"))
    assert_problem(wrong, 401, "unauthorized")
    assert wrong.headers["WWW-Authenticate"] == 'Bearer realm="neuronhub", error="invalid_token"'
    reader = client.put("/v1/neurons/n", json=NEURON, headers=bearer(READER))
    assert_problem(reader, 403, "forbidden")
    assert 'error="insufficient_scope"' in reader.headers["WWW-Authenticate"]
    assert_problem(client.delete("/v1/neurons/n", headers=bearer(READER)), 403, "forbidden")
    assert client.put("/v1/neurons/n", json=NEURON, headers=bearer(ADMIN)).status_code == 201
    assert client.put("/v1/neurons/m", json=NEURON, headers={"X-API-Key": ADMIN}).status_code == 201
    assert client.put("/v1/neurons/m", json=NEURON, headers={"Authorization": f"bearer   {ADMIN}  "}).status_code == 200
    # Reads and evaluations stay open unless NEURONHUB_REQUIRE_READ_KEY is on.
    assert client.get("/v1/neurons/n").status_code == 200
    assert client.post("/v1/neurons/n/evaluate", json={"inputs": [1, 1]}).status_code == 200
    # ... but a key that is sent must be valid, and a malformed header is no key.
    assert_problem(client.get("/v1/neurons/n", headers=bearer("wrong")), 401, "unauthorized")
    assert_problem(client.get("/v1/neurons/n", headers={"Authorization": f"Basic {ADMIN}"}), 401, "unauthorized")
    assert_problem(client.get("/v1/neurons/n", headers={"Authorization": "Bearer"}), 401, "unauthorized")


def test_require_read_key_protects_reads_and_evaluations_but_not_probes(make_app):
    client = make_app(admin_keys=ADMIN, read_keys=READER, require_read_key=True)
    assert client.put("/v1/neurons/n", json=NEURON, headers=bearer(ADMIN)).status_code == 201
    for method, path, body in [("GET", "/v1/neurons", None), ("GET", "/v1/neurons/n", None), ("HEAD", "/v1/neurons/n", None),
                               ("POST", "/v1/neurons/n/evaluate", {"inputs": [1, 1]})]:
        response = client.open(path, method=method, json=body)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer"), (method, path)
        assert client.open(path, method=method, json=body, headers=bearer(READER)).status_code == 200, (method, path)
        assert client.open(path, method=method, json=body, headers={"X-API-Key": ADMIN}).status_code == 200, (method, path)
    for path in ("/healthz", "/readyz", "/metrics", "/openapi.yaml", "/openapi.json"):
        assert client.get(path).status_code == 200, path
    assert client.get("/nowhere").status_code == 404  # unknown paths: 404 as usual, not 401


def test_keys_file_rotates_without_restart_and_may_hold_only_hashes(make_app, tmp_path):
    keys = tmp_path / "keys"
    hashed = "hashed-admin-key-0123456789"
    keys.write_text(f"# rotated by ops\nadmin first-admin-key-0123456789\nread  first-read-key-0123456789   # reporting\n"
                    f"admin sha256:{hashlib.sha256(hashed.encode()).hexdigest()}\n")
    client = make_app(keys_file=str(keys))
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("first-admin-key-0123456789")).status_code == 201
    assert client.put("/v1/neurons/b", json=NEURON, headers=bearer(hashed)).status_code == 201
    assert client.put("/v1/neurons/c", json=NEURON, headers=bearer("first-read-key-0123456789")).status_code == 403

    replacement = tmp_path / "keys.new"
    replacement.write_text("admin second-admin-key-0123456789\n")
    os.replace(replacement, keys)  # how a secret is rotated atomically
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("first-admin-key-0123456789")).status_code == 401
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("second-admin-key-0123456789")).status_code == 200

    keys.unlink()  # a broken rotation keeps the keys read last
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("second-admin-key-0123456789")).status_code == 200
    keys.write_text("admin oops no-second-field-allowed\n")
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("second-admin-key-0123456789")).status_code == 200
    keys.write_text("read third-key-0123456789\n")
    assert client.put("/v1/neurons/a", json=NEURON, headers=bearer("second-admin-key-0123456789")).status_code == 401


def test_bad_key_configuration_stops_the_start(make_app, tmp_path):
    with pytest.raises(ValueError, match="KEYS_FILE"):
        make_app(keys_file=str(tmp_path / "missing"))
    (tmp_path / "bad").write_text("owner some-key\n")
    with pytest.raises(ValueError, match="line 1"):
        make_app(keys_file=str(tmp_path / "bad"))
    with pytest.raises(ValueError, match="REQUIRE_READ_KEY"):
        make_app(require_read_key=True)


def test_an_open_service_says_so_at_start_and_keys_never_reach_the_log(make_app, caplog):
    with caplog.at_level(logging.INFO, logger="neuronhub"):
        make_app()
    assert "the service is OPEN" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        client = make_app(admin_keys=ADMIN, read_keys=READER)
        client.put("/v1/neurons/n", json=NEURON, headers=bearer(READER))
        client.put("/v1/neurons/n", json=NEURON, headers=bearer(ADMIN + "x"))
    assert "the service is OPEN" not in caplog.text
    assert ADMIN not in caplog.text and READER not in caplog.text
    assert ADMIN not in repr(Config(admin_keys=ADMIN))


# --- CORS -------------------------------------------------------------------------------------

def test_cors_is_off_by_default(make_app):
    client = make_app()
    response = client.get("/v1/neurons", headers={"Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers and "Origin" not in response.headers.get("Vary", "")


def test_cors_allows_exactly_the_listed_origins(make_app):
    client = make_app(cors_origins=f"{ORIGIN}, http://localhost:3000", admin_keys=ADMIN, require_read_key=True, cors_max_age=120)
    preflight = client.options("/v1/neurons/n", headers={
        "Origin": ORIGIN, "Access-Control-Request-Method": "PUT", "Access-Control-Request-Headers": "authorization, content-type, if-match"})
    assert preflight.status_code == 204  # no key needed for a preflight
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(", ")) >= {"GET", "PUT", "DELETE"}
    allowed_headers = preflight.headers["Access-Control-Allow-Headers"].lower()
    assert all(h in allowed_headers for h in ("authorization", "content-type", "if-match", "if-none-match", "x-api-key", "x-request-id"))
    assert preflight.headers["Access-Control-Max-Age"] == "120"
    assert "Origin" in preflight.headers["Vary"]

    actual = client.get("/v1/neurons", headers={"Origin": ORIGIN, **bearer(ADMIN)})
    assert actual.status_code == 200 and actual.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = actual.headers["Access-Control-Expose-Headers"]
    assert all(h in exposed for h in ("ETag", "Location", "X-Request-ID", "Retry-After", "WWW-Authenticate"))
    assert "Origin" in actual.headers["Vary"]
    # Errors carry the CORS headers too, so a browser script can read the problem.
    denied = client.get("/v1/neurons", headers={"Origin": ORIGIN})
    assert denied.status_code == 401 and denied.headers["Access-Control-Allow-Origin"] == ORIGIN

    for origin in ("https://evil.example.com", "https://app.example.com.evil.example", "http://app.example.com", "null"):
        other = client.get("/v1/neurons", headers={"Origin": origin, **bearer(ADMIN)})
        assert "Access-Control-Allow-Origin" not in other.headers and "Origin" in other.headers["Vary"]
        refused = client.options("/v1/neurons", headers={"Origin": origin, "Access-Control-Request-Method": "GET"})
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_origins_must_be_exact(make_app):
    for bad in ("*", "https://app.example.com/", "app.example.com", "https://app.example.com/path"):
        with pytest.raises(ValueError, match="CORS_ORIGINS"):
            make_app(cors_origins=bad)


# --- rate limits ------------------------------------------------------------------------------

def test_token_bucket_refills_at_the_rate():
    buckets = TokenBuckets(3, 60)
    assert [buckets.take("a", now=100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a", now=100.0) == pytest.approx(20.0)
    assert buckets.take("b", now=100.0) == 0.0  # every client has its own bucket
    assert buckets.take("a", now=120.0) == 0.0  # one token back after 60 s / 3
    assert buckets.take("a", now=121.0) == pytest.approx(19.0)
    small = TokenBuckets(1, 1, max_clients=2)
    for client in ("x", "y", "z"):
        small.take(client, now=0.0)
    assert len(small._buckets) == 2


def test_rate_limit_answers_429_with_retry_after_per_key_and_address(make_app):
    client = make_app(rate_limit="3/minute", admin_keys=ADMIN, read_keys=READER)
    assert [client.get("/v1/neurons").status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/v1/neurons")
    body = assert_problem(limited, 429, "too-many-requests")
    assert 1 <= int(limited.headers["Retry-After"]) <= 20 and "NEURONHUB_RATE_LIMIT" in body["detail"]
    # Another key (and the same address) has its own budget; probes are never limited.
    assert [client.get("/v1/neurons", headers=bearer(READER)).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.get("/v1/neurons", headers=bearer(ADMIN)).status_code == 200
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))
    other_address = client.get("/v1/neurons", environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other_address.status_code == 200


def test_behind_a_trusted_proxy_the_client_address_is_the_forwarded_one(make_app):
    client = make_app(rate_limit="1/hour", trusted_proxies=1)
    assert client.get("/v1/neurons", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 200
    assert client.get("/v1/neurons", headers={"X-Forwarded-For": "198.51.100.1"}).status_code == 429
    assert client.get("/v1/neurons", headers={"X-Forwarded-For": "198.51.100.2"}).status_code == 200
    untrusting = make_app(rate_limit="1/hour")
    assert untrusting.get("/v1/neurons", headers={"X-Forwarded-For": "198.51.100.3"}).status_code == 200
    assert untrusting.get("/v1/neurons", headers={"X-Forwarded-For": "198.51.100.4"}).status_code == 429  # header ignored


def test_rate_limit_format_is_checked():
    assert Config(rate_limit="600/minute").rate == (600, 60)
    assert Config(rate_limit="5 / s").rate == (5, 1)
    assert Config(rate_limit="").rate is None
    for bad in ("600", "0/minute", "ten/minute", "5/day"):
        with pytest.raises(ValueError, match="RATE_LIMIT"):
            Config(rate_limit=bad)


# --- the request deadline ---------------------------------------------------------------------

@pytest.mark.timeout(60, method="thread")  # pytest-timeout's signal method would own SIGALRM
def test_a_slow_request_is_answered_503_at_the_deadline(make_app):
    client = make_app(request_timeout=1)
    app = client.application
    shielded_finished = []

    def slow():
        time.sleep(5)
        return "too late"

    # Code in a module the deadline must not interrupt (here: named like the database driver).
    namespace = {"__name__": "psycopg.fake", "time": time, "done": shielded_finished}
    exec("def database_call():\n    time.sleep(1.5)\n    done.append(True)\n", namespace)

    def in_the_driver():
        namespace["database_call"]()
        time.sleep(5)
        return "too late"

    app.add_url_rule("/test-slow", "test_slow", slow)
    app.add_url_rule("/test-driver", "test_driver", in_the_driver)
    started = time.monotonic()
    response = client.get("/test-slow")
    assert_problem(response, 503, "deadline-exceeded")
    assert response.headers["Retry-After"] == "1" and 0.9 < time.monotonic() - started < 2
    started = time.monotonic()
    response = client.get("/test-driver")
    assert_problem(response, 503, "deadline-exceeded")
    assert shielded_finished == [True] and 1.4 < time.monotonic() - started < 2.5  # raised only after the driver returned
    assert client.get("/healthz").status_code == 200  # disarmed: nothing fires later
    time.sleep(1.2)
    assert deadline.remaining() is None


@pytest.mark.timeout(60, method="thread")
def test_the_deadline_takes_sigalrm_once_its_previous_owner_let_it_go(make_app):
    """Built while something else owned SIGALRM (as pytest-timeout's signal method does during a
    test), the app must not lose its deadline for good once that owner restored the default."""
    import signal

    def someone_elses(signum, frame):
        raise AssertionError("not ours")

    previous = signal.signal(signal.SIGALRM, someone_elses)
    try:
        client = make_app(request_timeout=1)
    finally:
        signal.signal(signal.SIGALRM, previous)  # let go: back to the default
    client.application.add_url_rule("/test-slow-later", "test_slow_later", lambda: time.sleep(3) or "too late")
    started = time.monotonic()
    response = client.get("/test-slow-later")
    assert_problem(response, 503, "deadline-exceeded")
    assert time.monotonic() - started < 2
    assert deadline.remaining() is None


def test_request_timeout_must_be_below_the_worker_timeout():
    with pytest.raises(ValueError, match="REQUEST_TIMEOUT"):
        Config(request_timeout=60, worker_timeout=60)
    Config(request_timeout=0, worker_timeout=60)
    assert Config(request_timeout=4).connect_retry_seconds == 2
