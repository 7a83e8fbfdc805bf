"""Schemathesis against a live gunicorn: every phase, every check, a bounded number of cases.

It fails on a server error, an undocumented status code or content type, a response that breaks its
schema or misses a documented header, a request the schema forbids that the service accepts, a
request the schema allows that the service refuses, a method the spec does not list that is not
405 with Allow, and on resources that misbehave across calls (stateful phase, via the spec's links).
"""
import json
import os
from pathlib import Path
import re
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass

import requests
import yaml

from .live_server import live_server as fresh_live_server
from .openapi_contract import SPEC_PATH, Contract

MAX_EXAMPLES = 50  # per operation and phase; the whole run takes about 45 s on 2 cores
SEED = int(os.environ.get("NEURONHUB_SCHEMATHESIS_SEED", "20260101"))  # fixed: CI sees the same cases every run


@dataclass(frozen=True)
class Allowance:
    """A status a request valid by the schema may rightly get, because of a rule JSON Schema cannot state."""

    operations: tuple[str, ...]
    status: str
    reason: str


# The only exclusions: extra statuses for the positive_data_acceptance check. Every other check runs
# unchanged on every operation.
VALID_REQUESTS_MAY_ALSO_GET = (
    Allowance(("putNeuron", "deleteNeuron", "putNetwork", "deleteNetwork", "trainNetwork"), "412",
              "a generated If-Match or If-None-Match rarely names the definition's current revision, "
              "and a precondition that does not hold is answered with 412 by design"),
    Allowance(("putNetwork",), "422",
              "layers must chain (layer i+1 has as many weight columns as layer i has rows, biases one per "
              "row, rows of equal length); JSON Schema cannot compare lengths, so most generated networks "
              "are rightly refused with the field named"),
    Allowance(("evaluateNeuron", "forwardNetwork"), "422",
              "each input vector must have as many values as the stored definition has inputs, which the "
              "schema cannot know; random weights times random inputs can also leave the float range "
              "(non-finite-result)"),
    Allowance(("forwardNetwork",), "400",
              "an application/x-npy body must be a complete .npy file (magic string, header, data), which a "
              "JSON Schema for a binary string cannot state; any other bytes are rightly refused as malformed-npy"),
    Allowance(("oipInfer", "oipInferVersion"), "400",
              "an Open Inference Protocol request must fit the stored model (input name, datatype, shape with as many "
              "values as data holds) and Inference-Header-Content-Length must be the JSON header's byte length; the "
              "protocol answers 400 for each, and JSON Schema can state none of it"),
    Allowance(("putNetwork",), "400",
              "an application/onnx body must be a serialized ONNX model, which a JSON Schema for a binary string cannot "
              "state; any other bytes are rightly refused as malformed-onnx"),
    Allowance(("listNeurons", "listNetworks", "listJobs"), "422",
              "cursor is opaque: only a next_cursor the service made decodes to a name (or a job's place), so a "
              "generated one is rightly refused"),
    Allowance(("predictNextWords", "generateText"), "422",
              "top_k may be at most the stored network's vocabulary size, which the schema cannot know (it says "
              "50000, the largest vocabulary); huge logits can also leave the float range (non-finite-result)"),
    Allowance(("scoreText",), "422",
              "a text needs at least one word or punctuation mark to be scored; a generated text of only white "
              "space (or the empty string) is rightly refused with the field named"),
    Allowance(("tokenizeText",), "422",
              "ids must be in the stored network's vocabulary, which the schema cannot know (it says 0..49999, "
              "the largest vocabulary)"),
    Allowance(("createCompletion", "createChatCompletion"), "400",
              "a few rules join two members, which JSON Schema cannot state: best_of must equal n, stream_options needs "
              "stream, top_logprobs needs logprobs, max_tokens and max_completion_tokens must agree, n times the prompts "
              "at most 128; a word id in logit_bias must be in the network's vocabulary; and a whole number written with "
              "a fraction (5.0) is valid for JSON Schema's integer but refused, as OpenAI's API refuses it"),
    Allowance(("getNetworkDiagram",), "422",
              "context is for a language network and inputs for a plain one, with as many numbers as the stored "
              "network has inputs; which kind a named network is, the schema cannot know"),
    Allowance(("explainPrediction",), "422",
              "a language network explains a context (and a target word of its vocabulary), a plain network inputs "
              "of its input size and one of its output neurons, and a network needs a hidden layer to attribute "
              "to: which kind is stored under the name, and its sizes, the schema cannot know"),
    Allowance(("neuronExamples",), "422",
              "a text needs at least one word or punctuation mark to be read (as for scoreText); a generated text "
              "of only white space is rightly refused with the field named"),
    Allowance(("trainNetwork",), "422",
              "a text needs enough tokens (at least 10, and context_size + 1, after the validation split) and the "
              "network at most 5000000 parameters, which JSON Schema cannot count; and a whole number written "
              "with a fraction (5.0) is valid for JSON Schema's integer but refused by the service"),
)

# Operations schemathesis generates only requests the schema forbids for (every one must be refused); their
# documented examples are still sent as they are.
NEGATIVE_DATA_ONLY = {
    "trainNetwork": "a valid request starts a real training job in the live server, and valid settings may ask "
                    "for a million steps of a network with five million parameters: hours of CPU that would outlive "
                    "the run and slow every test after it. The documented example (a tiny network, 200 steps, well "
                    "under a second) is sent, refused settings and texts are generated, and tests/api/test_training.py "
                    "and sdk/tests/test_sdk_live.py train for real",
}
DEFAULT_POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]  # schemathesis' own defaults


# The settings run: trainNetwork's body narrowed to a text too short to train plus any settings, so
# schemathesis can send every kind of settings, valid and not, and no request can start a job.
SETTINGS_RUN_TEXT = "too short to train"  # 5 tokens: check_trainable refuses it after the settings are read


def settings_run_spec(path: Path) -> Path:
    spec = yaml.safe_load(SPEC_PATH.read_text())
    body = spec["paths"]["/v1/networks/{name}/train"]["post"]["requestBody"]["content"]["application/json"]
    body["schema"] = {"type": "object", "required": ["text", "settings"], "additionalProperties": False,
                      "properties": {"text": {"const": SETTINGS_RUN_TEXT},
                                     "settings": {"$ref": "#/components/schemas/TrainingSettings"}}}
    del body["examples"]  # they train for real
    path.write_text(json.dumps(spec))
    return path


def settings_run_config() -> str:
    return "\n".join([
        f"seed = {SEED}",
        "workers = 1",
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[checks]",
        "enabled = true",
        "[[operations]]",
        'include-operation-id = "trainNetwork"',
        'generation.mode = "all"',
        # every valid request is refused: the text is too short to train, by design of this run
        f"checks.positive_data_acceptance.expected-statuses = {DEFAULT_POSITIVE_STATUSES + ['422']!r}".replace("'", '"'),
    ]) + "\n"


def schemathesis_config() -> str:
    allowed: dict[str, list[str]] = {}
    for allowance in VALID_REQUESTS_MAY_ALSO_GET:
        for operation in allowance.operations:
            allowed.setdefault(operation, list(DEFAULT_POSITIVE_STATUSES)).append(allowance.status)
    lines = [
        f"seed = {SEED}",
        "workers = 1",  # schemathesis' worker threads trip a CPython 3.11 bug ("AST constructor recursion depth mismatch")
        "[generation]",
        f"max-examples = {MAX_EXAMPLES}",
        'database = "none"',
        "[checks]",
        "enabled = true",
    ]
    for operation, statuses in sorted(allowed.items()):
        lines += ["[[operations]]", f'include-operation-id = "{operation}"',
                  f"checks.positive_data_acceptance.expected-statuses = {statuses!r}".replace("'", '"')]
    for operation in sorted(NEGATIVE_DATA_ONLY):
        lines += ["[[operations]]", f'include-operation-id = "{operation}"', 'generation.mode = "negative"']
    return "\n".join(lines) + "\n"


FINAL_STATES = ("succeeded", "failed", "cancelled")  # run by the live server's training worker


def training_jobs_once_settled(database, seconds=30.0):
    """(state, total_steps, params) of every job, once none is queued or running (or `seconds` passed)."""
    deadline = time.monotonic() + seconds
    while True:
        with sqlite3.connect(database) as db:
            jobs = db.execute("SELECT state, total_steps, params FROM jobs").fetchall()
        if all(state in FINAL_STATES for state, _, _ in jobs) or time.monotonic() > deadline:
            return jobs
        time.sleep(0.2)


def test_allowances_name_real_operations():
    ids = {op.operation_id for op in Contract.from_file().operations}
    for allowance in VALID_REQUESTS_MAY_ALSO_GET:
        assert set(allowance.operations) <= ids
    assert set(NEGATIVE_DATA_ONLY) <= ids


def test_the_training_example_schemathesis_sends_is_tiny():
    """The one valid training request of the run: it must stay cheap."""
    body = Contract.from_file().operation("trainNetwork").spec["requestBody"]["content"]["application/json"]
    for example in body["examples"].values():
        settings = example["value"]["settings"]
        assert settings["steps"] <= 500 and settings["embedding_size"] <= 16 and max(settings["hidden_sizes"]) <= 32


# The OpenAI-compatible operations' examples name this model: with it stored, they run real completions.
EXAMPLE_LANGUAGE_NETWORK = ("neuron-language-model", {
    "vocabulary": ["<pad>", "<unk>", "</s>", "a", "neuron", "multiplies", "each", "input", "by", "its", "weight", "the", "output", "layer", "scores"],
    "embeddings": [[float(i % 3), float(i % 5)] for i in range(15)], "context_size": 2,
    "layers": [{"weights": [[float((i * j) % 7 - 3) for j in range(4)] for i in range(15)], "activation": "identity"}]})


def test_schemathesis_finds_nothing(live_server, tmp_path):
    name, network = EXAMPLE_LANGUAGE_NETWORK
    assert requests.put(f"{live_server.url}/v1/networks/{name}", json=network, timeout=30).status_code == 201
    config = tmp_path / "schemathesis.toml"
    config.write_text(schemathesis_config())
    result = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(SPEC_PATH),
         "--url", live_server.url, "--phases", "examples,coverage,fuzzing,stateful", "--no-color"],
        cwd=tmp_path, capture_output=True, text=True, timeout=240,
        env={**os.environ, "SCHEMATHESIS_HOOKS": str(Path(__file__).with_name("schemathesis_hooks.py"))},
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:] + "\n--- gunicorn's error log ---\n" + live_server.errors()
    operations = len(Contract.from_file().operations)
    assert f"Tested: {operations}" in output, output[-3000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert f"✅ {phase}" in output, output[-3000:]
    jobs = training_jobs_once_settled(live_server.database)
    assert jobs, "the documented training example should have started a job"
    for state, total_steps, params in jobs:  # a request schemathesis meant as invalid can still be valid and start a job
        assert state in FINAL_STATES and total_steps <= 1000, (
            f"a training job of the run is {state} with {total_steps} steps, settings {json.loads(params)['settings']}: "
            "make NEGATIVE_DATA_ONLY keep schemathesis from starting real work")


def test_schemathesis_finds_nothing_in_training_settings(tmp_path):
    """The main run can only send refused training requests, and its mutations rarely reach a single
    setting; here every setting gets right and wrong values of every JSON type (this run found
    `"dtype": {}` answered with a 500)."""
    config = tmp_path / "schemathesis.toml"
    config.write_text(settings_run_config())
    spec = settings_run_spec(tmp_path / "openapi.json")
    with fresh_live_server(tmp_path) as server:
        result = subprocess.run(
            [sys.executable, "-m", "schemathesis.cli", "--config-file", str(config), "run", str(spec), "--url", server.url,
             "--include-operation-id", "trainNetwork", "--phases", "coverage,fuzzing", "--no-color"],
            cwd=tmp_path, capture_output=True, text=True, timeout=240,
        )
        output = result.stdout + result.stderr
        assert result.returncode == 0, output[-20000:] + "\n--- gunicorn's error log ---\n" + server.errors()
        for phase in ("Coverage", "Fuzzing"):
            assert f"✅ {phase}" in output, output[-3000:]
        cases = int(re.search(r"(\d+) generated", output).group(1))
        assert cases >= MAX_EXAMPLES, output[-3000:]
        with sqlite3.connect(server.database) as db:
            assert db.execute("SELECT count(*) FROM jobs").fetchone() == (0,), "a request of the settings run started a job"
