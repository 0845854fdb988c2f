"""Stage `evaluate`: score the champion on the held-out test split and explain it.

Writes reports/metrics.json (DVC metrics), the data behind the plots (for `dvc plots`), the
plots as PNG and the documents (report.py), then logs the documents to the champion's MLflow
run. The champion is judged through the same path the API serves (`Predictor.predict_frame`);
the test split was not used to pick it, so its numbers are honest estimates.
"""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import TransformedTargetRegressor

from . import cli
from .config import Params, load_params
from .diagnostics import (
    Scored,
    dataset_summary,
    learning,
    model_importance,
    one_thread,
    permutation_importance,
    scored,
    segment_errors,
    truth,
)
from .metrics import (
    HEADLINE,
    baseline_output,
    bootstrap_interval,
    calibration_points,
    classification_metrics,
    curve_points,
    per_class_metrics,
    regression_metrics,
    score,
    threshold_sweep,
)
from .models import build_pipeline
from .predictor import Predictor, model_input
from .tables import write_json, write_text

log = logging.getLogger(__name__)

CANDIDATES_DIR = "candidates"  # models/candidates/<family>.joblib, when `train` saves them


@dataclass
class Evaluation:
    """Everything the plots and documents show; `metrics` is reports/metrics.json."""

    metrics: dict[str, Any]
    meta: dict[str, Any]
    champion: Scored
    candidates: dict[str, Scored]
    candidates_source: str
    permutation: pd.DataFrame
    model_importance: tuple[pd.DataFrame, str] | None
    segments: dict[str, Any] | None
    learning: pd.DataFrame
    dataset: dict[str, Any]
    leaderboard: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)


def uses_log_target(predictor: Predictor) -> bool:
    """A regression model fitted on log(target): its metrics are also given on that scale."""
    if predictor.meta.get("target_transform") == "log":
        return True
    steps = getattr(predictor.pipeline, "steps", None)
    return bool(steps) and isinstance(steps[-1][1], TransformedTargetRegressor)


def held_out_metrics(problem: str, result: Scored, log_scale: bool = False) -> dict[str, float]:
    if problem == "regression":
        return regression_metrics(result.y, result.output, log_scale)
    return classification_metrics(problem, result.y, result.output, result.y_pred)


def summary(predictor: Predictor, result: Scored) -> dict[str, Any]:
    """The champion's answers on the test split as the core of reports/metrics.json."""
    meta, problem = predictor.meta, predictor.meta["problem_type"]
    report: dict[str, Any] = {
        "champion": meta["champion"],
        "problem_type": problem,
        "primary_metric": meta.get("primary_metric"),
        "test_rows": len(result.y),
        "test": held_out_metrics(problem, result, uses_log_target(predictor)),
    }
    if problem == "binary":
        report["threshold"] = float(meta.get("threshold", 0.5))
        report["positive_class"] = meta.get("positive_class")
    if problem == "multiclass":
        report["per_class"] = per_class_metrics(result.y, result.y_pred, predictor.classes)
    return report


def evaluate(predictor: Predictor, test: pd.DataFrame) -> dict[str, Any]:
    """Held-out metrics of the champion, through the same path the API serves."""
    return summary(predictor, scored(predictor, test))


def intervals(
    problem: str, result: Scored, names: list[str], rounds: int, seed: int
) -> dict[str, dict[str, float]]:
    """95% bootstrap intervals of the named metrics over resamples of the test rows."""
    out = {}
    for name in names:

        def statistic(rows: np.ndarray, name: str = name) -> float:
            y_pred = None if result.y_pred is None else result.y_pred[rows]
            return score(problem, name, result.y[rows], result.output[rows], y_pred)

        found = bootstrap_interval(statistic, len(result.y), rounds, seed)
        if found:
            out[name] = {"low": found[0], "high": found[1]}
    return out


def candidate_models(
    predictor: Predictor, model_dir: Path, families: list[str], train: pd.DataFrame, params: Params
) -> tuple[dict[str, Any], str]:
    """The other compared families fitted on the training split, and where they came from.

    They are the pipelines `train` saved under models/candidates/ when it saves them;
    otherwise each is refitted here with its params.yaml settings."""
    meta = predictor.meta
    others = [family for family in families if family != meta["champion"]]
    saved = model_dir / CANDIDATES_DIR
    if saved.is_dir():
        found = {
            f: joblib.load(saved / f"{f}.joblib")
            for f in others
            if (saved / f"{f}.joblib").is_file()
        }
        return found, "as trained by the `train` stage"
    features = model_input(train, predictor.schema)
    y = truth(predictor, train)
    numeric, categorical = meta["features"]["numeric"], meta["features"]["categorical"]
    fitted = {}
    for family in others:
        cfg = getattr(params.train.models, family)
        pipeline = build_pipeline(
            family, cfg, meta["problem_type"], numeric, categorical, params.seed, params.train.fast
        )
        fitted[family] = one_thread(pipeline).fit(features, y)
    return fitted, "refitted on the training split with their params.yaml settings"


def score_pipeline(pipeline: Any, predictor: Predictor, test: pd.DataFrame) -> Scored:
    features = predictor.features(test)
    y = truth(predictor, test)
    if predictor.classes is None:
        return Scored(y, np.asarray(pipeline.predict(features), dtype=float))
    proba = pipeline.predict_proba(features)
    return Scored(y, proba, predictor.decide(proba))


def settings(params: Params) -> dict[str, Any]:
    """params.yaml's evaluate section; train.fast also shortens the slow parts for smoke runs."""
    chosen = params.evaluate.model_dump() | {"seed": params.seed}
    if params.train.fast:
        chosen["bootstrap_rounds"] = min(chosen["bootstrap_rounds"], 200)
        chosen["permutation_repeats"] = min(chosen["permutation_repeats"], 2)
        chosen["learning_curve_points"] = min(chosen["learning_curve_points"], 3)
        chosen["learning_curve_folds"] = 2
    return chosen


def analyse(
    predictor: Predictor,
    train: pd.DataFrame,
    test: pd.DataFrame,
    board: pd.DataFrame,
    params: Params,
    model_dir: Path,
) -> Evaluation:
    """The champion's metrics with intervals and baseline, the candidates, the diagnostics."""
    cfg, meta = settings(params), predictor.meta
    one_thread(predictor.pipeline)
    seed, problem, metric = params.seed, meta["problem_type"], meta["primary_metric"]
    headline = list(dict.fromkeys([metric, *HEADLINE[problem]]))
    champion = scored(predictor, test)
    metrics = summary(predictor, champion)
    rounds = cfg["bootstrap_rounds"]
    log.info("bootstrap intervals (%d resamples)", rounds)
    metrics["intervals"] = intervals(problem, champion, headline, rounds, seed)
    base_output, base_pred = baseline_output(
        problem, truth(predictor, train), len(test), len(predictor.classes or [])
    )
    naive = Scored(champion.y, base_output, base_pred)
    metrics["baseline"] = held_out_metrics(problem, naive, uses_log_target(predictor))

    families = [str(family) for family in board["model"]]
    log.info("scoring the other candidates on the test split")
    fitted, source = candidate_models(predictor, model_dir, families, train, params)
    candidates = {f: score_pipeline(p, predictor, test) for f, p in fitted.items()}
    metrics["candidates"] = {
        family: {m: v for m, v in held_out_metrics(problem, result).items() if m in headline}
        for family, result in candidates.items()
    }

    repeats = cfg["permutation_repeats"]
    log.info("permutation importance (%d repeats per column)", repeats)
    ranking = permutation_importance(predictor, test, metric, repeats, seed)
    points, folds = cfg["learning_curve_points"], cfg["learning_curve_folds"]
    log.info("learning curve (%d sizes, %d folds)", points, folds)
    curve = learning(predictor, train, metric, points, folds, seed)
    return Evaluation(
        metrics=metrics,
        meta=meta,
        champion=champion,
        candidates=candidates,
        candidates_source=source,
        permutation=ranking,
        model_importance=model_importance(predictor.pipeline),
        segments=segment_errors(predictor, test, champion, ranking, cfg["top_n"]),
        learning=curve,
        dataset=dataset_summary(predictor, train, test) | {"source": params.data.source},
        leaderboard=board,
        settings=cfg,
    )


def plot_data(ev: Evaluation) -> dict[str, pd.DataFrame]:
    """The champion's curves as tables, for `dvc plots show` and `dvc plots diff`."""
    result, classes = ev.champion, ev.meta.get("classes")
    tables = {
        "learning_curve.csv": ev.learning,
        "importance.csv": ev.permutation[["column", "importance"]],
    }
    if result.y_pred is None:
        tables["predictions.csv"] = pd.DataFrame(
            {"actual": result.y, "predicted": result.output, "residual": result.y - result.output}
        )
        return tables
    names = np.array([str(c) for c in classes], dtype=object)
    roc, pr = (
        curve_points("roc", result.y, result.output),
        curve_points("pr", result.y, result.output),
    )
    calibration = calibration_points(result.y, result.output)
    tables |= {
        "roc.csv": pd.DataFrame({"fpr": roc["fpr"], "tpr": roc["tpr"]}),
        "precision_recall.csv": pd.DataFrame(
            {"recall": pr["recall"], "precision": pr["precision"]}
        ),
        "confusion.csv": pd.DataFrame(
            {"actual": names[result.y], "predicted": names[result.y_pred]}
        ),
        "calibration.csv": pd.DataFrame(
            {"predicted": calibration["predicted"], "observed": calibration["observed"]}
        ),
    }
    if result.output.shape[1] == 2:
        sweep = threshold_sweep(result.y, result.output[:, 1])
        tables["threshold.csv"] = pd.DataFrame(sweep)
    return tables


def log_to_mlflow(run_id: str, paths: list[Path], experiment: str) -> None:
    """Attach the documents and figures to the champion's MLflow run."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from .tracking import setup_mlflow

    setup_mlflow(experiment)
    client = MlflowClient()
    try:
        for path in paths:
            if path.is_dir():
                client.log_artifacts(run_id, str(path), artifact_path=f"evaluation/{path.name}")
            else:
                client.log_artifact(run_id, str(path), artifact_path="evaluation")
    except MlflowException as exc:
        raise cli.StageError(
            f"MLflow run {run_id} (models/model.json) cannot take the report: {exc}; "
            "run `dvc repro -f train` to log a new one"
        ) from exc


def main() -> None:
    from .figures import draw_figures
    from .report import write_documents

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
    train, test = pd.read_parquet(args.train), pd.read_parquet(args.test)
    board = pd.read_csv(args.leaderboard)
    ev = analyse(predictor, train, test, board, params, args.model_dir)
    write_json(ev.metrics, args.metrics)
    for name, table in plot_data(ev).items():
        write_text(table.to_csv(index=False), args.plots / name)
    figures = draw_figures(ev, args.figures)
    write_documents(ev, figures, args.figures, args.report, args.readme, args.model_card)
    shown = ", ".join(f"{k} {v:.4f}" for k, v in ev.metrics["test"].items())
    log.info("%s on the test split: %s", ev.metrics["champion"], shown)

    run_id = (predictor.meta.get("mlflow") or {}).get("run_id")
    if run_id:
        documents = [args.report, args.readme, args.model_card, args.figures]
        log_to_mlflow(run_id, documents, params.mlflow.experiment)
        log.info("report logged to MLflow run %s", run_id)
    else:
        log.warning("the model was not logged to MLflow; the report stays in %s", args.report)


if __name__ == "__main__":
    cli.run(main)
