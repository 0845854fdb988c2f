"""Stage `ingest`: bring the source table under data/ and infer schema.yaml on first run."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from .config import load_params
from .data.inference import schema_for
from .data.sources import read_table
from .files import write_parquet
from .runner import run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    frame = read_table(params.data.source)
    log.info("read %d rows x %d columns from %s", *frame.shape, params.data.source)
    schema_for(frame, params.data, params.split.group_column, args.schema)
    write_parquet(frame, args.out)


if __name__ == "__main__":
    run(main)
