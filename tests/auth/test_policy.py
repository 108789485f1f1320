"""Bucket policies, point by point: what PutBucketPolicy accepts and refuses (with S3's
messages), and how a policy decides a request (IAM policy evaluation logic)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from strato.auth.conditions import Condition, Context
from strato.auth.policy import (
    ANONYMOUS,
    Caller,
    Decision,
    MalformedPolicy,
    Policy,
    bucket_arn,
    depends_on_request,
    evaluate,
    is_public,
    object_arn,
    parse,
)

BUCKET = "photos"
ROOT = Caller("arn:aws:iam::000000000000:root", "000000000000")
OTHER = Caller("arn:aws:iam::111111111111:user/mallory", "111111111111")


def statement(**fields: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    base.update(fields)
    return {k: v for k, v in base.items() if v is not None}


def document(*statements: dict[str, Any], **top: Any) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements), **top})


def policy(*statements: dict[str, Any]) -> Policy:
    return parse(document(*statements), BUCKET)


def refused(text: str) -> str:
    with pytest.raises(MalformedPolicy) as raised:
        parse(text, BUCKET)
    return raised.value.message


def decide(p: Policy, caller: Caller = ANONYMOUS, action: str = "s3:GetObject", key: str | None = "a.jpg",
           context: Context | None = None) -> Decision:
    resource = bucket_arn(BUCKET) if key is None else object_arn(BUCKET, key)
    return evaluate(p, caller, action, resource, context or {})


class TestDocumentShape:
    def test_a_public_read_policy_is_accepted(self) -> None:
        parsed = policy(statement(Sid="PublicRead"))
        assert parsed.version == "2012-10-17"
        assert [s.sid for s in parsed.statements] == ["PublicRead"]

    def test_the_2008_version_and_no_version_are_accepted(self) -> None:
        assert parse(document(statement(), Version="2008-10-17"), BUCKET).version == "2008-10-17"
        assert parse(json.dumps({"Statement": [statement()]}), BUCKET).version == "2008-10-17"

    def test_a_single_statement_object_is_a_list_of_one(self) -> None:
        parsed = parse(json.dumps({"Version": "2012-10-17", "Statement": statement()}), BUCKET)
        assert len(parsed.statements) == 1

    def test_an_id_is_allowed(self) -> None:
        assert len(parse(document(statement(), Id="policy-1"), BUCKET).statements) == 1

    @pytest.mark.parametrize(("text", "message"), [
        ("", "Policies must be valid JSON and the first byte must be '{'"),
        ("[1]", "Policies must be valid JSON and the first byte must be '{'"),
        ("{not json", "This policy contains invalid Json"),
        ('{"Version": "2012-10-17"}', "Missing required field Statement"),
        ('{"Version": "2012-10-17", "Statement": []}', "Could not parse the policy: Statement is empty!"),
        ('{"Version": "2020-01-01", "Statement": []}', "The policy must contain a valid version string"),
        ('{"Version": "2012-10-17", "Statement": [], "Extra": 1}', "Unknown field Extra"),
    ])
    def test_a_malformed_document_is_refused_with_s3s_message(self, text: str, message: str) -> None:
        assert refused(text) == message

    def test_a_document_over_20_kb_is_refused(self) -> None:
        many = [statement(Sid=f"S{i}", Resource=f"arn:aws:s3:::{BUCKET}/{'x' * 200}{i}") for i in range(100)]
        assert refused(document(*many)) == "Policy exceeds the maximum allowed document size."

    def test_whitespace_does_not_count_towards_the_limit_up_to_a_bound(self) -> None:
        compact = document(statement())
        assert len(parse(compact.replace(",", "," + " " * 1000), BUCKET).statements) == 1
        assert refused(compact.replace(",", "," + " " * 100_000)) == "Policy exceeds the maximum allowed document size."

    def test_statement_ids_must_be_unique(self) -> None:
        text = document(statement(Sid="A"), statement(Sid="A"))
        assert refused(text) == "Statement IDs (SID) in a single policy must be unique."


class TestStatementValidation:
    @pytest.mark.parametrize(("fields", "message"), [
        ({"Effect": None}, "Missing required field Effect"),
        ({"Effect": "hello"}, "Invalid effect: hello"),
        ({"Principal": None}, "Missing required field Principal"),
        ({"Action": None}, "Missing required field Action"),
        ({"Resource": None}, "Missing required field Resource"),
        ({"Colour": "blue"}, "Unknown field Colour"),
        ({"Principal": "someone"}, "Invalid principal in policy"),
        ({"Principal": {"AWS": "not-an-arn"}}, "Invalid principal in policy"),
        ({"Principal": {"Martians": "*"}}, "Invalid principal in policy"),
        ({"Principal": {"AWS": "arn:aws:iam::cloudfront:user/alice"}}, "Invalid principal in policy"),
        ({"Principal": {"CanonicalUser": "ab" * 40}}, "Invalid principal in policy"),
        ({"Action": "invalid_action"}, "Policy has invalid action"),
        ({"Action": "s3:FlyToTheMoon"}, "Policy has invalid action"),
        ({"Action": "iam:CreateUser"}, "Policy has invalid action"),
        ({"Action": "s3:Fly*"}, "Policy has invalid action"),
        ({"Resource": "arn:aws:s3:::another-bucket/*"}, "Policy has invalid resource"),
        ({"Resource": "photos/*"}, "Policy has invalid resource"),
        ({"Resource": "arn:aws:iam::000000000000:root"}, "Policy has invalid resource"),
        ({"Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{BUCKET}"},
         "Action does not apply to any resource(s) in statement"),
        ({"Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}/*"},
         "Action does not apply to any resource(s) in statement"),
        ({"Condition": {"StringFancy": {"aws:UserAgent": "x"}}}, "Invalid Condition type : StringFancy"),
        ({"Condition": {"NullIfExists": {"aws:UserAgent": "true"}}}, "Invalid Condition type : NullIfExists"),
        ({"Condition": {"StringEquals": {"aws:FavouriteColour": "blue"}}}, "Policy has an invalid condition key"),
        ({"Condition": {"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}}, "Invalid IP address in Conditions"),
        ({"Condition": {"StringLike": {"s3:prefix": "home/*"}}},
         "Conditions do not apply to combination of actions and resources in statement"),
    ])
    def test_an_invalid_statement_is_refused_with_s3s_message(self, fields: dict[str, Any], message: str) -> None:
        assert refused(document(statement(**fields))) == message

    @pytest.mark.parametrize("fields", [
        {"Principal": {"AWS": "*"}},
        {"Principal": {"AWS": ["123456789012", "arn:aws:iam::123456789012:root",
                               "arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:role/reader"]}},
        {"Principal": {"Service": "cloudfront.amazonaws.com"}},
        {"Principal": {"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"}},
        {"Principal": {"CanonicalUser": ["ab" * 32, "cd" * 48]}},  # an account's, an origin access identity's
        {"Principal": None, "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"}},
        {"Action": ["s3:GetObject", "s3:getobjectversion"]},
        {"Action": "s3:*"},
        {"Action": "s3:Get*"},
        {"Action": "*"},
        {"Action": None, "NotAction": "s3:DeleteObject"},
        {"Resource": f"arn:aws:s3:::{BUCKET}/public/*"},
        {"Resource": "arn:aws:s3:::phot*/*"},
        {"Resource": "*"},
        {"Resource": None, "NotResource": f"arn:aws:s3:::{BUCKET}/private/*"},
        {"Action": ["s3:ListBucket", "s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}",
                                                                    f"arn:aws:s3:::{BUCKET}/*"]},
        {"Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"StringLike": {"s3:prefix": ["home/*", ""]}}},
        {"Condition": {"Bool": {"aws:SecureTransport": False}, "IpAddress": {"AWS:SourceIp": "10.0.0.0/8"}}},
        {"Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{BUCKET}",
         "Condition": {"ForAnyValue:StringEquals": {"aws:TagKeys": ["a"]},
                       "NumericLessThanIfExists": {"s3:max-keys": 10}}},
        {"Condition": {"StringEquals": {"s3:ExistingObjectTag/colour": "blue"}}},
    ])
    def test_a_valid_statement_is_accepted(self, fields: dict[str, Any]) -> None:
        assert len(policy(statement(**fields)).statements) == 1


class TestEvaluation:
    def test_an_allow_to_everyone_allows_anonymous_callers(self) -> None:
        assert decide(policy(statement())) is Decision.ALLOW

    def test_what_no_statement_allows_is_implicitly_denied(self) -> None:
        p = policy(statement())
        assert decide(p, action="s3:PutObject") is Decision.NONE
        assert decide(p, action="s3:ListBucket", key=None) is Decision.NONE

    def test_an_explicit_deny_beats_an_allow(self) -> None:
        p = policy(statement(), statement(Effect="Deny", Resource=f"arn:aws:s3:::{BUCKET}/private/*"))
        assert decide(p, key="public.jpg") is Decision.ALLOW
        assert decide(p, key="private/diary.txt") is Decision.DENY

    def test_a_deny_applies_to_a_signed_caller_too(self) -> None:
        p = policy(statement(Effect="Deny", Action="s3:DeleteObject"))
        assert decide(p, ROOT, "s3:DeleteObject") is Decision.DENY

    def test_actions_match_case_insensitively_with_wildcards(self) -> None:
        p = policy(statement(Action="s3:get*"))
        assert decide(p, action="s3:GetObject") is Decision.ALLOW
        assert decide(p, action="s3:GetObjectVersion") is Decision.ALLOW
        assert decide(p, action="s3:PutObject") is Decision.NONE

    def test_not_action_applies_to_every_other_action(self) -> None:
        p = policy(statement(Action=None, NotAction="s3:GetObject"))
        assert decide(p, action="s3:GetObject") is Decision.NONE
        assert decide(p, action="s3:PutObject") is Decision.ALLOW

    def test_resources_match_case_sensitively_and_wildcards_cross_slashes(self) -> None:
        p = policy(statement(Resource=f"arn:aws:s3:::{BUCKET}/public/*"))
        assert decide(p, key="public/a/b/c.jpg") is Decision.ALLOW
        assert decide(p, key="Public/a.jpg") is Decision.NONE
        assert decide(p, key="other.jpg") is Decision.NONE

    def test_a_question_mark_matches_one_character(self) -> None:
        p = policy(statement(Resource=f"arn:aws:s3:::{BUCKET}/img?.jpg"))
        assert decide(p, key="img1.jpg") is Decision.ALLOW
        assert decide(p, key="img10.jpg") is Decision.NONE

    def test_not_resource_applies_to_every_other_resource(self) -> None:
        p = policy(statement(Effect="Deny", Resource=None, NotResource=f"arn:aws:s3:::{BUCKET}/public/*"))
        assert decide(p, key="secret.txt") is Decision.DENY
        assert decide(p, key="public/a.jpg") is Decision.NONE

    def test_named_principals_do_not_cover_anonymous_callers(self) -> None:
        p = policy(statement(Principal={"AWS": "000000000000"}))
        assert decide(p) is Decision.NONE
        assert decide(p, ROOT) is Decision.ALLOW
        assert decide(p, OTHER) is Decision.NONE

    def test_an_account_root_arn_covers_the_account(self) -> None:
        p = policy(statement(Principal={"AWS": ["arn:aws:iam::111111111111:root"]}))
        assert decide(p, OTHER) is Decision.ALLOW
        assert decide(p, ROOT) is Decision.NONE

    def test_a_user_arn_covers_that_user_only(self) -> None:
        p = policy(statement(Principal={"AWS": "arn:aws:iam::111111111111:user/mallory"}))
        assert decide(p, OTHER) is Decision.ALLOW
        assert decide(p, Caller("arn:aws:iam::111111111111:user/alice", "111111111111")) is Decision.NONE

    def test_not_principal_covers_everyone_else_including_anonymous(self) -> None:
        p = policy(statement(Effect="Deny", Principal=None, NotPrincipal={"AWS": "000000000000"}))
        assert decide(p, ROOT) is Decision.NONE
        assert decide(p, OTHER) is Decision.DENY
        assert decide(p) is Decision.DENY

    def test_every_condition_must_hold(self) -> None:
        p = policy(statement(Condition={"IpAddress": {"aws:SourceIp": "127.0.0.1/32"},
                                        "Bool": {"aws:SecureTransport": "false"}}))
        assert decide(p, context={"aws:sourceip": "127.0.0.1", "aws:securetransport": "false"}) is Decision.ALLOW
        assert decide(p, context={"aws:sourceip": "127.0.0.1", "aws:securetransport": "true"}) is Decision.NONE
        assert decide(p, context={"aws:sourceip": "10.1.1.1", "aws:securetransport": "false"}) is Decision.NONE


def holds(operator: str, values: tuple[str, ...], context: Context, key: str = "k",
          **options: Any) -> bool:
    return Condition(operator, key, values, **options).holds(context)


class TestConditionOperators:
    def test_string_operators(self) -> None:
        assert holds("StringEquals", ("a", "b"), {"k": "b"})
        assert not holds("StringEquals", ("a",), {"k": "A"})
        assert holds("StringEqualsIgnoreCase", ("a",), {"k": "A"})
        assert holds("StringNotEquals", ("a", "b"), {"k": "c"})
        assert not holds("StringNotEquals", ("a", "b"), {"k": "b"})
        assert holds("StringLike", ("home/*",), {"k": "home/alice/x"})
        assert not holds("StringLike", ("home/*",), {"k": "work/x"})
        assert holds("StringNotLike", ("home/*",), {"k": "work/x"})

    def test_a_missing_key_fails_positive_tests_and_passes_negated_ones(self) -> None:
        assert not holds("StringEquals", ("a",), {})
        assert holds("StringNotEquals", ("a",), {})
        assert holds("NotIpAddress", ("10.0.0.0/8",), {})
        assert holds("StringEquals", ("a",), {}, if_exists=True)
        assert not holds("StringEquals", ("a",), {"k": "b"}, if_exists=True)

    def test_null_tests_whether_the_key_is_present(self) -> None:
        assert holds("Null", ("true",), {})
        assert not holds("Null", ("true",), {"k": "x"})
        assert holds("Null", ("false",), {"k": "x"})

    def test_numeric_operators(self) -> None:
        assert holds("NumericLessThan", ("10",), {"k": "9"})
        assert not holds("NumericLessThan", ("10",), {"k": "10"})
        assert holds("NumericLessThanEquals", ("10",), {"k": "10"})
        assert holds("NumericGreaterThan", ("1.5",), {"k": "2"})
        assert holds("NumericNotEquals", ("1",), {"k": "2"})
        assert not holds("NumericEquals", ("1",), {"k": "one"})

    def test_date_operators_take_iso_8601_and_epoch_seconds(self) -> None:
        now = {"k": "2026-01-02T00:00:00Z"}
        assert holds("DateGreaterThan", ("2026-01-01T00:00:00Z",), now)
        assert holds("DateLessThan", ("1893456000",), now)  # 2030
        assert not holds("DateLessThan", ("2025-12-31",), now)

    def test_ip_address_operators_match_cidr_ranges(self) -> None:
        assert holds("IpAddress", ("127.0.0.1/32",), {"k": "127.0.0.1"})
        assert not holds("IpAddress", ("192.0.2.0/24",), {"k": "127.0.0.1"})
        assert holds("NotIpAddress", ("192.0.2.0/24",), {"k": "127.0.0.1"})
        assert holds("IpAddress", ("2001:db8::/32",), {"k": "2001:db8::1"})
        assert not holds("IpAddress", ("10.0.0.0/8",), {"k": "not-an-ip"})

    def test_bool_compares_case_insensitively(self) -> None:
        assert holds("Bool", ("true",), {"k": "True"})
        assert not holds("Bool", ("true",), {"k": "false"})

    def test_arn_operators_match_component_by_component(self) -> None:
        arn = {"k": "arn:aws:iam::123456789012:user/alice"}
        assert holds("ArnLike", ("arn:aws:iam::*:user/*",), arn)
        assert holds("ArnEquals", ("arn:aws:iam::123456789012:user/alice",), arn)
        assert not holds("ArnLike", ("arn:aws:s3:::*",), arn)
        assert holds("ArnNotLike", ("arn:aws:s3:::*",), arn)

    def test_set_qualifiers_over_multivalued_keys(self) -> None:
        tags = {"k": ("a", "b")}
        assert holds("StringEquals", ("b", "c"), tags, qualifier="ForAnyValue")
        assert not holds("StringEquals", ("c",), tags, qualifier="ForAnyValue")
        assert holds("StringEquals", ("a", "b", "c"), tags, qualifier="ForAllValues")
        assert not holds("StringEquals", ("a",), tags, qualifier="ForAllValues")
        assert holds("StringEquals", ("a",), {}, qualifier="ForAllValues")
        assert not holds("StringEquals", ("a",), {}, qualifier="ForAnyValue")

    def test_condition_keys_are_case_insensitive(self) -> None:
        p = policy(statement(Condition={"StringEquals": {"AWS:UserAgent": "curl"}}))
        assert decide(p, context={"aws:useragent": "curl"}) is Decision.ALLOW


class TestPublic:
    def test_an_allow_to_everyone_is_public(self) -> None:
        assert is_public(policy(statement()))
        assert is_public(policy(statement(Principal={"AWS": "*"})))

    def test_grants_to_named_principals_and_denies_are_not_public(self) -> None:
        assert not is_public(policy(statement(Principal={"AWS": "123456789012"})))
        assert not is_public(policy(statement(Effect="Deny")))

    def test_a_grant_tied_to_fixed_source_addresses_is_not_public(self) -> None:
        assert not is_public(policy(statement(Condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})))
        assert is_public(policy(statement(Condition={"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}})))
        assert is_public(policy(statement(Condition={"StringLike": {"aws:Referer": "https://example.com/*"}})))


class TestDependsOnRequest:
    """Whether a decision may differ for another request by the same caller: what tells a CDN it
    may not store an answer for everyone."""

    def test_an_unconditional_grant_is_the_same_for_every_request(self) -> None:
        assert not depends_on_request(policy(statement()), ANONYMOUS, "s3:GetObject", object_arn(BUCKET, "a.jpg"))

    @pytest.mark.parametrize("condition", [
        {"StringLike": {"aws:Referer": "https://example.com/*"}},
        {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
        {"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}},
    ])
    def test_a_grant_under_a_condition_on_the_request_depends_on_it(self, condition: dict[str, Any]) -> None:
        assert depends_on_request(policy(statement(Condition=condition)), ANONYMOUS, "s3:GetObject",
                                  object_arn(BUCKET, "a.jpg"))

    def test_a_conditional_deny_of_the_action_makes_it_depend_on_the_request(self) -> None:
        p = policy(statement(), statement(Effect="Deny", Condition={"Bool": {"aws:SecureTransport": "false"}}))
        assert depends_on_request(p, ANONYMOUS, "s3:GetObject", object_arn(BUCKET, "a.jpg"))

    def test_conditions_of_statements_about_other_actions_or_objects_do_not_count(self) -> None:
        p = policy(statement(), statement(Action="s3:PutObject", Condition={"Bool": {"aws:SecureTransport": "true"}}),
                   statement(Resource=f"arn:aws:s3:::{BUCKET}/private/*",
                             Condition={"StringLike": {"aws:Referer": "x"}}))
        assert not depends_on_request(p, ANONYMOUS, "s3:GetObject", object_arn(BUCKET, "a.jpg"))

    def test_an_objects_own_tags_are_not_the_requests(self) -> None:
        p = policy(statement(Condition={"StringEquals": {"s3:ExistingObjectTag/public": "yes"}}))
        assert not depends_on_request(p, ANONYMOUS, "s3:GetObject", object_arn(BUCKET, "a.jpg"))
