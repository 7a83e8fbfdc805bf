"""The explorer page and its files as the app serves them (the page itself runs in tests/browser)."""
import json
import re
from pathlib import Path

import orjson
import pytest

from service import create_app
from service.config import Config
from service.explorer import FILES, STATIC
from tests.contract.openapi_contract import checking_client

from .conftest import CONTRACT
from .helpers import assert_problem


def bootstrap_of(response) -> dict:
    html = response.get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="explorer-bootstrap">(.*?)</script>', html, re.S)
    assert match, html[:500]
    return json.loads(match.group(1))


def test_the_page_is_html_with_its_own_files_and_a_strict_policy(client):
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "default-src 'self'" in policy and "object-src 'none'" in policy
    html = response.get_data(as_text=True)
    referenced = set(re.findall(r'(?:href|src)="/explorer/([^"]+)"', html))
    assert referenced == set(FILES)  # every file the page needs is served, the icon included (no /favicon.ico 404)
    assert "http://" not in html and "https://" not in html  # no CDN
    assert bootstrap_of(response) == {"keys": "off", "training": []}


@pytest.mark.parametrize("name, mimetype", [("explorer.css", "text/css"), ("explorer.js", "text/javascript"), ("favicon.svg", "image/svg+xml")])
def test_each_file_is_served_from_the_package_and_revalidates(client, name, mimetype):
    response = client.get(f"/explorer/{name}")
    assert response.status_code == 200 and response.mimetype == mimetype
    assert response.get_data() == (STATIC / name).read_bytes()
    again = client.get(f"/explorer/{name}", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_other_files_are_404_problems(client):
    assert_problem(client.get("/explorer/index.html"), 404, contains="no file 'index.html'")
    assert_problem(client.get("/explorer/..%2fapp.py"), 404)


def test_the_script_never_writes_markup():
    script = (STATIC / "explorer.js").read_text()
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function", script)


def test_active_training_jobs_are_named_in_the_page_and_finished_ones_are_not(app):
    store = app.extensions["neuronhub"].store
    queued = store.create_job("train", "words", {})
    running = store.create_job("train", "other", {})
    store.update_job(running.id, state="running")
    done = store.create_job("train", "done", {})
    store.finish_job(done.id, "succeeded")
    training = bootstrap_of(app.test_client().get("/"))["training"]
    assert sorted(training, key=lambda t: t["network"]) == [{"network": "other", "job": running.id}, {"network": "words", "job": queued.id}]


def test_a_network_name_cannot_close_the_json_block(app):
    services = app.extensions["neuronhub"]
    services.store.create_job("train", "a</script><script>alert(1)</script>", {})
    html = app.test_client().get("/").get_data(as_text=True)
    assert "</script><script>alert" not in html
    assert bootstrap_of(app.test_client().get("/"))["training"][0]["network"] == "a</script><script>alert(1)</script>"


@pytest.mark.parametrize("settings, keys", [({}, "off"), ({"admin_keys": "k-admin"}, "writes"),
                                            ({"read_keys": "k-read", "require_read_key": True}, "required")])
def test_the_page_and_its_files_need_no_key_and_say_whether_reads_do(db_url, settings, keys):
    app = create_app(Config(database_url=db_url, seed_demo=False, **settings))
    try:
        client = checking_client(app, CONTRACT)
        assert bootstrap_of(client.get("/"))["keys"] == keys
        for name in FILES:
            assert client.get(f"/explorer/{name}").status_code == 200
        if keys == "required":
            assert client.get("/v1/networks").status_code == 401  # what the page asks the key for
    finally:
        app.extensions["neuronhub"].store.dispose()


def test_the_files_are_package_data():
    pyproject = (Path(__file__).resolve().parents[2] / "pyproject.toml").read_text()
    assert '"service.explorer" = ["static/*"]' in pyproject
    assert orjson.loads(orjson.dumps(sorted(p.name for p in STATIC.iterdir()))) == sorted([*FILES, "index.html"])
