"""strato's runtimes answer what AWS Lambda answered to LocalStack's multi-runtime scenarios.

LocalStack's tests/aws/services/lambda_/test_lambda_common.py deploys one small function per
scenario and runtime and keeps what real AWS answered in test_lambda_common.snapshot.json
(recorded 20-03-2024). Each test here deploys a function doing what that scenario's does (written
again here), invokes it as that test does on a real `strato serve` through boto3, and compares
the answer with the one recorded under the snapshot key it names. Where the snapshot's
transformers put a placeholder (ids, dates, keys, account, region, trace ids, stack traces), the
value's form is checked; everything else must equal the recorded value, except what strato knowingly
answers otherwise (ABSENT, VARYING, EXTRA and CREATED_OTHERWISE, each with its reason; see
docs/lambda-compatibility.md, "Parity with AWS's recorded answers").
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import NODE, ROLE, RUNTIME, needs_node, package
from tests.servers import REGION, StratoServer

SNAPSHOT = "tests/aws/services/lambda_/test_lambda_common.py::TestLambdaRuntimesCommon::"
PROVIDED = "provided.al2023"
# The recorded runtime each host runtime is compared with (the host's Python and node versions
# may differ from the recorded ones: their names are put in place of those in the recording).
RECORDED_AS = {RUNTIME: "python3.11", PROVIDED: PROVIDED, **({NODE: "nodejs20.x"} if NODE else {})}
RUNTIMES = [RUNTIME, pytest.param(NODE, id=NODE or "nodejs", marks=needs_node)]
ACCOUNT = "000000000000"

# The environment a function saw (test_introspection_invoke, invocation_result_payload.environment).
_RECORDED_EVERYWHERE = {
    "AWS_ACCESS_KEY_ID": "<aws-access-key-id:1>",
    "AWS_DEFAULT_REGION": "<region>",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
    "AWS_LAMBDA_FUNCTION_NAME": "<function-name:1>",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/<function-name:1>",
    "AWS_LAMBDA_LOG_STREAM_NAME": "<log-stream-name:1>",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_REGION": "<region>",
    "AWS_SECRET_ACCESS_KEY": "<aws-secret-access-key:1>",
    "AWS_SESSION_TOKEN": "<aws-session-token:1>",
    "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
    "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
    "LAMBDA_RUNTIME_DIR": "/var/runtime",
    "LAMBDA_TASK_ROOT": "/var/task",
    "LANG": "en_US.UTF-8",
    "LD_LIBRARY_PATH": "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "PATH": "/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "TEST_KEY": "TEST_VAL",
    "TZ": ":UTC",
    "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129",
    "_AWS_XRAY_DAEMON_PORT": "2000",
    "_X_AMZN_TRACE_ID": "<x-amzn-trace-id:1>",
}
_RECORDED_MANAGED = {
    "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib",
    "PATH": "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin",
    "PWD": "/var/task",
    "SHLVL": "0",
}
RECORDED_ENVIRONMENT = {
    "python3.11": {**_RECORDED_EVERYWHERE, **_RECORDED_MANAGED, "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
                   "PYTHONPATH": "/var/runtime", "_HANDLER": "handler.handler"},
    "nodejs20.x": {**_RECORDED_EVERYWHERE, **_RECORDED_MANAGED, "AWS_EXECUTION_ENV": "AWS_Lambda_nodejs20.x",
                   "NODE_PATH": "/opt/nodejs/node20/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules"
                                ":/var/runtime:/var/task",
                   "_HANDLER": "index.handler"},
    PROVIDED: {**_RECORDED_EVERYWHERE, "_HANDLER": "function.handler"},
}
ABSENT = {  # recorded variables strato does not set, and why
    "AWS_SESSION_TOKEN": "a function's keys are long-lived keys of its own (no STS), so there is no token",
    "AWS_XRAY_CONTEXT_MISSING": "strato runs no X-Ray daemon",
    "AWS_XRAY_DAEMON_ADDRESS": "strato runs no X-Ray daemon",
    "_AWS_XRAY_DAEMON_ADDRESS": "strato runs no X-Ray daemon",
    "_AWS_XRAY_DAEMON_PORT": "strato runs no X-Ray daemon",
}
VARYING = {  # recorded 127.0.0.1:9001; each environment has its own Runtime API listener on a free port
    "AWS_LAMBDA_RUNTIME_API": r"127\.0\.0\.1:\d+",
}
# What the invoked context said (invocation_result_payload.ctx). Node's scenario reads
# context.memoryLimitInMb, which Lambda's context spells memoryLimitInMB: AWS recorded no such key.
_RECORDED_CONTEXT = {
    "aws_request_id": "<uuid:2>",
    "function_name": "<function-name:1>",
    "function_version": "$LATEST",
    "invoked_function_arn": "arn:<partition>:lambda:<region>:111111111111:function:<function-name:1>",
    "log_group_name": "/aws/lambda/<function-name:1>",
    "log_stream_name": "<log-stream-name:1>",
}
RECORDED_CONTEXT: dict[str, dict[str, Any]] = {
    "python3.11": {**_RECORDED_CONTEXT, "memory_limit_in_mb": "1024",
                   "remaining_time_in_millis": "<remaining-time-in-millis>"},
    "nodejs20.x": {**_RECORDED_CONTEXT, "remaining_time_in_millis": "<remaining-time-in-millis>"},
    PROVIDED: {**_RECORDED_CONTEXT, "deadline": "<deadline:1>", "memory_limit_in_mb": 1024},
}
# The document an uncaught error gave the caller (test_uncaught_exception_invoke, error_result.Payload).
RECORDED_ERROR = {
    "python3.11": {"errorMessage": "Failed: some_error_msg", "errorType": "Exception", "requestId": "<uuid:2>",
                   "stackTrace": "<stack-trace>"},
    "nodejs20.x": {"errorType": "Error", "errorMessage": "Error: some_error_msg", "trace": "<stack-trace>"},
    PROVIDED: {"errorType": "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send + core::marker::Sync>",
               "errorMessage": 'Error: "some_error_msg"'},
}
CREATED_OTHERWISE = {  # recorded CreateFunction fields strato answers otherwise (it is Active at once)
    "State": "Active", "StateReason": None, "StateReasonCode": None, "LastUpdateStatus": "Successful",
}
ECHOED = [{"hello": "world"},
          {"hello": "'\" some other ''\"\" quotes, a emoji \U0001f973 and some brackets {[}}[([]))"},
          {"hello": "obi wan!" * 128 * 1024 * 5},
          True, False, None, [1, 2], 1]

PATTERNS = {  # what each of the snapshot's placeholders stands for here
    "aws-access-key-id": r"STRATOFN[\w.-]+",
    "aws-secret-access-key": r"[\w-]+",
    "log-stream-name": r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}",
    "x-amzn-trace-id": r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}(;\S+)?",
    "uuid": r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    "remaining-time-in-millis": r"\d+",
    "deadline": r"\d{13}",
    "code-size": r"\d+",
    "code-sha256": r"[A-Za-z0-9+/]{43}=",
    "resource": r"[\w.-]+",
    "date": r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000",  # recorded as "date"
}
PLACEHOLDER = re.compile(r"<([a-z0-9-]+)(?::\d+)?>")

# The scenarios' functions.
PYTHON_ECHO = "def handler(event, context):\n    return event\n"
NODE_ECHO = "exports.handler = async (event) => event;\n"
SHELL_ECHO = """\
#!/bin/bash
# Each event back as its answer, over the Runtime API with curl.
set -eu
invocation="http://$AWS_LAMBDA_RUNTIME_API/2018-06-01/runtime/invocation"
headers="$(mktemp)"
while true; do
  event="$(curl -sS -D "$headers" "$invocation/next")"
  id="$(grep -i '^lambda-runtime-aws-request-id:' "$headers" | cut -d: -f2 | tr -d '[:space:]')"
  printf '%s' "$event" | curl -sS -o /dev/null --data-binary @- "$invocation/$id/response"
done
"""
PYTHON_INTROSPECTION = """
import json
import os


def handler(event, context):
    print(json.dumps(event))
    ctx = {name: getattr(context, name) for name in (
        "function_name", "function_version", "invoked_function_arn", "memory_limit_in_mb", "aws_request_id",
        "log_group_name", "log_stream_name")}
    ctx["remaining_time_in_millis"] = context.get_remaining_time_in_millis()
    return {"environment": dict(os.environ), "ctx": ctx, "packages": []}
"""
NODE_INTROSPECTION = """
exports.handler = async (event, context) => ({
  environment: process.env,
  ctx: {
    function_name: context.functionName, function_version: context.functionVersion,
    invoked_function_arn: context.invokedFunctionArn, memory_limit_in_mb: context.memoryLimitInMb,
    aws_request_id: context.awsRequestId, log_group_name: context.logGroupName,
    log_stream_name: context.logStreamName, remaining_time_in_millis: context.getRemainingTimeInMillis(),
  },
  packages: [],
});
"""
PYTHON_UNCAUGHT = """
import json


def handler(event, context):
    print(json.dumps(event))
    raise Exception(f"Failed: {event.get('error_msg')}")
"""
NODE_UNCAUGHT = "exports.handler = async (event) => {\n  throw new Error(`Error: ${event.error_msg}`);\n};\n"
# The recorded custom runtime is Rust (lambda_runtime); this one does what that client does: it
# sets _X_AMZN_TRACE_ID from each invocation and posts a failure as {errorType, errorMessage}.
_CUSTOM_RUNTIME = """\
#!/usr/bin/env python3
import http.client
import json

# The variables it was started with, as the Rust client reads them (Python's own start adds
# LC_CTYPE to os.environ where LANG names a locale the host lacks).
with open("/proc/self/environ", "rb") as started:
    env = dict(item.decode().split("=", 1) for item in started.read().split(b"\\0") if item)
{answer}
api = http.client.HTTPConnection(env["AWS_LAMBDA_RUNTIME_API"])
while True:
    api.request("GET", "/2018-06-01/runtime/invocation/next")
    invocation = api.getresponse()
    event = json.loads(invocation.read())
    env["_X_AMZN_TRACE_ID"] = invocation.getheader("Lambda-Runtime-Trace-Id", "")
    outcome, document = answer(event, invocation.getheader)
    request_id = invocation.getheader("Lambda-Runtime-Aws-Request-Id")
    api.request("POST", f"/2018-06-01/runtime/invocation/{{request_id}}/{{outcome}}", json.dumps(document),
                {{"Lambda-Runtime-Function-Error-Type": "unhandled"}} if outcome == "error" else {{}})
    api.getresponse().read()
"""
CUSTOM_INTROSPECTION = _CUSTOM_RUNTIME.format(answer="""
def answer(event, header):
    return "response", {"environment": dict(env), "packages": [], "ctx": {
        "function_name": env["AWS_LAMBDA_FUNCTION_NAME"], "function_version": env["AWS_LAMBDA_FUNCTION_VERSION"],
        "invoked_function_arn": header("Lambda-Runtime-Invoked-Function-Arn"),
        "memory_limit_in_mb": int(env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]),
        "aws_request_id": header("Lambda-Runtime-Aws-Request-Id"), "log_group_name": env["AWS_LAMBDA_LOG_GROUP_NAME"],
        "log_stream_name": env["AWS_LAMBDA_LOG_STREAM_NAME"], "deadline": header("Lambda-Runtime-Deadline-Ms")}}
""")
CUSTOM_UNCAUGHT = _CUSTOM_RUNTIME.format(answer="""
def answer(event, header):
    return "error", {"errorType": "&alloc::boxed::Box<dyn core::error::Error + core::marker::Send"
                                  " + core::marker::Sync>",
                     "errorMessage": "Error: " + json.dumps(event["error_msg"])}
""")
# The recorded function lists SQS queues; strato has no SQS, so this one lists S3 buckets.
PYTHON_ENDPOINT_INJECTION = """
import boto3

client = boto3.client("s3")  # no endpoint, no keys


def handler(event, context):
    client.list_buckets()
    return "ok"
"""
SOURCES: dict[tuple[str, str | None], tuple[str, dict[str, str | bytes]]] = {  # -> handler, zip files
    ("echo", RUNTIME): ("handler.handler", {"handler.py": PYTHON_ECHO}),
    ("echo", NODE): ("index.handler", {"index.js": NODE_ECHO}),
    ("echo", PROVIDED): ("function.handler", {"bootstrap": SHELL_ECHO}),
    ("introspection", RUNTIME): ("handler.handler", {"handler.py": PYTHON_INTROSPECTION}),
    ("introspection", NODE): ("index.handler", {"index.js": NODE_INTROSPECTION}),
    ("introspection", PROVIDED): ("function.handler", {"bootstrap": CUSTOM_INTROSPECTION}),
    ("uncaughtexception", RUNTIME): ("handler.handler", {"handler.py": PYTHON_UNCAUGHT}),
    ("uncaughtexception", NODE): ("index.handler", {"index.js": NODE_UNCAUGHT}),
    ("uncaughtexception", PROVIDED): ("function.handler", {"bootstrap": CUSTOM_UNCAUGHT}),
    ("endpointinjection", RUNTIME): ("handler.handler", {"handler.py": PYTHON_ENDPOINT_INJECTION}),
}


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return make_client(server.url, "lambda", read_timeout=60, retries={"total_max_attempts": 1, "mode": "standard"})


class Deployed:
    """One scenario's function on the server, created as LocalStack's multiruntime fixture does."""

    def __init__(self, lam: Any, scenario: str, runtime: str, **config: Any) -> None:
        handler, files = SOURCES[scenario, runtime]
        self.name = f"common-{scenario}-{uuid.uuid4().hex[:10]}"
        self.runtime = runtime
        self.recorded_runtime = RECORDED_AS[runtime]
        self.created = lam.create_function(FunctionName=self.name, Runtime=runtime, Role=ROLE, Handler=handler,
                                           Code={"ZipFile": package(files, ("bootstrap",))}, **config)

    def key(self, test: str) -> str:
        return f"{SNAPSHOT}{test}[{self.recorded_runtime}]"

    def differences(self, recorded: Any, actual: Any, where: str = "$") -> list[str]:
        """Where `actual` departs from `recorded`, read with this function's names."""
        if isinstance(recorded, dict):
            if not isinstance(actual, dict):
                return [f"{where}: {actual!r} recorded {recorded!r}"]
            if recorded.keys() != actual.keys():
                return [f"{where}: without {sorted(recorded.keys() - actual.keys())}, "
                        f"with {sorted(actual.keys() - recorded.keys())} not recorded"]
            return [line for name in recorded for line in self.differences(recorded[name], actual[name],
                                                                            f"{where}.{name}")]
        if recorded == "<stack-trace>":
            fits = isinstance(actual, list) and all(isinstance(line, str) for line in actual)
            return [] if fits else [f"{where}: {actual!r} is no stack trace"]
        counted = isinstance(actual, int) and not isinstance(actual, bool) and PLACEHOLDER.fullmatch(str(recorded))
        if isinstance(recorded, str) and (isinstance(actual, str) or counted):
            fits = re.fullmatch(self._pattern(recorded), str(actual)) is not None
        else:
            fits = recorded == actual
        return [] if fits else [f"{where}: {actual!r} recorded {recorded!r}"]

    def _pattern(self, recorded: str) -> str:
        text = recorded.replace(self.recorded_runtime, self.runtime).replace("111111111111", ACCOUNT)
        if self.recorded_runtime.startswith("nodejs"):
            text = text.replace(f"node{_major(self.recorded_runtime)}", f"node{_major(self.runtime)}")
        named = {"function-name": re.escape(self.name), "region": re.escape(REGION), "partition": "aws"}
        pieces = PLACEHOLDER.split(text)  # literal, placeholder kind, literal, ...
        return "".join(re.escape(piece) if i % 2 == 0 else named.get(piece, PATTERNS.get(piece, "(?!)"))
                       for i, piece in enumerate(pieces))

    def assert_created_as_recorded(self, test: str, environment: dict[str, str] | None) -> None:
        """The CreateFunction answer recorded for `test`, but for CREATED_OTHERWISE."""
        handler = RECORDED_ENVIRONMENT[self.recorded_runtime]["_HANDLER"]
        recorded: dict[str, Any] = {
            "Architectures": ["x86_64"], "CodeSha256": "<code-sha256>", "CodeSize": "<code-size>", "Description": "",
            "EphemeralStorage": {"Size": 512},
            "FunctionArn": "arn:<partition>:lambda:<region>:111111111111:function:<function-name:1>",
            "FunctionName": "<function-name:1>", "Handler": handler, "LastModified": "<date>",
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": "/aws/lambda/<function-name:1>"},
            "MemorySize": 1024, "PackageType": "Zip", "RevisionId": "<uuid:1>",
            "Role": "arn:<partition>:iam::111111111111:role/<resource:1>", "Runtime": self.recorded_runtime,
            "RuntimeVersionConfig": {"RuntimeVersionArn": "arn:<partition>:lambda:<region>::runtime:<resource:2>"},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"}, "Timeout": 3,
            "TracingConfig": {"Mode": "PassThrough"}, "Version": "$LATEST",
            **({"Environment": {"Variables": environment}} if environment else {}),
        }
        created = {name: value for name, value in self.created.items() if name not in CREATED_OTHERWISE}
        assert created.pop("ResponseMetadata")["HTTPStatusCode"] == 201
        assert self.differences(recorded, created) == [], self.key(test)
        assert {name: self.created.get(name) for name in CREATED_OTHERWISE} == CREATED_OTHERWISE


def _major(runtime: str) -> str:
    return runtime.removeprefix("nodejs").split(".")[0]


@pytest.fixture
def deployed(lam: Any) -> Iterator[list[Deployed]]:
    functions: list[Deployed] = []
    yield functions
    for function in functions:
        lam.delete_function(FunctionName=function.name)


def deploy(lam: Any, deployed: list[Deployed], scenario: str, runtime: str, **config: Any) -> Deployed:
    function = Deployed(lam, scenario, runtime, **config)
    deployed.append(function)
    return function


def invoke(lam: Any, name: str, payload: bytes | None = None) -> tuple[dict[str, Any], Any]:
    answer = lam.invoke(FunctionName=name, **({} if payload is None else {"Payload": payload}))
    return answer, json.loads(answer.pop("Payload").read())


@pytest.mark.parametrize("runtime", [*RUNTIMES, PROVIDED])
def test_echo_invoke_returns_every_payload_as_sent(lam: Any, deployed: list[Deployed], runtime: str) -> None:
    """test_echo_invoke[RUNTIME]: AWS recorded nothing but that each payload came back unchanged,
    with no function error, and that no payload at all is the event {}."""
    function = deploy(lam, deployed, "echo", runtime, MemorySize=1024, Timeout=5)
    for payload in ECHOED:
        answer, echoed = invoke(lam, function.name, json.dumps(payload).encode())
        assert (answer["StatusCode"], answer.get("FunctionError"), echoed) == (200, None, payload), function.key(
            "test_echo_invoke")
    answer, echoed = invoke(lam, function.name)
    assert (answer["StatusCode"], answer.get("FunctionError"), echoed) == (200, None, {})


@pytest.mark.parametrize("runtime", [*RUNTIMES, PROVIDED])
def test_introspection_invoke_shows_the_recorded_environment_and_context(
        lam: Any, server: StratoServer, deployed: list[Deployed], runtime: str) -> None:
    """test_introspection_invoke[RUNTIME]: the variables and context the function sees, invoked
    by name and by its ARN qualified with $LATEST."""
    function = deploy(lam, deployed, "introspection", runtime, MemorySize=1024,
                      Environment={"Variables": {"TEST_KEY": "TEST_VAL"}})
    key = function.key("test_introspection_invoke")
    function.assert_created_as_recorded("test_introspection_invoke", {"TEST_KEY": "TEST_VAL"})
    recorded_environment = {name: value for name, value in RECORDED_ENVIRONMENT[function.recorded_runtime].items()
                            if name not in ABSENT and name not in VARYING}
    recorded_context = dict(RECORDED_CONTEXT[function.recorded_runtime])
    for name, qualifier in ((function.name, ""), (function.created["FunctionArn"] + ":$LATEST", ":$LATEST")):
        answer, seen = invoke(lam, name, b'{"simple": "payload"}')
        assert (answer["StatusCode"], answer.get("FunctionError")) == (200, None), key
        environment = seen["environment"]
        assert environment.pop("AWS_ENDPOINT_URL") == server.url  # EXTRA: boto3 inside reaches strato
        for variable, form in VARYING.items():
            assert re.fullmatch(form, environment.pop(variable)), (key, variable)
        recorded_context["invoked_function_arn"] = _RECORDED_CONTEXT["invoked_function_arn"] + qualifier
        assert function.differences({"environment": recorded_environment, "ctx": recorded_context,
                                     "packages": []}, seen) == [], key


@pytest.mark.parametrize("runtime", [*RUNTIMES, PROVIDED])
def test_uncaught_exception_invoke_answers_the_recorded_error_document(
        lam: Any, deployed: list[Deployed], runtime: str) -> None:
    """test_uncaught_exception_invoke[RUNTIME]: an error nothing caught is the runtime's own
    document, with Unhandled and the version that ran."""
    function = deploy(lam, deployed, "uncaughtexception", runtime, MemorySize=1024)
    function.assert_created_as_recorded("test_uncaught_exception_invoke", None)
    answer, document = invoke(lam, function.name, b'{"error_msg": "some_error_msg"}')
    recorded = {"ExecutedVersion": "$LATEST", "FunctionError": "Unhandled", "StatusCode": 200,
                "Payload": RECORDED_ERROR[function.recorded_runtime]}
    seen = {**{name: answer.get(name) for name in ("ExecutedVersion", "FunctionError", "StatusCode")},
            "Payload": document}
    assert function.differences(recorded, seen) == [], function.key("test_uncaught_exception_invoke")


def test_manual_endpoint_injection_lets_an_unconfigured_sdk_client_reach_strato(lam: Any,
                                                                                 deployed: list[Deployed]) -> None:
    """TestLambdaCallingLocalstack::test_manual_endpoint_injection[python3.11] (recorded: no
    function error): a client made with no endpoint and no keys works, through AWS_ENDPOINT_URL
    and the function's own keys. The recorded function lists SQS queues; strato has no SQS, so
    this one lists S3 buckets."""
    function = deploy(lam, deployed, "endpointinjection", RUNTIME, MemorySize=1024, Timeout=15)
    answer, result = invoke(lam, function.name)
    assert ("FunctionError" not in answer, result) == (True, "ok"), answer
