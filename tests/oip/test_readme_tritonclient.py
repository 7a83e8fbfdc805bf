"""The README's tritonclient lines, run as they are against gunicorn: they print what the comment says."""
import contextlib
import io
import re
from pathlib import Path

import requests

from tests.support.gunicorn import Server

README = Path(__file__).resolve().parents[2] / "README.md"
XOR = {"layers": [{"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
                  {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"}]}


def test_readme_tritonclient_lines(tmp_path):
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL) if "tritonclient" in b]
    assert len(block.strip().splitlines()) == 3
    expected = re.search(r"# (\[\[.*\]\])$", block.strip()).group(1)
    server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'readme.db'}"}, tmp_path / "gunicorn.log")
    try:
        assert requests.put(server.url + "/v1/networks/xor-network", json=XOR, timeout=10).status_code == 201
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(block.replace("127.0.0.1:8000", f"127.0.0.1:{server.port}"), {})
    finally:
        server.stop()
    assert " ".join(printed.getvalue().split()) == expected
