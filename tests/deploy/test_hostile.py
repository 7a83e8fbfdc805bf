"""Hostile and malformed requests through real gunicorn: each gets a problem+json, none reaches the database."""
from __future__ import annotations

import http.client
import socket

import pytest
import requests

from .support import Server, assert_problem

LIMIT = 100_000


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hostile")
    server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{directory / 'hostile.db'}", "NEURONHUB_WORKERS": "2",
                     "NEURONHUB_MAX_BODY_BYTES": str(LIMIT)}, directory / "gunicorn.log")
    yield server
    server.stop()


def put_raw(server, path: str, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.put(server.url + path, data=body, headers={"Content-Type": content_type}, timeout=30)


@pytest.mark.parametrize("body, says", [
    (b'{"weights": [NaN], "activation": "relu"}', "NaN and Infinity"),
    (b'{"weights": [Infinity], "activation": "relu"}', "NaN and Infinity"),
    (b'{"weights": [-Infinity], "activation": "relu"}', "NaN and Infinity"),
    (b'{"weights": [1e400], "activation": "relu"}', "64-bit float"),
    (b'{"weights": [-1e999], "activation": "relu"}', "64-bit float"),
    (b'{"weights": [1], "weights": [2], "activation": "relu"}', "same key twice"),
    (b'{"weights": [1], "activation": "relu", "description": {"a": 1, "a": 2}}', "same key twice"),
    (b'{"weights": ' + b"[" * 65 + b"1" + b"]" * 65 + b', "activation": "relu"}', "deeper than 64"),
    (b'{"weights": [1, 2,], "activation": "relu"}', "malformed JSON"),
    (b'{"weights": [1, 2]', "malformed JSON"),
    (b'\xff\xfe{"weights": [1]}', "malformed JSON"),
    (b"", "empty"),
])
def test_malformed_json_is_400(server, body, says):
    problem = assert_problem(put_raw(server, "/v1/neurons/victim", body), 400, "malformed-json")
    assert says in problem["detail"], problem


def test_json_that_is_well_formed_but_wrong_is_422_or_415(server):
    assert_problem(put_raw(server, "/v1/neurons/victim", b'{"weights": ["1", "2"], "activation": "relu"}'), 422, "validation-error")
    assert_problem(put_raw(server, "/v1/neurons/victim", b'{"weights": [true], "activation": "relu"}'), 422, "validation-error")
    assert_problem(put_raw(server, "/v1/neurons/victim", b'[1, 2]'), 422)
    assert_problem(put_raw(server, "/v1/neurons/victim", b'{"weights": [1]}', "text/plain"), 415, "unsupported-media-type")
    deep_but_allowed = b'{"weights": [1], "activation": "relu", "description": ' + b"[" * 60 + b"]" * 60 + b"}"
    assert put_raw(server, "/v1/neurons/victim", deep_but_allowed).status_code == 422  # parsed; a list is no description


@pytest.mark.parametrize("path, statuses", [
    ("/v1/neurons/a%00b", {422}),
    ("/v1/neurons/a%0Ab", {422}),
    ("/v1/neurons/a%0D%0AX-Injected:%201", {422}),
    ("/v1/neurons/a%01b", {422}),
    ("/v1/neurons/a%7Fb", {422}),
    ("/v1/neurons/a%09b", {422}),
    ("/v1/neurons/a%20b", {422}),
    ("/v1/neurons/a%2Fb", {404}),  # decoded to a/b: no such route
    ("/v1/neurons/..%2F..%2Fetc", {404}),
    ("/v1/neurons/a%5Cb", {422}),
    ("/v1/neurons/..", {404, 422}),
    ("/v1/neurons/.hidden", {422}),
    ("/v1/neurons/%C3%A9t%C3%A9", {422}),
    ("/v1/neurons/%E2%80%AEevil", {422}),
    ("/v1/neurons/%FF", {422}),
    ("/v1/neurons/" + "a" * 65, {422}),
    ("/v1/neurons/" + "a" * 3000, {422}),
])
def test_hostile_names_are_refused_before_the_database(server, path, statuses):
    body = b'{"weights": [1], "activation": "relu"}'
    for method in ("GET", "PUT", "DELETE"):
        response = requests.request(method, server.url + path, data=body if method == "PUT" else None,
                                    headers={"Content-Type": "application/json"}, timeout=30)
        assert response.status_code in statuses, (method, path, response.status_code, response.text[:300])
        assert_problem(response, response.status_code)
        assert "X-Injected" not in response.headers
    evaluate = requests.post(server.url + path + "/evaluate", json={"inputs": [1]}, timeout=30)
    assert evaluate.status_code in statuses | {404}
    assert_problem(evaluate, evaluate.status_code)
    assert requests.get(server.url + "/v1/neurons").json()["items"] == []  # nothing was stored


def test_a_body_over_the_limit_is_413(server):
    problem = assert_problem(put_raw(server, "/v1/neurons/big", b'{"weights": [' + b"1," * LIMIT + b'1]}'), 413, "payload-too-large")
    assert "NEURONHUB_MAX_BODY_BYTES" in problem["detail"]


def test_a_chunked_body_over_the_limit_is_413_while_it_streams(server):
    """No Content-Length: the limit must still hold; the server answers before the body ends."""
    head = (b"PUT /v1/neurons/chunked HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"0.123456789," * 100
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head + b'%x\r\n{"weights": [\r\n' % len(b'{"weights": ['))
        try:
            for _ in range(3 * LIMIT // len(chunk)):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except (BrokenPipeError, ConnectionResetError):
            pass  # answered early and closed: what we want
        response = sock.makefile("rb").read()
    status_line, _, rest = response.partition(b"\r\n")
    assert status_line.split()[1] == b"413", response[:500]
    assert b"Content-Type: application/problem+json" in rest
    assert requests.get(server.url + "/v1/neurons/chunked").status_code == 404


def test_a_small_chunked_body_is_fine(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = iter([b'{"weights": [1, 2],', b' "activation": "relu"}'])
    connection.request("PUT", "/v1/neurons/small-chunked", body=body, headers={"Content-Type": "application/json"}, encode_chunked=True)
    assert connection.getresponse().status == 201
    assert requests.delete(server.url + "/v1/neurons/small-chunked").status_code == 204


def test_a_lying_content_length_is_413_at_once(server):
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"PUT /v1/neurons/liar HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 999999999\r\n\r\n{}")
        response = sock.recv(65536)
    assert response.split()[1] == b"413" and b"application/problem+json" in response


def test_odd_methods_and_request_ids(server):
    response = requests.request("PATCH", server.url + "/v1/neurons/x")
    assert_problem(response, 405, "method-not-allowed")
    assert "PUT" in response.headers["Allow"]
    echoed = requests.get(server.url + "/v1/neurons/none", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123" and echoed.json()["request_id"] == "abc-123"
    replaced = requests.get(server.url + "/v1/neurons/none", headers={"X-Request-ID": "bad id\twith spaces"})
    assert replaced.headers["X-Request-ID"] != "bad id\twith spaces" and len(replaced.headers["X-Request-ID"]) == 32
    assert "Traceback" not in server.log()
