"""The default distribution (`http://edge/<bucket>/<key>`) serves what a bucket policy lets
anyone read, and only to the viewers it lets: an answer a policy's conditions gave one viewer
(its Referer, User-Agent, address, protocol, the time) is never stored and given to another."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.web import get, public_read
from tests.servers import StratoServer


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
