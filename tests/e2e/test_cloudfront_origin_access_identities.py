"""CloudFront's legacy origin access identities (OAI) through boto3 against a real strato server:
the identity's own operations and errors, distributions naming one, and the edge reading a
private bucket for a distribution whose S3 origin names one."""

from __future__ import annotations

import json
import re
import time
import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.test_serve_edge import create_distribution, s3_origin
from tests.e2e.web import get
from tests.servers import StratoServer


def new_identity(cloudfront: Any, comment: str = "the edge reads") -> tuple[str, str]:
    """A new origin access identity: its id and ETag."""
    created = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
        "CallerReference": uuid.uuid4().hex, "Comment": comment})
    return created["CloudFrontOriginAccessIdentity"]["Id"], created["ETag"]


def identity_origin(bucket: str, identity: str, **extra: Any) -> dict[str, Any]:
    origin = s3_origin(bucket)
    origin["S3OriginConfig"]["OriginAccessIdentity"] = identity
    return {**origin, **extra}


def test_an_identity_round_trips_and_lists(cloudfront: Any) -> None:
    sent = {"CallerReference": uuid.uuid4().hex, "Comment": "reads the photos"}
    created = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig=sent)
    assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
    identity = created["CloudFrontOriginAccessIdentity"]
    assert created["Location"].endswith(f"/2020-05-31/origin-access-identity/cloudfront/{identity['Id']}")
    assert re.fullmatch(r"E[A-Z0-9]+", identity["Id"])
    assert re.fullmatch(r"[0-9a-f]{96}", identity["S3CanonicalUserId"])
    assert identity["CloudFrontOriginAccessIdentityConfig"] == sent
    got = cloudfront.get_cloud_front_origin_access_identity(Id=identity["Id"])
    assert got["ETag"] == created["ETag"]
    assert got["CloudFrontOriginAccessIdentity"] == identity
    assert cloudfront.get_cloud_front_origin_access_identity_config(
        Id=identity["Id"])["CloudFrontOriginAccessIdentityConfig"] == sent
    listed = cloudfront.list_cloud_front_origin_access_identities()["CloudFrontOriginAccessIdentityList"]
    assert {"Id": identity["Id"], "S3CanonicalUserId": identity["S3CanonicalUserId"],
            "Comment": "reads the photos"} in listed["Items"]
    assert listed["IsTruncated"] is False


def test_listing_pages_with_a_marker(cloudfront: Any) -> None:
    ids = {new_identity(cloudfront)[0] for _ in range(3)}
    seen: list[str] = []
    marker = ""
    while True:
        page = cloudfront.list_cloud_front_origin_access_identities(Marker=marker, MaxItems="2")[
            "CloudFrontOriginAccessIdentityList"]
        assert page["Quantity"] <= 2
        seen += [item["Id"] for item in page.get("Items", [])]
        if not page["IsTruncated"]:
            break
        marker = page["NextMarker"]
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))


def test_a_repeated_caller_reference_answers_the_same_identity_or_conflicts(cloudfront: Any) -> None:
    sent = {"CallerReference": uuid.uuid4().hex, "Comment": "once"}
    first = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig=sent)
    again = cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig=sent)
    assert again["CloudFrontOriginAccessIdentity"]["Id"] == first["CloudFrontOriginAccessIdentity"]["Id"]
    with pytest.raises(ClientError) as other:
        cloudfront.create_cloud_front_origin_access_identity(CloudFrontOriginAccessIdentityConfig={
            **sent, "Comment": "twice"})
    assert error_of(other) == ("CloudFrontOriginAccessIdentityAlreadyExists", 409)


def test_updates_need_the_current_etag_and_keep_the_caller_reference(cloudfront: Any) -> None:
    identity_id, etag = new_identity(cloudfront)
    reference = cloudfront.get_cloud_front_origin_access_identity_config(
        Id=identity_id)["CloudFrontOriginAccessIdentityConfig"]["CallerReference"]
    changed = {"CallerReference": reference, "Comment": "changed"}
    with pytest.raises(ClientError) as stale:
        cloudfront.update_cloud_front_origin_access_identity(Id=identity_id, IfMatch="E0STALE",
                                                             CloudFrontOriginAccessIdentityConfig=changed)
    assert error_of(stale) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as moved:
        cloudfront.update_cloud_front_origin_access_identity(Id=identity_id, IfMatch=etag,
                                                             CloudFrontOriginAccessIdentityConfig={
                                                                 **changed, "CallerReference": "another"})
    assert error_of(moved) == ("IllegalUpdate", 400)
    updated = cloudfront.update_cloud_front_origin_access_identity(Id=identity_id, IfMatch=etag,
                                                                   CloudFrontOriginAccessIdentityConfig=changed)
    assert updated["ETag"] != etag
    assert updated["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"] == changed


def test_bad_requests_get_cloudfronts_errors(cloudfront: Any) -> None:
    with pytest.raises(ClientError) as long_comment:
        new_identity(cloudfront, comment="x" * 129)
    assert error_of(long_comment) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as missing:
        cloudfront.get_cloud_front_origin_access_identity(Id="E0NOSUCHID0000")
    assert error_of(missing) == ("NoSuchCloudFrontOriginAccessIdentity", 404)
    identity_id, etag = new_identity(cloudfront)
    with pytest.raises(ClientError) as no_etag:
        cloudfront.delete_cloud_front_origin_access_identity(Id=identity_id)
    assert error_of(no_etag) == ("InvalidIfMatchVersion", 400)
    cloudfront.delete_cloud_front_origin_access_identity(Id=identity_id, IfMatch=etag)
    with pytest.raises(ClientError) as gone:
        cloudfront.get_cloud_front_origin_access_identity_config(Id=identity_id)
    assert error_of(gone) == ("NoSuchCloudFrontOriginAccessIdentity", 404)
    with pytest.raises(ClientError) as too_many:
        cloudfront.list_cloud_front_origin_access_identities(MaxItems="9" * 5000)  # more digits than int() reads
    assert error_of(too_many) == ("InvalidArgument", 400)


def test_distributions_name_only_existing_identities_and_not_beside_an_access_control(cloudfront: Any) -> None:
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    for named in ("origin-access-identity/cloudfront/E0NOSUCHID0000", "E0NOSUCHID0000",
                  "origin-access-identity/cloudfront/../x"):
        with pytest.raises(ClientError) as refused:
            create_distribution(cloudfront, alias, [identity_origin("photos", named)], "bucket")
        assert error_of(refused) == ("InvalidOriginAccessIdentity", 400)
    identity_id, _ = new_identity(cloudfront)
    oac = cloudfront.create_origin_access_control(OriginAccessControlConfig={
        "Name": uuid.uuid4().hex, "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})["OriginAccessControl"]["Id"]
    with pytest.raises(ClientError) as both:
        create_distribution(cloudfront, alias, [identity_origin(
            "photos", f"origin-access-identity/cloudfront/{identity_id}", OriginAccessControlId=oac)], "bucket")
    assert error_of(both) == ("IllegalOriginAccessConfiguration", 400)


def test_an_identity_a_distribution_uses_cannot_be_deleted(cloudfront: Any) -> None:
    identity_id, etag = new_identity(cloudfront)
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    distribution_id = create_distribution(
        cloudfront, alias, [identity_origin("photos", f"origin-access-identity/cloudfront/{identity_id}")], "bucket")
    with pytest.raises(ClientError) as in_use:
        cloudfront.delete_cloud_front_origin_access_identity(Id=identity_id, IfMatch=etag)
    assert error_of(in_use) == ("CloudFrontOriginAccessIdentityInUse", 409)
    got = cloudfront.get_distribution_config(Id=distribution_id)
    origin = got["DistributionConfig"]["Origins"]["Items"][0]
    assert origin["S3OriginConfig"]["OriginAccessIdentity"] == f"origin-access-identity/cloudfront/{identity_id}"


def test_the_edge_reads_a_private_bucket_for_an_identitys_distribution(
    server: StratoServer, s3: Any, bucket: str, cloudfront: Any
) -> None:
    """The usual Terraform stack: a private bucket whose policy grants the identity's IAM ARN
    reads, and a distribution whose S3 origin names the identity."""
    identity_id, _ = new_identity(cloudfront)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Principal": {"AWS": f"arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity {identity_id}"},
    }]}))
    s3.put_object(Bucket=bucket, Key="private.txt", Body=b"through the identity", CacheControl="max-age=300")
    alias = f"{uuid.uuid4().hex[:12]}.example.com"
    create_distribution(cloudfront, alias,
                        [identity_origin(bucket, f"origin-access-identity/cloudfront/{identity_id}")], "bucket")
    deadline = time.monotonic() + 10
    status, _, body = get(f"{server.edge_url}/private.txt", host=alias)
    while status != 200 and time.monotonic() < deadline:  # the edge reloads distributions each second
        time.sleep(0.2)
        status, _, body = get(f"{server.edge_url}/private.txt", host=alias)
    assert (status, body) == (200, b"through the identity")
    assert get(f"{server.edge_url}/{bucket}/private.txt")[0] == 403
    assert get(f"{server.edge_url}/", host=alias)[0] == 403
