"""Prefix + delimiter listing as index seeks.

Each common prefix costs one seek past all its keys (to the prefix's byte successor), so a
page costs what it returns, not what the bucket holds. Keys compare as UTF-8 bytes, which is
S3's order (and Python's str order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

from strato.storage.metadata import MetadataStore
from strato.storage.records import ListPage, ObjectSummary, Upload, UploadPage

T = TypeVar("T", ObjectSummary, Upload)
P = TypeVar("P")


def successor(prefix: bytes) -> bytes | None:
    """The smallest byte string greater than every string starting with `prefix`."""
    trimmed = prefix.rstrip(b"\xff")
    if not trimmed:
        return None
    return trimmed[:-1] + bytes([trimmed[-1] + 1])


def _walk(
    scan: Callable[[bytes, P], Iterable[T]],
    resume: Callable[[T], tuple[bytes, P]],
    start: tuple[bytes, P],
    fresh: P,
    prefix: str,
    delimiter: str,
    marker: str,
) -> Iterator[T | str]:
    """Items in key order with keys rolled up into common prefixes, one seek per prefix.

    `scan(low, position)` yields items from a cursor; `resume(item)` is the cursor just past
    an item; `fresh` is the position that starts at the first item of a key.
    """
    low, position = start
    while True:
        last: T | None = None
        for item in scan(low, position):
            last = item
            cut = item.key.find(delimiter, len(prefix)) if delimiter else -1
            if cut < 0:
                yield item
                continue
            common = item.key[: cut + len(delimiter)]
            if common > marker:
                yield common
            after = successor(common.encode())
            if after is None:
                return
            low, position = after, fresh
            break
        else:
            if last is None:
                return
            low, position = resume(last)


def _page(entries: Iterator[T | str], limit: int) -> tuple[list[T], list[str], bool, T | str | None]:
    taken = list(islice(entries, limit + 1))
    truncated = len(taken) > limit
    taken = taken[:limit]
    items = [e for e in taken if not isinstance(e, str)]
    prefixes = [e for e in taken if isinstance(e, str)]
    return items, prefixes, truncated, (taken[-1] if truncated and taken else None)


def list_objects(
    meta: MetadataStore, bucket: str, *, prefix: str, delimiter: str, marker: str, max_keys: int
) -> ListPage:
    high = successor(prefix.encode()) if prefix else None
    start = (marker.encode(), not marker) if marker >= prefix else (prefix.encode(), True)
    entries = _walk(
        lambda low, inclusive: meta.scan_objects(bucket, low, inclusive, high, max_keys + 1),
        lambda obj: (obj.key.encode(), False),
        start, True, prefix, delimiter, marker,
    )
    objects, prefixes, truncated, last = _page(entries, max_keys)
    next_marker = last if isinstance(last, str) else (last.key if last else None)
    return ListPage(
        objects=objects, common_prefixes=prefixes, is_truncated=truncated, next_marker=next_marker
    )


def list_uploads(
    meta: MetadataStore, bucket: str, *, prefix: str, delimiter: str, key_marker: str,
    upload_id_marker: str, max_uploads: int,
) -> UploadPage:
    high = successor(prefix.encode()) if prefix else None
    if not key_marker:
        start = (prefix.encode(), "")
    elif key_marker >= prefix:
        # Without an upload-id marker, the key marker excludes every upload of that key.
        start = (key_marker.encode(), upload_id_marker or "\U0010ffff")
    else:
        start = (prefix.encode(), "")
    entries = _walk(
        lambda low, after: meta.scan_uploads(bucket, low, after, high, max_uploads + 1),
        lambda upload: (upload.key.encode(), upload.upload_id),
        start, "", prefix, delimiter, key_marker,
    )
    uploads, prefixes, truncated, last = _page(entries, max_uploads)
    next_key: str | None
    next_upload: str | None
    if isinstance(last, str):
        next_key, next_upload = last, None
    else:
        next_key, next_upload = (last.key, last.upload_id) if last else (None, None)
    return UploadPage(
        uploads=uploads, common_prefixes=prefixes, is_truncated=truncated,
        next_key_marker=next_key, next_upload_id_marker=next_upload,
    )
