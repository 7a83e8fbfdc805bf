"""A training taken up from a checkpoint ends with the very bits of one never interrupted."""
import math

import numpy as np
import pytest

from service.engine.training import (
    CheckpointMismatch,
    Diverged,
    TrainingRun,
    TrainingSettings,
    check_trainable,
    diverged_above,
    train,
)

TEXT = (
    "the neuron multiplies each input by its weight . the neuron adds its bias . "
    "the layer applies its activation . the output layer scores every word . "
) * 12
# dropout draws from the same generator as the batch order, so its state must survive a checkpoint too
SETTINGS = TrainingSettings(context_size=2, embedding_size=4, hidden_sizes=(16,), min_count=1, steps=60, batch_size=16,
                            learning_rate=0.01, dropout=0.2, seed=11)


def run_to_end(run: TrainingRun) -> TrainingRun:
    while not run.done:
        run.advance()
    return run


def state(run: TrainingRun) -> list[bytes]:
    arrays = run.optimiser.arrays + run.optimiser.m + run.optimiser.v
    return [a.tobytes() for a in arrays] + [repr((run.step, run.optimiser.t, run.history, run.history_sum)).encode()]


@pytest.mark.parametrize("stop_after", [0, 1, 7, 23, 24, 59, 60])  # 24 = an epoch boundary: the order is redrawn
def test_resume_is_bitwise_identical(stop_after):
    corpus, n_params = check_trainable(TEXT, SETTINGS)
    whole = run_to_end(TrainingRun(corpus, n_params, SETTINGS))

    first = TrainingRun(corpus, n_params, SETTINGS)
    for _ in range(stop_after):
        first.advance()
    saved = first.checkpoint(seconds=1.5)
    resumed = run_to_end(TrainingRun.resume(*check_trainable(TEXT, SETTINGS), SETTINGS, saved))  # a new process prepares the corpus anew
    assert state(resumed) == state(whole)
    assert resumed.rng.bit_generator.state == whole.rng.bit_generator.state
    model, report = resumed.finish(0.5)
    assert report.seconds == 2.0 and report.steps == 60
    assert report.loss_history == whole.finish(0.0)[1].loss_history


def test_an_uninterrupted_run_is_what_train_returns():
    corpus, n_params = check_trainable(TEXT, SETTINGS)
    run = run_to_end(TrainingRun(corpus, n_params, SETTINGS))
    model, _ = train(TEXT, SETTINGS)
    assert np.array_equal(model.embeddings, run.params.embeddings)
    for layer, (w, b) in zip(model.network.layers, run.params.layers):
        assert np.array_equal(layer.weights, w) and np.array_equal(layer.biases, b)


def test_a_checkpoint_of_other_settings_or_text_is_refused():
    corpus, n_params = check_trainable(TEXT, SETTINGS)
    saved = TrainingRun(corpus, n_params, SETTINGS).checkpoint()
    other = TrainingSettings(**{**SETTINGS.as_dict(), "seed": 12})
    with pytest.raises(CheckpointMismatch):
        TrainingRun.resume(*check_trainable(TEXT, other), other, saved)
    with pytest.raises(CheckpointMismatch):
        TrainingRun.resume(*check_trainable(TEXT + " one more word .", SETTINGS), SETTINGS, saved)


def test_a_loss_far_above_its_start_is_divergence():
    settings = TrainingSettings(**{**SETTINGS.as_dict(), "learning_rate": 10.0, "dropout": 0.0, "steps": 200})
    with pytest.raises(Diverged) as info:
        train(TEXT, settings)
    error = info.value
    assert error.field == "settings.learning_rate"
    assert error.message == f"diverged at step {error.step} (loss {error.loss:.6g}); lower the learning rate"
    assert not math.isfinite(error.loss) or error.loss > diverged_above(2.0, 10)
    assert 1 < error.step <= 200


def test_divergence_threshold():
    assert diverged_above(2.0, 100) == pytest.approx(8.0 + math.log(100))
