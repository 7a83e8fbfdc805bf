"""The Open Inference Protocol v2 against the native API, per request, in process (through the WSGI
app: Flask, every hook, the fast lane, the compiled cache; no network in between), 1 BLAS thread.

  small: one input vector through the 16-32-32-4 ReLU network of the HTTP benchmark: native
         POST /v1/networks/small/forward (JSON) vs POST /v2/models/small/infer with a JSON tensor
         and with a binary one (tritonclient's default answer: binary output).
  large: 1024 x 784 float64 through the 784-256-256-10 network of the large-input benchmark: native
         forward with an application/x-npy body vs OIP infer with a binary input tensor and a binary
         output tensor.
Each pair is timed in alternating rounds and reported as a ratio to the native request of the same run.
"""
from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np

from . import engine
from .http_load import SMALL_SIZES, small_network
from .large_inputs import _wsgi_caller
from .timing import interleaved, ratio

ROWS, COLUMNS = 1024, engine.MLP_SIZES[0]


def binary_request(x: np.ndarray, datatype: str) -> tuple[bytes, dict[str, str]]:
    """An infer body as tritonclient.http sends it: JSON header, then the tensor's bytes."""
    header = json.dumps({
        "inputs": [{"name": "input", "shape": list(x.shape), "datatype": datatype, "parameters": {"binary_data_size": x.nbytes}}],
        "outputs": [{"name": "output", "parameters": {"binary_data": True}}],
    }).encode()
    return header + x.tobytes(), {"Inference-Header-Content-Length": str(len(header))}


def run(rounds: int = 7, block_seconds: float = 0.2, log: Callable[[str], None] = print) -> dict:
    from service import create_app
    from service.catalog import NETWORK, compiled_network_record
    from service.config import Config
    from service.store import Store

    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-protocols-"))
    try:
        url = f"sqlite:///{workdir / 'protocols.db'}"
        store = Store(url)
        store.ensure_schema()
        store.put(NETWORK, "small", *compiled_network_record(small_network(), None, "benchmark: small network"))
        store.put(NETWORK, "mlp", *compiled_network_record(engine.ours_mlp("float64"), None, "benchmark: 784-256-256-10"))
        store.dispose()
        app = create_app(Config(database_url=url, seed_demo=False, log_level="WARNING", max_body_bytes=64 * 1024 * 1024))

        x = np.random.default_rng(5).standard_normal((1, SMALL_SIZES[0]))
        native_small = _wsgi_caller(app, "/v1/networks/small/forward", json.dumps({"inputs": x[0].tolist()}).encode(), "application/json")
        oip_json_body = json.dumps({"inputs": [{"name": "input", "shape": [1, SMALL_SIZES[0]], "datatype": "FP64", "data": x[0].tolist()}]}).encode()
        oip_json = _wsgi_caller(app, "/v2/models/small/infer", oip_json_body, "application/json")
        small_body, small_headers = binary_request(x, "FP64")
        oip_binary = _wsgi_caller(app, "/v2/models/small/infer", small_body, "application/octet-stream", headers=small_headers)
        native_outputs = json.loads(native_small())["outputs"]
        if json.loads(oip_json())["outputs"][0]["data"] != native_outputs:
            raise AssertionError("OIP and native forward disagree")
        small = interleaved({"native forward (JSON)": native_small, "OIP infer (JSON tensors)": oip_json,
                             "OIP infer (binary tensors)": oip_binary}, rounds=rounds, block_seconds=block_seconds / 4)

        batch = np.random.default_rng(9).standard_normal((ROWS, COLUMNS))
        buffer = io.BytesIO()
        np.save(buffer, batch)
        native_large = _wsgi_caller(app, "/v1/networks/mlp/forward", buffer.getvalue(), "application/x-npy")
        body, headers = binary_request(batch, "FP64")
        oip_large = _wsgi_caller(app, "/v2/models/mlp/infer", body, "application/octet-stream", headers=headers)
        answer = oip_large()
        expected = np.array(json.loads(native_large())["outputs"])
        got = np.frombuffer(answer[-expected.size * 8:], dtype="<f8").reshape(expected.shape)  # the binary output ends the body
        if not np.array_equal(got, expected):
            raise AssertionError("OIP binary and native .npy forward disagree")
        large = interleaved({"native forward (.npy body, JSON answer)": native_large,
                             "OIP infer (binary input and output)": oip_large}, rounds=rounds, block_seconds=block_seconds)

        small_s = {name: t["median_s"] for name, t in small.items()}
        large_s = {name: t["median_s"] for name, t in large.items()}
        result = {
            "small": {"seconds": small_s,
                      "oip_json_ratio": ratio(small_s["OIP infer (JSON tensors)"], small_s["native forward (JSON)"]),
                      "oip_binary_ratio": ratio(small_s["OIP infer (binary tensors)"], small_s["native forward (JSON)"])},
            "large": {"rows": ROWS, "columns": COLUMNS, "dtype": "float64", "seconds": large_s,
                      "oip_binary_ratio": ratio(large_s["OIP infer (binary input and output)"], large_s["native forward (.npy body, JSON answer)"])},
        }
        for name, s in small_s.items():
            log(f"  small  {name:40s} {s * 1e6:9.1f} us")
        log(f"  small  OIP/native: JSON {result['small']['oip_json_ratio']:.2f}x, binary {result['small']['oip_binary_ratio']:.2f}x")
        for name, s in large_s.items():
            log(f"  large  {name:40s} {s * 1e3:9.2f} ms")
        log(f"  large  OIP binary / native .npy: {result['large']['oip_binary_ratio']:.2f}x")
        app.extensions["neuronhub"].store.dispose()
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
