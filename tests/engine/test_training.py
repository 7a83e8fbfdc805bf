import math

import numpy as np
import pytest

from service.engine.activations import ACTIVATIONS
from service.engine.baselines import BigramBaseline, UnigramBaseline
from service.engine import training
from service.engine.errors import EngineError, NonFiniteResult
from service.engine.tokenizer import EOS, PAD, SPECIAL_TOKENS, UNK
from service.engine.training import (
    MAX_PARAMETERS,
    TrainingCancelled,
    TrainingSettings,
    activation_backward,
    check_trainable,
    init_parameters,
    loss_and_gradients,
    prepare_corpus,
    train,
)

TEXT = (
    "the neuron multiplies each input by its weight . the neuron adds its bias . "
    "the layer applies its activation . the output layer scores every word . "
) * 12

SMALL = TrainingSettings(
    context_size=2, embedding_size=4, hidden_sizes=(16,), min_count=1, epochs=30, batch_size=32, learning_rate=0.01
)


# --- gradients -------------------------------------------------------------------------------------


def small_parameters(activation, seed=0):
    settings = TrainingSettings(context_size=2, embedding_size=3, hidden_sizes=(5, 4), activation=activation)
    rng = np.random.Generator(np.random.PCG64(seed))
    params = init_parameters(settings, 7, np.arange(7, dtype=float), rng)
    for array in params.arrays():  # move everything off its initial values, biases included
        array += rng.normal(scale=0.5, size=array.shape)
    return params, rng


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_gradients_match_finite_differences(activation):
    params, rng = small_parameters(activation)
    contexts = rng.integers(0, 7, size=(6, 2))
    contexts[0] = [3, 3]  # the same word twice in a context: its embedding gradient adds up
    targets = rng.integers(0, 7, size=6)
    _, grads = loss_and_gradients(params, contexts, targets)
    h = 1e-6
    for array, grad in zip(params.arrays(), grads):
        assert grad.shape == array.shape
        numeric = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + h
            up, _ = loss_and_gradients(params, contexts, targets)
            array[index] = saved - h
            down, _ = loss_and_gradients(params, contexts, targets)
            array[index] = saved
            numeric[index] = (up - down) / (2 * h)
        np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_gradients_with_dropout_match_finite_differences_for_the_same_masks():
    params, rng = small_parameters("tanh", seed=3)
    contexts, targets = rng.integers(0, 7, size=(6, 2)), rng.integers(0, 7, size=6)
    with_masks = lambda: loss_and_gradients(params, contexts, targets, 0.5, np.random.Generator(np.random.PCG64(9)))
    loss, grads = with_masks()
    assert loss != loss_and_gradients(params, contexts, targets)[0]  # some values were dropped
    h = 1e-6
    for array, grad in zip(params.arrays(), grads):
        for index in list(np.ndindex(array.shape))[:20]:
            saved = array[index]
            array[index] = saved + h
            up, _ = with_masks()
            array[index] = saved - h
            down, _ = with_masks()
            array[index] = saved
            assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("activation", sorted(set(ACTIVATIONS) - {"softmax"}))
def test_activation_derivatives_match_finite_differences(activation):
    f = ACTIVATIONS[activation]
    z = np.array([[-7.3, -2.1, -0.4, 0.3, 0.9, 2.5, 6.1]])
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    analytic = activation_backward(activation, z, f(z), np.ones_like(z))
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_activation_derivatives_stay_finite_for_huge_inputs(activation):
    z = np.array([[-1e300, -1e20, -50.0, 0.0, 50.0, 1e20, 1e300]])
    a = ACTIVATIONS[activation](z)
    dz = activation_backward(activation, z, a, np.ones_like(z))
    assert np.isfinite(dz).all()


def test_known_derivative_values():
    z = np.array([[0.0]])
    one = np.ones_like(z)
    assert activation_backward("sigmoid", z, ACTIVATIONS["sigmoid"](z), one)[0, 0] == 0.25
    assert activation_backward("tanh", z, ACTIVATIONS["tanh"](z), one)[0, 0] == 1.0
    assert activation_backward("gelu", z, ACTIVATIONS["gelu"](z), one)[0, 0] == 0.5
    assert activation_backward("silu", z, ACTIVATIONS["silu"](z), one)[0, 0] == 0.5
    assert activation_backward("leaky_relu", np.array([[-1.0]]), None, one)[0, 0] == 0.01


# --- data ------------------------------------------------------------------------------------------


def test_corpus_pads_each_text_and_ends_it_with_end_of_text():
    s = TrainingSettings(context_size=2, min_count=1, validation_fraction=0)
    c = prepare_corpus(["a b c d e f", "g h i j"], s)
    v = c.vocabulary
    words = lambda ids: [v.words[i] for i in ids]
    assert words(c.targets) == list("abcdef") + [EOS] + list("ghij") + [EOS]
    assert words(c.contexts[0]) == [PAD, PAD] and words(c.contexts[1]) == [PAD, "a"]
    assert words(c.contexts[6]) == ["e", "f"]  # </s> is predicted from the last two words
    assert words(c.contexts[7]) == [PAD, PAD]  # the second text starts afresh
    assert c.split == 12


def test_validation_is_the_contiguous_end_and_its_words_are_not_in_the_vocabulary():
    s = TrainingSettings(context_size=2, min_count=1, validation_fraction=0.25)
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    c = prepare_corpus(text, s)
    assert len(c.targets) == 16 and c.split == 12  # 15 words + </s>; ceil(0.25 * 16) = 4 validate
    v = c.vocabulary
    assert "twelve" in v and "thirteen" not in v
    assert [v.words[i] for i in c.validation[1]] == [UNK, UNK, UNK, EOS]
    assert c.unknown[c.split:].tolist() == [True, True, True, False]
    # the first validation context still sees the training words before it
    assert [v.words[i] for i in c.validation[0][0]] == ["eleven", "twelve"]


def test_min_count_and_max_size():
    c = prepare_corpus("a a a b b c d e f g", TrainingSettings(min_count=2, validation_fraction=0, context_size=1))
    assert c.vocabulary.words == (*SPECIAL_TOKENS, "a", "b")
    c = prepare_corpus("a a a b b c c d e f g", TrainingSettings(min_count=1, max_vocabulary_size=4, validation_fraction=0, context_size=1))
    assert c.vocabulary.words == (*SPECIAL_TOKENS, "a")


# --- training --------------------------------------------------------------------------------------


def test_training_learns_a_repetitive_text():
    model, report = train(TEXT, SMALL)
    assert [w.word for w in model.predict("multiplies each input by its", top_k=1).words] == ["weight"]
    assert [w.word for w in model.predict("the output layer scores every", top_k=1).words] == ["word"]
    assert report.train_loss < 0.5
    assert report.validation_perplexity < report.bigram_perplexity < report.unigram_perplexity
    assert report.vocabulary_size == len(model.vocabulary) == 3 + 18
    assert report.training_tokens + report.validation_tokens == 12 * 28 + 1
    assert report.steps == math.ceil(30 * report.training_tokens / 32)
    assert 2 <= len(report.loss_history) <= 50 and report.loss_history[-1][0] == report.steps
    assert report.loss_history[-1][1] < report.loss_history[0][1]


def test_report_figures_are_recomputed_independently():
    model, report = train(TEXT, SMALL.__class__(**{**SMALL.as_dict(), "epochs": 3}))
    corpus = prepare_corpus(TEXT, SMALL)
    (train_c, train_t), (val_c, val_t) = corpus.training, corpus.validation
    _, logp = model.next_word_distribution(val_c)
    validation_loss = -logp[np.arange(len(val_t)), val_t].mean()
    assert report.validation_loss == pytest.approx(validation_loss, rel=1e-12)
    assert report.validation_perplexity == pytest.approx(math.exp(validation_loss), rel=1e-12)
    pad, V = corpus.vocabulary.pad_id, len(corpus.vocabulary)
    assert report.unigram_perplexity == UnigramBaseline.fit(train_t, V, pad).perplexity(val_t)
    assert report.bigram_perplexity == BigramBaseline.fit(train_c[:, -1], train_t, V, pad).perplexity(val_c[:, -1], val_t)
    _, logp = model.next_word_distribution(train_c)
    assert report.train_loss == pytest.approx(-logp[np.arange(len(train_t)), train_t].mean(), rel=1e-12)


def test_same_seed_gives_bitwise_the_same_model_and_another_seed_does_not():
    s = TrainingSettings(context_size=3, embedding_size=5, hidden_sizes=(8, 6), activation="gelu", min_count=1, steps=40, batch_size=16, weight_decay=0.01)
    a, _ = train(TEXT, s)
    b, _ = train(TEXT, s)
    c, _ = train(TEXT, TrainingSettings(**{**s.as_dict(), "seed": 1}))
    (_, arrays_a), (_, arrays_b), (_, arrays_c) = a.to_arrays(), b.to_arrays(), c.to_arrays()
    for name in arrays_a:
        assert arrays_a[name].tobytes() == arrays_b[name].tobytes(), name
    assert arrays_a["embeddings"].tobytes() != arrays_c["embeddings"].tobytes()


def test_float32_training():
    model, report = train(TEXT, TrainingSettings(**{**SMALL.as_dict(), "dtype": "float32", "epochs": 5}))
    assert model.network.dtype == "float32" and model.embeddings.dtype == np.float32
    assert math.isfinite(report.validation_loss)


def test_progress_and_cancel():
    calls = []
    s = TrainingSettings(**{**SMALL.as_dict(), "steps": 25, "progress_every": 10})
    train(TEXT, s, on_progress=lambda step, total, loss: calls.append((step, total, loss)))
    assert [(step, total) for step, total, _ in calls] == [(10, 25), (20, 25), (25, 25)]
    assert all(math.isfinite(loss) and loss > 0 for _, _, loss in calls)

    asked = []
    def stop():
        asked.append(1)
        return len(asked) > 7
    with pytest.raises(TrainingCancelled) as e:
        train(TEXT, s, should_stop=stop)
    assert e.value.step == 7


def test_a_list_of_texts_and_no_validation():
    model, report = train(["the neuron fires .", "the layer adds ."] * 10, TrainingSettings(**{**SMALL.as_dict(), "validation_fraction": 0, "epochs": 2}))
    assert report.validation_loss is None and report.bigram_perplexity is None and report.validation_tokens == 0
    assert report.training_tokens == 10 * (5 + 5)


def test_a_non_finite_loss_stops_training_with_a_named_error(monkeypatch):
    real = training.loss_and_gradients
    calls = []

    def diverging(*args):
        loss, grads = real(*args)
        calls.append(1)
        return (float("nan") if len(calls) == 3 else loss), grads

    monkeypatch.setattr(training, "loss_and_gradients", diverging)
    with pytest.raises(NonFiniteResult) as e:
        train(TEXT, SMALL)
    assert e.value.field == "settings.learning_rate" and "step 3" in e.value.message


# --- bad inputs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("texts", ["", "   \n", ["", " "], "...", []])
def test_no_text(texts):
    with pytest.raises(EngineError) as e:
        train(texts, SMALL)
    assert e.value.field == "texts"


def test_too_few_tokens():
    with pytest.raises(EngineError) as e:
        train("a neuron fires", SMALL)
    assert e.value.field == "texts" and "at least 10" in e.value.message


def test_not_a_text():
    with pytest.raises(EngineError) as e:
        train(["fine", 3], SMALL)
    assert e.value.field == "texts[1]"


def test_check_trainable_refuses_before_training_and_counts_parameters():
    corpus, n = check_trainable(TEXT, SMALL)
    V = len(corpus.vocabulary)
    assert n == V * 4 + (2 * 4 + 1) * 16 + (16 + 1) * V
    with pytest.raises(EngineError):
        check_trainable("too short", SMALL)


def test_too_many_parameters():
    s = TrainingSettings(context_size=16, embedding_size=1024, hidden_sizes=(2000,), min_count=1)
    with pytest.raises(EngineError) as e:
        train(TEXT, s)
    assert e.value.field == "settings" and str(MAX_PARAMETERS) in e.value.message


@pytest.mark.parametrize("values,field", [
    ({"context_size": 17}, "settings.context_size"),
    ({"context_size": 0}, "settings.context_size"),
    ({"max_vocabulary_size": 50_001}, "settings.max_vocabulary_size"),
    ({"activation": "swish"}, "settings.activation"),
    ({"hidden_sizes": [16, 0]}, "settings.hidden_sizes[1]"),
    ({"learning_rate": 0}, "settings.learning_rate"),
    ({"betas": [0.9, 1.0]}, "settings.betas[1]"),
    ({"validation_fraction": 0.9}, "settings.validation_fraction"),
    ({"batch_size": 10**6}, "settings.batch_size"),
    ({"punctuation": "some"}, "settings.punctuation"),
    ({"dtype": "float16"}, "settings.dtype"),
    ({"steps": 0}, "settings.steps"),
    ({"epochs": float("nan")}, "settings.epochs"),
    ({"colour": "blue"}, "settings.colour"),
])
def test_bad_settings(values, field):
    with pytest.raises(EngineError) as e:
        TrainingSettings.from_dict(values)
    assert e.value.field == field


def test_settings_from_json_lists():
    s = TrainingSettings.from_dict({"hidden_sizes": [32, 16], "betas": [0.8, 0.99]})
    assert s.hidden_sizes == (32, 16) and s.betas == (0.8, 0.99)
    assert TrainingSettings.from_dict(s.as_dict()) == s


@pytest.mark.parametrize("setting, value", [("dtype", {}), ("dtype", []), ("activation", []), ("activation", {}),
                                            ("punctuation", {}), ("hidden_sizes", {}), ("betas", "ab"), ("steps", "3"),
                                            ("learning_rate", [1]), ("seed", {})])
def test_a_setting_of_the_wrong_type_is_an_engine_error_not_a_type_error(setting, value):
    with pytest.raises(EngineError) as e:
        TrainingSettings.from_dict({setting: value})
    assert e.value.field == f"settings.{setting}" and repr(value) in e.value.message
