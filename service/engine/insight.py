"""What one neuron does: its card, the contexts it responds to, its share of a prediction, and the
effect of intervening on it. Pure numpy beside the forward pass (Network.layer_values), exact for
these dense networks.

Notation (one layer's neuron j of layer l):
    z = a_prev · W[j] + b[j]          its weighted sum; a = f(z) its activation
    E (V, d)                          a language network's embedding table, d its width
    W0[j, s·d:(s+1)·d]                the first layer's weights reading context slot s
    U (V, n), c (V,)                  the output layer's weights and biases; n neurons feed it
Direct logit attribution: the output layer is linear before its activation, so a word's logit is
    logit_t = Σ_j U[t, j] · a_j + c[t]
exactly; U[t, j] · a_j is neuron j's attribution to word t.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import EngineError
from .interventions import Intervention
from .language import LanguageModel, Prediction, stable_softmax, top_ids
from .network import Network
from .tokenizer import PAD
from .training import activation_backward

MAX_K = 100  # words, inputs, neurons or contexts listed per answer
MAX_EXAMPLE_WORDS = 1_000_000  # words of text one examples call reads
DEAD_DERIVATIVE = 1e-6  # f'(z) below this: a dead ReLU or a saturated tanh/sigmoid
_EXAMPLE_BATCH = 8192  # contexts per forward pass when reading a long text (bounds memory)


class NoSuchNeuron(EngineError):
    """A layer or neuron the network does not have (the API answers 404)."""


class TextTooLong(EngineError):
    """More words than MAX_EXAMPLE_WORDS (the API answers 413)."""

    def __init__(self, words: int) -> None:
        super().__init__("text", f"has {words} words; at most {MAX_EXAMPLE_WORDS} are read")
        self.words = words


def check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= MAX_K:
        raise EngineError("k", f"expected a whole number in 1..{MAX_K}, got {k!r}")
    return int(k)


def check_neuron(network: Network, layer: int, index: int) -> None:
    last = len(network.layers) - 1
    if not 0 <= layer <= last:
        raise NoSuchNeuron("layer", f"the network has {last + 1} layers (0..{last}), not layer {layer}")
    size = network.layers[layer].size
    if not 0 <= index < size:
        raise NoSuchNeuron("index", f"layer {layer} has {size} neurons (0..{size - 1}), not neuron {index}")


def activation_derivative(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    """f'(z) element-wise (softmax: the diagonal of its Jacobian, ∂a_j/∂z_j = a_j(1 − a_j))."""
    if name == "softmax":
        return a * (1 - a)
    return activation_backward(name, z, a, np.ones_like(z))


# --- 1. the card -------------------------------------------------------------------------------------

def neuron_card(network: Network, language: LanguageModel | None, layer: int, index: int, k: int) -> dict[str, Any]:
    """Neuron `index` of `layer`: its parameters and the inputs, words and outputs it is wired to."""
    check_neuron(network, layer, index)
    k = check_k(k)
    this = network.layers[layer]
    w = this.weights[index]  # (fan_in,)
    card: dict[str, Any] = {
        "layer": layer,
        "index": index,
        "activation": this.activation,
        "bias": float(this.biases[index]),
        "weights": w.tolist(),
        "fan_in": this.input_size,
        "fan_out": network.layers[layer + 1].size if layer + 1 < len(network.layers) else 0,
    }
    if layer + 1 < len(network.layers):
        card["outgoing"] = network.layers[layer + 1].weights[:, index].tolist()  # (fan_out,)
    strongest = top_ids(np.abs(w), min(k, w.size))
    card["strongest_inputs"] = [{"input": int(i), "weight": float(w[i])} for i in strongest]
    if language is not None:
        words = language.vocabulary.words
        if layer == 0:
            d = language.embedding_size
            slots = []
            for s in range(language.context_size):
                score = language.embeddings @ w[s * d : (s + 1) * d]  # (V,): W[index, slot block] · E[w]
                slots.append({"slot": s, "excites": _scored(words, score, top_ids(score, min(k, score.size)), "score"),
                              "inhibits": _scored(words, score, top_ids(-score, min(k, score.size)), "score")})
            card["input_words"] = slots
        if layer == len(network.layers) - 2:
            u = network.layers[-1].weights[:, index]  # (V,): U[w, index]
            card["output_words"] = {"promotes": _scored(words, u, top_ids(u, min(k, u.size)), "weight"),
                                    "suppresses": _scored(words, u, top_ids(-u, min(k, u.size)), "weight")}
    return card


def _scored(words: Sequence[str], values: np.ndarray, ids: np.ndarray, key: str) -> list[dict[str, Any]]:
    return [{"word": words[i], key: float(values[i])} for i in ids]


# --- 2. examples --------------------------------------------------------------------------------------

def examples(model: LanguageModel, layer: int, index: int, text: str, k: int) -> dict[str, Any]:
    """The neuron's activation at every context of `text` (the contexts score reads: each word and the
    final "</s>" from the k words before it): summary statistics and the k highest and lowest."""
    network = model.network
    check_neuron(network, layer, index)
    k = check_k(k)
    enc = model.tokenizer.encode(text, add_end=True)
    words = len(enc.tokens) - 1
    if words > MAX_EXAMPLE_WORDS:
        raise TextTooLong(words)
    if words == 0:
        raise EngineError("text", "has no words to read")
    contexts = model.contexts(enc.ids)  # (n + 1, k)
    positions = len(contexts)
    z = np.empty(positions, dtype=model.dtype)  # the neuron's weighted sum per position
    a = np.empty(positions, dtype=model.dtype)  # and its activation
    for start in range(0, positions, _EXAMPLE_BATCH):
        chunk = contexts[start : start + _EXAMPLE_BATCH]
        for i, (zs, acts) in enumerate(network.layer_values(model.embed(chunk))):
            if i == layer:
                z[start : start + len(chunk)] = zs[:, index]
                a[start : start + len(chunk)] = acts[:, index]
                break
    derivative = activation_derivative(network.layers[layer].activation, z, a)
    quantiles = np.quantile(a.astype(np.float64), [0.0, 0.25, 0.5, 0.75, 1.0])
    padded = [PAD] * model.context_size + enc.tokens
    n = min(k, positions)

    def example(t: int) -> dict[str, Any]:
        return {"position": int(t), "context": padded[t : t + model.context_size], "next_word": enc.tokens[t],
                "weighted_sum": float(z[t]), "activation": float(a[t])}

    return {
        "layer": layer,
        "index": index,
        "activation": network.layers[layer].activation,
        "positions": positions,
        "mean": float(a.mean(dtype=np.float64)),
        "quantiles": dict(zip(("min", "q25", "median", "q75", "max"), map(float, quantiles))),
        "dead_fraction": float(np.count_nonzero(derivative < DEAD_DERIVATIVE) / positions),
        "top": [example(t) for t in top_ids(a, n)],
        "bottom": [example(t) for t in top_ids(-a, n)],
    }


# --- 3. explain ---------------------------------------------------------------------------------------

def _check_hidden_layer(network: Network) -> None:
    if len(network.layers) < 2:
        raise EngineError("layers", "the network has only its output layer: there is no hidden layer to attribute to")


def _attribution(network: Network, hidden: np.ndarray, row: int, k: int) -> dict[str, Any]:
    """Direct attribution of output neuron `row`'s weighted sum to the last hidden layer's activations
    hidden (n,): U[row, j] · a_j per neuron, the k largest in |.|, and their exact total."""
    u = network.layers[-1].weights[row]  # (n,)
    attribution = u * hidden  # (n,)
    strongest = top_ids(np.abs(attribution), min(k, attribution.size))
    layer = len(network.layers) - 2
    return {
        "bias": float(network.layers[-1].biases[row]),
        "attribution_total": float(attribution.sum(dtype=np.float64)),
        "neurons": [{"layer": layer, "index": int(j), "activation": float(hidden[j]), "weight": float(u[j]),
                     "attribution": float(attribution[j])} for j in strongest],
    }


def explain_prediction(model: LanguageModel, context: str, target: str | None, k: int) -> dict[str, Any]:
    """Why the model gives `target` (default: its most probable word) after `context`."""
    k = check_k(k)
    network = model.network
    _check_hidden_layer(network)
    reading = model.context_ids(context)
    x = model.embed(reading.ids[None, :])  # (1, k·d)
    values = list(network.layer_values(x))
    logits = values[-1][0][0]  # (V,)
    probs, logp = stable_softmax(logits)
    if target is None:
        t = int(top_ids(logp, 1)[0])
    elif target in model.vocabulary:
        t = model.vocabulary.index[target]
    else:
        raise EngineError("target", f"{target!r} is not in the network's vocabulary of {model.vocabulary_size} words")
    hidden = values[-2][1][0]  # (n,): the activations the output layer reads
    answer: dict[str, Any] = {
        "context": reading.as_dict(),
        "target": model.vocabulary.words[t],
        "id": t,
        "logit": float(logits[t]),
        "probability": float(probs[t]),
        "logprob": float(logp[t]),
        **_attribution(network, hidden, t, k),
    }
    # Slot s's embedding replaced by the mean embedding: one context per slot, one forward pass.
    d = model.embedding_size
    replaced = np.repeat(x, model.context_size, axis=0)  # (k, k·d)
    mean = model.embeddings.mean(axis=0)  # (d,)
    for s in range(model.context_size):
        replaced[s, s * d : (s + 1) * d] = mean
    _, logp_replaced = stable_softmax(network.weighted_sums(replaced))  # (k, V)
    answer["slots"] = [{"slot": s, "word": reading.tokens[s], "delta_logprob": float(logp_replaced[s, t] - logp[t])}
                       for s in range(model.context_size)]
    return answer


def explain_output(network: Network, inputs: np.ndarray, output: int, k: int) -> dict[str, Any]:
    """Why output neuron `output` of a plain network has its weighted sum for one input vector (n_in,)."""
    k = check_k(k)
    _check_hidden_layer(network)
    last = network.output_size - 1
    if not 0 <= output <= last:
        raise EngineError("output", f"expected an output neuron in 0..{last}, got {output}")
    values = list(network.layer_values(inputs[None, :]))
    hidden = values[-2][1][0]
    return {
        "output": output,
        "weighted_sum": float(values[-1][0][0, output]),
        "activation": float(values[-1][1][0, output]),
        **_attribution(network, hidden, output, k),
    }


# --- 4. the effect of an intervention --------------------------------------------------------------

def predict_with_effect(model: LanguageModel, context: str, top_k: int, temperature: float,
                        interventions: Sequence[Intervention]) -> tuple[Prediction, dict[str, Any]]:
    """The prediction with the interventions, and their effect: KL(p ‖ p′) in nats between the
    next-word distributions without (p) and with (p′) them, and the top_k words without them.
    Two forward passes."""
    prediction, _, logp_edited = model.predict_with_distribution(context, top_k, temperature, interventions)
    p, logp = model.next_word_distribution(prediction.context.ids, temperature)  # (1, V) each: without them
    p, logp, logp_edited = p[0].astype(np.float64), logp[0].astype(np.float64), logp_edited.astype(np.float64)
    kl = float(np.sum(p * (logp - logp_edited)))  # terms with p = 0 are 0; log-probabilities are finite
    return prediction, {"kl_divergence": max(kl, 0.0), "baseline": [w.as_dict() for w in model.top_words(p, logp, top_k)]}
