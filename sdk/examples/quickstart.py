"""Store the XOR network and a neuron, evaluate them, train a small language network from text, read
words with it, and handle the errors you will meet.

    python sdk/examples/quickstart.py [BASE_URL]      (default http://127.0.0.1:8000, or $NEURONHUB_URL)
"""
from __future__ import annotations

import os
import sys

from neuronhub import (Client, ConflictError, LayerDefinition, NetworkDefinition, NeuronDefinition, NotFoundError,
                       PreconditionFailedError, TrainingSettings, ValidationError)

# Weights have one row per neuron and one column per input, as in torch.nn.Linear.
XOR = NetworkDefinition(
    [
        LayerDefinition([[1, 1], [1, 1]], "relu", biases=[0, -1]),  # h = relu(x1 + x2), relu(x1 + x2 - 1)
        LayerDefinition([[1, -2]], "identity"),  # y = h1 - 2 h2
    ],
    description="XOR from two ReLU neurons",
)

SENTENCES = ["The neuron adds the weighted inputs.", "The neuron applies the activation.", "A layer holds many neurons."]
# Small enough to train in a fraction of a second: 2 words of context, 8 numbers per word, 16 hidden neurons.
SMALL = TrainingSettings(context_size=2, embedding_size=8, hidden_sizes=[16], steps=200, min_count=1)


def main(base_url: str) -> None:
    with Client(base_url, timeout=5.0) as client:
        print("ready:", client.ready().status)

        network = client.networks.put("xor", XOR)
        print(f"stored {network.name!r} revision {network.revision}: layer sizes {network.layer_sizes}, "
              f"{network.parameter_count} parameters")

        table = [[0, 0], [0, 1], [1, 0], [1, 1]]
        result = client.networks.forward("xor", table)
        for inputs, outputs in zip(table, result.outputs):
            print(f"  xor{tuple(inputs)} = {outputs[0]:g}")

        traced = client.networks.forward("xor", [1, 1], trace=True)
        for step in traced.trace or ():
            print(f"  layer {step.layer} ({step.activation}): z = {step.weighted_sums[0]}, a = {step.activations[0]}")

        neuron = client.neurons.put("relu-1", NeuronDefinition([0.5, -1.0, 0.25], "relu", bias=0.5))
        evaluation = client.neurons.evaluate("relu-1", [[2, 3, 4], [4, 1, 0]])
        print(f"neuron {neuron.name!r}: weighted sums {evaluation.weighted_sums}, outputs {evaluation.outputs}")

        try:
            client.networks.forward("no-such-network", [1, 0])
        except NotFoundError as error:
            print(f"404: {error.detail} (request id {error.request_id})")

        try:
            client.networks.put("ragged", NetworkDefinition([LayerDefinition([[1, 2], [3]], "relu")]))
        except ValidationError as error:
            for field, messages in error.errors.items():
                print(f"422: {field}: {'; '.join(messages)}")

        try:
            client.networks.put("xor", XOR, if_match=network.revision + 1)  # a revision xor is not at
        except PreconditionFailedError as error:
            print(f"412: xor is at revision {error.current_revision}")

        # A language network, trained from text: train() starts a job, jobs.wait() waits for it.
        job = client.networks.train("sentences", texts=SENTENCES * 5, settings=SMALL, description="three sentences")
        print(f"training job {job.id}: {job.state}")
        job = client.jobs.wait(job.id, timeout=60)
        if job.result is None:
            raise SystemExit(f"training {job.state}: {job.error}")
        report = job.result
        print(f"  {job.state} after {report.steps} steps: {report.vocabulary_size} words, {report.parameter_count} parameters, "
              f"validation perplexity {report.validation_perplexity or 0:.2f} (unigram baseline {report.unigram_perplexity or 0:.2f})")

        prediction = client.networks.predict("sentences", "the neuron", top_k=3)
        print("after 'the neuron':", ", ".join(f"{word.word} {word.probability:.2f}" for word in prediction.words))
        greedy = client.networks.generate("sentences", "a layer", max_words=10, temperature=0)
        print(f"greedy from 'a layer': {greedy.text!r} ({greedy.stop_reason})")
        sampled = client.networks.generate("sentences", "the", max_words=10, temperature=0.5, seed=7)  # same seed, same text
        print(f"sampled at temperature 0.5 with seed {sampled.seed}: {sampled.text!r}")
        score = client.networks.score("sentences", "The neuron adds the weighted inputs.")
        print(f"perplexity of a training sentence: {score.perplexity:.2f} over {len(score.tokens)} tokens")
        tokens = client.networks.tokenize("sentences", "The neuron, the zebra")
        print(f"tokens {list(tokens.tokens or ())}, ids {list(tokens.ids)}, unknown {list(tokens.unknown or ())}")

        try:
            client.networks.predict("xor", "the neuron")
        except ConflictError as error:
            print(f"409: {error.detail}")

        print(f"{sum(1 for _ in client.networks.iter())} network(s) stored")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("NEURONHUB_URL", "http://127.0.0.1:8000"))
