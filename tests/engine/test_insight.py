"""Neuron insight (service/engine/insight.py) and interventions, against an independent reference: a
float64 forward pass written here with the textbook activation formulas, one number at a time."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.engine import insight
from service.engine.activations import ACTIVATIONS
from service.engine.errors import EngineError, NonFiniteResult
from service.engine.interventions import Intervention
from service.engine.language import LanguageModel
from service.engine.network import Layer, Network
from service.engine.tokenizer import EOS, PAD, UNK

from .test_activations import scalar_reference

TOLERANCE = {"float64": dict(rel=1e-12, abs=1e-12), "float32": dict(rel=2e-5, abs=2e-5)}


def reference_values(layers, x, edits=()):
    """[(z, a)] per layer in float64; edits: (layer, index, "set"|"scale", value) applied to a."""
    a = np.asarray(x, dtype=np.float64)
    values = []
    for i, layer in enumerate(layers):
        z = a @ np.asarray(layer.weights, dtype=np.float64).T + np.asarray(layer.biases, dtype=np.float64)
        if layer.activation == "softmax":
            e = np.exp(z - z.max(axis=1, keepdims=True))
            a = e / e.sum(axis=1, keepdims=True)
        else:
            a = np.array([[scalar_reference(layer.activation, float(v)) for v in row] for row in z])
        for at, index, kind, value in edits:
            if at == i:
                a[:, index] = value if kind == "set" else a[:, index] * value
        values.append((z, a))
    return values


def reference_log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def random_network(rng, sizes, activations, dtype="float64"):
    layers = [Layer(rng.normal(size=(n_out, n_in)), rng.normal(size=n_out) * 0.5, act)
              for n_in, n_out, act in zip(sizes[:-1], sizes[1:], activations)]
    return Network(layers, dtype)


def as_interventions(edits):
    return [Intervention(l, j, **{kind: v}) for l, j, kind, v in edits]


VOCAB = [PAD, UNK, EOS, "the", "cat", "sat", "on", "mat", "a", "dog"]


def random_language_model(rng, dtype="float64", hidden=(6,), activation="tanh", k=3, d=2):
    sizes = [k * d, *hidden, len(VOCAB)]
    network = random_network(rng, sizes, [activation] * len(hidden) + ["identity"], dtype)
    return LanguageModel(VOCAB, rng.normal(size=(len(VOCAB), d)), k, network)


# --- interventions -------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_interventions_match_the_reference_on_every_activation(activation, dtype):
    rng = np.random.default_rng(len(activation))
    network = random_network(rng, [4, 5, 3, 2], [activation, activation, "identity"], dtype)
    x = rng.normal(size=(3, 4))
    edits = [(0, 2, "set", 0.7), (1, 0, "scale", -1.5), (0, 4, "set", 0.0), (2, 1, "scale", 2.0)]
    expected = reference_values(network.layers, x, edits)
    trace = network.trace(x, as_interventions(edits))
    for (z, a), step in zip(expected, trace):
        assert step.weighted_sums.dtype == np.dtype(dtype)
        assert step.weighted_sums == pytest.approx(z, **TOLERANCE[dtype])
        assert step.activations == pytest.approx(a, **TOLERANCE[dtype])
    assert network.forward(x, as_interventions(edits)) == pytest.approx(expected[-1][1], **TOLERANCE[dtype])
    assert network.weighted_sums(x, as_interventions(edits)) == pytest.approx(expected[-1][0], **TOLERANCE[dtype])
    assert network.forward(x) == pytest.approx(reference_values(network.layers, x)[-1][1], **TOLERANCE[dtype])  # nothing kept


def test_interventions_compose_in_order_and_ablation_is_set_zero():
    network = random_network(np.random.default_rng(1), [3, 4, 2], ["relu", "identity"])
    x = np.array([[1.0, -2.0, 0.5]])
    both = network.forward(x, [Intervention(0, 1, set=2.0), Intervention(0, 1, scale=3.0)])
    assert both == pytest.approx(reference_values(network.layers, x, [(0, 1, "set", 6.0)])[-1][1], rel=1e-12)
    ablated = network.forward(x, [Intervention(0, 3, set=0.0)])
    assert ablated == pytest.approx(reference_values(network.layers, x, [(0, 3, "set", 0.0)])[-1][1], rel=1e-12)


@pytest.mark.parametrize("item, field, message", [
    (Intervention(3, 0, set=0.0), "interventions[0].layer", "expected a layer in 0..2 (the network's layers), got 3"),
    (Intervention(-1, 0, set=0.0), "interventions[0].layer", "expected a layer in 0..2 (the network's layers), got -1"),
    (Intervention(1, 3, set=0.0), "interventions[0].index", "expected a neuron in 0..2 (layer 1 has 3 neurons), got 3"),
    (Intervention(1, -1, scale=1.0), "interventions[0].index", "expected a neuron in 0..2 (layer 1 has 3 neurons), got -1"),
    (Intervention(0, 0), "interventions[0]", "expected exactly one of set (a value) or scale (a factor)"),
    (Intervention(0, 0, set=1.0, scale=2.0), "interventions[0]", "expected exactly one of set (a value) or scale (a factor)"),
])
def test_interventions_out_of_range_name_the_valid_range(item, field, message):
    network = random_network(np.random.default_rng(2), [4, 5, 3, 2], ["relu", "relu", "identity"])
    with pytest.raises(EngineError) as caught:
        network.forward(np.ones((1, 4)), [item])
    assert (caught.value.field, caught.value.message) == (field, message)


def test_values_outside_the_dtype_are_refused_and_overflow_is_caught():
    network32 = random_network(np.random.default_rng(3), [2, 3, 1], ["relu", "identity"], "float32")
    with pytest.raises(NonFiniteResult, match=r"interventions\[0\].set"):
        network32.forward(np.ones((1, 2)), [Intervention(0, 0, set=1e300)])
    with pytest.raises(NonFiniteResult):  # the scaled activation is finite in float64 but the next layer's z is not
        random_network(np.random.default_rng(3), [2, 3, 1], ["identity", "identity"]).forward(
            np.ones((1, 2)), [Intervention(0, 0, set=1e300), Intervention(0, 0, scale=1e10)])


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), activation=st.sampled_from(sorted(ACTIVATIONS)), dtype=st.sampled_from(["float64", "float32"]))
def test_scale_one_and_setting_the_value_it_has_change_nothing(seed, activation, dtype):
    rng = np.random.default_rng(seed)
    network = random_network(rng, [3, 4, 3, 2], [activation, activation, "identity"], dtype)
    x = rng.normal(size=(2, 3))
    layer, index = int(rng.integers(0, 3)), int(rng.integers(0, 2))
    plain = network.trace(x)
    assert np.array_equal(network.forward(x, [Intervention(layer, index, scale=1.0)]), plain[-1].activations)
    one = x[:1]  # set: one value for the whole batch, so one input vector
    current = float(network.trace(one)[layer].activations[0, index])
    assert np.array_equal(network.forward(one, [Intervention(layer, index, set=current)]), network.trace(one)[-1].activations)


# --- language networks: predict, score, generate with interventions, and the effect --------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_language_interventions_match_the_reference(dtype):
    rng = np.random.default_rng(5)
    model = random_language_model(rng, dtype, hidden=(6, 4))
    edits = [(0, 2, "set", 0.0), (1, 3, "scale", 2.5)]
    items = as_interventions(edits)
    layers = model.network.layers

    def reference_logp(ids):
        x = np.asarray(model.embeddings, dtype=np.float64)[np.asarray(ids)].reshape(len(ids), -1)
        return reference_log_softmax(reference_values(layers, x, edits)[-1][0])

    prediction = model.predict("the cat sat", top_k=4, interventions=items)
    logp = reference_logp(model.context_ids("the cat sat").ids[None, :])[0]
    expected_order = np.argsort(-logp, kind="stable")[:4]
    assert [w.id for w in prediction.words] == expected_order.tolist()
    assert [w.log_probability for w in prediction.words] == pytest.approx(logp[expected_order], **TOLERANCE[dtype])

    text = "the cat sat on the mat a dog"
    score = model.score(text, interventions=items)
    enc = model.tokenizer.encode(text, add_end=True)
    expected = reference_logp(model.contexts(enc.ids))[np.arange(len(enc.ids)), enc.ids]
    assert score.log_probabilities == pytest.approx(expected, **TOLERANCE[dtype])

    generated = model.generate("the", max_words=6, temperature=0, interventions=items)
    context = list(model.context_ids("the").ids)
    for word in generated.words:  # greedy: each word is the reference's argmax without <pad>
        lp = reference_logp(np.array([context]))[0]
        lp[model.vocabulary.pad_id] = -np.inf
        assert word.id == int(np.argmax(lp))
        context = context[1:] + [word.id]


def test_a_language_network_takes_interventions_on_hidden_layers_only():
    model = random_language_model(np.random.default_rng(6), hidden=(6,))
    with pytest.raises(EngineError) as caught:
        model.predict("the cat", interventions=[Intervention(1, 0, set=0.0)])
    assert caught.value.field == "interventions[0].layer"
    assert caught.value.message == "expected a layer in 0..0 (the network's hidden layers), got 1"
    no_hidden = LanguageModel(VOCAB, np.ones((len(VOCAB), 1)), 1, Network([Layer(np.ones((len(VOCAB), 1)), np.zeros(len(VOCAB)), "identity")]))
    with pytest.raises(EngineError, match="no hidden layers to intervene on"):
        no_hidden.score("the cat", interventions=[Intervention(0, 0, set=0.0)])


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_the_effect_is_the_kl_divergence_of_the_two_distributions(temperature):
    model = random_language_model(np.random.default_rng(7))
    items = [Intervention(0, 1, set=0.0), Intervention(0, 4, scale=-2.0)]
    prediction, effect = insight.predict_with_effect(model, "the cat sat", 3, temperature, items)
    assert prediction.as_dict() == model.predict("the cat sat", 3, temperature, items).as_dict()
    x = model.embeddings[model.context_ids("the cat sat").ids].reshape(1, -1)
    p = np.exp(reference_log_softmax(reference_values(model.network.layers, x)[-1][0] / temperature))[0]
    q = np.exp(reference_log_softmax(reference_values(model.network.layers, x, [(0, 1, "set", 0.0), (0, 4, "scale", -2.0)])[-1][0] / temperature))[0]
    assert effect["kl_divergence"] == pytest.approx(float(np.sum(p * np.log(p / q))), rel=1e-10)
    assert effect["kl_divergence"] > 0
    assert effect["baseline"] == [w.as_dict() for w in model.predict("the cat sat", 3, temperature).words]
    assert insight.predict_with_effect(model, "the cat sat", 3, temperature, [Intervention(0, 1, scale=1.0)])[1]["kl_divergence"] == 0.0


# --- the card --------------------------------------------------------------------------------------------

def stable_top(values, k):
    return np.argsort(-np.asarray(values, dtype=np.float64), kind="stable")[:k].tolist()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_language_cards_words_are_the_reference_rankings(dtype):
    rng = np.random.default_rng(8)
    model = random_language_model(rng, dtype, hidden=(5,), k=3, d=2)
    network, E, d = model.network, np.asarray(model.embeddings, dtype=np.float64), 2
    for index in range(5):
        card = insight.neuron_card(network, model, 0, index, 4)
        w = np.asarray(network.layers[0].weights[index], dtype=np.float64)
        assert card["weights"] == network.layers[0].weights[index].tolist()
        assert card["bias"] == float(network.layers[0].biases[index])
        assert (card["fan_in"], card["fan_out"]) == (6, len(VOCAB))
        assert card["outgoing"] == network.layers[1].weights[:, index].tolist()
        assert [s["input"] for s in card["strongest_inputs"]] == stable_top(np.abs(w), 4)
        for s, slot in enumerate(card["input_words"]):
            score = E @ w[s * d : (s + 1) * d]
            assert [x["word"] for x in slot["excites"]] == [VOCAB[i] for i in stable_top(score, 4)]
            assert [x["word"] for x in slot["inhibits"]] == [VOCAB[i] for i in stable_top(-score, 4)]
            assert [x["score"] for x in slot["excites"]] == pytest.approx(np.sort(score)[::-1][:4], **TOLERANCE[dtype])
        u = np.asarray(network.layers[1].weights[:, index], dtype=np.float64)
        assert [x["word"] for x in card["output_words"]["promotes"]] == [VOCAB[i] for i in stable_top(u, 4)]
        assert [x["word"] for x in card["output_words"]["suppresses"]] == [VOCAB[i] for i in stable_top(-u, 4)]
        assert [x["weight"] for x in card["output_words"]["suppresses"]] == pytest.approx(np.sort(u)[:4], **TOLERANCE[dtype])
    output_card = insight.neuron_card(network, model, 1, 3, 100)
    assert "outgoing" not in output_card and output_card["fan_out"] == 0
    assert "input_words" not in output_card and "output_words" not in output_card
    assert len(output_card["strongest_inputs"]) == 5  # k is cut to the neuron's fan-in


def test_ties_list_the_earlier_input_and_word_first():
    network = Network([Layer(np.array([[1.0, -2.0, 2.0, 1.0]]), np.zeros(1), "relu"), Layer(np.ones((2, 1)), np.zeros(2), "identity")])
    card = insight.neuron_card(network, None, 0, 0, 3)
    assert card["strongest_inputs"] == [{"input": 1, "weight": -2.0}, {"input": 2, "weight": 2.0}, {"input": 0, "weight": 1.0}]
    assert "input_words" not in card


@pytest.mark.parametrize("layer, index, field, message", [
    (2, 0, "layer", "the network has 2 layers (0..1), not layer 2"),
    (-1, 0, "layer", "the network has 2 layers (0..1), not layer -1"),
    (0, 5, "index", "layer 0 has 5 neurons (0..4), not neuron 5"),
])
def test_a_missing_layer_or_neuron_is_named_with_what_exists(layer, index, field, message):
    model = random_language_model(np.random.default_rng(9), hidden=(5,))
    with pytest.raises(insight.NoSuchNeuron) as caught:
        insight.neuron_card(model.network, model, layer, index, 3)
    assert (caught.value.field, caught.value.message) == (field, message)


@pytest.mark.parametrize("k", [0, 101, -3, 2.5, True])
def test_k_is_1_to_100(k):
    model = random_language_model(np.random.default_rng(9), hidden=(5,))
    with pytest.raises(EngineError, match=r"expected a whole number in 1\.\.100"):
        insight.neuron_card(model.network, model, 0, 0, k)


# --- explain ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_explain_matches_the_reference(dtype):
    rng = np.random.default_rng(10)
    model = random_language_model(rng, dtype, hidden=(7, 5))
    answer = insight.explain_prediction(model, "the cat sat on", "mat", 3)
    ids = model.context_ids("the cat sat on").ids
    x = np.asarray(model.embeddings, dtype=np.float64)[ids].reshape(1, -1)
    values = reference_values(model.network.layers, x)
    hidden, logits = values[-2][1][0], values[-1][0][0]
    t = VOCAB.index("mat")
    U = np.asarray(model.network.layers[-1].weights, dtype=np.float64)
    attribution = U[t] * hidden
    logp = reference_log_softmax(logits)
    assert answer["target"] == "mat" and answer["id"] == t
    assert answer["logit"] == pytest.approx(logits[t], **TOLERANCE[dtype])
    assert answer["logprob"] == pytest.approx(logp[t], **TOLERANCE[dtype])
    assert answer["probability"] == pytest.approx(math.exp(logp[t]), **TOLERANCE[dtype])
    assert answer["bias"] == float(model.network.layers[-1].biases[t])
    assert answer["attribution_total"] == pytest.approx(attribution.sum(), **TOLERANCE[dtype])
    assert [n["index"] for n in answer["neurons"]] == stable_top(np.abs(attribution), 3)
    for n in answer["neurons"]:
        assert n["layer"] == 1
        assert n["attribution"] == pytest.approx(attribution[n["index"]], **TOLERANCE[dtype])
        assert n["weight"] == pytest.approx(U[t, n["index"]], **TOLERANCE[dtype])
        assert n["activation"] == pytest.approx(hidden[n["index"]], **TOLERANCE[dtype])
    mean = np.asarray(model.embeddings, dtype=np.float64).mean(axis=0)
    for s, slot in enumerate(answer["slots"]):
        replaced = x.copy()
        replaced[0, s * 2 : (s + 1) * 2] = mean
        delta = reference_log_softmax(reference_values(model.network.layers, replaced)[-1][0])[0, t] - logp[t]
        assert slot["word"] == model.context_ids("the cat sat on").tokens[s]
        assert slot["delta_logprob"] == pytest.approx(delta, rel=1e-4 if dtype == "float32" else 1e-9, abs=1e-4 if dtype == "float32" else 1e-12)
    tolerance = 1e-9 if dtype == "float64" else 1e-4 * max(1.0, abs(answer["logit"]))
    assert abs(answer["attribution_total"] + answer["bias"] - answer["logit"]) <= tolerance


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), activation=st.sampled_from(sorted(set(ACTIVATIONS) - {"softmax"})),
       words=st.lists(st.sampled_from(VOCAB[3:]), max_size=6))
def test_attribution_total_plus_bias_is_the_logit_on_random_networks(seed, activation, words):
    rng = np.random.default_rng(seed)
    model = random_language_model(rng, hidden=(int(rng.integers(1, 9)),), activation=activation)
    answer = insight.explain_prediction(model, " ".join(words), None, 5)
    assert abs(answer["attribution_total"] + answer["bias"] - answer["logit"]) <= 1e-9
    probs, _ = model.next_word_distribution(model.context_ids(" ".join(words)).ids)
    assert answer["id"] == int(np.argmax(probs[0]))  # the default target is the most probable word


def test_explain_refuses_an_unknown_target_and_a_network_without_hidden_layer():
    model = random_language_model(np.random.default_rng(11))
    with pytest.raises(EngineError) as caught:
        insight.explain_prediction(model, "the cat", "zebra", 3)
    assert caught.value.field == "target" and "'zebra'" in caught.value.message
    flat = Network([Layer(np.ones((2, 3)), np.zeros(2), "identity")])
    with pytest.raises(EngineError, match="no hidden layer"):
        insight.explain_output(flat, np.ones(3), 0, 3)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_explaining_a_plain_output_matches_the_reference(dtype):
    rng = np.random.default_rng(12)
    network = random_network(rng, [3, 6, 4, 2], ["gelu", "sigmoid", "tanh"], dtype)
    x = np.array([0.3, -1.2, 2.0])
    answer = insight.explain_output(network, x, 1, 10)
    values = reference_values(network.layers, x[None, :])
    attribution = np.asarray(network.layers[-1].weights[1], dtype=np.float64) * values[-2][1][0]
    assert answer["weighted_sum"] == pytest.approx(values[-1][0][0, 1], **TOLERANCE[dtype])
    assert answer["activation"] == pytest.approx(values[-1][1][0, 1], **TOLERANCE[dtype])
    assert [n["index"] for n in answer["neurons"]] == stable_top(np.abs(attribution), 4)
    assert answer["attribution_total"] + answer["bias"] == pytest.approx(answer["weighted_sum"], **TOLERANCE[dtype])
    with pytest.raises(EngineError, match=r"expected an output neuron in 0\.\.1, got 2"):
        insight.explain_output(network, x, 2, 3)


# --- examples --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer, index", [(0, 2), (1, 0), (2, 4)])
def test_examples_match_a_position_by_position_reference(dtype, layer, index):
    rng = np.random.default_rng(13)
    model = random_language_model(rng, dtype, hidden=(6, 5), activation="relu")
    text = "the cat sat on the mat . a dog sat on a cat , the dog sat"
    answer = insight.examples(model, layer, index, text, 4)
    enc = model.tokenizer.encode(text, add_end=True)
    tokens = [PAD] * 3 + enc.tokens
    z, a = [], []
    for t in range(len(enc.tokens)):  # one context at a time
        ids = [model.vocabulary.index.get(w, model.vocabulary.unk_id) for w in tokens[t : t + 3]]
        x = np.asarray(model.embeddings, dtype=np.float64)[ids].reshape(1, -1)
        zt, at = reference_values(model.network.layers, x)[layer]
        z.append(zt[0, index])
        a.append(at[0, index])
    z, a = np.array(z), np.array(a)
    assert answer["positions"] == len(enc.tokens)
    assert answer["mean"] == pytest.approx(a.mean(), **TOLERANCE[dtype])
    expected_q = np.percentile(a, [0, 25, 50, 75, 100])
    assert list(answer["quantiles"].values()) == pytest.approx(expected_q, **TOLERANCE[dtype])
    activation = model.network.layers[layer].activation
    dead = np.mean(z <= 0) if activation == "relu" else 0.0  # identity never has f' < 1e-6
    assert answer["dead_fraction"] == pytest.approx(dead)
    order = np.lexsort((np.arange(len(a)), -np.asarray(a, dtype=model.dtype)))[:4]  # highest first, then earlier
    assert [e["position"] for e in answer["top"]] == order.tolist()
    bottom = np.lexsort((np.arange(len(a)), np.asarray(a, dtype=model.dtype)))[:4]
    assert [e["position"] for e in answer["bottom"]] == bottom.tolist()
    for e in answer["top"] + answer["bottom"]:
        t = e["position"]
        assert e["context"] == tokens[t : t + 3] and e["next_word"] == enc.tokens[t]
        assert e["weighted_sum"] == pytest.approx(z[t], **TOLERANCE[dtype])
        assert e["activation"] == pytest.approx(a[t], **TOLERANCE[dtype])


def test_examples_dead_fraction_counts_saturated_units_and_ties_go_earlier_first():
    # One hidden tanh neuron reading only the last word: huge weights saturate it (f' = 1 - tanh² < 1e-6).
    E = np.array([[0.0], [0.0], [0.0], [1.0], [-1.0], [0.0], [0.0], [0.0], [0.0], [0.0]])
    network = Network([Layer(np.array([[0.0, 100.0]]), np.zeros(1), "tanh"), Layer(np.ones((len(VOCAB), 1)), np.zeros(len(VOCAB)), "identity")])
    model = LanguageModel(VOCAB, E, 2, network)
    answer = insight.examples(model, 0, 0, "the cat the cat", 2)
    # contexts end in: <pad>, the, cat, the, cat -> z = 0, 100, -100, 100, -100
    assert answer["positions"] == 5
    assert answer["dead_fraction"] == pytest.approx(4 / 5)
    assert [e["position"] for e in answer["top"]] == [1, 3]
    assert [e["position"] for e in answer["bottom"]] == [2, 4]
    assert answer["top"][0]["context"] == [PAD, "the"] and answer["top"][0]["next_word"] == "cat"
    assert answer["bottom"][1]["next_word"] == EOS


def test_examples_refuse_an_empty_text_and_one_over_the_word_limit(monkeypatch):
    model = random_language_model(np.random.default_rng(14))
    with pytest.raises(EngineError, match="no words"):
        insight.examples(model, 0, 0, " ", 3)
    monkeypatch.setattr(insight, "MAX_EXAMPLE_WORDS", 5)
    assert insight.examples(model, 0, 0, "a b c d e", 3)["positions"] == 6
    with pytest.raises(insight.TextTooLong) as caught:
        insight.examples(model, 0, 0, "a b c d e f", 3)
    assert caught.value.words == 6 and caught.value.message == "has 6 words; at most 5 are read"


def test_examples_read_long_texts_in_batches_with_the_same_numbers(monkeypatch):
    model = random_language_model(np.random.default_rng(15))
    text = " ".join(np.random.default_rng(16).choice(VOCAB[3:], size=500))
    whole = insight.examples(model, 0, 3, text, 5)
    monkeypatch.setattr(insight, "_EXAMPLE_BATCH", 7)
    assert insight.examples(model, 0, 3, text, 5) == whole
