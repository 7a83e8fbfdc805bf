"""POST /v1/completions and the model list, through the openai client: the same numbers as the native API."""
from __future__ import annotations

import pytest

from .conftest import MODEL

PROMPT = "a neuron multiplies each input by its"


def test_models_are_the_language_networks(live):
    client = live.client()
    listed = client.models.list()
    names = [m.id for m in listed.data]
    assert MODEL in names
    assert "xor-network" not in names  # a demo network without a vocabulary is no language model
    native = live.http.get(f"{live.url}/v1/networks", params={"limit": 500}).json()["items"]
    assert sorted(names) == sorted(n["name"] for n in native if "vocabulary_size" in n)
    model = client.models.retrieve(MODEL)
    assert (model.id, model.object, model.owned_by) == (MODEL, "model", "neuronhub") and model.created > 1_700_000_000


@pytest.mark.parametrize("temperature, top_p", [(1.0, None), (0.7, 0.9), (0, None)])
def test_a_seeded_completion_is_native_generate_with_that_seed(live, temperature, top_p):
    kwargs = {} if top_p is None else {"top_p": top_p}
    completion = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=12, temperature=temperature, seed=41, **kwargs)
    native = live.native("generate", {"prompt": PROMPT, "max_words": 12, "temperature": temperature, "seed": 41, "top_p": top_p})
    choice = completion.choices[0]
    assert choice.text == " " + native["continuation"]  # the words continue the prompt after a space
    assert choice.finish_reason == ("stop" if native["stop_reason"] == "end_of_text" else "length")
    assert completion.usage.prompt_tokens == 7 and completion.usage.completion_tokens == len(native["words"])
    assert completion.usage.total_tokens == 7 + len(native["words"])
    assert completion.object == "text_completion" and completion.model == MODEL and completion.id.startswith("cmpl-")


def test_same_seed_same_text_and_n_choices_use_seed_plus_i(live):
    client = live.client()
    first = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=10, seed=5, n=3)
    again = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=10, seed=5, n=3)
    assert [c.text for c in first.choices] == [c.text for c in again.choices]
    assert [c.index for c in first.choices] == [0, 1, 2]
    for i, c in enumerate(first.choices):
        assert c.text == " " + live.native("generate", {"prompt": PROMPT, "max_words": 10, "seed": 5 + i})["continuation"]


def test_a_list_of_prompts_gives_n_choices_each_in_order(live):
    prompts = ["the output layer", "a neuron"]
    completion = live.client().completions.create(model=MODEL, prompt=prompts, max_tokens=4, temperature=0, n=2)
    assert [c.index for c in completion.choices] == [0, 1, 2, 3]
    for prompt, choices in zip(prompts, (completion.choices[:2], completion.choices[2:])):
        greedy = " " + live.native("generate", {"prompt": prompt, "max_words": 4, "temperature": 0})["continuation"]
        assert [c.text for c in choices] == [greedy, greedy]
    assert completion.usage.prompt_tokens == 3 + 2  # each prompt counted once, whatever n is


def test_the_default_is_16_words(live):
    completion = live.client().completions.create(model=MODEL, prompt=PROMPT, seed=9, logprobs=0)
    native = live.native("generate", {"prompt": PROMPT, "max_words": 16, "seed": 9})
    assert len(completion.choices[0].logprobs.tokens) == len(native["words"]) <= 16


def test_stop_strings_end_the_text_where_they_begin(live):
    client = live.client()
    full = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=30, temperature=0).choices[0].text
    assert " a" in full[3:], full  # the greedy text of the demo model goes on with a later " a"
    stop_at = full.index(" a", 3)
    stopped = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=30, temperature=0, stop=[" a", "zzz"], logprobs=1)
    choice = stopped.choices[0]
    assert choice.text == full[:stop_at] and choice.finish_reason == "stop"
    assert "".join(choice.logprobs.tokens) == choice.text  # the tokens cover the text exactly, the last one cut if need be
    single = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=30, temperature=0, stop=" a").choices[0]
    assert single.text == choice.text


def test_end_of_text_finishes_with_stop(live):
    client = live.client()
    for seed in range(40):  # some seeded text of at most 30 words ends by itself
        native = live.native("generate", {"prompt": "the", "max_words": 30, "seed": seed})
        if native["stop_reason"] == "end_of_text":
            break
    else:
        pytest.fail("no seed in 0..39 ended the text")
    choice = client.completions.create(model=MODEL, prompt="the", max_tokens=30, seed=seed, logprobs=0).choices[0]
    assert choice.finish_reason == "stop" and choice.text == " " + native["continuation"]
    assert choice.logprobs.tokens[-1] == "</s>"  # the end of text is a token that adds no text


def test_max_tokens_zero_gives_no_text(live):
    choice = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=0).choices[0]
    assert (choice.text, choice.finish_reason) == ("", "length")


def test_logit_bias_steers_the_choice(live):
    ids = live.native("tokenize", {"text": "bias"})["ids"]
    completion = live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=1, temperature=0, logit_bias={str(ids[0]): 100})
    assert completion.choices[0].text == " bias"
