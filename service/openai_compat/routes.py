"""GET /v1/models, GET /v1/models/{model}, POST /v1/completions, POST /v1/chat/completions.

The models are the stored language networks, by name. Completions and chat completions answer as
OpenAI's legacy completions and chat completions objects, or, with `stream`, as server-sent events
(`data: {chunk}` each, then `data: [DONE]`). Choice i of a prompt is sampled with seed + i, so a
seeded completion's first choice is native generate's text for the same prompt and seed.
"""
from __future__ import annotations

import secrets
import time
from typing import Any, Callable, Iterator

from flask import Blueprint, Response

from .. import catalog, metrics
from ..api import deadline
from ..api.auth import evaluation
from ..api.context import services
from ..api.evaluation import engine_problem
from ..api.jsonio import dumps
from ..api.requests import NAME_REGEX, json_body
from ..api.responses import json_response
from ..engine.errors import EngineError
from ..engine.language import LanguageModel
from ..store import RecordSummary
from .choices import Release, Token, choice
from .errors import envelope, model_not_found
from .params import Settings, chat_settings, completion_settings

bp = Blueprint("openai_compat", __name__, url_prefix="/v1")

OWNER = "neuronhub"
_PAGE = 500


def _model_object(name: str, created_at: Any) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": int(created_at.timestamp()), "owned_by": OWNER}


def _language_summaries() -> Iterator[RecordSummary]:
    store, after = services().store, None
    while True:
        page = store.list(catalog.NETWORK, _PAGE, after)
        yield from (s for s in page if "language" in s.spec)
        if len(page) < _PAGE:
            return
        after = page[-1].name


@bp.get("/models")
def list_models() -> Response:
    return json_response({"object": "list", "data": [_model_object(s.name, s.created_at) for s in _language_summaries()]})


@bp.get("/models/<model>")
def get_model(model: str) -> Response:
    record = services().store.get(catalog.NETWORK, model) if NAME_REGEX.fullmatch(model) else None
    if record is None:
        raise model_not_found(model)
    if "language" not in record.spec:
        raise model_not_found(model, "is a network without a vocabulary, not a language model")
    return json_response(_model_object(record.name, record.created_at))


def _language_model(name: str) -> tuple[int, LanguageModel]:
    compiled = services().cache.get(catalog.NETWORK, name, catalog.compile_network) if NAME_REGEX.fullmatch(name) else None
    if compiled is None:
        raise model_not_found(name)
    if compiled.model.language is None:
        raise model_not_found(name, "is a network without a vocabulary, not a language model")
    return compiled.revision, compiled.model.language


def _choices(model: LanguageModel, settings: Settings, chat: bool) -> list[Iterator[Release]]:
    """Every choice, prompt by prompt, n each; sampling settings checked before anything is sent."""
    try:
        return [choice(model, prompt, settings, None if settings.seed is None else (settings.seed + i) % 2**64, chat)
                for prompt in settings.prompts for i in range(settings.n)]
    except EngineError as exc:
        raise engine_problem(exc) from None


def _usage(model: LanguageModel, settings: Settings, generated: int) -> dict[str, int]:
    prompt_tokens = sum(len(model.tokenizer.tokenize(p)) for p in settings.prompts)
    return {"prompt_tokens": prompt_tokens, "completion_tokens": generated, "total_tokens": prompt_tokens + generated}


# --- the two shapes of log-probabilities -------------------------------------------------------

def legacy_logprobs(tokens: list[Token]) -> dict[str, Any]:
    return {
        "tokens": [t.token for t in tokens],
        "token_logprobs": [t.logprob for t in tokens],
        "top_logprobs": [None if t.alternatives is None else dict(t.alternatives) for t in tokens],
        "text_offset": [t.offset for t in tokens],
    }


def _bytes(text: str) -> list[int]:
    return list(text.encode("utf-8"))


def chat_logprobs(tokens: list[Token]) -> dict[str, Any]:
    return {"content": [{"token": t.token, "logprob": t.logprob, "bytes": _bytes(t.token),
                         "top_logprobs": [{"token": k, "logprob": v, "bytes": _bytes(k)} for k, v in t.alternatives or ()]}
                        for t in tokens], "refusal": None}


# --- answers -------------------------------------------------------------------------------------

class _Answer:
    """What every chunk and answer of one request shares."""

    def __init__(self, kind: str, name: str, revision: int) -> None:
        self.id = f"{kind}-{secrets.token_hex(12)}"
        self.created = int(time.time())
        self.name = name
        self.fingerprint = f"neuronhub-r{revision}"  # changes when the network does

    def head(self, obj: str) -> dict[str, Any]:
        return {"id": self.id, "object": obj, "created": self.created, "model": self.name, "system_fingerprint": self.fingerprint}


@bp.post("/completions")
@evaluation
def completions() -> Response:
    def build(index: int, text: str, tokens: list[Token], settings: Settings) -> dict[str, Any]:
        return {"index": index, "text": text, "logprobs": None if settings.logprobs is None else legacy_logprobs(tokens)}

    return _complete(completion_settings(json_body()), False, "cmpl", "text_completion", build, _completion_chunks)


@bp.post("/chat/completions")
@evaluation
def chat_completions() -> Response:
    def build(index: int, text: str, tokens: list[Token], settings: Settings) -> dict[str, Any]:
        return {"index": index, "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None if settings.logprobs is None else chat_logprobs(tokens)}

    return _complete(chat_settings(json_body()), True, "chatcmpl", "chat.completion", build, _chat_chunks)


def _complete(settings: Settings, chat: bool, kind: str, obj: str, build: Callable[[int, str, list[Token], Settings], dict[str, Any]],
              chunks: Chunks) -> Response:
    revision, model = _language_model(settings.model)
    choices = _choices(model, settings, chat)
    answer = _Answer(kind, settings.model, revision)
    metrics.count_language_request("openai_" + obj.replace(".", "_"), settings.model)
    if settings.stream:
        return _stream(answer, model, settings, choices, chunks, obj + ".chunk" if chat else obj)
    built, generated = [], 0
    for index, releases in enumerate(_run(choices)):
        generated += releases[-1].generated
        tokens = [t for r in releases for t in r.tokens]
        built.append({**build(index, "".join(r.text for r in releases), tokens, settings), "finish_reason": releases[-1].finish_reason})
    return json_response({**answer.head(obj), "choices": built, "usage": _usage(model, settings, generated)})


def _run(choices: list[Iterator[Release]]) -> list[list[Release]]:
    try:
        return [list(releases) for releases in choices]
    except EngineError as exc:
        raise engine_problem(exc) from None


# --- streaming -----------------------------------------------------------------------------------

def _event(body: dict[str, Any]) -> bytes:
    return b"data: " + dumps(body) + b"\n\n"


Chunks = Callable[[_Answer, int, Release, bool, Settings], Iterator[dict[str, Any]]]


def _completion_chunks(answer: _Answer, index: int, release: Release, first: bool, settings: Settings) -> Iterator[dict[str, Any]]:
    if release.text or release.tokens or release.finish_reason:
        yield {**answer.head("text_completion"), "choices": [{
            "index": index, "text": release.text, "finish_reason": release.finish_reason,
            "logprobs": None if settings.logprobs is None else legacy_logprobs(release.tokens)}]}


def _chat_chunks(answer: _Answer, index: int, release: Release, first: bool, settings: Settings) -> Iterator[dict[str, Any]]:
    def chunk(delta: dict[str, Any], logprobs: Any, finish_reason: str | None) -> dict[str, Any]:
        return {**answer.head("chat.completion.chunk"),
                "choices": [{"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}]}

    if first:
        yield chunk({"role": "assistant", "content": ""}, None, None)
    if release.text or release.tokens:
        yield chunk({"content": release.text}, None if settings.logprobs is None else chat_logprobs(release.tokens), None)
    if release.finish_reason:
        yield chunk({}, None, release.finish_reason)


def _stream(answer: _Answer, model: LanguageModel, settings: Settings, choices: list[Iterator[Release]], chunks: Chunks,
            obj: str) -> Response:
    left = deadline.remaining()
    until = None if left is None else time.monotonic() + left
    services_timeout = services().config.request_timeout

    def events() -> Iterator[bytes]:
        # The status is sent: an error goes into the stream as its last event. The deadline is checked
        # between words rather than by the alarm, which could fire inside the server's socket writes.
        generated = 0
        try:
            for index, releases in enumerate(choices):
                first = True
                for release in releases:
                    if until is not None and time.monotonic() > until:
                        yield _event(envelope(deadline.exceeded(services_timeout)))
                        return
                    for body in chunks(answer, index, release, first, settings):
                        if settings.include_usage:
                            body["usage"] = None
                        yield _event(body)
                    first = False
                    generated += release.generated
            if settings.include_usage:
                yield _event({**answer.head(obj), "choices": [], "usage": _usage(model, settings, generated)})
            yield b"data: [DONE]\n\n"
        except EngineError as exc:
            yield _event(envelope(engine_problem(exc)))

    return Response(events(), mimetype="text/event-stream", headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
