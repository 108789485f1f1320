"""Routing CloudFront requests by the request URIs of the 2020-05-31 API reference."""

from __future__ import annotations

import pytest

from strato.api.cloudfront.router import Endpoint, route


@pytest.mark.parametrize(("method", "path", "query", "expected"), [
    ("POST", "/2020-05-31/distribution", {}, Endpoint("CreateDistribution")),
    ("POST", "/2020-05-31/distribution", {"WithTags": ""}, Endpoint("CreateDistributionWithTags")),
    ("GET", "/2020-05-31/distribution", {"MaxItems": "2"}, Endpoint("ListDistributions")),
    ("GET", "/2020-05-31/distribution/EDFDVBD6EXAMPLE", {}, Endpoint("GetDistribution", "EDFDVBD6EXAMPLE")),
    ("DELETE", "/2020-05-31/distribution/EDFDVBD6EXAMPLE", {}, Endpoint("DeleteDistribution", "EDFDVBD6EXAMPLE")),
    ("GET", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/config", {},
     Endpoint("GetDistributionConfig", "EDFDVBD6EXAMPLE")),
    ("PUT", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/config", {},
     Endpoint("UpdateDistribution", "EDFDVBD6EXAMPLE")),
    ("POST", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation", {},
     Endpoint("CreateInvalidation", "EDFDVBD6EXAMPLE")),
    ("GET", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation", {"Marker": "I1"},
     Endpoint("ListInvalidations", "EDFDVBD6EXAMPLE")),
    ("GET", "/2020-05-31/distribution/EDFDVBD6EXAMPLE/invalidation/IDFDVBD632BHDS5", {},
     Endpoint("GetInvalidation", "EDFDVBD6EXAMPLE", "IDFDVBD632BHDS5")),
    ("POST", "/2020-05-31/public-key", {}, Endpoint("CreatePublicKey", resource="public-key")),
    ("GET", "/2020-05-31/origin-access-identity/cloudfront", {},
     Endpoint("ListCloudFrontOriginAccessIdentities", resource="origin-access-identity/cloudfront")),
    ("POST", "/2020-05-31/origin-access-identity/cloudfront/", {},  # a trailing slash, as for the others
     Endpoint("CreateCloudFrontOriginAccessIdentity", resource="origin-access-identity/cloudfront")),
    ("PUT", "/2020-05-31/origin-access-identity/cloudfront/E2QWRUHAPOMQZL/config", {},
     Endpoint("UpdateCloudFrontOriginAccessIdentity", resource="origin-access-identity/cloudfront",
              resource_id="E2QWRUHAPOMQZL")),
    ("GET", "/2020-05-31/public-key", {}, Endpoint("ListPublicKeys", resource="public-key")),
    ("GET", "/2020-05-31/public-key/K2JCJMDEHXQW5F", {},
     Endpoint("GetPublicKey", resource="public-key", resource_id="K2JCJMDEHXQW5F")),
    ("GET", "/2020-05-31/public-key/K2JCJMDEHXQW5F/config", {},
     Endpoint("GetPublicKeyConfig", resource="public-key", resource_id="K2JCJMDEHXQW5F")),
    ("PUT", "/2020-05-31/public-key/K2JCJMDEHXQW5F/config", {},
     Endpoint("UpdatePublicKey", resource="public-key", resource_id="K2JCJMDEHXQW5F")),
    ("DELETE", "/2020-05-31/public-key/K2JCJMDEHXQW5F", {},
     Endpoint("DeletePublicKey", resource="public-key", resource_id="K2JCJMDEHXQW5F")),
    ("PUT", "/2020-05-31/key-group/0a1b", {}, Endpoint("UpdateKeyGroup", resource="key-group", resource_id="0a1b")),
    ("GET", "/2020-05-31/key-group/0a1b/config", {},
     Endpoint("GetKeyGroupConfig", resource="key-group", resource_id="0a1b")),
    ("GET", "/2020-05-31/origin-access-control", {"MaxItems": "1"},
     Endpoint("ListOriginAccessControls", resource="origin-access-control")),
    ("PUT", "/2020-05-31/origin-access-control/E1/config", {},
     Endpoint("UpdateOriginAccessControl", resource="origin-access-control", resource_id="E1")),
    ("GET", "/2020-05-31/tagging", {"Resource": "arn:aws:cloudfront::000000000000:distribution/E1"},
     Endpoint("ListTagsForResource", resource_id="arn:aws:cloudfront::000000000000:distribution/E1")),
    ("POST", "/2020-05-31/tagging", {"Operation": "Tag", "Resource": "arn"},
     Endpoint("TagResource", resource_id="arn")),
    ("POST", "/2020-05-31/tagging", {"Operation": "Untag", "Resource": "arn"},
     Endpoint("UntagResource", resource_id="arn")),
    ("GET", "/2020-05-31/cache-policy", {"Type": "managed"}, Endpoint("ListCachePolicies", resource="cache-policy")),
    ("POST", "/2020-05-31/cache-policy", {}, Endpoint("CreateCachePolicy", resource="cache-policy")),
    ("GET", "/2020-05-31/cache-policy/658327ea-f89d-4fab-a63d-7e88639e58f6", {},
     Endpoint("GetCachePolicy", resource="cache-policy", resource_id="658327ea-f89d-4fab-a63d-7e88639e58f6")),
    ("GET", "/2020-05-31/origin-request-policy/216adef6/config", {},
     Endpoint("GetOriginRequestPolicyConfig", resource="origin-request-policy", resource_id="216adef6")),
    ("GET", "/2020-05-31/origin-request-policy", {},
     Endpoint("ListOriginRequestPolicies", resource="origin-request-policy")),
    ("GET", "/2020-05-31/response-headers-policy", {},
     Endpoint("ListResponseHeadersPolicies", resource="response-headers-policy")),
    ("PUT", "/2020-05-31/response-headers-policy/60669652", {},
     Endpoint("UpdateResponseHeadersPolicy", resource="response-headers-policy", resource_id="60669652")),
    ("DELETE", "/2020-05-31/cache-policy/P1", {}, Endpoint("DeleteCachePolicy", resource="cache-policy",
                                                            resource_id="P1")),
])
def test_supported_operations(method: str, path: str, query: dict[str, str], expected: Endpoint) -> None:
    assert route(method, path, query) == expected


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/2020-05-31/distribution"),
    ("POST", "/2020-05-31/distribution/E1/config"),
    ("DELETE", "/2020-05-31/distribution/E1/invalidation/I1"),
    ("GET", "/2020-05-31/distribution//config"),
    ("GET", "/2020-05-31/distribution/E1/unknown"),
    ("PUT", "/2020-05-31/cache-policy"),
    ("PUT", "/2020-05-31/cache-policy/P1/config"),  # policies update at /{Id}
    ("GET", "/2020-05-31/origin-request-policy/P1/config/more"),
    ("POST", "/2020-05-31/tagging"),  # without an Operation
    ("PUT", "/2020-05-31/key-group/0a1b/config"),  # key groups update at /{Id}
    ("PUT", "/2020-05-31/public-key/K1"),  # public keys update at /{Id}/config
    ("DELETE", "/2020-05-31/public-key/K1/config"),
    ("GET", "/2020-05-31/public-key/K1/config/more"),
    ("GET", "/2019-03-26/distribution"),
    ("GET", "/2020-05-31/origin-access-identity"),  # identities live under /origin-access-identity/cloudfront
    ("GET", "/2020-05-31/origin-access-identity/E2QWRUHAPOMQZL"),
    ("GET", "/"),
])
def test_anything_else_is_unknown(method: str, path: str) -> None:
    assert route(method, path, {}).operation == "Unknown"
