"""Lower a worker's CPU priority, so that serving keeps its latency on a machine the worker shares.

`nice` alone is not enough on Linux: with scheduler autogroups (kernel.sched_autogroup_enabled) every
session is one scheduling group, and a process's nice value only weighs within its own group. A
worker started in a session of its own (setsid, as ./scripts/serve does; a container) competes with
the web server as a whole group of weight 1024 whatever its nice value. So, as far as allowed:

- batch: SCHED_BATCH (no wake-up preemption of interactive tasks) with nice 19, and, when the worker
  leads its own session, its autogroup's nice set to 19 as well;
- idle: SCHED_IDLE (runs only when nothing else wants the CPU; a worker can then starve and lose its
  lease on a saturated machine), and the autogroup's nice likewise;
- nice: nice 19 only; normal: unchanged.

In a container the cgroup's CPU weight decides between containers (docker-compose.yml sets it).
"""
from __future__ import annotations

import os

from ..config import TRAINING_PRIORITIES as PRIORITIES

AUTOGROUP = "/proc/self/autogroup"


def lower_priority(mode: str) -> str:
    """Apply `mode` to this process (and the threads it starts later); what was applied, for the log."""
    if mode not in PRIORITIES:
        raise ValueError(f"unknown priority {mode!r}; expected one of {', '.join(PRIORITIES)}")
    applied: list[str] = []
    if mode == "normal":
        return "normal"
    try:
        os.setpriority(os.PRIO_PROCESS, 0, 19)
        applied.append("nice 19")
    except OSError as exc:
        applied.append(f"nice refused ({exc.strerror})")
    if mode in ("batch", "idle"):
        policy = os.SCHED_BATCH if mode == "batch" else os.SCHED_IDLE
        try:
            os.sched_setscheduler(0, policy, os.sched_param(0))
            applied.append(f"SCHED_{mode.upper()}")
        except (OSError, AttributeError) as exc:
            applied.append(f"SCHED_{mode.upper()} refused ({exc})")
        applied.append(_lower_autogroup())
    return ", ".join(applied)


def _lower_autogroup() -> str:
    if os.getsid(0) != os.getpid():
        return "autogroup shared with its session (start the worker with setsid to lower it)"
    try:
        with open(AUTOGROUP, "w") as autogroup:
            autogroup.write("19")
    except OSError as exc:
        return f"autogroup unchanged ({exc.strerror or exc})"
    return "autogroup nice 19"
