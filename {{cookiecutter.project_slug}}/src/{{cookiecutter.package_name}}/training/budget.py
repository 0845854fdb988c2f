"""What the search may spend: seconds of wall time, or a number of trials.

Time (`train.time_budget_seconds`) is what a user waits for: the whole train stage, from
the process's start (its imports and the data read) to its exit (the refits, saving and
logging to MLflow). How many trials fit in it depends on the machine and its load, so two
runs may pick different models. A trial count (`train.search.n_trials`) ignores the clock:
the same seed then gives the same model.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..config import TrainParams

# Part of the time budget left for what follows the refits: saving and logging to MLflow.
_TAIL_SHARE = 0.15
# At most this part of a time budget planned for one trial (forests size themselves to it).
TRIAL_SHARE = 0.2


def process_age() -> float:
    """Seconds since this process started (read from /proc on Linux; 0 where it cannot be)."""
    try:
        fields = Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()
        started = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of proc(5)
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    return max(0.0, uptime - started)


@dataclass
class Budget:
    seconds: float | None  # a time budget, or None when counting trials
    trials: int | None  # a trial budget, or None on a time budget
    started: float = field(default_factory=time.perf_counter)
    used: int = 0  # trials run
    reserve: float = 0.0  # seconds the refits of the candidates are expected to take

    @classmethod
    def of(cls, cfg: TrainParams) -> Budget:
        if not cfg.search.enabled:
            return cls(seconds=None, trials=0)  # the configured params of each family only
        if cfg.search.n_trials is not None:
            return cls(seconds=None, trials=cfg.search.n_trials)
        return cls(
            seconds=cfg.time_budget_seconds,
            trials=None,
            started=time.perf_counter() - process_age(),
        )

    @property
    def timed(self) -> bool:
        return self.seconds is not None

    def elapsed(self) -> float:
        """Seconds since the budget started (on a time budget, since the process started)."""
        return time.perf_counter() - self.started

    def left(self) -> float:
        """Seconds the search may still spend (infinite when counting trials)."""
        if self.seconds is None:
            return float("inf")
        return self.seconds * (1 - _TAIL_SHARE) - self.reserve - self.elapsed()

    def affords(self, expected_seconds: float) -> bool:
        """Whether one more trial, expected to take this long, fits."""
        if self.seconds is None:
            return self.used < (self.trials or 0)
        return self.left() >= expected_seconds

    def trial_seconds(self) -> float | None:
        """What one trial may plan to take: a share of a time budget, less when less is
        left; None on a trial budget, where nothing is sized to the clock."""
        if self.seconds is None:
            return None
        return max(0.0, min(TRIAL_SHARE * self.seconds, self.left()))

    def overrun(self) -> bool:
        """A time budget is spent (a trial under way stops at its next fold)."""
        return self.left() < 0

    def describe(self) -> str:
        if self.seconds is not None:
            return f"a time budget of {self.seconds:g} s"
        if self.trials:
            return f"{self.trials} trials"
        return "no search"
