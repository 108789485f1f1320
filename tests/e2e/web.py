"""Plain HTTP as an anonymous web client sees strato (urllib, no signing), and the bucket
policy that lets such clients read a bucket."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


def get(url: str, host: str | None = None, method: str = "GET", body: bytes | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Status, lower-cased headers and body of any answer, refusals included."""
    request = urllib.request.Request(url, headers={**({"Host": host} if host else {}), **(headers or {})},
                                     method=method, data=body)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, {k.lower(): v for k, v in answer.headers.items()}, answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def public_read(s3: Any, bucket: str) -> None:
    """Let anyone GET the bucket's objects."""
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}]}))
