"""Cache policies: what one holds, how a custom one is checked, and AWS's managed ones, with
their real ids and settings (AWS CloudFront DeveloperGuide/using-managed-cache-policies.html,
controlling-the-cache-key.html, cloudfront-limits.html). A cache behaviour names a managed
policy or a custom one (CreateCachePolicy; kept with the other resources). Names, comments and
the spelling of header names are as AWS's API returns them (a Terraformer export of a real
account agrees with the guide on every setting)."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidArgument
from .managed import ALL, NONE, Selection, check_policy, refuse_headers

MAX_NAMES = 10  # headers, cookies and query strings a cache policy's key may each list
MAX_TTL = 3153600000  # 100 years, CloudFront's bound on a policy's TTLs
_EVERY = ("none", "whitelist", "allExcept", "all")


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """A CachePolicyConfig: its TTLs and ParametersInCacheKeyAndForwardedToOrigin, what the
    cache key holds (and so what origin requests carry): headers, cookies, query strings, and
    the normalized Accept-Encoding when gzip or br is enabled (which CloudFront's edge
    compression also requires)."""

    name: str
    comment: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    headers: Selection = NONE
    cookies: Selection = NONE
    query_strings: Selection = NONE
    gzip: bool = False
    brotli: bool = False

    @property
    def compressed(self) -> bool:
        return self.gzip or self.brotli


def check_cache_policy(policy: CachePolicy) -> None:
    """A custom cache policy's config, refused as CloudFront refuses it."""
    check_policy(policy.name, policy.comment, (("headers", policy.headers, ("none", "whitelist"), MAX_NAMES),
                                               ("cookies", policy.cookies, _EVERY, MAX_NAMES),
                                               ("query strings", policy.query_strings, _EVERY, MAX_NAMES)),
                 "cache policy")
    if not 0 <= policy.min_ttl <= policy.default_ttl <= policy.max_ttl <= MAX_TTL:
        raise InvalidArgument("The TTLs must satisfy 0 <= MinTTL <= DefaultTTL <= MaxTTL <= 3153600000.")
    refuse_headers(policy.headers, ("accept-encoding",), "cache policy",
                   "EnableAcceptEncodingGzip and EnableAcceptEncodingBrotli put it in the key")
    keyed = (policy.headers, policy.cookies, policy.query_strings)
    if policy.max_ttl == 0 and (policy.compressed or any(selection.behavior != "none" for selection in keyed)):
        raise InvalidArgument("A cache policy with caching disabled (MaxTTL 0) has no cache key: its headers, "
                              "cookies and query strings are none and EnableAcceptEncodingGzip and "
                              "EnableAcceptEncodingBrotli false.")


AMPLIFY = "2e54312d-136d-493c-8eb9-b001f22f67d2"
AMPLIFY_DEFAULT = "4d1d2f1d-3a71-49ad-9e08-7ea5d843a556"
AMPLIFY_DEFAULT_NO_COOKIES = "a6bad946-36c3-4c33-aa98-362c74a7fb13"
AMPLIFY_IMAGE_OPTIMIZATION = "1c6db51a-a33f-469a-8245-dae26771f530"
AMPLIFY_STATIC_CONTENT = "7e5fad67-ee98-4ad0-b05a-394999eefc1a"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_OPTIMIZED_UNCOMPRESSED = "b2884449-e4de-46a7-ac36-70bc7f1ddd6d"
ELEMENTAL_MEDIA_PACKAGE = "08627262-05a9-4f76-9ded-b50ca2e3a84f"
USE_ORIGIN_CACHE_CONTROL_HEADERS = "83da9c7e-98b4-4e11-a168-04f0df8e2c65"
USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS = "4cc15a8a-d715-48a4-82b8-cc0b614638fe"

YEAR = 31536000
DAY = 86400
_ORIGIN_CACHE_CONTROL_HEADERS = Selection(
    "whitelist", ("host", "origin", "x-http-method", "x-http-method-override", "x-method-override"))

_AMPLIFY_DEFAULT_HEADERS = Selection("whitelist", ("Accept", "Authorization", "CloudFront-Viewer-Country", "Host"))

# The two UseOriginCacheControlHeaders policies are named without the `Managed-` prefix the others carry.
# The Amplify hosting policies' -V2 versions (which key on RSC, X-Amplify-Dpl and a __dpl cookie)
# are not modelled: their ids are not published where strato could check them.
MANAGED: dict[str, CachePolicy] = {
    AMPLIFY: CachePolicy(
        "Managed-Amplify", "Policy for Amplify Origin", 2, 2, 600,
        headers=Selection("whitelist", ("Authorization", "CloudFront-Viewer-Country", "Host")),
        cookies=ALL, query_strings=ALL, gzip=True, brotli=True),
    AMPLIFY_DEFAULT: CachePolicy(
        "Managed-Amplify-Default", "Default Amplify cache policy", 0, 0, YEAR, headers=_AMPLIFY_DEFAULT_HEADERS,
        cookies=ALL, query_strings=ALL, gzip=True, brotli=True),
    AMPLIFY_DEFAULT_NO_COOKIES: CachePolicy(
        "Managed-Amplify-DefaultNoCookies", "Default Amplify cache policy without cookies", 0, 0, YEAR,
        headers=_AMPLIFY_DEFAULT_HEADERS, query_strings=ALL, gzip=True, brotli=True),
    AMPLIFY_IMAGE_OPTIMIZATION: CachePolicy(
        "Managed-Amplify-ImageOptimization", "Amplify cache policy for image optimization", 0, 0, YEAR,
        headers=Selection("whitelist", ("Accept", "Authorization", "Host")), query_strings=ALL, gzip=True,
        brotli=True),
    AMPLIFY_STATIC_CONTENT: CachePolicy(
        "Managed-Amplify-StaticContent", "Amplify cache policy for static content", 0, 0, YEAR,
        headers=Selection("whitelist", ("Authorization", "Host")), gzip=True, brotli=True),
    CACHING_DISABLED: CachePolicy("Managed-CachingDisabled", "Policy with caching disabled", 0, 0, 0),
    CACHING_OPTIMIZED: CachePolicy(
        "Managed-CachingOptimized", "Policy with caching enabled. Supports Gzip and Brotli compression.",
        1, DAY, YEAR, gzip=True, brotli=True),
    CACHING_OPTIMIZED_UNCOMPRESSED: CachePolicy(
        "Managed-CachingOptimizedForUncompressedObjects",
        "Default policy when compression is disabled", 1, DAY, YEAR),
    ELEMENTAL_MEDIA_PACKAGE: CachePolicy(
        "Managed-Elemental-MediaPackage", "Policy for Elemental MediaPackage Origin", 0, DAY, YEAR,
        headers=Selection("whitelist", ("origin",)),
        query_strings=Selection("whitelist", ("aws.manifestfilter", "start", "end", "m")), gzip=True),
    USE_ORIGIN_CACHE_CONTROL_HEADERS: CachePolicy(
        "UseOriginCacheControlHeaders",
        "Policy for origins that return Cache-Control headers. Query strings are not included in the cache key.",
        0, 0, YEAR, headers=_ORIGIN_CACHE_CONTROL_HEADERS, cookies=ALL, gzip=True, brotli=True),
    USE_ORIGIN_CACHE_CONTROL_HEADERS_QUERY_STRINGS: CachePolicy(
        "UseOriginCacheControlHeaders-QueryStrings",
        "Policy for origins that return Cache-Control headers and serve different content based on values present "
        "in the query string.",
        0, 0, YEAR, headers=_ORIGIN_CACHE_CONTROL_HEADERS, cookies=ALL, query_strings=ALL, gzip=True, brotli=True),
}
