"""Timing helpers: interleaved rounds, medians, ratios measured in the same run.

The machine may be shared, so a figure alone means little: every comparison times its contenders
in alternating rounds (A, B, C, A, B, C, ...) and reports each one's median, and their ratio.
"""
from __future__ import annotations

import gc
import statistics
import time
from typing import Callable, Mapping


def calls_per_block(fn: Callable[[], object], target_seconds: float) -> int:
    """How many calls of fn fill about target_seconds (at least 1)."""
    fn()  # warm up: first-call costs (allocation, kernel selection) are not what is measured
    n = 1
    while True:
        started = time.perf_counter()
        for _ in range(n):
            fn()
        elapsed = time.perf_counter() - started
        if elapsed >= target_seconds / 4 or n >= 1 << 20:
            return max(1, int(n * target_seconds / max(elapsed, 1e-9)))
        n *= 4


def interleaved(contenders: Mapping[str, Callable[[], object]], rounds: int = 7, block_seconds: float = 0.05) -> dict[str, dict]:
    """Median seconds per call of each contender, timed in alternating blocks.

    Returns {name: {"median_s", "min_s", "rounds", "calls_per_block"}}.
    """
    sizes = {name: calls_per_block(fn, block_seconds) for name, fn in contenders.items()}
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(rounds):
            for name, fn in contenders.items():
                n = sizes[name]
                started = time.perf_counter()
                for _ in range(n):
                    fn()
                samples[name].append((time.perf_counter() - started) / n)
            gc.collect()
    finally:
        if gc_was_enabled:
            gc.enable()
    return {
        name: {"median_s": statistics.median(s), "min_s": min(s), "rounds": rounds, "calls_per_block": sizes[name]}
        for name, s in samples.items()
    }


def ratio(ours: float, reference: float) -> float:
    return ours / reference if reference > 0 else float("inf")
