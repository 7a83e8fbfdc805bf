"""jsonio's fast way to find a body's structure gives what the regex gives, on any JSON."""
import random

import orjson
import pytest

from service.api import jsonio


def by_regex(raw: bytes) -> bytes:
    return jsonio._STRING_LITERAL.sub(b"", raw).translate(None, jsonio._KEEP_STRUCTURE)


def document(rng: random.Random, depth: int = 0):
    r = rng.random()
    if depth > 4 or r < 0.3:
        return rng.choice([1, 2.5, -3e10, "s", 'a"b', "[{:}]", "\\", "back\\slash", True, None, "é", "x]"])
    if r < 0.65:
        return [document(rng, depth + 1) for _ in range(rng.randint(0, 6))]
    return {rng.choice(["k", "a:b", "[", '"', "{x}"]) + str(i): document(rng, depth + 1) for i in range(rng.randint(0, 6))}


@pytest.mark.parametrize("seed", range(5))
def test_structure_matches_the_regex(seed):
    rng = random.Random(seed)
    for _ in range(1000):
        raw = orjson.dumps(document(rng))
        assert jsonio._structure(raw) == by_regex(raw), raw


def test_many_plain_literals_and_strings_with_brackets():
    raw = orjson.dumps({f"key{i}": [i, {"n": f"v{i}"}] for i in range(100)} | {"last": "a[b{c:d"})
    assert jsonio._structure(raw) == by_regex(raw)
    raw = orjson.dumps({"inputs": [[1.0, 2.0]] * 10, "note": "[:{"})
    assert jsonio._structure(raw) == by_regex(raw)
