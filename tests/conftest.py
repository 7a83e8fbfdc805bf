"""Database fixtures shared by every test suite."""

from __future__ import annotations

from typing import Iterator

import pytest

from service.store import Store
from tests.support.postgres import PostgresNotAvailable, PostgresNotInstalled, fresh_database, postgres_server
from tests.support.system_packages import package_missing


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL server for the whole session (NEURONHUB_TEST_POSTGRES_URL, or a throwaway one)."""
    try:
        with postgres_server() as url:
            yield url
    except PostgresNotInstalled:
        package_missing("the PostgreSQL server (initdb and pg_ctl)", "postgresql")
    except PostgresNotAvailable as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'neuronhub.db'}"
    else:
        with fresh_database(request.getfixturevalue("postgres_url")) as url:
            yield url


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A Store with its schema created, disposed after the test."""
    store = Store(db_url)
    store.ensure_schema()
    yield store
    store.dispose()


_DEMO_ENGLISH_WANTED = pytest.StashKey[bool]()


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_DEMO_ENGLISH_WANTED] = any("demo_english" in getattr(item, "fixturenames", ()) for item in session.items)


@pytest.fixture(scope="session", autouse=True)
def _demo_english_training(request, tmp_path_factory):
    """demo-english's training (minutes), started before the first test when a selected test needs
    the model: it runs on the second core while the rest of the suite does."""
    if not request.config.stash.get(_DEMO_ENGLISH_WANTED, False):
        yield None
        return
    from tests.support.demo_english import DemoEnglishRun

    run = DemoEnglishRun(tmp_path_factory.mktemp("demo-english"))
    try:
        yield run
    finally:
        run.stop()


@pytest.fixture(scope="session")
def demo_english(_demo_english_training):
    """(server, first job, final job): demo-english trained once per test session, as a first start does."""
    return _demo_english_training.wait()
