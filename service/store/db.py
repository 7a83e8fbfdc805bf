"""Engine creation, schema and transactions.

Engines are created lazily, on first use, so building a Store opens no
connection. After os.fork() the child must not reuse the parent's pooled
connections: every Database registers an os.register_at_fork hook that calls
after_fork() in the child, which replaces the pool with
engine.dispose(close=False) (the parent's connections are left untouched).
after_fork() may also be called by hand, e.g. from a gunicorn post_fork hook;
calling it twice is harmless.

SQLite: sqlite3's own transaction handling is switched off and the "begin"
event emits BEGIN IMMEDIATE for write transactions (BEGIN DEFERRED for reads),
so a writer takes the write lock up front and waits for it (busy_timeout)
instead of failing with "database is locked" when upgrading a read lock.
"""

from __future__ import annotations

import json
import os
import threading
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from .errors import StoreUnavailable

SQLITE_BUSY_TIMEOUT_SECONDS = 30
POSTGRES_CONNECT_TIMEOUT_SECONDS = 10
_WRITE_OPTION = "neuronhub_write"
_SCHEMA_LOCK_ID = 0x4E48_0001  # PostgreSQL advisory lock taken while creating the schema


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite keeps naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use timezone-aware UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class JSONText(sa.types.TypeDecorator):
    """A JSON document stored as text; Python None is SQL NULL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        return None if value is None else json.dumps(value, separators=(",", ":"))

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Any:
        return None if value is None else json.loads(value)


# Names sort bytewise on both backends ("C" collation on PostgreSQL), so
# list() pages identically whatever the database's locale.
NameType = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")

metadata = sa.MetaData()

definitions = sa.Table(
    "definitions",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("name", NameType, primary_key=True),
    sa.Column("revision", sa.BigInteger, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("spec", JSONText, nullable=False),
    sa.Column("arrays", sa.LargeBinary, nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

jobs = sa.Table(
    "jobs",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("target", NameType, nullable=False),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("step", sa.Integer, nullable=False),
    sa.Column("total_steps", sa.Integer, nullable=False),
    sa.Column("params", JSONText, nullable=False),
    sa.Column("result", JSONText),
    sa.Column("error", JSONText),
    sa.Column("loss_history", JSONText, nullable=False),
    sa.Column("owner", sa.String(255)),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("started_at", UTCDateTime),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("heartbeat_at", UTCDateTime, nullable=False),
)


def normalize_url(database_url: str) -> URL:
    """Parse a database URL, pointing every PostgreSQL URL at the psycopg 3 driver."""
    url = make_url(database_url)
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return url.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        if url.database in (None, "", ":memory:"):
            raise ValueError("in-memory SQLite is not supported; use sqlite:///path/to/file.db")
        return url
    raise ValueError(f"unsupported database URL scheme {url.drivername!r}; use sqlite or postgresql")


class Database:
    """Owns the engine; hands out read and write transactions."""

    def __init__(self, database_url: str, *, pool_size: int = 5, echo: bool = False) -> None:
        self.url = normalize_url(database_url)
        self._pool_size = pool_size
        self._echo = echo
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._schema_ready = False
        _after_fork_in_child(self)

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = self._create_engine()
        return self._engine

    def _create_engine(self) -> Engine:
        if self.is_sqlite:
            return _create_sqlite_engine(self.url, self._pool_size, self._echo)
        return sa.create_engine(
            self.url,
            pool_size=self._pool_size,
            pool_pre_ping=True,
            echo=self._echo,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A transaction for reading; committed on success, rolled back on error."""
        with _unavailable_on_connection_errors(), self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction for writing (BEGIN IMMEDIATE on SQLite); rolled back on error."""
        with _unavailable_on_connection_errors(), self.engine.connect() as conn:
            conn.execution_options(**{_WRITE_OPTION: True})
            with conn.begin():
                yield conn

    def ensure_schema(self) -> None:
        """Create missing tables; idempotent and safe when several processes start at once.

        After the first success it returns at once, so it is cheap to call per request.
        """
        if self._schema_ready:
            return
        with self.write() as conn:
            if not self.is_sqlite:
                # Concurrent CREATE TABLEs of the same name fail on PostgreSQL's
                # catalog; the lock makes the second starter wait and then find the tables.
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_ID)))
            metadata.create_all(conn)
        self._schema_ready = True

    def ping(self) -> bool:
        """True when the database answers a trivial query."""
        try:
            with self.read() as conn:
                return conn.execute(sa.select(sa.literal(1))).scalar_one() == 1
        except (StoreUnavailable, exc.SQLAlchemyError):
            return False

    def dispose(self) -> None:
        """Close all pooled connections; the store reconnects if used again."""
        with self._engine_lock:
            engine, self._engine = self._engine, None
        if engine is not None:
            engine.dispose()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's pooled connections without closing them."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        self._engine_lock = threading.Lock()


def _after_fork_in_child(database: Database) -> None:
    reference = weakref.ref(database)

    def reset() -> None:
        alive = reference()
        if alive is not None:
            alive.after_fork()

    os.register_at_fork(after_in_child=reset)


@contextmanager
def _unavailable_on_connection_errors() -> Iterator[None]:
    try:
        yield
    except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
        raise StoreUnavailable(str(getattr(error, "orig", None) or error)) from error


def _create_sqlite_engine(url: URL, pool_size: int, echo: bool) -> Engine:
    Path(url.database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(
        url,
        pool_size=pool_size,
        echo=echo,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    event.listen(engine, "begin", _begin_sqlite_transaction)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # Take BEGIN away from sqlite3 so _begin_sqlite_transaction decides how to begin.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode = WAL")
        # Safe with WAL: a power cut may lose the last commits but never corrupts.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _begin_sqlite_transaction(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")
