"""A network drawn as SVG, left to right: inputs, then each layer's neurons, edges between them.

Pure numpy and string building (no HTTP, no database), so the picture is a function of the stored
weights and, when an input is given, of its forward pass:

- every neuron is a circle with `data-layer` and `data-index` (inputs: `data-input`);
- an edge is coloured by the sign of its weight and its width is proportional to |w| (one scale for
  the whole picture: width = MAX_EDGE_WIDTH · |w| / the largest drawn |w|); zero weights are not drawn;
- with an input, a neuron is filled by its activation on a diverging scale (red < 0 < blue),
  divided by the largest |activation| of its layer, and a legend says so;
- a column wider than MAX_SHOWN shows its MAX_SHOWN strongest nodes (by |activation| with an input,
  by the L2 norm of the neuron's weights without; inputs by |x| or by their column of the first
  layer), in index order, and "+N more" — except that the output layer of a language network, with an
  input, shows its most probable words (the highest logits: by |logit| it would show the least
  probable ones, which are what a large negative logit means);
- between two columns only the strongest edges (by |w|) are drawn, EDGE_BUDGET for the whole
  picture shared equally by the gaps, so a large network's picture stays small.

Words (vocabulary, context) are escaped, and characters XML 1.0 cannot carry are replaced, so the
picture is always well-formed XML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .network import Network

MAX_SHOWN = 32
EDGE_BUDGET = 600
MIN_EDGES_PER_GAP = 8
MAX_EDGE_WIDTH = 4.0
POSITIVE = "#2166ac"  # blue: positive weights and activations
NEGATIVE = "#b2182b"  # red: negative ones
NEUTRAL = (247, 247, 247)  # the middle of the diverging scale
LEGEND_STEPS = 11

_COLUMN_GAP = 190
_ROW_GAP = 20
_RADIUS = 6
_TOP = 64
_LEFT = 120
_RIGHT = 150
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True)
class Labels:
    """Words to show: output_words[j] beside output neuron j; input_groups name runs of inputs
    (a language network's context slots: (first input, last input + 1, word))."""

    output_words: Sequence[str] | None = None
    input_groups: Sequence[tuple[int, int, str]] = ()


@dataclass(frozen=True)
class Column:
    title: str
    size: int
    shown: np.ndarray  # indices drawn, ascending
    values: np.ndarray | None  # activations (inputs: x) of every node, with an input
    sums: np.ndarray | None  # weighted sums, with an input (None for the input column)


def svg_text(value: object) -> str:
    """value as XML character data or attribute text: escaped, and characters XML 1.0 forbids replaced."""
    text = _INVALID_XML.sub("\ufffd", str(value))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


def strongest(strength: np.ndarray, limit: int = MAX_SHOWN) -> np.ndarray:
    """The indices of the `limit` largest strengths (ties: lower index first), ascending."""
    if len(strength) <= limit:
        return np.arange(len(strength))
    order = np.argsort(-strength, kind="stable")[:limit]
    return np.sort(order)


def diverging_colour(t: float) -> str:
    """t in [-1, 1] -> a hex colour from NEGATIVE through NEUTRAL (t = 0) to POSITIVE."""
    t = float(min(1.0, max(-1.0, t)))
    end = _rgb(POSITIVE if t >= 0 else NEGATIVE)
    share = abs(t)
    channels = (round(n + (e - n) * share) for n, e in zip(NEUTRAL, end))
    return "#" + "".join(f"{c:02x}" for c in channels)


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def columns(network: Network, inputs: np.ndarray | None, words_out: bool = False) -> list[Column]:
    """What each column shows: the input column, then one per layer. words_out: the last layer scores
    words (a language network), and with an input it shows its most probable words (highest logits)."""
    first = network.layers[0]
    if inputs is None:
        x = None
        input_strength = _norms(first.weights, "ij,ij->j")
    else:
        x = np.asarray(inputs, dtype=np.float64).reshape(-1)
        input_strength = np.abs(x)
    result = [Column(f"input ({first.input_size})", first.input_size, strongest(input_strength), x, None)]
    trace = network.trace(np.asarray(inputs).reshape(1, -1)) if inputs is not None else None
    for i, layer in enumerate(network.layers):
        if trace is None:
            values = sums = None
            strength = _norms(layer.weights, "ij,ij->i")
        else:
            values = trace[i].activations[0].astype(np.float64)
            sums = trace[i].weighted_sums[0].astype(np.float64)
            strength = sums if words_out and i == len(network.layers) - 1 else np.abs(values)
        result.append(Column(f"layer {i} · {layer.activation} ({layer.size})", layer.size, strongest(strength), values, sums))
    return result


def _norms(weights: np.ndarray, subscripts: str) -> np.ndarray:
    """L2 norms of rows (ij,ij->i) or columns (ij,ij->j), summed in float64 without a float64 copy of
    the matrix (a 8,000 × 512 float32 output layer: 7 ms instead of 18)."""
    return np.sqrt(np.einsum(subscripts, weights, weights, dtype=np.float64))


def edges(network: Network, cols: list[Column]) -> list[list[tuple[int, int, float]]]:
    """Per gap between columns c and c+1: (source, target, w) of the strongest drawn edges."""
    gaps = len(network.layers)
    budget = max(MIN_EDGES_PER_GAP, EDGE_BUDGET // gaps)
    result = []
    for g, layer in enumerate(network.layers):
        sources, targets = cols[g].shown, cols[g + 1].shown
        block = layer.weights[np.ix_(targets, sources)].astype(np.float64)  # (targets, sources)
        flat = np.abs(block).ravel()
        order = np.argsort(-flat, kind="stable")[:budget]
        order = order[flat[order] > 0]
        chosen = []
        for k in np.sort(order):  # drawn in (target, source) order
            t, s = divmod(int(k), len(sources))
            chosen.append((int(sources[s]), int(targets[t]), float(block[t, s])))
        result.append(chosen)
    return result


def network_diagram(network: Network, inputs: np.ndarray | None = None, labels: Labels = Labels(), title: str = "") -> str:
    """The SVG document (a str) of `network`, its neurons filled by the forward pass of `inputs` if given."""
    cols = columns(network, inputs, words_out=labels.output_words is not None)
    gaps = edges(network, cols)
    rows = max(len(c.shown) + (1 if len(c.shown) < c.size else 0) for c in cols)
    width = _LEFT + _COLUMN_GAP * (len(cols) - 1) + _RIGHT
    legend_height = 40 if inputs is not None else 0
    height = _TOP + rows * _ROW_GAP + 30 + legend_height
    positions = [_positions(c, rows) for c in cols]
    x_of = [_LEFT + _COLUMN_GAP * c for c in range(len(cols))]

    out: list[str] = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="network-diagram" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="sans-serif" font-size="11">',
        f"<title>{svg_text(title or 'network diagram')}</title>",
    ]
    for c, col in enumerate(cols):
        out.append(f'<text class="column-title" x="{x_of[c]}" y="20" text-anchor="middle" font-weight="bold">{svg_text(col.title)}</text>')
    for group_start, group_stop, word in labels.input_groups:
        shown_rows = [positions[0][i] for i in cols[0].shown if group_start <= i < group_stop]
        if shown_rows:
            out.append(f'<text class="input-group" x="{_LEFT - 14}" y="{shown_rows[0] + 4:.1f}" text-anchor="end">{svg_text(word)}</text>')

    top = max((abs(w) for gap in gaps for _, _, w in gap), default=0.0)
    scale = MAX_EDGE_WIDTH / top if top > 0 else 0.0
    out.append('<g class="edges" fill="none" stroke-opacity="0.55">')
    for g, gap in enumerate(gaps):
        for source, target, w in gap:
            colour = POSITIVE if w > 0 else NEGATIVE
            out.append(
                f'<line x1="{x_of[g]}" y1="{positions[g][source]:.1f}" x2="{x_of[g + 1]}" y2="{positions[g + 1][target]:.1f}" '
                f'stroke="{colour}" stroke-width="{abs(w) * scale:.4g}" data-from="{source}" data-to="{target}" data-gap="{g}" data-weight="{w!r}"/>'
            )
    out.append("</g>")

    out.append('<g class="nodes" stroke="#444" stroke-width="1">')
    for c, col in enumerate(cols):
        peak = float(np.max(np.abs(col.values))) if col.values is not None and col.size else 0.0
        for i in col.shown:
            out.append(_node(c, col, int(i), x_of[c], positions[c][i], peak, labels, len(cols)))
        hidden = col.size - len(col.shown)
        if hidden:
            y = _TOP + len(col.shown) * _ROW_GAP + 4
            layer_attr = "input" if c == 0 else str(c - 1)
            out.append(f'<text class="more" data-layer="{layer_attr}" x="{x_of[c]}" y="{y}" text-anchor="middle" stroke="none">+{hidden} more</text>')
        if col.values is not None:
            out.append(f'<text class="scale" x="{x_of[c]}" y="{height - legend_height - 8}" text-anchor="middle" stroke="none" fill="#555">'
                       f"|a| ≤ {peak:.3g}</text>")
    out.append("</g>")
    if inputs is not None:
        out.append(_legend(height - legend_height + 6))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _positions(col: Column, rows: int) -> dict[int, float]:
    """y of each shown node, the column centred vertically."""
    count = len(col.shown) + (1 if len(col.shown) < col.size else 0)
    offset = (rows - count) * _ROW_GAP / 2
    return {int(i): _TOP + offset + r * _ROW_GAP for r, i in enumerate(col.shown)}


def _node(c: int, col: Column, i: int, x: float, y: float, peak: float, labels: Labels, count: int) -> str:
    is_input = c == 0
    attributes = f'data-input="{i}"' if is_input else f'data-layer="{c - 1}" data-index="{i}"'
    classes = "input" if is_input else "neuron"
    name = f"input {i}" if is_input else f"layer {c - 1}, neuron {i}"
    word = None
    if is_input:
        for start, stop, group_word in labels.input_groups:
            if start <= i < stop:
                name += f" ({group_word!s} · {i - start})"
    elif c == count - 1 and labels.output_words is not None:
        word = labels.output_words[i]
        name += f" “{word}”"
    fill = "#ffffff"
    values = ""
    if col.values is not None:
        a = float(col.values[i])
        fill = diverging_colour(a / peak if peak > 0 else 0.0)
        if col.sums is not None:
            z = float(col.sums[i])
            values = f' data-weighted-sum="{z!r}" data-activation="{a!r}"'
            name += f": z = {z:.4g}, a = {a:.4g}"
        else:
            values = f' data-value="{a!r}"'
            name += f": x = {a:.4g}"
    text = ""
    if word is not None:
        text = f'<text class="word" x="{x + 10}" y="{y + 4:.1f}" stroke="none">{svg_text(word)}</text>'
    return (f'<circle class="{classes}" cx="{x}" cy="{y:.1f}" r="{_RADIUS}" fill="{fill}" {attributes}{values}>'
            f"<title>{svg_text(name)}</title></circle>{text}")


def _legend(y: float) -> str:
    parts = ['<g class="legend" font-size="10">',
             f'<text x="{_LEFT - 100}" y="{y + 10}">activation ÷ largest |a| of its layer:</text>']
    x0 = _LEFT + 110
    for k in range(LEGEND_STEPS):
        t = -1 + 2 * k / (LEGEND_STEPS - 1)
        parts.append(f'<rect x="{x0 + 16 * k}" y="{y}" width="16" height="12" fill="{diverging_colour(t)}" data-t="{t:g}"/>')
    parts.append(f'<text x="{x0}" y="{y + 24}" text-anchor="middle">−1</text>')
    parts.append(f'<text x="{x0 + 8 + 16 * (LEGEND_STEPS // 2)}" y="{y + 24}" text-anchor="middle">0</text>')
    parts.append(f'<text x="{x0 + 16 * LEGEND_STEPS}" y="{y + 24}" text-anchor="middle">+1</text>')
    parts.append("</g>")
    return "".join(parts)
