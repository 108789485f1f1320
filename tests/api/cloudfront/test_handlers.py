"""CloudFront's handlers through a real server: a signed request without the body its operation
needs is CloudFront's MissingBody, not malformed XML; an invalidation path is refused as CloudFront
refuses it."""

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
from tests.e2e.test_cloudfront import config
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
