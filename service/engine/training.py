"""Training a language network: minibatch Adam on softmax cross-entropy, backprop written out in numpy.

One training example is (the k ids before a position, the id at that position). Every text is read from
k "<pad>" on and ends with a "</s>" target. The examples of all texts, in order, are split once: the
first (1 - validation_fraction) of them train, the contiguous rest validates, so no validation word was
ever seen in training and the vocabulary is counted on the training part only.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Callable, Iterator, Mapping, Sequence

import numpy as np
from scipy.special import erfc

from .activations import ACTIVATIONS, _SQRT_2_OVER_PI, LEAKY_RELU_SLOPE, sigmoid
from .baselines import BigramBaseline, UnigramBaseline
from .errors import EngineError, NonFiniteResult
from .language import MAX_CONTEXT, MAX_PARAMETERS, MAX_VOCABULARY, LanguageModel, sliding_contexts
from .network import DTYPES, Layer, Network
from .tokenizer import EOS, Vocabulary, check_punctuation, tokenize

__all__ = [
    "MAX_CONTEXT",
    "MAX_PARAMETERS",
    "MAX_VOCABULARY",
    "MAX_EMBEDDING_SIZE",
    "MAX_BATCH_SIZE",
    "MAX_STEPS",
    "MAX_TRAINING_TOKENS",
    "MIN_TRAINING_TOKENS",
    "MAX_HIDDEN_LAYERS",
    "WHOLE_NUMBER_SETTINGS",
    "NUMBER_SETTINGS",
    "HIDDEN_SIZE_RANGE",
    "BETA_RANGE",
    "Interval",
    "TrainingSettings",
    "TrainingReport",
    "TrainingCancelled",
    "TrainingRun",
    "Diverged",
    "CheckpointMismatch",
    "training_warnings",
    "training_compute",
    "Corpus",
    "prepare_corpus",
    "train",
    "activation_backward",
]

MAX_EMBEDDING_SIZE = 1_024
MAX_HIDDEN_LAYERS = 8
MAX_BATCH_SIZE = 4_096
MAX_STEPS = 1_000_000
MAX_TRAINING_TOKENS = 5_000_000
MIN_TRAINING_TOKENS = 10
TRAIN_LOSS_SAMPLE = 16_384  # the report's train loss is measured on at most this many evenly spaced examples
HISTORY_POINTS = 50  # the report's loss history keeps at most this many points
_EVAL_BATCH = 2_048


@dataclass(frozen=True)
class Interval:
    """The numbers a setting may take: [low, high], either end open."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def holds(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        above = self.low < value if self.low_open else self.low <= value
        return above and (value < self.high if self.high_open else value <= self.high)

    def __str__(self) -> str:
        return f"{'(' if self.low_open else '['}{self.low}, {self.high}{')' if self.high_open else ']'}"


# Every numeric setting's range, in one place: TrainingSettings.validate() checks them, the API's schema
# reports every setting outside them at once, and tests hold openapi.yaml to them.
WHOLE_NUMBER_SETTINGS: dict[str, tuple[int, int]] = {
    "max_vocabulary_size": (4, MAX_VOCABULARY),
    "min_count": (1, 1_000_000),
    "context_size": (1, MAX_CONTEXT),
    "embedding_size": (1, MAX_EMBEDDING_SIZE),
    "steps": (1, MAX_STEPS),  # or None: epochs decide
    "batch_size": (1, MAX_BATCH_SIZE),
    "seed": (0, 2**64 - 1),
    "progress_every": (1, MAX_STEPS),
}
NUMBER_SETTINGS: dict[str, Interval] = {
    "learning_rate": Interval(0, 10, low_open=True),
    "final_learning_rate_fraction": Interval(0, 1),
    "eps": Interval(0, 1, low_open=True),
    "weight_decay": Interval(0, 1),
    "dropout": Interval(0, 1, high_open=True),
    "epochs": Interval(0, 10_000, low_open=True),
    "validation_fraction": Interval(0, 0.5),
}
HIDDEN_SIZE_RANGE = (1, 100_000)  # each of at most MAX_HIDDEN_LAYERS hidden layers
BETA_RANGE = Interval(0, 1, high_open=True)  # each of Adam's two betas

ProgressCallback = Callable[[int, int, float], None]


class TrainingCancelled(Exception):
    """should_stop() answered True; `step` steps had been taken."""

    def __init__(self, step: int) -> None:
        super().__init__(f"training cancelled after {step} steps")
        self.step = step


@dataclass(frozen=True)
class TrainingSettings:
    max_vocabulary_size: int = 10_000  # specials included; the most frequent words are kept
    min_count: int = 2  # words seen fewer times in the training split read as <unk>
    context_size: int = 4  # k
    embedding_size: int = 128  # d
    hidden_sizes: tuple[int, ...] = (128,)
    activation: str = "tanh"
    learning_rate: float = 3e-3
    final_learning_rate_fraction: float = 0.1  # cosine decay to learning_rate * this by the last step
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    weight_decay: float = 0.3  # decoupled (AdamW), on weight matrices and embeddings, not biases
    dropout: float = 0.0  # share of layer inputs (context embeddings, hidden outputs) dropped in training
    epochs: float = 5.0
    steps: int | None = None  # if set, overrides epochs
    batch_size: int = 256
    validation_fraction: float = 0.1
    seed: int = 0
    punctuation: str = "keep"
    dtype: str = "float64"
    progress_every: int = 100  # steps between on_progress calls

    def __post_init__(self) -> None:
        # JSON gives lists; keep the dataclass hashable and comparable
        object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes) if isinstance(self.hidden_sizes, (list, tuple)) else self.hidden_sizes)
        object.__setattr__(self, "betas", tuple(self.betas) if isinstance(self.betas, (list, tuple)) else self.betas)
        self.validate()

    def validate(self) -> None:
        for name, (low, high) in WHOLE_NUMBER_SETTINGS.items():
            value = getattr(self, name)
            if not (name == "steps" and value is None):
                _int(name, value, low, high)
        if not isinstance(self.hidden_sizes, tuple) or len(self.hidden_sizes) > MAX_HIDDEN_LAYERS:
            got = f"{len(self.hidden_sizes)} sizes" if isinstance(self.hidden_sizes, tuple) else repr(self.hidden_sizes)
            raise EngineError("settings.hidden_sizes", f"expected a list of at most {MAX_HIDDEN_LAYERS} layer sizes, got {got}")
        for i, size in enumerate(self.hidden_sizes):
            _int(f"hidden_sizes[{i}]", size, *HIDDEN_SIZE_RANGE)
        if not isinstance(self.activation, str) or self.activation not in ACTIVATIONS:
            raise EngineError("settings.activation", f"unknown activation {self.activation!r}; expected one of {sorted(ACTIVATIONS)}")
        for name, interval in NUMBER_SETTINGS.items():
            _number(name, getattr(self, name), interval)
        if not isinstance(self.betas, tuple) or len(self.betas) != 2:
            raise EngineError("settings.betas", f"expected two numbers, got {self.betas!r}")
        for i, beta in enumerate(self.betas):
            _number(f"betas[{i}]", beta, BETA_RANGE)
        check_punctuation(self.punctuation, "settings.punctuation")
        if not isinstance(self.dtype, str) or self.dtype not in DTYPES:
            raise EngineError("settings.dtype", f"expected one of {sorted(DTYPES)}, got {self.dtype!r}")

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "TrainingSettings":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise EngineError(f"settings.{unknown[0]}", f"unknown setting; expected some of {sorted(known)}")
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        d["betas"] = list(self.betas)
        return d


def _int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise EngineError(f"settings.{name}", f"expected a whole number in {low}..{high}, got {value!r}")


def _number(name: str, value: Any, interval: Interval) -> None:
    if not interval.holds(value):
        raise EngineError(f"settings.{name}", f"expected a number in {interval}, got {value!r}")


@dataclass(frozen=True)
class TrainingReport:
    train_loss: float  # mean negative log-likelihood (nats) on (a sample of) the training split, final weights
    train_perplexity: float
    validation_loss: float | None  # the same on the validation split (None without one)
    validation_perplexity: float | None
    unigram_perplexity: float | None  # add-one unigram, fitted on the training split, on the validation split
    bigram_perplexity: float | None  # interpolated Kneser-Ney bigram, likewise
    validation_unknown_rate: float | None  # share of validation targets that are <unk>
    steps: int
    epochs: float
    seconds: float
    vocabulary_size: int
    parameter_count: int
    training_tokens: int  # targets in the training split ("</s>" of each text included)
    validation_tokens: int
    loss_history: list[tuple[int, float]]  # (step, mean minibatch loss since the previous point)
    settings: TrainingSettings

    def as_dict(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in fields(self)}
        d["loss_history"] = [[s, l] for s, l in self.loss_history]
        d["settings"] = self.settings.as_dict()
        return d


# --- data --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Corpus:
    """All examples of all texts, in order; rows [0, split) train, rows [split, n) validate."""

    vocabulary: Vocabulary
    contexts: np.ndarray  # (n, k) int64
    targets: np.ndarray  # (n,) int64
    unknown: np.ndarray  # (n,) bool: the target word was out of vocabulary
    split: int

    @property
    def training(self) -> tuple[np.ndarray, np.ndarray]:
        return self.contexts[: self.split], self.targets[: self.split]

    @property
    def validation(self) -> tuple[np.ndarray, np.ndarray]:
        return self.contexts[self.split :], self.targets[self.split :]


def _as_texts(texts: str | Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    if not isinstance(texts, Sequence) or not texts:
        raise EngineError("texts", "expected a text or a non-empty list of texts")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise EngineError(f"texts[{i}]", f"expected a string, got {type(text).__name__}")
    return list(texts)


def prepare_corpus(texts: str | Sequence[str], settings: TrainingSettings) -> Corpus:
    token_lists = [tokenize(t, settings.punctuation) for t in _as_texts(texts)]
    token_lists = [tokens + [EOS] for tokens in token_lists if tokens]  # a text without words adds nothing
    n = sum(len(tokens) for tokens in token_lists)
    if n > MAX_TRAINING_TOKENS:
        raise EngineError("texts", f"{n} tokens; at most {MAX_TRAINING_TOKENS} can be trained on")
    n_validation = math.ceil(settings.validation_fraction * n)
    split = n - n_validation
    needed = max(MIN_TRAINING_TOKENS, settings.context_size + 1)
    if split < needed or (settings.validation_fraction > 0 and n_validation < 1):
        raise EngineError(
            "texts",
            f"{n} tokens after tokenization ({n_validation} kept for validation); training needs at least {needed}",
        )

    training_tokens, seen = [], 0
    for tokens in token_lists:
        training_tokens.append(tokens[: max(0, split - seen)])
        seen += len(tokens)
    vocabulary = Vocabulary.build(training_tokens, settings.max_vocabulary_size, settings.min_count)

    contexts, targets, unknown = [], [], []
    for tokens in token_lists:
        ids = vocabulary.ids(tokens)
        contexts.append(sliding_contexts(ids, settings.context_size, vocabulary.pad_id))
        targets.append(ids)
        unknown.append(np.fromiter((t not in vocabulary for t in tokens), dtype=bool, count=len(tokens)))
    return Corpus(vocabulary, np.concatenate(contexts), np.concatenate(targets), np.concatenate(unknown), split)


# --- the network's math ------------------------------------------------------------------------------


def activation_backward(name: str, z: np.ndarray, a: np.ndarray, da: np.ndarray) -> np.ndarray:
    """dL/dz from dL/da for a = f(z). All (batch, n)."""
    if name == "identity":
        return da
    if name == "relu":
        return da * (z > 0)
    if name == "leaky_relu":
        return da * np.where(z >= 0, 1, LEAKY_RELU_SLOPE).astype(z.dtype)
    if name == "sigmoid":
        return da * a * (1 - a)
    if name == "tanh":
        return da * (1 - a * a)
    if name == "softplus":
        return da * sigmoid(z)
    if name == "silu":
        s = sigmoid(z)
        return da * (s + a * (1 - s))  # d/dz z*s = s + z*s*(1 - s), and z*s = a
    if name == "gelu":
        zc = np.clip(z, -40, 40)  # phi(40) is 0 in float64; keeps z*z from overflowing
        cdf = (erfc(-z / math.sqrt(2.0)) / 2).astype(z.dtype, copy=False)
        pdf = np.exp(-0.5 * zc * zc) / math.sqrt(2 * math.pi)
        return da * (cdf + z * pdf)
    if name == "gelu_tanh":
        zc = np.clip(z, -10, 10)  # as in the forward pass; past it tanh is exactly ±1 and 1 - t² is 0
        t = np.tanh(_SQRT_2_OVER_PI * (zc + 0.044715 * zc**3))
        return da * (0.5 * (1 + t) + 0.5 * z * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * 0.044715 * zc**2))
    if name == "softmax":
        # Jacobian-vector product of softmax: a * (da - <da, a>)
        return a * (da - (da * a).sum(axis=-1, keepdims=True))
    raise EngineError("activation", f"unknown activation {name!r}")


@dataclass
class Parameters:
    """The trainable arrays. layers[i] = (weights (n_out, n_in), biases (n_out,))."""

    embeddings: np.ndarray  # (V, d)
    layers: list[list[np.ndarray]]
    activations: list[str]  # one per layer; the last is "identity"

    def arrays(self) -> list[np.ndarray]:
        return [self.embeddings] + [p for layer in self.layers for p in layer]

    def decays(self) -> list[bool]:
        """Which arrays weight decay applies to: matrices yes, biases no."""
        return [True] + [is_weights for _ in self.layers for is_weights in (True, False)]


def init_parameters(settings: TrainingSettings, V: int, unigram_counts: np.ndarray, rng: np.random.Generator) -> Parameters:
    dtype = DTYPES[settings.dtype]
    k, d = settings.context_size, settings.embedding_size
    sizes = [k * d, *settings.hidden_sizes, V]
    embeddings = rng.standard_normal((V, d))  # like torch.nn.Embedding
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers.append([rng.standard_normal((n_out, n_in)) / math.sqrt(n_in), np.zeros(n_out)])  # LeCun normal
    # The output starts as the (add-one) unigram distribution: the first steps need not learn word frequencies.
    layers[-1][0] *= 0.1
    layers[-1][1] = np.log((unigram_counts + 1) / (unigram_counts + 1).sum())
    return Parameters(
        embeddings.astype(dtype),
        [[w.astype(dtype), b.astype(dtype)] for w, b in layers],
        [settings.activation] * len(settings.hidden_sizes) + ["identity"],
    )


def dropout_mask(shape: tuple[int, ...], rate: float, rng: np.random.Generator | None, dtype: Any) -> np.ndarray | None:
    """Inverted dropout: keep each value with probability 1 - rate and scale it by 1 / (1 - rate)."""
    if not rate or rng is None:
        return None
    return (rng.random(shape) >= rate).astype(dtype) / dtype(1 - rate)


def loss_and_gradients(
    params: Parameters,
    contexts: np.ndarray,
    targets: np.ndarray,
    dropout: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[float, list[np.ndarray]]:
    """Mean softmax cross-entropy of the batch and its gradient for every array of params.arrays().

    With dropout > 0 (and an rng), the layer inputs (the context's embeddings and every hidden layer's
    outputs) are dropped at that rate, as in training; dropout 0 gives the deterministic loss.
    """
    B = len(targets)
    dtype = params.embeddings.dtype.type
    # forward
    x = params.embeddings[contexts].reshape(B, -1)  # (B, k*d)
    inputs, sums, outs, masks = [], [], [], []
    for (W, b), name in zip(params.layers, params.activations):
        mask = dropout_mask(x.shape, dropout, rng, dtype)
        if mask is not None:
            x = x * mask
        masks.append(mask)
        inputs.append(x)
        if len(inputs) == len(params.layers):
            break
        z = x @ W.T + b  # (B, n_out)
        sums.append(z)
        x = ACTIVATIONS[name](z)
        outs.append(x)
    W_out, b_out = params.layers[-1]
    logits = x @ W_out.T  # (B, V)
    logits += b_out
    # softmax and cross-entropy in place (the biggest array of a step): shift, read the targets, exp, normalise
    rows = np.arange(B)
    logits -= logits.max(axis=1, keepdims=True)
    target_logits = logits[rows, targets]
    probs = np.exp(logits, out=logits)
    totals = probs.sum(axis=1)
    loss = float(np.mean(np.log(totals) - target_logits))
    probs /= totals[:, None]

    # backward: d(loss)/d(logits) = (softmax - one_hot) / B
    dz = probs
    dz[rows, targets] -= 1
    dz /= B
    grads = [np.dot(dz.T, x), dz.sum(axis=0)]
    da = dz @ W_out  # (B, n_in of the last layer)
    for i in range(len(params.layers) - 2, -1, -1):
        if masks[i + 1] is not None:
            da *= masks[i + 1]
        W, _ = params.layers[i]
        dz = activation_backward(params.activations[i], sums[i], outs[i], da)
        grads = [np.dot(dz.T, inputs[i]), dz.sum(axis=0)] + grads
        da = dz @ W  # (B, n_in)
    if masks[0] is not None:
        da *= masks[0]
    d_embeddings = np.zeros_like(params.embeddings)
    np.add.at(d_embeddings, contexts.ravel(), da.reshape(B * contexts.shape[1], -1))
    return loss, [d_embeddings] + grads


class Adam:
    """Adam (Kingma & Ba 2015) with decoupled weight decay (Loshchilov & Hutter 2019)."""

    def __init__(self, arrays: list[np.ndarray], decays: list[bool], settings: TrainingSettings) -> None:
        self.arrays = arrays
        self.decays = decays
        self.beta1, self.beta2 = settings.betas
        self.eps = settings.eps
        self.weight_decay = settings.weight_decay
        self.m = [np.zeros_like(a) for a in arrays]
        self.v = [np.zeros_like(a) for a in arrays]
        self.t = 0

    def step(self, grads: list[np.ndarray], lr: float) -> None:
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step_size = lr * math.sqrt(1 - b2**self.t) / (1 - b1**self.t)  # bias corrections folded into the step
        eps_hat = self.eps * math.sqrt(1 - b2**self.t)
        for p, g, m, v, decay in zip(self.arrays, grads, self.m, self.v, self.decays):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            if decay and self.weight_decay:
                p *= 1 - lr * self.weight_decay
            p -= step_size * m / (np.sqrt(v) + eps_hat)


def cosine_learning_rate(settings: TrainingSettings, step: int, total: int) -> float:
    """step 0 .. total-1: from learning_rate down to learning_rate * final_learning_rate_fraction."""
    floor = settings.final_learning_rate_fraction
    progress = step / max(1, total - 1)
    return settings.learning_rate * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


def to_language_model(params: Parameters, vocabulary: Vocabulary, settings: TrainingSettings) -> LanguageModel:
    layers = [Layer(W, b, name) for (W, b), name in zip(params.layers, params.activations)]  # Network and LanguageModel copy
    return LanguageModel(vocabulary, params.embeddings, settings.context_size, Network(layers, settings.dtype), settings.punctuation)


def mean_nll(model: LanguageModel, contexts: np.ndarray, targets: np.ndarray) -> float:
    """Mean of -log P(target | context) = log(sum_w exp z_w) - z_target, in batches."""
    total = 0.0
    for start in range(0, len(targets), _EVAL_BATCH):
        z = model.logits(contexts[start : start + _EVAL_BATCH])  # (batch, V)
        t = targets[start : start + _EVAL_BATCH]
        z -= z.max(axis=1, keepdims=True)
        target_z = z[np.arange(len(t)), t]
        total += float((np.log(np.exp(z, out=z).sum(axis=1)) - target_z).sum(dtype=np.float64))
    return total / len(targets)


def evenly_spaced(n: int, at_most: int) -> np.ndarray:
    return np.linspace(0, n - 1, min(n, at_most)).round().astype(np.int64)


def parameter_count(settings: TrainingSettings, V: int) -> int:
    sizes = [settings.context_size * settings.embedding_size, *settings.hidden_sizes, V]
    return V * settings.embedding_size + sum((n_in + 1) * n_out for n_in, n_out in zip(sizes[:-1], sizes[1:]))


def check_trainable(texts: str | Sequence[str], settings: TrainingSettings) -> tuple[Corpus, int]:
    """Everything that can be refused before training starts: too little text, too many parameters."""
    corpus = prepare_corpus(texts, settings)
    V = len(corpus.vocabulary)
    n_params = parameter_count(settings, V)
    if n_params > MAX_PARAMETERS:
        raise EngineError(
            "settings",
            f"{n_params} parameters (vocabulary {V}, embedding {settings.embedding_size}, hidden {list(settings.hidden_sizes)}); "
            f"at most {MAX_PARAMETERS} are allowed",
        )
    return corpus, n_params


# --- the loop ----------------------------------------------------------------------------------------


def training_compute(corpus: Corpus, n_params: int, settings: TrainingSettings) -> int:
    """A job's estimated compute: steps x parameters x examples per batch."""
    n_train = corpus.split
    return total_steps(settings, n_train) * n_params * min(settings.batch_size, n_train)


def total_steps(settings: TrainingSettings, n_train: int) -> int:
    """settings.steps, or as many steps as settings.epochs passes over n_train examples take."""
    return settings.steps or max(1, math.ceil(settings.epochs * n_train / settings.batch_size))


class Minibatches:
    """Example indices, batch after batch, without end: each epoch in a fresh random order; a batch
    that runs past the end of an epoch is completed from the next one. Its position (order, position)
    is part of a checkpoint, so a resumed run draws the very same batches."""

    def __init__(self, rng: np.random.Generator, n_train: int, batch_size: int) -> None:
        self.rng, self.n_train, self.batch_size = rng, n_train, batch_size
        self.order: np.ndarray | None = None  # drawn at the first batch, as a generator would
        self.position = 0

    def __iter__(self) -> "Minibatches":
        return self

    def __next__(self) -> np.ndarray:
        if self.order is None:
            self.order, self.position = self.rng.permutation(self.n_train), 0
        batch = self.order[self.position : self.position + self.batch_size]
        self.position += len(batch)
        while len(batch) < min(self.batch_size, self.n_train):  # the epoch ran out: continue in a new order
            self.order, self.position = self.rng.permutation(self.n_train), 0
            more = self.order[: self.batch_size - len(batch)]
            batch, self.position = np.concatenate([batch, more]), len(more)
        return batch


def minibatches(rng: np.random.Generator, n_train: int, batch_size: int) -> Iterator[np.ndarray]:
    return Minibatches(rng, n_train, batch_size)


def train(
    texts: str | Sequence[str],
    settings: TrainingSettings | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[LanguageModel, TrainingReport]:
    """Train a language network on texts (each one a document ending in "</s>")."""
    started = time.perf_counter()
    settings = settings or TrainingSettings()
    corpus, n_params = check_trainable(texts, settings)
    return train_corpus(corpus, n_params, settings, on_progress, should_stop, started)


def train_corpus(
    corpus: Corpus,
    n_params: int,
    settings: TrainingSettings,
    on_progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    started: float | None = None,
) -> tuple[LanguageModel, TrainingReport]:
    """train() on a corpus check_trainable has already prepared (and counted the parameters for)."""
    started = time.perf_counter() if started is None else started
    run = TrainingRun(corpus, n_params, settings)
    progress_sum = 0.0
    while not run.done:
        if should_stop is not None and should_stop():
            raise TrainingCancelled(run.step)
        progress_sum += run.advance()
        step = run.step
        if step % settings.progress_every == 0 or step == run.total:
            window = step % settings.progress_every or settings.progress_every
            if on_progress is not None:
                on_progress(step, run.total, progress_sum / window)
            progress_sum = 0.0
    return run.finish(time.perf_counter() - started)


class TrainingRun:
    """One training, a step at a time, whose whole state can be saved (checkpoint()) and taken up again
    (resume()) so that the resumed run ends with the very same bits as one never interrupted."""

    def __init__(self, corpus: Corpus, n_params: int, settings: TrainingSettings) -> None:
        self.corpus, self.n_params, self.settings = corpus, n_params, settings
        V = len(corpus.vocabulary)
        self.train_contexts, self.train_targets = corpus.training
        n_train = len(self.train_targets)
        self.total = total_steps(settings, n_train)
        self.rng = np.random.Generator(np.random.PCG64(settings.seed))
        self.params = init_parameters(settings, V, np.bincount(self.train_targets, minlength=V).astype(np.float64), self.rng)
        self.optimiser = Adam(self.params.arrays(), self.params.decays(), settings)
        self.batches = Minibatches(self.rng, n_train, settings.batch_size)
        self.step = 0
        self.history: list[tuple[int, float]] = []
        self.history_every = max(1, math.ceil(self.total / HISTORY_POINTS))
        self.history_sum = 0.0
        self.first_loss: float | None = None
        self.seconds = 0.0  # training time of earlier attempts, carried by checkpoints
        self.fingerprint = corpus_fingerprint(corpus, settings)

    @property
    def done(self) -> bool:
        return self.step >= self.total

    @property
    def tokens_per_step(self) -> int:
        return min(self.settings.batch_size, len(self.train_targets))

    def advance(self) -> float:
        """Take one step; its minibatch loss. Raises Diverged when the loss is not finite or far above its start."""
        step = self.step + 1
        batch = next(self.batches)  # drawn now, between the previous step's dropout draws and this one's
        # a diverging run turns logits into inf; the loss check below reports it instead of numpy warnings
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads = loss_and_gradients(self.params, self.train_contexts[batch], self.train_targets[batch], self.settings.dropout, self.rng)
            if self.first_loss is None and math.isfinite(loss):
                self.first_loss = loss
            if not math.isfinite(loss) or loss > diverged_above(self.first_loss or 0.0, len(self.corpus.vocabulary)):
                raise Diverged(step, loss)
            self.optimiser.step(grads, cosine_learning_rate(self.settings, step - 1, self.total))
        self.step = step
        self.history_sum += loss
        if step % self.history_every == 0 or step == self.total:
            self.history.append((step, self.history_sum / (step - (self.history[-1][0] if self.history else 0))))
            self.history_sum = 0.0
        return loss

    def validation_loss(self, sample: bool = False) -> float | None:
        """Mean negative log-likelihood of the validation split under the current weights (None without
        one); with sample, on at most TRAIN_LOSS_SAMPLE evenly spaced examples (a progress report)."""
        val_contexts, val_targets = self.corpus.validation
        if not len(val_targets):
            return None
        if sample:
            rows = evenly_spaced(len(val_targets), TRAIN_LOSS_SAMPLE)
            val_contexts, val_targets = val_contexts[rows], val_targets[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            return mean_nll(to_language_model(self.params, self.corpus.vocabulary, self.settings), val_contexts, val_targets)

    def finish(self, seconds: float) -> tuple[LanguageModel, TrainingReport]:
        """The trained model and its report, once done; `seconds` is this attempt's time."""
        corpus, settings, params = self.corpus, self.settings, self.params
        for array in params.arrays():
            if not np.isfinite(array).all():
                raise NonFiniteResult("settings.learning_rate", "training left weights that are not finite; lower the learning rate")
        V = len(corpus.vocabulary)
        train_contexts, train_targets = self.train_contexts, self.train_targets
        n_train = len(train_targets)
        model = to_language_model(params, corpus.vocabulary, settings)
        sample = evenly_spaced(n_train, TRAIN_LOSS_SAMPLE)
        train_loss = mean_nll(model, train_contexts[sample], train_targets[sample])
        report: dict[str, Any] = dict(
            validation_loss=None, validation_perplexity=None, unigram_perplexity=None, bigram_perplexity=None, validation_unknown_rate=None
        )
        val_contexts, val_targets = corpus.validation
        if len(val_targets):
            validation_loss = mean_nll(model, val_contexts, val_targets)
            pad = corpus.vocabulary.pad_id
            unigram = UnigramBaseline.fit(train_targets, V, pad)
            bigram = BigramBaseline.fit(train_contexts[:, -1], train_targets, V, pad)
            report.update(
                validation_loss=validation_loss,
                validation_perplexity=math.exp(min(validation_loss, 700.0)),
                unigram_perplexity=unigram.perplexity(val_targets),
                bigram_perplexity=bigram.perplexity(val_contexts[:, -1], val_targets),
                validation_unknown_rate=float(corpus.unknown[corpus.split :].mean()),
            )
        return model, TrainingReport(
            train_loss=train_loss,
            train_perplexity=math.exp(min(train_loss, 700.0)),
            steps=self.total,
            epochs=self.total * min(settings.batch_size, n_train) / n_train,
            seconds=self.seconds + seconds,
            vocabulary_size=V,
            parameter_count=self.n_params,
            training_tokens=n_train,
            validation_tokens=len(val_targets),
            loss_history=self.history,
            settings=settings,
            **report,
        )

    # --- checkpoints -----------------------------------------------------------------------------

    def checkpoint(self, seconds: float = 0.0) -> bytes:
        """Everything resume() needs, as .npz bytes: parameters, Adam's moments and step count, the random
        generator's state, the batch order and position, the step, the loss history, the fingerprint.
        `seconds`: training time of this attempt so far, added to that of earlier ones."""
        meta = {
            "fingerprint": self.fingerprint,
            "step": self.step,
            "adam_t": self.optimiser.t,
            "rng": self.rng.bit_generator.state,
            "position": self.batches.position,
            "history": [[s, l] for s, l in self.history],
            "history_sum": self.history_sum,
            "first_loss": self.first_loss,
            "seconds": self.seconds + seconds,
        }
        arrays: dict[str, np.ndarray] = {"meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}
        for i, (p, m, v) in enumerate(zip(self.optimiser.arrays, self.optimiser.m, self.optimiser.v)):
            arrays[f"p{i}"], arrays[f"m{i}"], arrays[f"v{i}"] = p, m, v
        if self.batches.order is not None:
            arrays["order"] = self.batches.order
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **arrays)
        return buffer.getvalue()

    @classmethod
    def resume(cls, corpus: Corpus, n_params: int, settings: TrainingSettings, checkpoint: bytes) -> "TrainingRun":
        """A run taken up from checkpoint() bytes. Raises CheckpointMismatch when they belong to another
        corpus or other settings."""
        run = cls(corpus, n_params, settings)
        with np.load(io.BytesIO(checkpoint), allow_pickle=False) as saved:
            meta = json.loads(saved["meta"].tobytes())
            if meta["fingerprint"] != run.fingerprint:
                raise CheckpointMismatch("the checkpoint belongs to another corpus or other settings")
            for i, (p, m, v) in enumerate(zip(run.optimiser.arrays, run.optimiser.m, run.optimiser.v)):
                p[...], m[...], v[...] = saved[f"p{i}"], saved[f"m{i}"], saved[f"v{i}"]  # in place: Parameters shares them
            run.batches.order = saved["order"] if "order" in saved else None
        run.optimiser.t = meta["adam_t"]
        run.rng.bit_generator.state = meta["rng"]
        run.batches.position = meta["position"]
        run.step = meta["step"]
        run.history = [(int(s), float(l)) for s, l in meta["history"]]
        run.history_sum = meta["history_sum"]
        run.first_loss = meta["first_loss"]
        run.seconds = meta["seconds"]
        return run


class CheckpointMismatch(Exception):
    """A checkpoint that does not belong to the corpus and settings it was offered for."""


class Diverged(NonFiniteResult):
    """The loss is not finite, or rose far above where it started."""

    def __init__(self, step: int, loss: float) -> None:
        super().__init__("settings.learning_rate", f"diverged at step {step} (loss {loss:.6g}); lower the learning rate")
        self.step, self.loss = step, loss


DIVERGENCE_FACTOR = 4.0


def diverged_above(first_loss: float, vocabulary_size: int) -> float:
    """The loss beyond which a run counts as diverged: DIVERGENCE_FACTOR times its first loss plus log V
    (the loss of a uniform guess), which no working run comes near: it starts at the unigram loss."""
    return DIVERGENCE_FACTOR * first_loss + math.log(vocabulary_size)


def corpus_fingerprint(corpus: Corpus, settings: TrainingSettings) -> str:
    """SHA-256 of the prepared corpus (vocabulary, examples, split) and the settings."""
    digest = hashlib.sha256()
    digest.update(json.dumps(settings.as_dict(), sort_keys=True).encode())
    digest.update(json.dumps(corpus.vocabulary.words).encode())
    for array in (corpus.contexts, corpus.targets, corpus.unknown):
        digest.update(np.ascontiguousarray(array).tobytes())
    digest.update(str(corpus.split).encode())
    return digest.hexdigest()


UNKNOWN_WORDS_WARNING = 0.2  # a validation text with more unknown words than this gets a warning


def training_warnings(report: TrainingReport) -> list[str]:
    """What a person should know about a model that trained without error but may not be useful,
    each a sentence saying what to do."""
    warnings = []
    settings = report.settings
    unknown = report.validation_unknown_rate
    if unknown is not None and unknown > UNKNOWN_WORDS_WARNING:
        fix = "give more text or set min_count 1" if settings.min_count > 1 else "give more text, or text that repeats its words more"
        warnings.append(f"too little text for min_count {settings.min_count}: {unknown:.0%} of validation words are unknown; {fix}")
    if report.validation_perplexity is not None and report.bigram_perplexity is not None and report.validation_perplexity > report.bigram_perplexity:
        warnings.append(
            f"the model is worse than a bigram count on its validation text (perplexity {report.validation_perplexity:.4g} against "
            f"{report.bigram_perplexity:.4g}); give more text, or try more steps or a smaller model"
        )
    return warnings
