"""ACL operations: Get/PutBucketAcl and Get/PutObjectAcl. Every bucket and object belongs to the
account root and is private to it, so the ACL read is the owner's FULL_CONTROL grant, and the
only ACL a write may set is one that keeps it so (headers.check_acl). Access beyond the owner
is granted by bucket policies, as on an AWS bucket whose Object Ownership is BucketOwnerEnforced."""

from __future__ import annotations

from strato.http.responses import Response

from .. import headers as h
from .. import xml
from ..call import Call
from ..errors import S3Error
from ..shapes import private_acl
from .buckets import root_owner


def _private() -> Response:
    return xml.response("AccessControlPolicy", private_acl(root_owner()))


async def _check_put(call: Call, operation: str) -> None:
    """A canned ACL that keeps the resource private is accepted, as a change to nothing; an
    AccessControlPolicy body (explicit grants) is refused with the same 501 as grant headers."""
    acl = h.check_acl(call.request.headers, operation)
    if (await call.read_xml_body()).strip():
        raise h.acl_refused(operation, "an AccessControlPolicy body")
    if acl is None:
        raise S3Error("MissingSecurityHeader", "Your request was missing a required header",
                      MissingHeaderName="x-amz-acl")


async def get_bucket_acl(call: Call) -> Response:
    """GetBucketAcl (Amazon S3 API reference): the owner with FULL_CONTROL."""
    call.store.get_bucket(call.bucket)
    return _private()


async def put_bucket_acl(call: Call) -> Response:
    call.store.get_bucket(call.bucket)
    await _check_put(call, "PutBucketAcl")
    return Response(200)


async def get_object_acl(call: Call) -> Response:
    """GetObjectAcl (Amazon S3 API reference): the owner with FULL_CONTROL."""
    h.check_version_id(call.request.query.get("versionId"))
    call.store.head_object(call.bucket, call.key)
    return _private()


async def put_object_acl(call: Call) -> Response:
    h.check_version_id(call.request.query.get("versionId"))
    call.store.head_object(call.bucket, call.key)
    await _check_put(call, "PutObjectAcl")
    return Response(200)
