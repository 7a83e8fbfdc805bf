"""client.jobs: training jobs, listed, read, followed, waited for and cancelled."""
from __future__ import annotations

import dataclasses
import json
import time
from typing import Any, Callable, Iterator

from . import _decode, _http
from . import _operations as op
from ._errors import JobTimeoutError, UnexpectedResponseError
from ._http import Transport
from ._models import Job, JobState, NetworkDefinition, Page

_clock: Callable[[], float] = time.monotonic  # replaced in tests


class Jobs:
    """client.jobs: get, list, iter, wait, events, cancel, trained_network."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def get(self, job_id: str) -> Job:
        """The job as it is now: state, progress, loss, and its result or error once it finished."""
        response = self._transport.send(op.GET_JOB, path={"job_id": job_id})
        return self._bind(_decode.decoded(response, _decode.job))

    def list(self, *, state: JobState | None = None, network: str | None = None, limit: int | None = None,
             cursor: str | None = None) -> Page[Job]:
        """One page of jobs, newest first, optionally only those in `state` or for `network`. Pass the
        page's `next_cursor` as `cursor` for the next one."""
        query = {"state": state, "network": network, "limit": limit, "cursor": cursor}
        page = _decode.decoded(self._transport.send(op.LIST_JOBS, query=query), _decode.page(_decode.job))
        return Page(tuple(self._bind(job) for job in page.items), page.next_cursor)

    def iter(self, *, state: JobState | None = None, network: str | None = None, page_size: int | None = None) -> Iterator[Job]:
        """Every job (newest first), fetching page after page as you go."""
        cursor: str | None = None
        while True:
            page = self.list(state=state, network=network, limit=page_size, cursor=cursor)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def cancel(self, job_id: str) -> Job:
        """Cancel a job: a queued one at once (state "cancelled"); a running one stops within a second of
        its worker seeing the request (cancel_requested is True until then). ConflictError once it ended."""
        response = self._transport.send(op.CANCEL_JOB, path={"job_id": job_id})
        return self._bind(_decode.decoded(response, _decode.job))

    def wait(self, job_id: str, *, timeout: float = 600.0, poll_interval: float = 0.5,
             on_progress: Callable[[Job], None] | None = None) -> Job:
        """Poll until the job ended (succeeded, failed or cancelled), and return it (check `job.state`:
        a failed job is returned, not raised). `on_progress` is called with the job at every poll, e.g.
        to move a progress bar. Raises JobTimeoutError, with the job as last seen, after `timeout`
        seconds. Each poll is a GET, retried on connection errors, 429 and 5xx like any other."""
        if timeout < 0 or poll_interval <= 0:
            raise ValueError(f"timeout must be 0 or more and poll_interval positive, got {timeout} and {poll_interval}")
        deadline = _clock() + timeout
        while True:
            job = self.get(job_id)
            if on_progress is not None:
                on_progress(job)
            remaining = deadline - _clock()
            if job.done:
                return job
            if remaining <= 0:
                raise JobTimeoutError(job, timeout)
            _http._sleep(min(poll_interval, remaining))

    def events(self, job_id: str) -> Iterator[Job]:
        """The job at every change, as the service streams it (server-sent events), ending with the job
        as it ended. The service closes a stream after a while; this connects again until the end."""
        while True:
            response = self._transport.send(op.GET_JOB_EVENTS, path={"job_id": job_id}, stream=True)
            response.encoding = "utf-8"  # the HTML standard's encoding of every event stream
            received = 0
            try:
                for event, data in _server_sent_events(response.iter_lines(decode_unicode=True)):
                    if event not in ("update", "end"):
                        continue
                    received += 1
                    try:
                        job = self._bind(_decode.job(data))
                    except (KeyError, TypeError, ValueError) as exc:
                        raise UnexpectedResponseError(f"an event's job is not what the API documents: {exc!r}") from None
                    yield job
                    if event == "end":
                        return
            finally:
                response.close()
            if not received:  # the service starts every stream with the job as it is: something else answered
                raise UnexpectedResponseError(f"GET /v1/jobs/{job_id}/events ended without an event")

    def trained_network(self, job_id: str) -> NetworkDefinition:
        """What a job trained but could not store because its network changed meanwhile (its error has
        status 412), kept a day: store it with client.networks.put under another name."""
        response = self._transport.send(op.GET_JOB_NETWORK, path={"job_id": job_id})
        return _decode.decoded(response, _decode.network_definition)

    def _bind(self, job: Job) -> Job:
        """The job, able to refresh, cancel, follow and wait for itself through this client."""
        return dataclasses.replace(job, _jobs=self)


def _server_sent_events(lines: Iterator[Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(event, JSON data) of a text/event-stream, per the HTML standard's parsing rules (comments and
    other fields skipped, data lines joined)."""
    event = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                try:
                    yield event, json.loads("\n".join(data))
                except ValueError as exc:
                    raise UnexpectedResponseError(f"an event's data is not JSON: {exc}") from None
            event, data = "message", []
        elif line.startswith(":"):
            continue
        else:
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "event":
                event = value
            elif name == "data":
                data.append(value)
