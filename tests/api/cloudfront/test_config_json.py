"""CloudFront configurations as boto3 and the aws CLI print them (api/cloudfront/config_json.py):
a JSON document reads as the same configuration as the XML botocore sends for it, and a document
of exports names where the first thing CloudFront would refuse is."""

from __future__ import annotations

import importlib.util
import json
import re
import textwrap
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.serialize import create_serializer

from strato.api.cloudfront.config_json import RESOURCE_JSON, distribution_config, node_of, read_exports
from strato.api.cloudfront.config_xml import parse_config
from strato.api.cloudfront.errors import CloudFrontError
from strato.xmltree import parse

LISTS: dict[str, Any] = {"Quantity": 0, "Items": []}
CONFIG: dict[str, Any] = {
    "CallerReference": "ref-1", "Comment": "every list", "Enabled": True,
    "Aliases": {"Quantity": 2, "Items": ["www.example.com", "*.example.org"]},
    "DefaultRootObject": "index.html",
    "Origins": {"Quantity": 3, "Items": [
        {"Id": "web", "DomainName": "web.example.com", "OriginPath": "/v1",
         "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Secret", "HeaderValue": "s"}]},
         "CustomOriginConfig": {"HTTPPort": 8080, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only",
                                "OriginSslProtocols": {"Quantity": 2, "Items": ["TLSv1.2", "TLSv1.1"]},
                                "OriginReadTimeout": 5, "OriginKeepaliveTimeout": 4},
         "ConnectionAttempts": 2, "ConnectionTimeout": 3, "OriginShield": {"Enabled": False}},
        {"Id": "spare", "DomainName": "spare.example.com",
         "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "match-viewer"}},
        {"Id": "bucket", "DomainName": "photos.s3.us-east-1.amazonaws.com", "OriginAccessControlId": "E1OAC",
         "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
    "OriginGroups": {"Quantity": 1, "Items": [{
        "Id": "group", "FailoverCriteria": {"StatusCodes": {"Quantity": 2, "Items": [500, 503]}},
        "Members": {"Quantity": 2, "Items": [{"OriginId": "web"}, {"OriginId": "spare"}]}}]},
    "DefaultCacheBehavior": {
        "TargetOriginId": "group", "ViewerProtocolPolicy": "redirect-to-https",
        "TrustedSigners": {"Enabled": False, **LISTS},
        "TrustedKeyGroups": {"Enabled": True, "Quantity": 1, "Items": ["kg-1"]},
        "AllowedMethods": {"Quantity": 3, "Items": ["GET", "HEAD", "OPTIONS"],
                           "CachedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]}},
        "Compress": True,
        "ForwardedValues": {"QueryString": True, "Cookies": {
            "Forward": "whitelist", "WhitelistedNames": {"Quantity": 1, "Items": ["session"]}},
            "Headers": {"Quantity": 1, "Items": ["Origin"]},
            "QueryStringCacheKeys": {"Quantity": 1, "Items": ["page"]}},
        "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 600,
        "LambdaFunctionAssociations": LISTS,
        "FunctionAssociations": {"Quantity": 1, "Items": [{
            "FunctionARN": "arn:aws:cloudfront::123456789012:function/hello", "EventType": "viewer-request"}]}},
    "CacheBehaviors": {"Quantity": 1, "Items": [{
        "PathPattern": "/images/*", "TargetOriginId": "bucket", "ViewerProtocolPolicy": "allow-all",
        "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}]},
    "CustomErrorResponses": {"Quantity": 1, "Items": [{
        "ErrorCode": 404, "ResponsePagePath": "/404.html", "ResponseCode": "404", "ErrorCachingMinTTL": 10}]},
    "Logging": {"Enabled": False, "IncludeCookies": False, "Bucket": "", "Prefix": ""},
    "Restrictions": {"GeoRestriction": {"RestrictionType": "whitelist", "Quantity": 2, "Items": ["DE", "FR"]}},
    "PriceClass": "PriceClass_100", "HttpVersion": "http2", "IsIPV6Enabled": False,
}


def botocore_xml(operation: str, params: dict[str, Any]) -> bytes:
    """The XML botocore sends for `operation` with `params`."""
    model = botocore.session.get_session().get_service_model("cloudfront")
    request = create_serializer("rest-xml").serialize_to_request(params, model.operation_model(operation))
    body: bytes = request["body"]
    return body


class TestReadingJson:
    def test_a_distribution_config_reads_as_the_xml_botocore_sends_for_it(self) -> None:
        sent = botocore_xml("CreateDistribution", {"DistributionConfig": CONFIG})
        assert distribution_config(CONFIG) == parse_config(parse(sent))

    @pytest.mark.parametrize(("tag", "operation", "config"), [
        ("KeyGroup", "CreateKeyGroup", {"Name": "signers", "Items": ["K1", "K2"], "Comment": "two"}),
        ("CachePolicy", "CreateCachePolicy", {
            "Name": "mine", "DefaultTTL": 60, "MaxTTL": 600, "MinTTL": 1,
            "ParametersInCacheKeyAndForwardedToOrigin": {
                "EnableAcceptEncodingGzip": True, "EnableAcceptEncodingBrotli": False,
                "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["Origin"]}},
                "CookiesConfig": {"CookieBehavior": "whitelist", "Cookies": {"Quantity": 1, "Items": ["id"]}},
                "QueryStringsConfig": {"QueryStringBehavior": "allExcept",
                                       "QueryStrings": {"Quantity": 1, "Items": ["utm"]}}}}),
        ("ResponseHeadersPolicy", "CreateResponseHeadersPolicy", {
            "Name": "cors", "CorsConfig": {
                "AccessControlAllowOrigins": {"Quantity": 1, "Items": ["https://example.com"]},
                "AccessControlAllowHeaders": {"Quantity": 1, "Items": ["*"]},
                "AccessControlAllowMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
                "AccessControlExposeHeaders": {"Quantity": 1, "Items": ["ETag"]},
                "AccessControlAllowCredentials": False, "AccessControlMaxAgeSec": 600, "OriginOverride": True},
            "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Site", "Value": "a", "Override": True}]},
            "RemoveHeadersConfig": {"Quantity": 1, "Items": [{"Header": "X-Powered-By"}]}}),
    ])
    def test_resources_read_as_the_xml_botocore_sends_for_them(self, tag: str, operation: str,
                                                                config: dict[str, Any]) -> None:
        spec = RESOURCE_JSON[tag]
        assert spec.config(config) == spec.parse(parse(botocore_xml(operation, {f"{tag}Config": config})))

    def test_a_field_no_configuration_holds_is_malformed_input(self) -> None:
        with pytest.raises(CloudFrontError, match="The value of CNAME is not a string, number, boolean or object"):
            node_of("DistributionConfig", {"Aliases": {"Quantity": 1, "Items": [["www.example.com"]]}})

    def test_a_list_without_its_quantity_is_malformed_input(self) -> None:
        with pytest.raises(CloudFrontError, match=r'The value of Aliases in DistributionConfig is an array; '
                                                  r'CloudFront\'s lists are \{"Quantity": N, "Items": \[...\]\}'):
            node_of("DistributionConfig", {"Aliases": ["www.example.com"]})


def documented_output(command: str) -> Any:
    """The output the aws CLI's own documentation of `aws cloudfront <command>` shows (AWS's)."""
    spec = importlib.util.find_spec("awscli")
    assert spec is not None
    assert spec.submodule_search_locations is not None
    examples = Path(spec.submodule_search_locations[0]) / "examples" / "cloudfront"
    text = (examples / f"{command}.rst").read_text()
    lines = []
    for line in text.split("Output::", 1)[1].splitlines()[1:]:
        if line and not line.startswith(" "):
            break
        lines.append(line)
    return json.loads(textwrap.dedent("\n".join(lines)))


class TestReadingExports:
    def test_the_outputs_the_aws_cli_documents_read(self) -> None:
        exports = read_exports([documented_output(command) for command in (
            "get-distribution-config", "get-distribution", "get-public-key", "get-cloud-front-origin-access-identity")])
        assert [(found.id, found.domain_name, found.config.caller_reference) for found in exports.distributions] == [
            (None, None, "cli-example"), ("EDFDVBD6EXAMPLE", "d111111abcdef8.cloudfront.net", "cli-example")]
        assert {kind: list(found) for kind, found in exports.resources.items()} == {
            "public-key": ["KDFB19YGCR002"], "origin-access-identity": ["E74FTE3AEXAMPLE"]}

    def test_get_distribution_and_get_distribution_config_exports_carry_what_they_print(self) -> None:
        exports = read_exports({"Distributions": [
            {"ETag": "E1", "DistributionConfig": CONFIG},
            {"ETag": "E2", "Distribution": {"Id": "EDFDVBD6EXAMPLE", "DomainName": "d111111abcdef8.cloudfront.net",
                                            "DistributionConfig": {**CONFIG, "CallerReference": "ref-2"}}}]})
        assert [(found.id, found.domain_name, found.etag) for found in exports.distributions] == [
            (None, None, "E1"), ("EDFDVBD6EXAMPLE", "d111111abcdef8.cloudfront.net", "E2")]

    def test_a_resource_given_twice_is_refused(self) -> None:
        group = {"KeyGroup": {"Id": "kg-1", "KeyGroupConfig": {"Name": "signers", "Items": ["K1"]}}}
        with pytest.raises(ValueError, match=r"^\[1\]: The key-group kg-1 is given twice\.$"):
            read_exports([group, group])

    @pytest.mark.parametrize(("document", "said"), [
        ({"Distributions": {"ETag": "E1"}}, "Distributions: neither an export"),
        ({"Distributions": [{"DistributionConfig": {**CONFIG, "Enabled": "yes"}}]},
         "Distributions[0]: The value of Enabled in DistributionConfig is not a boolean: yes"),
        ([{"Distribution": {"Id": 7, "DistributionConfig": CONFIG}}],
         "[0]: The value of Id in Distribution is not a string."),
        ([{"CachePolicy": {"CachePolicyConfig": {}}}], "[0]: Missing required field Id in CachePolicy."),
        ("text", "the document: an export is an object, not text"),
    ])
    def test_what_cloudfront_would_refuse_is_said_with_where_it_is(self, document: Any, said: str) -> None:
        with pytest.raises(ValueError, match=f"^{re.escape(said)}"):
            read_exports(document)
