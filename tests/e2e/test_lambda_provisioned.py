"""Provisioned concurrency through boto3 against a real `strato serve`: the four operations and
Lambda's answers to what they refuse, and the environments really kept warm: after READY the
first invocation has no Init Duration and its handler sees AWS_LAMBDA_INITIALIZATION_TYPE
`provisioned-concurrency`; configurations survive a restart; deletions remove them."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, call, deploy
from tests.servers import StratoServer

INTROSPECT = """
import os, uuid

TOKEN = uuid.uuid4().hex  # one per environment (a process id may repeat in its own namespace)

def handler(event, context):
    return {"type": os.environ["AWS_LAMBDA_INITIALIZATION_TYPE"], "pid": os.getpid(), "token": TOKEN}
"""
FAILING_INIT = """
raise RuntimeError("no configuration")

def handler(event, context):
    return {}
"""
SETTLED = 60.0  # seconds a configuration may take to leave IN_PROGRESS before the test gives up


def settled(lam: Any, name: str, qualifier: str) -> dict[str, Any]:
    """GetProvisionedConcurrencyConfig polled until its Status leaves IN_PROGRESS, as users wait."""
    deadline = time.monotonic() + SETTLED
    while True:
        config: dict[str, Any] = lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier)
        if config["Status"] != "IN_PROGRESS" or time.monotonic() > deadline:
            return config
        time.sleep(0.05)


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = caught.value.response
    return (response["Error"]["Code"], response["Error"]["Message"],
            response["ResponseMetadata"]["HTTPStatusCode"])


def log_tail(answer: dict[str, Any]) -> str:
    return base64.b64decode(answer["LogResult"]).decode()


@pytest.fixture
def published(lam: Any) -> Iterator[tuple[str, str]]:
    """A function of INTROSPECT with version 1 published: (name, "1")."""
    name = deploy(lam, INTROSPECT)
    version = lam.publish_version(FunctionName=name)["Version"]
    yield name, version
    lam.delete_function(FunctionName=name)


class TestKeptWarm:
    def test_put_answers_in_progress_and_get_turns_ready_once_the_environments_are_up(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        answer = lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                        ProvisionedConcurrentExecutions=2)
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 202
        assert answer["RequestedProvisionedConcurrentExecutions"] == 2
        assert answer["AllocatedProvisionedConcurrentExecutions"] == 0
        assert answer["AvailableProvisionedConcurrentExecutions"] == 0
        assert answer["Status"] == "IN_PROGRESS"
        assert answer["LastModified"]
        config = settled(lam, name, version)
        assert config["Status"] == "READY"
        assert config["AllocatedProvisionedConcurrentExecutions"] == 2
        assert config["AvailableProvisionedConcurrentExecutions"] == 2
        assert "StatusReason" not in config

    def test_the_first_invocation_after_ready_is_warm_and_sees_provisioned_concurrency(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, version)["Status"] == "READY"
        answer, result = call(lam, name, Qualifier=version, LogType="Tail")
        assert result["type"] == "provisioned-concurrency"
        assert "REPORT RequestId" in log_tail(answer)
        assert "Init Duration" not in log_tail(answer)

    def test_an_unprovisioned_version_starts_cold_and_on_demand(self, lam: Any, published: tuple[str, str]) -> None:
        name, _ = published
        answer, result = call(lam, name, LogType="Tail")  # $LATEST: nothing is provisioned for it
        assert result["type"] == "on-demand"
        assert "Init Duration" in log_tail(answer)

    def test_an_alias_keeps_its_version_warm(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, "live")["Status"] == "READY"
        answer, result = call(lam, name, Qualifier="live", LogType="Tail")
        assert result["type"] == "provisioned-concurrency"
        assert "Init Duration" not in log_tail(answer)

    def test_a_permission_on_the_version_keeps_its_environments(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, version)["Status"] == "READY"
        _, before = call(lam, name, Qualifier=version)
        lam.add_permission(FunctionName=name, Qualifier=version, StatementId="from-s3",
                           Action="lambda:InvokeFunction", Principal="s3.amazonaws.com")
        _, after = call(lam, name, Qualifier=version)
        assert after == before
        assert after["type"] == "provisioned-concurrency"

    def test_a_failing_init_turns_the_configuration_failed_with_its_reason(self, lam: Any) -> None:
        name = deploy(lam, FAILING_INIT)
        try:
            version = lam.publish_version(FunctionName=name)["Version"]
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                   ProvisionedConcurrentExecutions=1)
            config = settled(lam, name, version)
            assert config["Status"] == "FAILED"
            assert config["StatusReason"] == "FUNCTION_ERROR_INIT_FAILURE: RuntimeError"
        finally:
            lam.delete_function(FunctionName=name)


class TestConfigurations:
    def test_list_names_each_configuration_by_its_qualified_arn_and_pages(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="blue", FunctionVersion=version)
        lam.update_function_configuration(FunctionName=name, Timeout=5)
        second = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="blue", ProvisionedConcurrentExecutions=1)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=second, ProvisionedConcurrentExecutions=1)
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        first = lam.list_provisioned_concurrency_configs(FunctionName=name, MaxItems=1)
        assert [c["FunctionArn"] for c in first["ProvisionedConcurrencyConfigs"]] == [f"{arn}:{second}"]
        rest = lam.list_provisioned_concurrency_configs(FunctionName=name, Marker=first["NextMarker"])
        assert [c["FunctionArn"] for c in rest["ProvisionedConcurrencyConfigs"]] == [f"{arn}:blue"]
        assert "NextMarker" not in rest
        item = rest["ProvisionedConcurrencyConfigs"][0]
        assert item["RequestedProvisionedConcurrentExecutions"] == 1
        assert item["Status"] in ("IN_PROGRESS", "READY")

    def test_a_put_again_replaces_the_count(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
        assert settled(lam, name, version)["AllocatedProvisionedConcurrentExecutions"] == 2
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        config = settled(lam, name, version)
        assert (config["Status"], config["RequestedProvisionedConcurrentExecutions"],
                config["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 1, 1)

    def test_delete_removes_it_and_a_second_delete_is_no_error(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        assert lam.delete_provisioned_concurrency_config(
            FunctionName=name, Qualifier=version)["ResponseMetadata"]["HTTPStatusCode"] == 204
        with pytest.raises(ClientError) as caught:
            lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
        assert error(caught) == ("ProvisionedConcurrencyConfigNotFoundException",
                                 "No Provisioned Concurrency Config found for this function", 404)
        assert lam.delete_provisioned_concurrency_config(
            FunctionName=name, Qualifier=version)["ResponseMetadata"]["HTTPStatusCode"] == 204

    def test_deleting_the_alias_removes_its_configuration(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="gone", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="gone", ProvisionedConcurrentExecutions=1)
        lam.delete_alias(FunctionName=name, Name="gone")
        with pytest.raises(ClientError) as caught:
            lam.get_provisioned_concurrency_config(FunctionName=name, Qualifier="gone")
        assert error(caught)[0] == "ResourceNotFoundException"
        assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []

    def test_deleting_another_version_leaves_a_configurations_environments_alone(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, version)["Status"] == "READY"
        _, before = call(lam, name, Qualifier=version)
        lam.update_function_configuration(FunctionName=name, Timeout=5)
        second = lam.publish_version(FunctionName=name)["Version"]
        lam.delete_function(FunctionName=name, Qualifier=second)
        answer, after = call(lam, name, Qualifier=version, LogType="Tail")
        assert after["token"] == before["token"]  # the same environment, still kept
        assert "Init Duration" not in log_tail(answer)
        assert settled(lam, name, version)["Status"] == "READY"

    def test_deleting_the_version_or_the_function_removes_its_configurations(self, lam: Any) -> None:
        name = deploy(lam, INTROSPECT)
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        lam.delete_function(FunctionName=name, Qualifier=version)
        assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        lam.delete_function(FunctionName=name)
        lam.create_function(FunctionName=name, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": ECHO}, Publish=True)  # the same name again, from scratch
        try:
            assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []
        finally:
            lam.delete_function(FunctionName=name)


class TestRefusals:
    @pytest.fixture
    def unvalidated(self, server: StratoServer) -> Any:
        """A client that sends what boto3 would refuse itself, so the server's own checks answer."""
        return make_client(server.url, "lambda", parameter_validation=False)

    def test_latest_is_refused_as_lambda_words_it(self, lam: Any, published: tuple[str, str]) -> None:
        name, _ = published
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="$LATEST",
                                                   ProvisionedConcurrentExecutions=1)
        assert error(caught) == ("InvalidParameterValueException", "Provisioned Concurrency Configs cannot be "
                                 "applied to unpublished function versions.", 400)
        for operation in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
            with pytest.raises(ClientError) as caught:
                operation(FunctionName=name, Qualifier="$LATEST")
            assert error(caught) == ("InvalidParameterValueException", "The function resource provided must be "
                                     "an alias or a published version.", 400)

    def test_an_alias_of_latest_is_unpublished_too(self, lam: Any, published: tuple[str, str]) -> None:
        name, _ = published
        lam.create_alias(FunctionName=name, Name="head", FunctionVersion="$LATEST")
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="head",
                                                   ProvisionedConcurrentExecutions=1)
        assert error(caught)[:2] == ("InvalidParameterValueException", "Provisioned Concurrency Configs cannot be "
                                     "applied to unpublished function versions.")

    def test_missing_functions_versions_and_aliases_are_not_found(self, lam: Any, published: tuple[str, str]) -> None:
        name, _ = published
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        cases = [("doesnotexist", "1", "Function not found: " + arn.replace(name, "doesnotexist")),
                 (name, "10", f"Function not found: {arn}:10"),
                 (name, "noalias", f"Cannot find alias arn: {arn}:noalias")]
        for function, qualifier, message in cases:
            for operation in (lam.get_provisioned_concurrency_config, lam.delete_provisioned_concurrency_config):
                with pytest.raises(ClientError) as caught:
                    operation(FunctionName=function, Qualifier=qualifier)
                assert error(caught) == ("ResourceNotFoundException", message, 404)
        with pytest.raises(ClientError) as caught:
            lam.list_provisioned_concurrency_configs(FunctionName="doesnotexist")
        assert error(caught)[0] == "ResourceNotFoundException"

    def test_zero_and_leading_zeros_name_no_version(self, lam: Any, published: tuple[str, str]) -> None:
        name, _ = published  # version 1
        arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
        for qualifier in ("0", "01"):
            with pytest.raises(ClientError) as caught:
                lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=qualifier,
                                                       ProvisionedConcurrentExecutions=1)
            assert error(caught) == ("ResourceNotFoundException", f"Function not found: {arn}:{qualifier}", 404)
        assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []

    def test_an_alias_with_weights_is_refused(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.update_function_configuration(FunctionName=name, Timeout=5)
        second = lam.publish_version(FunctionName=name)["Version"]
        lam.create_alias(FunctionName=name, Name="canary", FunctionVersion=version,
                         RoutingConfig={"AdditionalVersionWeights": {second: 0.1}})
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="canary",
                                                   ProvisionedConcurrentExecutions=1)
        assert error(caught) == ("InvalidParameterValueException", "Alias with weights can not be used with "
                                 "Provisioned Concurrency", 400)
        assert lam.list_provisioned_concurrency_configs(FunctionName=name)["ProvisionedConcurrencyConfigs"] == []

    def test_a_version_is_provisioned_through_itself_or_an_alias_not_both(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="blue", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="blue",
                                                   ProvisionedConcurrentExecutions=1)
        assert error(caught) == ("ResourceConflictException", "Alias can't be used for Provisioned Concurrency "
                                 "configuration on an already Provisioned version", 409)
        lam.delete_provisioned_concurrency_config(FunctionName=name, Qualifier=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="blue", ProvisionedConcurrentExecutions=1)
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                   ProvisionedConcurrentExecutions=1)
        assert error(caught) == ("ResourceConflictException", "Version is pointed by a Provisioned Concurrency "
                                 "alias", 409)

    def test_at_least_one(self, unvalidated: Any, published: tuple[str, str]) -> None:
        name, version = published
        with pytest.raises(ClientError) as caught:
            unvalidated.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                           ProvisionedConcurrentExecutions=0)
        assert error(caught) == ("InvalidParameterValueException", "1 validation error detected: Value '0' at "
                                 "'provisionedConcurrentExecutions' failed to satisfy constraint: Member must have "
                                 "value greater than or equal to 1", 400)

    def test_no_more_than_the_functions_reserved_concurrency(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                   ProvisionedConcurrentExecutions=2)
        assert error(caught) == ("InvalidParameterValueException", "Requested Provisioned Concurrency should not be "
                                 "greater than the reservedConcurrentExecution for function", 400)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)

    def test_no_reservation_below_the_functions_provisioned_concurrency(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=2)
        with pytest.raises(ClientError) as caught:
            lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=1)
        assert error(caught) == ("InvalidParameterValueException", " ReservedConcurrentExecutions  1 should not be "
                                 "lower than function's total provisioned concurrency [2]", 400)
        assert lam.put_function_concurrency(FunctionName=name, ReservedConcurrentExecutions=2)[
            "ReservedConcurrentExecutions"] == 2


class TestAcrossRestarts:
    """A server of its own: an account limit of 150 (so 50 may be provisioned without a
    reservation), stopped and started again."""

    @pytest.fixture
    def own(self, tmp_path: Path) -> Iterator[StratoServer]:
        running = StratoServer(tmp_path / "data", env={"STRATO_FUNCTION_CONCURRENCY": "150"}).start()
        yield running
        if running.alive():
            running.stop()

    def test_the_account_keeps_its_unreserved_minimum(self, own: StratoServer) -> None:
        lam = make_client(own.url, "lambda")
        name = deploy(lam, INTROSPECT)
        version = lam.publish_version(FunctionName=name)["Version"]
        with pytest.raises(ClientError) as caught:
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                   ProvisionedConcurrentExecutions=51)
        assert error(caught) == ("InvalidParameterValueException", "Specified ConcurrentExecutions for function "
                                 "decreases account's UnreservedConcurrentExecution below its minimum value of "
                                 "[100].", 400)
        other = deploy(lam, INTROSPECT)
        lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=10)
        with pytest.raises(ClientError) as caught:  # 150 - 10 reserved - 41 < 100
            lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                   ProvisionedConcurrentExecutions=41)
        assert error(caught)[0] == "InvalidParameterValueException"
        assert lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version,
                                                      ProvisionedConcurrentExecutions=1)["Status"] == "IN_PROGRESS"

    def test_a_reservation_counts_the_provisioned_concurrency_of_unreserved_functions(self, own: StratoServer) -> None:
        lam = make_client(own.url, "lambda")
        name = deploy(lam, INTROSPECT)
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        other = deploy(lam, INTROSPECT)
        with pytest.raises(ClientError) as caught:  # 150 - 1 provisioned - 50 < 100
            lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=50)
        assert error(caught) == ("InvalidParameterValueException", "Specified ReservedConcurrentExecutions for "
                                 "function decreases account's UnreservedConcurrentExecution below its minimum "
                                 "value of [100].", 400)
        assert lam.put_function_concurrency(FunctionName=other, ReservedConcurrentExecutions=49)[
            "ReservedConcurrentExecutions"] == 49

    def test_configurations_and_their_environments_come_back_after_a_restart(self, own: StratoServer) -> None:
        lam = make_client(own.url, "lambda")
        name = deploy(lam, INTROSPECT)
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=version, ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, version)["Status"] == "READY"
        own.stop()
        own.start()
        lam = make_client(own.url, "lambda")
        config = settled(lam, name, version)
        assert (config["Status"], config["AllocatedProvisionedConcurrentExecutions"]) == ("READY", 1)
        answer, result = call(lam, name, Qualifier=version, LogType="Tail")
        assert result["type"] == "provisioned-concurrency"
        assert "Init Duration" not in log_tail(answer)


class TestAliasesMoving:
    def test_the_environments_follow_an_alias_to_its_new_version(self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
        assert settled(lam, name, "live")["Status"] == "READY"
        lam.update_function_configuration(FunctionName=name, Timeout=5)
        second = lam.publish_version(FunctionName=name)["Version"]
        lam.update_alias(FunctionName=name, Name="live", FunctionVersion=second)
        assert settled(lam, name, "live")["Status"] == "READY"
        answer, result = call(lam, name, Qualifier="live", LogType="Tail")
        assert answer["ExecutedVersion"] == second
        assert result["type"] == "provisioned-concurrency"
        assert "Init Duration" not in log_tail(answer)

    def test_an_alias_with_a_configuration_cannot_point_at_latest_or_a_provisioned_version(
            self, lam: Any, published: tuple[str, str]) -> None:
        name, version = published
        lam.create_alias(FunctionName=name, Name="live", FunctionVersion=version)
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier="live", ProvisionedConcurrentExecutions=1)
        with pytest.raises(ClientError) as caught:
            lam.update_alias(FunctionName=name, Name="live", FunctionVersion="$LATEST")
        assert error(caught)[0] == "InvalidParameterValueException"
        lam.update_function_configuration(FunctionName=name, Timeout=5)
        second = lam.publish_version(FunctionName=name)["Version"]
        lam.put_provisioned_concurrency_config(FunctionName=name, Qualifier=second, ProvisionedConcurrentExecutions=1)
        with pytest.raises(ClientError) as caught:
            lam.update_alias(FunctionName=name, Name="live", FunctionVersion=second)
        assert error(caught)[0] == "ResourceConflictException"
