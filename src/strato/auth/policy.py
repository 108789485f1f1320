"""Bucket policies: parse and validate a policy document, then decide one request with it.

Pure functions over values. Sources: IAM User Guide, "IAM JSON policy element reference" and
"Policy evaluation logic" (an explicit Deny wins, then an Allow, else the implicit deny);
Amazon S3 User Guide, "Bucket policy examples" and "Blocking public access" (what "public"
means). Error messages are the ones S3's PutBucketPolicy answers with MalformedPolicy.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from strato import jsontext
from strato.auth.conditions import OPERATORS, Condition, ConditionError, Context, parse_block, wildcard

VERSIONS = ("2012-10-17", "2008-10-17")
S3_ARN = "arn:aws:s3:::"
MAX_SIZE = 20 * 1024  # bucket policies are limited to 20 KB, whitespace aside
MAX_DOCUMENT = 128 * 1024  # and, whitespace included, strato keeps no more than this

# S3's IAM actions by the resource they apply to (Service Authorization Reference, Amazon S3).
OBJECT_ACTIONS = frozenset({
    "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
    "DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl", "GetObjectAttributes",
    "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion",
    "GetObjectVersionAcl", "GetObjectVersionAttributes", "GetObjectVersionForReplication",
    "GetObjectVersionTagging", "GetObjectVersionTorrent", "InitiateReplication", "ListMultipartUploadParts",
    "ObjectOwnerOverrideToBucketOwner", "PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention",
    "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject",
    "ReplicateTags", "RestoreObject",
})
BUCKET_ACTIONS = frozenset({
    "CreateBucket", "DeleteBucket", "DeleteBucketOwnershipControls", "DeleteBucketPolicy", "DeleteBucketWebsite",
    "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS",
    "GetBucketLocation", "GetBucketLogging", "GetBucketNotification", "GetBucketObjectLockConfiguration",
    "GetBucketOwnershipControls", "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
    "GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
    "GetEncryptionConfiguration", "GetIntelligentTieringConfiguration", "GetInventoryConfiguration",
    "GetLifecycleConfiguration", "GetMetricsConfiguration", "GetReplicationConfiguration", "ListBucket",
    "ListBucketMultipartUploads", "ListBucketVersions", "PutAccelerateConfiguration",
    "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS", "PutBucketLogging", "PutBucketNotification",
    "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls", "PutBucketPolicy",
    "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging", "PutBucketVersioning",
    "PutBucketWebsite", "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration", "PutLifecycleConfiguration", "PutMetricsConfiguration",
    "PutReplicationConfiguration",
})
ACCOUNT_ACTIONS = frozenset({"ListAllMyBuckets", "GetAccountPublicAccessBlock", "PutAccountPublicAccessBlock"})
_ALL_ACTIONS = OBJECT_ACTIONS | BUCKET_ACTIONS | ACCOUNT_ACTIONS
_BY_LOWER = {name.lower(): name for name in _ALL_ACTIONS}

# Condition keys that apply only to some actions; a statement naming other actions is refused.
_KEY_ACTIONS = {
    "s3:prefix": frozenset({"ListBucket", "ListBucketVersions"}),
    "s3:delimiter": frozenset({"ListBucket", "ListBucketVersions"}),
    "s3:max-keys": frozenset({"ListBucket", "ListBucketVersions"}),
    "s3:x-amz-acl": frozenset({"PutObject", "PutObjectAcl", "PutBucketAcl"}),
    "s3:versionid": frozenset(a for a in OBJECT_ACTIONS if "Version" in a),
}
# Keys whose fixed values tie a grant to known parties: a grant restricted by one is not public.
_RESTRICTING_KEYS = frozenset({
    "aws:sourceip", "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
    "aws:principalaccount", "aws:principalarn", "aws:principalorgid", "aws:userid", "s3:dataaccesspointarn",
    "s3:dataaccesspointaccount",
})
EXISTING_OBJECT_TAG = "s3:existingobjecttag/"  # the key of each of an object's tags, by its own key
_ACCOUNT_ID = re.compile(r"\d{12}")
# CloudFront's origin access identities are principals of the account `cloudfront`; their
# canonical user ids have 96 hex digits, accounts' 64.
_IAM_ARN = re.compile(r"arn:aws:(iam::\d{12}:(root|user/.+|role/.+)|sts::\d{12}:(assumed-role|federated-user)/.+"
                      r"|iam::cloudfront:user/CloudFront Origin Access Identity [A-Z0-9]+)")
_CANONICAL_USER = re.compile(r"[0-9a-f]{64}|[0-9a-f]{96}")
_STATEMENT_FIELDS = frozenset({"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource",
                               "NotResource", "Condition"})


class MalformedPolicy(Exception):
    """A document PutBucketPolicy refuses; the message is the one S3 gives."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Decision(enum.Enum):
    ALLOW = "allow"
    DENY = "deny"  # an explicit Deny
    NONE = "none"  # no statement applies: the implicit deny


@dataclass(frozen=True, slots=True)
class Caller:
    """Who makes a request: an IAM ARN and its account, or neither when anonymous."""

    arn: str | None = None
    account: str | None = None


ANONYMOUS = Caller()


@dataclass(frozen=True, slots=True)
class Principals:
    everyone: bool = False
    aws: frozenset[str] = frozenset()  # ARNs and account ids

    def cover(self, caller: Caller) -> bool:
        """`*` covers everyone, anonymous callers included; an account id or its root ARN
        covers every identity in that account; any other ARN covers itself."""
        if self.everyone:
            return True
        if caller.arn is None:
            return False
        return caller.arn in self.aws or (caller.account is not None and (
            caller.account in self.aws or f"arn:aws:iam::{caller.account}:root" in self.aws))


@dataclass(frozen=True, slots=True)
class Statement:
    sid: str
    effect: str  # "Allow" or "Deny"
    principals: Principals
    not_principal: bool
    actions: tuple[str, ...]  # wildcard patterns, "s3:..." or "*"
    not_action: bool
    resources: tuple[str, ...]  # wildcard patterns over ARNs
    not_resource: bool
    conditions: tuple[Condition, ...] = ()

    def names(self, caller: Caller, action: str, resource: str) -> bool:
        """Whether the statement is about `caller` doing `action` on `resource`, its conditions aside."""
        return (
            self.principals.cover(caller) != self.not_principal
            and any(wildcard(p, True).fullmatch(action) for p in self.actions) != self.not_action
            and any(wildcard(p).fullmatch(resource) for p in self.resources) != self.not_resource
        )

    def applies(self, caller: Caller, action: str, resource: str, context: Context) -> bool:
        return self.names(caller, action, resource) and all(c.holds(context) for c in self.conditions)

    def public(self) -> bool:
        """An Allow any caller can use, not narrowed by a condition on fixed request origins."""
        if self.effect != "Allow" or not (self.principals.everyone or self.not_principal):
            return False
        return not any(_restricts(c) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Policy:
    version: str
    statements: tuple[Statement, ...]


def _restricts(condition: Condition) -> bool:
    if condition.key not in _RESTRICTING_KEYS or condition.operator == "Null":
        return False
    if OPERATORS[condition.operator][1] or condition.if_exists:
        return False
    if condition.key == "aws:sourceip":
        return not any(v.endswith("/0") for v in condition.values)
    return not any("*" in v for v in condition.values)


def evaluate(policy: Policy, caller: Caller, action: str, resource: str, context: Context) -> Decision:
    """The policy's decision for `caller` doing `action` ("s3:GetObject") on `resource` (an ARN)."""
    allowed = False
    for statement in policy.statements:
        if statement.applies(caller, action, resource, context):
            if statement.effect == "Deny":
                return Decision.DENY
            allowed = True
    return Decision.ALLOW if allowed else Decision.NONE


def depends_on_request(policy: Policy, caller: Caller, action: str, resource: str) -> bool:
    """Whether another request by `caller` doing `action` on `resource` may be decided otherwise:
    a statement about them has a condition on the request (its address, Referer, User-Agent,
    protocol, time...). An object's own tags (s3:ExistingObjectTag) are the object's, not the request's."""
    return any(any(not condition.key.startswith(EXISTING_OBJECT_TAG) for condition in statement.conditions)
               and statement.names(caller, action, resource) for statement in policy.statements)


def is_public(policy: Policy) -> bool:
    """GetBucketPolicyStatus's IsPublic: some statement grants access to anyone at all."""
    return any(s.public() for s in policy.statements)


def bucket_arn(bucket: str) -> str:
    return S3_ARN + bucket


def object_arn(bucket: str, key: str) -> str:
    return f"{S3_ARN}{bucket}/{key}"


# -- parsing and validation -------------------------------------------------------------


def _strings(value: object, message: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(item, str) and item for item in items):
        raise MalformedPolicy(message)
    return tuple(items)


def _principals(value: object) -> Principals:
    if value == "*":
        return Principals(everyone=True)
    if not isinstance(value, dict) or not value:
        raise MalformedPolicy("Invalid principal in policy")
    aws: set[str] = set()
    everyone = False
    for kind, raw in value.items():
        names = _strings(raw, "Invalid principal in policy")
        if kind == "AWS":
            for name in names:
                if name == "*":
                    everyone = True
                elif _ACCOUNT_ID.fullmatch(name) or _IAM_ARN.fullmatch(name):
                    aws.add(name)
                else:
                    raise MalformedPolicy("Invalid principal in policy")
        elif kind == "CanonicalUser":
            if not all(_CANONICAL_USER.fullmatch(n) for n in names):
                raise MalformedPolicy("Invalid principal in policy")
        elif kind not in ("Service", "Federated"):
            raise MalformedPolicy("Invalid principal in policy")
    # Service, federated and canonical-user principals are valid but name no strato caller.
    return Principals(everyone=everyone, aws=frozenset(aws))


def _action(pattern: str) -> frozenset[str]:
    """The S3 actions a pattern names (all of them for `*`); refused when it names none."""
    if pattern == "*":
        return _ALL_ACTIONS
    service, _, name = pattern.partition(":")
    if service.lower() != "s3" or not name:
        raise MalformedPolicy("Policy has invalid action")
    matcher = wildcard(name, True)
    named = frozenset(_BY_LOWER[lower] for lower in _BY_LOWER if matcher.fullmatch(lower))
    if not named:
        raise MalformedPolicy("Policy has invalid action")
    return named


def _resource(pattern: str, bucket: str) -> None:
    """A resource must be an S3 ARN naming this bucket or objects in it."""
    if pattern == "*":
        return
    if not pattern.startswith(S3_ARN):
        raise MalformedPolicy("Policy has invalid resource")
    named, _, _ = pattern[len(S3_ARN):].partition("/")
    if not named or not wildcard(named).fullmatch(bucket):
        raise MalformedPolicy("Policy has invalid resource")


def _reaches(resources: Iterable[str], bucket: str) -> tuple[bool, bool]:
    """Whether the resources can name (the bucket, objects in it)."""
    to_bucket = to_objects = False
    for pattern in resources:
        to_bucket = to_bucket or wildcard(pattern).fullmatch(bucket_arn(bucket)) is not None
        to_objects = to_objects or pattern == "*" or "/" in pattern or pattern.endswith("*")
    return to_bucket, to_objects


def _one_of(raw: dict[str, object], name: str) -> tuple[object, bool]:
    negated = "Not" + name
    if name in raw and negated in raw:
        raise MalformedPolicy(f"Statement can not have both {name} and {negated}")
    if name in raw:
        return raw[name], False
    if negated in raw:
        return raw[negated], True
    raise MalformedPolicy(f"Missing required field {name}")


def _statement(raw: object, bucket: str) -> Statement:
    if not isinstance(raw, dict):
        raise MalformedPolicy("This policy contains invalid Json")
    for field in raw:
        if field not in _STATEMENT_FIELDS:
            raise MalformedPolicy(f"Unknown field {field}")
    sid = raw.get("Sid", "")
    if not isinstance(sid, str):
        raise MalformedPolicy("This policy contains invalid Json")
    effect = raw.get("Effect")
    if effect is None:
        raise MalformedPolicy("Missing required field Effect")
    if effect not in ("Allow", "Deny"):
        raise MalformedPolicy(f"Invalid effect: {effect}")
    principal, not_principal = _one_of(raw, "Principal")
    action_value, not_action = _one_of(raw, "Action")
    resource_value, not_resource = _one_of(raw, "Resource")
    actions = _strings(action_value, "Policy has invalid action")
    resources = _strings(resource_value, "Policy has invalid resource")
    for resource in resources:
        _resource(resource, bucket)
    named = {pattern: _action(pattern) for pattern in actions}
    concrete = [next(iter(n)) for pattern, n in named.items() if "*" not in pattern and "?" not in pattern]
    if not not_action and not not_resource:
        to_bucket, to_objects = _reaches(resources, bucket)
        for name in concrete:
            if not ((name in OBJECT_ACTIONS and to_objects) or (name in BUCKET_ACTIONS and to_bucket)):
                raise MalformedPolicy("Action does not apply to any resource(s) in statement")
    try:
        conditions = parse_block(raw["Condition"]) if "Condition" in raw else ()
    except ConditionError as exc:
        raise MalformedPolicy(str(exc)) from None
    for condition in conditions:
        allowed = _KEY_ACTIONS.get(condition.key)
        if allowed is not None and not not_action and any(name not in allowed for name in concrete):
            raise MalformedPolicy("Conditions do not apply to combination of actions and resources in statement")
    return Statement(sid, effect, _principals(principal), not_principal, actions, not_action, resources,
                     not_resource, conditions)


def parse(document: str | bytes, bucket: str) -> Policy:
    """A validated policy for `bucket`, or MalformedPolicy with S3's message."""
    text = document.decode("utf-8", "replace") if isinstance(document, bytes) else document
    if len(text) > MAX_DOCUMENT:
        raise MalformedPolicy("Policy exceeds the maximum allowed document size.")
    if not text.lstrip().startswith("{"):
        raise MalformedPolicy("Policies must be valid JSON and the first byte must be '{'")
    try:
        raw = jsontext.loads(text)
    except ValueError:
        raise MalformedPolicy("This policy contains invalid Json") from None
    if len(json.dumps(raw, separators=(",", ":"), ensure_ascii=False).encode()) > MAX_SIZE:
        raise MalformedPolicy("Policy exceeds the maximum allowed document size.")
    for field in raw:
        if field not in ("Version", "Id", "Statement"):
            raise MalformedPolicy(f"Unknown field {field}")
    version = raw.get("Version", "2008-10-17")
    if version not in VERSIONS:
        raise MalformedPolicy("The policy must contain a valid version string")
    if "Statement" not in raw:
        raise MalformedPolicy("Missing required field Statement")
    found = raw["Statement"]
    items = found if isinstance(found, list) else [found]
    if not items:
        raise MalformedPolicy("Could not parse the policy: Statement is empty!")
    statements = tuple(_statement(item, bucket) for item in items)
    sids = [s.sid for s in statements if s.sid]
    if len(sids) != len(set(sids)):
        raise MalformedPolicy("Statement IDs (SID) in a single policy must be unique.")
    return Policy(version, statements)


@lru_cache(maxsize=64)
def parse_stored(document: str, bucket: str) -> Policy:
    """A stored (already validated) policy, parsed once per distinct document."""
    return parse(document, bucket)
