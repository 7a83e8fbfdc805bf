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


@pytest.mark.parametrize("seed", range(3))
def test_structure_of_large_bodies_matches_the_regex(seed):
    rng = random.Random(seed)
    for _ in range(200):
        raw = orjson.dumps({"pad": [0.5] * 1500, "doc": document(rng)})  # past _SMALL_BODY: the path that avoids splitting
        assert len(raw) > jsonio._SMALL_BODY and jsonio._structure(raw) == by_regex(raw), raw


def all_keys(node) -> int:
    if isinstance(node, dict):
        return len(node) + sum(all_keys(v) for v in node.values())
    return sum(all_keys(v) for v in node) if isinstance(node, list) else 0


@pytest.mark.parametrize("seed", range(3))
def test_count_keys_counts_every_objects_keys(seed):
    rng = random.Random(seed)
    for _ in range(1000):
        parsed = orjson.loads(orjson.dumps([document(rng), {"tail": [1, 2, {"x": 1}]}]))
        objects = by_regex(orjson.dumps(parsed)).count(b"{")
        assert jsonio._count_keys(parsed, objects) == all_keys(parsed)


@pytest.mark.parametrize("raw", [b'{"a": 1, "a": 2}', b'{"inputs": [{"name": "x", "name": "y"}]}',
                                 b'[1, [2, {"k": [{"d": 1, "d": 1}]}]]', b'{"a": {"b": 1}, "c": {"b": 2, "c": 3, "c": 4}}'])
def test_a_repeated_key_at_any_depth_is_refused(raw):
    with pytest.raises(jsonio.InvalidJSON, match="same key twice"):
        jsonio.parse_json(raw)


def test_nesting_depth_is_still_limited():
    jsonio.parse_json(b"[" * jsonio.MAX_DEPTH + b"]" * jsonio.MAX_DEPTH)
    with pytest.raises(jsonio.InvalidJSON, match="nesting deeper"):
        jsonio.parse_json(b"[" * (jsonio.MAX_DEPTH + 1) + b"]" * (jsonio.MAX_DEPTH + 1))


def objects_of(node):
    if isinstance(node, dict):
        yield node
    for child in node.values() if isinstance(node, dict) else node if isinstance(node, list) else ():
        yield from objects_of(child)


def with_a_repeated_key(rng: random.Random, document) -> bytes | None:
    """document's text with the first key of one of its objects written twice, or None when no
    object has a key."""
    keyed = [o for o in objects_of(document) if o]
    if not keyed:
        return None
    target = rng.choice(keyed)

    def text(node) -> bytes:
        if isinstance(node, dict):
            items = list(node.items())
            if node is target:
                items.insert(1, items[0])
            return b"{" + b",".join(orjson.dumps(k) + b":" + text(v) for k, v in items) + b"}"
        if isinstance(node, list):
            return b"[" + b",".join(map(text, node)) + b"]"
        return orjson.dumps(node)

    return text(document)


@pytest.mark.parametrize("seed", range(3))
def test_a_sum_over_some_objects_passes_only_when_no_key_repeats(seed):
    """check_keys with keys_seen from a reader that walked any subset of the objects: never lets a
    repeated key through, and never needs the full count when the reader saw them all."""
    rng = random.Random(seed)
    for _ in range(300):
        document = {"doc": document_with_objects(rng)}
        raw = orjson.dumps(document)
        parsed = jsonio.parse_json_keys_unchecked(raw)
        seen = [o for o in objects_of(parsed.document) if rng.random() < 0.7]
        jsonio.check_keys(parsed, sum(map(len, seen)))  # no repeated key: passes, whatever was seen
        repeated = with_a_repeated_key(rng, document)
        if repeated is not None:
            parsed = jsonio.parse_json_keys_unchecked(repeated)
            seen = [o for o in objects_of(parsed.document) if rng.random() < 0.7]
            with pytest.raises(jsonio.InvalidJSON, match="same key twice"):
                jsonio.check_keys(parsed, sum(map(len, seen)))


def document_with_objects(rng: random.Random):
    found = document(rng)
    return found if isinstance(found, dict) else {"k0": found, "k1": [document(rng)]}


def test_the_reader_that_counts_keys_gets_depth_and_strings_right():
    with pytest.raises(jsonio.InvalidJSON, match="nesting deeper"):
        jsonio.parse_json_keys_unchecked(b"[" * (jsonio.MAX_DEPTH + 1) + b"]" * (jsonio.MAX_DEPTH + 1))
    # ':' and '{' inside strings make the rough count too high: the structure is then counted exactly
    parsed = jsonio.parse_json_keys_unchecked(b'{"a:{": "b:{", "c": {"d": 1}}')
    assert (parsed.keys, parsed.objects) == (5, 4)  # 3 keys and 2 objects, and the strings' two of each
    jsonio.check_keys(parsed, 3)
    parsed = jsonio.parse_json_keys_unchecked(b'{"a:{": "b:{", "c": {"d": 1, "d": 2}}')
    with pytest.raises(jsonio.InvalidJSON, match="same key twice"):
        jsonio.check_keys(parsed, 3)
