"""What a handler is given: the request, where it is going, its body, and the services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from strato.api.function_urls.hosts import FunctionUrlHosts
from strato.auth.credentials import Identity
from strato.functions.invoker import Invoker
from strato.functions.registry import Registry
from strato.http.request import Request

from .router import Endpoint
from .shapes import Body

# Reads an object of strato's own S3 (CreateFunction's Code.S3Bucket/S3Key), whole: packages
# are at most 50 MB by contract. Raises LookupError when there is no such bucket or key.
FetchS3Object = Callable[[str, str], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class LambdaSettings:
    region: str = "us-east-1"
    concurrency_limit: int = 1000  # the account's concurrent executions (Settings.function_concurrency)
    runtimes: frozenset[str] = frozenset()  # what CreateFunction accepts: the runtimes this host can run
    request_timeout: float = 30.0
    function_urls: FunctionUrlHosts = field(default_factory=FunctionUrlHosts)  # how a function URL is spelled


@dataclass(frozen=True, slots=True)
class Services:
    registry: Registry
    invoker: Invoker
    fetch_s3_object: FetchS3Object
    settings: LambdaSettings
    signer: Identity  # the keys Code.Location URLs are presigned with
    logs_dir: Path  # where the functions controller keeps each function's log


@dataclass(slots=True)
class Call:
    request: Request
    endpoint: Endpoint
    raw_body: bytes
    request_id: str
    services: Services

    @property
    def registry(self) -> Registry:
        return self.services.registry

    def body(self) -> Body:
        return Body.parse(self.raw_body)

    def qualifier(self) -> str | None:
        return self.request.query.get("Qualifier") or None

    def target(self) -> tuple[str, str | None]:
        """The function's name and the qualifier named in the path's ARN or the query (an ARN of
        another region names no function here)."""
        return self.registry.split(self.endpoint.function_name, self.qualifier())
