"""The checker the API tests run on every response really refuses what openapi.yaml does not say."""
import orjson
import pytest

from .openapi_contract import Contract, ContractViolation, Response

CONTRACT = Contract.from_file()
REQUEST_ID = {"X-Request-ID": "abc"}
JSON = {"Content-Type": "application/json", **REQUEST_ID}
PROBLEM = {"Content-Type": "application/problem+json", **REQUEST_ID}
NEURON = {"name": "n", "weights": [1.0], "bias": 0.0, "activation": "relu", "description": "", "revision": 1,
          "created_at": "2026-01-02T03:04:05Z", "updated_at": "2026-01-02T03:04:05Z"}


def problem(status, **extra):
    return orjson.dumps({"type": "urn:neuronhub:problem:x", "title": "T", "status": status, "detail": "d", "request_id": "abc", **extra})


def check(method, path, status, headers, body=b""):
    CONTRACT.check(Response(method, path, status, headers, body))


def test_documented_responses_pass():
    check("GET", "/v1/neurons/n", 200, {**JSON, "ETag": '"1"'}, orjson.dumps(NEURON))
    check("GET", "/v1/neurons/n", 304, {**REQUEST_ID, "ETag": '"1"'})
    check("DELETE", "/v1/neurons/n", 204, REQUEST_ID)
    check("GET", "/v1/neurons", 414, {"Content-Type": "text/html"}, b"<html></html>")
    check("PATCH", "/v1/neurons/n", 405, {**PROBLEM, "Allow": "GET, PUT"}, problem(405))
    check("GET", "/nowhere", 404, PROBLEM, problem(404))


@pytest.mark.parametrize(
    "method, path, status, headers, body, message",
    [
        ("GET", "/v1/neurons/n", 418, JSON, b"{}", "status 418 is not documented"),
        ("GET", "/v1/neurons/n", 200, JSON, orjson.dumps(NEURON), "required header ETag is missing"),
        ("GET", "/v1/neurons/n", 200, {**JSON, "ETag": "1"}, orjson.dumps(NEURON), "header ETag"),
        ("GET", "/v1/neurons/n", 200, {**JSON, "ETag": '"1"'}, orjson.dumps({**NEURON, "extra": 1}), "'extra' was unexpected"),
        ("GET", "/v1/neurons/n", 200, {**JSON, "ETag": '"1"'}, orjson.dumps({**NEURON, "activation": "softmax"}), "body activation"),
        ("GET", "/v1/neurons/n", 200, {**JSON, "ETag": '"1"'}, orjson.dumps({**NEURON, "created_at": "yesterday"}), "date-time"),
        ("GET", "/v1/neurons/n", 200, {"Content-Type": "text/plain", "ETag": '"1"', **REQUEST_ID}, b"x", "Content-Type 'text/plain'"),
        ("GET", "/v1/neurons/n", 404, PROBLEM, problem(404, surprise=True), "'surprise' was unexpected"),
        ("PUT", "/v1/neurons/n", 422, PROBLEM, problem(422), "'errors' is a required property"),
        ("DELETE", "/v1/neurons/n", 204, REQUEST_ID, b"{}", "expected no body"),
        ("GET", "/healthz", 200, {"Content-Type": "application/json"}, b'{"status": "ok"}', "X-Request-ID is missing"),
        ("GET", "/readyz", 503, {**PROBLEM, "Retry-After": "soon"}, problem(503), "expected an integer"),
        ("PATCH", "/v1/neurons/n", 405, PROBLEM, problem(405), "required header Allow is missing"),
        ("PATCH", "/v1/neurons/n", 404, PROBLEM, problem(404), "the only documented answer is 405"),
        ("GET", "/nowhere", 200, JSON, b"{}", "the only documented answer is 404"),
    ],
)
def test_undocumented_responses_fail(method, path, status, headers, body, message):
    with pytest.raises(ContractViolation, match=message.replace("(", r"\(")):
        check(method, path, status, headers, body)


STREAM = {"Content-Type": "text/event-stream", **REQUEST_ID}


def test_server_sent_events_are_checked_one_by_one():
    check("POST", "/v1/completions", 200, STREAM, b'data: {"a": 1}\n\ndata: [DONE]\n\n')
    with pytest.raises(ContractViolation, match="event 1"):
        check("POST", "/v1/completions", 200, STREAM, b'data: {"a": 1}\n\nevent: other\ndata: x\n\n')
    with pytest.raises(ContractViolation, match="not a stream of server-sent events"):
        check("POST", "/v1/completions", 200, STREAM, b"data: [DONE]")
