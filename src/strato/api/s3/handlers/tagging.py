"""Object and bucket tagging: Put/Get/DeleteObjectTagging (the current, "null" version only:
versioning is never on) and Put/Get/DeleteBucketTagging. Tags are checked here (tags.py);
the engine stores them without knowing the limits."""

from __future__ import annotations

from strato.http.responses import Response

from .. import headers as h
from .. import tags, xml
from ..call import Call
from ..errors import S3Error
from ..shapes import tagging_of
from .objects import read_verified_body


async def _body_tags(call: Call, *, bucket: bool) -> dict[str, str]:
    return tags.from_body(await read_verified_body(call), bucket=bucket)


async def put_object_tagging(call: Call) -> Response:
    """Replaces the object's tag set; its bytes, ETag and Last-Modified stay."""
    h.check_version_id(call.request.query.get("versionId"))
    await call.store.put_object_tags(call.bucket, call.key, await _body_tags(call, bucket=False))
    return Response(200)


async def get_object_tagging(call: Call) -> Response:
    """An object without tags answers an empty TagSet, as S3 does."""
    h.check_version_id(call.request.query.get("versionId"))
    return xml.response("Tagging", tagging_of(call.store.head_object(call.bucket, call.key).tags))


async def delete_object_tagging(call: Call) -> Response:
    h.check_version_id(call.request.query.get("versionId"))
    await call.store.put_object_tags(call.bucket, call.key, {})
    return Response(204)


async def put_bucket_tagging(call: Call) -> Response:
    new = await _body_tags(call, bucket=True)
    await call.store.put_bucket_tags(call.bucket, new)
    return Response(204)


async def get_bucket_tagging(call: Call) -> Response:
    stored = call.store.bucket_tags(call.bucket)
    if stored is None:
        raise S3Error("NoSuchTagSet", "The TagSet does not exist", 404, BucketName=call.bucket)
    return xml.response("Tagging", tagging_of(stored))


async def delete_bucket_tagging(call: Call) -> Response:
    await call.store.delete_bucket_tags(call.bucket)
    return Response(204)
