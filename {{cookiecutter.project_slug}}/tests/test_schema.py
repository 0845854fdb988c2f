import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.cli import StageError
from {{ cookiecutter.package_name }}.schema import as_text, infer_problem_type, infer_schema


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
