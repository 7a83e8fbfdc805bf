"""What goes in and what comes out: frozen dataclasses, numbers as tuples of floats.

Definitions (what you PUT) accept lists, tuples or numpy arrays and keep them as tuples. Results of
evaluate/forward always hold one row per input vector; `batched` says whether the request sent a
batch or a single vector, and `.output` gives the single result of a single vector. Language
networks add words: predictions, generations, scores, tokenizations, and training jobs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Callable, Generic, Iterator, Literal, Protocol, Sequence, SupportsFloat, TypeVar, Union, cast

if TYPE_CHECKING:
    from ._jobs import Jobs
    # numpy is an optional extra: without it these names are Any to mypy, with it as_numpy() is typed
    # NDArray[float64]. "unused-ignore" keeps --strict quiet in both cases.
    import numpy  # type: ignore[import-not-found, unused-ignore]
    import numpy.typing  # type: ignore[import-not-found, unused-ignore]

Activation = Literal["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "silu", "gelu", "gelu_tanh", "softmax"]
NeuronActivation = Literal["identity", "relu", "leaky_relu", "sigmoid", "tanh", "softplus", "silu", "gelu", "gelu_tanh"]
DType = Literal["float64", "float32"]
Punctuation = Literal["keep", "drop"]
JobState = Literal["queued", "running", "succeeded", "failed", "cancelled"]
StopReason = Literal["end_of_text", "max_words"]

T = TypeVar("T")
Vector = tuple[float, ...]
Matrix = tuple[Vector, ...]


class ArrayLike(Protocol):
    """Anything with numpy's `tolist()`, e.g. a numpy array."""

    def tolist(self) -> Any: ...


VectorInput = Union[Sequence[float], ArrayLike]
MatrixInput = Union[Sequence[Sequence[float]], ArrayLike]
Inputs = Union[Sequence[float], Sequence[Sequence[float]], ArrayLike]
"""One input vector, or a batch of them (a list of vectors, or a 2-D numpy array)."""


# --- what you send ---------------------------------------------------------------------------

@dataclass(frozen=True)
class NeuronDefinition:
    """A neuron to store: z = weights · x + bias, output = activation(z)."""

    weights: VectorInput
    activation: NeuronActivation
    bias: float = 0.0
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", as_vector(self.weights, "weights"))
        object.__setattr__(self, "bias", as_number(self.bias, "bias"))

    def to_json(self) -> dict[str, Any]:
        weights = cast(Vector, self.weights)  # checked and converted in __post_init__
        return {"weights": list(weights), "bias": self.bias, "activation": self.activation, "description": self.description}


@dataclass(frozen=True)
class LayerDefinition:
    """A dense layer to store: one weight row per neuron, one column per input (as torch.nn.Linear).
    Biases default to zeros."""

    weights: MatrixInput
    activation: Activation
    biases: VectorInput | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "weights", as_matrix(self.weights, "weights"))
        if self.biases is not None:
            object.__setattr__(self, "biases", as_vector(self.biases, "biases"))

    def to_json(self) -> dict[str, Any]:
        layer: dict[str, Any] = {"weights": [list(row) for row in cast(Matrix, self.weights)], "activation": self.activation}
        if self.biases is not None:
            layer["biases"] = list(cast(Vector, self.biases))
        return layer


@dataclass(frozen=True)
class NetworkDefinition:
    """A feed-forward network to store; layer i+1 has as many weight columns as layer i has rows.

    A language network also has a `vocabulary` (special tokens "<pad>", "<unk>" and "</s>"
    included), `embeddings` (one row per word) and a `context_size` k: its first layer then has
    k × embedding size columns and its last layer one neuron per word (activation identity or
    softmax). `punctuation` says whether its tokenizer keeps punctuation ("keep", the default).
    """

    layers: Sequence[LayerDefinition]
    dtype: DType = "float64"
    description: str = ""
    vocabulary: Sequence[str] | None = None
    embeddings: MatrixInput | None = None
    context_size: int | None = None
    punctuation: Punctuation | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(self.layers))
        if self.vocabulary is not None:
            if isinstance(self.vocabulary, str):
                raise TypeError("vocabulary: expected a sequence of words, got a string")
            object.__setattr__(self, "vocabulary", tuple(self.vocabulary))
        if self.embeddings is not None:
            object.__setattr__(self, "embeddings", as_matrix(self.embeddings, "embeddings"))

    @property
    def is_language_network(self) -> bool:
        return self.vocabulary is not None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"layers": [layer.to_json() for layer in self.layers], "dtype": self.dtype,
                                "description": self.description}
        if self.vocabulary is not None:
            body["vocabulary"] = list(self.vocabulary)
        if self.embeddings is not None:
            body["embeddings"] = [list(row) for row in cast(Matrix, self.embeddings)]
        if self.context_size is not None:
            body["context_size"] = self.context_size
        if self.punctuation is not None:
            body["punctuation"] = self.punctuation
        return body


@dataclass(frozen=True)
class TrainingSettings:
    """How to train a language network. None (the default for every field) sends nothing, so the
    service's default applies; openapi.yaml (TrainingSettings) lists each default and range.

    A job's `settings` come back with every field set, and can be passed to train() again.
    """

    max_vocabulary_size: int | None = None  # words kept, specials included (10000)
    min_count: int | None = None  # rarer words read as <unk> (2)
    context_size: int | None = None  # words the network sees, 1..16 (4)
    embedding_size: int | None = None  # numbers per word vector (128)
    hidden_sizes: Sequence[int] | None = None  # neurons per hidden layer, at most 8 layers ([128])
    activation: Activation | None = None  # of the hidden layers ("tanh")
    learning_rate: float | None = None  # (0.003)
    final_learning_rate_fraction: float | None = None  # cosine decay to learning_rate times this (0.1)
    betas: tuple[float, float] | None = None  # Adam ((0.9, 0.999))
    eps: float | None = None  # Adam (1e-8)
    weight_decay: float | None = None  # AdamW, on matrices and embeddings (0.3)
    dropout: float | None = None  # (0.0)
    epochs: float | None = None  # passes over the training split when steps is None (5.0)
    steps: int | None = None  # minibatch steps; overrides epochs (None: use epochs)
    batch_size: int | None = None  # (256)
    validation_fraction: float | None = None  # share kept out to measure the result (0.1)
    seed: int | None = None  # weights, order and dropout come from it (0)
    punctuation: Punctuation | None = None  # ("keep")
    dtype: DType | None = None  # ("float64")
    progress_every: int | None = None  # steps between progress reports (100)

    def __post_init__(self) -> None:
        if self.hidden_sizes is not None:
            object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes))
        if self.betas is not None:
            betas = tuple(as_number(b, f"betas[{i}]") for i, b in enumerate(self.betas))
            if len(betas) != 2:
                raise ValueError(f"betas: expected two numbers, got {len(betas)}")
            object.__setattr__(self, "betas", betas)
        for name in ("learning_rate", "final_learning_rate_fraction", "eps", "weight_decay", "dropout", "epochs",
                     "validation_fraction"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, as_number(value, name))

    def to_json(self) -> dict[str, Any]:
        """The fields that are set; the service fills in the rest."""
        body: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is not None:
                body[name] = list(value) if isinstance(value, tuple) else value
        return body


@dataclass(frozen=True)
class Intervention:
    """Neuron `index` of layer `layer` gets its activation replaced (set) or multiplied (scale) before
    the next layer reads it; exactly one of the two. Intervention(l, j, set=0) ablates the neuron.
    A language network takes its hidden layers; a plain network any layer. Nothing is stored."""

    layer: int
    index: int
    set: float | None = None
    scale: float | None = None

    def __post_init__(self) -> None:
        for what in ("layer", "index"):
            value = getattr(self, what)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"Intervention.{what}: expected a whole number, got {value!r}")
        if (self.set is None) == (self.scale is None):
            raise ValueError("Intervention: pass exactly one of set (a value; 0 ablates) or scale (a factor)")
        if self.set is not None:
            object.__setattr__(self, "set", as_number(self.set, "Intervention.set"))
        if self.scale is not None:
            object.__setattr__(self, "scale", as_number(self.scale, "Intervention.scale"))

    def to_json(self) -> dict[str, Any]:
        change = {"set": self.set} if self.set is not None else {"scale": self.scale}
        return {"layer": self.layer, "index": self.index, **change}


def interventions_json(interventions: Sequence[Intervention]) -> list[dict[str, Any]]:
    if isinstance(interventions, Intervention):
        raise TypeError("interventions: expected a sequence of Intervention, got one Intervention; wrap it in a list")
    return [i.to_json() for i in interventions]


# --- what you get ----------------------------------------------------------------------------

@dataclass(frozen=True)
class Neuron:
    name: str
    weights: Vector
    bias: float
    activation: NeuronActivation
    description: str
    revision: int
    created_at: datetime
    updated_at: datetime

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'

    def definition(self) -> NeuronDefinition:
        return NeuronDefinition(self.weights, self.activation, self.bias, self.description)


@dataclass(frozen=True)
class NeuronSummary:
    name: str
    activation: NeuronActivation
    input_size: int
    description: str
    revision: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Layer:
    weights: Matrix  # one row per neuron, one column per input
    biases: Vector
    activation: Activation

    def definition(self) -> LayerDefinition:
        return LayerDefinition(self.weights, self.activation, self.biases)


@dataclass(frozen=True)
class Network:
    name: str
    layers: tuple[Layer, ...]
    dtype: DType
    description: str
    input_size: int
    output_size: int
    layer_sizes: tuple[int, ...]  # input_size, then the neurons of each layer
    parameter_count: int  # weights + biases (+ the embedding table of a language network)
    revision: int
    created_at: datetime
    updated_at: datetime
    # language networks only (None otherwise)
    vocabulary: tuple[str, ...] | None = None
    embeddings: Matrix | None = None  # one row per vocabulary word
    context_size: int | None = None
    punctuation: Punctuation | None = None
    vocabulary_size: int | None = None

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'

    @property
    def is_language_network(self) -> bool:
        return self.vocabulary is not None

    def definition(self) -> NetworkDefinition:
        return NetworkDefinition([layer.definition() for layer in self.layers], self.dtype, self.description,
                                 vocabulary=self.vocabulary, embeddings=self.embeddings, context_size=self.context_size,
                                 punctuation=self.punctuation)


@dataclass(frozen=True)
class NetworkSummary:
    name: str
    dtype: DType
    description: str
    input_size: int
    output_size: int
    layer_sizes: tuple[int, ...]
    parameter_count: int
    revision: int
    created_at: datetime
    updated_at: datetime
    vocabulary_size: int | None = None  # language networks only
    context_size: int | None = None  # language networks only


@dataclass(frozen=True)
class Page(Generic[T]):
    items: tuple[T, ...]
    next_cursor: str | None  # pass as `cursor` for the next page; None on the last page

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


@dataclass(frozen=True)
class Evaluation:
    """A neuron's evaluation, one entry per input vector."""

    name: str
    revision: int
    activation: NeuronActivation
    bias: float
    batched: bool  # False when a single input vector was sent
    contributions: Matrix  # weights[i] * x[i], per input vector
    weighted_sums: Vector  # z = weights · x + bias
    outputs: Vector  # activation(z)

    @property
    def output(self) -> float:
        """The output for a single input vector."""
        return _single(self.outputs)

    def as_numpy(self) -> numpy.typing.NDArray[numpy.float64]:
        """The outputs as a 1-D array, one value per input vector (numpy must be installed)."""
        return cast("numpy.typing.NDArray[numpy.float64]", _numpy().asarray(self.outputs, dtype="float64"))


@dataclass(frozen=True)
class LayerTrace:
    layer: int
    activation: Activation
    weighted_sums: Matrix  # z = x · Wᵀ + b, one row per input vector
    activations: Matrix  # activation(z): the next layer's input


@dataclass(frozen=True)
class ForwardResult:
    """A network's forward pass, one output row per input vector."""

    name: str
    revision: int
    dtype: DType
    batched: bool  # False when a single input vector was sent
    outputs: Matrix
    trace: tuple[LayerTrace, ...] | None = field(default=None)  # when asked for with trace=True

    @property
    def output(self) -> Vector:
        """The output vector for a single input vector."""
        return _single(self.outputs)

    def as_numpy(self) -> numpy.typing.NDArray[numpy.float64]:
        """The outputs as a 2-D array, (input vectors, output size) (numpy must be installed)."""
        array = _numpy().asarray(self.outputs, dtype="float64").reshape(len(self.outputs), -1)
        return cast("numpy.typing.NDArray[numpy.float64]", array)


@dataclass(frozen=True)
class ContextReading:
    """How a text was read as a context: the context_size tokens the network sees, oldest first."""

    tokens: tuple[str, ...]  # "<pad>" in front when the text is shorter
    ids: tuple[int, ...]
    unknown: tuple[bool, ...]  # not in the vocabulary: read as "<unk>"
    padding: int  # how many "<pad>" were put in front
    text_tokens: int  # how many tokens the whole text has


@dataclass(frozen=True)
class WordProbability:
    word: str
    id: int  # index in the vocabulary
    probability: float
    log_probability: float  # natural log; finite even when probability underflows to 0


@dataclass(frozen=True)
class InterventionEffect:
    """What interventions changed in a next-word distribution."""

    kl_divergence: float  # KL(p ‖ p′) in nats: p without, p′ with the interventions
    baseline: tuple[WordProbability, ...]  # the top_k words without the interventions


@dataclass(frozen=True)
class Prediction:
    """The most probable next words after a text, most probable first (ties in vocabulary order)."""

    name: str
    revision: int
    context: ContextReading
    words: tuple[WordProbability, ...]
    temperature: float
    effect: InterventionEffect | None = None  # when interventions were sent

    @property
    def top_word(self) -> str:
        return self.words[0].word


@dataclass(frozen=True)
class GeneratedWord:
    word: str
    id: int
    probability: float  # the network's, at temperature 1 with nothing cut
    sampling_probability: float  # its chance in the distribution actually sampled (1.0 when greedy)


@dataclass(frozen=True)
class Generation:
    name: str
    revision: int
    prompt: ContextReading  # the context the first word was predicted from
    text: str  # the prompt's tokens and the generated words, joined
    continuation: str  # the generated words only
    words: tuple[GeneratedWord, ...]  # every chosen word, "</s>" included when it ended the text
    stop_reason: StopReason
    seed: int  # pass it again for the same text


@dataclass(frozen=True)
class Score:
    """How well a network predicts a text: each token from the ones before it, then "</s>"."""

    name: str
    revision: int
    tokens: tuple[str, ...]  # the text's tokens, then "</s>"
    log_probabilities: Vector  # natural log of each token's probability in its context
    unknown: tuple[bool, ...]
    mean_nll: float  # nats per predicted token
    perplexity: float  # exp(mean_nll)
    unknown_rate: float  # share of the text's words not in the vocabulary ("</s>" not counted)


@dataclass(frozen=True)
class Tokenization:
    """A text as a network reads it (tokenize(text=...)), or the text of ids (tokenize(ids=...))."""

    name: str
    revision: int
    text: str
    ids: tuple[int, ...]
    tokens: tuple[str, ...] | None = None  # None when ids were decoded
    unknown: tuple[bool, ...] | None = None  # None when ids were decoded


@dataclass(frozen=True)
class WeightedInput:
    input: int  # the column the weight reads
    weight: float


@dataclass(frozen=True)
class ScoredWord:
    word: str
    score: float  # W[index, slot block] · E[word]


@dataclass(frozen=True)
class WeightedWord:
    word: str
    weight: float  # the output weight U[word, index]


@dataclass(frozen=True)
class SlotWords:
    slot: int  # 0: the oldest word of the context
    excites: tuple[ScoredWord, ...]  # highest score first
    inhibits: tuple[ScoredWord, ...]  # lowest score first


@dataclass(frozen=True)
class OutputWords:
    promotes: tuple[WeightedWord, ...]  # largest weight first
    suppresses: tuple[WeightedWord, ...]  # smallest weight first


@dataclass(frozen=True)
class NeuronCard:
    """One neuron of a network and what it is wired to (client.neuron)."""

    name: str
    revision: int
    layer: int
    index: int
    activation: Activation
    bias: float
    weights: Vector  # its row
    fan_in: int
    fan_out: int  # 0 for the output layer
    strongest_inputs: tuple[WeightedInput, ...]  # the k largest |weight|, ties the earlier input first
    outgoing: Vector | None = None  # its column of the next layer's weights; None for the output layer
    input_words: tuple[SlotWords, ...] | None = None  # a language network's first layer
    output_words: OutputWords | None = None  # a language network's layer feeding the output layer

    @property
    def etag(self) -> str:
        return f'"{self.revision}"'


@dataclass(frozen=True)
class Quantiles:
    min: float
    q25: float
    median: float
    q75: float
    max: float


@dataclass(frozen=True)
class ActivationExample:
    position: int  # the predicted token's index in the text's tokens ("</s>" last)
    context: tuple[str, ...]  # oldest first; "<pad>" before the start
    next_word: str
    weighted_sum: float
    activation: float


@dataclass(frozen=True)
class NeuronExamples:
    """A neuron's activation over every context of a text (client.examples)."""

    name: str
    revision: int
    layer: int
    index: int
    activation: Activation
    positions: int  # contexts read: the text's tokens, then "</s>"
    mean: float
    quantiles: Quantiles
    dead_fraction: float  # share of contexts where f'(z) < 1e-6
    top: tuple[ActivationExample, ...]  # highest activation first, ties the earlier position first
    bottom: tuple[ActivationExample, ...]  # lowest first


@dataclass(frozen=True)
class NeuronAttribution:
    layer: int
    index: int
    activation: float  # a_j
    weight: float  # U[target, j]
    attribution: float  # U[target, j] · a_j


@dataclass(frozen=True)
class SlotDelta:
    slot: int
    word: str
    delta_logprob: float  # logprob(target | this slot's embedding replaced by the mean embedding) − logprob(target)


@dataclass(frozen=True)
class PredictionExplanation:
    """Why a language network gives `target` its logit: attribution_total + bias == logit (to rounding)."""

    name: str
    revision: int
    context: ContextReading
    target: str
    id: int
    logit: float
    probability: float
    logprob: float
    bias: float
    attribution_total: float
    neurons: tuple[NeuronAttribution, ...]  # the k largest |attribution| first
    slots: tuple[SlotDelta, ...]


@dataclass(frozen=True)
class OutputExplanation:
    """Why a plain network's output neuron has its weighted sum: attribution_total + bias == weighted_sum."""

    name: str
    revision: int
    output: int
    weighted_sum: float
    activation: float
    bias: float
    attribution_total: float
    neurons: tuple[NeuronAttribution, ...]


@dataclass(frozen=True)
class JobProgress:
    """Written by the worker at least once a second while the job runs."""

    step: int  # steps taken at the last progress report
    total_steps: int  # 0 until the first report
    loss: float | None = None  # mean minibatch loss since the previous report
    tokens_per_second: float | None = None
    eta_seconds: float | None = None  # at the current speed
    validation_loss: float | None = None  # at the last checkpoint


@dataclass(frozen=True)
class JobError:
    """Why a job failed: title "diverged" (at `step`), "training failed" (with the `field` to change),
    "precondition failed" (`status` 412: the network changed meanwhile; jobs.trained_network() has the
    result), "time limit", "worker lost", "interrupted", "no input" or "internal error"."""

    title: str
    detail: str
    field: str | None = None
    step: int | None = None
    status: int | None = None
    current_revision: int | None = None


@dataclass(frozen=True)
class TrainingResult:
    """A succeeded job's report; the network is stored as `network` at `revision`."""

    network: str
    revision: int
    train_loss: float  # nats per token, final weights, on (a sample of) the training split
    train_perplexity: float
    validation_loss: float | None  # None when validation_fraction is 0, like the fields below
    validation_perplexity: float | None
    unigram_perplexity: float | None  # add-one unigram baseline on the validation split
    bigram_perplexity: float | None  # interpolated Kneser-Ney bigram baseline
    validation_unknown_rate: float | None
    steps: int
    epochs: float
    seconds: float
    vocabulary_size: int
    parameter_count: int
    training_tokens: int
    validation_tokens: int
    loss_history: tuple[tuple[int, float], ...]  # (step, mean minibatch loss), at most 50 points
    settings: TrainingSettings


@dataclass(frozen=True)
class Job:
    """A training job: queued, running, then succeeded (with `result`) or failed (with `error`)."""

    id: str
    kind: str  # "train"
    network: str
    state: JobState
    progress: JobProgress
    loss: float | None  # the latest reported loss
    loss_history: tuple[tuple[int, float], ...]  # (step, loss) at every progress report
    settings: TrainingSettings | None  # every field set
    result: TrainingResult | None
    error: JobError | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    warnings: tuple[str, ...] = ()  # sentences to act on about a model that trained but may not be useful
    attempts: int = 0  # claims by workers (more than 1 after a worker was lost or stopped)
    cancel_requested: bool = False
    notice: str | None = None  # e.g. that no worker is running to take the queued job
    _jobs: Jobs | None = field(default=None, compare=False, repr=False)  # the client.jobs it came from

    @property
    def done(self) -> bool:
        """Succeeded, failed or cancelled: the job will not change any more."""
        return self.state in ("succeeded", "failed", "cancelled")

    def refresh(self) -> Job:
        """The job as it is now."""
        return self._client_jobs().get(self.id)

    def cancel(self) -> Job:
        """Cancel it: at once when queued; a running job stops within a second of its worker seeing it.
        Raises ConflictError when it has already ended."""
        return self._client_jobs().cancel(self.id)

    def events(self) -> Iterator[Job]:
        """The job at every change, as the service streams it (server-sent events), until it ended."""
        return self._client_jobs().events(self.id)

    def wait(self, *, timeout: float = 600.0, poll_interval: float = 0.5, on_progress: Callable[[Job], None] | None = None) -> Job:
        """client.jobs.wait(job.id, ...): the job once it ended; on_progress gets it at every poll."""
        return self._client_jobs().wait(self.id, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress)

    def _client_jobs(self) -> Jobs:
        if self._jobs is None:
            raise RuntimeError("this Job was not read through a Client; use client.jobs with its id")
        return self._jobs


@dataclass(frozen=True)
class HealthStatus:
    status: str  # "ok" for health(), "ready" for ready()
    workers: int | None = None  # ready(): live training workers (0: training jobs wait)


# --- conversions -----------------------------------------------------------------------------

def as_number(value: object, what: str) -> float:
    if isinstance(value, (bool, str)) or not isinstance(value, SupportsFloat):
        raise TypeError(f"{what}: expected a number, got {value!r}")
    number = float(value)
    if number != number or number in (float("inf"), float("-inf")):
        raise ValueError(f"{what}: NaN and infinity cannot be sent as JSON, got {number}")
    return number


def as_vector(value: object, what: str) -> Vector:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{what}: expected a sequence of numbers, got {type(value).__name__}")
    return tuple(as_number(v, f"{what}[{i}]") for i, v in enumerate(value))


def as_matrix(value: object, what: str) -> Matrix:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{what}: expected a sequence of rows, got {type(value).__name__}")
    return tuple(as_vector(row, f"{what}[{i}]") for i, row in enumerate(value))


def as_ids(value: object, what: str) -> list[int]:
    """Vocabulary ids from a sequence or a 1-D numpy array of whole numbers."""
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{what}: expected a sequence of whole numbers, got {type(value).__name__}")
    for i, v in enumerate(value):
        if isinstance(v, bool) or not isinstance(v, int):
            raise TypeError(f"{what}[{i}]: expected a whole number, got {v!r}")
    return list(value)


def inputs_json(inputs: Inputs) -> list[float] | list[list[float]]:
    """One vector or a batch, as JSON; the service answers in the same shape."""
    value: object = inputs.tolist() if hasattr(inputs, "tolist") else inputs
    if isinstance(value, (list, tuple)) and value and isinstance(value[0], (list, tuple)):
        return [list(row) for row in as_matrix(value, "inputs")]
    return list(as_vector(value, "inputs"))


def _single(rows: tuple[T, ...]) -> T:
    if len(rows) != 1:
        raise ValueError(f"there are {len(rows)} results, one per input vector; use the plural attribute")
    return rows[0]


def _numpy() -> Any:
    try:
        import numpy
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError("as_numpy() needs numpy: pip install 'neuronhub[numpy]'") from None
    return numpy
