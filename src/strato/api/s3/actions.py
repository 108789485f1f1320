"""Operation -> the IAM action a policy names it by (Amazon S3 API reference, "Permissions"
for each operation; Service Authorization Reference, Amazon S3). One table, beside the
handler table: an operation missing here can be done by no one but the bucket owner."""

from __future__ import annotations

from collections.abc import Mapping

ACTIONS: dict[str, str] = {
    "ListBuckets": "s3:ListAllMyBuckets",
    "CreateBucket": "s3:CreateBucket",
    "HeadBucket": "s3:ListBucket",
    "DeleteBucket": "s3:DeleteBucket",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketPolicyStatus": "s3:GetBucketPolicyStatus",
    "PutBucketCors": "s3:PutBucketCORS",
    "GetBucketCors": "s3:GetBucketCORS",
    "DeleteBucketCors": "s3:PutBucketCORS",
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "PutObject": "s3:PutObject",
    "PostObject": "s3:PutObject",
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "DeleteObject": "s3:DeleteObject",
    "DeleteObjects": "s3:DeleteObject",  # checked for each key it names
    "GetObjectAttributes": "s3:GetObjectAttributes",
    "CopyObject": "s3:PutObject",  # and s3:GetObject on the source
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",  # and s3:GetObject on the source
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "ListParts": "s3:ListMultipartUploadParts",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "PutObjectTagging": "s3:PutObjectTagging",
    "GetObjectTagging": "s3:GetObjectTagging",
    "DeleteObjectTagging": "s3:DeleteObjectTagging",
    "PutBucketTagging": "s3:PutBucketTagging",
    "GetBucketTagging": "s3:GetBucketTagging",
    "DeleteBucketTagging": "s3:PutBucketTagging",  # S3 has no s3:DeleteBucketTagging action
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetObjectAcl": "s3:GetObjectAcl",
    "PutObjectAcl": "s3:PutObjectAcl",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketWebsite": "s3:GetBucketWebsite",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite",
    "GetBucketReplication": "s3:GetReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "GetBucketLogging": "s3:GetBucketLogging",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "GetBucketRequestPayment": "s3:GetBucketRequestPayment",
}

# Operations on a specific version need the *Version action instead.
_VERSIONED = {
    "s3:GetObject": "s3:GetObjectVersion",
    "s3:DeleteObject": "s3:DeleteObjectVersion",
    "s3:GetObjectAttributes": "s3:GetObjectVersionAttributes",
    "s3:PutObjectTagging": "s3:PutObjectVersionTagging",
    "s3:GetObjectTagging": "s3:GetObjectVersionTagging",
    "s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
    "s3:GetObjectAcl": "s3:GetObjectVersionAcl",
    "s3:PutObjectAcl": "s3:PutObjectVersionAcl",
}

# Operations a bucket policy's Deny never takes from the bucket owner, so that it cannot lock
# itself out of fixing the policy.
OWNER_ALWAYS = frozenset({"GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"})

# Operations that read another object, named by x-amz-copy-source.
COPIES = frozenset({"CopyObject", "UploadPartCopy"})
PER_KEY = frozenset({"DeleteObjects"})
# Reads whose NoSuchKey only a caller allowed s3:ListBucket may see.
READS = frozenset({"GetObject", "HeadObject", "GetObjectAttributes", "GetObjectTagging", "GetObjectAcl"})


def action_of(operation: str, query: Mapping[str, str]) -> str | None:
    """The IAM action for an operation (None for an operation no policy can grant)."""
    action = ACTIONS.get(operation)
    if action is not None and "versionId" in query:
        return _VERSIONED.get(action, action)
    return action


def source_action(version_id: str | None) -> str:
    return "s3:GetObjectVersion" if version_id else "s3:GetObject"
