"""The baked service's web page, driven in headless Chromium like a visitor would use it.

Debian's chromium (`scripts/ensure-system-tools.sh`, run by `make test`) is driven by playwright;
the page is served by uvicorn from the session's trained Telco project.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import baking
import pandas as pd
import pytest


@pytest.fixture(scope="module")
def url(trained_telco: Path) -> Iterator[str]:
    env = baking.project_env(trained_telco)
    with baking.serve(trained_telco, baking.package_name(trained_telco), env) as base:
        yield base


def is_error(message) -> bool:
    refused = "the server responded with a status of 4"
    return message.type == "error" and refused not in message.text


@pytest.fixture
def page(url: str, tmp_path: Path):
    """A fresh Chromium page on the service's home page; fails on any script error."""
    errors: list[str] = []
    viewport = {"width": 1200, "height": 1000}
    with baking.chromium(viewport=viewport, accept_downloads=True) as browser:
        page = browser.new_page()
        page.on("pageerror", lambda error: errors.append(str(error)))
        # A 4xx the page asked for (a refused value) is shown to the visitor, not an error.
        page.on("console", lambda m: errors.append(m.text) if is_error(m) else None)
        page.goto(f"{url}/", wait_until="networkidle")
        yield page
    assert errors == []


def test_form_is_built_from_the_schema_and_prefilled(page, trained_telco):
    target = baking.params_target(trained_telco)
    script = "inputs => inputs.map(i => i.dataset.column)"
    columns = page.eval_on_selector_all("#fields input", script)
    assert "tenure" in columns and "contract" in columns and target not in columns
    assert page.input_value("input[data-column='contract']") != ""  # the example row


def test_visitor_fills_the_form_and_reads_the_prediction(page, tmp_path):
    page.fill("input[data-column='tenure']", "2")
    page.fill("input[data-column='contract']", "Month-to-month")
    page.fill("input[data-column='monthly_charges']", "")  # a missing value
    page.click("#predict")
    # The placeholder is an en dash (written as a JavaScript escape).
    page.wait_for_function("document.querySelector('#prediction').textContent !== '\\u2013'")
    assert page.text_content("#prediction") in {"Yes", "No"}
    shares = page.eval_on_selector_all(".bar meter", "meters => meters.map(m => m.value)")
    assert len(shares) == 2 and abs(sum(shares) - 1) < 1e-6
    assert "model version " in page.text_content("#version")
    assert page.is_hidden("#error")
    page.screenshot(path=tmp_path / "prediction.png", full_page=True)


def test_unseen_level_is_flagged_and_a_bad_number_explained(page):
    page.fill("input[data-column='contract']", "Lifetime")
    page.click("#predict")
    page.wait_for_selector("#warnings li")
    assert "Lifetime" in page.text_content("#warnings")
    page.fill("input[data-column='tenure']", "1e300")
    page.click("#predict")
    page.wait_for_selector("#error:not([hidden])")
    assert "422" in page.text_content("#error") and "tenure" in page.text_content("#error")


def test_csv_upload_shows_and_offers_the_scored_table(page, trained_telco, tmp_path):
    target = baking.params_target(trained_telco)
    test = pd.read_parquet(trained_telco / "data" / "processed" / "test.parquet")
    upload = tmp_path / "customers.csv"
    test.drop(columns=[target]).head(25).to_csv(upload, index=False)
    page.set_input_files("#csv-file", str(upload))
    page.click("#csv-send")
    page.wait_for_selector("#csv-preview table")
    header = page.eval_on_selector_all("#csv-preview th", "cells => cells.map(c => c.textContent)")
    assert "prediction" in header and "probability_Yes" in header
    assert len(page.query_selector_all("#csv-preview tr")) == 11  # header and ten rows
    with page.expect_download() as download:
        page.click("#csv-status a")
    saved = tmp_path / "predictions.csv"
    download.value.save_as(saved)
    assert len(pd.read_csv(saved)) == 25


def test_the_page_shows_today_s_activity_as_counts(page, tmp_path):
    """Predictions today and the share of each class: counts from the log, no record."""
    page.click("#predict")
    page.wait_for_function("document.querySelector('#prediction').textContent !== '\\u2013'")
    page.wait_for_timeout(1500)  # the log's writer flushes every second
    page.click("#activity-refresh")
    page.wait_for_function("/^[1-9][0-9,]* predictions today/.test("
                           "document.querySelector('#activity-count').textContent)")  # fmt: skip
    classes = page.eval_on_selector_all("#activity .share span:first-child",
                                        "cells => cells.map(c => c.textContent)")  # fmt: skip
    assert sorted(classes) == ["No", "Yes"]
    assert "monitor" in page.text_content("#activity-monitor")
    page.screenshot(path=tmp_path / "activity.png", full_page=True)
