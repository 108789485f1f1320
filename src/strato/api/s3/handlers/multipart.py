"""Multipart uploads: Create, UploadPart, UploadPartCopy, Complete, Abort, ListParts,
ListMultipartUploads."""

from __future__ import annotations

from strato.digits import is_digits
from strato.http.responses import Response
from strato.storage import checksums
from strato.storage.errors import NoSuchKey, NoSuchUpload
from strato.storage.multipart import CompletedPart
from strato.storage.records import Expectation, ObjectVersion, UploadPage

from .. import headers as h
from .. import tags, xml
from ..call import Call
from ..errors import invalid_argument
from ..shapes import (
    CommonPrefix,
    CompleteMultipartUploadResult,
    CopyObjectResult,
    InitiateMultipartUploadResult,
    ListMultipartUploadsResult,
    ListPartsResult,
    PartEntry,
    UploadEntry,
    checksums_of,
)
from .buckets import root_owner
from .copy import open_source, source_range
from .listing import encoder, max_param
from .objects import check_key, part_number, write_length


async def create_multipart_upload(call: Call) -> Response:
    check_key(call.key)
    h.refuse_unimplemented(call.request.headers, "CreateMultipartUpload")
    headers = call.request.headers
    system, user = h.object_metadata(headers)
    algorithm = headers.get("x-amz-checksum-algorithm")
    if algorithm is not None:
        algorithm = h.algorithm_name(algorithm, "x-amz-checksum-algorithm")
    checksum_type = headers.get("x-amz-checksum-type")
    if checksum_type is not None:
        checksum_type = checksum_type.upper()
        if checksum_type not in (checksums.FULL_OBJECT, checksums.COMPOSITE) or algorithm is None:
            raise invalid_argument("Invalid x-amz-checksum-type", "x-amz-checksum-type", checksum_type)
        if checksum_type == checksums.FULL_OBJECT and algorithm not in checksums.CRC_ALGORITHMS:
            raise invalid_argument("The FULL_OBJECT checksum type needs a CRC algorithm", "x-amz-checksum-type")
        if checksum_type == checksums.COMPOSITE and algorithm == "CRC64NVME":
            raise invalid_argument("CRC64NVME supports only the FULL_OBJECT checksum type", "x-amz-checksum-type")
    upload = await call.store.create_upload(
        call.bucket, call.key, system=system, user=user, checksum_algorithm=algorithm, checksum_type=checksum_type,
        storage_class=h.storage_class(headers), tags=tags.from_header(headers),
    )
    extra = [("x-amz-checksum-algorithm", algorithm)] if algorithm else []
    if algorithm:
        extra.append(("x-amz-checksum-type", upload.checksum_type or (
            checksums.FULL_OBJECT if algorithm == "CRC64NVME" else checksums.COMPOSITE)))
    return xml.response("InitiateMultipartUploadResult",
                        InitiateMultipartUploadResult(call.bucket, call.key, upload.upload_id), headers=extra)


def _upload_id(call: Call) -> str:
    return call.request.query.get("uploadId", "")


def _part_number(call: Call) -> int:
    number = part_number(call)
    assert number is not None
    return number


async def upload_part(call: Call) -> Response:
    number = _part_number(call)
    h.refuse_unimplemented(call.request.headers, "UploadPart")
    write_length(call)
    part = await call.store.upload_part(call.bucket, call.key, _upload_id(call), number, call.stream(),
                                        call.expect, max_size=call.settings.max_object_size)
    headers = [("etag", h.quote_etag(part.etag))]
    if call.expect.algorithm and call.expect.algorithm in part.checksums:
        headers += h.checksum_headers({call.expect.algorithm: part.checksums[call.expect.algorithm]}, None)
    return Response(200, headers)


async def upload_part_copy(call: Call) -> Response:
    number = _part_number(call)
    upload = call.store.get_upload(call.bucket, call.key, _upload_id(call))
    source = await open_source(call)
    try:
        selected = source_range(call, source.obj.size)
        body = source.iter_range(selected.start, selected.end + 1) if source.obj.size else source.iter_range(0, 0)
        length = selected.length if source.obj.size else 0
        # The copy's checksum is the server's to compute, in the upload's algorithm (CopyPartResult).
        part = await call.store.upload_part(call.bucket, call.key, _upload_id(call), number, body,
                                            Expectation(size=length, algorithm=upload.checksum_algorithm))
    finally:
        source.close()
    result = CopyObjectResult(etag=h.quote_etag(part.etag), last_modified=xml.IsoTime(part.last_modified),
                              checksums=checksums_of(part.checksums))
    return xml.response("CopyPartResult", result)


def _completed_parts(body: bytes) -> list[CompletedPart]:
    root = xml.parse(body)
    if root.tag != "CompleteMultipartUpload":
        raise xml.MalformedXML(root.tag)
    parts = []
    for node in root.find_all("Part"):
        number_text, etag = node.text_of("PartNumber"), node.text_of("ETag")
        if number_text is None or etag is None or not is_digits(number_text.strip()):
            raise xml.MalformedXML("Part needs PartNumber and ETag")
        sums = {name: (node.text_of(f"Checksum{name}") or "").strip() for name in checksums.ALGORITHMS
                if node.find(f"Checksum{name}") is not None}
        parts.append(CompletedPart(int(number_text), etag.strip(), sums))
    if not parts:
        raise xml.MalformedXML("no parts")
    return parts


def _completed_earlier(call: Call, requested: list[CompletedPart]) -> ObjectVersion | None:
    """The object a completion already made, when the same completion is sent again: S3
    answers a retried CompleteMultipartUpload with its result. The object at the key must be
    made of exactly the parts named, with the same ETags."""
    try:
        obj = call.store.head_object(call.bucket, call.key)
    except NoSuchKey:
        return None
    made_of = [(p.number, p.etag) for p in obj.parts]
    return obj if made_of and made_of == [(p.number, p.etag.strip('"')) for p in requested] else None


async def complete_multipart_upload(call: Call) -> Response:
    requested = _completed_parts(await call.read_xml_body())
    try:
        obj = await call.store.complete_upload(call.bucket, call.key, _upload_id(call), requested,
                                               h.write_conditions(call.request.headers, call.key),
                                               expected=call.expect.checksums,
                                               cause=call.cause("CompleteMultipartUpload"))
    except NoSuchUpload:
        earlier = _completed_earlier(call, requested)
        if earlier is None:
            raise
        obj = earlier
    location = f"/{call.bucket}/{call.key}"
    result = CompleteMultipartUploadResult(location, call.bucket, call.key, h.quote_etag(obj.etag),
                                           checksums=checksums_of(obj.checksums, obj.checksum_type))
    return xml.response("CompleteMultipartUploadResult", result)


async def abort_multipart_upload(call: Call) -> Response:
    await call.store.abort_upload(call.bucket, call.key, _upload_id(call))
    return Response(204)


async def list_parts(call: Call) -> Response:
    query = call.request.query
    marker_text = query.get("part-number-marker", "0") or "0"
    if not is_digits(marker_text):
        raise invalid_argument("part-number-marker must be an integer", "part-number-marker", marker_text)
    limit = max_param(query, "max-parts", 1000)
    upload, page = call.store.list_parts(call.bucket, call.key, _upload_id(call), int(marker_text), limit)
    owner = root_owner()
    result = ListPartsResult(
        bucket=call.bucket, key=call.key, upload_id=upload.upload_id, part_number_marker=int(marker_text),
        # S3 names NextPartNumberMarker on every page: the page's last part, or 0 for none
        next_part_number_marker=page.parts[-1].number if page.parts else 0,
        max_parts=limit, is_truncated=page.is_truncated,
        part=[PartEntry(p.number, xml.IsoTime(p.last_modified), h.quote_etag(p.etag), p.size,
                        checksums_of({a: v for a, v in p.checksums.items() if a == upload.checksum_algorithm}))
              for p in page.parts],
        initiator=owner, owner=owner, storage_class=upload.storage_class,
        checksum_algorithm=upload.checksum_algorithm, checksum_type=upload.checksum_type,
    )
    return xml.response("ListPartsResult", result)


async def list_multipart_uploads(call: Call) -> Response:
    query = call.request.query
    encode = encoder(query)
    limit = max_param(query, "max-uploads", 1000)
    key_marker = query.get("key-marker", "")
    # S3 ignores an upload-id-marker given without a key-marker, and echoes it empty.
    upload_id_marker = query.get("upload-id-marker", "") if key_marker else ""
    page = call.store.list_uploads(
        call.bucket, prefix=query.get("prefix", ""), delimiter=query.get("delimiter", ""),
        key_marker=key_marker, upload_id_marker=upload_id_marker, max_uploads=limit,
    )
    owner = root_owner()
    next_key, next_upload = _next_upload_markers(page)
    result = ListMultipartUploadsResult(
        bucket=call.bucket, key_marker=encode(key_marker), upload_id_marker=upload_id_marker,
        next_key_marker=encode(next_key), next_upload_id_marker=next_upload,
        prefix=encode(query["prefix"]) if "prefix" in query else None,
        delimiter=encode(query["delimiter"]) if "delimiter" in query else None,
        max_uploads=limit, encoding_type=query.get("encoding-type"), is_truncated=page.is_truncated,
        upload=[UploadEntry(encode(u.key), u.upload_id, owner, owner, u.storage_class, xml.IsoTime(u.initiated),
                            u.checksum_algorithm, u.checksum_type) for u in page.uploads],
        common_prefixes=[CommonPrefix(encode(p)) for p in page.common_prefixes],
    )
    return xml.response("ListMultipartUploadsResult", result)


def _next_upload_markers(page: UploadPage) -> tuple[str, str]:
    """ListMultipartUploads always names NextKeyMarker and NextUploadIdMarker: where a truncated
    page resumes, else the page's last upload, else both empty (as S3 answered LocalStack)."""
    if page.is_truncated and page.next_key_marker is not None:
        return page.next_key_marker, page.next_upload_id_marker or ""
    if page.uploads:
        return page.uploads[-1].key, page.uploads[-1].upload_id
    return "", ""
