"""Demo definitions added when the service starts with an empty store (NEURONHUB_SEED_DEMO)."""
from __future__ import annotations

import logging
import time

from .. import catalog
from ..demo import DEMO_LANGUAGE_MODEL_DESCRIPTION, DEMO_LANGUAGE_MODEL_NAME, DEMO_NETWORKS, DEMO_NEURONS, build_demo_language_model
from ..demo.english import DEMO_ENGLISH_DESCRIPTION, DEMO_ENGLISH_NAME, DEMO_ENGLISH_SETTINGS, demo_english_texts
from ..jobs import enqueue_training
from ..store import PreconditionFailed, Store
from .definitions import NETWORKS, NEURONS, Kind

log = logging.getLogger("neuronhub")


def seed(store: Store, wait_seconds: float = 30.0, *, english: bool = True) -> None:
    """Add the demo set to an empty store, so that no worker serves before it is all there.

    Every worker that finds the store empty trains the demo language network (about a second, once
    per empty store); the one that stores it first adds the rest, in milliseconds, and the others
    wait (at most wait_seconds) until the last of them is there. Before, the first worker claimed
    the seeding with a neuron and trained afterwards, so another worker could answer 404 for the
    README's first prediction during that second.

    With `english`, the same worker then queues the training of demo-english as an ordinary job
    (minutes, not a second: a training worker runs it; the network appears when the job succeeds).
    """
    if store.list(catalog.NEURON, limit=1) or store.list(catalog.NETWORK, limit=1):
        return
    model, _ = build_demo_language_model()
    spec, arrays = catalog.compiled_network_record(model.network, model, DEMO_LANGUAGE_MODEL_DESCRIPTION)
    demos = [(kind, name, body) for kind, definitions in ((NEURONS, DEMO_NEURONS), (NETWORKS, DEMO_NETWORKS)) for name, body in definitions.items()]
    if _create(store, NETWORKS, DEMO_LANGUAGE_MODEL_NAME, spec, arrays):
        for kind, name, body in demos:
            _create(store, kind, name, *kind.to_record(kind.schema.load_or_problem(body)))
        if english:
            job = enqueue_training(store, DEMO_ENGLISH_NAME, demo_english_texts(), DEMO_ENGLISH_SETTINGS, DEMO_ENGLISH_DESCRIPTION)
            log.info("queued the training of demo network %r as job %s", DEMO_ENGLISH_NAME, job.id)
        return
    last_kind, last_name, _ = demos[-1]  # another worker is adding them
    give_up = time.monotonic() + wait_seconds
    while store.current_revision(last_kind.name, last_name) is None and time.monotonic() < give_up:
        time.sleep(0.05)


def _create(store: Store, kind: Kind, name: str, spec: dict, arrays: list) -> bool:
    try:
        store.put(kind.name, name, spec, arrays, create_only=True)
    except PreconditionFailed:
        return False
    log.info("added demo %s %r", kind.name, name)
    return True
