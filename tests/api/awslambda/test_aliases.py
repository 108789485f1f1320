"""ListAliases' FunctionVersion filter, and the Description of aliases and published versions, as
botocore's Version and Description shapes bound them. Real server, boto3."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME


@pytest.fixture
def aliased(lam: Any) -> Iterator[str]:
    """A function with alias `live` on version 1 and alias `edge` on $LATEST."""
    name = f"alias-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO}, Publish=True)
    lam.create_alias(FunctionName=name, Name="live", FunctionVersion="1")
    lam.create_alias(FunctionName=name, Name="edge", FunctionVersion="$LATEST")
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


class TestListAliasesByVersion:
    def test_a_version_lists_the_aliases_that_point_at_it(self, lam: Any, aliased: str) -> None:
        assert [a["Name"] for a in lam.list_aliases(FunctionName=aliased, FunctionVersion="1")["Aliases"]] == ["live"]
        assert [a["Name"] for a in lam.list_aliases(FunctionName=aliased,
                                                    FunctionVersion="$LATEST")["Aliases"]] == ["edge"]

    def test_no_version_lists_them_all(self, lam: Any, aliased: str) -> None:
        assert [a["Name"] for a in lam.list_aliases(FunctionName=aliased)["Aliases"]] == ["edge", "live"]

    @pytest.mark.parametrize("version", ["live", "bad$", "1.0"])
    def test_anything_but_latest_or_a_number_is_refused(self, lam: Any, aliased: str, version: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.list_aliases(FunctionName=aliased, FunctionVersion=version)
        error = caught.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidParameterValueException", f"1 validation error detected: Value '{version}' at 'functionVersion' "
                                              "failed to satisfy constraint: Member must satisfy regular expression "
                                              r"pattern: (\$LATEST|[0-9]+)")


class TestDescriptions:
    def refusal(self, call: Any, **kwargs: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as caught:
            call(**kwargs)
        return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]

    def expected(self, description: str) -> tuple[str, str]:
        return ("InvalidParameterValueException", f"1 validation error detected: Value '{description}' at "
                                                  "'description' failed to satisfy constraint: Member must have "
                                                  "length less than or equal to 256")

    def test_an_aliases_description_is_256_characters_at_most(self, lam: Any, aliased: str) -> None:
        long = "d" * 257
        assert self.refusal(lam.create_alias, FunctionName=aliased, Name="other", FunctionVersion="1",
                            Description=long) == self.expected(long)
        assert self.refusal(lam.update_alias, FunctionName=aliased, Name="live",
                            Description=long) == self.expected(long)
        assert lam.update_alias(FunctionName=aliased, Name="live", Description="d" * 256)["Description"] == "d" * 256

    def test_a_published_versions_description_too(self, lam: Any, aliased: str) -> None:
        lam.update_function_configuration(FunctionName=aliased, Timeout=5)
        long = "v" * 257
        assert self.refusal(lam.publish_version, FunctionName=aliased, Description=long) == self.expected(long)
        assert lam.publish_version(FunctionName=aliased, Description="v" * 256)["Description"] == "v" * 256
