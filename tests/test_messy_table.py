"""A messy real-world export trains, profiles and serves; leakage and split strategies work.

One project is baked from the table below and trained once (`dvc repro`, fast setting) for
the whole module; tests that change it work on a copy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import baking
import httpx
import numpy as np
import pandas as pd
import pytest
import yaml

# One worker runs this module: its tests share a module or session fixture (conftest.py).
pytestmark = pytest.mark.xdist_group("messy_table")

TARGET = "Churned?"
SOURCE_NAME = "crm export (2024).csv"
REGIONS = ["East", "North", "South", "West"]
# Columns left complete: the IDs, the split's group and time columns, the constant.
COMPLETE = {"Customer ID", "Row #", "Signup Date", "Store", "Country", TARGET}


def messy_frame(rows: int = 600, seed: int = 3) -> pd.DataFrame:
    """A CRM export: awkward names, inconsistent spellings, numbers as text, dates, gaps."""
    rng = np.random.default_rng(seed)
    region = rng.choice(REGIONS, rows)
    spellings = [rng.choice([r, r.lower(), f" {r.upper()} ", f"{r} "]) for r in region]
    plan = rng.choice(["Basic", "Premium", "Family"], rows, p=[0.5, 0.3, 0.2])
    income = rng.gamma(4.0, 12_000.0, rows)
    spend = income / 12 * rng.uniform(0.05, 0.4, rows)
    visits = rng.poisson(4, rows).astype(float)
    member = rng.random(rows) < 0.4
    paperless = rng.random(rows) < 0.6
    signup = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 1000, rows), unit="D")
    contact = signup + pd.to_timedelta(rng.integers(1, 200 * 24, rows), unit="h")
    tenure_days = (pd.Timestamp("2024-01-01") - signup).days.to_numpy()
    risk = (
        1.2 * (plan == "Basic")
        - 0.8 * member
        - 0.15 * visits
        + 0.9 * (region == "South")
        - tenure_days / 900
        + 0.4 * paperless
        - (income - 48_000) / 60_000
    )
    churned = np.where(risk + rng.normal(0, 0.9, rows) > -0.3, "Yes", "No")
    frame = pd.DataFrame(
        {
            "Customer ID": [f"CUST-{i:05d}" for i in rng.permutation(rows)],
            "Row #": np.arange(1, rows + 1),
            "Région / Area": spellings,
            "Plan Type": plan,
            "Is Member?": member,
            "Paperless (yes/no)": np.where(
                paperless, rng.choice(["yes", "Yes", " YES"], rows), rng.choice(["no", "No"], rows)
            ),
            "Annual Income ($)": [f"${v:,.0f}" for v in income],  # "$52,300"
            "Monthly Spend": [f"{v:,.2f}" for v in spend],  # "1,234.50"
            "Fee": [f"${v}" for v in rng.integers(0, 25, rows)],  # "$5"
            "Discount %": [f"{d}%" for d in rng.choice([0, 5, 10, 15, 20], rows)],
            "Visits (last 30d)": visits,
            "Température °C": rng.normal(12, 6, rows).round(1),
            "Signup Date": signup.strftime("%Y-%m-%d"),
            "Last Contact (UTC)": contact.strftime("%Y-%m-%d %H:%M"),
            "City": [f"Town-{c:03d}" for c in rng.integers(0, 160, rows)],  # > 100 levels
            "Store": [f"Store {s:02d}" for s in rng.integers(0, 30, rows)],
            "Country": "DE",
            "Notes": None,
            TARGET: churned,
        }
    )
    for name in frame.columns:
        if name not in COMPLETE:
            gaps = rng.random(rows) < 0.06
            frame[name] = frame[name].astype(object).where(~gaps, None)
    frame[TARGET] = frame[TARGET].astype(object).where(rng.random(rows) >= 0.05, None)
    frame.insert(len(frame.columns) - 1, "Last Complaint", complaints(frame[TARGET], seed))
    return frame


def complaints(churned: pd.Series, seed: int) -> list[str | None]:
    """Free text (its own random draws: the other columns stay as they were): a few words
    that lean with churn, a ticket number, accents; some rows blank."""
    rng = np.random.default_rng(seed + 1)
    angry = ["Too expensive, will cancel", "App is slow", "Billing error AGAIN", "Café closed"]
    calm = ["Friendly staff", "question about my plan", "Great value", "moved address"]
    texts = [
        f"{rng.choice(angry if (label == 'Yes') == (rng.random() < 0.8) else calm)} "
        f"(ticket {rng.integers(1000, 9999)})"
        for label in churned
    ]
    return [None if rng.random() < 0.06 else text for text in texts]


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def source_frame() -> pd.DataFrame:
    return messy_frame()


@pytest.fixture(scope="module")
def messy_project(tmp_path_factory: pytest.TempPathFactory, source_frame: pd.DataFrame) -> Path:
    """Baked from the messy CSV and trained once with `dvc repro` (fast). Read only."""
    folder = tmp_path_factory.mktemp("messy")
    source = folder / SOURCE_NAME
    source_frame.to_csv(source, index=False)
    project = baking.bake(
        folder / "out",
        {"project_name": "Messy CRM", "dataset": "custom", "data_source": str(source)}
        | {"target": TARGET},
    )
    baking.set_params(project, {"train.fast": True})
    baking.run(["dvc", "repro"], project, baking.project_env(project))
    return project


@pytest.fixture
def project_copy(messy_project: Path, tmp_path: Path) -> Path:
    """A copy of the trained project that a test may change (DVC re-runs what changed)."""
    return Path(shutil.copytree(messy_project, tmp_path / "project", symlinks=True))


def test_schema_has_the_expected_kinds(messy_project):
    schema = read_yaml(messy_project / "schema.yaml")
    assert schema["target"] == TARGET
    assert schema["problem_type"] == "binary"
    assert schema["classes"] == ["No", "Yes"]
    columns = schema["columns"]
    kinds = {name: spec["kind"] for name, spec in columns.items()}
    for name in (
        "Annual Income ($)",
        "Monthly Spend",
        "Fee",
        "Discount %",
        "Visits (last 30d)",
        "Température °C",
    ):
        assert kinds[name] == "numeric", name
    assert columns["Annual Income ($)"]["max"] > 50_000  # "$110,036" is 110036
    assert columns["Monthly Spend"]["max"] > 1_000  # "1,234.50" is 1234.5
    assert columns["Discount %"]["max"] == 20
    assert kinds["Is Member?"] in {"numeric", "categorical"}
    # Case and padding variants are one level, spelled as most rows spell it.
    assert columns["Région / Area"]["categories"] == REGIONS
    paperless = columns["Paperless (yes/no)"]["categories"]
    assert len(paperless) == 2 and {level.casefold() for level in paperless} == {"no", "yes"}
    assert columns["Plan Type"]["closed"] is True
    assert kinds["City"] == "categorical"  # "Town-017": many levels, but one word each
    assert columns["City"]["closed"] is False  # too many levels to list them all
    assert kinds["Last Complaint"] == "text"  # many values of several words: free text
    assert "categories" not in columns["Last Complaint"]
    assert kinds["Signup Date"] == kinds["Last Contact (UTC)"] == "datetime"
    assert "hour" in columns["Last Contact (UTC)"]["parts"]
    assert "hour" not in columns["Signup Date"]["parts"]
    dropped = schema["dropped"]
    assert dropped.keys() >= {"Customer ID", "Country", "Notes"}
    assert dropped["Customer ID"].startswith("ID-like")
    assert dropped["Country"].startswith("constant")
    assert dropped["Notes"].startswith("empty")


def test_a_row_counter_is_dropped_even_when_some_targets_are_missing(messy_project):
    """`Row #` numbers every row 1..600; rows without a target must not hide that."""
    schema = read_yaml(messy_project / "schema.yaml")
    assert "Row #" in schema["dropped"], schema["columns"].get("Row #")


def test_data_profile_describes_the_table(messy_project, source_frame):
    folder = messy_project / "reports" / "data_profile"
    for name in ("data_profile.json", "data_profile.md", "missing_values.png", "target.png"):
        assert (folder / name).is_file(), name
    for png in folder.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png.name
    profile = read_json(folder / "data_profile.json")
    unlabelled = int(source_frame[TARGET].isna().sum())
    assert unlabelled > 0
    assert profile["rows_raw"] == len(source_frame)
    assert profile["rows_without_target"] == unlabelled
    assert profile["rows_valid"] == len(source_frame) - unlabelled
    assert profile["possible_leakage"] == {}
    assert set(profile["target"]["distribution"]) == {"No", "Yes"}
    assert profile["columns"]["Fee"]["missing_share"] > 0
    markdown = (folder / "data_profile.md").read_text(encoding="utf-8")
    assert "`Customer ID`" in markdown and "`Température °C`" in markdown


def test_trained_model_serves_real_rows(messy_project):
    metrics = read_json(messy_project / "reports" / "metrics.json")
    assert 0.6 < metrics["test"]["roc_auc"] <= 1.0
    # The free text's words are read inside the ONNX graph, as scikit-learn reads them.
    parity = read_json(messy_project / "reports" / "parity.json")
    assert parity["runtime"] == "onnx", parity
    env = baking.project_env(messy_project)
    record = baking.first_test_record(messy_project, TARGET)
    # The spellings of the raw export, not the cleaned ones: serving cleans them the same way.
    spelt = {
        "Région / Area": " south ",
        "Paperless (yes/no)": " YES",
        "Plan Type": "basic",
        "Signup Date": "2022-03-01",
        "Last Contact (UTC)": "2022-06-30 14:00",
        "Is Member?": True,
        "Last Complaint": "  The app is SLOW and too expensive, Café to cancel (ticket 1234) ",
    }
    # Numbers as the export wrote them, and as training read them.
    written = {
        "Annual Income ($)": "$52,300",
        "Monthly Spend": "1,234.50",
        "Fee": "$5",
        "Discount %": "10%",
    }
    read = {"Annual Income ($)": 52300, "Monthly Spend": 1234.5, "Fee": 5, "Discount %": 10}
    messy = record | spelt | written
    with baking.serve(messy_project, baking.package_name(messy_project), env) as url:
        for body in (record, record | spelt | read, messy):
            answer = baking.predict(url, body, request_id="messy")
            assert answer.status_code == 200, answer.text
            result = answer.json()
            assert result["prediction"] in {"No", "Yes"}
            assert sum(result["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
        assert not [w for w in result["warnings"] if "level" in w], result["warnings"]
        assert result == baking.predict(url, record | spelt | read, request_id="messy").json()
        # Columns the schema dropped (the ID, the constant) are accepted and ignored.
        extra = messy | {"Customer ID": "CUST-99999", "Country": "DE"}
        answer = httpx.post(f"{url}/predict", json=extra, timeout=30)
        assert answer.status_code == 200, answer.text


def test_leaky_column_is_flagged_and_can_fail_validate(project_copy, source_frame):
    leaky = source_frame.assign(
        **{"Churn code (CRM)": source_frame[TARGET].map({"Yes": "C-1", "No": "C-0"})}
    )
    leaky.to_csv(project_copy / "data" / "source" / SOURCE_NAME, index=False)
    (project_copy / "schema.yaml").unlink()  # infer it again with the new column
    env = baking.project_env(project_copy)

    baking.run(["dvc", "repro", "validate"], project_copy, env)
    profile = read_json(project_copy / "reports" / "data_profile" / "data_profile.json")
    assert list(profile["possible_leakage"]) == ["Churn code (CRM)"]
    markdown = project_copy / "reports" / "data_profile" / "data_profile.md"
    assert "Churn code (CRM)" in markdown.read_text(encoding="utf-8")

    baking.set_params(project_copy, {"validate.leakage": "fail"})
    done = subprocess.run(
        ["dvc", "repro", "validate"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
        check=False,
    )
    assert done.returncode != 0, done.stdout + done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and "'Churn code (CRM)'" in errors[0], done.stderr
    assert "Traceback" not in done.stderr


def test_group_split_keeps_each_group_on_one_side(project_copy):
    baking.set_params(project_copy, {"split.strategy": "group", "split.group_column": "Store"})
    baking.run(["dvc", "repro", "train"], project_copy, baking.project_env(project_copy))
    train = pd.read_parquet(project_copy / "data" / "processed" / "train.parquet")
    test = pd.read_parquet(project_copy / "data" / "processed" / "test.parquet")
    assert len(test) > 0 and not set(train["Store"]) & set(test["Store"])
    meta = read_json(project_copy / "models" / "model.json")
    features = meta["features"]["numeric"] + meta["features"]["categorical"]
    # params.yaml: "the column is not a feature", also when schema.yaml already exists.
    assert "Store" not in features


def test_time_split_tests_on_the_latest_rows(project_copy):
    baking.set_params(project_copy, {"split.strategy": "time", "split.time_column": "Signup Date"})
    baking.run(["dvc", "repro", "train"], project_copy, baking.project_env(project_copy))
    train = pd.read_parquet(project_copy / "data" / "processed" / "train.parquet")
    test = pd.read_parquet(project_copy / "data" / "processed" / "test.parquet")
    assert len(test) > 0
    assert pd.to_datetime(train["Signup Date"]).max() <= pd.to_datetime(test["Signup Date"]).min()
    assert (project_copy / "models" / "model.json").is_file()
