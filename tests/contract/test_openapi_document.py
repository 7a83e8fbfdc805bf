"""openapi.yaml is valid OpenAPI 3.1, lists exactly the app's routes, and agrees with the code's rules."""
import re

import orjson
import pytest
import yaml
from openapi_spec_validator import OpenAPIV31SpecValidator

from service import create_app
from service.api import spec
from service.api.schemas import ACTIVATION_NAMES, DEFINITION_READ_ONLY, MAX_DESCRIPTION, NAME_PATTERN
from service.config import Config
from service.engine import language, training
from service.engine.activations import LAYER_WIDE
from service.engine.errors import EngineError

from .openapi_contract import SPEC_PATH, Contract, load_document

DOCUMENT = load_document()
CONTRACT = Contract(DOCUMENT)
SCHEMAS = DOCUMENT["components"]["schemas"]

# Renaming or removing one of these breaks every generated client: add new ids, never change these.
PUBLISHED_OPERATION_IDS = {
    "healthz", "readyz", "getOpenapiYaml", "getOpenapiJson",
    "listNeurons", "getNeuron", "putNeuron", "deleteNeuron", "evaluateNeuron",
    "listNetworks", "getNetwork", "putNetwork", "deleteNetwork", "forwardNetwork",
    "predictNextWords", "generateText", "scoreText", "tokenizeText", "trainNetwork", "getJob",
}
ERRORS_EVERY_OPERATION_HAS = {"400", "414", "431", "500"}
ERRORS_OF_A_BODY = {"400", "413", "415", "422"}
ERRORS_OF_A_NAMED_DEFINITION = {"422", "503"}  # and 404, except where the operation creates the definition
CREATES_BY_NAME = {"trainNetwork"}  # besides the PUTs: stores the trained network under its name
OPENAI_TAG = "OpenAI-compatible"  # OpenAI answers a wrong parameter with 400, never 422: so do these operations
ERRORS_OF_AN_OPENAI_BODY = {"400", "413", "415"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path_factory.mktemp('db') / 'spec.db'}", seed_demo=False))
    yield app
    app.extensions["neuronhub"].store.dispose()


def test_document_is_valid_openapi_3_1():
    OpenAPIV31SpecValidator(DOCUMENT).validate()
    assert DOCUMENT["openapi"].startswith("3.1.")


def test_app_routes_are_exactly_the_documented_operations(app):
    routes = {
        (method, re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    documented = {(op.method, op.path) for op in CONTRACT.operations}
    assert routes - documented == set(), "routes the document does not list"
    assert documented - routes == set(), "operations the app does not have"


def test_operation_ids_are_unique_camel_case_and_published_ones_stay():
    ids = [op.operation_id for op in CONTRACT.operations]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-zA-Z0-9]*", i) for i in ids), ids
    assert PUBLISHED_OPERATION_IDS <= set(ids)


@pytest.mark.parametrize("op", CONTRACT.operations, ids=lambda op: op.operation_id)
def test_every_operation_documents_its_errors(op):
    statuses = set(op.spec["responses"])
    assert ERRORS_EVERY_OPERATION_HAS <= statuses
    if "requestBody" in op.spec and OPENAI_TAG in op.spec["tags"]:
        assert ERRORS_OF_AN_OPENAI_BODY <= statuses and "422" not in statuses
    elif "requestBody" in op.spec and op.path.startswith("/v2"):  # the Open Inference Protocol: 400, never 415 or 422
        assert {"400", "413"} <= statuses and not {"415", "422"} & statuses
    elif "requestBody" in op.spec:
        assert ERRORS_OF_A_BODY <= statuses
    if "{name}" in op.path:
        assert ERRORS_OF_A_NAMED_DEFINITION <= statuses
        assert op.method == "PUT" or op.operation_id in CREATES_BY_NAME or "404" in statuses
    if op.path.startswith("/v1/"):
        assert "503" in statuses


@pytest.mark.parametrize("op", CONTRACT.operations, ids=lambda op: op.operation_id)
def test_every_operation_has_examples_that_its_schemas_accept(op):
    checked = 0
    bodies = [f"{op.pointer}/requestBody"] if "requestBody" in op.spec else []
    bodies += [f"{op.pointer}/responses/{status}" for status in op.spec["responses"] if status.startswith("2")]
    for pointer in bodies:
        pointer, body = CONTRACT.resolve(pointer)
        for media_type, content in body.get("content", {}).items():
            examples = [content["example"]] if "example" in content else []
            examples += [CONTRACT.resolve(f"{pointer}/content/{media_type.replace('/', '~1')}/examples/{name}")[1]["value"]
                         for name in content.get("examples", {})]
            assert examples, f"{pointer} {media_type} has no example"
            schema_pointer = f"{pointer}/content/{media_type.replace('/', '~1')}/schema"
            for example in examples:
                assert CONTRACT.validation_errors(schema_pointer, example) == [], (pointer, example)
                checked += 1
    if not checked:  # no body either way (DELETE): the parameters' examples make the example request
        parameters = [CONTRACT.resolve(p["$ref"].removeprefix("#"))[1] if "$ref" in p else p
                      for p in DOCUMENT["paths"][op.path].get("parameters", []) + op.spec.get("parameters", [])]
        assert parameters and all("example" in p for p in parameters)


def test_only_posts_say_whether_they_are_idempotent():
    for op in CONTRACT.operations:
        if op.method == "POST":
            assert isinstance(op.spec.get("x-idempotent"), bool), f"{op.operation_id}: say x-idempotent: true or false"
    assert {op.operation_id for op in CONTRACT.operations if op.method == "POST" and op.idempotent} == {
        "evaluateNeuron", "forwardNetwork", "predictNextWords", "generateText", "scoreText", "tokenizeText",
        "createCompletion", "createChatCompletion", "neuronExamples", "explainPrediction",
        "oipInfer", "oipInferVersion", "oipRepositoryIndex"}
    assert CONTRACT.operation("trainNetwork").spec["x-idempotent"] is False  # every call starts a job


def test_error_examples_are_problems_the_schemas_accept():
    for name, response in DOCUMENT["components"]["responses"].items():
        for media_type, content in response.get("content", {}).items():
            examples = [content["example"]] if "example" in content else []
            examples += [e["value"] for e in content.get("examples", {}).values()]
            for example in examples:
                pointer = f"/components/responses/{name}/content/{media_type.replace('/', '~1')}/schema"
                assert CONTRACT.validation_errors(pointer, example) == [], (name, example)


def test_rules_match_the_code():
    config = Config()
    assert SCHEMAS["Name"]["pattern"] == NAME_PATTERN
    assert set(SCHEMAS["Activation"]["enum"]) == set(ACTIVATION_NAMES)
    assert set(SCHEMAS["NeuronActivation"]["enum"]) == set(ACTIVATION_NAMES) - LAYER_WIDE
    assert SCHEMAS["Description"]["maxLength"] == MAX_DESCRIPTION
    assert DOCUMENT["components"]["parameters"]["Limit"]["schema"]["maximum"] == config.max_page_size
    assert SCHEMAS["Inputs"]["oneOf"][1]["maxItems"] == config.max_batch_rows
    assert SCHEMAS["NetworkDefinition"]["properties"]["layers"]["maxItems"] == config.max_layers
    description = DOCUMENT["info"]["description"]
    for setting, default in [("NEURONHUB_MAX_BODY_BYTES", config.max_body_bytes), ("NEURONHUB_MAX_PARAMETERS", config.max_parameters),
                             ("NEURONHUB_MAX_BATCH_ROWS", config.max_batch_rows), ("NEURONHUB_MAX_LAYERS", config.max_layers),
                             ("NEURONHUB_MAX_PAGE_SIZE", config.max_page_size)]:
        assert re.search(rf"`{setting}` \| {default}\b", description), setting


def test_training_settings_are_the_engines_with_its_defaults_and_ranges():
    documented = SCHEMAS["TrainingSettings"]["properties"]
    defaults = training.TrainingSettings().as_dict()
    assert list(documented) == list(defaults), "one member per TrainingSettings field, in the same order"
    for name, default in defaults.items():
        assert documented[name]["default"] == default, name
    assert set(SCHEMAS["AppliedTrainingSettings"]["allOf"][1]["required"]) == set(defaults)
    ranges = {"max_vocabulary_size": (4, training.MAX_VOCABULARY), "context_size": (1, training.MAX_CONTEXT),
              "embedding_size": (1, training.MAX_EMBEDDING_SIZE), "steps": (1, training.MAX_STEPS),
              "batch_size": (1, training.MAX_BATCH_SIZE), "progress_every": (1, training.MAX_STEPS), "seed": (0, 2**64 - 1)}
    for name, (low, high) in ranges.items():
        assert (documented[name]["minimum"], documented[name]["maximum"]) == (low, high), name
    assert documented["hidden_sizes"]["maxItems"] == training.MAX_HIDDEN_LAYERS
    assert documented["activation"]["$ref"] == "#/components/schemas/Activation"
    for name, value in [("context_size", training.MAX_CONTEXT + 1), ("embedding_size", 0), ("hidden_sizes", [1] * 9),
                        ("learning_rate", 0), ("betas", [0.9, 1.0]), ("dropout", 1.0), ("validation_fraction", 0.6)]:
        with pytest.raises(EngineError):  # the engine refuses what the schema refuses
            training.TrainingSettings.from_dict({name: value})
        assert CONTRACT.validation_errors("/components/schemas/TrainingSettings", {name: value}), name


def test_language_limits_match_the_engine():
    assert SCHEMAS["ContextSize"]["maximum"] == language.MAX_CONTEXT
    assert SCHEMAS["ContextReading"]["properties"]["tokens"]["maxItems"] == language.MAX_CONTEXT
    assert SCHEMAS["GenerateRequest"]["properties"]["max_words"]["maximum"] == language.MAX_GENERATE_WORDS
    assert SCHEMAS["Generation"]["properties"]["words"]["maxItems"] == language.MAX_GENERATE_WORDS
    for top_k in (SCHEMAS["PredictRequest"]["properties"]["top_k"], SCHEMAS["GenerateRequest"]["properties"]["top_k"]):
        assert top_k["maximum"] == language.MAX_VOCABULARY
    assert SCHEMAS["TokenizeRequest"]["properties"]["ids"]["items"]["maximum"] == language.MAX_VOCABULARY - 1
    assert SCHEMAS["TrainingResult"]["properties"]["loss_history"]["maxItems"] == training.HISTORY_POINTS
    from service.store.jobs import JOB_STATES, LOSS_HISTORY_LIMIT

    assert SCHEMAS["Job"]["properties"]["loss_history"]["maxItems"] == LOSS_HISTORY_LIMIT
    assert SCHEMAS["Job"]["properties"]["state"]["enum"] == list(JOB_STATES)


@pytest.mark.parametrize("definition", ["NeuronDefinition", "NetworkDefinition"])
def test_fields_ignored_on_write_are_the_ones_the_service_ignores(definition):
    ignored = {name for name, prop in SCHEMAS[definition]["properties"].items() if prop == {"$ref": "#/components/schemas/IgnoredOnWrite"}}
    assert ignored == DEFINITION_READ_ONLY


def test_served_yaml_is_the_committed_file(app):
    response = app.test_client().get("/openapi.yaml")
    assert response.status_code == 200 and response.mimetype == "application/yaml"
    assert response.get_data() == SPEC_PATH.read_bytes()


def test_served_json_is_the_same_document(app):
    response = app.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert orjson.loads(response.get_data()) == yaml.safe_load(SPEC_PATH.read_bytes())  # also: YAML made no dates or other non-JSON values


def test_document_is_read_once_per_process(app, tmp_path):
    other = create_app(Config(database_url=f"sqlite:///{tmp_path / 'other.db'}", seed_demo=False))
    assert other.extensions[spec.EXTENSION] is app.extensions[spec.EXTENSION]
    other.extensions["neuronhub"].store.dispose()


def test_a_missing_document_stops_the_service_with_a_clear_error(tmp_path):
    with pytest.raises(spec.OpenAPIDocumentMissing, match="editable install"):
        spec.load_document(tmp_path / "openapi.yaml")


def test_insight_limits_match_the_engine():
    from service.api.schemas import MAX_INTERVENTIONS
    from service.engine import insight

    assert DOCUMENT["components"]["parameters"]["K"]["schema"]["maximum"] == insight.MAX_K
    assert SCHEMAS["ExamplesRequest"]["properties"]["k"]["maximum"] == insight.MAX_K
    assert SCHEMAS["ExplainRequest"]["properties"]["k"]["maximum"] == insight.MAX_K
    assert SCHEMAS["Interventions"]["maxItems"] == MAX_INTERVENTIONS
    assert f"{insight.MAX_EXAMPLE_WORDS:,}" in CONTRACT.operation("neuronExamples").spec["description"]
    for request in ("ForwardRequest", "PredictRequest", "GenerateRequest", "ScoreRequest"):
        assert SCHEMAS[request]["properties"]["interventions"] == {"$ref": "#/components/schemas/Interventions"}
