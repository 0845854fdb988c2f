from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import load_params
from {{ cookiecutter.package_name }}.errors import ConfigError

PROJECT = Path(__file__).resolve().parents[1]


def write_params(tmp_path: Path, change) -> Path:
    raw = yaml.safe_load((PROJECT / "params.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_project_params_load():
    params = load_params(PROJECT / "params.yaml")
    assert params.train.models.enabled()


def test_unknown_key_is_refused_with_its_name(tmp_path):
    path = write_params(tmp_path, lambda p: p["train"]["models"]["xgboost"].update(n_trees=5))
    with pytest.raises(ConfigError, match=r"train\.models\.xgboost\.n_trees: unknown key"):
        load_params(path)


def test_bad_value_is_refused_with_its_name(tmp_path):
    path = write_params(tmp_path, lambda p: p["split"].update(test_size=1.5))
    with pytest.raises(ConfigError, match=r"split\.test_size"):
        load_params(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_params(tmp_path / "nope.yaml")
