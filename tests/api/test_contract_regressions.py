"""Service bugs found by checking the service against openapi.yaml, kept fixed."""
import pytest

from .helpers import RELU_NEURON, XOR, assert_problem, put_json


@pytest.mark.parametrize("plural, body", [("neurons", RELU_NEURON), ("networks", XOR)])
def test_get_answer_can_be_put_back(client, plural, body):
    """A network's layer_sizes, which GET returns, was refused as an unknown field in a PUT."""
    put_json(client, f"/v1/{plural}/n", body)
    fetched = client.get(f"/v1/{plural}/n").get_json()
    again = put_json(client, f"/v1/{plural}/n", fetched)
    assert again.status_code == 200, again.get_json()
    assert again.get_json() == {**fetched, "revision": 2, "updated_at": again.get_json()["updated_at"]}


@pytest.mark.parametrize("limit", ["1_0", "+5", " 5", "5 ", "\u0665"])
def test_limit_is_a_plain_whole_number(client, limit):
    """int() took these as numbers; openapi.yaml says limit is an integer, written in ASCII digits."""
    assert_problem(client.get("/v1/neurons", query_string={"limit": limit}), 422, "limit", "whole number")


def test_limit_in_digits_still_works(client):
    assert client.get("/v1/neurons", query_string={"limit": "007"}).status_code == 200
    assert_problem(client.get("/v1/neurons", query_string={"limit": "-5"}), 422, "limit", "greater than or equal to 1")
