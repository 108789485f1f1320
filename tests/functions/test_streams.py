"""A streamed answer on its way to its caller: chunks in order until the invocation ends, memory
bounded by pausing the writer, and a caller that goes away never holds the writer up."""

from __future__ import annotations

import asyncio

import pytest

from strato.functions.records import InvokeResult, TooManyRequests
from strato.functions.streams import HIGH_WATER, StreamedAnswer


class Writer:
    """The writer's side of the flow control: what it was told, in order."""

    def __init__(self) -> None:
        self.told: list[bool] = []

    def __call__(self, paused: bool) -> None:
        self.told.append(paused)


def _started() -> tuple[StreamedAnswer, asyncio.Future[InvokeResult]]:
    """An answer whose invocation runs until the test ends it through the future."""
    answer = StreamedAnswer()
    ended: asyncio.Future[InvokeResult] = asyncio.get_running_loop().create_future()
    answer.start(ended)
    return answer, ended


def test_chunks_come_in_order_then_the_result() -> None:
    async def main() -> None:
        answer, ended = _started()
        answer.open("text/plain", Writer())
        assert await answer.opened()
        answer.write(b"one ")
        answer.write(b"two")
        ended.set_result(InvokeResult(b"", "$LATEST"))
        assert [chunk async for chunk in answer.chunks()] == [b"one ", b"two"]
        assert answer.result().function_error is None
    asyncio.run(main())


def test_an_invocation_that_ends_without_streaming_is_not_opened() -> None:
    async def main() -> None:
        answer, ended = _started()
        ended.set_result(InvokeResult(b'"whole"', "1"))
        assert not await answer.opened()
        assert answer.result().payload == b'"whole"'
    asyncio.run(main())


def test_a_refusal_is_raised_by_result() -> None:
    async def main() -> None:
        answer, ended = _started()
        ended.set_exception(TooManyRequests("ConcurrentInvocationLimitExceeded", "Rate Exceeded."))
        assert not await answer.opened()
        with pytest.raises(TooManyRequests):
            answer.result()
    asyncio.run(main())


def test_the_writer_is_paused_past_the_high_water_mark_and_resumed_once_drained() -> None:
    async def main() -> None:
        answer, ended = _started()
        writer = Writer()
        answer.open("application/octet-stream", writer)
        piece = b"x" * (HIGH_WATER // 4)
        for _ in range(6):
            answer.write(piece)
        assert writer.told == [True]  # once, however many writes follow
        chunks = answer.chunks()
        for _ in range(3):
            await anext(chunks)
        assert writer.told == [True]  # still above half the mark
        await anext(chunks)
        assert writer.told == [True, False]
        ended.set_result(InvokeResult(b"", "$LATEST"))
        assert len([chunk async for chunk in chunks]) == 2
    asyncio.run(main())


def test_a_caller_that_goes_away_frees_the_writer_and_drops_what_comes() -> None:
    async def main() -> None:
        answer, ended = _started()
        writer = Writer()
        answer.open("application/octet-stream", writer)
        answer.write(b"x" * (HIGH_WATER + 1))
        answer.abandon()
        answer.write(b"more")
        assert writer.told == [True, False]
        ended.set_result(InvokeResult(b"", "$LATEST"))
        assert [chunk async for chunk in answer.chunks()] == []
    asyncio.run(main())


def test_a_caller_that_stops_reading_the_chunks_abandons_the_stream() -> None:
    async def main() -> None:
        answer, ended = _started()
        writer = Writer()
        answer.open("application/octet-stream", writer)
        answer.write(b"x" * (HIGH_WATER + 1))
        chunks = answer.chunks()
        await anext(chunks)
        await chunks.aclose()
        assert writer.told == [True, False]
        ended.set_result(InvokeResult(b"", "$LATEST"))
    asyncio.run(main())


def test_a_caller_that_goes_away_before_the_stream_opens_abandons_it() -> None:
    async def main() -> None:
        answer, ended = _started()
        waiting = asyncio.ensure_future(answer.opened())
        await asyncio.sleep(0)  # it waits
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        writer = Writer()
        answer.open("application/octet-stream", writer)
        answer.write(b"x" * (HIGH_WATER + 1))
        assert writer.told == []  # never paused: nobody will read
        ended.set_result(InvokeResult(b"", "$LATEST"))
    asyncio.run(main())
