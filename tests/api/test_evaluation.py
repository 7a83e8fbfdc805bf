"""Evaluating neurons and networks over HTTP, checked against hand-computed values."""
import math

import numpy as np
import pytest

from service import create_app

from .helpers import RELU_NEURON, XOR, assert_problem, post_json, put_json


def test_neuron_single_vector_by_hand(client):
    put_json(client, "/v1/neurons/r", RELU_NEURON)
    body = post_json(client, "/v1/neurons/r/evaluate", {"inputs": [2, 3, 4]}).get_json()
    # z = 0.5*2 - 1*3 + 0.25*4 + 0.5 = -0.5 -> relu -> 0
    assert body["contributions"] == [1.0, -3.0, 1.0]
    assert body["weighted_sum"] == -0.5 and body["output"] == 0.0
    assert (body["name"], body["revision"], body["activation"], body["bias"]) == ("r", 1, "relu", 0.5)


def test_neuron_batch_mirrors_the_inputs(client):
    put_json(client, "/v1/neurons/s", {"weights": [1.0, 1.0], "bias": 0.0, "activation": "sigmoid"})
    body = post_json(client, "/v1/neurons/s/evaluate", {"inputs": [[0, 0], [math.log(3), 0], [-1000, 0]]}).get_json()
    assert body["weighted_sum"] == [0.0, math.log(3), -1000.0]
    assert body["output"] == pytest.approx([0.5, 0.75, 0.0], abs=1e-15)
    assert body["contributions"] == [[0.0, 0.0], [math.log(3), 0.0], [-1000.0, 0.0]]


def test_xor_forward_and_trace(client):
    put_json(client, "/v1/networks/xor", XOR)
    outputs = post_json(client, "/v1/networks/xor/forward", {"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]]}).get_json()["outputs"]
    assert outputs == [[0.0], [1.0], [1.0], [0.0]]
    body = post_json(client, "/v1/networks/xor/forward", {"inputs": [1, 1], "trace": True}).get_json()
    assert body["outputs"] == [0.0]
    assert body["trace"] == [
        {"layer": 0, "activation": "relu", "weighted_sums": [2.0, 1.0], "activations": [2.0, 1.0]},
        {"layer": 1, "activation": "identity", "weighted_sums": [0.0], "activations": [0.0]},
    ]
    assert "trace" not in post_json(client, "/v1/networks/xor/forward", {"inputs": [1, 1]}).get_json()


def test_softmax_network_against_independent_formula(client):
    w = [[0.2, -0.4], [1.5, 0.3], [-0.7, 0.9]]
    b = [0.1, 0.0, -0.2]
    put_json(client, "/v1/networks/sm", {"layers": [{"weights": w, "biases": b, "activation": "softmax"}]})
    x = [0.8, -1.3]
    z = [sum(wi * xi for wi, xi in zip(row, x)) + bi for row, bi in zip(w, b)]
    expected = [math.exp(v) / sum(math.exp(u) for u in z) for v in z]
    got = post_json(client, "/v1/networks/sm/forward", {"inputs": x}).get_json()["outputs"]
    assert got == pytest.approx(expected, rel=1e-12)


def test_float32_network_computes_in_float32(client):
    put_json(client, "/v1/networks/f", {"dtype": "float32", "layers": [{"weights": [[0.1, 0.2]], "activation": "identity"}]})
    body = post_json(client, "/v1/networks/f/forward", {"inputs": [1.0, 1.0]}).get_json()
    assert body["dtype"] == "float32"
    assert body["outputs"] == [float(np.float32(0.1) + np.float32(0.2))]


def test_overflow_is_a_clear_422(client):
    put_json(client, "/v1/networks/big", {"layers": [{"weights": [[1e200]], "activation": "identity"}]})
    assert_problem(post_json(client, "/v1/networks/big/forward", {"inputs": [1e200]}), 422, "layers[0]", "overflow")
    put_json(client, "/v1/neurons/big", {"weights": [1e200], "activation": "identity"})
    assert_problem(post_json(client, "/v1/neurons/big/evaluate", {"inputs": [1e200]}), 422, "inputs", "overflow")


@pytest.mark.parametrize(
    "inputs, field, message",
    [
        ([1, 2], "inputs", "expected 3 values per input vector, got 2"),
        ([[1, 2, 3], [1, 2]], "inputs[1]", "expected 3 values (as in row 0), got 2"),
        ([1, "2", 3], "inputs[1]", "expected a number, got string '2'"),
        ([1, True, 3], "inputs[1]", "expected a number, got boolean true"),
        ([], "inputs", "got an empty list"),
        ([[]], "inputs[0]", "got an empty list"),
        ("1,2,3", "inputs", "expected a list of numbers, got string"),
        (None, "inputs", "got null"),
        ([[1, 2, 3], 4], "inputs[1]", "expected a list of numbers, got number 4"),
    ],
)
def test_bad_inputs(client, inputs, field, message):
    put_json(client, "/v1/neurons/r", RELU_NEURON)
    assert_problem(post_json(client, "/v1/neurons/r/evaluate", {"inputs": inputs}), 422, field, message)


def test_trace_must_be_a_boolean(client):
    put_json(client, "/v1/networks/xor", XOR)
    assert_problem(post_json(client, "/v1/networks/xor/forward", {"inputs": [1, 1], "trace": "yes"}), 422, "trace", "expected true or false")


def test_evaluating_a_missing_definition_is_404(client):
    assert_problem(post_json(client, "/v1/neurons/nope/evaluate", {"inputs": [1]}), 404, contains="no neuron named 'nope'")
    assert_problem(post_json(client, "/v1/networks/nope/forward", {"inputs": [1]}), 404, contains="no network named 'nope'")


def test_batch_row_limit(client):
    put_json(client, "/v1/networks/xor", XOR)
    body = assert_problem(post_json(client, "/v1/networks/xor/forward", {"inputs": [[0, 0]] * 101}), 422, "inputs", "NEURONHUB_MAX_BATCH_ROWS")
    assert (body["limit"], body["maximum"], body["received"]) == ("NEURONHUB_MAX_BATCH_ROWS", 100, 101)
    assert post_json(client, "/v1/networks/xor/forward", {"inputs": [[0, 0]] * 100}).status_code == 200


def test_a_write_through_another_app_is_seen_at_once(app, config):
    """Two app instances on one database stand for two workers: no stale cache."""
    first, second = app.test_client(), create_app(config).test_client()
    put_json(first, "/v1/networks/n", XOR)
    assert post_json(first, "/v1/networks/n/forward", {"inputs": [1, 0]}).get_json()["outputs"] == [1.0]  # now cached
    changed = {"layers": [{"weights": [[3.0, 0.0]], "biases": [0.5], "activation": "identity"}]}
    put_json(second, "/v1/networks/n", changed)
    body = post_json(first, "/v1/networks/n/forward", {"inputs": [1, 0]}).get_json()
    assert body["outputs"] == [3.5] and body["revision"] == 2
    second.delete("/v1/networks/n")
    assert_problem(post_json(first, "/v1/networks/n/forward", {"inputs": [1, 0]}), 404)
