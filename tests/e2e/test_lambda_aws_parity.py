"""strato answers what AWS Lambda answered, field for field and word for word, for the cases
LocalStack's AWS-validated tests recorded against real AWS (tests/aws/services/lambda_/
test_lambda_api.snapshot.json and test_lambda.snapshot.json): real server, boto3."""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME
from tests.servers import StratoServer, signed_headers


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    """A client that leaves validation to the server, as the recorded calls reached AWS."""
    return make_client(server.url, "lambda", parameter_validation=False)


@pytest.fixture
def function(lam: Any) -> Iterator[str]:
    name = f"parity-{uuid.uuid4().hex[:12]}"
    lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                        Code={"ZipFile": ECHO})
    yield name
    with contextlib.suppress(lam.exceptions.ResourceNotFoundException):
        lam.delete_function(FunctionName=name)


def arn(name: str, qualifier: str | None = None, region: str = "us-east-1") -> str:
    base = f"arn:aws:lambda:{region}:000000000000:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def refusal(call: Any, **kwargs: Any) -> dict[str, Any]:
    """The parsed error response of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    response: dict[str, Any] = caught.value.response
    return response


class TestErrorBodies:
    def test_not_found_spells_its_text_message_with_a_capital_as_its_model_shape_does(self, lam: Any) -> None:
        error = refusal(lam.get_function, FunctionName="parity-missing")
        assert error["Message"] == f"Function not found: {arn('parity-missing')}"
        assert error["Type"] == "User"
        assert "message" not in error

    def test_invalid_parameter_spells_it_in_lower_case(self, lam: Any, function: str) -> None:
        error = refusal(lam.delete_function, FunctionName=function, Qualifier="$LATEST")
        assert error["message"] == "$LATEST version cannot be deleted without deleting the function."
        assert "Message" not in error


class TestFunctionConfiguration:
    def test_a_function_without_layers_or_variables_shows_neither(self, lam: Any, function: str) -> None:
        configuration = lam.get_function_configuration(FunctionName=function)
        assert "Layers" not in configuration
        assert "Environment" not in configuration

    def test_variables_are_shown_once_the_function_has_some(self, lam: Any, function: str) -> None:
        updated = lam.update_function_configuration(FunctionName=function, Environment={"Variables": {"A": "1"}})
        assert updated["Environment"] == {"Variables": {"A": "1"}}

    def test_variables_over_4_kb_are_refused_quoting_the_string_measured(self, lam: Any, function: str) -> None:
        variables = {"LARGE_VAR": "x" * 4096}
        error = refusal(lam.update_function_configuration, FunctionName=function,
                        Environment={"Variables": variables})
        assert error["message"] == (
            "Lambda was unable to configure your environment variables because the environment variables you have "
            f'provided exceeded the 4KB limit. String measured: {{"LARGE_VAR":"{"x" * 4096}"}}')

    def test_every_configuration_names_its_runtime_version(self, lam: Any, function: str) -> None:
        configuration = lam.get_function(FunctionName=function)["Configuration"]
        runtime_arn = configuration["RuntimeVersionConfig"]["RuntimeVersionArn"]
        assert re.fullmatch(r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", runtime_arn)

    def test_list_entries_leave_out_state_and_runtime_version(self, lam: Any, function: str) -> None:
        lam.publish_version(FunctionName=function)
        for entry in lam.list_versions_by_function(FunctionName=function)["Versions"]:
            assert not {"State", "LastUpdateStatus", "RuntimeVersionConfig"} & set(entry)
            assert entry["SnapStart"] == {"ApplyOn": "None", "OptimizationStatus": "Off"}
        assert any(entry["FunctionName"] == function for entry in lam.list_functions(MaxItems=10000)["Functions"])


class TestListFunctions:
    def test_listing_every_version_qualifies_each_arn_with_its_version(self, lam: Any, function: str) -> None:
        lam.publish_version(FunctionName=function)
        listed = lam.list_functions(FunctionVersion="ALL", MaxItems=10000)["Functions"]
        assert sorted(entry["FunctionArn"] for entry in listed if entry["FunctionName"] == function) == [
            arn(function, "$LATEST"), arn(function, "1")]
        latest = lam.list_functions(MaxItems=10000)["Functions"]
        assert [entry["FunctionArn"] for entry in latest if entry["FunctionName"] == function] == [arn(function)]

    def test_function_version_takes_only_all(self, lam: Any) -> None:
        error = refusal(lam.list_functions, FunctionVersion="invalid")
        assert error["Error"]["Message"] == ("1 validation error detected: Value 'invalid' at 'functionVersion' "
                                             "failed to satisfy constraint: Member must satisfy enum value set: [ALL]")


class TestNotFound:
    def test_an_arn_of_another_region_is_not_reachable_here(self, lam: Any, function: str) -> None:
        foreign = arn(function, region="ap-southeast-1")
        expected = "Functions from 'ap-southeast-1' are not reachable in this region ('us-east-1')"
        for call in (lam.get_function, lam.get_function_configuration, lam.delete_function,
                     lam.get_function_concurrency, lam.invoke):
            error = refusal(call, FunctionName=foreign)
            assert (error["Error"]["Code"], error["Message"]) == ("ResourceNotFoundException", expected)
        assert lam.get_function(FunctionName=function)["Configuration"]["FunctionName"] == function

    def test_get_function_names_the_qualified_arn_whatever_is_missing(self, lam: Any, function: str) -> None:
        cases = [("parity-missing:$LATEST", None, arn("parity-missing", "$LATEST")),
                 (function, "1221", arn(function, "1221")),
                 (function, "aliasdoesnotexist", arn(function, "aliasdoesnotexist"))]
        for name, qualifier, named in cases:
            extra = {} if qualifier is None else {"Qualifier": qualifier}
            for call in (lam.get_function, lam.get_function_configuration):
                assert refusal(call, FunctionName=name, **extra)["Message"] == f"Function not found: {named}"

    def test_invoking_a_missing_alias_names_its_arn_as_get_function_does(self, lam: Any, function: str) -> None:
        error = refusal(lam.invoke, FunctionName=function, Qualifier="aliasdoesnotexist")
        assert error["Message"] == f"Function not found: {arn(function, 'aliasdoesnotexist')}"

    def test_an_alias_looked_up_as_an_alias_cannot_be_found_by_its_arn(self, lam: Any, function: str) -> None:
        """test_notfound_and_invalid_routingconfigs 'alias_does_not_exist_esc'."""
        error = refusal(lam.get_alias, FunctionName=function, Name="non-existent")
        assert (error["Error"]["Code"], error["Message"]) == (
            "ResourceNotFoundException", f"Cannot find alias arn: {arn(function, 'non-existent')}")

    def test_a_missing_alias_asked_of_get_function_by_arn_is_a_function_not_found(
            self, lam: Any, function: str) -> None:
        """test_alias_lifecycle 'get_function_alias_byarn_notfound_exc'."""
        qualified = arn(function, "aliasdoesnotexist")
        assert refusal(lam.get_function, FunctionName=qualified)["Message"] == f"Function not found: {qualified}"

    def test_an_alias_to_a_missing_version_names_that_version(self, lam: Any, function: str) -> None:
        """test_notfound_and_invalid_routingconfigs 'target_version_doesnotexist' and
        'routing_config_exc_version_doesnotexist'."""
        lam.publish_version(FunctionName=function)
        expected = f"Function not found: {arn(function, '10')}"
        assert refusal(lam.create_alias, FunctionName=function, Name="custom", FunctionVersion="10")["Message"] \
            == expected
        assert refusal(lam.create_alias, FunctionName=function, Name="custom", FunctionVersion="1",
                       RoutingConfig={"AdditionalVersionWeights": {"10": 0.5}})["Message"] == expected

    def test_deleting_a_version_the_function_does_not_have_is_no_error(self, lam: Any, function: str) -> None:
        lam.delete_function(FunctionName=function, Qualifier="1233")
        lam.delete_function(FunctionName=function, Qualifier="1233")
        lam.delete_function(FunctionName=function)
        error = refusal(lam.delete_function, FunctionName=function)
        assert error["Message"] == f"Function not found: {arn(function)}"


class TestAliasRouting:
    @pytest.fixture
    def two_versions(self, lam: Any, function: str) -> str:
        lam.publish_version(FunctionName=function)
        lam.update_function_configuration(FunctionName=function, Description="second")
        lam.publish_version(FunctionName=function)
        return function

    def alias_refusal(self, lam: Any, function: str, weights: dict[str, Any], version: str = "1") -> tuple[str, str]:
        error = refusal(lam.create_alias, FunctionName=function, Name="routed", FunctionVersion=version,
                        RoutingConfig={"AdditionalVersionWeights": weights})
        return error["Error"]["Code"], error["Error"]["Message"]

    def test_only_one_additional_version_may_take_a_weight(self, lam: Any, two_versions: str) -> None:
        assert self.alias_refusal(lam, two_versions, {"2": 0.5, "3": 0.5}) == (
            "InvalidParameterValueException", "Number of items in AdditionalVersionWeights cannot be greater than 1")

    def test_weights_outside_zero_to_one_fail_request_validation(self, lam: Any, two_versions: str) -> None:
        for weight, shown in ((2, "2.0"), (-1, "-1.0")):
            assert self.alias_refusal(lam, two_versions, {"2": weight})[1] == (
                f"1 validation error detected: Value '{{2={shown}}}' at 'routingConfig.additionalVersionWeights' "
                "failed to satisfy constraint: Map value must satisfy constraint: [Member must have value less "
                "than or equal to 1.0, Member must have value greater than or equal to 0.0, Member must not be null]")

    def test_only_version_numbers_take_weights(self, lam: Any, two_versions: str) -> None:
        assert self.alias_refusal(lam, two_versions, {"$LATEST": 0.5})[1] == (
            "1 validation error detected: Value '{$LATEST=0.5}' at 'routingConfig.additionalVersionWeights' failed "
            "to satisfy constraint: Map keys must satisfy constraint: [Member must have length less than or equal "
            "to 1024, Member must have length greater than or equal to 1, Member must satisfy regular expression "
            "pattern: [0-9]+, Member must not be null]")

    def test_an_alias_of_a_missing_function_names_the_version_asked_for(self, lam: Any) -> None:
        error = refusal(lam.create_alias, FunctionName="parity-missing", Name="a", FunctionVersion="1")
        assert error["Message"] == f"Function not found: {arn('parity-missing', '1')}"


class TestReservedConcurrency:
    def test_reserving_for_a_missing_function_names_its_latest_version(self, lam: Any) -> None:
        error = refusal(lam.put_function_concurrency, FunctionName="parity-missing", ReservedConcurrentExecutions=1)
        assert error["Message"] == f"Function not found: {arn('parity-missing', '$LATEST')}"

    def test_a_version_or_alias_holds_no_reservation_of_its_own(self, lam: Any, function: str) -> None:
        qualified = arn(function, "$LATEST")
        for call, extra in ((lam.put_function_concurrency, {"ReservedConcurrentExecutions": 1}),
                            (lam.get_function_concurrency, {}), (lam.delete_function_concurrency, {})):
            error = refusal(call, FunctionName=qualified, **extra)
            assert (error["Error"]["Code"], error["message"]) == (
                "InvalidParameterValueException",
                "This operation is permitted on Lambda functions only. Aliases and versions do not support this "
                "operation. Please specify either a function name or an unqualified function ARN.")
        assert lam.get_function_concurrency(FunctionName=function).get("ReservedConcurrentExecutions") is None


class TestCreateValidation:
    def create(self, lam: Any, **overrides: Any) -> tuple[str, str]:
        args = {"FunctionName": f"parity-{uuid.uuid4().hex[:12]}", "Runtime": RUNTIME, "Role": ROLE,
                "Handler": "handler.handler", "Code": {"ZipFile": ECHO}, **overrides}
        error = refusal(lam.create_function, **args)
        return error["Error"]["Code"], error["Error"]["Message"]

    def test_an_unknown_runtime_is_refused_naming_the_runtimes_that_may_be_created(self, lam: Any) -> None:
        for runtime in ("non-existent-runtime", RUNTIME.upper()):
            code, message = self.create(lam, Runtime=runtime)
            assert code == "InvalidParameterValueException"
            assert re.fullmatch(rf"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
                                r"enum value set: \[.*\] or be a valid ARN", message)
            assert RUNTIME in message

    def test_architectures_hold_exactly_one_of_lambdas_two(self, lam: Any) -> None:
        prefix = "1 validation error detected: Value "
        assert self.create(lam, Architectures=["x86_64", "arm64"])[1] == (
            f"{prefix}'[x86_64, arm64]' at 'architectures' failed to satisfy constraint: Member must have length "
            "less than or equal to 1")
        assert self.create(lam, Architectures=["X86_64"])[1] == (
            f"{prefix}'[X86_64]' at 'architectures' failed to satisfy constraint: Member must satisfy constraint: "
            "[Member must satisfy enum value set: [x86_64, arm64], Member must not be null]")


PERMISSION = {"StatementId": "s3", "Action": "lambda:InvokeFunction", "Principal": "s3.amazonaws.com"}


class TestFunctionNames:
    def create(self, lam: Any, name: str) -> dict[str, Any]:
        return refusal(lam.create_function, FunctionName=name, Runtime=RUNTIME, Role=ROLE,
                       Handler="handler.handler", Code={"ZipFile": ECHO})

    def test_a_name_outside_the_shapes_pattern_is_refused_quoting_it(self, lam: Any) -> None:
        assert self.create(lam, "invalid:function:name")["message"] == (
            "1 validation error detected: Value 'invalid:function:name' at 'functionName' failed to satisfy "
            r"constraint: Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}"
            r"((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)"
            r"(:(\$LATEST|[a-zA-Z0-9-_]+))?")

    def test_names_over_64_and_arns_over_140_characters_are_refused(self, lam: Any) -> None:
        name = "a" * 65
        assert self.create(lam, name)["message"] == (
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy constraint: Member "
            "must have length less than or equal to 64")
        long_arn = arn("a" * 95)
        assert self.create(lam, long_arn)["message"] == (
            f"1 validation error detected: Value '{long_arn}' at 'functionName' failed to satisfy constraint: "
            "Member must have length less than or equal to 140")

    def test_an_arn_of_another_account_is_access_denied(self, lam: Any, function: str) -> None:
        foreign = f"arn:aws:lambda:us-east-1:123456789012:function:{function}"
        for call in (lam.get_function, lam.invoke):
            error = refusal(call, FunctionName=foreign)
            assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (
                "AccessDeniedException", 403)


class TestRequestSize:
    def test_a_package_request_over_lambdas_limit_is_request_entity_too_large(self, server: StratoServer) -> None:
        """Answered from Content-Length, before the body is read (none is sent)."""
        url = f"{server.url}/2015-03-31/functions"
        signed = signed_headers("POST", url, "lambda", headers={"Content-Type": "application/json"})
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            connection.request("POST", "/2015-03-31/functions", body=b"",
                               headers={**signed, "Content-Length": "69905068"})
            response = connection.getresponse()
            body = json.loads(response.read())
        finally:
            connection.close()
        assert (response.status, response.headers["x-amzn-ErrorType"]) == (413, "RequestEntityTooLargeException")
        assert body["message"] == "Request must be smaller than 69905067 bytes for the CreateFunction operation"


class TestConfigurationValidation:
    @pytest.mark.parametrize(("change", "expected"), [
        ({"Timeout": 901}, "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less "
                           "than or equal to 900"),
        ({"MemorySize": 64}, "Value '64' at 'memorySize' failed to satisfy constraint: Member must have value "
                             "greater than or equal to 128"),
        ({"EphemeralStorage": {"Size": 100}}, "Value '100' at 'ephemeralStorage.size' failed to satisfy "
                                              "constraint: Member must have value greater than or equal to 512"),
        ({"Handler": "a b"}, "Value 'a b' at 'handler' failed to satisfy constraint: Member must satisfy regular "
                             r"expression pattern: [^\s]+"),
        ({"Description": "d" * 257}, f"Value '{'d' * 257}' at 'description' failed to satisfy constraint: Member "
                                     "must have length less than or equal to 256"),
    ])
    def test_fields_outside_their_shape_are_refused_in_lambdas_validation_wording(
            self, lam: Any, function: str, change: dict[str, Any], expected: str) -> None:
        error = refusal(lam.update_function_configuration, FunctionName=function, **change)
        assert (error["Error"]["Code"], error["message"]) == (
            "InvalidParameterValueException", f"1 validation error detected: {expected}")


class TestPermissions:
    def test_a_qualifier_of_the_shapes_pattern_that_names_nothing_is_not_found(self, lam: Any, function: str) -> None:
        error = refusal(lam.add_permission, FunctionName=function, Qualifier="valid-with-$-but-doesnotexist",
                        **PERMISSION)
        assert error["Message"] == f"Function not found: {arn(function, 'valid-with-$-but-doesnotexist')}"

    def test_removing_a_permission_of_a_missing_function_finds_no_policy(self, lam: Any) -> None:
        error = refusal(lam.remove_permission, FunctionName="parity-missing", StatementId="s3")
        assert error["Message"] == f"No policy found for: {arn('parity-missing')}"


class TestEventInvokeConfig:
    def test_a_destination_function_that_does_not_exist_is_invalid(self, lam: Any, function: str) -> None:
        missing = arn("doesnotexist")
        error = refusal(lam.put_function_event_invoke_config, FunctionName=function,
                        DestinationConfig={"OnSuccess": {"Destination": missing}})
        assert error["message"] == f"The destination ARN {missing} is invalid."

    def test_a_destination_function_that_exists_is_kept(self, lam: Any, function: str) -> None:
        other = f"parity-{uuid.uuid4().hex[:12]}"
        lam.create_function(FunctionName=other, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": ECHO})
        try:
            config = lam.put_function_event_invoke_config(
                FunctionName=function, DestinationConfig={"OnSuccess": {"Destination": arn(other)}})
            assert config["DestinationConfig"] == {"OnSuccess": {"Destination": arn(other)}, "OnFailure": {}}
        finally:
            lam.delete_function(FunctionName=other)
