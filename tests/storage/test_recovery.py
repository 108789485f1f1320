"""Startup recovery removes what a crash can leave behind and nothing that is referenced."""

from __future__ import annotations

import random
from pathlib import Path

from strato.storage.engine import ObjectStore
from strato.storage.multipart import CompletedPart
from strato.storage.records import Expectation
from tests.storage.support import BUCKET, MiB, blob_files, chunks, put, read, run, temp_files


def leave_debris(data_dir: Path) -> tuple[Path, Path]:
    """A half-written temp file and a complete blob that never made it into metadata."""
    partial = data_dir / "tmp" / "0123456789abcdef0123456789abcdef"
    partial.write_bytes(b"half a body")
    orphan = data_dir / "blobs" / "ab" / "ab23456789abcdef0123456789abcdef"
    orphan.write_bytes(b"a blob nobody references")
    return partial, orphan


class TestRecovery:
    def test_recovery_removes_temp_files_and_orphan_blobs_and_keeps_referenced_ones(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        big = random.Random(1).randbytes(2 * MiB)
        obj = run(put(store, "object", big))
        upload = run(
            store.create_upload(
                BUCKET, "pending", system={}, user={}, checksum_algorithm=None, checksum_type=None
            )
        )
        part = run(store.upload_part(BUCKET, "pending", upload.upload_id, 1, chunks(b"part"), Expectation()))
        partial, orphan = leave_debris(data_dir)

        report = store.recover()

        assert (report.temp_files, report.orphan_blobs) == (1, 1)
        assert not partial.exists()
        assert not orphan.exists()
        assert temp_files(data_dir) == []
        assert blob_files(data_dir) == {*obj.blobs(), part.blob}
        assert run(read(store, "object")) == big
        done = run(
            store.complete_upload(BUCKET, "pending", upload.upload_id, [CompletedPart(1, part.etag, {})])
        )
        assert run(read(store, "pending")) == b"part"
        assert done.blobs() == [part.blob]

    def test_recovery_keeps_the_segments_of_a_completed_multipart_object(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = run(
            store.create_upload(BUCKET, "mp", system={}, user={}, checksum_algorithm=None, checksum_type=None)
        )
        part = run(store.upload_part(BUCKET, "mp", upload.upload_id, 1, chunks(b"only part"), Expectation()))
        run(store.complete_upload(BUCKET, "mp", upload.upload_id, [CompletedPart(1, part.etag, {})]))
        leave_debris(data_dir)

        report = store.recover()

        assert (report.temp_files, report.orphan_blobs) == (1, 1)
        assert blob_files(data_dir) == {part.blob}
        assert run(read(store, "mp")) == b"only part"

    def test_recovery_of_a_clean_store_removes_nothing(self, store: ObjectStore, data_dir: Path) -> None:
        obj = run(put(store, "object", b"x" * MiB))
        assert (store.recover().temp_files, store.recover().orphan_blobs) == (0, 0)
        assert blob_files(data_dir) == set(obj.blobs())

    def test_a_reopened_store_recovers_debris_left_by_the_previous_one(self, data_dir: Path) -> None:
        store = ObjectStore(data_dir)
        run(store.create_bucket(BUCKET, "us-east-1"))
        obj = run(put(store, "object", b"y" * MiB))
        store.close()
        leave_debris(data_dir)
        reopened = ObjectStore(data_dir)
        try:
            assert reopened.recover().orphan_blobs == 1
            assert blob_files(data_dir) == set(obj.blobs())
            assert run(read(reopened, "object")) == b"y" * MiB
        finally:
            reopened.close()
