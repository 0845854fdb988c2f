"""Stage `split`: hold out a test set that training and tuning never see."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .config import load_params
from .data.schema import Schema
from .data.splitting import split
from .files import write_parquet
from .runner import run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    frame = pd.read_parquet(args.data)
    train, test = split(frame, Schema.load(args.schema), params.split, params.seed)
    log.info("%s split: train %d rows, test %d rows", params.split.strategy, len(train), len(test))
    write_parquet(train, args.train)
    write_parquet(test, args.test)


if __name__ == "__main__":
    run(main)
