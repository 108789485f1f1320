"""The root ASGI app: admin paths, then dispatch by the service a request is signed for."""

from __future__ import annotations

import json
from urllib.parse import unquote

from strato import __version__
from strato.api.function_urls.hosts import FunctionUrlHosts
from strato.http.lane import LaneAnswer, LaneMatch, Reply, Shortcut
from strato.http.responses import send_body
from strato.http.types import ASGIApp, Message, Receive, Scope, Send
from strato.metrics import ResponseCounters


def service_of(scope: Scope) -> str:
    """The AWS service a request is signed for (its SigV4 credential scope); 's3' otherwise,
    unsigned requests and SigV2 included, as LocalStack dispatches."""
    credential = ""
    for name, value in scope["headers"]:
        if name == b"authorization":
            text = value.decode("latin-1")
            start = text.find("Credential=")
            if start >= 0:
                credential = text[start + 11 :].split(",", 1)[0]
            break
    if not credential:
        query: bytes = scope.get("query_string", b"")
        start = query.find(b"X-Amz-Credential=")
        if start >= 0:
            credential = unquote(query[start + 17 :].split(b"&", 1)[0].decode("latin-1"))
    parts = credential.split("/")
    return parts[3] if len(parts) == 5 else "s3"


def _no_lane(method: bytes, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    return False


class RootApp:
    """`taking`: services that can answer a lane request without ASGI (http/lane.py), and
    `lane_match` the requests the lane may read whole before any app sees them.
    `function_urls`: the hosts of function URLs and the app that answers them, before anything
    else (a URL's path is the function's, and its host is no S3 bucket)."""

    def __init__(self, services: dict[str, ASGIApp], counters: ResponseCounters,
                 taking: dict[str, Shortcut] | None = None,
                 function_urls: tuple[FunctionUrlHosts, ASGIApp] | None = None,
                 lane_match: LaneMatch = _no_lane) -> None:
        self.services = services
        self.counters = counters
        self.taking = taking or {}
        self.function_urls = function_urls
        self.lane_match = lane_match

    def _function_url(self, scope: Scope) -> ASGIApp | None:
        if self.function_urls is None:
            return None
        hosts, app = self.function_urls
        return app if hosts.url_id_of(scope) is not None else None

    def take(self, scope: Scope, body: bytes, reply: Reply) -> bool:
        """A lane request, taken by its service to answer directly; False when that service cannot."""
        if self._function_url(scope) is not None:
            return False
        service = service_of(scope)
        taker = self.taking.get(service)
        if taker is None:
            return False

        def counted(answer: LaneAnswer) -> None:
            self.counters.count(service, answer[0])
            reply(answer)

        return taker(scope, body, counted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = scope["path"]
        app = self._function_url(scope)
        if app is not None:
            service = "lambda"
        else:
            if path.startswith("/_strato/functions/"):
                service = "lambda"  # strato's own signed Lambda operations (a function's logs)
            elif path.startswith("/_strato/cdn/"):
                service = "cloudfront"  # strato's own signed CloudFront operations (invalidations to follow)
            elif path.startswith("/_strato/"):
                await self.admin(scope, send)
                return
            else:
                service = service_of(scope)
            app = self.services.get(service)

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.counters.count(service, int(message["status"]))
            await send(message)

        if app is not None:
            await app(scope, receive, counted)
            return
        body = json.dumps({"message": f"The {service} service is not available on this strato."}).encode()
        await send_body(counted, 501, [("content-type", "application/json"),
                                       ("x-amzn-errortype", "NotImplementedException")], body)

    async def admin(self, scope: Scope, send: Send) -> None:
        path = scope["path"]
        if path == "/_strato/health":
            body = json.dumps({"status": "ok", "version": __version__}).encode()
            await send_body(send, 200, [("content-type", "application/json")], body)
        elif path == "/_strato/metrics":
            text = self.counters.prometheus()
            await send_body(send, 200, [("content-type", "text/plain; version=0.0.4")], text.encode())
        else:
            await send_body(send, 404, [("content-type", "application/json")], b'{"message": "not found"}')
