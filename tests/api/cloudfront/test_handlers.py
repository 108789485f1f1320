"""CloudFront's handlers through a real server, with requests boto3 would not send: a signed
request without the body its operation needs is CloudFront's MissingBody, not malformed XML."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strato.xmltree import parse
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
