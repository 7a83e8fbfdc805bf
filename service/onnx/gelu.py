"""GELU written out in elementary operators, as exporters write it before opset 20's Gelu operator.

torch.onnx.export writes nn.GELU() as x * 0.5 * (1 + Erf(x / sqrt 2)) and nn.GELU(approximate="tanh")
as 0.5 * x * (1 + Tanh(sqrt(2/pi) * (x + 0.044715 * x^3))), with the node order, the operand order,
Div by sqrt 2 or Mul by 1/sqrt 2, and x^3 as Pow or as products varying between exporters. So the
nodes are not matched one by one: the run of arithmetic nodes after a layer is read as a polynomial
in z whose atoms may be Erf(...) or Tanh(...) of polynomials, every constant folded, and that is
compared with GELU's polynomial, constants to float32 precision.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

# A polynomial: monomial (sorted tuple of atoms: "z", or (function, polynomial items)) -> coefficient.
Poly = dict[tuple[Any, ...], float]

_ARITHMETIC = {"Add", "Sub", "Mul", "Div", "Pow", "Neg", "Sqrt", "Erf", "Tanh", "Identity"}
_FUNCTIONS = {"Erf": math.erf, "Tanh": math.tanh}
_REL = 1e-6  # float32 constants (a float32 sqrt 2 is 4e-8 off) and their products
_MAX_POWER = 4


def _constant(value: float) -> Poly:
    return {(): value}


def _z(coefficient: float = 1.0, power: int = 1) -> Poly:
    return {("z",) * power: coefficient}


def _sum(p: Poly, q: Poly, sign: float = 1.0) -> Poly:
    out = dict(p)
    for monomial, c in q.items():
        out[monomial] = out.get(monomial, 0.0) + sign * c
    return out


def _product(p: Poly, q: Poly) -> Poly:
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            monomial = tuple(sorted(m1 + m2, key=repr))
            out[monomial] = out.get(monomial, 0.0) + c1 * c2
    return out


def _scalar(p: Poly) -> float | None:
    """The number p is, when it has no z in it."""
    if all(m == () for m in p):
        return p.get((), 0.0)
    return None


def _items(p: Poly) -> tuple[Any, ...]:
    return tuple(sorted(((m, c) for m, c in p.items() if c != 0), key=lambda item: repr(item[0])))


def _apply(function: str, p: Poly) -> Poly:
    value = _scalar(p)
    if value is not None:
        return _constant(_FUNCTIONS[function](value))
    return {((function, _items(p)),): 1.0}


def _similar(a: Any, b: Any) -> bool:
    """Equal structure, numbers equal to float32 precision."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, (int, float)) and isinstance(b, (int, float)) and math.isclose(a, b, rel_tol=_REL, abs_tol=1e-12)
    if isinstance(a, tuple) and isinstance(b, tuple):
        return len(a) == len(b) and all(_similar(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _same_polynomial(p: tuple[Any, ...], q: tuple[Any, ...]) -> bool:
    return len(p) == len(q) and all(any(_similar(item, other) for other in q) for item in p)


_HALF_Z = _z(0.5)
_GELU = _sum(_HALF_Z, _product(_HALF_Z, _apply("Erf", _z(1 / math.sqrt(2)))))
_GELU_TANH = _sum(_HALF_Z, _product(_HALF_Z, _apply("Tanh", _sum(_z(math.sqrt(2 / math.pi)), _z(math.sqrt(2 / math.pi) * 0.044715, 3)))))
_KNOWN = {"gelu": _items(_GELU), "gelu_tanh": _items(_GELU_TANH)}


class _Reader:
    def __init__(self, run: Sequence[Any], z: str, constants: dict[str, np.ndarray]) -> None:
        self.made_by = {node.output[0]: node for node in run}
        self.z = z
        self.constants = constants
        self.used: set[str] = set()

    def poly(self, name: str) -> Poly | None:
        if name == self.z:
            return _z()
        if name in self.constants:
            value = self.constants[name]
            if value.size != 1 or value.dtype.kind not in "fiu":
                return None
            return _constant(float(value.reshape(())))
        node = self.made_by.get(name)
        if node is None:
            return None
        self.used.add(name)
        inputs = [self.poly(x) for x in node.input]
        if any(p is None for p in inputs) or not inputs:
            return None
        return _combine(node.op_type, inputs)  # type: ignore[arg-type]


def _combine(op: str, inputs: list[Poly]) -> Poly | None:
    if op in ("Identity", "Neg", "Sqrt", "Erf", "Tanh"):
        if len(inputs) != 1:
            return None
        (p,) = inputs
        if op == "Identity":
            return p
        if op == "Neg":
            return _sum({}, p, -1.0)
        if op == "Sqrt":
            value = _scalar(p)
            return None if value is None or value < 0 else _constant(math.sqrt(value))
        return _apply(op, p)
    if len(inputs) != 2:
        return None
    p, q = inputs
    if op == "Add":
        return _sum(p, q)
    if op == "Sub":
        return _sum(p, q, -1.0)
    if op == "Mul":
        return _product(p, q)
    if op == "Div":
        divisor = _scalar(q)
        return None if divisor is None or divisor == 0 else _product(p, _constant(1.0 / divisor))
    # Pow: a whole exponent of a polynomial, or any power of a number
    exponent, base = _scalar(q), _scalar(p)
    if exponent is None:
        return None
    if base is not None:
        return _constant(base**exponent)
    if exponent != int(exponent) or not 1 <= exponent <= _MAX_POWER:
        return None
    out = p
    for _ in range(int(exponent) - 1):
        out = _product(out, p)
    return out


def match(nodes: Sequence[tuple[int, Any]], z: str, constants: dict[str, np.ndarray]) -> tuple[str, int] | None:
    """("gelu" or "gelu_tanh", how many nodes it spans) when the arithmetic nodes at the head of
    nodes, up to the next non-arithmetic one, compute exactly GELU of z; None otherwise."""
    run = []
    for _, node in nodes:
        if node.domain not in ("", "ai.onnx") or node.op_type not in _ARITHMETIC or not node.output:
            break
        run.append(node)
    if len(run) < 4:  # the shortest, exact GELU with Div: Div, Erf, Add, Mul, Mul
        return None
    reader = _Reader(run, z, constants)
    try:
        found = reader.poly(run[-1].output[0])
    except (OverflowError, ValueError, RecursionError):
        return None
    if found is None or reader.used != {node.output[0] for node in run}:
        return None
    items = _items(found)
    for activation, expected in _KNOWN.items():
        if _same_polynomial(items, expected):
            return activation, len(run)
    return None
