"""The CloudFront API through boto3's cloudfront client against a real strato server:
distributions (create, read, list, update, delete with If-Match), aliases, cache behaviours
round-tripping exactly (what was left out answered with CloudFront's defaults), invalidations,
errors, and boto3's waiters."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.e2e.test_awscli import Aws
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer


def s3_origin(bucket: str = "photos", origin_id: str = "bucket") -> dict[str, Any]:
    return {"Id": origin_id, "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""}}


def public_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def oac_config(name: str | None = None) -> dict[str, Any]:
    return {"Name": name or uuid.uuid4().hex, "Description": "the edge signs", "SigningProtocol": "sigv4",
            "SigningBehavior": "always", "OriginAccessControlOriginType": "s3"}


@pytest.fixture(scope="module")
def signing(cloudfront: Any) -> tuple[str, str]:
    """An origin access control and a key group (of one public key) to refer to: their ids."""
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig=oac_config())
    key = cloudfront.create_public_key(PublicKeyConfig={
        "CallerReference": uuid.uuid4().hex, "Name": uuid.uuid4().hex, "EncodedKey": public_key_pem()})
    group = cloudfront.create_key_group(KeyGroupConfig={"Name": uuid.uuid4().hex,
                                                        "Items": [key["PublicKey"]["Id"]]})
    return oac["OriginAccessControl"]["Id"], group["KeyGroup"]["Id"]


def signed_config(signing: tuple[str, str]) -> dict[str, Any]:
    """A configuration whose S3 origin uses an origin access control and whose image
    behaviour trusts a key group."""
    oac_id, group_id = signing
    sent = config()
    sent["Origins"]["Items"][0]["OriginAccessControlId"] = oac_id
    sent["CacheBehaviors"]["Items"][1]["TrustedKeyGroups"] = {"Enabled": True, "Quantity": 1, "Items": [group_id]}
    return sent


def http_origin(origin_id: str = "web") -> dict[str, Any]:
    return {
        "Id": origin_id, "DomainName": "origin.example.com", "OriginPath": "/v1",
        "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-From-Edge", "HeaderValue": "strato"}]},
        "CustomOriginConfig": {"HTTPPort": 8081, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                               "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]},
                               "OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5},
        "ConnectionAttempts": 3, "ConnectionTimeout": 10,
    }


def legacy_behavior(origin_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "TargetOriginId": origin_id, "ViewerProtocolPolicy": "allow-all",
        "AllowedMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"],
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
        "ForwardedValues": {
            "QueryString": True, "QueryStringCacheKeys": {"Quantity": 1, "Items": ["v"]},
            "Headers": {"Quantity": 1, "Items": ["Accept-Language"]},
            "Cookies": {"Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["session"]}},
        },
        "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 3600, **extra,
    }


def config(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "CallerReference": uuid.uuid4().hex,
        "Comment": "photos for the web",
        "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [f"{uuid.uuid4().hex[:12]}.example.com"]},
        "DefaultRootObject": "index.html",
        "Origins": {"Quantity": 2, "Items": [s3_origin(), http_origin()]},
        "DefaultCacheBehavior": legacy_behavior("bucket"),
        "CacheBehaviors": {"Quantity": 2, "Items": [
            {"PathPattern": "/api/*", "TargetOriginId": "web", "ViewerProtocolPolicy": "redirect-to-https",
             "CachePolicyId": "4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
             "AllowedMethods": {"Quantity": 7, "Items": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
                                "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}}},
            legacy_behavior("bucket", PathPattern="images/*.jpg"),
        ]},
        "PriceClass": "PriceClass_100",
        "HttpVersion": "http2",
        "IsIPV6Enabled": False,
        "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    }
    base.update(overrides)
    return base


BEHAVIOR_DEFAULTS: dict[str, Any] = {
    "TrustedSigners": {"Enabled": False, "Quantity": 0}, "TrustedKeyGroups": {"Enabled": False, "Quantity": 0},
    "AllowedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}, "SmoothStreaming": False, "Compress": False,
    "FieldLevelEncryptionId": "", "LambdaFunctionAssociations": {"Quantity": 0},
    "FunctionAssociations": {"Quantity": 0},
}
ORIGIN_DEFAULTS: dict[str, Any] = {
    "OriginPath": "", "CustomHeaders": {"Quantity": 0}, "ConnectionAttempts": 3, "ConnectionTimeout": 10,
    "OriginAccessControlId": "", "OriginShield": {"Enabled": False},
}
CONFIG_DEFAULTS: dict[str, Any] = {
    "Aliases": {"Quantity": 0}, "DefaultRootObject": "", "CustomErrorResponses": {"Quantity": 0},
    "PriceClass": "PriceClass_All", "HttpVersion": "http2", "OriginGroups": {"Quantity": 0},
    "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    "ViewerCertificate": {"CloudFrontDefaultCertificate": True, "SSLSupportMethod": "vip",
                          "MinimumProtocolVersion": "TLSv1", "CertificateSource": "cloudfront"},
    "Restrictions": {"GeoRestriction": {"RestrictionType": "none", "Quantity": 0}}, "WebACLId": "",
    "IsIPV6Enabled": False,
}


def answered(sent: dict[str, Any]) -> dict[str, Any]:
    """A configuration as CloudFront answers it: as sent, with its defaults for what was left out
    (every GetDistribution carries them, and clients such as Terraform's provider rely on it)."""
    def behavior(given: dict[str, Any]) -> dict[str, Any]:
        full = {**BEHAVIOR_DEFAULTS, **given}
        full["AllowedMethods"] = {"CachedMethods": {"Quantity": 2, "Items": ["HEAD", "GET"]}, **full["AllowedMethods"]}
        return full

    def origin(given: dict[str, Any]) -> dict[str, Any]:
        full = {**ORIGIN_DEFAULTS, **given}
        if "CustomOriginConfig" in given:
            full["CustomOriginConfig"] = {"OriginReadTimeout": 30, "OriginKeepaliveTimeout": 5,
                                          **given["CustomOriginConfig"]}
        return full

    full = {**CONFIG_DEFAULTS, **sent, "DefaultCacheBehavior": behavior(sent["DefaultCacheBehavior"]),
            "Origins": {**sent["Origins"], "Items": [origin(o) for o in sent["Origins"]["Items"]]}}
    behaviors = sent.get("CacheBehaviors", {"Quantity": 0})
    full["CacheBehaviors"] = {**behaviors, **({"Items": [behavior(b) for b in behaviors["Items"]]}
                                            if "Items" in behaviors else {})}
    return full


class TestDistributions:
    def test_create_answers_201_with_location_etag_and_a_deployed_distribution(self, cloudfront: Any) -> None:
        sent = config()
        created = cloudfront.create_distribution(DistributionConfig=sent)
        distribution = created["Distribution"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["Location"].endswith(f"/2020-05-31/distribution/{distribution['Id']}")
        assert created["ETag"]
        assert len(distribution["Id"]) == 14
        assert distribution["Id"].isalnum()
        assert distribution["Id"].isupper()
        assert distribution["ARN"] == f"arn:aws:cloudfront::000000000000:distribution/{distribution['Id']}"
        assert distribution["DomainName"] == f"{distribution['Id'].lower()}.cdn.strato.local"
        assert distribution["Status"] == "Deployed"
        assert distribution["DistributionConfig"] == answered(sent)

    def test_an_empty_policy_id_names_no_policy(self, cloudfront: Any) -> None:
        """Terraform's AWS provider sends every behaviour's CachePolicyId (and the other ids), empty
        when it has none, beside its ForwardedValues."""
        behavior = legacy_behavior("bucket", CachePolicyId="", OriginRequestPolicyId="", ResponseHeadersPolicyId="",
                                   FieldLevelEncryptionId="")
        created = cloudfront.create_distribution(DistributionConfig=config(DefaultCacheBehavior=behavior))
        answered_behavior = created["Distribution"]["DistributionConfig"]["DefaultCacheBehavior"]
        assert "CachePolicyId" not in answered_behavior
        assert answered_behavior["ForwardedValues"]["QueryString"] is True

    def test_what_a_configuration_leaves_out_comes_back_as_cloudfronts_default(self, cloudfront: Any) -> None:
        minimal = {"CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": False,
                   "Origins": {"Quantity": 1, "Items": [s3_origin()]},
                   "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
                                            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
        created = cloudfront.create_distribution(DistributionConfig=minimal)
        read = cloudfront.get_distribution(Id=created["Distribution"]["Id"])["Distribution"]["DistributionConfig"]
        assert read == answered(minimal)
        assert read["OriginGroups"] == {"Quantity": 0}
        assert read["DefaultCacheBehavior"]["AllowedMethods"]["Items"] == ["HEAD", "GET"]

    def test_a_listed_summary_answers_what_get_distribution_answers(self, cloudfront: Any) -> None:
        """IPv6 was left out: both say it is off (CloudFront's IPv6 is opt-in), not one each way."""
        minimal = {"CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": False,
                   "Origins": {"Quantity": 1, "Items": [s3_origin()]},
                   "DefaultCacheBehavior": {"TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
                                            "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}}
        distribution_id = cloudfront.create_distribution(DistributionConfig=minimal)["Distribution"]["Id"]
        read = cloudfront.get_distribution(Id=distribution_id)["Distribution"]["DistributionConfig"]
        summary = next(item for item in cloudfront.list_distributions()["DistributionList"]["Items"]
                       if item["Id"] == distribution_id)
        assert {name: summary[name] for name in summary.keys() & read.keys()} == \
            {name: read[name] for name in summary.keys() & read.keys()}
        assert summary["IsIPV6Enabled"] is read["IsIPV6Enabled"] is False

    def test_the_configuration_reads_back_as_sent(self, cloudfront: Any, signing: tuple[str, str]) -> None:
        sent = signed_config(signing)
        created = cloudfront.create_distribution(DistributionConfig=sent)
        read = cloudfront.get_distribution_config(Id=created["Distribution"]["Id"])
        assert read["DistributionConfig"] == answered(sent)
        assert read["ETag"] == created["ETag"]
        got = cloudfront.get_distribution(Id=created["Distribution"]["Id"])
        assert got["Distribution"]["DistributionConfig"] == answered(sent)
        assert got["ETag"] == created["ETag"]
        assert got["Distribution"]["ActiveTrustedKeyGroups"]["Items"][0]["KeyGroupId"] == signing[1]

    def test_active_trusted_key_groups_name_their_public_keys(self, cloudfront: Any, signing: tuple[str, str]) -> None:
        """API_KGKeyPairIds: each trusted key group with the ids of the public keys CloudFront can
        verify signatures with."""
        key_id = cloudfront.get_key_group(Id=signing[1])["KeyGroup"]["KeyGroupConfig"]["Items"][0]
        created = cloudfront.create_distribution(DistributionConfig=signed_config(signing))
        got = cloudfront.get_distribution(Id=created["Distribution"]["Id"])
        for answer in (created, got):
            assert answer["Distribution"]["ActiveTrustedKeyGroups"] == {
                "Enabled": True, "Quantity": 1,
                "Items": [{"KeyGroupId": signing[1], "KeyPairIds": {"Quantity": 1, "Items": [key_id]}}]}

    def test_with_tags_creates_a_tagged_distribution(self, cloudfront: Any) -> None:
        sent = config()
        created = cloudfront.create_distribution_with_tags(DistributionConfigWithTags={
            "DistributionConfig": sent, "Tags": {"Items": [{"Key": "team", "Value": "web"}]}})
        assert created["Distribution"]["DistributionConfig"] == answered(sent)
        arn = created["Distribution"]["ARN"]
        assert cloudfront.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "team", "Value": "web"}]

    def test_tags_are_added_replaced_and_removed_without_changing_the_etag(self, cloudfront: Any) -> None:
        created = cloudfront.create_distribution(DistributionConfig=config())
        arn = created["Distribution"]["ARN"]
        cloudfront.tag_resource(Resource=arn, Tags={"Items": [{"Key": "team", "Value": "web"},
                                                              {"Key": "stage", "Value": "test"}]})
        cloudfront.tag_resource(Resource=arn, Tags={"Items": [{"Key": "team", "Value": "edge"}]})
        cloudfront.untag_resource(Resource=arn, TagKeys={"Items": ["stage"]})
        assert cloudfront.list_tags_for_resource(Resource=arn)["Tags"]["Items"] == [{"Key": "team", "Value": "edge"}]
        assert cloudfront.get_distribution(Id=created["Distribution"]["Id"])["ETag"] == created["ETag"]
        with pytest.raises(ClientError) as unknown:
            cloudfront.list_tags_for_resource(Resource=arn[:-4] + "NONE")
        assert error_of(unknown) == ("NoSuchResource", 404)
        with pytest.raises(ClientError) as invalid:
            cloudfront.tag_resource(Resource=arn, Tags={"Items": [{"Key": "bad<key>", "Value": ""}]})
        assert error_of(invalid) == ("InvalidTagging", 400)

    def test_list_pages_with_marker_and_max_items(self, cloudfront: Any) -> None:
        ids = {cloudfront.create_distribution(DistributionConfig=config())["Distribution"]["Id"] for _ in range(3)}
        seen: list[str] = []
        marker = ""
        while True:
            page = cloudfront.list_distributions(Marker=marker, MaxItems="2")["DistributionList"]
            assert page["Quantity"] == len(page.get("Items", [])) <= 2
            seen.extend(item["Id"] for item in page.get("Items", []))
            if not page["IsTruncated"]:
                break
            marker = page["NextMarker"]
        assert ids <= set(seen)
        assert len(seen) == len(set(seen))
        summary = next(item for item in cloudfront.list_distributions()["DistributionList"]["Items"]
                       if item["Id"] in ids)
        assert summary["Status"] == "Deployed"
        assert summary["Comment"] == "photos for the web"
        assert summary["Origins"]["Items"][0]["Id"] == "bucket"

    def test_list_paginator_walks_every_page(self, cloudfront: Any) -> None:
        first = cloudfront.create_distribution(DistributionConfig=config())["Distribution"]["Id"]
        pages = cloudfront.get_paginator("list_distributions").paginate(PaginationConfig={"PageSize": 1})
        assert first in [item["Id"] for page in pages for item in page["DistributionList"].get("Items", [])]

    def test_update_needs_the_current_etag_and_changes_it(self, cloudfront: Any) -> None:
        sent = config()
        created = cloudfront.create_distribution(DistributionConfig=sent)
        distribution_id = created["Distribution"]["Id"]
        changed = {**sent, "Comment": "changed", "CacheBehaviors": {"Quantity": 0}}
        with pytest.raises(ClientError) as missing:
            cloudfront.update_distribution(Id=distribution_id, DistributionConfig=changed)
        assert error_of(missing) == ("InvalidIfMatchVersion", 400)
        with pytest.raises(ClientError) as stale:
            cloudfront.update_distribution(Id=distribution_id, DistributionConfig=changed, IfMatch="E0STALEEXAMPLE")
        assert error_of(stale) == ("PreconditionFailed", 412)
        updated = cloudfront.update_distribution(Id=distribution_id, DistributionConfig=changed,
                                                 IfMatch=created["ETag"])
        assert updated["ETag"] != created["ETag"]
        assert updated["Distribution"]["DistributionConfig"] == answered(changed)
        assert cloudfront.get_distribution_config(Id=distribution_id)["DistributionConfig"] == answered(changed)

    def test_the_caller_reference_cannot_change(self, cloudfront: Any) -> None:
        created = cloudfront.create_distribution(DistributionConfig=config())
        with pytest.raises(ClientError) as info:
            cloudfront.update_distribution(Id=created["Distribution"]["Id"], IfMatch=created["ETag"],
                                           DistributionConfig=config())
        assert error_of(info) == ("IllegalUpdate", 400)

    def test_delete_only_once_disabled_and_at_the_current_etag(self, cloudfront: Any) -> None:
        sent = config()
        created = cloudfront.create_distribution(DistributionConfig=sent)
        distribution_id = created["Distribution"]["Id"]
        with pytest.raises(ClientError) as enabled:
            cloudfront.delete_distribution(Id=distribution_id, IfMatch=created["ETag"])
        assert error_of(enabled) == ("DistributionNotDisabled", 409)
        disabled = cloudfront.update_distribution(Id=distribution_id, IfMatch=created["ETag"],
                                                  DistributionConfig={**sent, "Enabled": False})
        with pytest.raises(ClientError) as stale:
            cloudfront.delete_distribution(Id=distribution_id, IfMatch=created["ETag"])
        assert error_of(stale) == ("PreconditionFailed", 412)
        deleted = cloudfront.delete_distribution(Id=distribution_id, IfMatch=disabled["ETag"])
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as gone:
            cloudfront.get_distribution(Id=distribution_id)
        assert error_of(gone) == ("NoSuchDistribution", 404)

    def test_the_deployed_waiter_succeeds(self, cloudfront: Any) -> None:
        distribution_id = cloudfront.create_distribution(DistributionConfig=config())["Distribution"]["Id"]
        cloudfront.get_waiter("distribution_deployed").wait(Id=distribution_id, WaiterConfig={"Delay": 1})


class TestAliases:
    def test_an_alias_belongs_to_one_distribution(self, cloudfront: Any) -> None:
        first = config()
        cloudfront.create_distribution(DistributionConfig=first)
        alias = first["Aliases"]["Items"][0].upper()
        with pytest.raises(ClientError) as info:
            cloudfront.create_distribution(DistributionConfig=config(Aliases={"Quantity": 1, "Items": [alias]}))
        assert error_of(info) == ("CNAMEAlreadyExists", 409)

    def test_an_alias_is_free_again_once_removed(self, cloudfront: Any) -> None:
        first = config()
        created = cloudfront.create_distribution(DistributionConfig=first)
        cloudfront.update_distribution(Id=created["Distribution"]["Id"], IfMatch=created["ETag"],
                                       DistributionConfig={**first, "Aliases": {"Quantity": 0}})
        again = cloudfront.create_distribution(DistributionConfig=config(Aliases=first["Aliases"]))
        assert again["Distribution"]["DistributionConfig"]["Aliases"] == first["Aliases"]


class TestConfigurationErrors:
    @pytest.mark.parametrize(("overrides", "expected"), [
        ({"DefaultCacheBehavior": legacy_behavior("nowhere")}, ("NoSuchOrigin", 404)),
        ({"DefaultCacheBehavior": legacy_behavior("bucket", MinTTL=100, DefaultTTL=10)}, ("InvalidTTLOrder", 400)),
        ({"DefaultCacheBehavior": legacy_behavior("bucket", ViewerProtocolPolicy="sometimes")},
         ("InvalidArgument", 400)),
        ({"Origins": {"Quantity": 1, "Items": [{**s3_origin(), "DomainName": "example.com"}]}},
         ("InvalidOrigin", 400)),
        ({"DefaultRootObject": "/index.html"}, ("InvalidDefaultRootObject", 400)),
        ({"Origins": {"Quantity": 1, "Items": [{**http_origin("bucket"), "DomainName": "127.0.0.1:8081"}]}},
         ("InvalidArgument", 400)),  # the port goes in CustomOriginConfig
        ({"Aliases": {"Quantity": 2, "Items": ["a.example.com"]}}, ("InconsistentQuantities", 400)),
    ])
    def test_invalid_configurations_are_refused(self, cloudfront: Any, overrides: dict[str, Any],
                                                expected: tuple[str, int]) -> None:
        with pytest.raises(ClientError) as info:
            cloudfront.create_distribution(DistributionConfig=config(**overrides))
        assert error_of(info) == expected

    def test_a_caller_reference_names_one_distribution(self, cloudfront: Any) -> None:
        sent = config()
        cloudfront.create_distribution(DistributionConfig=sent)
        with pytest.raises(ClientError) as info:
            cloudfront.create_distribution(DistributionConfig={**sent, "Aliases": {"Quantity": 0}})
        assert error_of(info) == ("DistributionAlreadyExists", 409)

    def test_unknown_distributions_are_404(self, cloudfront: Any) -> None:
        with pytest.raises(ClientError) as info:
            cloudfront.get_distribution_config(Id="E000000NOSUCH")
        assert error_of(info) == ("NoSuchDistribution", 404)

    def test_a_wrong_secret_is_refused(self, server: StratoServer) -> None:
        """With what the server signed in the message, as AWS's services but S3 word it."""
        code, status, message = _listed_by(server, "STRATOTESTACCESSKEY1", "wrong")
        assert (code, status) == ("SignatureDoesNotMatch", 403)
        assert "The Canonical String for this request should have been\n'GET\n/2020-05-31/distribution\n" in message

    def test_an_unknown_key_is_an_invalid_client_token(self, server: StratoServer) -> None:
        """CloudFront's common error (its API reference), not S3's InvalidAccessKeyId."""
        assert _listed_by(server, "AKIANOTAKNOWNKEY0000", "x") == (
            "InvalidClientTokenId", 403, "The security token included in the request is invalid.")


class TestInvalidations:
    @pytest.fixture
    def distribution_id(self, cloudfront: Any) -> str:
        distribution_id: str = cloudfront.create_distribution(DistributionConfig=config())["Distribution"]["Id"]
        return distribution_id

    def test_create_records_a_completed_invalidation(self, cloudfront: Any, distribution_id: str) -> None:
        batch = {"Paths": {"Quantity": 2, "Items": ["/index.html", "/images/*"]}, "CallerReference": "deploy-1"}
        created = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
        invalidation = created["Invalidation"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["Location"].endswith(f"/distribution/{distribution_id}/invalidation/{invalidation['Id']}")
        assert invalidation["Status"] == "Completed"
        assert invalidation["InvalidationBatch"] == batch
        got = cloudfront.get_invalidation(DistributionId=distribution_id, Id=invalidation["Id"])
        assert got["Invalidation"] == invalidation
        cloudfront.get_waiter("invalidation_completed").wait(DistributionId=distribution_id, Id=invalidation["Id"],
                                                             WaiterConfig={"Delay": 1})

    def test_the_same_caller_reference_and_batch_is_the_same_invalidation(self, cloudfront: Any,
                                                                          distribution_id: str) -> None:
        batch = {"Paths": {"Quantity": 1, "Items": ["/a"]}, "CallerReference": "same"}
        first = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
        second = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch=batch)
        assert second["Invalidation"]["Id"] == first["Invalidation"]["Id"]
        with pytest.raises(ClientError) as info:
            cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": ["/b"]}, "CallerReference": "same"})
        assert error_of(info) == ("InvalidationBatchAlreadyExists", 409)

    def test_list_is_newest_first_and_pages(self, cloudfront: Any, distribution_id: str) -> None:
        ids = [cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
            "Paths": {"Quantity": 1, "Items": [f"/{n}"]}, "CallerReference": f"ref-{n}"})["Invalidation"]["Id"]
            for n in range(3)]
        first = cloudfront.list_invalidations(DistributionId=distribution_id, MaxItems="2")["InvalidationList"]
        assert [item["Id"] for item in first["Items"]] == ids[::-1][:2]
        assert first["IsTruncated"]
        assert first["NextMarker"] == ids[1]
        rest = cloudfront.list_invalidations(DistributionId=distribution_id, Marker=first["NextMarker"],
                                             MaxItems="2")["InvalidationList"]
        assert [item["Id"] for item in rest["Items"]] == [ids[0]]
        assert not rest["IsTruncated"]

    @pytest.mark.parametrize("path", ["no-slash", "/a*b"])
    def test_bad_paths_are_invalid_arguments(self, cloudfront: Any, distribution_id: str, path: str) -> None:
        with pytest.raises(ClientError) as info:
            cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
                "Paths": {"Quantity": 1, "Items": [path]}, "CallerReference": uuid.uuid4().hex})
        assert error_of(info) == ("InvalidArgument", 400)

    def test_unknown_invalidations_and_distributions_are_404(self, cloudfront: Any, distribution_id: str) -> None:
        with pytest.raises(ClientError) as no_invalidation:
            cloudfront.get_invalidation(DistributionId=distribution_id, Id="I000000NOSUCH")
        assert error_of(no_invalidation) == ("NoSuchInvalidation", 404)
        with pytest.raises(ClientError) as no_distribution:
            cloudfront.list_invalidations(DistributionId="E000000NOSUCH")
        assert error_of(no_distribution) == ("NoSuchDistribution", 404)

    # '²' is a digit to str.isdigit, not to int(); 20 digits are past SQLite's integers
    @pytest.mark.parametrize("since", ["soon", "%C2%B2", "9" * 20, "1" * 5000])
    def test_following_from_no_sequence_number_is_an_invalid_argument(self, server: StratoServer,
                                                                      since: str) -> None:
        request = AWSRequest("GET", f"{server.url}/_strato/cdn/invalidations?since={since}")
        SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "cloudfront", REGION).add_auth(request)
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(request.url, headers=dict(request.headers)), timeout=30)
        assert refused.value.code == 400
        assert b"<Code>InvalidArgument</Code>" in refused.value.read()


class TestSigningResources:
    def test_public_keys_are_created_read_listed_updated_and_deleted(self, cloudfront: Any) -> None:
        sent = {"CallerReference": uuid.uuid4().hex, "Name": uuid.uuid4().hex, "EncodedKey": public_key_pem(),
                "Comment": "signer"}
        created = cloudfront.create_public_key(PublicKeyConfig=sent)
        key_id = created["PublicKey"]["Id"]
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert created["Location"].endswith(f"/2020-05-31/public-key/{key_id}")
        assert cloudfront.get_public_key(Id=key_id)["PublicKey"]["PublicKeyConfig"] == sent
        assert cloudfront.get_public_key_config(Id=key_id)["PublicKeyConfig"] == sent
        listed = cloudfront.list_public_keys()["PublicKeyList"]["Items"]
        assert key_id in [item["Id"] for item in listed]
        updated = cloudfront.update_public_key(Id=key_id, IfMatch=created["ETag"],
                                               PublicKeyConfig={**sent, "Comment": "renamed"})
        assert updated["PublicKey"]["PublicKeyConfig"]["Comment"] == "renamed"
        with pytest.raises(ClientError) as immutable:
            cloudfront.update_public_key(Id=key_id, IfMatch=updated["ETag"],
                                         PublicKeyConfig={**sent, "EncodedKey": public_key_pem()})
        assert error_of(immutable) == ("CannotChangeImmutablePublicKeyFields", 400)
        cloudfront.delete_public_key(Id=key_id, IfMatch=updated["ETag"])
        with pytest.raises(ClientError) as gone:
            cloudfront.get_public_key(Id=key_id)
        assert error_of(gone) == ("NoSuchPublicKey", 404)

    def test_a_public_key_must_be_an_rsa_pem(self, cloudfront: Any) -> None:
        with pytest.raises(ClientError) as info:
            cloudfront.create_public_key(PublicKeyConfig={"CallerReference": "x", "Name": uuid.uuid4().hex,
                                                          "EncodedKey": "not a key"})
        assert error_of(info) == ("InvalidArgument", 400)

    def test_key_groups_hold_existing_keys_and_keep_them_in_use(self, cloudfront: Any) -> None:
        key = cloudfront.create_public_key(PublicKeyConfig={
            "CallerReference": uuid.uuid4().hex, "Name": uuid.uuid4().hex, "EncodedKey": public_key_pem()})
        key_id = key["PublicKey"]["Id"]
        with pytest.raises(ClientError) as unknown:
            cloudfront.create_key_group(KeyGroupConfig={"Name": uuid.uuid4().hex, "Items": ["K0NOSUCHKEY000"]})
        assert error_of(unknown) == ("NoSuchPublicKey", 404)
        sent = {"Name": uuid.uuid4().hex, "Items": [key_id], "Comment": "signers"}
        group = cloudfront.create_key_group(KeyGroupConfig=sent)
        group_id = group["KeyGroup"]["Id"]
        assert cloudfront.get_key_group_config(Id=group_id)["KeyGroupConfig"] == sent
        assert group_id in [item["KeyGroup"]["Id"] for item in cloudfront.list_key_groups()["KeyGroupList"]["Items"]]
        with pytest.raises(ClientError) as in_use:
            cloudfront.delete_public_key(Id=key_id, IfMatch=key["ETag"])
        assert error_of(in_use) == ("PublicKeyInUse", 409)
        with pytest.raises(ClientError) as taken:
            cloudfront.create_key_group(KeyGroupConfig=sent)
        assert error_of(taken) == ("KeyGroupAlreadyExists", 409)
        cloudfront.delete_key_group(Id=group_id, IfMatch=group["ETag"])
        cloudfront.delete_public_key(Id=key_id, IfMatch=key["ETag"])

    def test_origin_access_controls_round_trip(self, cloudfront: Any) -> None:
        sent = oac_config()
        created = cloudfront.create_origin_access_control(OriginAccessControlConfig=sent)
        oac_id = created["OriginAccessControl"]["Id"]
        got = cloudfront.get_origin_access_control_config(Id=oac_id)
        assert got["OriginAccessControlConfig"] == sent
        listed = cloudfront.list_origin_access_controls()["OriginAccessControlList"]
        assert oac_id in [item["Id"] for item in listed["Items"]]
        with pytest.raises(ClientError) as bad:
            cloudfront.update_origin_access_control(Id=oac_id, IfMatch=got["ETag"], OriginAccessControlConfig={
                **sent, "SigningBehavior": "sometimes"})
        assert error_of(bad) == ("InvalidArgument", 400)
        cloudfront.delete_origin_access_control(Id=oac_id, IfMatch=got["ETag"])

    def test_distributions_refer_only_to_existing_key_groups_and_access_controls(
        self, cloudfront: Any, signing: tuple[str, str]
    ) -> None:
        oac_id, group_id = signing
        with pytest.raises(ClientError) as no_group:
            cloudfront.create_distribution(DistributionConfig=signed_config((oac_id, "no-such-group")))
        assert error_of(no_group) == ("TrustedKeyGroupDoesNotExist", 400)
        with pytest.raises(ClientError) as no_oac:
            cloudfront.create_distribution(DistributionConfig=signed_config(("E0NOSUCHOAC000", group_id)))
        assert error_of(no_oac) == ("NoSuchOriginAccessControl", 404)

    def test_what_a_distribution_uses_cannot_be_deleted(self, cloudfront: Any, signing: tuple[str, str]) -> None:
        oac_id, group_id = signing
        cloudfront.create_distribution(DistributionConfig=signed_config(signing))
        group_etag = cloudfront.get_key_group(Id=group_id)["ETag"]
        with pytest.raises(ClientError) as group_in_use:
            cloudfront.delete_key_group(Id=group_id, IfMatch=group_etag)
        assert error_of(group_in_use) == ("ResourceInUse", 409)
        oac_etag = cloudfront.get_origin_access_control(Id=oac_id)["ETag"]
        with pytest.raises(ClientError) as oac_in_use:
            cloudfront.delete_origin_access_control(Id=oac_id, IfMatch=oac_etag)
        assert error_of(oac_in_use) == ("OriginAccessControlInUse", 409)


@pytest.fixture(scope="module")
def aws(server: StratoServer, tmp_path_factory: pytest.TempPathFactory) -> Aws:
    return Aws(server, tmp_path_factory.mktemp("aws-cloudfront-home"))


class TestAwsCli:
    def test_the_cli_shorthand_creates_a_distribution_and_invalidates_paths(self, aws: Aws) -> None:
        created = aws.json("cloudfront", "create-distribution", "--origin-domain-name", "photos.s3.amazonaws.com",
                           "--default-root-object", "index.html")
        distribution_id = created["Distribution"]["Id"]
        assert created["Distribution"]["DistributionConfig"]["Origins"]["Items"][0]["DomainName"] == (
            "photos.s3.amazonaws.com")
        invalidation = aws.json("cloudfront", "create-invalidation", "--distribution-id", distribution_id,
                                "--paths", "/index.html", "/images/*")
        assert invalidation["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == ["/index.html", "/images/*"]
        aws("cloudfront", "wait", "invalidation-completed", "--distribution-id", distribution_id,
            "--id", invalidation["Invalidation"]["Id"])
        listed = aws.json("cloudfront", "list-distributions")
        assert distribution_id in [item["Id"] for item in listed["DistributionList"]["Items"]]


def _listed_by(server: StratoServer, access_key: str, secret_key: str) -> tuple[str, int, str]:
    """The error ListDistributions signed with these keys gets: code, status, message."""
    stranger = make_client(server.url, "cloudfront", access_key=access_key, secret_key=secret_key)
    with pytest.raises(ClientError) as info:
        stranger.list_distributions()
    code, status = error_of(info)
    return code, status, info.value.response["Error"]["Message"]
