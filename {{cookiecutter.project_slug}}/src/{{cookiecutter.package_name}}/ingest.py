"""Stage `ingest`: bring the source table under data/ and infer schema.yaml on first run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .config import load_params
from .data.inference import infer_schema
from .data.schema import Schema
from .data.sources import read_source
from .errors import StageError
from .files import write_parquet
from .runner import run

log = logging.getLogger(__name__)
GROUP_REASON = "group column of the split, not a feature"


def ingest(source: str) -> pd.DataFrame:
    """The raw table as read from its source; column names are kept exactly."""
    frame = read_source(source)
    frame.columns = [str(name) for name in frame.columns]
    duplicated = frame.columns[frame.columns.duplicated()].tolist()
    if duplicated:
        raise StageError(f"{source}: duplicated column names: {', '.join(duplicated)}")
    return frame


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    source, target, group = params.data.source, params.data.target, params.split.group_column
    frame = ingest(source)
    log.info("read %d rows x %d columns from %s", *frame.shape, source)
    columns = ", ".join(map(repr, frame.columns))
    if target not in frame.columns:
        raise StageError(f"{source}: target column {target!r} is not in the table ({columns})")
    if group and group not in frame.columns:
        raise StageError(f"split.group_column: {group!r} is not a column of {source}")
    exclude = {group: GROUP_REASON} if group else {}
    if args.schema.exists():
        schema = Schema.load(args.schema)
        if schema.target != target:
            raise StageError(
                f"{args.schema}: its target is {schema.target!r} but params.yaml says {target!r}; "
                f"delete {args.schema} to infer it again for the new target"
            )
        if group and group in schema.columns:  # the split's groups must not be a feature
            del schema.columns[group]
            schema.dropped[group] = GROUP_REASON
            schema.save(args.schema)
            log.info("moved %r from the features to `dropped` in %s", group, args.schema)
        log.info("keeping %s (delete it to infer it again)", args.schema)
    else:
        schema = infer_schema(frame, target, params.data.problem_type, exclude)
        for name, reason in schema.dropped.items():
            log.info("dropping column %r: %s", name, reason)
        schema.save(args.schema)
        log.info("inferred %s: %s problem", args.schema, schema.problem_type)
    write_parquet(frame, args.out)


if __name__ == "__main__":
    run(main)
