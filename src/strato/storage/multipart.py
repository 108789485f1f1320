"""Completing a multipart upload: pure validation and assembly of the final object.

An upload moves Created -> (parts uploaded, replaced) -> Completed | Aborted. Completion
runs inside the metadata transaction, so parts uploaded or an abort racing with it are seen
consistently: the object is built from exactly the parts the transaction saw.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass

from strato.storage import checksums
from strato.storage.errors import BadDigest, EntityTooSmall, InvalidPart, InvalidPartOrder, InvalidRequest
from strato.storage.records import ObjectVersion, Part, PartInfo, Segment, Upload

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000


@dataclass(frozen=True, slots=True)
class CompletedPart:
    """A part as the client names it in CompleteMultipartUpload."""

    number: int
    etag: str
    checksums: dict[str, str]


def _checksum_type(upload: Upload) -> str:
    """The upload's checksum type: as created, else FULL_OBJECT for the default CRC64NVME and
    COMPOSITE for any algorithm the client chose."""
    full = not upload.checksum_algorithm or upload.checksum_algorithm == "CRC64NVME"
    return upload.checksum_type or (checksums.FULL_OBJECT if full else checksums.COMPOSITE)


def _require_part_checksum(upload: Upload, want: CompletedPart) -> None:
    """An upload created with a composite checksum algorithm needs each part's checksum in the
    completion request, as S3 requires (API_CompleteMultipartUpload, checking object integrity)."""
    algorithm = upload.checksum_algorithm
    if algorithm and _checksum_type(upload) == checksums.COMPOSITE and algorithm not in want.checksums:
        raise InvalidRequest(
            f"The upload was created using a {algorithm.lower()} checksum. The complete request must include "
            f"the checksum for each part. It was missing for part {want.number} in the request."
        )


def check_part_checksum(upload: Upload, algorithm: str | None) -> None:
    """A part of an upload created with a checksum algorithm carries that algorithm's checksum;
    a FULL_OBJECT upload may leave it to the server (API_UploadPart, checking object integrity)."""
    expected = upload.checksum_algorithm
    if expected is None or algorithm == expected:
        return
    if algorithm is None and _checksum_type(upload) == checksums.FULL_OBJECT:
        return
    raise InvalidRequest(
        f"Checksum Type mismatch occurred, expected checksum Type: {expected.lower()}, "
        f"actual checksum Type: {(algorithm or 'null').lower()}"
    )


def _object_checksum(upload: Upload, parts: list[Part]) -> tuple[dict[str, str], str | None]:
    algorithm = upload.checksum_algorithm or checksums.DEFAULT_ALGORITHM
    if any(algorithm not in p.checksums for p in parts):
        if upload.checksum_algorithm:
            raise InvalidRequest(f"every part must carry a {algorithm} checksum")
        return {}, None
    values = [p.checksums[algorithm] for p in parts]
    kind = _checksum_type(upload)
    if kind == checksums.FULL_OBJECT:
        combined = checksums.full_object(algorithm, [(v, p.size) for v, p in zip(values, parts, strict=True)])
        return {algorithm: combined}, kind
    return {algorithm: checksums.composite(algorithm, values)}, kind


def assemble(
    upload: Upload, stored: dict[int, Part], requested: list[CompletedPart],
    min_part_size: int = MIN_PART_SIZE, expected: Mapping[str, str] | None = None,
) -> tuple[ObjectVersion, list[str]]:
    """The completed object and the blobs of stored parts it leaves out. `expected` holds
    whole-object checksums the client announced; a mismatch refuses the completion."""
    numbers = [p.number for p in requested]
    if any(b <= a for a, b in itertools.pairwise(numbers)):
        raise InvalidPartOrder(upload.upload_id)
    chosen: list[Part] = []
    for want in requested:
        part = stored.get(want.number)
        etag = want.etag.strip('"')
        if part is None or etag != part.etag or any(part.checksums.get(a) != v for a, v in want.checksums.items()):
            raise InvalidPart(upload.upload_id, want.number, etag)
        _require_part_checksum(upload, want)
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < min_part_size:
            raise EntityTooSmall(part.number, part.size, part.etag, min_part_size)
    object_checksums, checksum_type = _object_checksum(upload, chosen)
    for algorithm, value in (expected or {}).items():
        computed = object_checksums.get(algorithm)
        if computed is None or computed.split("-")[0] != value.split("-")[0]:
            raise BadDigest(algorithm)
    used = {p.number for p in chosen}
    obj = ObjectVersion(
        bucket=upload.bucket,
        key=upload.key,
        size=sum(p.size for p in chosen),
        etag=checksums.etag_of_parts(p.etag for p in chosen),
        last_modified=time.time(),
        system=upload.system,
        user=upload.user,
        checksums=object_checksums,
        checksum_type=checksum_type,
        parts=tuple(PartInfo(p.number, p.size, p.etag, p.checksums) for p in chosen),
        segments=tuple(Segment(p.blob, p.size) for p in chosen),
        storage_class=upload.storage_class,
        tags=upload.tags,
    )
    return obj, [p.blob for n, p in stored.items() if n not in used]
