"""ObjectStore: the storage engine's facade, and the owner of the write protocol.

A write streams the body into a blob (temp file, fsync, rename, directory fsync), or keeps
it in memory when it is small enough to live inline in the metadata row, verifies every
digest the client announced, and only then commits the metadata. Until that commit nothing
is visible; after it, the write is durable. Blobs an overwrite or delete frees are removed
after the commit, so a crash can only ever leave unreachable files for recovery to sweep.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from strato.storage import checksums, listing, multipart
from strato.storage.blobs import BlobStore, BlobWriter
from strato.storage.errors import (
    BadDigest,
    EntityTooLarge,
    IncompleteBody,
    InvalidPartNumber,
    NoSuchBucket,
    NoSuchKey,
    NoSuchUpload,
    PreconditionFailed,
)
from strato.storage.metadata import MetadataStore
from strato.storage.reader import ObjectReader
from strato.storage.records import (
    STANDARD,
    Bucket,
    Cause,
    Change,
    Expectation,
    ListPage,
    ObjectVersion,
    Part,
    PartPage,
    Segment,
    Upload,
    UploadPage,
)
from strato.storage.recovery import RecoveryReport, recover
from strato.storage.sqlite_meta import SqliteMetadataStore

T = TypeVar("T")
INLINE_LIMIT = 64 * 1024
WRITE_BATCH = 1024 * 1024
EAGER_SEGMENTS = 64


@dataclass(frozen=True, slots=True)
class WriteConditions:
    """Conditional-write headers, checked atomically inside the metadata transaction."""

    if_match: str | None = None
    if_none_match: str | None = None
    key: str = ""

    def check(self, current: ObjectVersion | None) -> None:
        if (
            self.if_none_match is not None and current is not None
            and (self.if_none_match == "*" or self.if_none_match.strip('"') == current.etag)
        ):
            raise PreconditionFailed("If-None-Match")
        if self.if_match is not None:
            if current is None:
                raise NoSuchKey(self.key)
            if self.if_match != "*" and self.if_match.strip('"') != current.etag:
                raise PreconditionFailed("If-Match")

    def __bool__(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


@dataclass(slots=True)
class _Ingested:
    size: int
    md5: bytes
    checksums: dict[str, str]
    inline: bytes | None = None
    blob: str | None = None


async def _to_completion(work: Awaitable[T]) -> T:
    """Run `work` to its end even if the caller is cancelled meanwhile, then re-raise the
    cancellation. A queued metadata write cannot be recalled, so a caller that stopped waiting
    could not tell a committed write from a failed one (and would delete blobs it references),
    and a thread still writing a blob must finish before the blob can be discarded."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        if not task.cancelled():
            task.exception()  # retrieved: the caller's cancellation takes precedence
        raise asyncio.CancelledError
    return task.result()


async def _in_thread(fn: Callable[..., T], *args: Any) -> T:
    return await _to_completion(asyncio.to_thread(fn, *args))


class ObjectStore:
    def __init__(self, data_dir: Path, meta: MetadataStore | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.blobs = BlobStore(data_dir)
        self.meta: MetadataStore = meta or SqliteMetadataStore(data_dir / "meta.sqlite3")

    def recover(self) -> RecoveryReport:
        return recover(self.meta, self.blobs)

    def close(self) -> None:
        self.meta.close()

    # -- buckets ----------------------------------------------------------------------

    async def create_bucket(self, name: str, region: str) -> bool:
        """False when the bucket already exists."""
        return await self.meta.create_bucket(Bucket(name, time.time(), region))

    async def delete_bucket(self, name: str) -> None:
        """As S3: objects keep a bucket alive (BucketNotEmpty); multipart uploads in progress
        do not, they are aborted with it (in one transaction: an upload created meanwhile
        cannot slip in between)."""

        async def delete() -> None:
            await self._free(await self.meta.delete_bucket(name))

        await _to_completion(delete())

    def get_bucket(self, name: str) -> Bucket:
        bucket = self.meta.get_bucket(name)
        if bucket is None:
            raise NoSuchBucket(name)
        return bucket

    def list_buckets(self, prefix: str = "", after: str = "", limit: int = 10_000) -> list[Bucket]:
        return self.meta.list_buckets(prefix, after, limit)

    # A bucket's policy is an opaque document here: the API layer validates and evaluates it.

    def bucket_policy(self, name: str) -> str | None:
        """The bucket's policy document, None when it has none; NoSuchBucket when no bucket."""
        return self.meta.get_bucket_policy(name)

    async def put_bucket_policy(self, name: str, policy: str) -> None:
        await self.meta.set_bucket_policy(name, policy)

    async def delete_bucket_policy(self, name: str) -> None:
        await self.meta.set_bucket_policy(name, None)

    # A bucket's CORS configuration is an opaque document here too: the API layer reads its rules.

    def bucket_cors(self, name: str) -> str | None:
        """The bucket's CORS configuration document, None when it has none; NoSuchBucket when no bucket."""
        return self.meta.get_bucket_cors(name)

    async def put_bucket_cors(self, name: str, document: str) -> None:
        await self.meta.set_bucket_cors(name, document)

    async def delete_bucket_cors(self, name: str) -> None:
        await self.meta.set_bucket_cors(name, None)

    # A bucket's notification configuration is an opaque document too: the events layer reads it.

    def bucket_notification(self, name: str) -> str | None:
        """The bucket's notification configuration document, None when it has none; NoSuchBucket when no bucket."""
        return self.meta.get_bucket_notification(name)

    async def put_bucket_notification(self, name: str, document: str | None) -> None:
        """Set the configuration; None removes it."""
        await self.meta.set_bucket_notification(name, document)

    def changes(self, limit: int = 64) -> list[Change]:
        """Object changes recorded for notifications, oldest first, until forgotten."""
        return self.meta.changes(limit)

    async def forget_changes(self, ids: list[int]) -> None:
        await self.meta.forget_changes(ids)

    # Tags are opaque key/value pairs here: the API layer enforces the protocol's limits.

    def bucket_tags(self, name: str) -> dict[str, str] | None:
        """The bucket's tag set, None when it has none; NoSuchBucket when no bucket."""
        return self.meta.get_bucket_tags(name)

    async def put_bucket_tags(self, name: str, tags: Mapping[str, str]) -> None:
        await self.meta.set_bucket_tags(name, tags)

    async def delete_bucket_tags(self, name: str) -> None:
        await self.meta.set_bucket_tags(name, None)

    # -- objects ----------------------------------------------------------------------

    def head_object(self, bucket: str, key: str) -> ObjectVersion:
        obj = self.meta.get_object(bucket, key)
        if obj is None:
            self.get_bucket(bucket)
            raise NoSuchKey(key)
        return obj

    async def open_object(self, bucket: str, key: str) -> ObjectReader:
        """Open for reading. The first EAGER_SEGMENTS blobs are opened before this returns,
        so an overwrite racing with the read cannot pull them away from under it."""
        for _ in range(5):
            obj = self.meta.get_object(bucket, key, with_body=True)
            if obj is None:
                self.get_bucket(bucket)
                raise NoSuchKey(key)
            opened: dict[int, int] = {}
            try:
                for index, segment in enumerate(obj.segments[:EAGER_SEGMENTS]):
                    opened[index] = self.blobs.open(segment.blob)
            except FileNotFoundError:
                for fd in opened.values():
                    os.close(fd)
                continue
            return ObjectReader(obj, self.blobs, opened)
        raise NoSuchKey(key)

    async def put_object_tags(self, bucket: str, key: str, tags: Mapping[str, str]) -> ObjectVersion:
        """Replace the current object's tags (an empty mapping removes them). Only the
        metadata row changes: the bytes, ETag and Last-Modified stay as they were."""
        return await _to_completion(self.meta.set_object_tags(bucket, key, tags))

    async def put_object(
        self, bucket: str, key: str, body: AsyncIterator[bytes], expect: Expectation, *,
        system: dict[str, str], user: dict[str, str], conditions: WriteConditions | None = None,
        max_size: int | None = None, storage_class: str = STANDARD, tags: Mapping[str, str] | None = None,
        cause: Cause | None = None,
    ) -> ObjectVersion:
        """`cause`: the request, recorded with the change when the bucket has a notification configuration."""
        self.get_bucket(bucket)
        if conditions:
            conditions.check(self.meta.get_object(bucket, key))
        algorithm = expect.algorithm or checksums.DEFAULT_ALGORITHM
        data = await self._ingest(body, expect, (algorithm,), inline=True, max_size=max_size)
        obj = ObjectVersion(
            bucket=bucket, key=key, size=data.size, etag=data.md5.hex(), last_modified=time.time(),
            system=system, user=user, checksums=data.checksums, checksum_type=checksums.FULL_OBJECT,
            segments=(Segment(data.blob, data.size),) if data.blob else (), inline=data.inline,
            storage_class=storage_class, tags=dict(tags or {}),
        )
        return await self._commit(obj, [data.blob] if data.blob else [], conditions, cause)

    async def copy_object(
        self, source: ObjectReader, bucket: str, key: str, *, system: dict[str, str], user: dict[str, str],
        algorithm: str | None = None, conditions: WriteConditions | None = None,
        storage_class: str = STANDARD, tags: Mapping[str, str] | None = None, cause: Cause | None = None,
    ) -> ObjectVersion:
        """A write whose body is the source's bytes, checksummed with the source's algorithm
        (as a whole-object checksum) unless another is asked for."""
        src = source.obj
        expect = Expectation(size=src.size, algorithm=algorithm or next(iter(src.checksums), None))
        return await self.put_object(
            bucket, key, source.iter_range(0, src.size), expect, system=system, user=user, conditions=conditions,
            storage_class=storage_class, tags=tags, cause=cause,
        )

    async def _commit(
        self, obj: ObjectVersion, new_blobs: list[str], conditions: WriteConditions | None, cause: Cause | None
    ) -> ObjectVersion:
        check = conditions.check if conditions else None

        async def commit() -> ObjectVersion:
            freed = await self._settle(self.meta.put_object(obj, check, cause), new_blobs)
            await self._free(freed)
            return obj

        return await _to_completion(commit())

    async def _settle(self, write: Awaitable[T], new_blobs: list[str]) -> T:
        """Await a metadata write that references `new_blobs`, deleting them if it failed."""
        try:
            return await write
        except asyncio.CancelledError:
            # Only at loop shutdown (callers run this to completion): the write may still have
            # committed, so keep the blobs; if it did not, recovery sweeps them at startup.
            raise
        except BaseException:
            await asyncio.to_thread(self.blobs.delete, new_blobs)
            raise

    async def _free(self, blob_ids: list[str]) -> None:
        if blob_ids:
            await asyncio.to_thread(self.blobs.delete, blob_ids)

    async def delete_objects(
        self, bucket: str, keys: list[str], conditions: Mapping[str, WriteConditions] | None = None,
        cause: Cause | None = None,
    ) -> dict[str, Exception]:
        """Delete `keys` in one transaction; a key whose conditions do not hold (checked
        inside it) is left alone and returned with the PreconditionFailed or NoSuchKey why."""
        checks = {key: c.check for key, c in conditions.items() if c} if conditions else None

        async def delete() -> dict[str, Exception]:
            freed, refused = await self.meta.delete_objects(bucket, keys, checks, cause)
            await self._free(freed)
            return refused

        return await _to_completion(delete())

    def list_objects(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", marker: str = "", max_keys: int = 1000
    ) -> ListPage:
        self.get_bucket(bucket)
        return listing.list_objects(
            self.meta, bucket, prefix=prefix, delimiter=delimiter, marker=marker, max_keys=max_keys
        )

    # -- multipart --------------------------------------------------------------------

    async def create_upload(
        self, bucket: str, key: str, *, system: dict[str, str], user: dict[str, str],
        checksum_algorithm: str | None, checksum_type: str | None, storage_class: str = STANDARD,
        tags: Mapping[str, str] | None = None,
    ) -> Upload:
        upload = Upload(
            upload_id=f"{time.time_ns():016x}{secrets.token_hex(12)}", bucket=bucket, key=key,
            initiated=time.time(), system=system, user=user,
            checksum_algorithm=checksum_algorithm, checksum_type=checksum_type, storage_class=storage_class,
            tags=dict(tags or {}),
        )
        await self.meta.create_upload(upload)
        return upload

    def get_upload(self, bucket: str, key: str, upload_id: str) -> Upload:
        upload = self.meta.get_upload(upload_id)
        if upload is None or upload.bucket != bucket or upload.key != key:
            self.get_bucket(bucket)
            raise NoSuchUpload(upload_id)
        return upload

    async def upload_part(
        self, bucket: str, key: str, upload_id: str, number: int, body: AsyncIterator[bytes],
        expect: Expectation, max_size: int | None = None,
    ) -> Part:
        if not 1 <= number <= multipart.MAX_PART_NUMBER:
            raise InvalidPartNumber(str(number))
        upload = self.get_upload(bucket, key, upload_id)
        multipart.check_part_checksum(upload, expect.algorithm)
        algorithms = {upload.checksum_algorithm or checksums.DEFAULT_ALGORITHM}
        if expect.algorithm:
            algorithms.add(expect.algorithm)
        data = await self._ingest(body, expect, tuple(algorithms), inline=False, max_size=max_size)
        assert data.blob is not None
        part = Part(upload_id, number, data.size, data.md5.hex(), time.time(), data.blob, data.checksums)

        async def commit() -> Part:
            await self._free(await self._settle(self.meta.put_part(part), [part.blob]))
            return part

        return await _to_completion(commit())

    async def complete_upload(
        self, bucket: str, key: str, upload_id: str, requested: list[multipart.CompletedPart],
        conditions: WriteConditions | None = None, expected: dict[str, str] | None = None,
        cause: Cause | None = None,
    ) -> ObjectVersion:
        self.get_upload(bucket, key, upload_id)

        async def complete() -> ObjectVersion:
            obj, freed = await self.meta.complete_upload(
                upload_id, lambda upload, stored: multipart.assemble(upload, stored, requested, expected=expected),
                conditions.check if conditions else None, cause,
            )
            await self._free(freed)
            return obj

        return await _to_completion(complete())

    async def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.get_upload(bucket, key, upload_id)

        async def abort() -> None:
            await self._free(await self.meta.abort_upload(upload_id))

        await _to_completion(abort())

    def list_parts(
        self, bucket: str, key: str, upload_id: str, marker: int, max_parts: int
    ) -> tuple[Upload, PartPage]:
        upload = self.get_upload(bucket, key, upload_id)
        parts = self.meta.list_parts(upload_id, marker, max_parts + 1)
        truncated = len(parts) > max_parts
        parts = parts[:max_parts]
        return upload, PartPage(parts, truncated)

    def list_uploads(
        self, bucket: str, *, prefix: str = "", delimiter: str = "", key_marker: str = "",
        upload_id_marker: str = "", max_uploads: int = 1000,
    ) -> UploadPage:
        self.get_bucket(bucket)
        return listing.list_uploads(
            self.meta, bucket, prefix=prefix, delimiter=delimiter, key_marker=key_marker,
            upload_id_marker=upload_id_marker, max_uploads=max_uploads,
        )

    # -- body ingestion ---------------------------------------------------------------

    async def _ingest(
        self, body: AsyncIterator[bytes], expect: Expectation, algorithms: tuple[str, ...], *,
        inline: bool, max_size: int | None = None,
    ) -> _Ingested:
        """Stream a body into memory (small) or a committed blob, verifying its digests.

        Each blocking step runs to completion even if the caller is cancelled meanwhile, so no
        thread still writes to the blob when a failure path discards it."""
        digests = checksums.BodyDigests(algorithms)
        pending: list[bytes] = []
        pending_size = 0
        writer: BlobWriter | None = None
        try:
            async for chunk in body:
                if max_size is not None and digests.size + pending_size + len(chunk) > max_size:
                    raise EntityTooLarge(str(max_size))
                pending.append(chunk)
                pending_size += len(chunk)
                if writer is None:
                    if inline and pending_size <= INLINE_LIMIT:
                        continue
                    writer = self.blobs.writer()
                if pending_size >= WRITE_BATCH:
                    await _in_thread(_write_and_hash, writer, digests, pending)
                    pending, pending_size = [], 0
            if writer is None and not inline:
                writer = self.blobs.writer()
            if writer is None:
                for chunk in pending:
                    digests.update(chunk)
                _verify(expect, digests)
                return _Ingested(digests.size, digests.md5(), digests.checksums(), inline=b"".join(pending))
            await _in_thread(_write_and_hash, writer, digests, pending)
            _verify(expect, digests)
            blob = await _in_thread(writer.commit)
            return _Ingested(digests.size, digests.md5(), digests.checksums(), blob=blob)
        except BaseException:
            if writer is not None:
                await _in_thread(writer.discard)
            raise


def _write_and_hash(writer: BlobWriter, digests: checksums.BodyDigests, chunks: list[bytes]) -> None:
    for chunk in chunks:
        digests.update(chunk)
        writer.write(chunk)


def _verify(expect: Expectation, digests: checksums.BodyDigests) -> None:
    if expect.size is not None and digests.size != expect.size:
        raise IncompleteBody(f"{digests.size} of {expect.size} bytes")
    if expect.md5 is not None and expect.md5 != digests.md5():
        raise BadDigest("MD5")
    computed = digests.checksums()
    for algorithm, value in expect.checksums.items():
        if computed.get(algorithm) != value:
            raise BadDigest(algorithm)
