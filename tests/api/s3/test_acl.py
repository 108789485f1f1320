"""ACLs in strato's S3 protocol layer: the one ACL it reports, rendered as S3 writes it, and the
rule for x-amz-acl and grant headers on writes (Amazon S3 User Guide, "Canned ACL")."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

import pytest

from strato.api.s3 import xml
from strato.api.s3.errors import S3Error
from strato.api.s3.handlers.acl import owner_only
from strato.api.s3.headers import CANNED_ACLS, GRANT_HEADERS, OWNER_ONLY_ACLS, check_acl
from strato.api.s3.shapes import Owner, private_acl
from strato.api.s3.xml import MalformedXML

NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


class TestPrivateAclXml:
    def test_the_owner_alone_is_granted_full_control_as_a_canonical_user(self) -> None:
        rendered = xml.render("AccessControlPolicy", private_acl(Owner("abc123", "root")))
        root = ElementTree.fromstring(rendered)
        assert root.tag == f"{NS}AccessControlPolicy"
        assert root.findtext(f"{NS}Owner/{NS}ID") == "abc123"
        grants = root.findall(f"{NS}AccessControlList/{NS}Grant")
        assert len(grants) == 1
        grantee = grants[0].find(f"{NS}Grantee")
        assert grantee is not None
        assert grantee.attrib == {XSI_TYPE: "CanonicalUser"}
        assert (grantee.findtext(f"{NS}ID"), grantee.findtext(f"{NS}DisplayName")) == ("abc123", "root")
        assert grants[0].findtext(f"{NS}Permission") == "FULL_CONTROL"


class TestCannedAclRule:
    def test_no_acl_header_is_no_acl(self) -> None:
        assert check_acl({}, "PutObject") is None

    @pytest.mark.parametrize("acl", sorted(OWNER_ONLY_ACLS))
    def test_acls_that_grant_only_the_owner_are_accepted(self, acl: str) -> None:
        assert check_acl({"x-amz-acl": f" {acl} "}, "PutObject") == acl

    @pytest.mark.parametrize("acl", sorted(CANNED_ACLS - OWNER_ONLY_ACLS))
    def test_acls_that_grant_anyone_else_are_refused_as_on_a_bucket_owner_enforced_bucket(self, acl: str) -> None:
        with pytest.raises(S3Error) as raised:
            check_acl({"x-amz-acl": acl}, "CreateBucket")
        error = raised.value
        assert (error.code, error.status) == ("AccessControlListNotSupported", 400)
        assert error.fields == {"Header": "x-amz-acl"}
        assert error.message.startswith(f"The bucket does not allow ACLs (CreateBucket with the canned ACL {acl})")
        assert "bucket policy" in error.message

    @pytest.mark.parametrize("header", GRANT_HEADERS)
    def test_grant_headers_are_refused_even_beside_a_private_acl(self, header: str) -> None:
        with pytest.raises(S3Error) as raised:
            check_acl({"x-amz-acl": "private", header: "id=abc"}, "PutObject")
        assert (raised.value.code, raised.value.status, raised.value.fields) == (
            "AccessControlListNotSupported", 400, {"Header": header})

    def test_a_value_that_is_no_canned_acl_is_an_invalid_argument(self) -> None:
        with pytest.raises(S3Error) as raised:
            check_acl({"x-amz-acl": "Private"}, "PutObject")
        assert (raised.value.code, raised.value.status) == ("InvalidArgument", 400)
        assert raised.value.fields == {"ArgumentName": "x-amz-acl", "ArgumentValue": "Private"}


def acl_body(*grants: str) -> bytes:
    return ('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>me</ID></Owner>'
            f'<AccessControlList>{"".join(grants)}</AccessControlList></AccessControlPolicy>').encode()


def grant(grantee: str, permission: str) -> str:
    return (f'<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">'
            f"{grantee}</Grantee><Permission>{permission}</Permission></Grant>")


class TestAclBody:
    def test_the_owner_alone_with_full_control_is_the_private_acl(self) -> None:
        assert owner_only(acl_body(grant("<ID>me</ID>", "FULL_CONTROL")), "me")

    @pytest.mark.parametrize("body", [
        acl_body(grant("<ID>me</ID>", "FULL_CONTROL"), grant("<URI>http://acs.amazonaws.com/groups/global/AllUsers"
                                                           "</URI>", "READ")),
        acl_body(grant("<ID>someone</ID>", "FULL_CONTROL")),
        acl_body(grant("<ID>me</ID>", "READ")),
        acl_body(),
    ], ids=["and-everyone", "another-owner", "less-than-full", "no-grant"])
    def test_any_other_grant_set_is_not_private(self, body: bytes) -> None:
        assert not owner_only(body, "me")

    def test_a_body_that_is_no_access_control_policy_is_malformed(self) -> None:
        with pytest.raises(MalformedXML):
            owner_only(b"<Tagging><TagSet/></Tagging>", "me")
