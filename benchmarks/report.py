"""docs/benchmarks.md from the results of a run: how to run the suite, what it measures, the tables."""
from __future__ import annotations

from typing import Any

ENGINE_TARGETS = {"onnxruntime": 1.2, "pytorch": 1.0}
HTTP_TARGETS = {"forward": 0.9, "predict": 0.6}

INTRODUCTION = """\
# Benchmarks

How fast Neuronhub is next to the best tools for the same job, measured on one machine in one run:
every figure below is a ratio to a reference timed in the same run, in alternating rounds, as a
median. Absolute times depend on the machine and on whatever else it was doing (the load average is
given); the ratios are what the targets are about.

## Running it

```sh
./scripts/bench            # everything, about 6 minutes on 2 cores; writes this page and benchmarks/results.json
./scripts/bench --quick    # a smoke test: fewer, shorter rounds (figures not worth publishing)
./scripts/bench --only engine,large --threads 1,2
```

`scripts/bench` makes its own virtualenv (`.venv/bench`) and installs the service with the
`bench` extra of `pyproject.toml`: PyTorch (pinned to the CPU build 2.13.0), ONNX, ONNX Runtime
and threadpoolctl. None of them is a dependency of the service. The HTTP part uses `wrk` (the script installs
Debian's package when it runs as root and it is missing), else a Python load generator; all traffic goes to
127.0.0.1 and every run is bounded in time. `OPENBLAS_CORETYPE` and `OPENBLAS_L2_SIZE` are unset for
the benchmark command alone (never in tests or CI); the BLAS kernel that ran is recorded below.

## What is measured

- **Engine** (`benchmarks/engine.py`): the forward pass of (a) a 784-256-256-10 ReLU network and (b) a
  language network — 3-word context, 64-dimensional embeddings, one 512-unit tanh layer, a
  10,000-word softmax output (embedding lookup, concatenation, dense layers, softmax probabilities) —
  at batch 1, 32 and 1024, in float32 and float64: Neuronhub's engine against PyTorch (CPU,
  `torch.no_grad`) and ONNX Runtime (a graph built with the `onnx` helper API), same weights, same
  dtype, same thread count, numpy arrays in and out for all three. Outputs are checked equal (to
  the dtype's tolerance) before anything is timed. Network (b) has 5.87 M parameters, above the
  engine's 5 M limit for a stored language network, so it runs as `LanguageModel.embed` +
  `Network.forward` on the same arrays.
- **HTTP** (`benchmarks/http_load.py`): requests per second and latency of `POST .../forward` on a
  small 16-32-32-4 network (one input vector) and `POST .../predict` on network (b) with an
  8,000-word vocabulary (4.7 M parameters; 10,000 words do not fit the limit), against the framework's
  floor: a bare Flask app (`benchmarks/floor_app.py`) that parses a same-sized JSON body and answers a
  same-sized JSON document. Same gunicorn configuration (`gunicorn.conf.py`, 2 workers, 1 BLAS thread
  each, workers never recycled during a run), SQLite store. Also the server's CPU time per request
  (all gunicorn processes, from /proc), which a busy machine disturbs far less than requests per
  second, and variants for comparison: the service without its fast lane (every request through
  Flask's routing and hooks); 2 BLAS threads per worker; the cache checking the database on every
  request (before change detection); the language network stored as float32. For the prediction,
  the output layer's product (1 × 512 by 512 × 8,000, which every exact prediction needs) and the
  whole `predict` are also timed in process (no HTTP, one thread): the floor's CPU per request ÷ (that
  + the product alone) bounds what any server could reach.
- **Large inputs** (`benchmarks/large_inputs.py`): 1024 rows of 784 floats through the forward
  endpoint in process, as JSON and as an `application/x-npy` body: parsing, checking, computing and
  serialising timed apart, and whole requests through the WSGI app.
- **Protocols** (`benchmarks/protocols.py`): the Open Inference Protocol v2 against the native API,
  whole requests through the WSGI app in process: one input vector through the small network
  (native forward, which takes the fast lane, vs OIP infer with JSON and with binary tensors), and
  1024 × 784 float64 through the 784-256-256-10 network (native forward with an `.npy` body vs OIP
  infer with a binary input and output). Ratios are to the native request of the same run.
- **Training** (`benchmarks/training.py`): the default `TrainingSettings` on
  `service/demo/corpus.txt`: steps per second and the time to reach a target validation loss (2%
  above the better final loss), our engine against the same model, initial weights, minibatches and
  Adam schedule in PyTorch, one thread each.
"""


def _us(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds >= 0.1:
        return f"{seconds * 1e3:,.0f} ms"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


def _ratio(value: float | None, target: float | None = None, lower_is_better: bool = True) -> str:
    if value is None:
        return "–"
    text = f"{value:.2f}×"
    if target is not None and abs(value - target) < 0.005:
        text = f"{value:.3f}×"  # two decimals would hide which side of the target it is
    if target is not None:
        met = value <= target if lower_is_better else value >= target
        text += " ✓" if met else " ✗"
    return text


def _machine(m: dict[str, Any]) -> list[str]:
    blas = "; ".join(f"{b['internal_api']} {b['version']}, kernel {b['architecture']}, {b['num_threads']} threads available"
                     for b in m.get("blas", []))
    env = ", ".join(f"{k}={v}" for k, v in m.get("environment", {}).items() if v is not None) or "none of OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, OPENBLAS_NUM_THREADS, OMP_NUM_THREADS"
    load = m.get("load_average") or []
    end = m.get("load_average_at_end") or []
    return [
        "## The machine",
        "",
        "| | |",
        "| --- | --- |",
        f"| date | {m.get('date')} |",
        f"| CPU | {m.get('cpu')}, {m.get('cores')} cores |",
        f"| load average (1, 5, 15 min) | {', '.join(f'{x:.2f}' for x in load)} at the start; {', '.join(f'{x:.2f}' for x in end)} at the end |",
        f"| BLAS (threadpoolctl) | {blas} |",
        f"| Python, numpy | {m.get('python')}, numpy {m.get('numpy')} |",
        f"| references | PyTorch {m.get('torch')}, ONNX Runtime {m.get('onnxruntime')} |",
        f"| service stack | Flask {m.get('flask')}, gunicorn {m.get('gunicorn')} |",
        f"| environment | {env} |",
        "",
    ]


def _engine_misses(rows: list[dict]) -> list[tuple[str, str, float]]:
    """(case, reference, ratio) for every engine ratio above its target."""
    return [(r["case"], name, ref["ratio"]) for r in rows for name, ref in r["references"].items()
            if ref["ratio"] > ENGINE_TARGETS[name]]


def _engine(rows: list[dict]) -> list[str]:
    out = [
        "## Engine: forward pass against PyTorch and ONNX Runtime",
        "",
        "Median time per call; ratio = ours ÷ theirs (below 1 means we are faster). Targets: ≤ 1.0× PyTorch, "
        "≤ 1.2× ONNX Runtime.",
        "",
        "| case | threads | ours | PyTorch | ours ÷ PyTorch | ONNX Runtime | ours ÷ ONNX Runtime |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        pt, ort = r["references"]["pytorch"], r["references"]["onnxruntime"]
        out.append(f"| {r['case']} | {r['threads']} | {_us(r['ours_s'])} | {_us(pt['median_s'])} | {_ratio(pt['ratio'], ENGINE_TARGETS['pytorch'])} "
                   f"| {_us(ort['median_s'])} | {_ratio(ort['ratio'], ENGINE_TARGETS['onnxruntime'])} |")
    missed = {case for case, _, _ in _engine_misses(rows)}
    out += ["", f"Cases meeting both targets: {len(rows) - len(missed)} of {len(rows)}.", ""]
    return out


_SERVER_NAMES = {
    "floor": "bare Flask floor",
    "ours": "**Neuronhub**",
    "ours_blas2": "Neuronhub, 2 BLAS threads per worker",
    "ours_naive": "Neuronhub, database check on every request (before)",
    "ours_flask_path": "Neuronhub without the fast lane (every request through Flask)",
    "ours_float32": "Neuronhub, the language network stored as float32",
}


def _http(h: dict) -> list[str]:
    out = [
        "## HTTP: the service against the framework's floor",
        "",
        f"Load: {h['load_generator']}, {h['connections']} connections, {h['rounds']} rounds of {h['seconds_per_round']:.0f} s "
        f"per server, servers alternating. Fraction of floor = median over rounds of (req/s ÷ the floor's req/s in the "
        "same round); CPU fraction = the floor's server CPU per request ÷ this server's. Targets: forward ≥ 0.90, "
        "predict ≥ 0.60 of the floor's requests per second.",
        "",
        "| scenario | server | req/s | fraction of floor | server CPU per request | CPU fraction | p50 | p99 | errors |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for scenario, data in h["scenarios"].items():
        for name, m in data["servers"].items():
            target = HTTP_TARGETS.get(scenario) if name == "ours" else None
            out.append(
                f"| {scenario} | {_SERVER_NAMES.get(name, name)} | {m['rps']:,.0f} | {_ratio(m['fraction_of_floor'], target, lower_is_better=False)} "
                f"| {m['server_cpu_us_per_request']:,.0f} µs | {m['cpu_fraction_of_floor']:.2f} | {m['p50_ms']:.2f} ms "
                f"| {m['p99_ms']:.2f} ms | {m['errors']} |")
    predict = h["scenarios"].get("predict", {}).get("servers", {})
    if "ours" in predict and "ours_blas2" in predict:
        one, two = predict["ours"], predict["ours_blas2"]
        out += ["", f"BLAS threads per worker (2 workers), next-word prediction: 1 thread {one['rps']:,.0f} req/s, "
                    f"2 threads {two['rps']:,.0f} req/s ({two['rps'] / one['rps']:.2f}× of 1 thread): with every core "
                    "already busy with a worker, more BLAS threads only contend. Keep NEURONHUB_BLAS_THREADS=1."]
    out.append("")
    return out


def _large(l: dict) -> list[str]:
    s = l["seconds"]
    out = [
        f"## Large inputs: {l['rows']} × {l['columns']} floats through POST .../forward ({l['network']}, {l['dtype']})",
        "",
        f"In process, 1 BLAS thread. Bodies: JSON {l['json_body_bytes'] / 1e6:.1f} MB, .npy {l['npy_body_bytes'] / 1e6:.1f} MB.",
        "",
        "| part | time |",
        "| --- | --- |",
    ]
    for name, seconds in s.items():
        out.append(f"| {name} | {_us(seconds)} |")
    out += ["", f"An `application/x-npy` body makes the whole request **{l['npy_speedup']:.1f}×** faster than JSON.", ""]
    return out


def _pictures(rows: list[dict], browser: dict | None) -> list[str]:
    out = [
        "## Pictures: GET .../diagram.svg against a predict on the same model",
        "",
        "In process through the WSGI app, 1 BLAS thread, alternating rounds; context "
        "\"the output layer scores every\". Issue 13 asks for a diagram under 100 ms and under 500 KB.",
        "",
        "| model | predict | diagram | diagram with context | engine share | size (with context) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        s, q = r["seconds"], r["ratio_to_predict"]
        out.append(f"| {r['model']} | {_us(s['predict'])} | {_us(s['diagram'])} ({q['diagram']:.1f}×) | "
                   f"{_us(s['diagram with context'])} ({q['diagram with context']:.1f}×) | {_us(s['engine: diagram with context'])} | "
                   f"{r['bytes'] / 1e3:.0f} KB ({r['bytes_with_context'] / 1e3:.0f} KB) |")
    out += ["", "(×: the diagram's time ÷ the predict's, measured in the same run.)", ""]
    if browser and "render_ms" in browser:
        out += [f"In the explorer page (headless Chromium, software rendering, median of {browser['rounds']}): fetching the "
                f"demo model's diagram with a context takes {browser['fetch_ms']:.1f} ms and rendering it (parse, insert, "
                f"layout, two animation frames) {browser['render_ms']:.1f} ms, {browser['render_to_fetch']:.1f}× the fetch.", ""]
    elif browser:
        out += [f"Not rendered in a browser: {browser['skipped']}.", ""]
    return out


def _protocols(p: dict) -> list[str]:
    small, large = p["small"], p["large"]
    out = ["## Protocols: Open Inference Protocol v2 vs the native API (per request, in process)", "",
           "| request | time | ratio to native (target) |", "| --- | --- | --- |"]
    native_small = small["seconds"]["native forward (JSON)"]
    for name, seconds in small["seconds"].items():
        target = None if name.startswith("native") else 1.2
        out.append(f"| small, 1 × 16: {name} | {_us(seconds)} | {_ratio(seconds / native_small, target)} |")
    native_large = large["seconds"]["native forward (.npy body, JSON answer)"]
    for name, seconds in large["seconds"].items():
        target = None if name.startswith("native") else 1.2
        out.append(f"| large, {large['rows']} × {large['columns']} {large['dtype']}: {name} | {_us(seconds)} | {_ratio(seconds / native_large, target)} |")
    out += ["", "Both the native forward and the OIP infer are answered by the fast lane (service/api/fastlane.py) "
            "when they succeed; the OIP request also parses the protocol's tensor objects and writes its answer's."]
    if p.get("note"):
        load = ", ".join(f"{x:.2f}" for x in p.get("machine_load_average", []))
        out += ["", f"These figures were {p['note']}" + (f"; load average {load} at the end." if load else ".")]
    return out + [""]


def _training(t: dict) -> list[str]:
    out = [
        "## Training: default settings on service/demo/corpus.txt",
        "",
        f"{t['steps']} steps (vocabulary {t['vocabulary_size']} words, {t['training_tokens']} training and "
        f"{t['validation_tokens']} validation tokens), {t['threads']} thread, median of {t['repeats']} runs. "
        f"Target validation loss {t['target_validation_loss']:.3f} nats.",
        "",
        "| trainer | steps per second | time to target | final validation loss |",
        "| --- | --- | --- | --- |",
    ]
    for name, e in t["engines"].items():
        label = "**Neuronhub**" if name == "ours" else "PyTorch"
        out.append(f"| {label} | {e['steps_per_second']:,.1f} | {_us(e['seconds_to_target'])} | {e['final_validation_loss']:.3f} |")
    out += ["", f"Ours ÷ PyTorch: steps per second {t['steps_per_second_ratio']:.2f}× (above 1: we take more steps a second)"
                + (f"; time to target {t['time_to_target_ratio']:.2f}× (below 1: we get there sooner)." if t.get("time_to_target_ratio") else "."), ""]
    return out


SPEED_CHANGES = """\
## What was done for speed

- **Engine** (`service/engine/network.py`, `activations.py`): each layer keeps `W.T` as one C-contiguous
  array (a plain row-major GEMM/GEMV, measurably faster than the transposed view at small batches);
  a forward pass without a trace adds biases, checks finiteness and applies the activation **in place**
  on the freshly computed `z` (`activations.IN_PLACE`, bitwise the values of the plain functions),
  a block of rows at a time when `z` is large (each block stays in cache through its passes); the
  finiteness check is one summation pass (a second pass only if the sum overflowed); float32 stays
  float32 throughout; `softmax` no longer makes a temporary per step.
- **Language networks** (`service/engine/language.py`, pure speed, bitwise the same float64 results):
  logits come from `Network.weighted_sums` (no last-layer activation computed and thrown away);
  `stable_softmax` works in place on fresh logits; the top-k words come from k passes of argmax for
  k ≤ 16 (8 µs instead of 55 µs for 5 of 8,000 words) and from a partition for larger k, never from
  sorting the whole vocabulary (`top_ids`, exactly the stable argsort's first k).
- **Knowing the cache is current without a database round trip** (`service/store/db.py`,
  `service/catalog.py`): `Store.change_token()`. SQLite: `PRAGMA data_version` on a kept-open
  connection of each process's own, which changes whenever any other connection commits — checked
  synchronously, so the next request after a write anywhere re-reads the revision. PostgreSQL: a
  statement trigger on `definitions` NOTIFYs a channel at commit; one listener connection per process
  counts the notifications (read without blocking, pinged every second, given up after 2 s of
  silence); a write returns only after its own notification came back, so every listening process has
  been signalled before the writer's client hears of it; writes through the same process count at
  once. While the listener is down or the trigger is missing, the cache asks the database on every
  request, as before. The one window left: the other processes' PostgreSQL backends pass the
  notification on asynchronously, so a request that reaches another replica within about a
  millisecond of the writer's answer can still get the previous revision (in a stress test on this
  shared 2-core machine, 1 notification in 200 arrived more than 0.5 ms after the write returned, at
  most 3.4 ms). SQLite has no such window. Because of that window the PostgreSQL listener is **off by default**
  (`NEURONHUB_POSTGRES_CHANGE_NOTIFY=false`: every lookup reads the revision, as issue #2 promises);
  turn it on where a millisecond of staleness across replicas is acceptable. The HTTP figures above are on SQLite.
- **The fast lane** (`service/api/fastlane.py`): a WSGI middleware answers the plain forward pass
  (`POST .../forward` with a JSON body `{"inputs": ..., "trace": ...}`, a stored network, an answer
  200) without Flask's request context, routing and hooks, doing their work itself: request id, API
  key, rate limit, deadline, Prometheus counts, in Flask's order. Every other request goes to Flask,
  and so does any request the lane would not answer 200 (with its body and its deadline), so every
  error is still worded by `problems.py`; a test sends each request through both paths and compares
  status, headers and body.
- **Cheaper request hooks for everything else** (`service/metrics.py`, `service/api/deadline.py`,
  `service/api/request_ids.py`): Prometheus children are looked up once per label set, the SIGALRM
  handler is installed once (a request only sets and clears its timer), the request id comes from
  `os.urandom`; and each gunicorn worker calls `gc.freeze()` once its app is built, so full
  collections no longer walk the long-lived objects of start-up (`gunicorn.conf.py`).
- **Lean request path** (`service/api/evaluation.py`, `requests.py`, `fields.py`, `jsonio.py`):
  well-formed forward bodies skip marshmallow (anything else goes through the schema, so errors are
  worded exactly as before); the JSON strictness checks find the structure without a regular
  expression when the body has no escapes; and
  `POST .../forward` takes `Content-Type: application/x-npy` (numpy's .npy format, float32 or float64,
  one vector or a batch, read without pickle: 400 `malformed-npy` for a broken file, 422 for a wrong
  dtype, shape, length, non-finite values or too many rows).
"""


def _findings(results: dict) -> list[str]:
    out = ["## Findings", ""]
    rows = results.get("engine") or []
    misses = _engine_misses(rows)
    if rows:
        if misses:
            listed = "; ".join(f"{case} vs {'ONNX Runtime' if name == 'onnxruntime' else 'PyTorch'} {_ratio(ratio, ENGINE_TARGETS[name])[:-2]}"
                               for case, name, ratio in misses)
            out.append(f"- **Engine targets missed in this run:** {listed}. Where a case misses, the time is the "
                       "matrix product itself (float32, batch 32 in particular): ONNX Runtime's MLAS kernels pack the "
                       "constant weights once, when the session is built, while OpenBLAS (under numpy) packs them on "
                       "every call, which is most likely the difference; numpy offers no way to keep packed weights. At "
                       "batch 1 the engine's own cost per layer (a few µs of Python and ufunc calls) decides the ratio.")
        else:
            out.append("- **Engine:** every case meets both targets in this run.")
    http = (results.get("http") or {}).get("scenarios", {})
    forward = http.get("forward", {}).get("servers", {})
    if {"floor", "ours"} <= set(forward):
        floor, ours = (forward[k]["server_cpu_us_per_request"] for k in ("floor", "ours"))
        text = (f"- **Forward pass over HTTP:** {forward['ours']['fraction_of_floor']:.2f} of the floor's requests per "
                f"second; the server spends {ours:,.0f} µs of CPU per request against the floor's {floor:,.0f} µs.")
        if "ours_flask_path" in forward:
            text += (f" Through Flask's routing and request hooks (the service without its fast lane) it was "
                     f"{forward['ours_flask_path']['fraction_of_floor']:.2f} of the floor "
                     f"({forward['ours_flask_path']['server_cpu_us_per_request']:,.0f} µs per request): the lane answers "
                     "the plain forward pass without Flask's request context, routing and hooks, doing their work itself.")
        out.append(text)
    if "ours_naive" in forward and "ours" in forward:
        out.append(f"- **Change detection:** with a database round trip per request to check the cached network, the "
                   f"forward pass would be at {forward['ours_naive']['fraction_of_floor']:.2f} of the floor.")
    predict_data = http.get("predict", {})
    predict = predict_data.get("servers", {})
    alone = predict_data.get("prediction_in_process_us", {})
    if {"floor", "ours"} <= set(predict):
        floor, ours = predict["floor"]["server_cpu_us_per_request"], predict["ours"]["server_cpu_us_per_request"]
        text = (f"- **Next-word prediction over HTTP:** {predict['ours']['fraction_of_floor']:.2f} of the floor; "
                f"{ours:,.0f} µs of CPU per request against the floor's {floor:,.0f} µs. Nearly all of it is one product "
                "of the hidden vector with the 8,000 × 512 output matrix (32.8 MB in float64): every probability needs "
                "the softmax's sum over the whole vocabulary, so every exact prediction reads the whole matrix.")
        product = predict_data.get("output_product_us", {})
        target = HTTP_TARGETS["predict"]
        if product:
            x64, x32 = product["float64"]["1"], product["float32"]["1"]
            bound64, bound32 = floor / (floor + x64), floor / (floor + x32)
            text += (f" That product alone, warm in one process on one thread, takes {_us(x64 / 1e6)} in float64 and "
                     f"{_us(x32 / 1e6)} in float32: a server that added nothing but it to the floor's work could reach at "
                     f"most {bound64:.2f} of the floor's requests per second in float64 and {bound32:.2f} in float32 (an upper "
                     "bound: under load the product takes longer than warm in one process).")
            if bound64 < target:
                text += (f" So for this network stored as float64 (the default) the {target:.2f} target cannot be met on this "
                         "machine at batch 1, by any implementation.")
            if bound32 < target:
                text += " Nor in float32."
        if alone:
            text += (f" The whole prediction in process (context, embedding, both layers, softmax, top words) takes "
                     f"{_us(alone['float64'] / 1e6)} in float64 and {_us(alone['float32'] / 1e6)} in float32.")
        if "ours_float32" in predict:
            f32 = predict["ours_float32"]
            text += (f" Stored as float32 the network reaches {f32['fraction_of_floor']:.2f} of the floor, spending "
                     f"{f32['server_cpu_us_per_request']:,.0f} µs of CPU per request"
                     + (f" where the floor's work plus the whole prediction in process come to {floor + alone['float32']:,.0f} µs; "
                        "the rest is Flask's routing and hooks for /predict (the fast lane answers only forward passes) "
                        "and the product taking longer under load than warm." if alone else "."))
        out.append(text)
    large = results.get("large")
    if large:
        out.append(f"- **Large inputs:** a .npy body makes a 1024 × 784 request {large['npy_speedup']:.1f}× faster than "
                   "JSON, whose parsing (orjson on 15.8 MB of decimal text) and checking cost many times the forward pass.")
    out += ["", "### What would get the rest", "",
            "- Engine, float32 and batch ≤ 32: a GEMM with weights packed once at compile time (MLAS, oneDNN or a small "
            "compiled kernel); numpy exposes none.",
            "- Prediction ≥ 0.6 of the floor: in float64, only by reading less memory per prediction than the whole "
            "output matrix, which an exact softmax cannot do; float32 halves it (the float32 row), a machine with more "
            "memory bandwidth per core shortens it. For float32 networks a fast lane for /predict like the forward "
            "pass's would remove Flask's share" + _flask_share(forward) + "." + _batching_note(http.get("predict", {}).get("output_product_us", {}).get("float64")),
            ""]
    return out


def _flask_share(forward: dict) -> str:
    if {"ours", "ours_flask_path"} <= set(forward):
        saved = forward["ours_flask_path"]["server_cpu_us_per_request"] - forward["ours"]["server_cpu_us_per_request"]
        return f" (for the forward pass the lane saved {saved:,.0f} µs of CPU a request)"
    return ""


def _batching_note(by_rows: dict[str, float] | None) -> str:
    if not by_rows or "1" not in by_rows:
        return ""
    one = by_rows["1"]
    shown = ", ".join(f"{n} rows {_us(t / 1e6)} ({t / one / int(n):.2f}× per row)" for n, t in by_rows.items() if n != "1")
    return (" Batching concurrent predictions into one matrix product (which needs threads in the workers) would "
            f"pay only from several rows on: the output layer's product with 1 row takes {_us(one / 1e6)}; {shown} "
            "(OpenBLAS switches from its matrix-vector to its matrix-matrix kernel and packs the weights).")


def _jobs(j: dict) -> list[str]:
    c, l = j["checkpoints"], j["latency"]
    return [
        "## Training jobs: checkpoints and the web server's latency",
        "",
        "| measure | value | ratio |",
        "| --- | --- | --- |",
        f"| steps per second, no checkpoints | {c['steps_per_second_no_checkpoints']:.1f} | 1 |",
        f"| steps per second, a checkpoint every 1 s | {c['steps_per_second_checkpoint_every_1s']:.1f} | "
        f"{_ratio(c['ratio_every_1s'], lower_is_better=False)} |",
        f"| one checkpoint (validation loss, serialise, store; {c['checkpoint_bytes'] / 1e6:.2f} MB) | {c['checkpoint_seconds'] * 1000:.1f} ms | "
        f"{c['share_at_default_interval']:.2%} of training at the default 30 s (target < 5 %) |",
        f"| median forward latency, idle | {l['idle_ms']:.2f} ms | 1 |",
        f"| ... while a worker trains (priority batch, own session) | {l['training_batch_ms']:.2f} ms | {_ratio(l['ratio_batch'], 1.5)} |",
        f"| ... while a worker trains (priority normal) | {l['training_normal_ms']:.2f} ms | {_ratio(l['ratio_normal'])} |",
        "",
    ]


def markdown(results: dict) -> str:
    lines = [INTRODUCTION, "# Current figures", ""]
    if results.get("quick"):
        lines += ["**A --quick run: few, short rounds; do not quote these figures.**", ""]
    lines += _machine(results["machine"])
    if "engine" in results:
        lines += _engine(results["engine"])
    if "http" in results:
        lines += _http(results["http"])
    if "large" in results:
        lines += _large(results["large"])
    if "training" in results:
        lines += _training(results["training"])
    if "pictures" in results:
        lines += _pictures(results["pictures"], results.get("pictures_in_browser"))
    if "insight" in results:
        from .insight import table

        lines += ["## Understanding a neuron: card, explain, interventions, examples", "",
                  "In process through the WSGI app, 1 BLAS thread; each case against a plain predict of the same model in the same rounds.",
                  "", *table(results["insight"]), ""]
    if "protocols" in results:
        lines += _protocols(results["protocols"])
    if "jobs" in results:
        lines += _jobs(results["jobs"])
    lines += _findings(results)
    lines += [SPEED_CHANGES]
    notes = results.get("notes")
    if notes:
        lines += ["## Notes", "", notes, ""]
    return "\n".join(lines).rstrip() + "\n"
