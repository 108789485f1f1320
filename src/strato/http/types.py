"""ASGI type aliases shared by every app in strato."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def client_host(scope: Scope) -> str:
    """The client's address as the server gives it ("" when it gives none: a Unix socket)."""
    client = scope.get("client")
    return str(client[0]) if client else ""
