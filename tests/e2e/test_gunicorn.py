"""The service as users run it: gunicorn, two workers, a SQLite file."""
import http.client

import requests

XOR = {
    "layers": [
        {"weights": [[1.0, 1.0], [1.0, 1.0]], "biases": [0.0, -1.0], "activation": "relu"},
        {"weights": [[1.0, -2.0]], "biases": [0.0], "activation": "identity"},
    ]
}


def test_store_and_forward_through_gunicorn(server):
    s = requests.Session()
    created = s.put(server.url + "/v1/networks/xor", json=XOR)
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    for _ in range(10):  # lands on both workers
        body = s.post(server.url + "/v1/networks/xor/forward", json={"inputs": [[0, 0], [0, 1], [1, 0], [1, 1]]}).json()
        assert body["outputs"] == [[0.0], [1.0], [1.0], [0.0]]
    changed = {"layers": [{"weights": [[2.0, 0.0]], "activation": "identity"}]}
    assert s.put(server.url + "/v1/networks/xor", json=changed, headers={"If-Match": '"1"'}).status_code == 200
    for _ in range(10):  # every worker sees the new revision at once
        assert s.post(server.url + "/v1/networks/xor/forward", json={"inputs": [1, 0]}).json()["outputs"] == [2.0]


def test_errors_are_problem_json_through_gunicorn(server):
    response = requests.get(server.url + "/nowhere")
    assert response.status_code == 404 and response.headers["Content-Type"] == "application/problem+json"
    response = requests.put(server.url + "/v1/neurons/n", data=b'{"weights": [NaN]}', headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and response.json()["detail"].startswith("NaN and Infinity")


def test_small_chunked_body_is_accepted(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    body = iter([b'{"weights": [1, 2],', b' "activation": "relu"}'])
    connection.request("PUT", "/v1/neurons/small", body=body, headers={"Content-Type": "application/json"}, encode_chunked=True)
    assert connection.getresponse().status == 201


def test_the_longest_diagram_context_the_spec_allows_reaches_the_app_through_gunicorn(server):
    """maxLength counts characters; gunicorn's request line holds 4094 bytes. The worst case is a name of
    64 characters and a context of 4-byte characters, each 12 bytes percent-encoded: it must still get the
    picture (never gunicorn's HTML 414), and one character more the app's own 422."""
    from service.api.diagram import MAX_CONTEXT_CHARS

    name = "w" * 64
    words = ["<pad>", "<unk>", "</s>", "\U0001f600"]
    network = {"vocabulary": words, "context_size": 2, "embeddings": [[0.1 * i, -0.2 * i] for i in range(4)],
               "layers": [{"weights": [[1, 0, 0, 1]], "biases": [0], "activation": "tanh"},
                          {"weights": [[1], [0.5], [-1], [2]], "biases": [0, 0, 0, 0], "activation": "identity"}]}
    assert requests.put(f"{server.url}/v1/networks/{name}", json=network, timeout=30).status_code == 201
    longest = requests.get(f"{server.url}/v1/networks/{name}/diagram.svg", params={"context": "\U0001f600" * MAX_CONTEXT_CHARS}, timeout=30)
    assert longest.status_code == 200 and longest.headers["Content-Type"].startswith("image/svg+xml"), longest.text[:300]
    over = requests.get(f"{server.url}/v1/networks/{name}/diagram.svg", params={"context": "a" * (MAX_CONTEXT_CHARS + 1)}, timeout=30)
    assert over.status_code == 422 and over.headers["Content-Type"] == "application/problem+json"
