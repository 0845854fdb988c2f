"""Every model family of a trained demo converts to ONNX within the parity bar, not only the
champion: the `export` stage's own check (test split, perturbed copy, API record path) run
on the champion and each candidate in models/candidates/, for a binary and a regression demo;
and so do blends of them, whether or not training kept one: of every family (the graph then
reads text) and of the tree families (they share one text lookup, taken out of the graph).
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

from {package}.onnx.blend import is_blend
from {package}.onnx.bundle import graph_predictor
from {package}.onnx.convert import to_onnx
from {package}.onnx.parity import check_parity
from {package}.serving.predictor import Predictor
from {package}.training.voting import voting

champion = Predictor.load(Path("models"))
classification = champion.classes is not None
meta, test = champion.meta, pd.read_parquet("data/processed/test.parquet")
found = {{}}
candidates = {{path.stem: path for path in Path("models/candidates").glob("*.joblib")}}
models = {{family: joblib.load(path) for family, path in candidates.items()}}
models[meta.champion] = champion.pipeline
singles = {{family: model for family, model in models.items() if not is_blend(model)}}
trees = [(family, model) for family, model in sorted(singles.items()) if family != "linear"]
classes = len(meta.classes) if classification else None
weighed = {{
    "blend_of_all": voting(sorted(singles.items()), list(range(1, len(singles) + 1)), classes),
    "blend_of_trees": voting(trees, list(range(len(trees), 0, -1)), classes),
}}
lifted = {{}}
for family, model in sorted(models.items()) + sorted(weighed.items()):
    reference = Predictor(model, meta)
    converted = to_onnx(model, meta.features.numeric, meta.features.categorical, classification)
    lifted[family] = converted[-1] is not None
    with tempfile.TemporaryDirectory() as folder:
        served = graph_predictor(meta, *converted, Path(folder) / "model.onnx")
        found[family] = check_parity(reference, served, test, seed=1)
json.dump({{"checks": found, "lifted": lifted}}, sys.stdout)
"""


@pytest.mark.parametrize("fixture", ["trained_telco", "trained_ames"])
def test_every_candidate_family_exports_within_the_parity_bar(fixture, request):
    project = request.getfixturevalue(fixture)
    env = baking.project_env(project)
    code = CHECK_EVERY_CANDIDATE.format(package=baking.package_name(project))
    answer = json.loads(baking.run(["python", "-c", code], project, env).stdout)
    found, lifted = answer["checks"], answer["lifted"]
    families = {"linear", "random_forest", "extra_trees", "xgboost", "lightgbm"}
    assert set(found) - {"blend"} == families | {"blend_of_all", "blend_of_trees"}
    assert lifted["blend_of_trees"] and lifted["xgboost"]  # one shared lookup, out of the graph
    for family, checks in found.items():
        for label, check in checks.items():
            assert check["rows"] > 0
            assert check["max_difference"] <= 1e-5, (family, label, check)
