"""What a handler is given: the request, where it is going, and the services it may use."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

from strato.auth.credentials import Identity
from strato.http.bodies import BodyTooLarge, collect
from strato.http.request import Request
from strato.storage.engine import ObjectStore
from strato.storage.records import Cause, Expectation

from .access import Access
from .errors import S3Error
from .router import Endpoint

MAX_XML_BODY = 2 * 1024 * 1024
MAX_OBJECT_SIZE = 5 * 1024**3


# Whether S3 may invoke a function (its ARN) for a bucket's event notifications.
Destinations = Callable[[str, str], Awaitable[bool]]


async def no_destinations(function_arn: str, bucket: str) -> bool:
    """Where no functions engine runs beside the S3 API, no function can be told of anything."""
    return False


@dataclass(frozen=True, slots=True)
class S3Settings:
    region: str = "us-east-1"
    domains: tuple[str, ...] = ()
    max_object_size: int = MAX_OBJECT_SIZE
    request_timeout: float = 30.0


@dataclass(slots=True)
class Call:
    request: Request
    endpoint: Endpoint
    store: ObjectStore
    settings: S3Settings
    request_id: str
    identity: Identity | None = None
    access: Access | None = None
    body: AsyncIterator[bytes] | None = None
    expect: Expectation = field(default_factory=Expectation)
    destinations: Destinations = no_destinations

    @property
    def bucket(self) -> str:
        assert self.endpoint.bucket is not None
        return self.endpoint.bucket

    @property
    def key(self) -> str:
        assert self.endpoint.key is not None
        return self.endpoint.key

    def cause(self, operation: str) -> Cause:
        """This request as an object change's notification tells of it; `operation` ends the event
        name (ObjectCreated:Put). The caller is its access key, or Anonymous."""
        principal = f"AWS:{self.identity.access_key}" if self.identity is not None else "Anonymous"
        return Cause(operation, self.request_id, self.request.client, principal)

    def stream(self) -> AsyncIterator[bytes]:
        assert self.body is not None
        return self.body

    async def read_xml_body(self) -> bytes:
        """A small, XML-by-contract body, bounded in size: an announced length over the bound
        is refused before a byte of the body is read."""
        announced = self.expect.size
        try:
            if announced is not None and announced > MAX_XML_BODY:
                raise BodyTooLarge(str(MAX_XML_BODY))
            return await collect(self.stream(), MAX_XML_BODY)
        except BodyTooLarge:
            raise S3Error("MaxMessageLengthExceeded", "Your request was too big.") from None
