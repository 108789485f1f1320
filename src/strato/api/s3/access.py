"""Authorization: may this caller (a signed identity, or anonymous) do this operation on
this bucket or object? Decided by the bucket's policy (strato/auth/policy.py).

Strato's signed callers are all the account root, which owns every bucket: the policy can
only take from it (an explicit Deny), except for the policy operations themselves, which
S3 never denies the owner. An anonymous caller may do only what the policy allows to `*`.
Source: Amazon S3 User Guide, "How Amazon S3 authorizes a request" and "Bucket policies".
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import unquote

from strato.account import ACCOUNT_ID
from strato.auth import policy as iam
from strato.auth.conditions import ContextValue
from strato.auth.credentials import Identity
from strato.auth.errors import AuthError
from strato.http.request import Request
from strato.storage.engine import ObjectStore
from strato.storage.errors import NoSuchBucket, NoSuchKey

from . import actions
from .router import Endpoint

ROOT = iam.Caller(f"arn:aws:iam::{ACCOUNT_ID}:root", ACCOUNT_ID)

_LISTINGS = frozenset({"ListObjects", "ListObjectsV2", "ListObjectVersions"})
# The actions s3:ExistingObjectTag/<tag key> is set for (Service Authorization Reference, Amazon S3
# "Actions defined by Amazon S3"): those on an existing object's data, tags, ACL and locks.
_TAGGED_ACTIONS = frozenset(f"s3:{name}" for name in (
    "GetObject", "GetObjectVersion", "GetObjectAcl", "GetObjectVersionAcl", "GetObjectAttributes",
    "GetObjectVersionAttributes", "GetObjectTagging", "GetObjectVersionTagging", "GetObjectLegalHold",
    "GetObjectRetention", "PutObjectAcl", "PutObjectVersionAcl", "PutObjectTagging", "PutObjectVersionTagging",
    "DeleteObjectTagging", "DeleteObjectVersionTagging", "PutObjectLegalHold", "PutObjectRetention",
))
_HEADER_KEYS = ("x-amz-acl", "x-amz-content-sha256", "x-amz-server-side-encryption",
                "x-amz-server-side-encryption-aws-kms-key-id", "x-amz-storage-class", "x-amz-copy-source",
                "x-amz-metadata-directive")


def denied() -> AuthError:
    return AuthError("AccessDenied", "Access Denied")


def caller_of(identity: Identity | None) -> iam.Caller:
    return iam.ANONYMOUS if identity is None else ROOT


def context_of(request: Request, endpoint: Endpoint, caller: iam.Caller) -> dict[str, ContextValue]:
    """The condition keys a request carries (IAM "global condition context keys" and S3's own)."""
    now = time.time()
    context: dict[str, ContextValue] = {
        "aws:sourceip": request.client,
        "aws:securetransport": "true" if request.scheme == "https" else "false",
        "aws:currenttime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
        "aws:epochtime": str(int(now)),
        "aws:principaltype": "Anonymous" if caller.arn is None else "Account",
    }
    headers = request.headers
    for header, key in (("user-agent", "aws:useragent"), ("referer", "aws:referer")):
        if header in headers:
            context[key] = headers[header]
    if caller.arn is not None and caller.account is not None:
        context.update({"aws:principalarn": caller.arn, "aws:principalaccount": caller.account,
                        "aws:userid": caller.account})
        presigned = "X-Amz-Signature" in request.query or "Signature" in request.query
        context["s3:authtype"] = "REST-QUERY-STRING" if presigned else "REST-HEADER"
        v4 = "X-Amz-Algorithm" in request.query or headers.get("authorization", "").startswith("AWS4-")
        context["s3:signatureversion"] = "AWS4-HMAC-SHA256" if v4 else "AWS"
    if endpoint.operation in _LISTINGS:
        for name in ("prefix", "delimiter", "max-keys"):
            if name in request.query:
                context[f"s3:{name}"] = request.query[name]
    if "versionId" in request.query:
        context["s3:versionid"] = request.query["versionId"]
    for header in _HEADER_KEYS:
        if header in headers:
            context[f"s3:{header}"] = headers[header]
    return context


@dataclass(slots=True)
class Access:
    """One request's authorization: its caller and the bucket policy in force; `per_request`:
    an anonymous caller was let in by a statement whose conditions another request may fail."""

    caller: iam.Caller
    bucket: str | None
    policy: iam.Policy | None
    context: dict[str, ContextValue]
    per_request: bool = False

    def decide(self, action: str, resource: str) -> iam.Decision:
        if self.policy is None:
            return iam.Decision.NONE
        return iam.evaluate(self.policy, self.caller, action, resource, self.context)

    def permits(self, action: str, resource: str) -> bool:
        """The owner may do anything no Deny forbids; anyone else what an Allow grants."""
        decision = self.decide(action, resource)
        if self.caller.arn is not None:
            return decision is not iam.Decision.DENY
        return decision is iam.Decision.ALLOW

    def permits_key(self, action: str, key: str) -> bool:
        assert self.bucket is not None
        return self.permits(action, iam.object_arn(self.bucket, key))

    def conceal_missing(self, operation: str) -> None:
        """A read of a missing key is 404 only to callers who may list the bucket; to others
        it is 403, so that they learn nothing of which keys exist (GetObject, "Permissions")."""
        if operation in actions.READS and self.bucket is not None and not self.permits(
            "s3:ListBucket", iam.bucket_arn(self.bucket)
        ):
            raise denied()


def _policy_of(store: ObjectStore, bucket: str) -> iam.Policy | None:
    """The bucket's policy; None when it has none or the bucket does not exist (the handler
    then answers NoSuchBucket to a signed caller; an anonymous one is denied before that)."""
    try:
        document = store.bucket_policy(bucket)
    except NoSuchBucket:
        return None
    return None if document is None else iam.parse_stored(document, bucket)


def _access(request: Request, endpoint: Endpoint, store: ObjectStore, caller: iam.Caller,
            bucket: str | None) -> Access:
    policy = None if bucket is None else _policy_of(store, bucket)
    context = {} if policy is None else context_of(request, endpoint, caller)
    return Access(caller, bucket, policy, context)


def authorize(request: Request, endpoint: Endpoint, store: ObjectStore, identity: Identity | None) -> Access:
    """Raises AccessDenied unless the caller may do the endpoint's operation; returns the
    Access for checks a handler makes itself (each key of a DeleteObjects)."""
    caller = caller_of(identity)
    access = _access(request, endpoint, store, caller, endpoint.bucket)
    if endpoint.operation in actions.PER_KEY:
        if caller.arn is None and access.policy is None:
            raise denied()
        return access
    action = actions.action_of(endpoint.operation, request.query)
    if action is None or endpoint.bucket is None:
        if caller.arn is None:
            raise denied()
        return access
    if caller.arn is not None and endpoint.operation in actions.OWNER_ALWAYS:
        return access
    resource = (iam.bucket_arn(endpoint.bucket) if endpoint.key is None
                else iam.object_arn(endpoint.bucket, endpoint.key))
    if endpoint.key is not None and action in _TAGGED_ACTIONS:
        _with_existing_tags(access, store, endpoint.key)
    if not access.permits(action, resource):
        raise denied()
    access.per_request = caller.arn is None and access.policy is not None and iam.depends_on_request(
        access.policy, caller, action, resource)
    if endpoint.operation in actions.COPIES:
        _authorize_source(request, endpoint, store, caller)
    return access


def _authorize_source(request: Request, endpoint: Endpoint, store: ObjectStore, caller: iam.Caller) -> None:
    """A copy reads its source: that needs s3:GetObject there, under the source bucket's policy."""
    raw = request.headers.get("x-amz-copy-source", "")
    path, _, version = raw.partition("?")
    bucket, _, key = unquote(path).lstrip("/").partition("/")
    if not bucket or not key:
        return  # the handler refuses the header itself
    source = _access(request, endpoint, store, caller, bucket)
    _with_existing_tags(source, store, key)
    if not source.permits(actions.source_action(version or None), iam.object_arn(bucket, key)):
        raise denied()


def _with_existing_tags(access: Access, store: ObjectStore, key: str) -> None:
    """s3:ExistingObjectTag/<tag key>: the tags of the object `key` the request acts on, read only
    when the bucket's policy tests one (S3 User Guide, "Tagging and access control policies")."""
    policy = access.policy
    if policy is None or access.bucket is None or not any(
            condition.key.startswith(iam.EXISTING_OBJECT_TAG) for statement in policy.statements
            for condition in statement.conditions):
        return
    try:
        tags = store.head_object(access.bucket, key).tags
    except (NoSuchBucket, NoSuchKey):
        return
    access.context.update({iam.EXISTING_OBJECT_TAG + name.lower(): value for name, value in tags.items()})
