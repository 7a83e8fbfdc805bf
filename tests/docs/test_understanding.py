"""docs/understanding.md, run against a real gunicorn with the demo models: every output shown is the real one."""
import subprocess
from pathlib import Path

from tests.docs.test_readme import BASE, examples, normalise, server  # noqa: F401 (server is the fixture)

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "understanding.md"


def test_the_understanding_walkthrough_is_true(server):  # noqa: F811
    pairs = examples(PAGE.read_text())
    assert len(pairs) == 5
    for command, expected in pairs:
        assert BASE in command, command
        result = subprocess.run(["bash", "-c", command.replace(BASE, server.url)], cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, (command, result.stderr)
        assert normalise(result.stdout) == normalise(expected), command


def test_the_page_is_linked_from_the_readme():
    assert "docs/understanding.md" in (ROOT / "README.md").read_text()
