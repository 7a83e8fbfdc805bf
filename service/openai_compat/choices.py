"""One choice of a completion: the engine's words turned into text, tokens, offsets and stop handling.

Words become text the way native generate joins them (engine.tokenizer.TextJoiner): a word after
another gets a leading space, punctuation hugs its word. A completion continues the prompt, so its
first word gets a space after a prompt that ends in a word; a chat answer starts afresh. "</s>"
ends a choice (finish_reason "stop"): it is a token of the logprobs ("</s>") that adds no text.

Stop strings are looked for in the generated text only. Words are released as soon as no stop
string can begin in them, so a stream never sends text that a stop string later takes back; the
text ends where the first stop string begins, and the word it begins in is cut there.

Log-probabilities are the model's own, as predict gives them (temperature 1, nothing cut by
top_p or logit_bias): the same numbers for the same context. An impossible word's is finite.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..engine.language import LanguageModel, Sampling, WordProbability
from ..engine.tokenizer import SPECIAL_TOKENS, TextJoiner, token_spans
from .params import Settings


@dataclass(frozen=True)
class Token:
    text: str  # what it adds to the choice's text
    token: str  # how logprobs name it
    offset: int  # where its text begins in the choice's text
    logprob: float | None  # None for a prompt's first word, which has no context to be scored in
    alternatives: list[tuple[str, float]] | None  # the most probable words there, most probable first


@dataclass(frozen=True)
class Release:
    """Text that is final: a stream sends it as one chunk."""

    text: str
    tokens: list[Token] = field(default_factory=list)
    finish_reason: str | None = None  # set on a choice's last release
    generated: int = 0  # on the last release: words the model chose (usage), "</s>" included


def _key(joiner: TextJoiner, word: str) -> str:
    """How a word reads at this point of the text (with its leading space, if any)."""
    return word if word in SPECIAL_TOKENS else joiner.piece(word)


def _alternatives(joiner: TextJoiner, words: tuple[WordProbability, ...] | list[WordProbability]) -> list[tuple[str, float]]:
    return [(_key(joiner, w.word), w.log_probability) for w in words]


def echo_tokens(model: LanguageModel, prompt: str, logprobs: int | None) -> list[Token]:
    """The prompt's words as tokens of the text: each with the text since the word before it, and,
    with logprobs, its log-probability as score gives it (the first word's is None)."""
    spans = token_spans(prompt, model.punctuation)
    if not spans:
        return []
    words = model.tokenizer.tokenize(prompt)
    scored = model.score(prompt, alternatives=logprobs or 0) if logprobs is not None else None
    joiner, tokens, previous = TextJoiner(), [], 0
    for i, ((_, end), word) in enumerate(zip(spans, words)):
        logprob: float | None = None
        alternatives = None
        if scored is not None and i > 0:
            logprob = float(scored.log_probabilities[i])
            alternatives = _alternatives(joiner, scored.alternatives[i]) if logprobs else []
            alternatives = _with_chosen(alternatives, _key(joiner, word), logprob)
        tokens.append(Token(prompt[previous:end], prompt[previous:end], previous, logprob, alternatives))
        joiner.add(word)
        previous = end
    return tokens


def _with_chosen(alternatives: list[tuple[str, float]], key: str, logprob: float) -> list[tuple[str, float]]:
    """OpenAI's legacy top_logprobs always hold the chosen token too (so up to logprobs + 1 entries)."""
    return alternatives if any(k == key for k, _ in alternatives) else alternatives + [(key, logprob)]


def choice(model: LanguageModel, prompt: str, settings: Settings, seed: int | None, chat: bool) -> Iterator[Release]:
    """A choice's releases, last one with its finish_reason. The sampling settings are checked here, at
    once (EngineError), before the first release is asked for."""
    sampling = None
    if settings.max_tokens > 0:
        sampling = model.sample(prompt, settings.max_tokens, settings.temperature, None, settings.top_p, seed,
                                alternatives=min(settings.logprobs or 0, model.vocabulary_size), logit_bias=settings.logit_bias)
    return _releases(model, prompt, settings, sampling, chat)


def _releases(model: LanguageModel, prompt: str, settings: Settings, sampling: Sampling | None, chat: bool) -> Iterator[Release]:
    base = 0
    if settings.echo:
        yield Release(prompt, echo_tokens(model, prompt, settings.logprobs))
        base = len(prompt)
    if sampling is None:
        yield Release("", finish_reason="length")
        return
    joiner = TextJoiner()
    if not chat:
        for prompt_token in sampling.prompt_tokens:
            joiner.add(prompt_token)
    eos = model.vocabulary.eos_id
    stops = settings.stop
    generated, released, count = "", 0, 0
    pending: list[Token] = []
    for word in sampling.words:
        count += 1
        alternatives = None
        if settings.logprobs is not None:
            alternatives = _alternatives(joiner, word.alternatives)
            if not chat:
                alternatives = _with_chosen(alternatives, _key(joiner, word.word), word.log_probability)
        piece = "" if word.id == eos else joiner.add(word.word)
        pending.append(Token(piece, piece or word.word, base + len(generated), word.log_probability, alternatives))
        generated += piece
        cut = _first_stop(generated, stops)
        if cut is not None:
            yield _release(pending, base + cut, "stop", count)
            return
        if word.id == eos:
            yield _release(pending, None, "stop", count)
            return
        safe = base + len(generated) - _held_back(generated, stops)
        ready = 0
        while ready < len(pending) and pending[ready].offset + len(pending[ready].text) <= safe:
            ready += 1
        if ready:
            yield _release(pending[:ready], None, None, 0)
            del pending[:ready]
    yield _release(pending, None, "length", count)


def _release(tokens: list[Token], cut: int | None, finish_reason: str | None, generated: int) -> Release:
    """The tokens as one release; with `cut`, only the text before that offset (a stop string begins there)."""
    if cut is not None:
        kept = []
        for t in tokens:
            if t.offset >= cut:
                break
            text = t.text[: cut - t.offset]
            kept.append(Token(text, text, t.offset, t.logprob, t.alternatives) if text != t.text else t)
        tokens = kept
    return Release("".join(t.text for t in tokens), tokens, finish_reason, generated)


def _first_stop(text: str, stops: tuple[str, ...]) -> int | None:
    found = [i for i in (text.find(s) for s in stops) if i >= 0]
    return min(found) if found else None


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many characters at the end of text could be the beginning of a stop string."""
    longest = 0
    for stop in stops:
        for k in range(min(len(stop) - 1, len(text)), longest, -1):
            if text.endswith(stop[:k]):
                longest = k
                break
    return longest
