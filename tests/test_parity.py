"""Every model family of a trained demo converts to ONNX within the parity bar, not only the
champion: the `export` stage's own check (test split, perturbed copy, API record path) run
on the champion and each candidate in models/candidates/, for a binary and a regression demo.
"""

from __future__ import annotations

import json

import baking
import pytest

CHECK_EVERY_CANDIDATE = """
import json, sys, tempfile
from pathlib import Path

import joblib
import pandas as pd

from {package}.onnx.bundle import graph_predictor
from {package}.onnx.convert import to_onnx
from {package}.onnx.parity import check_parity
from {package}.serving.predictor import Predictor

champion = Predictor.load(Path("models"))
classification = champion.classes is not None
meta, test = champion.meta, pd.read_parquet("data/processed/test.parquet")
features = meta.features
found = {{}}
candidates = {{path.stem: path for path in Path("models/candidates").glob("*.joblib")}}
for family, path in sorted(candidates.items()) + [(meta.champion, Path("models/model.joblib"))]:
    reference = Predictor(joblib.load(path), meta)
    converted = to_onnx(reference.pipeline, features.numeric, features.categorical, classification)
    with tempfile.TemporaryDirectory() as folder:
        served = graph_predictor(meta, *converted, Path(folder) / "model.onnx")
        found[family] = check_parity(reference, served, test, seed=1)
json.dump(found, sys.stdout)
"""


@pytest.mark.parametrize("fixture", ["trained_telco", "trained_ames"])
def test_every_candidate_family_exports_within_the_parity_bar(fixture, request):
    project = request.getfixturevalue(fixture)
    env = baking.project_env(project)
    code = CHECK_EVERY_CANDIDATE.format(package=baking.package_name(project))
    found = json.loads(baking.run(["python", "-c", code], project, env).stdout)
    assert set(found) == {"linear", "random_forest", "xgboost", "lightgbm"}
    for family, checks in found.items():
        for label, check in checks.items():
            assert check["rows"] > 0
            assert check["max_difference"] <= 1e-5, (family, label, check)
