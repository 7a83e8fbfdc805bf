"""GET /v1/networks/{name}/diagram.svg over HTTP: SVG that parses, follows the stored weights and the
forward pass of the given input, escapes words, and problem+json for every mistake."""
import math
import xml.etree.ElementTree as ET

import pytest

from .helpers import XOR, assert_problem, put_json

SVG = "{http://www.w3.org/2000/svg}"
WORDS = ["<pad>", "<unk>", "</s>", "<script>alert(1)</script>", "b", "x&y"]
LANGUAGE = {
    "description": "a word that is markup must be shown as text",
    "vocabulary": WORDS,
    "embeddings": [[0.0, 0.0], [0.0, 0.0], [0.0, 0.0], [1.0, -1.0], [2.0, 0.5], [0.0, 1.0]],
    "context_size": 1,
    "layers": [
        {"weights": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], "biases": [0.0, 0.0, -1.0], "activation": "tanh"},
        {"weights": [[0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.5, -1.0, 2.0], [-1.0, 1.0, 0.0], [0.0, 0.0, 3.0]],
         "biases": [0.0] * 6, "activation": "identity"},
    ],
}


def diagram(client, path):
    response = client.get(path)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "image/svg+xml"
    return ET.fromstring(response.get_data())


def circles(root, layer):
    return {int(c.get("data-index")): c for c in root.iter(SVG + "circle") if c.get("data-layer") == str(layer)}


def test_xor_without_input_draws_its_weights(client):
    assert put_json(client, "/v1/networks/xor", XOR).status_code == 201
    root = diagram(client, "/v1/networks/xor/diagram.svg")
    assert set(circles(root, 0)) == {0, 1} and set(circles(root, 1)) == {0}
    edges = {(l.get("data-gap"), l.get("data-from"), l.get("data-to")): float(l.get("data-weight")) for l in root.iter(SVG + "line")}
    assert edges == {("0", "0", "0"): 1.0, ("0", "1", "0"): 1.0, ("0", "0", "1"): 1.0, ("0", "1", "1"): 1.0,
                     ("1", "0", "0"): 1.0, ("1", "1", "0"): -2.0}
    assert all(c.get("fill") == "#ffffff" for c in root.iter(SVG + "circle"))


def test_xor_with_inputs_fills_neurons_by_their_activation(client):
    put_json(client, "/v1/networks/xor", XOR)
    root = diagram(client, "/v1/networks/xor/diagram.svg?inputs=1,%201")
    hidden, output = circles(root, 0), circles(root, 1)
    # h = relu([2, 1]) = [2, 1]; out = 2 - 2 = 0
    assert [float(hidden[j].get("data-activation")) for j in (0, 1)] == [2.0, 1.0]
    assert hidden[0].get("fill") == "#2166ac"  # 2 / 2 = +1: full blue
    assert hidden[1].get("fill") == "#" + "".join(f"{round(247 + (e - 247) * 0.5):02x}" for e in (0x21, 0x66, 0xAC))
    assert float(output[0].get("data-activation")) == 0.0 and output[0].get("fill") == "#f7f7f7"


def test_language_network_reads_the_context_and_escapes_its_words(client):
    assert put_json(client, "/v1/networks/words", LANGUAGE).status_code == 201
    response = client.get("/v1/networks/words/diagram.svg", query_string={"context": "the b"})
    assert response.status_code == 200
    assert b"<script>" not in response.get_data()
    root = ET.fromstring(response.get_data())
    labels = {t.text for t in root.iter(SVG + "text") if t.get("class") == "word"}
    assert labels == set(WORDS)
    assert [t.text for t in root.iter(SVG + "text") if t.get("class") == "input-group"] == ["0: b"]
    x = [2.0, 0.5]  # the embedding of "b"
    z = [x[0], x[1], x[0] + x[1] - 1.0]
    a = [math.tanh(v) for v in z]
    hidden = circles(root, 0)
    for j in range(3):
        assert float(hidden[j].get("data-weighted-sum")) == pytest.approx(z[j], abs=1e-15)
        assert float(hidden[j].get("data-activation")) == pytest.approx(a[j], abs=1e-15)
    logits = [0.0, 0.0, a[0], 0.5 * a[0] - a[1] + 2 * a[2], -a[0] + a[1], 3 * a[2]]
    for j, c in circles(root, 1).items():
        assert float(c.get("data-activation")) == pytest.approx(logits[j], abs=1e-15)


@pytest.mark.parametrize("query, field, message", [
    ("inputs=1", "inputs", "expected 2 numbers"),
    ("inputs=1,2,3", "inputs", "got 3"),
    ("inputs=1,x", "inputs", "value 1 is 'x'"),
    ("inputs=1,", "inputs", "value 1 is ''"),
    ("inputs=1,1e999", "inputs", "beyond the float64 range"),
    ("inputs=nan,1", "inputs", "value 0 is 'nan'"),
    ("context=hello", "context", "not a language network"),
])
def test_bad_queries_on_a_plain_network_name_the_field(client, query, field, message):
    put_json(client, "/v1/networks/xor", XOR)
    assert_problem(client.get(f"/v1/networks/xor/diagram.svg?{query}"), 422, field, message)


def test_bad_queries_on_a_language_network_name_the_field(client):
    put_json(client, "/v1/networks/words", LANGUAGE)
    assert_problem(client.get("/v1/networks/words/diagram.svg?inputs=1,2"), 422, "inputs", "is a language network")
    assert_problem(client.get("/v1/networks/words/diagram.svg", query_string={"context": "a " * 150 + "b"}), 422, "context", "at most 300")


def test_unknown_network_is_404_and_a_bad_name_422(client):
    assert_problem(client.get("/v1/networks/nothing-here/diagram.svg"), 404, contains="no network named 'nothing-here'")
    assert_problem(client.get("/v1/networks/-bad/diagram.svg"), 422, "name")


def test_the_documented_context_limit_is_the_services():
    from service.api.diagram import MAX_CONTEXT_CHARS
    from tests.contract.openapi_contract import Contract

    parameters = Contract.from_file().operation("getNetworkDiagram").spec["parameters"]
    context = next(p for p in parameters if p.get("name") == "context")
    assert context["schema"]["maxLength"] == MAX_CONTEXT_CHARS
