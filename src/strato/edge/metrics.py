"""The edge's counters, kept per site (a distribution id, or "default"), and their Prometheus
text: totals under the names a standalone edge has always had, and the same counters per
site labelled `distribution`. Sites are the distributions this edge has served since it
started, so the set is bounded by what the registry has held."""

from __future__ import annotations

from dataclasses import dataclass, fields

from strato.edge.rules import DEFAULT_SITE
from strato.http.types import Message, Send

# The ASGI scope key under which an app wrapping the proxy's answer (edge/viewer.py: an error
# page replacing an error) holds the Observed it counts and logs once, as what the viewer got:
# the answers the proxy gives within it are then neither counted nor logged on their own.
OBSERVED = "strato.edge.observed"


@dataclass(slots=True)
class Observed:
    """What one answer sent: its status and body bytes, and when its request came."""

    started: float
    status: int = 0
    sent: int = 0

    def counting(self, send: Send, *, head: bool = False) -> Send:
        """`send`, counting what goes through it; `head`: the answer to a HEAD, whose body bytes
        the server drops (RFC 9110 9.3.2), so none are sent."""

        async def counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.status = int(message["status"])
            elif message["type"] == "http.response.body" and not head:
                self.sent += len(message.get("body", b""))
            await send(message)

        return counted


@dataclass(slots=True)
class EdgeMetrics:
    hits: int = 0
    misses: int = 0
    revalidations: int = 0
    stale: int = 0
    origin_fetches: int = 0
    origin_errors: int = 0
    bytes_served: int = 0
    origin_seconds: float = 0.0
    compressions: int = 0


_NAMES = {
    "hits": "hits_total", "misses": "misses_total", "revalidations": "revalidations_total",
    "stale": "stale_served_total", "origin_fetches": "origin_fetches_total", "origin_errors": "origin_errors_total",
    "bytes_served": "bytes_served_total", "origin_seconds": "origin_seconds_total",
    "compressions": "compressions_total",
}


class SiteMetrics:
    def __init__(self) -> None:
        self.sites: dict[str, EdgeMetrics] = {DEFAULT_SITE: EdgeMetrics()}

    def site(self, name: str) -> EdgeMetrics:
        found = self.sites.get(name)
        if found is None:
            found = self.sites[name] = EdgeMetrics()
        return found

    def total(self) -> EdgeMetrics:
        summed = EdgeMetrics()
        for metrics in self.sites.values():
            for counter in fields(EdgeMetrics):
                setattr(summed, counter.name, getattr(summed, counter.name) + getattr(metrics, counter.name))
        return summed

    def exposition(self) -> list[str]:
        """Prometheus text lines: `strato_edge_<counter>` totals, then
        `strato_edge_distribution_<counter>{distribution="<id>"}` per site."""
        total = self.total()
        lines: list[str] = []
        for attribute, suffix in _NAMES.items():
            lines += [f"# TYPE strato_edge_{suffix} counter", f"strato_edge_{suffix} {_value(total, attribute)}"]
        for attribute, suffix in _NAMES.items():
            lines.append(f"# TYPE strato_edge_distribution_{suffix} counter")
            lines += [f'strato_edge_distribution_{suffix}{{distribution="{_label(site)}"}} '
                      f'{_value(metrics, attribute)}' for site, metrics in sorted(self.sites.items())]
        return lines


def logged_target(raw_path: bytes, raw_query: bytes) -> bytes:
    """The request target an access log line names: the path and query the client sent."""
    return raw_path + b"?" + raw_query if raw_query else raw_path


def _label(value: str) -> str:
    """A label value as Prometheus's text format writes it: backslash, double quote and line
    feed escaped (a distribution of `strato edge --config` may be named by any CallerReference)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _value(metrics: EdgeMetrics, attribute: str) -> str:
    value = getattr(metrics, attribute)
    return f"{value:.6f}" if isinstance(value, float) else str(value)
