"""An ASGI middleware for `Expect: 100-continue` answered without reading the body."""

from __future__ import annotations

from strato.http.types import ASGIApp, Message, Receive, Scope, Send


class ExpectContinueGuard:
    """A final answer to `Expect: 100-continue` sent before the app asked for the body (an
    auth or routing error, say) means the client never sends that body, so the connection
    cannot carry another request (RFC 9110 10.1.1). uvicorn keeps it alive unless told:
    this adds `connection: close` to such answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not any(
            name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"]
        ):
            await self.app(scope, receive, send)
            return
        body_requested = False

        async def tracked_receive() -> Message:
            nonlocal body_requested
            body_requested = True
            return await receive()

        async def guarded_send(message: Message) -> None:
            if message["type"] == "http.response.start" and not body_requested:
                headers = list(message.get("headers", []))
                if all(name != b"connection" for name, _ in headers):
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        await self.app(scope, tracked_receive, guarded_send)
