"""The SDK type-checks under mypy --strict, and so does a program written against it."""
import subprocess
import sys

from .openapi_contract import ROOT


def test_sdk_and_quickstart_pass_mypy_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "sdk/pyproject.toml", "--cache-dir", str(tmp_path),
         "sdk/src/neuronhub", "sdk/examples/quickstart.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout
