import pytest

from tests.support.gunicorn import Server


@pytest.fixture
def server(tmp_path):
    server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}", "NEURONHUB_WORKERS": "2",
                     "NEURONHUB_MAX_BODY_BYTES": "100000"}, tmp_path / "gunicorn.log")
    yield server
    server.stop()
