"""Cache, origin request and response headers policies through boto3's cloudfront client: AWS's
managed ones looked up as Terraform's data sources and CDK do (listed with Type=managed, found
by name, read by id with an ETag, then named by id in a distribution's behaviour), and custom
cache and origin request policies created, read, listed, updated and deleted as CloudFront does
(custom response headers policies: test_cloudfront_response_headers.py)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strato.cdn.cache_policies import CACHING_OPTIMIZED, ELEMENTAL_MEDIA_PACKAGE
from strato.cdn.origin_request_policies import ALL_VIEWER_EXCEPT_HOST_HEADER, CORS_S3_ORIGIN
from strato.cdn.response_headers_policies import CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS
from tests.e2e.test_cloudfront import s3_origin

CACHE_POLICY_NAMES = {
    "Managed-Amplify", "Managed-Amplify-Default", "Managed-Amplify-DefaultNoCookies",
    "Managed-Amplify-ImageOptimization", "Managed-Amplify-StaticContent", "Managed-CachingDisabled",
    "Managed-CachingOptimized",
    "Managed-CachingOptimizedForUncompressedObjects", "Managed-Elemental-MediaPackage",
    "UseOriginCacheControlHeaders", "UseOriginCacheControlHeaders-QueryStrings",
}
ORIGIN_REQUEST_POLICY_NAMES = {
    "Managed-AllViewer", "Managed-AllViewerAndCloudFrontHeaders-2022-06", "Managed-AllViewerExceptHostHeader",
    "Managed-CORS-CustomOrigin", "Managed-CORS-S3Origin", "Managed-Elemental-MediaTailor-PersonalizedManifests",
    "Managed-HostHeaderOnly", "Managed-UserAgentRefererHeaders",
}
RESPONSE_HEADERS_POLICY_NAMES = {
    "Managed-CORS-and-SecurityHeadersPolicy", "Managed-CORS-With-Preflight",
    "Managed-CORS-with-preflight-and-SecurityHeadersPolicy", "Managed-SecurityHeadersPolicy", "Managed-SimpleCORS",
}


def find_by_name(items: list[dict[str, Any]], kind: str, name: str) -> str:
    """What Terraform's data "aws_cloudfront_*_policy" does: the id of the policy named `name`."""
    [found] = [item[kind]["Id"] for item in items if item[kind][f"{kind}Config"]["Name"] == name]
    return str(found)


class TestListing:
    def test_every_managed_cache_policy_is_listed_as_managed(self, cloudfront: Any) -> None:
        listed = cloudfront.list_cache_policies(Type="managed")["CachePolicyList"]
        assert {item["CachePolicy"]["CachePolicyConfig"]["Name"] for item in listed["Items"]} == CACHE_POLICY_NAMES
        assert {item["Type"] for item in listed["Items"]} == {"managed"}
        assert listed["Quantity"] == len(CACHE_POLICY_NAMES)
        assert find_by_name(listed["Items"], "CachePolicy", "Managed-CachingOptimized") == CACHING_OPTIMIZED

    def test_every_managed_origin_request_and_response_headers_policy_is_listed(self, cloudfront: Any) -> None:
        requests = cloudfront.list_origin_request_policies(Type="managed")["OriginRequestPolicyList"]["Items"]
        assert {item["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["Name"]
                for item in requests} == ORIGIN_REQUEST_POLICY_NAMES
        assert find_by_name(requests, "OriginRequestPolicy", "Managed-CORS-S3Origin") == CORS_S3_ORIGIN
        responses = cloudfront.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
        assert {item["ResponseHeadersPolicy"]["ResponseHeadersPolicyConfig"]["Name"]
                for item in responses} == RESPONSE_HEADERS_POLICY_NAMES

    def test_a_list_comes_in_pages_of_max_items(self, cloudfront: Any) -> None:
        names: list[str] = []
        marker = ""
        while True:
            page = cloudfront.list_origin_request_policies(Type="managed", MaxItems="3", Marker=marker)[
                "OriginRequestPolicyList"]
            assert page["Quantity"] <= 3
            names += [item["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["Name"] for item in page["Items"]]
            if "NextMarker" not in page:
                break
            marker = page["NextMarker"]
        assert names == sorted(ORIGIN_REQUEST_POLICY_NAMES)


class TestReading:
    def test_a_cache_policy_holds_its_ttls_and_its_key(self, cloudfront: Any) -> None:
        found = cloudfront.get_cache_policy(Id=ELEMENTAL_MEDIA_PACKAGE)
        policy = found["CachePolicy"]
        assert policy["Id"] == ELEMENTAL_MEDIA_PACKAGE
        assert found["ETag"]
        config = policy["CachePolicyConfig"]
        assert (config["MinTTL"], config["DefaultTTL"], config["MaxTTL"]) == (0, 86400, 31536000)
        key = config["ParametersInCacheKeyAndForwardedToOrigin"]
        assert (key["EnableAcceptEncodingGzip"], key["EnableAcceptEncodingBrotli"]) == (True, False)
        assert key["HeadersConfig"] == {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["origin"]}}
        assert key["CookiesConfig"] == {"CookieBehavior": "none"}
        assert key["QueryStringsConfig"]["QueryStrings"]["Items"] == ["aws.manifestfilter", "start", "end", "m"]

    def test_a_policys_config_reads_alone_with_the_same_etag(self, cloudfront: Any) -> None:
        whole = cloudfront.get_origin_request_policy(Id=ALL_VIEWER_EXCEPT_HOST_HEADER)
        config = cloudfront.get_origin_request_policy_config(Id=ALL_VIEWER_EXCEPT_HOST_HEADER)
        assert config["OriginRequestPolicyConfig"] == whole["OriginRequestPolicy"]["OriginRequestPolicyConfig"]
        assert config["ETag"] == whole["ETag"]
        assert config["OriginRequestPolicyConfig"]["HeadersConfig"] == {
            "HeaderBehavior": "allExcept", "Headers": {"Quantity": 1, "Items": ["host"]}}

    def test_a_response_headers_policy_holds_its_cors_and_security_headers(self, cloudfront: Any) -> None:
        config = cloudfront.get_response_headers_policy_config(Id=CORS_WITH_PREFLIGHT_AND_SECURITY_HEADERS)[
            "ResponseHeadersPolicyConfig"]
        cors = config["CorsConfig"]
        assert cors["AccessControlAllowOrigins"]["Items"] == ["*"]
        assert cors["AccessControlAllowMethods"]["Items"] == ["DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST",
                                                              "PUT"]
        assert cors["AccessControlExposeHeaders"]["Items"] == ["*"]
        assert cors["OriginOverride"] is False
        security = config["SecurityHeadersConfig"]
        assert security["ContentTypeOptions"] == {"Override": True}
        assert security["FrameOptions"] == {"Override": False, "FrameOption": "SAMEORIGIN"}
        assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] == 31536000

    def test_an_unknown_id_is_no_such_policy(self, cloudfront: Any) -> None:
        for call, code in ((cloudfront.get_cache_policy, "NoSuchCachePolicy"),
                           (cloudfront.get_origin_request_policy_config, "NoSuchOriginRequestPolicy"),
                           (cloudfront.get_response_headers_policy, "NoSuchResponseHeadersPolicy")):
            with pytest.raises(ClientError) as refused:
                call(Id=str(uuid.uuid4()))
            assert refused.value.response["Error"]["Code"] == code
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def cache_policy_config(name: str, **changes: Any) -> dict[str, Any]:
    """A custom cache policy keyed on one header, the `session` cookie and every query string."""
    return {
        "Name": name, "Comment": "mine", "MinTTL": 5, "DefaultTTL": 60, "MaxTTL": 600,
        "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": False,
            "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["X-Variant"]}},
            "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": {"Quantity": 1, "Items": ["session"]}},
            "QueryStringsConfig": {"QueryStringBehavior": "all"},
        }, **changes}


def refused_with(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    return refused.value.response["Error"]["Code"], refused.value.response["ResponseMetadata"]["HTTPStatusCode"]


def origin_request_policy_config(name: str, **changes: Any) -> dict[str, Any]:
    """A custom origin request policy sending every viewer header but the Host, one cookie and
    two query strings."""
    return {
        "Name": name, "Comment": "mine",
        "HeadersConfig": {"HeaderBehavior": "allExcept", "Headers": {"Quantity": 1, "Items": ["host"]}},
        "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": {"Quantity": 1, "Items": ["session"]}},
        "QueryStringsConfig": {"QueryStringBehavior": "whitelist",
                               "QueryStrings": {"Quantity": 2, "Items": ["page", "sort"]}},
        **changes}


class TestCustomOriginRequestPolicies:
    def test_a_policy_is_created_read_listed_updated_and_deleted(self, cloudfront: Any) -> None:
        name = f"mine-{uuid.uuid4().hex[:8]}"
        created = cloudfront.create_origin_request_policy(OriginRequestPolicyConfig=origin_request_policy_config(name))
        policy_id = created["OriginRequestPolicy"]["Id"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["OriginRequestPolicy"]["OriginRequestPolicyConfig"] == origin_request_policy_config(name)
        read = cloudfront.get_origin_request_policy_config(Id=policy_id)
        assert read["OriginRequestPolicyConfig"] == origin_request_policy_config(name)
        assert read["ETag"] == created["ETag"]
        listed = cloudfront.list_origin_request_policies(Type="custom")["OriginRequestPolicyList"]["Items"]
        assert policy_id in [item["OriginRequestPolicy"]["Id"] for item in listed]
        changed = origin_request_policy_config(name, HeadersConfig={"HeaderBehavior": "allViewer"})
        updated = cloudfront.update_origin_request_policy(Id=policy_id, OriginRequestPolicyConfig=changed,
                                                          IfMatch=created["ETag"])
        assert updated["OriginRequestPolicy"]["OriginRequestPolicyConfig"]["HeadersConfig"] == {
            "HeaderBehavior": "allViewer"}
        assert refused_with(cloudfront.delete_origin_request_policy, Id=policy_id, IfMatch=created["ETag"]) == (
            "PreconditionFailed", 412)
        cloudfront.delete_origin_request_policy(Id=policy_id, IfMatch=updated["ETag"])
        assert refused_with(cloudfront.get_origin_request_policy, Id=policy_id) == ("NoSuchOriginRequestPolicy", 404)

    @pytest.mark.parametrize("header", ["Authorization", "accept-encoding"])
    def test_headers_only_a_cache_policy_forwards_are_refused(self, cloudfront: Any, header: str) -> None:
        """CloudFront forwards Authorization and Accept-Encoding through a cache policy's key only."""
        bad = origin_request_policy_config(f"mine-{uuid.uuid4().hex[:8]}", HeadersConfig={
            "HeaderBehavior": "whitelist", "Headers": {"Quantity": 2, "Items": ["X-Extra", header]}})
        assert refused_with(cloudfront.create_origin_request_policy, OriginRequestPolicyConfig=bad) == (
            "InvalidArgument", 400)
        kept_back = origin_request_policy_config(f"mine-{uuid.uuid4().hex[:8]}", HeadersConfig={
            "HeaderBehavior": "allExcept", "Headers": {"Quantity": 1, "Items": [header]}})
        created = cloudfront.create_origin_request_policy(OriginRequestPolicyConfig=kept_back)
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201

    def test_a_bad_config_is_an_invalid_argument_and_a_managed_one_stays(self, cloudfront: Any) -> None:
        bad = origin_request_policy_config(f"mine-{uuid.uuid4().hex[:8]}", CookiesConfig={"CookieBehavior": "some"})
        assert refused_with(cloudfront.create_origin_request_policy, OriginRequestPolicyConfig=bad) == (
            "InvalidArgument", 400)
        etag = cloudfront.get_origin_request_policy(Id=CORS_S3_ORIGIN)["ETag"]
        assert refused_with(cloudfront.delete_origin_request_policy, Id=CORS_S3_ORIGIN, IfMatch=etag) == (
            "IllegalDelete", 400)

    def test_a_policy_a_distribution_uses_cannot_be_deleted(self, cloudfront: Any) -> None:
        created = cloudfront.create_origin_request_policy(
            OriginRequestPolicyConfig=origin_request_policy_config(f"mine-{uuid.uuid4().hex[:8]}"))
        policy_id = created["OriginRequestPolicy"]["Id"]
        TestNamingPoliciesInBehaviours().create(cloudfront, TestNamingPoliciesInBehaviours().behaviour(
            OriginRequestPolicyId=policy_id))
        assert refused_with(cloudfront.delete_origin_request_policy, Id=policy_id, IfMatch=created["ETag"]) == (
            "OriginRequestPolicyInUse", 409)


class TestCustomCachePolicies:
    def test_a_policy_is_created_read_listed_updated_and_deleted(self, cloudfront: Any) -> None:
        name = f"mine-{uuid.uuid4().hex[:8]}"
        created = cloudfront.create_cache_policy(CachePolicyConfig=cache_policy_config(name))
        policy_id = created["CachePolicy"]["Id"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["Location"].endswith(f"/2020-05-31/cache-policy/{policy_id}")
        assert created["CachePolicy"]["CachePolicyConfig"] == cache_policy_config(name)
        read = cloudfront.get_cache_policy(Id=policy_id)
        assert read["ETag"] == created["ETag"]
        assert cloudfront.get_cache_policy_config(Id=policy_id)["CachePolicyConfig"] == cache_policy_config(name)
        custom = cloudfront.list_cache_policies(Type="custom")["CachePolicyList"]["Items"]
        assert {"Type": "custom", "CachePolicy": read["CachePolicy"]} in custom
        everything = cloudfront.list_cache_policies()["CachePolicyList"]["Items"]
        assert {item["Type"] for item in everything} == {"managed", "custom"}
        assert find_by_name(cloudfront.list_cache_policies(Type="managed")["CachePolicyList"]["Items"],
                            "CachePolicy", "Managed-CachingOptimized") == CACHING_OPTIMIZED

        changed = cache_policy_config(name, DefaultTTL=120)
        assert refused_with(cloudfront.update_cache_policy, Id=policy_id, CachePolicyConfig=changed,
                            IfMatch="E0STALE") == ("PreconditionFailed", 412)
        updated = cloudfront.update_cache_policy(Id=policy_id, CachePolicyConfig=changed, IfMatch=created["ETag"])
        assert updated["CachePolicy"]["CachePolicyConfig"]["DefaultTTL"] == 120
        assert updated["ETag"] != created["ETag"]
        cloudfront.delete_cache_policy(Id=policy_id, IfMatch=updated["ETag"])
        assert refused_with(cloudfront.get_cache_policy, Id=policy_id) == ("NoSuchCachePolicy", 404)

    def test_ttls_left_out_are_cloudfronts_defaults(self, cloudfront: Any) -> None:
        config = cache_policy_config(f"mine-{uuid.uuid4().hex[:8]}", MinTTL=1)
        del config["DefaultTTL"], config["MaxTTL"]
        created = cloudfront.create_cache_policy(CachePolicyConfig=config)["CachePolicy"]["CachePolicyConfig"]
        assert (created["MinTTL"], created["DefaultTTL"], created["MaxTTL"]) == (1, 86400, 31536000)

    def test_a_max_ttl_left_out_is_at_least_the_default_ttl(self, cloudfront: Any) -> None:
        """API_CachePolicyConfig: MaxTTL is 31536000 when left out, or DefaultTTL when that is more."""
        config = cache_policy_config(f"mine-{uuid.uuid4().hex[:8]}", DefaultTTL=2 * 31536000)
        del config["MaxTTL"]
        created = cloudfront.create_cache_policy(CachePolicyConfig=config)["CachePolicy"]["CachePolicyConfig"]
        assert (created["DefaultTTL"], created["MaxTTL"]) == (2 * 31536000, 2 * 31536000)

    @pytest.mark.parametrize("changes", [
        {"MinTTL": 700},  # above MaxTTL
        {"Name": "not a name!"},
        {"ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "all"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}},
        {"ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": False, "HeadersConfig": {"HeaderBehavior": "whitelist"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}},
        {"ParametersInCacheKeyAndForwardedToOrigin": {  # the Enable... settings key on it, normalized
            "EnableAcceptEncodingGzip": True, "HeadersConfig": {
                "HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Accept-Encoding"]}},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}},
        {"MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0},  # caching disabled, yet a key of a header, a cookie...
        {"MinTTL": 0, "DefaultTTL": 0, "MaxTTL": 0, "ParametersInCacheKeyAndForwardedToOrigin": {
            "EnableAcceptEncodingGzip": True, "HeadersConfig": {"HeaderBehavior": "none"},
            "CookiesConfig": {"CookieBehavior": "none"}, "QueryStringsConfig": {"QueryStringBehavior": "none"}}},
    ])
    def test_a_bad_config_is_an_invalid_argument(self, cloudfront: Any, changes: dict[str, Any]) -> None:
        config = cache_policy_config(f"mine-{uuid.uuid4().hex[:8]}", **changes)
        assert refused_with(cloudfront.create_cache_policy, CachePolicyConfig=config) == ("InvalidArgument", 400)

    def test_names_are_unique_and_managed_policies_stay_as_they_are(self, cloudfront: Any) -> None:
        name = f"mine-{uuid.uuid4().hex[:8]}"
        cloudfront.create_cache_policy(CachePolicyConfig=cache_policy_config(name))
        assert refused_with(cloudfront.create_cache_policy, CachePolicyConfig=cache_policy_config(name)) == (
            "CachePolicyAlreadyExists", 409)
        assert refused_with(cloudfront.create_cache_policy,
                            CachePolicyConfig=cache_policy_config("Managed-CachingOptimized")) == (
            "CachePolicyAlreadyExists", 409)
        etag = cloudfront.get_cache_policy(Id=CACHING_OPTIMIZED)["ETag"]
        assert refused_with(cloudfront.delete_cache_policy, Id=CACHING_OPTIMIZED, IfMatch=etag) == (
            "IllegalDelete", 400)
        assert refused_with(cloudfront.update_cache_policy, Id=CACHING_OPTIMIZED, IfMatch=etag,
                            CachePolicyConfig=cache_policy_config(name)) == ("IllegalUpdate", 400)

    def test_a_policy_a_distribution_uses_cannot_be_deleted(self, cloudfront: Any) -> None:
        created = cloudfront.create_cache_policy(CachePolicyConfig=cache_policy_config(f"mine-{uuid.uuid4().hex[:8]}"))
        policy_id = created["CachePolicy"]["Id"]
        distribution = TestNamingPoliciesInBehaviours().create(
            cloudfront, {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": policy_id})
        assert distribution["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]["CachePolicyId"] == policy_id
        assert refused_with(cloudfront.delete_cache_policy, Id=policy_id, IfMatch=created["ETag"]) == (
            "CachePolicyInUse", 409)


class TestNamingPoliciesInBehaviours:
    def behaviour(self, **policies: str) -> dict[str, Any]:
        return {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all", "CachePolicyId": CACHING_OPTIMIZED,
                **policies}

    def create(self, cloudfront: Any, behaviour: dict[str, Any]) -> Any:
        return cloudfront.create_distribution(DistributionConfig={
            "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [s3_origin()]}, "DefaultCacheBehavior": behaviour})

    def test_policies_found_by_name_are_kept_by_id(self, cloudfront: Any) -> None:
        requests = cloudfront.list_origin_request_policies(Type="managed")["OriginRequestPolicyList"]["Items"]
        responses = cloudfront.list_response_headers_policies(Type="managed")["ResponseHeadersPolicyList"]["Items"]
        behaviour = self.behaviour(
            OriginRequestPolicyId=find_by_name(requests, "OriginRequestPolicy", "Managed-CORS-S3Origin"),
            ResponseHeadersPolicyId=find_by_name(responses, "ResponseHeadersPolicy", "Managed-SimpleCORS"))
        created = self.create(cloudfront, behaviour)["Distribution"]
        kept = created["DistributionConfig"]["DefaultCacheBehavior"]
        assert kept["OriginRequestPolicyId"] == CORS_S3_ORIGIN
        assert kept["ResponseHeadersPolicyId"] == "60669652-455b-4ae9-85a4-c4c02393f86c"

    @pytest.mark.parametrize(("field", "code"), [("CachePolicyId", "NoSuchCachePolicy"),
                                                 ("OriginRequestPolicyId", "NoSuchOriginRequestPolicy"),
                                                 ("ResponseHeadersPolicyId", "NoSuchResponseHeadersPolicy")])
    def test_an_unknown_policy_id_is_refused(self, cloudfront: Any, field: str, code: str) -> None:
        with pytest.raises(ClientError) as refused:
            self.create(cloudfront, self.behaviour(**{field: str(uuid.uuid4())}))
        assert refused.value.response["Error"]["Code"] == code
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404

    @pytest.mark.parametrize(("changes", "message"), [
        ({"ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
         "The parameter ForwardedValues cannot be used when a cache policy is associated to the cache behavior."),
        ({"MinTTL": 0}, "The parameter MinTTL cannot be used when a cache policy is associated to the cache behavior."),
        ({"CachePolicyId": None, "OriginRequestPolicyId": CORS_S3_ORIGIN,
          "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}},
         "The parameter OriginRequestPolicyId cannot be used without a cache policy associated to the cache "
         "behavior."),
        ({"CachePolicyId": None}, "The parameter ForwardedValues is required."),
    ])
    def test_policies_and_legacy_cache_settings_do_not_mix(self, cloudfront: Any, changes: dict[str, Any],
                                                           message: str) -> None:
        behaviour = {name: value for name, value in {**self.behaviour(), **changes}.items() if value is not None}
        with pytest.raises(ClientError) as refused:
            self.create(cloudfront, behaviour)
        error = refused.value.response["Error"]
        assert (error["Code"], error["Message"]) == ("InvalidArgument", message)
        assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
