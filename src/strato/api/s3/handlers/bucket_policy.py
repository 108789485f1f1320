"""Bucket policy operations: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy,
GetBucketPolicyStatus. The document is validated here (strato/auth/policy.py) and stored
as the text the owner sent; the engine keeps it without knowing what it means."""

from __future__ import annotations

from strato.auth import policy as iam
from strato.http.responses import Response

from .. import xml
from ..call import Call
from ..errors import S3Error
from ..shapes import PolicyStatus
from .objects import read_verified_body


def _stored(call: Call) -> str:
    document = call.store.bucket_policy(call.bucket)
    if document is None:
        raise S3Error("NoSuchBucketPolicy", "The bucket policy does not exist", 404, BucketName=call.bucket)
    return document


async def put_bucket_policy(call: Call) -> Response:
    """PutBucketPolicy: S3 answers 204, or 400 MalformedPolicy naming what is wrong."""
    body = await read_verified_body(call)
    call.store.get_bucket(call.bucket)
    try:
        document = body.decode("utf-8")
    except UnicodeDecodeError:
        raise iam.MalformedPolicy("This policy contains invalid Json") from None
    iam.parse(document, call.bucket)
    await call.store.put_bucket_policy(call.bucket, document)
    return Response(204)


async def get_bucket_policy(call: Call) -> Response:
    return Response(200, [("content-type", "application/json")], _stored(call).encode("utf-8"))


async def delete_bucket_policy(call: Call) -> Response:
    await call.store.delete_bucket_policy(call.bucket)
    return Response(204)


async def get_bucket_policy_status(call: Call) -> Response:
    """IsPublic: whether the policy grants anything to everyone (see policy.is_public)."""
    document = _stored(call)
    return xml.response("PolicyStatus", PolicyStatus(iam.is_public(iam.parse_stored(document, call.bucket))))
