"""Understanding a neuron, timed against a plain prediction of the same model in the same run.

In process, through the WSGI app (Flask, every hook, the compiled cache; no network), on the demo
language model (`neuron-language-model`, seeded at start): a neuron card, an explain and a predict
with one intervention, each against a plain predict (target: within 2×), and the examples of one
neuron over a 100,000-word text (target: under 2 s on one core), whose plain-score counterpart over
the same text is timed alongside. The engine functions alone are timed too, to show what the HTTP
layer adds. `python -m benchmarks.insight [--quick]` prints the table; `python -m benchmarks --only
insight` adds it to the suite's results.
"""
from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

import orjson

from .large_inputs import _wsgi_caller
from .timing import interleaved, ratio

ROOT = Path(__file__).resolve().parents[1]
MODEL = "neuron-language-model"
CONTEXT = "a neuron multiplies each input by its"
LAYER, NEURON = 0, 62
EXAMPLE_WORDS = 100_000


def _get_caller(app, path: str) -> Callable[[], bytes]:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method="GET").get_environ()

    def call() -> bytes:
        status: list[str] = []
        answer = b"".join(app(dict(environ), lambda s, h, exc_info=None: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"{status[0]}: {answer[:300]!r}")
        return answer

    return call


def long_text(words: int) -> str:
    """The demo corpus repeated to at least `words` tokens."""
    corpus = (ROOT / "service" / "demo" / "corpus.txt").read_text()
    from service.engine.tokenizer import tokenize

    per_copy = len(tokenize(corpus))
    return "\n".join([corpus] * (words // per_copy + 1))


def run(rounds: int = 7, block_seconds: float = 0.2, log: Callable[[str], None] = print) -> dict:
    from service import catalog, create_app
    from service.config import Config
    from service.engine import insight
    from service.engine.interventions import Intervention

    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-insight-"))
    try:
        app = create_app(Config(database_url=f"sqlite:///{workdir / 'insight.db'}", seed_demo=True, log_level="WARNING",
                                max_body_bytes=64 * 1024 * 1024, request_timeout=0))
        base = f"/v1/networks/{MODEL}"
        ablate = [{"layer": LAYER, "index": NEURON, "set": 0}]
        text = long_text(EXAMPLE_WORDS)
        calls = {
            "predict": _wsgi_caller(app, f"{base}/predict", orjson.dumps({"context": CONTEXT, "top_k": 10}), "application/json"),
            "predict + 1 intervention": _wsgi_caller(app, f"{base}/predict", orjson.dumps(
                {"context": CONTEXT, "top_k": 10, "interventions": ablate}), "application/json"),
            "neuron card (k=10)": _get_caller(app, f"{base}/layers/{LAYER}/neurons/{NEURON}?k=10"),
            "explain (k=10)": _wsgi_caller(app, f"{base}/explain", orjson.dumps({"context": CONTEXT, "k": 10}), "application/json"),
        }
        long_calls = {
            f"examples over {EXAMPLE_WORDS:,}+ words": _wsgi_caller(app, f"{base}/layers/{LAYER}/neurons/{NEURON}/examples",
                                                               orjson.dumps({"text": text, "k": 10}), "application/json"),
            f"score of the same text": _wsgi_caller(app, f"{base}/score", orjson.dumps({"text": text}), "application/json"),
        }
        model = app.extensions["neuronhub"].cache.get(catalog.NETWORK, MODEL, catalog.compile_network).model.language
        engine_calls = {
            "predict": lambda: model.predict(CONTEXT, 10),
            "predict + 1 intervention": lambda: insight.predict_with_effect(model, CONTEXT, 10, 1.0, [Intervention(LAYER, NEURON, set=0.0)]),
            "neuron card (k=10)": lambda: insight.neuron_card(model.network, model, LAYER, NEURON, 10),
            "explain (k=10)": lambda: insight.explain_prediction(model, CONTEXT, None, 10),
        }
        words = len(model.tokenizer.tokenize(text))
        with _one_blas_thread():
            log(f"insight: {MODEL}, in process, 1 BLAS thread, {rounds} interleaved rounds")
            http = interleaved(calls, rounds=rounds, block_seconds=block_seconds)
            engine_only = interleaved(engine_calls, rounds=rounds, block_seconds=block_seconds)
            long = interleaved(long_calls, rounds=max(3, rounds // 2), block_seconds=0.0)
        base_http, base_engine = http["predict"]["median_s"], engine_only["predict"]["median_s"]
        rows = [{"case": name, "http_s": http[name]["median_s"], "http_ratio": ratio(http[name]["median_s"], base_http),
                 "engine_s": engine_only[name]["median_s"], "engine_ratio": ratio(engine_only[name]["median_s"], base_engine)}
                for name in calls]
        examples_name, score_name = list(long_calls)
        result = {"model": MODEL, "neuron": [LAYER, NEURON], "rows": rows, "example_words": words,
                  "examples_s": long[examples_name]["median_s"], "score_s": long[score_name]["median_s"]}
        for line in table(result):
            log(line)
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _one_blas_thread() -> contextlib.AbstractContextManager:
    """threadpoolctl's limit when it is installed (./scripts/bench); else the caller's OPENBLAS_NUM_THREADS=1."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1)


def table(result: dict) -> list[str]:
    out = [f"| case ({result['model']}, neuron {result['neuron'][0]}/{result['neuron'][1]}) | request | × plain predict (target ≤ 2) | engine only | × engine predict |",
           "| --- | --- | --- | --- | --- |"]
    for row in result["rows"]:
        out.append(f"| {row['case']} | {row['http_s'] * 1e6:.0f} µs | {row['http_ratio']:.2f}× | {row['engine_s'] * 1e6:.0f} µs | "
                   f"{row['engine_ratio']:.2f}× |")
    out += ["", f"examples of one neuron over {result['example_words']:,} words: {result['examples_s']:.3f} s per request (target < 2 s); "
                f"score of the same text: {result['score_s']:.3f} s ({ratio(result['examples_s'], result['score_s']):.2f}× of it)"]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.insight", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds")
    args = parser.parse_args(argv)
    run(rounds=3 if args.quick else 7, block_seconds=0.05 if args.quick else 0.2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
