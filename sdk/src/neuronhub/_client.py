"""Client: the entry point."""
from __future__ import annotations

from types import TracebackType
from typing import Any, Sequence, overload

import requests

from . import _decode
from . import _operations as op
from ._definitions import precondition_headers
from ._http import Transport
from ._jobs import Jobs
from ._models import HealthStatus, Network, NeuronCard, NeuronExamples, OutputExplanation, PredictionExplanation, VectorInput, as_vector
from ._networks import Networks
from ._neurons import Neurons
from ._retry import RetryPolicy


class Client:
    """A Neuronhub client. Use it as a context manager, or call close().

        with Client("http://127.0.0.1:8000") as client:
            client.networks.forward("xor", [[0, 1], [1, 1]])
            job = client.networks.train("lm", text=corpus).wait(on_progress=print)
            client.networks.predict("lm", "the neuron").words

    timeout: seconds for each HTTP request (to connect, and between bytes of the answer).
    max_retries: how often an idempotent request is sent again after a connection error, a
    timeout, 429 or 5xx, with exponential backoff and jitter (Retry-After honoured, capped).
    api_key: sent as `Authorization: Bearer <api_key>`.
    """

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 10.0, max_retries: int = 2, *,
                 retry: RetryPolicy | None = None, session: requests.Session | None = None) -> None:
        policy = retry or RetryPolicy(max_retries=max_retries)
        self._transport = Transport(base_url, api_key=api_key, timeout=timeout, retry=policy, session=session)
        self.neurons = Neurons(self._transport)
        self.networks = Networks(self._transport)
        self.jobs = Jobs(self._transport)
        self.networks._jobs = self.jobs

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def health(self) -> HealthStatus:
        """Liveness: HealthStatus(status="ok") while the service process answers."""
        return _decode.decoded(self._transport.send(op.HEALTHZ), _decode.health_status)

    def ready(self) -> HealthStatus:
        """Readiness: HealthStatus(status="ready"); raises ServiceUnavailableError while the database is down."""
        return _decode.decoded(self._transport.send(op.READYZ), _decode.health_status)

    def openapi_document(self) -> dict[str, Any]:
        """The service's OpenAPI document (GET /openapi.json)."""
        document = _decode.json_body(self._transport.send(op.GET_OPENAPI_JSON))
        if not isinstance(document, dict):
            raise TypeError(f"expected an OpenAPI document, got {type(document).__name__}")
        return document

    def openapi_yaml(self) -> str:
        """The service's OpenAPI document as committed (GET /openapi.yaml)."""
        return self._transport.send(op.GET_OPENAPI_YAML).content.decode("utf-8")

    def metrics(self) -> str:
        """The service's Prometheus metrics, as text (GET /metrics)."""
        return self._transport.send(op.GET_METRICS).content.decode("utf-8")

    def diagram_svg(self, name: str, *, context: str | None = None, inputs: Sequence[float] | None = None) -> str:
        """The network drawn as an SVG document (GET /v1/networks/{name}/diagram.svg): neurons as circles
        with data-layer/data-index, edges coloured by the sign of their weight. With `context` (a
        language network) or `inputs` (one input vector of a plain network) every neuron is filled by
        its activation for that input."""
        query = {"context": context, "inputs": None if inputs is None else ",".join(repr(float(v)) for v in inputs)}
        return self._transport.send(op.GET_NETWORK_DIAGRAM, path={"name": name}, query=query).content.decode("utf-8")

    def neuron(self, network: str, layer: int, index: int, *, k: int = 10) -> NeuronCard:
        """Neuron `index` of layer `layer` (0 is the first layer after the input) of a network: its
        weights, bias, outgoing weights, the k strongest inputs and, for a language network, the
        words it reads and promotes. k: 1..100."""
        response = self._transport.send(op.GET_NEURON_CARD, path=_neuron_path(network, layer, index), query={"k": k})
        return _decode.decoded(response, _decode.neuron_card)

    def examples(self, network: str, layer: int, index: int, text: str, *, k: int = 10) -> NeuronExamples:
        """A language network's neuron over every context of `text` (the contexts score reads):
        mean, quantiles, dead_fraction and the k highest and lowest contexts. At most 1,000,000 words."""
        response = self._transport.send(op.NEURON_EXAMPLES, path=_neuron_path(network, layer, index), body={"text": text, "k": k})
        return _decode.decoded(response, _decode.neuron_examples)

    @overload
    def explain(self, network: str, context: str, *, target: str | None = None, k: int = 10) -> PredictionExplanation: ...

    @overload
    def explain(self, network: str, *, inputs: VectorInput, output: int, k: int = 10) -> OutputExplanation: ...

    def explain(self, network: str, context: str | None = None, *, target: str | None = None, inputs: VectorInput | None = None,
                output: int | None = None, k: int = 10) -> PredictionExplanation | OutputExplanation:
        """Why a language network gives `target` (default: its most probable word) after `context`, or
        why a plain network's output neuron `output` has its weighted sum for `inputs`: the exact direct
        attribution to the last hidden layer's neurons (attribution_total + bias == the logit)."""
        if context is not None:
            if inputs is not None or output is not None:
                raise ValueError("explain: pass context (a language network) or inputs and output (a plain network), not both")
            body: dict[str, Any] = {"context": context, "k": k}
            if target is not None:
                body["target"] = target
            response = self._transport.send(op.EXPLAIN_PREDICTION, path={"name": network}, body=body)
            return _decode.decoded(response, _decode.prediction_explanation)
        if inputs is None or output is None or target is not None:
            raise ValueError("explain: pass context (and target) for a language network, or inputs and output for a plain one")
        body = {"inputs": list(as_vector(inputs, "inputs")), "output": output, "k": k}
        response = self._transport.send(op.EXPLAIN_PREDICTION, path={"name": network}, body=body)
        return _decode.decoded(response, _decode.output_explanation)

    def export_onnx(self, name: str) -> bytes:
        """The network as an ONNX model (a serialized ModelProto), for onnxruntime and other ONNX tools:
        plain networks `input` -> `output`, language networks `token_ids` -> `probabilities`, `logits`."""
        response = self._transport.send(op.EXPORT_ONNX, path={"name": name},
                                        headers={"Accept": "application/onnx, application/problem+json"})
        return response.content

    def import_onnx(self, name: str, data: bytes, *, if_match: int | str | None = None, create_only: bool = False) -> Network:
        """Store the ONNX model `data` (a chain of dense layers and activations, such as
        torch.onnx.export writes for nn.Sequential(Linear, ReLU, Linear, Softmax)) as the network
        `name`; returns it as stored. A graph the service cannot map raises ValidationError naming
        the operator or shape; if_match and create_only as for networks.put."""
        if not isinstance(data, (bytes, bytearray)):
            raise TypeError(f"import_onnx: data must be the model's bytes, got {type(data).__name__}")
        response = self._transport.send(op.PUT_NETWORK, path={"name": name}, content=(bytes(data), "application/onnx"),
                                        headers=precondition_headers(if_match, create_only))
        return _decode.decoded(response, _decode.network)

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _neuron_path(network: str, layer: int, index: int) -> dict[str, str]:
    for what, value in (("layer", layer), ("index", index)):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"{what}: expected a whole number, got {value!r}")
    return {"name": network, "layer": str(layer), "index": str(index)}
