"""Answers the mocked service gives, shaped as openapi.yaml documents them."""
from __future__ import annotations

BASE = "http://neuronhub.test"
TIMESTAMP = "2026-01-02T03:04:05.678901Z"
NEURON_JSON = {"name": "relu-1", "weights": [0.5, -1.0, 0.25], "bias": 0.5, "activation": "relu", "description": "a ReLU neuron",
               "revision": 1, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}
XOR_LAYERS = [{"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
              {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"}]
NETWORK_JSON = {"name": "xor", "layers": XOR_LAYERS, "dtype": "float64", "description": "XOR", "input_size": 2, "output_size": 1,
                "layer_sizes": [2, 2, 1], "parameter_count": 9, "revision": 1, "created_at": TIMESTAMP, "updated_at": TIMESTAMP}


def problem(status: int, slug: str, detail: str, **extra: object) -> dict[str, object]:
    return {"type": f"urn:neuronhub:problem:{slug}", "title": slug.replace("-", " ").capitalize(), "status": status,
            "detail": detail, "request_id": "req-1", **extra}

# A language network of five words: after "a" the logits are [0, 0, 1, 2, -1], so "a" is the most probable next word.
TINY_LANGUAGE = {"vocabulary": ["<pad>", "<unk>", "</s>", "a", "b"], "embeddings": [[0.0], [0.0], [0.0], [1.0], [2.0]], "context_size": 1,
                 "layers": [{"weights": [[0.0], [0.0], [1.0], [2.0], [-1.0]], "biases": [0.0] * 5, "activation": "identity"}]}
TINY_JSON = {"name": "tiny", **TINY_LANGUAGE, "dtype": "float64", "description": "", "punctuation": "keep", "input_size": 1,
             "output_size": 5, "layer_sizes": [1, 5], "parameter_count": 15, "vocabulary_size": 5, "revision": 1,
             "created_at": TIMESTAMP, "updated_at": TIMESTAMP}
CONTEXT_A = {"tokens": ["a"], "ids": [3], "unknown": [False], "padding": 0, "text_tokens": 1}
SETTINGS_JSON = {"max_vocabulary_size": 10000, "min_count": 1, "context_size": 2, "embedding_size": 8, "hidden_sizes": [16],
                 "activation": "tanh", "learning_rate": 0.003, "final_learning_rate_fraction": 0.1, "betas": [0.9, 0.999], "eps": 1e-08,
                 "weight_decay": 0.3, "dropout": 0.0, "epochs": 5.0, "steps": 200, "batch_size": 256, "validation_fraction": 0.1,
                 "seed": 0, "punctuation": "keep", "dtype": "float64", "progress_every": 100}
JOB_ID = "add91033ce104011b24bfc9f853bc6e2"
NO_PROGRESS = {"loss": None, "tokens_per_second": None, "eta_seconds": None, "validation_loss": None}
QUEUED_JOB_JSON: dict[str, object] = {
    "id": JOB_ID, "kind": "train", "network": "lm", "state": "queued", "progress": {"step": 0, "total_steps": 0, **NO_PROGRESS},
    "loss": None, "loss_history": [], "settings": SETTINGS_JSON, "result": None, "error": None, "warnings": [], "attempts": 0,
    "cancel_requested": False, "notice": None, "created_at": TIMESTAMP, "started_at": None, "finished_at": None}
RUNNING_JOB_JSON = {**QUEUED_JOB_JSON, "state": "running", "attempts": 1, "loss": 1.44, "loss_history": [[100, 1.44]], "started_at": TIMESTAMP,
                    "progress": {"step": 100, "total_steps": 200, "loss": 1.44, "tokens_per_second": 6400.0, "eta_seconds": 1.5,
                                 "validation_loss": 1.9}}
RESULT_JSON = {"train_loss": 0.5, "train_perplexity": 1.65, "validation_loss": 0.69, "validation_perplexity": 1.99,
               "unigram_perplexity": 18.0, "bigram_perplexity": 1.27, "validation_unknown_rate": 0.0, "steps": 200, "epochs": 867.8,
               "seconds": 0.03, "vocabulary_size": 16, "parameter_count": 672, "training_tokens": 59, "validation_tokens": 7,
               "loss_history": [[4, 2.45], [200, 0.51]], "settings": SETTINGS_JSON, "network": "lm", "revision": 1}
SUCCEEDED_JOB_JSON = {**RUNNING_JOB_JSON, "state": "succeeded", "loss": 0.57,
                      "progress": {"step": 200, "total_steps": 200, "loss": 0.57, "tokens_per_second": 6400.0, "eta_seconds": 0.0,
                                   "validation_loss": 0.69},
                      "loss_history": [[100, 1.44], [200, 0.57]], "result": RESULT_JSON, "finished_at": TIMESTAMP}
