"""The plots: each writes a readable PNG, also with many classes and long names."""

import numpy as np
import pandas as pd
from matplotlib.colors import to_rgb
from matplotlib.image import imread

from {{ cookiecutter.package_name }}.evaluation import canvas, charts, error_charts
from {{ cookiecutter.package_name }}.evaluation.curves import calibration_points, curve_points


def pixels(path):
    image = imread(path)
    return image.shape[1], image.shape[0]


def share(path, color=None):
    """Share of the pixels clearly inked, or inked in this colour (at any opacity on white)."""
    ink = 1 - imread(path)[..., :3]  # 0 on white
    inked = ink.max(axis=-1) > 0.2
    if color is None:
        return float(inked.mean())
    tint = 1 - np.array(to_rgb(color))
    opacity = ink @ tint / (tint @ tint)
    return float((inked & (np.abs(ink - opacity[..., None] * tint).max(axis=-1) < 0.03)).mean())


def drawn_in_our_colours(path):
    """Something is drawn, much of it in the champion's colour and none in matplotlib's default
    blue (a scikit-learn Display's colour when our styling is lost)."""
    inked, ours, default = share(path), share(path, canvas.CHAMPION_COLOR), share(path, "tab:blue")
    return 0.01 < inked < 0.6 and ours > 0.1 * inked and default < 0.01 * inked


def test_confusion_matrix_with_many_long_class_names_stays_a_sane_size(tmp_path):
    classes = [f"a rather long class name number {i}" for i in range(40)]
    rng = np.random.default_rng(0)
    actual = rng.integers(0, 40, 2000)
    predicted = np.where(rng.random(2000) < 0.5, actual, rng.integers(0, 40, 2000))
    charts.confusion_matrix(actual, predicted, classes, "Confusion matrix", tmp_path / "cm.png")
    width, height = pixels(tmp_path / "cm.png")
    assert width <= 3000 and height <= 1600
    assert share(tmp_path / "cm.png") > 0.05


def test_confusion_matrix_keeps_classes_that_never_occur(tmp_path):
    actual, predicted = np.array([0, 0, 1, 1, 1]), np.array([0, 1, 1, 1, 0])
    charts.confusion_matrix(actual, predicted, ["a", "b", "never"], "CM", tmp_path / "cm.png")
    width, height = pixels(tmp_path / "cm.png")
    assert width > 1.8 * height  # two panels side by side
    assert share(tmp_path / "cm.png") > 0.1


def test_short_names_keep_their_start_and_mark_the_cut():
    assert canvas.short("x" * 50, 10) == "x" * 9 + "…"
    assert canvas.short("tenure") == "tenure"


def test_curves_draw_every_model_with_its_area(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    models = {}
    for name, noise in (("champion", 0.5), ("other", 1.5)):
        score = y + rng.normal(0, noise, 300)
        positive = 1 / (1 + np.exp(-score))
        models[name] = curve_points("roc", y, np.column_stack([1 - positive, positive]))
    charts.curves("roc", models, "champion", "ROC curves", tmp_path / "roc.png")
    assert models["champion"]["area"] > models["other"]["area"] > 0.5
    assert drawn_in_our_colours(tmp_path / "roc.png")


def test_multiclass_curves_are_micro_averaged_one_vs_rest(tmp_path):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 400)
    proba = rng.dirichlet([1, 1, 1, 1], 400) + 2 * np.eye(4)[y]
    proba /= proba.sum(axis=1, keepdims=True)
    points = curve_points("pr", y, proba)
    assert len(points["truth"]) == 4 * len(y) and points["prevalence"] == 0.25
    charts.curves("pr", {"champion": points}, "champion", "PR curves", tmp_path / "pr.png")
    assert drawn_in_our_colours(tmp_path / "pr.png")


def test_multiclass_calibration_uses_the_predicted_class(tmp_path):
    proba = np.random.default_rng(0).dirichlet([1, 1, 1], 200)
    points = calibration_points(proba.argmax(axis=1), proba)
    assert np.allclose(points["observed"], 1.0)  # every predicted class is right here
    charts.calibration(points, "Confidence", "Share right", "Calibration", tmp_path / "cal.png")
    assert drawn_in_our_colours(tmp_path / "cal.png")


def test_bars_with_notes_and_a_reference_line(tmp_path):
    names = [f"level {i}" for i in range(15)] + ["other (27 levels)"]
    values = np.linspace(0.4, 0.05, 16)
    charts.bars(
        names,
        values,
        "Error rate by plan",
        "Error rate",
        tmp_path / "bars.png",
        notes=[f"{n} rows" for n in range(16)],
        reference=(0.2, "overall 20%"),
        percent=True,
    )
    width, height = pixels(tmp_path / "bars.png")
    assert height > width / 2  # one readable row per bar, not squeezed


def test_regression_plots_take_large_quantities(tmp_path):
    rng = np.random.default_rng(0)
    actual = rng.gamma(4, 50_000, 300)
    predicted = actual * rng.normal(1, 0.1, 300)
    unit, residual = "price (USD)", actual - predicted
    error_charts.predicted_vs_actual(actual, predicted, unit, "Predicted", tmp_path / "pa.png")
    error_charts.residuals(predicted, residual, unit, "Residuals", tmp_path / "r.png")
    error_charts.residual_distribution(residual, unit, "Spread", tmp_path / "d.png")
    assert all(drawn_in_our_colours(tmp_path / name) for name in ("pa.png", "r.png", "d.png"))


def test_learning_curve_draws_bands(tmp_path):
    curve = pd.DataFrame(
        {
            "train_size": [100, 200, 400],
            "train_score": [0.95, 0.9, 0.88],
            "train_std": [0.01, 0.01, 0.01],
            "validation_score": [0.8, 0.83, 0.84],
            "validation_std": [0.02, 0.02, 0.01],
        }
    )
    charts.learning_curve(curve, "ROC AUC", "Learning curve", tmp_path / "lc.png")
    assert drawn_in_our_colours(tmp_path / "lc.png")
    assert share(tmp_path / "lc.png", canvas.OTHER_COLORS[0]) > 0.001  # the training line
