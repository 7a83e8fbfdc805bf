from __future__ import annotations

from . import _decode
from . import _operations as op
from ._definitions import Definitions
from ._models import Evaluation, Inputs, Neuron, NeuronDefinition, NeuronSummary, inputs_json


class Neurons(Definitions[NeuronSummary, Neuron, NeuronDefinition]):
    """client.neurons: list, iter, get, put, delete, evaluate."""

    _list, _get, _put, _delete = op.LIST_NEURONS, op.GET_NEURON, op.PUT_NEURON, op.DELETE_NEURON
    _decode_summary = staticmethod(_decode.neuron_summary)
    _decode_resource = staticmethod(_decode.neuron)

    def evaluate(self, name: str, inputs: Inputs) -> Evaluation:
        """z = w · x + b and activation(z) for one input vector or a batch (a list of vectors, a 2-D numpy array)."""
        response = self._transport.send(op.EVALUATE_NEURON, path={"name": name}, body={"inputs": inputs_json(inputs)})
        return _decode.decoded(response, _decode.evaluation)
