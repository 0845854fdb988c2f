"""Micro-batching: concurrent single-record requests share one model call.

The event loop runs request handlers in turns. Under load a turn holds several requests:
their rows are queued and scored together at the start of the next turn, since building the
inputs and calling ONNX Runtime cost about as much for sixteen rows as for one. When the
previous turn held a single request and none is queued, the service is not under load: the
row is scored at once, in the handler, and the answer costs no extra turn of the loop. A
second request in the same turn is queued, so the next turn batches again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any


class MicroBatcher:
    """Scores rows submitted from one event loop (the service's)."""

    def __init__(self, score: Callable[[Sequence[Any]], list[Any]], max_rows: int = 256) -> None:
        self._score = score
        self._max_rows = max_rows
        self._rows: list[Any] = []
        self._waiting: list[asyncio.Future] = []
        self._scheduled = False
        self._in_turn = 0  # requests submitted in the current turn of the loop
        self._quiet = True  # the previous turn held at most one request
        self._loop: asyncio.AbstractEventLoop | None = None  # the one loop it serves

    async def submit(self, row: Any) -> Any:
        """The answer for one row: scored at once when the service is quiet, else queued and
        scored together with the rows submitted alongside it."""
        loop = self._loop
        if loop is None:  # asking each time costs a system call (getpid) on Python 3.11
            loop = self._loop = asyncio.get_running_loop()
        self._in_turn += 1
        if self._in_turn == 1:
            loop.call_soon(self._end_turn)
            if self._quiet and not self._rows:
                return self._score([row])[0]
        future = loop.create_future()
        self._rows.append(row)
        self._waiting.append(future)
        if len(self._rows) >= self._max_rows:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _end_turn(self) -> None:
        self._quiet = self._in_turn <= 1
        self._in_turn = 0

    def _flush(self) -> None:
        self._scheduled = False
        rows, waiting = self._rows, self._waiting
        self._rows, self._waiting = [], []
        if not rows:
            return
        try:
            answers = self._score(rows)
        except Exception as exc:
            if len(rows) == 1:
                fail(waiting[0], exc)
                return
            # Score one by one, so a row that breaks the model fails only its own request.
            for row, future in zip(rows, waiting, strict=True):
                try:
                    answer = self._score([row])[0]
                except Exception as error:
                    fail(future, error)
                else:
                    settle(future, answer)
            return
        for future, answer in zip(waiting, answers, strict=True):
            settle(future, answer)


def settle(future: asyncio.Future, answer: Any) -> None:
    if not future.done():  # the client may have gone away
        future.set_result(answer)


def fail(future: asyncio.Future, error: Exception) -> None:
    """Hand the error to the waiting request, whose handler re-raises it (a logged 500)."""
    if not future.done():
        future.set_exception(error)
