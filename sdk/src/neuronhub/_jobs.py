"""client.jobs: training jobs, read and waited for."""
from __future__ import annotations

import time
from typing import Callable

from . import _decode, _http
from . import _operations as op
from ._errors import JobTimeoutError
from ._http import Transport
from ._models import Job

_clock: Callable[[], float] = time.monotonic  # replaced in tests


class Jobs:
    """client.jobs: get, wait."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self, job_id: str) -> Job:
        """The job as it is now: state, progress, loss, and its result or error once it finished."""
        response = self._transport.send(op.GET_JOB, path={"job_id": job_id})
        return _decode.decoded(response, _decode.job)

    def wait(self, job_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5) -> Job:
        """Poll until the job succeeded or failed, and return it (check `job.state`: a failed job is
        returned, not raised). Raises JobTimeoutError, with the job as last seen, after `timeout` seconds.
        Each poll is a GET, retried on connection errors, 429 and 5xx like any other."""
        if timeout < 0 or poll_interval <= 0:
            raise ValueError(f"timeout must be 0 or more and poll_interval positive, got {timeout} and {poll_interval}")
        deadline = _clock() + timeout
        while True:
            job = self.get(job_id)
            remaining = deadline - _clock()
            if job.done:
                return job
            if remaining <= 0:
                raise JobTimeoutError(job, timeout)
            _http._sleep(min(poll_interval, remaining))
