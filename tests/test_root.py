"""The root app's dispatch: a function URL's host goes to the function URL app before anything
else routes the request (its path is the function's, and its host is no S3 bucket)."""

from __future__ import annotations

import asyncio

from strato.api.function_urls.hosts import FunctionUrlHosts
from strato.http.types import Message, Receive, Scope, Send
from strato.metrics import ResponseCounters
from strato.root import RootApp

URL_ID = "0123456789abcdefghijklmnopqrstuv"


class Recording:
    """An ASGI app that answers 200 and remembers it was called."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def dispatch(host: str, path: str) -> tuple[Recording, Recording, Recording]:
    s3, lam, urls = Recording(), Recording(), Recording()
    root = RootApp({"s3": s3, "lambda": lam}, ResponseCounters(),
                   function_urls=(FunctionUrlHosts("us-east-1", ("strato.test",), 9000), urls))
    scope: Scope = {"type": "http", "method": "GET", "path": path, "query_string": b"",
                    "headers": [(b"host", host.encode())]}

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        pass

    asyncio.run(root(scope, receive, send))
    return s3, lam, urls


def test_a_function_url_host_goes_to_the_function_url_app_whatever_the_path() -> None:
    for path in ("/", "/_strato/health", "/2015-03-31/functions/f/invocations"):
        s3, lam, urls = dispatch(f"{URL_ID}.lambda-url.us-east-1.strato.test:9000", path)
        assert (s3.paths, lam.paths, urls.paths) == ([], [], [path])


def test_a_function_url_host_is_recognised_in_any_case() -> None:
    s3, lam, urls = dispatch(f"{URL_ID.upper()}.LAMBDA-URL.US-EAST-1.STRATO.TEST:9000", "/")
    assert (s3.paths, lam.paths, urls.paths) == ([], [], ["/"])


def test_other_hosts_go_to_s3_as_before() -> None:
    for host in ("bucket.strato.test", f"{URL_ID}.lambda-url.eu-west-1.strato.test", "127.0.0.1:9000"):
        s3, _, urls = dispatch(host, "/key")
        assert (s3.paths, urls.paths) == (["/key"], [])
