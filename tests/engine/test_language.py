import io
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from service.engine.errors import EngineError
from service.engine.language import MAX_CONTEXT, LanguageModel, _sample, stable_softmax
from service.engine.network import Layer, Network
from service.engine.tokenizer import EOS, PAD, UNK

# A model small enough to compute by hand: 3 words + 3 specials, context k = 2, embeddings of size d = 1,
# one identity layer from the 2 context values to 6 logits.
VOCAB = [PAD, UNK, EOS, "red", "green", "blue"]
EMBEDDINGS = [[0.0], [0.5], [0.0], [1.0], [2.0], [3.0]]  # one number per word
W = [[0, 0], [0, 0], [0, 1], [1, 0], [0, 0], [1, 1]]  # (6, 2): one row per word
B = [-5, 0, -2, 0, 0, -1]


def tiny(output_activation="identity", biases=B, dtype="float64"):
    layer = Layer(np.array(W, float), np.array(biases, float), output_activation)
    return LanguageModel(VOCAB, np.array(EMBEDDINGS), 2, Network([layer], dtype=dtype))


def by_hand(older, newer, biases=B, temperature=1.0):
    """The distribution after the context words (older, newer), with math.exp and explicit sums."""
    x = [EMBEDDINGS[VOCAB.index(older)][0], EMBEDDINGS[VOCAB.index(newer)][0]]
    logits = [(W[w][0] * x[0] + W[w][1] * x[1] + biases[w]) / temperature for w in range(6)]
    total = sum(math.exp(z) for z in logits)
    return [math.exp(z) / total for z in logits]


def test_context_reading_pads_and_flags_unknown_words():
    m = tiny()
    r = m.context_ids("Purple")
    assert r.tokens == [PAD, "purple"]
    assert r.ids.tolist() == [0, 1]
    assert r.unknown.tolist() == [False, True]
    assert r.padding == 1 and r.text_tokens == 1
    r = m.context_ids("blue red GREEN")
    assert r.tokens == ["red", "green"] and r.ids.tolist() == [3, 4] and r.padding == 0 and r.text_tokens == 3
    assert m.context_ids("").ids.tolist() == [0, 0]


def test_logits_by_hand():
    assert tiny().logits(np.array([[3, 4]])).tolist() == [[-5, 0, 0, 1, 0, 2]]


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
def test_distribution_matches_an_independent_computation(temperature):
    probs, logp = tiny().next_word_distribution(np.array([[3, 4], [0, 0], [5, 1]]), temperature)
    for row, (older, newer) in enumerate([("red", "green"), (PAD, PAD), ("blue", UNK)]):
        expected = by_hand(older, newer, temperature=temperature)
        assert probs[row].tolist() == pytest.approx(expected, rel=1e-12, abs=1e-15)
        assert logp[row].tolist() == pytest.approx([math.log(p) for p in expected], rel=1e-12)
    # blue after "red green": e^2 / (e^-5 + 1 + 1 + e + 1 + e^2)
    if temperature == 1.0:
        assert probs[0, 5] == pytest.approx(math.e**2 / (math.exp(-5) + 3 + math.e + math.e**2), rel=1e-14)


def test_softmax_output_layer_reads_its_weighted_sums_as_logits():
    ids = np.array([[3, 4], [1, 5]])
    for t in (1.0, 0.25):
        a = tiny("identity").next_word_distribution(ids, t)[0]
        b = tiny("softmax").next_word_distribution(ids, t)[0]
        np.testing.assert_array_equal(a, b)


def test_one_context_without_batch_axis():
    probs, _ = tiny().next_word_distribution([3, 4])
    assert probs.shape == (1, 6)


def test_predict_sorts_by_probability_then_vocabulary_id():
    p = tiny().predict("", top_k=6)
    # logits after (pad, pad): pad -5, unk 0, </s> -2, red 0, green 0, blue -1
    assert [w.word for w in p.words] == [UNK, "red", "green", "blue", EOS, PAD]
    assert [w.id for w in p.words] == [1, 3, 4, 5, 2, 0]
    assert sum(w.probability for w in p.words) == pytest.approx(1, abs=1e-12)
    assert p.words[0].probability == pytest.approx(1 / (math.exp(-5) + 1 + math.exp(-2) + 1 + 1 + math.exp(-1)))
    assert p.words[0].log_probability == pytest.approx(math.log(p.words[0].probability))
    assert p.context.padding == 2


def test_predict_top_k_and_temperature():
    p = tiny().predict("red green", top_k=2, temperature=0.5)
    assert [w.word for w in p.words] == ["blue", "red"]
    assert p.words[0].probability == pytest.approx(by_hand("red", "green", temperature=0.5)[5])


@pytest.mark.parametrize("top_k", [0, 7, 2.5, True])
def test_predict_bad_top_k(top_k):
    with pytest.raises(EngineError) as e:
        tiny().predict("red", top_k=top_k)
    assert e.value.field == "top_k"


@pytest.mark.parametrize("t", [0, -1, float("nan"), float("inf"), "hot"])
def test_distribution_needs_a_positive_temperature(t):
    with pytest.raises(EngineError) as e:
        tiny().next_word_distribution([3, 4], t)
    assert e.value.field == "temperature"


def test_bad_context_ids():
    m = tiny()
    for ids, message in [([[3, 4, 5]], "2 word ids"), ([[3, 6]], "0..5"), ([[-1, 0]], "0..5"), ([[0.5, 1.0]], "whole")]:
        with pytest.raises(EngineError, match=message) as e:
            m.next_word_distribution(ids)
        assert e.value.field == "context"


def test_greedy_generation_by_hand():
    # (red, green) -> blue, (green, blue) -> blue: logits 2 + 3 - 1 = 4 beat red's 2 and </s>'s 1
    g = tiny().generate("red green", max_words=3, temperature=0)
    assert [w.word for w in g.words] == ["blue", "blue", "blue"]
    assert g.text == "red green blue blue blue" and g.continuation == "blue blue blue"
    assert g.stop_reason == "max_words"
    assert g.words[0].probability == pytest.approx(by_hand("red", "green")[5])
    assert g.words[0].sampling_probability == 1.0


def test_generation_stops_at_end_of_text():
    g = tiny(biases=[-5, 0, 50, 0, 0, -1]).generate("red", max_words=10, temperature=0)
    assert [w.word for w in g.words] == [EOS]
    assert g.stop_reason == "end_of_text" and g.continuation == "" and g.text == "red"


@pytest.mark.parametrize("temperature", [0, 1.0, 5.0])
def test_generation_never_picks_pad_even_when_it_scores_highest(temperature):
    m = tiny(biases=[30, 0, -2, 0, 0, -1])
    g = m.generate("", max_words=50, temperature=temperature, seed=7)
    assert PAD not in [w.word for w in g.words]


def test_same_seed_same_text_and_the_seed_is_reported():
    m = tiny(biases=[0, 0, -1, 0, 0, 0])
    a = m.generate("red", max_words=30, temperature=1.5, seed=123)
    b = m.generate("red", max_words=30, temperature=1.5, seed=123)
    assert a.as_dict() == b.as_dict() and a.seed == 123
    texts = {m.generate("red", max_words=30, temperature=1.5, seed=s).text for s in range(5)}
    assert len(texts) > 1
    c = m.generate("red", max_words=30, temperature=1.5)
    assert m.generate("red", max_words=30, temperature=1.5, seed=c.seed).text == c.text


def test_sampling_probability_after_top_k():
    m = tiny()
    g = m.generate("red green", max_words=1, temperature=1.0, top_k=2, seed=0)
    p = by_hand("red", "green")
    kept = p[5] + p[3]  # blue and red
    assert g.words[0].word in ("blue", "red")
    assert g.words[0].sampling_probability == pytest.approx(p[VOCAB.index(g.words[0].word)] / kept)
    assert g.words[0].probability == pytest.approx(p[VOCAB.index(g.words[0].word)])


def test_top_k_one_and_a_tiny_top_p_are_greedy():
    m = tiny(biases=[0, 0, -1, 0, 0, 0])
    greedy = m.generate("red", max_words=20, temperature=0).text
    assert m.generate("red", max_words=20, top_k=1, seed=3).text == greedy
    assert m.generate("red", max_words=20, top_p=1e-9, seed=3).text == greedy


def test_tiny_temperature_is_greedy_and_finite():
    m = tiny()
    assert m.generate("red green", max_words=5, temperature=1e-6, seed=1).text == m.generate("red green", max_words=5, temperature=0).text
    probs, logp = m.next_word_distribution([[3, 4]], 1e-6)
    assert np.isfinite(logp).all() and probs[0, 5] == 1.0 and probs.sum() == 1.0


@pytest.mark.parametrize("kwargs,field", [
    ({"max_words": 0}, "max_words"), ({"top_p": 0}, "top_p"), ({"top_p": 1.5}, "top_p"),
    ({"temperature": -0.1}, "temperature"), ({"seed": -1}, "seed"), ({"top_k": 0}, "top_k"),
])
def test_bad_generation_settings(kwargs, field):
    with pytest.raises(EngineError) as e:
        tiny().generate("red", **kwargs)
    assert e.value.field == field


def test_score_by_hand_includes_the_end_of_text():
    s = tiny().score("Red green")
    assert s.tokens == ["red", "green", EOS]
    expected = [
        math.log(by_hand(PAD, PAD)[3]),  # red after (pad, pad)
        math.log(by_hand(PAD, "red")[4]),  # green after (pad, red)
        math.log(by_hand("red", "green")[2]),  # </s> after (red, green)
    ]
    assert s.log_probabilities.tolist() == pytest.approx(expected, rel=1e-12)
    assert s.mean_nll == pytest.approx(-sum(expected) / 3, rel=1e-12)
    assert s.perplexity == pytest.approx(math.exp(-sum(expected) / 3), rel=1e-12)
    assert s.unknown_rate == 0


def test_score_counts_unknown_words_and_scores_them_as_unk():
    s = tiny().score("red purple")
    assert s.unknown.tolist() == [False, True, False]
    assert s.unknown_rate == 0.5
    assert s.log_probabilities[1] == pytest.approx(math.log(by_hand(PAD, "red")[1]))


def test_score_of_a_text_without_words():
    with pytest.raises(EngineError) as e:
        tiny().score("  ")
    assert e.value.field == "text"


def test_long_texts_are_scored_in_batches_with_the_same_result():
    m = tiny()
    text = " ".join(["red green blue"] * 1000)
    s = m.score(text)
    contexts = m.contexts(m.tokenizer.encode(text, add_end=True).ids)
    _, logp = m.next_word_distribution(contexts)
    ids = m.tokenizer.encode(text, add_end=True).ids
    np.testing.assert_allclose(s.log_probabilities, logp[np.arange(len(ids)), ids], rtol=1e-13)


# --- validation ------------------------------------------------------------------------------------


def layers(*shapes, last="identity"):
    out = [Layer(np.zeros(s), np.zeros(s[0]), "tanh") for s in shapes[:-1]]
    return Network(out + [Layer(np.zeros(shapes[-1]), np.zeros(shapes[-1][0]), last)])


def test_last_layer_must_have_one_neuron_per_word():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((6, 3)), 2, layers((4, 6), (5, 4)))
    assert e.value.field == "layers[1].weights"
    assert e.value.message == "last layer has 5 neurons, vocabulary has 6 words"


def test_first_layer_must_read_k_times_d_values():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((6, 3)), 2, layers((4, 5), (6, 4)))
    assert e.value.field == "layers[0].weights"
    assert "5 columns" in e.value.message and "2 × 3 = 6" in e.value.message


def test_embeddings_need_one_row_per_word():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((5, 3)), 2, layers((4, 6), (6, 4)))
    assert e.value.field == "embeddings"
    assert e.value.message == "embedding table has 5 rows, vocabulary has 6 words"


def test_ragged_embeddings():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, [[0.0], [0.0, 1.0], [0.0], [0.0], [0.0], [0.0]], 2, layers((6, 2)))
    assert e.value.field == "embeddings" and "equal length" in e.value.message


def test_non_finite_embeddings():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.full((6, 1), np.inf), 2, layers((6, 2)))
    assert e.value.field == "embeddings"


def test_output_activation_must_give_logits():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((6, 1)), 2, layers((6, 2), last="sigmoid"))
    assert e.value.field == "layers[0].activation"


def test_vocabulary_problems_are_named():
    with pytest.raises(EngineError) as e:
        LanguageModel([PAD, UNK, EOS, "red", "red", "blue"], np.zeros((6, 1)), 2, layers((6, 2)))
    assert e.value.field == "vocabulary[4]"
    with pytest.raises(EngineError) as e:
        LanguageModel(["red", UNK, EOS, "green", "gold", "blue"], np.zeros((6, 1)), 2, layers((6, 2)))
    assert e.value.field == "vocabulary" and "<pad>" in e.value.message


@pytest.mark.parametrize("k", [0, MAX_CONTEXT + 1, 2.0])
def test_context_size_limits(k):
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((6, 1)), k, layers((6, 2)))
    assert e.value.field == "context_size"


def test_bad_punctuation_setting():
    with pytest.raises(EngineError) as e:
        LanguageModel(VOCAB, np.zeros((6, 1)), 2, layers((6, 2)), punctuation="maybe")
    assert e.value.field == "punctuation"


# --- storage -------------------------------------------------------------------------------------


def hidden_model(dtype="float64"):
    rng = np.random.default_rng(5)
    net = Network(
        [Layer(rng.normal(size=(7, 4)), rng.normal(size=7), "relu"), Layer(rng.normal(size=(6, 7)), rng.normal(size=6), "softmax")],
        dtype=dtype,
    )
    return LanguageModel(VOCAB, rng.normal(size=(6, 2)), 2, net, punctuation="drop")


def test_arrays_round_trip():
    m = hidden_model()
    metadata, arrays = m.to_arrays()
    assert metadata["vocabulary"] == VOCAB and metadata["context_size"] == 2 and metadata["punctuation"] == "drop"
    assert metadata["layers"] == [{"size": 7, "activation": "relu"}, {"size": 6, "activation": "softmax"}]
    assert sorted(arrays) == ["embeddings", "layers.0.biases", "layers.0.weights", "layers.1.biases", "layers.1.weights"]
    back = LanguageModel.from_arrays(metadata, arrays)
    ids = np.array([[0, 3], [4, 5]])
    np.testing.assert_array_equal(back.next_word_distribution(ids)[0], m.next_word_distribution(ids)[0])


def test_npz_round_trip_loads_without_pickle():
    m = hidden_model("float32")
    buffer = io.BytesIO()
    m.save(buffer)
    buffer.seek(0)
    back = LanguageModel.load(buffer)
    assert back.network.dtype == "float32" and back.embeddings.dtype == np.float32
    np.testing.assert_array_equal(back.embeddings, m.embeddings)


def test_from_arrays_names_what_is_missing():
    metadata, arrays = hidden_model().to_arrays()
    del arrays["layers.1.biases"]
    with pytest.raises(EngineError) as e:
        LanguageModel.from_arrays(metadata, arrays)
    assert e.value.field == "layers[1].biases"
    metadata, arrays = hidden_model().to_arrays()
    arrays["layers.1.weights"] = arrays["layers.1.weights"][:5]
    arrays["layers.1.biases"] = arrays["layers.1.biases"][:5]
    with pytest.raises(EngineError) as e:
        LanguageModel.from_arrays(metadata, arrays)
    assert e.value.field == "layers[1].weights" and "5 neurons" in e.value.message


def test_float32_network_gives_float32_probabilities_that_sum_to_one():
    probs, _ = hidden_model("float32").next_word_distribution([[3, 4]])
    assert probs.dtype == np.float32 and abs(float(probs.sum()) - 1) < 1e-6


@pytest.mark.parametrize("temperature", [1e-50, 5e-324])
def test_a_temperature_below_float32s_smallest_number_stays_finite(temperature):
    """Regression: T cast to float32 was 0, and the top word's 0 / 0 made every probability NaN."""
    probs, logp = tiny(dtype="float32").next_word_distribution([[3, 4]], temperature)
    assert np.isfinite(probs).all() and np.isfinite(logp).all() and probs.dtype == np.float32
    assert probs[0].tolist() == [0, 0, 0, 0, 0, 1] and logp[0, 5] == 0 and (logp[0, :5] == -np.finfo(np.float32).max).all()


# --- properties ----------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    hnp.arrays(np.float64, st.tuples(st.integers(1, 4), st.integers(1, 50)), elements=st.floats(-1e6, 1e6)),
    st.floats(1e-6, 1e6),
)
def test_stable_softmax_is_a_finite_distribution(logits, temperature):
    probs, logp = stable_softmax(logits, temperature)
    assert np.isfinite(probs).all() and np.isfinite(logp).all()
    assert (probs >= 0).all() and (logp <= 0).all()
    np.testing.assert_allclose(probs.sum(axis=1), 1, atol=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32), st.floats(1e-6, 1e3), st.integers(1, 6))
def test_predict_top_k_is_sorted_and_the_whole_vocabulary_sums_to_one(seed, temperature, top_k):
    rng = np.random.default_rng(seed)
    net = Network([Layer(rng.normal(size=(5, 4)) * 10, rng.normal(size=5), "tanh"), Layer(rng.normal(size=(6, 5)) * 10, rng.normal(size=6), "identity")])
    m = LanguageModel(VOCAB, rng.normal(size=(6, 2)), 2, net)
    words = m.predict("red blue", top_k=top_k, temperature=temperature).words
    keys = [(-w.log_probability, w.id) for w in words]
    assert keys == sorted(keys) and len(words) == top_k
    assert all(math.isfinite(w.log_probability) for w in words)
    full = m.predict("red blue", top_k=6, temperature=temperature).words
    assert abs(sum(w.probability for w in full) - 1) <= 1e-9


def test_summary():
    assert hidden_model().summary() == {
        "vocabulary_size": 6,
        "context_size": 2,
        "embedding_size": 2,
        "punctuation": "drop",
        "dtype": "float64",
        "layers": [{"size": 7, "activation": "relu"}, {"size": 6, "activation": "softmax"}],
        "parameter_count": 6 * 2 + 7 * 4 + 7 + 6 * 7 + 6,
    }


# --- generation one word at a time ---------------------------------------------------------------


@pytest.mark.parametrize("temperature, top_k, top_p", [(0, None, None), (1.0, None, None), (0.7, 3, 0.9)])
def test_sample_yields_the_words_of_generate(temperature, top_k, top_p):
    model = hidden_model()
    sampling = model.sample("red green", 12, temperature, top_k, top_p, seed=11)
    generated = model.generate("red green", 12, temperature, top_k, top_p, seed=11)
    words = list(sampling.words)
    assert [w.as_dict() for w in words] == [w.as_dict() for w in generated.words]
    assert sampling.seed == generated.seed == 11 and sampling.prompt.as_dict() == generated.prompt.as_dict()
    assert sampling.prompt_tokens == ["red", "green"]


def test_each_step_carries_the_alternatives_predict_gives_and_the_chosen_words_log_probability():
    model = hidden_model()
    words = list(model.sample("blue", 6, 1.0, seed=4, alternatives=4).words)
    context = ["blue"]
    for word in words:
        predicted = model.predict(" ".join(context), top_k=4)
        assert [a.as_dict() for a in word.alternatives] == [p.as_dict() for p in predicted.words]  # bit for bit
        every = model.predict(" ".join(context), top_k=6).words
        assert word.log_probability == next(p.log_probability for p in every if p.id == word.id)
        assert word.probability == pytest.approx(math.exp(word.log_probability), rel=1e-12)
        context.append(word.word)


def wide_model(dtype):
    """A random model over 40 words: enough for float32 and float64 softmaxes to differ in their last bits."""
    rng = np.random.default_rng(21)
    words = [PAD, UNK, EOS] + [f"w{i}" for i in range(37)]
    net = Network([Layer(rng.normal(size=(9, 6)), rng.normal(size=9), "tanh"), Layer(3 * rng.normal(size=(40, 9)), rng.normal(size=40), "identity")],
                  dtype=dtype)
    return LanguageModel(words, rng.normal(size=(40, 3)), 2, net)


def sampled_the_old_way(model, prompt, max_words, temperature, top_k, top_p, seed):
    """The words generate chose before the reported numbers moved to the network's dtype: every step's
    logits cast to float64, <pad> excluded, softmax(z / T) in float64, cut and drawn with PCG64(seed)."""
    rng = np.random.Generator(np.random.PCG64(seed))
    context, chosen = model.context_ids(prompt).ids.copy(), []
    for _ in range(max_words):
        z = model.logits(context)[0].astype(np.float64)
        z[model.vocabulary.pad_id] = -np.inf
        i = int(np.argmax(z)) if temperature == 0 else _sample(stable_softmax(z, temperature)[0], top_k, top_p, rng)[0]
        chosen.append(model.vocabulary.words[i])
        if i == model.vocabulary.eos_id:
            break
        context = np.concatenate([context[1:], [i]])
    return chosen


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("temperature, top_k, top_p", [(0, None, None), (1.0, None, None), (0.7, 12, 0.9), (1.6, None, 0.95)])
def test_seeded_generation_chooses_the_words_it_chose_before(dtype, temperature, top_k, top_p):
    model = wide_model(dtype)
    for seed in range(8):
        generated = model.generate("w3 w4", 30, temperature, top_k, top_p, seed=seed)
        assert [w.word for w in generated.words] == sampled_the_old_way(model, "w3 w4", 30, temperature, top_k, top_p, seed)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_reported_numbers_are_predicts_in_the_networks_dtype(dtype):
    model = wide_model(dtype)
    words = list(model.sample("w7", 25, 1.3, seed=9, alternatives=5).words)
    context, differs_from_float64 = ["w7"], False
    for word in words:
        predicted = model.predict(" ".join(context), top_k=5)
        assert [a.as_dict() for a in word.alternatives] == [p.as_dict() for p in predicted.words]  # bit for bit
        every = {p.id: p for p in model.predict(" ".join(context), top_k=40).words}
        assert (word.probability, word.log_probability) == (every[word.id].probability, every[word.id].log_probability)
        in_float64 = stable_softmax(model.logits(model.context_ids(" ".join(context)).ids)[0].astype(np.float64))
        differs_from_float64 |= any(float(in_float64[1][a.id]) != a.log_probability for a in word.alternatives)
        context.append(word.word)
    # float32: computing them in float64 (as before) would not have given predict's numbers
    assert differs_from_float64 == (dtype == "float32")


def test_an_impossible_word_has_a_finite_log_probability():
    model = tiny(biases=[-5, 0, -2, 0, 0, -1e308])  # "blue" scores -1e308 below the rest
    alternatives = list(model.sample("red", 1, 0, seed=1, alternatives=6).words)[0].alternatives
    blue = next(a for a in alternatives if a.word == "blue")
    assert blue.probability == 0.0 and math.isfinite(blue.log_probability) and blue.log_probability < -1e300


def test_sample_checks_its_settings_before_the_first_word():
    with pytest.raises(EngineError) as e:
        tiny().sample("red", 3, alternatives=7)
    assert e.value.field == "alternatives"


def test_logit_bias_moves_the_choice_but_not_the_reported_probabilities():
    model = tiny()
    plain = list(model.sample("red", 1, 0, seed=1).words)[0]
    assert plain.word == UNK  # by hand: after (<pad>, red) <unk>, red, green and blue all score 0; the lowest id wins
    biased = list(model.sample("red", 1, 0, seed=1, logit_bias={4: 50.0}).words)[0]
    assert biased.word == "green"
    assert biased.probability == pytest.approx(by_hand(PAD, "red")[4], rel=1e-12)  # the model's own, unbiased
    banned = list(model.sample("red", 3, 1.0, seed=2, logit_bias={5: -1e308, 4: -1e308, 3: -1e308, 1: -1e308}).words)
    assert [w.word for w in banned] == [EOS]
    huge = list(model.sample("red", 1, 1.0, seed=2, logit_bias={3: 1.7e308}).words)[0]
    assert huge.word == "red" and math.isfinite(huge.log_probability)


@pytest.mark.parametrize("bias, field", [({6: 1.0}, "logit_bias"), ({-1: 1.0}, "logit_bias"), ({3: float("nan")}, "logit_bias")])
def test_bad_logit_bias(bias, field):
    with pytest.raises(EngineError) as e:
        tiny().sample("red", 1, logit_bias=bias)
    assert e.value.field == field


def test_score_alternatives_rank_each_position_as_predict_does():
    model = hidden_model()
    text = "red green blue red"
    scored = model.score(text, alternatives=3)
    assert scored.log_probabilities.tolist() == model.score(text).log_probabilities.tolist()
    tokens = scored.tokens
    for position, ranked in enumerate(scored.alternatives):
        predicted = model.predict(" ".join(tokens[:position]), top_k=3).words
        assert [w.id for w in ranked] == [w.id for w in predicted]
        for got, expected in zip(ranked, predicted):
            assert got.log_probability == pytest.approx(expected.log_probability, rel=1e-12, abs=1e-300)
    assert len(scored.alternatives) == len(tokens)
