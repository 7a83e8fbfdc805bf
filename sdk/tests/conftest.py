"""Fixtures for the SDK tests: a mocked service (responses) and a real one (gunicorn)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import pytest
import responses

import sdk_samples
from neuronhub import Client, RetryPolicy

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # the live server comes from the service's test suite
    sys.path.insert(0, str(REPO))

BASE = sdk_samples.BASE


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between retries, recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr("neuronhub._http._sleep", recorded.append)
    return recorded


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[Client]:
    with Client(BASE, api_key="secret-key", timeout=3.5, retry=RetryPolicy(max_retries=2)) as client:
        yield client


@pytest.fixture(scope="session")
def live_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.contract.live_server import live_server

    with live_server(tmp_path_factory.mktemp("sdk-live")) as server:
        yield server.url
