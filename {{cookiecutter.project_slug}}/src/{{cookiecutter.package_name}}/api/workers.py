"""Request work that takes the CPU for long runs in a few worker threads, not on the event loop.

One uvicorn worker answers every request on one event loop: a handler that validates and
scores a thousand records holds it for tens of milliseconds, and two hundred such requests
held /health for seconds. Such work (a batch body's parsing, validation, scoring and answer)
runs here instead, in `threads` threads (APP_SCORING_THREADS); requests beyond that wait
their turn without blocking the loop. The loop keeps the GIL for short turns only, so /health
answers within milliseconds under that load. Single-record /predict stays on the loop: its
work is shorter than a hand-off to a thread (`batching.py` shares model calls instead).
"""

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


class Workers:
    """A fixed number of threads for CPU-heavy request work."""

    def __init__(self, threads: int) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="scoring")

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` in a worker thread; its result or its exception, on the loop."""
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
