"""Reads of bucket configurations for features strato does not have: lifecycle rules, default
encryption (objects are stored unencrypted), static website hosting, replication, object lock,
a public access block, server access logging, transfer acceleration, requester pays. Each
answers what S3 answers for a bucket without that configuration, after checking the bucket
exists, so that tools refreshing a bucket's state (Terraform, the aws CLI, s3cmd, rclone) learn
the truth instead of a 501. Deleting a configuration that does not exist
succeeds, as on S3."""

from __future__ import annotations

from strato.http.responses import Response

from .. import xml
from ..call import Call
from ..errors import S3Error
from ..shapes import OwnershipControls, OwnershipControlsRule, RequestPaymentConfiguration

# Operation -> the error S3 answers when the bucket has no such configuration (each
# operation's page in the Amazon S3 API reference).
NOT_CONFIGURED: dict[str, tuple[str, str]] = {
    "GetBucketLifecycleConfiguration": ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
    "GetBucketEncryption": ("ServerSideEncryptionConfigurationNotFoundError",
                            "The server side encryption configuration was not found"),
    "GetBucketWebsite": ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
    "GetBucketReplication": ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
    "GetObjectLockConfiguration": ("ObjectLockConfigurationNotFoundError",
                                   "Object Lock configuration does not exist for this bucket"),
    "GetPublicAccessBlock": ("NoSuchPublicAccessBlockConfiguration",
                             "The public access block configuration was not found"),
}

# Deletes of a configuration strato never holds: 204 No Content, as S3 answers.
ABSENT_DELETES = frozenset({
    "DeleteBucketLifecycle", "DeleteBucketEncryption", "DeleteBucketWebsite", "DeleteBucketReplication",
    "DeletePublicAccessBlock",
})


async def get_not_configured(call: Call) -> Response:
    call.store.get_bucket(call.bucket)
    code, message = NOT_CONFIGURED[call.endpoint.operation]
    raise S3Error(code, message, 404, BucketName=call.bucket)


async def delete_absent(call: Call) -> Response:
    call.store.get_bucket(call.bucket)
    return Response(204)


async def get_bucket_ownership_controls(call: Call) -> Response:
    """BucketOwnerEnforced, what S3 sets on every new bucket: the bucket owner owns every object
    and ACLs grant nothing, access being decided by policies. That is how strato works."""
    call.store.get_bucket(call.bucket)
    return xml.response("OwnershipControls", OwnershipControls([OwnershipControlsRule("BucketOwnerEnforced")]))


async def get_bucket_logging(call: Call) -> Response:
    """GetBucketLogging: an empty BucketLoggingStatus means logging is off."""
    call.store.get_bucket(call.bucket)
    return xml.text_response("BucketLoggingStatus", "")


async def get_bucket_accelerate_configuration(call: Call) -> Response:
    """GetBucketAccelerateConfiguration: no Status when acceleration was never set."""
    call.store.get_bucket(call.bucket)
    return xml.text_response("AccelerateConfiguration", "")


async def get_bucket_request_payment(call: Call) -> Response:
    """GetBucketRequestPayment: the bucket owner pays, as it does for every strato bucket."""
    call.store.get_bucket(call.bucket)
    return xml.response("RequestPaymentConfiguration", RequestPaymentConfiguration("BucketOwner"))
