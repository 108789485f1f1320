"""The warm invoke's own path: a header-signed RequestResponse Invoke of a function whose
route is cached, started on an idle environment straight from the lane's scope and body.

The general path (a request view of every header, the router, SigV4 verification with every
check a request may need, the handler's Call) costs a warm invoke about a tenth of boto3's own
time per call, several times its in-process time: the worker's caches are cold when it wakes
for each request (docs/performance.md, "Functions"). This path reads only what such an invoke
carries, in one pass over the raw headers, and checks the same things with the same pieces:
SigV4's canonical request, string to sign and signing key, the Invoke handler's payload and
client-context rules, the registry's route cache, the invoker.
What it is not sure of (another operation or form, a presigned or unusual signature, a
repeated or unknown Invoke header, anything wrong with the request, no idle environment) it
leaves untouched: the general path answers, errors included, as if this path did not exist.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable

from strato.auth import sigv4
from strato.auth.credentials import CredentialStore
from strato.auth.errors import AuthError
from strato.auth.verify import verify_v4
from strato.functions.errors import InvalidParameter
from strato.http.responses import Response
from strato.http.types import Scope

from .call import Services
from .errors import LambdaError
from .handlers.invoke import answering, invoke_request, new_invocation

_PATH = re.compile(r"/2015-03-31/functions/([A-Za-z0-9_.-]+)/invocations")
_QUERY = re.compile(rb"(?:Qualifier=((?:[A-Za-z0-9_-]|%24)+))?")  # $LATEST comes as %24LATEST
_AUTHORIZATION = re.compile(r"AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([a-z0-9;-]+), ?"
                            r"Signature=([0-9a-f]{64})")
# The headers this path reads; a request repeating one goes the general way.
_READ = frozenset({b"authorization", b"x-amz-date", b"x-amz-content-sha256", b"x-amz-invocation-type",
                   b"x-amz-log-type", b"x-amz-client-context"})

Done = Callable[[Response | BaseException], None]


class WarmInvokes:
    def __init__(self, services: Services, credentials: CredentialStore) -> None:
        self.services = services
        self.credentials = credentials

    def start(self, scope: Scope, body: bytes, request_id: str, done: Done) -> bool:
        """Started (True): `done` gets the Invoke's response, or the exception the invoke
        raised. False: nothing was started and nothing was answered."""
        try:
            return self._start(scope, body, request_id, done)
        except (AuthError, LambdaError, InvalidParameter):
            return False  # the general path finds the same fault and answers it

    def _start(self, scope: Scope, body: bytes, request_id: str, done: Done) -> bool:
        raw_path: bytes = scope["raw_path"]
        if scope["method"] != "POST" or b"%" in raw_path:
            return False
        path = _PATH.fullmatch(scope["path"])
        query = _QUERY.fullmatch(scope["query_string"])
        if path is None or query is None:
            return False
        read: dict[bytes, bytes] = {}
        for name, value in scope["headers"]:
            if name in _READ:
                if name in read:
                    return False
                read[name] = value
        if read.get(b"x-amz-invocation-type", b"RequestResponse") != b"RequestResponse":
            return False
        if not self._signed(scope, read, body):
            return False
        qualifier = None if query[1] is None else query[1].decode().replace("%24", "$")
        function = self.services.registry.resolve_cached(path[1], qualifier)
        if function is None:
            return False  # before the payload is parsed: the general path parses it
        context = read.get(b"x-amz-client-context")
        request = invoke_request("RequestResponse", read.get(b"x-amz-log-type", b"None").decode("latin-1"), body,
                                 None if context is None else context.decode("latin-1"))
        invocation = new_invocation(self.services.registry, function, qualifier, request_id, request)
        return self.services.invoker.start(invocation, answering(done, request.log_tail))

    def _signed(self, scope: Scope, read: dict[bytes, bytes], body: bytes) -> bool:
        """The request's SigV4 Authorization header holds, for a known key (False: not sure;
        AuthError: it does not), checked by the general path's own verify_v4."""
        claim = _AUTHORIZATION.fullmatch(read.get(b"authorization", b"").decode("latin-1"))
        amz_date = read.get(b"x-amz-date", b"").decode("latin-1")
        if claim is None or not amz_date:
            return False
        payload_hash = hashlib.sha256(body).hexdigest()
        if read.get(b"x-amz-content-sha256", payload_hash.encode()) != payload_hash.encode():
            return False
        auth = sigv4.Authorization(sigv4.parse_scope(claim[1]), tuple(claim[2].split(";")), claim[3], amz_date="")
        wanted = frozenset(name.encode() for name in auth.signed_headers)
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in scope["headers"]
                   if name in wanted]
        verify_v4(self.credentials, auth, method="POST", raw_path=scope["raw_path"], raw_query=scope["query_string"],
                  headers=headers, header_map={"x-amz-date": amz_date}, query={}, now=time.time(),
                  body_sha256=payload_hash)
        return True
