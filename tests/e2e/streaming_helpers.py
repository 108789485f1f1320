"""A custom runtime that answers in Lambda's streaming response mode, and a gate that lets a test
say when it may write its next chunk: a chunk the test has read before allowing the next one
reached the caller before the function wrote any more (no clock involved)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager

# The bootstrap answers each event {"chunks": [...], "gate": port, "end": "ok" | "error" | "hang",
# "content_type": ...} (through a function URL: the request's body) with a chunked POST
# .../response with Lambda-Runtime-Function-Response-Mode: streaming, one HTTP chunk per item;
# before each item but the first it waits for a line from the test's gate (when there is one).
# "error" ends with the error trailers, "hang" never ends.
STREAMING_BOOTSTRAP = f"""#!{sys.executable}
import base64, json, os, socket, time, urllib.request
host, port = os.environ["AWS_LAMBDA_RUNTIME_API"].split(":")
api = "/2018-06-01/runtime/invocation/"
while True:
    with urllib.request.urlopen("http://" + host + ":" + port + api + "next") as response:
        request_id = response.headers["Lambda-Runtime-Aws-Request-Id"]
        event = json.load(response)
    if "requestContext" in event:  # through a function URL: the request's body is the event
        event = json.loads(event["body"])
    gate = socket.create_connection(("127.0.0.1", event["gate"])).makefile("rb") if event.get("gate") else None
    out = socket.create_connection((host, int(port)))
    out.sendall((f"POST {{api}}{{request_id}}/response HTTP/1.1\\r\\nHost: runtime\\r\\n"
                 "Lambda-Runtime-Function-Response-Mode: streaming\\r\\nTransfer-Encoding: chunked\\r\\n"
                 f"Content-Type: {{event.get('content_type', 'text/plain')}}\\r\\n"
                 "Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\\r\\n"
                 "\\r\\n").encode())
    for index, text in enumerate(event["chunks"]):
        if index and gate is not None:
            gate.readline()
        data = text.encode("latin-1")
        out.sendall(b"%x\\r\\n%s\\r\\n" % (len(data), data))
    end = event.get("end", "ok")
    if end == "hang":
        time.sleep(600)
    trailers = b""
    if end == "error":
        document = json.dumps({{"errorType": "Custom.Broken", "errorMessage": "it broke mid-stream"}}).encode()
        trailers = (b"Lambda-Runtime-Function-Error-Type: Custom.Broken\\r\\n"
                    b"Lambda-Runtime-Function-Error-Body: " + base64.b64encode(document) + b"\\r\\n")
    out.sendall(b"0\\r\\n" + trailers + b"\\r\\n")
    out.recv(65536)
    out.close()
"""


class Gate:
    """The test's side of the gate: `open()` lets the function write its next chunk."""

    def __init__(self) -> None:
        self._listening = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listening.getsockname()[1]
        self._connection: socket.socket | None = None

    def open(self) -> None:
        if self._connection is None:
            self._listening.settimeout(30)
            self._connection, _ = self._listening.accept()
        self._connection.sendall(b"\n")

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._listening.close()


@contextmanager
def gate() -> Iterator[Gate]:
    opened = Gate()
    try:
        yield opened
    finally:
        opened.close()
