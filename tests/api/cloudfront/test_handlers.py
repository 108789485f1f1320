"""CloudFront's handlers through a real server and boto3: a signed request without the body its
operation needs is MissingBody; what CloudFront refuses (unencoded invalidation paths, lengths past
the API reference's, control characters the edge would write into origin requests, an origin
access control of another origin type) is refused with the code the API model gives it."""

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

from strato.xmltree import parse
from tests.e2e.client_errors import error_of
from tests.e2e.test_cloudfront import config, public_key_pem
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer


def refusal(server: StratoServer, method: str, path: str, body: bytes = b"") -> tuple[int, str | None]:
    """The status and error code of a signed CloudFront request that must fail."""
    request = AWSRequest(method=method, url=f"{server.url}/2020-05-31/{path}", data=body)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "cloudfront", REGION).add_auth(request)
    sent = urllib.request.Request(request.url, data=body, method=method, headers=dict(request.headers))
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(sent, timeout=30)
    error = parse(refused.value.read()).find("Error")
    assert error is not None
    return refused.value.code, error.text_of("Code")


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "distribution"),
    ("POST", "distribution?WithTags"),
    ("PUT", "distribution/E0NOSUCHEXAMPL/config"),
    ("POST", "distribution/E0NOSUCHEXAMPL/invalidation"),
    ("POST", "public-key"),
    ("POST", "cache-policy"),
    ("POST", "function"),
    ("POST", "tagging?Operation=Tag&Resource=arn%3Aaws%3Acloudfront%3A%3A000000000000%3Adistribution%2FE0NOSUCHEXAMPL"),
])
def test_an_operation_sent_without_its_body_is_missing_body(server: StratoServer, method: str, path: str) -> None:
    assert refusal(server, method, path) == (400, "MissingBody")


def test_a_body_that_is_not_xml_is_still_malformed_input(server: StratoServer) -> None:
    assert refusal(server, "POST", "distribution", b"<DistributionConfig>") == (400, "MalformedInput")


@pytest.mark.parametrize(("path", "encoded"), [
    ("/my file.jpg", "/my%20file.jpg"),
    ("/\u05e7\u05d5\u05d1\u05e5.html", "/%D7%A7%D7%95%D7%91%D7%A5.html"),
    ("/vendors~about.js", "/vendors%7Eabout.js"),
])
def test_an_invalidation_path_left_unencoded_is_refused_as_cloudfront_refuses_it(
        cloudfront: Any, path: str, encoded: str) -> None:
    """Such a path could never name what viewers request (they send it encoded)."""
    distribution = cloudfront.create_distribution(DistributionConfig=config())["Distribution"]["Id"]
    with pytest.raises(ClientError) as caught:
        cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
            "Paths": {"Quantity": 2, "Items": ["/index.html", path]}, "CallerReference": uuid.uuid4().hex})
    assert error_of(caught) == ("InvalidArgument", 400)
    created = cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": [encoded]}, "CallerReference": uuid.uuid4().hex})
    assert created["Invalidation"]["InvalidationBatch"]["Paths"]["Items"] == [encoded]


def _name() -> str:
    return uuid.uuid4().hex[:16]


def _oac(name: str) -> dict[str, str]:
    return {"Name": name, "SigningProtocol": "sigv4", "SigningBehavior": "always",
            "OriginAccessControlOriginType": "s3"}


class TestTheLengthsTheApiReferenceGives:
    """API_PublicKeyConfig and API_KeyGroupConfig: a comment of at most 128 characters;
    API_OriginAccessControlConfig: a name of up to 64."""

    def test_a_public_keys_comment(self, cloudfront: Any) -> None:
        config = {"CallerReference": _name(), "Name": _name(), "EncodedKey": public_key_pem(), "Comment": "c" * 129}
        with pytest.raises(ClientError) as caught:
            cloudfront.create_public_key(PublicKeyConfig=config)
        assert error_of(caught) == ("InvalidArgument", 400)
        created = cloudfront.create_public_key(PublicKeyConfig={**config, "Comment": "c" * 128})
        with pytest.raises(ClientError) as caught:
            cloudfront.update_public_key(Id=created["PublicKey"]["Id"], IfMatch=created["ETag"],
                                         PublicKeyConfig={**config, "Comment": "c" * 129})
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_a_key_groups_comment(self, cloudfront: Any) -> None:
        key = cloudfront.create_public_key(PublicKeyConfig={
            "CallerReference": _name(), "Name": _name(), "EncodedKey": public_key_pem()})["PublicKey"]["Id"]
        with pytest.raises(ClientError) as caught:
            cloudfront.create_key_group(KeyGroupConfig={"Name": _name(), "Items": [key], "Comment": "c" * 129})
        assert error_of(caught) == ("InvalidArgument", 400)
        cloudfront.create_key_group(KeyGroupConfig={"Name": _name(), "Items": [key], "Comment": "c" * 128})

    @pytest.mark.parametrize("name", ["", "n" * 65])
    def test_an_origin_access_controls_name(self, cloudfront: Any, name: str) -> None:
        with pytest.raises(ClientError) as caught:
            cloudfront.create_origin_access_control(OriginAccessControlConfig=_oac(name))
        assert error_of(caught) == ("InvalidArgument", 400)

    def test_an_origin_access_control_named_in_64_characters(self, cloudfront: Any) -> None:
        name = _name() * 4
        created = cloudfront.create_origin_access_control(OriginAccessControlConfig=_oac(name))
        assert created["OriginAccessControl"]["OriginAccessControlConfig"]["Name"] == name


def test_an_origin_custom_header_value_holding_a_line_break_is_refused(cloudfront: Any) -> None:
    """The edge adds it to every request to the origin: a line break would add fields of its own."""
    sent = config()
    web = sent["Origins"]["Items"][1]
    web["CustomHeaders"] = {"Quantity": 1, "Items": [
        {"HeaderName": "X-From-Edge", "HeaderValue": "a\nX-Injected: yes"}]}
    with pytest.raises(ClientError) as caught:
        cloudfront.create_distribution(DistributionConfig=sent)
    assert error_of(caught) == ("InvalidArgument", 400)


class TestTheErrorCodesTheModelNames:
    """Refusals the API model gives codes of their own: UpdatePublicKey's
    CannotChangeImmutablePublicKeyFields, CreateKeyGroup's TooManyPublicKeysInKeyGroup."""

    def test_a_public_keys_key_cannot_change(self, cloudfront: Any) -> None:
        sent = {"CallerReference": _name(), "Name": _name(), "EncodedKey": public_key_pem()}
        created = cloudfront.create_public_key(PublicKeyConfig=sent)
        for changed in ({"EncodedKey": public_key_pem()}, {"CallerReference": _name()}):
            with pytest.raises(ClientError) as caught:
                cloudfront.update_public_key(Id=created["PublicKey"]["Id"], IfMatch=created["ETag"],
                                             PublicKeyConfig={**sent, **changed})
            assert error_of(caught) == ("CannotChangeImmutablePublicKeyFields", 400)

    def test_a_key_group_holds_at_most_five_keys(self, cloudfront: Any) -> None:
        keys = [cloudfront.create_public_key(PublicKeyConfig={
            "CallerReference": _name(), "Name": _name(), "EncodedKey": public_key_pem()})["PublicKey"]["Id"]
            for _ in range(6)]
        with pytest.raises(ClientError) as caught:
            cloudfront.create_key_group(KeyGroupConfig={"Name": _name(), "Items": keys})
        assert error_of(caught) == ("TooManyPublicKeysInKeyGroup", 400)
        created = cloudfront.create_key_group(KeyGroupConfig={"Name": _name(), "Items": keys[:5]})
        with pytest.raises(ClientError) as caught:
            cloudfront.update_key_group(Id=created["KeyGroup"]["Id"], IfMatch=created["ETag"],
                                        KeyGroupConfig={"Name": _name(), "Items": keys})
        assert error_of(caught) == ("TooManyPublicKeysInKeyGroup", 400)


    @pytest.mark.parametrize(("timeout", "code"), [("OriginReadTimeout", "InvalidOriginReadTimeout"),
                                                   ("OriginKeepaliveTimeout", "InvalidOriginKeepaliveTimeout")])
    def test_an_origin_timeout_out_of_range(self, cloudfront: Any, timeout: str, code: str) -> None:
        sent = config()
        sent["Origins"]["Items"][1]["CustomOriginConfig"][timeout] = 0
        with pytest.raises(ClientError) as caught:
            cloudfront.create_distribution(DistributionConfig=sent)
        assert error_of(caught) == (code, 400)

    def test_cookies_whitelisted_without_names(self, cloudfront: Any) -> None:
        sent = config()
        sent["DefaultCacheBehavior"]["ForwardedValues"]["Cookies"] = {"Forward": "whitelist"}
        with pytest.raises(ClientError) as caught:
            cloudfront.create_distribution(DistributionConfig=sent)
        assert error_of(caught) == ("InvalidForwardCookies", 400)


@pytest.mark.parametrize(("oac_type", "origin"), [("lambda", 0), ("mediastore", 0), ("s3", 1)])
def test_an_origin_access_control_of_another_origin_type_is_refused(
        cloudfront: Any, oac_type: str, origin: int) -> None:
    """CloudFront: "Illegal configuration: The origin type and OAC origin type differ." (an S3
    origin's OAC is of type s3; a custom origin's is not)."""
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
        **_oac(_name()), "OriginAccessControlOriginType": oac_type})["OriginAccessControl"]["Id"]
    sent = config()
    sent["Origins"]["Items"][origin]["OriginAccessControlId"] = oac
    with pytest.raises(ClientError) as caught:
        cloudfront.create_distribution(DistributionConfig=sent)
    assert error_of(caught) == ("IllegalOriginAccessConfiguration", 400)
