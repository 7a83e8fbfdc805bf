import math

import numpy as np
import pytest

from service.demo import DEMO_NETWORKS, DEMO_NEURONS, build_demo_language_model
from service.demo.train_demo import DEMO_SETTINGS, demo_texts
from service.engine.network import Layer, Network
from service.engine.neuron import Neuron


@pytest.fixture(scope="module")
def demo():
    return build_demo_language_model()


def test_a_neuron_multiplies_each_input_by_its_weight(demo):
    model, _ = demo
    words = [w.word for w in model.predict("A neuron multiplies each input by its", top_k=3).words]
    assert words[0] == "weight"


def test_the_output_layer_scores_every_word(demo):
    model, _ = demo
    words = [w.word for w in model.predict("the output layer scores every", top_k=3).words]
    assert words[0] == "word"


def test_demo_report(demo):
    model, report = demo
    assert report.vocabulary_size == model.vocabulary_size and 250 < report.vocabulary_size < 500
    assert report.validation_perplexity < report.unigram_perplexity
    assert report.train_loss < report.validation_loss
    assert 2_500 <= sum(len(t.split()) for t in demo_texts()) <= 4_000


def test_demo_training_is_deterministic(demo):
    model, _ = demo
    again, _ = build_demo_language_model()
    (_, a), (_, b) = model.to_arrays(), again.to_arrays()
    assert all(a[name].tobytes() == b[name].tobytes() for name in a)
    assert DEMO_SETTINGS.seed == 2003


def test_generation_is_reproducible_and_ends_at_the_end_of_a_paragraph(demo):
    model, _ = demo
    g = model.generate("The neuron", max_words=200, temperature=0.7, seed=0)
    assert g.stop_reason == "end_of_text" and g.words[-1].word == "</s>"
    assert g.text.startswith("the neuron ") and g.text.endswith(".")
    assert model.generate("The neuron", max_words=200, temperature=0.7, seed=0).text == g.text


def network(definition):
    return Network([Layer(np.array(l["weights"], float), np.array(l["biases"], float), l["activation"]) for l in definition["layers"]])


def test_xor_network_is_exact():
    xor = network(DEMO_NETWORKS["xor-network"])
    out = xor.forward(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], float))
    assert out[:, 0].tolist() == [0.0, 1.0, 1.0, 0.0]


def test_demo_neurons_compute_what_they_describe():
    relu = DEMO_NEURONS["relu-neuron"]
    n = Neuron(np.array(relu["weights"]), relu["bias"], relu["activation"])
    assert n.evaluate(np.array([[1.0, 2.0, 0.5]])).outputs.tolist() == [0.5 * 1 - 2 + 2 * 0.5 + 0.5]
    assert n.evaluate(np.array([[0.0, 3.0, 0.0]])).outputs.tolist() == [0.0]

    sig = DEMO_NEURONS["sigmoid-neuron"]
    n = Neuron(np.array(sig["weights"]), sig["bias"], sig["activation"])
    z = 1.5 * 1 - 2 * 0.5 + 0.25
    assert n.evaluate(np.array([[1.0, 0.5]])).outputs[0] == pytest.approx(1 / (1 + math.exp(-z)))

    tanh = DEMO_NEURONS["tanh-neuron"]
    n = Neuron(np.array(tanh["weights"]), tanh["bias"], tanh["activation"])
    assert n.evaluate(np.array([[0.5, 0.5]])).outputs.tolist() == [0.0]
    for definition in DEMO_NEURONS.values():
        assert set(definition) == {"weights", "bias", "activation", "description"}
