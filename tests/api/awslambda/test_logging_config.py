"""LoggingConfig through boto3 against a real strato: Text or JSON, the levels JSON filters at,
as Lambda checks, defaults and answers them.
https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-advanced.html"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of
from tests.e2e.lambda_helpers import ECHO, ROLE, RUNTIME, call, deployed, function_log, until
from tests.e2e.test_awscli import Aws
from tests.servers import StratoServer

TEXT_WITH_LEVELS = ('LogLevel is not supported when LogFormat is set to "Text". Remove LogLevel from your request '
                    'or change the LogFormat to "JSON" and try again.')


def create(lam: Any, function: str, logging: dict[str, str]) -> dict[str, Any]:
    answer: dict[str, Any] = lam.create_function(
        FunctionName=function, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler", Code={"ZipFile": ECHO},
        LoggingConfig=logging)
    return answer


class TestAnswered:
    def test_a_function_logs_text_to_its_own_group_by_default(self, lam: Any, function: str) -> None:
        assert lam.get_function_configuration(FunctionName=function)["LoggingConfig"] == {
            "LogFormat": "Text", "LogGroup": f"/aws/lambda/{function}"}

    def test_json_without_levels_filters_both_at_info(self, lam: Any) -> None:
        with deployed(lam, "def handler(event, context):\n    return 1\n", LoggingConfig={"LogFormat": "JSON"}) as name:
            expected = {"LogFormat": "JSON", "ApplicationLogLevel": "INFO", "SystemLogLevel": "INFO",
                        "LogGroup": f"/aws/lambda/{name}"}
            assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"] == expected
            assert lam.get_function(FunctionName=name)["Configuration"]["LoggingConfig"] == expected

    def test_levels_given_with_json_are_kept_and_published_with_the_version(self, lam: Any, function: str) -> None:
        given = {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG", "SystemLogLevel": "WARN"}
        updated = lam.update_function_configuration(FunctionName=function, LoggingConfig=given)
        assert updated["LoggingConfig"] == {**given, "LogGroup": f"/aws/lambda/{function}"}
        version = lam.publish_version(FunctionName=function)["Version"]
        published = lam.get_function_configuration(FunctionName=function, Qualifier=version)
        assert published["LoggingConfig"] == updated["LoggingConfig"]

    def test_a_given_logging_config_replaces_the_whole_one(self, lam: Any, function: str) -> None:
        lam.update_function_configuration(FunctionName=function, LoggingConfig={
            "LogFormat": "JSON", "ApplicationLogLevel": "ERROR", "SystemLogLevel": "DEBUG"})
        back_to_text = lam.update_function_configuration(FunctionName=function, LoggingConfig={"LogFormat": "Text"})
        assert back_to_text["LoggingConfig"] == {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{function}"}
        json_again = lam.update_function_configuration(FunctionName=function, LoggingConfig={"LogFormat": "JSON"})
        assert (json_again["LoggingConfig"]["ApplicationLogLevel"], json_again["LoggingConfig"]["SystemLogLevel"]) == (
            "INFO", "INFO")

    def test_an_update_without_logging_config_keeps_it(self, lam: Any, function: str) -> None:
        lam.update_function_configuration(FunctionName=function, LoggingConfig={"LogFormat": "JSON",
                                                                                 "SystemLogLevel": "WARN"})
        kept = lam.update_function_configuration(FunctionName=function, Timeout=7)["LoggingConfig"]
        assert (kept["LogFormat"], kept["SystemLogLevel"]) == ("JSON", "WARN")


    def test_the_aws_cli_sets_and_reads_it(self, lam: Any, function: str, server: StratoServer,
                                            tmp_path: Path) -> None:
        aws = Aws(server, tmp_path / "aws")
        updated = aws.json("lambda", "update-function-configuration", "--function-name", function, "--logging-config",
                           "LogFormat=JSON,ApplicationLogLevel=DEBUG,SystemLogLevel=WARN,LogGroup=/team/cli")
        assert updated["LoggingConfig"] == {"LogFormat": "JSON", "ApplicationLogLevel": "DEBUG",
                                            "SystemLogLevel": "WARN", "LogGroup": "/team/cli"}
        read = aws.json("lambda", "get-function-configuration", "--function-name", function)
        assert read["LoggingConfig"] == updated["LoggingConfig"]


class TestRefused:
    @pytest.mark.parametrize("logging", [
        {"ApplicationLogLevel": "DEBUG"},
        {"LogFormat": "Text", "SystemLogLevel": "WARN"},
    ])
    def test_levels_without_json_are_refused_in_lambdas_words(self, lam: Any, function: str,
                                                             logging: dict[str, str]) -> None:
        with pytest.raises(ClientError) as caught:
            lam.update_function_configuration(FunctionName=function, LoggingConfig=logging)
        assert error_of(caught) == ("InvalidParameterValueException", 400)
        assert caught.value.response["Error"]["Message"] == TEXT_WITH_LEVELS

    def test_create_function_refuses_them_too(self, lam: Any) -> None:
        with pytest.raises(ClientError) as caught:
            create(lam, "fn-text-levels", {"LogFormat": "Text", "ApplicationLogLevel": "INFO"})
        assert caught.value.response["Error"]["Message"] == TEXT_WITH_LEVELS
        with pytest.raises(lam.exceptions.ResourceNotFoundException):
            lam.get_function(FunctionName="fn-text-levels")

    @pytest.mark.parametrize(("logging", "member", "constraint"), [
        ({"LogFormat": "Yaml"}, "loggingConfig.logFormat", "Member must satisfy enum value set: [JSON, Text]"),
        ({"LogFormat": "JSON", "ApplicationLogLevel": "VERBOSE"}, "loggingConfig.applicationLogLevel",
         "Member must satisfy enum value set: [TRACE, DEBUG, INFO, WARN, ERROR, FATAL]"),
        ({"LogFormat": "JSON", "SystemLogLevel": "ERROR"}, "loggingConfig.systemLogLevel",
         "Member must satisfy enum value set: [DEBUG, INFO, WARN]"),
        ({"LogGroup": "my group"}, "loggingConfig.logGroup",
         r"Member must satisfy regular expression pattern: [\.\-_/#A-Za-z0-9]+"),
        ({"LogGroup": "g" * 513}, "loggingConfig.logGroup", "Member must have length less than or equal to 512"),
    ])
    def test_values_outside_the_model_fail_validation(self, lam: Any, function: str, logging: dict[str, str],
                                                      member: str, constraint: str) -> None:
        with pytest.raises(ClientError) as caught:
            lam.update_function_configuration(FunctionName=function, LoggingConfig=logging)
        message = caught.value.response["Error"]["Message"]
        assert f"at '{member}' failed to satisfy constraint: {constraint}" in message


class TestRuntimeVariables:
    """AWS_LAMBDA_LOG_FORMAT and AWS_LAMBDA_LOG_LEVEL, which runtime clients (awslambdaric, the
    Node.js client, a custom runtime's own) format and filter their records by."""

    CODE = ("import os\n"
            "def handler(event, context):\n"
            "    return [os.environ.get('AWS_LAMBDA_LOG_FORMAT'), os.environ.get('AWS_LAMBDA_LOG_LEVEL')]\n")

    def test_json_sets_the_format_and_the_application_level(self, lam: Any) -> None:
        with deployed(lam, self.CODE, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": "TRACE"}) as name:
            assert call(lam, name)[1] == ["JSON", "TRACE"]
            lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON"})
            assert call(lam, name)[1] == ["JSON", "INFO"]

    def test_text_sets_neither(self, lam: Any) -> None:
        with deployed(lam, self.CODE) as name:
            assert call(lam, name)[1] == [None, None]

    def test_the_python_runtime_logs_records_as_json_at_the_level_set(self, lam: Any, server: StratoServer) -> None:
        code = ("import logging\n"
                "def handler(event, context):\n"
                "    logging.getLogger('orders').info('placed %d', 3)\n"
                "    logging.getLogger('orders').debug('not shown')\n"
                "    print('plain')\n")
        with deployed(lam, code, LoggingConfig={"LogFormat": "JSON"}) as name:
            answer, _ = call(lam, name)
            request_id = answer["ResponseMetadata"]["RequestId"]
            until(lambda: "placed" in function_log(server, name), "the record in the log")
            lines = function_log(server, name).splitlines()
            record = json.loads(next(line for line in lines if "placed" in line))
            assert (record["level"], record["message"], record["logger"], record["requestId"]) == (
                "INFO", "placed 3", "orders", request_id)
            assert "plain" in lines
            assert "not shown" not in function_log(server, name)


class TestApplicationLevel:
    """With JSON, Lambda filters every line a function writes at its ApplicationLogLevel: a JSON
    object by its "level", any other line as INFO (a custom runtime's, print()'s)."""

    CODE = ("import json, logging\n"
            "def handler(event, context):\n"
            "    print('printed')\n"
            "    print(json.dumps({'level': 'debug', 'msg': 'a debug line'}))\n"
            "    print(json.dumps({'level': 'warn', 'msg': 'a warning line'}))\n"
            "    logging.getLogger('app').warning('logged at warning')\n"
            "    logging.getLogger('app').info('logged at info')\n")

    @pytest.mark.parametrize(("level", "shown", "hidden"), [
        ("INFO", ["printed", "a warning line", "logged at warning", "logged at info"], ["a debug line"]),
        ("WARN", ["a warning line", "logged at warning"], ["printed", "a debug line", "logged at info"]),
        ("DEBUG", ["printed", "a debug line", "a warning line", "logged at warning", "logged at info"], []),
    ])
    def test_lines_below_the_level_are_left_out(self, lam: Any, server: StratoServer, level: str, shown: list[str],
                                                hidden: list[str]) -> None:
        with deployed(lam, self.CODE, LoggingConfig={"LogFormat": "JSON", "ApplicationLogLevel": level}) as name:
            call(lam, name)
            until(lambda: "platform.report" in function_log(server, name), "the report in the log")
            log = function_log(server, name)
            assert [text for text in shown + hidden if text in log] == shown


class TestSystemLog:
    """With JSON, Lambda's own lines are the Telemetry API's platform events as JSON objects,
    filtered at SystemLogLevel."""

    CODE = "def handler(event, context):\n    print('hello')\n    return 1\n"

    @staticmethod
    def events(server: StratoServer, name: str) -> list[dict[str, Any]]:
        until(lambda: "platform.report" in function_log(server, name), "the report in the log")
        return [json.loads(line) for line in function_log(server, name).splitlines() if line.startswith("{")]

    def test_platform_events_replace_init_start_start_and_report(self, lam: Any, server: StratoServer) -> None:
        with deployed(lam, self.CODE, LoggingConfig={"LogFormat": "JSON"}, MemorySize=256) as name:
            request_id = call(lam, name)[0]["ResponseMetadata"]["RequestId"]
            events = self.events(server, name)
            assert [event["type"] for event in events] == ["platform.initStart", "platform.start", "platform.report"]
            for event in events:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", event["time"])
            init, start, report = (event["record"] for event in events)
            assert (init["initializationType"], init["phase"], init["functionName"]) == ("on-demand", "init", name)
            assert init["runtimeVersionArn"].startswith("arn:aws:lambda:us-east-1::runtime:")
            assert start == {"requestId": request_id, "version": "$LATEST"}
            assert (report["requestId"], report["status"]) == (request_id, "success")
            metrics = report["metrics"]
            assert metrics["memorySizeMB"] == 256
            assert metrics["billedDurationMs"] >= metrics["durationMs"] + metrics["initDurationMs"]
            log = function_log(server, name)
            assert "hello" in log.splitlines()
            assert "START RequestId" not in log
            assert "REPORT RequestId" not in log

    def test_debug_adds_runtime_done_and_warn_keeps_only_failures(self, lam: Any, server: StratoServer) -> None:
        code = "import time\ndef handler(event, context):\n    time.sleep(event['sleep'])\n"
        with deployed(lam, code, Timeout=1, LoggingConfig={"LogFormat": "JSON", "SystemLogLevel": "DEBUG"}) as name:
            request_id = call(lam, name, {"sleep": 0})[0]["ResponseMetadata"]["RequestId"]
            done = [event for event in self.events(server, name) if event["type"] == "platform.runtimeDone"]
            assert [(event["record"]["requestId"], event["record"]["status"]) for event in done] == [
                (request_id, "success")]
            lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogFormat": "JSON",
                                                                                 "SystemLogLevel": "WARN"})
            timed_out = call(lam, name, {"sleep": 3})[0]["ResponseMetadata"]["RequestId"]
            until(lambda: function_log(server, name).count("platform.report") == 2, "the failure's report")
            later = [event for event in self.events(server, name) if timed_out in json.dumps(event)]
            assert [(event["type"], event["record"]["status"]) for event in later] == [
                ("platform.runtimeDone", "timeout"), ("platform.report", "timeout")]
            call(lam, name, {"sleep": 0})
            assert function_log(server, name).count("platform.start") == 1  # the DEBUG function's alone


class TestLogGroup:
    """LoggingConfig.LogGroup: the function's log goes to that group, which several functions may
    share, each environment in a stream named YYYY/MM/DD/NAME[VERSION][GUID]; the CloudWatch
    Logs API reads it there, and `strato logs` and the admin endpoint still read the function's."""

    CODE = ("import os\n"
            "def handler(event, context):\n"
            "    print('order', event['n'], context.function_name)\n"
            "    return [context.log_group_name, context.log_stream_name, os.environ['AWS_LAMBDA_LOG_GROUP_NAME']]\n")

    def test_functions_sharing_a_group_write_their_streams_there(self, lam: Any, server: StratoServer) -> None:
        group = f"/team/orders-{uuid.uuid4().hex[:8]}"
        logs = make_client(server.url, "logs")
        with deployed(lam, self.CODE, LoggingConfig={"LogGroup": group}) as first, \
                deployed(lam, self.CODE, LoggingConfig={"LogFormat": "JSON", "LogGroup": group}) as second:
            assert lam.get_function_configuration(FunctionName=first)["LoggingConfig"] == {
                "LogFormat": "Text", "LogGroup": group}
            named_group, stream, variable = call(lam, first, {"n": 1})[1]
            assert named_group == variable == group
            assert re.fullmatch(r"\d{4}/\d\d/\d\d/" + re.escape(first) + r"\[\$LATEST\]\[[0-9a-f]{32}\]", stream)
            call(lam, second, {"n": 2})
            until(lambda: "REPORT RequestId" in function_log(server, first)
                  and "platform.report" in function_log(server, second), "both functions' reports")
            found = [event["message"] for event in logs.filter_log_events(logGroupName=group,
                                                                           filterPattern="order")["events"]]
            assert sorted(found) == sorted([f"order 1 {first}", f"order 2 {second}"])
            streams = [s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]]
            assert sorted(name.split("/")[3].split("[")[0] for name in streams) == sorted([first, second])
            described = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            assert [found_group["logGroupName"] for found_group in described] == [group]
            with pytest.raises(logs.exceptions.ResourceNotFoundException):
                logs.filter_log_events(logGroupName=f"/aws/lambda/{first}")

            own = function_log(server, first)
            assert f"order 1 {first}" in own
            assert second not in own  # the function's streams alone
            printed = subprocess.run([sys.executable, "-m", "strato", "logs", second, "--data-dir",
                                      str(server.data_dir)], capture_output=True, text=True, timeout=30,
                                     check=True).stdout
            assert f"order 2 {second}" in printed
            assert first not in printed

    def test_the_log_tail_of_a_json_function_is_its_json_lines(self, lam: Any) -> None:
        group = f"/team/tail-{uuid.uuid4().hex[:8]}"
        with deployed(lam, self.CODE, LoggingConfig={"LogFormat": "JSON", "LogGroup": group}) as name:
            answer = lam.invoke(FunctionName=name, Payload=b'{"n": 3}', LogType="Tail")
            tail = base64.b64decode(answer["LogResult"]).decode()
            lines = tail.splitlines()
            assert f"order 3 {name}" in lines
            assert [json.loads(line)["type"] for line in lines if line.startswith("{")] == [
                "platform.initStart", "platform.start", "platform.report"]

    def test_moving_back_to_its_own_group_writes_there_again(self, lam: Any, server: StratoServer) -> None:
        group = f"/team/moved-{uuid.uuid4().hex[:8]}"
        with deployed(lam, self.CODE, LoggingConfig={"LogGroup": group}) as name:
            call(lam, name, {"n": 4})
            lam.update_function_configuration(FunctionName=name, LoggingConfig={"LogGroup": f"/aws/lambda/{name}"})
            assert lam.get_function_configuration(FunctionName=name)["LoggingConfig"]["LogGroup"] == (
                f"/aws/lambda/{name}")
            _, stream, _ = call(lam, name, {"n": 5})[1]
            assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", stream)
            until(lambda: "order 5" in function_log(server, name), "the own group's log")
            assert "order 4" not in function_log(server, name)
