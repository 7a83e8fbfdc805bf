"""The openai snippets of README.md and docs/interop.md run as shown and print what they say."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def openai_snippet(path: Path) -> tuple[str, str]:
    """The first ```python block that uses the openai client, and the output its last line's comment shows."""
    block = next(b for b in re.findall(r"```python\n(.*?)```", path.read_text(), flags=re.DOTALL) if "from openai import OpenAI" in b)
    shown = re.search(r"#\s*'?(.*?)'?\s*$", block.strip().splitlines()[-1]).group(1)
    return block, shown


@pytest.mark.parametrize("document", ["README.md", "docs/interop.md"])
def test_the_openai_snippet_prints_what_it_says(live, document):
    code, shown = openai_snippet(ROOT / document)
    code = code.replace("http://127.0.0.1:8000", live.url).replace('api_key="unused"', 'api_key="read-key"')
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == shown.strip() == "weight, and the"
