"""Lambda function URLs against a real strato: the five operations through boto3 with Lambda's
answers and errors, then HTTP requests to a URL's own host (sent to 127.0.0.1 with an explicit
Host header, since `*.localhost` need not resolve here): the event a function receives, each
response shape, auth types and CORS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import make_client
from tests.e2e.lambda_helpers import published_with_alias, refused
from tests.servers import StratoServer


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return make_client(server.url, "lambda")


@pytest.fixture
def name(lam: Any) -> Iterator[str]:
    with published_with_alias(lam, "url") as created:
        yield created


CORS = {"AllowOrigins": ["https://app.example"], "AllowMethods": ["GET", "POST"], "AllowHeaders": ["x-custom"],
        "ExposeHeaders": ["x-trace"], "AllowCredentials": True, "MaxAge": 300}


class TestControlPlane:
    def test_create_answers_the_url_and_get_reads_it_back(self, lam: Any, name: str, server: StratoServer) -> None:
        created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=CORS)
        assert created["ResponseMetadata"]["HTTPStatusCode"] == 201
        assert re.fullmatch(rf"http://[a-z0-9]{{32}}\.lambda-url\.us-east-1\.localhost:{server.port}/",
                            created["FunctionUrl"])
        assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert (created["AuthType"], created["Cors"], created["InvokeMode"]) == ("NONE", CORS, "BUFFERED")
        assert "LastModifiedTime" not in created
        got = lam.get_function_url_config(FunctionName=name)
        assert got["FunctionUrl"] == created["FunctionUrl"]
        assert got["CreationTime"] == created["CreationTime"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", got["LastModifiedTime"])

    def test_an_alias_has_a_url_of_its_own(self, lam: Any, name: str) -> None:
        function = lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        alias = lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="AWS_IAM")
        assert alias["FunctionArn"].endswith(f"function:{name}:live")
        assert alias["FunctionUrl"] != function["FunctionUrl"]
        listed = lam.list_function_url_configs(FunctionName=name)["FunctionUrlConfigs"]
        assert [c["FunctionArn"].rsplit(":", 1)[-1] for c in listed] == [name, "live"]

    def test_update_changes_the_fields_given_and_keeps_the_url(self, lam: Any, name: str) -> None:
        created = lam.create_function_url_config(FunctionName=name, AuthType="NONE", Cors=CORS)
        updated = lam.update_function_url_config(FunctionName=name, AuthType="AWS_IAM")
        assert (updated["FunctionUrl"], updated["AuthType"], updated["Cors"]) == \
            (created["FunctionUrl"], "AWS_IAM", CORS)
        assert updated["CreationTime"] == created["CreationTime"]

    def test_delete_removes_the_url_and_a_new_one_has_another_address(self, lam: Any, name: str) -> None:
        first = lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"]
        assert lam.delete_function_url_config(FunctionName=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
        assert refused(lam.get_function_url_config, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
        assert lam.create_function_url_config(FunctionName=name, AuthType="NONE")["FunctionUrl"] != first

    def test_list_pages_with_marker_and_max_items(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        lam.create_function_url_config(FunctionName=name, Qualifier="live", AuthType="NONE")
        first = lam.list_function_url_configs(FunctionName=name, MaxItems=1)
        rest = lam.list_function_url_configs(FunctionName=name, Marker=first["NextMarker"])
        assert len(first["FunctionUrlConfigs"]) == len(rest["FunctionUrlConfigs"]) == 1
        assert "NextMarker" not in rest

    def test_deleting_the_function_deletes_its_urls(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        lam.delete_function(FunctionName=name)
        assert refused(lam.list_function_url_configs, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "Function does not exist")


class TestControlPlaneErrors:
    def test_a_second_url_for_the_same_qualifier_conflicts(self, lam: Any, name: str) -> None:
        lam.create_function_url_config(FunctionName=name, AuthType="NONE")
        arn = f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
        assert refused(lam.create_function_url_config, FunctionName=name, AuthType="NONE") == (
            "ResourceConflictException", 409, f"Failed to create function url config for [functionArn = {arn}]. "
            "Error message:  FunctionUrlConfig exists for this Lambda function")

    def test_a_missing_function_or_alias_is_not_found(self, lam: Any, name: str) -> None:
        assert refused(lam.create_function_url_config, FunctionName="no-such-function", AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "Function does not exist")
        assert refused(lam.create_function_url_config, FunctionName=name, Qualifier="nope", AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "Function does not exist")
        assert refused(lam.update_function_url_config, FunctionName=name, AuthType="NONE") == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")
        assert refused(lam.delete_function_url_config, FunctionName=name) == \
            ("ResourceNotFoundException", 404, "The resource you requested does not exist.")

    def test_latest_and_version_numbers_are_refused_as_qualifiers(self, server: StratoServer, name: str) -> None:
        raw = make_client(server.url, "lambda", parameter_validation=False)
        code, status, message = refused(raw.create_function_url_config, FunctionName=name, Qualifier="$LATEST",
                                        AuthType="NONE")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith("1 validation error detected: Value '$LATEST' at 'qualifier'")
        code, status, message = refused(raw.get_function_url_config, FunctionName=name, Qualifier="1")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert message.startswith("1 validation error detected: Value '1' at 'qualifier'")

    def test_fields_outside_their_shapes_are_refused_in_lambdas_words(self, server: StratoServer, name: str) -> None:
        raw = make_client(server.url, "lambda", parameter_validation=False)
        cases: list[tuple[dict[str, Any], str]] = [
                 ({}, "Value null at 'authType' failed to satisfy constraint: Member must not be null"),
                 ({"AuthType": "OPEN"}, "Value 'OPEN' at 'authType' failed to satisfy constraint: Member must "
                  "satisfy enum value set: [NONE, AWS_IAM]"),
                 ({"AuthType": "NONE", "InvokeMode": "FAST"}, "Value 'FAST' at 'invokeMode'"),
                 ({"AuthType": "NONE", "Cors": {"AllowMethods": ["GET", "OPTIONS"]}},
                  "Value '[GET, OPTIONS]' at 'cors.allowMethods' failed to satisfy constraint: Member must satisfy "
                  "constraint: [Member must have length less than or equal to 6"),
                 ({"AuthType": "NONE", "Cors": {"MaxAge": 86401}},
                  "Value '86401' at 'cors.maxAge' failed to satisfy constraint: Member must have value less than or "
                  "equal to 86400")]
        for fields, words in cases:
            code, status, message = refused(raw.create_function_url_config, FunctionName=name, **fields)
            assert (code, status) == ("InvalidParameterValueException", 400), fields
            assert message.startswith(f"1 validation error detected: {words}"), message
