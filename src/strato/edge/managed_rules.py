"""A cache behaviour that names managed policies, as the Rules the proxy applies (AWS CloudFront
DeveloperGuide/controlling-origin-requests.html): the cache policy's TTLs and cache key, and what
origin requests carry, which is the key's values and those the origin request policy adds.
Without an origin request policy the origin gets only what the key holds (and the request's own
HTTP: PROTOCOL_FIELDS). The CloudFront request headers either names are computed by the edge
(edge/cloudfront_fields.py), AllViewerAndCloudFrontHeaders-2022-06's among them."""

from __future__ import annotations

import dataclasses

from strato.cdn.cache_policies import CachePolicy
from strato.cdn.managed import NONE, Selection
from strato.cdn.origin_request_policies import S3_WITHHELD_QUERY, OriginRequestPolicy
from strato.edge.cloudfront_fields import COMPUTED
from strato.edge.rules import HeaderPolicy, Rules, Ttls


def managed_rules(base: Rules, policy: CachePolicy, request_policy: OriginRequestPolicy | None,
                  withhold_s3_parameters: bool = False) -> Rules:
    """`base` under a cache policy (a MaxTTL of 0 caches nothing) and an origin request policy;
    `withhold_s3_parameters`: the origin is S3 and the origin request policy is one CloudFront
    keeps S3's response-content-* parameters from."""
    added = request_policy or _NOTHING_ADDED
    forward_query, query_names, query_keys = _query(policy.query_strings, added.query_strings)
    keyed = {name.lower() for name in policy.headers.names}
    if policy.cookies.behavior != "none":
        keyed.add("cookie")
    encodings = tuple(coding for coding, enabled in (("br", policy.brotli), ("gzip", policy.gzip)) if enabled)
    named = frozenset(name.lower() for name in added.headers.names)
    behavior = added.headers.behavior
    withheld = named if behavior == "allExcept" else frozenset()
    computed = (keyed | (named - withheld)) & COMPUTED
    headers = HeaderPolicy(keyed=tuple(sorted(keyed)), others=False, encodings=encodings,
                           forwarded=named if behavior == "whitelist" else frozenset(), every=added.headers.every,
                           withheld=withheld, computed=tuple(sorted(computed)))
    return dataclasses.replace(
        base, forward_query=forward_query, query_names=query_names, query_keys=query_keys,
        query_withheld=frozenset(S3_WITHHELD_QUERY) if withhold_s3_parameters else frozenset(),
        cookies=_cookies(policy.cookies, added.cookies), headers=headers,
        ttls=Ttls(policy.min_ttl, policy.default_ttl, policy.max_ttl), cache=policy.max_ttl > 0,
        compress=base.compress and policy.compressed)


_NOTHING_ADDED = OriginRequestPolicy("", "", NONE)


def forwards_viewer_host(policy: CachePolicy | None, request_policy: OriginRequestPolicy | None) -> bool:
    """Whether the origin gets the viewer's Host: the key holds it, or the origin request policy
    forwards it (AllViewer does, AllViewerExceptHostHeader does not)."""
    keyed = policy is not None and any(name.lower() == "host" for name in policy.headers.names)
    if request_policy is None:
        return keyed
    headers = request_policy.headers
    named = any(name.lower() == "host" for name in headers.names)
    return keyed or (named if headers.behavior == "whitelist" else headers.every and not named)


def _query(key: Selection, added: Selection) -> tuple[bool, frozenset[str] | None, frozenset[str] | None]:
    """(forward the query, only these parameters, key only on these) for the key's and the origin
    request policy's query strings."""
    if key.every or added.every:
        return True, None, None if key.every else frozenset(key.names)
    names = frozenset(key.names) | frozenset(added.names)
    if not names:
        return False, None, None
    return True, names, frozenset(key.names)


def _cookies(key: Selection, added: Selection) -> frozenset[str] | None:
    """The cookies that go to the origin: every one (None), or those the policies name."""
    if key.every or added.every:
        return None
    return frozenset(key.names) | frozenset(added.names)
