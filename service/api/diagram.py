"""GET /v1/networks/{name}/diagram.svg: the network drawn by engine.diagram, optionally for one input."""
from __future__ import annotations

import math
import re

import numpy as np
from flask import Blueprint, Response, request

from .. import catalog
from ..engine.diagram import Labels, network_diagram
from ..engine.errors import EngineError
from .definitions import NETWORKS
from .evaluation import engine_problem, load_compiled
from .problems import validation_problem

bp = Blueprint("diagram", __name__, url_prefix="/v1")

SVG = "image/svg+xml"
MAX_CONTEXT_CHARS = 300  # the last words are what is read; 300 characters of 4 UTF-8 bytes, 12 each percent-encoded, fit gunicorn's 4094-byte request line beside a 64-character name
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@bp.get("/networks/<name>/diagram.svg")
def network_diagram_svg(name: str) -> Response:
    revision, compiled = load_compiled(NETWORKS, name, catalog.compile_network)
    network, language = compiled.network, compiled.language
    context, inputs_text = request.args.get("context"), request.args.get("inputs")
    if language is not None and inputs_text is not None:
        raise validation_problem({"inputs": [f"network {name!r} is a language network: give ?context=words, not inputs"]})
    if language is None and context is not None:
        raise validation_problem({"context": [f"network {name!r} is not a language network: give ?inputs=numbers separated by commas"]})
    inputs = None
    labels = Labels()
    if language is not None:
        d = language.embedding_size
        words = language.vocabulary.words
        if context is not None:
            if len(context) > MAX_CONTEXT_CHARS:
                raise validation_problem({"context": [f"expected at most {MAX_CONTEXT_CHARS} characters, got {len(context)}"]})
            reading = language.context_ids(context)
            inputs = language.embed(reading.ids[None, :])[0]
            slots = [(s * d, (s + 1) * d, f"{s}: {word}") for s, word in enumerate(reading.tokens)]
        else:
            slots = [(s * d, (s + 1) * d, f"slot {s}") for s in range(language.context_size)]
        labels = Labels(output_words=words, input_groups=slots)
    elif inputs_text is not None:
        inputs = _parse_inputs(inputs_text, network.input_size)
    try:
        svg = network_diagram(network, inputs, labels, title=f"{name} (revision {revision})")
    except EngineError as exc:
        raise engine_problem(exc) from None
    return Response(svg, mimetype=SVG)


def _parse_inputs(text: str, size: int) -> np.ndarray:
    parts = text.split(",")
    values = []
    for position, part in enumerate(parts):
        part = part.strip()
        if not _NUMBER.fullmatch(part):
            shown = part if len(part) <= 40 else part[:37] + "..."
            raise validation_problem({"inputs": [f"expected {size} numbers separated by commas; value {position} is {shown!r}"]})
        value = float(part)
        if not math.isfinite(value):
            raise validation_problem({"inputs": [f"value {position} ({part}) is beyond the float64 range"]})
        values.append(value)
    if len(values) != size:
        raise validation_problem({"inputs": [f"expected {size} numbers (the network's input size), got {len(values)}"]})
    return np.array(values, dtype=np.float64)
