"""Concurrent writers: conditional writes are atomic, the last writer wins whole, group commit
is durable, and a caller that gives up mid-commit never leaves a torn object behind."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import random
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from strato.storage.engine import ObjectStore, WriteConditions
from strato.storage.errors import NoSuchKey, PreconditionFailed
from strato.storage.metadata import WriteCheck
from strato.storage.multipart import CompletedPart
from strato.storage.records import Cause, Expectation, ObjectVersion, Part
from strato.storage.sqlite_meta import SqliteMetadataStore
from tests.storage.support import BUCKET, MiB, blob_files, chunks, md5, put, read, run, temp_files

WRITERS = 16


class RecordingMeta(SqliteMetadataStore):
    """The real SQLite store, recording the order in which object writes reach the transaction."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.commits: list[str] = []
        self._arrivals: list[tuple[int, asyncio.Event]] = []

    def expect_queued(self, count: int) -> asyncio.Event:
        """An event set once `count` more object or part writes have been queued for the writer."""
        event = asyncio.Event()
        self._arrivals.append((count, event))
        return event

    async def put_object(self, obj: ObjectVersion, check: WriteCheck | None = None,
                         cause: Cause | None = None) -> list[str]:
        def recorded(current: ObjectVersion | None) -> None:
            if check is not None:
                check(current)
            self.commits.append(obj.etag)

        self._arrived()
        # super() queues the job before its first suspension, so the event means "queued".
        return await super().put_object(obj, recorded, cause)

    async def put_part(self, part: Part) -> list[str]:
        self._arrived()
        return await super().put_part(part)

    def _arrived(self) -> None:
        self._arrivals = [(count - 1, event) for count, event in self._arrivals]
        for count, event in self._arrivals:
            if count == 0:
                event.set()


@contextlib.asynccontextmanager
async def held_writer(meta: SqliteMetadataStore) -> AsyncIterator[None]:
    """Hold the writer thread inside a job, so that writes queued meanwhile share the next batch."""
    entered, release = threading.Event(), threading.Event()

    def hold(current: ObjectVersion | None) -> None:
        entered.set()
        release.wait()

    gate = asyncio.ensure_future(
        meta.put_object(ObjectVersion(BUCKET, "gate", 0, md5(b""), 0.0, inline=b""), hold)
    )
    await asyncio.to_thread(entered.wait)
    try:
        yield
    finally:
        release.set()
        await gate


@pytest.fixture
def recording(data_dir: Path) -> Iterator[tuple[ObjectStore, RecordingMeta]]:
    data_dir.mkdir(parents=True)
    meta = RecordingMeta(data_dir / "meta.sqlite3")
    opened = ObjectStore(data_dir, meta)
    run(opened.create_bucket(BUCKET, "us-east-1"))
    yield opened, meta
    opened.close()


async def gated(data: bytes, barrier: asyncio.Barrier) -> AsyncIterator[bytes]:
    """A body that starts flowing only once every writer has begun (and passed its pre-checks)."""
    await barrier.wait()
    for offset in range(0, len(data), 64 * 1024):
        yield data[offset : offset + 64 * 1024]


class TestConditionalWrites:
    @pytest.mark.parametrize("size", [pytest.param(100, id="inline"), pytest.param(200_000, id="blob")])
    def test_of_many_concurrent_if_none_match_writes_exactly_one_succeeds(
        self, store: ObjectStore, data_dir: Path, size: int
    ) -> None:
        bodies = [random.Random(n).randbytes(size) for n in range(WRITERS)]

        async def scenario() -> list[ObjectVersion | BaseException]:
            barrier = asyncio.Barrier(WRITERS)
            return await asyncio.gather(
                *(
                    store.put_object(
                        BUCKET,
                        "key",
                        gated(body, barrier),
                        Expectation(),
                        system={},
                        user={},
                        conditions=WriteConditions(if_none_match="*"),
                    )
                    for body in bodies
                ),
                return_exceptions=True,
            )

        outcomes = run(scenario())
        winners = [o for o in outcomes if isinstance(o, ObjectVersion)]
        assert len(winners) == 1
        assert all(isinstance(o, PreconditionFailed) for o in outcomes if o is not winners[0])
        assert run(read(store, "key")) == bodies[outcomes.index(winners[0])]
        assert blob_files(data_dir) == set(winners[0].blobs())
        assert temp_files(data_dir) == []

    def test_if_none_match_refuses_an_existing_key(self, store: ObjectStore) -> None:
        run(put(store, "key", b"first"))
        with pytest.raises(PreconditionFailed):
            run(put(store, "key", b"second", conditions=WriteConditions(if_none_match="*")))
        assert run(read(store, "key")) == b"first"

    def test_if_match_writes_only_over_the_named_etag(self, store: ObjectStore) -> None:
        first = run(put(store, "key", b"first"))
        with pytest.raises(PreconditionFailed):
            run(put(store, "key", b"x", conditions=WriteConditions(if_match=md5(b"other"))))
        second = run(put(store, "key", b"second", conditions=WriteConditions(if_match=f'"{first.etag}"')))
        assert store.head_object(BUCKET, "key").etag == second.etag

    def test_if_match_on_a_missing_key_is_no_such_key(self, store: ObjectStore) -> None:
        with pytest.raises(NoSuchKey):
            run(put(store, "key", b"x", conditions=WriteConditions(if_match="*")))

    def test_of_many_concurrent_if_match_writes_on_one_etag_exactly_one_succeeds(
        self, store: ObjectStore
    ) -> None:
        base = run(put(store, "key", b"base"))

        async def scenario() -> list[ObjectVersion | BaseException]:
            barrier = asyncio.Barrier(WRITERS)
            return await asyncio.gather(
                *(
                    store.put_object(
                        BUCKET,
                        "key",
                        gated(b"v%d" % n, barrier),
                        Expectation(),
                        system={},
                        user={},
                        conditions=WriteConditions(if_match=base.etag),
                    )
                    for n in range(WRITERS)
                ),
                return_exceptions=True,
            )

        outcomes = run(scenario())
        assert sum(isinstance(o, ObjectVersion) for o in outcomes) == 1
        assert sum(isinstance(o, PreconditionFailed) for o in outcomes) == WRITERS - 1


class TestLastWriterWins:
    def test_concurrent_writers_to_one_key_leave_the_last_committed_body_whole(
        self, recording: tuple[ObjectStore, RecordingMeta], data_dir: Path
    ) -> None:
        store, meta = recording
        sizes = [100, 70_000, 300_000, 1_500_000]
        bodies = [random.Random(n).randbytes(sizes[n % len(sizes)]) for n in range(WRITERS)]
        torn: list[str] = []

        async def reader(stop: asyncio.Event) -> int:
            reads = 0
            while not stop.is_set():
                await asyncio.sleep(0)  # an inline read never awaits: let the writers run
                try:
                    opened = await store.open_object(BUCKET, "key")
                except NoSuchKey:
                    continue
                try:
                    got = b"".join([c async for c in opened.iter_range(0, opened.obj.size)])
                finally:
                    opened.close()
                if md5(got) != opened.obj.etag:
                    torn.append(opened.obj.etag)
                reads += 1
            return reads

        async def scenario() -> None:
            await put(store, "key", b"initial")
            stop = asyncio.Event()
            readers = [asyncio.create_task(reader(stop)) for _ in range(4)]
            barrier = asyncio.Barrier(WRITERS)
            await asyncio.gather(
                *(
                    store.put_object(BUCKET, "key", gated(body, barrier), Expectation(), system={}, user={})
                    for body in bodies
                )
            )
            stop.set()
            assert all(reads > 0 for reads in await asyncio.gather(*readers))

        run(scenario())
        assert torn == []
        assert len(meta.commits) == WRITERS + 1
        final = store.head_object(BUCKET, "key")
        assert final.etag == meta.commits[-1]
        assert md5(run(read(store, "key"))) == final.etag
        assert blob_files(data_dir) == set(final.blobs())


class TestGroupCommit:
    def test_every_acknowledged_write_is_found_after_reopening_the_store(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        count = 600

        async def scenario() -> list[ObjectVersion]:
            return await asyncio.gather(*(put(store, f"k/{n:04d}", b"%d" % n) for n in range(count)))

        acknowledged = run(scenario())
        assert len(acknowledged) == count
        # Another store on the same files sees every write while the first is still open...
        other = ObjectStore(data_dir)
        try:
            for n in range(count):
                assert other.head_object(BUCKET, f"k/{n:04d}").etag == md5(b"%d" % n)
        finally:
            other.close()
        store.close()
        # ...and after the first has closed.
        reopened = ObjectStore(data_dir)
        try:
            assert reopened.recover().orphan_blobs == 0
            for n in range(0, count, 7):
                assert run(read(reopened, f"k/{n:04d}", bucket=BUCKET)) == b"%d" % n
            page = reopened.list_objects(BUCKET, max_keys=count + 1)
            assert len(page.objects) == count
        finally:
            reopened.close()

    def test_writes_that_fail_inside_a_shared_batch_roll_back_alone(
        self, recording: tuple[ObjectStore, RecordingMeta]
    ) -> None:
        store, meta = recording

        async def scenario() -> list[ObjectVersion | BaseException]:
            async with held_writer(meta):
                arrived = meta.expect_queued(WRITERS)
                writes = asyncio.gather(
                    *(
                        put(
                            store,
                            "taken" if n % 2 else f"free/{n}",
                            b"%d" % n,
                            conditions=WriteConditions(if_none_match="*"),
                        )
                        for n in range(WRITERS)
                    ),
                    return_exceptions=True,
                )
                await arrived.wait()
            return await writes

        outcomes = run(scenario())
        taken = [o for n, o in enumerate(outcomes) if n % 2]
        assert sum(isinstance(o, ObjectVersion) for o in taken) == 1
        assert sum(isinstance(o, PreconditionFailed) for o in taken) == WRITERS // 2 - 1
        for n in range(0, WRITERS, 2):
            assert isinstance(outcomes[n], ObjectVersion)
            assert run(read(store, f"free/{n}")) == b"%d" % n


class TestCancellation:
    def test_a_put_cancelled_while_its_commit_is_queued_leaves_a_whole_object_or_none(
        self, recording: tuple[ObjectStore, RecordingMeta], data_dir: Path
    ) -> None:
        store, meta = recording
        data = random.Random(1).randbytes(MiB)

        async def scenario() -> None:
            async with held_writer(meta):
                queued = meta.expect_queued(1)
                victim = asyncio.ensure_future(put(store, "victim", data))
                await queued.wait()
                victim.cancel()
            with pytest.raises(asyncio.CancelledError):
                await victim
            # The writer is FIFO: once a later write returns, the victim's job has been decided.
            # (The timeout only turns a dead writer thread into a failure instead of a hang.)
            await asyncio.wait_for(put(store, "after", b"after"), timeout=60)

        run(scenario())
        try:
            obj = store.head_object(BUCKET, "victim")
        except NoSuchKey:
            assert blob_files(data_dir) == set()
        else:
            assert run(read(store, "victim")) == data
            assert blob_files(data_dir) == set(obj.blobs())
        assert temp_files(data_dir) == []

    def test_a_cancelled_caller_does_not_stop_the_writer_for_everyone_else(self, store: ObjectStore) -> None:
        async def scenario() -> None:
            tasks = [asyncio.ensure_future(store.create_bucket(f"b{n}", "us-east-1")) for n in range(50)]
            await asyncio.sleep(0)
            for task in tasks[::2]:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.wait_for(put(store, "after", b"after"), timeout=60)

        run(scenario())
        assert run(read(store, "after")) == b"after"

    def test_a_put_cancelled_while_its_commit_runs_still_leaves_a_whole_object(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        data = random.Random(3).randbytes(MiB)
        entered, release = threading.Event(), threading.Event()

        class HeldInTransaction(WriteConditions):
            """If-None-Match: * whose check inside the write transaction waits for the test."""

            def check(self, current: ObjectVersion | None) -> None:
                if threading.current_thread() is not threading.main_thread():  # not the early pre-check
                    entered.set()
                    release.wait()
                super().check(current)

        async def scenario() -> None:
            victim = asyncio.ensure_future(
                put(store, "victim", data, conditions=HeldInTransaction(if_none_match="*"))
            )
            await asyncio.to_thread(entered.wait)
            victim.cancel()
            release.set()
            with pytest.raises(asyncio.CancelledError):
                await victim
            await asyncio.wait_for(put(store, "after", b"after"), timeout=60)

        run(scenario())
        obj = store.head_object(BUCKET, "victim")
        assert run(read(store, "victim")) == data
        assert blob_files(data_dir) == set(obj.blobs())

    @pytest.mark.parametrize("streamed", [10, 200_000, 3 * MiB])
    def test_a_put_cancelled_while_its_body_streams_leaves_nothing_behind(
        self, store: ObjectStore, data_dir: Path, streamed: int
    ) -> None:
        async def scenario() -> None:
            sent, never = asyncio.Event(), asyncio.Event()

            async def stalled() -> AsyncIterator[bytes]:
                yield b"s" * streamed
                sent.set()
                await never.wait()
                yield b"never"

            task = asyncio.ensure_future(
                store.put_object(BUCKET, "key", stalled(), Expectation(), system={}, user={})
            )
            await sent.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        run(scenario())
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "key")
        assert blob_files(data_dir) == set()
        assert temp_files(data_dir) == []

    def test_a_part_cancelled_while_its_commit_is_queued_is_either_whole_or_absent(
        self, recording: tuple[ObjectStore, RecordingMeta], data_dir: Path
    ) -> None:
        store, meta = recording
        data = random.Random(2).randbytes(MiB)

        async def scenario() -> None:
            upload = await store.create_upload(
                BUCKET, "key", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
            async with held_writer(meta):
                queued = meta.expect_queued(1)
                part = asyncio.ensure_future(
                    store.upload_part(BUCKET, "key", upload.upload_id, 1, chunks(data), Expectation())
                )
                await queued.wait()
                part.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await part
            await asyncio.wait_for(put(store, "after", b"after"), timeout=60)
            _, page = store.list_parts(BUCKET, "key", upload.upload_id, 0, 10)
            if page.parts:
                (stored,) = page.parts
                assert blob_files(data_dir) == {stored.blob}
                obj = await store.complete_upload(
                    BUCKET, "key", upload.upload_id, [CompletedPart(1, stored.etag, {})]
                )
                assert await read(store, "key") == data
                assert obj.etag == md5(hashlib.md5(data).digest()) + "-1"
            else:
                assert blob_files(data_dir) == set()

        run(scenario())
        assert temp_files(data_dir) == []
