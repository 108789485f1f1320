"""Which distribution and cache behaviour serve a request: pure functions the edge calls.

CloudFront picks the distribution by the request's Host (an alternate domain name, exact
before wildcard, or the distribution's own domain name), then the first cache behaviour in
order whose path pattern matches, else the default behaviour. Path patterns are case
sensitive; `*` matches any run of characters (slashes included) and `?` exactly one
(https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/DownloadDistValuesCacheBehavior.html#DownloadDistValuesPathPattern)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .records import Behavior, Distribution

_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9.-]*[a-z0-9])?")


@lru_cache(maxsize=1024)
def _pattern(path_pattern: str) -> re.Pattern[str]:
    pattern = path_pattern if path_pattern.startswith(("/", "*")) else "/" + path_pattern
    parts = (".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern)
    return re.compile("".join(parts), re.DOTALL)


def path_matches(path_pattern: str, path: str) -> bool:
    """Whether a cache behaviour's PathPattern matches a request path (without its query);
    `images/*` and `/images/*` are the same pattern, as CloudFront treats them."""
    return _pattern(path_pattern).fullmatch(path) is not None


def behavior_for(distribution: Distribution, path: str) -> Behavior:
    config = distribution.config
    for behavior in config.behaviors:
        if behavior.path_pattern is not None and path_matches(behavior.path_pattern, path):
            return behavior
    return config.default_behavior


def host_name(host: str) -> str:
    """The Host header without its port, lowercased (IPv6 literals keep their brackets)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host.partition("]")[0] + "]"
    name = host.rpartition(":")[0] if ":" in host else host
    # Not a host name (two Host fields joined by a comma, spaces, ...): it names no distribution.
    return name if _HOST_NAME.fullmatch(name) else ""


def distribution_for(distributions: Iterable[Distribution], host: str) -> Distribution | None:
    """The enabled distribution `host` names: an exact alias first, then the distribution's
    domain name, then a wildcard alias (`*.example.com` covers `a.example.com`, one label
    or more), the longest wildcard first."""
    name = host_name(host)
    wildcard: tuple[int, Distribution] | None = None
    for distribution in distributions:
        if not distribution.config.enabled:
            continue
        if name == distribution.domain_name:
            return distribution
        for alias in distribution.config.aliases or ():
            alias = alias.lower()
            if alias == name:
                return distribution
            if alias.startswith("*.") and name.endswith(alias[1:]) and (wildcard is None or len(alias) > wildcard[0]):
                wildcard = (len(alias), distribution)
    return wildcard[1] if wildcard else None


def select(distributions: Iterable[Distribution], host: str, path: str) -> tuple[Distribution, Behavior] | None:
    """The distribution and behaviour for a request to `host` and `path`, or None when no
    enabled distribution answers for that host."""
    distribution = distribution_for(distributions, host)
    if distribution is None:
        return None
    return distribution, behavior_for(distribution, path)
