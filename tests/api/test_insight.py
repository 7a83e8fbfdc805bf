"""Neuron cards, examples, explanations and interventions over HTTP, every number checked against numpy
on the weights the service stored (read back with GET), on float64 and float32 networks."""
import math

import numpy as np
import orjson
import pytest

from service import create_app
from service.config import Config
from tests.api.helpers import XOR, assert_problem, post_json, put_json
from tests.contract.openapi_contract import checking_client
from tests.api.conftest import CONTRACT

VOCAB = ["<pad>", "<unk>", "</s>", "the", "cat", "sat", "on", "mat", "<script>"]
K, D, H = 2, 2, 3  # context size, embedding width, hidden neurons


def language_definition(dtype="float64", seed=0):
    rng = np.random.default_rng(seed)
    return {
        "dtype": dtype,
        "vocabulary": VOCAB,
        "context_size": K,
        "embeddings": rng.normal(size=(len(VOCAB), D)).round(3).tolist(),
        "layers": [
            {"weights": rng.normal(size=(H, K * D)).round(3).tolist(), "biases": rng.normal(size=H).round(3).tolist(), "activation": "tanh"},
            {"weights": rng.normal(size=(len(VOCAB), H)).round(3).tolist(), "biases": rng.normal(size=len(VOCAB)).round(3).tolist(), "activation": "identity"},
        ],
    }


class Stored:
    """The network as stored (GET), and an independent float64 forward pass over it."""

    def __init__(self, body):
        cast = np.float32 if body["dtype"] == "float32" else np.float64
        self.E = np.array(body["embeddings"], dtype=cast).astype(np.float64)
        self.W = [np.array(l["weights"], dtype=cast).astype(np.float64) for l in body["layers"]]
        self.b = [np.array(l["biases"], dtype=cast).astype(np.float64) for l in body["layers"]]
        self.tolerance = dict(rel=1e-12, abs=1e-12) if body["dtype"] == "float64" else dict(rel=3e-5, abs=3e-5)

    def ids(self, words):
        words = ["<pad>"] * max(0, K - len(words)) + words[-K:]
        return [VOCAB.index(w) if w in VOCAB else 1 for w in words]

    def hidden(self, ids, edits=()):
        z = self.E[ids].reshape(-1) @ self.W[0].T + self.b[0]
        a = np.tanh(z)
        for index, kind, value in edits:
            a[index] = value if kind == "set" else a[index] * value
        return z, a

    def logp(self, ids, edits=(), temperature=1.0):
        logits = self.hidden(ids, edits)[1] @ self.W[1].T + self.b[1]
        s = logits / temperature
        return s - s.max() - math.log(np.exp(s - s.max()).sum())


@pytest.fixture(params=["float64", "float32"])
def lm(client, request):
    assert put_json(client, "/v1/networks/lm", language_definition(request.param)).status_code == 201
    return Stored(client.get("/v1/networks/lm").get_json())


CARD = "/v1/networks/lm/layers/{}/neurons/{}"


def top(values, k):
    return np.argsort(-np.asarray(values), kind="stable")[:k].tolist()


# --- the card ---------------------------------------------------------------------------------------------

def test_a_first_layer_card_is_its_weights_and_the_words_they_score(client, lm):
    response = client.get(CARD.format(0, 1) + "?k=3")
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'
    card = response.get_json()
    assert (card["name"], card["revision"], card["layer"], card["index"], card["activation"]) == ("lm", 1, 0, 1, "tanh")
    assert card["weights"] == pytest.approx(lm.W[0][1], **lm.tolerance) and card["bias"] == pytest.approx(lm.b[0][1], **lm.tolerance)
    assert (card["fan_in"], card["fan_out"]) == (K * D, len(VOCAB))
    assert card["outgoing"] == pytest.approx(lm.W[1][:, 1], **lm.tolerance)
    assert [s["input"] for s in card["strongest_inputs"]] == top(np.abs(lm.W[0][1]), 3)
    for s, slot in enumerate(card["input_words"]):
        score = lm.E @ lm.W[0][1, s * D : (s + 1) * D]
        assert [w["word"] for w in slot["excites"]] == [VOCAB[i] for i in top(score, 3)]
        assert [w["word"] for w in slot["inhibits"]] == [VOCAB[i] for i in top(-score, 3)]
        assert [w["score"] for w in slot["excites"]] == pytest.approx(score[top(score, 3)], **lm.tolerance)
    u = lm.W[1][:, 1]  # the layer feeds the output layer too
    assert [w["word"] for w in card["output_words"]["promotes"]] == [VOCAB[i] for i in top(u, 3)]
    assert [w["weight"] for w in card["output_words"]["suppresses"]] == pytest.approx(np.sort(u)[:3], **lm.tolerance)


def test_an_output_neurons_card_has_no_outgoing_weights(client, lm):
    card = client.get(CARD.format(1, 4)).get_json()
    assert card["fan_out"] == 0 and "outgoing" not in card and "output_words" not in card and "input_words" not in card
    assert len(card["strongest_inputs"]) == H  # k = 10 by default, cut to the fan-in


def test_the_card_follows_the_revision(client, lm):
    assert client.get(CARD.format(0, 0), headers={"If-None-Match": '"1"'}).status_code == 304
    assert_problem(client.get(CARD.format(0, 9), headers={"If-None-Match": '"1"'}), 404)  # a neuron that is not there is not "not modified"
    changed = language_definition(seed=1)
    assert put_json(client, "/v1/networks/lm", changed).status_code == 200
    response = client.get(CARD.format(0, 0), headers={"If-None-Match": '"1"'})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    assert response.get_json()["weights"] == changed["layers"][0]["weights"][0]


def test_a_plain_network_card(client):
    put_json(client, "/v1/networks/xor", XOR)
    card = client.get("/v1/networks/xor/layers/0/neurons/1?k=1").get_json()
    assert card == {"name": "xor", "revision": 1, "layer": 0, "index": 1, "activation": "relu", "bias": -1.0, "weights": [1.0, 1.0],
                    "fan_in": 2, "fan_out": 1, "outgoing": [-2.0], "strongest_inputs": [{"input": 0, "weight": 1.0}]}


@pytest.mark.parametrize("path, status, field, words", [
    ("/v1/networks/nothing/layers/0/neurons/0", 404, None, "no network named 'nothing'"),
    ("/v1/networks/xor/layers/2/neurons/0", 404, None, "the network has 2 layers (0..1), not layer 2"),
    ("/v1/networks/xor/layers/-1/neurons/0", 404, None, "(0..1)"),
    ("/v1/networks/xor/layers/1/neurons/1", 404, None, "layer 1 has 1 neurons (0..0), not neuron 1"),
    ("/v1/networks/xor/layers/0/neurons/0?k=0", 422, "k", "expected a whole number in 1..100, got 0"),
    ("/v1/networks/xor/layers/0/neurons/0?k=101", 422, "k", "expected a whole number in 1..100, got 101"),
    ("/v1/networks/xor/layers/0/neurons/0?k=ten", 422, "k", "expected a whole number"),
    ("/v1/networks/xor/layers/first/neurons/0", 422, "layer", "expected a whole number, got 'first'"),
    ("/v1/networks/xor/layers/0/neurons/1.5", 422, "index", "expected a whole number, got '1.5'"),
])
def test_card_mistakes_name_what_exists(client, path, status, field, words):
    put_json(client, "/v1/networks/xor", XOR)
    assert_problem(client.get(path), status, field, words)


# --- examples ---------------------------------------------------------------------------------------------

TEXT = "the cat sat on the mat . the cat sat on the <script> mat"


def test_examples_are_the_neurons_activations_over_the_score_contexts(client, lm):
    response = post_json(client, "/v1/networks/lm/layers/0/neurons/2/examples", {"text": TEXT, "k": 3})
    assert response.status_code == 200, response.get_data()
    body = response.get_json()
    tokens = client.post("/v1/networks/lm/tokenize", data=orjson.dumps({"text": TEXT}), content_type="application/json").get_json()["tokens"]
    tokens = tokens + ["</s>"]
    padded = ["<pad>"] * K + tokens
    z = np.array([lm.hidden(lm.ids(padded[t : t + K]))[0][2] for t in range(len(tokens))])
    a = np.tanh(z)
    assert body["positions"] == len(tokens) == len(client.post("/v1/networks/lm/score", data=orjson.dumps({"text": TEXT}),
                                                              content_type="application/json").get_json()["tokens"])
    assert body["mean"] == pytest.approx(a.mean(), **lm.tolerance)
    assert list(body["quantiles"].values()) == pytest.approx(np.percentile(a, [0, 25, 50, 75, 100]), **lm.tolerance)
    assert body["dead_fraction"] == pytest.approx(np.mean(1 - a * a < 1e-6))
    for entry in body["top"] + body["bottom"]:
        t = entry["position"]
        assert entry["context"] == padded[t : t + K] and entry["next_word"] == tokens[t]
        assert entry["activation"] == pytest.approx(a[t], **lm.tolerance)
        assert entry["weighted_sum"] == pytest.approx(z[t], **lm.tolerance)
    assert [e["activation"] for e in body["top"]] == pytest.approx(np.sort(a)[::-1][:3], **lm.tolerance)
    assert [e["activation"] for e in body["bottom"]] == pytest.approx(np.sort(a)[:3], **lm.tolerance)
    positions = [e["position"] for e in body["top"]]
    same = [p for p in positions if a[p] == a[positions[0]]]
    assert same == sorted(same)  # "the cat sat on the" repeats: equal activations, the earlier position first


@pytest.mark.parametrize("body, status, field", [
    ({"text": "the cat", "k": 0}, 422, "k"),
    ({"text": "the cat", "k": 101}, 422, "k"),
    ({"text": "  \n "}, 422, "text"),
    ({"k": 3}, 422, "text"),
    ({"text": "the", "extra": 1}, 422, "extra"),
])
def test_examples_mistakes(client, lm, body, status, field):
    response = post_json(client, "/v1/networks/lm/layers/0/neurons/0/examples", body)
    assert_problem(response, status, field)


def test_examples_need_a_language_network_and_an_existing_neuron(client, lm):
    put_json(client, "/v1/networks/xor", XOR)
    assert_problem(post_json(client, "/v1/networks/xor/layers/0/neurons/0/examples", {"text": "a"}), 409)
    assert_problem(post_json(client, "/v1/networks/lm/layers/0/neurons/3/examples", {"text": "a"}), 404, contains="layer 0 has 3 neurons (0..2)")


def test_a_million_words_answer_and_one_more_is_413_naming_the_limit(tmp_path):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'big.db'}", seed_demo=False, max_body_bytes=8 * 1024 * 1024))
    try:
        client = checking_client(app, CONTRACT)
        put_json(client, "/v1/networks/lm", language_definition())
        path = "/v1/networks/lm/layers/0/neurons/0/examples"
        response = post_json(client, path, {"text": "cat " * 1_000_000, "k": 1})
        assert response.status_code == 200 and response.get_json()["positions"] == 1_000_001
        body = assert_problem(post_json(client, path, {"text": "cat " * 1_000_001}), 413, "text", "at most 1000000")
        assert (body["maximum"], body["received"]) == (1_000_000, 1_000_001)
    finally:
        app.extensions["neuronhub"].store.dispose()


# --- explain ----------------------------------------------------------------------------------------------

def test_explain_decomposes_the_logit_exactly(client, lm):
    response = post_json(client, "/v1/networks/lm/explain", {"context": "The cat sat on the", "target": "mat", "k": 2})
    assert response.status_code == 200, response.get_data()
    body = response.get_json()
    ids = lm.ids(["on", "the"])
    a = lm.hidden(ids)[1]
    t = VOCAB.index("mat")
    attribution = lm.W[1][t] * a
    logp = lm.logp(ids)
    assert (body["target"], body["id"]) == ("mat", t)
    assert body["logit"] == pytest.approx(attribution.sum() + lm.b[1][t], **lm.tolerance)
    assert body["logprob"] == pytest.approx(logp[t], **lm.tolerance)
    assert body["probability"] == pytest.approx(math.exp(logp[t]), **lm.tolerance)
    assert body["bias"] == pytest.approx(lm.b[1][t], **lm.tolerance)
    assert body["attribution_total"] == pytest.approx(attribution.sum(), **lm.tolerance)
    tolerance = 1e-9 if lm.tolerance["rel"] < 1e-9 else 1e-4
    assert abs(body["attribution_total"] + body["bias"] - body["logit"]) <= tolerance
    assert [n["index"] for n in body["neurons"]] == top(np.abs(attribution), 2)
    assert [n["attribution"] for n in body["neurons"]] == pytest.approx(attribution[top(np.abs(attribution), 2)], **lm.tolerance)
    mean = lm.E.mean(axis=0)
    for s, slot in enumerate(body["slots"]):
        E = lm.E.copy()
        x = E[ids].copy()
        x[s] = mean
        z = x.reshape(-1) @ lm.W[0].T + lm.b[0]
        logits = np.tanh(z) @ lm.W[1].T + lm.b[1]
        replaced = logits - logits.max() - math.log(np.exp(logits - logits.max()).sum())
        assert slot["word"] == ["on", "the"][s]
        assert slot["delta_logprob"] == pytest.approx(replaced[t] - logp[t], rel=1e-9 if tolerance == 1e-9 else 1e-3, abs=1e-9 if tolerance == 1e-9 else 1e-4)


def test_explain_defaults_to_the_most_probable_word(client, lm):
    body = post_json(client, "/v1/networks/lm/explain", {"context": "the cat"}).get_json()
    predicted = post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "top_k": 1}).get_json()["words"][0]
    assert (body["target"], body["probability"]) == (predicted["word"], predicted["probability"])
    assert len(body["neurons"]) == H


def test_explain_a_plain_output(client):
    put_json(client, "/v1/networks/xor", XOR)
    body = post_json(client, "/v1/networks/xor/explain", {"inputs": [1, 1], "output": 0}).get_json()
    assert body == {"name": "xor", "revision": 1, "output": 0, "weighted_sum": 0.0, "activation": 0.0, "bias": 0.0, "attribution_total": 0.0,
                    "neurons": [{"layer": 0, "index": 0, "activation": 2.0, "weight": 1.0, "attribution": 2.0},
                                {"layer": 0, "index": 1, "activation": 1.0, "weight": -2.0, "attribution": -2.0}]}


@pytest.mark.parametrize("network, body, field, words", [
    ("lm", {"context": "the cat", "target": "zebra"}, "target", "'zebra' is not in the network's vocabulary of 9 words"),
    ("lm", {"context": "the", "k": 0}, "k", "1..100"),
    ("lm", {"target": "cat"}, "context", "required"),
    ("lm", {"context": "the", "inputs": [1, 2]}, "inputs", "not used here"),
    ("xor", {"inputs": [1, 1]}, "output", "required"),
    ("xor", {"inputs": [1, 1], "output": 1}, "output", "expected an output neuron in 0..0, got 1"),
    ("xor", {"inputs": [[1, 1], [0, 1]], "output": 0}, "inputs", "expected one input vector"),
    ("xor", {"inputs": [1, 1, 1], "output": 0}, "inputs", "expected 2 values per input vector, got 3"),
    ("xor", {"context": "the", "inputs": [1, 1], "output": 0}, "context", "not used here"),
])
def test_explain_mistakes_name_the_field(client, network, body, field, words):
    put_json(client, "/v1/networks/lm", language_definition())
    put_json(client, "/v1/networks/xor", XOR)
    assert_problem(post_json(client, f"/v1/networks/{network}/explain", body), 422, field, words)


# --- interventions ----------------------------------------------------------------------------------------

def test_forward_with_interventions_on_xor(client):
    put_json(client, "/v1/networks/xor", XOR)
    body = {"inputs": [[1, 1], [1, 0]], "trace": True, "interventions": [{"layer": 0, "index": 1, "set": 0}, {"layer": 1, "index": 0, "scale": 3}]}
    answer = post_json(client, "/v1/networks/xor/forward", body).get_json()
    # hidden: relu(x1 + x2) and 0 (ablated); output 3 * (h1 - 2 * 0)
    assert answer["trace"][0]["activations"] == [[2.0, 0.0], [1.0, 0.0]]
    assert answer["trace"][0]["weighted_sums"] == [[2.0, 1.0], [1.0, 0.0]]
    assert answer["outputs"] == [[6.0], [3.0]]


def test_predict_with_interventions_reports_the_effect(client, lm):
    edits = [{"layer": 0, "index": 0, "set": 0}, {"layer": 0, "index": 2, "scale": -1.5}]
    body = post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "top_k": 3, "temperature": 0.7, "interventions": edits}).get_json()
    plain = post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "top_k": 3, "temperature": 0.7}).get_json()
    assert "effect" not in plain
    ids = lm.ids(["the", "cat"])
    before, after = lm.logp(ids, temperature=0.7), lm.logp(ids, [(0, "set", 0.0), (2, "scale", -1.5)], temperature=0.7)
    assert [w["id"] for w in body["words"]] == top(after, 3)
    assert [w["log_probability"] for w in body["words"]] == pytest.approx(after[top(after, 3)], **lm.tolerance)
    kl = float(np.sum(np.exp(before) * (before - after)))
    assert body["effect"]["kl_divergence"] == pytest.approx(kl, rel=1e-9 if lm.tolerance["rel"] < 1e-9 else 1e-3)
    assert body["effect"]["baseline"] == plain["words"]


def test_score_and_generate_take_interventions(client, lm):
    edits = [{"layer": 0, "index": 1, "set": 0.9}]
    score = post_json(client, "/v1/networks/lm/score", {"text": "the cat sat", "interventions": edits}).get_json()
    tokens = ["the", "cat", "sat", "</s>"]
    padded = ["<pad>"] * K + tokens
    expected = [lm.logp(lm.ids(padded[t : t + K]), [(1, "set", 0.9)])[VOCAB.index(w)] for t, w in enumerate(tokens)]
    assert score["log_probabilities"] == pytest.approx(expected, **lm.tolerance)
    generated = post_json(client, "/v1/networks/lm/generate", {"prompt": "the", "max_words": 4, "temperature": 0, "interventions": edits}).get_json()
    context = ["<pad>", "the"]
    for word in generated["words"]:
        logp = lm.logp(lm.ids(context), [(1, "set", 0.9)])
        logp[0] = -np.inf
        assert word["id"] == int(np.argmax(logp))
        context = context[1:] + [word["word"]]


@pytest.mark.parametrize("intervention, field, words", [
    ({"layer": 1, "index": 0, "set": 0}, "interventions[0].layer", "expected a layer in 0..0 (the network's hidden layers), got 1"),
    ({"layer": 0, "index": 3, "set": 0}, "interventions[0].index", "expected a neuron in 0..2 (layer 0 has 3 neurons), got 3"),
    ({"layer": 0, "index": 0, "set": 0, "scale": 2}, "interventions[0].set", "exactly one of set"),
    ({"layer": 0, "index": 0}, "interventions[0].set", "exactly one of set"),
    ({"layer": 0, "set": 1}, "interventions[0].index", "required"),
    ({"layer": "0", "index": 0, "set": 1}, "interventions[0].layer", "expected a whole number"),
    ({"layer": 0, "index": 0, "set": "off"}, "interventions[0].set", "expected a number"),
    ({"layer": 0, "index": 0, "set": 1, "mode": "x"}, "interventions[0].mode", "unknown field"),
])
@pytest.mark.parametrize("operation, body", [("predict", {"context": "the cat"}), ("score", {"text": "the cat"}),
                                             ("generate", {"prompt": "the", "max_words": 2, "seed": 1})])
def test_bad_interventions_are_422_naming_the_range_and_store_nothing(client, lm, operation, body, intervention, field, words):
    before = client.get("/v1/networks/lm").get_data()
    response = post_json(client, f"/v1/networks/lm/{operation}", {**body, "interventions": [intervention]})
    assert_problem(response, 422, field, words)
    assert client.get("/v1/networks/lm").get_data() == before


@pytest.mark.parametrize("interventions, field, words", [
    ("none", "interventions", "expected a list of 0 to 1000 values, got string 'none'"),
    ({"layer": 0, "index": 0, "set": 0}, "interventions", "expected a list of 0 to 1000 values, got an object"),
    ([{"layer": 0, "index": 0, "scale": 1}] * 1001, "interventions", "expected a list of 0 to 1000 values, got a list of 1001 values"),
    ([{"layer": 0, "index": 0, "set": 0}, 5], "interventions[1]", "expected an object {layer, index, set | scale}, got number 5"),
])
def test_a_malformed_interventions_list_is_422_saying_what_came(client, lm, interventions, field, words):
    assert_problem(post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "interventions": interventions}), 422, field, words)


def test_interventions_store_nothing(client, lm):
    before = client.get("/v1/networks/lm").get_data()
    for _ in range(2):
        post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "interventions": [{"layer": 0, "index": 0, "set": 5}]})
    assert client.get("/v1/networks/lm").get_data() == before
    plain = post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "top_k": 2}).get_json()
    assert plain["words"] == post_json(client, "/v1/networks/lm/predict", {"context": "the cat", "top_k": 2, "interventions": []}).get_json()["words"]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_plain_network_card_explain_and_interventions_against_numpy(client, dtype):
    rng = np.random.default_rng(21)
    layers = [{"weights": rng.normal(size=(5, 3)).round(4).tolist(), "biases": rng.normal(size=5).round(4).tolist(), "activation": "sigmoid"},
              {"weights": rng.normal(size=(4, 5)).round(4).tolist(), "biases": rng.normal(size=4).round(4).tolist(), "activation": "gelu"},
              {"weights": rng.normal(size=(2, 4)).round(4).tolist(), "biases": rng.normal(size=2).round(4).tolist(), "activation": "identity"}]
    put_json(client, "/v1/networks/plain", {"dtype": dtype, "layers": layers})
    cast = np.float32 if dtype == "float32" else np.float64
    W = [np.array(l["weights"], dtype=cast).astype(np.float64) for l in layers]
    b = [np.array(l["biases"], dtype=cast).astype(np.float64) for l in layers]
    tolerance = dict(rel=1e-12, abs=1e-12) if dtype == "float64" else dict(rel=3e-5, abs=3e-5)

    def run(x, edits=()):
        a, hidden = np.asarray(x, dtype=np.float64), []
        for i, (w, bias) in enumerate(zip(W, b)):
            z = a @ w.T + bias
            a = 1 / (1 + np.exp(-z)) if i == 0 else (z * 0.5 * np.array([math.erfc(-v / math.sqrt(2)) for v in z]) if i == 1 else z.copy())
            for layer, index, kind, value in edits:
                if layer == i:
                    a[index] = value if kind == "set" else a[index] * value
            hidden.append((z, a))
        return hidden

    card = client.get("/v1/networks/plain/layers/1/neurons/2?k=3").get_json()
    assert [s["input"] for s in card["strongest_inputs"]] == top(np.abs(W[1][2]), 3)
    assert card["outgoing"] == pytest.approx(W[2][:, 2], **tolerance) and card["fan_out"] == 2
    x = [0.5, -1.25, 2.0]
    body = post_json(client, "/v1/networks/plain/explain", {"inputs": x, "output": 1, "k": 2}).get_json()
    values = run(x)
    attribution = W[2][1] * values[1][1]
    assert body["weighted_sum"] == pytest.approx(values[2][0][1], **tolerance)
    assert [n["index"] for n in body["neurons"]] == top(np.abs(attribution), 2)
    assert body["attribution_total"] == pytest.approx(attribution.sum(), **tolerance)
    edits = [(0, 4, "set", 0.25), (1, 1, "scale", -3.0), (2, 0, "set", 7.0)]
    answer = post_json(client, "/v1/networks/plain/forward", {"inputs": x, "trace": True, "interventions": [
        {"layer": l, "index": j, kind: v} for l, j, kind, v in edits]}).get_json()
    for step, (z, a) in zip(answer["trace"], run(x, edits)):
        assert step["weighted_sums"] == pytest.approx(z, **tolerance) and step["activations"] == pytest.approx(a, **tolerance)
    assert answer["outputs"][0] == 7.0  # an output neuron's intervention is the output
    assert_problem(post_json(client, "/v1/networks/plain/forward", {"inputs": x, "interventions": [{"layer": 3, "index": 0, "set": 0}]}),
                   422, "interventions[0].layer", "expected a layer in 0..2 (the network's layers), got 3")


@pytest.mark.parametrize("path, body, field", [
    ("/v1/networks/lm/predict", {"context": "the", "interventions": None}, "interventions"),
    ("/v1/networks/lm/predict", {"context": "the", "interventions": [{"layer": 0, "index": 0, "set": None, "scale": 2}]}, "interventions[0].set"),
    ("/v1/networks/lm/explain", {"context": None}, "context"),
    ("/v1/networks/lm/explain", {"context": "the", "output": None}, "output"),
])
def test_null_is_refused_where_the_spec_says_a_value(client, lm, path, body, field):
    assert_problem(post_json(client, path, body), 422, field, "null")
