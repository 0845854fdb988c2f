"""What every stage's entry point shares: one logging set-up and one way to fail."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


class StageError(RuntimeError):
    """A problem the user must fix; its message names the file, column or option."""


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    for noisy in ("alembic", "mlflow", "urllib3", "git"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def run(main: Callable[[], None]) -> None:
    """Run a stage's main(); known problems end it with one clear line and exit code 1."""
    from .config import ConfigError

    setup_logging()
    try:
        main()
    except (StageError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
