"""docs/understanding.md, run against a real gunicorn whose first start trained demo-english: every output shown is the real one."""
import subprocess
import sys
from pathlib import Path

import pytest

from tests.docs.test_readme import BASE, examples, normalise

pytestmark = pytest.mark.timeout(900)  # the demo_english fixture trains the model (about 2 minutes)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "understanding.md"


def test_the_understanding_walkthrough_is_true(demo_english):
    server, _, job = demo_english
    assert job["state"] == "succeeded", job
    pairs = examples(PAGE.read_text())
    assert len(pairs) == 5
    for command, expected in pairs:
        assert BASE in command, command
        result = subprocess.run(["bash", "-c", command.replace(BASE, server.url)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr)
        assert normalise(result.stdout) == normalise(expected), command


def test_the_sdk_lines_of_the_page_run(demo_english):
    server, _, _ = demo_english
    text = PAGE.read_text()
    code = text[text.index("```python\n") + len("```python\n"):]
    code = code[:code.index("```")].replace(BASE, server.url)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert 0 < float(result.stdout) < 0.1


def test_the_page_is_linked_from_the_readme():
    assert "docs/understanding.md" in (ROOT / "README.md").read_text()
