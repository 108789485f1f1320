"""Multipart uploads: completion rules, ETags and checksums of the assembled object, what
completion and abort free, and paginated upload and part listings."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from pathlib import Path

import pytest
from awscrt import checksums as crt

from strato.storage import checksums
from strato.storage.engine import ObjectStore
from strato.storage.errors import (
    EntityTooSmall,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchKey,
    NoSuchUpload,
)
from strato.storage.multipart import CompletedPart, assemble
from strato.storage.records import Expectation, Part, Upload
from tests.storage.support import BUCKET, MiB, blob_files, chunks, md5, read, run, temp_files


def b64(value: int, width: int) -> str:
    return base64.b64encode(value.to_bytes(width, "big")).decode()


def new_upload(
    store: ObjectStore, key: str = "key", algorithm: str | None = None, kind: str | None = None
) -> Upload:
    return run(
        store.create_upload(
            BUCKET,
            key,
            system={"content-type": "x/y"},
            user={"who": "me"},
            checksum_algorithm=algorithm,
            checksum_type=kind,
        )
    )


def upload_parts(
    store: ObjectStore, upload: Upload, bodies: dict[int, bytes], algorithm: str | None = None
) -> dict[int, Part]:
    async def scenario() -> dict[int, Part]:
        done = {}
        for number, data in bodies.items():
            expect = Expectation(algorithm=algorithm)
            done[number] = await store.upload_part(
                BUCKET, upload.key, upload.upload_id, number, chunks(data), expect
            )
        return done

    return run(scenario())


def stored_parts(store: ObjectStore, upload: Upload) -> dict[int, Part]:
    _, page = store.list_parts(BUCKET, upload.key, upload.upload_id, 0, 10_000)
    return {p.number: p for p in page.parts}


def completed(parts: dict[int, Part], numbers: list[int] | None = None) -> list[CompletedPart]:
    """The client's list naming each part with its ETag and checksum, as SDKs send it."""
    return [CompletedPart(n, f'"{parts[n].etag}"', dict(parts[n].checksums)) for n in (numbers or sorted(parts))]


def bodies_of(*sizes: int) -> dict[int, bytes]:
    return {n: random.Random(n).randbytes(size) for n, size in enumerate(sizes, start=1)}


class TestAssemblyRules:
    """assemble() is pure: it sees the upload, the stored parts and the client's list."""

    def test_parts_out_of_ascending_order_are_invalid_part_order(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(10, 10, 10))
        with pytest.raises(InvalidPartOrder):
            assemble(upload, parts, completed(parts, [1, 3, 2]), min_part_size=1)
        with pytest.raises(InvalidPartOrder):
            assemble(upload, parts, completed(parts, [1, 2, 2]), min_part_size=1)

    def test_a_wrong_etag_or_a_missing_part_is_invalid_part(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(10, 10))
        with pytest.raises(InvalidPart):
            assemble(
                upload,
                parts,
                [CompletedPart(1, parts[1].etag, {}), CompletedPart(2, md5(b"x"), {})],
                min_part_size=1,
            )
        with pytest.raises(InvalidPart):
            assemble(
                upload,
                parts,
                [CompletedPart(1, parts[1].etag, {}), CompletedPart(3, parts[2].etag, {})],
                min_part_size=1,
            )

    def test_a_wrong_part_checksum_is_invalid_part(self, store: ObjectStore) -> None:
        upload = new_upload(store, algorithm="CRC32", kind="COMPOSITE")
        parts = upload_parts(store, upload, bodies_of(10), algorithm="CRC32")
        with pytest.raises(InvalidPart):
            assemble(upload, parts, [CompletedPart(1, parts[1].etag, {"CRC32": b64(0, 4)})], min_part_size=1)
        assemble(upload, parts, [CompletedPart(1, parts[1].etag, dict(parts[1].checksums))], min_part_size=1)

    def test_a_small_part_is_entity_too_small_unless_it_is_the_last(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(100, 99, 5))
        with pytest.raises(EntityTooSmall):
            assemble(upload, parts, completed(parts), min_part_size=100)
        obj, _ = assemble(upload, parts, completed(parts, [1, 3]), min_part_size=100)
        assert obj.size == 105

    def test_the_etag_is_the_md5_of_the_part_md5s_and_the_part_count(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        bodies = bodies_of(30, 20, 10)
        parts = upload_parts(store, upload, bodies)
        obj, unused = assemble(upload, parts, completed(parts), min_part_size=1)
        joined = b"".join(hashlib.md5(bodies[n]).digest() for n in (1, 2, 3))
        assert obj.etag == hashlib.md5(joined).hexdigest() + "-3"
        assert obj.size == 60
        assert [s.blob for s in obj.segments] == [parts[n].blob for n in (1, 2, 3)]
        assert unused == []
        assert (dict(obj.system), dict(obj.user)) == ({"content-type": "x/y"}, {"who": "me"})

    def test_parts_left_out_are_returned_as_unused_blobs(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(10, 10, 10, 10))
        _, unused = assemble(upload, parts, completed(parts, [1, 4]), min_part_size=1)
        assert sorted(unused) == sorted([parts[2].blob, parts[3].blob])


class TestChecksums:
    def test_a_full_object_crc32_equals_the_crc32_of_the_whole_data(self, store: ObjectStore) -> None:
        upload = new_upload(store, algorithm="CRC32", kind="FULL_OBJECT")
        bodies = bodies_of(1000, 777, 1, 4096)
        parts = upload_parts(store, upload, bodies, algorithm="CRC32")
        obj, _ = assemble(upload, parts, completed(parts), min_part_size=1)
        assert obj.checksum_type == "FULL_OBJECT"
        assert dict(obj.checksums) == {"CRC32": b64(zlib.crc32(b"".join(bodies.values())), 4)}

    def test_the_default_checksum_is_a_full_object_crc64nvme_of_the_whole_data(
        self, store: ObjectStore
    ) -> None:
        upload = new_upload(store)
        bodies = bodies_of(1000, 2000, 3)
        parts = upload_parts(store, upload, bodies)
        obj, _ = assemble(upload, parts, completed(parts), min_part_size=1)
        assert obj.checksum_type == "FULL_OBJECT"
        assert dict(obj.checksums) == {"CRC64NVME": b64(crt.crc64nvme(b"".join(bodies.values())), 8)}

    @pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256"])
    def test_a_composite_checksum_hashes_the_part_digests_and_counts_them(
        self, store: ObjectStore, algorithm: str
    ) -> None:
        upload = new_upload(store, algorithm=algorithm, kind="COMPOSITE")
        bodies = bodies_of(100, 200, 300)
        parts = upload_parts(store, upload, bodies, algorithm=algorithm)
        obj, _ = assemble(upload, parts, completed(parts), min_part_size=1)

        def digest(data: bytes) -> bytes:
            hasher = checksums.new_digest(algorithm)
            hasher.update(data)
            return hasher.digest()

        for n, data in bodies.items():
            assert parts[n].checksums[algorithm] == base64.b64encode(digest(data)).decode()
        expected = base64.b64encode(digest(b"".join(digest(bodies[n]) for n in (1, 2, 3)))).decode() + "-3"
        assert obj.checksum_type == "COMPOSITE"
        assert dict(obj.checksums) == {algorithm: expected}

    @pytest.mark.parametrize("kind", ["COMPOSITE", None])
    def test_a_composite_upload_needs_each_parts_checksum_at_completion(
        self, store: ObjectStore, kind: str | None
    ) -> None:
        upload = new_upload(store, algorithm="SHA256", kind=kind)
        parts = upload_parts(store, upload, bodies_of(10, 10), algorithm="SHA256")
        named = completed(parts)
        without = [named[0], CompletedPart(2, named[1].etag, {})]
        with pytest.raises(InvalidRequest, match=r"created using a sha256 checksum.*missing for part 2"):
            assemble(upload, parts, without, min_part_size=1)

    @pytest.mark.parametrize(("kind", "sent", "actual"), [
        ("COMPOSITE", "CRC32", "crc32"), ("COMPOSITE", None, "null"), ("FULL_OBJECT", "SHA1", "sha1"),
    ])
    def test_a_part_without_the_uploads_algorithm_is_a_checksum_type_mismatch(
        self, store: ObjectStore, kind: str, sent: str | None, actual: str
    ) -> None:
        algorithm = "CRC32C" if kind == "FULL_OBJECT" else "SHA256"
        upload = new_upload(store, algorithm=algorithm, kind=kind)
        with pytest.raises(InvalidRequest) as caught:
            upload_parts(store, upload, bodies_of(10), algorithm=sent)
        assert str(caught.value) == (f"Checksum Type mismatch occurred, expected checksum Type: {algorithm.lower()}, "
                                     f"actual checksum Type: {actual}")
        assert stored_parts(store, upload) == {}

    def test_parts_may_leave_their_checksum_to_the_server_unless_the_upload_is_composite(
        self, store: ObjectStore
    ) -> None:
        full = new_upload(store, key="full", algorithm="CRC32", kind="FULL_OBJECT")
        assert set(upload_parts(store, full, bodies_of(10))[1].checksums) == {"CRC32"}
        plain = new_upload(store, key="plain")
        assert "SHA256" in upload_parts(store, plain, bodies_of(10), algorithm="SHA256")[1].checksums

    def test_a_full_object_upload_completes_without_part_checksums(self, store: ObjectStore) -> None:
        upload = new_upload(store, algorithm="CRC32", kind="FULL_OBJECT")
        bodies = bodies_of(10, 10)
        parts = upload_parts(store, upload, bodies, algorithm="CRC32")
        obj, _ = assemble(upload, parts, [CompletedPart(n, p.etag, {}) for n, p in parts.items()], min_part_size=1)
        assert dict(obj.checksums) == {"CRC32": b64(zlib.crc32(b"".join(bodies.values())), 4)}

    def test_an_algorithm_without_a_type_is_composite_except_crc64nvme(self, store: ObjectStore) -> None:
        for algorithm, kind in [
            ("CRC32", "COMPOSITE"),
            ("SHA256", "COMPOSITE"),
            ("CRC64NVME", "FULL_OBJECT"),
        ]:
            upload = new_upload(store, key=algorithm, algorithm=algorithm)
            parts = upload_parts(store, upload, bodies_of(10, 10), algorithm=algorithm)
            obj, _ = assemble(upload, parts, completed(parts), min_part_size=1)
            assert obj.checksum_type == kind


class TestCompletion:
    """Through the engine, with real 5 MiB parts."""

    def test_a_completed_upload_reads_back_as_the_concatenated_parts(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = new_upload(store)
        bodies = bodies_of(5 * MiB, 5 * MiB + 3, 1000)
        parts = upload_parts(store, upload, bodies)
        obj = run(store.complete_upload(BUCKET, "key", upload.upload_id, completed(parts)))
        whole = b"".join(bodies.values())
        assert run(read(store, "key")) == whole
        assert obj.etag.endswith("-3")
        assert dict(obj.checksums) == {"CRC64NVME": b64(crt.crc64nvme(whole), 8)}
        assert [(p.number, p.size, p.etag) for p in store.head_object(BUCKET, "key").parts] == [
            (n, len(bodies[n]), md5(bodies[n])) for n in (1, 2, 3)
        ]
        assert blob_files(data_dir) == {parts[n].blob for n in (1, 2, 3)}
        with pytest.raises(NoSuchUpload):
            store.get_upload(BUCKET, "key", upload.upload_id)

    def test_completion_frees_the_blobs_of_parts_it_leaves_out(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(5 * MiB, 1000, 2000))
        run(store.complete_upload(BUCKET, "key", upload.upload_id, completed(parts, [1, 3])))
        assert blob_files(data_dir) == {parts[1].blob, parts[3].blob}
        assert (
            run(read(store, "key")) == bodies_of(5 * MiB, 1000, 2000)[1] + bodies_of(5 * MiB, 1000, 2000)[3]
        )

    def test_completion_over_an_existing_object_frees_its_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        async def put_big() -> None:
            await store.put_object(BUCKET, "key", chunks(b"z" * MiB), Expectation(), system={}, user={})

        run(put_big())
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(10))
        run(store.complete_upload(BUCKET, "key", upload.upload_id, completed(parts)))
        assert blob_files(data_dir) == {parts[1].blob}

    def test_a_refused_completion_keeps_the_upload_and_its_parts(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, bodies_of(10, 10))
        with pytest.raises(EntityTooSmall):
            run(store.complete_upload(BUCKET, "key", upload.upload_id, completed(parts)))
        assert set(stored_parts(store, upload)) == {1, 2}
        assert blob_files(data_dir) == {parts[1].blob, parts[2].blob}
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "key")

    def test_uploading_a_part_number_again_replaces_it_and_frees_the_old_blob(
        self, store: ObjectStore, data_dir: Path
    ) -> None:
        upload = new_upload(store)
        first = upload_parts(store, upload, {1: b"first"})[1]
        second = upload_parts(store, upload, {1: b"second"})[1]
        assert stored_parts(store, upload)[1].etag == md5(b"second")
        assert blob_files(data_dir) == {second.blob}
        assert first.blob != second.blob

    def test_abort_frees_every_part(self, store: ObjectStore, data_dir: Path) -> None:
        upload = new_upload(store)
        upload_parts(store, upload, bodies_of(1000, 2000, 3000))
        run(store.abort_upload(BUCKET, "key", upload.upload_id))
        assert blob_files(data_dir) == set()
        assert temp_files(data_dir) == []
        with pytest.raises(NoSuchUpload):
            store.get_upload(BUCKET, "key", upload.upload_id)
        with pytest.raises(NoSuchUpload):
            upload_parts(store, upload, {1: b"late"})
        assert blob_files(data_dir) == set()

    def test_an_empty_part_is_stored_as_an_empty_blob(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        parts = upload_parts(store, upload, {1: b""})
        assert (parts[1].size, parts[1].etag) == (0, md5(b""))
        run(store.complete_upload(BUCKET, "key", upload.upload_id, completed(parts)))
        assert run(read(store, "key")) == b""


class TestPartListing:
    def test_parts_page_in_number_order_resuming_after_the_last_part_listed(self, store: ObjectStore) -> None:
        upload = new_upload(store)
        upload_parts(store, upload, {n: b"%d" % n for n in (7, 1, 3, 10_000, 5)})
        numbers: list[int] = []
        marker = 0
        while True:
            _, page = store.list_parts(BUCKET, "key", upload.upload_id, marker, 2)
            assert len(page.parts) <= 2
            numbers.extend(p.number for p in page.parts)
            if not page.is_truncated:
                break
            marker = page.parts[-1].number
        assert numbers == [1, 3, 5, 7, 10_000]

    def test_listing_the_parts_of_an_upload_under_another_key_is_no_such_upload(
        self, store: ObjectStore
    ) -> None:
        upload = new_upload(store)
        with pytest.raises(NoSuchUpload):
            store.list_parts(BUCKET, "other", upload.upload_id, 0, 10)


class TestUploadListing:
    def test_uploads_of_one_key_list_in_creation_order_and_page_by_upload_id(
        self, store: ObjectStore
    ) -> None:
        made = [new_upload(store, "same") for _ in range(5)]
        page = store.list_uploads(BUCKET, max_uploads=2)
        assert [u.upload_id for u in page.uploads] == [u.upload_id for u in made[:2]]
        assert (page.next_key_marker, page.next_upload_id_marker) == ("same", made[1].upload_id)
        page = store.list_uploads(
            BUCKET, key_marker="same", upload_id_marker=made[1].upload_id, max_uploads=10
        )
        assert [u.upload_id for u in page.uploads] == [u.upload_id for u in made[2:]]
        assert not page.is_truncated

    def test_a_key_marker_without_an_upload_id_marker_skips_that_key(self, store: ObjectStore) -> None:
        for key in ("a", "b", "b", "c"):
            new_upload(store, key)
        page = store.list_uploads(BUCKET, key_marker="b")
        assert [u.key for u in page.uploads] == ["c"]

    def test_uploads_roll_up_by_prefix_and_delimiter(self, store: ObjectStore) -> None:
        for key in ("photos/2024/a", "photos/2024/b", "photos/2025/c", "photos/top", "videos/x"):
            new_upload(store, key)
        page = store.list_uploads(BUCKET, prefix="photos/", delimiter="/")
        assert [u.key for u in page.uploads] == ["photos/top"]
        assert page.common_prefixes == ["photos/2024/", "photos/2025/"]
