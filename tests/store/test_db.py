import os
import socket
import threading

import numpy as np
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from service.store import Store, StoreUnavailable
from service.store.db import normalize_url, utcnow


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(
    "given, expected",
    [
        ("postgres://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///data/x.db", "sqlite:///data/x.db"),
    ],
)
def test_urls_are_normalised(given, expected):
    assert normalize_url(given).render_as_string() == expected


@pytest.mark.parametrize("url", ["mysql://u@h/db", "sqlite://", "sqlite:///:memory:"])
def test_unsupported_urls_are_rejected(url):
    with pytest.raises(ValueError):
        Store(url)


def test_construction_opens_no_connection(tmp_path):
    path = tmp_path / "nested" / "dir" / "n.db"
    store = Store(f"sqlite:///{path}")
    unreachable = Store(f"postgresql://nobody@127.0.0.1:{closed_port()}/none")
    assert store._engine is None and unreachable._engine is None
    assert not path.parent.exists()
    store.ensure_schema()
    assert path.exists()
    store.dispose()


def test_unreachable_database_raises_store_unavailable():
    store = Store(f"postgresql://nobody@127.0.0.1:{closed_port()}/none")
    assert store.ping() is False
    with pytest.raises(StoreUnavailable):
        store.get("neuron", "n")
    with pytest.raises(StoreUnavailable):
        store.ensure_schema()
    store.dispose()


def test_ensure_schema_is_idempotent(db_url):
    for _ in range(2):
        store = Store(db_url)
        assert store.ping() is True
        store.ensure_schema()
        store.ensure_schema()
        assert set(sa.inspect(store.engine).get_table_names()) >= {"definitions", "jobs"}
        store.put("neuron", "n", {}, [])
        store.dispose()
    store = Store(db_url)
    assert store.current_revision("neuron", "n") == 2
    store.dispose()


def test_sqlite_connections_are_configured(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'n.db'}")
    with store.engine.connect() as conn:
        pragma = lambda name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()  # noqa: E731
        assert pragma("journal_mode") == "wal"
        assert pragma("busy_timeout") == 30_000
        assert pragma("foreign_keys") == 1
    store.dispose()


def test_sqlite_writes_begin_immediate_and_reads_deferred(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'n.db'}")
    store.ensure_schema()
    statements = []
    event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    store.put("neuron", "n", {}, [])
    store.get("neuron", "n")
    store.create_job("train", "n", {})
    begins = [s for s in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE", "BEGIN DEFERRED", "BEGIN IMMEDIATE"]
    store.dispose()


def test_timestamps_are_utc_on_both_backends(store):
    record, _ = store.put("neuron", "n", {}, [np.ones(1)])
    got = store.get("neuron", "n")
    assert got.created_at.utcoffset().total_seconds() == 0
    assert got.created_at == record.created_at and got.updated_at == record.updated_at


def test_forked_child_gets_its_own_connections(store):
    store.put("neuron", "n", {}, [])
    parent_pool = store.engine.pool
    pid = os.fork()
    if pid == 0:  # child: must not touch the parent's connection
        ok = store.engine.pool is not parent_pool and store.current_revision("neuron", "n") == 1
        store.put("neuron", "n", {}, [])
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert store.engine.pool is parent_pool
    assert store.current_revision("neuron", "n") == 2
    assert store.put("neuron", "n", {}, [])[0].revision == 3


def test_store_is_safe_to_share_between_threads(store):
    def write(thread):
        for step in range(10):
            store.put("neuron", f"t{thread}", {"step": step}, [np.full(2, step)])
            store.put("network", "shared", {"thread": thread}, [])

    threads = [threading.Thread(target=write, args=(thread,)) for thread in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert store.current_revision("network", "shared") == 60
    assert [(s.name, s.revision, s.spec) for s in store.list("neuron", 10)] == [
        (f"t{thread}", 10, {"step": 9}) for thread in range(6)
    ]


def test_an_older_jobs_table_gains_the_queue_columns(db_url):
    """A database made before the job queue: ensure_schema adds the columns, old rows stay readable."""
    from service.store.db import jobs

    old = sa.MetaData()
    new_columns = {"lease_expires_at", "attempts", "lost", "cancel_requested", "progress", "warnings", "requester"}
    sa.Table("jobs", old, *[sa.Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable)
                            for c in jobs.columns if c.name not in new_columns])
    store = Store(db_url)
    with store.write() as conn:
        old.create_all(conn)
        now = utcnow()
        conn.execute(old.tables["jobs"].insert().values(
            id="a" * 32, kind="train", target="n", state="queued", step=0, total_steps=0, params={}, loss_history=[],
            created_at=now, updated_at=now, heartbeat_at=now))
    store.ensure_schema()
    job = store.get_job("a" * 32)
    assert (job.attempts, job.lost, job.cancel_requested, job.progress, job.warnings, job.lease_expires_at) == (0, 0, False, {}, [], None)
    assert store.claim_job("w", 30)[1].id == "a" * 32
    assert set(sa.inspect(store.engine).get_table_names()) >= {"job_blobs", "workers"}
    store.dispose()
