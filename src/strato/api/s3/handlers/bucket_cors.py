"""Bucket CORS operations: PutBucketCors, GetBucketCors, DeleteBucketCors. The configuration
is checked here (cors.py) and stored as a document the engine keeps without reading."""

from __future__ import annotations

from strato.http.responses import Response

from .. import cors, xml
from ..call import Call
from ..errors import S3Error
from .objects import read_verified_body


async def put_bucket_cors(call: Call) -> Response:
    """S3 requires an integrity digest on this body: Content-MD5 (or, since flexible
    checksums, an x-amz-checksum-* header or trailer)."""
    if call.expect.md5 is None and not call.expect.checksums and "x-amz-trailer" not in call.request.headers:
        raise S3Error("InvalidRequest", "Missing required header for this request: Content-MD5")
    body = await read_verified_body(call)
    call.store.get_bucket(call.bucket)
    await call.store.put_bucket_cors(call.bucket, cors.to_document(cors.from_body(body)))
    return Response(200)


async def get_bucket_cors(call: Call) -> Response:
    document = call.store.bucket_cors(call.bucket)
    if document is None:
        raise S3Error("NoSuchCORSConfiguration", "The CORS configuration does not exist", 404,
                      BucketName=call.bucket)
    return xml.response("CORSConfiguration", cors.from_document(document))


async def delete_bucket_cors(call: Call) -> Response:
    await call.store.delete_bucket_cors(call.bucket)
    return Response(204)
