"""The network diagram (GET .../diagram.svg): its time against a plain predict of the same model.

In process, through the WSGI app (every hook, the compiled cache), 1 BLAS thread: the diagram of the
demo language model without and with a context, and of a language model of 8,000 words (5 × 32
inputs, 512-512 hidden), each next to a predict with the same context on the same model, timed in
alternating rounds. The engine's share (engine.diagram alone) is timed too. Issue 13 asks for under
100 ms; the answer's size is reported next to its 500 KB bound. When Chromium, its WebDriver and
Selenium are there, the demo diagram is also rendered in the explorer page (headless, software
rendering): parse, insert, layout and two animation frames, next to fetching the same SVG.
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import numpy as np
import orjson

from .http_load import Gunicorn
from .large_inputs import _wsgi_caller
from .timing import interleaved, ratio

CONTEXT = "the output layer scores every"


def _large_language_model():
    from service.engine.language import LanguageModel
    from service.engine.network import Layer, Network

    rng = np.random.default_rng(13)
    words = ["<pad>", "<unk>", "</s>"] + [f"w{i}" for i in range(7_997)] + CONTEXT.split()
    sizes = [(512, 160), (512, 512), (len(words), 512)]
    layers = [Layer(rng.normal(0, n_in ** -0.5, (n_out, n_in)), np.zeros(n_out), act)
              for (n_out, n_in), act in zip(sizes, ["relu", "tanh", "identity"])]
    return LanguageModel(words, rng.normal(size=(len(words), 32)), 5, Network(layers, "float32"))


def run(rounds: int = 7, block_seconds: float = 0.2, log: Callable[[str], None] = print) -> list[dict]:
    from service import create_app
    from service.catalog import NETWORK, compiled_network_record
    from service.config import Config
    from service.demo import DEMO_LANGUAGE_MODEL_NAME, build_demo_language_model
    from service.engine.diagram import Labels, network_diagram
    from service.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-pictures-"))
    try:
        url = f"sqlite:///{workdir / 'pictures.db'}"
        demo, _ = build_demo_language_model()
        large = _large_language_model()
        store = Store(url)
        store.ensure_schema()
        store.put(NETWORK, "demo", *compiled_network_record(demo.network, demo, "demo"))
        store.put(NETWORK, "large", *compiled_network_record(large.network, large, "8,000 words"))
        store.dispose()
        app = create_app(Config(database_url=url, seed_demo=False, log_level="WARNING"))
        rows = []
        for name, model, label in (("demo", demo, f"{DEMO_LANGUAGE_MODEL_NAME} ({demo.vocabulary_size} words)"),
                                   ("large", large, f"{large.vocabulary_size:,} words, 160-512-512-{large.vocabulary_size}")):
            predict = _wsgi_caller(app, f"/v1/networks/{name}/predict", orjson.dumps({"context": CONTEXT, "top_k": 10}), "application/json")
            plain = _wsgi_caller(app, f"/v1/networks/{name}/diagram.svg", b"", None, "GET")
            with_context = _wsgi_caller(app, f"/v1/networks/{name}/diagram.svg", b"", None, "GET", urlencode({"context": CONTEXT}))
            reading = model.context_ids(CONTEXT)
            x = model.embed(reading.ids[None, :])[0]
            labels = Labels(output_words=model.vocabulary.words)
            timed = interleaved({
                "predict": predict,
                "diagram": plain,
                "diagram with context": with_context,
                "engine: diagram with context": lambda: network_diagram(model.network, x, labels),
            }, rounds=rounds, block_seconds=block_seconds)
            row = {
                "model": label,
                "bytes": len(plain()), "bytes_with_context": len(with_context()),
                "seconds": {k: t["median_s"] for k, t in timed.items()},
                "ratio_to_predict": {k: ratio(t["median_s"], timed["predict"]["median_s"]) for k, t in timed.items() if k != "predict"},
            }
            rows.append(row)
            log(f"  {label}: " + ", ".join(f"{k} {s * 1e3:.2f} ms" for k, s in row["seconds"].items())
                + f"; {row['bytes'] / 1e3:.0f} KB / {row['bytes_with_context'] / 1e3:.0f} KB")
        app.extensions["neuronhub"].store.dispose()
        return rows
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


_RENDER = """
const done = arguments[arguments.length - 1];
(async () => {
  const url = arguments[0], rounds = arguments[1], fetches = [], renders = [];
  for (let i = 0; i < rounds; i++) {
    let t0 = performance.now();
    const text = await (await fetch(url)).text();
    fetches.push(performance.now() - t0);
    t0 = performance.now();
    const node = document.importNode(new DOMParser().parseFromString(text, "image/svg+xml").documentElement, true);
    document.getElementById("diagram").replaceChildren(node);
    node.getBoundingClientRect();
    await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
    renders.push(performance.now() - t0);
  }
  done([fetches, renders]);
})();
"""


def browser_render(rounds: int = 15, log: Callable[[str], None] = print) -> dict:
    """Median ms to fetch the demo diagram (with a context) in the page, and to render it there."""
    import statistics

    try:
        from tests.browser import chromium
    except ImportError as error:  # selenium is not installed
        return {"skipped": f"selenium is not installed ({error})"}
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        return {"skipped": "Chromium or its WebDriver is not installed (apt-get install chromium chromium-driver)"}
    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-render-"))
    server = Gunicorn("service:create_app()", {"NEURONHUB_DATABASE_URL": f"sqlite:///{workdir / 'render.db'}",
                                                "NEURONHUB_SEED_DEMO": "true"}, workdir / "gunicorn.log", workers=1)
    browser = None
    try:
        browser = chromium.start(workdir / "profile", 1280, 800)
        browser.get(f"http://{server.host}:{server.port}/")
        url = "/v1/networks/neuron-language-model/diagram.svg?" + urlencode({"context": CONTEXT})
        browser.set_script_timeout(120)
        fetches, renders = browser.execute_async_script(_RENDER, url, rounds)
        result = {"rounds": rounds, "fetch_ms": statistics.median(fetches), "render_ms": statistics.median(renders)}
        result["render_to_fetch"] = ratio(result["render_ms"], result["fetch_ms"])
        log(f"  in Chromium: fetch {result['fetch_ms']:.1f} ms, render {result['render_ms']:.1f} ms "
            f"({result['render_to_fetch']:.1f}x the fetch)")
        return result
    finally:
        if browser is not None:
            browser.quit()
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
