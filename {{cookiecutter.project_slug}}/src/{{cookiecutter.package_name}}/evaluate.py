"""Stage `evaluate`: score the champion on the held-out test split and explain it.

Writes reports/metrics.json (DVC metrics), the data behind the plots (for `dvc plots`), the
plots as PNG and the documents; the `register` stage attaches them to the champion's MLflow
run (this stage does not import MLflow). On a large table the diagnostics work on samples
(evaluate.sample_rows, evaluate.learning_curve_rows) and the report says so. The champion
is judged through the same path the API serves (`Predictor.predict_frame`); the test split
was not used to pick it, so its numbers are honest estimates.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .config import load_params
from .evaluation.analysis import analyse
from .evaluation.documents import write_documents
from .evaluation.figures import draw_figures
from .evaluation.plot_tables import plot_data
from .files import write_json, write_text
from .runner import run
from .serving.metadata import read_manifest
from .serving.predictor import Predictor

log = logging.getLogger(__name__)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--leaderboard", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--plots", type=Path, required=True, help="folder: data for dvc plots")
    parser.add_argument("--figures", type=Path, required=True, help="folder: PNG plots")
    parser.add_argument("--report", type=Path, required=True, help="the HTML report")
    parser.add_argument("--readme", type=Path, required=True, help="the Markdown write-up")
    parser.add_argument("--model-card", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()

    predictor = Predictor.load(args.model_dir)
    # The ONNX graph the API serves, when `export` made one: permutation importance scores
    # its shuffled copies with it, at about half the pipeline's cost per row.
    manifest = read_manifest(args.model_dir)
    onnx = manifest is not None and manifest.format == "onnx"
    served = Predictor.load(args.model_dir, runtime="onnx") if onnx else None
    train, test = pd.read_parquet(args.train), pd.read_parquet(args.test)
    board = pd.read_csv(args.leaderboard)
    source = params.data.source
    ev = analyse(
        predictor, train, test, board, params.evaluate, params.seed, source, args.model_dir, served
    )
    write_json(ev.metrics, args.metrics)
    for name, table in plot_data(ev).items():
        write_text(table.to_csv(index=False), args.plots / name)
    figures = draw_figures(ev, args.figures)
    write_documents(ev, figures, args.figures, args.report, args.readme, args.model_card)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in ev.metrics["test"].items())
    log.info("%s on the test split: %s", ev.metrics["champion"], shown)


if __name__ == "__main__":
    run(main)
