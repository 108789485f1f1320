"""Lambda's tag rules, pure: which function a tagging operation's resource ARN names, and the
keys and values a request may carry.

Source: botocore's Lambda service model (TaggableResource, Tags, TagKey, TagValue, TagKeyList)
and the Lambda API reference, "TagResource", "UntagResource", "ListTags" and "Using tags on
Lambda functions" (1-128 character keys, 0-256 character values, `aws:` reserved, 50 a function).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

from strato.account import ACCOUNT_ID
from strato.functions.errors import missing

from .errors import LambdaError, invalid_content, invalid_parameter, not_found, validation_error

RESOURCE_PATTERN = (
    r"arn:(aws[a-zA-Z-]*):lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d{1}:\d{12}:"
    r"(function:[a-zA-Z0-9-_]+(:(\$LATEST|[a-zA-Z0-9-_]+))?|code-signing-config:csc-[a-z0-9]{17}|"
    r"event-source-mapping:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|"
    r"(capacity-provider|network-connector):[a-zA-Z0-9-_]{1,64})"
)
_RESOURCE = re.compile(RESOURCE_PATTERN)
_FUNCTION = re.compile(r"arn:[^:]+:lambda:([^:]+):(\d{12}):function:([^:]+)(?::(.+))?")
TEXT_PATTERN = r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)"
_PUNCTUATION = frozenset("_.:/=+-@")
MAX_KEY = 128
MAX_VALUE = 256
RESERVED_PREFIX = "aws:"


def tagged_function(resource: str, region: str) -> str:
    """The function a tagging operation names: a full, unqualified function ARN of this
    account and region. Functions are the only taggable resources strato has."""
    if not _RESOURCE.fullmatch(resource):
        raise validation_error(resource, "resource",
                               f"Member must satisfy regular expression pattern: {RESOURCE_PATTERN}")
    matched = _FUNCTION.fullmatch(resource)
    if matched is None:
        raise not_found("The resource you requested does not exist.")
    arn_region, account, name, qualifier = matched.groups()
    if qualifier is not None:
        raise invalid_parameter("Tags on function aliases and versions are not supported. Please specify a "
                                "function ARN.")
    if (arn_region, account) != (region, ACCOUNT_ID):
        raise not_found(missing(resource))
    return str(name)


def _is_tag_text(text: str) -> bool:
    """TEXT_PATTERN: Unicode letters, separators and numbers, and `_ . : / = + - @`."""
    return all(char in _PUNCTUATION or unicodedata.category(char)[0] in "LZN" for char in text)


def _violations(text: str, low: int, high: int) -> list[str]:
    """The constraints `text` breaks, worded as Lambda's request validation words them."""
    broken = []
    if len(text) > high:
        broken.append(f"Member must have length less than or equal to {high}")
    if len(text) < low:
        broken.append(f"Member must have length greater than or equal to {low}")
    if not _is_tag_text(text):
        broken.append(f"Member must satisfy regular expression pattern: {TEXT_PATTERN}")
    return broken


def _java(value: Mapping[str, str] | Iterable[str]) -> str:
    """A map or list as Lambda's validation messages print it: {k=v, ...} or [a, ...]."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}={item}" for key, item in value.items()) + "}"
    return "[" + ", ".join(value) + "]"


def _invalid(value: Mapping[str, str] | Iterable[str], member: str, what: str, broken: list[str]) -> LambdaError:
    return validation_error(_java(value), member, f"{what} must satisfy constraint: [{', '.join(broken)}]")


def tags(given: Any, required: bool = False) -> dict[str, str]:
    """A request's `Tags` map, each key and value checked; `required`: TagResource's, which
    must name at least one tag."""
    if given is None:
        given = {}
    if not isinstance(given, dict) or not all(isinstance(value, str) for value in given.values()):
        raise invalid_content("Tags must map keys to strings")
    if required and not given:
        raise invalid_parameter("An error occurred and the request cannot be processed.")
    for key, value in given.items():
        broken = _violations(key, 1, MAX_KEY)
        if broken:
            raise _invalid(given, "tags", "Map keys", broken)
        broken = _violations(value, 0, MAX_VALUE)
        if broken:
            raise _invalid(given, "tags", "Map value", broken)
        if key.lower().startswith(RESERVED_PREFIX):
            raise invalid_parameter(f"The tag key '{key}' is invalid: keys starting with '{RESERVED_PREFIX}' are "
                                    "reserved for AWS use.")
    return dict(given)


def tag_keys(keys: list[str]) -> list[str]:
    """UntagResource's `tagKeys` query parameters: at least one, each a valid key."""
    if not keys:
        raise validation_error(None, "tagKeys", "Member must not be null")
    for key in keys:
        broken = _violations(key, 1, MAX_KEY)
        if broken:
            raise _invalid(keys, "tagKeys", "Member", broken)
    return keys
