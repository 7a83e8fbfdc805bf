"""POST /v1/chat/completions: the messages' contents, one per line, are the prompt."""
from __future__ import annotations

import math

from .conftest import MODEL

MESSAGES = [{"role": "system", "content": "You describe networks."},
            {"role": "user", "content": [{"type": "text", "text": "A neuron multiplies "}, {"type": "text", "text": "each input by its"}]}]
PROMPT = "You describe networks.\nA neuron multiplies each input by its"  # the documented template


def test_a_seeded_chat_answer_is_native_generate_of_the_template(live):
    chat = live.client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=8, seed=23, temperature=0.8)
    native = live.native("generate", {"prompt": PROMPT, "max_words": 8, "seed": 23, "temperature": 0.8})
    choice = chat.choices[0]
    assert choice.message.role == "assistant" and choice.message.content == native["continuation"]  # an answer starts afresh
    assert choice.finish_reason == ("stop" if native["stop_reason"] == "end_of_text" else "length")
    assert chat.object == "chat.completion" and chat.id.startswith("chatcmpl-")
    assert chat.usage.prompt_tokens == 4 + 7 and chat.usage.completion_tokens == len(native["words"])


def test_chat_logprobs_are_predicts_in_the_chat_shape(live):
    chat = live.client().chat.completions.create(model=MODEL, messages=MESSAGES, max_completion_tokens=5, seed=4, logprobs=True,
                                                 top_logprobs=3)
    context = PROMPT
    for entry in chat.choices[0].logprobs.content:
        predicted = live.native("predict", {"context": context, "top_k": 3})["words"]
        assert [(a.token.strip(), a.logprob) for a in entry.top_logprobs] == [(w["word"], w["log_probability"]) for w in predicted]
        assert entry.bytes == list(entry.token.encode()) and math.isfinite(entry.logprob)
        if entry.token == "</s>":
            break
        context += " " + entry.token.strip()
    assert "".join(e.token for e in chat.choices[0].logprobs.content if e.token != "</s>") == chat.choices[0].message.content


def test_logprobs_without_top_logprobs_give_the_chosen_words_only(live):
    chat = live.client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=3, temperature=0, logprobs=True)
    assert all(entry.top_logprobs == [] for entry in chat.choices[0].logprobs.content)
    plain = live.client().chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=3, temperature=0)
    assert plain.choices[0].logprobs is None and plain.choices[0].message.content == chat.choices[0].message.content


def test_n_chat_answers_and_stop(live):
    client = live.client()
    chat = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=6, seed=8, n=2)
    assert [c.index for c in chat.choices] == [0, 1]
    for i, c in enumerate(chat.choices):
        assert c.message.content == live.native("generate", {"prompt": PROMPT, "max_words": 6, "seed": 8 + i})["continuation"]
    greedy = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=6, temperature=0).choices[0].message.content
    word = greedy.split()[1]
    stopped = client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=6, temperature=0, stop=[word]).choices[0]
    assert stopped.message.content == greedy[: greedy.index(word)] and stopped.finish_reason == "stop"
