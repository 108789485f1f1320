"""ListObjects (v1, marker), ListObjectsV2 (continuation token) and ListObjectVersions."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from urllib.parse import quote_plus

from strato.digits import is_digits
from strato.http.responses import Response
from strato.storage.records import ListPage

from .. import headers as h
from .. import xml
from ..call import Call
from ..errors import invalid_argument
from ..shapes import CommonPrefix, Contents, ListBucketResult, ListVersionsResult, VersionEntry
from .buckets import root_owner


def encoder(query: Mapping[str, str]) -> Callable[[str], str]:
    """encoding-type=url percent-encodes keys and prefixes in the response (form style)."""
    kind = query.get("encoding-type")
    if kind is None:
        return lambda text: text
    if kind.lower() != "url":
        raise invalid_argument("Invalid Encoding Method specified in Request", "encoding-type", kind)
    return _url_encode


_URL_SAFE = re.compile(r"[A-Za-z0-9_.\-~/]*")


def _url_encode(text: str) -> str:
    return text if _URL_SAFE.fullmatch(text) else quote_plus(text, safe="/")


def max_param(query: Mapping[str, str], name: str, cap: int) -> int:
    text = query.get(name, str(cap))
    if not is_digits(text.lstrip("-")) or int(text) < 0:
        raise invalid_argument(f"Provided {name} not an integer or within integer range", name, text)
    return min(int(text), cap)


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _untoken(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise invalid_argument("The continuation token provided is incorrect", "continuation-token", token) from None


async def list_objects(call: Call) -> Response:
    return _list(call, v2=False)


async def list_objects_v2(call: Call) -> Response:
    return _list(call, v2=True)


def _page(call: Call, prefix: str, delimiter: str, marker: str, max_keys: int) -> ListPage:
    if max_keys == 0:  # nothing asked for, so nothing left out: not truncated
        call.store.get_bucket(call.bucket)
        return ListPage(objects=[], common_prefixes=[], is_truncated=False, next_marker=None)
    return call.store.list_objects(call.bucket, prefix=prefix, delimiter=delimiter, marker=marker,
                                   max_keys=max_keys)


def _list(call: Call, v2: bool) -> Response:
    query = call.request.query
    encode = encoder(query)
    max_keys = max_param(query, "max-keys", 1000)
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    if v2:
        token = query.get("continuation-token")
        marker = _untoken(token) if token is not None else query.get("start-after", "")
    else:
        marker = query.get("marker", "")
    page = _page(call, prefix, delimiter, marker, max_keys)
    owner = root_owner() if (not v2 or query.get("fetch-owner", "").lower() == "true") else None
    contents = [
        Contents(
            key=encode(o.key), last_modified=xml.IsoTime(o.last_modified), etag=f'"{o.etag}"',
            checksum_algorithm=o.checksum_algorithm, checksum_type=o.checksum_type if o.checksum_algorithm else None,
            size=o.size, owner=owner, storage_class=o.storage_class,
        )
        for o in page.objects
    ]
    result = ListBucketResult(
        # v1 echoes its Prefix unencoded (botocore decodes only v1's Delimiter, Marker, NextMarker)
        name=call.bucket, prefix=encode(prefix) if v2 else prefix, max_keys=max_keys,
        delimiter=encode(delimiter) if delimiter else None,
        encoding_type=query.get("encoding-type"), is_truncated=page.is_truncated,
        contents=contents, common_prefixes=[CommonPrefix(encode(p)) for p in page.common_prefixes],
    )
    if v2:
        result.key_count = len(contents) + len(page.common_prefixes)
        result.continuation_token = query.get("continuation-token")
        result.start_after = encode(query["start-after"]) if "start-after" in query else None
        if page.is_truncated and page.next_marker is not None:
            result.next_continuation_token = _token(page.next_marker)
    else:
        result.marker = encode(marker)
        if page.is_truncated and delimiter and page.next_marker is not None:
            result.next_marker = encode(page.next_marker)
    return xml.response("ListBucketResult", result)


async def list_object_versions(call: Call) -> Response:
    """ListObjectVersions (AWS API reference). Versioning cannot be enabled on a strato bucket,
    so each object is its only, latest version, whose id is "null"."""
    query = call.request.query
    encode = encoder(query)
    max_keys = max_param(query, "max-keys", 1000)
    prefix = query.get("prefix", "")
    delimiter = query.get("delimiter", "")
    key_marker = query.get("key-marker", "")
    version_marker = query.get("version-id-marker", "")
    if version_marker and not key_marker:
        raise invalid_argument("A version-id marker cannot be specified without a key marker.",
                               "version-id-marker", version_marker)
    if version_marker not in ("", h.NULL_VERSION):
        raise invalid_argument("Invalid version id specified", "version-id-marker", version_marker)
    page = _page(call, prefix, delimiter, key_marker, max_keys)
    owner = root_owner()
    truncated = page.is_truncated and page.next_marker is not None
    # A page that ends on a common prefix has no version to resume after: S3 then names only NextKeyMarker.
    ends_on_version = truncated and page.next_marker not in page.common_prefixes
    result = ListVersionsResult(
        name=call.bucket, prefix=encode(prefix), key_marker=encode(key_marker), version_id_marker=version_marker,
        next_key_marker=encode(page.next_marker) if truncated and page.next_marker is not None else None,
        next_version_id_marker=h.NULL_VERSION if ends_on_version else None,
        max_keys=max_keys, delimiter=encode(delimiter) if delimiter else None,
        encoding_type=query.get("encoding-type"), is_truncated=truncated,
        version=[
            VersionEntry(
                key=encode(o.key), version_id=h.NULL_VERSION, is_latest=True,
                last_modified=xml.IsoTime(o.last_modified), etag=f'"{o.etag}"',
                checksum_algorithm=o.checksum_algorithm,
                checksum_type=o.checksum_type if o.checksum_algorithm else None,
                size=o.size, owner=owner, storage_class=o.storage_class,
            )
            for o in page.objects
        ],
        common_prefixes=[CommonPrefix(encode(p)) for p in page.common_prefixes],
    )
    return xml.response("ListVersionsResult", result)
