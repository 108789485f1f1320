"""Plain values the engine hands out: buckets, objects, uploads, parts and list pages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

STANDARD = "STANDARD"


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    created: float
    region: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of an object's bytes held in one blob file."""

    blob: str
    size: int


@dataclass(frozen=True, slots=True)
class PartInfo:
    """What a completed multipart object remembers of each part (for partNumber reads)."""

    number: int
    size: int
    etag: str
    checksums: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    """One stored object. `etag` is unquoted (hex, or hex-N for multipart)."""

    bucket: str
    key: str
    size: int
    etag: str
    last_modified: float
    system: Mapping[str, str] = field(default_factory=dict)
    user: Mapping[str, str] = field(default_factory=dict)
    checksums: Mapping[str, str] = field(default_factory=dict)
    checksum_type: str | None = None
    parts: tuple[PartInfo, ...] = ()
    segments: tuple[Segment, ...] = ()
    inline: bytes | None = None
    storage_class: str = STANDARD
    tags: Mapping[str, str] = field(default_factory=dict)

    def blobs(self) -> list[str]:
        return [s.blob for s in self.segments]


class ObjectSummary(NamedTuple):
    """What a listing shows of an object (a tuple: pages build a thousand of them)."""

    key: str
    size: int
    etag: str
    last_modified: float
    storage_class: str
    checksum_algorithm: str | None
    checksum_type: str | None


@dataclass(frozen=True, slots=True)
class ListPage:
    objects: list[ObjectSummary]
    common_prefixes: list[str]
    is_truncated: bool
    next_marker: str | None


@dataclass(frozen=True, slots=True)
class Upload:
    upload_id: str
    bucket: str
    key: str
    initiated: float
    system: Mapping[str, str] = field(default_factory=dict)
    user: Mapping[str, str] = field(default_factory=dict)
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    storage_class: str = STANDARD
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Part:
    upload_id: str
    number: int
    size: int
    etag: str
    last_modified: float
    blob: str
    checksums: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UploadPage:
    uploads: list[Upload]
    common_prefixes: list[str]
    is_truncated: bool
    next_key_marker: str | None
    next_upload_id_marker: str | None


@dataclass(frozen=True, slots=True)
class PartPage:
    parts: list[Part]
    is_truncated: bool


@dataclass(slots=True)
class Expectation:
    """Digests the client announced; trailer checksums arrive while the body streams in."""

    size: int | None = None
    md5: bytes | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    algorithm: str | None = None


@dataclass(frozen=True, slots=True)
class Cause:
    """The request behind a write, as recorded with the changes of a bucket that has a
    notification configuration: `operation` names it in the caller's words (opaque here)."""

    operation: str = ""
    request_id: str = ""
    source_ip: str = ""
    principal: str = ""


@dataclass(frozen=True, slots=True)
class Change:
    """A recorded object change: `kind` is CREATED or REMOVED; a removal has no size or ETag."""

    id: int
    bucket: str
    key: str
    kind: str
    size: int | None
    etag: str | None
    time: float
    cause: Cause


CREATED = "created"
REMOVED = "removed"
