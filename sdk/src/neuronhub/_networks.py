from __future__ import annotations

from typing import Any, Mapping, Sequence

from . import _decode
from . import _operations as op
from ._definitions import Definitions, precondition_headers
from ._jobs import Jobs
from ._models import (ForwardResult, Generation, Inputs, Intervention, Job, Network, NetworkDefinition, NetworkSummary, Prediction,
                      Score, Tokenization, TrainingSettings, VectorInput, as_ids, as_number, inputs_json, interventions_json)


class Networks(Definitions[NetworkSummary, Network, NetworkDefinition]):
    """client.networks: list, iter, get, put, delete, forward; for language networks also predict,
    generate, score, tokenize, and train (a job: see client.jobs)."""

    _list, _get, _put, _delete = op.LIST_NETWORKS, op.GET_NETWORK, op.PUT_NETWORK, op.DELETE_NETWORK
    _decode_summary = staticmethod(_decode.network_summary)
    _decode_resource = staticmethod(_decode.network)
    _jobs: Jobs | None = None  # set by Client: jobs it starts can wait for and cancel themselves

    def forward(self, name: str, inputs: Inputs, *, trace: bool = False, interventions: Sequence[Intervention] = ()) -> ForwardResult:
        """The network's outputs for one input vector or a batch; with trace=True also every layer's
        weighted sums and activations; interventions set or scale neurons' activations on the way."""
        body: dict[str, Any] = {"inputs": inputs_json(inputs), "trace": trace}
        if interventions:
            body["interventions"] = interventions_json(interventions)
        response = self._transport.send(op.FORWARD_NETWORK, path={"name": name}, body=body)
        return _decode.decoded(response, _decode.forward_result)

    def predict(self, name: str, context: str, *, top_k: int = 5, temperature: float = 1.0,
                interventions: Sequence[Intervention] = ()) -> Prediction:
        """The top_k most probable next words after the text `context`, under softmax(logits / temperature).
        With interventions, also Prediction.effect: the KL divergence from the distribution without
        them, and the top_k words without them."""
        body: dict[str, Any] = {"context": context, "top_k": top_k, "temperature": as_number(temperature, "temperature")}
        if interventions:
            body["interventions"] = interventions_json(interventions)
        response = self._transport.send(op.PREDICT_NEXT_WORDS, path={"name": name}, body=body)
        return _decode.decoded(response, _decode.prediction)

    def generate(self, name: str, prompt: str = "", *, max_words: int = 20, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, seed: int | None = None, interventions: Sequence[Intervention] = ()) -> Generation:
        """Continue `prompt` word by word until "</s>" or max_words. temperature 0 is greedy; otherwise
        sampling is cut to the top_k words and the top_p nucleus. The same seed gives the same text;
        without one the service draws a seed and returns it in `Generation.seed`."""
        body: dict[str, Any] = {"prompt": prompt, "max_words": max_words, "temperature": as_number(temperature, "temperature")}
        if top_k is not None:
            body["top_k"] = top_k
        if top_p is not None:
            body["top_p"] = as_number(top_p, "top_p")
        if seed is not None:
            body["seed"] = seed
        if interventions:
            body["interventions"] = interventions_json(interventions)
        response = self._transport.send(op.GENERATE_TEXT, path={"name": name}, body=body)
        return _decode.decoded(response, _decode.generation)

    def score(self, name: str, text: str, *, interventions: Sequence[Intervention] = ()) -> Score:
        """Each token's log-probability given the ones before it (then "</s>"), mean_nll and perplexity."""
        body: dict[str, Any] = {"text": text}
        if interventions:
            body["interventions"] = interventions_json(interventions)
        response = self._transport.send(op.SCORE_TEXT, path={"name": name}, body=body)
        return _decode.decoded(response, _decode.score)

    def tokenize(self, name: str, text: str | None = None, *, ids: Sequence[int] | VectorInput | None = None) -> Tokenization:
        """A text as the network reads it (tokens, ids, unknown), or with ids= the text they make. Exactly one of the two."""
        if (text is None) == (ids is None):
            raise ValueError("tokenize: pass exactly one of text (to encode) or ids (to decode)")
        body: dict[str, Any] = {"text": text} if text is not None else {"ids": as_ids(ids, "ids")}
        response = self._transport.send(op.TOKENIZE_TEXT, path={"name": name}, body=body)
        return _decode.decoded(response, _decode.tokenization)

    def train(self, name: str, text: str | None = None, *, texts: Sequence[str] | None = None,
              settings: TrainingSettings | Mapping[str, Any] | None = None, description: str = "",
              if_match: int | str | None = None, create_only: bool = False) -> Job:
        """Start training a language network from `text` (one document) or `texts` (several); exactly one.

        Returns the job at once (state "queued"); client.jobs.wait(job.id) waits for it. When it
        succeeds the network is stored under `name` with `description`. Settings the service cannot
        use (and too little text) raise ValidationError before any job starts. Never retried: every
        call starts a new job. A network under `name` that is not a language network is never replaced
        (ConflictError); if_match / create_only work as for put(), and the revision found now is checked
        again when the job stores its result (the job fails if the network changed meanwhile).
        """
        if (text is None) == (texts is None):
            raise ValueError("train: pass exactly one of text (one document) or texts (a list of documents)")
        if isinstance(texts, str):
            raise TypeError("train: texts must be a list of documents; pass a single document as text")
        body: dict[str, Any] = {"text": text} if text is not None else {"texts": list(texts or ())}
        if settings is not None:
            body["settings"] = settings.to_json() if isinstance(settings, TrainingSettings) else dict(settings)
        body["description"] = description
        response = self._transport.send(op.TRAIN_NETWORK, path={"name": name}, body=body,
                                        headers=precondition_headers(if_match, create_only))
        job = _decode.decoded(response, _decode.job)
        return self._jobs._bind(job) if self._jobs is not None else job
