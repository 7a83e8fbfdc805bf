"""The fast paths give bitwise the values of the plain ones: in-place activations, blocked layers."""
import numpy as np
import pytest
from hypothesis import given, strategies as st
from hypothesis.extra.numpy import arrays

from service.engine import network as network_module
from service.engine.activations import ACTIVATIONS, IN_PLACE
from service.engine.errors import NonFiniteResult
from service.engine.network import Layer, Network, all_finite

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False, width=32)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_in_place_activations_equal_the_plain_ones_bitwise(name, dtype, data):
    z = data.draw(arrays(dtype, st.tuples(st.integers(1, 4), st.integers(1, 9)), elements=finite))
    expected = ACTIVATIONS[name](z)
    scratch = z.copy()
    got = IN_PLACE[name](scratch)
    assert got.dtype == dtype and got.shape == z.shape
    np.testing.assert_array_equal(got.view(np.uint8), expected.view(np.uint8))  # bit for bit, -0.0 included


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_in_place_activations_keep_extremes_finite_without_warnings(dtype):
    for name, function in IN_PLACE.items():
        z = np.array([[-1000.0, -1e30, -1.0, 0.0, 1.0, 1e30, 1000.0]], dtype=dtype)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            out = function(z)
        assert np.isfinite(out).all(), name


def big_network(activation: str, dtype: str, rng: np.random.Generator) -> Network:
    # 300 outputs x 1500 rows = 3.6 MB of float64 weighted sums: the blocked path
    return Network([
        Layer(rng.standard_normal((64, 16)), rng.standard_normal(64), "tanh"),
        Layer(rng.standard_normal((300, 64)) / 8, rng.standard_normal(300), activation),
    ], dtype)


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_blocked_forward_equals_the_trace_bitwise(activation, dtype):
    rng = np.random.default_rng(7)
    net = big_network(activation, dtype, rng)
    x = rng.standard_normal((1500, 16))
    out = net.forward(x)
    assert out.nbytes > network_module._BLOCKED_ABOVE_BYTES or dtype == "float32"
    trace = net.trace(x)
    np.testing.assert_array_equal(out, trace[-1].activations)
    np.testing.assert_array_equal(net.weighted_sums(x), trace[-1].weighted_sums)
    assert out.dtype == np.dtype(dtype)
    # and the same values as the textbook x @ W.T + b, f(z)
    z = x.astype(dtype)
    for layer in net.layers:
        z = ACTIVATIONS[layer.activation](z @ layer.weights.T + layer.biases)
    np.testing.assert_allclose(out, z, rtol=1e-4 if dtype == "float32" else 1e-10, atol=1e-5 if dtype == "float32" else 1e-12)


def test_overflow_in_a_late_block_is_reported():
    net = Network([Layer(np.full((300, 1), 10.0), np.zeros(300), "relu")])  # 2000 x 300 sums: blocked
    x = np.ones((2000, 1))
    assert np.isfinite(net.forward(x)).all()
    x[1999, 0] = 1e308
    with pytest.raises(NonFiniteResult) as info:
        net.forward(x)
    assert info.value.field == "layers[0]"


def test_all_finite():
    with np.errstate(over="ignore", invalid="ignore"):
        assert all_finite(np.zeros((3, 3)))
        assert all_finite(np.full((3, 3), np.finfo(np.float64).max))  # the sum overflows, the values do not
        assert not all_finite(np.array([[1.0, np.inf]]))
        assert not all_finite(np.array([[1.0, -np.inf]]))
        assert not all_finite(np.array([[np.nan, 1.0]]))
        assert not all_finite(np.array([[np.inf, -np.inf]]))
        assert all_finite(np.zeros((0, 3)))


def test_layer_weights_are_the_given_values_and_independent_of_the_caller():
    w = np.arange(6.0).reshape(2, 3)
    net = Network([Layer(w, np.zeros(2), "identity")])
    np.testing.assert_array_equal(net.layers[0].weights, w)
    w[0, 0] = 100.0
    assert net.layers[0].weights[0, 0] == 0.0


def test_compiled_arrays_never_share_memory_with_what_they_were_built_from():
    """A cached model must not keep a stored blob alive through a view (or change with a caller's array)."""
    from service.engine.language import LanguageModel

    blob = np.arange(40.0)
    one_row, biases = blob[:3].reshape(1, 3), blob[3:4]  # a 1-row W.T is contiguous as it is
    net = Network([Layer(blob[4:10].reshape(2, 3), blob[10:12], "relu"), Layer(blob[12:14].reshape(1, 2), blob[14:15], "identity")])
    lone = Network([Layer(one_row, biases, "identity")])
    for layer in net.layers + lone.layers:
        assert not np.shares_memory(layer.weights, blob) and not np.shares_memory(layer.biases, blob)
    embeddings = blob[16:28].reshape(6, 2)
    model = LanguageModel(["<pad>", "<unk>", "</s>", "a", "b", "c"], embeddings, 1,
                          Network([Layer(np.zeros((6, 2)), np.zeros(6), "identity")]))
    assert not np.shares_memory(model.embeddings, blob)


@given(st.lists(st.sampled_from([-3.0, -1.0, -0.0, 0.0, 0.5, 2.0]) | st.floats(-5, 5), min_size=1, max_size=200), st.integers(1, 200))
def test_top_ids_is_the_stable_argsort(values, k):
    from service.engine.language import top_ids

    scores = np.array(values)
    k = min(k, len(scores))
    np.testing.assert_array_equal(top_ids(scores, k), np.argsort(-scores, kind="stable")[:k])


@given(st.lists(st.sampled_from([-np.inf, -3.0, -0.0, 0.0, 2.0, np.nan]) | st.floats(-5, 5), min_size=9, max_size=300),
       st.integers(1, 20))
def test_top_ids_for_a_few_words_of_many_is_the_stable_argsort_too(values, k):
    """The argmax passes used for small k (ties, -0.0, -inf and NaN included) agree with the sort."""
    from service.engine.language import top_ids

    scores = np.array(values)
    k = min(k, len(scores) // 8 - (len(scores) % 8 == 0))
    if k >= 1:
        np.testing.assert_array_equal(top_ids(scores, k), np.argsort(-scores, kind="stable")[:k])


@given(st.lists(st.sampled_from([np.nan, np.nan, np.nan, -np.inf, np.inf, 1.0, -0.0]), min_size=1, max_size=200),
       st.integers(1, 30), st.sampled_from([np.float64, np.float32]))
def test_top_ids_with_mostly_nan_scores_is_the_stable_argsort(values, k, dtype):
    """NaN sorts last; with fewer than k numbers the rest of the k are NaN ids, in id order."""
    from service.engine.language import top_ids

    scores = np.array(values, dtype=dtype)
    k = min(k, len(scores))
    np.testing.assert_array_equal(top_ids(scores, k), np.argsort(-scores, kind="stable")[:k])


def test_top_ids_cases_found_in_review():
    from service.engine.language import top_ids

    nan = np.nan
    for scores, k in ((np.full(9, nan), 1), (np.array([1.0] + [nan] * 16), 2), (np.array([nan] * 16 + [-np.inf]), 2)):
        np.testing.assert_array_equal(top_ids(scores, k), np.argsort(-scores, kind="stable")[:k])
