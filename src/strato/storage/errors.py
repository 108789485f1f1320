"""Domain errors of the storage engine: protocol layers map them to their own wire errors."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error the engine raises on purpose."""


class NoSuchBucket(StorageError):
    pass


class BucketAlreadyExists(StorageError):
    pass


class BucketNotEmpty(StorageError):
    pass


class NoSuchKey(StorageError):
    pass


class NoSuchUpload(StorageError):
    pass


class InvalidPart(StorageError):
    """A part named in a completion was never uploaded or its ETag/checksum differs; names the
    upload, the part number and the ETag the client sent, which S3's error reports."""

    def __init__(self, upload_id: str, number: int, etag: str) -> None:
        super().__init__(f"part {number} of upload {upload_id}")
        self.upload_id = upload_id
        self.number = number
        self.etag = etag


class InvalidPartOrder(StorageError):
    pass


class EntityTooSmall(StorageError):
    """A part other than the last one is under the minimum part size; names the part, its size
    and ETag and the minimum, which S3's error reports."""

    def __init__(self, number: int, size: int, etag: str, minimum: int) -> None:
        super().__init__(f"part {number} is {size} bytes, under {minimum}")
        self.number = number
        self.size = size
        self.etag = etag
        self.minimum = minimum


class EntityTooLarge(StorageError):
    pass


class IncompleteBody(StorageError):
    """The body ended before the announced length."""


class BadDigest(StorageError):
    """A digest the client announced does not match the bytes received."""

    def __init__(self, algorithm: str) -> None:
        super().__init__(algorithm)
        self.algorithm = algorithm


class PreconditionFailed(StorageError):
    """A conditional write or copy found the object in another state."""


class ConditionalRequestConflict(StorageError):
    """The object changed between a conditional check and the write (e.g. aborted upload)."""


class InvalidPartNumber(StorageError):
    pass


class InvalidRequest(StorageError):
    """The request is well formed but the engine cannot honour it; the text says why."""
