"""Bucket and object sub-resources that tools read when they refresh a bucket's state (Terraform,
`aws s3api`, s3cmd info, rclone): ACLs, which are always private to the owner, and the
configurations of features strato does not have, answered as S3 answers an unconfigured bucket."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.test_awscli import Aws
from tests.e2e.test_s3cmd_rclone import run, s3cmd_for
from tests.servers import StratoServer

NOT_CONFIGURED = [
    ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
    ("get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError"),
    ("get_bucket_website", "NoSuchWebsiteConfiguration"),
    ("get_bucket_replication", "ReplicationConfigurationNotFoundError"),
    ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError"),
    ("get_public_access_block", "NoSuchPublicAccessBlockConfiguration"),
]
ABSENT_DELETES = ["delete_bucket_lifecycle", "delete_bucket_encryption", "delete_bucket_website",
                  "delete_bucket_replication", "delete_public_access_block"]
EMPTY_READS = ["get_bucket_logging", "get_bucket_accelerate_configuration", "get_bucket_request_payment",
               "get_bucket_ownership_controls", "get_bucket_acl", "get_bucket_notification_configuration"]

NO_ACLS = ("AccessControlListNotSupported", 400)  # as AWS answers on a BucketOwnerEnforced bucket


def refused(call: Callable[..., Any], **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return error_of(caught)


def body(response: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in response.items() if name != "ResponseMetadata"}


class TestAclReads:
    def test_a_bucket_acl_grants_its_owner_full_control_and_no_one_else(self, s3: Any, bucket: str) -> None:
        acl = s3.get_bucket_acl(Bucket=bucket)
        owner = s3.list_buckets()["Owner"]
        assert acl["Owner"] == owner
        assert acl["Grants"] == [{"Grantee": {**owner, "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"}]

    def test_an_object_acl_is_the_same_private_acl(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        acl = s3.get_object_acl(Bucket=bucket, Key="k")
        assert body(acl) == body(s3.get_bucket_acl(Bucket=bucket))

    def test_the_acl_of_a_missing_key_is_no_such_key(self, s3: Any, bucket: str) -> None:
        assert refused(s3.get_object_acl, Bucket=bucket, Key="missing") == ("NoSuchKey", 404)

    def test_a_bucket_policy_can_deny_the_owner_an_acl_read(self, s3: Any, bucket: str) -> None:
        s3.put_bucket_policy(Bucket=bucket, Policy=(
            '{"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:GetBucketAcl",'
            f' "Resource": "arn:aws:s3:::{bucket}"}}]}}'))
        assert refused(s3.get_bucket_acl, Bucket=bucket) == ("AccessDenied", 403)


class TestAclWrites:
    @pytest.mark.parametrize("acl", ["private", "bucket-owner-full-control"])
    def test_acls_that_keep_things_private_are_accepted_on_every_write(self, s3: Any, acl: str) -> None:
        name = f"acl-{uuid.uuid4().hex[:16]}"
        s3.create_bucket(Bucket=name, ACL=acl)
        s3.put_object(Bucket=name, Key="k", Body=b"data", ACL=acl)
        s3.copy_object(Bucket=name, Key="copy", CopySource={"Bucket": name, "Key": "k"}, ACL=acl)
        upload = s3.create_multipart_upload(Bucket=name, Key="mp", ACL=acl)["UploadId"]
        s3.abort_multipart_upload(Bucket=name, Key="mp", UploadId=upload)
        assert s3.put_bucket_acl(Bucket=name, ACL=acl)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.put_object_acl(Bucket=name, Key="k", ACL=acl)["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert s3.get_object(Bucket=name, Key="copy")["Body"].read() == b"data"

    def test_a_public_canned_acl_is_refused_and_nothing_is_written(self, s3: Any, bucket: str) -> None:
        name = f"acl-{uuid.uuid4().hex[:16]}"
        assert refused(s3.create_bucket, Bucket=name, ACL="public-read") == NO_ACLS
        assert refused(s3.head_bucket, Bucket=name) == ("404", 404)
        assert refused(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ACL="public-read") == NO_ACLS
        assert refused(s3.head_object, Bucket=bucket, Key="k") == ("404", 404)

    @pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read", "bucket-owner-read"])
    def test_every_acl_granting_more_than_the_owner_is_refused_naming_bucket_policies(
        self, s3: Any, bucket: str, acl: str,
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        writes: list[tuple[Callable[..., Any], dict[str, Any]]] = [
            (s3.put_bucket_acl, {}), (s3.put_object_acl, {"Key": "k"}),
            (s3.copy_object, {"Key": "c", "CopySource": {"Bucket": bucket, "Key": "k"}}),
            (s3.create_multipart_upload, {"Key": "mp"}),
        ]
        for call, kwargs in writes:
            with pytest.raises(ClientError) as caught:
                call(Bucket=bucket, ACL=acl, **kwargs)
            assert error_of(caught) == NO_ACLS
            assert "bucket policy" in caught.value.response["Error"]["Message"]

    def test_the_private_acl_written_out_as_a_body_is_accepted(self, s3: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"data")
        policy = {name: value for name, value in s3.get_object_acl(Bucket=bucket, Key="k").items()
                  if name != "ResponseMetadata"}
        assert s3.put_object_acl(Bucket=bucket, Key="k", AccessControlPolicy=policy)["ResponseMetadata"][
            "HTTPStatusCode"] == 200
        assert s3.put_bucket_acl(Bucket=bucket, AccessControlPolicy=policy)["ResponseMetadata"][
            "HTTPStatusCode"] == 200

    def test_grants_to_anyone_else_by_header_or_body_are_refused(self, s3: Any, bucket: str) -> None:
        owner = s3.list_buckets()["Owner"]
        everyone = "http://acs.amazonaws.com/groups/global/AllUsers"
        assert refused(s3.put_bucket_acl, Bucket=bucket, GrantRead=f"uri={everyone}") == NO_ACLS
        policy = {"Owner": owner, "Grants": [
            {"Grantee": {"ID": owner["ID"], "Type": "CanonicalUser"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"URI": everyone, "Type": "Group"}, "Permission": "READ"},
        ]}
        assert refused(s3.put_bucket_acl, Bucket=bucket, AccessControlPolicy=policy) == NO_ACLS
        assert refused(s3.put_object, Bucket=bucket, Key="k", Body=b"x", GrantFullControl=f"id={owner['ID']}"
                       ) == NO_ACLS

    def test_an_unknown_canned_acl_is_an_invalid_argument(self, s3: Any, bucket: str) -> None:
        assert refused(s3.put_object, Bucket=bucket, Key="k", Body=b"x", ACL="everyone") == ("InvalidArgument", 400)

    def test_an_acl_put_naming_no_acl_is_missing_a_header(self, s3: Any, bucket: str) -> None:
        assert refused(s3.put_bucket_acl, Bucket=bucket) == ("MissingSecurityHeader", 400)


class TestUnconfiguredFeatures:
    @pytest.mark.parametrize(("operation", "code"), NOT_CONFIGURED)
    def test_a_feature_strato_lacks_reads_as_not_configured(self, s3: Any, bucket: str, operation: str,
                                                            code: str) -> None:
        with pytest.raises(ClientError) as caught:
            getattr(s3, operation)(Bucket=bucket)
        assert error_of(caught) == (code, 404)
        assert caught.value.response["Error"]["BucketName"] == bucket

    def test_ownership_is_enforced_by_the_bucket_owner(self, s3: Any, bucket: str) -> None:
        controls = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]
        assert controls == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}

    def test_logging_and_acceleration_are_off_and_the_owner_pays(self, s3: Any, bucket: str) -> None:
        assert body(s3.get_bucket_logging(Bucket=bucket)) == {}
        assert body(s3.get_bucket_accelerate_configuration(Bucket=bucket)) == {}
        assert body(s3.get_bucket_request_payment(Bucket=bucket)) == {"Payer": "BucketOwner"}

    def test_no_destination_is_notified_and_notifications_can_be_turned_off(self, s3: Any, bucket: str) -> None:
        assert body(s3.get_bucket_notification_configuration(Bucket=bucket)) == {}
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        assert body(s3.get_bucket_notification_configuration(Bucket=bucket)) == {}

    def test_turning_notifications_off_needs_the_bucket(self, s3: Any) -> None:
        assert refused(s3.put_bucket_notification_configuration, Bucket=f"missing-{uuid.uuid4().hex[:16]}",
                       NotificationConfiguration={}) == ("NoSuchBucket", 404)

    @pytest.mark.parametrize("operation", ABSENT_DELETES)
    def test_deleting_a_configuration_that_is_not_there_succeeds(self, s3: Any, bucket: str,
                                                                 operation: str) -> None:
        assert getattr(s3, operation)(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204

    def test_setting_a_configuration_is_not_implemented(self, s3: Any, bucket: str) -> None:
        rules = {"Rules": [{"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]}
        assert refused(s3.put_bucket_lifecycle_configuration, Bucket=bucket, LifecycleConfiguration=rules
                       ) == ("NotImplemented", 501)
        assert refused(s3.put_bucket_request_payment, Bucket=bucket,
                       RequestPaymentConfiguration={"Payer": "Requester"}) == ("NotImplemented", 501)


class TestMissingBucket:
    @pytest.mark.parametrize("operation", [op for op, _ in NOT_CONFIGURED] + ABSENT_DELETES + EMPTY_READS)
    def test_every_sub_resource_of_a_missing_bucket_is_no_such_bucket(self, s3: Any, operation: str) -> None:
        assert refused(getattr(s3, operation), Bucket=f"missing-{uuid.uuid4().hex[:16]}") == ("NoSuchBucket", 404)

    def test_acl_writes_to_a_missing_bucket_are_no_such_bucket(self, s3: Any) -> None:
        name = f"missing-{uuid.uuid4().hex[:16]}"
        assert refused(s3.put_bucket_acl, Bucket=name, ACL="private") == ("NoSuchBucket", 404)
        assert refused(s3.get_object_acl, Bucket=name, Key="k") == ("NoSuchBucket", 404)
        assert refused(s3.put_object_acl, Bucket=name, Key="k", ACL="private") == ("NoSuchBucket", 404)


def test_the_aws_cli_reads_a_bucket_acl_and_an_unconfigured_lifecycle(
    server: StratoServer, bucket: str, tmp_path: Path,
) -> None:
    aws = Aws(server, tmp_path / "home")
    acl = aws.json("s3api", "get-bucket-acl", "--bucket", bucket)
    assert [grant["Permission"] for grant in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    lifecycle = aws("s3api", "get-bucket-lifecycle-configuration", "--bucket", bucket, check=False)
    assert lifecycle.returncode != 0
    assert "NoSuchLifecycleConfiguration" in lifecycle.stderr


def test_s3cmd_info_reports_a_private_bucket_and_object_with_no_extra_features(
    server: StratoServer, s3: Any, bucket: str, tmp_path: Path,
) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    base, env = s3cmd_for(server, tmp_path)
    info = run([*base, "info", f"s3://{bucket}"], env, stdout_only=True)
    for line in ("Payer:     BucketOwner", "Ownership: BucketOwnerEnforced", "Expiration rule: none",
                 "Block Public Access: none", "ACL:       root: FULL_CONTROL"):
        assert line in info
    assert "ACL:       root: FULL_CONTROL" in run([*base, "info", f"s3://{bucket}/k"], env, stdout_only=True)
