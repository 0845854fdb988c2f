"""Stage `export`: the champion pipeline as one ONNX graph, checked against scikit-learn.

The graph holds the fitted pipeline (imputers, encoders, scaler, model) and takes two
inputs: `numeric` (float32) and `categorical` (strings, "" for missing), one column per
pipeline input in the order models/serving/manifest.json lists. The text encoders' lookup is
then taken out of the graph into the manifest (`text_codes`): the served graph reads level
codes, often in one block with the numbers. What runs before it, schema coercion and
`features.add_features`, is the same Python code for both runtimes.

Parity is checked raw row in, answer out, on the test split (a sample of 20,000 rows of a
larger one: `onnx.parity.PARITY_ROWS`), on a perturbed copy (missing values, unseen and
oddly cased categories, numbers beyond the training range) and through the API's record
path: the largest difference in probabilities (classification) or relative difference in
predictions (regression: float32 carries 7 digits) must stay within 1e-5, else the stage
fails and writes nothing: a graph that answers differently is never served. A pipeline that
cannot be converted at all (a step no converter knows) is served by scikit-learn instead,
with a warning, and the manifest and reports/parity.json say why.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .files import write_json
from .onnx.bundle import export
from .runner import run

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="folder for the served model")
    parser.add_argument("--report", type=Path, required=True, help="parity report (JSON)")
    args = parser.parse_args()

    report = export(args.model_dir, pd.read_parquet(args.test), args.out)
    write_json(report, args.report)
    if report["runtime"] == "onnx":
        shown = ", ".join(f"{k} {v['max_difference']:.1e}" for k, v in report["checks"].items())
        log.info("exported %s to ONNX; parity (max difference): %s", args.out, shown)


if __name__ == "__main__":
    run(main)
