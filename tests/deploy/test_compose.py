"""docker-compose.yml, Dockerfile and .dockerignore: validated, and the image's command run without Docker.

No Docker engine is needed: the compose file is checked against the Compose Specification's JSON
schema (the copy check-jsonschema ships, its `vendor.compose-spec`), and the command the image runs
is started here with the same gunicorn config and the api service's environment from the compose
file, against a real PostgreSQL.
"""
from __future__ import annotations

import ast
import fnmatch
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import psycopg
import pytest
import requests
import yaml
from sqlalchemy.engine import make_url

from service.config import settings_table
from tests.support.postgres import fresh_database

from .support import GUNICORN, ROOT, Server, clean_environment

COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
SETTINGS = {row[0] for row in settings_table()}


def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def interpolate(value: str, environ: dict[str, str]) -> str:
    """Compose's variable interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR and $$."""
    pattern = re.compile(r"\$(?:(\$)|\{(\w+)(?:(:?-)([^}]*))?\}|(\w+))")

    def replace(match: re.Match) -> str:
        if match[1]:
            return "$"
        name = match[2] or match[5]
        if match[3] == ":-":
            return environ.get(name) or match[4]
        if match[3] == "-":
            return environ.get(name, match[4])
        return environ.get(name, "")

    return pattern.sub(replace, value)


def dockerfile_instructions() -> list[tuple[str, str]]:
    lines, current = [], ""
    for raw in DOCKERFILE.read_text().splitlines():
        if not current and (not raw.strip() or raw.lstrip().startswith("#")):
            continue
        if raw.rstrip().endswith("\\"):
            current += raw.rstrip()[:-1] + " "
            continue
        current += raw
        instruction, _, arguments = current.strip().partition(" ")
        lines.append((instruction.upper(), arguments.strip()))
        current = ""
    return lines


def dockerfile(instruction: str) -> list[str]:
    return [arguments for name, arguments in dockerfile_instructions() if name == instruction]


def image_environment() -> dict[str, str]:
    environ = {}
    for arguments in dockerfile("ENV"):
        for pair in shlex.split(arguments):
            key, _, value = pair.partition("=")
            environ[key] = value
    return environ


def api_environment() -> dict[str, str]:
    """The api service's environment as `docker compose up` gives it with nothing set in the shell."""
    return {key: interpolate(str(value), {}) for key, value in compose()["services"]["api"]["environment"].items()}


# --- the compose file -------------------------------------------------------------------------

def test_the_compose_file_is_valid_by_the_compose_specification_schema(tmp_path):
    check = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec"]
    result = subprocess.run([*check, str(COMPOSE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    broken = tmp_path / "docker-compose.yml"  # the validator really looks: a wrong condition fails
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy", "condition: service_happy", 1))
    assert subprocess.run([*check, str(broken)], capture_output=True).returncode == 1


def test_the_compose_file_describes_a_scalable_service_behind_a_balancer():
    document = compose()
    services = document["services"]
    assert set(services) == {"db", "api", "worker", "lb"}
    db, api, lb = services["db"], services["api"], services["lb"]

    assert re.fullmatch(r"postgres:1[56](\.\d+)?(-[a-z0-9]+)?", db["image"])
    volume = db["volumes"][0].split(":")
    assert volume[1] == "/var/lib/postgresql/data" and volume[0] in document["volumes"]  # a named volume
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])

    assert api["build"] == "." and "ports" not in api and "container_name" not in api  # replicas: --scale api=N
    assert api["expose"] == ["8000"]
    assert api["depends_on"] == {"db": {"condition": "service_healthy"}}
    check = api["healthcheck"]["test"]
    assert check[:3] == ["CMD", "python", "-c"] and "urllib" in check[3] and "/readyz" in check[3] and "curl" not in check[3]
    environment = api_environment()
    assert make_url(environment["NEURONHUB_DATABASE_URL"]).get_backend_name() == "postgresql"
    assert make_url(environment["NEURONHUB_DATABASE_URL"]).host == "db"
    assert environment["NEURONHUB_BIND"] == "0.0.0.0:8000" and environment["NEURONHUB_SEED_DEMO"] == "true"
    assert set(environment) <= SETTINGS, set(environment) - SETTINGS
    grace = int(str(api["stop_grace_period"]).rstrip("s"))
    assert grace > int(environment.get("NEURONHUB_GRACEFUL_TIMEOUT", "30"))

    assert re.fullmatch(r"nginx:\d+\.\d+(\.\d+)?(-alpine)?", lb["image"])
    assert lb["ports"] == ["8000:8000"]
    source, target, _ = lb["volumes"][0].split(":")
    assert (ROOT / source).is_file() and target.startswith("/etc/nginx/")
    assert lb["depends_on"] == {"api": {"condition": "service_healthy"}}
    for name, service in services.items():
        image = service.get("image", "")
        assert not image.endswith(":latest") and (":" in image), (name, image)


def test_the_compose_file_has_scalable_training_workers_on_the_same_database():
    services = compose()["services"]
    worker, api = services["worker"], services["api"]
    environment = {key: interpolate(str(value), {}) for key, value in worker["environment"].items()}
    assert environment["NEURONHUB_DATABASE_URL"] == api_environment()["NEURONHUB_DATABASE_URL"]  # one queue for all
    assert set(environment) <= SETTINGS, set(environment) - SETTINGS
    assert worker["command"] == ["python", "-m", "service.worker"]
    assert (ROOT / "service" / "worker" / "__main__.py").is_file()
    assert "ports" not in worker and "expose" not in worker and "container_name" not in worker  # --scale worker=N
    assert worker["image"] == api["image"] and worker["build"] == "."
    assert worker["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert worker["healthcheck"] == {"disable": True}  # the image's check asks a web server
    assert int(str(worker["stop_grace_period"]).rstrip("s")) > 10  # SIGTERM: checkpoint and hand back within 10 s
    assert worker["cpu_shares"] < 1024  # below the api containers' default weight


# --- the image --------------------------------------------------------------------------------

def test_the_dockerfile_runs_gunicorn_as_a_non_root_user_from_a_pinned_slim_python():
    (base,) = dockerfile("FROM")
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-\w+)?", base)
    users = dockerfile("USER")
    assert users and users[-1] not in ("root", "0")
    assert any("useradd" in run and users[-1] in run for run in dockerfile("RUN"))
    (command,) = dockerfile("CMD")
    assert json.loads(command) == ["gunicorn", "--config", "gunicorn.conf.py", "service:create_app()"]
    (health,) = dockerfile("HEALTHCHECK")
    assert "urllib" in health and "/readyz" in health and "curl" not in health
    assert image_environment()["NEURONHUB_BIND"] == "0.0.0.0:8000"
    assert set(image_environment()) - {"PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED", "PIP_NO_CACHE_DIR", "PIP_DISABLE_PIP_VERSION_CHECK", "PIP_ROOT_USER_ACTION"} <= SETTINGS


def test_the_image_installs_the_dependencies_pyproject_toml_lists(tmp_path):
    instructions = dockerfile_instructions()
    copies = [i for i, (name, arguments) in enumerate(instructions) if name == "COPY" and "pyproject.toml" in arguments]
    install = next(i for i, (name, arguments) in enumerate(instructions) if name == "RUN" and "pip install" in arguments)
    assert copies and copies[0] < install  # dependencies are a layer of their own, before the code
    extract = instructions[install][1].split("&&")[0].split(">")[0].strip()
    (tmp_path / "pyproject.toml").write_bytes((ROOT / "pyproject.toml").read_bytes())
    printed = subprocess.run(shlex.split(extract), cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split("\n")
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert [line for line in printed if line] == expected


def test_dockerignore_keeps_the_image_small_and_the_code_in():
    patterns = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip() and not line.startswith("#")]

    def ignored(path: str) -> bool:
        return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path.split("/")[0], p) for p in patterns)

    for path in (".git", ".venv", "data", "tests", ".pytest_cache", "service/__pycache__/x.pyc", "neuronhub.db"):
        assert ignored(path), path
    for arguments in dockerfile("COPY"):
        for source in shlex.split(arguments)[:-1]:
            assert (ROOT / source).exists() and not ignored(source), source


# --- the image's command, run here ------------------------------------------------------------

def master_connections(pid: int, port: int) -> list[str]:
    """TCP connections process `pid` has open to `port` (from /proc)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name if hasattr(fd, "readlink") else ""
        except OSError:
            continue
        if str(target).startswith("socket:["):
            inodes.add(str(target)[8:-1])
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            remote_port = int(fields[2].rsplit(":", 1)[1], 16)
            if remote_port == port and fields[9] in inodes:
                found.append(line)
    return found


def loaded_libraries(pid: int) -> str:
    return Path(f"/proc/{pid}/maps").read_text()


def test_the_image_command_with_the_compose_environment_serves_from_postgres(postgres_url, tmp_path):
    environment = {**image_environment(), **api_environment()}
    assert environment.pop("NEURONHUB_BIND") == "0.0.0.0:8000"  # here: a free port on 127.0.0.1 (Server sets it)
    (command,) = dockerfile("CMD")
    argv = json.loads(command)
    argv[0] = GUNICORN  # the same program, from this virtualenv

    compose_url = make_url(environment["NEURONHUB_DATABASE_URL"])
    with fresh_database(postgres_url) as url:
        server_url = make_url(url)
        # The compose file's user on this server (trust authentication: the password is not checked).
        libpq = server_url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(libpq, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (compose_url.username,)).fetchone():
                conn.execute(f'CREATE ROLE "{compose_url.username}" LOGIN')
            conn.execute(f'GRANT ALL ON DATABASE "{server_url.database}" TO "{compose_url.username}"')
            conn.execute(f'ALTER DATABASE "{server_url.database}" OWNER TO "{compose_url.username}"')
        environment["NEURONHUB_DATABASE_URL"] = compose_url.set(
            host=server_url.host, port=server_url.port, database=server_url.database
        ).render_as_string(hide_password=False)

        server = Server({k: v for k, v in environment.items() if k.startswith(("NEURONHUB_",))}, tmp_path / "image.log",
                        command=argv, base_env={**clean_environment(), **{k: v for k, v in environment.items() if not k.startswith("NEURONHUB_")}})
        try:
            check = compose()["services"]["api"]["healthcheck"]["test"]
            probe = [sys.executable, *check[2:]]
            probe[-1] = probe[-1].replace("127.0.0.1:8000", f"127.0.0.1:{server.port}")
            assert subprocess.run(probe, timeout=30).returncode == 0  # the compose health check passes

            put = requests.put(server.url + "/v1/neurons/from-compose", json={"weights": [1.0], "activation": "relu"})
            assert put.status_code == 201
            assert requests.post(server.url + "/v1/neurons/from-compose/evaluate", json={"inputs": [2]}).json()["output"] == 2.0
            with psycopg.connect(libpq) as conn:
                assert conn.execute("SELECT count(*) FROM definitions WHERE name = 'from-compose'").fetchone() == (1,)
            for _ in range(4):
                requests.get(server.url + "/healthz")

            # The master opened no database connection and never loaded the app's libraries.
            workers = server.wait_for_workers(2)
            master = server.process.pid
            assert master_connections(master, server_url.port) == []
            assert any(master_connections(w, server_url.port) for w in workers)
            master_maps = loaded_libraries(master)
            for library in ("_multiarray_umath", "psycopg", "sqlalchemy", "_psycopg"):
                assert library not in master_maps, library
            assert any("_multiarray_umath" in loaded_libraries(w) for w in workers)

            records = server.access_records()
            assert records and all(r["request_id"] and r["status"] for r in records)
            put_record = next(r for r in records if r["method"] == "PUT")
            assert put_record["request_id"] == put.headers["X-Request-ID"] and put_record["status"] == 201
        finally:
            assert server.stop() == 0


def test_gunicorn_conf_does_not_preload_the_app():
    tree = ast.parse((ROOT / "gunicorn.conf.py").read_text())
    assignments = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                   for target in node.targets if isinstance(target, ast.Name)}
    assert isinstance(assignments["preload_app"], ast.Constant) and assignments["preload_app"].value is False
    imported = {alias.name if isinstance(node, ast.Import) else node.module
                for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                for alias in getattr(node, "names", [])}
    assert not any(name and name.startswith(("service.app", "flask", "sqlalchemy", "numpy", "psycopg")) for name in imported)


@pytest.mark.parametrize("module", ["service.config", "service.accesslog"])
def test_what_the_master_imports_stays_light(module):
    code = f"import sys, {module}; print(sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'numpy', 'sqlalchemy', 'psycopg', 'service.app')))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
