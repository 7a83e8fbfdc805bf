"""Make docs/explorer.png: the explorer on the demo model after a context, a clicked neuron, an
explained word and an ablation, as a person at a 1280-pixel-wide screen sees it.

    .venv/bin/python -m tests.browser.screenshot docs/explorer.png [height]
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from selenium.webdriver.common.by import By

from tests.support.gunicorn import Server

from . import chromium
from .test_explorer_page import CONTEXT, DEMO, api_predictions, open_explorer, predict_in_page, wait


def main(target: Path, height: int) -> None:
    with tempfile.TemporaryDirectory(prefix="neuronhub-screenshot-") as work:
        server = Server({"NEURONHUB_DATABASE_URL": f"sqlite:///{Path(work) / 'shot.db'}", "NEURONHUB_SEED_DEMO": "true",
                         "NEURONHUB_WORKERS": "1"}, Path(work) / "gunicorn.log")
        browser = chromium.start(Path(work) / "profile", 1280, height)
        try:
            open_explorer(browser, server.url)
            answer = api_predictions(server.url, DEMO, CONTEXT)
            predict_in_page(browser, CONTEXT, [(w["word"], w["probability"]) for w in answer["words"]])
            browser.find_element(By.CSS_SELECTOR, "#prediction-bars li").click()
            wait(browser, lambda b: b.find_element(By.ID, "explain-panel").is_displayed(), "the explanation")
            circle = max(browser.find_elements(By.CSS_SELECTOR, '#diagram circle[data-layer="0"]'),
                         key=lambda c: abs(float(c.get_attribute("data-activation"))))
            circle.click()
            wait(browser, lambda b: b.find_element(By.ID, "neuron-panel").is_displayed(), "the neuron's card")
            browser.find_element(By.ID, "ablate").click()
            wait(browser, lambda b: b.find_element(By.ID, "kl").get_attribute("data-value") != "", "the ablation")
            browser.execute_script("window.scrollTo(0, 0)")
            errors = chromium.console_errors(browser)
            if errors:
                raise SystemExit(f"console errors: {errors}")
            browser.save_screenshot(str(target))
        finally:
            browser.quit()
            server.stop()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 800)
