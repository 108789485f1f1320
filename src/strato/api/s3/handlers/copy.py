"""CopyObject, and the copy-source handling UploadPartCopy shares with it."""

from __future__ import annotations

from urllib.parse import unquote

from strato.digits import is_digits
from strato.http.conditionals import Outcome, evaluate
from strato.http.ranges import ByteRange
from strato.http.responses import Response
from strato.storage.reader import ObjectReader

from .. import headers as h
from .. import tags, xml
from ..call import Call
from ..errors import S3Error, invalid_argument
from ..shapes import CopyObjectResult, checksums_of
from .objects import check_key

_SOURCE_CONDITIONS = {
    "x-amz-copy-source-if-match": "if-match",
    "x-amz-copy-source-if-none-match": "if-none-match",
    "x-amz-copy-source-if-modified-since": "if-modified-since",
    "x-amz-copy-source-if-unmodified-since": "if-unmodified-since",
}


def copy_source(call: Call) -> tuple[str, str]:
    """Bucket and key named by x-amz-copy-source ('/bucket/key' or 'bucket/key', URL-encoded)."""
    raw = call.request.headers["x-amz-copy-source"]
    path, _, query = raw.partition("?")
    if query and not query.startswith("versionId="):
        raise invalid_argument("Invalid copy source", "x-amz-copy-source", raw)
    if query:
        h.check_version_id(unquote(query.partition("=")[2]), "x-amz-copy-source")
    decoded = unquote(path, errors="strict")
    bucket, sep, key = decoded.lstrip("/").partition("/")
    if not bucket or not sep or not key:
        raise invalid_argument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
                               "x-amz-copy-source", raw)
    return bucket, key


async def open_source(call: Call) -> ObjectReader:
    bucket, key = copy_source(call)
    reader = await call.store.open_object(bucket, key)
    headers = h.read_conditions({plain: call.request.headers[amz] for amz, plain in _SOURCE_CONDITIONS.items()
                                 if amz in call.request.headers})
    if evaluate(headers, reader.obj.etag, reader.obj.last_modified, safe=True) is not Outcome.PROCEED:
        reader.close()
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                      Condition=_failed_condition(headers, reader.obj.etag, reader.obj.last_modified))
    return reader


def _failed_condition(headers: dict[str, str], etag: str, last_modified: float) -> str:
    """The copy-source header that failed, named as S3 names it in PreconditionFailed's Condition
    (test_s3_preconditions.py, copy-precondition-*): the first one, in order of evaluation, whose
    addition `evaluate` refuses, so a date condition its ETag twin overrides is never named."""
    given: dict[str, str] = {}
    for name in h.CONDITION_HEADERS:
        if name in headers:
            given[name] = headers[name]
            if evaluate(given, etag, last_modified, safe=True) is not Outcome.PROCEED:
                return f"x-amz-copy-source-{name.title()}"
    return "x-amz-copy-source-If-*"


def source_range(call: Call, size: int) -> ByteRange:
    text = call.request.headers.get("x-amz-copy-source-range")
    if text is None:
        return ByteRange(0, size - 1)
    unit, _, spec = text.partition("=")
    first, dash, last = spec.partition("-")
    if unit != "bytes" or not dash or not is_digits(first) or not is_digits(last) or int(last) < int(first):
        raise invalid_argument("The x-amz-copy-source-range value must be of the form bytes=first-last",
                               "x-amz-copy-source-range", text)
    if int(last) >= size:
        raise S3Error("InvalidRange", "The requested range is not satisfiable", 416, ActualObjectSize=str(size))
    return ByteRange(int(first), int(last))


async def copy_object(call: Call) -> Response:
    check_key(call.key)
    h.refuse_unimplemented(call.request.headers, "CopyObject")
    source = await open_source(call)
    try:
        src = source.obj
        if src.size > call.settings.max_object_size:
            raise invalid_argument("The specified copy source is larger than the maximum allowable size for a "
                                   f"copy source: {call.settings.max_object_size}", "x-amz-copy-source")
        directive = call.request.headers.get("x-amz-metadata-directive", "COPY").upper()
        if directive not in ("COPY", "REPLACE"):
            raise invalid_argument("Unknown metadata directive.", "x-amz-metadata-directive", directive)
        algorithm = call.request.headers.get("x-amz-checksum-algorithm")
        if algorithm is not None:
            algorithm = h.algorithm_name(algorithm, "x-amz-checksum-algorithm")
        same = (src.bucket, src.key) == (call.bucket, call.key)
        # A storage class or website redirect location, even the source's own, makes a copy onto
        # itself legal, as S3 answers.
        changes = ("x-amz-storage-class", h.WEBSITE_REDIRECT)
        if same and directive == "COPY" and algorithm is None and not any(n in call.request.headers for n in changes):
            raise S3Error("InvalidRequest", "This copy request is illegal because it is trying to copy an object to "
                          "itself without changing the object's metadata, storage class, website redirect "
                          "location or encryption attributes.")
        if directive == "REPLACE":
            system, user = h.object_metadata(call.request.headers)
        else:
            system, user = dict(src.system), dict(src.user)
            if h.WEBSITE_REDIRECT in call.request.headers:
                system[h.WEBSITE_REDIRECT] = call.request.headers[h.WEBSITE_REDIRECT]
        obj = await call.store.copy_object(
            source, call.bucket, call.key, system=system, user=user, algorithm=algorithm,
            conditions=h.write_conditions(call.request.headers, call.key),
            storage_class=h.storage_class(call.request.headers), tags=tags.for_copy(call.request.headers, src.tags),
            cause=call.cause("Copy"),
        )
    finally:
        source.close()
    result = CopyObjectResult(etag=h.quote_etag(obj.etag), last_modified=xml.IsoTime(obj.last_modified),
                              checksums=checksums_of(obj.checksums, obj.checksum_type))
    return xml.response("CopyObjectResult", result)
