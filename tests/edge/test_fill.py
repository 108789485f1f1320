"""A Fill (edge/collapse.py) as its readers see it: bytes as they arrive, and the whole body at
once when it arrived whole."""

from __future__ import annotations

import asyncio

from strato.edge.collapse import Fill, FillState


async def read(fill: Fill, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in fill.read(start, end)])


class TestFill:
    def test_a_body_received_whole_is_complete_and_read_at_once_whole_or_by_range(self) -> None:
        async def test() -> None:
            fill = Fill.whole(b"0123456789")
            assert (fill.state, fill.written, fill.body(), fill.on_disk) == (FillState.COMPLETE, 10, b"0123456789",
                                                                            False)
            assert (await read(fill), await read(fill, 3, 6)) == (b"0123456789", b"345")
        asyncio.run(test())

    def test_a_reader_waiting_for_more_is_woken_by_each_chunk_and_by_the_end(self) -> None:
        async def test() -> None:
            fill = Fill(None, keep_in_memory_up_to=100)
            reader = asyncio.ensure_future(read(fill))
            await asyncio.sleep(0)  # the reader waits: nothing has arrived
            fill.append(b"first ")
            await asyncio.sleep(0)
            fill.append(b"second")
            fill.complete()
            assert await reader == b"first second"
            assert fill.body() == b"first second"
        asyncio.run(test())
