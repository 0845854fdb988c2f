"""What every stage's entry point shares: one logging set-up and one way to fail."""

from __future__ import annotations

import logging
import sys
import warnings
from collections.abc import Callable

from .errors import StageError

log = logging.getLogger(__name__)


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for noisy in ("alembic", "mlflow", "urllib3", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); known problems end it with one clear line and exit code 1."""
    setup_logging()
    # Quantile bins of a column with few distinct values (counts, 0/1 flags) or a spike at
    # zero collapse; scikit-learn drops the empty ones and says so on every fit, as expected.
    # A rare count can be constant on one fold's rows: its one bin is all zeros, as expected.
    for expected in ("Bins whose width are too small", r"Feature \d+ is constant"):
        warnings.filterwarnings("ignore", message=expected, category=UserWarning)
    try:
        main()
    except StageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
