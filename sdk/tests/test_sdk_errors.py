"""Error answers become one exception hierarchy, built from the problem+json body."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
import responses
from sdk_samples import BASE, problem

import neuronhub
from neuronhub import (APIStatusError, AuthenticationError, BadRequestError, Client, ConflictError, NeuronDefinition,
                       NeuronhubError, NotFoundError, PayloadTooLargeError, PermissionDeniedError, PreconditionFailedError,
                       RateLimitError, ServerError, ServiceUnavailableError, TrainingSettings, UnexpectedResponseError,
                       UnsupportedMediaTypeError, ValidationError, error_class_for)
from neuronhub._errors import parse_retry_after

PROBLEM = "application/problem+json"


@pytest.mark.parametrize("status, error_class", [
    (400, BadRequestError), (401, AuthenticationError), (403, PermissionDeniedError), (404, NotFoundError),
    (409, ConflictError), (412, PreconditionFailedError), (413, PayloadTooLargeError), (415, UnsupportedMediaTypeError),
    (422, ValidationError), (429, RateLimitError), (500, ServerError), (502, ServerError), (503, ServiceUnavailableError),
    (504, ServerError), (405, APIStatusError), (414, APIStatusError), (431, APIStatusError),
])
def test_status_to_class(status: int, error_class: type[APIStatusError]) -> None:
    assert error_class_for(status) is error_class
    assert issubclass(error_class, NeuronhubError)


def test_service_unavailable_is_a_server_error() -> None:
    assert issubclass(ServiceUnavailableError, ServerError)
    assert issubclass(neuronhub.APITimeoutError, neuronhub.APIConnectionError)
    assert issubclass(neuronhub.JobTimeoutError, NeuronhubError)


def test_not_found_carries_the_problem(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/nope", status=404, content_type=PROBLEM,
               json=problem(404, "not-found", "no neuron named 'nope'"))
    with pytest.raises(NotFoundError) as caught:
        client.neurons.get("nope")
    error = caught.value
    assert (error.status, error.type, error.detail, error.request_id) == (404, "urn:neuronhub:problem:not-found", "no neuron named 'nope'", "req-1")
    assert str(error) == "404 Not found: no neuron named 'nope' (request id req-1)"
    assert error.errors == {}


def test_validation_error_lists_every_field(client: Client, mocked: responses.RequestsMock) -> None:
    errors = {"weights[1]": ["expected a number, got string 'a'"], "activation": ["expected one of ..."]}
    mocked.put(f"{BASE}/v1/neurons/n", status=422, content_type=PROBLEM,
               json=problem(422, "validation-error", "weights[1]: expected a number (and 1 more)", errors=errors))
    with pytest.raises(ValidationError) as caught:
        client.neurons.put("n", NeuronDefinition([1], "relu"))
    assert caught.value.errors == errors and caught.value.limit is None


def test_limit_exceeded(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.post(f"{BASE}/v1/networks/xor/forward", status=422, content_type=PROBLEM, json=problem(
        422, "limit-exceeded", "inputs: at most 4096", errors={"inputs": ["at most 4096"]},
        limit="NEURONHUB_MAX_BATCH_ROWS", maximum=4096, received=5000))
    with pytest.raises(ValidationError) as caught:
        client.networks.forward("xor", [[0, 0]] * 2)
    assert (caught.value.limit, caught.value.maximum, caught.value.received) == ("NEURONHUB_MAX_BATCH_ROWS", 4096, 5000)


def test_a_network_without_words_is_a_conflict(client: Client, mocked: responses.RequestsMock) -> None:
    detail = "network 'xor' has no vocabulary, embeddings and context_size, so it cannot read words"
    for route in ("predict", "generate", "score", "tokenize"):
        mocked.post(f"{BASE}/v1/networks/xor/{route}", status=409, content_type=PROBLEM, json=problem(409, "not-a-language-network", detail))
    calls = [lambda: client.networks.predict("xor", "a"), lambda: client.networks.generate("xor"),
             lambda: client.networks.score("xor", "a"), lambda: client.networks.tokenize("xor", "a")]
    for call in calls:
        with pytest.raises(ConflictError) as caught:
            call()
        assert (caught.value.status, caught.value.type, caught.value.detail) == (409, "urn:neuronhub:problem:not-a-language-network", detail)
    assert len(mocked.calls) == 4  # a 409 is not retried


def test_bad_training_settings_are_a_validation_error(client: Client, mocked: responses.RequestsMock) -> None:
    errors = {"settings.context_size": ["expected a whole number in 1..16, got 0"]}
    mocked.post(f"{BASE}/v1/networks/lm/train", status=422, content_type=PROBLEM,
                json=problem(422, "validation-error", "settings.context_size: expected a whole number in 1..16, got 0", errors=errors))
    with pytest.raises(ValidationError) as caught:
        client.networks.train("lm", "some text", settings=TrainingSettings(context_size=0))
    assert caught.value.errors == errors


def test_an_unknown_job_is_not_found(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/jobs/{'0' * 32}", status=404, content_type=PROBLEM, json=problem(404, "not-found", f"no job with id {'0' * 32!r}"))
    with pytest.raises(NotFoundError, match="no job with id"):
        client.jobs.wait("0" * 32)


@pytest.mark.parametrize("current", [3, None])
def test_precondition_failed_says_the_current_revision(client: Client, mocked: responses.RequestsMock, current: int | None) -> None:
    mocked.delete(f"{BASE}/v1/neurons/n", status=412, content_type=PROBLEM,
                  json=problem(412, "precondition-failed", "If-Match does not match", current_revision=current))
    with pytest.raises(PreconditionFailedError) as caught:
        client.neurons.delete("n", if_match=1)
    assert caught.value.current_revision == current


def test_rate_limit_has_retry_after(mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons", status=429, content_type=PROBLEM, headers={"Retry-After": "7"},
               json=problem(429, "too-many-requests", "slow down"))
    with Client(BASE, max_retries=0) as client, pytest.raises(RateLimitError) as caught:
        client.neurons.list()
    assert caught.value.retry_after == 7.0


def test_an_html_answer_from_the_http_server_still_maps(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons", status=414, content_type="text/html",
               body="<html><body><h1>URI Too Long</h1></body></html>", headers={"X-Request-ID": "from-header"})
    with pytest.raises(APIStatusError) as caught:
        client.neurons.list(cursor="a" * 5000)
    assert caught.value.status == 414 and "URI Too Long" in caught.value.detail
    assert caught.value.type is None and caught.value.request_id == "from-header"


def test_a_success_answer_that_is_not_json(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/n", body="<html>proxy page</html>", content_type="text/html")
    with pytest.raises(UnexpectedResponseError, match="expected JSON"):
        client.neurons.get("n")


def test_a_success_answer_with_the_wrong_shape(client: Client, mocked: responses.RequestsMock) -> None:
    mocked.get(f"{BASE}/v1/neurons/n", json={"name": "n"})
    with pytest.raises(UnexpectedResponseError, match="does not match the API"):
        client.neurons.get("n")


def test_retry_after_as_seconds_or_a_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Thu, 01 Jan 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Thu, 01 Jan 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
