"""Typed Python client for the Neuronhub API.

    from neuronhub import Client, NetworkDefinition, LayerDefinition

    with Client("http://127.0.0.1:8000") as client:
        client.networks.put("xor", NetworkDefinition([
            LayerDefinition([[1, 1], [1, 1]], "relu", biases=[0, -1]),
            LayerDefinition([[1, -2]], "identity"),
        ]))
        client.networks.forward("xor", [[0, 0], [0, 1], [1, 0], [1, 1]]).outputs  # ((0.0,), (1.0,), (1.0,), (0.0,))

        job = client.jobs.wait(client.networks.train("lm", texts=documents).id)   # a language network
        client.networks.predict("lm", "the neuron", top_k=3).words
"""
from ._client import Client
from ._errors import (APIConnectionError, APIStatusError, APITimeoutError, AuthenticationError, BadRequestError,
                      ConflictError, JobTimeoutError, NeuronhubError, NotFoundError, PayloadTooLargeError,
                      PermissionDeniedError, PreconditionFailedError, RateLimitError, ServerError, ServiceUnavailableError,
                      UnexpectedResponseError, UnsupportedMediaTypeError, ValidationError, error_class_for)
from ._models import (Activation, ActivationExample, ContextReading, DType, Evaluation, ForwardResult, GeneratedWord, Generation,
                      HealthStatus, Inputs, Intervention, InterventionEffect, Job, JobError, JobProgress, JobState, Layer,
                      LayerDefinition, LayerTrace, Network, NetworkDefinition, NetworkSummary, Neuron, NeuronActivation,
                      NeuronAttribution, NeuronCard, NeuronDefinition, NeuronExamples, NeuronSummary, OutputExplanation,
                      OutputWords, Page, Prediction, PredictionExplanation, Punctuation, Quantiles, Score, ScoredWord, SlotDelta,
                      SlotWords, StopReason, Tokenization, TrainingResult, TrainingSettings, WeightedInput, WeightedWord,
                      WordProbability)
from ._operations import OPERATIONS, Operation
from ._retry import RetryPolicy
from ._version import __version__

__all__ = [
    "Client", "RetryPolicy", "Operation", "OPERATIONS", "__version__",
    # inputs
    "NeuronDefinition", "NetworkDefinition", "LayerDefinition", "Inputs", "Activation", "NeuronActivation", "DType",
    "Punctuation", "TrainingSettings",
    # results
    "Neuron", "NeuronSummary", "Network", "NetworkSummary", "Layer", "Page", "Evaluation", "ForwardResult", "LayerTrace",
    "HealthStatus", "Prediction", "WordProbability", "ContextReading", "Generation", "GeneratedWord", "StopReason", "Score",
    "Tokenization", "Job", "JobState", "JobProgress", "JobError", "TrainingResult",
    # understanding neurons
    "Intervention", "InterventionEffect", "NeuronCard", "WeightedInput", "SlotWords", "ScoredWord", "OutputWords", "WeightedWord",
    "NeuronExamples", "Quantiles", "ActivationExample", "PredictionExplanation", "OutputExplanation", "NeuronAttribution", "SlotDelta",
    # errors
    "NeuronhubError", "APIStatusError", "BadRequestError", "AuthenticationError", "PermissionDeniedError", "NotFoundError",
    "ConflictError", "PreconditionFailedError", "PayloadTooLargeError", "UnsupportedMediaTypeError", "ValidationError",
    "RateLimitError", "ServerError", "ServiceUnavailableError", "APIConnectionError", "APITimeoutError",
    "JobTimeoutError", "UnexpectedResponseError", "error_class_for",
]
