"""Every API operation the SDK calls, one line each, named by its operationId in openapi.yaml.

Requests are only ever sent for an Operation from this table, and a contract test checks the table
against openapi.yaml: same operationIds, methods, paths and retry safety, and each `sdk_methods`
entry names a real method of Client. Adding an operation to the SDK is one line here and one method.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str  # template, e.g. /v1/neurons/{name}
    sdk_methods: tuple[str, ...]  # where Client exposes it, e.g. ("neurons.get",)
    x_idempotent: bool = False  # a POST that openapi.yaml marks safe to retry

    @property
    def idempotent(self) -> bool:
        """Safe to send twice: retried after connection errors, 429 and 5xx."""
        return self.method in IDEMPOTENT_METHODS or self.x_idempotent

    def url_path(self, **parameters: str) -> str:
        return self.path.format(**{name: quote(value, safe="") for name, value in parameters.items()})


HEALTHZ = Operation("healthz", "GET", "/healthz", ("health",))
READYZ = Operation("readyz", "GET", "/readyz", ("ready",))
GET_OPENAPI_JSON = Operation("getOpenapiJson", "GET", "/openapi.json", ("openapi_document",))
GET_OPENAPI_YAML = Operation("getOpenapiYaml", "GET", "/openapi.yaml", ("openapi_yaml",))
GET_METRICS = Operation("getMetrics", "GET", "/metrics", ("metrics",))

LIST_NEURONS = Operation("listNeurons", "GET", "/v1/neurons", ("neurons.list", "neurons.iter"))
GET_NEURON = Operation("getNeuron", "GET", "/v1/neurons/{name}", ("neurons.get",))
PUT_NEURON = Operation("putNeuron", "PUT", "/v1/neurons/{name}", ("neurons.put",))
DELETE_NEURON = Operation("deleteNeuron", "DELETE", "/v1/neurons/{name}", ("neurons.delete",))
EVALUATE_NEURON = Operation("evaluateNeuron", "POST", "/v1/neurons/{name}/evaluate", ("neurons.evaluate",), x_idempotent=True)

LIST_NETWORKS = Operation("listNetworks", "GET", "/v1/networks", ("networks.list", "networks.iter"))
GET_NETWORK = Operation("getNetwork", "GET", "/v1/networks/{name}", ("networks.get",))
PUT_NETWORK = Operation("putNetwork", "PUT", "/v1/networks/{name}", ("networks.put", "import_onnx"))
DELETE_NETWORK = Operation("deleteNetwork", "DELETE", "/v1/networks/{name}", ("networks.delete",))
EXPORT_ONNX = Operation("exportOnnx", "GET", "/v1/networks/{name}/model.onnx", ("export_onnx",))
FORWARD_NETWORK = Operation("forwardNetwork", "POST", "/v1/networks/{name}/forward", ("networks.forward",), x_idempotent=True)

PREDICT_NEXT_WORDS = Operation("predictNextWords", "POST", "/v1/networks/{name}/predict", ("networks.predict",), x_idempotent=True)
GENERATE_TEXT = Operation("generateText", "POST", "/v1/networks/{name}/generate", ("networks.generate",), x_idempotent=True)
SCORE_TEXT = Operation("scoreText", "POST", "/v1/networks/{name}/score", ("networks.score",), x_idempotent=True)
TOKENIZE_TEXT = Operation("tokenizeText", "POST", "/v1/networks/{name}/tokenize", ("networks.tokenize",), x_idempotent=True)
TRAIN_NETWORK = Operation("trainNetwork", "POST", "/v1/networks/{name}/train", ("networks.train",))  # starts a job: never retried
GET_NETWORK_DIAGRAM = Operation("getNetworkDiagram", "GET", "/v1/networks/{name}/diagram.svg", ("diagram_svg",))
GET_JOB = Operation("getJob", "GET", "/v1/jobs/{job_id}", ("jobs.get", "jobs.wait"))
LIST_JOBS = Operation("listJobs", "GET", "/v1/jobs", ("jobs.list", "jobs.iter"))
CANCEL_JOB = Operation("cancelJob", "POST", "/v1/jobs/{job_id}/cancel", ("jobs.cancel",))  # not retried: 409 once it ended
GET_JOB_EVENTS = Operation("getJobEvents", "GET", "/v1/jobs/{job_id}/events", ("jobs.events",))
GET_JOB_NETWORK = Operation("getJobNetwork", "GET", "/v1/jobs/{job_id}/network", ("jobs.trained_network",))

GET_NEURON_CARD = Operation("getNeuronCard", "GET", "/v1/networks/{name}/layers/{layer}/neurons/{index}", ("neuron",))
NEURON_EXAMPLES = Operation("neuronExamples", "POST", "/v1/networks/{name}/layers/{layer}/neurons/{index}/examples", ("examples",),
                            x_idempotent=True)
EXPLAIN_PREDICTION = Operation("explainPrediction", "POST", "/v1/networks/{name}/explain", ("explain",), x_idempotent=True)

OPERATIONS: tuple[Operation, ...] = (
    HEALTHZ, READYZ, GET_OPENAPI_JSON, GET_OPENAPI_YAML, GET_METRICS,
    LIST_NEURONS, GET_NEURON, PUT_NEURON, DELETE_NEURON, EVALUATE_NEURON,
    LIST_NETWORKS, GET_NETWORK, PUT_NETWORK, DELETE_NETWORK, EXPORT_ONNX, FORWARD_NETWORK,
    PREDICT_NEXT_WORDS, GENERATE_TEXT, SCORE_TEXT, TOKENIZE_TEXT, TRAIN_NETWORK, GET_JOB,
    GET_NETWORK_DIAGRAM,
    GET_NEURON_CARD, NEURON_EXAMPLES, EXPLAIN_PREDICTION,
    LIST_JOBS, CANCEL_JOB, GET_JOB_EVENTS, GET_JOB_NETWORK,
)
