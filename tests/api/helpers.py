"""Assertions shared by the API tests."""
import orjson

XOR = {
    "description": "XOR from two ReLU neurons",
    "layers": [
        {"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
        {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"},
    ],
}

RELU_NEURON = {"weights": [0.5, -1.0, 0.25], "bias": 0.5, "activation": "relu", "description": "a ReLU neuron"}


def put_json(client, path, body, **headers):
    return client.put(path, data=orjson.dumps(body), content_type="application/json", headers=headers)


def post_json(client, path, body, **headers):
    return client.post(path, data=orjson.dumps(body), content_type="application/json", headers=headers)


def assert_problem(response, status, field=None, contains=None):
    """A problem+json answer with the RFC 9457 members; `field` must be named in `errors`."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("urn:neuronhub:problem:")
    assert body["title"] and body["detail"]
    assert body["request_id"] == response.headers["X-Request-ID"]
    if field is not None:
        assert field in body["errors"], body
        if contains is not None:
            assert any(contains in m for m in body["errors"][field]), body["errors"][field]
    elif contains is not None:
        assert contains in body["detail"], body["detail"]
    return body
