"""The evaluation: honest metrics with intervals and a baseline, diagnostics, documents."""

import json
import re
import warnings
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.evaluation import importance
from {{ cookiecutter.package_name }}.evaluation.analysis import analyse
from {{ cookiecutter.package_name }}.evaluation.bootstrap import (
    WEIGHTED,
    percentile_interval,
    resample_counts,
    resampled,
)
from {{ cookiecutter.package_name }}.evaluation.budget import learning_shape, plan
from {{ cookiecutter.package_name }}.evaluation.documents import write_documents
from {{ cookiecutter.package_name }}.evaluation.figures import draw_figures
from {{ cookiecutter.package_name }}.evaluation.importance import (
    metric_function,
    permutation_importance,
    seconds_per_row,
)
from {{ cookiecutter.package_name }}.evaluation.metrics import (
    better,
    classification_metrics,
    per_class_metrics,
    regression_metrics,
    score,
)
from {{ cookiecutter.package_name }}.evaluation.plot_tables import plot_data, thin
from {{ cookiecutter.package_name }}.evaluation.report_notes import (
    NEAR_PERFECT,
    NEAR_PERFECT_CLASSES,
)
from {{ cookiecutter.package_name }}.evaluation.report_text import context
from {{ cookiecutter.package_name }}.evaluation.wording import (
    fmt,
    method_notes,
    runner_up_note,
    temperature_note,
)


@pytest.fixture(scope="session")
def evaluation(predictor, splits, params, model_dir):
    """The full evaluation of the fixture model (fast setting), every family as a candidate."""
    families = list(params.train.models.enabled())
    metric = predictor.meta.primary_metric
    cv = predictor.meta.cv[metric]
    board = pd.DataFrame(
        {
            "model": families,
            f"{metric}_mean": cv.mean,
            f"{metric}_std": cv.std,
            "fit_seconds": 0.1,
        }
    )
    cfg, source = params.evaluate, params.data.source
    return analyse(predictor, splits[0], splits[1], board, cfg, params.seed, source, model_dir)


@pytest.fixture(scope="session")
def documents(evaluation, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    figures = draw_figures(evaluation, folder / "figures")
    paths = [folder / name for name in ("report.html", "README.md", "model_card.md")]
    write_documents(evaluation, figures, folder / "figures", *paths)
    return folder, figures


def test_a_learning_curve_of_one_size_is_no_figure_and_the_limitations_say_why(
    evaluation, tmp_path
):
    """A tiny table (96 rows, 7 classes) leaves one training size: sklearn's display cannot
    draw it, so there is no figure, and the report says there were too few rows."""
    one = replace(evaluation, learning=evaluation.learning.tail(1).reset_index(drop=True))
    figures = draw_figures(one, tmp_path / "figures")
    assert "learning_curve.png" not in {plot.file for plot in figures}
    assert not (tmp_path / "figures" / "learning_curve.png").exists()
    notes = context(one, figures)["limitations"]
    assert "Too few training rows to draw a learning curve." in notes


def test_metrics_file_holds_the_contract_keys_as_finite_numbers(evaluation):
    metrics = evaluation.metrics
    assert {"champion", "test", "intervals", "baseline", "candidates"} <= set(metrics)
    assert all(np.isfinite(value) for value in metrics["test"].values())
    json.dumps(metrics, allow_nan=False)  # DVC and MLflow read it: plain JSON, no NaN


def test_headline_metric_has_an_interval_around_a_plausible_range(evaluation):
    metric = evaluation.meta.primary_metric
    interval = evaluation.metrics["intervals"][metric]
    assert interval["low"] <= interval["high"]
    width = interval["high"] - interval["low"]
    assert interval["low"] - width <= evaluation.metrics["test"][metric] <= interval["high"] + width


def test_champion_beats_the_naive_baseline_on_its_primary_metric(evaluation):
    metric = evaluation.meta.primary_metric
    metrics = evaluation.metrics
    assert better(metric, metrics["test"][metric], metrics["baseline"][metric])


def test_every_other_enabled_family_is_scored_on_the_test_split(evaluation, params):
    others = set(params.train.models.enabled()) - {evaluation.metrics["champion"]}
    assert set(evaluation.metrics["candidates"]) == others


def test_permutation_importance_covers_every_original_column(evaluation, schema):
    assert set(evaluation.permutation["column"]) == set(schema.features)


def test_shuffles_scored_together_give_what_one_call_each_gives(predictor, splits, monkeypatch):
    test = splits[1].head(120)
    metric = predictor.meta.primary_metric
    together = permutation_importance(predictor, test, metric, repeats=2, seed=3)
    monkeypatch.setattr(importance, "CELLS_PER_CALL", 1)  # one shuffled copy per call
    alone = permutation_importance(predictor, test, metric, repeats=2, seed=3)
    pd.testing.assert_frame_equal(together, alone)
    assert together["importance"].abs().sum() > 0


@pytest.mark.parametrize(
    "problem, metric",
    [("binary", "roc_auc"), ("binary", "log_loss"), ("binary", "f1"), ("multiclass", "log_loss"),
     ("multiclass", "roc_auc"), ("regression", "rmse"), ("regression", "r2"),
     ("regression", "mape")],
)  # fmt: skip
def test_a_shuffle_is_scored_as_scikit_learn_scores_it(problem, metric):
    """Permutation importance's fast metric gives scikit-learn's value, for probabilities in
    float32 as the graph answers and for values in one column (the graph's regression)."""
    rng = np.random.default_rng(0)
    if problem == "regression":
        y = rng.lognormal(size=300)
        output, decide = (y * rng.lognormal(0, 0.2, size=300)).reshape(-1, 1), None
        expected = score(problem, metric, y, output.reshape(-1))
    else:
        k = 2 if problem == "binary" else 3
        y = rng.integers(0, k, 300)
        output = rng.dirichlet(np.ones(k), 300).astype(np.float32)

        def decide(proba):
            return proba.argmax(axis=1)

        expected = score(problem, metric, y, output, decide(output))
    got = metric_function(problem, metric, y, decide)(output)
    assert got == pytest.approx(expected, rel=1e-6)


def test_plot_data_tables_fit_the_problem_type(evaluation):
    tables = plot_data(evaluation)
    assert {"learning_curve.csv", "importance.csv"} <= set(tables)
    expected = "predictions.csv" if evaluation.champion.y_pred is None else "confusion.csv"
    assert expected in tables
    assert all(len(table) > 0 for table in tables.values())


def test_documents_embed_every_figure_and_leave_no_template_syntax(documents):
    folder, figures = documents
    html = (folder / "report.html").read_text(encoding="utf-8")
    assert html.count('src="data:image/png;base64,') == len(figures)
    readme = (folder / "README.md").read_text(encoding="utf-8")
    for plot in figures:
        assert (folder / "figures" / plot.file).stat().st_size > 5_000
        assert f"(figures/{plot.file})" in readme
    for name in ("report.html", "README.md", "model_card.md"):
        text = (folder / name).read_text(encoding="utf-8")
        assert "{" + "{" not in text and "{" + "%" not in text  # split: this file is rendered


def test_markdown_shows_the_numbers_of_the_metrics_file(documents, evaluation):
    readme = (documents[0] / "README.md").read_text(encoding="utf-8")
    for name, value in evaluation.metrics["test"].items():
        row = re.search(rf"^\| [^|]+ \| `{name}` \| ([^|]+) \|", readme, flags=re.MULTILINE)
        assert row is not None, name
        assert row.group(1).strip() == fmt(value)


def test_model_card_has_no_empty_section(documents):
    card = (documents[0] / "model_card.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", card, flags=re.MULTILINE)[1:]
    assert len(sections) >= 6
    assert all(len(section.split("\n", 1)[1].strip()) > 40 for section in sections)


def test_binary_metrics_include_threshold_and_probability_quality():
    y = np.array([0, 0, 1, 1, 1, 0])
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8], [0.7, 0.3], [0.8, 0.2]])
    scores = classification_metrics("binary", y, proba, (proba[:, 1] >= 0.5).astype(int))
    assert {"balanced_accuracy", "roc_auc", "pr_auc", "log_loss", "brier", "recall"} <= set(scores)
    assert scores["recall"] == pytest.approx(2 / 3)


def test_per_class_support_adds_up_to_the_rows():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    table = per_class_metrics(y, np.array([0, 1, 2, 1, 1, 0, 2]), ["a", "b", "c"])
    assert sum(row["support"] for row in table.values()) == len(y)
    assert table["b"]["recall"] == 1.0


def test_mape_is_left_out_where_a_true_value_is_zero():
    assert "mape" not in regression_metrics(np.array([0.0, 1.0, 2.0]), np.array([0.5, 1.0, 2.5]))
    assert "mape" in regression_metrics(np.array([1.0, 2.0]), np.array([1.5, 2.0]))


def test_float32_probabilities_score_without_a_warning_and_as_in_float64():
    """A model's float32 rows sum to 1 within 1e-7 only: no "do not sum to one" warning."""
    rng = np.random.default_rng(0)
    exact = rng.dirichlet(np.ones(3), 500)
    y = rng.integers(0, 3, 500)
    answers = exact.astype(np.float32).astype(np.float64)  # as a float32 model's, stacked
    assert not np.allclose(answers.sum(axis=1), 1.0, rtol=1e-8, atol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = score("multiclass", "log_loss", y, answers, answers.argmax(axis=1))
    assert value == pytest.approx(score("multiclass", "log_loss", y, exact, None), rel=1e-6)


def test_log_scale_metrics_appear_for_a_log_target_model():
    truth, predicted = np.array([10.0, 100.0, 1000.0]), np.array([12.0, 90.0, 1100.0])
    scores = regression_metrics(truth, predicted, log_scale=True)
    assert {"rmse_log", "mae_log", "r2_log"} <= set(scores)


def test_bootstrap_interval_covers_the_true_mean():
    values = np.random.default_rng(0).normal(5.0, 1.0, 400)
    y = np.zeros(400)
    draws = [
        resampled("regression", "mae", c, y, -values, None) for c in resample_counts(400, 300, 1)
    ]
    low, high = percentile_interval(np.concatenate(draws))
    assert low < 5.0 < high
    assert high - low < 0.5


@pytest.mark.parametrize(("problem", "name"), sorted(WEIGHTED))
def test_every_resample_at_once_gives_scikit_learns_value(problem, name):
    """The weighted forms against score() on the drawn rows, with tied scores and a rare class."""
    rng = np.random.default_rng(7)
    n, k = 300, 2 if problem == "binary" else 3
    y = (rng.random(n) < 0.15).astype(int) if problem == "binary" else rng.integers(0, k, n)
    proba = rng.dirichlet(np.ones(k), n).round(2)  # rounding makes ties
    proba = proba / proba.sum(axis=1, keepdims=True)
    y_pred = proba.argmax(axis=1)
    output = proba
    if problem == "regression":
        y, output, y_pred = rng.lognormal(3, 1, n), rng.lognormal(3, 1, n).round(), None
    counts = next(resample_counts(n, 25, seed=3))
    fast = resampled(problem, name, counts, y, output, y_pred)
    for drawn, value in zip(counts.astype(int), fast, strict=True):
        rows = np.repeat(np.arange(n), drawn)
        sub_pred = None if y_pred is None else y_pred[rows]
        expected = score(problem, name, y[rows], output[rows], sub_pred)
        assert value == pytest.approx(expected, rel=1e-9, abs=1e-12), (name, value, expected)


def test_resamples_come_in_blocks_of_flat_memory():
    blocks = list(resample_counts(1_000_000, 5, seed=0))
    assert [len(b) for b in blocks] == [2, 2, 1]
    assert all(b.sum(axis=1).tolist() == [1_000_000] * len(b) for b in blocks)


def test_the_budget_samples_only_past_its_row_counts(params):
    cfg = params.evaluate.model_copy(
        update={"bootstrap_rounds": 1000, "permutation_repeats": 5, "sample_rows": 10_000}
    )
    small = plan(cfg, test_rows=2_000, train_rows=8_000)
    assert (small.bootstrap_rounds, small.permutation_repeats, small.sampled) == (1000, 5, False)
    large = plan(cfg, test_rows=200_000, train_rows=800_000)
    assert large.permutation_rows == 10_000 and large.permutation_repeats == 2
    assert large.bootstrap_rounds == 200  # 1000 x 10,000 / 200,000 = 50, raised to the floor
    assert large.learning_rows == cfg.learning_curve_rows and large.sampled
    wide = plan(cfg, test_rows=600, train_rows=2_400, columns=80)  # 240,000 shuffled rows
    assert (wide.permutation_repeats, wide.permutation_rows) == (3, 600)
    wider = plan(cfg, test_rows=5_000, train_rows=20_000, columns=85)
    assert wider.permutation_repeats == 2 and wider.permutation_rows == 150_000 // (2 * 85)
    assert wider.sampled


def test_the_learning_curve_is_cut_to_its_seconds(params):
    cfg = params.evaluate.model_copy(
        update={"learning_curve_points": 5, "learning_curve_folds": 3, "learning_curve_seconds": 10}
    )
    # About refit x (folds - 1) x sizes / 4 seconds: 2.5 s, then 12.5 s (6.25 s on 2 folds).
    assert learning_shape(cfg, refit_seconds=1.0) == (5, 3)
    assert learning_shape(cfg, refit_seconds=5.0) == (5, 2)
    assert learning_shape(cfg, refit_seconds=12.0) == (3, 2)  # 15, 12, then 9 s
    assert learning_shape(cfg, refit_seconds=100.0) == (3, 2)  # never below a bend on 2 folds
    # The refit time scales to the rows the curve may use (learning_curve_rows).
    large = plan(cfg, test_rows=5_000, train_rows=40_000, refit_seconds=10.0)
    assert large.learning_rows == cfg.learning_curve_rows == 20_000
    assert (large.learning_points, large.learning_folds) == (5, 2)  # 5 s for 20,000 rows
    said = " ".join(method_notes(large, cfg))
    assert "5 sizes and 2 folds (of the 5 and 3 set)" in said
    assert "sizes and" not in " ".join(method_notes(plan(cfg, 600, 2_400, 1, 1.0), cfg))


def test_permutation_importance_is_cut_to_its_seconds(params, predictor, splits):
    cfg = params.evaluate.model_copy(update={"permutation_repeats": 5, "permutation_seconds": 10})
    # pd_speech: 51 test rows, 751 columns, a served model at 0.4 ms a row (two calls at a
    # time: 7.7 s a shuffle of every column); its 3 shuffles (PERMUTED_ROWS) cut to 2.
    assert plan(cfg, 51, 201, 751, row_seconds=0.0).permutation_repeats == 3
    slow = plan(cfg, 51, 201, 751, row_seconds=4e-4)
    assert slow.permutation_repeats == 2
    assert "would outlast evaluate.permutation_seconds" in " ".join(method_notes(slow, cfg))
    # A Telco-sized split scored at 10 us a row keeps every shuffle.
    assert plan(cfg, 1_409, 5_634, 19, row_seconds=1e-5).permutation_repeats == 5
    assert 0 < seconds_per_row(predictor, splits[1]) < 0.01


def test_a_large_split_is_sampled_and_the_report_says_so(
    evaluation, predictor, splits, params, model_dir
):
    train, test = splits
    cfg = evaluation.settings.model_copy(
        update={"sample_rows": len(test) // 2, "learning_curve_rows": len(train) // 2}
    )
    board, source = evaluation.leaderboard, params.data.source
    ev = analyse(predictor, train, test, board, cfg, params.seed, source, model_dir)
    assert ev.budget.permutation_rows == len(test) // 2 and ev.budget.sampled
    # The headline metrics still use every test row; only the diagnostics sample.
    assert ev.metrics["test"] == evaluation.metrics["test"]
    assert ev.metrics["test_rows"] == len(test)
    assert ev.learning["train_size"].max() < len(train) // 2
    said = " ".join(method_notes(ev.budget, cfg))
    assert f"a random sample of {len(test) // 2:,} of the test rows" in said
    assert f"a random sample of {len(train) // 2:,} of the {len(train):,} training rows" in said
    unsampled = " ".join(method_notes(evaluation.budget, cfg))
    assert "random sample" not in unsampled


def test_plot_tables_keep_evenly_spaced_rows_with_both_ends():
    table = pd.DataFrame({"x": np.arange(10_001)})
    thinned = thin(table, 2_000)
    assert len(thinned) == 2_000 and thinned["x"].is_monotonic_increasing
    assert (thinned["x"].iloc[0], thinned["x"].iloc[-1]) == (0, 10_000)
    assert len(thin(table.head(50), 2_000)) == 50


def test_a_blend_member_named_by_its_rank_is_explained_once():
    note = runner_up_note("lightgbm 0.33 + extra_trees_2 0.67")
    assert note == " (extra_trees_2: the second-best extra_trees trial, refitted on every row)"
    assert runner_up_note("random_forest 0.50 + extra_trees 0.50") == ""


def test_a_tempered_champion_is_explained_in_the_notes(evaluation):
    untempered = replace(evaluation, meta=evaluation.meta.model_copy(update={"temperature": None}))
    tempered = replace(evaluation, meta=evaluation.meta.model_copy(update={"temperature": 0.8}))
    assert temperature_note(None) is None
    assert temperature_note(0.8) in context(tempered, [])["notes"]
    assert not any("tempered" in note for note in context(untempered, [])["notes"])
    assert ("Probability temperature", "0.80") in context(tempered, [])["choices"]
    assert "Probability temperature" not in dict(context(untempered, [])["choices"])
    update = {"temperature": 0.9, "class_shift": [0.0, -2.5]}
    shifted = replace(evaluation, meta=evaluation.meta.model_copy(update=update))
    note = temperature_note(0.9, [0.0, -2.5])
    assert note in context(shifted, [])["notes"] and "+0.00, -2.50" in note
    assert ("Class shift", "+0.00, -2.50") in context(shifted, [])["choices"]
    assert "Class shift" not in dict(context(tempered, [])["choices"])


def test_a_family_that_could_not_learn_the_table_is_named_in_the_notes(evaluation):
    """An enabled family missing from the leaderboard because every fit of it failed is
    named, not silently absent."""
    failed = evaluation.meta.model_copy(update={"failed_families": ["linear"]})
    said = context(replace(evaluation, meta=failed), [])["notes"]
    assert any(note.startswith("No fit of linear succeeded on this table") for note in said)
    assert not any("No fit of" in note for note in context(evaluation, [])["notes"])


def test_a_near_perfect_test_score_asks_for_a_leakage_check(evaluation):
    """A test score at NEAR_PERFECT (a target made up of other columns) is named in the
    limitations as a possible leak; the fixture model's own score is not."""
    name, _ = NEAR_PERFECT.get(evaluation.meta.problem_type, NEAR_PERFECT_CLASSES)
    test = evaluation.metrics["test"] | {name: 1.0}
    leaky = replace(evaluation, metrics=evaluation.metrics | {"test": test})
    said = context(leaky, [])["limitations"]
    assert any(re.match(r"The test .+ \(1\.0+\) is near perfect", note) for note in said)
    assert evaluation.metrics["test"][name] < 0.999
    assert not any("near perfect" in note for note in context(evaluation, [])["limitations"])


def test_a_champion_answering_with_its_fold_mean_is_explained_in_the_notes(evaluation):
    averaged = evaluation.meta.model_copy(update={"fold_means": {"linear": 5}})
    said = context(replace(evaluation, meta=averaged), [])["notes"]
    assert any(note.startswith("Averaged over its folds: linear (5 fits)") for note in said)
    single = replace(evaluation, meta=evaluation.meta.model_copy(update={"fold_means": {}}))
    assert not any("Averaged over" in note for note in context(single, [])["notes"])
