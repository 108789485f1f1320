"""The default distribution (`http://edge/<bucket>/<key>`) serves what a bucket policy lets
anyone read, and only to the viewers it lets: an answer a policy's conditions gave one viewer
(its Referer, User-Agent, address, protocol, the time) is never stored and given to another.
The policy sees the viewer's address and protocol, not the edge's: strato's edge vouches for
them to strato's S3 (strato.auth.viewer)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.auth import HmacV1Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from strato.auth import viewer
from strato.edge.distributions import ACCESS_RECHECK
from tests.conftest import make_client
from tests.e2e.web import get, public_read
from tests.servers import ACCESS_KEY, SECRET_KEY, StratoServer


def grant(s3: Any, bucket: str, *extra: dict[str, Any], condition: dict[str, Any] | None = None) -> None:
    """A public read of the bucket's objects (under `condition`), with `extra` statements."""
    allow: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/*"}
    if condition is not None:
        allow["Condition"] = condition
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow, *extra]}))


def test_an_answer_a_referer_condition_allowed_is_not_given_to_another_referer(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="logo.png", Body=b"logo", CacheControl="max-age=3600")
    grant(s3, bucket, condition={"StringLike": {"aws:Referer": "https://shop.example/*"}})
    url = f"{server.edge_url}/{bucket}/logo.png"
    status, headers, body = get(url, headers={"Referer": "https://shop.example/cart"})
    assert (status, body) == (200, b"logo")
    assert "cdn-cache-control" not in headers  # the edge's own instruction, not the viewer's
    assert get(url, headers={"Referer": "https://elsewhere.example/"})[0] == 403
    assert get(url)[0] == 403
    assert get(url, headers={"Referer": "https://shop.example/again"})[0] == 200


def test_a_conditional_deny_refuses_its_viewers_an_object_another_viewer_fetched(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="page.html", Body=b"page", CacheControl="max-age=3600")
    grant(s3, bucket, {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*",
                       "Condition": {"StringLike": {"aws:UserAgent": "*BadBot*"}}})
    url = f"{server.edge_url}/{bucket}/page.html"
    assert get(url, headers={"User-Agent": "Mozilla/5.0"})[0] == 200
    assert get(url, headers={"User-Agent": "BadBot/1.0"})[0] == 403


def test_the_s3_answer_tells_cdns_not_to_store_it_for_everyone(s3: Any, bucket: str, server: StratoServer) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    grant(s3, bucket, condition={"StringLike": {"aws:Referer": "https://shop.example/*"}})
    status, headers, _ = get(f"{server.url}/{bucket}/a.txt", headers={"Referer": "https://shop.example/"})
    assert (status, headers.get("cdn-cache-control")) == (200, "private")


def test_an_unconditional_public_read_is_still_cached(s3: Any, bucket: str, server: StratoServer) -> None:
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"app", CacheControl="max-age=3600")
    public_read(s3, bucket)
    url = f"{server.edge_url}/{bucket}/app.js"
    assert get(url)[0] == 200
    status, headers, _ = get(url)
    assert "cdn-cache-control" not in headers
    assert status == 200
    assert headers["cache-status"].startswith("strato; hit")


def from_address(edge_url: str, address: str, path: str, headers: dict[str, str] | None = None) -> int:
    """The status of a GET the viewer at `address` (a loopback one: all of 127/8 is local) makes."""
    connection = http.client.HTTPConnection(edge_url.removeprefix("http://"), timeout=30,
                                            source_address=(address, 0))
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_a_source_ip_deny_refuses_its_viewers_not_the_edges_address(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", CacheControl="max-age=3600")
    grant(s3, bucket, {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                       "Resource": f"arn:aws:s3:::{bucket}/*",
                       "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.3/32"}}})
    path = f"/{bucket}/a.txt"
    assert from_address(server.edge_url, "127.0.0.1", path) == 200
    assert from_address(server.edge_url, "127.0.0.3", path) == 403
    assert from_address(server.edge_url, "127.0.0.3", path, {"X-Forwarded-For": "127.0.0.1"}) == 403


def test_a_source_ip_grant_lets_in_its_viewers_alone(s3: Any, bucket: str, server: StratoServer) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    grant(s3, bucket, condition={"IpAddress": {"aws:SourceIp": "127.0.0.2/32"}})
    path = f"/{bucket}/a.txt"
    assert from_address(server.edge_url, "127.0.0.2", path) == 200
    assert from_address(server.edge_url, "127.0.0.1", path) == 403
    assert from_address(server.edge_url, "127.0.0.1", path, {"X-Forwarded-For": "127.0.0.2"}) == 403


def test_only_the_root_keys_can_vouch_for_a_viewer(s3: Any, bucket: str, server: StratoServer) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    grant(s3, bucket, condition={"IpAddress": {"aws:SourceIp": "192.0.2.1/32"}})
    url = f"{server.url}/{bucket}/a.txt"
    forged = viewer.vouch(ACCESS_KEY, "not-the-secret", "192.0.2.1", False, time.time())
    assert get(url, headers={viewer.FIELD: forged})[0] == 403
    stale = viewer.vouch(ACCESS_KEY, SECRET_KEY, "192.0.2.1", False, time.time() - 3600)
    assert get(url, headers={viewer.FIELD: stale})[0] == 403
    assert get(url, headers={viewer.FIELD: viewer.vouch(ACCESS_KEY, SECRET_KEY, "192.0.2.1", False, time.time())}
               )[0] == 200


@pytest.fixture(scope="module")
def behind_tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StratoServer]:
    """A strato whose edge trusts the X-Forwarded-Proto of a TLS proxy in front of it."""
    server = StratoServer(tmp_path_factory.mktemp("tls"), env={"STRATO_EDGE_TRUST_FORWARDED_PROTO": "1"}).start()
    yield server
    server.stop()


def test_a_deny_of_insecure_transport_lets_in_the_viewers_of_a_trusted_tls_proxy(behind_tls: StratoServer) -> None:
    s3 = make_client(behind_tls.url)
    s3.create_bucket(Bucket="tls-only")
    s3.put_object(Bucket="tls-only", Key="a.txt", Body=b"a")
    grant(s3, "tls-only", {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                           "Resource": "arn:aws:s3:::tls-only/*",
                           "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
    url = f"{behind_tls.edge_url}/tls-only/a.txt"
    assert get(url, headers={"X-Forwarded-Proto": "https"})[0] == 200
    assert get(url)[0] == 403


def test_an_object_of_a_bucket_made_private_is_not_served_stale_once_s3_refused_it(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", CacheControl="max-age=0")
    public_read(s3, bucket)
    url = f"{server.edge_url}/{bucket}/a.txt"
    assert get(url)[0] == 200
    s3.delete_bucket_policy(Bucket=bucket)
    assert get(url)[0] == 403
    assert get(url, headers={"Cache-Control": "max-stale"})[0] == 403


def test_an_answer_to_a_presigned_url_is_not_kept_to_outlive_its_signature(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"secret", CacheControl="public, max-age=3600")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a.txt"}, ExpiresIn=300)
    at_edge = url.replace(server.url, server.edge_url)
    assert get(at_edge)[:3:2] == (200, b"secret")
    status, headers, _ = get(at_edge)
    assert status == 200
    assert "hit" not in headers["cache-status"]


def test_an_answer_to_the_owners_signed_request_is_not_given_to_anonymous_viewers(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"secret", CacheControl="public, max-age=3600")
    url = f"{server.edge_url}/{bucket}/a.txt"
    signed = AWSRequest("GET", url)
    HmacV1Auth(Credentials(ACCESS_KEY, SECRET_KEY)).add_auth(signed)  # Signature V2: no Host signed
    assert get(url, headers=dict(signed.headers))[:3:2] == (200, b"secret")
    assert get(url)[0] == 403


def test_a_bucket_made_private_stops_being_served_within_the_access_recheck(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    """However long its freshness: the default distribution asks S3 again whether a stored
    answer stands once it is ACCESS_RECHECK seconds old (a 304 while it does)."""
    s3.put_object(Bucket=bucket, Key="a.txt", Body=b"a", CacheControl="max-age=31536000, immutable")
    public_read(s3, bucket)
    url = f"{server.edge_url}/{bucket}/a.txt"
    assert get(url)[0] == 200
    assert get(url)[1]["cache-status"].startswith("strato; hit")
    s3.delete_bucket_policy(Bucket=bucket)
    made_private = time.monotonic()
    while get(url)[0] == 200:
        assert time.monotonic() - made_private < ACCESS_RECHECK + 5, "still served from the cache"
        time.sleep(0.2)
    assert get(url, headers={"Cache-Control": "max-stale"})[0] == 403


def test_only_if_cached_on_an_answer_due_for_its_access_recheck_is_a_504_without_asking_s3(
    s3: Any, bucket: str, server: StratoServer,
) -> None:
    """RFC 9111 5.2.1.7: a client forbidding the edge to contact the origin gets a 504 when the
    stored answer must be rechecked first, never what S3 now says (a 403 here)."""
    s3.put_object(Bucket=bucket, Key="b.txt", Body=b"b", CacheControl="max-age=31536000")
    public_read(s3, bucket)
    url = f"{server.edge_url}/{bucket}/b.txt"
    assert get(url)[0] == 200
    assert get(url, headers={"Cache-Control": "only-if-cached"})[0] == 200
    s3.delete_bucket_policy(Bucket=bucket)
    time.sleep(ACCESS_RECHECK)
    assert get(url, headers={"Cache-Control": "only-if-cached"})[0] == 504
    assert get(url)[0] == 403
