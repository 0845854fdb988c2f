"""Data tests: validation refuses what breaks schema.yaml, naming column and rule."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import SplitParams
from {{ cookiecutter.package_name }}.data.contract import clean
from {{ cookiecutter.package_name }}.data.inference import infer_schema
from {{ cookiecutter.package_name }}.data.leakage import leaky_columns
from {{ cookiecutter.package_name }}.data.splitting import split
from {{ cookiecutter.package_name }}.errors import StageError


def table(n: int = 200) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "age (years)": rng.integers(18, 90, n),
            "plan": rng.choice(["a", "b", "c"], n),
            "y": rng.choice(["no", "yes"], n),
        }
    )


def test_rows_without_target_are_dropped():
    frame = table()
    frame.loc[:9, "y"] = None
    schema = infer_schema(frame, "y")
    assert len(clean(frame, schema)) == len(frame) - 10


def test_infinite_values_count_as_missing_and_are_named(caplog):
    frame = table().assign(spend=np.linspace(1.0, 50.0, 200), y=np.linspace(1.0, 9.0, 200))
    frame.loc[5, "spend"] = np.nan
    schema = infer_schema(frame, "y")
    bad = frame.copy()
    bad.loc[[0, 1], "spend"] = [np.inf, -np.inf]
    bad.loc[[2], "y"] = np.inf  # no target value: the row is dropped, as a missing one's
    with caplog.at_level("WARNING"):
        out = clean(bad, schema)
    assert len(out) == len(frame) - 1 and out["spend"].isna().sum() == 3
    assert np.isfinite(out["y"]).all()
    assert "column 'spend': 2 values did not parse and count as missing (inf, -inf)" in caplog.text
    assert "dropped 1 rows with no target value" in caplog.text
    # Where the schema says a column is never missing, an infinity breaks that rule.
    with pytest.raises(StageError, match="'age \\(years\\)': rule 'not missing'"):
        clean(bad.assign(**{"age (years)": np.inf}), schema)


def test_rows_are_kept_once_when_the_index_repeats_labels():
    """A table read with its saved index (a Parquet file's) may repeat index labels."""
    frame = table().set_axis([0, 1] * 100)
    frame.iloc[3, frame.columns.get_loc("y")] = None
    schema = infer_schema(frame, "y")
    assert len(clean(frame, schema)) == len(frame) - 1


def test_a_categorical_target_is_cleaned_to_its_values():
    """A Parquet file's dictionary column arrives as a pandas Categorical; the clean table
    holds its values, which the registry's baseline maps and compares."""
    frame = table().assign(y=lambda f: f["y"].astype("category"))
    schema = infer_schema(frame, "y")
    out = clean(frame, schema)
    assert not isinstance(out["y"].dtype, pd.CategoricalDtype)
    assert sorted(out["y"].unique()) == schema.classes == ["no", "yes"]
    assert out["y"].map(out["y"].value_counts(normalize=True)).clip(0, 1).between(0, 1).all()


def test_values_outside_the_schema_name_column_and_rule():
    frame = table()
    schema = infer_schema(frame, "y")
    bad = frame.copy()
    bad.loc[0, "age (years)"] = 150
    bad.loc[1, "plan"] = "zzz"
    with pytest.raises(StageError) as error:
        clean(bad, schema)
    message = str(error.value)
    assert "'age (years)'" in message and "at most 8" in message
    assert "'plan'" in message and "listed categories" in message


def test_a_class_on_a_single_row_is_named_with_the_ways_out():
    frame = table()
    frame["y"] = np.repeat([0, 1, 2, 3], 50)
    frame.loc[0, "y"], frame.loc[199, "y"] = 7, 9
    schema = infer_schema(frame, "y", problem_type="multiclass")
    with pytest.raises(StageError) as error:
        split(frame, schema, SplitParams(), seed=0)
    message = str(error.value)
    assert message.startswith("column 'y': 2 class(es) with a single row (7, 9)")
    assert "data.problem_type: regression" in message
    # Left to inference, such whole numbers are a quantity.
    assert infer_schema(frame, "y").problem_type == "regression"


def test_a_missing_column_is_named():
    frame = table()
    schema = infer_schema(frame, "y")
    with pytest.raises(StageError, match="'plan'"):
        clean(frame.drop(columns=["plan"]), schema)


def test_a_copy_of_the_target_is_flagged_as_leakage():
    frame = table().assign(outcome_code=lambda f: f["y"].map({"no": 0, "yes": 1}))
    schema = infer_schema(frame, "y")
    leaks = leaky_columns(clean(frame, schema), schema)
    assert list(leaks) == ["outcome_code"]


def test_a_nearly_exact_proxy_of_the_target_is_flagged_and_a_strong_feature_is_not():
    """Recorded after the outcome (right for 97% of rows) is leakage; a strong honest
    predictor (right for 75% of rows, where the majority guess is right for half) is not."""
    rng = np.random.default_rng(5)
    frame = table(1000)
    yes = (frame["y"] == "yes").to_numpy()
    frame["spend after signup"] = np.where(yes ^ (rng.random(1000) < 0.03), 50.0, 0.0)
    frame["spend after signup"] += rng.random(1000)
    frame["usage"] = np.where(yes ^ (rng.random(1000) < 0.25), 1.0, 0.0) + rng.random(1000)
    schema = infer_schema(frame, "y")
    leaks = leaky_columns(clean(frame, schema), schema)
    assert list(leaks) == ["spend after signup"]
