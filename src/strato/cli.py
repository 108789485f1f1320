"""Command line: `strato serve` (and, as they arrive, `edge`, `admin`, `logs`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strato import __version__
from strato.config import Settings


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strato",
                                     description="Self-hosted S3, Lambda and CDN in one package.")
    parser.add_argument("--version", action="version", version=f"strato {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the AWS API (S3) and background workers")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="AWS API port (default 9000)")
    serve.add_argument("--edge-port", type=int, help="CDN edge port (default 8080)")
    serve.add_argument("--data-dir", type=Path,
                       help="data directory (env STRATO_DATA_DIR, default ./strato-data)")
    serve.add_argument("--workers", type=int, help="API worker processes (env STRATO_WORKERS, default: one per CPU)")
    serve.add_argument("--domain", action="append", dest="domains",
                       help="domain for virtual-hosted-style buckets (bucket.DOMAIN); repeatable")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"], help="log level")
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
