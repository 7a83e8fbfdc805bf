"""The bodies of POST /v1/completions and /v1/chat/completions, read strictly.

A parameter this server cannot honour is refused with 400 naming it, never ignored: an unknown
one, `suffix`, `best_of` other than `n`, a non-zero presence or frequency penalty, token-id prompts,
tools. `null` means the default, as in OpenAI's API. `user` is accepted and has no effect on the
answer (OpenAI uses it to monitor abuse).
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..api.fields import describe
from ..engine.language import MAX_GENERATE_WORDS
from .errors import bad_request

MAX_CHOICES = 128  # n times the number of prompts, as OpenAI's n is at most 128
MAX_STOPS = 4
MAX_LOGPROBS = 20
MAX_BIAS = 100.0
_DIGITS = re.compile(r"[0-9]{1,9}")
CHAT_ROLES = ("system", "developer", "user", "assistant")


@dataclass(frozen=True)
class Settings:
    """How to answer: one prompt per entry of `prompts`, `n` choices each."""

    model: str
    prompts: list[str]
    max_tokens: int
    temperature: float
    top_p: float | None  # None: no nucleus cut (top_p 1 is sent to the engine as None, as native generate's default)
    seed: int | None
    stop: tuple[str, ...]
    n: int
    echo: bool
    logprobs: int | None  # None: no log-probabilities; k: the chosen word's and the k most probable
    logit_bias: dict[int, float]
    stream: bool
    include_usage: bool


class _Body:
    """Reads parameters off a JSON object; refuse_unread() names whatever was sent and not read."""

    def __init__(self, data: Any) -> None:
        if not isinstance(data, dict):
            raise bad_request(None, f"expected a JSON object as the body, got {describe(data)}", "invalid_body")
        self.data = data
        self._read: list[str] = []

    def raw(self, name: str) -> Any:
        self._read.append(name)
        return self.data.get(name)

    def integer(self, name: str, default: int | None, low: int, high: int) -> int | None:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise bad_request(name, f"{name}: expected a whole number from {low} to {high}, got {describe(value)}")
        return value

    def number(self, name: str, default: float, low: float, high: float, low_open: bool = False) -> float:
        value = self.raw(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low < value if low_open else low <= value) or value > high:
            bound = f"{'more than' if low_open else 'from'} {low:g} {'and at most' if low_open else 'to'} {high:g}"
            raise bad_request(name, f"{name}: expected a number {bound}, got {describe(value)}")
        return float(value)

    def boolean(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise bad_request(name, f"{name}: expected true or false, got {describe(value)}")
        return value

    def string(self, name: str) -> str | None:
        value = self.raw(name)
        if value is not None and not isinstance(value, str):
            raise bad_request(name, f"{name}: expected a string, got {describe(value)}")
        return value

    def unsupported_unless(self, name: str, allowed: Any, why: str) -> None:
        value = self.raw(name)
        if value is not None and value != allowed:
            raise bad_request(name, f"{name}: {why}; got {describe(value)}", "unsupported_parameter")

    def refuse_unread(self) -> None:
        unread = [k for k in self.data if k not in self._read]
        if unread:
            raise bad_request(unread[0], f"Unrecognized request argument supplied: {unread[0]} (this server reads: "
                              f"{', '.join(sorted(set(self._read)))})", "unknown_parameter")


def completion_settings(data: Any) -> Settings:
    body = _Body(data)
    model = _model(body)
    prompts = _prompts(body.raw("prompt"))
    n = body.integer("n", 1, 1, MAX_CHOICES)
    assert n is not None
    best_of = body.integer("best_of", n, 1, MAX_CHOICES)
    if best_of != n:
        raise bad_request("best_of", f"best_of: only best_of equal to n ({n}) is supported (every sampled completion is "
                          f"returned, none is ranked away); got {best_of}", "unsupported_parameter")
    body.unsupported_unless("suffix", None, "text after the insertion point is not supported: these models only continue a text")
    settings = _sampling(body, model, prompts, n, max_tokens=body.integer("max_tokens", 16, 0, MAX_GENERATE_WORDS),
                         echo=body.boolean("echo", False), logprobs=body.integer("logprobs", None, 0, MAX_LOGPROBS))
    if len(prompts) * n > MAX_CHOICES:
        raise bad_request("n", f"n times the number of prompts may be at most {MAX_CHOICES}, got {n} x {len(prompts)}")
    return settings


def chat_settings(data: Any) -> Settings:
    body = _Body(data)
    model = _model(body)
    prompt = chat_prompt(body.raw("messages"))
    n = body.integer("n", 1, 1, MAX_CHOICES)
    assert n is not None
    max_tokens = body.integer("max_completion_tokens", None, 1, MAX_GENERATE_WORDS)
    legacy = body.integer("max_tokens", None, 1, MAX_GENERATE_WORDS)
    if max_tokens is not None and legacy is not None and max_tokens != legacy:
        raise bad_request("max_tokens", f"max_tokens ({legacy}) and max_completion_tokens ({max_tokens}) disagree; send one")
    wants_logprobs = body.boolean("logprobs", False)
    top = body.integer("top_logprobs", None, 0, MAX_LOGPROBS)
    if top is not None and not wants_logprobs:
        raise bad_request("top_logprobs", "top_logprobs needs logprobs: true")
    body.unsupported_unless("response_format", {"type": "text"}, "only {\"type\": \"text\"} is supported")
    return _sampling(body, model, [prompt], n, max_tokens=max_tokens or legacy or 16, echo=False,
                     logprobs=(top or 0) if wants_logprobs else None)


def _sampling(body: _Body, model: str, prompts: list[str], n: int, *, max_tokens: int | None, echo: bool, logprobs: int | None) -> Settings:
    assert max_tokens is not None
    temperature = body.number("temperature", 1.0, 0.0, 2.0)
    top_p = body.number("top_p", 1.0, 0.0, 1.0, low_open=True)
    seed = body.integer("seed", None, 0, 2**64 - 1)
    stop = _stop(body.raw("stop"))
    for penalty in ("presence_penalty", "frequency_penalty"):
        body.number(penalty, 0.0, -2.0, 2.0)
        body.unsupported_unless(penalty, 0, "penalties are not supported; send 0 or leave it out")
    body.string("user")
    bias = _logit_bias(body.raw("logit_bias"))
    stream = body.boolean("stream", False)
    include_usage = _stream_options(body.raw("stream_options"), stream)
    body.refuse_unread()
    return Settings(model, prompts, max_tokens, temperature, None if top_p == 1.0 else top_p, seed, stop, n, echo, logprobs,
                    bias, stream, include_usage)


def _model(body: _Body) -> str:
    model = body.string("model")
    if not model:
        raise bad_request("model", "model: required: the name of a language network (GET /v1/models lists them)", "missing_required_parameter")
    return model


def _prompts(value: Any) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(p, str) for p in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(p, (int, list)) and not isinstance(p, bool) for p in value):
        raise bad_request("prompt", "prompt: token ids are not supported (these models read words): send the text", "unsupported_parameter")
    raise bad_request("prompt", f"prompt: expected a string or a non-empty list of strings, got {describe(value)}")


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    stops = [value] if isinstance(value, str) else value
    if not isinstance(stops, list) or not 1 <= len(stops) <= MAX_STOPS or not all(isinstance(s, str) and s for s in stops):
        raise bad_request("stop", f"stop: expected a non-empty string or a list of 1 to {MAX_STOPS} of them, got {describe(value)}")
    return tuple(stops)


def _logit_bias(value: Any) -> dict[int, float]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise bad_request("logit_bias", f"logit_bias: expected an object from word id to bias, got {describe(value)}")
    bias = {}
    for key, number in value.items():
        if not _DIGITS.fullmatch(key):
            raise bad_request("logit_bias", f"logit_bias: keys are word ids (whole numbers, see /v1/networks/{{name}}/tokenize), got {key!r}")
        if isinstance(number, bool) or not isinstance(number, (int, float)) or not -MAX_BIAS <= number <= MAX_BIAS or not math.isfinite(number):
            raise bad_request("logit_bias", f"logit_bias[{key}]: expected a number from -100 to 100, got {describe(number)}")
        bias[int(key)] = float(number)
    return bias


def _stream_options(value: Any, stream: bool) -> bool:
    if value is None:
        return False
    if not stream:
        raise bad_request("stream_options", "stream_options is only allowed with stream: true")
    if not isinstance(value, dict) or set(value) - {"include_usage"} or not isinstance(value.get("include_usage", False), bool):
        raise bad_request("stream_options", f"stream_options: expected {{\"include_usage\": true|false}}, got {describe(value)}")
    return bool(value.get("include_usage", False))


def chat_prompt(messages: Any) -> str:
    """The documented template: each message's content, in order, one per line."""
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages", f"messages: expected a non-empty list of messages, got {describe(messages)}")
    lines = []
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise bad_request(where, f"{where}: expected an object with role and content, got {describe(message)}")
        extra = set(message) - {"role", "content", "name"}
        if extra:
            raise bad_request(f"{where}.{sorted(extra)[0]}", f"{where}: {sorted(extra)[0]} is not supported (no tools or function calls here)",
                              "unsupported_parameter")
        if message.get("role") not in CHAT_ROLES:
            raise bad_request(f"{where}.role", f"{where}.role: expected one of {', '.join(CHAT_ROLES)}, got {describe(message.get('role'))}")
        if message.get("name") is not None and not isinstance(message["name"], str):
            raise bad_request(f"{where}.name", f"{where}.name: expected a string, got {describe(message['name'])}")
        lines.append(_content(message.get("content"), where))
    return "\n".join(lines)


def _content(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
                                         and set(p) == {"type", "text"} for p in content):
        return "".join(p["text"] for p in content)
    raise bad_request(f"{where}.content", f"{where}.content: expected a string or a list of text parts "
                      f"({{\"type\": \"text\", \"text\": ...}}), got {describe(content)}")
