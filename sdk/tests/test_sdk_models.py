"""Inputs and results: conversion, immutability, the single-vector shortcuts, numpy."""
from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from neuronhub import Client, Evaluation, ForwardResult, LayerDefinition, NetworkDefinition, NeuronDefinition, TrainingSettings
from neuronhub._models import as_ids, inputs_json


def test_definitions_accept_lists_tuples_and_numpy_and_keep_tuples() -> None:
    from_list = NeuronDefinition([1, 2.5], "relu")
    from_numpy = NeuronDefinition(np.array([1.0, 2.5]), "relu")
    assert from_list == from_numpy and from_list.weights == (1.0, 2.5)
    layer = LayerDefinition(np.eye(2), "tanh", biases=np.zeros(2))
    assert layer.weights == ((1.0, 0.0), (0.0, 1.0)) and layer.biases == (0.0, 0.0)
    assert NetworkDefinition([layer]).layers == (layer,)


def test_definitions_are_frozen() -> None:
    definition = NeuronDefinition([1], "relu")
    with pytest.raises(dataclasses.FrozenInstanceError):
        definition.bias = 2.0  # type: ignore[misc]


@pytest.mark.parametrize("bad, error", [([1, "2"], TypeError), ([True], TypeError), ([math.nan], ValueError), ([math.inf], ValueError), ("12", TypeError)])
def test_definitions_refuse_what_json_cannot_carry(bad: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        NeuronDefinition(bad, "relu")  # type: ignore[arg-type]


def test_inputs_keep_their_shape() -> None:
    assert inputs_json([1, 2]) == [1.0, 2.0]
    assert inputs_json([[1, 2], [3, 4]]) == [[1.0, 2.0], [3.0, 4.0]]
    assert inputs_json(np.array([[1, 2]])) == [[1.0, 2.0]]
    assert inputs_json(np.float32([0.5, 0.25])) == [0.5, 0.25]


def test_single_result_shortcuts_and_numpy() -> None:
    single = ForwardResult("xor", 1, "float64", False, ((1.0, 2.0),))
    assert single.output == (1.0, 2.0) and single.as_numpy().shape == (1, 2)
    evaluation = Evaluation("n", 1, "relu", 0.0, False, ((1.0,),), (1.0,), (1.0,))
    assert evaluation.output == 1.0 and evaluation.as_numpy().tolist() == [1.0]


def test_base_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        Client("neuronhub.test")
    assert Client("http://neuronhub.test/prefix/").base_url == "http://neuronhub.test/prefix"


def test_training_settings_send_only_what_is_set() -> None:
    assert TrainingSettings().to_json() == {}
    settings = TrainingSettings(hidden_sizes=np.array([16, 8]).tolist(), learning_rate=1, betas=[0.9, 0.99], seed=2**64 - 1)  # type: ignore[arg-type]
    assert settings.to_json() == {"hidden_sizes": [16, 8], "learning_rate": 1.0, "betas": [0.9, 0.99], "seed": 2**64 - 1}
    assert settings.hidden_sizes == (16, 8) and hash(settings) == hash(TrainingSettings(**vars(settings)))


@pytest.mark.parametrize("kwargs, error", [({"learning_rate": math.nan}, ValueError), ({"betas": (0.9,)}, ValueError),
                                           ({"dropout": "0.1"}, TypeError)])
def test_training_settings_refuse_what_json_cannot_carry(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        TrainingSettings(**kwargs)  # type: ignore[arg-type]


def test_language_definitions_and_ids() -> None:
    definition = NetworkDefinition([LayerDefinition([[1.0]], "identity")], vocabulary=["a"], embeddings=np.ones((1, 1)), context_size=1)
    assert definition.vocabulary == ("a",) and definition.embeddings == ((1.0,),)
    with pytest.raises(TypeError, match="vocabulary"):
        NetworkDefinition([LayerDefinition([[1.0]], "identity")], vocabulary="abc")
    assert as_ids(np.array([0, 3]), "ids") == [0, 3]
    with pytest.raises(TypeError, match=r"ids\[1\]"):
        as_ids([1, 2.0], "ids")


def test_an_intervention_is_one_of_set_or_scale_with_whole_number_positions() -> None:
    from neuronhub import Intervention
    from neuronhub._models import interventions_json

    assert Intervention(0, 2, set=0).to_json() == {"layer": 0, "index": 2, "set": 0.0}
    assert Intervention(1, 0, scale=2).to_json() == {"layer": 1, "index": 0, "scale": 2.0}
    with pytest.raises(ValueError, match="exactly one of set"):
        Intervention(0, 0)
    with pytest.raises(ValueError, match="exactly one of set"):
        Intervention(0, 0, set=1, scale=2)
    with pytest.raises(TypeError, match="Intervention.layer"):
        Intervention(True, 0, set=1)
    with pytest.raises(ValueError, match="NaN"):
        Intervention(0, 0, scale=float("nan"))
    with pytest.raises(TypeError, match="wrap it in a list"):
        interventions_json(Intervention(0, 0, set=1))  # type: ignore[arg-type]
