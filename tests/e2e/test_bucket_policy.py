"""Bucket policies through real clients: the owner sets them with boto3 and the aws CLI, and
anonymous callers (urllib, boto3 UNSIGNED) get exactly what the policy allows to everyone."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.e2e.test_awscli import Aws
from tests.e2e.web import get
from tests.servers import REGION, StratoServer


def public_read(bucket: str, *extra: dict[str, Any], resource: str = "*", **condition: Any) -> str:
    grant: dict[str, Any] = {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": f"arn:aws:s3:::{bucket}/{resource}"}
    if condition:
        grant["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [grant, *extra]})


def code_of(raised: pytest.ExceptionInfo[ClientError]) -> tuple[int, str]:
    error = raised.value.response
    return error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]


@pytest.fixture(scope="module")
def anonymous(server: StratoServer) -> Any:
    """boto3 sending unsigned requests, as for a public bucket."""
    return boto3.client("s3", endpoint_url=server.url, region_name=REGION,
                        config=Config(signature_version=UNSIGNED))


class TestPolicyOperations:
    def test_a_policy_is_put_read_back_reported_public_and_deleted(self, s3: Any, bucket: str) -> None:
        document = public_read(bucket)
        put = s3.put_bucket_policy(Bucket=bucket, Policy=document)
        assert put["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(document)
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
        deleted = s3.delete_bucket_policy(Bucket=bucket)
        assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_policy(Bucket=bucket)
        assert code_of(raised) == (404, "NoSuchBucketPolicy")
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_policy_status(Bucket=bucket)
        assert code_of(raised) == (404, "NoSuchBucketPolicy")

    def test_a_grant_to_one_account_is_not_public(self, s3: Any, bucket: str) -> None:
        document = json.dumps({"Statement": [{"Effect": "Allow", "Principal": {"AWS": "123456789012"},
                                              "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*"}]})
        s3.put_bucket_policy(Bucket=bucket, Policy=document)
        assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False

    @pytest.mark.parametrize(("document", "message"), [
        ("not json", "Policies must be valid JSON and the first byte must be '{'"),
        ('{"Statement": [', "This policy contains invalid Json"),
        ('{"Statement": ' + "[" * 10_000 + "]" * 10_000 + "}", "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        (public_read("another-bucket"), "Policy has invalid resource"),
        (json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:Teleport",
                                    "Resource": "*"}]}), "Policy has invalid action"),
        (json.dumps({"Statement": [{"Effect": "Maybe", "Principal": "*", "Action": "s3:GetObject",
                                    "Resource": "*"}]}), "Invalid effect: Maybe"),
    ])
    def test_a_malformed_policy_is_refused_and_nothing_is_stored(
        self, s3: Any, bucket: str, document: str, message: str
    ) -> None:
        with pytest.raises(ClientError) as raised:
            s3.put_bucket_policy(Bucket=bucket, Policy=document)
        assert code_of(raised) == (400, "MalformedPolicy")
        assert raised.value.response["Error"]["Message"] == message
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_policy(Bucket=bucket)
        assert code_of(raised) == (404, "NoSuchBucketPolicy")

    def test_a_missing_bucket_has_no_policy(self, s3: Any) -> None:
        with pytest.raises(ClientError) as raised:
            s3.put_bucket_policy(Bucket="no-such-bucket-here", Policy=public_read("no-such-bucket-here"))
        assert code_of(raised) == (404, "NoSuchBucket")

    def test_the_aws_cli_puts_and_gets_a_policy(self, server: StratoServer, bucket: str, tmp_path: Path) -> None:
        aws = Aws(server, tmp_path / "home")
        policy_file = tmp_path / "policy.json"
        policy_file.write_text(public_read(bucket))
        aws("s3api", "put-bucket-policy", "--bucket", bucket, "--policy", f"file://{policy_file}")
        got = aws.json("s3api", "get-bucket-policy", "--bucket", bucket)
        assert json.loads(got["Policy"]) == json.loads(policy_file.read_text())


class TestAnonymousAccess:
    def test_a_private_bucket_refuses_anonymous_reads(self, s3: Any, server: StratoServer, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>")
        assert get(f"{server.url}/{bucket}/page.html")[0] == 403

    def test_a_public_read_bucket_serves_anonymous_get_and_head(
        self, s3: Any, anonymous: Any, server: StratoServer, bucket: str
    ) -> None:
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"<p>hi</p>", ContentType="text/html")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
        assert get(f"{server.url}/{bucket}/page.html")[::2] == (200, b"<p>hi</p>")
        assert get(f"{server.url}/{bucket}/page.html", method="HEAD")[0] == 200
        assert anonymous.get_object(Bucket=bucket, Key="page.html")["Body"].read() == b"<p>hi</p>"
        assert anonymous.head_object(Bucket=bucket, Key="page.html")["ContentType"] == "text/html"

    def test_curl_reads_a_public_object(self, s3: Any, server: StratoServer, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="hello.txt", Body=b"hello, world")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
        done = subprocess.run(["curl", "-sS", "--fail", f"{server.url}/{bucket}/hello.txt"],
                              capture_output=True, timeout=30, check=True)
        assert done.stdout == b"hello, world"

    def test_a_missing_key_is_403_unless_the_caller_may_list_the_bucket(
        self, s3: Any, anonymous: Any, bucket: str
    ) -> None:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
        with pytest.raises(ClientError) as raised:
            anonymous.get_object(Bucket=bucket, Key="missing.html")
        assert code_of(raised) == (403, "AccessDenied")
        listing = {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                   "Resource": f"arn:aws:s3:::{bucket}"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, listing))
        with pytest.raises(ClientError) as raised:
            anonymous.get_object(Bucket=bucket, Key="missing.html")
        assert code_of(raised) == (404, "NoSuchKey")

    def test_public_reads_do_not_make_listing_or_writing_public(
        self, s3: Any, anonymous: Any, server: StratoServer, bucket: str
    ) -> None:
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
        with pytest.raises(ClientError) as raised:
            anonymous.list_objects_v2(Bucket=bucket)
        assert code_of(raised) == (403, "AccessDenied")
        with pytest.raises(ClientError) as raised:
            anonymous.put_object(Bucket=bucket, Key="graffiti", Body=b"x")
        assert code_of(raised) == (403, "AccessDenied")
        with pytest.raises(ClientError) as raised:
            anonymous.delete_bucket_policy(Bucket=bucket)
        assert code_of(raised) == (403, "AccessDenied")
        assert get(f"{server.url}/{bucket}/graffiti", method="PUT", body=b"x")[0] == 403
        assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0

    def test_listing_is_anonymous_when_list_bucket_is_allowed(self, s3: Any, anonymous: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="a/1", Body=b"1")
        listing = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
                   "Resource": f"arn:aws:s3:::{bucket}"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, listing))
        assert [o["Key"] for o in anonymous.list_objects_v2(Bucket=bucket)["Contents"]] == ["a/1"]
        assert [o["Key"] for o in anonymous.list_objects(Bucket=bucket)["Contents"]] == ["a/1"]

    def test_an_anonymous_listing_names_the_bucket_owner_not_the_caller(
            self, s3: Any, anonymous: Any, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="a/1", Body=b"1")
        listing = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:ListBucket",
                   "Resource": f"arn:aws:s3:::{bucket}"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, listing))
        owner = s3.list_buckets()["Owner"]
        assert [o["Owner"] for o in anonymous.list_objects(Bucket=bucket)["Contents"]] == [owner]
        assert [o["Owner"] for o in anonymous.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]] == [owner]

    def test_anonymous_writes_go_where_the_policy_allows_them(self, s3: Any, anonymous: Any, bucket: str) -> None:
        drop = {"Effect": "Allow", "Principal": "*", "Action": ["s3:PutObject", "s3:DeleteObject"],
                "Resource": f"arn:aws:s3:::{bucket}/inbox/*"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, drop))
        anonymous.put_object(Bucket=bucket, Key="inbox/letter", Body=b"dear strato")
        assert s3.get_object(Bucket=bucket, Key="inbox/letter")["Body"].read() == b"dear strato"
        with pytest.raises(ClientError) as raised:
            anonymous.put_object(Bucket=bucket, Key="outbox/letter", Body=b"x")
        assert code_of(raised) == (403, "AccessDenied")
        s3.put_object(Bucket=bucket, Key="keep", Body=b"k")
        result = anonymous.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "inbox/letter"},
                                                                              {"Key": "keep"}]})
        assert [d["Key"] for d in result["Deleted"]] == ["inbox/letter"]
        assert [(e["Key"], e["Code"]) for e in result["Errors"]] == [("keep", "AccessDenied")]
        assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep"]

    def test_anonymous_multipart_uploads_need_put_object(self, s3: Any, anonymous: Any, bucket: str) -> None:
        drop = {"Effect": "Allow", "Principal": "*", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
                "Resource": f"arn:aws:s3:::{bucket}/inbox/*"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, drop))
        upload = anonymous.create_multipart_upload(Bucket=bucket, Key="inbox/big")["UploadId"]
        part = anonymous.upload_part(Bucket=bucket, Key="inbox/big", UploadId=upload, PartNumber=1, Body=b"p")
        with pytest.raises(ClientError) as raised:
            anonymous.list_parts(Bucket=bucket, Key="inbox/big", UploadId=upload)
        assert code_of(raised) == (403, "AccessDenied")
        anonymous.complete_multipart_upload(
            Bucket=bucket, Key="inbox/big", UploadId=upload,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
        assert s3.get_object(Bucket=bucket, Key="inbox/big")["Body"].read() == b"p"

    def test_an_anonymous_copy_also_needs_to_read_the_source(self, s3: Any, anonymous: Any, bucket: str) -> None:
        drop = {"Effect": "Allow", "Principal": "*", "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{bucket}/inbox/*"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, drop, resource="public/*"))
        s3.put_object(Bucket=bucket, Key="public/a", Body=b"a")
        s3.put_object(Bucket=bucket, Key="secret", Body=b"s")
        anonymous.copy_object(Bucket=bucket, Key="inbox/a", CopySource={"Bucket": bucket, "Key": "public/a"})
        with pytest.raises(ClientError) as raised:
            anonymous.copy_object(Bucket=bucket, Key="inbox/s", CopySource={"Bucket": bucket, "Key": "secret"})
        assert code_of(raised) == (403, "AccessDenied")

    def test_deleting_the_policy_ends_anonymous_access(self, s3: Any, server: StratoServer, bucket: str) -> None:
        s3.put_object(Bucket=bucket, Key="page.html", Body=b"x")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket))
        assert get(f"{server.url}/{bucket}/page.html")[0] == 200
        s3.delete_bucket_policy(Bucket=bucket)
        assert get(f"{server.url}/{bucket}/page.html")[0] == 403

    def test_a_missing_bucket_is_access_denied_to_anonymous_callers(self, server: StratoServer) -> None:
        assert get(f"{server.url}/no-such-bucket-here/page.html")[0] == 403


class TestDenyAndConditions:
    def test_an_explicit_deny_beats_the_allow(self, s3: Any, server: StratoServer, bucket: str) -> None:
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/private/*"}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, deny))
        s3.put_object(Bucket=bucket, Key="public.txt", Body=b"p")
        s3.put_object(Bucket=bucket, Key="private/diary.txt", Body=b"d")
        assert get(f"{server.url}/{bucket}/public.txt")[::2] == (200, b"p")
        assert get(f"{server.url}/{bucket}/private/diary.txt")[0] == 403

    def test_a_deny_binds_the_owner_but_never_locks_it_out_of_the_policy(self, s3: Any, bucket: str) -> None:
        deny_all = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                                              "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]})
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        s3.put_bucket_policy(Bucket=bucket, Policy=deny_all)
        with pytest.raises(ClientError) as raised:
            s3.get_object(Bucket=bucket, Key="k")
        assert code_of(raised) == (403, "AccessDenied")
        with pytest.raises(ClientError) as raised:
            s3.list_objects_v2(Bucket=bucket)
        assert code_of(raised) == (403, "AccessDenied")
        assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(deny_all)
        s3.delete_bucket_policy(Bucket=bucket)
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"

    def test_an_existing_object_tag_condition_tests_the_tags_of_the_object_read(
        self, s3: Any, server: StratoServer, bucket: str
    ) -> None:
        """s3:ExistingObjectTag/<tag key> (S3 User Guide, "Tagging and access control policies"):
        an Allow for tagged objects only, then a Deny of secret ones."""
        s3.put_object(Bucket=bucket, Key="menu.txt", Body=b"m", Tagging="classification=open")
        s3.put_object(Bucket=bucket, Key="plan.txt", Body=b"p", Tagging="classification=secret")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(
            bucket, StringEquals={"s3:ExistingObjectTag/classification": "open"}))
        assert get(f"{server.url}/{bucket}/menu.txt")[::2] == (200, b"m")
        assert get(f"{server.url}/{bucket}/plan.txt")[0] == 403
        deny = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
                "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "secret"}}}
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, deny))
        assert get(f"{server.url}/{bucket}/menu.txt")[::2] == (200, b"m")
        assert get(f"{server.url}/{bucket}/plan.txt")[0] == 403

    @pytest.mark.parametrize(("source", "status"), [("127.0.0.1/32", 200), ("192.0.2.0/24", 403)])
    def test_a_source_ip_condition_decides_by_the_callers_address(
        self, s3: Any, server: StratoServer, bucket: str, source: str, status: int
    ) -> None:
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, IpAddress={"aws:SourceIp": source}))
        assert get(f"{server.url}/{bucket}/k")[0] == status

    def test_a_deny_outside_an_address_range_keeps_others_out(
        self, s3: Any, server: StratoServer, bucket: str
    ) -> None:
        fence = {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{bucket}/*",
                 "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.0.2.0/24"]}}}
        s3.put_object(Bucket=bucket, Key="k", Body=b"v")
        s3.put_bucket_policy(Bucket=bucket, Policy=public_read(bucket, fence))
        assert get(f"{server.url}/{bucket}/k")[0] == 403
        with pytest.raises(ClientError) as raised:
            s3.get_object(Bucket=bucket, Key="k")
        assert code_of(raised) == (403, "AccessDenied")
