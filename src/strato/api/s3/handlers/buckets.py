"""Bucket operations: CreateBucket, HeadBucket, DeleteBucket, ListBuckets, GetBucketLocation."""

from __future__ import annotations

import hashlib
import ipaddress
import re

from strato.digits import is_digits
from strato.http.responses import Response

from .. import headers as h
from .. import xml
from ..call import Call
from ..errors import S3Error, invalid_argument
from ..shapes import BucketEntry, Buckets, ListAllMyBucketsResult, Owner

_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def valid_bucket_name(name: str) -> bool:
    """Amazon S3 general purpose bucket naming rules."""
    if not _NAME.match(name) or ".." in name or ".-" in name or "-." in name:
        return False
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return False
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return True
    return False


def root_owner() -> Owner:
    """The owner of every bucket and object: strato has one tenant, its account root."""
    return Owner(id=hashlib.sha256(b"root").hexdigest(), display_name="root")


OWNERSHIP_HEADER = "x-amz-object-ownership"
OBJECT_OWNERSHIPS = ("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter")


async def create_bucket(call: Call) -> Response:
    name = call.bucket
    if not valid_bucket_name(name):
        raise S3Error("InvalidBucketName", "The specified bucket is not valid.", BucketName=name)
    h.check_acl(call.request.headers, "CreateBucket")
    ownership = call.request.headers.get(OWNERSHIP_HEADER)
    if ownership is not None and ownership not in OBJECT_OWNERSHIPS:
        raise S3Error("InvalidArgument", f"Invalid {OWNERSHIP_HEADER} header: {ownership}",
                      ArgumentName=OWNERSHIP_HEADER)
    if call.request.headers.get("x-amz-bucket-object-lock-enabled", "").strip().lower() == "true":
        raise S3Error("NotImplemented", "CreateBucket with object lock is not implemented by strato yet.", 501,
                      Header="x-amz-bucket-object-lock-enabled")
    region = call.settings.region
    body = await call.read_xml_body()
    if body.strip():
        config = xml.parse(body)
        if config.tag != "CreateBucketConfiguration":
            raise xml.MalformedXML(config.tag)
        constraint = (config.text_of("LocationConstraint") or "").strip()
        if constraint:
            if not re.fullmatch(r"[a-z0-9-]{1,32}", constraint):
                raise S3Error("InvalidLocationConstraint", "The specified location-constraint is not valid")
            region = constraint
    if not await call.store.create_bucket(name, region):
        raise S3Error("BucketAlreadyOwnedByYou",
                      "Your previous request to create the named bucket succeeded and you already own it.", 409,
                      BucketName=name)
    return Response(200, [("location", f"/{name}")])


async def head_bucket(call: Call) -> Response:
    bucket = call.store.get_bucket(call.bucket)
    # x-amz-access-point-alias: S3 answers "false" for a bucket addressed by its own name
    return Response(200, [("x-amz-bucket-region", bucket.region), ("x-amz-access-point-alias", "false"),
                          ("content-type", "application/xml")])


async def delete_bucket(call: Call) -> Response:
    """DeleteBucket: objects keep a bucket alive (BucketNotEmpty); uploads in progress are
    aborted with it, as on S3 (the engine does both in one transaction)."""
    await call.store.delete_bucket(call.bucket)
    return Response(204)


async def get_bucket_location(call: Call) -> Response:
    bucket = call.store.get_bucket(call.bucket)
    region = "" if bucket.region == "us-east-1" else bucket.region
    return xml.text_response("LocationConstraint", region)


async def list_buckets(call: Call) -> Response:
    query = call.request.query
    limit_text = query.get("max-buckets", "10000")
    if not is_digits(limit_text) or not 1 <= int(limit_text) <= 10000:
        raise invalid_argument("max-buckets must be an integer between 1 and 10000", "max-buckets", limit_text)
    limit = int(limit_text)
    prefix = query.get("prefix", "")
    token = query.get("continuation-token", "")
    region = query.get("bucket-region")
    found = [b for b in call.store.list_buckets(prefix, token, limit + 1) if region is None or b.region == region]
    truncated = len(found) > limit
    found = found[:limit]
    result = ListAllMyBucketsResult(
        owner=root_owner(),
        buckets=Buckets([BucketEntry(b.name, xml.IsoTime(b.created), b.region) for b in found]),
        continuation_token=found[-1].name if truncated else None,
        prefix=prefix if "prefix" in query else None,
    )
    return xml.response("ListAllMyBucketsResult", result)


async def get_bucket_versioning(call: Call) -> Response:
    """Versioning has never been enabled on a strato bucket: S3 answers that with an empty
    configuration (no Status), which tools such as rclone read before deleting."""
    call.store.get_bucket(call.bucket)
    return xml.text_response("VersioningConfiguration", "")
