"""Function names, ARNs and qualifiers in every form Lambda accepts (pure)."""

from __future__ import annotations

import pytest

from strato.functions.arns import check_alias_name, function_arn, pick_version, split_function_name
from strato.functions.errors import InvalidParameter


class TestFunctionNames:
    @pytest.mark.parametrize(("text", "expected"), [
        ("my-function", ("my-function", None)),
        ("my-function:v1", ("my-function", "v1")),
        ("my-function:$LATEST", ("my-function", "$LATEST")),
        ("123456789012:function:my-function", ("my-function", None)),
        ("123456789012:function:my-function:3", ("my-function", "3")),
        ("arn:aws:lambda:us-west-2:123456789012:function:my-function", ("my-function", None)),
        ("arn:aws:lambda:us-west-2:123456789012:function:my-function:live", ("my-function", "live")),
    ])
    def test_the_documented_forms_name_a_function_and_maybe_a_qualifier(
        self, text: str, expected: tuple[str, str | None]
    ) -> None:
        assert split_function_name(text) == expected

    @pytest.mark.parametrize("text", ["", "a" * 65, "has space", "arn:aws:lambda:us-east-1:1:function:x", "fn:"])
    def test_malformed_names_are_invalid(self, text: str) -> None:
        with pytest.raises(InvalidParameter):
            split_function_name(text)

    def test_a_qualifier_given_twice_must_agree(self) -> None:
        assert split_function_name("fn:1", "1") == ("fn", "1")
        with pytest.raises(InvalidParameter, match="does not match"):
            split_function_name("fn:1", "2")

    def test_arns_name_the_one_account(self) -> None:
        assert function_arn("us-east-1", "fn") == "arn:aws:lambda:us-east-1:000000000000:function:fn"
        assert function_arn("us-east-1", "fn", "live") == "arn:aws:lambda:us-east-1:000000000000:function:fn:live"

    @pytest.mark.parametrize("alias", ["123", "has:colon", ""])
    def test_an_alias_name_is_not_all_digits_nor_punctuated(self, alias: str) -> None:
        with pytest.raises(InvalidParameter):
            check_alias_name(alias)


class TestWeightedRouting:
    def test_each_additional_version_takes_its_share_of_rolls_and_the_primary_the_rest(self) -> None:
        weights = {"2": 0.2, "3": 0.3}
        assert pick_version("1", weights, 0.0) == "2"
        assert pick_version("1", weights, 0.19) == "2"
        assert pick_version("1", weights, 0.2) == "3"
        assert pick_version("1", weights, 0.49) == "3"
        assert pick_version("1", weights, 0.5) == "1"
        assert pick_version("1", {}, 0.0) == "1"
