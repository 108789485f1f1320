"""S3 tag sets, read from the x-amz-tagging header (URL query form) or a <Tagging> body, and
held to S3's limits (Amazon S3 User Guide, "Categorizing your storage using tags"): keys of
1-128 and values of 0-256 Unicode characters from letters, digits, spaces and `+-=._:/@`,
unique keys, none prefixed `aws:`, at most 10 tags on an object and 50 on a bucket."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl

from . import xml
from .errors import S3Error, invalid_argument

MAX_OBJECT_TAGS = 10
MAX_BUCKET_TAGS = 50
MAX_KEY_LENGTH = 128
MAX_VALUE_LENGTH = 256
HEADER = "x-amz-tagging"
DIRECTIVE = "x-amz-tagging-directive"
_ALLOWED = re.compile(r"[\w\s+\-=.:/@]*")
_SYSTEM_PREFIX = "aws:"


def _invalid(message: str, **fields: str) -> S3Error:
    """InvalidTag naming the offending TagKey (and TagValue), as S3 answers."""
    return S3Error("InvalidTag", message, fields=fields)


def _checked(pairs: list[tuple[str, str]], *, bucket: bool) -> dict[str, str]:
    if bucket and len(pairs) > MAX_BUCKET_TAGS:
        raise _invalid(f"Bucket tag count cannot be greater than {MAX_BUCKET_TAGS}")
    if not bucket and len(pairs) > MAX_OBJECT_TAGS:
        raise S3Error("BadRequest", f"Object tags cannot be greater than {MAX_OBJECT_TAGS}")
    tags: dict[str, str] = {}
    for key, value in pairs:
        if len(key) > MAX_KEY_LENGTH:
            raise _invalid(f"The TagKey you have provided is too long, max {MAX_KEY_LENGTH}")
        if not key or not _ALLOWED.fullmatch(key):
            raise _invalid("The TagKey you have provided is invalid", TagKey=key)
        if len(value) > MAX_VALUE_LENGTH:
            raise _invalid(f"The TagValue you have provided is too long, max {MAX_VALUE_LENGTH}")
        if not _ALLOWED.fullmatch(value):
            raise _invalid("The TagValue you have provided is invalid", TagKey=key, TagValue=value)
        if key.lower().startswith(_SYSTEM_PREFIX):
            raise _invalid("System tags cannot be added/updated by requester" if bucket
                           else "Your TagKey cannot be prefixed with aws:", TagKey=key)
        if key in tags:
            raise _invalid("Cannot provide multiple Tags with the same key", TagKey=key)
        tags[key] = value
    return tags


def from_body(body: bytes, *, bucket: bool) -> dict[str, str]:
    """The tag set of a PutObjectTagging / PutBucketTagging body; MalformedXML when a Tag
    lacks its Key or Value or the document is not a Tagging with a TagSet."""
    root = xml.parse(body)
    tag_set = root.find("TagSet") if root.tag == "Tagging" else None
    if tag_set is None:
        raise xml.MalformedXML("Tagging needs a TagSet")
    pairs = []
    for node in tag_set.find_all("Tag"):
        key, value = node.text_of("Key"), node.text_of("Value")
        if key is None or value is None:
            raise xml.MalformedXML("Tag needs Key and Value")
        pairs.append((key, value))
    return _checked(pairs, bucket=bucket)


def from_header(headers: Mapping[str, str]) -> dict[str, str]:
    """The tags a write names in x-amz-tagging (`k1=v1&k2=v2`, URL-encoded UTF-8); none when absent.
    A header S3 cannot read as such (a duplicate name, characters no tag may hold) is InvalidArgument."""
    text = headers.get(HEADER)
    if not text:
        return {}
    try:
        pairs = parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        pairs = []
    unreadable = any(not _ALLOWED.fullmatch(part) for pair in pairs for part in pair)
    if not pairs or unreadable or len({key for key, _ in pairs}) != len(pairs):
        raise invalid_argument("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query "
                               "parameters without tag name duplicates.", HEADER, text)
    return _checked(pairs, bucket=False)


def for_copy(headers: Mapping[str, str], source: Mapping[str, str]) -> dict[str, str]:
    """A copy's tags: the source's (x-amz-tagging-directive COPY, the default) or its own (REPLACE)."""
    directive = headers.get(DIRECTIVE, "COPY").upper()
    if directive == "COPY":
        return dict(source)
    if directive == "REPLACE":
        return from_header(headers)
    raise invalid_argument("Unknown tagging directive.", DIRECTIVE, directive)
