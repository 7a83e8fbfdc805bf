"""Keys, CORS and rate limits as configured by environment, through real gunicorn workers."""
from __future__ import annotations

import os

import requests

from .support import assert_problem, neuron, wait_for

ADMIN = "env-admin-key-5f0c1e9a7b3d"
READER = "env-read-key-8a2b4c6d9e1f"
ORIGIN = "https://app.example.com"


def test_keys_cors_and_limits_through_gunicorn(sqlite_url, serve, tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("admin file-admin-key-1111\n")
    server = serve({
        "NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "2",
        "NEURONHUB_ADMIN_KEYS": ADMIN, "NEURONHUB_READ_KEYS": READER, "NEURONHUB_KEYS_FILE": str(keys),
        "NEURONHUB_REQUIRE_READ_KEY": "true", "NEURONHUB_CORS_ORIGINS": ORIGIN, "NEURONHUB_RATE_LIMIT": "1000/minute",
    })
    with requests.Session() as session:
        missing = session.put(server.url + "/v1/neurons/n", json=neuron([1.0]))
        assert_problem(missing, 401, "unauthorized")
        assert missing.headers["WWW-Authenticate"] == 'Bearer realm="neuronhub"'
        assert_problem(session.put(server.url + "/v1/neurons/n", json=neuron([1.0]), headers={"Authorization": f"Bearer {READER}"}), 403)
        assert session.put(server.url + "/v1/neurons/n", json=neuron([1.0]), headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 201
        assert session.put(server.url + "/v1/neurons/n", json=neuron([2.0]), headers={"X-API-Key": "file-admin-key-1111"}).status_code == 200
        assert_problem(session.get(server.url + "/v1/neurons/n"), 401)
        assert session.get(server.url + "/v1/neurons/n", headers={"X-API-Key": READER}).status_code == 200
        assert session.get(server.url + "/readyz").status_code == 200 and session.get(server.url + "/metrics").status_code == 200

        # Rotate the file: every worker picks it up without a restart.
        replacement = tmp_path / "keys.next"
        replacement.write_text("admin file-admin-key-2222\n")
        os.replace(replacement, keys)
        for _ in range(6):  # lands on both workers
            assert_problem(session.put(server.url + "/v1/neurons/n", json=neuron([3.0]), headers={"X-API-Key": "file-admin-key-1111"}), 401)
            assert session.get(server.url + "/v1/neurons/n", headers={"X-API-Key": "file-admin-key-2222"}).status_code == 200

        preflight = session.options(server.url + "/v1/neurons/n", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "PUT"})
        assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
        cross = session.get(server.url + "/v1/neurons/n", headers={"Origin": ORIGIN, "X-API-Key": READER})
        assert cross.headers["Access-Control-Allow-Origin"] == ORIGIN and "ETag" in cross.headers["Access-Control-Expose-Headers"]
        assert "Access-Control-Allow-Origin" not in session.get(server.url + "/healthz", headers={"Origin": "https://other.example"}).headers

    log = server.log()
    for secret in (ADMIN, READER, "file-admin-key-1111", "file-admin-key-2222"):
        assert secret not in log
    assert "the service is OPEN" not in log


def test_rate_limit_through_gunicorn(sqlite_url, serve):
    server = serve({"NEURONHUB_DATABASE_URL": sqlite_url, "NEURONHUB_WORKERS": "1", "NEURONHUB_RATE_LIMIT": "5/minute"})
    statuses = [requests.get(server.url + "/v1/neurons").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    limited = requests.get(server.url + "/v1/neurons")
    assert_problem(limited, 429, "too-many-requests")
    assert 1 <= int(limited.headers["Retry-After"]) <= 12
    assert requests.get(server.url + "/readyz").status_code == 200
    assert "the service is OPEN" in wait_for(server.log, 5, "the log")
