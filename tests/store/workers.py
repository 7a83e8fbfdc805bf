"""A team of worker processes for the concurrency tests.

The processes are started once with the spawn method (starting them is the
slow part: each imports the service) and then run one task per round. In a
round every worker builds its own Store, connects, waits at a shared barrier
so that all of them write at the same moment, and reports (index, outcome).
An unexpected exception is reported as ("error", repr) rather than raised.
"""

from __future__ import annotations

import multiprocessing

import numpy as np

from service.store import PreconditionFailed, Store

TIMEOUT = 120


class ProcessTeam:
    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.size = size
        self._barrier = context.Barrier(size + 1)
        self._results = context.Queue()
        self._inboxes = [context.Queue() for _ in range(size)]
        self._processes = [
            context.Process(target=_serve, args=(index, self._barrier, inbox, self._results), daemon=True)
            for index, inbox in enumerate(self._inboxes)
        ]
        for process in self._processes:
            process.start()

    def run(self, task_name: str, url: str, *args) -> list:
        """Run the task in every worker at once; return the outcomes ordered by worker index."""
        for inbox in self._inboxes:
            inbox.put((task_name, url, args))
        self._barrier.wait(TIMEOUT)
        outcomes = dict(self._results.get(timeout=TIMEOUT) for _ in range(self.size))
        return [outcomes[index] for index in range(self.size)]

    def stop(self) -> None:
        for inbox in self._inboxes:
            inbox.put(None)
        for process in self._processes:
            process.join(TIMEOUT)
            if process.is_alive():
                process.kill()
        for queue in (*self._inboxes, self._results):
            queue.close()
            queue.join_thread()


def _serve(index, barrier, inbox, results) -> None:
    while (task := inbox.get()) is not None:
        task_name, url, args = task
        results.put((index, _run(TASKS[task_name], url, index, barrier, args)))


def _run(task, url, index, barrier, args):
    store = Store(url)
    try:
        store.ping()  # connect first, so that the race is between the writes
        barrier.wait(TIMEOUT)
        return task(store, index, *args)
    except Exception as error:
        return ("error", repr(error))
    finally:
        store.dispose()


def conditional_put(store, index, create_only, if_match):
    try:
        record, created = store.put(
            "neuron", "contested", {"writer": index}, [np.full(3, index, np.float32)],
            if_match=if_match, create_only=create_only,
        )
    except PreconditionFailed as failure:
        return ("precondition", failure.current_revision)
    return ("ok", record.revision, created)


def write_burst(store, index, writes):
    """Start on a schema-less database, then alternate unconditional puts on a
    shared name with if_match puts on a name of one's own."""
    store.ensure_schema()
    shared_revisions, own_revision = [], None
    for step in range(writes):
        if step % 2 == 0:
            record, _ = store.put("network", "shared", {"writer": index, "step": step}, [np.arange(4.0)])
            shared_revisions.append(record.revision)
        else:
            record, _ = store.put("neuron", f"own-{index}", {"step": step}, [np.ones(2)], if_match=own_revision)
            own_revision = record.revision
    return ("ok", shared_revisions, own_revision)


def claim_all(store, index, lease_seconds):
    """Claim jobs until none is left; the ids this process got."""
    claimed = []
    while (taken := store.claim_job(f"worker-{index}", lease_seconds)) is not None:
        claimed.append(taken[1].id)
    return ("ok", claimed)


def submit_limited(store, index, max_active):
    """Submit jobs for one requester at once from every process, under a limit."""
    from service.store import TooManyActiveJobs

    try:
        return ("ok", store.create_job("train", f"n{index}", {}, requester="same", max_active=max_active).id)
    except TooManyActiveJobs as refused:
        return ("refused", refused.active)


TASKS = {"conditional_put": conditional_put, "write_burst": write_burst, "claim_all": claim_all, "submit_limited": submit_limited}
