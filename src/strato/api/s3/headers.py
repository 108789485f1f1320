"""S3's HTTP headers in one place: object metadata in and out, digests, conditions."""

from __future__ import annotations

import base64
import binascii
import math
import time
from collections.abc import Mapping

from strato.http.conditionals import format_http_date, parse_http_date
from strato.storage import checksums
from strato.storage.engine import WriteConditions
from strato.storage.records import Expectation, ObjectVersion, PartInfo

from .errors import S3Error, invalid_argument

WEBSITE_REDIRECT = "x-amz-website-redirect-location"
SYSTEM_HEADERS = (
    "content-type", "content-encoding", "content-disposition", "content-language", "cache-control", "expires",
    WEBSITE_REDIRECT,
)
RESPONSE_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
CHECKSUM_HEADERS = {f"x-amz-checksum-{name.lower()}": name for name in checksums.ALGORITHMS}
_DIGEST_SIZES = {"CRC32": 4, "CRC32C": 4, "CRC64NVME": 8, "SHA1": 20, "SHA256": 32}
MAX_USER_METADATA = 2048
DEFAULT_CONTENT_TYPE = "binary/octet-stream"
# Versioning cannot be enabled on a strato bucket, so its objects are "null" versions.
NULL_VERSION = "null"


def check_version_id(value: str | None, name: str = "versionId") -> None:
    """A version id can only name the "null" version of a never-versioned bucket's object."""
    if value is not None and value != NULL_VERSION:
        raise invalid_argument("Invalid version id specified", name, value)


def quote_etag(etag: str) -> str:
    return f'"{etag}"'


def object_metadata(headers: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """System and user (x-amz-meta-*) metadata of a write, validated."""
    system = {name: headers[name] for name in SYSTEM_HEADERS if name in headers}
    encoding = system.get("content-encoding")
    if encoding is not None:
        kept = [e.strip() for e in encoding.split(",") if e.strip() and e.strip().lower() != "aws-chunked"]
        if kept:
            system["content-encoding"] = ", ".join(kept)
        else:
            del system["content-encoding"]
    system.setdefault("content-type", DEFAULT_CONTENT_TYPE)
    user = {name[len("x-amz-meta-"):]: value for name, value in headers.items() if name.startswith("x-amz-meta-")}
    if sum(len(k.encode()) + len(v.encode()) for k, v in user.items()) > MAX_USER_METADATA:
        raise S3Error("MetadataTooLarge", "Your metadata headers exceed the maximum allowed metadata size.",
                      MaxSizeAllowed=str(MAX_USER_METADATA))
    return system, user


# In RFC 9110 13.2.2's order of evaluation, which http.conditionals.evaluate follows.
CONDITION_HEADERS = ("if-match", "if-unmodified-since", "if-none-match", "if-modified-since")


def read_conditions(headers: Mapping[str, str]) -> dict[str, str]:
    """The conditional headers of a read, less an If-Modified-Since later than now: RFC 7232
    calls such a date invalid and S3 ignores it (test_s3_get_object_preconditions
    'obj-ignore-future-modified-since'). Compared at the one-second resolution of HTTP dates:
    a date before the end of the current second is not in the future."""
    kept = {name: headers[name] for name in CONDITION_HEADERS if name in headers}
    since = parse_http_date(kept.get("if-modified-since", ""))
    if since is not None and since > math.ceil(time.time()):
        del kept["if-modified-since"]
    return kept


def _checked_checksum(algorithm: str, value: str, composite: bool = False) -> str:
    """A base64 digest of the algorithm's size; with `composite`, optionally followed by the
    "-N" part count a multipart object's composite checksum carries."""
    digest = value
    if composite:
        base, dash, count = value.rpartition("-")
        if dash and count.isascii() and count.isdigit() and 1 <= int(count) <= 10_000:
            digest = base
    try:
        raw = base64.b64decode(digest, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _DIGEST_SIZES[algorithm]:
        raise S3Error("InvalidRequest", f"Value for x-amz-checksum-{algorithm.lower()} header is invalid.")
    return value


def algorithm_name(value: str, header: str) -> str:
    name = value.strip().upper()
    if name not in checksums.ALGORITHMS:
        raise invalid_argument(f"Invalid value for {header}: {value}", header, value)
    return name


def expectation(headers: dict[str, str], size: int | None, composite: bool = False) -> Expectation:
    """Digests a write announces: Content-MD5, x-amz-checksum-*, and the trailer it promises.
    `composite`: the request completes a multipart upload, whose checksum may end in "-N"."""
    expect = Expectation(size=size)
    md5 = headers.get("content-md5")
    if md5 is not None:
        try:
            expect.md5 = base64.b64decode(md5, validate=True)
        except (binascii.Error, ValueError):
            expect.md5 = b""
        if len(expect.md5) != 16:
            raise S3Error("InvalidDigest", "The Content-MD5 you specified was invalid.",
                          fields={"Content-MD5": md5})  # S3 names the value it refused
    given = [(name, value) for header, name in CHECKSUM_HEADERS.items() if (value := headers.get(header)) is not None]
    if len(given) > 1:
        raise S3Error("InvalidRequest",
                      "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")
    for name, value in given:
        expect.checksums[name] = _checked_checksum(name, value, composite)
        expect.algorithm = name
    trailer = headers.get("x-amz-trailer")
    if trailer is not None:
        trailed = CHECKSUM_HEADERS.get(trailer.strip().lower())
        if trailed is None:
            raise invalid_argument(f"Invalid value for x-amz-trailer: {trailer}", "x-amz-trailer", trailer)
        expect.algorithm = trailed
    sdk = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk is not None and expect.algorithm is None:
        expect.algorithm = algorithm_name(sdk, "x-amz-sdk-checksum-algorithm")
    return expect


_SSE_C = ("x-amz-server-side-encryption-customer-algorithm", "x-amz-server-side-encryption-customer-key",
          "x-amz-server-side-encryption-customer-key-md5")
_SSE_METHODS = ("AES256", "aws:kms", "aws:kms:dsse")
_OBJECT_LOCK = ("x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold")


CANNED_ACLS = frozenset({
    "private", "public-read", "public-read-write", "authenticated-read", "aws-exec-read", "bucket-owner-read",
    "bucket-owner-full-control", "log-delivery-write",
})
# The canned ACLs that grant nothing beyond the owner's FULL_CONTROL: with one owner for every
# bucket and object, `bucket-owner-full-control` is `private`.
OWNER_ONLY_ACLS = frozenset({"private", "bucket-owner-full-control"})
GRANT_HEADERS = ("x-amz-grant-full-control", "x-amz-grant-read", "x-amz-grant-read-acp", "x-amz-grant-write",
                 "x-amz-grant-write-acp")


def acl_refused(operation: str, what: str, header: str | None = None) -> S3Error:
    return S3Error("AccessControlListNotSupported", f"The bucket does not allow ACLs ({operation} with {what}): "
                   "every bucket and object is private to its owner, and public access is granted by a bucket "
                   "policy.", 400, fields=None if header is None else {"Header": header})


def check_acl(headers: Mapping[str, str], operation: str) -> str | None:
    """The canned ACL (x-amz-acl) a write names, if any. Only ACLs that leave the resource private
    are accepted; a public canned ACL or a grant header is refused rather than dropped, as AWS
    refuses them on a bucket whose Object Ownership is BucketOwnerEnforced (400
    AccessControlListNotSupported), since strato grants access through bucket policies alone."""
    acl = headers.get("x-amz-acl")
    if acl is not None:
        acl = acl.strip()
        if acl not in CANNED_ACLS:
            raise invalid_argument(f"Invalid canned ACL: {acl}", "x-amz-acl", acl)
        if acl not in OWNER_ONLY_ACLS:
            raise acl_refused(operation, f"the canned ACL {acl}", "x-amz-acl")
    for header in GRANT_HEADERS:
        if header in headers:
            raise acl_refused(operation, header, header)
    return acl


def refuse_unimplemented(headers: Mapping[str, str], operation: str) -> None:
    """Headers asking a write for what strato cannot do yet answer 501, as S3 answers headers
    that imply functionality it does not implement, rather than being silently dropped:
    customer-key and KMS encryption, object lock, ACLs other than private. (SSE-S3, `AES256`, is accepted.)"""
    check_acl(headers, operation)
    sse = headers.get("x-amz-server-side-encryption")
    if sse is not None:
        sse = sse.strip()
        if sse not in _SSE_METHODS:
            raise invalid_argument("The encryption method specified is not supported",
                                   "x-amz-server-side-encryption", sse)
        if any(name in headers for name in _SSE_C):
            raise invalid_argument("Server Side Encryption with Customer provided key is incompatible with the "
                                   "encryption method specified", "x-amz-server-side-encryption", sse)
    if "x-amz-server-side-encryption-aws-kms-key-id" in headers and sse not in ("aws:kms", "aws:kms:dsse"):
        raise invalid_argument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                               "x-amz-server-side-encryption : aws:kms", "x-amz-server-side-encryption", sse or "")
    named = [name for name in (*_SSE_C, *_OBJECT_LOCK) if name in headers]
    if sse is not None and sse != "AES256":
        named.append("x-amz-server-side-encryption")
    if named:
        raise S3Error("NotImplemented", f"{operation} with {named[0]} is not implemented by strato yet.", 501,
                      Header=named[0])


# OUTPOSTS is left out: it names storage on an Outposts rack, and S3 refuses it for a bucket
# with InvalidStorageClass.
STORAGE_CLASSES = frozenset({
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER",
    "DEEP_ARCHIVE", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE", "FSX_OPENZFS",
})


def storage_class(headers: dict[str, str]) -> str:
    """x-amz-storage-class of a write. Strato stores every class alike and records the name."""
    value = headers.get("x-amz-storage-class", "STANDARD")
    if value not in STORAGE_CLASSES:
        raise S3Error("InvalidStorageClass", "The storage class you specified is not valid",
                      StorageClassRequested=value)
    return value


def write_conditions(headers: dict[str, str], key: str) -> WriteConditions | None:
    if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
    if if_none_match is not None and if_none_match.strip() != "*":
        raise S3Error("NotImplemented", "If-None-Match on writes only supports '*'.", 501,
                      Header="If-None-Match")
    conditions = WriteConditions(if_match=if_match.strip() if if_match else None,
                                 if_none_match=if_none_match.strip() if if_none_match else None, key=key)
    return conditions or None


def mail_safe(value: str) -> str:
    """A user metadata value as S3 returns it: as is when it is US-ASCII, otherwise RFC 2047
    encoded (=?UTF-8?B?...?=). Values from headers hold their bytes as Latin-1 chars."""
    if value.isascii():
        return value
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "surrogateescape")
    return f"=?UTF-8?B?{base64.b64encode(raw).decode()}?="


def checksum_headers(values: Mapping[str, str], checksum_type: str | None) -> list[tuple[str, str]]:
    out = [(f"x-amz-checksum-{name.lower()}", value) for name, value in values.items()]
    if out and checksum_type:
        out.append(("x-amz-checksum-type", checksum_type))
    return out


def object_headers(
    obj: ObjectVersion, *, checksum_mode: bool, part: PartInfo | None = None,
    overrides: dict[str, str] | None = None,
) -> list[tuple[str, str]]:
    """Headers of a GetObject/HeadObject response (the body's length and range excluded)."""
    out = [
        ("etag", quote_etag(obj.etag)),
        ("last-modified", format_http_date(obj.last_modified)),
        ("accept-ranges", "bytes"),
    ]
    system = dict(obj.system)
    if overrides:
        system.update(overrides)
    out.extend((name, value) for name, value in system.items())
    out.extend((f"x-amz-meta-{name}", mail_safe(value)) for name, value in obj.user.items())
    if obj.storage_class != "STANDARD":
        out.append(("x-amz-storage-class", obj.storage_class))
    if obj.tags:
        out.append(("x-amz-tagging-count", str(len(obj.tags))))
    if obj.parts and part is not None:  # only a read by part number reports the count
        out.append(("x-amz-mp-parts-count", str(len(obj.parts))))
    if checksum_mode:
        if part is not None:
            out.extend(checksum_headers(part.checksums, None))
        else:
            out.extend(checksum_headers(obj.checksums, obj.checksum_type))
    return out


def response_overrides(query: dict[str, str]) -> dict[str, str]:
    return {header: query[param] for param, header in RESPONSE_OVERRIDES.items() if param in query}
