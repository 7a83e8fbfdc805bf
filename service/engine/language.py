"""The neural probabilistic language model of Bengio et al. (2003).

The last k words of a text are looked up in the embedding table C (V, d), their vectors concatenated
oldest first into x (k*d,), and x runs through a dense Network whose last layer has one neuron per
vocabulary word. Those neurons' weighted sums are the logits z (V,), and

    P(next word = w | context) = softmax(z / T)_w

with temperature T. A last layer with activation "softmax" is read the same way: its weighted sums are
the logits (so the temperature still applies); a last layer with activation "identity" outputs them.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterator, Mapping, Sequence

import numpy as np

from .activations import ACTIVATIONS
from .errors import EngineError, NonFiniteResult
from .interventions import Intervention, Interventions
from .network import DTYPES, Layer, Network
from .tokenizer import PAD, Encoding, Tokenizer, Vocabulary, join_tokens

# Limits the service can quote back to a client.
MAX_VOCABULARY = 50_000
MAX_CONTEXT = 16
MAX_PARAMETERS = 5_000_000  # embeddings + all weights and biases
MAX_GENERATE_WORDS = 1_000
OUTPUT_ACTIVATIONS = ("identity", "softmax")
ARRAYS_FORMAT = "neuronhub.language_model"
ARRAYS_VERSION = 1
_F64_MAX = float(np.finfo(np.float64).max)
_SCORE_BATCH = 2048  # contexts per forward pass when scoring long texts


@dataclass(frozen=True)
class ContextReading:
    """How a text was read as a context: the k tokens the model sees, oldest first."""

    tokens: list[str]  # (k,) as read; "<pad>" where the text was too short
    ids: np.ndarray  # (k,) int64
    unknown: np.ndarray  # (k,) bool: the word is not in the vocabulary and reads as <unk>
    padding: int  # how many <pad> were put in front
    text_tokens: int  # how many tokens the whole text has

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": list(self.tokens),
            "ids": self.ids.tolist(),
            "unknown": self.unknown.tolist(),
            "padding": self.padding,
            "text_tokens": self.text_tokens,
        }


@dataclass(frozen=True)
class WordProbability:
    word: str
    id: int
    probability: float
    log_probability: float

    def as_dict(self) -> dict[str, Any]:
        return {"word": self.word, "id": self.id, "probability": self.probability, "log_probability": self.log_probability}


@dataclass(frozen=True)
class Prediction:
    context: ContextReading
    words: list[WordProbability]  # most probable first; ties by vocabulary id
    temperature: float

    def as_dict(self) -> dict[str, Any]:
        return {"context": self.context.as_dict(), "words": [w.as_dict() for w in self.words], "temperature": self.temperature}


@dataclass(frozen=True)
class GeneratedWord:
    word: str
    id: int
    probability: float  # the model's probability of this word in its context (temperature 1, nothing cut)
    sampling_probability: float  # its chance under the distribution actually sampled (1.0 when greedy)
    log_probability: float = 0.0  # log of `probability`, from the same log-softmax (finite: clamped like stable_softmax)
    alternatives: tuple[WordProbability, ...] = ()  # the model's most probable words here, as predict gives them

    def as_dict(self) -> dict[str, Any]:
        return {"word": self.word, "id": self.id, "probability": self.probability, "sampling_probability": self.sampling_probability}


@dataclass(frozen=True)
class Generation:
    prompt: ContextReading  # the context the first word was predicted from
    text: str  # the prompt's tokens followed by the generated words, joined
    continuation: str  # the generated words only
    words: list[GeneratedWord]  # every chosen word, "</s>" included when it ended the text
    stop_reason: str  # "end_of_text" or "max_words"
    seed: int  # pass it again to get the same text

    def as_dict(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt.as_dict(),
            "text": self.text,
            "continuation": self.continuation,
            "words": [w.as_dict() for w in self.words],
            "stop_reason": self.stop_reason,
            "seed": self.seed,
        }


@dataclass(frozen=True)
class Sampling:
    """A generation under way: `words` yields one chosen word per step, "</s>" last if it ends the text."""

    prompt: ContextReading  # the context the first word is predicted from
    prompt_tokens: list[str]  # every token of the prompt
    seed: int
    words: Iterator[GeneratedWord]


@dataclass(frozen=True)
class Score:
    """How well the model predicts a text, word by word, then the end of the text."""

    tokens: list[str]  # the text's tokens then "</s>": each was predicted from the k before it
    log_probabilities: np.ndarray  # (n + 1,) natural log of P(token | its context)
    unknown: np.ndarray  # (n + 1,) bool
    mean_nll: float  # nats per predicted token
    perplexity: float  # exp(mean_nll)
    unknown_rate: float  # share of the text's words (</s> not counted) that were out of vocabulary
    alternatives: list[tuple[WordProbability, ...]] = field(default_factory=list)  # per token when asked: the most probable words there

    def as_dict(self) -> dict[str, Any]:
        return {
            "tokens": list(self.tokens),
            "log_probabilities": self.log_probabilities.tolist(),
            "unknown": self.unknown.tolist(),
            "mean_nll": self.mean_nll,
            "perplexity": self.perplexity,
            "unknown_rate": self.unknown_rate,
        }


def stable_softmax(logits: np.ndarray, temperature: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """softmax(z / T) and log-softmax(z / T) over the last axis.

    The row maximum is subtracted before dividing by T, so every scaled logit is <= 0 and exp never
    overflows; a scaled logit below -float_max (a tiny T times a huge gap) is clamped so the
    log-probabilities stay finite. The maximum itself scales to exactly 0, so each row's sum is >= 1.
    """
    return _stable_softmax(logits, temperature, overwrite=False)


def _stable_softmax(logits: np.ndarray, temperature: float, overwrite: bool) -> tuple[np.ndarray, np.ndarray]:
    """stable_softmax; with overwrite, logits (a fresh array of the caller's) becomes the log-softmax.

    Same operations on the same values as the textbook lines, in place: bitwise the same results.
    """
    finfo = np.finfo(logits.dtype)
    with np.errstate(over="ignore"):
        if overwrite:
            scaled = np.subtract(logits, logits.max(axis=-1, keepdims=True), out=logits)
        else:
            scaled = logits - logits.max(axis=-1, keepdims=True)
        if temperature != 1:  # z / 1 is z, bit for bit
            t = logits.dtype.type(temperature)
            if t > 0:
                scaled /= t
            else:  # T under the dtype's smallest number (float32: 1e-45) casts to 0, and 0 / 0 is NaN: divide in float64
                scaled[...] = np.maximum(scaled.astype(np.float64) / temperature, -finfo.max)
    np.maximum(scaled, -finfo.max, out=scaled)
    e = np.exp(scaled)
    total = e.sum(axis=-1, keepdims=True)
    e /= total
    scaled -= np.log(total)
    return e, scaled


def top_ids(scores: np.ndarray, k: int) -> np.ndarray:
    """The ids of the k highest scores, highest first, equal scores in id order: exactly
    np.argsort(-scores, kind="stable")[:k], without sorting the whole vocabulary for a small k."""
    if k <= _FEW and 8 * k < len(scores):
        found = _top_few(scores, k)
        if found is not None:
            return found
    negated = -scores
    if 8 * k >= len(scores):
        return np.argsort(negated, kind="stable")[:k]
    kth = np.partition(negated, k - 1)[k - 1]
    if kth != kth:  # fewer than k numbers, the rest NaN (which sorts last): the sort is the definition
        return np.argsort(negated, kind="stable")[:k]
    candidates = np.flatnonzero(negated <= kth)  # every id that can be among the first k, in id order
    return candidates[np.argsort(negated[candidates], kind="stable")[:k]]


_FEW = 16  # up to this k, k passes of argmax beat a partition of a large vocabulary (about 4x at k=5 over 8,000 words)


def _top_few(scores: np.ndarray, k: int) -> np.ndarray | None:
    """top_ids by k passes of argmax (the first of equal maxima: id order); None when a pass meets a
    NaN or -inf, where removing a found id by writing -inf would be ambiguous."""
    remaining = scores.copy()
    ids = np.empty(k, dtype=np.intp)
    for j in range(k):
        i = remaining.argmax()
        best = remaining[i]
        if best != best or best == -np.inf:
            return None
        ids[j] = i
        remaining[i] = -np.inf
    return ids


def check_temperature(temperature: float, allow_zero: bool = False) -> float:
    if isinstance(temperature, bool) or not isinstance(temperature, (int, float, np.floating, np.integer)):
        raise EngineError("temperature", f"expected a number, got {type(temperature).__name__}")
    t = float(temperature)
    if not np.isfinite(t) or t < 0 or (t == 0 and not allow_zero):
        bound = ">= 0 (0 means greedy)" if allow_zero else "> 0"
        raise EngineError("temperature", f"expected a finite number {bound}, got {temperature!r}")
    return t


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise EngineError(name, f"expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise EngineError(name, f"expected {low}..{high}, got {value}")
    return int(value)


def _as_matrix(name: str, value: Any, dtype: Any) -> np.ndarray:
    try:
        a = np.asarray(value, dtype=dtype)
    except (ValueError, TypeError) as e:
        raise EngineError(name, f"expected a matrix of numbers with rows of equal length ({e})") from None
    if a.ndim != 2:
        raise EngineError(name, f"expected a matrix (one row per word), got {a.ndim} dimension(s)")
    return a


class LanguageModel:
    """vocabulary + embeddings (V, d) + context size k + Network (k*d inputs -> ... -> V logits)."""

    def __init__(
        self,
        vocabulary: Vocabulary | Sequence[str],
        embeddings: np.ndarray,
        context_size: int,
        network: Network,
        punctuation: str = "keep",
    ) -> None:
        if not isinstance(vocabulary, Vocabulary):
            vocabulary = Vocabulary(vocabulary)
        if len(vocabulary) > MAX_VOCABULARY:
            raise EngineError("vocabulary", f"has {len(vocabulary)} words; at most {MAX_VOCABULARY} are allowed")
        self.vocabulary = vocabulary
        self.tokenizer = Tokenizer(vocabulary, punctuation)
        self.context_size = k = _check_int("context_size", context_size, 1, MAX_CONTEXT)
        self.network = network
        self.dtype = DTYPES[network.dtype]

        embeddings = _as_matrix("embeddings", embeddings, self.dtype)
        V = len(vocabulary)
        if embeddings.shape[0] != V:
            raise EngineError("embeddings", f"embedding table has {embeddings.shape[0]} rows, vocabulary has {V} words")
        if embeddings.shape[1] == 0:
            raise EngineError("embeddings", "embedding vectors must have at least one value")
        if not np.isfinite(embeddings).all():
            raise NonFiniteResult("embeddings", f"contains values that are not finite in {network.dtype}")
        self.embeddings = np.array(embeddings, order="C")  # its own copy: never a view into a caller's (or a stored blob's) memory
        d = self.embedding_size

        first, last = network.layers[0], network.layers[-1]
        n_last = len(network.layers) - 1
        if first.input_size != k * d:
            raise EngineError(
                "layers[0].weights",
                f"first layer has {first.input_size} columns, expected context_size × embedding size = {k} × {d} = {k * d}",
            )
        if last.size != V:
            raise EngineError(f"layers[{n_last}].weights", f"last layer has {last.size} neurons, vocabulary has {V} words")
        if last.activation not in OUTPUT_ACTIVATIONS:
            raise EngineError(
                f"layers[{n_last}].activation",
                f"the last layer gives one logit per word: use identity or softmax, not {last.activation}",
            )
        if self.parameter_count > MAX_PARAMETERS:
            raise EngineError("layers", f"{self.parameter_count} parameters; at most {MAX_PARAMETERS} are allowed")

    # --- shape facts ---------------------------------------------------------------------------------

    @property
    def embedding_size(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    @property
    def punctuation(self) -> str:
        return self.tokenizer.punctuation

    @property
    def parameter_count(self) -> int:
        return int(self.embeddings.size) + self.network.parameter_count

    def summary(self) -> dict[str, Any]:
        return {
            "vocabulary_size": self.vocabulary_size,
            "context_size": self.context_size,
            "embedding_size": self.embedding_size,
            "punctuation": self.punctuation,
            "dtype": self.network.dtype,
            "layers": [{"size": layer.size, "activation": layer.activation} for layer in self.network.layers],
            "parameter_count": self.parameter_count,
        }

    # --- reading contexts ----------------------------------------------------------------------------

    def context_ids(self, text: str) -> ContextReading:
        """The last k tokens of text (left-padded with <pad>), as the model reads them."""
        return self._reading(self.tokenizer.encode(text))

    def _reading(self, enc: Encoding) -> ContextReading:
        k = self.context_size
        padding = max(0, k - len(enc.tokens))
        v = self.vocabulary
        return ContextReading(
            tokens=[PAD] * padding + enc.tokens[-k:],
            ids=np.concatenate([np.full(padding, v.pad_id, dtype=np.int64), enc.ids[-k:]]),
            unknown=np.concatenate([np.zeros(padding, dtype=bool), enc.unknown[-k:]]),
            padding=padding,
            text_tokens=len(enc.tokens),
        )

    def _check_context_ids(self, context_ids: Any) -> np.ndarray:
        ids = np.asarray(context_ids)
        if ids.ndim == 1:
            ids = ids[None, :]
        if ids.ndim != 2 or ids.shape[1] != self.context_size:
            raise EngineError("context", f"expected {self.context_size} word ids per context, got shape {ids.shape}")
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise EngineError("context", "word ids must be whole numbers")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocabulary_size):
            raise EngineError("context", f"word ids must be in 0..{self.vocabulary_size - 1}")
        return ids.astype(np.int64, copy=False)

    # --- the model -----------------------------------------------------------------------------------

    def embed(self, context_ids: np.ndarray) -> np.ndarray:
        """(batch, k) ids -> (batch, k*d): the context's embedding vectors side by side, oldest first."""
        return self.embeddings[context_ids].reshape(len(context_ids), -1)

    def interventions(self, items: Interventions | Sequence[Intervention] | None) -> Interventions | None:
        """items checked against the hidden layers (the output layer gives the logits a prediction reads)."""
        return self.network.interventions(items, hidden_only=True)

    def logits(self, context_ids: np.ndarray, interventions: Interventions | Sequence[Intervention] | None = None) -> np.ndarray:
        """(batch, k) -> (batch, V): the last layer's weighted sums."""
        ids = self._check_context_ids(context_ids)
        return self.network.weighted_sums(self.embed(ids), self.interventions(interventions))

    def next_word_distribution(self, context_ids: Any, temperature: float = 1.0,
                               interventions: Interventions | Sequence[Intervention] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(batch, k) or (k,) ids -> probabilities and log-probabilities, each (batch, V)."""
        t = check_temperature(temperature)
        return _stable_softmax(self.logits(context_ids, interventions), t, overwrite=True)

    def predict(self, context: str, top_k: int = 10, temperature: float = 1.0,
                interventions: Interventions | Sequence[Intervention] | None = None) -> Prediction:
        """The top_k most probable next words after the text `context`."""
        return self.predict_with_distribution(context, top_k, temperature, interventions)[0]

    def predict_with_distribution(self, context: str, top_k: int = 10, temperature: float = 1.0,
                                  interventions: Interventions | Sequence[Intervention] | None = None
                                  ) -> tuple[Prediction, np.ndarray, np.ndarray]:
        """predict, and the distribution it read the words from: probabilities and log-probabilities (V,)."""
        top_k = _check_int("top_k", top_k, 1, self.vocabulary_size)
        reading = self.context_ids(context)
        probs, logp = self.next_word_distribution(reading.ids, temperature, interventions)
        return Prediction(reading, self.top_words(probs[0], logp[0], top_k), float(temperature)), probs[0], logp[0]

    def top_words(self, probs: np.ndarray, logp: np.ndarray, top_k: int) -> list[WordProbability]:
        """The top_k words of one distribution (V,), most probable first, ties in id order."""
        order = top_ids(logp, top_k)
        return [WordProbability(self.vocabulary.words[i], int(i), float(probs[i]), float(logp[i])) for i in order]

    def generate(
        self,
        prompt: str = "",
        max_words: int = 20,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        interventions: Interventions | Sequence[Intervention] | None = None,
    ) -> Generation:
        """Sample up to max_words words, one at a time, each from the k words before it (see sample)."""
        sampling = self.sample(prompt, max_words, temperature, top_k, top_p, seed, interventions=interventions)
        chosen = list(sampling.words)
        v = self.vocabulary
        new_tokens = [w.word for w in chosen if w.id != v.eos_id]
        return Generation(
            prompt=sampling.prompt,
            text=join_tokens(sampling.prompt_tokens + new_tokens),
            continuation=join_tokens(new_tokens),
            words=chosen,
            stop_reason="end_of_text" if chosen[-1].id == v.eos_id else "max_words",
            seed=sampling.seed,
        )

    def sample(
        self,
        prompt: str = "",
        max_words: int = 20,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        alternatives: int = 0,
        logit_bias: Mapping[int, float] | None = None,
        interventions: Interventions | Sequence[Intervention] | None = None,
    ) -> Sampling:
        """The words of generate, one per step, as they are chosen (the settings are checked at once).

        temperature 0 picks the most probable word (ties: lowest id). Otherwise the distribution
        softmax(z / T) is cut to its top_k words and then to the smallest set whose probability
        reaches top_p, renormalised, and sampled with numpy's PCG64 seeded by `seed`. <pad> is never
        chosen. Generation stops after "</s>". Each word carries the model's `alternatives` most
        probable words at its step (temperature 1, nothing cut), exactly as predict ranks them.
        logit_bias adds a number to the logits of some word ids before the word is chosen (the reported
        probabilities stay the model's own).
        """
        max_words = _check_int("max_words", max_words, 1, MAX_GENERATE_WORDS)
        t = check_temperature(temperature, allow_zero=True)
        V = self.vocabulary_size
        if top_k is not None:
            top_k = _check_int("top_k", top_k, 1, V)
        if top_p is not None:
            if isinstance(top_p, bool) or not isinstance(top_p, (int, float)) or not 0 < top_p <= 1:
                raise EngineError("top_p", f"expected a number in (0, 1], got {top_p!r}")
        alternatives = _check_int("alternatives", alternatives, 0, V)
        bias = None
        if logit_bias:
            bias = np.zeros(V)
            for word_id, value in logit_bias.items():
                _check_int("logit_bias", word_id, 0, V - 1)
                if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                    raise EngineError("logit_bias", f"expected a finite number for word id {word_id}, got {value!r}")
                bias[word_id] = value
        if seed is None:
            seed = secrets.randbits(63)
        seed = _check_int("seed", seed, 0, 2**64 - 1)
        edits = self.interventions(interventions)
        encoded = self.tokenizer.encode(prompt)
        reading = self._reading(encoded)
        steps = self._steps(reading.ids.copy(), max_words, t, top_k, top_p, seed, alternatives, bias, edits)
        return Sampling(reading, encoded.tokens, seed, steps)

    def _steps(
        self, context: np.ndarray, max_words: int, t: float, top_k: int | None, top_p: float | None, seed: int, alternatives: int,
        bias: np.ndarray | None, edits: Interventions | None = None,
    ) -> Iterator[GeneratedWord]:
        rng = np.random.Generator(np.random.PCG64(seed))
        v = self.vocabulary
        for _ in range(max_words):
            logits = self.logits(context, edits)  # (1, V) in the network's dtype
            z = logits[0].astype(np.float64)  # the sampling reads float64 logits (exact casts of float32 ones)
            # the reported numbers are predict's: next_word_distribution's softmax in the network's dtype
            model_probs, model_logp = (a[0] for a in _stable_softmax(logits, 1.0, overwrite=True))
            top = tuple(
                WordProbability(v.words[j], int(j), float(model_probs[j]), float(model_logp[j]))
                for j in (top_ids(model_logp, alternatives) if alternatives else ())
            )
            if bias is not None:
                with np.errstate(over="ignore"):
                    z += bias
                np.clip(z, -_F64_MAX, _F64_MAX, out=z)  # finite logits plus finite biases: keep them numbers
            z[v.pad_id] = -np.inf  # never chosen: scales to -float_max, so its probability is exactly 0
            if t == 0:
                i, sampling_p = int(np.argmax(z)), 1.0
            else:
                p, _ = stable_softmax(z, t)
                i, sampling_p = _sample(p, top_k, top_p, rng)
            yield GeneratedWord(v.words[i], i, float(model_probs[i]), sampling_p, float(model_logp[i]), top)
            if i == v.eos_id:
                return
            context = np.concatenate([context[1:], [i]])

    def score(self, text: str, alternatives: int = 0, interventions: Interventions | Sequence[Intervention] | None = None) -> Score:
        """Mean negative log-likelihood and perplexity of the text's tokens, then of "</s>" after them.

        With alternatives > 0, each token also gets the model's `alternatives` most probable words in
        its context (temperature 1), ranked as predict ranks them. Interventions edit hidden
        activations on the way (see interventions()).
        """
        alternatives = _check_int("alternatives", alternatives, 0, self.vocabulary_size)
        edits = self.interventions(interventions)
        enc = self.tokenizer.encode(text, add_end=True)
        n = len(enc.tokens) - 1
        if n == 0:
            raise EngineError("text", "has no words to score")
        contexts = self.contexts(enc.ids)  # (n + 1, k)
        logp = np.empty(n + 1, dtype=np.float64)
        ranked: list[tuple[WordProbability, ...]] = []
        words = self.vocabulary.words
        for start in range(0, n + 1, _SCORE_BATCH):
            batch = contexts[start : start + _SCORE_BATCH]
            p, lp = _stable_softmax(self.logits(batch, edits), 1.0, overwrite=True)
            logp[start : start + len(batch)] = lp[np.arange(len(batch)), enc.ids[start : start + len(batch)]]
            if alternatives:
                ranked += [tuple(WordProbability(words[j], int(j), float(p[r, j]), float(lp[r, j])) for j in top_ids(lp[r], alternatives))
                           for r in range(len(batch))]
        mean_nll = float(-logp.mean())
        return Score(
            tokens=enc.tokens,
            log_probabilities=logp,
            unknown=enc.unknown,
            mean_nll=mean_nll,
            perplexity=float(np.exp(min(mean_nll, 700.0))),
            unknown_rate=float(enc.unknown[:-1].mean()),
            alternatives=ranked,
        )

    def contexts(self, ids: np.ndarray) -> np.ndarray:
        """(n,) ids of one text -> (n, k): row t holds the k ids before position t, <pad> before the start."""
        return sliding_contexts(ids, self.context_size, self.vocabulary.pad_id)

    # --- storage -------------------------------------------------------------------------------------

    def to_arrays(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """(JSON metadata, binary arrays): everything needed by from_arrays."""
        metadata = {
            "format": ARRAYS_FORMAT,
            "version": ARRAYS_VERSION,
            "vocabulary": list(self.vocabulary.words),
            "context_size": self.context_size,
            "embedding_size": self.embedding_size,
            "punctuation": self.punctuation,
            "dtype": self.network.dtype,
            "layers": [{"size": layer.size, "activation": layer.activation} for layer in self.network.layers],
        }
        arrays = {"embeddings": self.embeddings}
        for i, layer in enumerate(self.network.layers):
            arrays[f"layers.{i}.weights"] = layer.weights
            arrays[f"layers.{i}.biases"] = layer.biases
        return metadata, arrays

    @classmethod
    def from_arrays(cls, metadata: Mapping[str, Any], arrays: Mapping[str, np.ndarray]) -> "LanguageModel":
        if not isinstance(metadata, Mapping):
            raise EngineError("metadata", "expected an object")
        for key in ("vocabulary", "context_size", "layers"):
            if key not in metadata:
                raise EngineError(key, "missing")
        layer_specs = metadata["layers"]
        if not isinstance(layer_specs, list) or not layer_specs:
            raise EngineError("layers", "expected a non-empty list of layers")
        dtype = metadata.get("dtype", "float64")
        if dtype not in DTYPES:
            raise EngineError("dtype", f"expected one of {sorted(DTYPES)}, got {dtype!r}")
        layers = []
        for i, spec in enumerate(layer_specs):
            if not isinstance(spec, Mapping) or not isinstance(spec.get("activation"), str):
                raise EngineError(f"layers[{i}].activation", "missing")
            if spec["activation"] not in ACTIVATIONS:
                raise EngineError(f"layers[{i}].activation", f"unknown activation {spec['activation']!r}")
            for part in ("weights", "biases"):
                if f"layers.{i}.{part}" not in arrays:
                    raise EngineError(f"layers[{i}].{part}", "missing")
            weights = _as_matrix(f"layers[{i}].weights", arrays[f"layers.{i}.weights"], DTYPES[dtype])
            try:
                biases = np.asarray(arrays[f"layers.{i}.biases"], dtype=DTYPES[dtype])
            except (ValueError, TypeError):
                raise EngineError(f"layers[{i}].biases", "expected a list of numbers") from None
            layers.append(Layer(weights, biases, spec["activation"]))
        if "embeddings" not in arrays:
            raise EngineError("embeddings", "missing")
        return cls(
            metadata["vocabulary"],
            arrays["embeddings"],
            metadata["context_size"],
            Network(layers, dtype=dtype),
            metadata.get("punctuation", "keep"),
        )

    def save(self, file: str | BinaryIO) -> None:
        """One .npz file: the arrays plus the metadata as a JSON string (loads without pickle)."""
        metadata, arrays = self.to_arrays()
        np.savez_compressed(file, metadata=np.array(json.dumps(metadata)), **arrays)

    @classmethod
    def load(cls, file: str | BinaryIO) -> "LanguageModel":
        with np.load(file, allow_pickle=False) as data:
            metadata = json.loads(str(data["metadata"]))
            arrays = {name: data[name] for name in data.files if name != "metadata"}
        return cls.from_arrays(metadata, arrays)


def sliding_contexts(ids: np.ndarray, k: int, pad_id: int) -> np.ndarray:
    """(n,) -> (n, k): for each position, the k ids before it, oldest first."""
    padded = np.concatenate([np.full(k, pad_id, dtype=np.int64), np.asarray(ids, dtype=np.int64)])
    return np.lib.stride_tricks.sliding_window_view(padded[:-1], k)[: len(ids)].copy()


def _sample(p: np.ndarray, top_k: int | None, top_p: float | None, rng: np.random.Generator) -> tuple[int, float]:
    """Draw one id from p (V,) after cutting it to its top_k words, then to the top_p nucleus."""
    order = np.argsort(-p, kind="stable")  # most probable first, ties by id
    keep = int(np.count_nonzero(p))  # >= 1: the most probable word has exp(0) / sum > 0
    if top_k is not None:
        keep = min(keep, top_k)
    if top_p is not None:
        mass = np.cumsum(p[order[:keep]])
        # the smallest prefix whose share of the kept mass reaches top_p
        keep = min(keep, int(np.searchsorted(mass / mass[-1], top_p * (1 - 1e-12))) + 1)
    kept = order[:keep]
    q = p[kept] / p[kept].sum()
    j = min(int(np.searchsorted(np.cumsum(q), rng.random(), side="right")), keep - 1)
    return int(kept[j]), float(q[j])
