"""Stage `split`: hold out a test set that training and tuning never see."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd
from sklearn.model_selection import train_test_split

from . import cli
from .config import load_params
from .schema import Schema
from .tables import write_parquet

log = logging.getLogger(__name__)


def split(
    frame: pd.DataFrame, schema: Schema, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Stratified on the target for classification, random for regression."""
    stratify = None
    if schema.problem_type != "regression":
        counts = frame[schema.target].value_counts()
        if counts.min() < 2:
            raise cli.StageError(
                f"column {schema.target!r}: class {counts.idxmin()!r} has a single row; "
                "every class needs at least two to split"
            )
        stratify = frame[schema.target]
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=stratify)
    return train.reset_index(drop=True), test.reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    train, test = split(
        pd.read_parquet(args.data), Schema.load(args.schema), params.split.test_size, params.seed
    )
    log.info("train: %d rows, test: %d rows", len(train), len(test))
    write_parquet(train, args.train)
    write_parquet(test, args.test)


if __name__ == "__main__":
    cli.run(main)
