"""When to send a request again, and how long to wait first.

Only idempotent operations are retried (GET, PUT, DELETE, and the POSTs openapi.yaml marks
x-idempotent), and only after a connection error, a timeout, 429 or a 5xx. The wait grows
exponentially from `initial_delay` up to `max_delay`, less up to 25% of random jitter so that many
clients do not retry in step; a Retry-After from the service replaces it, capped at `max_retry_after`.
"""
from __future__ import annotations

import random
from dataclasses import dataclass

from ._errors import APIConnectionError, APIStatusError, NeuronhubError
from ._operations import Operation

JITTER = 0.25


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 30.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be 0 or more, got {self.max_retries}")

    def should_retry(self, operation: Operation, error: NeuronhubError, retries_done: int) -> bool:
        if retries_done >= self.max_retries or not operation.idempotent:
            return False
        if isinstance(error, APIConnectionError):
            return True
        return isinstance(error, APIStatusError) and (error.status == 429 or error.status >= 500)

    def delay(self, retries_done: int, retry_after: float | None = None, rand: float | None = None) -> float:
        """Seconds to wait before retry number `retries_done + 1`."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after)
        backoff = min(self.initial_delay * 2.0**retries_done, self.max_delay)
        return backoff * (1 - JITTER * (random.random() if rand is None else rand))
