import pytest

from service import create_app
from service.config import Config
from tests.contract.openapi_contract import Contract, checking_client

CONTRACT = Contract.from_file()


@pytest.fixture
def config(db_url):
    return Config(database_url=db_url, seed_demo=False, max_body_bytes=1024 * 1024, max_batch_rows=100, max_layers=8, max_parameters=10_000)


@pytest.fixture
def app(config):
    app = create_app(config)
    yield app
    app.extensions["neuronhub"].store.dispose()


@pytest.fixture
def client(app):
    """Every response this client gets must be one openapi.yaml documents (status, headers, body)."""
    return checking_client(app, CONTRACT)


@pytest.fixture
def worker(app):
    """A training worker (service/worker) running in a thread of this process on the app's store; the
    tests in tests/worker start real worker processes."""
    import threading

    from service.worker.runner import Worker

    services = app.extensions["neuronhub"]
    worker = Worker(services.store, services.config)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop()
    thread.join(30)
