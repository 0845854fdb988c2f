"""A rich progress display for `train`: which family is training, how far its search is."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)


class TrainingProgress:
    """One line per model family: a bar over its Optuna trials, then its cross-validation."""

    def __init__(self) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
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
        self._progress.stop()

    @contextmanager
    def family(self, name: str, trials: int) -> Iterator[Callable[[], None]]:
        """Track one family; call the yielded function after each search trial."""
        steps = trials + 1  # the trials, then the final cross-validation
        label = f"{name}: search" if trials else f"{name}: cross-validation"
        task = self._progress.add_task(label, total=steps)

        def tick() -> None:
            self._progress.advance(task)

        yield tick
        self._progress.update(task, description=f"{name}: done", completed=steps)
