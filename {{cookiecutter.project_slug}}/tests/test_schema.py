import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.cleaning import (
    DISTINCT_FROM_ROWS,
    as_text,
    number,
    text,
    to_number,
)
from {{ cookiecutter.package_name }}.data.inference import infer_problem_type, infer_schema
from {{ cookiecutter.package_name }}.data.sources import read_table
from {{ cookiecutter.package_name }}.errors import StageError
from {{ cookiecutter.package_name }}.serving.inputs import ModelInput


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


def identifier_table(n: int = 300) -> pd.DataFrame:
    """Identifiers a table carries, beside unique numbers that are real measurements."""
    rng = np.random.default_rng(7)
    return pd.DataFrame(
        {
            # The row numbers of a 300-row sample of a 5,000-row table, shuffled.
            "rownames": rng.choice(np.arange(1, 5001), n, replace=False),
            "CustomerID": rng.choice(np.arange(10**7, 10**8), n, replace=False),
            "order no": [f"{i:06d}" for i in rng.permutation(n) + 17],  # numbers as text
            "account": rng.choice(np.arange(10**7, 10**8), n, replace=False),
            "weight (kg)": rng.normal(70, 12, n),  # unique floats
            "price": rng.choice(np.arange(50_000, 900_000), n, replace=False),  # unique whole
            "rooms": rng.integers(1, 9, n),
            "y": rng.choice(["a", "b"], n),
        }
    )


def test_unique_whole_numbers_in_a_row_number_span_are_identifiers():
    dropped = infer_schema(identifier_table(), "y").dropped
    assert dropped["rownames"].startswith("ID-like: a different whole number")
    assert dropped["order no"].startswith("ID-like: a different whole number")
    assert dropped["CustomerID"].startswith("ID-like: named as an identifier")


def test_unique_measurements_and_wide_unnamed_codes_stay_features():
    schema = infer_schema(identifier_table(), "y")
    for name in ("weight (kg)", "price", "rooms", "account"):
        assert schema.columns[name].kind == "numeric", name
    # Too few rows to tell a row number from a measurement: nothing is dropped.
    small = infer_schema(identifier_table(15), "y")
    assert "rownames" in small.columns and "order no" in small.columns


def test_problem_type_is_inferred_from_the_target():
    assert infer_problem_type(pd.Series(["yes", "no", "yes"])) == "binary"
    assert infer_problem_type(pd.Series(["a", "b", "c"])) == "multiclass"
    assert infer_problem_type(pd.Series([1, 2, 3, 2, 3, 1])) == "multiclass"
    # Counts with values on a single row are a quantity, not classes to learn (esoph's ncases).
    assert infer_problem_type(pd.Series([0, 0, 1, 1, 2, 2, 5, 17])) == "regression"
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
    clean = ModelInput(schema).typed(frame)
    assert clean["price"][:3].tolist() == [1234.5, 12.0, 7.0]
    assert np.isnan(clean["price"][3])


def test_dates_are_expanded_into_parts():
    days = pd.date_range("2024-01-01 08:00", periods=50, freq="37h").strftime("%Y-%m-%d %H:%M")
    schema = infer_schema(table().assign(signed=days), "y")
    assert schema.columns["signed"].kind == "datetime"
    parts = ModelInput(schema).typed(table().assign(signed=days))
    assert {"signed__year", "signed__month", "signed__day_of_week", "signed__hour"} <= set(parts)
    assert "signed" not in parts


def test_case_and_padding_variants_are_one_category():
    frame = table().assign(plan=["Basic", " basic", "BASIC ", "Premium", "premium"] * 10)
    schema = infer_schema(frame, "y")
    assert schema.columns["plan"].categories == ["Basic", "Premium"]
    assert set(ModelInput(schema).typed(frame)["plan"]) == {"Basic", "Premium"}


def test_booleans_are_numbers():
    frame = table().assign(active=[True, False, None, True, False] * 10)
    schema = infer_schema(frame, "y")
    assert schema.columns["active"].kind == "numeric"
    assert ModelInput(schema).typed(frame)["active"][:2].tolist() == [1.0, 0.0]


RAW = ["$1,234.50", " 12 ", "7%", "45 %", "€ 3", "$-5", "1e3", ".5", "P0DT2H46M40S",
       "P-1DT23H59M50S", "0 days 00:00:01.5", "1,23", "12 345", "inf", "1e999", "P", "PT1H2",
       "", " ", "abc", None, np.nan, np.inf, -np.inf, np.float32("inf"),
       True, False, 3, 2.5, np.int64(4)]  # fmt: skip


def test_each_value_is_read_as_a_number_by_one_rule():
    """Text as exports write numbers (a duration's, in seconds); what holds no number (or is
    missing, or infinite) is NaN."""
    read = [number(v) for v in RAW]
    expected = [1234.5, 12.0, 7.0, 45.0, 3.0, -5.0, 1000.0, 0.5, 10000.0, -10.0, 1.5]
    expected += [np.nan] * 14
    expected += [1.0, 0.0, 3.0, 2.5, 4.0]
    np.testing.assert_array_equal(read, expected)


@pytest.mark.parametrize("rows", [len(RAW), DISTINCT_FROM_ROWS + 5])
def test_columns_apply_the_value_rules_short_or_long(rows):
    """Long columns are cleaned once per distinct value: the result is the same."""
    values = [*(RAW * (rows // len(RAW) + 1))[:rows], 1, True, 1.0, "True"]
    column = pd.Series(values, dtype=object)
    np.testing.assert_array_equal(to_number(column), [number(v) for v in values])
    # 1, True and 1.0 are one value to pandas, but three texts
    assert as_text(column).tolist() == [text(v) for v in values]
    assert as_text(column).tolist()[-4:] == ["1", "True", "1.0", "True"]


def test_infinities_read_as_missing_values_when_the_schema_is_inferred():
    frame = table().assign(ratio=np.linspace(0.0, 1.0, 50), overflow=np.inf)
    frame.loc[[3, 7], "ratio"] = [np.inf, -np.inf]
    frame.loc[[4], "y"] = np.nan
    schema = infer_schema(frame, "y")
    ratio = schema.columns["ratio"]
    assert ratio.nullable and np.isfinite([ratio.min, ratio.max]).all()
    assert schema.dropped["overflow"] == "empty: no values"
    np.testing.assert_array_equal(to_number(frame["ratio"]).isna().to_numpy().nonzero()[0], [3, 7])


def test_a_regression_target_only_counts_its_finite_values():
    frame = table().assign(y=np.r_[np.inf, np.arange(49.0)])
    schema = infer_schema(frame, "y")
    assert schema.problem_type == "regression"
    assert schema.columns["Größe (cm)"].kind == "numeric"
    with pytest.raises(StageError, match="has a single value"):
        infer_schema(table().assign(y=[np.inf, -np.inf] * 24 + [1.0, 1.0]), "y")


def test_a_boolean_target_keeps_its_values_as_classes():
    schema = infer_schema(table().assign(y=[True, False] * 25), "y")
    assert schema.problem_type == "binary" and schema.classes == [False, True]


def test_durations_in_a_parquet_file_are_read_as_seconds(tmp_path):
    rng = np.random.default_rng(2)
    wait = pd.to_timedelta(rng.integers(0, 600, 50), unit="s")
    path = tmp_path / "waits.parquet"
    table().assign(wait=wait).to_parquet(path)
    frame = read_table(str(path))
    np.testing.assert_array_equal(frame["wait"], wait.total_seconds())
    spec = infer_schema(frame, "y").columns["wait"]
    assert spec.kind == "numeric" and spec.max == wait.total_seconds().max()
