"""docs/benchmarks.md is rendered from benchmarks/results.json; the suite itself runs outside CI
(./scripts/bench needs PyTorch and ONNX Runtime), so its report code is checked here."""
from __future__ import annotations

import copy
import json
from pathlib import Path

from benchmarks import report

ROOT = Path(__file__).resolve().parents[2]


def committed_results() -> dict:
    return json.loads((ROOT / "benchmarks" / "results.json").read_text())


def test_the_committed_page_is_the_rendering_of_the_committed_results():
    assert (ROOT / "docs" / "benchmarks.md").read_text() == report.markdown(committed_results())


def test_every_engine_case_and_http_scenario_is_in_the_tables():
    results = committed_results()
    page = report.markdown(results)
    for row in results["engine"]:
        assert f"| {row['case']} |" in page
    for scenario in ("forward", "predict"):
        assert f"| {scenario} | **Neuronhub** |" in page


def _with_predict_product(results: dict, float64_us: float, float32_us: float) -> dict:
    changed = copy.deepcopy(results)
    predict = changed["http"]["scenarios"]["predict"]
    predict["output_product_us"]["float64"]["1"] = float64_us
    predict["output_product_us"]["float32"]["1"] = float32_us
    return changed


def test_the_page_says_a_target_cannot_be_met_only_where_the_runs_own_bound_says_so():
    results = committed_results()
    floor = results["http"]["scenarios"]["predict"]["servers"]["floor"]["server_cpu_us_per_request"]
    # bound = floor / (floor + product): below 0.6 exactly when product > floor * (1/0.6 - 1)
    limit = floor * (1 / report.HTTP_TARGETS["predict"] - 1)
    out_of_reach = "\n".join(report._findings(_with_predict_product(results, limit * 3, limit * 2)))
    assert "cannot be met" in out_of_reach and "Nor in float32." in out_of_reach
    float32_room = "\n".join(report._findings(_with_predict_product(results, limit * 3, limit / 2)))
    assert "cannot be met" in float32_room and "Nor in float32." not in float32_room
    within_reach = "\n".join(report._findings(_with_predict_product(results, limit / 2, limit / 4)))
    assert "cannot be met" not in within_reach


def test_misses_are_named_with_their_ratio():
    results = copy.deepcopy(committed_results())
    row = results["engine"][0]
    row["references"]["onnxruntime"]["ratio"] = 1.5
    findings = "\n".join(report._findings(results))
    assert f"{row['case']} vs ONNX Runtime 1.50×" in findings


def test_the_insight_figures_render_when_a_run_has_them():
    results = copy.deepcopy(committed_results())
    results["insight"] = {"model": "neuron-language-model", "neuron": [0, 62], "example_words": 102610, "examples_s": 0.5, "score_s": 1.1,
                          "rows": [{"case": "predict", "http_s": 8e-4, "http_ratio": 1.0, "engine_s": 2e-4, "engine_ratio": 1.0},
                                   {"case": "explain (k=10)", "http_s": 1.2e-3, "http_ratio": 1.5, "engine_s": 4e-4, "engine_ratio": 2.0}]}
    page = report.markdown(results)
    assert "| explain (k=10) | 1200 µs | 1.50× | 400 µs | 2.00× |" in page
    assert "over 102,610 words: 0.500 s per request" in page
    without = copy.deepcopy(committed_results())
    without.pop("insight", None)
    assert "## Understanding a neuron" not in report.markdown(without)


def test_the_jobs_part_renders_its_ratios_against_its_targets():
    results = copy.deepcopy(committed_results())
    results["jobs"] = {
        "checkpoints": {"steps_per_second_no_checkpoints": 12.0, "steps_per_second_checkpoint_every_1s": 11.0, "ratio_every_1s": 11 / 12,
                        "checkpoint_seconds": 0.09, "checkpoint_bytes": 3_050_000, "share_at_default_interval": 0.09 / 30.09,
                        "predicted_ratio_every_1s": 1 / 1.09, "step_seconds": 1 / 12},
        "latency": {"idle_ms": 2.0, "training_batch_ms": 2.5, "ratio_batch": 1.25, "training_normal_ms": 4.0, "ratio_normal": 2.0,
                    "idle_again_ms": 2.1},
    }
    page = report.markdown(results)
    assert "| steps per second, a checkpoint every 1 s | 11.0 | 0.92× |" in page
    assert "| one checkpoint (validation loss, serialise, store; 3.05 MB) | 90.0 ms | 0.30% of training at the default 30 s (target < 5 %) |" in page
    assert "| ... while a worker trains (priority batch, own session) | 2.50 ms | 1.25× ✓ |" in page
    assert "| ... while a worker trains (priority normal) | 4.00 ms | 2.00× |" in page
