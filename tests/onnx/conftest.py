from tests.support.keyed_server import server  # noqa: F401  (the fixture)
