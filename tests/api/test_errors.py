"""Every kind of bad request gets application/problem+json that says what was wrong."""
import orjson
import pytest

from .helpers import RELU_NEURON, XOR, assert_problem, put_json


def raw_put(client, path, data, content_type="application/json"):
    return client.put(path, data=data, content_type=content_type)


@pytest.mark.parametrize(
    "raw, contains",
    [
        (b'{"weights": [1, 2', "malformed JSON"),
        (b'{"weights": [NaN], "activation": "relu"}', "NaN and Infinity are not JSON numbers"),
        (b'{"weights": [Infinity], "activation": "relu"}', "NaN and Infinity"),
        (b'{"weights": [-Infinity], "activation": "relu"}', "NaN and Infinity"),
        (b'{"weights": [1e999], "activation": "relu"}', "does not fit in a 64-bit float"),
        (b'{"weights": [1], "weights": [2], "activation": "relu"}', "same key twice"),
        (b"[" * 65 + b"]" * 65, "nesting deeper than 64"),
        (b"\xff\xfe", "malformed JSON"),
        (b"", "empty"),
    ],
)
def test_malformed_json_is_400(client, raw, contains):
    assert_problem(raw_put(client, "/v1/neurons/n", raw), 400, contains=contains)
    assert_problem(client.get("/v1/neurons/n"), 404)  # nothing half-written


def test_non_json_content_type_is_415(client):
    assert_problem(raw_put(client, "/v1/neurons/n", orjson.dumps(RELU_NEURON), "text/plain"), 415, contains="application/json")
    assert_problem(client.put("/v1/neurons/n", data=orjson.dumps(RELU_NEURON)), 415, contains="no Content-Type")
    assert raw_put(client, "/v1/neurons/n", orjson.dumps(RELU_NEURON), "application/merge-patch+json").status_code == 201


def test_unknown_path_and_wrong_method(client):
    assert_problem(client.get("/v9/nothing"), 404, contains="no such path")  # (/v2 is the Open Inference Protocol: its own envelope)
    response = client.post("/v1/neurons/n")
    body = assert_problem(response, 405)
    assert set(response.headers["Allow"].split(", ")) >= {"GET", "PUT", "DELETE"}
    assert body["title"] == "Method Not Allowed"


def test_body_too_large_is_413(client):
    big = orjson.dumps({"weights": [0.5] * 300_000, "activation": "relu"})  # > 1 MiB test limit
    assert_problem(raw_put(client, "/v1/neurons/n", big), 413, contains="larger than 1048576 bytes (NEURONHUB_MAX_BODY_BYTES)")


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"weights": [1, 2], "activation": "swish"}, "activation", "expected one of gelu, gelu_tanh, identity"),
        ({"weights": [1, 2], "activation": "softmax"}, "activation", "works across a layer"),
        ({"weights": [1, 2]}, "activation", "required"),
        ({"activation": "relu"}, "weights", "required"),
        ({"weights": [1, 2], "activation": "relu", "bias": "0.5"}, "bias", "expected a number, got string '0.5'"),
        ({"weights": [1, 2], "activation": "relu", "bias": True}, "bias", "got boolean true"),
        ({"weights": [1, 2], "activation": "relu", "colour": "red"}, "colour", "unknown field"),
        ({"weights": [1, 2], "activation": 3}, "activation", "expected a string, got number 3"),
        ({"weights": [1, 2], "activation": "relu", "description": "x" * 2001}, "description", "at most 2000"),
        ({"weights": [[1, 2]], "activation": "relu"}, "weights[0]", "expected a number, got a list of 2 values"),
    ],
)
def test_neuron_validation_is_422(client, body, field, message):
    assert_problem(put_json(client, "/v1/neurons/n", body), 422, field, message)


@pytest.mark.parametrize(
    "layers, field, message",
    [
        ([], "layers", "at least one layer"),
        ([{"weights": [[1, 2], [3]], "activation": "relu"}], "layers[0].weights[1]", "expected 2 values (as in row 0), got 1"),
        ([{"weights": [[1, 2]], "biases": [0, 0], "activation": "relu"}], "layers[0].biases", "expected 1 values (one per neuron), got 2"),
        (
            [{"weights": [[1, 1], [1, 1], [1, 1], [1, 1]], "activation": "relu"}, {"weights": [[1, 1, 1]], "activation": "relu"}],
            "layers[1].weights[0]",
            "expected 4 values (layer 0 has 4 neurons), got 3",
        ),
        ([{"weights": [[1, "x"]], "activation": "relu"}], "layers[0].weights[0][1]", "expected a number, got string 'x'"),
        ([{"weights": [[1]], "activation": "relu", "bias": [0]}], "layers[0].bias", "unknown field"),
        ([{"weights": [[1]], "activation": "tanh"}] * 9, "layers", "NEURONHUB_MAX_LAYERS"),
        ([{"weights": [[0.0] * 100] * 101, "activation": "tanh"}], "layers", "NEURONHUB_MAX_PARAMETERS"),
        ("dense", "layers", "Not a valid list"),
    ],
)
def test_network_validation_is_422(client, layers, field, message):
    assert_problem(put_json(client, "/v1/networks/n", {"layers": layers}), 422, field, message)


def test_all_errors_are_listed_at_once(client):
    body = assert_problem(put_json(client, "/v1/neurons/n", {"weights": [1, "a"], "activation": "nope", "x": 1}), 422)
    assert set(body["errors"]) == {"weights[1]", "activation", "x"}
    assert "(and 2 more)" in body["detail"]


def test_body_must_be_an_object(client):
    assert_problem(put_json(client, "/v1/networks/n", [XOR]), 422, "body", "expected a JSON object")


def test_request_id_is_echoed(client):
    response = client.get("/v1/neurons/missing", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert response.get_json()["request_id"] == "abc-123"
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32


def test_health(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "workers": 0}
