"""How training and evaluation share the cores: two fits at a time in threads (folds of a
trial, refits, points of the learning curve), each fit on one thread.

The models are told so themselves (`n_jobs=1`, `training/families.py`); the numerical
libraries under scikit-learn are not: OpenBLAS starts a thread per core for every matrix
product, so two fits at once ran four busy threads on a 2-core machine. On a logistic
regression over 500 one-hot and binned columns (the `cells` table, 1,615 rows), five folds two
at a time took 7.8 s with BLAS's own threads and 2.4 s with one each, the same scores.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

FITS_AT_ONCE = 2  # one per core of the 2-core machine this was measured on


def one_blas_thread() -> Any:
    """A context manager: BLAS (OpenBLAS, MKL) on one thread in this process while it lasts."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


@contextmanager
def fit_pool(name: str, fits: int = FITS_AT_ONCE) -> Iterator[ThreadPoolExecutor]:
    """Threads that fit `fits` models at once (its threads named `name`), BLAS on one thread
    in each while the pool lasts."""
    with one_blas_thread(), ThreadPoolExecutor(fits, thread_name_prefix=name) as pool:
        yield pool
