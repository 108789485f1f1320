"""A standalone `strato edge` attached to a strato server applies the server's CloudFront
invalidations (`--invalidations-from`), as edges on other machines must."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.web import public_read
from tests.edge.conftest import StratoEdge
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer


@pytest.fixture
def attached_edge(server: StratoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StratoEdge]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", REGION)
    edge = StratoEdge(server.url, tmp_path / "cache", "--invalidations-from", server.url).start()
    yield edge
    edge.stop()


def body_of(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as answer:
        data: bytes = answer.read()
        return data


def test_an_invalidation_made_on_the_server_purges_an_attached_edge(
    s3: Any, cloudfront: Any, bucket: str, attached_edge: StratoEdge
) -> None:
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"version 1", CacheControl="max-age=3600")
    public_read(s3, bucket)
    url = f"{attached_edge.url}/{bucket}/app.js"
    assert body_of(url) == b"version 1"
    s3.put_object(Bucket=bucket, Key="app.js", Body=b"version 2", CacheControl="max-age=3600")
    assert body_of(url) == b"version 1"  # cached for an hour
    created = cloudfront.create_distribution(DistributionConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": "", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "b", "DomainName": f"{bucket}.s3.us-east-1.amazonaws.com",
                                              "S3OriginConfig": {"OriginAccessIdentity": ""}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "b", "ViewerProtocolPolicy": "allow-all",
                                 "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                                 "MinTTL": 0},
    })
    cloudfront.create_invalidation(DistributionId=created["Distribution"]["Id"], InvalidationBatch={
        "Paths": {"Quantity": 1, "Items": [f"/{bucket}/app.js"]}, "CallerReference": uuid.uuid4().hex})
    deadline = time.monotonic() + 15
    while body_of(url) != b"version 2" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert body_of(url) == b"version 2"


def test_the_invalidation_feed_needs_a_signature(server: StratoServer) -> None:
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server.url}/_strato/cdn/invalidations?since=0", timeout=30)
    with refused.value as error:
        assert error.code == 403
