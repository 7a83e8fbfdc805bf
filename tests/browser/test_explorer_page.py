"""The explorer page in a real browser (Debian's Chromium, headless) against a real gunicorn.

Each test reads what the page shows and compares it with what the API answers for the same request,
and fails on any console error (a JavaScript error or a failed request, favicon included).
"""
from __future__ import annotations

from typing import Callable

import pytest
import requests
from selenium.common.exceptions import NoAlertPresentException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from tests.contract.openapi_contract import Contract

from .chromium import console_errors

NEURON_CARD = "/v1/networks/{name}/layers/{layer}/neurons/{index}"
HAS_NEURON_CARDS = any(op.path == NEURON_CARD for op in Contract.from_file().operations)

DEMO = "neuron-language-model"
CONTEXT = "the output layer scores every"


def wait(browser: WebDriver, condition: Callable[[WebDriver], object], what: str, timeout: float = 30) -> object:
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(condition, f"timed out waiting for {what}")


def open_explorer(browser: WebDriver, url: str, network: str = DEMO) -> None:
    browser.get(url)
    wait(browser, lambda b: Select(b.find_element(By.ID, "network")).first_selected_option.get_attribute("value") == network,
         f"{network} to be chosen")
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#diagram circle[data-layer]"), "the diagram")


def shown_predictions(browser: WebDriver) -> list[tuple[str, float]]:
    """(word, probability) of each bar, read in one script (the page may be replacing the bars meanwhile)."""
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#prediction-bars li')].map(li => [li.dataset.word, li.dataset.probability]);")
    return [(word, float(probability)) for word, probability in rows]


def api_predictions(url: str, network: str, context: str, interventions: list | None = None, top_k: int = 10) -> dict:
    body: dict = {"context": context, "top_k": top_k}
    if interventions:
        body["interventions"] = interventions
    response = requests.post(f"{url}/v1/networks/{network}/predict", json=body, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def predict_in_page(browser: WebDriver, context: str, expected: list[tuple[str, float]]) -> None:
    box = browser.find_element(By.ID, "context")
    box.clear()
    box.send_keys(context)
    browser.find_element(By.ID, "predict-button").click()
    wait(browser, lambda b: shown_predictions(b) == expected, f"the page to show {expected[:2]}...")


def assert_no_console_errors(browser: WebDriver) -> None:
    assert console_errors(browser) == []


def test_the_page_shows_the_apis_next_words_for_a_typed_context(server, desktop, tmp_path):
    open_explorer(desktop, server.url)
    answer = api_predictions(server.url, DEMO, CONTEXT)
    expected = [(w["word"], w["probability"]) for w in answer["words"]]
    predict_in_page(desktop, CONTEXT, expected)
    top = desktop.find_element(By.CSS_SELECTOR, "#prediction-bars li")
    assert top.find_element(By.CLASS_NAME, "label").text == answer["words"][0]["word"]
    assert top.find_element(By.CLASS_NAME, "value").text == f"{100 * answer['words'][0]['probability']:.2f} %"
    # the diagram is the one for this context: its output neurons carry the logits of this prediction
    circles = desktop.find_elements(By.CSS_SELECTOR, "#diagram circle[data-layer][data-activation]")
    assert circles and all(c.get_attribute("data-weighted-sum") is not None for c in circles)
    desktop.save_screenshot(str(tmp_path / "prediction.png"))
    assert_no_console_errors(desktop)


@pytest.mark.skipif(not HAS_NEURON_CARDS, reason="needs the neuron card and interventions of issue 13 §1 and §4 (branch insight-13)")
def test_a_clicked_neuron_opens_its_card_and_ablating_it_changes_the_numbers_as_the_api_does(server, desktop):
    open_explorer(desktop, server.url)
    answer = api_predictions(server.url, DEMO, CONTEXT)
    predict_in_page(desktop, CONTEXT, [(w["word"], w["probability"]) for w in answer["words"]])
    circle = max(desktop.find_elements(By.CSS_SELECTOR, '#diagram circle[data-layer="0"]'),
                 key=lambda c: abs(float(c.get_attribute("data-activation"))))  # the most active hidden neuron
    layer, index = int(circle.get_attribute("data-layer")), int(circle.get_attribute("data-index"))
    activation = float(circle.get_attribute("data-activation"))
    circle.click()
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-panel").is_displayed(), "the neuron's card")
    assert desktop.find_element(By.ID, "neuron-title").text.startswith(f"Layer {layer} · neuron {index}")
    assert float(desktop.find_element(By.ID, "neuron-now").get_attribute("data-activation")) == activation
    assert desktop.find_elements(By.CSS_SELECTOR, "#activation-plot circle.marker")  # its z marked on f

    desktop.find_element(By.ID, "ablate").click()
    ablated = api_predictions(server.url, DEMO, CONTEXT, [{"layer": layer, "index": index, "set": 0}])
    expected = [(w["word"], w["probability"]) for w in ablated["words"]]
    wait(desktop, lambda b: shown_predictions(b) == expected, "the ablated prediction")
    wait(desktop, lambda b: b.find_element(By.ID, "kl").get_attribute("data-value") != "", "the KL divergence")
    assert float(desktop.find_element(By.ID, "kl").get_attribute("data-value")) == ablated["effect"]["kl_divergence"]
    assert desktop.find_element(By.ID, "interventions").is_displayed()
    assert f"layer {layer} · neuron {index}: set to 0" in desktop.find_element(By.ID, "intervention-list").text
    assert ablated["words"] != answer["words"]  # the ablation changed the numbers, and the page followed
    assert_no_console_errors(desktop)


def test_words_that_look_like_markup_are_shown_as_text(server, desktop):
    words = ["<pad>", "<unk>", "</s>", "<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "a&amp;b"]
    network = {
        "description": "<b>not bold</b>",
        "vocabulary": words,
        "embeddings": [[0.0], [0.0], [0.0], [1.0], [1.0], [1.0]],
        "context_size": 1,
        "layers": [{"weights": [[0.0], [0.0], [0.0], [3.0], [2.0], [1.0]], "biases": [0.0, 0.0, 0.0, 1.0, 1.0, 1.0], "activation": "identity"}],
    }
    assert requests.put(f"{server.url}/v1/networks/markup", json=network, timeout=10).status_code in (200, 201)
    open_explorer(desktop, f"{server.url}/#network=markup", "markup")
    answer = api_predictions(server.url, "markup", "hello", top_k=len(words))  # the page asks for at most the vocabulary
    predict_in_page(desktop, "hello", [(w["word"], w["probability"]) for w in answer["words"]])
    labels = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, "#prediction-bars .label")]
    assert labels[:3] == ["<img src=x onerror=alert(1)>", "<script>alert(2)</script>", "a&amp;b"]
    assert desktop.find_element(By.ID, "network-description").text == "<b>not bold</b>"
    diagram_words = {e.text for e in desktop.find_elements(By.CSS_SELECTOR, "#diagram text.word")}
    assert set(words) <= diagram_words
    assert desktop.find_elements(By.TAG_NAME, "img") == []
    assert desktop.execute_script("return document.querySelectorAll('body script').length") == 0
    try:
        desktop.switch_to.alert
        raise AssertionError("a word ran as a script")
    except NoAlertPresentException:
        pass
    assert_no_console_errors(desktop)


def test_at_phone_width_nothing_overflows_and_everything_works(server, phone, tmp_path):
    open_explorer(phone, server.url)
    assert phone.execute_script("return window.innerWidth") == 375
    answer = api_predictions(server.url, DEMO, CONTEXT)
    predict_in_page(phone, CONTEXT, [(w["word"], w["probability"]) for w in answer["words"]])
    assert phone.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    for selector in ("#context", "#predict-button", "#prediction-bars li", "#diagram"):  # the picture scrolls inside #diagram
        element = phone.find_element(By.CSS_SELECTOR, selector)
        right = phone.execute_script("const r = arguments[0].getBoundingClientRect(); return r.right;", element)
        assert right <= phone.execute_script("return window.innerWidth") + 0.5, selector
    phone.save_screenshot(str(tmp_path / "phone.png"))
    assert_no_console_errors(phone)


def test_a_plain_network_shows_the_apis_outputs_and_trace(server, desktop):
    open_explorer(desktop, f"{server.url}/#network=xor-network", "xor-network")
    box = desktop.find_element(By.ID, "inputs")
    box.send_keys("1, 0")
    desktop.find_element(By.ID, "run-button").click()
    answer = requests.post(f"{server.url}/v1/networks/xor-network/forward", json={"inputs": [1, 0], "trace": True}, timeout=10).json()
    wait(desktop, lambda b: [float(v) for v in b.execute_script(
        "return [...document.querySelectorAll('#output-bars li')].map(li => li.dataset.value);")] == answer["outputs"], "the outputs")
    desktop.find_element(By.CSS_SELECTOR, "#trace-box summary").click()
    cells = [c.text for c in desktop.find_elements(By.CSS_SELECTOR, "#trace tr:first-child td")]
    assert cells == [str(v).removesuffix(".0") for v in answer["trace"][0]["weighted_sums"]]
    hidden = {int(c.get_attribute("data-index")): float(c.get_attribute("data-activation"))
              for c in desktop.find_elements(By.CSS_SELECTOR, '#diagram circle[data-layer="0"]')}
    assert hidden == dict(enumerate(answer["trace"][0]["activations"]))
    assert_no_console_errors(desktop)


def test_a_network_being_trained_is_followed_through_its_job_and_then_appears(server, desktop):
    text = " ".join(["the neuron adds the weighted inputs.", "a layer holds many neurons."] * 30)
    started = requests.post(f"{server.url}/v1/networks/fresh-words/train", timeout=10, json={
        "text": text, "settings": {"context_size": 2, "embedding_size": 8, "hidden_sizes": [16], "steps": 6000, "min_count": 1, "seed": 1}})
    assert started.status_code == 202, started.text
    desktop.get(f"{server.url}/")
    wait(desktop, lambda b: b.find_elements(By.CSS_SELECTOR, '#status .training[data-network="fresh-words"]'), "the training notice")
    assert "fresh-words is being trained" in desktop.find_element(By.ID, "status").text
    wait(desktop, lambda b: b.find_elements(By.CSS_SELECTOR, '#network option[value="fresh-words"]'), "the trained network", timeout=120)
    assert requests.get(f"{server.url}/v1/jobs/{started.json()['id']}", timeout=10).json()["state"] == "succeeded"
    wait(desktop, lambda b: not b.find_elements(By.CSS_SELECTOR, "#status .training"), "the notice to go")
    assert_no_console_errors(desktop)  # no request for a network that did not exist yet


def test_when_reads_need_a_key_the_page_asks_for_it_and_sends_it(tmp_path):
    from tests.support.gunicorn import Server

    from . import chromium

    server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{tmp_path / 'keys.db'}", "NEURONHUB_SEED_DEMO": "true",
                     "NEURONHUB_READ_KEYS": "reader-key", "NEURONHUB_REQUIRE_READ_KEY": "true", "NEURONHUB_WORKERS": "1"},
                    tmp_path / "gunicorn.log")
    browser = chromium.start(tmp_path / "profile", 1280, 800)
    try:
        browser.get(f"{server.url}/")
        wait(browser, lambda b: "Enter an API key" in b.find_element(By.ID, "status").text, "the request for a key")
        assert browser.find_element(By.ID, "api-key").is_displayed()
        assert_no_console_errors(browser)  # nothing was asked of the API without the key
        key = browser.find_element(By.ID, "api-key")
        key.send_keys("reader-key")
        key.send_keys("\t")  # change event
        wait(browser, lambda b: Select(b.find_element(By.ID, "network")).first_selected_option.get_attribute("value") == DEMO, "the networks")
        assert_no_console_errors(browser)
    finally:
        browser.quit()
        server.stop()


@pytest.mark.skipif(not HAS_NEURON_CARDS, reason="needs explain of issue 13 §3 (branch insight-13)")
def test_an_explained_word_shows_the_apis_attribution_per_neuron_and_per_context_word(server, desktop):
    open_explorer(desktop, server.url)
    answer = api_predictions(server.url, DEMO, CONTEXT)
    predict_in_page(desktop, CONTEXT, [(w["word"], w["probability"]) for w in answer["words"]])
    second = answer["words"][1]["word"]
    desktop.find_elements(By.CSS_SELECTOR, "#prediction-bars li")[1].click()
    wait(desktop, lambda b: b.find_element(By.ID, "explain-panel").is_displayed(), "the explanation")
    explained = requests.post(f"{server.url}/v1/networks/{DEMO}/explain", json={"context": CONTEXT, "target": second, "k": 10}, timeout=10).json()
    assert desktop.find_element(By.ID, "explain-title").text == f"Why “{second}”?"
    labels = [e.text for e in desktop.find_elements(By.CSS_SELECTOR, "#attribution-bars .label")]
    assert labels == [f"L{n['layer']} · {n['index']}" for n in explained["neurons"]]
    values = [float(e.text) for e in desktop.find_elements(By.CSS_SELECTOR, "#attribution-bars .value")]  # 3 significant digits
    assert values == pytest.approx([n["attribution"] for n in explained["neurons"]], rel=5e-3)
    assert len(desktop.find_elements(By.CSS_SELECTOR, "#slot-bars li")) == len(explained["slots"])
    assert_no_console_errors(desktop)


@pytest.mark.skipif(not HAS_NEURON_CARDS, reason="needs interventions of issue 13 §4 (branch insight-13)")
def run_xor_on_one_one(browser: WebDriver, url: str) -> None:
    open_explorer(browser, f"{url}/#network=xor-network", "xor-network")
    browser.find_element(By.ID, "inputs").send_keys("1, 1")
    browser.find_element(By.ID, "run-button").click()
    wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, "#output-bars li"), "the outputs")


def test_ablating_a_plain_networks_neuron_shows_the_apis_new_outputs(server, desktop):
    run_xor_on_one_one(desktop, server.url)
    desktop.find_element(By.CSS_SELECTOR, '#diagram circle[data-layer="0"][data-index="1"]').click()
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-panel").is_displayed(), "the neuron's card")
    desktop.find_element(By.ID, "ablate").click()
    ablated = requests.post(f"{server.url}/v1/networks/xor-network/forward", timeout=10,
                            json={"inputs": [1, 1], "interventions": [{"layer": 0, "index": 1, "set": 0}]}).json()
    assert ablated["outputs"] == [2.0]  # h2 = relu(1 + 1 - 1) = 1 is gone: 2 - 2·0
    wait(desktop, lambda b: b.execute_script("return document.querySelector('#output-bars li').dataset.value") == "2", "the ablated output")
    assert desktop.find_element(By.CSS_SELECTOR, "#output-bars .value").text == "2 (was 0)"
    assert_no_console_errors(desktop)


def set_selected_neuron(browser: WebDriver, value: str) -> None:
    box = browser.find_element(By.ID, "set-value")
    box.clear()
    box.send_keys(value)
    browser.find_element(By.ID, "set").click()


def test_an_intervention_the_api_refuses_is_shown_and_not_kept(server, desktop):
    run_xor_on_one_one(desktop, server.url)
    desktop.find_element(By.CSS_SELECTOR, '#diagram circle[data-layer="0"][data-index="0"]').click()
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-title").text.startswith("Layer 0 · neuron 0"), "neuron 0's card")
    set_selected_neuron(desktop, "3")
    wait(desktop, lambda b: b.execute_script("return document.querySelector('#output-bars li').dataset.value") == "1",
         "the output with h1 = 3")  # 3 - 2·relu(1 + 1 - 1)
    desktop.find_element(By.CSS_SELECTOR, '#diagram circle[data-layer="0"][data-index="1"]').click()
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-title").text.startswith("Layer 0 · neuron 1"), "neuron 1's card")
    set_selected_neuron(desktop, "-1e308")  # 3 - 2·(-1e308) leaves the float range: the API refuses it
    wait(desktop, lambda b: "non-finite" in b.find_element(By.ID, "errors").text or "overflow" in b.find_element(By.ID, "errors").text,
         "the API's refusal in the page")
    refused = [e for e in console_errors(desktop) if "/forward" in e["message"] and "422" in e["message"]]
    assert refused  # the page asked, and showed the answer: nothing swallowed

    # The refused intervention is not kept: the next run works, with the one intervention that was accepted.
    assert [li.text for li in desktop.find_elements(By.CSS_SELECTOR, "#intervention-list li")] == ["layer 0 · neuron 0: set to 3 ×"]
    inputs = desktop.find_element(By.ID, "inputs")
    inputs.clear()
    inputs.send_keys("1, 0")
    desktop.find_element(By.ID, "run-button").click()
    expected = requests.post(f"{server.url}/v1/networks/xor-network/forward", timeout=10,
                             json={"inputs": [1, 0], "interventions": [{"layer": 0, "index": 0, "set": 3}]}).json()["outputs"]
    assert expected == [3.0]  # 3 - 2·relu(1 + 0 - 1)
    wait(desktop, lambda b: b.execute_script("return document.querySelector('#output-bars li').dataset.value") == "3", "the next run")
    assert desktop.find_element(By.ID, "errors").text == ""
    assert_no_console_errors(desktop)


def test_a_language_networks_output_neurons_offer_no_intervention_the_api_would_refuse(server, desktop):
    open_explorer(desktop, server.url)
    predict_in_page(desktop, CONTEXT, [(w["word"], w["probability"]) for w in api_predictions(server.url, DEMO, CONTEXT)["words"]])
    actions = ("ablate", "set", "scale")
    desktop.find_element(By.CSS_SELECTOR, '#diagram circle[data-layer="1"]').click()  # the output layer: words, not neurons to edit
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-title").text.startswith("Layer 1 "), "an output neuron's card")
    assert not any(desktop.find_element(By.ID, action).is_enabled() for action in actions)
    assert "hidden layers" in desktop.find_element(By.ID, "intervene-hint").text
    desktop.find_element(By.CSS_SELECTOR, '#diagram circle[data-layer="0"]').click()
    wait(desktop, lambda b: b.find_element(By.ID, "neuron-title").text.startswith("Layer 0 "), "a hidden neuron's card")
    assert all(desktop.find_element(By.ID, action).is_enabled() for action in actions)
    assert not desktop.find_element(By.ID, "intervene-hint").is_displayed()
    assert_no_console_errors(desktop)


def test_a_long_context_of_characters_outside_the_bmp_gets_its_prediction_and_diagram(server, desktop):
    open_explorer(desktop, server.url)
    context = "\U0001f600" * 250 + " the output layer"  # the diagram reads its end; cut by characters, never half a pair
    desktop.execute_script("document.getElementById('context').value = arguments[0];", context)
    desktop.find_element(By.ID, "predict-button").click()
    expected = [(w["word"], w["probability"]) for w in api_predictions(server.url, DEMO, context)["words"]]
    wait(desktop, lambda b: shown_predictions(b) == expected, "the prediction for the long context")
    wait(desktop, lambda b: b.find_elements(By.CSS_SELECTOR, "#diagram circle[data-activation]"), "the diagram for it")
    assert desktop.find_element(By.ID, "errors").text == ""
    assert_no_console_errors(desktop)
