"""Persistence for Neuronhub: named definitions, their weights and training jobs.

Usage::

    store = Store("sqlite:///data/neuronhub.db")   # or postgresql://user@host:port/db
    store.ensure_schema()
    record, created = store.put("neuron", "relu-1", spec, arrays, create_only=True)

No connection is opened until first use. Forked children reset the pool by
themselves (see db.py); Store.after_fork() does the same by hand.
"""

from .db import Database
from .definitions import KINDS, DefinitionStore, Record, RecordSummary
from .errors import NotFound, PreconditionFailed, StoreError, StoreUnavailable
from .jobs import (
    ACTIVE_STATES,
    FINAL_STATES,
    INTERRUPTED,
    JOB_STATES,
    LOSS_HISTORY_LIMIT,
    MAX_LOST,
    Claim,
    Job,
    JobFinished,
    JobStore,
    TooManyActiveJobs,
)
from .weights import decode_arrays, encode_arrays


class Store(DefinitionStore, JobStore, Database):
    """Definitions and jobs in one database (SQLite file or PostgreSQL)."""


__all__ = [
    "ACTIVE_STATES",
    "Claim",
    "FINAL_STATES",
    "INTERRUPTED",
    "JobFinished",
    "MAX_LOST",
    "JOB_STATES",
    "KINDS",
    "LOSS_HISTORY_LIMIT",
    "Job",
    "NotFound",
    "PreconditionFailed",
    "Record",
    "RecordSummary",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "TooManyActiveJobs",
    "decode_arrays",
    "encode_arrays",
]
