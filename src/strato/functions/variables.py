"""The environment variables Lambda defines for a function's runtime.

https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime
Reserved names always win over the function's own Environment (which may not set them: the
Lambda API refuses that at CreateFunction); the others (TZ, LANG, PATH, LD_LIBRARY_PATH, the
language's module path, PWD, SHLVL and AWS_ENDPOINT_URL) are defaults the function may override.
Their values are those AWS Lambda's runtimes showed a function (LocalStack's recorded
test_lambda_common introspection answers): an OS-only runtime has no /var/lang; a managed one's
runtime is started by a shell script working in /var/task, which leaves PWD and SHLVL behind.
"""

from __future__ import annotations

import datetime
import uuid

from .records import FunctionVersion

Credentials = tuple[str, str] | tuple[str, str, str]  # access key, secret key[, session token]

TASK_ROOT = "/var/task"
RUNTIME_DIR = "/var/runtime"
_OS_PATH = "/usr/local/bin:/usr/bin/:/bin:/opt/bin"
_OS_LIBRARY_PATH = "/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib"
_OS_ONLY = {"TZ": ":UTC", "LANG": "en_US.UTF-8", "PATH": _OS_PATH, "LD_LIBRARY_PATH": _OS_LIBRARY_PATH}
_MANAGED = {**_OS_ONLY, "PATH": f"/var/lang/bin:{_OS_PATH}", "LD_LIBRARY_PATH": f"/var/lang/lib:{_OS_LIBRARY_PATH}",
            "PWD": TASK_ROOT, "SHLVL": "0"}


def _defaults(runtime: str) -> dict[str, str]:
    """The overridable variables of `runtime` as Lambda sets them."""
    if runtime.startswith("provided"):
        return dict(_OS_ONLY)
    if runtime.startswith("nodejs"):
        major = runtime.removeprefix("nodejs").split(".")[0]
        modules = f"/opt/nodejs/node{major}/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules"
        return {**_MANAGED, "NODE_PATH": f"{modules}:{RUNTIME_DIR}:{TASK_ROOT}"}
    return {**_MANAGED, "PYTHONPATH": RUNTIME_DIR}


def function_variables(function: FunctionVersion, region: str, endpoint_url: str | None,
                       credentials: Credentials | None) -> dict[str, str]:
    """Every variable but the two that differ per environment (see `environment_variables`)."""
    variables = _defaults(function.runtime)
    if endpoint_url is not None:
        variables["AWS_ENDPOINT_URL"] = endpoint_url
    variables.update(function.environment)
    variables.update({
        "AWS_LAMBDA_FUNCTION_NAME": function.name,
        "AWS_LAMBDA_FUNCTION_VERSION": function.version,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_size),
        "AWS_LAMBDA_LOG_GROUP_NAME": function.logging.group_of(function.name),
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "_HANDLER": function.handler,
        "LAMBDA_TASK_ROOT": TASK_ROOT,
        "LAMBDA_RUNTIME_DIR": RUNTIME_DIR,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
    })
    if function.logging.json:  # what the runtime clients format and filter their records by
        variables["AWS_LAMBDA_LOG_FORMAT"] = "JSON"
        variables["AWS_LAMBDA_LOG_LEVEL"] = function.logging.application_log_level or "INFO"
    if not function.runtime.startswith("provided"):  # not defined for OS-only runtimes
        variables["AWS_EXECUTION_ENV"] = f"AWS_Lambda_{function.runtime}"
    if credentials is not None:
        variables["AWS_ACCESS_KEY_ID"] = credentials[0]
        variables["AWS_SECRET_ACCESS_KEY"] = credentials[1]
        if len(credentials) == 3:
            variables["AWS_SESSION_TOKEN"] = credentials[2]
    return variables


def environment_variables(base: dict[str, str], function: FunctionVersion, runtime_api: str,
                          stream: str | None = None) -> dict[str, str]:
    """One environment's variables: its Runtime API address and its log stream (its own, unless
    it goes on with `stream`), named as Lambda names it: YYYY/MM/DD/[VERSION]GUID in the
    function's own group, and in a group it names (which other functions may share)
    YYYY/MM/DD/NAME[VERSION][GUID] (log_dirs.function_streams).
    https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-loggroups.html"""
    if stream is None:
        today = datetime.datetime.now(datetime.UTC)
        guid = uuid.uuid4().hex
        if function.logging.log_group is None:
            stream = f"{today:%Y/%m/%d}/[{function.version}]{guid}"
        else:
            stream = f"{today:%Y/%m/%d}/{function.name}[{function.version}][{guid}]"
    return {**base, "AWS_LAMBDA_RUNTIME_API": runtime_api, "AWS_LAMBDA_LOG_STREAM_NAME": stream}
