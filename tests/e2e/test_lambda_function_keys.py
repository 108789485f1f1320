"""A function's code holds keys of its own, not the root's: with them it uses S3 and invokes
functions, as an execution role would let it, and cannot read other functions' code, manage
functions or distributions, or sign as another function."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from typing import Any

import pytest
from botocore.exceptions import ClientError

from strato.auth import sigv4
from tests.conftest import make_client
from tests.e2e.client_errors import error_of, refused
from tests.e2e.lambda_helpers import deploy
from tests.e2e.web import get
from tests.servers import ACCESS_KEY, REGION, SECRET_KEY, StratoServer, raw_exchange, request_head

# The handler runs each call in the event with plain boto3 (the function's own keys, from its
# environment) and answers what came back: the result, or the error's code and status.
CALLER = """
import os
import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

def handler(event, context):
    if event.get("keys"):
        return {"access": os.environ["AWS_ACCESS_KEY_ID"], "secret": os.environ["AWS_SECRET_ACCESS_KEY"]}
    client = boto3.client(event["service"], config=Config(retries={"max_attempts": 1}))
    try:
        answer = getattr(client, event["operation"])(**event.get("params", {}))
    except ClientError as e:
        return {"error": e.response["Error"]["Code"], "status": e.response["ResponseMetadata"]["HTTPStatusCode"],
                "message": e.response["Error"].get("Message", "")}
    if "Payload" in answer:
        answer["Payload"] = answer["Payload"].read().decode()
    if "Body" in answer:
        answer["Body"] = answer["Body"].read().decode()
    return {"ok": {key: str(value) if key == "LastModified" else value
                   for key, value in answer.items() if key != "ResponseMetadata"}}
"""


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return make_client(server.url, "lambda", retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)


@pytest.fixture(scope="module")
def caller(lam: Any) -> str:
    return deploy(lam, CALLER, Timeout=30)


def lambda_client_with(server: StratoServer, access: str, secret: str) -> Any:
    return make_client(server.url, "lambda", access_key=access, secret_key=secret,
                       retries={"max_attempts": 1, "mode": "standard"})


def run(lam: Any, name: str, event: dict[str, Any]) -> Any:
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    result = json.loads(answer["Payload"].read())
    assert "FunctionError" not in answer, result
    return result


def test_a_function_is_given_its_own_keys_not_the_roots(lam: Any, caller: str) -> None:
    keys = run(lam, caller, {"keys": True})
    assert keys["access"] == f"STRATOFN{caller}"
    assert keys["access"] != ACCESS_KEY
    assert keys["secret"] != SECRET_KEY


SEEKER = """
import os

def handler(event, context):
    wanted, found = event["wanted"].encode(), []
    for pid in (name for name in os.listdir("/proc") if name.isdigit()):
        for part in ("environ", "cmdline"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as readable:
                    if wanted in readable.read():
                        found.append(f"/proc/{pid}/{part}")
            except OSError:
                pass
    return {"found": found, "processes": len(os.listdir("/proc"))}
"""


def test_no_process_a_function_can_see_holds_the_root_secret(lam: Any) -> None:
    seen = run(lam, deploy(lam, SEEKER), {"wanted": SECRET_KEY})
    assert seen["found"] == []


def test_with_its_keys_a_function_writes_and_reads_objects(lam: Any, caller: str, s3: Any, bucket: str) -> None:
    put = {"Bucket": bucket, "Key": "by-function", "Body": "hello from a function"}
    assert "ok" in run(lam, caller, {"service": "s3", "operation": "put_object", "params": put})
    read = run(lam, caller, {"service": "s3", "operation": "get_object",
                             "params": {"Bucket": bucket, "Key": "by-function"}})
    assert read["ok"]["Body"] == "hello from a function"
    assert s3.get_object(Bucket=bucket, Key="by-function")["Body"].read() == b"hello from a function"


PRESIGNER = """
import io
import boto3
from boto3.s3.transfer import TransferConfig

def handler(event, context):
    s3 = boto3.client("s3")
    chunks = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
    s3.upload_fileobj(io.BytesIO(b"m" * (6 * 1024 * 1024)), event["bucket"], "multipart", Config=chunks)
    s3.put_object(Bucket=event["bucket"], Key="shared", Body=b"shared by a function")
    return {"get": s3.generate_presigned_url("get_object", Params={"Bucket": event["bucket"], "Key": "shared"}),
            "put": s3.generate_presigned_url("put_object", Params={"Bucket": event["bucket"], "Key": "given"})}
"""


def test_a_functions_presigned_urls_and_multipart_uploads_work(lam: Any, s3: Any, bucket: str,
                                                               server: StratoServer) -> None:
    urls = run(lam, deploy(lam, PRESIGNER, Timeout=30), {"bucket": bucket})
    assert "AWSAccessKeyId=STRATOFN" in urls["get"]  # boto3 presigns with SigV2 for this endpoint
    with urllib.request.urlopen(urls["get"]) as answer:
        assert answer.read() == b"shared by a function"
    stranger = http.client.HTTPConnection("127.0.0.1", server.port)  # sends no Content-Type: SigV2 signs it
    stranger.request("PUT", urls["put"].removeprefix(server.url), body=b"given by a stranger")
    assert stranger.getresponse().status == 200
    stranger.close()
    assert s3.get_object(Bucket=bucket, Key="given")["Body"].read() == b"given by a stranger"
    multipart = s3.head_object(Bucket=bucket, Key="multipart")
    assert (multipart["ContentLength"], multipart["ETag"].endswith('-2"')) == (6 * 1024 * 1024, True)


def test_with_its_keys_a_function_invokes_another(lam: Any, caller: str) -> None:
    echo = deploy(lam, "def handler(event, context):\n    return {'echoed': event}\n")
    answer = run(lam, caller, {"service": "lambda", "operation": "invoke",
                               "params": {"FunctionName": echo, "Payload": json.dumps({"n": 7})}})
    assert json.loads(answer["ok"]["Payload"]) == {"echoed": {"n": 7}}


def test_its_keys_may_stream_an_invoke_but_not_read_or_publish_layers(lam: Any, caller: str,
                                                                     server: StratoServer) -> None:
    keys = run(lam, caller, {"keys": True})
    posing = lambda_client_with(server, keys["access"], keys["secret"])
    echo = deploy(lam, "def handler(event, context):\n    return {'echoed': event}\n")
    events = list(posing.invoke_with_response_stream(FunctionName=echo, Payload=b'{"n": 8}')["EventStream"])
    assert json.loads(b"".join(e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e)) == \
        {"echoed": {"n": 8}}
    assert refused(posing.list_layers)[:2] == ("AccessDeniedException", 403)
    assert refused(posing.publish_layer_version, LayerName="mine", Content={"ZipFile": b"PK"})[:2] == \
        ("AccessDeniedException", 403)


@pytest.mark.parametrize(("operation", "params"), [
    ("get_function", {"FunctionName": "{other}"}),
    ("get_function_configuration", {"FunctionName": "{other}"}),
    ("list_functions", {}),
    ("update_function_configuration", {"FunctionName": "{other}", "Timeout": 9}),
    ("delete_function", {"FunctionName": "{other}"}),
])
def test_a_function_cannot_read_or_manage_functions(lam: Any, caller: str, operation: str,
                                                    params: dict[str, Any]) -> None:
    other = deploy(lam, "def handler(event, context):\n    return 1\n", Timeout=5)
    named = {key: value.format(other=other) if isinstance(value, str) else value for key, value in params.items()}
    refusal = run(lam, caller, {"service": "lambda", "operation": operation, "params": named})
    assert (refusal["error"], refusal["status"]) == ("AccessDeniedException", 403)
    assert f"function {caller} is not authorized to perform: lambda:" in refusal["message"]
    configuration = lam.get_function_configuration(FunctionName=other)
    assert configuration["Timeout"] == 5  # nothing changed


def test_a_function_cannot_manage_distributions(lam: Any, caller: str) -> None:
    refusal = run(lam, caller, {"service": "cloudfront", "operation": "list_distributions"})
    assert (refusal["error"], refusal["status"]) == ("AccessDenied", 403)
    assert "cloudfront:ListDistributions" in refusal["message"]


def test_one_functions_keys_do_not_sign_as_another(lam: Any, caller: str, server: StratoServer) -> None:
    keys = run(lam, caller, {"keys": True})
    other = deploy(lam, "def handler(event, context):\n    return 1\n")
    posing = lambda_client_with(server, f"STRATOFN{other}", keys["secret"])
    code, status, _ = refused(posing.invoke, FunctionName=other, Payload=b"{}")
    assert (code, status) == ("InvalidSignatureException", 403)


def test_a_key_naming_no_possible_function_is_unknown(server: StratoServer) -> None:
    stranger = lambda_client_with(server, "STRATOFN" + "x" * 65, "whatever")
    code, status, _ = refused(stranger.list_functions)
    assert (code, status) == ("UnrecognizedClientException", 403)


def presigned_status(server: StratoServer, access: str, secret: str, service: str, path: str,
                     params: list[tuple[str, str]]) -> tuple[int, bytes]:
    query = sigv4.presign("GET", f"127.0.0.1:{server.port}", path.encode(), params, access_key=access, secret=secret,
                          region=REGION, service=service, now=time.time(), expires=60, s3_path=False)
    return get(f"{server.url}{path}?{query}")[::2]


@pytest.mark.parametrize(("service", "path", "params", "action"), [
    ("lambda", "/_strato/functions/{other}/logs", [], "lambda:GetFunctionLogs"),
    ("lambda", "/2015-03-31/functions/{other}/code", [("Qualifier", "$LATEST")], "lambda:GetFunctionCode"),
    ("cloudfront", "/_strato/cdn/invalidations", [("since", "0")], "cloudfront:FollowInvalidations"),
])
def test_strato_own_signed_paths_refuse_a_functions_keys(lam: Any, caller: str, server: StratoServer, service: str,
                                                          path: str, params: list[tuple[str, str]],
                                                          action: str) -> None:
    keys = run(lam, caller, {"keys": True})
    other = deploy(lam, "def handler(event, context):\n    return 1\n")
    lam.invoke(FunctionName=other, Payload=b"{}")  # it has a log
    target = path.format(other=other)
    assert presigned_status(server, ACCESS_KEY, SECRET_KEY, service, target, params)[0] == 200  # the root's URL
    status, body = presigned_status(server, keys["access"], keys["secret"], service, target, params)
    assert status == 403
    assert f"function {caller} is not authorized to perform: {action}".encode() in body


@pytest.mark.parametrize(("method", "path"), [("POST", "/2015-03-31/functions"),
                                              ("PUT", "/2015-03-31/functions/any/code")])
@pytest.mark.parametrize("exists", [True, False])
def test_a_package_upload_signed_with_a_function_key_is_refused_before_its_body(
        server: StratoServer, caller: str, method: str, path: str, exists: bool) -> None:
    # Anyone can name a function's key (STRATOFN<name>) without its secret: such a request must
    # not wait for a 60 MB body while holding one of the few package upload slots.
    name = caller if exists else "never-created"
    date = "20260101T000000Z"
    head = request_head(method, path, {
        "Host": f"127.0.0.1:{server.port}", "X-Amz-Date": date, "Content-Length": "60000000",
        "Authorization": f"AWS4-HMAC-SHA256 Credential=STRATOFN{name}/{date[:8]}/{REGION}/lambda/aws4_request, "
                         f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}",
    })
    answer = raw_exchange(server.port, head)  # the head alone: no body is ever sent
    if exists:
        assert (answer.status, answer.headers["x-amzn-errortype"]) == (403, "AccessDeniedException")
        assert f"function {name} is not authorized to perform: lambda:".encode() in answer.body
    else:  # the keys of a function that does not exist are no keys at all
        assert (answer.status, answer.headers["x-amzn-errortype"]) == (403, "UnrecognizedClientException")


def test_a_deleted_functions_keys_stop_working(lam: Any, s3: Any, server: StratoServer) -> None:
    doomed = deploy(lam, CALLER, Timeout=30)
    keys = run(lam, doomed, {"keys": True})
    as_function = make_client(server.url, access_key=keys["access"], secret_key=keys["secret"])
    as_function.list_buckets()
    lam.delete_function(FunctionName=doomed)
    with pytest.raises(ClientError) as caught:
        as_function.list_buckets()
    assert error_of(caught) == ("InvalidAccessKeyId", 403)


def test_a_function_cannot_read_the_logs_of_functions(lam: Any, caller: str) -> None:
    noisy = deploy(lam, "def handler(event, context):\n    print('a line only its owner may read')\n    return 1\n")
    lam.invoke(FunctionName=noisy, Payload=b"{}")
    refusal = run(lam, caller, {"service": "logs", "operation": "filter_log_events",
                                "params": {"logGroupName": f"/aws/lambda/{noisy}"}})
    assert "a line only its owner may read" not in json.dumps(refusal)
    assert refusal.get("error") == "AccessDeniedException"
    assert f"function {caller} is not authorized to perform: logs:FilterLogEvents" in refusal["message"]
