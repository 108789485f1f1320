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
from .objects import verify_body_digest


def owner_only(body: bytes, owner_id: str) -> bool:
    """Whether an AccessControlPolicy body grants FULL_CONTROL to the owner and no one else:
    the private ACL written out, which S3 accepts where ACLs are disabled (PutBucketAcl,
    "Object Ownership"). MalformedXML when the body is no AccessControlPolicy."""
    root = xml.parse(body)
    listed = root.find("AccessControlList") if root.tag == "AccessControlPolicy" else None
    if listed is None:
        raise xml.MalformedXML("AccessControlPolicy needs an AccessControlList")
    grants = listed.find_all("Grant")
    if len(grants) != 1 or (grants[0].text_of("Permission") or "").strip() != "FULL_CONTROL":
        return False
    grantee = grants[0].find("Grantee")
    return grantee is not None and (grantee.text_of("ID") or "").strip() == owner_id


def _private() -> Response:
    return xml.response("AccessControlPolicy", private_acl(root_owner()))


async def _check_put(call: Call, operation: str) -> None:
    """An ACL that keeps the resource private, canned or written out as the owner's grant, is
    accepted as a change to nothing; a body granting anything else is refused with the same
    501 as a public canned ACL or a grant header."""
    acl = h.check_acl(call.request.headers, operation)
    body = await call.read_xml_body()
    if body.strip():
        verify_body_digest(call, body)
        if acl is not None:
            raise S3Error("UnexpectedContent", "This request does not support content")
        if not owner_only(body, root_owner().id):
            raise h.acl_refused(operation, "grants in an AccessControlPolicy body")
    elif acl is None:
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
