"""scripts/baking.py's set_params edits params.yaml in place and keeps its comments."""

from __future__ import annotations

from pathlib import Path

import baking
import pytest
import yaml

PARAMS = """\
# The single source of configuration.
seed: 42
train:
  # fast: a few trees, two folds.
  fast: false
  cv_folds: 5
  search:
    cv_folds: 3           # folds while searching
    timeout_seconds: 60   # per family
  models:
    linear:
      C: 1.0
split:
  group_column: null
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "params.yaml").write_text(PARAMS, encoding="utf-8")
    return tmp_path


def test_set_params_changes_only_the_named_values_and_keeps_comments(project):
    baking.set_params(
        project,
        {"train.fast": True, "train.search.cv_folds": 2, "split.group_column": "Kündigt?"},
    )
    text = (project / "params.yaml").read_text(encoding="utf-8")
    expected = yaml.safe_load(PARAMS)
    expected["train"] |= {"fast": True, "search": {"cv_folds": 2, "timeout_seconds": 60}}
    expected["split"]["group_column"] = "Kündigt?"
    assert yaml.safe_load(text) == expected
    assert "  # fast: a few trees, two folds.\n  fast: true\n  cv_folds: 5\n" in text
    assert "    cv_folds: 2           # folds while searching\n" in text


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"train.nope": 1}, KeyError),
        ({"train.models.C": 1}, KeyError),  # C is under models.linear, not models
        ({"train.search": {"cv_folds": 2}}, ValueError),  # a block: set its keys instead
    ],
)
def test_set_params_refuses_a_missing_key_or_a_block(project, values, error):
    with pytest.raises(error):
        baking.set_params(project, values)
    assert (project / "params.yaml").read_text(encoding="utf-8") == PARAMS
