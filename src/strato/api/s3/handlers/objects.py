"""Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects,
GetObjectAttributes."""

from __future__ import annotations

from strato.digits import is_digits
from strato.http.conditionals import Outcome, evaluate, format_http_date
from strato.http.ranges import ByteRange, RangeNotSatisfiable, parse_range
from strato.http.responses import Response
from strato.storage import checksums
from strato.storage.engine import WriteConditions
from strato.storage.records import ObjectVersion, PartInfo

from .. import headers as h
from .. import tags, xml
from ..call import Call
from ..errors import S3Error, invalid_argument, to_s3_error
from ..shapes import (
    AttributePart,
    DeletedEntry,
    DeleteErrorEntry,
    DeleteResult,
    GetObjectAttributesResponse,
    ObjectParts,
    checksums_of,
)

MAX_DELETE_KEYS = 1000
MAX_KEY_BYTES = 1024


def check_key(key: str) -> None:
    if len(key.encode()) > MAX_KEY_BYTES:
        raise S3Error("KeyTooLongError", "Your key is too long", MaxSizeAllowed=str(MAX_KEY_BYTES))
    if "\x00" in key:
        raise invalid_argument("Object keys cannot contain NUL characters", "key", key.replace("\x00", ""))


def write_length(call: Call) -> int | None:
    """The size the client announces for an object body; refused early when too large."""
    size = call.expect.size
    if size is None and "chunked" not in call.request.headers.get("transfer-encoding", ""):
        raise S3Error("MissingContentLength", "You must provide the Content-Length HTTP header.", 411)
    if size is not None and size > call.settings.max_object_size:
        raise S3Error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed object size.",
                      MaxSizeAllowed=str(call.settings.max_object_size), ProposedSize=str(size))
    return size


def written_headers(obj: ObjectVersion, requested: str | None) -> list[tuple[str, str]]:
    values = {requested: obj.checksums[requested]} if requested and requested in obj.checksums else {}
    return [("etag", h.quote_etag(obj.etag)), *h.checksum_headers(values, obj.checksum_type if values else None)]


async def put_object(call: Call) -> Response:
    check_key(call.key)
    h.refuse_unimplemented(call.request.headers, "PutObject")
    write_length(call)
    system, user = h.object_metadata(call.request.headers)
    obj = await call.store.put_object(
        call.bucket, call.key, call.stream(), call.expect, system=system, user=user,
        conditions=h.write_conditions(call.request.headers, call.key), max_size=call.settings.max_object_size,
        storage_class=h.storage_class(call.request.headers), tags=tags.from_header(call.request.headers),
        cause=call.cause("Put"),
    )
    return Response(200, written_headers(obj, call.expect.algorithm))


def part_number(call: Call) -> int | None:
    text = call.request.query.get("partNumber")
    if text is None:
        return None
    if not is_digits(text) or not 1 <= int(text) <= 10000:
        raise invalid_argument("Part number must be an integer between 1 and 10000, inclusive", "partNumber", text)
    return int(text)


def _part_not_satisfiable(number: int, count: int) -> S3Error:
    return S3Error("InvalidPartNumber", "The requested partnumber is not satisfiable", 416,
                   PartNumberRequested=str(number), ActualPartCount=str(count))


def _select_part(obj: ObjectVersion, number: int) -> tuple[ByteRange, PartInfo | None]:
    if not obj.parts:
        if number != 1:
            raise _part_not_satisfiable(number, 1)
        return ByteRange(0, obj.size - 1), None
    if number > len(obj.parts):
        raise _part_not_satisfiable(number, len(obj.parts))
    start = sum(p.size for p in obj.parts[: number - 1])
    part = obj.parts[number - 1]
    return ByteRange(start, start + part.size - 1), part


def _precondition(call: Call, obj: ObjectVersion) -> Response | None:
    outcome = evaluate(h.read_conditions(call.request.headers), obj.etag, obj.last_modified, safe=True)
    if outcome is Outcome.NOT_MODIFIED:
        return Response(304, [("etag", h.quote_etag(obj.etag)), ("last-modified", format_http_date(obj.last_modified))])
    if outcome is Outcome.PRECONDITION_FAILED:
        raise S3Error("PreconditionFailed", "At least one of the pre-conditions you specified did not hold", 412,
                      Condition="If-Match" if "if-match" in call.request.headers else "If-Unmodified-Since")
    return None


def _plan_read(call: Call, obj: ObjectVersion) -> tuple[int, list[tuple[str, str]], ByteRange | None]:
    """Status, headers and the byte range of a GetObject/HeadObject response."""
    number = part_number(call)
    range_header = call.request.headers.get("range")
    checksum_mode = call.request.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"
    overrides = h.response_overrides(call.request.query)
    if number is not None:
        if range_header is not None:
            raise S3Error("InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
        selected, part = _select_part(obj, number)
        headers = h.object_headers(obj, checksum_mode=checksum_mode, part=part, overrides=overrides)
        if obj.size == 0:  # part 1 of an empty object: no byte range to name
            return 200, [*headers, ("content-length", "0")], None
        # Even part 1 of a simple object is a ranged read: 206 with its Content-Range, as S3 answers.
        headers += [("content-length", str(selected.length)), ("content-range", selected.content_range(obj.size))]
        return 206, headers, selected
    ranges = None
    if range_header is not None:
        try:
            ranges = parse_range(range_header, obj.size)
        except RangeNotSatisfiable:
            raise S3Error("InvalidRange", "The requested range is not satisfiable", 416,
                          headers={"content-range": f"bytes */{obj.size}"}, RangeRequested=range_header,
                          ActualObjectSize=str(obj.size)) from None
    if ranges is not None and len(ranges) == 1:
        selected = ranges[0]
        headers = h.object_headers(obj, checksum_mode=False, overrides=overrides)
        headers += [("content-length", str(selected.length)), ("content-range", selected.content_range(obj.size))]
        return 206, headers, selected
    headers = h.object_headers(obj, checksum_mode=checksum_mode, overrides=overrides)
    headers.append(("content-length", str(obj.size)))
    return 200, headers, ByteRange(0, obj.size - 1) if obj.size else None


async def get_object(call: Call) -> Response:
    h.check_version_id(call.request.query.get("versionId"))
    reader = await call.store.open_object(call.bucket, call.key)
    try:
        not_modified = _precondition(call, reader.obj)
        if not_modified is not None:
            reader.close()
            return not_modified
        status, headers, selected = _plan_read(call, reader.obj)
    except BaseException:
        reader.close()
        raise
    if selected is None:
        reader.close()
        return Response(status, headers)
    return Response(status, headers, reader.iter_range(selected.start, selected.end + 1), close=reader.close)


async def head_object(call: Call) -> Response:
    h.check_version_id(call.request.query.get("versionId"))
    obj = call.store.head_object(call.bucket, call.key)
    not_modified = _precondition(call, obj)
    if not_modified is not None:
        return not_modified
    status, headers, _ = _plan_read(call, obj)
    return Response(status, headers)


async def delete_object(call: Call) -> Response:
    """DeleteObject, with If-Match (AWS conditional deletes): 412 when the current object's
    ETag differs, 404 NoSuchKey when there is no object to match."""
    h.check_version_id(call.request.query.get("versionId"))
    if_match = call.request.headers.get("if-match")
    conditions = {call.key: WriteConditions(if_match=if_match.strip(), key=call.key)} if if_match else None
    refused = await call.store.delete_objects(call.bucket, [call.key], conditions, call.cause("Delete"))
    if call.key in refused:
        raise refused[call.key]
    return Response(204)


def verify_body_digest(call: Call, body: bytes) -> None:
    """Bodies that carry Content-MD5 or an x-amz-checksum-* header must match it."""
    expect = call.expect
    if expect.md5 is None and not expect.checksums:
        return
    digests = checksums.BodyDigests(tuple(expect.checksums))
    digests.update(body)
    if expect.md5 is not None and expect.md5 != digests.md5():
        raise S3Error("BadDigest", "The Content-MD5 you specified did not match what we received.")
    for algorithm, value in expect.checksums.items():
        if digests.checksums()[algorithm] != value:
            raise S3Error("BadDigest", f"The {algorithm} you specified did not match the calculated checksum.")


async def read_verified_body(call: Call) -> bytes:
    """A small XML body (Call.read_xml_body) held to the digests its headers name."""
    body = await call.read_xml_body()
    verify_body_digest(call, body)
    return body


async def delete_objects(call: Call) -> Response:
    root = xml.parse(await read_verified_body(call))
    if root.tag != "Delete":
        raise xml.MalformedXML(root.tag)
    quiet = (root.text_of("Quiet") or "").strip().lower() == "true"
    objects = root.find_all("Object")
    if not objects or len(objects) > MAX_DELETE_KEYS:
        raise xml.MalformedXML("between 1 and 1000 objects")
    keys: list[str] = []
    versions: dict[str, str | None] = {}
    conditions: dict[str, WriteConditions] = {}
    errors: list[DeleteErrorEntry] = []
    for node in objects:
        key = node.text_of("Key")
        if key is None:
            raise xml.MalformedXML("Object without Key")
        version = node.text_of("VersionId")
        etag = node.text_of("ETag")
        try:
            check_key(key)
        except S3Error as exc:
            errors.append(DeleteErrorEntry(key, exc.code, exc.message, version))
            continue
        if version is not None and version != h.NULL_VERSION:
            # In a batch S3 reports a version id that names nothing as NoSuchVersion, not
            # the single DeleteObject's InvalidArgument.
            errors.append(DeleteErrorEntry(key, "NoSuchVersion", "The specified version does not exist.", version))
            continue
        if call.access is not None and not call.access.permits_key(
            "s3:DeleteObjectVersion" if version else "s3:DeleteObject", key
        ):
            errors.append(DeleteErrorEntry(key, "AccessDenied", "Access Denied", version))
            continue
        if etag is not None:
            conditions[key] = WriteConditions(if_match=etag.strip(), key=key)
        keys.append(key)
        versions[key] = version
    call.store.get_bucket(call.bucket)
    refused = await call.store.delete_objects(call.bucket, keys, conditions, call.cause("Delete"))
    for key, why in refused.items():
        error = to_s3_error(why)
        assert error is not None
        errors.append(DeleteErrorEntry(key, error.code, error.message, versions[key]))
    deleted = [] if quiet else [DeletedEntry(k, versions[k]) for k in keys if k not in refused]
    return xml.response("DeleteResult", DeleteResult(deleted, errors))


_ATTRIBUTES = {"ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"}


def _int_header(call: Call, name: str, default: int) -> int:
    text = call.request.headers.get(name)
    if text is None:
        return default
    if not is_digits(text):
        raise invalid_argument(f"{name} must be a non-negative integer", name, text)
    return int(text)


async def get_object_attributes(call: Call) -> Response:
    wanted = {a.strip() for a in call.request.headers.get("x-amz-object-attributes", "").split(",") if a.strip()}
    if not wanted or not wanted <= _ATTRIBUTES:
        raise invalid_argument("Invalid attribute name specified.", "x-amz-object-attributes",
                               ",".join(sorted(wanted - _ATTRIBUTES)))
    h.check_version_id(call.request.query.get("versionId"))
    obj = call.store.head_object(call.bucket, call.key)
    result = GetObjectAttributesResponse(
        etag=obj.etag if "ETag" in wanted else None,
        storage_class=obj.storage_class if "StorageClass" in wanted else None,
        object_size=obj.size if "ObjectSize" in wanted else None,
    )
    if "Checksum" in wanted and obj.checksums:
        result.checksum = checksums_of(obj.checksums, obj.checksum_type)
    if "ObjectParts" in wanted and obj.parts:
        marker = _int_header(call, "x-amz-part-number-marker", 0)
        limit = _int_header(call, "x-amz-max-parts", 1000)
        after = [p for p in obj.parts if p.number > marker]
        page = after[:limit]
        result.object_parts = ObjectParts(
            parts_count=len(obj.parts), part_number_marker=marker,
            next_part_number_marker=page[-1].number if len(after) > limit and page else None,
            max_parts=limit, is_truncated=len(after) > limit,
            part=[AttributePart(p.number, p.size, checksums_of(p.checksums)) for p in page],
        )
    return xml.response("GetObjectAttributesResponse", result,
                        headers=[("last-modified", format_http_date(obj.last_modified))])
