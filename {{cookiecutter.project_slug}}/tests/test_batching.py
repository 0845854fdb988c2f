"""The micro-batcher that /predict hands its rows to."""

import asyncio

import pytest

from {{ cookiecutter.package_name }}.api.batching import MicroBatcher


class Model:
    """Scores rows (numbers) as ten times their value and records each call's rows."""

    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, rows: list[int]) -> list[int]:
        self.calls.append(list(rows))
        if any(row < 0 for row in rows):
            raise ValueError("negative row")
        return [10 * row for row in rows]


def test_a_lone_request_is_answered_without_waiting_for_the_loop():
    async def main():
        model = Model()
        request = MicroBatcher(model).submit(4)
        with pytest.raises(StopIteration) as finished:
            request.send(None)  # runs to the end on its first step: it never yields
        return finished.value.value, model.calls

    assert asyncio.run(main()) == (40, [[4]])


def test_requests_arriving_together_share_one_model_call():
    async def main():
        model = Model()
        batcher = MicroBatcher(model)
        first = await asyncio.gather(*(batcher.submit(row) for row in range(8)))
        second = await asyncio.gather(*(batcher.submit(row) for row in range(8)))
        return first, second, model.calls

    first, second, calls = asyncio.run(main())
    assert first == second == [10 * row for row in range(8)]
    # The first of a burst that follows a quiet spell is scored at once; once requests
    # arrive together, they share a call.
    assert calls == [[0], list(range(1, 8)), list(range(8))]


def test_a_row_that_breaks_the_model_fails_only_its_own_request():
    async def main():
        batcher = MicroBatcher(Model())
        await asyncio.gather(*(batcher.submit(row) for row in range(3)))
        return await asyncio.gather(
            *(batcher.submit(row) for row in [1, -1, 3]), return_exceptions=True
        )

    answers = asyncio.run(main())
    assert answers[0] == 10 and answers[2] == 30
    assert isinstance(answers[1], ValueError)
