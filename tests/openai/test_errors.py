"""Errors on the OpenAI-compatible routes: OpenAI's envelope and the statuses the openai client maps to its
exceptions; the native routes beside them keep problem+json."""
from __future__ import annotations

import openai
import pytest
import requests

from tests.support.gunicorn import Server

from .conftest import MODEL, READ


def _error(exc: openai.APIStatusError) -> dict:
    body = exc.response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    assert exc.response.headers["Content-Type"] == "application/json"
    return body["error"]


def test_a_wrong_or_missing_key_is_an_authentication_error(live):
    with pytest.raises(openai.AuthenticationError) as caught:
        live.client("not-a-key").models.list()
    error = _error(caught.value)
    assert caught.value.status_code == 401 and error["code"] == "invalid_api_key" and error["type"] == "authentication_error"
    response = requests.post(f"{live.url}/v1/completions", json={"model": MODEL}, timeout=30)  # no key at all
    assert response.status_code == 401 and response.json()["error"]["code"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_unknown_model_is_model_not_found(live):
    client = live.client()
    for call in (lambda: client.completions.create(model="no-such-model", prompt="a"),
                 lambda: client.chat.completions.create(model="xor-network", messages=[{"role": "user", "content": "a"}]),
                 lambda: client.models.retrieve("xor-network"),
                 lambda: client.models.retrieve("no such name")):
        with pytest.raises(openai.NotFoundError) as caught:
            call()
        error = _error(caught.value)
        assert (error["code"], error["param"], error["type"]) == ("model_not_found", "model", "not_found_error"), error


@pytest.mark.parametrize("params, param, words", [
    ({"suffix": "and so on"}, "suffix", "not supported"),
    ({"best_of": 3}, "best_of", "best_of equal to n"),
    ({"logit_bias": {"99999": 5}}, "logit_bias", "expected 0.."),
    ({"logit_bias": {"a": 5}}, "logit_bias", "word ids"),
    ({"presence_penalty": 0.5}, "presence_penalty", "penalties are not supported"),
    ({"logprobs": 21}, "logprobs", "from 0 to 20"),
    ({"max_tokens": 1001}, "max_tokens", "from 0 to 1000"),
    ({"temperature": -1}, "temperature", "from 0 to 2"),
    ({"top_p": 0}, "top_p", "more than 0"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "1 to 4"),
    ({"n": 0}, "n", "from 1 to 128"),
    ({"prompt": [1, 2, 3]}, "prompt", "token ids are not supported"),
    ({"stream_options": {"include_usage": True}}, "stream_options", "only allowed with stream"),
])
def test_parameters_that_cannot_be_honoured_are_refused(live, params, param, words):
    with pytest.raises(openai.BadRequestError) as caught:
        live.client().completions.create(model=MODEL, **{"prompt": "a neuron", **params})
    error = _error(caught.value)
    assert caught.value.status_code == 400 and error["param"] == param and words in error["message"], error
    assert error["type"] == "invalid_request_error"


def test_unknown_parameters_and_tools_are_refused_not_ignored(live):
    client = live.client()
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt="a", extra_body={"frobnicate": 1})
    assert _error(caught.value)["message"].startswith("Unrecognized request argument supplied: frobnicate")
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}],
                                       tools=[{"type": "function", "function": {"name": "f"}}])
    assert _error(caught.value)["param"] == "tools"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}])
    assert _error(caught.value)["param"] == "messages[0].content"
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "a"}], top_logprobs=2)
    assert _error(caught.value)["param"] == "top_logprobs"


def test_malformed_json_too_large_and_wrong_method_use_the_envelope(live):
    headers = {"Authorization": f"Bearer {READ}", "Content-Type": "application/json"}
    bad = requests.post(f"{live.url}/v1/completions", data=b'{"model": NaN}', headers=headers, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_json"
    big = requests.post(f"{live.url}/v1/completions", json={"model": MODEL, "prompt": "a " * 150_000}, headers=headers, timeout=30)
    assert big.status_code == 413 and "200000 bytes" in big.json()["error"]["message"]
    wrong = requests.get(f"{live.url}/v1/chat/completions", headers=headers, timeout=30)
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed" and "POST" in wrong.headers["Allow"]
    nowhere = requests.get(f"{live.url}/v1/models/{MODEL}/extra", headers=headers, timeout=30)
    assert nowhere.status_code == 404 and "error" in nowhere.json()


def test_native_routes_keep_problem_json(live):
    response = requests.post(f"{live.url}/v1/networks/no-such/predict", json={"context": "a"},
                             headers={"Authorization": f"Bearer {READ}"}, timeout=30)
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"
    assert requests.get(f"{live.url}/v1/networks", timeout=30).headers["Content-Type"] == "application/problem+json"  # 401


def _server(tmp_path_factory: pytest.TempPathFactory, **env: str) -> Server:
    directory = tmp_path_factory.mktemp("server")
    return Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{directory / 'openai.db'}", "NEURONHUB_SEED_DEMO": "true",
                   "NEURONHUB_WORKERS": "1", **env}, directory / "gunicorn.log")


def test_the_rate_limit_is_a_rate_limit_error(tmp_path_factory):
    server = _server(tmp_path_factory, NEURONHUB_RATE_LIMIT="4/minute")
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)  # an open service ignores the key
        with pytest.raises(openai.RateLimitError) as caught:
            for _ in range(5):  # /readyz (the start-up probe) is never limited; these are
                client.models.list()
        error = _error(caught.value)
        assert caught.value.status_code == 429 and error["code"] == "rate_limit_exceeded" and error["type"] == "rate_limit_error"
        assert int(caught.value.response.headers["Retry-After"]) >= 1
    finally:
        server.stop()


def test_the_deadline_is_a_server_error_also_in_a_stream(tmp_path_factory):
    server = _server(tmp_path_factory, NEURONHUB_REQUEST_TIMEOUT="1")
    try:
        client = openai.OpenAI(base_url=server.url + "/v1", api_key="unused", max_retries=0)
        # 128 choices of 1000 words, the end of text kept out: far more than a second of work
        heavy = {"model": MODEL, "prompt": "a neuron", "max_tokens": 1000, "n": 128, "logit_bias": {"2": -100}}
        with pytest.raises(openai.InternalServerError) as caught:
            client.completions.create(**heavy)
        error = _error(caught.value)
        assert caught.value.status_code == 503 and error["code"] == "deadline_exceeded" and error["type"] == "server_error"
        with pytest.raises(openai.APIError) as streamed:  # the status was sent: the error comes as the stream's last event
            for _ in client.completions.create(**heavy, stream=True):
                pass
        assert "NEURONHUB_REQUEST_TIMEOUT" in streamed.value.message
    finally:
        server.stop()
