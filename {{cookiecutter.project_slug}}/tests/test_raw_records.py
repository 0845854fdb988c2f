"""Records as the training table holds them are served as trained: booleans, and numbers that
the export wrote as text ("$1,234.5", "45.0%").

The project's table, rewritten as such an export and read back from CSV as `ingest` reads it:
a model is trained on it, exported to ONNX (the parity check runs the API's record path on
such values too) and served by the real app.
"""

import io
import json
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.api import create_app
from {{ cookiecutter.package_name }}.api.schemas import record_model
from {{ cookiecutter.package_name }}.api.settings import Settings
from {{ cookiecutter.package_name }}.data.contract import clean
from {{ cookiecutter.package_name }}.data.inference import infer_schema
from {{ cookiecutter.package_name }}.data.schema import ColumnSpec, Schema
from {{ cookiecutter.package_name }}.data.splitting import split
from {{ cookiecutter.package_name }}.onnx.bundle import export
from {{ cookiecutter.package_name }}.onnx.parity import TOLERANCE
from {{ cookiecutter.package_name }}.serving.artifacts import SERVING_DIR
from {{ cookiecutter.package_name }}.serving.inputs import ModelInput
from {{ cookiecutter.package_name }}.serving.predictor import Predictor
from {{ cookiecutter.package_name }}.serving.temperature import tempered
from {{ cookiecutter.package_name }}.training.trainer import train


@pytest.fixture(scope="module")
def written(schema) -> tuple[str, str]:
    """(money, share): the two number columns the export writes as text."""
    money, share = [name for name, spec in schema.columns.items() if spec.kind == "numeric"][:2]
    return money, share


@pytest.fixture(scope="module")
def table(raw_table, written, params) -> pd.DataFrame:
    """The project's table as a raw export writes it, read back from CSV as `ingest` reads it:
    one number column as money ("$1,234.5"), one as a percentage ("45.0%"), a True/False one."""
    money, share = written
    frame = raw_table[raw_table[params.data.target].notna()].reset_index(drop=True)
    frame[money] = frame[money].map(lambda v: f"${v:,}", na_action="ignore")
    frame[share] = frame[share].map(lambda v: f"{v}%", na_action="ignore")
    frame["is_vip"] = np.random.default_rng(5).random(len(frame)) < 0.3
    return pd.read_csv(io.StringIO(frame.to_csv(index=False)))


@pytest.fixture(scope="module")
def trained(table, written, params, tmp_path_factory):
    """(model folder with models/serving/, the export report, the raw test records)."""
    target = params.data.target
    schema = infer_schema(table, target, params.data.problem_type)
    assert table["is_vip"].dtype == bool
    assert {schema.columns[name].kind for name in ("is_vip", *written)} == {"numeric"}
    train_rows, test_rows = split(clean(table, schema), schema, params.split, params.seed)
    models = params.train.models
    only_lightgbm = {
        name: getattr(models, name).model_copy(update={"enabled": name == "lightgbm"})
        for name in type(models).model_fields
    }
    cfg = params.train.model_copy(update={"models": models.model_copy(update=only_lightgbm)})
    predictor, _ = train(
        train_rows, schema, cfg, params.data, params.split, params.seed, params.project
    )
    folder = tmp_path_factory.mktemp("raw-records")
    predictor.save(folder)
    report = export(folder, test_rows, folder / SERVING_DIR)
    # `clean` keeps every row (each has a target) in order, so the raw rows line up.
    raw_test = table.loc[test_rows.index].drop(columns=[target])
    return folder, report, raw_test


@pytest.fixture(scope="module")
def client(trained):
    folder, _, _ = trained
    settings = Settings(model_dir=folder, metrics_file=folder / "none")
    with TestClient(create_app(settings), raise_server_exceptions=False) as test_client:
        yield test_client


def as_sent(raw: pd.DataFrame) -> list[dict]:
    """The records as a client sends them: true/false, "$5", "45.0%", null."""
    return json.loads(raw.to_json(orient="records"))


def outputs(answers: list[dict]) -> np.ndarray:
    """Class probabilities (classification) or predicted values, one row per answer."""
    if answers[0].get("probabilities") is None:
        return np.array([[answer["prediction"]] for answer in answers])
    return np.array([list(answer["probabilities"].values()) for answer in answers])


def training_path(folder, raw: pd.DataFrame) -> np.ndarray:
    """What the fitted pipeline answers on the inputs training computes (`ModelInput.frame`),
    its probabilities tempered as the service tempers them."""
    reference = Predictor.load(folder, runtime="sklearn")
    features = reference.inputs.frame(raw)
    if reference.classes is None:
        return reference.pipeline.predict(features).reshape(-1, 1)
    meta = reference.meta
    return tempered(reference.pipeline.predict_proba(features), meta.temperature, meta.class_shift)


def assert_close(got: np.ndarray, expected: np.ndarray) -> None:
    """Within the export's parity bar: absolute for probabilities, relative for values."""
    scale = np.maximum(1.0, np.abs(expected)) if expected.shape[1] == 1 else 1.0
    assert (np.abs(got - expected) / scale).max() <= TOLERANCE


def test_export_checks_the_record_path_on_such_values(trained):
    _, report, _ = trained
    assert report["runtime"] == "onnx"
    assert report["checks"]["api_records"]["max_difference"] <= TOLERANCE


def test_records_as_the_table_holds_them_are_served_as_trained(trained, written, client):
    folder, _, raw = trained
    money, share = written
    records = as_sent(raw)
    assert {type(record["is_vip"]) for record in records} == {bool}
    assert any(str(record[money]).startswith("$") for record in records)
    assert any(str(record[share]).endswith("%") for record in records)
    expected = training_path(folder, raw)
    singles = []
    for record in records[:10]:
        response = client.post("/predict", json=record)
        assert response.status_code == 200, response.text
        singles.append(response.json())
    assert_close(outputs(singles), expected[:10])
    response = client.post("/predict/batch", json={"records": records})
    assert response.status_code == 200, response.text
    assert_close(outputs(response.json()["predictions"]), expected)


def test_a_number_column_takes_numbers_booleans_and_numeric_text_alike(trained, written, client):
    _, _, raw = trained
    money, share = written
    record = as_sent(raw)[0]
    alike = [
        record | {money: "$1,012", share: "45%", "is_vip": True},
        record | {money: 1012, share: 45.0, "is_vip": 1},
        record | {money: " 1012.0 ", share: "45 %", "is_vip": 1.0},
        # A duration's text, as pandas writes a timedelta: its seconds (training's reading).
        record | {money: "PT16M52S", share: "0 days 00:00:45", "is_vip": True},
    ]
    same = {"X-Request-ID": "one-record"}  # the answers then hold the same request id
    answers = [client.post("/predict", json=body, headers=same).json() for body in alike]
    assert all(answer == answers[0] for answer in answers), answers


@pytest.mark.parametrize(
    ("value", "status"),
    [("five dollars", 422), ("yes", 422), ("NaN", 422), ("1e39", 422), ({"x": 1}, 422),
     ("", 200), (None, 200)],
)  # fmt: skip
def test_text_that_holds_no_number_is_refused_naming_the_field(
    trained, written, client, value, status
):
    """Training counts such text as missing (`validate` warns); a client sending one record
    is told instead. Blank text and null are a missing value."""
    _, _, raw = trained
    money, _ = written
    response = client.post("/predict", json=as_sent(raw)[0] | {money: value})
    assert response.status_code == status, response.text
    if status == 422:
        assert [error["loc"] for error in response.json()["detail"]] == [["body", money]]


def test_openapi_says_what_a_number_field_takes(client, written):
    spec = client.get("/openapi.json").json()
    field = spec["components"]["schemas"]["Record"]["properties"][written[0]]
    types = {choice["type"]: choice for choice in field["anyOf"]}
    assert set(types) == {"number", "boolean", "string", "null"}
    pattern = re.compile(types["string"]["pattern"])
    for text in ("$5", "45%", "1,234.50", " 12 ", "-3.5e2", "", "P0DT2H46M40S", "PT0.5S",
                 "P-1DT23H59M50S", "0 days 02:46:40", "-1 days +23:59:50"):  # fmt: skip
        assert pattern.search(text), text
    for text in ("five", "1,23", "12 345", "$", "NaN", "P", "PT", "P1DT", "P5", "2 days"):
        assert not pattern.search(text), text
    assert "45%" in field["description"]


def test_a_text_column_takes_numbers_or_booleans_when_its_levels_are_such():
    """Cleaning reads 3 as "3" and True as "True": taken where training saw such levels."""
    levels = {
        "code": ColumnSpec(kind="categorical", categories=["1", "2", "x"], closed=True),
        "flag": ColumnSpec(kind="categorical", categories=["False", "True"], closed=True),
        "plan": ColumnSpec(kind="categorical", categories=["Basic", "Plus"], closed=True),
    }
    schema = Schema(target="y", problem_type="binary", classes=["a", "b"], columns=levels)
    record = record_model(schema)
    body = record.model_validate({"code": 2, "flag": True, "plan": "plus"})
    typed, warnings = ModelInput(schema).typed_rows([tuple(body.__dict__.values())])
    assert [typed[name].tolist() for name in levels] == [["2"], ["True"], ["Plus"]]
    assert warnings == [[]]
    for bad in ({"code": True}, {"flag": 1}, {"plan": 3}, {"code": 10**5000}, {"code": [1]}):
        with pytest.raises(ValidationError) as refused:
            record.model_validate({"code": "x", "flag": "True", "plan": "Basic"} | bad)
        assert [error["loc"] for error in refused.value.errors()] == [tuple(bad)]


def test_text_a_number_or_date_column_held_in_training_is_missing_in_a_record_too():
    """Cars93's cylinder counts hold "rotary": training reads it as missing (the column stays
    numeric), so a record copied from that table is scored, its "rotary" missing; other
    text is still refused. The same for a date column's "unknown"."""
    rng = np.random.default_rng(0)
    days = pd.date_range("2024-01-01", periods=60, freq="D").strftime("%Y-%m-%d").tolist()
    frame = pd.DataFrame({
        "cylinders": ["4", "6", "8"] * 19 + ["rotary", "rotary ", "n/a"],
        "signed": [*days[:59], "unknown"],
        "y": rng.choice(["a", "b"], 60),
    })  # fmt: skip
    schema = infer_schema(frame, "y")
    assert schema.columns["cylinders"].kind == "numeric"
    assert schema.columns["cylinders"].missing_texts == ["rotary", "n/a"]
    assert schema.columns["signed"].missing_texts == ["unknown"]
    record = record_model(schema)
    for row in frame.drop(columns="y").to_dict("records"):
        body = record.model_validate(row)
        typed, _ = ModelInput(schema).typed_rows([tuple(body.__dict__.values())])
        assert np.isnan(typed["cylinders"][0]) == (row["cylinders"].strip() in ("rotary", "n/a"))
    for bad in ({"cylinders": "V8"}, {"signed": "soon"}):
        with pytest.raises(ValidationError) as refused:
            record.model_validate({"cylinders": "4", "signed": days[0]} | bad)
        assert [error["loc"] for error in refused.value.errors()] == [tuple(bad)]


def test_a_date_column_takes_date_text_and_refuses_other_text():
    columns = {"signed": ColumnSpec(kind="datetime", parts=["year", "month"])}
    schema = Schema(target="y", problem_type="binary", classes=["a", "b"], columns=columns)
    record = record_model(schema)
    for value, year in (("2024-05-31T14:30", 2024.0), ("31 May 2024", 2024.0), ("", np.nan)):
        body = record.model_validate({"signed": value})
        typed, _ = ModelInput(schema).typed_rows([tuple(body.__dict__.values())])
        np.testing.assert_array_equal(typed["signed__year"], [year])
    for bad in ("not a date", 20240531, True):
        with pytest.raises(ValidationError):
            record.model_validate({"signed": bad})
