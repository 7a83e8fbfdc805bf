"""Store.change_token(): cheap, and never stale about commits made anywhere.

SQLite answers from PRAGMA data_version, synchronously: a commit by any connection of any process
changes the next token. PostgreSQL answers from notifications sent at commit by a trigger: another
process's commit shows as soon as its notification arrives (asynchronously, typically well under a
millisecond), this Store's own writes at once. When the listener is down, the token is None and the
cache asks the database on every lookup.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from service.catalog import CompiledCache
from service.store import Store
from service.store import db as db_module

ROOT = Path(__file__).resolve().parents[2]


def put(store: Store, name: str = "n", value: float = 1.0) -> int:
    record, _ = store.put("network", name, {"v": value}, [np.array([value])])
    return record.revision


def changed_within(store: Store, before: object, seconds: float) -> float | None:
    """Seconds until store.change_token() differs from before (None if it never did)."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        token = store.change_token()
        if token is not None and token != before:
            return time.monotonic() - started
        time.sleep(0.0005)
    return None


def statements(store: Store) -> list[str]:
    seen: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: seen.append(statement))
    return seen


def test_token_is_stable_while_nothing_is_committed(store):
    first = store.change_token()
    assert first is not None
    assert all(store.change_token() == first for _ in range(20))
    store.current_revision("network", "n")  # reads do not change it
    store.get("network", "n")
    assert store.change_token() == first


def test_own_writes_change_the_token_at_once(store):
    for value in range(5):
        before = store.change_token()
        put(store, value=float(value))
        after = store.change_token()
        assert after is not None and after != before


def test_a_commit_through_another_store_changes_the_token(store, db_url):
    other = Store(db_url)
    try:
        for value in range(20):
            before = store.change_token()
            assert before is not None
            put(other, value=float(value))
            if store.is_sqlite:
                assert store.change_token() != before  # synchronous: the very next look
            else:
                assert changed_within(store, before, 2.0) is not None
    finally:
        other.dispose()


def test_a_commit_by_another_process_changes_the_token(store, db_url):
    before = store.change_token()
    script = (
        "import numpy as np, sys; from service.store import Store; s = Store(sys.argv[1]); "
        "s.put('network', 'elsewhere', {}, [np.zeros(1)]); s.dispose()"
    )
    subprocess.run([sys.executable, "-c", script, db_url], cwd=ROOT, check=True, timeout=120)
    if store.is_sqlite:
        assert store.change_token() != before
    else:
        assert changed_within(store, before, 2.0) is not None


def test_the_cache_reads_nothing_while_nothing_changes_and_never_serves_a_stale_revision(store, db_url):
    cache = CompiledCache(store, capacity=8)
    writer = Store(db_url)
    try:
        put(writer, value=1.0)
        assert cache.get("network", "n", lambda record: record.spec["v"]).model == 1.0
        executed = statements(store)
        for _ in range(50):
            assert cache.get("network", "n", lambda record: record.spec["v"]).model == 1.0
        assert executed == []  # steady state: no database round trip at all
        for value in range(2, 12):
            revision = put(writer, value=float(value))
            if not store.is_sqlite:  # another replica's write: its notification must arrive first
                deadline = time.monotonic() + 2.0
                while cache.get("network", "n", lambda r: r.spec["v"]).revision != revision and time.monotonic() < deadline:
                    time.sleep(0.0005)
            compiled = cache.get("network", "n", lambda record: record.spec["v"])
            assert (compiled.revision, compiled.model) == (revision, float(value))
        writer.delete("network", "n")
        deadline = time.monotonic() + 2.0
        while cache.get("network", "n", lambda r: r.spec["v"]) is not None:
            assert store.is_sqlite is False and time.monotonic() < deadline
            time.sleep(0.0005)
    finally:
        writer.dispose()


def test_own_writes_are_seen_by_the_cache_at_once(store):
    cache = CompiledCache(store, capacity=8)
    for value in range(1, 6):
        revision = put(store, value=float(value))
        compiled = cache.get("network", "n", lambda record: record.spec["v"])
        assert (compiled.revision, compiled.model) == (revision, float(value))


def test_forked_child_watches_with_its_own_connection(store):
    first = store.change_token()
    watcher = store._watcher
    pid = os.fork()
    if pid == 0:
        ok = store._watcher is None
        put(store, "from-child")
        ok = ok and store.change_token() is not None
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store._watcher is watcher
    if store.is_sqlite:
        assert store.change_token() != first
    else:
        assert changed_within(store, first, 2.0) is not None


# --- PostgreSQL: the listener ------------------------------------------------------------------------

def libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture
def pg_store(postgres_url):
    from tests.support.postgres import fresh_database

    with fresh_database(postgres_url) as url:
        store = Store(url)
        store.ensure_schema()
        yield store, url
        store.dispose()


def test_postgres_listener_down_means_no_token_then_it_reconnects(pg_store, monkeypatch):
    store, url = pg_store
    monkeypatch.setattr(db_module, "LISTENER_RETRY_SECONDS", 0.2)
    cache = CompiledCache(store, capacity=8)
    put(store, value=1.0)
    first = store.change_token()
    assert first is not None
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE application_name = 'neuronhub-listener' AND datname = current_database()")
        deadline = time.monotonic() + 5
        while store.change_token() is not None:  # the closed connection is noticed ...
            assert time.monotonic() < deadline
            time.sleep(0.01)
        # ... and while there is no listener, every lookup asks the database: a write elsewhere is seen
        admin.execute("UPDATE definitions SET revision = revision + 1, spec = '{\"v\": 5.0}' WHERE name = 'n'")
        compiled = cache.get("network", "n", lambda record: record.spec["v"])
        assert (compiled.revision, compiled.model) == (2, 5.0)
    deadline = time.monotonic() + 5
    while (token := store.change_token()) is None:  # it reconnects by itself
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert token != first  # a new generation: nothing vouched for before the outage is trusted


def test_postgres_without_the_trigger_gives_no_token(pg_store):
    store, url = pg_store
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute(f"DROP TRIGGER {db_module.CHANGE_TRIGGER} ON definitions")
    fresh = Store(url)
    try:
        assert fresh.change_token() is None
    finally:
        fresh.dispose()


def test_postgres_a_silent_listener_is_given_up(pg_store):
    """A listener whose ping is not answered in time (a network partition) stops vouching."""
    store, _ = pg_store
    assert store.change_token() is not None
    watcher = store._watcher

    class Silent:  # the connection as a partition leaves it: nothing ever arrives
        def __init__(self, pgconn):
            self._pgconn = pgconn

        def is_busy(self):
            return True

        def __getattr__(self, name):
            return getattr(self._pgconn, name)

    watcher._pgconn = Silent(watcher._pgconn)
    watcher._ping_sent_at = time.monotonic() - 10  # as if a ping had been in flight for 10 s
    assert store.change_token() is None


def test_postgres_role_that_may_not_create_the_trigger_still_starts(pg_store, caplog):
    """A locked-down role (tables exist, no right to create functions or triggers): start-up works,
    the cache falls back to reading the revision."""
    store, url = pg_store
    role = "nh_limited_" + make_url(url).database[-8:]
    with psycopg.connect(libpq(url), autocommit=True) as admin:
        admin.execute(f"DROP TRIGGER {db_module.CHANGE_TRIGGER} ON definitions")
        admin.execute(f"CREATE ROLE {role} LOGIN")
        admin.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        admin.execute(f"REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        admin.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    limited = Store(make_url(url).set(username=role).render_as_string(hide_password=False))
    try:
        limited.ensure_schema()  # must not raise
        assert "change-notification trigger" in caplog.text
        assert limited.change_token() is None
        put(limited, value=2.0)
        assert limited.current_revision("network", "n") == 1
    finally:
        limited.dispose()
        with psycopg.connect(libpq(url), autocommit=True) as admin:
            admin.execute(f"DROP OWNED BY {role}")
            admin.execute(f"DROP ROLE {role}")
