"""Stage `ingest`: bring the source table under data/ and infer schema.yaml on first run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from . import cli
from .config import load_params
from .schema import infer_schema
from .tables import read_source, write_parquet

log = logging.getLogger(__name__)


def ingest(source: str) -> pd.DataFrame:
    """The raw table as read from its source; column names are kept exactly."""
    frame = read_source(source)
    frame.columns = [str(name) for name in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise cli.StageError(f"{source}: duplicated column names: {', '.join(duplicated)}")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    frame = ingest(params.data.source)
    log.info("read %d rows x %d columns from %s", *frame.shape, params.data.source)
    if args.schema.exists():
        log.info("keeping %s (delete it to infer it again)", args.schema)
    else:
        group = params.split.group_column
        if group and group not in frame.columns:
            raise cli.StageError(f"split.group_column: {group!r} is not a column of the table")
        exclude = {group: "group column of the split, not a feature"} if group else {}
        schema = infer_schema(frame, params.data.target, params.data.problem_type, exclude)
        for name, reason in schema.dropped.items():
            log.info("dropping column %r: %s", name, reason)
        schema.save(args.schema)
        log.info("inferred %s: %s problem", args.schema, schema.problem_type)
    write_parquet(frame, args.out)


if __name__ == "__main__":
    cli.run(main)
