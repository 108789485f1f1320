"""Numbers in requests are ASCII digits. A parameter holding another Unicode digit (`²`, which
Python's `str.isdigit` takes and `int()` refuses) is refused in the protocol's own form, or
ignored where a bad value is (a list's marker), never a 500."""

from __future__ import annotations

import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from tests.e2e.lambda_helpers import deployed
from tests.servers import StratoServer, sign_v4, signed_headers

TWO = "%C2%B2"  # ², percent-encoded


def fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers)) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.read()


@pytest.mark.parametrize(("path", "query"), [
    ("/{bucket}", f"list-type=2&max-keys={TWO}"),
    ("/", f"max-buckets={TWO}"),
    ("/{bucket}/key", f"partNumber={TWO}"),
    ("/{bucket}/key", f"uploadId=u&part-number-marker={TWO}"),
])
def test_s3_answers_invalid_argument(server: StratoServer, s3: Any, bucket: str, path: str, query: str) -> None:
    s3.put_object(Bucket=bucket, Key="key", Body=b"x")
    url = f"{server.url}{path.format(bucket=bucket)}?{query}"
    status, body = fetch(url, sign_v4("GET", url).headers)
    assert status == 400, body
    assert b"<Code>InvalidArgument</Code>" in body


def test_lambda_lists_ignore_such_a_marker_and_logs_refuse_such_a_size(server: StratoServer, lam: Any) -> None:
    with deployed(lam, "def handler(event, context):\n    return 1\n", Publish=True) as name:
        for path in (f"/2015-03-31/functions?FunctionVersion=ALL&Marker={name}%3A{TWO}",
                     f"/2015-03-31/functions/{name}/versions?Marker={TWO}"):
            url = f"{server.url}{path}"
            status, body = fetch(url, signed_headers("GET", url, "lambda"))
            assert status == 200, body
        url = f"{server.url}/_strato/functions/{name}/logs?bytes={TWO}"
        status, body = fetch(url, signed_headers("GET", url, "lambda"))
        assert status == 400, body
        assert b"InvalidParameterValueException" in body or b"bytes must be" in body


def test_a_function_urls_status_code_of_such_digits_is_a_bad_gateway(server: StratoServer, lam: Any) -> None:
    code = "def handler(event, context):\n    return {'statusCode': '\\u00b2', 'body': 'x'}\n"
    with deployed(lam, code) as name:
        url = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
        lam.add_permission(FunctionName=name, StatementId=f"p{uuid.uuid4().hex[:6]}",
                           Action="lambda:InvokeFunctionUrl", Principal="*", FunctionUrlAuthType="NONE")
        host = url.removeprefix("http://").rstrip("/")
        status, _ = fetch(f"{server.url}/", {"Host": host})
    assert status == 502
