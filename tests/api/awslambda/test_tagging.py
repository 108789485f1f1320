"""Lambda's tag rules, point by point: the resource a tagging operation names, and the keys
and values it takes (botocore's TaggableResource, TagKey and TagValue shapes)."""

from __future__ import annotations

from typing import Any

import pytest

from strato.api.awslambda.errors import LambdaError
from strato.api.awslambda.tagging import tag_keys, tagged_function, tags

ARN = "arn:aws:lambda:us-east-1:000000000000:function:fn"


def refusal(call: Any, *args: Any, **kwargs: Any) -> tuple[str, int, str]:
    with pytest.raises(LambdaError) as caught:
        call(*args, **kwargs)
    return caught.value.code, caught.value.status, caught.value.message


class TestResource:
    def test_an_unqualified_function_arn_of_this_region_names_the_function(self) -> None:
        assert tagged_function(ARN, "us-east-1") == "fn"
        assert tagged_function("arn:aws:lambda:eu-west-1:000000000000:function:my_fn-2", "eu-west-1") == "my_fn-2"

    @pytest.mark.parametrize("qualifier", ["$LATEST", "1", "live"])
    def test_a_version_or_alias_arn_is_refused_before_the_function_is_looked_up(self, qualifier: str) -> None:
        assert refusal(tagged_function, f"{ARN}:{qualifier}", "us-east-1") == (
            "InvalidParameterValueException", 400,
            "Tags on function aliases and versions are not supported. Please specify a function ARN.")

    @pytest.mark.parametrize("resource", ["fn", "000000000000:function:fn", "arn:aws:s3:::bucket",
                                          "arn:aws:lambda:us-east-1:0:function:fn", f"{ARN}:a:b"])
    def test_anything_but_a_taggable_arn_fails_the_resource_pattern(self, resource: str) -> None:
        code, status, message = refusal(tagged_function, resource, "us-east-1")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith(f"1 validation error detected: Value '{resource}' at 'resource' failed to "
                                  "satisfy constraint: Member must satisfy regular expression pattern: arn:(aws")

    def test_a_function_of_another_region_or_account_is_not_found(self) -> None:
        for arn in ("arn:aws:lambda:eu-west-1:000000000000:function:fn",
                    "arn:aws:lambda:us-east-1:123456789012:function:fn"):
            assert refusal(tagged_function, arn, "us-east-1") == ("ResourceNotFoundException", 404,
                                                                   f"Function not found: {arn}")

    def test_other_taggable_kinds_name_nothing_strato_has(self) -> None:
        mapping = "arn:aws:lambda:us-east-1:000000000000:event-source-mapping:" \
                  "12345678-1234-1234-1234-123456789012"
        assert refusal(tagged_function, mapping, "us-east-1")[:2] == ("ResourceNotFoundException", 404)


class TestTags:
    def test_keys_of_1_to_128_and_values_of_0_to_256_characters_pass(self) -> None:
        given = {"k": "", "K" * 128: "v" * 256, "Ünïcode key 1": "a b_c.d:e/f=g+h-i@j"}
        assert tags(given) == given

    def test_no_tags_is_an_empty_map_except_where_they_are_required(self) -> None:
        assert tags(None) == {}
        assert tags({}) == {}
        assert refusal(tags, {}, required=True) == ("InvalidParameterValueException", 400,
                                                    "An error occurred and the request cannot be processed.")

    @pytest.mark.parametrize(("given", "broken"), [
        ({"": "v"}, "Map keys must satisfy constraint: [Member must have length greater than or equal to 1]"),
        ({"k" * 129: "v"}, "Map keys must satisfy constraint: [Member must have length less than or equal to 128]"),
        ({"k": "v" * 257}, "Map value must satisfy constraint: [Member must have length less than or equal to 256]"),
        ({"k!": "v"}, r"Map keys must satisfy constraint: [Member must satisfy regular expression pattern: "
                      r"([\p{L}\p{Z}\p{N}_.:/=+\-@]*)]"),
        ({"k": "v\n"}, "Map value must satisfy constraint: [Member must satisfy regular expression pattern"),
    ])
    def test_keys_and_values_out_of_bounds_or_pattern_fail_validation(self, given: dict[str, str],
                                                                      broken: str) -> None:
        code, status, message = refusal(tags, given)
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith("1 validation error detected: Value '{")
        assert f"at 'tags' failed to satisfy constraint: {broken}" in message

    @pytest.mark.parametrize("key", ["aws:team", "AWS:team", "Aws:x"])
    def test_the_aws_prefix_is_reserved_in_any_case(self, key: str) -> None:
        assert refusal(tags, {key: "v"}) == (
            "InvalidParameterValueException", 400,
            f"The tag key '{key}' is invalid: keys starting with 'aws:' are reserved for AWS use.")

    def test_tags_map_keys_to_strings(self) -> None:
        assert refusal(tags, {"k": 1})[:2] == ("InvalidRequestContentException", 400)
        assert refusal(tags, ["k"])[:2] == ("InvalidRequestContentException", 400)


class TestTagKeys:
    def test_untagging_needs_at_least_one_valid_key(self) -> None:
        assert tag_keys(["a", "b"]) == ["a", "b"]
        assert refusal(tag_keys, []) == (
            "InvalidParameterValueException", 400,
            "1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not "
            "be null")
        code, _, message = refusal(tag_keys, ["ok", "k" * 129])
        assert code == "InvalidParameterValueException"
        assert message.startswith("1 validation error detected: Value '[ok, kkk")
        assert message.endswith("at 'tagKeys' failed to satisfy constraint: Member must satisfy constraint: "
                                "[Member must have length less than or equal to 128]")
