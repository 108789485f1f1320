"""S3 event notifications to Lambda, pure: a bucket's Lambda function configurations (kept as a
JSON document the storage engine stores without reading), which of them an object change
matches, whether they overlap, whether a function's resource policy lets S3 invoke it, and the
event message S3 sends.
Source: the Amazon S3 User Guide, "Event notification types and destinations", "Configuring
event notifications using object key name filtering" and "Event message structure".
"""

from __future__ import annotations

import base64
import fnmatch
import json
import urllib.parse
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from strato.account import ACCOUNT_ID
from strato.storage.records import CREATED, Change
from strato.xmltree import iso8601

SERVICE = "s3.amazonaws.com"

# Every event type S3 accepts in a configuration (the User Guide's table); strato sends only
# the ObjectCreated and ObjectRemoved:Delete ones, the others concern features it lacks.
EVENTS = frozenset({
    "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy",
    "s3:ObjectCreated:CompleteMultipartUpload",
    "s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
    "s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject",
    "s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:LifecycleTransition", "s3:IntelligentTiering",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
})
_INVOKE_ACTIONS = frozenset({"lambda:InvokeFunction", "lambda:*", "*"})


@dataclass(frozen=True, slots=True)
class LambdaTarget:
    """One LambdaFunctionConfiguration: its key filter's prefix and suffix ('' when not set)."""

    id: str
    function_arn: str
    events: tuple[str, ...]
    prefix: str = ""
    suffix: str = ""

    def wants(self, event_name: str, key: str) -> bool:
        """Whether a change named `event_name` (as in the message: "ObjectCreated:Put") of `key`
        is sent here."""
        kind = event_name.split(":", 1)[0]
        return (f"s3:{event_name}" in self.events or f"s3:{kind}:*" in self.events) and \
            key.startswith(self.prefix) and key.endswith(self.suffix)


def new_id() -> str:
    """An Id for a configuration given none, shaped as S3 makes them (base64 of a UUID)."""
    return base64.b64encode(str(uuid.uuid4()).encode()).decode().rstrip("=")


def to_document(targets: Iterable[LambdaTarget]) -> str:
    return json.dumps({"version": 1, "lambda": [asdict(target) for target in targets]})


def from_document(document: str | None) -> list[LambdaTarget]:
    """The configurations a stored document holds (none without one)."""
    if document is None:
        return []
    return [LambdaTarget(**{**raw, "events": tuple(raw["events"])}) for raw in json.loads(document)["lambda"]]


def _covers(one: str, other: str) -> bool:
    """An event type is the other, or a wildcard over the other's kind."""
    return one == other or (one.endswith(":*") and other.startswith(one[:-1]))


def _share_event(one: LambdaTarget, other: LambdaTarget) -> bool:
    return any(_covers(a, b) or _covers(b, a) for a in one.events for b in other.events)


def overlap(targets: list[LambdaTarget]) -> bool:
    """S3 refuses two configurations sharing an event type whose filters can both match one key:
    each one's prefix begins the other's (or is empty) and each one's suffix ends the other's."""
    for index, one in enumerate(targets):
        for other in targets[index + 1:]:
            prefixes = one.prefix.startswith(other.prefix) or other.prefix.startswith(one.prefix)
            suffixes = one.suffix.endswith(other.suffix) or other.suffix.endswith(one.suffix)
            if prefixes and suffixes and _share_event(one, other):
                return True
    return False


def _conditions_hold(condition: dict[str, Any], bucket: str) -> bool:
    """AddPermission's SourceArn (ArnLike) and SourceAccount (StringEquals) as S3 meets them."""
    source_arn = (condition.get("ArnLike") or {}).get("AWS:SourceArn")
    if source_arn is not None and not fnmatch.fnmatchcase(f"arn:aws:s3:::{bucket}", source_arn):
        return False
    account = (condition.get("StringEquals") or {}).get("AWS:SourceAccount")
    return account is None or account == ACCOUNT_ID


def allows_s3(statements: list[dict[str, Any]], bucket: str) -> bool:
    """Whether a function's resource-based policy lets S3 invoke it for `bucket`'s events.
    Source: the Lambda developer guide, "Process Amazon S3 event notifications with Lambda"."""
    return any(statement.get("Effect") == "Allow"
               and statement.get("Principal") in ("*", {"Service": SERVICE}, {"AWS": "*"})
               and statement.get("Action") in _INVOKE_ACTIONS
               and _conditions_hold(statement.get("Condition") or {}, bucket)
               for statement in statements)


def event_name(change: Change) -> str:
    """The change's eventName: ObjectCreated:<operation> or ObjectRemoved:Delete."""
    if change.kind == CREATED:
        return f"ObjectCreated:{change.cause.operation or 'Put'}"
    return "ObjectRemoved:Delete"


def message(change: Change, target: LambdaTarget, region: str) -> dict[str, Any]:
    """S3's event message for one change sent to one configuration (eventVersion 2.1): the key
    URL-encoded as S3 encodes it (a space as '+'), the sequencer ordering one key's changes."""
    obj: dict[str, Any] = {"key": urllib.parse.quote_plus(change.key, safe="/")}
    if change.kind == CREATED:
        obj.update(size=change.size, eTag=change.etag)
    obj["sequencer"] = f"{change.id:016X}"
    cause = change.cause
    return {"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": region,
        "eventTime": iso8601(change.time), "eventName": event_name(change),
        "userIdentity": {"principalId": cause.principal},
        "requestParameters": {"sourceIPAddress": cause.source_ip},
        "responseElements": {"x-amz-request-id": cause.request_id, "x-amz-id-2": cause.request_id},
        "s3": {
            "s3SchemaVersion": "1.0", "configurationId": target.id,
            "bucket": {"name": change.bucket, "ownerIdentity": {"principalId": ACCOUNT_ID},
                       "arn": f"arn:aws:s3:::{change.bucket}"},
            "object": obj,
        },
    }]}
