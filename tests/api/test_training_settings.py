"""Training settings of the wrong JSON type or out of range: one 422 naming every bad setting, never a 500.

The expectations here are written out by hand from openapi.yaml's TrainingSettings, not derived from the
code under test.
"""
import pytest
import yaml
from hypothesis import HealthCheck, given, settings as hypothesis_settings
from hypothesis import strategies as st

from tests.contract.openapi_contract import SPEC_PATH

from .helpers import assert_problem, post_json
from .test_training import TEXT

ACTIVATIONS = "one of gelu, gelu_tanh, identity, leaky_relu, relu, sigmoid, silu, softmax, softplus, tanh"

# setting -> what the answer must say was expected
EXPECTED = {
    "max_vocabulary_size": "a whole number in 4..50000",
    "min_count": "a whole number in 1..1000000",
    "context_size": "a whole number in 1..16",
    "embedding_size": "a whole number in 1..1024",
    "hidden_sizes": "a list of 0 to 8 values",
    "activation": ACTIVATIONS,
    "learning_rate": "a number in (0, 10]",
    "final_learning_rate_fraction": "a number in [0, 1]",
    "betas": "a list of 2 values",
    "eps": "a number in (0, 1]",
    "weight_decay": "a number in [0, 1]",
    "dropout": "a number in [0, 1)",
    "epochs": "a number in (0, 10000]",
    "steps": "a whole number in 1..1000000",
    "batch_size": "a whole number in 1..4096",
    "validation_fraction": "a number in [0, 0.5]",
    "seed": "a whole number in 0..18446744073709551615",
    "punctuation": "one of keep, drop",
    "dtype": "one of float32, float64",
    "progress_every": "a whole number in 1..1000000",
}
WHOLE = {name for name, expected in EXPECTED.items() if expected.startswith("a whole number")}
NUMBERS = {name for name, expected in EXPECTED.items() if expected.startswith("a number")}
CHOICES = {"activation", "punctuation", "dtype"}
LISTS = {"hidden_sizes", "betas"}

# JSON value -> how the answer must describe it
WRONG_TYPES = [({}, "an object"), ([], "a list of 0 values"), ("3", "string '3'"), (True, "boolean true"),
               (None, "null"), (2.5, "number 2.5"), (7, "number 7")]


def wrong_type_cases():
    for name in EXPECTED:
        for value, described in WRONG_TYPES:
            right_type = ((name in WHOLE and type(value) is int) or (name in NUMBERS and type(value) in (int, float))
                          or (name == "hidden_sizes" and value == []) or (name == "steps" and value is None))
            if not right_type:
                yield pytest.param(name, value, described, id=f"{name}={value!r}")
    # lists of the right length whose items are of the wrong type
    yield pytest.param("hidden_sizes[1]", [16, "16"], "string '16'", id="hidden_sizes=[16, '16']")
    yield pytest.param("hidden_sizes[0]", [{}], "an object", id="hidden_sizes=[{}]")
    yield pytest.param("betas[0]", [None, 0.9], "null", id="betas=[None, 0.9]")
    yield pytest.param("betas[1]", [0.9, [0.9]], "a list of 1 values", id="betas=[0.9, [0.9]]")


def expected_for(field):
    if field.startswith("hidden_sizes["):
        return "a whole number in 1..100000"
    if field.startswith("betas["):
        return "a number in [0, 1)"
    return EXPECTED[field]


@pytest.mark.parametrize("field, value, described", list(wrong_type_cases()))
def test_a_setting_of_the_wrong_type_is_422_naming_it(client, field, value, described):
    setting = field.split("[")[0]
    body = assert_problem(post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": {setting: value}}), 422,
                          f"settings.{field}")
    assert body["errors"] == {f"settings.{field}": [f"expected {expected_for(field)}, got {described}"]}
    assert_problem(client.get("/v1/networks/lm"), 404)


@pytest.mark.parametrize("field, value, described", [
    ("context_size", 17, "number 17"),
    ("seed", -1, "number -1"),
    ("learning_rate", 0, "number 0"),
    ("dropout", 1, "number 1"),
    ("validation_fraction", 0.75, "number 0.75"),
    ("hidden_sizes", [1] * 9, "a list of 9 values"),
    ("hidden_sizes[0]", [0], "number 0"),
    ("betas", [0.9], "a list of 1 values"),
    ("betas[1]", [0.9, 1.0], "number 1.0"),
    ("activation", "swish", "string 'swish'"),
    ("dtype", "float16", "string 'float16'"),
])
def test_a_setting_out_of_range_is_422_naming_it(client, field, value, described):
    body = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": {field.split("[")[0]: value}}).get_json()
    assert body["errors"] == {f"settings.{field}": [f"expected {expected_for(field)}, got {described}"]}


def test_every_bad_setting_is_reported_in_one_answer(client):
    wrong = {name: {} for name in EXPECTED} | {"colour": "red"}
    body = assert_problem(post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": wrong}), 422)
    assert set(body["errors"]) == {f"settings.{name}" for name in wrong}
    assert body["errors"]["settings.colour"][0].startswith("unknown setting; expected some of activation, batch_size")
    assert "(and 20 more)" in body["detail"]


def test_settings_must_be_an_object(client):
    for value, described in ((None, "expected a JSON object, got null"), ([], "expected a JSON object")):
        body = assert_problem(post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": value}), 422, "settings")
        assert body["errors"]["settings"] == [described]


def test_openapi_states_the_same_settings_and_ranges():
    spec = yaml.safe_load(SPEC_PATH.read_text())["components"]["schemas"]["TrainingSettings"]["properties"]
    assert set(spec) == set(EXPECTED)
    for name in WHOLE:
        low, high = EXPECTED[name].removeprefix("a whole number in ").split("..")
        assert (spec[name]["minimum"], spec[name]["maximum"]) == (int(low), int(high)), name
        assert spec[name]["type"] == (["integer", "null"] if name == "steps" else "integer"), name
    for name in NUMBERS:
        interval = EXPECTED[name].removeprefix("a number in ")
        low, high = (float(x) for x in interval[1:-1].split(", "))
        assert spec[name]["type"] == "number"
        assert spec[name].get("exclusiveMinimum" if interval[0] == "(" else "minimum") == low, name
        assert spec[name].get("exclusiveMaximum" if interval[-1] == ")" else "maximum") == high, name
    assert spec["hidden_sizes"]["maxItems"] == 8 and spec["hidden_sizes"]["items"]["maximum"] == 100000
    assert (spec["betas"]["minItems"], spec["betas"]["maxItems"]) == (2, 2)
    assert spec["punctuation"]["enum"] == ["keep", "drop"] and sorted(spec["dtype"]["enum"]) == ["float32", "float64"]


# --- a property: any mix of right and wrong settings is refused naming exactly the wrong ones -----

def valid_value(name):
    if name in WHOLE:
        low, high = (int(x) for x in EXPECTED[name].removeprefix("a whole number in ").split(".."))
        return st.integers(low, high)
    if name in NUMBERS:
        interval = EXPECTED[name].removeprefix("a number in ")
        low, high = (float(x) for x in interval[1:-1].split(", "))
        return st.floats(low, high, exclude_min=interval[0] == "(", exclude_max=interval[-1] == ")")
    if name == "hidden_sizes":
        return st.lists(st.integers(1, 100000), max_size=8)
    if name == "betas":
        return st.lists(st.floats(0, 1, exclude_max=True), min_size=2, max_size=2)
    return st.sampled_from(EXPECTED[name].removeprefix("one of ").split(", "))


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**63, 2**63) | st.floats(allow_nan=False, allow_infinity=False)
                           | st.text(max_size=5), lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                           max_leaves=5)


def is_valid(name, value):
    """Whether `value` is a right value for setting `name`, by the written-out expectations."""
    if name == "steps" and value is None:
        return True
    if name in WHOLE:
        low, high = (int(x) for x in EXPECTED[name].removeprefix("a whole number in ").split(".."))
        return type(value) is int and low <= value <= high
    if name in NUMBERS:
        interval = EXPECTED[name].removeprefix("a number in ")
        low, high = (float(x) for x in interval[1:-1].split(", "))
        return (type(value) in (int, float) and (low < value if interval[0] == "(" else low <= value)
                and (value < high if interval[-1] == ")" else value <= high))
    if name == "hidden_sizes":
        return type(value) is list and len(value) <= 8 and all(type(v) is int and 1 <= v <= 100000 for v in value)
    if name == "betas":
        return type(value) is list and len(value) == 2 and all(type(v) in (int, float) and 0 <= v < 1 for v in value)
    return type(value) is str and value in EXPECTED[name].removeprefix("one of ").split(", ")


@st.composite
def settings_with_some_wrong(draw):
    chosen = draw(st.lists(st.sampled_from(sorted(EXPECTED)), min_size=1, unique=True))
    values = {name: draw(st.one_of(valid_value(name), JSON_VALUES)) for name in chosen}
    wrong = draw(st.sampled_from(chosen))
    if is_valid(wrong, values[wrong]):
        values[wrong] = draw(JSON_VALUES.filter(lambda v: not is_valid(wrong, v)))
    return values


@hypothesis_settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(settings_with_some_wrong())
def test_any_wrong_settings_are_named_all_at_once(client, values):
    response = post_json(client, "/v1/networks/lm/train", {"text": TEXT, "settings": values})
    body = assert_problem(response, 422)
    named = {field.removeprefix("settings.").split("[")[0] for field in body["errors"]}
    assert named == {name for name, value in values.items() if not is_valid(name, value)}
    assert all(message.startswith("expected ") for messages in body["errors"].values() for message in messages)


def test_a_missing_text_is_reported_with_the_wrong_settings(client):
    body = assert_problem(post_json(client, "/v1/networks/lm/train", {"settings": {"dtype": {}, "steps": 0}}), 422)
    assert set(body["errors"]) == {"text", "settings.dtype", "settings.steps"}
    assert body["errors"]["text"] == ["expected exactly one of text (one document) or texts (a list of documents)"]
    body = assert_problem(post_json(client, "/v1/networks/lm/train", {"text": 5, "settings": {"dtype": {}}}), 422)
    assert body["errors"] == {"text": ["expected a string, got number 5"], "settings.dtype": ["expected one of float32, float64, got an object"]}
