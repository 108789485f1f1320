"""The Lambda ASGI app: route -> read the (bounded) body -> authenticate -> dispatch.

Errors become Lambda's JSON here and only here: `{"Type": ..., "message" (or "Message"): ...}` with the code
in `x-amzn-ErrorType`; every response carries `x-amzn-RequestId`. SigV4 for services other
than S3 signs the body's SHA-256, so the body is read (within the operation's limit) before
the signature can be checked.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable

from strato.api.signed import claim, verify_body
from strato.auth import sigv4
from strato.auth.credentials import CredentialStore, refuse_function
from strato.functions.records import MAX_PAYLOAD
from strato.http.bodies import BodyTooLarge, collect, stream
from strato.http.lane import LaneAnswer, Reply
from strato.http.request import Request
from strato.http.responses import Response, Tracked
from strato.http.types import Message, Receive, Scope, Send

from .call import Call, Services
from .errors import PACKAGE_OPERATIONS, LambdaError, to_lambda_error, too_large
from .handlers import HANDLERS, STARTERS
from .router import Endpoint, route
from .warm import WarmInvokes

log = logging.getLogger("strato.lambda")


async def _read_already() -> Message:
    raise RuntimeError("the body was read before the app was called")


_V4_MASK = ~(0xF000 << 64 | 0xC000 << 48)  # the version and variant bits of a UUID, cleared
_V4_BITS = 0x4000 << 64 | 0x8000 << 48


def new_request_id() -> str:
    """A version-4 UUID, the shape of Lambda's request ids: unique, not secret, so its bits come
    from `random` (reseeded in every forked process) instead of a system call per request."""
    digits = "%032x" % (random.getrandbits(128) & _V4_MASK | _V4_BITS)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


MAX_CODE_REQUEST = 69_905_067  # Lambda's limit for a CreateFunction/UpdateFunctionCode request (base64 zip)
MAX_REQUEST = 1024 * 1024  # every other operation's JSON body
_INVOKES = ("Invoke", "InvokeWithResponseStream")
_FUNCTION_OPERATIONS = frozenset(_INVOKES)  # all a function's own keys may call here (lambda:InvokeFunction)
_BODY_LIMITS = {**dict.fromkeys(_INVOKES, MAX_PAYLOAD), **dict.fromkeys(PACKAGE_OPERATIONS, MAX_CODE_REQUEST)}
# A package request holds its body, the decoded zip and its unpacking in memory at once
# (up to ~170 MB): a worker takes this many at a time, so that memory stays bounded.
CONCURRENT_PACKAGES = 2


class LambdaApp:
    def __init__(self, services: Services, credentials: CredentialStore) -> None:
        self.services = services
        self.credentials = credentials
        self._packages = asyncio.Semaphore(CONCURRENT_PACKAGES)
        self._answering: set[asyncio.Task[None]] = set()
        self.warm = WarmInvokes(services, credentials)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = new_request_id()
        tracked = Tracked(send, [(b"x-amzn-requestid", request_id.encode())])

        try:
            request = Request.from_scope(scope, receive)
            response = await self.handle(request, request_id)
            await response.send(tracked)
        except Exception as exc:
            if tracked.started:
                log.warning("request %s aborted mid-response: %r", request_id, exc)
                raise
            await self.error_response(exc, request_id).send(tracked)

    def take(self, scope: Scope, body: bytes, reply: Reply) -> bool:
        """The same request answered without ASGI, for a request whose body is already read and
        whose response is small by contract (the lane's Invoke); a warm Invoke is answered from
        the runtime's answer, with no task in between."""
        request_id = new_request_id()
        if self.warm.start(scope, body, request_id, lambda outcome: reply(self.lane_answer(outcome, request_id))):
            return True
        try:
            request = Request.from_scope(scope, _read_already)
            endpoint = route(request.method, request.raw_path.decode("latin-1"))
            call = self.verified_call(request, endpoint, self.authorization(request, endpoint), body, request_id)
            starter = STARTERS.get(endpoint.operation)
            pending: Awaitable[Response] | None
            if starter is None:
                pending = HANDLERS[endpoint.operation](call)
            else:
                pending = starter(call, lambda outcome: reply(self.lane_answer(outcome, request_id)))
        except Exception as exc:
            reply(self.lane_answer(exc, request_id))
            return True
        if pending is not None:
            task = asyncio.get_running_loop().create_task(self._answer_later(pending, request_id, reply))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
        return True

    async def _answer_later(self, pending: Awaitable[Response], request_id: str, reply: Reply) -> None:
        try:
            outcome: Response | Exception = await pending
        except Exception as exc:
            outcome = exc
        reply(self.lane_answer(outcome, request_id))

    def lane_answer(self, outcome: Response | BaseException, request_id: str) -> LaneAnswer:
        if isinstance(outcome, Exception):
            outcome = self.error_response(outcome, request_id)
        elif isinstance(outcome, BaseException):
            raise outcome
        if outcome.close is not None:
            outcome.close()
        body = outcome.body
        if not isinstance(body, bytes):
            return self.lane_answer(RuntimeError("a streamed response cannot take the lane"), request_id)
        headers = [(name.encode("latin-1"), value.encode("latin-1", "replace")) for name, value in outcome.headers]
        headers.append((b"x-amzn-requestid", request_id.encode()))
        return outcome.status, headers, body

    def error_response(self, exc: Exception, request_id: str) -> Response:
        error = to_lambda_error(exc)
        if error is None:
            log.exception("request %s failed", request_id)
            error = LambdaError("ServiceException", "The service encountered an internal error.", 500)
        headers = [("content-type", "application/json"), ("x-amzn-errortype", error.code), *error.headers.items()]
        return Response(error.status, headers, error.body())

    async def handle(self, request: Request, request_id: str) -> Response:
        endpoint = route(request.method, request.raw_path.decode("latin-1"))
        auth = self.authorization(request, endpoint)  # before any body is read: strangers hold no upload slot
        if endpoint.operation in PACKAGE_OPERATIONS:
            async with self._packages:
                return await self.dispatch(request, endpoint, request_id, auth)
        return await self.dispatch(request, endpoint, request_id, auth)

    async def dispatch(self, request: Request, endpoint: Endpoint, request_id: str,
                       auth: sigv4.Authorization) -> Response:
        body = await self.read_body(request, endpoint.operation)
        return await HANDLERS[endpoint.operation](self.verified_call(request, endpoint, auth, body, request_id))

    def verified_call(self, request: Request, endpoint: Endpoint, auth: sigv4.Authorization, body: bytes,
                      request_id: str) -> Call:
        """The call, once its body is within the operation's limit and the signature covers it."""
        limit = _BODY_LIMITS.get(endpoint.operation, MAX_REQUEST)
        if len(body) > limit:
            raise too_large(limit, endpoint.operation)
        verify_body(self.credentials, auth, request, body)
        return Call(request, endpoint, body, request_id, self.services)

    async def read_body(self, request: Request, operation: str) -> bytes:
        limit = _BODY_LIMITS.get(operation, MAX_REQUEST)
        length = request.content_length()
        if length is not None and length > limit:
            raise too_large(limit, operation)
        try:
            return await collect(stream(request.receive, length, self.services.settings.request_timeout), limit)
        except BodyTooLarge:
            raise too_large(limit, operation) from None

    def authorization(self, request: Request, endpoint: Endpoint) -> sigv4.Authorization:
        """Every call is signed (header or presigned query) by a known key, for service `lambda`;
        the signature itself is checked once the body it covers is read. A function's own keys
        are refused any operation but Invoke here, before the body: anyone can name such a key
        (STRATOFN<name>), so the unknown-key check alone no longer keeps strangers from the body
        reads and upload slots."""
        auth, identity = claim(request, self.credentials)
        if identity.function is not None and endpoint.operation not in _FUNCTION_OPERATIONS:
            registry = self.services.registry
            name = endpoint.function_name
            resource = registry.arn(*registry.split(name, request.query.get("Qualifier") or None)) if name else "*"
            refuse_function(identity, f"lambda:{endpoint.operation}", resource)
        return auth
