"""Command line: `strato serve`, `strato edge`, `strato logs`."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from strato import __version__
from strato.config import EdgeSettings, Settings, env_flag, parse_size


def _port(text: str) -> int:
    """A TCP port number (0: any free one), refused by argparse in one line otherwise."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a number from 0 to 65535, not {text!r}")
    return port


def _byte_count(text: str) -> int:
    """A number of bytes to print, at least one."""
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise argparse.ArgumentTypeError(f"a number of bytes, at least 1, not {text!r}")
    return count


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strato",
                                     description="Self-hosted S3, Lambda and CDN in one package.")
    parser.add_argument("--version", action="version", version=f"strato {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser(
        "serve", help="run the AWS API (S3, Lambda, CloudFront, CloudWatch Logs), functions and the CDN edge")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="AWS API port (default 9000)")
    serve.add_argument("--edge-port", type=_port, help="CDN edge port (default 8080)")
    serve.add_argument("--data-dir", type=Path,
                       help="data directory (env STRATO_DATA_DIR, default ./strato-data)")
    serve.add_argument("--workers", type=int, help="API worker processes (env STRATO_WORKERS, default: one per CPU)")
    serve.add_argument("--domain", action="append", dest="domains",
                       help="domain for virtual-hosted-style buckets (bucket.DOMAIN); repeatable")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="log level")
    edge = commands.add_parser("edge", help="run a standalone CDN edge node in front of one origin, or of "
                                            "CloudFront distributions")
    edge.add_argument("--origin", help="the origin's URL, e.g. http://10.0.0.5:9000 (with --config: the strato "
                                       "server holding the distributions' buckets, asked for other hosts)")
    edge.add_argument("--config", type=Path, metavar="FILE",
                      help="serve the CloudFront distributions in FILE (JSON, as `aws cloudfront "
                           "get-distribution-config` prints them); reread when it changes or on SIGHUP")
    edge.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    edge.add_argument("--port", type=_port, default=8080, help="port (default 8080)")
    edge.add_argument("--cache-dir", type=Path, default=Path("strato-edge-cache"),
                      help="where cached responses live (default ./strato-edge-cache)")
    edge.add_argument("--cache-size", default="10G", help="disk budget of the cache (default 10G)")
    edge.add_argument("--memory-size", default="256M", help="memory budget for hot small objects (default 256M)")
    edge.add_argument("--rate", type=float, help="requests per second allowed per client IP (default: no limit)")
    edge.add_argument("--burst", type=float, help="burst allowance per client IP (default: 2 x rate)")
    edge.add_argument("--max-concurrent-per-client", type=int, default=256,
                      help="requests one client IP may have in progress at once (default 256; over it: 503)")
    edge.add_argument("--access-log", help="write a line per request to this file ('-' for standard output)")
    edge.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="warning")
    edge.add_argument("--invalidations-from", metavar="URL",
                      help="a strato server (its API URL) whose CloudFront invalidations this edge applies; "
                           "requests are signed with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY")
    edge.add_argument("--distribution", help="with --invalidations-from: apply only this distribution's")
    edge.add_argument("--trust-forwarded-proto", action="store_true", default=None,
                      help="behind a TLS-terminating proxy: a request with X-Forwarded-Proto: https counts as "
                           "HTTPS (env STRATO_EDGE_TRUST_FORWARDED_PROTO; only if the proxy alone reaches the edge)")
    edge_commands = edge.add_subparsers(dest="edge_command")
    purge = edge_commands.add_parser("purge", help="drop paths (or /prefix/* wildcards) from a running edge")
    purge.add_argument("paths", nargs="+", help="paths such as /index.html or /images/*")
    purge.add_argument("--edge", default="http://127.0.0.1:8080", help="the edge's URL (default http://127.0.0.1:8080)")
    purge.add_argument("--token", help="the edge's admin token (default: read from --cache-dir/admin-token)")
    purge.add_argument("--host", dest="site", help="purge only this site (Host) of the edge")
    purge.add_argument("--cache-dir", dest="purge_cache_dir", type=Path, default=Path("strato-edge-cache"))
    logs = commands.add_parser("logs", help="print a function's logs (START/END/REPORT lines and its output)")
    logs.add_argument("function", help="the function's name")
    logs.add_argument("--data-dir", type=Path,
                      help="data directory of the strato that runs it (env STRATO_DATA_DIR, default ./strato-data)")
    logs.add_argument("--bytes", type=_byte_count, default=1024 * 1024,
                      help="how much of the newest log to print (default 1 MiB)")
    return parser


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    if args.command == "serve":
        from strato.server import serve

        try:
            settings = Settings.from_env(
                host=args.host, port=args.port, edge_port=args.edge_port, data_dir=args.data_dir,
                workers=args.workers, domains=tuple(args.domains) if args.domains else None,
                log_level=args.log_level,
            )
        except ValueError as exc:
            sys.exit(f"strato: {exc}")
        serve(settings)
    elif args.command == "logs":
        from strato.functions.log_dirs import function_directory, group_directory
        from strato.functions.logs import read_logs

        try:
            settings = Settings.from_env(data_dir=args.data_dir)
            data_dir = settings.data_dir
            if not data_dir.is_dir():  # run from another directory than `strato serve`'s
                raise ValueError(f"no data dir at {data_dir.resolve()}: give --data-dir or STRATO_DATA_DIR")
            logs_dir = data_dir / "functions" / "logs"
            own = function_directory(logs_dir, args.function)  # refuses what is not a function name
            group = _log_group(data_dir, settings.region, args.function)
            directory = own if group is None else group_directory(logs_dir, group)
            if not directory.is_dir():  # as Lambda has no log group for it
                raise ValueError(f"no logs for function {args.function} in {logs_dir.resolve()}: no such function, "
                                 "or never invoked")
            text = read_logs(logs_dir, args.function, args.bytes, group)
        except ValueError as exc:
            sys.exit(f"strato: {exc}")
        sys.stdout.buffer.write(text)
    elif args.command == "edge" and args.edge_command == "purge":
        sys.exit(_purge(args))
    elif args.command == "edge":
        from strato.server import serve_edge

        try:
            standalone = edge_settings(args, os.environ)
        except ValueError as exc:
            sys.exit(f"strato: {exc}")
        serve_edge(standalone)


def edge_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> EdgeSettings:
    """`strato edge`'s settings from its flags over the environment (ValueError: what is wrong)."""
    from strato.edge.origins import http_url

    if not args.origin and not args.config:
        raise ValueError("edge needs --origin URL or --config FILE")
    for flag, url in (("--origin", args.origin), ("--invalidations-from", args.invalidations_from)):
        try:
            if url is not None:
                http_url(url)
        except ValueError as exc:
            raise ValueError(f"{flag}: {exc}") from None
    keys = None
    access, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    if access and secret:  # what --invalidations-from and a config file's private origins sign with
        keys = (access, secret, environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or "us-east-1")
    elif args.invalidations_from:
        raise ValueError("--invalidations-from needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
    if args.rate is not None and not 0 <= args.rate < math.inf:  # 0: no limit, as without the flag
        raise ValueError("--rate must be a positive number of requests per second")
    if args.burst is not None and not 1 <= args.burst < math.inf:
        raise ValueError("--burst must be at least 1: a request takes one token")
    if args.max_concurrent_per_client < 1:
        raise ValueError("--max-concurrent-per-client must be at least 1")
    trust = args.trust_forwarded_proto
    return EdgeSettings(
        origin=args.origin, host=args.host, port=args.port, cache_dir=args.cache_dir,
        cache_size=parse_size(args.cache_size), memory_size=parse_size(args.memory_size),
        rate=args.rate, burst=args.burst, max_concurrent_per_client=args.max_concurrent_per_client,
        access_log=args.access_log, log_level=args.log_level,
        invalidations_from=args.invalidations_from, distribution=args.distribution, keys=keys, config=args.config,
        trust_forwarded_proto=env_flag(environ, "STRATO_EDGE_TRUST_FORWARDED_PROTO") if trust is None else trust,
    )


def _log_group(data_dir: Path, region: str, function_name: str) -> str | None:
    """The log group the function's LoggingConfig names (None: its own, or no such function)."""
    import asyncio

    from strato.functions.errors import NotFound
    from strato.functions.registry import Registry

    if not (data_dir / "functions" / "functions.db").is_file():  # no function was ever made
        return None
    registry = Registry(data_dir / "functions", region)
    try:
        return asyncio.run(registry.get(function_name)).config.logging.log_group
    except NotFound:
        return None
    finally:
        registry.close()


def _purge(args: argparse.Namespace) -> int:
    token = args.token
    if not token:
        kept = args.purge_cache_dir / "admin-token"
        try:
            token = kept.read_text().strip()
        except OSError as exc:
            print(f"strato: no admin token: give --token, or the edge's --cache-dir ({kept}: {exc.strerror or exc})",
                  file=sys.stderr)
            return 1
    body = json.dumps({"paths": args.paths, "host": args.site}).encode()
    request = urllib.request.Request(
        f"{args.edge.rstrip('/')}/_strato/purge", data=body, method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            print(f"purged {json.loads(response.read())['purged']} cached responses")
            return 0
    except urllib.error.HTTPError as error:
        with error:
            print(f"strato: purge refused ({error.code}): {error.read().decode(errors='replace')}", file=sys.stderr)
        return 1
    except OSError as error:  # URLError too: not running, another host or port, too slow to answer
        print(f"strato: cannot reach the edge at {args.edge}: {getattr(error, 'reason', error)}", file=sys.stderr)
        return 1
