"""The CDN edge inside `strato serve`: public buckets by path, distributions chosen by Host,
private buckets signed for, any HTTP origin, and CloudFront invalidations applied."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_client
from tests.edge.origin import Origin, Route
from tests.servers import StratoServer


@pytest.fixture(scope="module")
def cloudfront(server: StratoServer) -> Any:
    return make_client(server.url, "cloudfront")


@pytest.fixture
def origin() -> Iterator[Origin]:
    running = Origin()
    yield running
    running.close()


def get(url: str, host: str | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def public_read(s3: Any, bucket: str) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def behavior(origin_id: str, **extra: Any) -> dict[str, Any]:
    return {"TargetOriginId": origin_id, "ViewerProtocolPolicy": "allow-all",
            "ForwardedValues": {"QueryString": True, "Cookies": {"Forward": "none"}},
            "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 3600, **extra}


def create_distribution(cloudfront: Any, alias: str, origins: list[dict[str, Any]], default: str,
                        behaviors: list[dict[str, Any]] | None = None, **extra: Any) -> str:
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Aliases": {"Quantity": 1, "Items": [alias]},
        "Origins": {"Quantity": len(origins), "Items": origins},
        "DefaultCacheBehavior": behavior(default),
        "CacheBehaviors": {"Quantity": len(behaviors or []), "Items": behaviors or []},
        **extra,
    })
    return str(created["Distribution"]["Id"])


def s3_origin(bucket: str, origin_id: str = "bucket", oac: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"Id": origin_id, "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                             "S3OriginConfig": {"OriginAccessIdentity": ""}}
    if oac:
        found["OriginAccessControlId"] = oac
    return found


def http_origin(url: str, origin_id: str = "web") -> dict[str, Any]:
    host, port = url.removeprefix("http://").rsplit(":", 1)
    return {"Id": origin_id, "DomainName": host,
            "CustomOriginConfig": {"HTTPPort": int(port), "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}


def test_a_public_bucket_is_served_and_cached_by_path(server: StratoServer, s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="site/index.html", Body=b"<h1>hi</h1>", CacheControl="max-age=300",
                  ContentType="text/html")
    public_read(s3, bucket)
    status, headers, body = get(f"{server.edge_url}/{bucket}/site/index.html")
    assert (status, body) == (200, b"<h1>hi</h1>")
    assert "fwd=uri-miss" in headers["cache-status"]
    status, headers, body = get(f"{server.edge_url}/{bucket}/site/index.html")
    assert (status, body) == (200, b"<h1>hi</h1>")
    assert "hit" in headers["cache-status"]
    assert headers["content-type"] == "text/html"


def test_a_private_bucket_is_not_served_by_the_default_distribution(server: StratoServer, s3: Any,
                                                                     bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="secret.txt", Body=b"mine")
    status, _, body = get(f"{server.edge_url}/{bucket}/secret.txt")
    assert status == 403
    assert b"mine" not in body


def test_an_origin_access_control_serves_a_private_bucket_only_through_its_alias(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    s3.put_object(Bucket=bucket, Key="docs/a b.txt", Body=b"signed for", CacheControl="max-age=300")
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": uuid.uuid4().hex, "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [s3_origin(bucket, oac=oac)], "bucket")
    deadline = time.monotonic() + 10
    status, _, body = get(f"{server.edge_url}/docs/a%20b.txt", host=alias)
    while status != 200 and time.monotonic() < deadline:  # the edge reloads distributions each second
        time.sleep(0.2)
        status, _, body = get(f"{server.edge_url}/docs/a%20b.txt", host=alias)
    assert (status, body) == (200, b"signed for")
    assert get(f"{server.edge_url}/{bucket}/docs/a%20b.txt")[0] == 403


def test_behaviours_route_paths_to_their_origins(server: StratoServer, s3: Any, bucket: str, cloudfront: Any,
                                                 origin: Origin) -> None:
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"from the bucket", CacheControl="max-age=60")
    public_read(s3, bucket)
    origin.routes["/api/items"] = Route(200, {"Cache-Control": "no-store", "Content-Type": "application/json"},
                                        b'{"from": "the api"}')
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias, [s3_origin(bucket), http_origin(origin.url)], "bucket",
                        [behavior("web", PathPattern="/api/*")], DefaultRootObject="index.html")
    deadline = time.monotonic() + 10
    while get(f"{server.edge_url}/", host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(f"{server.edge_url}/", host=alias)[2] == b"from the bucket"
    assert get(f"{server.edge_url}/api/items", host=alias)[2] == b'{"from": "the api"}'
    assert origin.count("/api/items") == 1


def test_a_cloudfront_invalidation_purges_the_edge(server: StratoServer, s3: Any, bucket: str,
                                                   cloudfront: Any) -> None:
    s3.put_object(Bucket=bucket, Key="news/today.txt", Body=b"old news", CacheControl="max-age=3600")
    public_read(s3, bucket)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    distribution = create_distribution(cloudfront, alias, [s3_origin(bucket)], "bucket")
    url = f"{server.edge_url}/news/today.txt"
    deadline = time.monotonic() + 10
    while get(url, host=alias)[0] != 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(url, host=alias)[2] == b"old news"
    s3.put_object(Bucket=bucket, Key="news/today.txt", Body=b"new news", CacheControl="max-age=3600")
    assert get(url, host=alias)[2] == b"old news"  # fresh in the cache for an hour
    cloudfront.create_invalidation(DistributionId=distribution, InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": ["/news/*"]}, "CallerReference": uuid.uuid4().hex})
    deadline = time.monotonic() + 10
    while get(url, host=alias)[2] != b"new news" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert get(url, host=alias)[2] == b"new news"
