"""Demo definitions: three explainer neurons, an exact XOR network and a small language network.

The neurons and the network are plain data in the API's JSON shape. The language network is trained on
corpus.txt (the project's own few pages about neurons and language models) by train_demo.py.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..engine.language import LanguageModel
    from ..engine.training import TrainingReport

DEMO_NEURONS: dict[str, dict] = {
    "relu-neuron": {
        "weights": [0.5, -1.0, 2.0],
        "bias": 0.5,
        "activation": "relu",
        "description": (
            "A neuron multiplies its inputs by its weights, adds a bias, and applies ReLU: "
            "max(0, 0.5·x1 - 1·x2 + 2·x3 + 0.5). Negative weighted sums come out as 0."
        ),
    },
    "sigmoid-neuron": {
        "weights": [1.5, -2.0],
        "bias": 0.25,
        "activation": "sigmoid",
        "description": (
            "A neuron multiplies its inputs by its weights, adds a bias, and applies the sigmoid "
            "1 / (1 + e^-z), which squeezes any weighted sum into (0, 1): a weighted sum of 0 gives 0.5."
        ),
    },
    "tanh-neuron": {
        "weights": [1.0, 1.0],
        "bias": -1.0,
        "activation": "tanh",
        "description": (
            "A neuron multiplies its inputs by its weights, adds a bias, and applies tanh, which squeezes "
            "any weighted sum into (-1, 1) and is centred on 0: inputs (0.5, 0.5) give tanh(0) = 0."
        ),
    },
}

# XOR with two ReLU hidden neurons: h1 = relu(x1 + x2), h2 = relu(x1 + x2 - 1), out = h1 - 2·h2.
# (0,0) -> 0, (0,1) -> 1, (1,0) -> 1, (1,1) -> 2 - 2 = 0, exactly.
DEMO_NETWORKS: dict[str, dict] = {
    "xor-network": {
        "layers": [
            {"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
            {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"},
        ],
        "description": (
            "Exclusive or with hand-set weights: the first hidden ReLU neuron adds the inputs, the second adds "
            "them and subtracts 1, and the output takes the first minus twice the second. (1, 1) gives 2 - 2 = 0."
        ),
    },
}

DEMO_LANGUAGE_MODEL_NAME = "neuron-language-model"
DEMO_LANGUAGE_MODEL_DESCRIPTION = (
    "A Bengio-style neural language model trained on a few pages about neurons, layers, embeddings and "
    "language models: it reads the last words, looks up their embeddings, and its output layer scores every "
    "word of the vocabulary. Try: 'a neuron multiplies each input by its'."
)



def build_demo_language_model() -> "tuple[LanguageModel, TrainingReport]":
    """Train the demo language network on corpus.txt (deterministic; see train_demo.py)."""
    from .train_demo import build_demo_language_model as build  # imported here so `python -m` finds it fresh

    return build()


__all__ = [
    "DEMO_LANGUAGE_MODEL_DESCRIPTION",
    "DEMO_LANGUAGE_MODEL_NAME",
    "DEMO_NETWORKS",
    "DEMO_NEURONS",
    "build_demo_language_model",
]
