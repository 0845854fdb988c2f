import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.cleaning import as_text, coerce_features
from {{ cookiecutter.package_name }}.data.inference import infer_problem_type, infer_schema
from {{ cookiecutter.package_name }}.errors import StageError


def table(n: int = 50) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame(
        {
            "row id": np.arange(n),
            "always": ["same"] * n,
            "Größe (cm)": rng.normal(170, 10, n),
            "colour": rng.choice(["red", "blue"], n),
            "y": rng.choice(["a", "b"], n),
        }
    )


def test_ids_and_constants_are_dropped_with_a_reason():
    schema = infer_schema(table(), "y")
    assert set(schema.dropped) == {"row id", "always"}
    assert schema.columns["Größe (cm)"].kind == "numeric"
    assert schema.columns["colour"].categories == ["blue", "red"]


def test_problem_type_is_inferred_from_the_target():
    assert infer_problem_type(pd.Series(["yes", "no", "yes"])) == "binary"
    assert infer_problem_type(pd.Series(["a", "b", "c"])) == "multiclass"
    assert infer_problem_type(pd.Series([1, 2, 3, 2])) == "multiclass"
    assert infer_problem_type(pd.Series(np.linspace(0, 1, 50))) == "regression"


def test_missing_target_column_is_named():
    with pytest.raises(StageError, match="'price'"):
        infer_schema(table(), "price")


def test_single_class_target_is_refused():
    frame = table().assign(y="a")
    with pytest.raises(StageError, match="single value"):
        infer_schema(frame, "y")


def test_every_kind_of_missing_text_becomes_empty():
    values = pd.Series(["  padded ", None, np.nan, pd.NA, "x"], dtype=object)
    assert as_text(values).tolist() == ["padded", "", "", "", "x"]


def test_numbers_stored_as_text_become_numbers():
    frame = table().assign(price=["$1,234.50", " 12 ", "7%", None, "3"] * 10)
    schema = infer_schema(frame, "y")
    assert schema.columns["price"].kind == "numeric"
    clean = coerce_features(frame, schema)
    assert clean["price"].head(5).tolist()[:3] == [1234.5, 12.0, 7.0]
    assert np.isnan(clean["price"].iloc[3])


def test_dates_are_expanded_into_parts():
    days = pd.date_range("2024-01-01 08:00", periods=50, freq="37h").strftime("%Y-%m-%d %H:%M")
    schema = infer_schema(table().assign(signed=days), "y")
    assert schema.columns["signed"].kind == "datetime"
    parts = coerce_features(table().assign(signed=days), schema)
    assert {"signed__year", "signed__month", "signed__day_of_week", "signed__hour"} <= set(parts)
    assert "signed" not in parts


def test_case_and_padding_variants_are_one_category():
    frame = table().assign(plan=["Basic", " basic", "BASIC ", "Premium", "premium"] * 10)
    schema = infer_schema(frame, "y")
    assert schema.columns["plan"].categories == ["Basic", "Premium"]
    assert set(coerce_features(frame, schema)["plan"]) == {"Basic", "Premium"}


def test_booleans_are_numbers():
    frame = table().assign(active=[True, False, None, True, False] * 10)
    schema = infer_schema(frame, "y")
    assert schema.columns["active"].kind == "numeric"
    assert coerce_features(frame, schema)["active"].head(3).tolist()[:2] == [1.0, 0.0]
