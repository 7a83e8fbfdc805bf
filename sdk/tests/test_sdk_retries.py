"""Retries: which requests, after what, how long between them, and never for a request that is not idempotent."""
from __future__ import annotations

import pytest
import requests
import responses
from sdk_samples import BASE, NEURON_JSON, problem

from neuronhub import (APIConnectionError, APITimeoutError, Client, NeuronDefinition, NotFoundError, RetryPolicy,
                       ServerError, ServiceUnavailableError)
from neuronhub._operations import TRAIN_NETWORK, Operation

PROBLEM = "application/problem+json"
URL = f"{BASE}/v1/neurons/relu-1"


def unavailable(retry_after: str | None = None) -> dict[str, object]:
    headers = {"Retry-After": retry_after} if retry_after else {}
    return {"status": 503, "content_type": PROBLEM, "headers": headers,
            "json": problem(503, "database-unavailable", "the database does not answer")}


def test_503_then_success_honours_retry_after(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.get(URL, **unavailable("1"))  # type: ignore[arg-type]
    mocked.get(URL, json=NEURON_JSON)
    assert client.neurons.get("relu-1").name == "relu-1"
    assert sleeps == [1.0]
    first, second = (call.request.headers["X-Request-ID"] for call in mocked.calls)
    assert first == second  # one logical request, one id in the service's logs


def test_retry_after_is_capped(mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.get(URL, status=429, headers={"Retry-After": "3600"}, json=problem(429, "too-many-requests", "later"))
    mocked.get(URL, json=NEURON_JSON)
    with Client(BASE, retry=RetryPolicy(max_retry_after=5.0)) as client:
        client.neurons.get("relu-1")
    assert sleeps == [5.0]


def test_backoff_grows_exponentially_with_jitter(mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    for _ in range(4):
        mocked.get(URL, status=500, content_type=PROBLEM, json=problem(500, "internal-error", "boom"))
    with Client(BASE, retry=RetryPolicy(max_retries=3, initial_delay=0.5)) as client, pytest.raises(ServerError):
        client.neurons.get("relu-1")
    assert len(mocked.calls) == 4 and len(sleeps) == 3
    for wait, backoff in zip(sleeps, [0.5, 1.0, 2.0]):
        assert backoff * 0.75 <= wait <= backoff


def test_backoff_is_capped_and_jitter_bounded() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0)
    assert policy.delay(0, rand=0.0) == 0.5 and policy.delay(0, rand=1.0) == 0.375
    assert policy.delay(10, rand=0.0) == 8.0
    assert policy.delay(0, retry_after=2.0) == 2.0


def test_gives_up_after_max_retries_with_the_last_error(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    for _ in range(3):
        mocked.get(URL, **unavailable())  # type: ignore[arg-type]
    with pytest.raises(ServiceUnavailableError):
        client.neurons.get("relu-1")
    assert len(mocked.calls) == 3 and len(sleeps) == 2


def test_connection_errors_and_timeouts_are_retried(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.get(URL, body=requests.ConnectionError("connection refused"))
    mocked.get(URL, body=requests.ReadTimeout("read timed out"))
    mocked.get(URL, json=NEURON_JSON)
    assert client.neurons.get("relu-1").revision == 1
    assert len(sleeps) == 2


def test_connection_error_when_retries_run_out(mocked: responses.RequestsMock) -> None:
    mocked.get(URL, body=requests.ReadTimeout("read timed out"))
    with Client(BASE, max_retries=0) as client, pytest.raises(APITimeoutError):
        client.neurons.get("relu-1")
    mocked.get(URL, body=requests.ConnectionError("refused"))
    with Client(BASE, max_retries=0) as client, pytest.raises(APIConnectionError):
        client.neurons.get("relu-1")


def test_client_errors_are_not_retried(client: Client, mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.get(URL, status=404, content_type=PROBLEM, json=problem(404, "not-found", "no neuron"))
    with pytest.raises(NotFoundError):
        client.neurons.get("relu-1")
    assert len(mocked.calls) == 1 and sleeps == []


LANGUAGE_CONTEXT = {"tokens": ["a"], "ids": [3], "unknown": [False], "padding": 0, "text_tokens": 1}


@pytest.mark.parametrize("call", ["put", "delete", "evaluate", "forward", "predict", "generate", "score", "tokenize"])
def test_idempotent_writes_and_read_only_posts_are_retried(client: Client, mocked: responses.RequestsMock, sleeps: list[float], call: str) -> None:
    tiny = f"{BASE}/v1/networks/tiny"
    method, url, answer = {
        "put": ("PUT", URL, NEURON_JSON),
        "delete": ("DELETE", URL, None),
        "evaluate": ("POST", URL + "/evaluate", {"name": "relu-1", "revision": 1, "activation": "relu", "bias": 0.0,
                                                 "contributions": [1.0], "weighted_sum": 1.0, "output": 1.0}),
        "forward": ("POST", f"{BASE}/v1/networks/xor/forward", {"name": "xor", "revision": 1, "dtype": "float64", "outputs": [1.0]}),
        "predict": ("POST", tiny + "/predict", {"name": "tiny", "revision": 1, "context": LANGUAGE_CONTEXT, "temperature": 1.0,
                                                "words": [{"word": "a", "id": 3, "probability": 0.6, "log_probability": -0.5}]}),
        "generate": ("POST", tiny + "/generate", {"name": "tiny", "revision": 1, "prompt": LANGUAGE_CONTEXT, "text": "a a",
                                                  "continuation": "a", "stop_reason": "max_words", "seed": 7,
                                                  "words": [{"word": "a", "id": 3, "probability": 0.6, "sampling_probability": 1.0}]}),
        "score": ("POST", tiny + "/score", {"name": "tiny", "revision": 1, "tokens": ["a", "</s>"], "log_probabilities": [-1.6, -1.5],
                                            "unknown": [False, False], "mean_nll": 1.55, "perplexity": 4.7, "unknown_rate": 0.0}),
        "tokenize": ("POST", tiny + "/tokenize", {"name": "tiny", "revision": 1, "ids": [3], "text": "a"}),
    }[call]
    mocked.add(method, url, **unavailable())  # type: ignore[arg-type]
    mocked.add(method, url, json=answer, status=200 if answer else 204)
    {"put": lambda: client.neurons.put("relu-1", NeuronDefinition([1], "relu")),
     "delete": lambda: client.neurons.delete("relu-1"),
     "evaluate": lambda: client.neurons.evaluate("relu-1", [1]),
     "forward": lambda: client.networks.forward("xor", [1, 0]),
     "predict": lambda: client.networks.predict("tiny", "a"),
     "generate": lambda: client.networks.generate("tiny", "a", seed=7),
     "score": lambda: client.networks.score("tiny", "a"),
     "tokenize": lambda: client.networks.tokenize("tiny", ids=[3])}[call]()
    assert len(mocked.calls) == 2 and len(sleeps) == 1


@pytest.mark.parametrize("failure", [unavailable(), {"body": requests.ConnectionError("reset")}])
def test_training_is_never_retried(client: Client, mocked: responses.RequestsMock, sleeps: list[float], failure: dict[str, object]) -> None:
    """Every train call starts a job: a retry after a lost answer could start a second one."""
    assert not TRAIN_NETWORK.idempotent
    mocked.post(f"{BASE}/v1/networks/lm/train", **failure)  # type: ignore[arg-type]
    with pytest.raises((ServiceUnavailableError, APIConnectionError)):
        client.networks.train("lm", "The neuron adds the weighted inputs.")
    assert len(mocked.calls) == 1 and sleeps == []


@pytest.mark.parametrize("failure", [unavailable(), {"body": requests.ConnectionError("reset")}])
def test_a_post_that_is_not_idempotent_is_never_retried(client: Client, mocked: responses.RequestsMock, sleeps: list[float],
                                                        failure: dict[str, object]) -> None:
    other = Operation("startSomething", "POST", "/v1/jobs", ("jobs.start",))  # any POST without x-idempotent
    assert not other.idempotent
    mocked.post(f"{BASE}/v1/jobs", **failure)  # type: ignore[arg-type]
    with pytest.raises((ServiceUnavailableError, APIConnectionError)):
        client._transport.send(other, body={"network": "xor"})
    assert len(mocked.calls) == 1 and sleeps == []


def test_max_retries_zero_sends_once(mocked: responses.RequestsMock, sleeps: list[float]) -> None:
    mocked.get(URL, **unavailable("1"))  # type: ignore[arg-type]
    with Client(BASE, max_retries=0) as client, pytest.raises(ServiceUnavailableError):
        client.neurons.get("relu-1")
    assert len(mocked.calls) == 1 and sleeps == []


def test_negative_max_retries_is_refused() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Client(BASE, max_retries=-1)
