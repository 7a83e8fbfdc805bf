"""A throwaway PostgreSQL server for tests.

``postgres_server()`` yields the URL of an empty database on a private server
that lives in a temporary directory and is removed afterwards. When the
environment variable NEURONHUB_TEST_POSTGRES_URL is set, that server is used
instead and nothing is started. ``fresh_database(url)`` creates a uniquely
named database on a server and drops it afterwards. ``private_server()``
always starts a server of its own and yields a handle that can stop, start
and restart it (for fault tests; never the session server).
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
from sqlalchemy.engine import make_url

URL_ENV = "NEURONHUB_TEST_POSTGRES_URL"
SERVER_USER = "postgres"
SERVER_SETTINGS = {
    "listen_addresses": "127.0.0.1",
    # Durability is irrelevant for a throwaway server; speed is not.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "100",
}


class PostgresNotAvailable(RuntimeError):
    """The PostgreSQL server binaries are missing or the server would not start."""


class PostgresNotInstalled(PostgresNotAvailable):
    """The PostgreSQL server binaries are missing."""


@contextmanager
def postgres_server(database: str = "neuronhub_test") -> Iterator[str]:
    """Yield a SQLAlchemy URL for a database on a PostgreSQL server."""
    external = os.environ.get(URL_ENV)
    if external:
        yield external
        return
    with private_server() as server:
        _execute_autocommit(server.url("postgres"), f'CREATE DATABASE "{database}"')
        yield server.url(database)


class PostgresServer:
    """A running private server; stop(), start() and restart() it to test what clients live through."""

    def __init__(self, bindir: Path, root: Path, port: int) -> None:
        self.bindir, self.root, self.port = bindir, root, port

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        _start(self.bindir, self.root, self.port)

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; "fast" ends every session with an error, as a restart or failover does."""
        _stop(self.bindir, self.root, mode)

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()


@contextmanager
def private_server() -> Iterator[PostgresServer]:
    """Start a throwaway server of its own (whatever NEURONHUB_TEST_POSTGRES_URL says); yield its handle."""
    bindir = find_bindir()
    with _server_directory() as root:
        _initdb(bindir, root)
        server = PostgresServer(bindir, root, _free_port())
        server.start()
        try:
            yield server
        finally:
            server.stop("immediate")


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """Create a uniquely named database on the server of server_url; drop it afterwards."""
    name = f"nh_{uuid.uuid4().hex[:16]}"
    _execute_autocommit(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _execute_autocommit(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def find_bindir() -> Path:
    """Locate the directory holding initdb and pg_ctl, preferring the newest version."""
    candidates = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        candidates.append(result.stdout.strip())
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_of, reverse=True)
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).resolve().parent))
    for candidate in candidates:
        if candidate and all((Path(candidate) / tool).exists() for tool in ("initdb", "pg_ctl")):
            return Path(candidate)
    raise PostgresNotInstalled(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found via pg_config, "
        "/usr/lib/postgresql/*/bin or PATH. Install them (Debian: apt-get install postgresql) "
        f"or point {URL_ENV} at a running server."
    )


def _version_of(path: str) -> int:
    version = Path(path).parent.name
    return int(version) if version.isdigit() else 0


@contextmanager
def _server_directory() -> Iterator[Path]:
    root = Path(tempfile.mkdtemp(prefix="neuronhub-pg-"))
    try:
        if _running_as_root():
            # PostgreSQL refuses to run as root, so the server runs as the postgres user.
            shutil.chown(root, user=SERVER_USER, group=pwd.getpwnam(SERVER_USER).pw_gid)
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def _as_server_user(command: list[str]) -> list[str]:
    if not _running_as_root():
        return command
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        raise PostgresNotAvailable(
            f"running as root but there is no {SERVER_USER!r} system user to run PostgreSQL as"
        ) from None
    return ["runuser", "-u", SERVER_USER, "--", *command]


def _run(command: list[str], what: str, log: Path | None = None) -> None:
    result = subprocess.run(_as_server_user(command), capture_output=True, text=True)
    if result.returncode != 0:
        details = result.stdout + result.stderr
        if log is not None and log.exists():
            details += log.read_text(errors="replace")
        raise PostgresNotAvailable(f"{what} failed (exit {result.returncode}):\n{details}")


def _initdb(bindir: Path, root: Path) -> None:
    _run(
        [str(bindir / "initdb"), "-D", str(root / "data"), "--auth=trust", "-U", SERVER_USER,
         "--encoding=UTF8", "--locale=C", "--no-sync"],
        "initdb",
    )
    (root / "sockets").mkdir()
    if _running_as_root():
        shutil.chown(root / "sockets", user=SERVER_USER)


def _start(bindir: Path, root: Path, port: int) -> None:
    settings = {**SERVER_SETTINGS, "port": str(port), "unix_socket_directories": str(root / "sockets")}
    options = " ".join(f"-c {key}={shlex.quote(value)}" for key, value in settings.items())
    log = root / "server.log"
    _run(
        [str(bindir / "pg_ctl"), "-D", str(root / "data"), "-l", str(log), "-o", options,
         "-w", "-t", "60", "start"],
        "starting PostgreSQL",
        log,
    )


def _stop(bindir: Path, root: Path, mode: str = "immediate") -> None:
    subprocess.run(
        _as_server_user([str(bindir / "pg_ctl"), "-D", str(root / "data"), "-m", mode, "-w", "stop"]),
        capture_output=True,
    )


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _execute_autocommit(url: str, statement: str) -> None:
    with psycopg.connect(_libpq_url(url), autocommit=True) as conn:
        conn.execute(statement)


def _libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL into one libpq understands."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
