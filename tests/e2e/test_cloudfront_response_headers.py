"""Custom response headers policies through boto3's cloudfront client, as CloudFront has them
(API_CreateResponseHeadersPolicy and its twins): the whole ResponseHeadersPolicyConfig round
trips, updates and deletes go by ETag, names are unique, managed policies cannot change, a
policy a distribution uses cannot go, and a config CloudFront refuses is refused with its error."""

from __future__ import annotations

import sys
import uuid
from typing import Any

import pytest

from strato.cdn.response_headers_policies import SECURITY_HEADERS
from tests.e2e import test_cloudfront_policies
from tests.e2e.test_cloudfront_policies import refused_with


def policy_config(name: str, **changes: Any) -> dict[str, Any]:
    """A policy using every part of the config: CORS, the six security headers, Server-Timing,
    custom headers and removed headers."""
    return {
        "Name": name, "Comment": "everything",
        "CorsConfig": {
            "AccessControlAllowOrigins": {"Quantity": 2, "Items": ["https://app.example.com", "https://b.example"]},
            "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["X-Tenant"]},
            "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "PUT"]},
            "AccessControlAllowCredentials": True,
            "AccessControlExposeHeaders": {"Quantity": 1, "Items": ["X-Request-Id"]},
            "AccessControlMaxAgeSec": 600,
            "OriginOverride": True,
        },
        "SecurityHeadersConfig": {
            "XSSProtection": {"Override": False, "Protection": True, "ReportUri": "https://r.example/xss"},
            "FrameOptions": {"Override": True, "FrameOption": "DENY"},
            "ReferrerPolicy": {"Override": False, "ReferrerPolicy": "same-origin"},
            "ContentSecurityPolicy": {"Override": True, "ContentSecurityPolicy": "default-src 'self'"},
            "ContentTypeOptions": {"Override": False},
            "StrictTransportSecurity": {"Override": True, "IncludeSubdomains": True, "Preload": True,
                                        "AccessControlMaxAgeSec": 63072000},
        },
        "ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 12.5},
        "CustomHeadersConfig": {"Quantity": 2, "Items": [
            {"Header": "Cache-Control", "Value": "public, max-age=60", "Override": True},
            {"Header": "X-Site", "Value": "strato", "Override": False}]},
        "RemoveHeadersConfig": {"Quantity": 2, "Items": [{"Header": "X-Powered-By"}, {"Header": "Vary"}]},
        **changes}


def new_name() -> str:
    return f"headers-{uuid.uuid4().hex[:8]}"


class TestRoundTrips:
    def test_a_policy_is_created_read_listed_updated_and_deleted(self, cloudfront: Any) -> None:
        name = new_name()
        created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(name))
        policy_id = created["ResponseHeadersPolicy"]["Id"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["Location"].endswith(f"/2020-05-31/response-headers-policy/{policy_id}")
        assert created["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == policy_config(name)
        read = cloudfront.get_response_headers_policy(Id=policy_id)
        assert read["ETag"] == created["ETag"]
        config = cloudfront.get_response_headers_policy_config(Id=policy_id)
        assert (config["ResponseHeadersPolicyConfig"], config["ETag"]) == (policy_config(name), created["ETag"])
        custom = cloudfront.list_response_headers_policies(Type="custom")["ResponseHeadersPolicyList"]["Items"]
        assert {"Type": "custom", "ResponseHeadersPolicy": read["ResponseHeadersPolicy"]} in custom
        every = cloudfront.list_response_headers_policies()["ResponseHeadersPolicyList"]["Items"]
        assert {item["Type"] for item in every} == {"managed", "custom"}

        changed = policy_config(name, ServerTimingHeadersConfig={"Enabled": False}, RemoveHeadersConfig={
            "Quantity": 0})
        updated = cloudfront.update_response_headers_policy(Id=policy_id, ResponseHeadersPolicyConfig=changed,
                                                            IfMatch=created["ETag"])
        assert updated["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == changed
        assert updated["ETag"] != created["ETag"]
        assert refused_with(cloudfront.delete_response_headers_policy, Id=policy_id, IfMatch=created["ETag"]) == (
            "PreconditionFailed", 412)
        cloudfront.delete_response_headers_policy(Id=policy_id, IfMatch=updated["ETag"])
        assert refused_with(cloudfront.get_response_headers_policy, Id=policy_id) == (
            "NoSuchResponseHeadersPolicy", 404)

    def test_a_policy_of_one_part_reads_back_as_sent(self, cloudfront: Any) -> None:
        config = {"Name": new_name(), "Comment": "",
                  "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "Server"}]}}
        created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=config)
        assert created["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"] == config

    def test_custom_policies_page_after_the_managed_ones(self, cloudfront: Any) -> None:
        made = {cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(new_name()))[
            "ResponseHeadersPolicy"]["Id"] for _ in range(2)}
        seen: list[str] = []
        marker = ""
        while True:
            page = cloudfront.list_response_headers_policies(MaxItems="2", Marker=marker)["ResponseHeadersPolicyList"]
            seen += [item["ResponseHeadersPolicy"]["Id"] for item in page["Items"]]
            if "NextMarker" not in page:
                break
            marker = page["NextMarker"]
        assert made <= set(seen)
        assert len(seen) == len(set(seen))
        assert SECURITY_HEADERS in seen


class TestChanges:
    def test_an_update_or_delete_needs_the_current_etag(self, cloudfront: Any) -> None:
        created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(new_name()))
        policy_id = created["ResponseHeadersPolicy"]["Id"]
        config = created["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]
        assert refused_with(cloudfront.update_response_headers_policy, Id=policy_id,
                            ResponseHeadersPolicyConfig=config, IfMatch="E0STALE") == ("PreconditionFailed", 412)
        assert refused_with(cloudfront.update_response_headers_policy, Id=policy_id,
                            ResponseHeadersPolicyConfig=config) == ("InvalidIfMatchVersion", 400)
        assert refused_with(cloudfront.delete_response_headers_policy, Id=policy_id) == ("InvalidIfMatchVersion", 400)
        assert refused_with(cloudfront.update_response_headers_policy, Id=str(uuid.uuid4()),
                            ResponseHeadersPolicyConfig=config, IfMatch="E1") == ("NoSuchResponseHeadersPolicy", 404)

    def test_names_are_unique_and_managed_policies_stay_as_they_are(self, cloudfront: Any) -> None:
        name = new_name()
        cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(name))
        for taken in (name, "Managed-SecurityHeadersPolicy"):
            assert refused_with(cloudfront.create_response_headers_policy,
                                ResponseHeadersPolicyConfig=policy_config(taken)) == (
                "ResponseHeadersPolicyAlreadyExists", 409)
        etag = cloudfront.get_response_headers_policy(Id=SECURITY_HEADERS)["ETag"]
        assert refused_with(cloudfront.update_response_headers_policy, Id=SECURITY_HEADERS, IfMatch=etag,
                            ResponseHeadersPolicyConfig=policy_config(new_name())) == ("IllegalUpdate", 400)
        assert refused_with(cloudfront.delete_response_headers_policy, Id=SECURITY_HEADERS, IfMatch=etag) == (
            "IllegalDelete", 400)

    def test_a_policy_a_distribution_uses_cannot_be_deleted(self, cloudfront: Any) -> None:
        created = cloudfront.create_response_headers_policy(ResponseHeadersPolicyConfig=policy_config(new_name()))
        policy_id = created["ResponseHeadersPolicy"]["Id"]
        # Through the module: a test class imported by name would be collected and run here again.
        naming = test_cloudfront_policies.TestNamingPoliciesInBehaviours()
        distribution = naming.create(cloudfront, naming.behaviour(ResponseHeadersPolicyId=policy_id))
        kept = distribution["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]
        assert kept["ResponseHeadersPolicyId"] == policy_id
        assert refused_with(cloudfront.delete_response_headers_policy, Id=policy_id, IfMatch=created["ETag"]) == (
            "ResponseHeadersPolicyInUse", 409)


def cors(**changes: Any) -> dict[str, Any]:
    return {"CorsConfig": {**policy_config("")["CorsConfig"], **changes}}


def security(**changes: Any) -> dict[str, Any]:
    return {"SecurityHeadersConfig": {**policy_config("")["SecurityHeadersConfig"], **changes}}


def custom_headers(*names: str) -> dict[str, Any]:
    return {"CustomHeadersConfig": {"Quantity": len(names), "Items": [
        {"Header": name, "Value": "v", "Override": False} for name in names]}}


def removed(*names: str) -> dict[str, Any]:
    return {"RemoveHeadersConfig": {"Quantity": len(names), "Items": [{"Header": name} for name in names]}}


class TestRefusals:
    @pytest.mark.parametrize("changes", [
        {"Name": "not a name!"},
        cors(AccessControlAllowOrigins={"Quantity": 1, "Items": ["*"]}),  # credentials for every origin
        cors(AccessControlAllowHeaders={"Quantity": 1, "Items": ["*"]}),
        cors(AccessControlAllowOrigins={"Quantity": 0, "Items": []}),
        cors(AccessControlAllowMethods={"Quantity": 2, "Items": ["ALL", "GET"]}),
        cors(AccessControlAllowMethods={"Quantity": 1, "Items": ["PROPFIND"]}),
        security(FrameOptions={"Override": True, "FrameOption": "ALLOW-FROM"}),
        security(ReferrerPolicy={"Override": True, "ReferrerPolicy": "sometimes"}),
        security(XSSProtection={"Override": False, "Protection": True, "ModeBlock": True,
                                "ReportUri": "https://r.example/"}),
        security(XSSProtection={"Override": False, "Protection": False, "ModeBlock": True}),
        {"ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 100.5}},
        {"ServerTimingHeadersConfig": {"Enabled": True, "SamplingRate": 0.00001}},
        custom_headers("X-One", "x-one"),
        custom_headers("Bad Name"),
        custom_headers("Content-Security-Policy"),  # a security header the policy sets
        {**custom_headers("X-Both"), **removed("X-Both")},
        removed("Content-Length"),
        removed("X-Amz-Cf-Id"),
        custom_headers("Content-Length"),  # the edge's framing is its own
        custom_headers("Transfer-Encoding"),
        custom_headers("Connection"),
        # Values that would split the edge's response head or cannot be sent in one.
        {"CustomHeadersConfig": {"Quantity": 1, "Items": [
            {"Header": "X-A", "Value": "a\r\nX-Injected: 1", "Override": True}]}},
        {"CustomHeadersConfig": {"Quantity": 1, "Items": [
            {"Header": "X-A", "Value": "caf\u00e9 \u20ac", "Override": True}]}},
        security(ContentSecurityPolicy={"Override": True, "ContentSecurityPolicy": "default-src 'self'\nX-B: 1"}),
        security(XSSProtection={"Override": False, "Protection": True, "ReportUri": "https://r.example/\r\nX-C: 1"}),
        cors(AccessControlExposeHeaders={"Quantity": 1, "Items": ["X-A\nX-D: 1"]}),
    ])
    def test_a_bad_config_is_an_invalid_argument(self, cloudfront: Any, changes: dict[str, Any]) -> None:
        config = policy_config(new_name(), **changes)
        assert refused_with(cloudfront.create_response_headers_policy, ResponseHeadersPolicyConfig=config) == (
            "InvalidArgument", 400)

    @pytest.mark.parametrize(("changes", "code"), [
        (custom_headers(*(f"X-Header-{n}" for n in range(11))), "TooManyCustomHeadersInResponseHeadersPolicy"),
        (removed(*(f"X-Header-{n}" for n in range(11))), "TooManyRemoveHeadersInResponseHeadersPolicy"),
        (security(ContentSecurityPolicy={"Override": True, "ContentSecurityPolicy": "x" * 1784}),
         "TooLongCSPInResponseHeadersPolicy"),
    ])
    def test_past_a_quota_is_its_own_error(self, cloudfront: Any, changes: dict[str, Any], code: str) -> None:
        config = policy_config(new_name(), **changes)
        assert refused_with(cloudfront.create_response_headers_policy, ResponseHeadersPolicyConfig=config) == (
            code, 400)

    def test_a_number_longer_than_a_long_is_malformed(self, cloudfront: Any) -> None:
        """Thousands of digits, more than int() reads by default, as any number out of range."""
        hsts = {"Override": False, "AccessControlMaxAgeSec": 10 ** 5000}
        limit = sys.get_int_max_str_digits()
        sys.set_int_max_str_digits(0)  # for boto3 to write it
        try:
            refused = refused_with(cloudfront.create_response_headers_policy, ResponseHeadersPolicyConfig=policy_config(
                new_name(), **security(StrictTransportSecurity=hsts)))
        finally:
            sys.set_int_max_str_digits(limit)
        assert refused == ("MalformedInput", 400)

    def test_quantities_must_match_their_items(self, cloudfront: Any) -> None:
        config = policy_config(new_name(), RemoveHeadersConfig={"Quantity": 3, "Items": [{"Header": "Server"}]})
        assert refused_with(cloudfront.create_response_headers_policy, ResponseHeadersPolicyConfig=config) == (
            "InconsistentQuantities", 400)
