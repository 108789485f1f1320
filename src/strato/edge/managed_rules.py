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
    forward_query, query_names, query_withheld, query_keys, query_unkeyed = _query(policy.query_strings,
                                                                                   added.query_strings)
    cookies, cookies_withheld = _cookies(policy.cookies, added.cookies)
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
                           withheld=withheld, computed=tuple(sorted(computed)), keys_encoding=bool(encodings))
    return dataclasses.replace(
        base, forward_query=forward_query, query_names=query_names, query_keys=query_keys,
        query_unkeyed=query_unkeyed,
        query_withheld=query_withheld | (frozenset(S3_WITHHELD_QUERY) if withhold_s3_parameters else frozenset()),
        cookies=cookies, cookies_withheld=cookies_withheld, headers=headers,
        ttls=Ttls(policy.min_ttl, policy.default_ttl, policy.max_ttl), cache=policy.max_ttl > 0,
        compress=encodings if base.compress else ())


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


def _taken(selection: Selection) -> tuple[bool, frozenset[str]]:
    """A query string or cookie selection as (every value but the names, the names) or (only the
    names, the names)."""
    return selection.every, frozenset(selection.names)


def _together(key: Selection, added: Selection) -> tuple[bool, frozenset[str]]:
    """What the cache key and the origin request policy send the origin together, as _taken has it."""
    (key_every, key_names), (added_every, added_names) = _taken(key), _taken(added)
    if key_every and added_every:
        return True, key_names & added_names
    if key_every or added_every:
        return True, (key_names - added_names) if key_every else (added_names - key_names)
    return False, key_names | added_names


def _query(key: Selection, added: Selection) -> tuple[bool, frozenset[str] | None, frozenset[str],
                                                        frozenset[str] | None, frozenset[str]]:
    """(forward the query, only these parameters, never these, key only on these, never key on
    these) for the key's and the origin request policy's query strings (`allExcept`: every
    parameter but those named)."""
    every, names = _together(key, added)
    key_every, key_names = _taken(key)
    keys, unkeyed = (None, key_names) if key_every else (key_names, frozenset[str]())
    if every:
        return True, None, names, keys, unkeyed
    if not names:
        return False, None, frozenset(), None, frozenset()
    return True, names, frozenset(), keys, unkeyed


def _cookies(key: Selection, added: Selection) -> tuple[frozenset[str] | None, frozenset[str]]:
    """The cookies that go to the origin: (every one (None) but those withheld, or those the
    policies name, and none withheld). A cookie the key leaves out but the origin request policy
    sends is keyed too, as with named ones: the key holds the Cookie field as forwarded."""
    every, names = _together(key, added)
    return (None, names) if every else (names, frozenset())
