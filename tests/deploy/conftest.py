"""Fixtures for the deployment tests: real gunicorn servers on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Callable, Iterator

import pytest

from tests.support.postgres import PostgresNotInstalled, PostgresServer, fresh_database, private_server
from tests.support.system_packages import package_missing

from .support import Server


@pytest.fixture
def serve(tmp_path) -> Iterator[Callable[..., Server]]:
    """serve(env, **options) starts a gunicorn; all are stopped after the test, logs shown on failure."""
    started: list[Server] = []

    def start(env: dict[str, str], **options) -> Server:
        server = Server(env, tmp_path / f"gunicorn-{len(started)}.log", **options)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'neuronhub.db'}"


@pytest.fixture
def pg_url(postgres_url) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL server."""
    with fresh_database(postgres_url) as url:
        yield url


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of this module's own, to stop and restart."""
    try:
        with private_server() as server:
            yield server
    except PostgresNotInstalled:
        package_missing("the PostgreSQL server (initdb and pg_ctl)", "postgresql")
