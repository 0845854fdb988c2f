"""MLflow for the train stage, in a low-priority process of its own.

MLflow's import and, on a project's first run, the creation of its database's tables take
several seconds of one core. Done in a thread of the train stage, they competed with the
search for its interpreter lock and its two cores: on Telco's 5,634 rows the search ran 11
trials in the time it ran 15 without them. In a process of its own, at the lowest priority,
they take a core only when the search leaves one idle (while folds wait on each other), and
the training is logged there too, from its results: the stage itself never imports MLflow.

The process (`python -m <package>.tracking.process EXPERIMENT FOLDER`) sets MLflow up, then
waits for its standard input to close; by then FOLDER holds the job (a pickle of
`runs.log_training`'s arguments), and it writes the outcome there: the runs' ids, or the
error the set-up or the logging raised, which the stage raises in turn.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StageError
from . import runs

if TYPE_CHECKING:
    from ..serving.metadata import TrackingInfo

LOWEST_PRIORITY = 19  # Unix niceness: a core only when nothing else of the user's wants it
JOB, OUTCOME = "job.pickle", "outcome.pickle"


class TrackingProcess:
    """Starts the tracking process, which sets MLflow up at once; `log_training` hands it the
    training and returns the runs' ids. A context manager: the process ends with the block,
    stopped if the stage failed."""

    def __init__(self, experiment: str) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="tracking-")
        command = [sys.executable, "-m", __name__, experiment, self._folder.name]
        self._process = subprocess.Popen(command, stdin=subprocess.PIPE)
        if hasattr(os, "setpriority"):
            os.setpriority(os.PRIO_PROCESS, self._process.pid, LOWEST_PRIORITY)

    def __enter__(self) -> TrackingProcess:
        return self

    def __exit__(self, *_: object) -> None:
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._folder.cleanup()

    def log_training(self, training: runs.Training) -> TrackingInfo:
        """`runs.log_training` in the tracking process: the runs' ids. It is handed what the
        runs record: the first rows, the candidates without their fitted models or answers."""
        candidates = [
            replace(c, pipeline=None, oof=None, blend=None, runners_up=[])
            for c in training.candidates
        ]
        job = replace(training, frame=training.frame.head(runs.SCHEMA_ROWS), candidates=candidates)
        Path(self._folder.name, JOB).write_bytes(pickle.dumps(job))
        self._process.stdin.close()  # the job is there
        code = self._process.wait()  # the stage now waits on it: both cores are its
        outcome = Path(self._folder.name, OUTCOME)
        if not outcome.exists():
            raise StageError(f"the MLflow process ended with code {code} before logging")
        result = pickle.loads(outcome.read_bytes())
        if isinstance(result, BaseException):
            raise result
        return result


def _serve(experiment: str, folder: Path) -> None:
    """The tracking process: set up, wait for the job, log it; the outcome in `folder`."""
    try:
        runs.setup_mlflow(experiment)
        from ..training import leaderboard  # noqa: F401  the job's candidates: imported now

        sys.stdin.read()  # returns when the stage closes it: the job is written
        result: object = runs.log_training(pickle.loads((folder / JOB).read_bytes()))
    except Exception as error:  # the stage raises it: StageError's one line, or the trace
        result = error
    try:
        outcome = pickle.dumps(result)
    except Exception:  # an error that does not pickle: its message
        outcome = pickle.dumps(StageError(f"MLflow: {result}"))
    (folder / OUTCOME).write_bytes(outcome)


if __name__ == "__main__":
    _serve(sys.argv[1], Path(sys.argv[2]))
