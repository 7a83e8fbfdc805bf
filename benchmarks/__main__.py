"""Run the benchmark suite: python -m benchmarks [--quick] [--only engine,http,large,training,jobs].

./scripts/bench sets up the benchmark virtualenv and runs this. Results go to benchmarks/results.json
and, as tables, to docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

from . import machine, report

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("engine", "http", "large", "training", "pictures", "insight", "protocols", "jobs")


def _clean(value):
    """JSON without NaN/Infinity (null instead)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer and shorter rounds: a smoke test, not figures to publish")
    parser.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts to run (default: all of {','.join(PARTS)})")
    parser.add_argument("--threads", default="1", help="BLAS / intra-op threads for the engine cases, e.g. 1 or 1,2 (default 1, as each worker runs)")
    parser.add_argument("--json", type=Path, default=ROOT / "benchmarks" / "results.json", help="where to write the results")
    parser.add_argument("--markdown", type=Path, default=ROOT / "docs" / "benchmarks.md", help="where to write the tables")
    parser.add_argument("--no-markdown", action="store_true", help="do not rewrite docs/benchmarks.md")
    parser.add_argument("--render", action="store_true", help="only rewrite the Markdown from the JSON results of an earlier run")
    args = parser.parse_args(argv)
    if args.render:
        args.markdown.write_text(report.markdown(json.loads(args.json.read_text())))
        print(f"tables: {args.markdown}")
        return 0
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    quick = args.quick

    def log(line: str) -> None:
        print(line, flush=True)

    started = time.monotonic()
    results: dict = {"quick": quick, "machine": machine.describe(), "parts": parts}
    described = results["machine"]
    blas = ", ".join(f"{b['internal_api']} {b['version']} ({b['architecture']})" for b in described["blas"])
    load = ", ".join(f"{x:.2f}" for x in described["load_average"])
    log(f"machine: {described['cpu']}, {described['cores']} cores, load average {load}; BLAS {blas}")
    if "engine" in parts:
        from . import engine

        results["engine"] = []
        for threads in [int(t) for t in args.threads.split(",")]:
            log(f"engine: ours vs PyTorch vs ONNX Runtime, {threads} thread(s), same weights and dtype")
            results["engine"] += engine.run(threads=threads, rounds=3 if quick else 9, block_seconds=0.02 if quick else 0.1, log=log)
    if "http" in parts:
        from . import http_load

        log("http: the service vs a bare Flask floor, gunicorn.conf.py with 2 workers, 127.0.0.1 only")
        results["http"] = http_load.run(rounds=2 if quick else 8, seconds=1.0 if quick else 3.0, log=log)
    if "large" in parts:
        from threadpoolctl import threadpool_limits

        from . import large_inputs

        log("large: 1024 x 784 floats through the forward endpoint, in process (1 BLAS thread)")
        with threadpool_limits(limits=1):
            results["large"] = large_inputs.run(rounds=3 if quick else 7, block_seconds=0.05 if quick else 0.3, log=log)
    if "training" in parts:
        from . import training

        log("training: default settings on service/demo/corpus.txt, ours vs PyTorch, 1 thread")
        results["training"] = training.run(threads=1, repeats=1 if quick else 5, log=log)
    if "pictures" in parts:
        from threadpoolctl import threadpool_limits

        from . import pictures

        log("pictures: GET .../diagram.svg vs a predict on the same model, in process (1 BLAS thread)")
        with threadpool_limits(limits=1):
            results["pictures"] = pictures.run(rounds=3 if quick else 7, block_seconds=0.05 if quick else 0.2, log=log)
        results["pictures_in_browser"] = pictures.browser_render(rounds=5 if quick else 15, log=log)
    if "insight" in parts:
        from . import insight

        log("insight: a neuron card, explain, predict with an intervention vs plain predict; examples over 100,000 words")
        results["insight"] = insight.run(rounds=3 if quick else 7, block_seconds=0.05 if quick else 0.2, log=log)
    if "protocols" in parts:
        from threadpoolctl import threadpool_limits

        from . import protocols

        log("protocols: Open Inference Protocol v2 vs the native API, per request, in process (1 BLAS thread)")
        with threadpool_limits(limits=1):
            results["protocols"] = protocols.run(rounds=3 if quick else 7, block_seconds=0.05 if quick else 0.3, log=log)
    if "jobs" in parts:
        from . import jobs

        results["jobs"] = jobs.run(quick, log)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.monotonic() - started
    results = _clean(results)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    log(f"results: {args.json}")
    if not args.no_markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(report.markdown(results))
        log(f"tables: {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
