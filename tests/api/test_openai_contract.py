"""Every answer of the OpenAI-compatible routes is one openapi.yaml documents, streamed events included
(the live behaviour, with the openai client, is tested in tests/openai/)."""
import orjson
import pytest

from .conftest import CONTRACT

TINY = {"vocabulary": ["<pad>", "<unk>", "</s>", "a", "b"], "embeddings": [[0], [0], [0], [1], [2]], "context_size": 1,
        "layers": [{"weights": [[0], [0], [1], [2], [-1]], "activation": "identity"}]}
XOR = {"layers": [{"weights": [[1, 1], [1, 1]], "biases": [0, -1], "activation": "relu"}, {"weights": [[1, -2]], "activation": "identity"}]}


@pytest.fixture
def lm(client):
    assert client.put("/v1/networks/tiny", json=TINY).status_code == 201
    assert client.put("/v1/networks/xor", json=XOR).status_code == 201
    return client


def events(response, schema):
    """The data of each server-sent event, each checked against `schema`; [DONE] last."""
    assert response.mimetype == "text/event-stream"
    raw = response.get_data(as_text=True).split("\n\n")
    assert raw[-2:] == ["data: [DONE]", ""]
    chunks = [orjson.loads(e.removeprefix("data: ")) for e in raw[:-2]]
    for chunk in chunks:
        assert CONTRACT.validation_errors(f"/components/schemas/{schema}", chunk) == [], chunk
    return chunks


def test_models(lm):
    listed = lm.get("/v1/models").get_json()
    assert [m["id"] for m in listed["data"]] == ["tiny"]  # xor has no vocabulary
    assert lm.get("/v1/models/tiny").get_json()["id"] == "tiny"
    assert lm.get("/v1/models/xor").get_json()["error"]["code"] == "model_not_found"
    assert lm.get("/v1/models/-bad-").status_code == 404


def test_completions_every_shape(lm):
    body = {"model": "tiny", "prompt": ["a", "b a"], "max_tokens": 3, "seed": 1, "n": 2, "logprobs": 2, "echo": True, "stop": "b b"}
    answer = lm.post("/v1/completions", json=body).get_json()
    assert len(answer["choices"]) == 4
    chunks = events(lm.post("/v1/completions", json={**body, "stream": True, "stream_options": {"include_usage": True}}), "CompletionChunk")
    assert chunks[-1]["usage"] == answer["usage"]
    for index, choice in enumerate(answer["choices"]):
        assert "".join(c["choices"][0]["text"] for c in chunks if c["choices"] and c["choices"][0]["index"] == index) == choice["text"]
    assert lm.post("/v1/completions", json={"model": "tiny", "max_tokens": 0}).get_json()["choices"][0]["text"] == ""


def test_chat_every_shape(lm):
    body = {"model": "tiny", "messages": [{"role": "system", "content": "b"}, {"role": "user", "content": [{"type": "text", "text": "a"}]}],
            "max_completion_tokens": 4, "seed": 2, "n": 2, "logprobs": True, "top_logprobs": 3}
    answer = lm.post("/v1/chat/completions", json=body).get_json()
    assert len(answer["choices"]) == 2 and answer["object"] == "chat.completion"
    chunks = events(lm.post("/v1/chat/completions", json={**body, "stream": True}), "ChatCompletionChunk")
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}


@pytest.mark.parametrize("path, body, status, code", [
    ("/v1/completions", {"model": "nope", "prompt": "a"}, 404, "model_not_found"),
    ("/v1/completions", {"model": "xor", "prompt": "a"}, 404, "model_not_found"),
    ("/v1/completions", {"model": "tiny", "logit_bias": {"5": 1}}, 400, "invalid_value"),  # id 5 is past the vocabulary
    ("/v1/completions", {"model": "tiny", "best_of": 2}, 400, "unsupported_parameter"),
    ("/v1/completions", {"model": "tiny", "echo": "yes"}, 400, "invalid_value"),
    ("/v1/completions", {"prompt": "a"}, 400, "missing_required_parameter"),
    ("/v1/completions", [1, 2], 400, "invalid_body"),
    ("/v1/chat/completions", {"model": "tiny", "messages": []}, 400, "invalid_value"),
    ("/v1/chat/completions", {"model": "tiny", "messages": [{"role": "tool", "content": "a"}]}, 400, "invalid_value"),
    ("/v1/chat/completions", {"model": "tiny", "messages": [{"role": "user", "content": "a"}], "max_tokens": 2,
                              "max_completion_tokens": 3}, 400, "invalid_value"),
    ("/v1/chat/completions", {"model": "tiny", "messages": [{"role": "user", "content": "a"}], "response_format": {"type": "json_object"}},
     400, "unsupported_parameter"),
])
def test_errors_are_openai_envelopes(lm, path, body, status, code):
    response = lm.post(path, json=body)
    assert response.status_code == status and response.mimetype == "application/json"
    assert response.get_json()["error"]["code"] == code, response.get_json()


def test_body_and_method_errors(lm):
    assert lm.post("/v1/completions", data=b"{", content_type="application/json").get_json()["error"]["code"] == "malformed_json"
    wrong_type = lm.post("/v1/completions", data=b"{}", content_type="text/plain")
    assert wrong_type.status_code == 415 and wrong_type.get_json()["error"]["code"] == "unsupported_media_type"
    assert lm.put("/v1/completions", json={}).status_code == 405
    assert lm.delete("/v1/models/tiny").status_code == 405
    too_big = lm.post("/v1/completions", json={"model": "tiny", "prompt": "a " * 600_000})
    assert too_big.status_code == 413 and too_big.get_json()["error"]["code"] == "payload_too_large"
    # the native routes beside them keep problem+json
    assert lm.post("/v1/networks/nope/predict", json={"context": "a"}).mimetype == "application/problem+json"
