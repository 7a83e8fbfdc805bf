"""The README's curl walkthrough, run against a real gunicorn: every answer shown must be the real one.

A ```console block holds commands (`$ ` lines, continued with a trailing backslash) each followed by
the output it prints. JSON output is compared as JSON, ignoring values that differ from run to run
(timestamps, request and job ids).
"""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.gunicorn import Server
from tests.support.worker import WorkerProcess

README = Path(__file__).resolve().parents[2] / "README.md"
BASE = "http://127.0.0.1:8000"
VOLATILE = {"created_at", "updated_at", "started_at", "finished_at", "request_id", "id", "seconds"}
VOLATILE_HEADERS = re.compile(r"^(date|x-request-id):", re.IGNORECASE)


def examples(text: str) -> list[tuple[str, str]]:
    """(command, expected output) pairs from the ```console blocks."""
    pairs = []
    for block in re.findall(r"```console\n(.*?)```", text, flags=re.DOTALL):
        command, output = None, []
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            if line.startswith("$ "):
                if command is not None:
                    pairs.append((command, "\n".join(output)))
                parts = [line[2:]]
                while parts[-1].endswith("\\"):
                    i += 1
                    parts.append(lines[i])
                command, output = "\n".join(parts), []
            else:
                output.append(line)
            i += 1
        if command is not None:
            pairs.append((command, "\n".join(output)))
    return pairs


def scrub(value):
    if isinstance(value, dict):
        return {k: "…" if k in VOLATILE else scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, float):
        return round(value, 6)
    return value


def normalise(output: str):
    output = output.strip().replace("\r\n", "\n")
    if output.startswith("HTTP/"):  # curl -i: headers, a blank line, the body
        head, _, body = output.partition("\n\n")
        headers = [line.rstrip() for line in head.splitlines() if not VOLATILE_HEADERS.match(line)]
        return headers, normalise(body)
    try:
        return scrub(json.loads(output))
    except ValueError:
        return [line.rstrip() for line in output.splitlines()]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    database = f"sqlite:///{tmp_path_factory.mktemp('readme') / 'readme.db'}"
    server = Server({"NEURONHUB_DATABASE_URL": database, "NEURONHUB_WORKERS": "2", "NEURONHUB_SEED_DEMO": "true"})
    # the first worker trains the demo language network at start-up (about a second); others serve meanwhile
    server.wait_until("/v1/networks/neuron-language-model", 200)
    worker = WorkerProcess(database)  # what ./scripts/serve starts beside gunicorn: it runs the training jobs
    yield server
    worker.stop()
    server.stop()


def test_readme_has_the_two_commands_first():
    text = README.read_text()
    first_block = re.search(r"```sh\n(.*?)```", text, flags=re.DOTALL).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]
    assert commands == ["./scripts/serve", "./scripts/test"]
    assert "./scripts/test" in (README.parent / ".ci" / "run").read_text()


def test_readme_walkthrough_is_true(server):
    pairs = examples(README.read_text())
    assert len(pairs) >= 8
    for command, expected in pairs:
        assert BASE in command, command
        result = subprocess.run(["bash", "-c", command.replace(BASE, server.url)], capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr)
        assert normalise(result.stdout) == normalise(expected), command


def paragraph_after(text: str, marker: str) -> str:
    """The prose from the end of `marker` to the next heading."""
    start = text.index(marker) + len(marker)
    return text[start:text.index("\n#", start)]


def test_readme_first_five_minutes_say_how_to_bind_install_the_sdk_and_which_compose():
    text = README.read_text()
    first_block = re.search(r"```sh\n.*?```", text, flags=re.DOTALL).group(0)
    assert re.search(r"`NEURONHUB_BIND=[0-9.]+:[0-9]+ \./scripts/serve`", paragraph_after(text, first_block))
    assert "| `NEURONHUB_BIND` |" in text  # the configuration table, which tests/deploy holds to service/config.py

    before_snippet = text[:text.index("```python")].rstrip().rsplit("\n\n", 1)[-1]  # the paragraph that introduces it
    install = re.search(r"`(pip install \./sdk)`", before_snippet)
    assert install, before_snippet
    assert install.group(1) in (README.parent / "sdk" / "README.md").read_text()

    compose = yaml.safe_load((README.parent / "docker-compose.yml").read_text())
    deploy = paragraph_after(text, "## Deploy")
    if "name" in compose:  # the Compose Specification's top-level name: docker compose v2 only
        assert "Docker Compose v2" in deploy and "`docker-compose` 1.x refuses it" in deploy, deploy


def test_readme_progress_bar_example_runs(server):
    """The README's SDK example (a tqdm bar fed by wait()'s callback) runs and prints what the README says."""
    text = README.read_text()
    block = next(b for b in re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL) if "tqdm" in b)
    result = subprocess.run([sys.executable, "-c", block.replace(BASE, server.url)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    shown = re.search(r"prints:\n\n```\n(.*?)```", text[text.index(block):], flags=re.DOTALL).group(1)  # the next such block
    assert result.stdout == shown
    assert "3000/3000" in result.stderr  # the bar reached the end
