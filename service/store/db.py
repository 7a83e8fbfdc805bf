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

PostgreSQL: pooled connections are checked before use (pool_pre_ping), so
connections a server restart closed are replaced without an error. A new
connection the server refuses (down, starting up, shutting down) is retried
for up to connect_retry_seconds, so a restart or failover costs only the
requests in flight. After a retry gave up, later connects try once until one
succeeds again: a long outage answers fast instead of holding every worker.

Change detection (change_token): a cheap way for a process to know that
nothing was committed to the database since it last looked, so a cache of
compiled definitions need not ask for the current revision on every request.
SQLite: PRAGMA data_version on one kept-open connection of its own, which
changes whenever another connection (any process) has committed. PostgreSQL:
a trigger on the definitions table NOTIFYs a channel in the writing
transaction (delivered at commit), and one listener connection per process
counts the notifications; it is pinged every second, and while it is down,
not yet connected, or its trigger is missing, change_token() answers None and
callers ask the database as before. Writes made through this Store count at
once, before their notification comes back.
"""

from __future__ import annotations

import json
import logging
import os
import random
import select
import sqlite3
import threading
import time
import weakref
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
from sqlalchemy import event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url

from .errors import StoreUnavailable

log = logging.getLogger("neuronhub")

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
    # The queue (added later: ensure_schema adds missing columns to an existing table, hence the server defaults)
    sa.Column("lease_expires_at", UTCDateTime),  # a running job whose lease lapsed is claimed again
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),  # claims so far; fences a worker's writes
    sa.Column("lost", sa.Integer, nullable=False, server_default="0"),  # leases that lapsed (its worker died)
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("progress", JSONText, nullable=False, server_default="{}"),
    sa.Column("warnings", JSONText, nullable=False, server_default="[]"),
    sa.Column("requester", sa.String(64)),  # who asked (a key's hash or a client address), for the per-requester limit
)
sa.Index("jobs_queue", jobs.c.state, jobs.c.created_at)

# What a job needs and leaves that is not a column: its input text, its checkpoint, trained weights it
# could not store. Never a definition, so a checkpoint never counts as a network.
job_blobs = sa.Table(
    "job_blobs",
    metadata,
    sa.Column("job_id", sa.String(32), primary_key=True),
    sa.Column("name", sa.String(16), primary_key=True),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
)

# Worker processes announce themselves here; one whose heartbeat is recent is live.
workers = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("job_id", sa.String(32)),
    sa.Column("started_at", UTCDateTime, nullable=False),
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

    def __init__(self, database_url: str, *, pool_size: int = 5, echo: bool = False, connect_retry_seconds: float = 0,
                 postgres_change_notify: bool = True) -> None:
        self.url = normalize_url(database_url)
        # False: on PostgreSQL change_token() is always None, so every cache lookup reads the revision
        # (no window in which another replica's write is not yet seen; see the module docstring).
        self._postgres_change_notify = postgres_change_notify
        self._pool_size = pool_size
        self._connect_retry_seconds = connect_retry_seconds
        self._echo = echo
        self._engine: Engine | None = None
        self._engine_lock = threading.Lock()
        self._schema_ready = False
        self._watcher: _SQLiteChanges | _PostgresChanges | None = None
        self._database_key = self.url.render_as_string(hide_password=True)
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
        engine = sa.create_engine(
            self.url,
            pool_size=self._pool_size,
            pool_pre_ping=True,
            echo=self._echo,
            connect_args={"connect_timeout": POSTGRES_CONNECT_TIMEOUT_SECONDS},
        )
        if self._connect_retry_seconds > 0:
            event.listen(engine, "do_connect", _ConnectRetry(self._connect_retry_seconds))
        return engine

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
            _add_missing_columns(conn)
            if not self.is_sqlite:
                _create_change_trigger(conn)
        self._schema_ready = True

    def change_token(self) -> object | None:
        """A value that stays equal as long as no transaction was committed to the database since it
        was taken: by this process, another process or another replica. None when that cannot be
        told right now (the listener is down or not ready): then ask the database.

        Take the token before reading what it vouches for: a commit between the two changes the
        next token.
        """
        if not (self.is_sqlite or self._postgres_change_notify):
            return None
        watcher = self._watcher
        if watcher is None:
            with self._engine_lock:
                if self._watcher is None:
                    self._watcher = _SQLiteChanges(self.url) if self.is_sqlite else _PostgresChanges(self.url)
                watcher = self._watcher
        observed = watcher.token()
        if observed is None:
            return None
        return observed, _LOCAL_WRITES.get(self._database_key, 0)

    @contextmanager
    def write_definitions(self) -> Iterator[Connection]:
        """write() for a change of definitions. The change tokens of every Store of this process on
        the same database change at once (as the transaction ends); on PostgreSQL the write also
        returns only once this process's listener has received a notification sent after it began
        (at most LISTENER_ECHO_SECONDS), so that every listening process has been signalled before
        the writer's client hears of the write."""
        watcher = mark = None
        if not self.is_sqlite:
            self.change_token()  # starts the listener if this process has none yet
            watcher = self._watcher
            mark = watcher.mark() if isinstance(watcher, _PostgresChanges) else None
        try:
            with self.write() as conn:
                yield conn
        finally:  # committed, rolled back or unknown: one needless revalidation at worst
            with _LOCAL_WRITES_LOCK:
                _LOCAL_WRITES[self._database_key] = _LOCAL_WRITES.get(self._database_key, 0) + 1
        if watcher is not None and mark is not None:
            watcher.wait_past(mark, LISTENER_ECHO_SECONDS)

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
            watcher, self._watcher = self._watcher, None
        if engine is not None:
            engine.dispose()
        if watcher is not None:
            watcher.close()

    def after_fork(self) -> None:
        """In a forked child: forget the parent's pooled connections without closing them."""
        if self._engine is not None:
            self._engine.dispose(close=False)
        if self._watcher is not None:
            self._watcher.abandon()
            self._watcher = None
        self._engine_lock = threading.Lock()


def _add_missing_columns(conn: Connection) -> None:
    """Bring tables an older version created up to date: add the columns they lack (each new column
    has a server default or allows NULL, so existing rows stay valid), and their indexes."""
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column for column in table.columns if column.name not in present]
        for column in missing:
            conn.exec_driver_sql(f"ALTER TABLE {table.name} ADD COLUMN {sa.schema.CreateColumn(column).compile(dialect=conn.dialect)}")
        if missing:
            for index in table.indexes:
                index.create(conn, checkfirst=True)


class _ConnectRetry:
    """A do_connect hook: retry a refused PostgreSQL connection with backoff, for a bounded time."""

    # No SQLSTATE (the server is not there) or 57P03 (starting up / shutting down); not bad passwords.
    RETRIED_SQLSTATES = (None, "57P03")

    def __init__(self, budget_seconds: float) -> None:
        self.budget_seconds = budget_seconds
        self.gave_up = False  # set when a retry ran out; cleared by the next success

    def __call__(self, dialect: sa.Dialect, _record: Any, cargs: Any, cparams: Any) -> Any:
        give_up_at = time.monotonic() + (0 if self.gave_up else self.budget_seconds)
        delay = 0.05
        while True:
            try:
                connection = dialect.connect(*cargs, **cparams)
            except dialect.loaded_dbapi.OperationalError as error:
                left = give_up_at - time.monotonic()
                if getattr(error, "sqlstate", None) not in self.RETRIED_SQLSTATES or left <= 0:
                    self.gave_up = True
                    raise
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.5)
            else:
                self.gave_up = False
                return connection


# --- change detection ---------------------------------------------------------------------------

CHANGE_CHANNEL = "neuronhub_definitions"
CHANGE_TRIGGER = "neuronhub_definitions_notify"
LISTENER_PING_SECONDS = 1.0  # the listener connection is pinged this often ...
LISTENER_PING_TIMEOUT_SECONDS = 2.0  # ... and given up (None: ask the database) when a ping is this late
LISTENER_RETRY_SECONDS = 2.0  # a listener that failed is reconnected at most this often
LISTENER_ECHO_SECONDS = 0.1  # a write waits at most this long for its notification to come back
# Connections a forked child inherited: never closed there (closing would end the parent's session).
_ABANDONED: list[Any] = []
# Definition writes committed by this process, per database: part of every change token.
_LOCAL_WRITES: dict[str, int] = {}
_LOCAL_WRITES_LOCK = threading.Lock()


def _create_change_trigger(conn: Connection) -> None:
    """PostgreSQL: every statement that changes definitions NOTIFYs CHANGE_CHANNEL at its commit.

    A role that may not create functions or triggers (a locked-down database whose tables exist)
    keeps working: the error is logged, and without the trigger every lookup reads the revision.
    """
    exists = conn.exec_driver_sql(
        f"SELECT 1 FROM pg_trigger WHERE tgname = '{CHANGE_TRIGGER}' AND tgrelid = 'definitions'::regclass"
    ).first()
    if exists is not None:
        return
    try:
        with conn.begin_nested():
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION neuronhub_notify_definitions() RETURNS trigger LANGUAGE plpgsql AS "
                f"$$ BEGIN PERFORM pg_notify('{CHANGE_CHANNEL}', ''); RETURN NULL; END $$"
            )
            conn.exec_driver_sql(
                f"CREATE TRIGGER {CHANGE_TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON definitions "
                "FOR EACH STATEMENT EXECUTE FUNCTION neuronhub_notify_definitions()"
            )
    except exc.ProgrammingError as error:
        log.warning("cannot create the change-notification trigger (%s): every lookup of a compiled "
                    "definition will read its revision from the database", getattr(error, "orig", error))


class _SQLiteChanges:
    """PRAGMA data_version on a connection of its own: it changes when any other connection commits."""

    def __init__(self, url: URL) -> None:
        self._uri = Path(url.database).expanduser().resolve().as_uri() + "?mode=rw"  # never creates the file
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._generation = 0  # the data_version values of two connections are not comparable

    def token(self) -> tuple[int, int] | None:
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = sqlite3.connect(
                        self._uri, uri=True, timeout=1.0, isolation_level=None, check_same_thread=False
                    )
                    self._generation += 1
                return self._generation, self._connection.execute("PRAGMA data_version").fetchone()[0]
            except sqlite3.Error:
                self._close()
                return None

    def _close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except sqlite3.Error:
                pass

    def close(self) -> None:
        with self._lock:
            self._close()

    def abandon(self) -> None:
        if self._connection is not None:
            _ABANDONED.append(self._connection)
        self._connection = None
        self._lock = threading.Lock()


class _PostgresChanges:
    """One LISTEN connection (libpq, read without blocking) counting the notifications of CHANGE_CHANNEL."""

    def __init__(self, url: URL) -> None:
        import psycopg
        from psycopg.conninfo import make_conninfo

        # what a broken or silent listener raises; anything else (a request deadline) propagates
        self._errors = (psycopg.Error, OSError)

        self._conninfo = make_conninfo(
            url.set(drivername="postgresql").render_as_string(hide_password=False),
            connect_timeout=POSTGRES_CONNECT_TIMEOUT_SECONDS, keepalives=1, keepalives_idle=5,
            keepalives_interval=2, keepalives_count=2, application_name="neuronhub-listener",
        )
        self._lock = threading.Lock()
        self._pgconn: Any = None
        self._generation = 0
        self._received = 0
        self._retry_at = 0.0
        self._ping_sent_at: float | None = None
        self._answered_at = 0.0

    def token(self) -> tuple[int, int] | None:
        with self._lock:
            return self.token_unlocked()

    def token_unlocked(self) -> tuple[int, int] | None:
        now = time.monotonic()
        if self._pgconn is None and (now < self._retry_at or not self._connect(now)):
            return None
        try:
            self._poll(now)
        except self._errors:  # psycopg.Error, or what _poll says about a broken or silent connection
            self._close(retry=True)
            return None
        return self._generation, self._received

    def mark(self) -> tuple[int, int] | None:
        """The token now, without connecting (None when there is no listener)."""
        with self._lock:
            return None if self._pgconn is None else self.token_unlocked()

    def wait_past(self, mark: tuple[int, int], seconds: float) -> None:
        """Wait (at most seconds) until a notification after mark has arrived, or the listener changed."""
        give_up_at = time.monotonic() + seconds
        while True:
            with self._lock:
                token = self.token_unlocked()
                socket = self._pgconn.socket if self._pgconn is not None else None
            if token is None or token != mark or socket is None:
                return
            left = give_up_at - time.monotonic()
            if left <= 0:
                return
            select.select([socket], [], [], min(left, 0.005))

    def _poll(self, now: float) -> None:
        from psycopg import pq

        pgconn = self._pgconn
        pgconn.consume_input()  # reads what has arrived without waiting; raises on a closed connection
        while pgconn.notifies() is not None:
            self._received += 1
        if pgconn.status != pq.ConnStatus.OK:
            raise ConnectionError("the listener connection is broken")
        if self._ping_sent_at is not None:
            if pgconn.is_busy():
                if now - self._ping_sent_at > LISTENER_PING_TIMEOUT_SECONDS:
                    raise TimeoutError("the listener connection does not answer its ping")
                return  # the ping is on its way; the notifications read so far are all there are
            while (result := pgconn.get_result()) is not None:
                if result.status != pq.ExecStatus.TUPLES_OK:
                    raise ConnectionError("the listener's ping failed")
            while pgconn.notifies() is not None:
                self._received += 1
            self._ping_sent_at, self._answered_at = None, now
        if now - self._answered_at >= LISTENER_PING_SECONDS:
            pgconn.send_query(b"SELECT 1")
            self._ping_sent_at = now

    def _connect(self, now: float) -> bool:
        from psycopg import pq

        pgconn = None
        try:
            pgconn = pq.PGconn.connect(self._conninfo.encode())
            if pgconn.status != pq.ConnStatus.OK:
                raise ConnectionError(pgconn.get_error_message())
            listen = pgconn.exec_(f"LISTEN {CHANGE_CHANNEL}".encode())
            trigger = pgconn.exec_(
                f"SELECT 1 FROM pg_trigger WHERE tgname = '{CHANGE_TRIGGER}' AND tgenabled <> 'D'".encode()
            )
            if listen.status != pq.ExecStatus.COMMAND_OK or trigger.status != pq.ExecStatus.TUPLES_OK or trigger.ntuples != 1:
                raise ConnectionError("no change trigger (yet): notifications cannot be relied on")
        except BaseException as error:
            if pgconn is not None:
                pgconn.finish()
            self._retry_at = now + LISTENER_RETRY_SECONDS
            if isinstance(error, self._errors):
                return False
            raise
        self._pgconn = pgconn
        self._generation += 1  # commits before LISTEN were never counted: every earlier token is void
        self._received = 0
        self._ping_sent_at, self._answered_at = None, now
        return True

    def _close(self, retry: bool = False) -> None:
        pgconn, self._pgconn = self._pgconn, None
        self._ping_sent_at = None
        if pgconn is not None:
            try:
                pgconn.finish()
            except self._errors:
                pass
        if retry:
            self._retry_at = time.monotonic() + LISTENER_RETRY_SECONDS

    def close(self) -> None:
        with self._lock:
            self._close()

    def abandon(self) -> None:
        if self._pgconn is not None:
            _ABANDONED.append(self._pgconn)
        self._pgconn = None
        self._lock = threading.Lock()


def _reset_local_writes_lock() -> None:
    global _LOCAL_WRITES_LOCK
    _LOCAL_WRITES_LOCK = threading.Lock()


os.register_at_fork(after_in_child=_reset_local_writes_lock)


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
        _switch_to_wal(cursor)
        # Safe with WAL: a power cut may lose the last commits but never corrupts.
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    """Put the database file in WAL mode (once; it persists), waiting out other processes doing the same.

    The switch needs an exclusive lock, and SQLite answers "database is locked" at once instead of
    calling the busy handler when another connection holds a shared lock, as happens when several
    workers open a new database file together. So retry, within the usual busy timeout.
    """
    give_up_at = time.monotonic() + SQLITE_BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            if cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) and "busy" not in str(error):
                raise
        if time.monotonic() > give_up_at:
            raise sqlite3.OperationalError("database is locked (could not switch it to WAL mode)")
        time.sleep(0.01 + random.random() * 0.04)


def _begin_sqlite_transaction(conn: Connection) -> None:
    mode = "IMMEDIATE" if conn.get_execution_options().get(_WRITE_OPTION) else "DEFERRED"
    conn.exec_driver_sql(f"BEGIN {mode}")
