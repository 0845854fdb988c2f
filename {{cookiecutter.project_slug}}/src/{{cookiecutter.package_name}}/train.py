"""Stage `train`: tune and cross-validate every enabled family, refit the best, track it."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import pandas as pd

from .config import TrainParams, load_params
from .data.schema import Schema
from .files import write_text
from .runner import run
from .tracking.process import TrackingProcess
from .tracking.runs import Training
from .tracking.server import preflight, tracking_uri
from .training.budget import process_age
from .training.leaderboard import Candidate, leaderboard, leaderboard_markdown
from .training.trainer import save_candidates, train
from .training.workers import plan_for

log = logging.getLogger(__name__)


def search_note(
    settings: TrainParams, candidates: list[Candidate], rows: int, failed: list[str]
) -> str:
    """How the leaderboard's scores were found, for its header."""
    note = f"{settings.cv_folds} folds" + (", fast setting" if settings.fast else "")
    if rows > settings.search.max_rows:
        note += f", on a sample of about {settings.search.max_rows:,} of {rows:,} rows"
    if settings.search.enabled:
        trials = sum(0 if c.trials is None else len(c.trials) for c in candidates)
        budget = settings.search.n_trials
        budget_text = f"{budget} trials" if budget else f"{settings.time_budget_seconds:g} s"
        note += f", {trials} search trials on a budget of {budget_text}"
    if failed:
        note += f"; no fit of {', '.join(failed)} succeeded (the train stage's log names the error)"
    return note


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--schema", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--leaderboard", type=Path, required=True)
    args = parser.parse_args()
    params = load_params()
    preflight(tracking_uri())  # before the search, not after it: MLflow must take its runs
    with TrackingProcess(params.mlflow.experiment) as tracking:  # sets up while we search
        schema = Schema.load(args.schema)
        frame = pd.read_parquet(args.train)
        plan = plan_for(params.train, args.train, args.schema)
        predictor, candidates = train(
            frame, schema, params.train, params.data, params.split, params.seed,
            params.project, plan,
        )  # fmt: skip
        metric = predictor.meta.primary_metric
        board = leaderboard(candidates, metric)
        note = search_note(params.train, candidates, len(frame), predictor.meta.failed_families)
        markdown = leaderboard_markdown(board, metric, note)
        logged = {"seed": params.seed, "data": params.data.model_dump()}
        logged["train"] = params.train.model_dump(exclude={"models"})
        started = time.perf_counter()
        training = Training(logged, frame, candidates, predictor.meta.champion, board, args.train)
        predictor.meta.mlflow = tracking.log_training(training)
        log.info("logged to MLflow in %.1f s (run %s)", time.perf_counter() - started,
                 predictor.meta.mlflow.run_id)  # fmt: skip
    predictor.save(args.model_dir)
    save_candidates(candidates, args.model_dir / "candidates")
    write_text(board.to_csv(index=False), args.leaderboard)
    write_text(markdown, args.leaderboard.with_suffix(".md"))
    log.info("leaderboard:\n%s", board.to_string(index=False))
    budget = params.train.time_budget_seconds
    log.info("the train stage took %.1f s (train.time_budget_seconds: %g)", process_age(), budget)


if __name__ == "__main__":
    run(main)
