"""stream=true: server-sent events the openai client reads, adding up to the answer without stream."""
from __future__ import annotations

import requests

from .conftest import MODEL, READ

PROMPT = "a neuron multiplies each input by its"


def test_a_streamed_completion_adds_up_to_the_same_completion(live):
    client = live.client()
    whole = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=12, seed=17, logprobs=2, n=2)
    chunks = list(client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=12, seed=17, logprobs=2, n=2, stream=True))
    assert len({c.id for c in chunks}) == 1 and all(c.object == "text_completion" for c in chunks)
    for choice in whole.choices:
        mine = [c.choices[0] for c in chunks if c.choices[0].index == choice.index]
        assert len(mine) > 1  # sent word by word, not all at once
        assert "".join(c.text for c in mine) == choice.text
        assert [c.finish_reason for c in mine] == [None] * (len(mine) - 1) + [choice.finish_reason]
        tokens = [t for c in mine for t in c.logprobs.tokens]
        assert tokens == choice.logprobs.tokens
        assert [v for c in mine for v in c.logprobs.token_logprobs] == choice.logprobs.token_logprobs
        assert [o for c in mine for o in c.logprobs.text_offset] == choice.logprobs.text_offset


def test_a_stop_string_is_never_streamed_before_it_is_known(live):
    client = live.client()
    whole = client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=30, temperature=0, stop=" a ne").choices[0]
    streamed = [c.choices[0] for c in client.completions.create(model=MODEL, prompt=PROMPT, max_tokens=30, temperature=0, stop=" a ne", stream=True)]
    assert "".join(c.text for c in streamed) == whole.text and streamed[-1].finish_reason == whole.finish_reason


def test_echo_streams_the_prompt_first(live):
    chunks = list(live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=3, temperature=0, echo=True, stream=True))
    assert chunks[0].choices[0].text == PROMPT
    assert "".join(c.choices[0].text for c in chunks) == PROMPT + " " + live.native(
        "generate", {"prompt": PROMPT, "max_words": 3, "temperature": 0})["continuation"]


def test_usage_comes_last_when_asked_for(live):
    chunks = list(live.client().completions.create(model=MODEL, prompt=PROMPT, max_tokens=5, seed=1, stream=True,
                                                   stream_options={"include_usage": True}))
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage.prompt_tokens == 7 and chunks[-1].usage.completion_tokens <= 5


def test_the_wire_format_is_data_lines_then_done(live):
    response = requests.post(f"{live.url}/v1/completions", json={"model": MODEL, "prompt": PROMPT, "max_tokens": 3, "stream": True},
                             headers={"Authorization": f"Bearer {READ}"}, stream=True, timeout=60)
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/event-stream")
    events = response.text.split("\n\n")
    assert events[-1] == "" and events[-2] == "data: [DONE]"
    assert all(e.startswith("data: {") for e in events[:-2])


def test_a_streamed_chat_adds_up_to_the_same_answer(live):
    client = live.client()
    messages = [{"role": "system", "content": "Explain."}, {"role": "user", "content": "What does a neuron compute?"}]
    whole = client.chat.completions.create(model=MODEL, messages=messages, max_tokens=10, seed=3, logprobs=True, top_logprobs=2)
    chunks = list(client.chat.completions.create(model=MODEL, messages=messages, max_tokens=10, seed=3, logprobs=True, top_logprobs=2,
                                                 stream=True, stream_options={"include_usage": True}))
    assert chunks[0].choices[0].delta.role == "assistant" and all(c.object == "chat.completion.chunk" for c in chunks)
    content = [c.choices[0] for c in chunks if c.choices]
    assert "".join(c.delta.content or "" for c in content) == whole.choices[0].message.content
    assert content[-1].finish_reason == whole.choices[0].finish_reason
    streamed = [t for c in content if c.logprobs for t in c.logprobs.content]
    assert [(t.token, t.logprob) for t in streamed] == [(t.token, t.logprob) for t in whole.choices[0].logprobs.content]
    counts = ("prompt_tokens", "completion_tokens", "total_tokens")
    assert [getattr(chunks[-1].usage, k) for k in counts] == [getattr(whole.usage, k) for k in counts]
