"""Demo definitions added when the service starts with an empty store (NEURONHUB_SEED_DEMO)."""
from __future__ import annotations

import logging

from .. import catalog
from ..demo import DEMO_LANGUAGE_MODEL_DESCRIPTION, DEMO_LANGUAGE_MODEL_NAME, DEMO_NETWORKS, DEMO_NEURONS, build_demo_language_model
from ..store import PreconditionFailed, Store
from .definitions import NETWORKS, NEURONS, Kind

log = logging.getLogger("neuronhub")


def seed(store: Store) -> None:
    """The worker that creates the first demo definition adds the rest; the others leave it to it
    (so only one of them trains the demo language network, about a second of work)."""
    if store.list(catalog.NEURON, limit=1) or store.list(catalog.NETWORK, limit=1):
        return
    demos = [(kind, name, body) for kind, definitions in ((NEURONS, DEMO_NEURONS), (NETWORKS, DEMO_NETWORKS)) for name, body in definitions.items()]
    for i, (kind, name, body) in enumerate(demos):
        if not _create(store, kind, name, *kind.to_record(kind.schema.load_or_problem(body))) and i == 0:
            return  # another worker is seeding
    model, _ = build_demo_language_model()
    spec, arrays = catalog.compiled_network_record(model.network, model, DEMO_LANGUAGE_MODEL_DESCRIPTION)
    _create(store, NETWORKS, DEMO_LANGUAGE_MODEL_NAME, spec, arrays)


def _create(store: Store, kind: Kind, name: str, spec: dict, arrays: list) -> bool:
    try:
        store.put(kind.name, name, spec, arrays, create_only=True)
    except PreconditionFailed:
        return False
    log.info("added demo %s %r", kind.name, name)
    return True
