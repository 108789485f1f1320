"""Operation name -> handler. An operation missing here answers 501 NotImplemented."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from strato.http.responses import Response

from ..call import Call
from . import (
    acl,
    bucket_cors,
    bucket_features,
    bucket_notifications,
    bucket_policy,
    buckets,
    copy,
    listing,
    multipart,
    objects,
    tagging,
)

Handler = Callable[[Call], Awaitable[Response]]

HANDLERS: dict[str, Handler] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "PutBucketPolicy": bucket_policy.put_bucket_policy,
    "GetBucketPolicy": bucket_policy.get_bucket_policy,
    "DeleteBucketPolicy": bucket_policy.delete_bucket_policy,
    "GetBucketPolicyStatus": bucket_policy.get_bucket_policy_status,
    "PutBucketCors": bucket_cors.put_bucket_cors,
    "GetBucketCors": bucket_cors.get_bucket_cors,
    "DeleteBucketCors": bucket_cors.delete_bucket_cors,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "ListObjectVersions": listing.list_object_versions,
    "PutObject": objects.put_object,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "DeleteObject": objects.delete_object,
    "DeleteObjects": objects.delete_objects,
    "GetObjectAttributes": objects.get_object_attributes,
    "CopyObject": copy.copy_object,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
    "ListParts": multipart.list_parts,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "PutObjectTagging": tagging.put_object_tagging,
    "GetObjectTagging": tagging.get_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "PutBucketTagging": tagging.put_bucket_tagging,
    "GetBucketTagging": tagging.get_bucket_tagging,
    "DeleteBucketTagging": tagging.delete_bucket_tagging,
    "GetBucketAcl": acl.get_bucket_acl,
    "PutBucketAcl": acl.put_bucket_acl,
    "GetObjectAcl": acl.get_object_acl,
    "PutObjectAcl": acl.put_object_acl,
    "GetBucketOwnershipControls": bucket_features.get_bucket_ownership_controls,
    "GetBucketLogging": bucket_features.get_bucket_logging,
    "GetBucketAccelerateConfiguration": bucket_features.get_bucket_accelerate_configuration,
    "GetBucketRequestPayment": bucket_features.get_bucket_request_payment,
    "GetBucketNotificationConfiguration": bucket_notifications.get_bucket_notification_configuration,
    "PutBucketNotificationConfiguration": bucket_notifications.put_bucket_notification_configuration,
    **dict.fromkeys(bucket_features.NOT_CONFIGURED, bucket_features.get_not_configured),
    **dict.fromkeys(bucket_features.ABSENT_DELETES, bucket_features.delete_absent),
}
