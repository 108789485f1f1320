"""One frozen Settings, built from command-line flags over environment over defaults."""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from strato.auth.credentials import FUNCTION_KEY_PREFIX


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path = Path("strato-data")
    host: str = "127.0.0.1"
    port: int = 9000
    edge_port: int = 8080
    region: str = "us-east-1"
    workers: int = 1
    domains: tuple[str, ...] = ()
    root_access_key: str | None = None
    root_secret_key: str | None = None
    log_level: str = "warning"
    request_timeout: float = 30.0
    edge_cache_size: int = 10 * 1024**3
    edge_memory_size: int = 256 * 1024**2
    edge_rate: float | None = None  # requests per second per client IP at the edge (None: no limit)
    edge_access_log: str | None = None  # a file, or "-" for standard output
    edge_trust_forwarded_proto: bool = False  # X-Forwarded-Proto: https from a trusted TLS proxy counts as HTTPS
    event_retry_delay: float = 60.0  # seconds before an Event invoke's first retry (the second waits twice that)
    function_concurrency: int = 1000  # the account's concurrent executions, as Lambda's default quota

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **flags: object) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, object] = {
            # An empty variable is an unset one, as for every setting: not the current directory, nor no region.
            "data_dir": Path(env.get("STRATO_DATA_DIR") or "strato-data"),
            "region": env.get("STRATO_REGION") or "us-east-1",
            "workers": _env_number(env, "STRATO_WORKERS", str(os.cpu_count() or 1), int, 1),
            "request_timeout": _env_number(env, "STRATO_REQUEST_TIMEOUT", "30", float, 0.0, above=True),
            "function_concurrency": _env_number(env, "STRATO_FUNCTION_CONCURRENCY", "1000", int, 1),
            "event_retry_delay": _env_number(env, "STRATO_EVENT_RETRY_DELAY", "60", float, 0.0),
            "edge_cache_size": _env_size(env, "STRATO_EDGE_CACHE_SIZE", "10G"),
            "edge_memory_size": _env_size(env, "STRATO_EDGE_MEMORY_SIZE", "256M"),
            "edge_rate": _env_number(env, "STRATO_EDGE_RATE", "0", float, 0.0) or None,  # 0: no limit
            "edge_access_log": env.get("STRATO_EDGE_ACCESS_LOG") or None,
            "edge_trust_forwarded_proto": env_flag(env, "STRATO_EDGE_TRUST_FORWARDED_PROTO"),
            "domains": tuple(env.get("STRATO_DOMAIN", "").split(",")),
            "root_access_key": env.get("STRATO_ROOT_ACCESS_KEY") or None,
            "root_secret_key": env.get("STRATO_ROOT_SECRET_KEY") or None,
        }
        values.update({name: value for name, value in flags.items() if value is not None})
        values["domains"] = _host_names(values["domains"])  # type: ignore[arg-type]
        settings = cls(**values)  # type: ignore[arg-type]
        if (settings.root_access_key is None) != (settings.root_secret_key is None):
            raise ValueError("set both STRATO_ROOT_ACCESS_KEY and STRATO_ROOT_SECRET_KEY, or neither")
        if (settings.root_access_key or "").startswith(FUNCTION_KEY_PREFIX):
            raise ValueError(f"STRATO_ROOT_ACCESS_KEY may not begin with {FUNCTION_KEY_PREFIX}: such keys are "
                             "functions' own (that function's keys would stop working)")
        if settings.workers < 1:
            raise ValueError("workers must be at least 1")
        return settings

    @property
    def credentials_file(self) -> Path:
        return self.data_dir / "credentials.json"


def _host_names(names: Iterable[str]) -> tuple[str, ...]:
    """Domains as Host headers are compared: lower case, without the root's dot (RFC 4343), each
    once, from --domain as from STRATO_DOMAIN."""
    cleaned = (name.strip().lower().rstrip(".") for name in names)
    return tuple(dict.fromkeys(name for name in cleaned if name))


Number = TypeVar("Number", int, float)


def _env_number(env: Mapping[str, str], name: str, default: str, kind: Callable[[str], Number], least: Number,
                above: bool = False) -> Number:
    """The variable `name` (unset or empty: `default`) as a finite number of at least `least`, or
    more than it when `above`; ValueError naming the variable otherwise, before anything starts."""
    text = env.get(name) or default
    try:
        value = kind(text.strip())
    except ValueError:
        value = None
    if value is None or not math.isfinite(value) or value < least or (above and value == least):
        whole = "a whole number" if kind is int else "a number"
        bound = f"more than {least:g}" if above else f"at least {least:g}"
        raise ValueError(f"{name} must be {whole} {bound}, not {text!r}")
    return value


def _env_size(env: Mapping[str, str], name: str, default: str) -> int:
    """The variable `name` (unset or empty: `default`) as a size in bytes; ValueError naming it."""
    try:
        return parse_size(env.get(name) or default)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}


def env_flag(env: Mapping[str, str], name: str) -> bool:
    """Whether the environment variable `name` turns a setting on (1, true, yes or on)."""
    return env.get(name, "").lower() in ("1", "true", "yes", "on")


def parse_size(text: str) -> int:
    """'512M', '10G', '1048576', '2.5G' -> bytes (binary units; a trailing B/iB is allowed)."""
    cleaned = text.strip().upper().removesuffix("IB").removesuffix("B")
    unit = cleaned[-1:] if cleaned[-1:] in _UNITS and not cleaned[-1:].isdigit() else ""
    number = cleaned[: len(cleaned) - len(unit)]
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"not a size: {text!r}") from None
    if not 0 <= value < math.inf:  # also NaN
        raise ValueError(f"not a size: {text!r}")
    return int(value * _UNITS[unit])


@dataclass(frozen=True, slots=True)
class EdgeSettings:
    """`strato edge`: a standalone CDN node in front of one origin, or of the distributions of
    a config file (whose buckets `origin`, a strato server, holds)."""

    origin: str | None
    host: str = "127.0.0.1"
    port: int = 8080
    cache_dir: Path = Path("strato-edge-cache")
    cache_size: int = 10 * 1024**3
    memory_size: int = 256 * 1024**2
    rate: float | None = None
    burst: float | None = None
    max_concurrent_per_client: int = 256
    access_log: str | None = None
    request_timeout: float = 30.0
    log_level: str = "warning"
    # A strato server whose CloudFront invalidations this edge applies (signed with the keys
    # in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), optionally only one distribution's.
    invalidations_from: str | None = None
    distribution: str | None = None
    keys: tuple[str, str, str] | None = None  # access key, secret key, region
    config: Path | None = None  # a file of CloudFront distributions (edge/distribution_file.py)
    trust_forwarded_proto: bool = False  # X-Forwarded-Proto: https from a trusted TLS proxy counts as HTTPS
