"""A rich progress display for `train`: one line per model family, its trials and best score."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class TrainingProgress:
    """One line per family: trials run (stopped early), best CV score, and why it stopped."""

    def __init__(self, metric: str) -> None:
        self._metric = metric
        self._tasks: dict[str, Any] = {}
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=False,
        )

    def __enter__(self) -> TrainingProgress:
        self._progress.start()
        return self

    def __exit__(
        self, kind: type | None, value: BaseException | None, trace: TracebackType | None
    ) -> None:
        for task in self._tasks.values():
            self._progress.update(task, total=1, completed=1)
        self._progress.stop()

    def update(self, arm: Any) -> None:
        """Show a family's state after a trial (`arm` is a `schedule.Arm`)."""
        text = f"{arm.family:<14} {arm.trials:>3} trials ({arm.pruned} stopped early)"
        if arm.best is not None:
            text += f", best CV {self._metric} {arm.score(self._metric):.4f}"
        if arm.dropped:
            text += f"; {arm.dropped}"
        if arm.family not in self._tasks:
            self._tasks[arm.family] = self._progress.add_task(text, total=None)
        self._progress.update(self._tasks[arm.family], description=text)
