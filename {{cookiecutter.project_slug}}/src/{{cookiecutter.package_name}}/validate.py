"""Stage `validate`: check the raw table against schema.yaml and write the clean table."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from . import cli
from .schema import Schema, coerce_features
from .tables import write_parquet

log = logging.getLogger(__name__)


def check_columns(frame: pd.DataFrame, schema: Schema) -> list[str]:
    """Problems that stop the pipeline, one line per column and rule."""
    problems = []
    if schema.target not in frame.columns:
        problems.append(f"column {schema.target!r}: target column is missing")
    for name, spec in schema.columns.items():
        if name not in frame.columns:
            problems.append(f"column {name!r}: listed in the schema but missing from the table")
            continue
        if spec.kind == "numeric":
            raw = frame[name]
            parsed = pd.to_numeric(raw, errors="coerce")
            bad = raw[parsed.isna() & raw.notna()]
            if len(bad):
                examples = ", ".join(repr(v) for v in bad.unique()[:3])
                problems.append(f"column {name!r}: {len(bad)} values are not numbers ({examples})")
    return problems


def clean(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """Rows with a target, the schema's features typed for the model, the target last."""
    problems = check_columns(frame, schema)
    if problems:
        raise cli.StageError("the table does not match schema.yaml:\n  " + "\n  ".join(problems))
    labelled = frame[frame[schema.target].notna()]
    if len(labelled) < len(frame):
        log.warning("dropped %d rows with no target value", len(frame) - len(labelled))
    duplicates = int(labelled.duplicated().sum())
    if duplicates:
        log.warning("%d rows are exact duplicates of another row", duplicates)
    features = coerce_features(labelled, schema)
    features[schema.target] = labelled[schema.target]
    if schema.classes is not None:
        unknown = set(features[schema.target].unique()) - set(schema.classes)
        if unknown:
            raise cli.StageError(
                f"column {schema.target!r}: classes not listed in schema.yaml: {sorted(unknown)}"
            )
    return features.reset_index(drop=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--raw", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    schema = Schema.load(args.schema)
    frame = clean(pd.read_parquet(args.raw), schema)
    log.info("%d rows x %d features are valid", len(frame), len(schema.columns))
    write_parquet(frame, args.out)


if __name__ == "__main__":
    cli.run(main)
