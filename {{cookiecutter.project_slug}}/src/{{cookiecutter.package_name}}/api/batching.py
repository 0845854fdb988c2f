"""Micro-batching: concurrent single-record requests share one model call.

Requests whose handlers reach the model in the same turn of the event loop are scored
together on the next turn. Building the inputs and calling ONNX Runtime cost about as much for
sixteen rows as for one, so under load each request pays a fraction of a model call; a lone
request waits for nothing but that one turn of the loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any


class MicroBatcher:
    def __init__(self, score: Callable[[Sequence[Any]], list[Any]], max_rows: int = 256) -> None:
        self._score = score
        self._max_rows = max_rows
        self._rows: list[Any] = []
        self._waiting: list[asyncio.Future] = []
        self._scheduled = False

    async def submit(self, row: Any) -> Any:
        """The answer for one row, scored together with the rows submitted alongside it."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._rows.append(row)
        self._waiting.append(future)
        if len(self._rows) >= self._max_rows:
            self._flush()
        elif not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

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
