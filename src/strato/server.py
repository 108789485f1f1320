"""Composition root: builds the engines, mounts the apps, runs the workers, one shutdown path."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import socket
import sys
from collections import Counter
from collections.abc import Coroutine
from typing import Any
from urllib.parse import unquote

import uvicorn

from strato import __version__
from strato.api.s3.app import S3App
from strato.api.s3.call import S3Settings
from strato.api.s3.errors import S3Error
from strato.auth.credentials import Identity, StaticCredentials, load_or_create_root
from strato.config import Settings
from strato.http.protocol import GuardedHttpProtocol
from strato.http.responses import send_body
from strato.http.types import Message, Receive, Scope, Send
from strato.storage.engine import ObjectStore

log = logging.getLogger("strato")


def service_of(scope: Scope) -> str:
    """The AWS service a request is signed for (its SigV4 credential scope); 's3' otherwise."""
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


class RootApp:
    """Dispatches admin paths and, by credential scope, each AWS service."""

    def __init__(self, s3: S3App) -> None:
        self.s3 = s3
        self.responses: Counter[tuple[str, int]] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            return
        if scope["type"] != "http":
            return
        if scope["path"].startswith("/_strato/"):
            await self.admin(scope, send)
            return
        service = service_of(scope)
        expects_continue = any(
            name == b"expect" and value.lower() == b"100-continue" for name, value in scope["headers"]
        )
        body_requested = False

        async def tracked_receive() -> Message:
            nonlocal body_requested
            body_requested = True
            return await receive()

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.responses[(service, int(message["status"]))] += 1
                headers = list(message.get("headers", []))
                if expects_continue and not body_requested and all(n != b"connection" for n, _ in headers):
                    # A final answer to `Expect: 100-continue` before asking for the body (an auth
                    # or routing error, say): the client will not send it, so the connection cannot
                    # carry another request (RFC 9110 10.1.1). uvicorn keeps it alive unless told.
                    message = {**message, "headers": [*headers, (b"connection", b"close")]}
            await send(message)

        if service == "s3":
            await self.s3(scope, tracked_receive, counted)
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
            lines = ["# TYPE strato_http_responses_total counter"]
            lines += [f'strato_http_responses_total{{service="{svc}",status="{status}"}} {count}'
                      for (svc, status), count in sorted(self.responses.items())]
            text = "\n".join(lines) + "\n"
            await send_body(send, 200, [("content-type", "text/plain; version=0.0.4")], text.encode())
        else:
            await send_body(send, 404, [("content-type", "application/json")], b'{"message": "not found"}')


def _s3_refusal(code: str, message: str) -> tuple[str, bytes]:
    return "application/xml", S3Error(code, message).body("", "0")


class S3HttpProtocol(GuardedHttpProtocol):
    """Refuses unparseable, oversized and stalled request heads in S3's XML form."""

    refusal = staticmethod(_s3_refusal)


def root_identity(settings: Settings) -> tuple[Identity, bool]:
    """The root keys: from settings (environment), or generated once into the data dir."""
    if settings.root_access_key and settings.root_secret_key:
        return Identity(settings.root_access_key, settings.root_secret_key, "root"), False
    access, secret, created = load_or_create_root(settings.credentials_file)
    return Identity(access, secret, "root"), created


def build_app(settings: Settings, store: ObjectStore) -> RootApp:
    identity, _ = root_identity(settings)
    s3_settings = S3Settings(region=settings.region, domains=settings.domains,
                             request_timeout=settings.request_timeout)
    s3 = S3App(store, StaticCredentials([identity]), s3_settings)
    return RootApp(s3)


def _protocol(timeout: float) -> type[S3HttpProtocol]:
    return type("S3HttpProtocol", (S3HttpProtocol,), {"head_timeout": timeout})


def _uvicorn_config(app: RootApp, settings: Settings) -> uvicorn.Config:
    return uvicorn.Config(
        app, loop="uvloop", http=_protocol(settings.request_timeout), lifespan="off", access_log=False,
        server_header=False, log_level=settings.log_level, timeout_keep_alive=30, ws="none",
    )


async def _run_worker(settings: Settings, sock: socket.socket) -> None:
    store = ObjectStore(settings.data_dir)
    try:
        server = uvicorn.Server(_uvicorn_config(build_app(settings, store), settings))
        await server.serve(sockets=[sock])
    finally:
        store.close()


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop where it is installed: uvicorn's `loop` setting does not apply when
    we drive `Server.serve` ourselves."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(main)
    else:
        uvloop.run(main)


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit this: without it, a response written as headers then body
    # waits on the client's delayed ACK (~40 ms per keep-alive request).
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _announce(settings: Settings, sock: socket.socket) -> None:
    identity, created = root_identity(settings)
    port = sock.getsockname()[1]
    lines = [
        f"strato {__version__} serving",
        f"  AWS API (S3):  http://{settings.host}:{port}",
        f"  health:        http://{settings.host}:{port}/_strato/health",
        f"  data dir:      {settings.data_dir.resolve()}",
        f"  workers:       {settings.workers}",
    ]
    if settings.root_access_key:
        lines.append("  credentials:   root keys from STRATO_ROOT_ACCESS_KEY / STRATO_ROOT_SECRET_KEY")
    else:
        lines.append(f"  credentials:   {settings.credentials_file.resolve()} (mode 0600)")
        if created:
            lines.append(f"  root access key: {identity.access_key}")
            lines.append(f"  root secret key: {identity.secret_key}")
            lines.append("  (generated now and printed once; they stay in the credentials file)")
    lines.append(f"  AWS_ENDPOINT_URL=http://{settings.host}:{port}  region {settings.region}")
    print("\n".join(lines), flush=True)


def serve(settings: Settings) -> None:
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = ObjectStore(settings.data_dir)
    report = store.recover()
    store.close()
    if report.temp_files or report.orphan_blobs:
        log.warning("recovery removed %d temp files and %d orphan blobs",
                    report.temp_files, report.orphan_blobs)
    try:
        sock = _bind(settings.host, settings.port)
    except OSError as exc:
        sys.exit(f"strato: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    _announce(settings, sock)
    if settings.workers == 1:
        signal.signal(signal.SIGINT, _exit_cleanly)
        signal.signal(signal.SIGTERM, _exit_cleanly)
        _run_loop(_run_worker(settings, sock))
        return
    _supervise(settings, sock)


def _exit_cleanly(signum: int, _frame: object) -> None:
    """SIGINT/SIGTERM seen outside uvicorn's own handling end the process with status 0.

    uvicorn shuts down gracefully on these signals and then raises them again under the
    handler that was installed before it ran: with the defaults, SIGTERM would kill the
    process (status -15) and SIGINT raise KeyboardInterrupt. This handler makes that second
    delivery, and a signal arriving before uvicorn starts, a clean exit.
    """
    raise SystemExit(0)


def _die_with_parent() -> None:
    """Ask Linux to SIGTERM this worker when its supervisor dies, even by SIGKILL, so that no
    orphan keeps serving the old socket and data dir."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    try:
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        log.warning("could not tie worker %d to its supervisor's lifetime", os.getpid())


def _supervise(settings: Settings, sock: socket.socket) -> None:
    """Fork the workers, restart any that die, and stop them all on SIGINT/SIGTERM."""
    children: set[int] = set()
    stopping = False

    supervisor = os.getpid()

    def spawn() -> None:
        pid = os.fork()
        if pid == 0:
            try:
                signal.signal(signal.SIGINT, _exit_cleanly)
                signal.signal(signal.SIGTERM, _exit_cleanly)
                _die_with_parent()
                if os.getppid() != supervisor:  # it died before the line above took effect
                    raise SystemExit(0)
                _run_loop(_run_worker(settings, sock))
            finally:
                os._exit(0)
        children.add(pid)
        if stopping:  # a stop signal arrived while this worker was being forked
            os.kill(pid, signal.SIGTERM)

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for pid in children:
            os.kill(pid, signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for _ in range(settings.workers):
        spawn()
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            log.error("worker %d exited (status %d); restarting", pid, status)
            spawn()
    sys.exit(0)
