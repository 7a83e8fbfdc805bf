"""Every SDK method against a mocked service: the request it sends and what it makes of the answer."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import numpy as np
import pytest
import responses
from responses import matchers

from sdk_samples import (BASE, CONTEXT_A, JOB_ID, NETWORK_JSON, NEURON_JSON, QUEUED_JOB_JSON, RUNNING_JOB_JSON, SETTINGS_JSON,
                         SUCCEEDED_JOB_JSON, TIMESTAMP, TINY_JSON, TINY_LANGUAGE, XOR_LAYERS)

import neuronhub._jobs
from neuronhub import (Client, ConflictError, ContextReading, Evaluation, ForwardResult, GeneratedWord, Generation, HealthStatus, Job, JobError,
                       JobProgress, JobTimeoutError, Layer, LayerDefinition, LayerTrace, Network, NetworkDefinition, Neuron,
                       NeuronDefinition, NeuronSummary, Page, Prediction, Score, Tokenization, TrainingSettings, WordProbability)
from tests.contract.openapi_contract import Contract

MOMENT = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def sent(mocked: responses.RequestsMock, index: int = 0) -> responses.PreparedRequest:
    return mocked.calls[index].request


def sent_json(mocked: responses.RequestsMock, index: int = 0) -> object:
    body = sent(mocked, index).body
    assert isinstance(body, bytes)
    return json.loads(body)


def test_every_request_has_auth_user_agent_request_id_and_timeout(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/healthz", json={"status": "ok"})
    client.health()
    request = sent(mocked)
    assert request.headers["Authorization"] == "Bearer secret-key"
    assert request.headers["User-Agent"].startswith("neuronhub-python/")
    assert len(request.headers["X-Request-ID"]) == 32
    assert request.req_kwargs["timeout"] == 3.5  # type: ignore[attr-defined]


def test_no_api_key_no_authorization_header(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/healthz", json={"status": "ok"})
    with Client(BASE + "/") as client:
        client.health()
    assert "Authorization" not in sent(mocked).headers


def test_health_ready_openapi_and_metrics(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/healthz", json={"status": "ok"})
    mocked.get(f"{BASE}/readyz", json={"status": "ready", "workers": 2})
    mocked.get(f"{BASE}/openapi.json", json={"openapi": "3.1.0", "info": {}, "paths": {}})
    mocked.get(f"{BASE}/openapi.yaml", body="openapi: 3.1.0\n", content_type="application/yaml")
    mocked.get(f"{BASE}/metrics", body="# TYPE up gauge\nup 1\n", content_type="text/plain; version=0.0.4")
    assert client.health() == HealthStatus("ok")
    assert client.ready() == HealthStatus("ready", 2)
    assert client.openapi_document()["openapi"] == "3.1.0"
    assert client.openapi_yaml() == "openapi: 3.1.0\n"
    assert client.metrics() == "# TYPE up gauge\nup 1\n"


def test_neurons_get(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/relu-1", json=NEURON_JSON, headers={"ETag": '"1"'})
    neuron = client.neurons.get("relu-1")
    assert neuron == Neuron("relu-1", (0.5, -1.0, 0.25), 0.5, "relu", "a ReLU neuron", 1, MOMENT, MOMENT)
    assert neuron.etag == '"1"'


def test_names_are_escaped_in_the_path(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/a%2Fb%20c", json=NEURON_JSON)
    client.neurons.get("a/b c")


def test_neurons_put_sends_the_definition(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/v1/neurons/relu-1", json=NEURON_JSON, status=201)
    stored = client.neurons.put("relu-1", NeuronDefinition([0.5, -1, 0.25], "relu", bias=0.5, description="a ReLU neuron"))
    assert stored.revision == 1
    assert sent(mocked).headers["Content-Type"] == "application/json"
    assert sent_json(mocked) == {"weights": [0.5, -1.0, 0.25], "bias": 0.5, "activation": "relu", "description": "a ReLU neuron"}
    assert "If-Match" not in sent(mocked).headers and "If-None-Match" not in sent(mocked).headers


@pytest.mark.parametrize("if_match, header", [(3, '"3"'), ('"3"', '"3"'), ("3", '"3"'), ("*", "*")])
def test_put_if_match(client: Client, mocked: responses.RequestsMock, if_match: int | str, header: str) -> None:
    mocked.put(f"{BASE}/v1/neurons/relu-1", json=NEURON_JSON)
    client.neurons.put("relu-1", NeuronDefinition([1], "relu"), if_match=if_match)
    assert sent(mocked).headers["If-Match"] == header


def test_put_create_only(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/v1/networks/xor", json=NETWORK_JSON, status=201)
    client.networks.put("xor", NetworkDefinition([LayerDefinition([[1]], "relu")]), create_only=True)
    assert sent(mocked).headers["If-None-Match"] == "*"


def test_delete_with_and_without_if_match(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.delete(f"{BASE}/v1/neurons/relu-1", status=204)
    mocked.delete(f"{BASE}/v1/networks/xor", status=204)
    assert client.neurons.delete("relu-1") is None
    client.networks.delete("xor", if_match=2)
    assert "If-Match" not in sent(mocked, 0).headers
    assert sent(mocked, 1).headers["If-Match"] == '"2"'


def test_neurons_list_one_page(client: Client, mocked: responses.RequestsMock) -> None:
    summary = {k: NEURON_JSON[k] for k in ("name", "activation", "description", "revision", "created_at", "updated_at")}
    mocked.get(f"{BASE}/v1/neurons", json={"items": [{**summary, "input_size": 3}], "next_cursor": "cmVsdS0x"},
               match=[matchers.query_param_matcher({"limit": "1"})])
    page = client.neurons.list(limit=1)
    assert page == Page((NeuronSummary("relu-1", "relu", 3, "a ReLU neuron", 1, MOMENT, MOMENT),), "cmVsdS0x")
    assert len(page) == 1 and [n.name for n in page] == ["relu-1"]


def test_iter_walks_every_page(client: Client, mocked: responses.RequestsMock) -> None:
    def summary(name: str) -> dict[str, object]:
        return {k: v for k, v in NETWORK_JSON.items() if k != "layers"} | {"name": name}

    mocked.get(f"{BASE}/v1/networks", json={"items": [summary("a"), summary("b")], "next_cursor": "Yg"},
               match=[matchers.query_param_matcher({"limit": "2"})])
    mocked.get(f"{BASE}/v1/networks", json={"items": [summary("c")], "next_cursor": None},
               match=[matchers.query_param_matcher({"limit": "2", "cursor": "Yg"})])
    assert [n.name for n in client.networks.iter(page_size=2)] == ["a", "b", "c"]


def test_networks_get_and_round_trip(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/networks/xor", json=NETWORK_JSON)
    mocked.put(f"{BASE}/v1/networks/xor", json={**NETWORK_JSON, "revision": 2})
    network = client.networks.get("xor")
    assert network.layers[0] == Layer(((1.0, 1.0), (1.0, 1.0)), (0.0, -1.0), "relu")
    assert (network.input_size, network.output_size, network.layer_sizes, network.parameter_count) == (2, 1, (2, 2, 1), 9)
    assert isinstance(network, Network) and network.created_at == MOMENT
    assert client.networks.put("xor", network.definition(), if_match=network.etag).revision == 2
    assert sent_json(mocked, 1) == {"layers": XOR_LAYERS, "dtype": "float64", "description": "XOR"}
    assert sent(mocked, 1).headers["If-Match"] == '"1"'


def test_layer_biases_are_optional(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/v1/networks/f32", json=NETWORK_JSON)
    client.networks.put("f32", NetworkDefinition([LayerDefinition(np.array([[0.1, 0.2]]), "identity")], dtype="float32"))
    assert sent_json(mocked) == {"layers": [{"weights": [[0.1, 0.2]], "activation": "identity"}], "dtype": "float32", "description": ""}


def test_evaluate_a_single_vector(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/neurons/relu-1/evaluate", json={"name": "relu-1", "revision": 1, "activation": "relu", "bias": 0.5,
                                                            "contributions": [1.0, -3.0, 1.0], "weighted_sum": -0.5, "output": 0.0})
    result = client.neurons.evaluate("relu-1", [2, 3, 4])
    assert sent_json(mocked) == {"inputs": [2.0, 3.0, 4.0]}
    assert result == Evaluation("relu-1", 1, "relu", 0.5, False, ((1.0, -3.0, 1.0),), (-0.5,), (0.0,))
    assert result.output == 0.0


def test_evaluate_a_numpy_batch(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/neurons/relu-1/evaluate", json={
        "name": "relu-1", "revision": 1, "activation": "relu", "bias": 0.5,
        "contributions": [[1.0, -3.0, 1.0], [2.0, -1.0, 0.0]], "weighted_sum": [-0.5, 1.5], "output": [0.0, 1.5]})
    result = client.neurons.evaluate("relu-1", np.array([[2, 3, 4], [4, 1, 0]]))
    assert sent_json(mocked) == {"inputs": [[2.0, 3.0, 4.0], [4.0, 1.0, 0.0]]}
    assert result.batched and result.outputs == (0.0, 1.5) and result.weighted_sums == (-0.5, 1.5)
    assert result.as_numpy().tolist() == [0.0, 1.5]
    with pytest.raises(ValueError, match="2 results"):
        result.output  # noqa: B018


def test_forward_a_batch(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/xor/forward", json={"name": "xor", "revision": 1, "dtype": "float64",
                                                         "outputs": [[0.0], [1.0], [1.0], [0.0]]})
    result = client.networks.forward("xor", [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert sent_json(mocked) == {"inputs": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], "trace": False}
    assert result == ForwardResult("xor", 1, "float64", True, ((0.0,), (1.0,), (1.0,), (0.0,)), None)
    assert result.as_numpy().shape == (4, 1)


def test_forward_one_vector_with_trace(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/xor/forward", json={
        "name": "xor", "revision": 1, "dtype": "float64", "outputs": [0.0],
        "trace": [{"layer": 0, "activation": "relu", "weighted_sums": [2.0, 1.0], "activations": [2.0, 1.0]},
                  {"layer": 1, "activation": "identity", "weighted_sums": [0.0], "activations": [0.0]}]})
    result = client.networks.forward("xor", (1, 1), trace=True)
    assert sent_json(mocked) == {"inputs": [1.0, 1.0], "trace": True}
    assert not result.batched and result.output == (0.0,)
    assert result.trace == (LayerTrace(0, "relu", ((2.0, 1.0),), ((2.0, 1.0),)), LayerTrace(1, "identity", ((0.0,),), ((0.0,),)))


def test_timestamps_are_utc_datetimes(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/relu-1", json={**NEURON_JSON, "updated_at": "2026-01-02T03:04:05Z"})
    neuron = client.neurons.get("relu-1")
    assert neuron.created_at == MOMENT and neuron.updated_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert TIMESTAMP.endswith("Z")


# --- language networks and training jobs -----------------------------------------------------

def test_the_mocked_answers_are_what_openapi_yaml_documents() -> None:
    contract = Contract.from_file()
    for schema, sample in [("Network", TINY_JSON), ("Job", QUEUED_JOB_JSON), ("Job", RUNNING_JOB_JSON), ("Job", SUCCEEDED_JOB_JSON)]:
        assert contract.validation_errors(f"/components/schemas/{schema}", sample) == [], schema


def test_a_language_network_round_trip(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/networks/tiny", json=TINY_JSON)
    mocked.put(f"{BASE}/v1/networks/tiny", json={**TINY_JSON, "revision": 2})
    network = client.networks.get("tiny")
    assert network.is_language_network and network.vocabulary == ("<pad>", "<unk>", "</s>", "a", "b")
    assert network.embeddings == ((0.0,), (0.0,), (0.0,), (1.0,), (2.0,))
    assert (network.context_size, network.punctuation, network.vocabulary_size) == (1, "keep", 5)
    client.networks.put("tiny", network.definition(), if_match=network.etag)
    assert sent_json(mocked, 1) == {**TINY_LANGUAGE, "dtype": "float64", "description": "", "punctuation": "keep"}


def test_plain_networks_have_no_language_fields(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/networks/xor", json=NETWORK_JSON)
    network = client.networks.get("xor")
    assert not network.is_language_network
    assert (network.vocabulary, network.embeddings, network.context_size, network.punctuation, network.vocabulary_size) == (None,) * 5
    assert "vocabulary" not in network.definition().to_json()


def test_put_a_language_network_from_numpy(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.put(f"{BASE}/v1/networks/tiny", json=TINY_JSON, status=201)
    definition = NetworkDefinition([LayerDefinition(np.array([[0], [0], [1], [2], [-1]]), "identity", biases=np.zeros(5))],
                                   vocabulary=["<pad>", "<unk>", "</s>", "a", "b"], embeddings=np.array([[0], [0], [0], [1], [2]]),
                                   context_size=1)
    stored = client.networks.put("tiny", definition)
    assert sent_json(mocked) == {**TINY_LANGUAGE, "dtype": "float64", "description": ""}
    assert stored.vocabulary_size == 5 and definition.is_language_network


def test_predict(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/tiny/predict", json={
        "name": "tiny", "revision": 1, "context": CONTEXT_A, "temperature": 0.5,
        "words": [{"word": "a", "id": 3, "probability": 0.84, "log_probability": -0.17},
                  {"word": "</s>", "id": 2, "probability": 0.11, "log_probability": -2.17}]})
    prediction = client.networks.predict("tiny", "b a", top_k=2, temperature=0.5)
    assert sent(mocked).method == "POST"
    assert sent_json(mocked) == {"context": "b a", "top_k": 2, "temperature": 0.5}
    assert prediction == Prediction("tiny", 1, ContextReading(("a",), (3,), (False,), 0, 1),
                                    (WordProbability("a", 3, 0.84, -0.17), WordProbability("</s>", 2, 0.11, -2.17)), 0.5)
    assert prediction.top_word == "a"


def test_predict_sends_the_defaults(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/tiny/predict", json={"name": "tiny", "revision": 1, "context": CONTEXT_A, "temperature": 1.0,
                                                          "words": [{"word": "a", "id": 3, "probability": 0.6, "log_probability": -0.5}]})
    client.networks.predict("tiny", "a")
    assert sent_json(mocked) == {"context": "a", "top_k": 5, "temperature": 1.0}
    with pytest.raises(ValueError, match="temperature"):
        client.networks.predict("tiny", "a", temperature=float("nan"))


def test_generate(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/tiny/generate", json={
        "name": "tiny", "revision": 1, "prompt": CONTEXT_A, "text": "a a", "continuation": "a", "stop_reason": "end_of_text", "seed": 7,
        "words": [{"word": "a", "id": 3, "probability": 0.59, "sampling_probability": 0.67},
                  {"word": "</s>", "id": 2, "probability": 0.22, "sampling_probability": 0.24}]})
    generation = client.networks.generate("tiny", "a", max_words=5, top_p=0.9, seed=7)
    assert sent_json(mocked) == {"prompt": "a", "max_words": 5, "temperature": 1.0, "top_p": 0.9, "seed": 7}
    assert generation == Generation("tiny", 1, ContextReading(("a",), (3,), (False,), 0, 1), "a a", "a",
                                    (GeneratedWord("a", 3, 0.59, 0.67), GeneratedWord("</s>", 2, 0.22, 0.24)), "end_of_text", 7)


def test_generate_sends_only_what_is_set(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/tiny/generate", json={
        "name": "tiny", "revision": 1, "prompt": {**CONTEXT_A, "tokens": ["<pad>"], "ids": [0], "padding": 1, "text_tokens": 0},
        "text": "b", "continuation": "b", "stop_reason": "max_words", "seed": 4429667074623527980,
        "words": [{"word": "b", "id": 4, "probability": 0.2, "sampling_probability": 1.0}]})
    generation = client.networks.generate("tiny", max_words=1, temperature=0, top_k=3)
    assert sent_json(mocked) == {"prompt": "", "max_words": 1, "temperature": 0.0, "top_k": 3}
    assert generation.seed == 4429667074623527980 and generation.prompt.padding == 1


def test_score(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/tiny/score", json={
        "name": "tiny", "revision": 1, "tokens": ["a", "b", "</s>"], "log_probabilities": [-1.6, -3.5, -2.2],
        "unknown": [False, False, False], "mean_nll": 2.43, "perplexity": 11.37, "unknown_rate": 0.0})
    score = client.networks.score("tiny", "a b")
    assert sent_json(mocked) == {"text": "a b"}
    assert score == Score("tiny", 1, ("a", "b", "</s>"), (-1.6, -3.5, -2.2), (False, False, False), 2.43, 11.37, 0.0)


def test_tokenize_a_text_and_ids(client: Client, mocked: responses.RequestsMock) -> None:
    url = f"{BASE}/v1/networks/tiny/tokenize"
    mocked.post(url, json={"name": "tiny", "revision": 1, "text": "A b, zebra", "tokens": ["a", "b", ",", "zebra"],
                           "ids": [3, 4, 1, 1], "unknown": [False, False, True, True]})
    mocked.post(url, json={"name": "tiny", "revision": 1, "ids": [0, 3, 4, 2, 3], "text": "a b"})
    encoded = client.networks.tokenize("tiny", "A b, zebra")
    assert encoded == Tokenization("tiny", 1, "A b, zebra", (3, 4, 1, 1), ("a", "b", ",", "zebra"), (False, False, True, True))
    decoded = client.networks.tokenize("tiny", ids=np.array([0, 3, 4, 2, 3]))
    assert decoded == Tokenization("tiny", 1, "a b", (0, 3, 4, 2, 3)) and decoded.tokens is None
    assert [sent_json(mocked, i) for i in range(2)] == [{"text": "A b, zebra"}, {"ids": [0, 3, 4, 2, 3]}]


@pytest.mark.parametrize("kwargs", [{}, {"text": "a", "ids": [1]}])
def test_tokenize_needs_exactly_one_of_text_and_ids(client: Client, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="exactly one of text"):
        client.networks.tokenize("tiny", **kwargs)  # type: ignore[arg-type]


def test_train_sends_the_settings_that_are_set(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/lm/train", json=QUEUED_JOB_JSON, status=202, headers={"Location": f"/v1/jobs/{JOB_ID}"})
    settings = TrainingSettings(context_size=2, embedding_size=8, hidden_sizes=[16], steps=200, min_count=1, betas=(0.9, 0.99))
    job = client.networks.train("lm", "The neuron adds.", settings=settings, description="tiny")
    assert sent(mocked).method == "POST"
    assert sent_json(mocked) == {"text": "The neuron adds.", "description": "tiny", "settings": {
        "context_size": 2, "embedding_size": 8, "hidden_sizes": [16], "steps": 200, "min_count": 1, "betas": [0.9, 0.99]}}
    assert (job.id, job.state, job.network, job.progress, job.loss, job.result, job.error, job.warnings, job.notice) == (
        JOB_ID, "queued", "lm", JobProgress(0, 0), None, None, None, (), None)
    assert job.settings == TrainingSettings(**{**SETTINGS_JSON, "betas": (0.9, 0.999)}) and not job.done  # type: ignore[arg-type]


def test_train_texts_with_settings_as_a_mapping(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/lm/train", json=QUEUED_JOB_JSON, status=202)
    client.networks.train("lm", texts=("one.", "two."), settings={"steps": 10})
    assert sent_json(mocked) == {"texts": ["one.", "two."], "settings": {"steps": 10}, "description": ""}


def test_a_jobs_settings_train_again(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/lm/train", json=QUEUED_JOB_JSON, status=202)
    mocked.post(f"{BASE}/v1/networks/lm/train", json=QUEUED_JOB_JSON, status=202)
    first = client.networks.train("lm", "text")
    client.networks.train("lm", "text", settings=first.settings)
    assert sent_json(mocked, 1) == {"text": "text", "settings": SETTINGS_JSON, "description": ""}


@pytest.mark.parametrize("kwargs, error", [({}, ValueError), ({"text": "a", "texts": ["b"]}, ValueError), ({"texts": "one text"}, TypeError)])
def test_train_needs_exactly_one_of_text_and_texts(client: Client, kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error, match="text"):
        client.networks.train("lm", **kwargs)  # type: ignore[arg-type]


def test_jobs_get_a_finished_job(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/jobs/{JOB_ID}", json=SUCCEEDED_JOB_JSON)
    job = client.jobs.get(JOB_ID)
    assert isinstance(job, Job) and job.done and job.state == "succeeded"
    assert job.loss_history == ((100, 1.44), (200, 0.57)) and job.finished_at == MOMENT
    assert job.result is not None
    assert (job.result.network, job.result.revision, job.result.steps, job.result.loss_history) == ("lm", 1, 200, ((4, 2.45), (200, 0.51)))
    assert job.result.settings == job.settings and job.result.validation_perplexity == 1.99


def test_jobs_wait_polls_until_the_job_is_done(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    for answer in (QUEUED_JOB_JSON, RUNNING_JOB_JSON, SUCCEEDED_JOB_JSON):
        mocked.get(f"{BASE}/v1/jobs/{JOB_ID}", json=answer)
    seen: list[Job] = []
    job = client.jobs.wait(JOB_ID, poll_interval=0.25, on_progress=seen.append)
    assert job.state == "succeeded" and len(mocked.calls) == 3 and sleeps == [0.25, 0.25]
    assert [(j.state, j.progress.step) for j in seen] == [("queued", 0), ("running", 100), ("succeeded", 200)]
    assert seen[1].progress == JobProgress(100, 200, 1.44, 6400.0, 1.5, 1.9)


def test_a_job_waits_for_and_cancels_itself(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.post(f"{BASE}/v1/networks/lm/train", json=QUEUED_JOB_JSON, status=202)
    mocked.post(f"{BASE}/v1/jobs/{JOB_ID}/cancel", json={**RUNNING_JOB_JSON, "cancel_requested": True}, status=202)
    mocked.get(f"{BASE}/v1/jobs/{JOB_ID}", json={**RUNNING_JOB_JSON, "state": "cancelled", "cancel_requested": True, "finished_at": TIMESTAMP})
    job = client.networks.train("lm", "text")
    assert job.cancel().cancel_requested
    assert sent(mocked, 1).method == "POST" and sent(mocked, 1).url == f"{BASE}/v1/jobs/{JOB_ID}/cancel"
    ended = job.wait()
    assert ended.state == "cancelled" and ended.done and sleeps == []
    with pytest.raises(RuntimeError, match="not read through a Client"):
        Job(**{**vars(ended), "_jobs": None}).cancel()


def test_cancelling_a_finished_job_is_a_conflict(client: Client, mocked: responses.RequestsMock) -> None:
    problem = {"type": "urn:neuronhub:problem:job-finished", "title": "Job finished", "status": 409,
               "detail": "the job has already ended (succeeded); only a queued or running job can be cancelled", "request_id": "r"}
    mocked.post(f"{BASE}/v1/jobs/{JOB_ID}/cancel", json=problem, status=409, content_type="application/problem+json")
    with pytest.raises(ConflictError, match="already ended"):
        client.jobs.cancel(JOB_ID)
    assert len(mocked.calls) == 1  # a POST that changes state: never retried


def test_jobs_list_filters_and_pages(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/jobs", json={"items": [RUNNING_JOB_JSON], "next_cursor": "abc"})
    mocked.get(f"{BASE}/v1/jobs", json={"items": [SUCCEEDED_JOB_JSON], "next_cursor": None})
    jobs = list(client.jobs.iter(state="running", network="lm", page_size=1))
    assert [j.state for j in jobs] == ["running", "succeeded"]
    assert sent(mocked, 0).url == f"{BASE}/v1/jobs?state=running&network=lm&limit=1"
    assert sent(mocked, 1).url == f"{BASE}/v1/jobs?state=running&network=lm&limit=1&cursor=abc"


def test_job_events_follow_the_stream_and_reconnect_until_the_end(client: Client, mocked: responses.RequestsMock) -> None:
    def event(kind: str, body: object) -> str:
        return f"event: {kind}\ndata: {json.dumps(body)}\n\n"

    first = "retry: 250\n\n" + event("update", QUEUED_JOB_JSON) + ": keep-alive\n\n" + event("update", RUNNING_JOB_JSON)
    second = "retry: 250\n\n" + event("end", SUCCEEDED_JOB_JSON)
    for body in (first, second):  # the first stream closes without an end: the SDK connects again
        mocked.get(f"{BASE}/v1/jobs/{JOB_ID}/events", body=body, content_type="text/event-stream")
    states = [(job.state, job.progress.step) for job in client.jobs.events(JOB_ID)]
    assert states == [("queued", 0), ("running", 100), ("succeeded", 200)]


def test_the_trained_network_a_job_kept(client: Client, mocked: responses.RequestsMock) -> None:
    body = {"description": "d", "layers": [{"weights": [[1.0]], "biases": [0.5], "activation": "identity"}], "dtype": "float64"}
    mocked.get(f"{BASE}/v1/jobs/{JOB_ID}/network", json=body)
    definition = client.jobs.trained_network(JOB_ID)
    assert definition.description == "d" and definition.layers[0].activation == "identity"
    assert definition.to_json()["layers"] == body["layers"]


def test_jobs_wait_returns_a_failed_job(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    error = {"title": "interrupted", "detail": "the process running this job stopped"}
    mocked.get(f"{BASE}/v1/jobs/{JOB_ID}", json={**RUNNING_JOB_JSON, "state": "failed", "error": error, "finished_at": TIMESTAMP})
    job = client.jobs.wait(JOB_ID)
    assert job.state == "failed" and job.error == JobError("interrupted", "the process running this job stopped") and sleeps == []


def test_jobs_wait_gives_up_after_its_timeout(client: Client, mocked: responses.RequestsMock, sleeps: list[float],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(neuronhub._jobs, "_clock", lambda: sum(sleeps))  # time passes only while waiting
    mocked.get(f"{BASE}/v1/jobs/{JOB_ID}", json=RUNNING_JOB_JSON)
    with pytest.raises(JobTimeoutError, match=f"job {JOB_ID} .* still running after 2 s, at step 100 of 200") as caught:
        client.jobs.wait(JOB_ID, timeout=2.0, poll_interval=0.75)
    assert sleeps == [0.75, 0.75, 0.5] and len(mocked.calls) == 4
    assert caught.value.job.state == "running" and caught.value.timeout == 2.0


def test_diagram_svg_sends_the_input_as_query_and_returns_the_document(client: Client, mocked: responses.RequestsMock) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><circle data-layer="0" data-index="1"/></svg>'
    mocked.get(f"{BASE}/v1/networks/xor/diagram.svg", body=svg, content_type="image/svg+xml",
               match=[matchers.query_param_matcher({"inputs": "0.5,1.0,-2.0"})])
    assert client.diagram_svg("xor", inputs=[0.5, 1, -2]) == svg
    mocked.get(f"{BASE}/v1/networks/lm/diagram.svg", body=svg, content_type="image/svg+xml",
               match=[matchers.query_param_matcher({"context": "the cat & the hat"})])
    assert client.diagram_svg("lm", context="the cat & the hat") == svg
    mocked.get(f"{BASE}/v1/networks/my%20net/diagram.svg", body=svg, content_type="image/svg+xml",
               match=[matchers.query_param_matcher({})])
    assert client.diagram_svg("my net") == svg


def test_neuron_examples_and_explain_send_what_the_service_reads(client: Client, mocked: responses.RequestsMock) -> None:
    from neuronhub import Intervention, NeuronCard, OutputExplanation, WeightedInput

    card = {"name": "xor", "revision": 3, "layer": 0, "index": 1, "activation": "relu", "bias": -1.0, "weights": [1.0, 1.0],
            "fan_in": 2, "fan_out": 1, "outgoing": [-2.0], "strongest_inputs": [{"input": 0, "weight": 1.0}]}
    mocked.get(f"{BASE}/v1/networks/xor/layers/0/neurons/1", json=card, match=[matchers.query_param_matcher({"k": "1"})])
    assert client.neuron("xor", 0, 1, k=1) == NeuronCard("xor", 3, 0, 1, "relu", -1.0, (1.0, 1.0), 2, 1, (WeightedInput(0, 1.0),), (-2.0,))
    assert client.neuron.__self__ is client  # a method of the client itself: client.neuron(...)
    explanation = {"name": "xor", "revision": 3, "output": 0, "weighted_sum": 0.0, "activation": 0.0, "bias": 0.0,
                   "attribution_total": 0.0, "neurons": [{"layer": 0, "index": 0, "activation": 2.0, "weight": 1.0, "attribution": 2.0}]}
    mocked.post(f"{BASE}/v1/networks/xor/explain", json=explanation)
    answer = client.explain("xor", inputs=np.array([1.0, 1.0]), output=0, k=1)
    assert isinstance(answer, OutputExplanation) and answer.neurons[0].attribution == 2.0
    assert sent_json(mocked, 1) == {"inputs": [1.0, 1.0], "output": 0, "k": 1}
    mocked.post(f"{BASE}/v1/networks/xor/forward", json={"name": "xor", "revision": 3, "dtype": "float64", "outputs": [2.0]})
    client.networks.forward("xor", [1, 1], interventions=[Intervention(0, 1, set=0), Intervention(1, 0, scale=2.5)])
    assert sent_json(mocked, 2) == {"inputs": [1.0, 1.0], "trace": False,
                                    "interventions": [{"layer": 0, "index": 1, "set": 0.0}, {"layer": 1, "index": 0, "scale": 2.5}]}


@pytest.mark.parametrize("kwargs", [{}, {"context": "a", "inputs": [1.0], "output": 0}, {"inputs": [1.0]}, {"inputs": [1.0], "output": 0, "target": "a"}])
def test_explain_takes_a_context_or_inputs_and_an_output(client: Client, kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="explain: pass context"):
        client.explain("xor", **kwargs)  # type: ignore[call-overload]


def test_neuron_positions_are_whole_numbers(client: Client) -> None:
    with pytest.raises(TypeError, match="layer: expected a whole number"):
        client.neuron("xor", "0", 1)  # type: ignore[arg-type]
