"""The SDK type-checks under mypy --strict, and so does a program written against it.

Twice: in the development venv (numpy there, so `as_numpy()` is checked as an NDArray) and as a user
gets it, in a venv holding only `pip install ./sdk` and mypy (numpy is an optional extra).
"""
import hashlib
import importlib.metadata
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

from .openapi_contract import ROOT

# Inside .venv, so ignored by git and docker like it; kept between runs, made again when the SDK's
# dependencies or the development venv's mypy change.
SDK_ALONE_VENV = ROOT / ".venv" / "sdk-alone"


def test_sdk_and_quickstart_pass_mypy_strict(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", "sdk/pyproject.toml", "--cache-dir", str(tmp_path),
         "sdk/src/neuronhub", "sdk/examples/quickstart.py"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def sdk_alone_venv() -> Path:
    """A venv with mypy, setuptools (to install the SDK offline) and the SDK's own dependencies."""
    mypy = f"mypy=={importlib.metadata.version('mypy')}"
    key = hashlib.sha256((ROOT / "sdk" / "pyproject.toml").read_bytes() + mypy.encode()).hexdigest()[:16]
    stamp = SDK_ALONE_VENV / f".installed-{key}"
    if not stamp.exists():
        shutil.rmtree(SDK_ALONE_VENV, ignore_errors=True)
        subprocess.run([sys.executable, "-m", "venv", str(SDK_ALONE_VENV)], check=True, timeout=120)
        dependencies = tomllib.loads((ROOT / "sdk" / "pyproject.toml").read_text())["project"]["dependencies"]
        subprocess.run([str(SDK_ALONE_VENV / "bin" / "python"), "-m", "pip", "install", "--quiet", "setuptools>=68", mypy,
                        *dependencies], check=True, timeout=600)
        stamp.touch()
    return SDK_ALONE_VENV


def copy_of_the_sdk(destination: Path) -> Path:
    """The SDK's sources as a clean checkout has them (no build/ or egg-info left by an earlier install)."""
    shutil.copytree(ROOT / "sdk", destination, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "tests"))
    return destination


def test_sdk_installed_alone_passes_mypy_strict(tmp_path):
    python = str(sdk_alone_venv() / "bin" / "python")
    sdk = copy_of_the_sdk(tmp_path / "sdk")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--force-reinstall",
                    str(sdk)], check=True, timeout=300, capture_output=True)
    no_numpy = subprocess.run([python, "-c", "import numpy"], capture_output=True, text=True)
    assert no_numpy.returncode != 0, "numpy is in the SDK-only venv: the test would not see what a user without it sees"
    for target in (["-p", "neuronhub"], [str(sdk / "examples" / "quickstart.py")]):
        # Run outside the repository, so no configuration file of ours applies: the command a user types.
        result = subprocess.run([python, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"), *target],
                                cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"mypy --strict {' '.join(target)}:\n{result.stdout}{result.stderr}"
        assert "Success: no issues found" in result.stdout
