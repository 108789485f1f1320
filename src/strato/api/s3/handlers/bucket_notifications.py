"""Bucket event notifications: PutBucketNotificationConfiguration and
GetBucketNotificationConfiguration. Lambda destinations are checked as S3 checks them (the
function must exist and its resource-based policy let s3.amazonaws.com invoke it for this
bucket) and kept as a document the events layer reads; an empty configuration turns
notifications off."""

from __future__ import annotations

from strato.events.s3_notifications import from_document, to_document
from strato.http.responses import Response

from .. import notifications, xml
from ..call import Call
from .objects import read_verified_body


async def get_bucket_notification_configuration(call: Call) -> Response:
    """An empty NotificationConfiguration when no destination is told of the bucket's events."""
    targets = from_document(call.store.bucket_notification(call.bucket))
    return xml.response("NotificationConfiguration", notifications.to_shape(targets))


async def put_bucket_notification_configuration(call: Call) -> Response:
    """x-amz-skip-destination-validation: true skips the destination check, as on S3."""
    targets = notifications.from_body(xml.parse(await read_verified_body(call)))
    call.store.get_bucket(call.bucket)
    if call.request.headers.get("x-amz-skip-destination-validation", "").lower() != "true":
        refused = [target.function_arn for target in targets
                   if not await call.destinations(target.function_arn, call.bucket)]
        if refused:
            raise notifications.unvalidated(refused)
    await call.store.put_bucket_notification(call.bucket, to_document(targets) if targets else None)
    return Response(200)
