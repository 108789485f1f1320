"""S3 bucket CORS: the configuration (read from a PutBucketCors body, kept as a JSON document,
written back as GetBucketCors XML) and the pure matching of a browser request against its
rules. Source: Amazon S3 API reference, PutBucketCors; User Guide, "Using cross-origin resource
sharing (CORS)" and "Troubleshooting CORS". The first rule that matches answers."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from . import xml
from .errors import S3Error

MAX_RULES = 100
METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "HEAD"})
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


@dataclass(frozen=True, slots=True)
class CORSRule:
    """One rule, shaped as GetBucketCors writes it (fields in the API reference's order)."""

    id: str | None = xml.element("ID")
    allowed_header: tuple[str, ...] = ()
    allowed_method: tuple[str, ...] = ()
    allowed_origin: tuple[str, ...] = ()
    expose_header: tuple[str, ...] = ()
    max_age_seconds: int | None = None


@dataclass(frozen=True, slots=True)
class CORSConfiguration:
    cors_rule: tuple[CORSRule, ...] = xml.element("CORSRule")


def _invalid(message: str) -> S3Error:
    return S3Error("InvalidRequest", message)


def _one_wildcard(kind: str, values: Sequence[str]) -> None:
    for value in values:
        if value.count("*") > 1:
            raise _invalid(f'{kind} "{value}" can not have more than one wildcard.')


def _rule(node: xml.Node) -> CORSRule:
    def texts(tag: str) -> tuple[str, ...]:
        return tuple(child.text.strip() for child in node.find_all(tag))

    methods, origins = texts("AllowedMethod"), texts("AllowedOrigin")
    if not methods or not origins:
        raise xml.MalformedXML("CORSRule needs AllowedMethod and AllowedOrigin")
    for method in methods:
        if method not in METHODS:
            raise _invalid(f"Found unsupported HTTP method in CORS config. Unsupported method is {method}")
    _one_wildcard("AllowedOrigin", origins)
    headers = texts("AllowedHeader")
    _one_wildcard("AllowedHeader", headers)
    expose = texts("ExposeHeader")
    for header in expose:
        if "*" in header:
            raise _invalid(f'ExposeHeader "{header}" contains wildcard. We currently do not support wildcard '
                           "for ExposeHeader.")
    age = node.text_of("MaxAgeSeconds")
    max_age = None
    if age is not None:
        if not re.fullmatch(r"\s*-?\d{1,10}\s*", age):
            raise xml.MalformedXML("MaxAgeSeconds is not an integer")
        max_age = int(age)
    return CORSRule(node.text_of("ID"), headers, methods, origins, expose, max_age)


def from_body(body: bytes) -> CORSConfiguration:
    """The configuration a PutBucketCors body names; MalformedXML when it is not a
    CORSConfiguration of 1 to 100 complete rules, InvalidRequest for a value S3 refuses."""
    root = xml.parse(body)
    nodes = root.find_all("CORSRule") if root.tag == "CORSConfiguration" else []
    if not nodes or len(nodes) > MAX_RULES:
        raise xml.MalformedXML(f"CORSConfiguration needs 1 to {MAX_RULES} CORSRule elements")
    return CORSConfiguration(tuple(_rule(node) for node in nodes))


def to_document(config: CORSConfiguration) -> str:
    return json.dumps([[rule.id, *(list(values) for values in (
        rule.allowed_header, rule.allowed_method, rule.allowed_origin, rule.expose_header)), rule.max_age_seconds]
        for rule in config.cors_rule])


@lru_cache(maxsize=256)  # every request with an Origin header reads its bucket's document again
def from_document(document: str) -> CORSConfiguration:
    rules = []
    for rule_id, headers, methods, origins, expose, max_age in json.loads(document):
        rules.append(CORSRule(rule_id, tuple(headers), tuple(methods), tuple(origins), tuple(expose), max_age))
    return CORSConfiguration(tuple(rules))


def _wildcard(pattern: str, value: str, *, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    head, star, tail = pattern.partition("*")
    if not star:
        return pattern == value
    return len(value) >= len(head) + len(tail) and value.startswith(head) and value.endswith(tail)


def requested_headers(value: str | None) -> list[str]:
    """The header names of Access-Control-Request-Headers, lower-cased, in the order given."""
    return [name.strip().lower() for name in (value or "").split(",") if name.strip()]


def match(config: CORSConfiguration, origin: str, method: str, headers: Sequence[str] = ()) -> CORSRule | None:
    """The first rule allowing this origin (case-sensitive, one `*` wildcard), method and every
    requested header (case-insensitive, wildcards), or None."""
    for rule in config.cors_rule:
        if method not in rule.allowed_method:
            continue
        if not any(_wildcard(allowed, origin, fold=False) for allowed in rule.allowed_origin):
            continue
        if all(any(_wildcard(allowed, name, fold=True) for allowed in rule.allowed_header) for name in headers):
            return rule
    return None


def response_headers(rule: CORSRule, origin: str) -> list[tuple[str, str]]:
    """The headers a matched actual request's response carries: a rule open to every origin
    answers `*` without credentials; otherwise the origin is echoed with credentials allowed."""
    wildcard = "*" in rule.allowed_origin
    out = [("access-control-allow-origin", "*" if wildcard else origin),
           ("access-control-allow-methods", ", ".join(rule.allowed_method))]
    if not wildcard:
        out.append(("access-control-allow-credentials", "true"))
    if rule.expose_header:
        out.append(("access-control-expose-headers", ", ".join(rule.expose_header)))
    if rule.max_age_seconds is not None:
        out.append(("access-control-max-age", str(rule.max_age_seconds)))
    out.append(("vary", VARY))
    return out


def preflight_headers(rule: CORSRule, origin: str, headers: Sequence[str]) -> list[tuple[str, str]]:
    """A matched preflight's answer: the actual-request headers plus the requested headers allowed."""
    out = response_headers(rule, origin)
    if headers:
        out.insert(2, ("access-control-allow-headers", ", ".join(headers)))
    return out


NOT_ALLOWED = ("CORSResponse: This CORS request is not allowed. This is usually because the evalution of "
               "Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers "
               "are not whitelisted by the resource's CORS spec.")
NOT_ENABLED = "CORSResponse: CORS is not enabled for this bucket."
NO_BUCKET = "CORSResponse: Bucket not found"


def forbidden(method: str, resource_type: str, message: str = NOT_ALLOWED) -> S3Error:
    """S3's 403 for a preflight no rule allows, to a bucket without CORS, or to no bucket."""
    return S3Error("AccessForbidden", message, 403, Method=method, ResourceType=resource_type)


def insufficient() -> S3Error:
    """S3's 400 for a preflight without Origin, or to a CORS bucket without
    Access-Control-Request-Method: it names the Origin in both cases."""
    return S3Error("BadRequest", "Insufficient information. Origin request header needed.")


def headers_for(document: str | None, request: Mapping[str, str], method: str) -> list[tuple[str, str]]:
    """The CORS headers an actual (non-preflight) request's response gets: none without an
    Origin, a configuration or a matching rule."""
    origin = request.get("origin")
    if origin is None or document is None:
        return []
    rule = match(from_document(document), origin, method)
    return response_headers(rule, origin) if rule is not None else []
