"""Building function packages and deploying them through boto3, for the Lambda tests."""

from __future__ import annotations

import contextlib
import io
import json
import sys
import textwrap
import time
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from strato.functions.runtimes import available_runtimes
from tests.servers import StratoServer, signed_headers

RUNTIME = f"python{sys.version_info[0]}.{sys.version_info[1]}"
# The host's Node.js runtime (nodejsN.x), or None where it has no node recent enough.
NODE = next((runtime for runtime in sorted(available_runtimes()) if runtime.startswith("nodejs")), None)
needs_node = pytest.mark.skipif(NODE is None, reason="no node (18 or later) on this host")
ROLE = "arn:aws:iam::000000000000:role/strato-tests"


def package(files: dict[str, str | bytes], executable: tuple[str, ...] = (), links: tuple[str, ...] = ()) -> bytes:
    """A zip of `files` (text is dedented); names in `executable` get mode 0755, names in
    `links` are symbolic links to their content (as `zip -y` stores them)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            data = textwrap.dedent(content).encode() if isinstance(content, str) else content
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 if name in links else 0o100755 if name in executable else 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def deploy(client: Any, code: str, *, handler: str = "handler.handler", runtime: str = RUNTIME,
           files: dict[str, str | bytes] | None = None, executable: tuple[str, ...] = (), **config: Any) -> str:
    """Create a function from one handler.py (plus `files`); returns its unique name."""
    name = f"fn-{uuid.uuid4().hex[:12]}"
    zipped = package({"handler.py": code, **(files or {})}, executable)
    client.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                           Code={"ZipFile": zipped}, **config)
    return name


def call(lam: Any, name: str, payload: object = None, **kwargs: Any) -> tuple[dict[str, Any], Any]:
    """An invoke of `name` with `payload` (None: {}): the answer and its decoded payload."""
    answer = lam.invoke(FunctionName=name, Payload=json.dumps(payload if payload is not None else {}), **kwargs)
    return answer, json.loads(answer["Payload"].read() or b"null")


@contextlib.contextmanager
def deployed(client: Any, code: str, **options: Any) -> Iterator[str]:
    """`deploy` for the length of a with block: the function is deleted after it."""
    name = deploy(client, code, **options)
    try:
        yield name
    finally:
        client.delete_function(FunctionName=name)


def python_bootstrap(answer: str) -> str:
    """A custom runtime's bootstrap, in Python, that speaks the Runtime API itself and answers
    each event with the JSON of the expression `answer` (which may use `event` and `os`)."""
    return f"""#!{sys.executable}
import json, os, urllib.request
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen(api + "next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(response)
    body = json.dumps({answer}).encode()
    urllib.request.urlopen(urllib.request.Request(api + request_id + "/response", data=body, method="POST")).read()
"""


ECHO = package({"handler.py": "def handler(event, context):\n    return event\n"})


@contextlib.contextmanager
def published_with_alias(client: Any, prefix: str) -> Iterator[str]:
    """An echo function with version 1 published and an alias `live` on it, deleted after."""
    name = f"{prefix}-{uuid.uuid4().hex[:12]}"
    client.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                           Code={"ZipFile": ECHO}, Publish=True)
    client.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    try:
        yield name
    finally:
        with contextlib.suppress(client.exceptions.ResourceNotFoundException):
            client.delete_function(FunctionName=name)


SETTLING = 20.0  # seconds the server gets to finish what an answered invocation left behind


def until(condition: Any, what: str) -> None:
    """Wait for something the server does after it answered (bounded, never asserted on time)."""
    deadline = time.monotonic() + SETTLING
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def function_log(server: StratoServer, name: str) -> str:
    """The function's log as the admin endpoint reads it back (a SigV4-signed GET): a REPORT
    line may be written just after the invocation was answered."""
    url = f"{server.url}/_strato/functions/{name}/logs"
    with urllib.request.urlopen(urllib.request.Request(url, headers=signed_headers("GET", url, "lambda"))) as answer:
        return str(answer.read().decode())
