"""Language networks over HTTP, checked against an independent pure-Python computation."""
import math

import pytest

from .helpers import XOR, assert_problem, post_json, put_json

VOCABULARY = ["<pad>", "<unk>", "</s>", "a", "b"]
# d = 1, k = 1: the context word's embedding x is one number; logits z = W x (no bias).
EMBEDDINGS = [[0.0], [0.0], [0.0], [1.0], [2.0]]
WEIGHTS = [[0.0], [0.0], [1.0], [2.0], [-1.0]]
TINY = {
    "description": "five words, one number per word",
    "vocabulary": VOCABULARY,
    "embeddings": EMBEDDINGS,
    "context_size": 1,
    "layers": [{"weights": WEIGHTS, "biases": [0.0] * 5, "activation": "identity"}],
}


def logits_after(word: str) -> list[float]:
    x = EMBEDDINGS[VOCABULARY.index(word)][0]
    return [w[0] * x for w in WEIGHTS]


def log_softmax(z: list[float], temperature: float = 1.0) -> list[float]:
    scaled = [v / temperature for v in z]
    m = max(scaled)
    log_total = m + math.log(sum(math.exp(v - m) for v in scaled))
    return [v - log_total for v in scaled]


@pytest.fixture
def tiny(client):
    response = put_json(client, "/v1/networks/tiny", TINY)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_language_network_resource(client, tiny):
    assert tiny["vocabulary"] == VOCABULARY and tiny["embeddings"] == EMBEDDINGS
    assert (tiny["context_size"], tiny["punctuation"], tiny["vocabulary_size"]) == (1, "keep", 5)
    assert tiny["parameter_count"] == 5 + 5 + 5  # embeddings + weights + biases
    again = put_json(client, "/v1/networks/tiny", client.get("/v1/networks/tiny").get_json())
    assert again.status_code == 200 and again.get_json()["vocabulary"] == VOCABULARY


@pytest.mark.parametrize("temperature", [1.0, 0.5, 3.0])
def test_predict_matches_independent_softmax(client, tiny, temperature):
    body = post_json(client, "/v1/networks/tiny/predict", {"context": "A", "top_k": 5, "temperature": temperature}).get_json()
    expected = log_softmax(logits_after("a"), temperature)
    words = body["words"]
    assert [w["word"] for w in words] == ["a", "</s>", "<pad>", "<unk>", "b"]  # z = 2, 1, 0, 0, -1; ties by id
    for w in words:
        assert w["log_probability"] == pytest.approx(expected[w["id"]], abs=1e-12)
        assert w["probability"] == pytest.approx(math.exp(expected[w["id"]]), abs=1e-12)
    assert abs(sum(w["probability"] for w in words) - 1.0) < 1e-9
    assert body["context"] == {"tokens": ["a"], "ids": [3], "unknown": [False], "padding": 0, "text_tokens": 1}
    assert (body["name"], body["revision"], body["temperature"]) == ("tiny", 1, temperature)


def test_predict_reads_unknown_words_and_padding(client, tiny):
    body = post_json(client, "/v1/networks/tiny/predict", {"context": "zebra", "top_k": 2}).get_json()
    assert body["context"]["tokens"] == ["zebra"] and body["context"]["unknown"] == [True]
    assert [w["probability"] for w in body["words"]] == pytest.approx([0.2, 0.2], abs=1e-15)  # <unk> embeds to 0
    empty = post_json(client, "/v1/networks/tiny/predict", {"context": ""}).get_json()
    assert empty["context"] == {"tokens": ["<pad>"], "ids": [0], "unknown": [False], "padding": 1, "text_tokens": 0}
    assert len(empty["words"]) == 5  # top_k defaults to 5


def test_tiny_temperature_stays_finite(client, tiny):
    body = post_json(client, "/v1/networks/tiny/predict", {"context": "b", "top_k": 5, "temperature": 1e-6}).get_json()
    assert body["words"][0] == {"word": "a", "id": 3, "probability": 1.0, "log_probability": 0.0}
    assert all(math.isfinite(w["log_probability"]) for w in body["words"])


def test_float32_network_with_a_tiny_temperature_stays_finite(client):
    """Regression: a temperature below float32's smallest number answered null probabilities (NaN)."""
    assert put_json(client, "/v1/networks/tiny32", {**TINY, "dtype": "float32"}).status_code == 201
    body = post_json(client, "/v1/networks/tiny32/predict", {"context": "b", "temperature": 1e-50}).get_json()
    assert body["words"][0] == {"word": "a", "id": 3, "probability": 1.0, "log_probability": 0.0}
    assert all(w["probability"] == 0.0 and math.isfinite(w["log_probability"]) for w in body["words"][1:])


def test_score_by_hand(client, tiny):
    body = post_json(client, "/v1/networks/tiny/score", {"text": "a b"}).get_json()
    expected = [math.log(1 / 5), log_softmax(logits_after("a"))[4], log_softmax(logits_after("b"))[2]]
    assert body["tokens"] == ["a", "b", "</s>"]
    assert body["log_probabilities"] == pytest.approx(expected, abs=1e-12)
    assert body["mean_nll"] == pytest.approx(-sum(expected) / 3, abs=1e-12)
    assert body["perplexity"] == pytest.approx(math.exp(-sum(expected) / 3), rel=1e-12)
    assert body["unknown_rate"] == 0.0
    assert post_json(client, "/v1/networks/tiny/score", {"text": "a zebra"}).get_json()["unknown_rate"] == 0.5


def test_generate_is_greedy_at_zero_and_repeatable_with_a_seed(client, tiny):
    greedy = post_json(client, "/v1/networks/tiny/generate", {"prompt": "a", "max_words": 3, "temperature": 0}).get_json()
    assert greedy["continuation"] == "a a a" and greedy["text"] == "a a a a" and greedy["stop_reason"] == "max_words"
    first_p = math.exp(log_softmax(logits_after("a"))[3])
    assert greedy["words"][0]["probability"] == pytest.approx(first_p, abs=1e-12)
    request = {"prompt": "", "max_words": 30, "temperature": 1.5, "seed": 1234}
    one = post_json(client, "/v1/networks/tiny/generate", request).get_json()
    two = post_json(client, "/v1/networks/tiny/generate", request).get_json()
    assert one == two and one["seed"] == 1234
    assert all(w["word"] != "<pad>" for w in one["words"])
    if one["stop_reason"] == "end_of_text":
        assert one["words"][-1]["word"] == "</s>"
    unseeded = post_json(client, "/v1/networks/tiny/generate", {"max_words": 5}).get_json()
    replay = post_json(client, "/v1/networks/tiny/generate", {"max_words": 5, "seed": unseeded["seed"]}).get_json()
    assert replay["text"] == unseeded["text"]


def test_tokenize_both_ways(client, tiny):
    body = post_json(client, "/v1/networks/tiny/tokenize", {"text": "A b, zebra"}).get_json()
    assert body["tokens"] == ["a", "b", ",", "zebra"]
    assert body["ids"] == [3, 4, 1, 1] and body["unknown"] == [False, False, True, True]
    assert post_json(client, "/v1/networks/tiny/tokenize", {"ids": [0, 3, 4, 2, 3]}).get_json()["text"] == "a b"
    assert_problem(post_json(client, "/v1/networks/tiny/tokenize", {"ids": [9]}), 422, "ids", "outside the vocabulary")
    assert_problem(post_json(client, "/v1/networks/tiny/tokenize", {"text": "a", "ids": [1]}), 422, "text", "exactly one of")


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"vocabulary": VOCABULARY[:4] + ["c", "d"]}, "embeddings", "embedding table has 5 rows, vocabulary has 6 words"),
        ({"layers": [{"weights": WEIGHTS[:4], "activation": "identity"}]}, "layers[0].weights", "last layer has 4 neurons, vocabulary has 5 words"),
        ({"context_size": 2}, "layers[0].weights", "first layer has 1 columns, expected context_size × embedding size = 2 × 1 = 2"),
        ({"vocabulary": ["<pad>", "<unk>", "a", "b", "c"]}, "vocabulary", "missing special token </s>"),
        ({"vocabulary": ["<pad>", "<unk>", "</s>", "a", "a"]}, "vocabulary[4]", "duplicate word 'a'"),
        ({"context_size": None}, "context_size", "required for a language network"),
        ({"context_size": 1.0}, "context_size", "expected a whole number, got number 1.0"),
        ({"punctuation": "maybe"}, "punctuation", "expected keep or drop"),
        ({"layers": [{"weights": WEIGHTS, "activation": "tanh"}]}, "layers[0].activation", "use identity or softmax"),
    ],
)
def test_language_validation(client, change, field, message):
    body = {key: value for key, value in {**TINY, **change}.items() if value is not None}
    assert_problem(put_json(client, "/v1/networks/bad", body), 422, field, message)
    assert_problem(client.get("/v1/networks/bad"), 404)


@pytest.mark.parametrize(
    "body, field, message",
    [
        ({"context": "a", "top_k": 0}, "top_k", "expected 1..5, got 0"),
        ({"context": "a", "top_k": 6}, "top_k", "expected 1..5, got 6"),
        ({"context": "a", "temperature": 0}, "temperature", "> 0"),
        ({"context": "a", "temperature": "1"}, "temperature", "expected a number, got string '1'"),
        ({"context": 7}, "context", "expected a string"),
        ({"top_k": 2}, "context", "required"),
    ],
)
def test_predict_bad_requests(client, tiny, body, field, message):
    assert_problem(post_json(client, "/v1/networks/tiny/predict", body), 422, field, message)


def test_language_routes_need_a_language_network(client):
    put_json(client, "/v1/networks/xor", XOR)
    for route, body in [("predict", {"context": "a"}), ("generate", {}), ("score", {"text": "a"}), ("tokenize", {"text": "a"})]:
        assert_problem(post_json(client, f"/v1/networks/xor/{route}", body), 409, contains="has no vocabulary")
        assert_problem(post_json(client, f"/v1/networks/nope/{route}", body), 404)


def test_forward_on_a_language_network_takes_embeddings(client, tiny):
    body = post_json(client, "/v1/networks/tiny/forward", {"inputs": [2.0]}).get_json()
    assert body["outputs"] == logits_after("b")
