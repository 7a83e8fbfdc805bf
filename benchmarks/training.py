"""Training with the default settings on a fixed corpus: our engine against the same model in PyTorch.

Corpus: service/demo/corpus.txt, one text per paragraph (as the demo trains). Settings: the defaults of
TrainingSettings. Both trainers start from the same initial weights (our init_parameters, seed 0),
take the same minibatches in the same order (train()'s order), and use Adam with the same cosine
learning-rate schedule, on one thread each. Every few steps the validation loss is measured off the
clock. Reported: training steps per second, and the training time until the validation loss first
reaches the target: 2% above the better of the two final validation losses.
"""
from __future__ import annotations

import itertools
import time
from typing import Any, Callable

import numpy as np

TARGET_MARGIN = 1.02


def _setup():
    from service.demo.train_demo import demo_texts
    from service.engine import training as T

    settings = T.TrainingSettings()
    corpus, _ = T.check_trainable(demo_texts(), settings)
    V = len(corpus.vocabulary)
    train_contexts, train_targets = corpus.training
    n_train = len(train_targets)
    total = T.total_steps(settings, n_train)
    rng = np.random.Generator(np.random.PCG64(settings.seed))
    params = T.init_parameters(settings, V, np.bincount(train_targets, minlength=V).astype(np.float64), rng)
    # train()'s minibatches in train()'s order (no dropout by default, so nothing else draws in between)
    batches = list(itertools.islice(T.minibatches(rng, n_train, settings.batch_size), total))
    return T, settings, corpus, params, batches, total


def _ours(T, settings, corpus, params, batches, total, every: int) -> dict:
    optimiser = T.Adam(params.arrays(), params.decays(), settings)
    contexts, targets = corpus.training
    val_contexts, val_targets = corpus.validation
    clock, curve = 0.0, []
    for step, batch in enumerate(batches, 1):
        started = time.perf_counter()
        with np.errstate(over="ignore", invalid="ignore"):
            _, grads = T.loss_and_gradients(params, contexts[batch], targets[batch], settings.dropout, None)
            optimiser.step(grads, T.cosine_learning_rate(settings, step - 1, total))
        clock += time.perf_counter() - started
        if step % every == 0 or step == total:
            model = T.to_language_model(params, corpus.vocabulary, settings)
            curve.append((step, clock, T.mean_nll(model, val_contexts, val_targets)))
    return {"steps": total, "seconds": clock, "curve": curve}


def _torch(T, settings, corpus, params, batches, total, every: int) -> dict:
    import torch

    dtype = getattr(torch, settings.dtype)
    embeddings = torch.tensor(params.embeddings, dtype=dtype, requires_grad=True)
    layers = [(torch.tensor(W, dtype=dtype, requires_grad=True), torch.tensor(b, dtype=dtype, requires_grad=True))
              for W, b in params.layers]
    activation = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid, "identity": lambda x: x}[settings.activation]
    parameters = [embeddings] + [p for layer in layers for p in layer]
    optimiser = torch.optim.Adam(parameters, lr=settings.learning_rate, betas=settings.betas, eps=settings.eps)
    contexts, targets = (torch.from_numpy(a) for a in corpus.training)
    val_contexts, val_targets = (torch.from_numpy(a) for a in corpus.validation)

    def logits(ctx: Any) -> Any:
        x = embeddings[ctx].reshape(ctx.shape[0], -1)
        for W, b in layers[:-1]:
            x = activation(torch.nn.functional.linear(x, W, b))
        return torch.nn.functional.linear(x, *layers[-1])

    clock, curve = 0.0, []
    for step, batch in enumerate(batches, 1):
        index = torch.from_numpy(batch)
        started = time.perf_counter()
        for group in optimiser.param_groups:
            group["lr"] = T.cosine_learning_rate(settings, step - 1, total)
        optimiser.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(logits(contexts[index]), targets[index])
        loss.backward()
        optimiser.step()
        clock += time.perf_counter() - started
        if step % every == 0 or step == total:
            with torch.no_grad():
                curve.append((step, clock, float(torch.nn.functional.cross_entropy(logits(val_contexts), val_targets))))
    return {"steps": total, "seconds": clock, "curve": curve}


def run(threads: int = 1, repeats: int = 3, log: Callable[[str], None] = print) -> dict:
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    runs: dict[str, list[dict]] = {"ours": [], "pytorch": []}
    with threadpool_limits(limits=threads):
        for _ in range(repeats):
            for name, trainer in (("ours", _ours), ("pytorch", _torch)):
                T, settings, corpus, params, batches, total = _setup()
                every = max(1, total // 30)
                runs[name].append(trainer(T, settings, corpus, params, batches, total, every))
    final = {name: min(r["curve"][-1][2] for r in rs) for name, rs in runs.items()}
    target = TARGET_MARGIN * min(final.values())
    result: dict[str, Any] = {"corpus": "service/demo/corpus.txt", "settings": "TrainingSettings() defaults",
                              "threads": threads, "repeats": repeats, "target_validation_loss": target,
                              "steps": runs["ours"][0]["steps"], "engines": {}}
    result.update(vocabulary_size=len(corpus.vocabulary), training_tokens=corpus.split,
                  validation_tokens=len(corpus.targets) - corpus.split)
    for name, rs in runs.items():
        steps_per_second = sorted(r["steps"] / r["seconds"] for r in rs)[len(rs) // 2]
        to_target = []
        for r in rs:
            reached = next((clock for step, clock, loss in r["curve"] if loss <= target), None)
            to_target.append(reached)
        reached = [t for t in to_target if t is not None]
        result["engines"][name] = {
            "steps_per_second": steps_per_second,
            "seconds_to_target": sorted(reached)[len(reached) // 2] if reached else None,
            "final_validation_loss": final[name],
            "curve": rs[0]["curve"],
        }
    ours, theirs = result["engines"]["ours"], result["engines"]["pytorch"]
    result["steps_per_second_ratio"] = ours["steps_per_second"] / theirs["steps_per_second"]
    if ours["seconds_to_target"] and theirs["seconds_to_target"]:
        result["time_to_target_ratio"] = ours["seconds_to_target"] / theirs["seconds_to_target"]
    for name, e in result["engines"].items():
        to_target = f"{e['seconds_to_target']:.3f} s" if e["seconds_to_target"] is not None else "not reached"
        log(f"  {name:8s} {e['steps_per_second']:8.1f} steps/s  to validation loss {target:.3f}: {to_target}  "
            f"(final {e['final_validation_loss']:.3f})")
    return result
