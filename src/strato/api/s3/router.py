"""Pure routing: (method, host, path, query, headers) -> a typed Endpoint.

Source: the Amazon S3 API reference's request syntax for each operation. The bucket comes
from the Host header (virtual-hosted style, `bucket.<domain>`) or the first path segment
(path style); the operation from the method, the subresource in the query and, for PUT,
whether a copy source is named.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Endpoint:
    operation: str
    bucket: str | None = None
    key: str | None = None
    virtual_host: bool = False


# (method, subresource) -> operation, checked in order; the first subresource present wins.
_SERVICE = {"GET": "ListBuckets"}

_BUCKET: dict[str, list[tuple[str, str]]] = {
    "GET": [
        ("location", "GetBucketLocation"), ("uploads", "ListMultipartUploads"), ("versions", "ListObjectVersions"),
        ("acl", "GetBucketAcl"), ("cors", "GetBucketCors"), ("lifecycle", "GetBucketLifecycleConfiguration"),
        ("policy", "GetBucketPolicy"), ("policyStatus", "GetBucketPolicyStatus"), ("versioning", "GetBucketVersioning"),
        ("tagging", "GetBucketTagging"), ("notification", "GetBucketNotificationConfiguration"),
        ("website", "GetBucketWebsite"), ("encryption", "GetBucketEncryption"), ("logging", "GetBucketLogging"),
        ("object-lock", "GetObjectLockConfiguration"), ("ownershipControls", "GetBucketOwnershipControls"),
        ("publicAccessBlock", "GetPublicAccessBlock"), ("accelerate", "GetBucketAccelerateConfiguration"),
        ("requestPayment", "GetBucketRequestPayment"), ("replication", "GetBucketReplication"),
        ("intelligent-tiering", "GetBucketIntelligentTieringConfiguration"),
        ("analytics", "GetBucketAnalyticsConfiguration"), ("inventory", "GetBucketInventoryConfiguration"),
        ("metrics", "GetBucketMetricsConfiguration"), ("session", "CreateSession"),
    ],
    "PUT": [
        ("acl", "PutBucketAcl"), ("cors", "PutBucketCors"), ("lifecycle", "PutBucketLifecycleConfiguration"),
        ("policy", "PutBucketPolicy"), ("versioning", "PutBucketVersioning"), ("tagging", "PutBucketTagging"),
        ("notification", "PutBucketNotificationConfiguration"), ("website", "PutBucketWebsite"),
        ("encryption", "PutBucketEncryption"), ("logging", "PutBucketLogging"),
        ("object-lock", "PutObjectLockConfiguration"), ("ownershipControls", "PutBucketOwnershipControls"),
        ("publicAccessBlock", "PutPublicAccessBlock"), ("accelerate", "PutBucketAccelerateConfiguration"),
        ("requestPayment", "PutBucketRequestPayment"), ("replication", "PutBucketReplication"),
        ("intelligent-tiering", "PutBucketIntelligentTieringConfiguration"),
        ("analytics", "PutBucketAnalyticsConfiguration"), ("inventory", "PutBucketInventoryConfiguration"),
        ("metrics", "PutBucketMetricsConfiguration"),
    ],
    "DELETE": [
        ("cors", "DeleteBucketCors"), ("lifecycle", "DeleteBucketLifecycle"), ("policy", "DeleteBucketPolicy"),
        ("tagging", "DeleteBucketTagging"), ("website", "DeleteBucketWebsite"),
        ("encryption", "DeleteBucketEncryption"), ("ownershipControls", "DeleteBucketOwnershipControls"),
        ("publicAccessBlock", "DeletePublicAccessBlock"), ("replication", "DeleteBucketReplication"),
        ("intelligent-tiering", "DeleteBucketIntelligentTieringConfiguration"),
        ("analytics", "DeleteBucketAnalyticsConfiguration"), ("inventory", "DeleteBucketInventoryConfiguration"),
        ("metrics", "DeleteBucketMetricsConfiguration"),
    ],
    "POST": [("delete", "DeleteObjects")],
}
_BUCKET_DEFAULT = {"GET": "ListObjects", "PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
                   "POST": "PostObject", "OPTIONS": "PreflightRequest"}

_OBJECT: dict[str, list[tuple[str, str]]] = {
    "GET": [
        ("uploadId", "ListParts"), ("attributes", "GetObjectAttributes"), ("acl", "GetObjectAcl"),
        ("tagging", "GetObjectTagging"), ("retention", "GetObjectRetention"), ("legal-hold", "GetObjectLegalHold"),
        ("torrent", "GetObjectTorrent"),
    ],
    "PUT": [
        ("acl", "PutObjectAcl"), ("tagging", "PutObjectTagging"), ("retention", "PutObjectRetention"),
        ("legal-hold", "PutObjectLegalHold"),
    ],
    "DELETE": [("uploadId", "AbortMultipartUpload"), ("tagging", "DeleteObjectTagging")],
    "POST": [
        ("uploads", "CreateMultipartUpload"), ("uploadId", "CompleteMultipartUpload"), ("restore", "RestoreObject"),
        ("select", "SelectObjectContent"),
    ],
}
_OBJECT_DEFAULT = {"GET": "GetObject", "HEAD": "HeadObject", "PUT": "PutObject", "DELETE": "DeleteObject",
                   "OPTIONS": "PreflightRequest"}


def bucket_from_host(host: str, domains: Sequence[str]) -> str | None:
    """The bucket named by a virtual-hosted-style Host header, if any.

    A host that is itself a configured domain is path style, even when it is also a
    subdomain of another configured domain; otherwise the longest matching domain wins.
    """
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower().rstrip(".")
    matched = ""
    for domain in domains:
        domain = domain.lower().rstrip(".")
        if name == domain:
            return None
        if name.endswith("." + domain) and len(domain) > len(matched):
            matched = domain
    if not matched:
        return None
    return name[: -len(matched) - 1] or None


def route(
    method: str, host: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
    domains: Sequence[str] = (),
) -> Endpoint:
    """The S3 operation a request names; 'Unknown' when no operation matches the method."""
    bucket = bucket_from_host(host, domains)
    virtual = bucket is not None
    if virtual:
        key = path[1:] if path.startswith("/") else path
    else:
        trimmed = path[1:] if path.startswith("/") else path
        bucket, _, key = trimmed.partition("/")
        if not bucket:
            return Endpoint(_SERVICE.get(method, "Unknown"))
    if not key:
        for subresource, operation in _BUCKET.get(method, []):
            if subresource in query:
                return Endpoint(operation, bucket, None, virtual)
        operation = _BUCKET_DEFAULT.get(method, "Unknown")
        if operation == "ListObjects" and query.get("list-type") == "2":
            operation = "ListObjectsV2"
        return Endpoint(operation, bucket, None, virtual)
    if method == "PUT" and "partNumber" in query and "uploadId" in query:
        operation = "UploadPartCopy" if "x-amz-copy-source" in headers else "UploadPart"
        return Endpoint(operation, bucket, key, virtual)
    for subresource, operation in _OBJECT.get(method, []):
        if subresource in query:
            return Endpoint(operation, bucket, key, virtual)
    operation = _OBJECT_DEFAULT.get(method, "Unknown")
    if operation == "PutObject" and "x-amz-copy-source" in headers:
        operation = "CopyObject"
    return Endpoint(operation, bucket, key, virtual)
