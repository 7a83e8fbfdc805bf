"""Strict JSON in, fast JSON out.

orjson already rejects NaN/Infinity literals, numbers that overflow float64 and invalid UTF-8.
Two rules it does not know are checked here without a second parse: nesting depth and duplicate
object keys. Both look at the body with its string literals removed, so brackets, braces and colons
inside strings never count.
"""
from __future__ import annotations

import re
from typing import Any, NamedTuple

import numpy as np
import orjson

MAX_DEPTH = 64

_STRING_LITERAL = re.compile(rb'"(?:[^"\\]|\\.)*"')
_KEEP_STRUCTURE = bytes(i for i in range(256) if i not in b"[]{}:")


class InvalidJSON(ValueError):
    pass


def parse_json(raw: bytes) -> Any:
    parsed = _parse(raw, rough=False)
    check_keys(parsed)
    return parsed.document


class Parsed(NamedTuple):
    """A strictly parsed document whose duplicate keys are not yet looked for (check_keys does)."""
    document: Any
    keys: int  # object keys in the text, a repeated key counted each time
    objects: int  # objects in the text
    rough_text: bytes | None  # the text, when keys and objects also count ':' and '{' inside its strings


def parse_json_keys_unchecked(raw: bytes) -> Parsed:
    """parse_json without the duplicate-key check, for a reader that looks at every object anyway and
    can pass check_keys the sum of their sizes (the check then costs one comparison). A short text's
    counts are taken roughly, strings included: never lower than the structure's, and exact unless a
    string holds ':' or '{'."""
    return _parse(raw, rough=True)


def _parse(raw: bytes, rough: bool) -> Parsed:
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidJSON(_describe_decode_error(exc)) from None
    if type(document) is not dict and type(document) is not list:
        return Parsed(document, 0, 0, None)
    if rough:
        counted = raw.translate(None, _KEEP_STRUCTURE)
        if len(counted) <= 2 * MAX_DEPTH:  # too few brackets to nest too deep
            return Parsed(document, counted.count(b":"), counted.count(b"{"), raw)
    structure = _structure(raw)
    _check_depth(structure)
    return _counted(document, structure)


def _counted(document: Any, structure: bytes) -> Parsed:
    return Parsed(document, structure.count(b":"), structure.count(b"{"), None)


def check_keys(parsed: Parsed, keys_seen: int | None = None) -> None:
    """InvalidJSON when an object of the text has the same key twice. keys_seen: the sizes of parsed
    objects summed by a caller that walked them; it can equal the text's count only when no key was
    repeated (a sum over some of the objects is never larger, a rough count never smaller).
    Otherwise, or without it, every object is counted here."""
    if keys_seen == parsed.keys or parsed.objects == 0:
        return
    if parsed.rough_text is not None:  # the rough counts disagree: count the structure itself
        return check_keys(_counted(parsed.document, _structure(parsed.rough_text)), keys_seen)
    if parsed.keys != _count_keys(parsed.document, parsed.objects):
        raise InvalidJSON("an object has the same key twice")


def _structure(raw: bytes) -> bytes:
    """The brackets, braces and colons of a valid JSON text that are not inside a string."""
    if b"\\" in raw:
        return _STRING_LITERAL.sub(b"", raw).translate(None, _KEEP_STRUCTURE)
    # No escapes: every string literal runs from one quote to the next.
    if len(raw) <= _SMALL_BODY:  # split at the quotes: the even parts are outside the literals
        return b"".join(raw.split(b'"')[0::2]).translate(None, _KEEP_STRUCTURE)
    # A large body: when the few literals hold no bracket, brace or colon (the usual request: keys,
    # names), the whole text's structure is it, and the body is never copied into parts.
    start = raw.find(b'"')
    for _ in range(_FEW_LITERALS):
        if start == -1:
            return raw.translate(None, _KEEP_STRUCTURE)
        end = raw.find(b'"', start + 1)
        if raw[start + 1 : end].translate(None, _KEEP_STRUCTURE):
            break
        start = raw.find(b'"', end + 1)
    return b"".join(part.translate(None, _KEEP_STRUCTURE) for part in raw.split(b'"')[0::2])


_SMALL_BODY = 4096
_FEW_LITERALS = 32


def _describe_decode_error(exc: orjson.JSONDecodeError) -> str:
    message = str(exc)
    if "infinity" in message:
        return f"a number does not fit in a 64-bit float ({message})"
    if exc.pos is not None and isinstance(exc.doc, str):
        snippet = exc.doc[exc.pos : exc.pos + 3]
        if snippet in ("NaN", "Inf"):
            return f"NaN and Infinity are not JSON numbers (at character {exc.pos})"
    return f"malformed JSON: {message}"


def _check_depth(structure: bytes) -> None:
    if len(structure) <= 2 * MAX_DEPTH:  # colons and brackets: too few brackets to nest that deep
        return
    brackets = np.frombuffer(structure.replace(b":", b""), dtype=np.uint8)
    if brackets.size <= 2 * MAX_DEPTH:
        return
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    if int(np.cumsum(steps).max()) > MAX_DEPTH:
        raise InvalidJSON(f"nesting deeper than {MAX_DEPTH} levels")


def _count_keys(document: Any, objects: int) -> int:
    """Keys of all objects after parsing (duplicates collapse), searching breadth-first and stopping
    once every object is found, so long arrays of numbers below the last object are never walked.
    (orjson gives exactly dict and list: type() is enough.)"""
    keys, found = 0, 0
    level = [document]
    while level:
        below: list[Any] = []
        for node in level:
            if found == objects:
                return keys
            if type(node) is dict:
                found += 1
                keys += len(node)
                node = node.values()
            below += [v for v in node if type(v) is dict or type(v) is list]
        level = below
    return keys


def dumps(document: Any) -> bytes:
    return orjson.dumps(document, option=orjson.OPT_SERIALIZE_NUMPY)
