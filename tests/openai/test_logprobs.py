"""Log-probabilities through the openai client: the top ones are predict's, echo's are score's."""
from __future__ import annotations

import math

import numpy as np

from .conftest import MODEL

PROMPT = "the output layer scores every word"


def _words(entries: dict) -> dict[str, float]:
    """top_logprobs keys carry the leading space a word gets in the text: compare them by word."""
    return {key.strip(): value for key, value in entries.items()}


def test_each_generated_words_top_logprobs_are_predicts(live):
    choice = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=6, seed=13, logprobs=5).choices[0]
    logprobs = choice.logprobs
    context = PROMPT
    vocabulary_size = live.http.get(f"{live.url}/v1/networks/{MODEL}").json()["vocabulary_size"]
    for token, logprob, top in zip(logprobs.tokens, logprobs.token_logprobs, logprobs.top_logprobs):
        predicted = live.native("predict", {"context": context, "top_k": 5})["words"]
        expected = {w["word"]: w["log_probability"] for w in predicted}
        chosen = token.strip()
        assert _words(top) == {**expected, chosen: logprob}  # the 5 most probable, and always the chosen word (OpenAI's rule)
        assert list(_words(top))[:5] == [w["word"] for w in predicted]  # in predict's order
        everything = live.native("predict", {"context": context, "top_k": vocabulary_size})["words"]
        assert logprob == next(w["log_probability"] for w in everything if w["word"] == chosen)
        context += " " + chosen


def test_text_offsets_point_into_the_text(live):
    choice = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=8, seed=2, logprobs=1).choices[0]
    logprobs = choice.logprobs
    assert logprobs.text_offset[0] == 0
    for token, offset in zip(logprobs.tokens, logprobs.text_offset):
        if token != "</s>":
            assert choice.text[offset : offset + len(token)] == token
    assert "".join(t for t in logprobs.tokens if t != "</s>") == choice.text


def test_echo_with_no_new_words_scores_the_prompt_as_score_does(live):
    prompt = "The output layer, it scores every word"
    choice = live.client().completions.create(model=MODEL, prompt=prompt, max_tokens=0, echo=True, logprobs=3).choices[0]
    scored = live.native("score", {"text": prompt})
    logprobs = choice.logprobs
    assert choice.text == prompt and choice.finish_reason == "length"
    assert [t.strip().lower() for t in logprobs.tokens] == scored["tokens"][:-1]  # score adds </s> after the text
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None  # the first word has no context, as in OpenAI
    assert logprobs.token_logprobs[1:] == scored["log_probabilities"][1:-1]
    assert "".join(logprobs.tokens) == prompt and logprobs.text_offset == [0, 3, 10, 16, 17, 20, 27, 33]
    for position in range(1, len(logprobs.tokens)):
        context = prompt[: logprobs.text_offset[position]]
        predicted = live.native("predict", {"context": context, "top_k": 3})["words"]
        got = _words(logprobs.top_logprobs[position])
        assert list(got)[:3] == [w["word"] for w in predicted]
        for word in predicted:
            assert math.isclose(got[word["word"]], word["log_probability"], rel_tol=1e-12)


def test_echo_then_new_words(live):
    choice = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=3, temperature=0, echo=True, logprobs=0).choices[0]
    greedy = live.native("generate", {"prompt": PROMPT, "max_words": 3, "temperature": 0})
    assert choice.text == PROMPT + " " + greedy["continuation"]
    assert len(choice.logprobs.tokens) == 6 + 3 and choice.logprobs.text_offset[6] == len(PROMPT)
    assert [len(top) for top in choice.logprobs.top_logprobs[1:]] == [1] * 8  # logprobs=0: the chosen word alone


def test_an_impossible_word_has_a_finite_log_probability(live):
    # after any word, "never" scores 1e308 below the others: its probability is 0, its log-probability finite
    vocabulary = ["<pad>", "<unk>", "</s>", "always", "never"]
    live.store("impossible", {"vocabulary": vocabulary, "embeddings": [[1.0]] * 5, "context_size": 1,
                              "layers": [{"weights": [[0.0]] * 5, "biases": [0, 0, 0, 0, -1e308], "activation": "identity"}]})
    client = live.client()
    choice = client.completions.create(model="impossible", prompt="always never", max_tokens=1, echo=True, logprobs=5).choices[0]
    never = choice.logprobs.token_logprobs[1]
    assert math.isfinite(never) and never < -1e307
    assert all(math.isfinite(v) for top in choice.logprobs.top_logprobs[1:] for v in top.values())
    chat = client.chat.completions.create(model="impossible", messages=[{"role": "user", "content": "always"}], max_tokens=2,
                                          logprobs=True, top_logprobs=5)
    values = [t.logprob for t in chat.choices[0].logprobs.content] + [a.logprob for t in chat.choices[0].logprobs.content for a in t.top_logprobs]
    assert np.isfinite(values).all() and min(values) < -1e307


def test_a_float32_networks_top_logprobs_are_predicts_bit_for_bit(live):
    rng = np.random.default_rng(3)
    vocabulary = ["<pad>", "<unk>", "</s>"] + [f"w{i}" for i in range(29)]
    live.store("words32", {"vocabulary": vocabulary, "embeddings": rng.normal(size=(32, 3)).tolist(), "context_size": 2, "dtype": "float32",
                           "layers": [{"weights": rng.normal(size=(8, 6)).tolist(), "biases": rng.normal(size=8).tolist(), "activation": "tanh"},
                                      {"weights": (3 * rng.normal(size=(32, 8))).tolist(), "biases": rng.normal(size=32).tolist(),
                                       "activation": "identity"}]})

    def predict(context: str, top_k: int) -> list[dict]:
        response = live.http.post(f"{live.url}/v1/networks/words32/predict", json={"context": context, "top_k": top_k}, timeout=60)
        assert response.status_code == 200, response.text
        return response.json()["words"]

    prompt = "w4 w9"
    choice = live.client().completions.create(model="words32", prompt=prompt, max_tokens=12, seed=5, logprobs=5).choices[0]
    generated = live.http.post(f"{live.url}/v1/networks/words32/generate", json={"prompt": prompt, "max_words": 12, "seed": 5, "top_p": 1},
                               timeout=60).json()
    assert choice.text == " " + generated["continuation"]  # the seeded completion is native generate's text
    context = prompt
    for token, logprob, top, word in zip(choice.logprobs.tokens, choice.logprobs.token_logprobs, choice.logprobs.top_logprobs,
                                         generated["words"]):
        predicted = predict(context, 5)
        assert list(_words(top).items())[:5] == [(w["word"], w["log_probability"]) for w in predicted]  # exactly, in order
        everything = {w["word"]: w for w in predict(context, len(vocabulary))}
        assert logprob == everything[token.strip()]["log_probability"]
        assert word["word"] == token.strip() and word["probability"] == everything[word["word"]]["probability"]  # native generate too
        context += " " + token.strip()
