"""Object checksums: MD5 (the ETag) and S3's additional algorithms, whole and combined.

S3 checksums are base64 of the big-endian digest. Multipart objects carry either a
COMPOSITE checksum (hash of the parts' digests, suffixed -N) or a FULL_OBJECT one (CRCs of
the parts combined as if computed over the whole object).
"""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable
from typing import Protocol

from awscrt import checksums as crt

ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256")
CRC_ALGORITHMS = ("CRC32", "CRC32C", "CRC64NVME")
DEFAULT_ALGORITHM = "CRC64NVME"
FULL_OBJECT = "FULL_OBJECT"
COMPOSITE = "COMPOSITE"


class Digest(Protocol):
    def update(self, data: bytes, /) -> None: ...
    def digest(self) -> bytes: ...


class _Crc:
    __slots__ = ("_fn", "_value", "_width")

    def __init__(self, fn: Callable[[bytes, int], int], width: int) -> None:
        self._fn = fn
        self._value = 0
        self._width = width

    def update(self, data: bytes, /) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def new_digest(algorithm: str) -> Digest:
    if algorithm == "CRC32":
        return _Crc(zlib.crc32, 4)
    if algorithm == "CRC32C":
        return _Crc(crt.crc32c, 4)
    if algorithm == "CRC64NVME":
        return _Crc(crt.crc64nvme, 8)
    if algorithm == "SHA1":
        return hashlib.sha1(usedforsecurity=False)
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise ValueError(algorithm)


def encode(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


class BodyDigests:
    """MD5 plus any requested checksums, fed once per chunk."""

    __slots__ = ("_digests", "_md5", "size")

    def __init__(self, algorithms: Iterable[str]) -> None:
        self._md5 = hashlib.md5(usedforsecurity=False)
        self._digests = {name: new_digest(name) for name in algorithms}
        self.size = 0

    def update(self, data: bytes) -> None:
        self._md5.update(data)
        for digest in self._digests.values():
            digest.update(data)
        self.size += len(data)

    def md5(self) -> bytes:
        return self._md5.digest()

    def checksums(self) -> dict[str, str]:
        return {name: encode(d.digest()) for name, d in self._digests.items()}


def composite(algorithm: str, part_checksums: list[str]) -> str:
    """Checksum of the concatenated binary part checksums, suffixed with the part count."""
    digest = new_digest(algorithm)
    for value in part_checksums:
        digest.update(base64.b64decode(value))
    return f"{encode(digest.digest())}-{len(part_checksums)}"


_COMBINE: dict[str, tuple[Callable[[int, int, int], int], int]] = {
    "CRC32": (crt.combine_crc32, 4),
    "CRC32C": (crt.combine_crc32c, 4),
    "CRC64NVME": (crt.combine_crc64nvme, 8),
}


def full_object(algorithm: str, parts: list[tuple[str, int]]) -> str:
    """CRC of the whole object from the parts' CRCs and sizes (no data re-read)."""
    combine, width = _COMBINE[algorithm]
    value = 0
    for index, (checksum, size) in enumerate(parts):
        crc = int.from_bytes(base64.b64decode(checksum), "big")
        value = crc if index == 0 else combine(value, crc, size)
    return encode(value.to_bytes(width, "big"))


def etag_of_parts(md5s: Iterable[str]) -> str:
    """Multipart ETag: MD5 of the concatenated part MD5s, then -N."""
    joined = b"".join(bytes.fromhex(m) for m in md5s)
    count = len(joined) // 16
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{count}"
