"""The network diagram (engine.diagram): well-formed SVG whose circles, edges and colours follow the
weights and the forward pass, computed here again with numpy."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from service.engine.diagram import EDGE_BUDGET, MAX_EDGE_WIDTH, MAX_SHOWN, Labels, network_diagram
from service.engine.network import Layer, Network

NS = {"svg": "http://www.w3.org/2000/svg"}
BLUE, RED = (0x21, 0x66, 0xAC), (0xB2, 0x18, 0x2B)


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    return root


def neurons(root: ET.Element, layer: int) -> list[ET.Element]:
    return [c for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("data-layer") == str(layer)]


def lines(root: ET.Element) -> list[ET.Element]:
    return list(root.iter("{http://www.w3.org/2000/svg}line"))


def expected_fill(t: float) -> str:
    end = BLUE if t >= 0 else RED
    return "#" + "".join(f"{round(247 + (e - 247) * abs(t)):02x}" for e in end)


def random_network(sizes, activations, seed=0, dtype="float64"):
    rng = np.random.default_rng(seed)
    layers = [Layer(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out), act)
              for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)]
    return Network(layers, dtype)


def test_small_network_every_neuron_and_edge_follows_the_weights():
    net = Network([Layer([[1.0, -2.0], [0.5, 0.0]], [0.0, -1.0], "relu"), Layer([[3.0, -0.25]], [0.0], "identity")])
    root = parse(network_diagram(net))
    assert [int(c.get("data-index")) for c in neurons(root, 0)] == [0, 1]
    assert [int(c.get("data-index")) for c in neurons(root, 1)] == [0]
    assert len([c for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("data-input") is not None]) == 2
    drawn = {(int(l.get("data-gap")), int(l.get("data-from")), int(l.get("data-to"))): l for l in lines(root)}
    # the zero weight (layer 0, neuron 1, input 1) has no edge; every other weight has one
    expected = {(0, 0, 0): 1.0, (0, 1, 0): -2.0, (0, 0, 1): 0.5, (1, 0, 0): 3.0, (1, 1, 0): -0.25}
    assert set(drawn) == set(expected)
    for key, w in expected.items():
        line = drawn[key]
        assert float(line.get("data-weight")) == w
        assert line.get("stroke") == ("#2166ac" if w > 0 else "#b2182b")
        assert float(line.get("stroke-width")) == pytest.approx(MAX_EDGE_WIDTH * abs(w) / 3.0, rel=1e-3)
    assert root.find(".//svg:g[@class='legend']", NS) is None  # no input, no activation scale


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_with_an_input_neurons_are_filled_by_their_activation(dtype):
    net = random_network([3, 5, 4, 2], ["tanh", "relu", "identity"], seed=1, dtype=dtype)
    x = np.array([0.5, 1.0, 2.0])
    root = parse(network_diagram(net, x))
    a = x
    for i, layer in enumerate(net.layers):
        W, b = layer.weights.astype(np.float64), layer.biases.astype(np.float64)
        z = W @ a + b
        a = {"tanh": np.tanh, "relu": lambda v: np.maximum(v, 0), "identity": lambda v: v}[layer.activation](z)
        peak = np.abs(a).max()
        for circle in neurons(root, i):
            j = int(circle.get("data-index"))
            tolerance = 1e-5 if dtype == "float32" else 1e-13
            assert float(circle.get("data-activation")) == pytest.approx(a[j], rel=tolerance, abs=tolerance)
            assert float(circle.get("data-weighted-sum")) == pytest.approx(z[j], rel=tolerance, abs=tolerance)
            assert circle.get("fill") == expected_fill(a[j] / peak)
    legend = root.find(".//svg:g[@class='legend']", NS)
    fills = [r.get("fill") for r in legend.iter("{http://www.w3.org/2000/svg}rect")]
    assert fills[0] == "#b2182b" and fills[len(fills) // 2] == "#f7f7f7" and fills[-1] == "#2166ac"


def test_wide_layers_show_their_32_strongest_by_weight_norm_and_say_how_many_more():
    net = random_network([40, 50, 3], ["relu", "identity"], seed=2)
    root = parse(network_diagram(net))
    W0 = net.layers[0].weights
    norms = np.sqrt((W0 ** 2).sum(axis=1))
    expected = sorted(sorted(range(50), key=lambda j: -norms[j])[:MAX_SHOWN])
    assert [int(c.get("data-index")) for c in neurons(root, 0)] == expected
    inputs_norm = np.sqrt((W0 ** 2).sum(axis=0))
    shown_inputs = sorted(int(c.get("data-input")) for c in root.iter("{http://www.w3.org/2000/svg}circle") if c.get("data-input"))
    assert shown_inputs == sorted(sorted(range(40), key=lambda i: -inputs_norm[i])[:MAX_SHOWN])
    more = {t.get("data-layer"): t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "more"}
    assert more == {"input": "+8 more", "0": "+18 more"}
    # every drawn edge joins two shown nodes
    for line in lines(root):
        gap = int(line.get("data-gap"))
        if gap == 0:
            assert int(line.get("data-from")) in shown_inputs and int(line.get("data-to")) in expected


def test_with_an_input_the_strongest_are_those_of_largest_activation():
    net = random_network([4, 60, 2], ["relu", "identity"], seed=3)
    x = np.array([1.0, -1.0, 0.5, 2.0])
    root = parse(network_diagram(net, x))
    a = np.maximum(net.layers[0].weights @ x + net.layers[0].biases, 0)
    expected = sorted(sorted(range(60), key=lambda j: -abs(a[j]))[:MAX_SHOWN])  # stable: ties by index
    assert [int(c.get("data-index")) for c in neurons(root, 0)] == expected


def test_only_the_strongest_edges_are_drawn():
    net = random_network([32, 32, 32, 32], ["relu", "relu", "identity"], seed=4)
    root = parse(network_diagram(net))
    per_gap = EDGE_BUDGET // 3
    for g, layer in enumerate(net.layers):
        drawn = [l for l in lines(root) if l.get("data-gap") == str(g)]
        assert len(drawn) == per_gap
        threshold = np.sort(np.abs(layer.weights).ravel())[::-1][per_gap - 1]
        assert min(abs(float(l.get("data-weight"))) for l in drawn) == pytest.approx(threshold, rel=1e-8)
        for l in drawn:
            assert float(l.get("data-weight")) == pytest.approx(layer.weights[int(l.get("data-to")), int(l.get("data-from"))], rel=1e-8)
    widths = np.array([float(l.get("stroke-width")) for l in lines(root)])
    weights = np.array([abs(float(l.get("data-weight"))) for l in lines(root)])
    np.testing.assert_allclose(widths / weights, MAX_EDGE_WIDTH / weights.max(), rtol=2e-3)  # one scale for the picture


def test_words_are_escaped_and_the_document_stays_well_formed():
    words = ["<script>alert(1)</script>", "a&b", 'say "hi"', "it's", "bell\x07", "fine"]
    net = random_network([4, 3, len(words)], ["relu", "identity"], seed=5)
    svg = network_diagram(net, np.ones(4), Labels(output_words=words, input_groups=[(0, 2, "<b>"), (2, 4, "&amp;")]), title="<t>")
    assert "<script>" not in svg
    root = parse(svg)
    shown = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "word"}
    assert shown == {"<script>alert(1)</script>", "a&b", 'say "hi"', "it's", "bell\ufffd", "fine"}
    groups = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "input-group"]
    assert groups == ["<b>", "&amp;"]
    assert root.find("svg:title", NS).text == "<t>"


def test_a_large_language_sized_network_stays_under_500_kb():
    net = random_network([160, 512, 512, 20_000], ["relu", "tanh", "identity"], seed=6, dtype="float32")
    words = [f"word{i}" for i in range(20_000)]
    for inputs in (None, np.linspace(-1, 1, 160)):
        svg = network_diagram(net, inputs, Labels(output_words=words))
        parse(svg)
        assert len(svg.encode()) < 500_000


def test_many_layers_share_the_edge_budget():
    net = random_network([40] * 17, ["tanh"] * 16, seed=7)
    svg = network_diagram(net, np.ones(40))
    root = parse(svg)
    assert len(lines(root)) == EDGE_BUDGET // 16 * 16
    assert len(svg.encode()) < 500_000


def test_a_language_networks_output_column_shows_its_most_probable_words():
    net = random_network([6, 8, 100], ["tanh", "identity"], seed=8)
    words = [f"w{i}" for i in range(100)]
    x = np.linspace(-1, 1, 6)
    root = parse(network_diagram(net, x, Labels(output_words=words)))
    logits = net.layers[1].weights @ np.tanh(net.layers[0].weights @ x + net.layers[0].biases) + net.layers[1].biases
    expected = sorted(sorted(range(100), key=lambda j: -logits[j])[:MAX_SHOWN])
    assert [int(c.get("data-index")) for c in neurons(root, 1)] == expected
    assert {t.text for t in root.iter("{http://www.w3.org/2000/svg}text") if t.get("class") == "word"} == {words[j] for j in expected}
    # a plain network's output layer keeps the rule of every layer: by |activation|
    plain = parse(network_diagram(net, x))
    assert [int(c.get("data-index")) for c in neurons(plain, 1)] == sorted(sorted(range(100), key=lambda j: -abs(logits[j]))[:MAX_SHOWN])
