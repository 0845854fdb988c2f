"""The `export` stage and the batch command, on the model trained by the fixtures (no mocks)."""

import json
import logging
import shutil
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from {{ cookiecutter.package_name }} import predict as batch_command
from {{ cookiecutter.package_name }}.config import ModelsParams
from {{ cookiecutter.package_name }}.files import sha256
from {{ cookiecutter.package_name }}.onnx.blend import is_blend
from {{ cookiecutter.package_name }}.onnx.bundle import export, graph_predictor
from {{ cookiecutter.package_name }}.onnx.convert import OPSETS, float32_bin_edges, to_onnx
from {{ cookiecutter.package_name }}.onnx.converters import register_converters
from {{ cookiecutter.package_name }}.onnx.parity import (
    TOLERANCE,
    ParityError,
    api_rows,
    check_parity,
    require_parity,
)
from {{ cookiecutter.package_name }}.serving.artifacts import (
    MANIFEST_FILE,
    ONNX_FILE,
    SERVING_DIR,
    ModelLoadError,
)
from {{ cookiecutter.package_name }}.serving.inputs import ModelInput
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.training.bins import ScaledBins
from {{ cookiecutter.package_name }}.training.families import build_pipeline
from {{ cookiecutter.package_name }}.training.voting import voting


@pytest.fixture(scope="module")
def exported(model_dir, splits, tmp_path_factory):
    """A copy of the fixture model with models/serving/ written by `export`."""
    folder = tmp_path_factory.mktemp("exported")
    shutil.copytree(model_dir, folder, dirs_exist_ok=True)
    report = export(folder, splits[1], folder / SERVING_DIR)
    return folder, report


def test_export_checks_parity_on_test_perturbed_and_api_rows(exported):
    _, report = exported
    assert report["runtime"] == "onnx"
    assert set(report["checks"]) == {"test", "perturbed", "api_records"}
    for check in report["checks"].values():
        assert check["rows"] > 0
        assert check["max_difference"] <= TOLERANCE
        assert check.get("label_mismatches", 0) <= 1  # only rows on the threshold can flip


def test_manifest_records_the_onnx_file_and_its_source(exported, model_dir):
    folder, _ = exported
    manifest = json.loads((folder / SERVING_DIR / MANIFEST_FILE).read_text())
    assert manifest["format"] == "onnx"
    assert manifest["sha256"] == sha256(folder / SERVING_DIR / ONNX_FILE)
    assert manifest["source_sha256"] == json.loads((model_dir / "model.json").read_text())["sha256"]


def test_onnx_and_sklearn_answer_alike(exported, predictor, splits):
    folder, _ = exported
    served = Predictor.load(folder, runtime="onnx")
    assert served.runtime == "onnx" and served.pipeline is None
    labels, proba = served.predict_frame(splits[1])
    expected_labels, expected_proba = predictor.predict_frame(splits[1])
    if proba is None:
        scale = max(1.0, float(np.abs(expected_labels).mean()))
        assert np.allclose(labels, expected_labels, rtol=TOLERANCE, atol=TOLERANCE * scale)
    else:
        assert np.abs(proba - expected_proba).max() <= TOLERANCE


def test_the_served_graph_reads_codes_not_text(exported, predictor, splits, schema):
    """`export` takes the text lookup out of the graph. Long tables, whose codes are looked up
    once per distinct value, still answer as the pipeline does, odd and unseen levels too."""
    import onnx

    folder, _ = exported
    manifest = json.loads((folder / SERVING_DIR / MANIFEST_FILE).read_text())
    members = dict(getattr(predictor.pipeline, "estimators", []))
    if any(name.startswith("linear") for name in members):
        # A blend of one-hot and ordinal codes (a linear member, or its fold fits: "linear",
        # "linear_fold1"): two lookups, so the graph reads the text. A linear model's fold
        # fits alone ("fold1", ...) share one.
        assert manifest["text_codes"] is None
        return
    assert manifest["text_codes"] is not None
    graph = onnx.load(folder / SERVING_DIR / ONNX_FILE).graph
    assert onnx.TensorProto.STRING not in {i.type.tensor_type.elem_type for i in graph.input}
    rows = pd.concat([splits[1]] * (1200 // len(splits[1]) + 1), ignore_index=True)
    for i, name in enumerate(n for n, s in schema.columns.items() if s.kind == "categorical"):
        rows[name] = rows[name].astype(object)
        rows.loc[i::5, name] = None
        rows.loc[i + 1 :: 7, name] = "a level never seen"
        rows.loc[i + 2 :: 9, name] = rows[name].map(lambda v: f" {v} ".upper())
    labels, proba = Predictor.load(folder, runtime="onnx").predict_frame(rows)
    expected_labels, expected_proba = predictor.predict_frame(rows)
    if proba is None:
        scale = max(1.0, float(np.abs(expected_labels).mean()))
        assert np.allclose(labels, expected_labels, rtol=TOLERANCE, atol=TOLERANCE * scale)
    else:
        assert np.abs(proba - expected_proba).max() <= TOLERANCE


def test_long_tables_are_typed_exactly_like_single_records(splits, schema):
    """A table's columns are cleaned once per distinct value, a record value by value: the
    result must be the same, odd spellings and numbers written as text included."""
    rows = pd.concat([splits[1]] * (1200 // len(splits[1]) + 1), ignore_index=True)
    for i, (name, spec) in enumerate(schema.columns.items()):
        rows[name] = rows[name].astype(object)
        rows.loc[i::7, name] = None
        if spec.kind == "categorical":
            rows.loc[i + 3 :: 11, name] = rows[name].map(lambda v: f" {v}".upper())
        elif spec.kind == "numeric":
            rows.loc[i + 3 :: 11, name] = rows[name].map(lambda v: f"${v:,}", na_action="ignore")
            rows.loc[i + 5 :: 13, name] = rows[name].map(lambda v: f" {v}% ", na_action="ignore")
    inputs = ModelInput(schema)
    expected, _ = inputs.typed_rows(api_rows(rows, schema))
    got = inputs.typed(rows)
    assert sorted(got) == sorted(expected)  # a mapping: each path keeps its own order
    for name, want in expected.items():
        if want.dtype.kind == "f":
            np.testing.assert_array_equal(want, got[name].astype(float), err_msg=name)
        else:
            assert want.tolist() == got[name].tolist(), name


def test_changed_onnx_file_is_refused(exported, tmp_path):
    folder, _ = exported
    shutil.copytree(folder, tmp_path, dirs_exist_ok=True)
    onnx_file = tmp_path / SERVING_DIR / ONNX_FILE
    onnx_file.write_bytes(onnx_file.read_bytes() + b"\0")
    with pytest.raises(ModelLoadError, match="SHA-256"):
        Predictor.load(tmp_path, runtime="auto")


def test_a_large_test_split_is_compared_on_a_seeded_sample(
    exported, predictor, splits, monkeypatch
):
    from {{ cookiecutter.package_name }}.onnx import parity

    monkeypatch.setattr(parity, "PARITY_ROWS", 40)
    served = Predictor.load(exported[0], runtime="onnx")
    checks = check_parity(predictor, served, splits[1], seed=0)
    assert len(splits[1]) > 40 and {check["rows"] for check in checks.values()} == {40}
    assert checks == check_parity(predictor, served, splits[1], seed=0)


def test_models_that_disagree_fail_the_parity_check(exported, predictor, splits, params):
    """A graph from another model must not pass: the check names the rows that differ."""
    folder, _ = exported
    served = Predictor.load(folder, runtime="onnx")
    other = Predictor(predictor.pipeline, predictor.meta)
    frame = splits[0].sample(frac=0.5, random_state=1)
    target = predictor.meta.target
    features = other.features(frame)
    y = frame[target]
    if predictor.classes is not None:
        y = y.map({label: i for i, label in enumerate(predictor.classes)})
    other.pipeline = _refit(predictor.pipeline, features, y.to_numpy())
    checks = check_parity(other, served, splits[1], seed=0)
    with pytest.raises(ParityError, match="disagree"):
        require_parity(checks, predictor.classes is not None)


def test_a_graph_that_misses_the_bar_fails_the_stage_and_writes_nothing(
    model_dir, splits, tmp_path, monkeypatch
):
    """Below any reachable tolerance, the real graph fails the check: the stage stops, names
    the model and the rows, and leaves no served model behind."""
    from {{ cookiecutter.package_name }}.onnx import parity

    monkeypatch.setattr(parity, "TOLERANCE", -1.0)
    with pytest.raises(ParityError, match="enabled: false") as failure:
        export(model_dir, splits[1], tmp_path / SERVING_DIR)
    assert "model.joblib" in str(failure.value) and "disagree on the" in str(failure.value)
    assert not (tmp_path / SERVING_DIR).exists()


def _singles(model_dir, champion: Predictor) -> dict:
    """Every family's fitted pipeline: the candidates, and the champion unless a blend."""
    import joblib

    found = {p.stem: joblib.load(p) for p in (model_dir / "candidates").glob("*.joblib")}
    if not is_blend(champion.pipeline):
        found[champion.meta.champion] = champion.pipeline
    return found


def test_a_blend_of_the_candidates_is_one_graph_within_the_parity_bar(
    model_dir, predictor, splits, tmp_path
):
    """Whether or not training kept one, blends of the candidates (uneven weights) export as
    one graph answering as the blend does; the tree families share one text lookup, which
    is then taken out of the graph."""
    meta, classes = predictor.meta, predictor.classes
    singles = sorted(_singles(model_dir, predictor).items())
    trees = [(family, pipeline) for family, pipeline in singles if family != "linear"]
    for members in (singles, trees):
        blend = voting(members, list(range(1, len(members) + 1)), classes and len(classes))
        features = meta.features
        converted = to_onnx(blend, features.numeric, features.categorical, classes is not None)
        served = graph_predictor(meta, *converted, tmp_path / f"{len(members)}.onnx")
        checks = check_parity(Predictor(blend, meta), served, splits[1], seed=2)
        require_parity(checks, classes is not None)
    assert (converted[-1] is not None) == bool(meta.features.categorical)


def test_a_value_beside_a_quantile_edge_falls_in_the_same_bin_in_the_graph():
    """A quantile bin edge midway between two float32 values: the value below it lands in the
    same bin in the graph as in scikit-learn, and so does a gap filled with the median (itself
    an edge, no float32 value), so the answers agree (one Telco fold's differed by 0.006)."""
    import onnxruntime as ort

    low = np.float32(35.6)
    high = np.nextafter(low, np.float32(np.inf))
    # x's median, midway between `low` and `high`, is the middle edge of its four bins; z's,
    # between 1.0 and 1.3, fills its gaps.
    x = [0.0] * 31 + [low] * 25 + [high] * 25 + [100.0] * 31
    z = [1.0] * 51 + [1.3] * 51 + [np.nan] * 10
    frame = pd.DataFrame({"x": np.array(x), "z": np.array(z)})
    chance = np.where(frame["x"] >= high, 0.7, 0.3) + np.where(frame["z"] > 1.2, 0.2, -0.2)
    y = (np.random.default_rng(0).random(len(frame)) < chance).astype(int)
    cfg = ModelsParams().linear.model_copy(update={"n_bins": 4})
    pipeline = build_pipeline("linear", cfg, "binary", ["x", "z"], [], seed=0).fit(frame, y)
    edges = pipeline[0].named_transformers_["numeric"].transformer_list[1][1][-1].bin_edges_[0]
    assert any(np.float32(e) == low < e for e in edges)  # an edge rounds down onto `low`
    model, output, *_ = to_onnx(pipeline, ["x", "z"], [], classification=True)
    session = ort.InferenceSession(model.SerializeToString())
    rows = np.array([[low, 1.0], [high, 1.3], [0.0, np.nan], [100.0, np.nan]], dtype=np.float32)
    graph = session.run([output], {"numeric": rows})[0]
    expected = pipeline.predict_proba(pd.DataFrame(rows.astype(np.float64), columns=["x", "z"]))
    assert np.abs(graph - expected).max() < 1e-5


def test_a_column_spanning_less_than_1e8_keeps_its_quantile_bins():
    """scikit-learn drops a bin narrower than 1e-8 in the column's units: on a column around
    1e-21 (pd_speech) it dropped all of them and the linear pipeline failed to fit. Its bins
    are now its own quantiles, and the graph bins its values as scikit-learn does."""
    import onnxruntime as ort

    rng = np.random.default_rng(0)
    tiny = rng.lognormal(size=400) * 1e-21
    frame = pd.DataFrame({"tiny": tiny, "plain": rng.normal(size=400)})
    y = (rng.random(400) < np.where(tiny > np.median(tiny), 0.7, 0.3)).astype(int)
    cfg = ModelsParams().linear.model_copy(update={"n_bins": 4})
    pipeline = build_pipeline("linear", cfg, "binary", ["tiny", "plain"], [], seed=0)
    pipeline.fit(frame, y)
    bins = pipeline[0].named_transformers_["numeric"].transformer_list[1][1][-1]
    assert bins.n_bins_.tolist() == [4, 4]
    assert np.allclose(bins.bin_edges_[0], np.quantile(tiny, [0, 0.25, 0.5, 0.75, 1]), rtol=1e-12)
    model, output, *_ = to_onnx(pipeline, ["tiny", "plain"], [], classification=True)
    session = ort.InferenceSession(model.SerializeToString())
    rows = frame.to_numpy(np.float32)
    graph = session.run([output], {"numeric": rows})[0]
    expected = pipeline.predict_proba(pd.DataFrame(rows.astype(np.float64), columns=frame.columns))
    assert np.abs(graph - expected).max() < 1e-5


@pytest.mark.parametrize("encode", ["onehot-dense", "ordinal"])
def test_quantile_bins_convert_as_one_block_and_bin_as_scikit_learn(encode):
    """Every column's bins in a few nodes: columns with different counts of bins (a normal
    one, three levels, a constant, a scale near 1e-21), values on their edges and beyond
    the training range."""
    import onnxruntime as ort
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    rng = np.random.default_rng(1)
    train = np.c_[rng.normal(size=300), rng.integers(0, 3, 300), np.full(300, 5.0),
                  rng.lognormal(size=300) * 1e-21].astype(np.float32)  # fmt: skip
    pipeline = Pipeline([("bins", ScaledBins(6, encode=encode, strategy="quantile"))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the constant column
        pipeline.fit(train.astype(np.float64))
    assert pipeline[0].n_bins_.tolist() == [6, 2, 1, 6]
    float32_bin_edges(pipeline)
    register_converters()
    model = convert_sklearn(
        pipeline, initial_types=[("x", FloatTensorType([None, 4]))], target_opset=OPSETS
    )
    assert len(model.graph.node) <= (6 if encode == "onehot-dense" else 40)  # skl2onnx's
    rows = np.r_[train, train * 2, -train]
    graph = ort.InferenceSession(model.SerializeToString()).run(None, {"x": rows})[0]
    assert np.array_equal(graph, pipeline.transform(rows.astype(np.float64)))


def _refit(pipeline, features, y):
    from sklearn.base import clone

    return clone(pipeline).fit(features, y)


def _same(values):
    return values


def test_a_model_onnx_cannot_express_is_served_by_sklearn(model_dir, splits, tmp_path, caplog):
    """A step skl2onnx cannot convert (a Python function) falls back with a warning."""
    original = Predictor.load(model_dir)
    steps = min(_singles(model_dir, original).items())[1].steps
    pipeline = Pipeline([steps[0], ("same", FunctionTransformer(_same)), *steps[1:]])
    Predictor(pipeline, original.meta.model_copy()).save(tmp_path)
    with caplog.at_level(logging.WARNING):
        report = export(tmp_path, splits[1], tmp_path / SERVING_DIR)
    assert report["runtime"] == "sklearn"
    assert "cannot be converted" in caplog.text
    manifest = json.loads((tmp_path / SERVING_DIR / MANIFEST_FILE).read_text())
    assert manifest["format"] == "sklearn" and manifest["reason"]
    assert Predictor.load(tmp_path, runtime="auto").runtime == "sklearn"
    with pytest.raises(ModelLoadError, match="no ONNX model"):
        Predictor.load(tmp_path, runtime="onnx")


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
def test_batch_command_adds_predictions(exported, predictor, splits, tmp_path, suffix):
    folder, _ = exported
    table = splits[1].drop(columns=[predictor.meta.target])
    source, target = tmp_path / f"in.{suffix}", tmp_path / f"out.{suffix}"
    (table.to_csv if suffix == "csv" else table.to_parquet)(source, index=False)
    command = [sys.executable, "-m", batch_command.__name__, str(source)]
    done = subprocess.run(
        [*command, str(target), "--model-dir", str(folder)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "onnx runtime" in done.stderr
    scored = pd.read_csv(target) if suffix == "csv" else pd.read_parquet(target)
    assert len(scored) == len(table)
    labels, _ = predictor.predict_frame(table)
    if predictor.classes is None:
        assert np.allclose(scored["prediction"], labels, rtol=1e-4)
    else:
        agree = (scored["prediction"].astype(str).to_numpy() == np.array(labels).astype(str)).mean()
        assert agree > 0.99  # labels can flip only for rows on the decision threshold
        assert {f"probability_{c}" for c in predictor.classes} <= set(scored.columns)


def test_batch_command_names_a_missing_file(exported, tmp_path):
    folder, _ = exported
    command = [sys.executable, "-m", batch_command.__name__]
    done = subprocess.run(
        [
            *command,
            str(tmp_path / "nope.csv"),
            str(tmp_path / "out.csv"),
            "--model-dir",
            str(folder),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "nope.csv: file not found" in done.stderr
