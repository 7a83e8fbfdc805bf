import pytest

from tests.support.gunicorn import Server

from . import chromium


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real gunicorn with the demo set, as a first start has it."""
    path = tmp_path_factory.mktemp("explorer")
    server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{path / 'explorer.db'}", "NEURONHUB_SEED_DEMO": "true",
                     "NEURONHUB_WORKERS": "2"}, path / "gunicorn.log")
    yield server
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
