"""Count-based baselines a language network has to beat: add-one unigram and interpolated Kneser-Ney bigram.

Both see exactly what the network sees: word ids from the same vocabulary (rare words are <unk>), one
"</s>" target at the end of every text, "<pad>" as the previous word at the start of a text. <pad> is
context only, never a next word, so both give it probability 0 and share the mass among the other
V' = V - 1 outcomes.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import EngineError


def perplexity(log_probabilities: np.ndarray) -> float:
    """exp(mean negative log-likelihood)."""
    return float(np.exp(min(-float(np.mean(log_probabilities)), 700.0)))


def _check_ids(name: str, ids: np.ndarray, vocabulary_size: int) -> np.ndarray:
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise EngineError(name, "expected a flat list of word ids")
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise EngineError(name, f"word ids must be in 0..{vocabulary_size - 1}")
    return ids


@dataclass(frozen=True)
class UnigramBaseline:
    """P(w) = (c(w) + 1) / (N + V'): add-one (Laplace) smoothed word frequencies."""

    probabilities: np.ndarray  # (V,)

    @classmethod
    def fit(cls, targets: np.ndarray, vocabulary_size: int, pad_id: int) -> "UnigramBaseline":
        targets = _check_ids("targets", targets, vocabulary_size)
        counts = np.bincount(targets, minlength=vocabulary_size).astype(np.float64)  # (V,)
        counts += 1
        counts[pad_id] = 0
        return cls(counts / counts.sum())

    def log_probabilities(self, targets: np.ndarray) -> np.ndarray:
        p = self.probabilities[_check_ids("targets", targets, len(self.probabilities))]
        with np.errstate(divide="ignore"):  # log(0) = -inf only for <pad>, which is never a target
            return np.log(p)

    def perplexity(self, targets: np.ndarray) -> float:
        return perplexity(self.log_probabilities(targets))


@dataclass(frozen=True)
class BigramBaseline:
    """Interpolated Kneser-Ney for word pairs (u, w):

        P(w | u) = max(c(u,w) - D, 0) / c(u)  +  D * N1+(u,•) / c(u) * P_cont(w)     if c(u) > 0
        P(w | u) = P_cont(w)                                                         if u was never seen
        P_cont(w) = (N1+(•,w) + 1) / (N1+(•,•) + V')

    N1+(u,•) counts the distinct words seen after u, N1+(•,w) the distinct words seen before w (how many
    contexts w "continues"), N1+(•,•) the distinct pairs. P_cont gets add-one so every word, even one
    never seen as a next word, keeps some probability. D = n1 / (n1 + 2 n2) from the numbers of pairs seen
    once and twice (Ney et al. 1994), clipped to [0.1, 0.9].
    """

    vocabulary_size: int
    pad_id: int
    discount: float
    pair_codes: np.ndarray  # (P,) sorted u * V + w of every pair seen
    pair_counts: np.ndarray  # (P,) c(u, w)
    context_counts: np.ndarray  # (V,) c(u)
    followers: np.ndarray  # (V,) N1+(u, •)
    continuation: np.ndarray  # (V,) P_cont(w)

    @classmethod
    def fit(
        cls, previous: np.ndarray, targets: np.ndarray, vocabulary_size: int, pad_id: int, discount: float | None = None
    ) -> "BigramBaseline":
        V = vocabulary_size
        previous = _check_ids("previous", previous, V)
        targets = _check_ids("targets", targets, V)
        if previous.shape != targets.shape:
            raise EngineError("previous", "expected one previous word per target")
        codes, counts = np.unique(previous * V + targets, return_counts=True)
        if discount is None:
            n1, n2 = np.count_nonzero(counts == 1), np.count_nonzero(counts == 2)
            discount = float(np.clip(n1 / (n1 + 2 * n2), 0.1, 0.9)) if n1 + 2 * n2 else 0.75
        elif not 0 < discount < 1:
            raise EngineError("discount", f"expected a number in (0, 1), got {discount}")
        u, w = np.divmod(codes, V)
        predecessors = np.bincount(w, minlength=V).astype(np.float64) + 1  # N1+(•, w) + 1
        predecessors[pad_id] = 0
        return cls(
            vocabulary_size=V,
            pad_id=pad_id,
            discount=discount,
            pair_codes=codes,
            pair_counts=counts.astype(np.float64),
            context_counts=np.bincount(previous, minlength=V).astype(np.float64),
            followers=np.bincount(u, minlength=V).astype(np.float64),
            continuation=predecessors / predecessors.sum(),
        )

    def pair_count(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        codes = previous * self.vocabulary_size + targets
        if not len(self.pair_codes):
            return np.zeros(len(codes))
        at = np.minimum(np.searchsorted(self.pair_codes, codes), len(self.pair_codes) - 1)
        return np.where(self.pair_codes[at] == codes, self.pair_counts[at], 0.0)

    def probabilities(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        """P(targets[i] | previous[i]) for each i: (n,)."""
        V = self.vocabulary_size
        previous = _check_ids("previous", previous, V)
        targets = _check_ids("targets", targets, V)
        c_u = self.context_counts[previous]
        seen = c_u > 0
        safe_c_u = np.where(seen, c_u, 1.0)
        discounted = np.maximum(self.pair_count(previous, targets) - self.discount, 0.0) / safe_c_u
        backoff_weight = np.where(seen, self.discount * self.followers[previous] / safe_c_u, 1.0)
        return np.where(seen, discounted, 0.0) + backoff_weight * self.continuation[targets]

    def distribution(self, previous_id: int) -> np.ndarray:
        """P(w | previous_id) for every word w: (V,)."""
        everything = np.arange(self.vocabulary_size)
        return self.probabilities(np.full(self.vocabulary_size, previous_id), everything)

    def log_probabilities(self, previous: np.ndarray, targets: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore"):  # -inf only for <pad>, never a target
            return np.log(self.probabilities(previous, targets))

    def perplexity(self, previous: np.ndarray, targets: np.ndarray) -> float:
        return perplexity(self.log_probabilities(previous, targets))
