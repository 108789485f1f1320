"""Invoking functions through boto3 against a real `strato serve`: results, errors, limits, logs."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import NODE, RUNTIME, call, deploy, function_log, needs_node, python_bootstrap, until
from tests.servers import StratoServer

ECHO = """
def handler(event, context):
    return event
"""


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return make_client(server.url, "lambda", retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)


def test_a_function_echoes_its_event(lam: Any) -> None:
    name = deploy(lam, ECHO)
    answer, result = call(lam, name, {"hello": ["world", 1, None]})
    assert answer["StatusCode"] == 200
    assert answer["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in answer, result
    assert result == {"hello": ["world", 1, None]}


def test_the_context_describes_the_function_and_the_request(lam: Any) -> None:
    name = deploy(lam, """
        def handler(event, context):
            return {
                "name": context.function_name,
                "version": context.function_version,
                "memory": context.memory_limit_in_mb,
                "request_id": context.aws_request_id,
                "arn": context.invoked_function_arn,
                "remaining": context.get_remaining_time_in_millis(),
                "log_group": context.log_group_name,
            }
    """, MemorySize=256, Timeout=7)
    answer, result = call(lam, name)
    assert result["name"] == name
    assert result["version"] == "$LATEST"
    assert int(result["memory"]) == 256
    assert result["request_id"] == answer["ResponseMetadata"]["RequestId"]
    assert result["arn"].endswith(f":function:{name}")
    assert 0 < result["remaining"] <= 7000
    assert result["log_group"] == f"/aws/lambda/{name}"


def test_the_environment_holds_lambdas_variables_and_the_functions_own(lam: Any, server: StratoServer) -> None:
    name = deploy(lam, """
        import os
        def handler(event, context):
            return {key: os.environ.get(key) for key in event["keys"]}
    """, Environment={"Variables": {"GREETING": "hi"}})
    keys = ["GREETING", "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION",
            "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_ENDPOINT_URL", "AWS_EXECUTION_ENV", "AWS_ACCESS_KEY_ID"]
    _, found = call(lam, name, {"keys": keys})
    assert found["GREETING"] == "hi"
    assert found["AWS_LAMBDA_FUNCTION_NAME"] == name
    assert found["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert found["AWS_REGION"] == "us-east-1"
    assert found["LAMBDA_TASK_ROOT"] == "/var/task"
    assert found["_HANDLER"] == "handler.handler"
    assert found["AWS_ENDPOINT_URL"] == server.url
    assert found["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"
    assert found["AWS_ACCESS_KEY_ID"]


def test_a_raising_handler_is_an_unhandled_function_error(lam: Any) -> None:
    name = deploy(lam, """
        def handler(event, context):
            raise ValueError("bad input: " + event["what"])
    """)
    answer, error = call(lam, name, {"what": "nothing"})
    assert answer["StatusCode"] == 200
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "bad input: nothing"
    assert isinstance(error["stackTrace"], list)


def test_an_environment_is_reused_between_invokes(lam: Any) -> None:
    name = deploy(lam, """
        import os
        calls = 0
        def handler(event, context):
            global calls
            calls += 1
            return {"pid_ns_init": os.getpid(), "calls": calls}
    """)
    _, first = call(lam, name)
    _, second = call(lam, name)
    assert second["calls"] == first["calls"] + 1


def test_a_configuration_change_starts_a_fresh_environment(lam: Any) -> None:
    name = deploy(lam, """
        import os
        calls = 0
        def handler(event, context):
            global calls
            calls += 1
            return {"calls": calls, "mode": os.environ.get("MODE")}
    """)
    call(lam, name)
    call(lam, name)
    lam.update_function_configuration(FunctionName=name, Environment={"Variables": {"MODE": "new"}})
    _, after = call(lam, name)
    assert after == {"calls": 1, "mode": "new"}


def test_a_permission_or_a_published_version_keeps_the_environment_warm(lam: Any) -> None:
    """Both renew $LATEST's RevisionId, neither its code nor its configuration: Lambda's warm
    environment serves the next invoke."""
    name = deploy(lam, """
        calls = 0
        def handler(event, context):
            global calls
            calls += 1
            return calls
    """)
    call(lam, name)
    lam.add_permission(FunctionName=name, StatementId="from-s3", Action="lambda:InvokeFunction",
                       Principal="s3.amazonaws.com")
    assert call(lam, name)[1] == 2
    lam.publish_version(FunctionName=name)
    assert call(lam, name)[1] == 3


def test_a_timeout_stops_the_environment_and_says_so(lam: Any) -> None:
    name = deploy(lam, """
        import time
        def handler(event, context):
            if event.get("sleep"):
                time.sleep(30)
            return "awake"
    """, Timeout=1)
    started = time.monotonic()
    answer, error = call(lam, name, {"sleep": True})
    assert time.monotonic() - started < 20
    assert answer["FunctionError"] == "Unhandled"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]
    _, again = call(lam, name, {})
    assert again == "awake"


def test_a_crashing_runtime_is_a_runtime_exit_error(lam: Any) -> None:
    name = deploy(lam, """
        import os
        def handler(event, context):
            os._exit(3)
    """)
    answer, error = call(lam, name)
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ExitError"
    assert "exit status 3" in error["errorMessage"]


def test_a_runtime_that_exits_with_status_0_gives_no_reason(lam: Any) -> None:
    """Lambda words a clean exit that answered nothing as its Runtime API does (no 'exit status 0')."""
    name = deploy(lam, """
        import os
        def handler(event, context):
            os._exit(0)
    """)
    answer, error = call(lam, name, LogType="Tail")
    request_id = answer["ResponseMetadata"]["RequestId"]
    message = f"RequestId: {request_id} Error: Runtime exited without providing a reason"
    assert error == {"errorType": "Runtime.ExitError", "errorMessage": message}
    assert f"{message}\nRuntime.ExitError\n" in base64.b64decode(answer["LogResult"]).decode()


def test_running_out_of_memory_is_reported_and_the_service_survives(lam: Any) -> None:
    name = deploy(lam, """
        def handler(event, context):
            hoard = []
            while True:
                hoard.append(bytearray(16 * 1024 * 1024))
    """, MemorySize=128, Timeout=30)
    answer, error = call(lam, name)
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] in {"Runtime.OutOfMemory", "MemoryError", "Runtime.ExitError"}
    echo = deploy(lam, ECHO)
    assert call(lam, echo, {"still": "here"})[1] == {"still": "here"}


def test_an_unimportable_handler_is_an_init_error(lam: Any) -> None:
    name = deploy(lam, ECHO, handler="missing_module.handler")
    answer, error = call(lam, name)
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert "missing_module" in error["errorMessage"]


@pytest.mark.parametrize(("files", "executable", "reason"), [
    ({}, (), r"Couldn't find valid bootstrap\(s\): \[\S*/bootstrap /opt/bootstrap\]"),
    ({"bootstrap": "#!/bin/sh\n"}, (), r"fork/exec \S*/bootstrap: permission denied"),
    ({"bootstrap": "not a program\n"}, ("bootstrap",), r"fork/exec \S*/bootstrap: exec format error")])
def test_a_custom_runtime_whose_bootstrap_cannot_run_is_an_invalid_entrypoint(
        lam: Any, server: StratoServer, files: dict[str, str | bytes], executable: tuple[str, ...],
        reason: str) -> None:
    """Lambda's own error, worded as its others are (RequestId: X Error: ...), not the exit that follows."""
    name = deploy(lam, ECHO, runtime="provided.al2023", files=files, executable=executable)
    answer, error = call(lam, name)
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert answer["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.InvalidEntrypoint"
    assert re.fullmatch(f"RequestId: {request_id} Error: {reason}", error["errorMessage"]), error
    until(lambda: f"REPORT RequestId: {request_id}" in function_log(server, name), "the REPORT line")
    log = function_log(server, name)
    assert "\tPhase: init\tStatus: error\tError Type: Runtime.InvalidEntrypoint\n" in log
    assert re.search(f"\nSTART RequestId: {request_id} .*\nRequestId: {request_id} Error: {reason}\n"
                     f"Runtime.InvalidEntrypoint\nEND RequestId: {request_id}\n", log), log


def test_log_tail_carries_the_invocations_output_and_report(lam: Any) -> None:
    name = deploy(lam, """
        def handler(event, context):
            print("hello from the handler")
            return 1
    """)
    answer, _ = call(lam, name, LogType="Tail")
    log = base64.b64decode(answer["LogResult"]).decode()
    request_id = answer["ResponseMetadata"]["RequestId"]
    assert f"START RequestId: {request_id} Version: $LATEST" in log
    assert "hello from the handler" in log
    assert f"END RequestId: {request_id}" in log
    assert f"REPORT RequestId: {request_id}\tDuration: " in log
    assert "\tMemory Size: 128 MB\tMax Memory Used: " in log


def test_log_tail_is_at_most_4_kb_of_utf_8_whatever_the_handler_wrote(lam: Any) -> None:
    """Bytes that are not UTF-8 are replaced (as CloudWatch Logs does) without taking the tail
    past Lambda's 4 KB, and the tail begins at a character's start."""
    name = deploy(lam, """
        import sys
        def handler(event, context):
            sys.stdout.buffer.write("\\u20ac".encode() * 2000 + b"\\xff" * 1000 + b"\\n")
            sys.stdout.buffer.flush()
            return 1
    """)
    answer, _ = call(lam, name, LogType="Tail")
    tail = base64.b64decode(answer["LogResult"])
    assert len(tail) <= 4096
    text = tail.decode()
    assert text.startswith("\u20ac\u20ac")
    assert "\u20ac" + "\ufffd" * 1000 + "\nEND RequestId: " in text
    assert text.endswith("\t\n")


def test_strato_logs_reads_a_functions_log_back(lam: Any, server: StratoServer) -> None:
    name = deploy(lam, """
        def handler(event, context):
            print("remember", event["n"])
            return 1
    """)
    call(lam, name, {"n": 41})
    call(lam, name, {"n": 42})
    out = subprocess.run([sys.executable, "-m", "strato", "logs", name, "--data-dir", str(server.data_dir)],
                         capture_output=True, text=True, timeout=30, check=True).stdout
    assert "remember 41" in out
    assert "remember 42" in out
    assert out.count("REPORT RequestId: ") == 2


def test_strato_logs_of_a_function_with_no_logs_says_so(server: StratoServer) -> None:
    """As `aws logs tail` of a log group that does not exist: an error, not an empty success."""
    done = subprocess.run([sys.executable, "-m", "strato", "logs", "no-such-function", "--data-dir",
                           str(server.data_dir)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "no logs for function no-such-function" in done.stderr


def test_reserved_concurrency_throttles_the_excess(lam: Any) -> None:
    name = deploy(lam, """
        import time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return "done"
    """, Timeout=30)
    lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
    results: list[Any] = []
    slow = threading.Thread(target=lambda: results.append(call(lam, name, {"sleep": 3})))
    slow.start()
    time.sleep(1.0)
    with pytest.raises(lam.exceptions.TooManyRequestsException) as raised:
        call(lam, name, {})
    assert raised.value.response["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    slow.join()
    assert results[0][1] == "done"


def test_an_event_invoke_writes_into_s3_with_plain_boto3(lam: Any, s3: Any, bucket: str) -> None:
    name = deploy(lam, """
        import boto3
        def handler(event, context):
            boto3.client("s3").put_object(Bucket=event["bucket"], Key=event["key"], Body=b"written by a function")
            return "ok"
    """, Timeout=30)
    answer = lam.invoke(FunctionName=name, InvocationType="Event",
                        Payload=json.dumps({"bucket": bucket, "key": "from-lambda"}))
    assert answer["StatusCode"] == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
        if listed:
            break
        time.sleep(0.2)
    assert s3.get_object(Bucket=bucket, Key="from-lambda")["Body"].read() == b"written by a function"


def test_a_custom_runtime_speaks_the_runtime_api(lam: Any) -> None:
    bootstrap = python_bootstrap('{"custom": True, "got": event, "handler": os.environ["_HANDLER"]}')
    name = deploy(lam, ECHO, runtime="provided.al2023", handler="my.handler", files={"bootstrap": bootstrap},
                  executable=("bootstrap",))
    _, result = call(lam, name, {"x": 1})
    assert result == {"custom": True, "got": {"x": 1}, "handler": "my.handler"}


def test_a_bootstrap_for_lambdas_sh_runs_under_bash_as_on_amazon_linux(lam: Any) -> None:
    """Lambda's /bin/sh is bash: a `#!/bin/sh` bootstrap written for it (`source`, `function`,
    `[[ ]]`, `set -o pipefail`, as AWS's custom runtime tutorial writes) runs unchanged."""
    bootstrap = f"""#!/bin/sh
set -euo pipefail
source "$LAMBDA_TASK_ROOT/names.sh"
function shell_name {{ echo "$SHELL_NAME"; }}
[[ -n "$_HANDLER" ]]
exec {sys.executable} "$LAMBDA_TASK_ROOT/loop.py" "$(shell_name)"
"""
    loop = """import json, os, sys, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
    body = json.dumps({"sourced": sys.argv[1]}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST")).read()
"""
    name = deploy(lam, ECHO, runtime="provided.al2023", handler="my.handler", executable=("bootstrap",),
                  files={"bootstrap": bootstrap, "loop.py": loop, "names.sh": "SHELL_NAME=${BASH_VERSION:+bash}\n"})
    _, result = call(lam, name, {})
    assert result == {"sourced": "bash"}


WRAPPER = """#!/bin/bash
export WRAPPER_VAR="set by the wrapper"
exec "$@"
"""


@pytest.mark.parametrize("runtime", [RUNTIME, pytest.param(NODE, marks=needs_node)])
def test_a_wrapper_script_starts_the_runtime_as_lambda_does(lam: Any, runtime: str | None) -> None:
    """AWS_LAMBDA_EXEC_WRAPPER names a script the python and nodejs runtimes are started through:
    it gets the runtime's command line, sets what it likes and execs it."""
    files: dict[str, str | bytes] = {"wrapper.sh": WRAPPER, "index.js": """
        let calls = 0;
        exports.handler = async () => {
          calls += 1;
          console.log("node here");
          return [process.env.WRAPPER_VAR, calls];
        };
    """}
    name = deploy(lam, """
        import os
        calls = 0
        def handler(event, context):
            global calls
            calls += 1
            print("python here")
            return [os.environ.get("WRAPPER_VAR"), calls]
    """, runtime=str(runtime), handler="handler.handler" if runtime == RUNTIME else "index.handler",
                  files=files, executable=("wrapper.sh",),
                  Environment={"Variables": {"AWS_LAMBDA_EXEC_WRAPPER": "/var/task/wrapper.sh"}})
    results = [call(lam, name, {}, LogType="Tail") for _ in range(3)]
    assert [result for _, result in results] == [["set by the wrapper", n] for n in (1, 2, 3)]  # one environment
    log = base64.b64decode(results[-1][0]["LogResult"]).decode()
    assert ("python here" if runtime == RUNTIME else "node here") in log


def test_awslambdaric_runs_unchanged_as_a_custom_runtime(lam: Any) -> None:
    bootstrap = f"#!/bin/sh\nexec {sys.executable} -m awslambdaric handler.handler\n"
    name = deploy(lam, """
        def handler(event, context):
            return {"ric": True, "request_id": context.aws_request_id, "event": event}
    """, runtime="provided.al2023", handler="handler.handler", files={"bootstrap": bootstrap},
                  executable=("bootstrap",))
    answer, result = call(lam, name, {"y": 2})
    assert result == {"ric": True, "request_id": answer["ResponseMetadata"]["RequestId"], "event": {"y": 2}}


def test_a_function_cannot_read_the_data_dir(lam: Any, server: StratoServer) -> None:
    name = deploy(lam, """
        import os
        def handler(event, context):
            found = {}
            for path in event["paths"]:
                try:
                    found[path] = sorted(os.listdir(path))[:5]
                except OSError as exc:
                    found[path] = type(exc).__name__
            return found
    """)
    data = server.data_dir.resolve()
    paths = [str(data), str(data / "functions"), str(data / "credentials.json")]
    _, found = call(lam, name, {"paths": paths})
    for path in paths:
        assert not isinstance(found[path], list) or found[path] == [], (path, found[path])


def test_a_function_cannot_see_another_functions_tmp(lam: Any) -> None:
    writer = deploy(lam, """
        import os
        def handler(event, context):
            with open("/tmp/secret", "w") as f:
                f.write("mine")
            return os.getpid()
    """)
    reader = deploy(lam, """
        import os
        def handler(event, context):
            return {"tmp": os.listdir("/tmp"), "uid": os.getuid()}
    """)
    call(lam, writer)
    _, seen = call(lam, reader)
    assert "secret" not in seen["tmp"]
    assert seen["uid"] != 0


def test_the_aws_cli_invokes_a_function(lam: Any, server: StratoServer, tmp_path: Path) -> None:
    from tests.e2e.test_awscli import Aws

    name = deploy(lam, ECHO)
    aws = Aws(server, tmp_path / "home")
    out = tmp_path / "out.json"
    meta = aws.json("lambda", "invoke", "--function-name", name, "--payload", '{"cli": true}', out)
    assert meta["StatusCode"] == 200
    assert json.loads(out.read_text()) == {"cli": True}


def test_deleting_a_function_stops_its_warm_environments(lam: Any, server: StratoServer) -> None:
    name = deploy(lam, """
        import os
        def handler(event, context):
            return os.getuid()
    """)
    _, uid = call(lam, name)

    def environment_processes() -> list[psutil.Process]:
        found = []
        for process in psutil.Process(server.pid).children(recursive=True):
            with contextlib.suppress(psutil.NoSuchProcess):
                if process.uids().real == uid:
                    found.append(process)
        return found

    assert environment_processes(), "the warm environment runs under its own uid"
    lam.delete_function(FunctionName=name)
    deadline = time.monotonic() + 20
    while environment_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert environment_processes() == []


def test_a_functions_log_can_be_read_over_http_with_a_signed_request(lam: Any, server: StratoServer) -> None:
    name = deploy(lam, """
        def handler(event, context):
            print("over http", event["n"])
            return 1
    """)
    call(lam, name, {"n": 7})
    until(lambda: "REPORT RequestId: " in function_log(server, name), "the REPORT line")
    assert "over http 7" in function_log(server, name)
    url = f"{server.url}/_strato/functions/{name}/logs"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url)
    with refused.value as error:
        assert error.code == 403
