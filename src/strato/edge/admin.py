"""The edge's own paths: /_strato/health, /_strato/metrics, and POST /_strato/purge.

Purging needs the edge's admin token (`Authorization: Bearer <token>`): a random token made
at the first start and kept in the cache directory (mode 0600), so that nobody on the
network can empty the cache.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import time
from pathlib import Path

from strato import __version__, jsontext
from strato.edge.metrics import Observed
from strato.edge.proxy import EdgeProxy
from strato.edge.viewer import ViewerRules
from strato.http.bodies import BodyTooLarge, collect, stream
from strato.http.responses import send_body
from strato.http.types import Receive, Scope, Send

MAX_PURGE_BODY = 1024 * 1024


def admin_token(cache_dir: Path) -> str:
    """The edge's admin token, created (0600) on first use, or again when its file holds none (a
    crash as it was made leaves it empty, and an empty token would admit anyone): hexadecimal,
    so that it never starts with '-' (which `strato edge purge --token TOKEN` would take for an
    option). It is written to a temporary file, fsync'd and renamed into place."""
    path = cache_dir / "admin-token"
    with contextlib.suppress(FileNotFoundError):
        kept = path.read_text().strip()
        if kept:
            return kept
    token = secrets.token_hex(32)
    cache_dir.mkdir(parents=True, exist_ok=True)
    temporary = cache_dir / "admin-token.tmp"
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return token


class EdgeAdmin:
    """The edge's own paths; every other request goes to the proxy, through the viewer rules of
    its distribution (`trust_forwarded_proto`: see strato.edge.viewer)."""

    def __init__(self, proxy: EdgeProxy, token: str, *, trust_forwarded_proto: bool = False) -> None:
        self.proxy = proxy
        self.viewer = ViewerRules(proxy, trust_forwarded_proto=trust_forwarded_proto)
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/_strato/"):
            await self.viewer(scope, receive, send)
            return
        answer = Observed(time.perf_counter())
        try:
            await self._own(scope, receive, answer.counting(send, head=scope["method"] == "HEAD"))
        finally:  # logged as every answer is, counted in no distribution's bytes
            self.proxy.observe_answer(scope, None, answer)

    async def _own(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"], scope["method"]
        if path == "/_strato/health":
            await _json(send, 200, {"status": "ok", "version": __version__, "entries": len(self.proxy.store)})
        elif path == "/_strato/metrics":
            await send_body(send, 200, [("content-type", "text/plain; version=0.0.4")], self._metrics().encode())
        elif path == "/_strato/purge" and method == "POST":
            await self._purge(scope, receive, send)
        elif path == "/_strato/purge":  # RFC 9110 15.5.6
            await _json(send, 405, {"message": "purging is a POST"}, [("allow", "POST")])
        else:
            await _json(send, 404, {"message": "not found"})

    async def _purge(self, scope: Scope, receive: Receive, send: Send) -> None:
        given = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        if not hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode()):
            await _json(send, 403, {"message": "purging needs the edge's admin token"})
            return
        try:
            payload = jsontext.loads(await collect(stream(receive, None), MAX_PURGE_BODY))
            paths = payload["paths"]
            host = payload.get("host")
            if not isinstance(paths, list) or not all(isinstance(p, str) and p.startswith("/") for p in paths):
                raise ValueError("paths must be a list of paths starting with /")
            if host is not None and not isinstance(host, str):
                raise ValueError("host must be a string")
            inner = [p for p in paths if "*" in p[:-1]]
            if inner:  # CloudFront's rule for invalidation paths
                raise ValueError(f"a * may only end a path: {', '.join(inner)}")
        except (ValueError, KeyError, TypeError, BodyTooLarge) as exc:
            await _json(send, 400, {"message": f"expected {{\"paths\": [\"/path\", \"/prefix/*\"]}}: {exc}"})
            return
        removed = sum(self.proxy.store.purge(p, host) for p in paths)
        await self.proxy.store.settled()  # answered once a crash cannot bring them back
        await _json(send, 200, {"purged": removed})

    def _metrics(self) -> str:
        store = self.proxy.store
        lines = self.proxy.metrics.exposition()
        lines += [
            "# TYPE strato_edge_collapsed_requests_total counter",
            f"strato_edge_collapsed_requests_total {self.proxy.flights.joined}",
            "# TYPE strato_edge_cache_bytes gauge", f"strato_edge_cache_bytes {store.used}",
            "# TYPE strato_edge_cache_entries gauge", f"strato_edge_cache_entries {len(store)}",
        ]
        return "\n".join(lines) + "\n"


async def _json(send: Send, status: int, payload: object, headers: list[tuple[str, str]] | None = None) -> None:
    await send_body(send, status, [("content-type", "application/json"), *(headers or [])],
                    json.dumps(payload).encode())
