"""Storing definitions by name: create, replace, read, list, delete, revisions and ETags."""
import pytest

from .helpers import RELU_NEURON, XOR, assert_problem, put_json


@pytest.mark.parametrize("plural, body", [("neurons", RELU_NEURON), ("networks", XOR)])
def test_create_read_replace_delete(client, plural, body):
    created = put_json(client, f"/v1/{plural}/first", body)
    assert created.status_code == 201
    assert created.headers["Location"] == f"/v1/{plural}/first"
    assert created.headers["ETag"] == '"1"'
    resource = created.get_json()
    assert resource["name"] == "first" and resource["revision"] == 1
    assert resource["created_at"] == resource["updated_at"] and resource["created_at"].endswith("Z")

    got = client.get(f"/v1/{plural}/first")
    assert got.status_code == 200 and got.get_json() == resource and got.headers["ETag"] == '"1"'

    replaced = put_json(client, f"/v1/{plural}/first", {**body, "description": "changed"})
    assert replaced.status_code == 200 and "Location" not in replaced.headers
    again = replaced.get_json()
    assert again["revision"] == 2 and again["description"] == "changed"
    assert again["created_at"] == resource["created_at"] and again["updated_at"] >= resource["updated_at"]

    assert client.delete(f"/v1/{plural}/first").status_code == 204
    assert_problem(client.get(f"/v1/{plural}/first"), 404, contains="no ")
    assert_problem(client.delete(f"/v1/{plural}/first"), 404)


def test_values_round_trip_exactly(client):
    weights = [0.1, -1e-300, 123456789.123456789, 2.5e300, 0, -7]
    put_json(client, "/v1/neurons/exact", {"weights": weights, "bias": 1 / 3, "activation": "tanh"})
    body = client.get("/v1/neurons/exact").get_json()
    assert body["weights"] == [float(w) for w in weights] and body["bias"] == 1 / 3
    assert body["description"] == ""


def test_network_resource_describes_its_shape(client):
    body = put_json(client, "/v1/networks/xor", XOR).get_json()
    assert body["layers"] == XOR["layers"]
    assert (body["input_size"], body["output_size"], body["layer_sizes"], body["parameter_count"]) == (2, 1, [2, 2, 1], 9)
    assert body["dtype"] == "float64"


def test_float32_network_stores_float32_values(client):
    body = put_json(client, "/v1/networks/f32", {**XOR, "dtype": "float32", "layers": [{"weights": [[0.1]], "activation": "identity"}]}).get_json()
    assert body["dtype"] == "float32"
    assert body["layers"][0]["weights"] == [[0.10000000149011612]]  # 0.1 rounded to float32
    assert body["layers"][0]["biases"] == [0.0]


def test_read_only_fields_in_a_put_are_ignored(client):
    first = put_json(client, "/v1/neurons/n", RELU_NEURON).get_json()
    echoed = dict(first, created_at="1999-01-01T00:00:00Z", revision=99, name="other")
    second = put_json(client, "/v1/neurons/n", echoed).get_json()
    assert second["created_at"] == first["created_at"]
    assert second["revision"] == 2 and second["name"] == "n"


def test_if_match(client):
    put_json(client, "/v1/neurons/n", RELU_NEURON)
    stale = assert_problem(put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-Match": '"7"'}), 412)
    assert stale["current_revision"] == 1
    ok = put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-Match": '"1"'})
    assert ok.status_code == 200 and ok.headers["ETag"] == '"2"'
    assert put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-Match": "*"}).status_code == 200
    assert_problem(put_json(client, "/v1/neurons/absent", RELU_NEURON, **{"If-Match": "*"}), 412)
    assert_problem(client.delete("/v1/neurons/n", headers={"If-Match": '"1"'}), 412)
    assert client.delete("/v1/neurons/n", headers={"If-Match": '"3"'}).status_code == 204


def test_if_none_match_star_creates_only(client):
    assert put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-None-Match": "*"}).status_code == 201
    body = assert_problem(put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-None-Match": "*"}), 412)
    assert body["current_revision"] == 1
    assert client.get("/v1/neurons/n").get_json()["revision"] == 1


def test_conditional_get(client):
    put_json(client, "/v1/neurons/n", RELU_NEURON)
    assert client.get("/v1/neurons/n", headers={"If-None-Match": '"1"'}).status_code == 304
    assert client.get("/v1/neurons/n", headers={"If-None-Match": '"0"'}).status_code == 200


def test_etag_never_matches_a_recreated_definition(client):
    old = put_json(client, "/v1/neurons/n", RELU_NEURON).headers["ETag"]
    client.delete("/v1/neurons/n")
    new = put_json(client, "/v1/neurons/n", RELU_NEURON)
    assert new.status_code == 201 and new.headers["ETag"] != old
    assert_problem(put_json(client, "/v1/neurons/n", RELU_NEURON, **{"If-Match": old}), 412)


def test_rejected_write_leaves_previous_definition(client):
    put_json(client, "/v1/networks/xor", XOR)
    bad = {"layers": [XOR["layers"][0], {"weights": [[1.0, 2.0, 3.0]], "activation": "identity"}]}
    assert_problem(put_json(client, "/v1/networks/xor", bad), 422, "layers[1].weights[0]")
    body = client.get("/v1/networks/xor").get_json()
    assert body["revision"] == 1 and body["layers"] == XOR["layers"]


def test_neurons_and_networks_are_separate_namespaces(client):
    put_json(client, "/v1/neurons/same", RELU_NEURON)
    assert_problem(client.get("/v1/networks/same"), 404)
    assert put_json(client, "/v1/networks/same", XOR).status_code == 201


def test_list_sorted_and_paginated(client):
    names = ["b", "a", "c-2", "c.1", "A0", "z_", "m"]
    for name in names:
        put_json(client, f"/v1/neurons/{name}", RELU_NEURON)
    client.delete("/v1/neurons/m")
    seen, cursor, pages = [], None, 0
    while True:
        query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = client.get("/v1/neurons", query_string=query)
        body = response.get_json()
        assert len(body["items"]) <= 2
        seen += [item["name"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
    assert seen == sorted(set(names) - {"m"}) and pages == 3
    item = client.get("/v1/neurons", query_string={"limit": 1}).get_json()["items"][0]
    assert item == {"name": "A0", "activation": "relu", "input_size": 3, "description": "a ReLU neuron",
                    "revision": 1, "created_at": item["created_at"], "updated_at": item["updated_at"]}


def test_list_query_errors(client):
    assert_problem(client.get("/v1/neurons?limit=0"), 422, "limit")
    assert_problem(client.get("/v1/neurons?limit=ten"), 422, "limit", "whole number")
    assert_problem(client.get("/v1/neurons?limit=100000"), 422, "limit", "NEURONHUB_MAX_PAGE_SIZE")
    assert_problem(client.get("/v1/neurons?cursor=%%%"), 422, "cursor")


@pytest.mark.parametrize("name", ["-lead", ".x", "a" * 65, "white space", "ü", "a%00b", "semi;colon"])
def test_bad_names_are_rejected_before_storage(client, name):
    assert_problem(put_json(client, f"/v1/neurons/{name}", RELU_NEURON), 422, "name", "expected 1-64")


def test_longest_name_is_fine(client):
    name = "N" + "a.b_c-9" * 9
    assert len(name) == 64
    assert put_json(client, f"/v1/neurons/{name}", RELU_NEURON).status_code == 201


@pytest.mark.parametrize("plural, body", [("neurons", RELU_NEURON), ("networks", XOR)])
def test_a_missing_name_is_answered_with_the_names_that_exist(client, plural, body):
    kind = plural[:-1]
    assert client.get(f"/v1/{plural}/xor").get_json()["detail"] == f"no {kind} named 'xor' (no {kind} is stored yet)"
    for name in ("c-one", "a-one", "b-one"):
        put_json(client, f"/v1/{plural}/{name}", body)
    assert client.get(f"/v1/{plural}/a-on").get_json()["detail"] == f"no {kind} named 'a-on'; stored {plural}: a-one, b-one, c-one"
    for name in ("d-one", "e-one", "f-one"):
        put_json(client, f"/v1/{plural}/{name}", body)
    answer = client.delete(f"/v1/{plural}/zz")
    assert answer.status_code == 404
    assert answer.get_json()["detail"] == (f"no {kind} named 'zz'; stored {plural} include a-one, b-one, c-one, d-one, e-one"
                                           f" (GET /v1/{plural} lists them all)")


def test_the_routes_that_read_a_network_name_what_exists(client):
    put_json(client, "/v1/networks/xor", XOR)
    for answer in (client.post("/v1/networks/xr/forward", json={"inputs": [1, 0]}),
                   client.get("/v1/networks/xr/layers/0/neurons/0"),
                   client.get("/v1/networks/xr/diagram.svg")):
        assert_problem(answer, 404, contains="no network named 'xr'; stored networks: xor")
