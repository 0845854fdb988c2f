"""Request work that takes the CPU for long runs in a few worker threads, not on the event loop.

One uvicorn worker answers every request on one event loop: a handler that validates and
scores a thousand records holds it for tens of milliseconds, and two hundred such requests
held /health for up to 10 s. Such work (a batch body's parsing, validation, scoring and
answer) runs here instead, in `threads` threads (APP_SCORING_THREADS); requests beyond that
wait their turn without blocking the loop, which needs the GIL only for short turns. One
thread by default: each more thread competes with the loop for the GIL (200 concurrent
1,000-row batches, /health's 99th percentile: 40-60 ms with one, 180-220 ms with two), for
little more throughput in a process that serves on one core. /predict for a single record
stays on the loop: its work is shorter than a hand-off to a thread (`batching.py` shares
model calls instead), unless its body holds very many keys (`bodies.py`).
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
