"""openapi.yaml is usable from another language: a TypeScript client generated from it with a pinned
@hey-api/openapi-ts (tests/contract/ts/package-lock.json), type-checked with a pinned tsc in strict
mode, runs a scenario against a live gunicorn. Everything is built in a temporary directory.

npm must be installed (node >= 20.19) and reach the npm registry: without it this test fails, it
never skips.
"""
import json
import os
import shutil
import subprocess
from pathlib import Path

from .openapi_contract import SPEC_PATH

TS_DIR = Path(__file__).parent / "ts"
COMMITTED = ("package.json", "package-lock.json", ".npmrc", "tsconfig.json", "scenario.ts")


def run(command, cwd, **env):
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **env})
    assert result.returncode == 0, f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout[-5000:]}\n{result.stderr[-5000:]}"
    return result.stdout


def test_pinned_versions_and_no_registry_hosts():
    manifest = json.loads((TS_DIR / "package.json").read_text())
    assert all(version[0].isdigit() for version in manifest["devDependencies"].values()), "pin exact versions"
    lock = json.loads((TS_DIR / "package-lock.json").read_text())
    assert lock["packages"][""]["devDependencies"] == manifest["devDependencies"]
    assert not any("resolved" in entry for entry in lock["packages"].values()), "the lockfile must name no registry host"


def test_generated_typescript_client_runs_a_scenario(live_server, tmp_path):
    npm, node = shutil.which("npm"), shutil.which("node")
    assert npm and node, "npm and node are needed for the TypeScript contract test (Debian: apt-get install nodejs npm)"
    for name in COMMITTED:
        shutil.copy(TS_DIR / name, tmp_path / name)
    run([npm, "ci", "--no-audit", "--no-fund"], tmp_path)
    run([npm, "exec", "--", "openapi-ts", "--input", str(SPEC_PATH), "--output", "generated", "--silent"], tmp_path)
    generated = (tmp_path / "generated" / "sdk.gen.ts").read_text()
    for operation in ("putNetwork", "forwardNetwork", "getNetwork", "deleteNetwork", "evaluateNeuron", "listNeurons", "predictNextWords",
                      "trainNetwork", "getJob"):
        assert f"export const {operation} " in generated
    run([npm, "exec", "--", "tsc", "--project", "."], tmp_path)
    output = run([node, "dist/scenario.js"], tmp_path, NEURONHUB_URL=live_server.url)
    summary = json.loads(output.strip().splitlines()[-1])
    assert summary.pop("notFound").startswith("no network named 'no-such-network'; stored networks")  # then what exists
    assert summary == {"outputs": [[0], [1], [1], [0]], "invalid": ["layers[0].weights[1]"], "topWord": "a"}
