"""reports/monitoring/: summary.json and report.html (self-contained: plots embedded), written
only once every number is known, so a failed run leaves the previous report as it was."""

from __future__ import annotations

import base64
import tempfile
from pathlib import Path
from typing import Any

from ..evaluation.documents import environment
from ..evaluation.metrics import LABELS
from ..files import write_json, write_text
from .check import Monitoring
from .figures import draw

TEMPLATES = Path(__file__).parent / "templates"
SUMMARY, REPORT = "summary.json", "report.html"
HEADLINES = {
    "ok": "No drift beyond the thresholds{performance}.",
    "drift": "Drift: {columns} moved beyond the thresholds{performance}.",
    "degraded": "Degraded: the model does worse on the true outcomes than on the test split.",
}


def _headline(result: Monitoring) -> str:
    moved = [f"`{j.drift.name}`" for j in result.features if j.crossed]
    if result.prediction.crossed:
        moved.append("the predictions")
    if len(moved) > 5:
        moved = [*moved[:5], f"{len(moved) - 5} more"]
    shown = ", ".join(moved[:-1]) + f" and {moved[-1]}" if len(moved) > 1 else "".join(moved)
    performance = ", and the performance holds" if result.performance is not None else ""
    return HEADLINES[result.verdict].format(columns=shown or "nothing", performance=performance)


def _metrics(result: Monitoring) -> list[dict[str, str]]:
    perf = result.performance
    if perf is None:
        return []
    rows = []
    for key, value in perf.metrics.items():
        now, test = perf.intervals.get(key), perf.test_intervals.get(key)
        rows.append({
            "name": LABELS.get(key, key), "key": key, "now": f"{value:.4f}",
            "interval": f"{now['low']:.4f} to {now['high']:.4f}" if now else "",
            "test": f"{perf.test[key]:.4f}" if key in perf.test else "",
            "test_interval": f"{test['low']:.4f} to {test['high']:.4f}" if test else "",
        })  # fmt: skip
    return rows


def context(result: Monitoring, project: str) -> dict[str, Any]:
    return {
        "project": project,
        "result": result,
        "headline": _headline(result),
        "metrics": _metrics(result),
        "columns": [result.prediction, *result.features],
    }


def write_report(result: Monitoring, project: str, folder: Path) -> None:
    """Draw the plots, then write report.html and summary.json into folder."""
    with tempfile.TemporaryDirectory() as tmp:
        plots = draw(result, Path(tmp))
        images = {
            p.file: base64.b64encode((Path(tmp) / p.file).read_bytes()).decode("ascii")
            for p in plots
        }
    page = environment(TEMPLATES).get_template("report.html.j2")
    write_text(page.render(context(result, project), plots=plots, images=images), folder / REPORT)
    write_json(result.summary(), folder / SUMMARY)
