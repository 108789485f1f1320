"""Composition root: builds the engines, mounts the apps, runs the workers, one shutdown path."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import logging.handlers
import math
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable

import uvicorn

from strato import __version__, dirlock, supervisor
from strato.api.awslambda.app import LambdaApp
from strato.api.awslambda.call import LambdaSettings, Services
from strato.api.awslambda.router import is_invoke
from strato.api.cloudfront.app import CloudFrontApp
from strato.api.function_urls.app import FunctionUrlApp
from strato.api.function_urls.hosts import FunctionUrlHosts
from strato.api.logs.app import LogsApp
from strato.api.s3.app import S3App
from strato.api.s3.call import Destinations as S3Destinations
from strato.api.s3.call import S3Settings
from strato.api.s3.errors import S3Error
from strato.api.signed import names_known_key
from strato.auth.credentials import (
    AccountCredentials,
    CredentialStore,
    Identity,
    function_identity,
    load_or_create_root,
)
from strato.cdn.registry import DistributionRegistry
from strato.config import EdgeSettings, Settings
from strato.edge import heap, invalidations
from strato.edge.admin import EdgeAdmin, admin_token
from strato.edge.distribution_file import DistributionFile
from strato.edge.distributions import DistributionOrigin, OriginKeys
from strato.edge.hitpath import HitPath
from strato.edge.origins import HttpOrigin
from strato.edge.protocol import edge_protocol
from strato.edge.proxy import EdgeProxy
from strato.edge.ratelimit import RateLimiter
from strato.edge.store import EdgeStore
from strato.events.relay import NotificationRelay
from strato.events.s3_notifications import allows_s3
from strato.functions.borrowing import LeaseBook
from strato.functions.controller import Controller
from strato.functions.destinations import Destinations
from strato.functions.errors import RegistryError
from strato.functions.events import Dispatcher, EventQueue
from strato.functions.invoker import Invoker
from strato.functions.ipc import ControllerClient
from strato.functions.isolated import IsolatedLauncher
from strato.functions.lending import LeaseDesk
from strato.functions.packages import MAX_ZIPPED, collect_forever
from strato.functions.pool import Pool
from strato.functions.provisioned import server_starting
from strato.functions.provisioning import Provisioner
from strato.functions.registry import Registry
from strato.functions.runtimes import available_runtimes
from strato.http.expect import ExpectContinueGuard
from strato.http.lane import LaneMatch, Shortcut, lane_protocol
from strato.http.protocol import GuardedHttpProtocol
from strato.metrics import ResponseCounters
from strato.root import RootApp
from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket, NoSuchKey
from strato.storage.records import Expectation

log = logging.getLogger("strato")


class StoppableServer(uvicorn.Server):
    """uvicorn's server, which also stops for a stop signal that reached the process before
    its own handlers were in place (supervisor.exit_cleanly remembers it)."""

    async def on_tick(self, counter: int) -> bool:
        if supervisor.stop_requested():
            self.should_exit = True
        return await super().on_tick(counter)


def _s3_refusal(code: str, message: str) -> tuple[str, bytes]:
    return "application/xml", S3Error(code, message).body("0")


class S3HttpProtocol(GuardedHttpProtocol):
    """Refuses unparseable, oversized and stalled request heads in S3's XML form."""

    refusal = staticmethod(_s3_refusal)


def root_identity(settings: Settings) -> tuple[Identity, bool]:
    """The root keys: from settings (environment), or generated once into the data dir."""
    if settings.root_access_key and settings.root_secret_key:
        return Identity(settings.root_access_key, settings.root_secret_key, "root"), False
    access, secret, created = load_or_create_root(settings.credentials_file)
    return Identity(access, secret, "root"), created


def function_keys(root: Identity) -> Callable[[str], tuple[str, str]]:
    """The keys each function's code is given: its own, not the root's."""
    def keys(name: str) -> tuple[str, str]:
        identity = function_identity(root, name)
        return identity.access_key, identity.secret_key

    return keys


def s3_object_fetcher(store: ObjectStore) -> Callable[[str, str], Awaitable[bytes]]:
    """CreateFunction's Code.S3Bucket/S3Key read from strato's own S3, whole (at most MAX_ZIPPED)."""

    async def fetch(bucket: str, key: str) -> bytes:
        try:
            reader = await store.open_object(bucket, key)
        except (NoSuchBucket, NoSuchKey) as exc:
            raise LookupError(f"s3://{bucket}/{key}") from exc
        try:
            if reader.obj.size > MAX_ZIPPED:
                raise ValueError(f"s3://{bucket}/{key} is {reader.obj.size} bytes")
            return b"".join([chunk async for chunk in reader.iter_range(0, reader.obj.size)])
        finally:
            reader.close()

    return fetch


def s3_record_writer(store: ObjectStore) -> Callable[[str, str, bytes], Awaitable[None]]:
    """An S3 failure destination of Event invocations: a record written as a JSON object."""

    async def write(bucket: str, key: str, record: bytes) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield record

        try:
            await store.put_object(bucket, key, body(), Expectation(size=len(record)),
                                   system={"content-type": "application/json"}, user={})
        except NoSuchBucket as exc:
            raise LookupError(f"s3://{bucket}") from exc

    return write


def s3_destinations(registry: Registry) -> S3Destinations:
    """S3 may invoke a function for a bucket when the function exists and its resource-based
    policy (the qualifier's, when the ARN names one) lets s3.amazonaws.com invoke it for that bucket."""

    async def may_invoke(function_arn: str, bucket: str) -> bool:
        try:
            policy = await registry.policy(function_arn)
        except RegistryError:  # no such function, or an ARN that names none
            return False
        return allows_s3(policy.statements, bucket)

    return may_invoke


def build_app(settings: Settings, store: ObjectStore, counters: ResponseCounters, invoker: Invoker,
              port: int) -> RootApp:
    """`port`: the API's bound port (`--port 0` picks one), which function URLs are given with."""
    identity, _ = root_identity(settings)
    registry = Registry(settings.data_dir / "functions", settings.region)
    credentials = AccountCredentials(identity, registry.exists)
    cloudfront = CloudFrontApp(DistributionRegistry(settings.data_dir), credentials, settings.request_timeout)
    s3_settings = S3Settings(region=settings.region, domains=settings.domains,
                             request_timeout=settings.request_timeout)
    s3 = S3App(store, credentials, s3_settings, s3_destinations(registry))
    url_hosts = FunctionUrlHosts(settings.region, settings.domains, port)
    lambda_settings = LambdaSettings(region=settings.region, concurrency_limit=settings.function_concurrency,
                                     runtimes=available_runtimes(), request_timeout=settings.request_timeout,
                                     function_urls=url_hosts)
    functions = LambdaApp(Services(registry, invoker, s3_object_fetcher(store), lambda_settings, identity,
                                   settings.data_dir / "functions" / "logs"),
                          credentials)
    logs = LogsApp(settings.data_dir / "functions" / "logs", registry, credentials, settings.region,
                   settings.request_timeout)
    urls = FunctionUrlApp(registry, invoker, credentials, url_hosts, settings.request_timeout)
    return RootApp({"s3": s3, "lambda": functions, "cloudfront": cloudfront, "logs": logs}, counters,
                   taking={"lambda": functions.take}, function_urls=(url_hosts, urls),
                   lane_match=functools.partial(_signed_invoke, credentials))


def _signed_invoke(credentials: CredentialStore, method: bytes, raw_path: bytes,
                   headers: list[tuple[bytes, bytes]]) -> bool:
    """The lane takes an Invoke whose Authorization names a known key: the lane reads the body
    before the app, and a stranger's (up to 6 MB) is not read but refused from its head."""
    return is_invoke(method, raw_path) and names_known_key(headers, credentials)


def _protocol(timeout: float, app: ExpectContinueGuard, shortcut: Shortcut | None,
              match: LaneMatch) -> type[GuardedHttpProtocol]:
    """Lambda invocations take the short lane (small by contract; the warm invoke's path)."""
    guarded = type("S3HttpProtocol", (S3HttpProtocol,), {"head_timeout": timeout})
    return lane_protocol(guarded, match, shortcut, app)


def _any_invoke(method: bytes, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    return is_invoke(method, raw_path)


def _uvicorn_config(app: ExpectContinueGuard, settings: Settings, shortcut: Shortcut | None = None,
                    match: LaneMatch = _any_invoke) -> uvicorn.Config:
    return uvicorn.Config(
        app, loop="uvloop", http=_protocol(settings.request_timeout, app, shortcut, match), lifespan="off",
        access_log=False,
        server_header=False, proxy_headers=False, log_level=settings.log_level, timeout_keep_alive=30, ws="none",
        # A client that stops reading holds its answer's connection open: a stop waits this long for it.
        timeout_graceful_shutdown=math.ceil(settings.request_timeout),
    )


def _announce(settings: Settings, sock: socket.socket, edge: socket.socket | None) -> None:
    identity, created = root_identity(settings)
    port = sock.getsockname()[1]
    lines = [
        f"strato {__version__} serving",
        f"  AWS API (S3):  {_url(settings.host, port)}",
        f"  health:        {_url(settings.host, port)}/_strato/health",
        f"  CDN edge:      {_url(settings.host, edge.getsockname()[1])}" if edge is not None
        else f"  CDN edge:      off (port {settings.edge_port} is taken)",
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
    lines.append(f"  AWS_ENDPOINT_URL={_url(settings.host, port)}  region {settings.region}")
    print("\n".join(lines), flush=True)


def _stop_cleanly_while_starting() -> None:
    """A stop signal during start-up (waiting for the directory's lock, recovery) ends the
    process with status 0, as one later does: not a KeyboardInterrupt traceback, nor status -15."""
    signal.signal(signal.SIGINT, supervisor.exit_cleanly)
    signal.signal(signal.SIGTERM, supervisor.exit_cleanly)


def serve(settings: Settings) -> None:
    _stop_cleanly_while_starting()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Private when strato makes it: the objects, their metadata and the keys are no other local
    # user's to read (an operator's own directory keeps the mode it has).
    try:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        dirlock.hold(settings.data_dir, "strato serve")
        # Made once, private, before any process forks: the workers and the controller all use it.
        (settings.data_dir / "functions").mkdir(mode=0o700, exist_ok=True)
    except OSError as exc:  # a file, a read-only or full disk, no permission
        sys.exit(f"strato: cannot use the data dir {settings.data_dir}: {exc.strerror or exc}")
    server_starting(settings.data_dir / "functions")  # provisioned environments are started again
    store = ObjectStore(settings.data_dir)
    report = store.recover()
    store.close()
    if report.temp_files or report.orphan_blobs:
        log.warning("recovery removed %d temp files and %d orphan blobs",
                    report.temp_files, report.orphan_blobs)
    access_log = _access_log(settings.edge_access_log)
    try:
        sock = supervisor.bind(settings.host, settings.port)
    except OSError as exc:
        sys.exit(f"strato: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    try:
        edge: socket.socket | None = supervisor.bind(settings.host, settings.edge_port)
    except OSError as exc:
        log.warning("the CDN edge is off: cannot listen on %s:%d: %s", settings.host, settings.edge_port,
                    exc.strerror or exc)
        edge = None
    try:
        _announce(settings, sock, edge)
    except ValueError as exc:  # a damaged credentials file
        sys.exit(f"strato: {exc}")
    counters = ResponseCounters(settings.workers)

    async def worker(index: int) -> None:
        if edge is not None:
            edge.close()  # the edge process's socket
        counters.become_worker(index)
        store = ObjectStore(settings.data_dir)
        try:
            events = EventQueue(settings.data_dir / "functions" / "events.db")
            folder = settings.data_dir / "functions"
            invoker = ControllerClient(folder / "controller.sock", events.put, LeaseBook(folder / "leases.sock"))
            root = build_app(settings, store, counters, invoker, sock.getsockname()[1])
            server = StoppableServer(_uvicorn_config(ExpectContinueGuard(root), settings, root.take, root.lane_match))
            await server.serve(sockets=[sock])
        finally:
            store.close()

    roles = [(f"worker-{index}", functools.partial(worker, index)) for index in range(settings.workers)]
    roles.append(("functions", functools.partial(functions_controller, settings, sock, edge)))
    if edge is not None:
        roles.append(("edge", functools.partial(edge_role, settings, sock, edge, access_log)))
    supervisor.supervise(roles, stopped_last=("functions",))  # the workers' in-flight invokes finish first


def _local_url(sock: socket.socket) -> str:
    """How processes on this machine reach a listening socket (a wildcard address as loopback)."""
    host, port = sock.getsockname()[:2]
    return _url({"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host), port)


def _url(host: str, port: int) -> str:
    """An http URL of a host and port, an IPv6 address in brackets (RFC 3986 section 3.2.2)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def edge_role(settings: Settings, api: socket.socket, edge: socket.socket,
                    access_log: logging.Logger | None) -> None:
    """The CDN edge of `strato serve`: one process, since the cache index has one owner. It
    fronts strato's own S3 API (distributions and the default one) and applies invalidations.
    `access_log` is opened before the fork, where a target that cannot be written stops the start."""
    api_url = _local_url(api)
    api.close()
    identity, _ = root_identity(settings)
    cache_dir = settings.data_dir / "edge-cache"
    store = EdgeStore(cache_dir, settings.edge_cache_size, settings.edge_memory_size)
    store.load()
    heap.settle()
    registry = DistributionRegistry(settings.data_dir)
    origin = DistributionOrigin(registry, api_url,
                                OriginKeys(identity.access_key, identity.secret_key, settings.region),
                                trust_forwarded_proto=settings.edge_trust_forwarded_proto)
    limiter = RateLimiter(settings.edge_rate, 2 * settings.edge_rate) if settings.edge_rate else None
    proxy = EdgeProxy(origin, store, rules=origin, limiter=limiter, access_log=access_log)
    following: asyncio.Future[None] | None = None
    try:
        following = await invalidations.start_following(invalidations.local(registry), store, cache_dir)
        await StoppableServer(_edge_config(proxy, admin_token(cache_dir), settings.request_timeout, settings.log_level,
                                          settings.edge_trust_forwarded_proto)).serve(sockets=[edge])
    finally:
        if following is not None:
            following.cancel()
        await origin.close()
        store.close()
        registry.close()


def _edge_config(proxy: EdgeProxy, token: str, timeout: float, log_level: str,
                 trust_forwarded_proto: bool = False) -> uvicorn.Config:
    return uvicorn.Config(
        EdgeAdmin(proxy, token, trust_forwarded_proto=trust_forwarded_proto), loop="uvloop",
        http=edge_protocol(timeout, HitPath(proxy)), lifespan="off",
        access_log=False, server_header=False, date_header=False, proxy_headers=False, log_level=log_level,
        timeout_keep_alive=30, ws="none",
        # A viewer that stops reading holds its answer's connection open: a stop waits this long for it.
        timeout_graceful_shutdown=math.ceil(timeout),
    )


async def functions_controller(settings: Settings, sock: socket.socket, edge: socket.socket | None) -> None:
    """The one owner of function environments: runs invocations the workers send and the Event queue."""
    endpoint = _local_url(sock)
    for listening in (sock, edge):  # the workers' and the edge's; environments must not inherit them
        if listening is not None:
            listening.close()
    folder = settings.data_dir / "functions"
    identity, _ = root_identity(settings)
    registry = Registry(folder, settings.region)
    launcher = IsolatedLauncher(folder / "run", hide=[settings.data_dir])
    log.warning("functions: %s", launcher.protections)
    pool = Pool(launcher, logs_dir=folder / "logs", region=settings.region, endpoint_url=endpoint,
                keys=function_keys(identity),
                account_concurrency=settings.function_concurrency)
    pool.know_reservations(await registry.reservations())
    queue = EventQueue(folder / "events.db")
    store = ObjectStore(settings.data_dir)  # for S3 failure destinations and S3 event notifications
    destinations = Destinations(registry.get_event_config, registry.resolve_async, s3_record_writer(store),
                                settings.region)
    dispatcher = Dispatcher(queue, registry.resolve_async, pool.invoke, settings.event_retry_delay,
                            registry.event_limits, destinations)
    controller = Controller(folder / "controller.sock", registry.resolve, pool, dispatcher,
                            LeaseDesk(folder / "leases.sock", pool), Provisioner(registry, pool))
    serving = asyncio.ensure_future(controller.serve())
    collecting = asyncio.ensure_future(collect_forever(registry.packages, registry.referenced_code))
    relay = NotificationRelay(store, registry.resolve_async, s3_destinations(registry), queue.put, dispatcher.wake)
    relaying = asyncio.ensure_future(relay.serve())
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, serving.cancel)
    # A terminal's Ctrl-C reaches every process of its group at once: the supervisor sends the
    # SIGTERM when the workers have finished the invokes they are waiting for.
    loop.add_signal_handler(signal.SIGINT, lambda: None)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await serving
    finally:
        collecting.cancel()
        relaying.cancel()
        await asyncio.gather(relaying, return_exceptions=True)  # the store it reads closes below
        await pool.close()
        await launcher.close()
        queue.close()
        store.close()


def serve_edge(settings: EdgeSettings) -> None:
    """A standalone edge: one process, since the cache index has one owner."""
    _stop_cleanly_while_starting()
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    origin, files = _standalone_origin(settings)
    try:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
        dirlock.hold(settings.cache_dir, "strato edge")  # the cache index has one owner
        store = EdgeStore(settings.cache_dir, settings.cache_size, settings.memory_size)
        loaded = store.load()
    except OSError as exc:  # a file, a read-only or full disk, no permission
        sys.exit(f"strato: cannot use the edge cache {settings.cache_dir}: {exc.strerror or exc}")
    heap.settle()
    token = admin_token(settings.cache_dir)
    limiter = None
    if settings.rate:
        limiter = RateLimiter(settings.rate, settings.burst or max(1.0, 2 * settings.rate))
    access_log = _access_log(settings.access_log)
    try:
        sock = supervisor.bind(settings.host, settings.port)
    except OSError as exc:
        sys.exit(f"strato: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}")
    print("\n".join([
        f"strato {__version__} edge serving",
        f"  edge:          {_url(settings.host, sock.getsockname()[1])}",
        f"  origin:        {_origin_base(origin) or 'none: only the distributions of --config'}",
        *([f"  distributions: {len(files.all())} from {files.path} (read again when it changes, or on SIGHUP)"]
          if files is not None else []),
        f"  invalidations: {settings.invalidations_from or 'only purges sent to this edge'}",
        f"  cache:         {settings.cache_dir.resolve()} ({loaded} entries kept from before)",
        f"  admin token:   {(settings.cache_dir / 'admin-token').resolve()} (for POST /_strato/purge)",
    ]), flush=True)

    async def worker(_index: int) -> None:
        proxy = EdgeProxy(origin, store, limiter=limiter, max_concurrent_per_client=settings.max_concurrent_per_client,
                          access_log=access_log, rules=origin if isinstance(origin, DistributionOrigin) else None)
        remote = following = None
        if files is not None:
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, files.reload)
        try:
            if settings.invalidations_from and settings.keys:
                remote = invalidations.Remote(settings.invalidations_from, *settings.keys, settings.distribution)
                following = await invalidations.start_following(remote, store, settings.cache_dir,
                                                                settings.request_timeout)
            await StoppableServer(_edge_config(proxy, token, settings.request_timeout, settings.log_level,
                                              settings.trust_forwarded_proto)).serve(sockets=[sock])
        finally:
            if following is not None:
                following.cancel()
            if remote is not None:
                await remote.close()
            await origin.close()
            store.close()

    supervisor.run_single(worker)


def _standalone_origin(settings: EdgeSettings) -> tuple[HttpOrigin | DistributionOrigin, DistributionFile | None]:
    """`strato edge`'s origin: --origin's server, or the distributions of --config (a file that
    does not read is refused in one line), with the file."""
    if settings.config is None:
        return HttpOrigin(settings.origin or ""), None  # an http(s) URL: cli.edge_settings checked it
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the loop rereads the file on it
    try:
        files = DistributionFile(settings.config, server=settings.origin is not None, keys=settings.keys is not None)
    except ValueError as exc:
        sys.exit(f"strato: --config {settings.config}: {exc}")
    access, secret, region = settings.keys or ("", "", "us-east-1")  # unused: the file signs nothing then
    return DistributionOrigin(files, settings.origin, OriginKeys(access, secret, region),
                              trust_forwarded_proto=settings.trust_forwarded_proto), files


def _origin_base(origin: HttpOrigin | DistributionOrigin) -> str | None:
    if isinstance(origin, HttpOrigin):
        return origin.base
    return origin.api.base if origin.api is not None else None


def _access_log(target: str | None) -> logging.Logger | None:
    """A logger writing one line per request to `target` ('-' is standard output); a file moved
    away (logrotate) is made again at its path for the next line. Refuses in one line
    (SystemExit) a file that cannot be opened."""
    if target is None:
        return None
    logger = logging.getLogger("strato.edge.access")
    try:
        handler: logging.Handler = (logging.StreamHandler(sys.stdout) if target == "-"
                                    else logging.handlers.WatchedFileHandler(target))
    except OSError as exc:
        sys.exit(f"strato: cannot open the edge access log {target}: {exc.strerror or exc}")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return logger
