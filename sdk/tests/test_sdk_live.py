"""The SDK against the real service: gunicorn, two workers, a SQLite file (one server for all SDK tests)."""
from __future__ import annotations

import math
import socket
import subprocess
import sys
import textwrap
import threading
import uuid
from pathlib import Path
from typing import Iterator

import numpy as np
import pytest

from neuronhub import (APIConnectionError, APITimeoutError, BadRequestError, Client, ConflictError, LayerDefinition, NetworkDefinition,
                       NeuronDefinition, NotFoundError, PreconditionFailedError, RetryPolicy, TrainingSettings, ValidationError)

XOR = NetworkDefinition([LayerDefinition([[1, 1], [1, 1]], "relu", biases=[0, -1]), LayerDefinition([[1, -2]], "identity")],
                        description="XOR from two ReLU neurons")
RELU = NeuronDefinition([0.5, -1.0, 0.25], "relu", bias=0.5, description="a ReLU neuron")
# Five words, one number each: the logits after a word with embedding x are x * [0, 0, 1, 2, -1].
TINY = NetworkDefinition([LayerDefinition([[0], [0], [1], [2], [-1]], "identity")], description="five words",
                         vocabulary=["<pad>", "<unk>", "</s>", "a", "b"], embeddings=[[0], [0], [0], [1], [2]], context_size=1)
SENTENCES = ["The neuron adds the weighted inputs.", "The neuron applies the activation.", "A layer holds many neurons."] * 5
SMALL = TrainingSettings(context_size=2, embedding_size=8, hidden_sizes=[16], steps=200, min_count=1)


@pytest.fixture
def client(live_url: str) -> Iterator[Client]:
    with Client(live_url, timeout=10) as client:
        yield client


@pytest.fixture
def name() -> str:
    return f"sdk-{uuid.uuid4().hex[:12]}"


def test_health_ready_openapi_and_metrics(client: Client) -> None:
    assert client.health().status == "ok"
    assert client.ready().status == "ready"
    document = client.openapi_document()
    assert document["openapi"].startswith("3.1") and "/v1/networks/{name}/forward" in document["paths"]
    assert client.openapi_yaml().startswith("openapi: 3.1")
    assert "# TYPE " in client.metrics()


def test_xor_network_end_to_end(client: Client, name: str) -> None:
    stored = client.networks.put(name, XOR, create_only=True)
    assert (stored.revision, stored.layer_sizes, stored.parameter_count) == (1, (2, 2, 1), 9)
    assert stored.layers[0].biases == (0.0, -1.0) and stored.layers[1].biases == (0.0,)  # zeros by default

    result = client.networks.forward(name, [[0, 0], [0, 1], [1, 0], [1, 1]])
    assert result.batched and result.outputs == ((0.0,), (1.0,), (1.0,), (0.0,))
    assert result.as_numpy().tolist() == [[0.0], [1.0], [1.0], [0.0]]

    traced = client.networks.forward(name, np.array([1, 1]), trace=True)
    assert not traced.batched and traced.output == (0.0,)
    assert traced.trace is not None
    assert [(t.activation, t.weighted_sums, t.activations) for t in traced.trace] == [
        ("relu", ((2.0, 1.0),), ((2.0, 1.0),)),  # z = [1+1+0, 1+1-1]
        ("identity", ((0.0,),), ((0.0,),)),  # 2 - 2*1
    ]

    svg = client.diagram_svg(name, inputs=[1, 1])  # the same pass, drawn: h = relu([2, 1]) filled by activation
    assert svg.startswith("<svg") and 'data-layer="0" data-index="0" data-weighted-sum="2.0" data-activation="2.0"' in svg

    fetched = client.networks.get(name)
    assert fetched == stored
    assert client.networks.put(name, fetched.definition(), if_match=fetched.etag).revision == 2
    client.networks.delete(name, if_match=2)
    with pytest.raises(NotFoundError):
        client.networks.get(name)


def test_onnx_export_and_import_round_trip(client: Client, name: str) -> None:
    deep = NetworkDefinition([LayerDefinition([[0.5, -1.0], [2.0, 0.25], [1.0, 1.0]], "gelu", biases=[0.1, -0.2, 0.0]),
                              LayerDefinition([[1.0, -1.0, 0.5]], "sigmoid")], description="two layers")
    client.networks.put(name, deep)
    exported = client.export_onnx(name)
    assert exported[:2] == b"\x08\x08"  # a ModelProto starts with its ir_version field: 8
    copy = client.import_onnx(name + "-copy", exported)
    assert copy.revision == 1 and [layer.activation for layer in copy.layers] == ["gelu", "sigmoid"]
    inputs = [[0.0, 1.0], [-2.0, 3.5]]
    assert client.networks.forward(name + "-copy", inputs).outputs == client.networks.forward(name, inputs).outputs
    with pytest.raises(PreconditionFailedError):
        client.import_onnx(name + "-copy", exported, create_only=True)
    with pytest.raises(BadRequestError, match="malformed-onnx|not an ONNX model"):
        client.import_onnx(name + "-bad", b"these bytes are no ONNX model")


def test_neuron_evaluated_by_hand(client: Client, name: str) -> None:
    client.neurons.put(name, RELU)
    single = client.neurons.evaluate(name, [2, 3, 4])
    # z = 0.5*2 - 1*3 + 0.25*4 + 0.5 = -0.5 -> relu -> 0
    assert (single.contributions, single.weighted_sums, single.output) == (((1.0, -3.0, 1.0),), (-0.5,), 0.0)
    batch = client.neurons.evaluate(name, np.array([[2, 3, 4], [4, 1, 0]]))
    # second: 2 - 1 + 0 + 0.5 = 1.5
    assert batch.batched and batch.outputs == (0.0, 1.5) and batch.weighted_sums == (-0.5, 1.5)
    neuron = client.neurons.get(name)
    assert neuron.weights == (0.5, -1.0, 0.25) and neuron.definition() == RELU
    client.neurons.delete(name)


def test_iter_walks_all_pages(client: Client) -> None:
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    names = [f"{prefix}-{i}" for i in range(5)]
    for n in names:
        client.neurons.put(n, RELU)
    seen = [s.name for s in client.neurons.iter(page_size=2) if s.name.startswith(prefix)]
    assert seen == names
    first = client.neurons.list(limit=2)
    assert len(first) == 2 and first.next_cursor is not None
    assert all(s.input_size == 3 and s.activation == "relu" for s in first)


def test_errors_from_the_real_service(client: Client, name: str) -> None:
    with pytest.raises(NotFoundError) as missing:
        client.networks.forward(name, [1, 0])
    assert missing.value.detail.startswith(f"no network named {name!r}; stored networks") and missing.value.request_id

    with pytest.raises(ValidationError) as ragged:
        client.networks.put(name, NetworkDefinition([LayerDefinition([[1, 2], [3]], "relu")]))
    assert ragged.value.errors == {"layers[0].weights[1]": ["expected 2 values (as in row 0), got 1"]}

    client.neurons.put(name, RELU)
    with pytest.raises(ValidationError) as wrong_size:
        client.neurons.evaluate(name, [1, 2])
    assert wrong_size.value.errors == {"inputs": ["expected 3 values per input vector, got 2"]}

    with pytest.raises(PreconditionFailedError) as stale:
        client.neurons.put(name, RELU, if_match=7)
    assert stale.value.current_revision == 1
    with pytest.raises(PreconditionFailedError):
        client.neurons.put(name, RELU, create_only=True)

    with pytest.raises(ValidationError) as bad_name:
        client.neurons.get("-not-a-name")
    assert list(bad_name.value.errors) == ["name"]


def test_a_hand_made_language_network(client: Client, name: str) -> None:
    stored = client.networks.put(name, TINY)
    assert stored.vocabulary_size == 5 and stored.parameter_count == 15 and stored.punctuation == "keep"
    assert client.networks.get(name).definition() == NetworkDefinition(
        [LayerDefinition([[0], [0], [1], [2], [-1]], "identity", biases=[0] * 5)], description="five words",
        vocabulary=TINY.vocabulary, embeddings=TINY.embeddings, context_size=1, punctuation="keep")

    prediction = client.networks.predict(name, "b A", top_k=3)
    # after "a" (x = 1) the logits are [0, 0, 1, 2, -1]: a, then </s>, then <pad> (ties by id)
    assert [w.word for w in prediction.words] == ["a", "</s>", "<pad>"] and prediction.top_word == "a"
    assert prediction.words[0].probability == pytest.approx(math.exp(2) / (1 + 1 + math.exp(1) + math.exp(2) + math.exp(-1)), abs=1e-12)
    assert prediction.context.tokens == ("a",) and prediction.context.text_tokens == 2

    greedy = client.networks.generate(name, "b", max_words=3, temperature=0)
    assert (greedy.text, greedy.continuation, greedy.stop_reason) == ("b a a a", "a a a", "max_words")
    sampled = client.networks.generate(name, max_words=30, temperature=1.5)
    assert client.networks.generate(name, max_words=30, temperature=1.5, seed=sampled.seed) == sampled  # same seed, same text

    score = client.networks.score(name, "a b")
    assert score.tokens == ("a", "b", "</s>") and score.perplexity == pytest.approx(math.exp(score.mean_nll))
    encoded = client.networks.tokenize(name, "A b, zebra")
    assert (encoded.tokens, encoded.ids, encoded.unknown) == (("a", "b", ",", "zebra"), (3, 4, 1, 1), (False, False, True, True))
    assert client.networks.tokenize(name, ids=[0, 3, 4, 2, 3]).text == "a b"


def test_train_wait_and_predict(client: Client, name: str) -> None:
    job = client.networks.train(name, texts=SENTENCES, settings=SMALL, description="three sentences")
    assert job.state in ("queued", "running", "succeeded") and job.network == name
    assert job.settings is not None and job.settings.context_size == 2 and job.settings.learning_rate == 0.003  # defaults filled in
    seen: list[int] = []
    done = job.wait(timeout=60, poll_interval=0.1, on_progress=lambda j: seen.append(j.progress.step))
    assert done.state == "succeeded" and done.error is None, done.error
    assert seen == sorted(seen) and seen[-1] == 200 and done.attempts == 1
    # three sentences are too little text: a bigram count predicts them better, and the job says so
    assert done.result is not None and done.result.validation_perplexity is not None and done.result.bigram_perplexity is not None
    assert done.result.validation_perplexity > done.result.bigram_perplexity
    assert done.warnings == (f"the model is worse than a bigram count on its validation text (perplexity "
                             f"{done.result.validation_perplexity:.4g} against {done.result.bigram_perplexity:.4g}); "
                             "give more text, or try more steps or a smaller model",)
    assert [j.id for j in client.jobs.list(network=name).items] == [job.id]
    followed = list(client.jobs.events(job.id))
    assert len(followed) == 1 and followed[0].state == "succeeded" and followed[0] == done  # ended: its end event only
    with pytest.raises(ConflictError, match="already ended"):
        done.cancel()
    assert done.progress.step == done.progress.total_steps == 200 and done.finished_at is not None
    assert done.result is not None and (done.result.network, done.result.revision, done.result.steps) == (name, 1, 200)
    assert done.result.validation_perplexity is not None and done.result.unigram_perplexity is not None
    assert done.result.validation_perplexity < done.result.unigram_perplexity

    network = client.networks.get(name)
    assert network.description == "three sentences" and network.context_size == 2 and network.vocabulary is not None
    top = client.networks.predict(name, "the neuron", top_k=2).words
    assert {w.word for w in top} == {"adds", "applies"}


def test_language_errors_from_the_real_service(client: Client, name: str) -> None:
    client.networks.put(name, XOR)
    with pytest.raises(ConflictError) as conflict:
        client.networks.predict(name, "a")
    assert conflict.value.type == "urn:neuronhub:problem:not-a-language-network"
    with pytest.raises(NotFoundError):
        client.networks.score("no-such-network", "a")
    client.networks.put(name, TINY)
    with pytest.raises(ValidationError) as top_k:
        client.networks.predict(name, "a", top_k=6)
    assert top_k.value.errors == {"top_k": ["expected 1..5, got 6"]}
    with pytest.raises(ValidationError) as too_short:
        client.networks.train(name, "too short", settings=SMALL)
    assert list(too_short.value.errors) == ["texts"]
    with pytest.raises(ValidationError) as bad_setting:
        client.networks.train(name, texts=SENTENCES, settings={"context_size": 0})
    assert list(bad_setting.value.errors) == ["settings.context_size"]
    with pytest.raises(NotFoundError, match="no job with id"):
        client.jobs.get("0" * 32)


def test_connection_refused_is_retried_then_raised(sleeps: list[float]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again at once: nothing listens there
    with Client(f"http://127.0.0.1:{port}", max_retries=2) as client, pytest.raises(APIConnectionError):
        client.health()
    assert len(sleeps) == 2


def test_a_server_that_never_answers_times_out(sleeps: list[float]) -> None:
    """A listener that accepts and stays silent: every attempt times out, and each is a new connection."""
    accepted: list[socket.socket] = []
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(5)

        def accept() -> None:
            for _ in range(2):
                accepted.append(listener.accept()[0])

        thread = threading.Thread(target=accept)
        thread.start()
        try:
            with Client(f"http://127.0.0.1:{listener.getsockname()[1]}", timeout=0.3, retry=RetryPolicy(max_retries=1)) as client:
                with pytest.raises(APITimeoutError, match="no answer within 0.3 s"):
                    client.neurons.get("xor")
        finally:
            thread.join()
            for connection in accepted:
                connection.close()
    assert len(accepted) == 2 and len(sleeps) == 1


def test_the_quickstart_example_runs(live_url: str) -> None:
    example = Path(__file__).resolve().parents[1] / "examples" / "quickstart.py"
    result = subprocess.run([sys.executable, str(example), live_url], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    for line in ["  xor(0, 1) = 1", "  xor(1, 1) = 0", "neuron 'relu-1': weighted sums (-0.5, 1.5), outputs (0.0, 1.5)",
                 "404: no network named 'no-such-network'", "422: layers[0].weights[1]: expected 2 values (as in row 0), got 1",
                 "  succeeded after 200 steps: 16 words, 672 parameters", "greedy from 'a layer': 'a layer holds many neurons.' (end_of_text)",
                 "tokens ['the', 'neuron', ',', 'the', 'zebra'], ids [3, 5, 1, 3, 1], unknown [False, False, True, False, True]",
                 "409: network 'xor' has no vocabulary, embeddings and context_size, so it cannot read words"]:
        assert line in result.stdout, result.stdout


def test_the_readme_shows_the_quickstart_example() -> None:
    """sdk/README.md shows examples/quickstart.py as a script: main()'s body under the default address."""
    sdk = Path(__file__).resolve().parents[1]
    example = (sdk / "examples" / "quickstart.py").read_text()
    header = example[example.index("from neuronhub import"):example.index("def main(")].rstrip()
    body = example[example.index("    with Client(base_url"):example.index('\n\nif __name__ == "__main__":')]
    body = textwrap.dedent(body).replace("Client(base_url,", 'Client("http://127.0.0.1:8000",')
    readme = (sdk / "README.md").read_text()
    shown = readme[readme.index("```python\n", readme.index("## Quickstart")) + len("```python\n"):]
    assert shown[:shown.index("```")] == f"{header}\n\n{body.rstrip()}\n"


# A two-layer language network: relu hidden neurons h0 = relu(x_old - x_new), h1 = relu(0.5·x_old + x_new - 1)
# over one number per word, and logits U·h (components/schemas/NeuronCard in openapi.yaml).
TINY_LM = NetworkDefinition(
    [LayerDefinition([[1, -1], [0.5, 1]], "relu", biases=[0, -1]),
     LayerDefinition([[0, 0], [0, 0], [1, -1], [2, 0.5], [-1, 1]], "identity")],
    vocabulary=["<pad>", "<unk>", "</s>", "a", "b"], embeddings=[[0], [0], [0], [1], [2]], context_size=2)


def test_understanding_a_neuron_through_the_sdk(client: Client, name: str) -> None:
    from neuronhub import Intervention, OutputExplanation, PredictionExplanation

    client.networks.put(name, TINY_LM)
    card = client.neuron(name, 0, 1, k=2)
    assert (card.weights, card.bias, card.outgoing, card.etag) == ((0.5, 1.0), -1.0, (0.0, 0.0, -1.0, 0.5, 1.0), '"1"')
    assert card.input_words is not None and [w.word for w in card.input_words[1].excites] == ["b", "a"]  # scores 2·1, 1·1
    assert card.output_words is not None and card.output_words.suppresses[0].word == "</s>"
    # "a b b a": contexts (pad pad) (pad a) (a b) (b b) (b a): h1 = relu(-1), relu(0), relu(1.5), relu(2), relu(1)
    examples = client.examples(name, 0, 1, "a b b a", k=2)
    assert (examples.positions, examples.mean, examples.dead_fraction) == (5, 0.9, 0.4)
    assert [e.position for e in examples.top] == [3, 2] and examples.top[0].context == ("b", "b")
    explanation = client.explain(name, "b a", target="b", k=2)
    assert isinstance(explanation, PredictionExplanation)
    assert explanation.attribution_total + explanation.bias == explanation.logit == 0.0  # h = (1, 1), U[b] = (-1, 1)
    ablated = client.networks.predict(name, "b a", top_k=2, interventions=[Intervention(0, 1, set=0)])
    plain = client.networks.predict(name, "b a", top_k=2)
    assert ablated.effect is not None and plain.effect is None
    assert ablated.effect.baseline == plain.words
    assert math.isclose(ablated.effect.kl_divergence, 0.11622368329569371, rel_tol=1e-12)
    assert client.networks.score(name, "a b", interventions=[Intervention(0, 0, scale=1)]).log_probabilities == \
        client.networks.score(name, "a b").log_probabilities
    client.networks.put(f"{name}-xor", XOR)
    assert client.networks.forward(f"{name}-xor", [1, 1], interventions=[Intervention(0, 1, set=0)]).output == (2.0,)
    output = client.explain(f"{name}-xor", inputs=[1, 1], output=0)
    assert isinstance(output, OutputExplanation) and [n.attribution for n in output.neurons] == [2.0, -2.0]
    with pytest.raises(NotFoundError, match=r"layer 0 has 2 neurons \(0\.\.1\)"):
        client.neuron(name, 0, 2)
    with pytest.raises(ValidationError) as caught:
        client.networks.predict(name, "b a", interventions=[Intervention(1, 0, set=0)])
    assert "interventions[0].layer" in caught.value.errors
