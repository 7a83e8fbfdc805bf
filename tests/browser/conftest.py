import pytest

from tests.support.gunicorn import Server
from tests.support.worker import WorkerProcess

from . import chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real gunicorn with the demo set, as a first start has it, and a training worker beside it (as
    ./scripts/serve runs them)."""
    path = tmp_path_factory.mktemp("explorer")
    database = f"sqlite:///{path / 'explorer.db'}"
    server = Server({"NEURONHUB_DATABASE_URL": database, "NEURONHUB_SEED_DEMO": "true", "NEURONHUB_WORKERS": "2"}, path / "gunicorn.log")
    worker = WorkerProcess(database, log_path=path / "worker.log")
    yield server
    worker.stop()
    server.stop()


@pytest.fixture
def desktop(tmp_path):
    browser = chromium.start(tmp_path / "profile", 1280, 800)
    yield browser
    browser.quit()


@pytest.fixture
def phone(tmp_path):
    browser = chromium.start(tmp_path / "profile", 375, 812, mobile=True)
    yield browser
    browser.quit()
