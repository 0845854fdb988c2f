"""Fixtures for the template tests: bakes and trained projects (scripts/baking.py), data files.

`make test` runs the tests on every core with pytest-xdist (`--dist loadgroup`). A fixture
shared by several tests is built once per worker, so the tests that share one are kept on one
worker: those of a trained demo project by the hook below, those of a module-scoped project by
the module's own `xdist_group` mark. The heaviest groups are put first, so that the quick tests
fill the gaps at the end.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Callable
from pathlib import Path
from typing import Any

import baking
import pytest
import services
from _pytest.nodeid import coerce_node_id  # see name_groups

# A small customer table with the awkward parts real exports have: a BOM, spaces,
# symbols and non-ASCII letters in column names, commas and quotes inside values,
# and missing values. The target is "Kündigt?".
CHURN_COLUMNS = [
    "Kunden-ID",
    "Monthly Charges ($)",
    "Tenure (months)",
    "Contract",
    "Notes, free text",
    "Kündigt?",
]
CONTRACTS = ["Month-to-month", "One year", "Two year", ""]


def churn_rows(count: int = 40) -> list[list[str]]:
    rows = []
    for i in range(count):
        charge = "" if i % 7 == 3 else f"{20 + (i * 37) % 90}.{i % 100:02d}"
        tenure = "" if i % 11 == 5 else str((i * 13) % 72)
        note = ['said "too expensive"', "moved, new address", "", "Grüße aus Köln"][i % 4]
        churned = "ja" if (i * 7) % 5 < 2 else "nein"
        rows.append([f"C-{i:04d}", charge, tenure, CONTRACTS[i % 4], note, churned])
    return rows


def write_churn_csv(path: Path, opener: Callable[..., Any] = open) -> Path:
    """Write the churn table as UTF-8 with a byte-order mark, as spreadsheet tools do."""
    with opener(path, "wt", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CHURN_COLUMNS)
        writer.writerows(churn_rows())
    return path


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session-wide folder for data files the tests make."""
    return tmp_path_factory.mktemp("data")


@pytest.fixture(scope="session")
def churn_csv(data_dir: Path) -> Path:
    """data_dir/'churn export.csv': the churn table (target column 'Kündigt?')."""
    return write_churn_csv(data_dir / "churn export.csv")


@pytest.fixture(scope="session")
def churn_csv_gz(data_dir: Path) -> Path:
    """The same table, gzip-compressed."""
    return write_churn_csv(data_dir / "churn.csv.gz", opener=gzip.open)


@pytest.fixture(scope="session")
def churn_parquet(data_dir: Path, churn_csv: Path) -> Path:
    """The same table as Parquet."""
    import pandas as pd

    path = data_dir / "churn.parquet"
    pd.read_csv(churn_csv, encoding="utf-8-sig").to_parquet(path)
    return path


@pytest.fixture
def baked_env() -> Callable[[Path], dict[str, str]]:
    """baked_env(project_dir) -> environment for running a baked project's commands."""
    return baking.project_env


@pytest.fixture
def bake(tmp_path: Path) -> Callable[..., Path]:
    """bake(**context) -> a project baked into tmp_path/out for this test alone."""

    def bake_project(**context: Any) -> Path:
        return baking.bake(tmp_path / "out", context)

    return bake_project


@pytest.fixture(scope="session")
def baked(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """baked(**context) -> a project baked once per session for that context.

    For tests that only read the baked tree; use `bake` for anything that changes it.
    """
    cache: dict[tuple, Path] = {}

    def bake_once(**context: Any) -> Path:
        key = tuple(sorted((name, str(value)) for name, value in context.items()))
        if key not in cache:
            cache[key] = baking.bake(tmp_path_factory.mktemp("baked"), context)
        return cache[key]

    return bake_once


@pytest.fixture(scope="session")
def postgres_server() -> Any:
    """A throwaway PostgreSQL cluster (trust authentication) on a loopback port, per worker:
    put the tests that use it in one xdist_group. Skips when PostgreSQL is not installed."""
    if services.postgres_bin() is None:
        pytest.skip(f"PostgreSQL is not installed under {services.POSTGRES_ROOT}")
    with services.postgres() as server:
        yield server


@pytest.fixture(scope="session")
def s3_server() -> Any:
    """moto's S3-compatible server on a loopback port, per worker (an xdist_group, as above)."""
    with services.s3_server() as server:
        yield server


def synthetic_churn_csv(folder: Path, rows: int = 300) -> Path:
    """A synthetic binary table: yes/no target, IDs, a constant, padded categories, gaps."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(7)
    tenure = rng.integers(0, 72, rows).astype(float)
    plan = rng.choice(["Basic", " Premium", "basic ", "Family"], rows)
    charges = rng.gamma(3, 20, rows)
    risk = -0.04 * tenure + 0.02 * charges + (plan == "Family") * 0.5
    churned = np.where(risk + rng.normal(0, 0.8, rows) > 0.5, "yes", "no")
    frame = pd.DataFrame(
        {
            "customer id": [f"C{i:05d}" for i in range(rows)],
            "Tenure (months)": tenure,
            "Plan/Tier": plan,
            "Monthly €": charges.round(2),
            "country": "DE",
            "Churn?": churned,
        }
    )
    frame.loc[::9, "Monthly €"] = np.nan
    frame.loc[::13, "Plan/Tier"] = None
    path = folder / "churn export.csv"
    frame.to_csv(path, index=False)
    return path


def _train(folder: Path, context: dict[str, Any]) -> Path:
    """Bake a project into folder, switch on the fast setting, and run `dvc repro` once."""
    project = baking.bake(folder, context)
    baking.set_params(project, {"train.fast": True})
    baking.run(["dvc", "repro"], project, baking.project_env(project))
    return project


def _train_demo(factory: pytest.TempPathFactory, dataset: str) -> Path:
    return _train(factory.mktemp(f"trained-{dataset}"), {"dataset": dataset})


@pytest.fixture(scope="session")
def trained_telco(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Telco churn project trained once per session (fast setting). Read it; don't change it:
    copy it (shutil.copytree) first if a test must."""
    return _train_demo(tmp_path_factory, "telco_churn")


@pytest.fixture(scope="session")
def trained_ames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Ames house prices project trained once per session (fast setting). Read only."""
    return _train_demo(tmp_path_factory, "ames_housing")


@pytest.fixture(scope="session")
def trained_custom(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project of the user's own table (synthetic_churn_csv, target "Churn?") trained once per
    session (fast setting). Read only."""
    folder = tmp_path_factory.mktemp("trained-custom")
    source = synthetic_churn_csv(folder)
    context = {"project_name": "E2E custom_binary", "dataset": "custom", "target": "Churn?"}
    return _train(folder / "out", context | {"data_source": str(source)})


TRAINED = ("trained_telco", "trained_ames", "trained_custom")
# Modules whose tests start with the heaviest work: a trained demo, end to end, a training.
HEAVY_FIRST = ("test_e2e.py", "test_messy_table.py", "test_data_inputs.py")


def trained_fixture(item: pytest.Item) -> str | None:
    """The trained demo the test uses, by name or as a parameter naming it."""
    callspec = getattr(item, "callspec", None)
    used = set(item.fixturenames) | {str(v) for v in (callspec.params if callspec else {}).values()}
    return next((name for name in TRAINED if name in used), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        fixture = trained_fixture(item)
        if fixture and item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(fixture))
    if getattr(config.option, "loadgroup", False):  # an xdist worker under --dist loadgroup
        name_groups(items)

    def weight(item: pytest.Item) -> int:
        group = item.get_closest_marker("xdist_group")
        if group is not None and group.args and group.args[0] in TRAINED:
            return 0
        name = item.path.name
        return 1 + HEAVY_FIRST.index(name) if name in HEAVY_FIRST else len(HEAVY_FIRST) + 1

    items.sort(key=weight)


def name_groups(items: list[pytest.Item]) -> None:
    """Append "@<group>" to each grouped test's node id, which is how `--dist loadgroup`
    tells the scheduler a test's group. pytest-xdist 3.8 writes it to a field pytest 9.2 no
    longer reads (pytest-xdist issue 1386), so every group was silently ignored: each worker
    trained its own demo projects. A release that fixes it leaves nothing to do here."""
    for item in items:
        groups = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
        if groups and "@" not in item.nodeid.rsplit("]", 1)[-1]:
            item._id = coerce_node_id(f"{item.nodeid}@{'_'.join(groups)}")  # type: ignore[attr-defined]
