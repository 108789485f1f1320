"""A function URL's host, pure: `<url-id>.lambda-url.<region>.<domain>`, as Lambda's
`<url-id>.lambda-url.<region>.on.aws` with strato's domain (the first of STRATO_DOMAIN, else
`localhost`) and its API port. Source: the Lambda developer guide, "Invoking Lambda function URLs".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from strato.http.types import Scope

_URL_ID = re.compile(r"[a-z0-9]{32}")


@dataclass(frozen=True, slots=True)
class FunctionUrlHosts:
    region: str = "us-east-1"
    domains: tuple[str, ...] = ("localhost",)  # the first is the one URLs are given with
    port: int = 9000
    _suffixes: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        domains = self.domains or ("localhost",)
        object.__setattr__(self, "domains", domains)
        object.__setattr__(self, "_suffixes", frozenset(f"lambda-url.{self.region}.{d}" for d in domains))

    def url(self, url_id: str) -> str:
        """The FunctionUrl of a configuration."""
        return f"http://{url_id}.lambda-url.{self.region}.{self.domains[0]}:{self.port}/"

    def url_id(self, host: str) -> str | None:
        """The URL id a Host header names, if it is a function URL's host (any of the domains,
        any port)."""
        name = host.strip().lower()
        if not name.endswith("]"):  # an IPv6 literal is never a function URL's host
            name = name.rsplit(":", 1)[0]
        label, _, rest = name.partition(".")
        return label if rest.rstrip(".") in self._suffixes and _URL_ID.fullmatch(label) else None

    def url_id_of(self, scope: Scope) -> str | None:
        """The URL id of a request whose Host is a function URL's, else None: checked before
        anything else routes it, so that virtual-hosted S3 never takes the id for a bucket."""
        for name, value in scope["headers"]:
            if name == b"host":
                return self.url_id(value.decode("latin-1")) if b".lambda-url." in value.lower() else None
        return None
