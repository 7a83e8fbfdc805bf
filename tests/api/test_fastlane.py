"""The fast lane (service/api/fastlane.py) answers like the Flask app, byte for byte, or hands over.

Each request is sent twice to the same app: through the lane (what a server runs) and straight to
the Flask app behind it. Status, headers and body must be equal (the request id is sent, so it is the
same); the lane must answer the plain 200s itself and hand everything else over.
"""
from __future__ import annotations

import io
import json
import time

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from service import create_app, metrics
from service.api import deadline, ratelimit
from service.api.fastlane import ROUTE, FastLane
from service.config import Config
from service.store import StoreUnavailable
from tests.api.helpers import XOR, put_json

ADMIN_KEY, READ_KEY = "admin-key-0123456789", "read-key-0123456789"


@pytest.fixture
def make_app(tmp_path):
    apps = []

    def make(**settings):
        settings = {"database_url": f"sqlite:///{tmp_path / 'lane.db'}", "seed_demo": False, "max_body_bytes": 64 * 1024,
                    "max_batch_rows": 4, **settings}
        app = create_app(Config(**settings))
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["neuronhub"].store.dispose()


class Paths:
    """The app through its lane, and the Flask app behind it; counts the lane's hand-overs."""

    def __init__(self, app, headers=None):
        lane = app.wsgi_app
        assert isinstance(lane, FastLane)
        self.headers = {"X-Request-ID": "same-id-for-both", **(headers or {})}
        self.handed_over = 0
        flask_app = lane.next_app

        def counting(environ, start_response):
            self.handed_over += 1
            return flask_app(environ, start_response)

        lane.next_app = counting
        self.lane = Client(lane)
        self.flask = Client(flask_app)

    def post(self, path, data, content_type="application/json", headers=None):
        headers = {**self.headers, **(headers or {})}
        before = self.handed_over
        through_lane = self.lane.post(path, data=data, content_type=content_type, headers=headers)
        answered_by_lane = self.handed_over == before
        direct = self.flask.post(path, data=data, content_type=content_type, headers=headers)
        assert through_lane.status == direct.status, (through_lane.get_data(), direct.get_data())
        assert through_lane.get_data() == direct.get_data()
        assert sorted(through_lane.headers.items()) == sorted(direct.headers.items())
        return through_lane, answered_by_lane


@pytest.fixture
def paths(make_app):
    app = make_app()
    put_json(app.test_client(), "/v1/networks/xor", XOR)
    return Paths(app)


FORWARD = "/v1/networks/xor/forward"


def test_plain_forward_passes_are_answered_by_the_lane_exactly_as_flask_would(paths):
    for body in ({"inputs": [1, 0]}, {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]]}, {"inputs": [1.0, 1.0], "trace": True},
                 {"inputs": [[0.5, 0.25]], "trace": False}, {"trace": True, "inputs": [1, 1]}):
        response, by_lane = paths.post(FORWARD, orjson.dumps(body))
        assert response.status_code == 200 and by_lane, body
    response, _ = paths.post(FORWARD, b'{"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]]}')
    assert response.get_json()["outputs"] == [[0.0], [1.0], [1.0], [0.0]]  # XOR, computed by hand
    assert response.headers["X-Request-ID"] == "same-id-for-both"
    response, by_lane = paths.post(FORWARD, b'{"inputs": [1, 0]}', content_type="application/json; charset=utf-8")
    assert response.status_code == 200 and by_lane


@pytest.mark.parametrize("data, content_type, status", [
    (b'{"inputs": [1, 0', "application/json", 400),  # malformed
    (b'{"inputs": [NaN, 0]}', "application/json", 400),  # not JSON
    (b'{"inputs": [1e999, 0]}', "application/json", 400),  # overflows
    (b'{"inputs": [1, 0], "inputs": [0, 1]}', "application/json", 400),  # a key twice
    (b'{"inputs": [1, 0, 1]}', "application/json", 422),  # wrong length: the engine refuses
    (b'{"inputs": [[1, 0], [1]]}', "application/json", 422),  # ragged
    (b'{"inputs": ["1", 0]}', "application/json", 422),
    (b'{"inputs": [true, 0]}', "application/json", 422),
    (b'{"inputs": []}', "application/json", 422),
    (b'{"inputs": [1, 0], "trace": "yes"}', "application/json", 422),
    (b'{"inputs": [1, 0], "extra": 1}', "application/json", 422),
    (b'{"inputs": [[0, 0], [0, 1], [1, 0], [1, 1], [1, 1]]}', "application/json", 422),  # more rows than allowed
    (b'[1, 0]', "application/json", 422),
    (b'{"inputs": [1, 0]}', "text/plain", 415),
])
def test_everything_else_is_handed_over_and_worded_by_the_flask_app(paths, data, content_type, status):
    response, by_lane = paths.post(FORWARD, data, content_type=content_type)
    assert response.status_code == status and not by_lane
    assert response.mimetype == "application/problem+json"


def test_a_body_with_interventions_is_handed_over_and_answered_by_flask_with_them_applied(paths):
    for body, outputs in (({"inputs": [1, 1], "interventions": [{"layer": 0, "index": 1, "set": 0}]}, [2.0]),  # h2 ablated: 2 - 0
                          ({"inputs": [1, 1], "trace": True, "interventions": [{"layer": 0, "index": 0, "scale": 0.5}]}, [-1.0]),  # 1 - 2
                          ({"inputs": [1, 1], "interventions": []}, [0.0])):
        response, by_lane = paths.post(FORWARD, orjson.dumps(body))
        assert response.status_code == 200 and not by_lane, response.get_data()
        assert response.get_json()["outputs"] == outputs
    response, by_lane = paths.post(FORWARD, orjson.dumps({"inputs": [1, 1], "interventions": [{"layer": 2, "index": 0, "set": 0}]}))
    assert response.status_code == 422 and not by_lane
    assert response.get_json()["errors"] == {"interventions[0].layer": ["expected a layer in 0..1 (the network's layers), got 2"]}


def test_missing_networks_bad_names_and_other_paths_are_handed_over(paths):
    for path, status in (("/v1/networks/nothing/forward", 404), ("/v1/networks/bad%20name/forward", 422),
                         ("/v1/networks/xor/forward/", 404), ("/v1/networks/xor/predict", 409), ("/v1/neurons/xor/evaluate", 404)):
        response, by_lane = paths.post(path, b'{"inputs": [1, 0]}')
        assert response.status_code == status and not by_lane, (path, response.get_data())
    response, by_lane = paths.post(FORWARD, b'{"inputs": [1, 0]}', content_type="application/vnd.teach+json")
    assert response.status_code == 200 and not by_lane  # another +json type: rare, left to Flask


def test_a_value_the_engine_cannot_represent_is_handed_over(make_app):
    app = make_app()
    big = {"layers": [{"weights": [[1e300, 1e300]], "biases": [0.0], "activation": "identity"},
                      {"weights": [[1e300]], "biases": [0.0], "activation": "identity"}]}
    assert put_json(app.test_client(), "/v1/networks/big", big).status_code == 201
    response, by_lane = Paths(app).post("/v1/networks/big/forward", b'{"inputs": [1e10, 1e10]}')
    assert response.status_code == 422 and not by_lane
    assert response.get_json()["type"].endswith("non-finite-result")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-4, 4, allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["inputs", "trace", "x"]), inner, max_size=3),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.builds(lambda v, t: {"inputs": v, "trace": t}, json_values, st.booleans()),
                      st.builds(lambda v: {"inputs": v}, st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=3) |
                                st.lists(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=2), min_size=1, max_size=5))))
def test_any_json_body_gets_the_same_answer_from_both_paths(paths, body):
    response, by_lane = paths.post(FORWARD, json.dumps(body).encode())
    assert by_lane == (response.status_code == 200)


def test_keys_are_checked_as_the_flask_app_checks_them(make_app):
    app = make_app(admin_keys=ADMIN_KEY, read_keys=READ_KEY, require_read_key=True)
    put_json(app.test_client(), "/v1/networks/xor", XOR, Authorization=f"Bearer {ADMIN_KEY}")
    paths = Paths(app)
    body = b'{"inputs": [1, 0]}'
    for headers, status, by_lane_expected in (
        ({"Authorization": f"Bearer {READ_KEY}"}, 200, True),
        ({"X-API-Key": ADMIN_KEY}, 200, True),
        ({}, 401, False),
        ({"Authorization": "Bearer wrong-key"}, 401, False),
        ({"Authorization": f"Basic {READ_KEY}"}, 401, False),
        ({"X-API-Key": ""}, 401, False),
    ):
        response, by_lane = paths.post(FORWARD, body, headers=headers)
        assert (response.status_code, by_lane) == (status, by_lane_expected), headers


def test_open_reads_need_no_key_but_a_presented_key_must_be_valid(make_app):
    app = make_app(admin_keys=ADMIN_KEY, require_read_key=False)
    put_json(app.test_client(), "/v1/networks/xor", XOR, Authorization=f"Bearer {ADMIN_KEY}")
    paths = Paths(app)
    assert paths.post(FORWARD, b'{"inputs": [1, 0]}')[0].status_code == 200
    assert paths.post(FORWARD, b'{"inputs": [1, 0]}', headers={"X-API-Key": "nope"})[0].status_code == 401


def test_the_lane_takes_one_rate_limit_token_per_request_even_when_it_hands_over(make_app):
    app = make_app(rate_limit="5/minute")
    put_json(app.test_client(), "/v1/networks/xor", XOR)  # the first token
    client = app.test_client()  # through the lane only: each request must cost exactly one token
    assert client.post(FORWARD, json={"inputs": [1, 0]}).status_code == 200  # answered by the lane
    assert client.post("/v1/networks/nothing/forward", json={"inputs": [1, 0]}).status_code == 404  # taken, handed over
    assert client.post(FORWARD, json={"inputs": [1, 0, 0]}).status_code == 422  # taken, handed over (engine)
    assert client.post(FORWARD, json={"inputs": [1, 0]}).status_code == 200
    response = client.post(FORWARD, json={"inputs": [1, 0]})
    assert response.status_code == 429 and response.headers["Retry-After"]


def test_cors_answers_vary_by_origin_and_requests_with_an_origin_go_to_flask(make_app):
    app = make_app(cors_origins="https://teach.example")
    put_json(app.test_client(), "/v1/networks/xor", XOR)
    paths = Paths(app)
    response, by_lane = paths.post(FORWARD, b'{"inputs": [1, 0]}')
    assert by_lane and response.headers["Vary"] == "Origin"
    response, by_lane = paths.post(FORWARD, b'{"inputs": [1, 0]}', headers={"Origin": "https://teach.example"})
    assert not by_lane and response.headers["Access-Control-Allow-Origin"] == "https://teach.example"


def _sample(name, labels):
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


def test_the_lane_counts_requests_and_forward_passes_like_the_hooks(paths):
    labels = {"method": "POST", "route": ROUTE, "status": "200"}
    requests_before = _sample("neuronhub_http_requests_total", labels)
    timed_before = _sample("neuronhub_http_request_duration_seconds_count", {"method": "POST", "route": ROUTE})
    rows_before = _sample("neuronhub_predictions_total", {"kind": "network", "name": "xor"})
    passes_before = _sample("neuronhub_forward_passes_total", {"network": "xor"})
    paths.post(FORWARD, b'{"inputs": [[1, 0], [0, 1], [1, 1]]}')  # once by the lane, once by Flask
    assert _sample("neuronhub_http_requests_total", labels) == requests_before + 2
    assert _sample("neuronhub_http_request_duration_seconds_count", {"method": "POST", "route": ROUTE}) == timed_before + 2
    assert _sample("neuronhub_forward_passes_total", {"network": "xor"}) == passes_before + 2
    assert _sample("neuronhub_predictions_total", {"kind": "network", "name": "xor"}) == rows_before + 6


def test_a_body_larger_than_the_limit_is_not_read_by_the_lane(paths):
    big = b'{"inputs": [' + b"0.5, " * 20_000 + b'0.5]}'
    response, by_lane = paths.post(FORWARD, big)
    assert response.status_code == 413 and not by_lane


@pytest.mark.timeout(60, method="thread")  # pytest-timeout's signal method would own SIGALRM
def test_the_deadline_holds_in_the_lane(make_app):
    app = make_app(request_timeout=1)
    put_json(app.test_client(), "/v1/networks/xor", XOR)
    cache = app.extensions["neuronhub"].cache
    slow_get = cache.get

    def slow(*args, **kwargs):
        time.sleep(3)
        return slow_get(*args, **kwargs)

    cache.get = slow
    started = time.monotonic()
    response = app.test_client().post(FORWARD, json={"inputs": [1, 0]}, headers={"X-Request-ID": "late-one"})
    assert 0.9 < time.monotonic() - started < 2
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.mimetype == "application/problem+json" and response.headers["X-Request-ID"] == "late-one"
    assert response.get_json() == {
        "type": "urn:neuronhub:problem:deadline-exceeded", "title": "Service Unavailable", "status": 503,
        "detail": deadline.deadline_problem().detail, "request_id": "late-one"}
    assert deadline.remaining() is None


# --- edge cases found in review: the raw WSGI environ, as any server may pass it -------------------

def _environ(body=b'{"inputs": [1, 0]}', content_type="application/json", path=FORWARD, **override):
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method="POST", data=body, content_type=content_type,
                             headers={"X-Request-ID": "rid-1"}).get_environ()
    environ["REMOTE_ADDR"] = "127.0.0.9"
    environ.update(override)
    return environ


def _call(wsgi_app, environ):
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"], answer["headers"] = status, sorted(headers)

    body = b"".join(wsgi_app(environ, start_response))
    return answer["status"], answer["headers"], body


def _both(app, make_environ):
    lane = app.wsgi_app
    return _call(lane, make_environ()), _call(lane.next_app, make_environ())


@pytest.fixture
def xor_app(make_app):
    def make(**settings):
        app = make_app(**settings)
        put_json(app.test_client(), "/v1/networks/xor", XOR)
        return app
    return make


@pytest.mark.parametrize("override", [
    {"CONTENT_LENGTH": "\u00b2"},  # a latin-1 byte that str.isdigit() takes for a digit
    {"CONTENT_LENGTH": "40"},  # a body shorter than announced (a client that went away)
    {"CONTENT_TYPE": "application/json\xa0"},  # whitespace to str.strip(), not to werkzeug
    {"CONTENT_TYPE": "\xa0application/json"},
    {"CONTENT_TYPE": "application/json\x85; charset=utf-8"},
    {"CONTENT_LENGTH": "0016"},
    {"CONTENT_TYPE": "Application/JSON ; charset=utf-8"},
])
def test_odd_content_headers_get_the_flask_answer(xor_app, override):
    through_lane, flask_alone = _both(xor_app(), lambda: _environ(**override))
    assert through_lane == flask_alone


class _SlowUpload(io.BytesIO):
    """A body that takes longer to arrive than the request may run."""

    def read(self, *args):
        time.sleep(1.5)
        return super().read(*args)

    def readinto(self, buffer):
        time.sleep(1.5)
        return super().readinto(buffer)


def _slow(**override):
    environ = _environ(**override)
    environ["wsgi.input"] = _SlowUpload(environ["wsgi.input"].getvalue())
    return environ


@pytest.mark.timeout(60, method="thread")  # pytest-timeout's signal method would own SIGALRM
def test_a_missing_network_or_an_empty_bucket_is_answered_before_the_body_is_read(xor_app):
    app = xor_app(request_timeout=1, rate_limit="1/hour")
    missing = "/v1/networks/nothing/forward"
    lane_answer = _call(app.wsgi_app, _slow(path=missing, REMOTE_ADDR="10.0.0.1"))
    flask_answer = _call(app.wsgi_app.next_app, _slow(path=missing, REMOTE_ADDR="10.0.0.2"))
    assert lane_answer == flask_answer and lane_answer[0] == "404 NOT FOUND"
    for address in ("10.0.0.3", "10.0.0.4"):
        ratelimit.buckets_of(app).take("addr:" + address)  # now empty
    lane_answer = _call(app.wsgi_app, _slow(REMOTE_ADDR="10.0.0.3"))
    flask_answer = _call(app.wsgi_app.next_app, _slow(REMOTE_ADDR="10.0.0.4"))
    assert lane_answer == flask_answer and lane_answer[0] == "429 TOO MANY REQUESTS"


@pytest.mark.timeout(60, method="thread")
def test_a_slow_upload_cut_by_the_deadline_costs_a_token_on_both_paths(xor_app):
    app = xor_app(request_timeout=1, rate_limit="100/hour")
    buckets = ratelimit.buckets_of(app)
    lane_answer = _call(app.wsgi_app, _slow(REMOTE_ADDR="10.0.0.1"))
    flask_answer = _call(app.wsgi_app.next_app, _slow(REMOTE_ADDR="10.0.0.2"))
    assert lane_answer[0] == flask_answer[0] == "503 SERVICE UNAVAILABLE"
    assert buckets._buckets["addr:10.0.0.1"][0] == buckets._buckets["addr:10.0.0.2"][0] < 100


@pytest.mark.timeout(60, method="thread")
def test_a_request_handed_over_keeps_the_deadline_it_had_in_the_lane(xor_app):
    """A database wait cut short by the deadline in the lane must not get a second, full deadline in Flask."""
    app = xor_app(request_timeout=1)
    store = app.extensions["neuronhub"].store
    real_get = store.get
    store.change_token = lambda: None  # every lookup asks the database
    shielded = {"__name__": "sqlalchemy.fake_wait"}  # deadline.py never raises inside the database layer
    exec("import time\ndef wait(left, exc):\n    time.sleep(max(0.0, left - 0.003))\n    raise exc('statement timeout')\n", shielded)
    results = []
    for wsgi_app in (app.wsgi_app, app.wsgi_app.next_app):
        calls = []

        def get(kind, name):  # the network's first read: a lock held about as long as the request may run, then released
            calls.append(1)
            if len(calls) == 1:
                shielded["wait"](deadline.remaining(), StoreUnavailable)
            return real_get(kind, name)

        store.get = get
        started = time.monotonic()
        status = _call(wsgi_app, _environ())[0]
        results.append((status, round(time.monotonic() - started)))
    assert results[0] == results[1] == ("503 SERVICE UNAVAILABLE", 1)
    assert deadline.remaining() is None


@pytest.mark.timeout(60, method="thread")  # pytest-timeout's signal method would own SIGALRM
def test_an_alarm_landing_while_the_lane_disarms_is_answered_503(paths, monkeypatch):
    """The alarm can go off after the work is done and before disarm() clears the deadline: the
    exception then comes out of the lane's finally block, and must still become the 503 problem."""
    real_disarm = deadline.disarm
    calls = []

    def alarm_lands_first(*args):
        calls.append(1)
        if len(calls) == 1:
            raise deadline.DeadlineExceeded()
        real_disarm()

    monkeypatch.setattr(deadline, "disarm", alarm_lands_first)
    response = paths.lane.post(FORWARD, data=b'{"inputs": [1, 0]}', content_type="application/json",
                               headers={"X-Request-ID": "at-the-wire"})
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["type"] == "urn:neuronhub:problem:deadline-exceeded"
    assert len(calls) >= 2 and deadline.remaining() is None


OIP_INFER = "/v2/models/xor/infer"


def _oip_binary(rows):
    header = orjson.dumps({"inputs": [{"name": "input", "datatype": "FP64", "shape": [len(rows), 2], "parameters": {"binary_data_size": 16 * len(rows)}}],
                           "parameters": {"binary_data_output": True}})
    return header + np.array(rows, dtype="<f8").tobytes(), {"Inference-Header-Content-Length": str(len(header))}


def test_open_inference_protocol_infer_is_answered_by_the_lane_exactly_as_flask_would(paths):
    for body in ({"inputs": [{"name": "input", "datatype": "FP64", "shape": [4, 2], "data": [0, 0, 0, 1, 1, 0, 1, 1]}]},
                 {"id": "x", "inputs": [{"name": "input", "datatype": "FP32", "shape": [1, 2], "data": [[1, 0]]}],
                  "outputs": [{"name": "trace_0"}, {"name": "output", "parameters": {"classification": 1}}]}):
        response, by_lane = paths.post(OIP_INFER, orjson.dumps(body))
        assert response.status_code == 200 and by_lane and response.mimetype == "application/json", body
    data, headers = _oip_binary([[0, 1], [1, 1]])
    response, by_lane = paths.post(OIP_INFER, data, content_type="application/octet-stream", headers=headers)
    assert response.status_code == 200 and by_lane and response.mimetype == "application/octet-stream"
    assert response.get_data()[int(response.headers["Inference-Header-Content-Length"]):] == np.array([1.0, 0.0], dtype="<f8").tobytes()


@pytest.mark.parametrize("data, headers, status", [
    (b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 3], "data": [1, 2, 3]}]}', {}, 400),  # wrong shape
    (b'{"inputs": [{"name": "x", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}', {}, 400),
    (b'{"inputs": [NaN]}', {}, 400),
    (b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}', {"Inference-Header-Content-Length": "3"}, 400),
    (b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}', {"Content-Encoding": "gzip"}, 400),  # not gzip data
    (b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [5, 2], "data": [1, 2, 1, 2, 1, 2, 1, 2, 1, 2]}]}', {}, 400),  # rows
])
def test_open_inference_protocol_errors_are_handed_over_and_keep_their_envelope(paths, data, headers, status):
    response, by_lane = paths.post(OIP_INFER, data, headers=headers)
    assert response.status_code == status and not by_lane
    assert response.mimetype == "application/json" and set(response.get_json()) == {"error"}


def test_open_inference_protocol_lane_counts_like_the_route(paths):
    labels = {"method": "POST", "route": "/v2/models/<model>/infer", "status": "200"}
    before = _sample("neuronhub_http_requests_total", labels)
    passes_before = _sample("neuronhub_forward_passes_total", {"network": "xor"})
    paths.post(OIP_INFER, b'{"inputs": [{"name": "input", "datatype": "FP64", "shape": [1, 2], "data": [1, 2]}]}')
    assert _sample("neuronhub_http_requests_total", labels) == before + 2  # once by the lane, once by Flask
    assert _sample("neuronhub_forward_passes_total", {"network": "xor"}) == passes_before + 2
