"""Stage `validate`: check the raw table against schema.yaml (pandera) and write the clean table."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .config import load_params
from .data.contract import clean
from .data.leakage import leaky_columns
from .data.profile import profile, write_profile
from .data.schema import Schema
from .errors import StageError
from .files import write_parquet
from .runner import run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", type=Path, required=True, help="folder for the data profile")
    args = parser.parse_args()
    params = load_params()
    schema = Schema.load(args.schema)

    raw = pd.read_parquet(args.raw)
    keep = [params.split.group_column] if params.split.group_column else []
    frame = clean(raw, schema, keep)
    duplicates = int(frame.duplicated().sum())
    if duplicates:
        log.warning("%d rows are exact duplicates of an earlier row", duplicates)
    leaks = leaky_columns(frame, schema)
    for name, score in leaks.items():
        log.warning("column %r alone predicts the target (%.3f): possible leakage", name, score)
    if leaks and params.validation.leakage == "fail":
        names = ", ".join(repr(n) for n in leaks)
        raise StageError(
            f"columns {names} alone predict the target almost perfectly; drop them in schema.yaml "
            "(move them under `dropped:`) or set validate.leakage: warn"
        )
    report = profile(raw, frame, schema, duplicates, leaks)
    write_profile(report, frame, schema, args.profile)
    log.info("%d rows x %d features are valid", len(frame), len(schema.columns))
    write_parquet(frame, args.out)


if __name__ == "__main__":
    run(main)
