"""A batch of 1024 rows of 784 floats through the forward endpoint, in process: where the time goes.

For a JSON body and for the same batch as an application/x-npy body, the parts are timed on their own
(the functions the endpoint calls) and the whole request is timed through the WSGI app (Flask, every
hook, the compiled cache), without a network in between. Network: 784-256-256-10 ReLU (mlp), float64.
"""
from __future__ import annotations

import io
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import orjson

from . import engine
from .timing import interleaved

ROWS, COLUMNS = 1024, engine.MLP_SIZES[0]


def _wsgi_caller(app, path: str, body: bytes, content_type: str | None, method: str = "POST", query: str = "",
                 headers: dict[str, str] | None = None) -> Callable[[], bytes]:
    from werkzeug.test import EnvironBuilder

    environ = EnvironBuilder(path=path, method=method, data=body, content_type=content_type, query_string=query,
                             headers=headers).get_environ()

    def call() -> bytes:
        env = dict(environ)
        env["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []
        answer = b"".join(app(env, lambda s, h, exc_info=None: status.append(s)))
        if not status[0].startswith("200"):
            raise RuntimeError(f"{status[0]}: {answer[:300]!r}")
        return answer

    return call


def run(rounds: int = 5, block_seconds: float = 0.2, dtype: str = "float64", log: Callable[[str], None] = print) -> dict:
    from service import create_app
    from service.api.evaluation import _unbatch
    from service.api.fields import quick_inputs
    from service.api.jsonio import dumps, parse_json
    from service.api.requests import parse_npy
    from service.catalog import NETWORK, compiled_network_record
    from service.config import Config
    from service.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-large-"))
    try:
        url = f"sqlite:///{workdir / 'large.db'}"
        network = engine.ours_mlp(dtype)
        store = Store(url)
        store.ensure_schema()
        store.put(NETWORK, "mlp", *compiled_network_record(network, None, "benchmark: 784-256-256-10"))
        store.dispose()
        app = create_app(Config(database_url=url, seed_demo=False, log_level="WARNING", max_body_bytes=64 * 1024 * 1024))

        batch = np.random.default_rng(9).standard_normal((ROWS, COLUMNS))
        json_body = orjson.dumps({"inputs": batch.tolist()})
        buffer = io.BytesIO()
        np.save(buffer, batch)
        npy_body = buffer.getvalue()
        path = "/v1/networks/mlp/forward"
        whole_json = _wsgi_caller(app, path, json_body, "application/json")
        whole_npy = _wsgi_caller(app, path, npy_body, "application/x-npy")
        if orjson.loads(whole_json()) != orjson.loads(whole_npy()):
            raise AssertionError("the JSON and the .npy request answered differently")

        document = parse_json(json_body)
        inputs = quick_inputs(document["inputs"])[0]
        outputs = network.forward(inputs)
        answer = {"name": "mlp", "revision": 1, "dtype": network.dtype}

        parts = {
            "json: parse (orjson + strictness checks)": lambda: parse_json(json_body),
            "json: check and convert to an array": lambda: quick_inputs(document["inputs"]),
            "npy: parse and check": lambda: parse_npy(npy_body),
            "compute: forward pass": lambda: network.forward(inputs),
            "serialise: outputs to JSON": lambda: dumps({**answer, "outputs": _unbatch(outputs, True)}),
            "whole request, JSON body": whole_json,
            "whole request, .npy body": whole_npy,
        }
        timed = interleaved(parts, rounds=rounds, block_seconds=block_seconds)
        seconds = {name: t["median_s"] for name, t in timed.items()}
        result = {
            "rows": ROWS, "columns": COLUMNS, "dtype": dtype, "network": "784-256-256-10 relu",
            "json_body_bytes": len(json_body), "npy_body_bytes": len(npy_body),
            "seconds": seconds,
            "npy_speedup": seconds["whole request, JSON body"] / seconds["whole request, .npy body"],
        }
        for name, s in seconds.items():
            log(f"  {name:42s} {s * 1e3:9.2f} ms")
        log(f"  .npy request speed-up over JSON: {result['npy_speedup']:.1f}x "
            f"(bodies {len(json_body) / 1e6:.1f} MB JSON, {len(npy_body) / 1e6:.1f} MB .npy)")
        app.extensions["neuronhub"].store.dispose()
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
