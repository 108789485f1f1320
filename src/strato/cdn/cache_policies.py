"""AWS's managed cache policies, the ones a cache behaviour may name by CachePolicyId
(AWS CloudFront DeveloperGuide/using-managed-cache-policies.html). strato has no
CreateCachePolicy: any other id is refused with NoSuchCachePolicy."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """A cache policy's TTLs and what it puts in the cache key (and so in origin requests):
    header names, and whether all cookies and query strings are in it (the managed policies
    strato knows put none); `compressed`: the normalized Accept-Encoding (gzip, br) is in the key,
    which CloudFront's edge compression also requires."""

    name: str
    min_ttl: int
    default_ttl: int
    max_ttl: int
    headers: tuple[str, ...] = ()
    cookies: bool = False
    query_strings: bool = False
    compressed: bool = False


CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_OPTIMIZED_UNCOMPRESSED = "b2884449-e4de-46a7-ac36-70bc7f1ddd6d"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"

MANAGED: dict[str, CachePolicy] = {
    CACHING_OPTIMIZED: CachePolicy("Managed-CachingOptimized", 1, 86400, 31536000, compressed=True),
    CACHING_OPTIMIZED_UNCOMPRESSED: CachePolicy("Managed-CachingOptimizedForUncompressedObjects", 1, 86400,
                                                31536000),
    CACHING_DISABLED: CachePolicy("Managed-CachingDisabled", 0, 0, 0),
}
