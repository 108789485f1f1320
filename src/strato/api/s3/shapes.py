"""Typed S3 response bodies; xml.render turns them into XML. Field order is element order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .xml import IsoTime, attributed, element, flattened


@dataclass(slots=True)
class Owner:
    id: str = element("ID")
    display_name: str | None = None


@dataclass(slots=True)
class BucketEntry:
    name: str
    creation_date: IsoTime
    bucket_region: str | None = None


@dataclass(slots=True)
class Buckets:
    bucket: list[BucketEntry]


@dataclass(slots=True)
class ListAllMyBucketsResult:
    owner: Owner
    buckets: Buckets
    continuation_token: str | None = None
    prefix: str | None = None


@dataclass(slots=True)
class Contents:
    key: str
    last_modified: IsoTime
    etag: str = element("ETag")
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    size: int = 0
    owner: Owner | None = None
    storage_class: str = "STANDARD"


@dataclass(slots=True)
class CommonPrefix:
    prefix: str


@dataclass(slots=True)
class ListBucketResult:
    """ListObjects (v1: marker fields) and ListObjectsV2 (token fields) share this shape."""

    name: str
    prefix: str
    marker: str | None = None
    next_marker: str | None = None
    continuation_token: str | None = None
    next_continuation_token: str | None = None
    start_after: str | None = None
    key_count: int | None = None
    max_keys: int = 1000
    delimiter: str | None = None
    encoding_type: str | None = None
    is_truncated: bool = False
    contents: list[Contents] | None = None
    common_prefixes: list[CommonPrefix] | None = None


@dataclass(slots=True)
class VersionEntry:
    key: str
    version_id: str
    is_latest: bool
    last_modified: IsoTime
    etag: str = element("ETag")
    checksum_algorithm: str | None = None
    checksum_type: str | None = None
    size: int = 0
    owner: Owner | None = None
    storage_class: str = "STANDARD"


@dataclass(slots=True)
class ListVersionsResult:
    """ListObjectVersions. A bucket that was never versioned holds one "null" version per key."""

    name: str
    prefix: str
    key_marker: str
    version_id_marker: str
    next_key_marker: str | None
    next_version_id_marker: str | None
    max_keys: int
    delimiter: str | None
    encoding_type: str | None
    is_truncated: bool
    version: list[VersionEntry]
    common_prefixes: list[CommonPrefix]


@dataclass(slots=True)
class Checksums:
    checksum_crc32: str | None = element("ChecksumCRC32")
    checksum_crc32c: str | None = element("ChecksumCRC32C")
    checksum_crc64nvme: str | None = element("ChecksumCRC64NVME")
    checksum_sha1: str | None = element("ChecksumSHA1")
    checksum_sha256: str | None = element("ChecksumSHA256")
    checksum_type: str | None = None


@dataclass(slots=True)
class CopyObjectResult:
    etag: str = element("ETag")
    last_modified: IsoTime | None = None
    checksums: Checksums | None = flattened()


@dataclass(slots=True)
class InitiateMultipartUploadResult:
    bucket: str
    key: str
    upload_id: str


@dataclass(slots=True)
class CompleteMultipartUploadResult:
    location: str
    bucket: str
    key: str
    etag: str = element("ETag")
    checksums: Checksums | None = flattened()


@dataclass(slots=True)
class PartEntry:
    part_number: int
    last_modified: IsoTime
    etag: str = element("ETag")
    size: int = 0
    checksums: Checksums | None = flattened()


@dataclass(slots=True)
class ListPartsResult:
    bucket: str
    key: str
    upload_id: str
    part_number_marker: int
    next_part_number_marker: int | None
    max_parts: int
    is_truncated: bool
    part: list[PartEntry]
    initiator: Owner
    owner: Owner
    storage_class: str = "STANDARD"
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(slots=True)
class UploadEntry:
    key: str
    upload_id: str
    initiator: Owner
    owner: Owner
    storage_class: str
    initiated: IsoTime
    checksum_algorithm: str | None = None
    checksum_type: str | None = None


@dataclass(slots=True)
class ListMultipartUploadsResult:
    bucket: str
    key_marker: str
    upload_id_marker: str
    next_key_marker: str | None
    next_upload_id_marker: str | None
    prefix: str | None
    delimiter: str | None
    max_uploads: int
    encoding_type: str | None
    is_truncated: bool
    upload: list[UploadEntry]
    common_prefixes: list[CommonPrefix]


@dataclass(slots=True)
class DeletedEntry:
    key: str
    version_id: str | None = None


@dataclass(slots=True)
class DeleteErrorEntry:
    key: str
    code: str
    message: str
    version_id: str | None = None


@dataclass(slots=True)
class DeleteResult:
    deleted: list[DeletedEntry]
    error: list[DeleteErrorEntry]


@dataclass(slots=True)
class AttributePart:
    part_number: int
    size: int
    checksums: Checksums | None = flattened()


@dataclass(slots=True)
class ObjectParts:
    parts_count: int
    part_number_marker: int
    next_part_number_marker: int | None
    max_parts: int
    is_truncated: bool
    part: list[AttributePart]


@dataclass(slots=True)
class GetObjectAttributesResponse:
    etag: str | None = element("ETag")
    checksum: Checksums | None = None
    object_parts: ObjectParts | None = None
    storage_class: str | None = None
    object_size: int | None = None


def checksums_of(values: Mapping[str, str], checksum_type: str | None = None) -> Checksums | None:
    """The Checksum* elements for a set of checksums (None, so nothing, when there are none)."""
    if not values:
        return None
    return Checksums(**{f"checksum_{name.lower()}": value for name, value in values.items()},
                     checksum_type=checksum_type)


@dataclass(slots=True)
class PolicyStatus:
    is_public: bool


@dataclass(slots=True)
class Tag:
    key: str
    value: str


@dataclass(slots=True)
class TagSet:
    tag: list[Tag]


@dataclass(slots=True)
class Tagging:
    """GetObjectTagging and GetBucketTagging: the tags in the order they were given."""

    tag_set: TagSet


def tagging_of(tags: Mapping[str, str]) -> Tagging:
    return Tagging(TagSet([Tag(key, value) for key, value in tags.items()]))


XSI = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'


@dataclass(slots=True)
class Grantee:
    id: str = element("ID")
    display_name: str | None = None


@dataclass(slots=True)
class Grant:
    grantee: Grantee = attributed("Grantee", f'{XSI} xsi:type="CanonicalUser"')
    permission: str = "FULL_CONTROL"


@dataclass(slots=True)
class AccessControlList:
    grant: list[Grant]


@dataclass(slots=True)
class AccessControlPolicy:
    """GetBucketAcl and GetObjectAcl: the owner alone, with FULL_CONTROL (a private resource)."""

    owner: Owner
    access_control_list: AccessControlList


def private_acl(owner: Owner) -> AccessControlPolicy:
    return AccessControlPolicy(owner, AccessControlList([Grant(Grantee(owner.id, owner.display_name))]))


@dataclass(slots=True)
class OwnershipControlsRule:
    object_ownership: str


@dataclass(slots=True)
class OwnershipControls:
    rule: list[OwnershipControlsRule]


@dataclass(slots=True)
class RequestPaymentConfiguration:
    payer: str
