"""The HTTP service against the framework's floor, under the same gunicorn configuration.

Every server here is `gunicorn --config gunicorn.conf.py` with 2 workers, listening on 127.0.0.1 only,
its access log written to a file. The load is wrk (Debian's package) when it is installed, else a
small Python load generator (threads, http.client); either way only 127.0.0.1 is contacted, and every
run is bounded in time. Contenders are run in alternating rounds and each one's median is reported.

Scenarios:
  forward  POST /v1/networks/small/forward with one input vector (a 16-32-32-4 ReLU network)
  predict  POST /v1/networks/lm/predict with a 3-word context (the language network of the engine
           benchmark, with an 8,000-word vocabulary: 10,000 words would be 5.87 M parameters, above
           the 5 M that NEURONHUB_MAX_PARAMETERS and the engine allow)
The floor (benchmarks/floor_app.py) answers the same requests with a same-sized JSON document.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from . import engine

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
SMALL_SIZES = (16, 32, 32, 4)
LM_VOCABULARY = 8_000
BLAS_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --- servers -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """gunicorn --config gunicorn.conf.py APP on 127.0.0.1, 2 workers; stopped with SIGTERM."""

    def __init__(self, app: str, env: dict[str, str], log_path: Path, workers: int = 2, blas_threads: int = 1) -> None:
        self.port = free_port()
        self.host = "127.0.0.1"
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("NEURONHUB_", "PROMETHEUS_MULTIPROC_DIR")) and k not in BLAS_VARIABLES}
        full_env = {**base, "PYTHONUNBUFFERED": "1", "NEURONHUB_BIND": f"{self.host}:{self.port}",
                    "NEURONHUB_WORKERS": str(workers), "NEURONHUB_BLAS_THREADS": str(blas_threads),
                    "NEURONHUB_LOG_LEVEL": "WARNING",
                    # steady state: no worker is replaced during a measurement (same for every server)
                    "NEURONHUB_MAX_REQUESTS": "0", **env}
        self._log = open(log_path, "ab")
        self.process = subprocess.Popen([GUNICORN, "--config", "gunicorn.conf.py", app], cwd=ROOT, env=full_env,
                                        stdout=self._log, stderr=subprocess.STDOUT)
        self.log_path = log_path
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({self.process.returncode}):\n{self.log_path.read_text()[-3000:]}")
            try:
                status, _ = request(self.host, self.port, "GET", "/healthz")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer /healthz within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def process_tree_cpu_seconds(root_pid: int) -> float:
    """User + system CPU seconds of a process and its children (gunicorn's master and workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        if pid == root_pid:  # its own time and that of the workers it has reaped
            total += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
        elif ppid == root_pid:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def request(host: str, port: int, method: str, path: str, body: bytes | None = None,
            content_type: str = "application/json") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        headers = {"Content-Type": content_type} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


# --- what the service stores -------------------------------------------------------------------------

def small_network():
    from service.engine.network import Layer, Network

    return Network([Layer(w, b, a) for w, b, a in engine.mlp_weights(seed=11, sizes=SMALL_SIZES)])


def language_model(dtype: str = "float64"):
    from service.engine.language import LanguageModel
    from service.engine.network import Layer, Network

    embeddings, layers = engine.lm_weights(vocabulary=LM_VOCABULARY)
    network = Network([Layer(w, b, a) for w, b, a in layers], dtype)
    return LanguageModel(engine.lm_vocabulary(LM_VOCABULARY), embeddings, engine.LM_CONTEXT, network)


def seed_database(url: str, dtype: str = "float64") -> None:
    """Store the benchmark's definitions directly (the language network's JSON would exceed the body limit)."""
    from service.catalog import NETWORK, compiled_network_record
    from service.store import Store

    store = Store(url)
    try:
        store.ensure_schema()
        store.put(NETWORK, "small", *compiled_network_record(small_network(), None, "benchmark: small network"))
        lm = language_model(dtype)
        store.put(NETWORK, "lm", *compiled_network_record(lm.network, lm, "benchmark: language network"))
    finally:
        store.dispose()


def forward_bodies(count: int = 64) -> list[bytes]:
    rng = np.random.default_rng(5)
    return [json.dumps({"inputs": [round(float(v), 6) for v in rng.standard_normal(SMALL_SIZES[0])]}).encode()
            for _ in range(count)]


def predict_bodies(count: int = 256) -> list[bytes]:
    rng = np.random.default_rng(6)
    words = engine.lm_vocabulary(LM_VOCABULARY)[3:]
    return [json.dumps({"context": " ".join(rng.choice(words, engine.LM_CONTEXT)), "top_k": 5}).encode()
            for _ in range(count)]


SCENARIOS: dict[str, tuple[str, Callable[[], list[bytes]]]] = {
    "forward": ("/v1/networks/small/forward", forward_bodies),
    "predict": ("/v1/networks/lm/predict", predict_bodies),
}


def prediction_in_process_us(dtype: str, bodies: list[bytes], rounds: int = 5) -> float:
    """Median µs of LanguageModel.predict on the benchmark's language network, in this process, one BLAS
    thread, the same contexts as the load: the prediction alone, without HTTP, Flask or the store."""
    from threadpoolctl import threadpool_limits

    model = language_model(dtype)
    requests = [json.loads(body) for body in bodies]
    with threadpool_limits(limits=1):
        for body in requests[:20]:
            model.predict(body["context"], body["top_k"])
        medians = []
        for _ in range(rounds):
            started = time.perf_counter()
            for body in requests:
                model.predict(body["context"], body["top_k"])
            medians.append((time.perf_counter() - started) / len(requests) * 1e6)
    return statistics.median(medians)


def output_product_us(rows: tuple[int, ...] = (1, 2, 4, 8), repeats: int = 50) -> dict[str, dict[str, float]]:
    """Median µs of (rows x 512) @ (512 x 8,000) on one thread, by dtype and number of rows: the one
    product every exact prediction needs, and what batching concurrent predictions would cost."""
    from threadpoolctl import threadpool_limits

    _, layers = engine.lm_weights(vocabulary=LM_VOCABULARY)
    rng = np.random.default_rng(3)
    out: dict[str, dict[str, float]] = {}
    with threadpool_limits(limits=1):
        for dtype, batches in (("float64", rows), ("float32", (1,))):
            weights_t = np.ascontiguousarray(layers[-1][0].T, dtype=dtype)  # as the engine keeps it: (inputs, neurons)
            out[dtype] = {}
            for n in batches:
                hidden = rng.standard_normal((n, weights_t.shape[0])).astype(dtype)
                for _ in range(5):
                    hidden @ weights_t
                times = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    hidden @ weights_t
                    times.append(time.perf_counter() - started)
                out[dtype][str(n)] = statistics.median(times) * 1e6
    return out


# --- load --------------------------------------------------------------------------------------------

@dataclass
class LoadResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    server_cpu_seconds: float = float("nan")  # CPU the server's processes used during the run

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_seconds / self.requests * 1e6 if self.requests else float("nan")

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


_WRK_SCRIPT = r"""
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("POST", "%(path)s", {["Content-Type"] = "application/json"}, bodies[(i %% #bodies) + 1])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('WRKJSON {"requests": %%d, "duration_us": %%d, "errors": %%d, "p50_us": %%d, "p90_us": %%d, "p99_us": %%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99)))
end
"""


def wrk_available() -> bool:
    return shutil.which("wrk") is not None


def run_wrk(host: str, port: int, path: str, bodies: list[bytes], seconds: float, connections: int, workdir: Path) -> LoadResult:
    bodies_file = workdir / f"bodies-{abs(hash(path))}.txt"
    script = workdir / f"wrk-{abs(hash(path))}.lua"
    if not script.exists():  # the same bodies for every round of a run
        bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        script.write_text(_WRK_SCRIPT % {"bodies": bodies_file, "path": path})
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{seconds:.0f}s", "--timeout", "10s", "-s", str(script), f"http://{host}:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 60,
    )
    line = next((l for l in out.stdout.splitlines() if l.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result:\n{out.stdout}\n{out.stderr}")
    data = json.loads(line[len("WRKJSON "):])
    return LoadResult(data["requests"], data["duration_us"] / 1e6, data["errors"],
                      data["p50_us"] / 1e3, data["p90_us"] / 1e3, data["p99_us"] / 1e3)


def run_python_load(host: str, port: int, path: str, bodies: list[bytes], seconds: float, connections: int) -> LoadResult:
    """Threads with http.client (reconnecting when the server closes the connection), bounded in time."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors = [0] * connections
    stop_at = time.monotonic() + seconds

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(host, port, timeout=10)
        i = index
        while time.monotonic() < stop_at:
            body = bodies[i % len(bodies)]
            i += connections
            started = time.perf_counter()
            try:
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors[index] += 1
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
            except (OSError, http.client.HTTPException):
                errors[index] += 1
                connection.close()
            latencies[index].append(time.perf_counter() - started)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 30)
    elapsed = time.monotonic() - started
    every = sorted(x for per in latencies for x in per)
    if not every:
        return LoadResult(0, elapsed, sum(errors), float("nan"), float("nan"), float("nan"))

    def pct(q: float) -> float:
        return every[min(len(every) - 1, int(q * len(every)))] * 1e3

    return LoadResult(len(every), elapsed, sum(errors), pct(0.5), pct(0.9), pct(0.99))


def load(server: Gunicorn, path: str, bodies: list[bytes], seconds: float, connections: int, workdir: Path) -> LoadResult:
    cpu_before = process_tree_cpu_seconds(server.process.pid)
    if wrk_available():
        result = run_wrk(server.host, server.port, path, bodies, seconds, connections, workdir)
    else:
        result = run_python_load(server.host, server.port, path, bodies, seconds, connections)
    result.server_cpu_seconds = process_tree_cpu_seconds(server.process.pid) - cpu_before
    return result


# --- the comparison ----------------------------------------------------------------------------------

def _median_result(results: list[LoadResult]) -> dict:
    return {
        "rps": statistics.median(r.rps for r in results),
        "server_cpu_us_per_request": statistics.median(r.cpu_us_per_request for r in results),
        "p50_ms": statistics.median(r.p50_ms for r in results),
        "p90_ms": statistics.median(r.p90_ms for r in results),
        "p99_ms": statistics.median(r.p99_ms for r in results),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
        "rounds": [{"rps": r.rps, "p50_ms": r.p50_ms, "p99_ms": r.p99_ms, "errors": r.errors,
                    "server_cpu_us_per_request": r.cpu_us_per_request} for r in results],
    }


def run(rounds: int = 3, seconds: float = 5.0, connections: int = 8, scenarios=("forward", "predict"),
        variants: bool = True, log: Callable[[str], None] = print) -> dict:
    """Start the servers, check the answers, then load them in alternating rounds."""
    workdir = Path(tempfile.mkdtemp(prefix="neuronhub-bench-http-"))
    try:
        return _run(workdir, rounds, seconds, connections, scenarios, variants, log)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(workdir: Path, rounds: int, seconds: float, connections: int, scenarios, variants: bool, log) -> dict:
    db_url = f"sqlite:///{workdir / 'bench.db'}"
    seed_database(db_url)
    ours_env = {"NEURONHUB_DATABASE_URL": db_url, "NEURONHUB_SEED_DEMO": "false"}
    with ExitStack() as stack:
        def start(name: str, app: str, env: dict[str, str], blas_threads: int = 1) -> Gunicorn:
            server = Gunicorn(app, env, workdir / f"{name}.log", blas_threads=blas_threads)
            stack.callback(server.stop)
            return server

        servers = {"ours": start("ours", "service:create_app()", ours_env)}
        answers = {}
        for scenario in scenarios:
            path, make_bodies = SCENARIOS[scenario]
            status, body = request(servers["ours"].host, servers["ours"].port, "POST", path, make_bodies()[0])
            if status != 200:
                raise RuntimeError(f"{scenario}: the service answered {status}: {body[:500]!r}")
            answers[path.rsplit("/", 1)[1]] = json.loads(body)
        answers_file = workdir / "answers.json"
        answers_file.write_text(json.dumps(answers))
        servers["floor"] = start("floor", "benchmarks.floor_app:create_app()", {"NEURONHUB_BENCH_ANSWERS": str(answers_file)})
        if variants:
            servers["ours_blas2"] = start("ours_blas2", "service:create_app()", ours_env, blas_threads=2)
            servers["ours_naive"] = start("ours_naive", "benchmarks.variants:naive_app()", ours_env)
            servers["ours_flask_path"] = start("ours_flask_path", "benchmarks.variants:flask_path_app()", ours_env)
            if "predict" in scenarios:  # the same language network stored as float32
                f32_url = f"sqlite:///{workdir / 'bench-float32.db'}"
                seed_database(f32_url, dtype="float32")
                servers["ours_float32"] = start("ours_float32", "service:create_app()",
                                                {**ours_env, "NEURONHUB_DATABASE_URL": f32_url})
        wanted = {
            "forward": ["floor", "ours"] + (["ours_flask_path", "ours_naive"] if variants else []),
            "predict": ["floor", "ours"] + (["ours_blas2", "ours_naive", "ours_float32"] if variants else []),
        }
        loader = "wrk" if wrk_available() else "python http.client threads"
        results: dict = {"load_generator": loader, "connections": connections, "seconds_per_round": seconds,
                         "rounds": rounds, "workers": 2, "scenarios": {}}
        for scenario in scenarios:
            path, make_bodies = SCENARIOS[scenario]
            bodies = make_bodies()
            names = wanted[scenario]
            for name in names:  # warm up: every worker compiles its cache, every code path runs once
                load(servers[name], path, bodies, 1.0, connections, workdir)
            samples: dict[str, list[LoadResult]] = {name: [] for name in names}
            for round_number in range(rounds):
                # every round runs each server once, in an order that alternates, so that a change in
                # the machine's other load hits all of them alike; ratios are taken within a round
                for name in (names if round_number % 2 == 0 else names[::-1]):
                    samples[name].append(load(servers[name], path, bodies, seconds, connections, workdir))
            medians = {name: _median_result(s) for name, s in samples.items()}
            for name, m in medians.items():
                ratios = [ours.rps / floor.rps for ours, floor in zip(samples[name], samples["floor"]) if floor.rps]
                cpu = [floor.cpu_us_per_request / ours.cpu_us_per_request
                       for ours, floor in zip(samples[name], samples["floor"]) if ours.requests and floor.requests]
                m["fraction_of_floor"] = statistics.median(ratios) if ratios else float("nan")
                m["round_fractions"] = ratios
                m["cpu_fraction_of_floor"] = statistics.median(cpu) if cpu else float("nan")
            results["scenarios"][scenario] = {"path": path, "answer_bytes": len(json.dumps(answers[path.rsplit('/', 1)[1]])),
                                              "servers": medians}
            if scenario == "predict":
                results["scenarios"][scenario]["prediction_in_process_us"] = {
                    dtype: prediction_in_process_us(dtype, bodies) for dtype in ("float64", "float32")}
                results["scenarios"][scenario]["output_product_us"] = output_product_us()
            for name, m in medians.items():
                log(f"  {scenario:8s} {name:13s} {m['rps']:8.0f} req/s ({m['fraction_of_floor']:.2f} of floor; "
                    f"server CPU {m['server_cpu_us_per_request']:.0f} µs/request, {m['cpu_fraction_of_floor']:.2f})  "
                    f"p50 {m['p50_ms']:.2f} ms  p99 {m['p99_ms']:.2f} ms  errors {m['errors']}")
        return results
