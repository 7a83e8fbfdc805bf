import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.engine.baselines import BigramBaseline, UnigramBaseline, perplexity
from service.engine.errors import EngineError

# Vocabulary: <pad>=0, <unk>=1, </s>=2, a=3, b=4. The training text "a b a a" reads as these
# (previous word, next word) pairs: (<pad>, a), (a, b), (b, a), (a, a), (a, </s>).
PAD, UNK, EOS, A, B_ = 0, 1, 2, 3, 4
PREVIOUS = np.array([PAD, A, B_, A, A])
TARGETS = np.array([A, B_, A, A, EOS])


def test_unigram_add_one_by_hand():
    # counts a 3, b 1, </s> 1, <unk> 0; N = 5 targets, V' = 4 outcomes (<pad> is never a next word)
    u = UnigramBaseline.fit(TARGETS, 5, PAD)
    assert u.probabilities.tolist() == pytest.approx([0, 1 / 9, 2 / 9, 4 / 9, 2 / 9], abs=1e-15)
    assert u.perplexity(np.array([A, UNK])) == pytest.approx(math.exp(-(math.log(4 / 9) + math.log(1 / 9)) / 2))


def test_bigram_kneser_ney_by_hand():
    bg = BigramBaseline.fit(PREVIOUS, TARGETS, 5, PAD)
    # every pair was seen once: n1 = 5, n2 = 0 -> D = 5 / 5 = 1, clipped to 0.9
    assert bg.discount == 0.9
    # continuation: distinct predecessors + 1 = a 3+1, b 1+1, </s> 1+1, <unk> 0+1, over 5 pairs + 4 outcomes
    assert bg.continuation.tolist() == pytest.approx([0, 1 / 9, 2 / 9, 4 / 9, 2 / 9])
    # after a: c(a) = 3, three distinct followers, so the back-off weight is 0.9 * 3 / 3
    after_a = bg.distribution(A)
    assert after_a.tolist() == pytest.approx([0, 0.9 / 9, 0.1 / 3 + 0.9 * 2 / 9, 0.1 / 3 + 0.9 * 4 / 9, 0.1 / 3 + 0.9 * 2 / 9])
    # after b: c(b) = 1, one follower (a)
    assert bg.probabilities(np.array([B_]), np.array([A])).tolist() == pytest.approx([0.1 + 0.9 * 4 / 9])
    # a word never seen as a context falls back to the continuation distribution
    np.testing.assert_allclose(bg.distribution(UNK), bg.continuation)


def test_bigram_with_a_given_discount():
    bg = BigramBaseline.fit(PREVIOUS, TARGETS, 5, PAD, discount=0.5)
    assert bg.probabilities(np.array([A]), np.array([B_]))[0] == pytest.approx(0.5 / 3 + 0.5 * 3 / 3 * 2 / 9)


def test_discount_from_counts_of_counts():
    # pairs (<pad>,a) 1, (a,b) 2, (b,a) 1, (b,</s>) 1 -> n1 = 3, n2 = 1, D = 3 / (3 + 2)
    bg = BigramBaseline.fit(np.array([PAD, A, B_, A, B_]), np.array([A, B_, A, B_, EOS]), 5, PAD)
    assert bg.discount == pytest.approx(0.6)


def test_perplexity():
    assert perplexity(np.log([0.5, 0.25])) == pytest.approx(math.sqrt(8))


def test_bad_ids():
    with pytest.raises(EngineError) as e:
        UnigramBaseline.fit(np.array([0, 5]), 5, PAD)
    assert e.value.field == "targets"
    with pytest.raises(EngineError) as e:
        BigramBaseline.fit(np.array([0]), np.array([3, 4]), 5, PAD)
    assert e.value.field == "previous"


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**32), st.integers(4, 30), st.integers(1, 200))
def test_every_bigram_distribution_sums_to_one(seed, V, n):
    rng = np.random.default_rng(seed)
    previous, targets = rng.integers(0, V, n), rng.integers(1, V, n)
    bg = BigramBaseline.fit(previous, targets, V, pad_id=0)
    for u in range(V):
        d = bg.distribution(u)
        assert d[0] == 0 and (d[1:] > 0).all()
        assert d.sum() == pytest.approx(1, abs=1e-12)
    u = UnigramBaseline.fit(targets, V, pad_id=0)
    assert u.probabilities.sum() == pytest.approx(1, abs=1e-12)
