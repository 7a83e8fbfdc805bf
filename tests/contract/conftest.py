import pytest

from .live_server import live_server as _live_server


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    with _live_server(tmp_path_factory.mktemp("live")) as server:
        yield server
