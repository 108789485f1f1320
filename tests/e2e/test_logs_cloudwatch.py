"""CloudWatch Logs over function logs, through boto3's `logs` client and the aws CLI against a
real `strato serve`: a function's lines come back as events of the stream it was told it
writes to, page by page with AWS's tokens, filtered with CloudWatch's text patterns."""

from __future__ import annotations

import json
import queue
import re
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.conftest import make_client
from tests.e2e.client_errors import error_of, refused
from tests.e2e.lambda_helpers import NODE, deploy, needs_node
from tests.e2e.web import get
from tests.servers import REGION, StratoServer, signed_headers

PRINTER = """
import os
def handler(event, context):
    for line in event["lines"]:
        print(line)
    return {"stream": os.environ["AWS_LAMBDA_LOG_STREAM_NAME"], "group": os.environ["AWS_LAMBDA_LOG_GROUP_NAME"]}
"""


@pytest.fixture(scope="module")
def lam(server: StratoServer) -> Any:
    return make_client(server.url, "lambda", retries={"max_attempts": 1, "mode": "standard"}, read_timeout=120)


@pytest.fixture(scope="module")
def logs(server: StratoServer) -> Any:
    return make_client(server.url, "logs", retries={"max_attempts": 1, "mode": "standard"})


@pytest.fixture(scope="module")
def unchecked(server: StratoServer) -> Any:
    """A logs client that sends what it is given, so that strato's own validation answers."""
    return make_client(server.url, "logs", parameter_validation=False, retries={"max_attempts": 1, "mode": "standard"})


def invoke(lam: Any, name: str, *lines: str) -> tuple[str, dict[str, str]]:
    """Invoke with LogType Tail (its END and REPORT are in the log before the answer comes back);
    the request id and what the function saw."""
    answer = lam.invoke(FunctionName=name, Payload=json.dumps({"lines": list(lines)}), LogType="Tail")
    return answer["ResponseMetadata"]["RequestId"], json.loads(answer["Payload"].read())


@pytest.fixture(scope="module")
def printed(lam: Any) -> tuple[str, str, list[str]]:
    """A function invoked three times in one environment: its name, stream and request ids."""
    name = deploy(lam, PRINTER)
    ids = []
    stream = ""
    for index, lines in enumerate([("ERROR disk full", "hello world"), ("WARN slow disk", "retrying now"),
                                   ("INFO all good", f"done {2}")]):
        request_id, seen = invoke(lam, name, *lines)
        assert seen["group"] == f"/aws/lambda/{name}"
        assert index == 0 or seen["stream"] == stream
        stream = seen["stream"]
        ids.append(request_id)
    return name, stream, ids


def all_events(logs: Any, group: str, stream: str) -> list[dict[str, Any]]:
    return list(logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)["events"])


class TestGroupsAndStreams:
    def test_a_function_with_logs_has_a_log_group(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name, _, _ = printed
        groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
        assert len(groups) == 1
        group = groups[0]
        assert group["logGroupName"] == f"/aws/lambda/{name}"
        assert group["logGroupArn"] == f"arn:aws:logs:{REGION}:000000000000:log-group:/aws/lambda/{name}"
        assert group["arn"] == group["logGroupArn"] + ":*"
        assert group["storedBytes"] > 0
        assert group["creationTime"] > 0

    def test_groups_are_listed_page_by_page(self, logs: Any, lam: Any, printed: tuple[str, str, list[str]]) -> None:
        invoke(lam, deploy(lam, PRINTER), "another function")
        pages = list(logs.get_paginator("describe_log_groups").paginate(
            logGroupNamePrefix="/aws/lambda/fn-", PaginationConfig={"PageSize": 1}))
        names = [group["logGroupName"] for page in pages for group in page["logGroups"]]
        assert len(pages) == len(names) >= 2
        assert names == sorted(set(names))
        assert f"/aws/lambda/{printed[0]}" in names

    def test_the_stream_is_the_one_the_function_was_told(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        streams = logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}")["logStreams"]
        assert [found["logStreamName"] for found in streams] == [stream]
        found = streams[0]
        assert found["firstEventTimestamp"] <= found["lastEventTimestamp"] == found["lastIngestionTime"]
        assert found["storedBytes"] == 0
        assert found["arn"].endswith(f":log-group:/aws/lambda/{name}:log-stream:{stream}")
        assert logs.describe_log_streams(logGroupName=f"/aws/lambda/{name}", orderBy="LastEventTime",
                                         descending=True)["logStreams"] == streams


class TestAnswersAsAwsRecorded:
    """Situations LocalStack's CloudWatch Logs tests recorded against AWS (tests/aws/services/logs/
    *.snapshot.json), on a function's log group; each test names the snapshot key it follows."""

    def test_describe_log_groups_with_prefix(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        """test_logs_groups: describe-log-groups-prefix."""
        group = f"/aws/lambda/{printed[0]}"
        [found] = logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
        assert sorted(found) == ["arn", "creationTime", "deletionProtectionEnabled", "logGroupArn", "logGroupClass",
                                 "logGroupName", "metricFilterCount", "storedBytes"]
        assert (found["deletionProtectionEnabled"], found["logGroupClass"], found["metricFilterCount"]) == (
            False, "STANDARD", 0)

    def test_describe_log_groups_with_pattern(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        """test_logs_groups: describe-log-groups-pattern (a case-sensitive substring; no storedBytes
        nor deletionProtectionEnabled) and list-log-groups-no-match's empty list."""
        name = printed[0]
        [found] = logs.describe_log_groups(logGroupNamePattern=name.removeprefix("fn-"))["logGroups"]
        assert found["logGroupName"] == f"/aws/lambda/{name}"
        assert sorted(found) == ["arn", "creationTime", "logGroupArn", "logGroupClass", "logGroupName",
                                 "metricFilterCount"]
        assert logs.describe_log_groups(logGroupNamePattern=name.upper())["logGroups"] == []
        assert logs.describe_log_groups(logGroupNamePattern="no-such-group")["logGroups"] == []

    def test_describe_log_groups_prefix_and_pattern_error(self, logs: Any,
                                                          printed: tuple[str, str, list[str]]) -> None:
        """test_logs_groups: error-prefix-and-pattern."""
        group = f"/aws/lambda/{printed[0]}"
        with pytest.raises(ClientError) as caught:
            logs.describe_log_groups(logGroupNamePattern=group, logGroupNamePrefix=group)
        assert error_of(caught) == ("InvalidParameterException", 400)
        assert caught.value.response["Error"]["Message"] == (
            "LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")

    def test_describe_log_streams_with_log_group_identifier(self, logs: Any,
                                                            printed: tuple[str, str, list[str]]) -> None:
        """test_logs_streams: describe-streams-identifier-name, -arn, describe-streams-with-prefix and
        error-both-name-and-identifier (ValidationException, not InvalidParameterException)."""
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        arn = f"arn:aws:logs:{REGION}:000000000000:log-group:{group}"
        by_name = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert [found["logStreamName"] for found in by_name] == [stream]
        assert logs.describe_log_streams(logGroupIdentifier=group)["logStreams"] == by_name
        assert logs.describe_log_streams(logGroupIdentifier=arn)["logStreams"] == by_name
        assert by_name[0]["arn"] == f"{arn}:log-stream:{stream}"
        assert logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=stream[:11])["logStreams"] == by_name
        with pytest.raises(ClientError) as caught:
            logs.describe_log_streams(logGroupName=group, logGroupIdentifier=group)
        assert error_of(caught) == ("ValidationException", 400)
        assert caught.value.response["Error"]["Message"] == (
            "LogGroup name and LogGroup ARN are mutually exclusive parameters.")

    @pytest.mark.parametrize("call", ["get_log_events", "filter_log_events"])
    def test_limit_validation(self, logs: Any, printed: tuple[str, str, list[str]], call: str) -> None:
        """test_logs_events and test_logs_filter_events: error-limit-exceeded (boto3 checks no
        maximum, so the server's own message reaches the caller)."""
        name, stream, _ = printed
        extra = {"logStreamName": stream} if call == "get_log_events" else {}
        with pytest.raises(ClientError) as caught:
            getattr(logs, call)(logGroupName=f"/aws/lambda/{name}", limit=10001, **extra)
        assert error_of(caught) == ("InvalidParameterException", 400)
        assert caught.value.response["Error"]["Message"] == (
            "1 validation error detected: Value '10001' at 'limit' failed to satisfy constraint: Member must "
            "have value less than or equal to 10000")

    @pytest.mark.parametrize("call", ["get_log_events", "filter_log_events"])
    def test_invalid_token(self, logs: Any, printed: tuple[str, str, list[str]], call: str) -> None:
        """test_logs_events: error-invalid-token; test_logs_filter_events: invalid-token."""
        name, stream, _ = printed
        extra = {"logStreamName": stream} if call == "get_log_events" else {"logStreamNames": [stream], "limit": 20}
        with pytest.raises(ClientError) as caught:
            getattr(logs, call)(logGroupName=f"/aws/lambda/{name}", nextToken="invalid-token", **extra)
        assert error_of(caught) == ("InvalidParameterException", 400)
        assert caught.value.response["Error"]["Message"] == "The specified nextToken is invalid."

    def test_get_log_events_using_log_group_identifier(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        """test_logs_events: a name, an identifier and an ARN identifier read the same events."""
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        answers = [logs.get_log_events(logStreamName=stream, **where)["events"] for where in (
            {"logGroupName": group}, {"logGroupIdentifier": group},
            {"logGroupIdentifier": f"arn:aws:logs:{REGION}:000000000000:log-group:{group}"})]
        assert answers[0]
        assert answers[0] == answers[1] == answers[2]

    def test_filter_log_events_response_header(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        """test_logs_filter_events: the answer is application/x-amz-json-1.1; interleaved is accepted."""
        answer = logs.filter_log_events(logGroupName=f"/aws/lambda/{printed[0]}", interleaved=True)
        assert answer["ResponseMetadata"]["HTTPHeaders"]["content-type"] == "application/x-amz-json-1.1"
        assert all({"eventId", "timestamp", "message"} <= set(event) for event in answer["events"])


ECHO_PRINTER = """
import json
def handler(event, context):
    print(json.dumps(event))
    return event
"""


def test_printed_events_read_back_as_localstacks_lambda_tests_read_them(lam: Any, logs: Any) -> None:
    """LocalStack's Lambda tests (e.g. test_lambda_integration_dynamodbstreams' lambda-log-events)
    read a function's events back from AWS as get_lambda_log_events does: FilterLogEvents over the
    group page by page through nextToken, the START / END / REPORT lines left out, each other
    message parsed as JSON: that is the list of events the function printed, in order."""
    name = deploy(lam, ECHO_PRINTER)
    sent = [{"Records": [{"n": n, "body": f"message {n}"}]} for n in range(3)]
    for event in sent:
        lam.invoke(FunctionName=name, Payload=json.dumps(event), LogType="Tail")
    messages: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", limit=4, **token)
        messages += [event["message"] for event in page["events"]]
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    printed = [json.loads(message) for message in messages
               if not message.startswith(("INIT_START", "START", "END", "REPORT"))]
    assert printed == sent


class TestEvents:
    def test_every_line_comes_back_as_an_event_in_order(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name, stream, ids = printed
        events = all_events(logs, f"/aws/lambda/{name}", stream)
        messages = [event["message"] for event in events]
        assert re.fullmatch(r"INIT_START Runtime Version: python:3\.\d+\.v1\tRuntime Version ARN: "
                            r"arn:aws:lambda:us-east-1::runtime:[0-9a-f]{64}", messages[0])
        assert messages[1:5] == [f"START RequestId: {ids[0]} Version: $LATEST", "ERROR disk full", "hello world",
                                 f"END RequestId: {ids[0]}"]
        assert messages[5].startswith(f"REPORT RequestId: {ids[0]}\tDuration: ")
        assert len(messages) == 16
        assert [message.split()[0] for message in messages[1::5]] == ["START"] * 3
        assert [message for message in messages if message.startswith("REPORT")][2].count(ids[2]) == 1
        stamps = [event["timestamp"] for event in events]
        assert stamps == sorted(stamps)
        assert all(event["ingestionTime"] >= event["timestamp"] for event in events)

    def test_the_newest_events_come_first_without_start_from_head(self, logs: Any,
                                                                  printed: tuple[str, str, list[str]]) -> None:
        name, stream, ids = printed
        events = logs.get_log_events(logGroupName=f"/aws/lambda/{name}", logStreamName=stream, limit=2)["events"]
        assert [event["message"].split()[0] for event in events] == ["END", "REPORT"]
        assert ids[2] in events[0]["message"]

    def test_forward_tokens_page_until_the_same_token_comes_back(self, logs: Any,
                                                                 printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        seen: list[str] = []
        answer = logs.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True, limit=4)
        pages = 0
        while True:
            pages += 1
            seen += [event["message"] for event in answer["events"]]
            token = answer["nextForwardToken"]
            answer = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=token, limit=4)
            if answer["nextForwardToken"] == token:
                assert answer["events"] == []
                break
        assert seen == [event["message"] for event in all_events(logs, group, stream)]
        assert pages == 4

    def test_backward_tokens_page_to_the_first_event(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        answer = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=6)
        pages = [answer["events"]]
        while True:
            token = answer["nextBackwardToken"]
            answer = logs.get_log_events(logGroupName=group, logStreamName=stream, nextToken=token, limit=6)
            if answer["nextBackwardToken"] == token:
                break
            pages.insert(0, answer["events"])
        assert [event for page in pages for event in page] == all_events(logs, group, stream)

    def test_new_lines_follow_the_last_forward_token(self, lam: Any, logs: Any) -> None:
        name = deploy(lam, PRINTER)
        _, seen = invoke(lam, name, "first")
        group = f"/aws/lambda/{name}"
        answer = logs.get_log_events(logGroupName=group, logStreamName=seen["stream"], startFromHead=True)
        token = answer["nextForwardToken"]
        assert logs.get_log_events(logGroupName=group, logStreamName=seen["stream"],
                                   nextToken=token)["nextForwardToken"] == token
        invoke(lam, name, "second")
        later = logs.get_log_events(logGroupName=group, logStreamName=seen["stream"], nextToken=token)
        assert [event["message"] for event in later["events"]][1] == "second"
        assert later["nextForwardToken"] != token

    def test_times_bound_the_events(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        events = all_events(logs, group, stream)
        last = events[-1]["timestamp"]
        after = logs.get_log_events(logGroupName=group, logStreamName=stream, startTime=last,
                                    startFromHead=True)["events"]
        assert after
        assert all(event["timestamp"] == last for event in after)
        assert logs.get_log_events(logGroupName=group, logStreamName=stream, endTime=events[0]["timestamp"],
                                   startFromHead=True)["events"] == []


@needs_node
def test_a_nodejs_functions_console_lines_are_events_of_its_stream(lam: Any, logs: Any) -> None:
    """Node.js environments are lent to the API workers like Python's: their lines still come
    back as events of the stream the function was told, between its START and END."""
    name = deploy(lam, "", runtime=str(NODE), handler="index.handler", files={"index.js": """
        exports.handler = async (event) => {
          console.log(`said ${event.n}`);
          process.stdout.write(`wrote ${event.n}\\n`);
          return process.env.AWS_LAMBDA_LOG_STREAM_NAME;
        };
    """})
    answers = [lam.invoke(FunctionName=name, Payload=json.dumps({"n": n}), LogType="Tail") for n in range(3)]
    ids = [answer["ResponseMetadata"]["RequestId"] for answer in answers]
    streams = {json.loads(answer["Payload"].read()) for answer in answers}
    assert len(streams) == 1
    events = [event["message"] for stream in streams for event in all_events(logs, f"/aws/lambda/{name}", stream)]
    for n, request_id in enumerate(ids):
        start = events.index(f"START RequestId: {request_id} Version: $LATEST")
        said, wrote, end = events[start + 1:start + 4]
        assert said.endswith(f"\t{request_id}\tINFO\tsaid {n}")
        assert (wrote, end) == (f"wrote {n}", f"END RequestId: {request_id}")


class TestFilter:
    @staticmethod
    def matching(logs: Any, name: str, pattern: str) -> list[str]:
        events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}", filterPattern=pattern)["events"]
        return [event["message"] for event in events]

    def test_text_patterns_select_lines(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        name = printed[0]
        assert self.matching(logs, name, "disk") == ["ERROR disk full", "WARN slow disk"]
        assert self.matching(logs, name, "disk full") == ["ERROR disk full"]
        assert self.matching(logs, name, '"slow disk"') == ["WARN slow disk"]
        assert self.matching(logs, name, '"disk slow"') == []
        assert self.matching(logs, name, "?ERROR ?WARN") == ["ERROR disk full", "WARN slow disk"]
        assert self.matching(logs, name, "disk -ERROR") == ["WARN slow disk"]
        assert len(self.matching(logs, name, "REPORT")) == 3

    def test_json_and_regex_patterns_select_a_functions_lines(self, lam: Any, logs: Any) -> None:
        """Lines a handler prints as JSON objects (as structured loggers do), chosen by their
        fields, and lines chosen by a regular expression."""
        name = deploy(lam, PRINTER)
        lines = [json.dumps({"level": "ERROR", "ms": 1200, "msg": "slow upstream"}),
                 json.dumps({"level": "INFO", "ms": 20, "msg": "ok"}), "plain text"]
        invoke(lam, name, *lines)
        assert self.matching(logs, name, '{ $.level = "ERROR" }') == [lines[0]]
        assert self.matching(logs, name, "{ $.ms < 100 || $.msg = slow* }") == lines[:2]
        assert self.matching(logs, name, "{ $.level NOT EXISTS }") == []  # START, REPORT... are no JSON
        assert self.matching(logs, name, "%upstream|^plain%") == [lines[0], lines[2]]

    def test_space_delimited_patterns_select_access_log_lines_by_field(self, lam: Any, logs: Any) -> None:
        name = deploy(lam, PRINTER)
        lines = ['10.0.0.7 - ana [28/Nov/2026:03:25:15 +0000] "GET /index.html HTTP/1.1" 404 153',
                 '10.0.0.8 - bo [28/Nov/2026:03:25:16 +0000] "GET /big.iso HTTP/1.1" 200 734003200']
        invoke(lam, name, *lines)
        assert self.matching(logs, name, "[ip, user, username, timestamp, request = *.html*, status = 4*, bytes]") == [
            lines[0]]
        assert self.matching(logs, name, "[..., status = 200, bytes > 1000000]") == [lines[1]]
        assert self.matching(logs, name, "[ip, user, username = bo, ...]") == [lines[1]]

    def test_a_line_nested_too_deep_to_parse_is_no_json_event(self, lam: Any, logs: Any) -> None:
        """A printed line of 100,000 `[`s is no object a JSON pattern can select; it must not fail
        every JSON search of its group."""
        name = deploy(lam, PRINTER)
        lines = ["[" * 100_000, json.dumps({"level": "ERROR"})]
        invoke(lam, name, *lines)
        assert self.matching(logs, name, '{ $.level = "ERROR" }') == [lines[1]]

    def test_events_name_their_stream_and_no_stream_is_listed_as_searched(self, logs: Any,
                                                               printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        answer = logs.filter_log_events(logGroupIdentifier=f"arn:aws:logs:{REGION}:000000000000:log-group:"
                                        f"/aws/lambda/{name}", logStreamNames=[stream], filterPattern="hello")
        [event] = answer["events"]
        assert event["logStreamName"] == stream
        assert event["message"] == "hello world"
        assert event["eventId"].isdigit()
        assert answer["searchedLogStreams"] == []  # "no longer supported ... returns an empty list" (AWS)
        assert "nextToken" not in answer
        assert logs.filter_log_events(logGroupName=f"/aws/lambda/{name}",
                                      logStreamNamePrefix="not-a-stream")["events"] == []

    def test_pages_of_a_paginator_cover_every_event_once(self, logs: Any,
                                                         printed: tuple[str, str, list[str]]) -> None:
        name, stream, _ = printed
        group = f"/aws/lambda/{name}"
        pages = list(logs.get_paginator("filter_log_events").paginate(
            logGroupName=group, PaginationConfig={"PageSize": 4}))
        assert [len(page["events"]) for page in pages] == [4, 4, 4, 4]
        ids = [event["eventId"] for page in pages for event in page["events"]]
        assert len(set(ids)) == 16
        assert [event["message"] for page in pages for event in page["events"]] == [
            event["message"] for event in all_events(logs, group, stream)]


def described(logs: Any, name: str) -> dict[str, Any] | None:
    """The group DescribeLogGroups lists by this name (None: it lists none)."""
    groups = logs.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((group for group in groups if group["logGroupName"] == name), None)


class TestGroups:
    """Log groups as Terraform's aws_cloudwatch_log_group and the aws CLI manage them."""

    def test_a_group_is_made_read_tagged_and_deleted(self, logs: Any) -> None:
        name = f"/team/app-{uuid.uuid4().hex[:8]}"
        logs.create_log_group(logGroupName=name, tags={"team": "a"})
        assert refused(logs.create_log_group, logGroupName=name)[:2] == ("ResourceAlreadyExistsException", 400)
        logs.put_retention_policy(logGroupName=name, retentionInDays=14)
        group = described(logs, name)
        assert group is not None
        assert (group["retentionInDays"], group["logGroupClass"], group["storedBytes"]) == (14, "STANDARD", 0)
        assert group["arn"] == f"arn:aws:logs:{REGION}:000000000000:log-group:{name}:*"
        arn = group["logGroupArn"]
        logs.tag_resource(resourceArn=arn, tags={"stage": "prod"})
        logs.untag_resource(resourceArn=arn, tagKeys=["team"])
        logs.untag_resource(resourceArn=arn, tagKeys=[])  # the model allows none
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"stage": "prod"}
        assert logs.list_tags_log_group(logGroupName=name)["tags"] == {"stage": "prod"}
        logs.delete_retention_policy(logGroupName=name)
        assert "retentionInDays" not in (described(logs, name) or {})
        assert logs.describe_log_streams(logGroupName=name)["logStreams"] == []
        assert logs.filter_log_events(logGroupName=name)["events"] == []
        logs.delete_log_group(logGroupName=name)
        assert described(logs, name) is None
        assert refused(logs.delete_log_group, logGroupName=name)[:2] == ("ResourceNotFoundException", 400)

    def test_a_functions_group_takes_settings_and_a_deleted_one_holds_only_later_events(self, lam: Any,
                                                                                         logs: Any) -> None:
        name = deploy(lam, PRINTER)
        group = f"/aws/lambda/{name}"
        invoke(lam, name, "before the deletion")
        assert refused(logs.create_log_group, logGroupName=group)[:2] == ("ResourceAlreadyExistsException", 400)
        logs.put_retention_policy(logGroupName=group, retentionInDays=7)
        assert (described(logs, group) or {}).get("retentionInDays") == 7
        logs.delete_log_group(logGroupName=group)
        assert described(logs, group) is None
        assert refused(logs.filter_log_events, logGroupName=group)[:2] == ("ResourceNotFoundException", 400)
        invoke(lam, name, "after the deletion")
        events = logs.filter_log_events(logGroupName=group)["events"]
        messages = [event["message"] for event in events]
        assert "after the deletion" in messages
        assert "before the deletion" not in messages
        [stream] = logs.describe_log_streams(logGroupName=group)["logStreams"]
        assert stream["firstEventTimestamp"] == stream["creationTime"] == events[0]["timestamp"]
        assert "retentionInDays" not in (described(logs, group) or {"retentionInDays": "no group"})

    def test_a_51st_tag_is_too_many(self, logs: Any) -> None:
        """TagResource's model answers TooManyTagsException (which boto3 users catch by name);
        the deprecated TagLogGroup's lists only InvalidParameterException."""
        name = f"/team/tagged-{uuid.uuid4().hex[:8]}"
        logs.create_log_group(logGroupName=name, tags={f"k{n}": "v" for n in range(50)})
        arn = (described(logs, name) or {})["logGroupArn"]
        with pytest.raises(logs.exceptions.TooManyTagsException):
            logs.tag_resource(resourceArn=arn, tags={"one": "more"})
        assert refused(logs.tag_log_group, logGroupName=name, tags={"one": "more"})[:2] == (
            "InvalidParameterException", 400)
        assert len(logs.list_tags_for_resource(resourceArn=arn)["tags"]) == 50

    def test_a_protected_group_is_deleted_only_once_its_protection_is_lifted(self, logs: Any) -> None:
        name = f"/team/kept-{uuid.uuid4().hex[:8]}"
        logs.create_log_group(logGroupName=name, deletionProtectionEnabled=True)
        assert (described(logs, name) or {}).get("deletionProtectionEnabled") is True
        assert refused(logs.delete_log_group, logGroupName=name) == (
            "ValidationException", 400,
            "Cannot delete log group with deletion protection enabled. Disable deletion protection first.")
        assert described(logs, name) is not None
        logs.put_log_group_deletion_protection(logGroupIdentifier=name, deletionProtectionEnabled=False)
        logs.delete_log_group(logGroupName=name)
        assert described(logs, name) is None

    def test_an_existing_group_is_protected_by_its_arn(self, logs: Any) -> None:
        name = f"/team/later-{uuid.uuid4().hex[:8]}"
        logs.create_log_group(logGroupName=name)
        arn = (described(logs, name) or {})["logGroupArn"]
        logs.put_log_group_deletion_protection(logGroupIdentifier=arn, deletionProtectionEnabled=True)
        assert refused(logs.delete_log_group, logGroupName=name)[:2] == ("ValidationException", 400)
        assert refused(logs.put_log_group_deletion_protection, logGroupIdentifier="/team/none",
                       deletionProtectionEnabled=True)[:2] == ("ResourceNotFoundException", 400)

    def test_every_log_class_of_the_model_is_taken(self, logs: Any) -> None:
        prefix = f"/team/classes-{uuid.uuid4().hex[:8]}/"
        classes = logs.meta.service_model.shape_for("LogGroupClass").enum
        for log_class in classes:
            logs.create_log_group(logGroupName=prefix + log_class, logGroupClass=log_class)
        for log_class in classes:
            listed = logs.describe_log_groups(logGroupNamePrefix=prefix, logGroupClass=log_class)["logGroups"]
            assert [(group["logGroupName"], group["logGroupClass"]) for group in listed] == [
                (prefix + log_class, log_class)]

    @pytest.mark.parametrize(("call", "params"), [
        ("create_log_group", {"logGroupName": "no spaces allowed"}),
        ("create_log_group", {"logGroupName": "/x", "logGroupClass": "COLD"}),
        ("put_retention_policy", {"logGroupName": "/x", "retentionInDays": 2}),
        ("tag_resource", {"resourceArn": "/x", "tags": {"a": "b"}}),
        ("put_retention_policy", {"logGroupName": "/x"}),
        ("describe_log_groups", {"logGroupClass": "COLD"}),
    ])
    def test_invalid_parameters_are_refused(self, unchecked: Any, call: str, params: dict[str, Any]) -> None:
        assert refused(getattr(unchecked, call), **params)[:2] == ("InvalidParameterException", 400)


class TestErrors:
    def test_an_unknown_group_or_stream_is_not_found(self, logs: Any, printed: tuple[str, str, list[str]]) -> None:
        with pytest.raises(ClientError) as caught:
            logs.get_log_events(logGroupName="/aws/lambda/never-invoked", logStreamName="s")
        assert error_of(caught) == ("ResourceNotFoundException", 400)
        assert caught.value.response["Error"]["Message"] == "The specified log group does not exist."
        with pytest.raises(ClientError) as caught:
            logs.get_log_events(logGroupName=f"/aws/lambda/{printed[0]}", logStreamName="2026/01/01/[$LATEST]x")
        assert error_of(caught) == ("ResourceNotFoundException", 400)
        assert caught.value.response["Error"]["Message"] == "The specified log stream does not exist."
        with pytest.raises(ClientError) as caught:
            logs.filter_log_events(logGroupName="/not/a/lambda/group")
        assert error_of(caught) == ("ResourceNotFoundException", 400)

    @pytest.mark.parametrize(("call", "params"), [
        ("get_log_events", {"logStreamName": "s", "limit": 0}),
        ("get_log_events", {"logStreamName": "s", "limit": 10001}),
        ("get_log_events", {"logStreamName": "s", "nextToken": "f/not-a-token"}),
        ("filter_log_events", {"nextToken": "garbage"}),
        ("filter_log_events", {"filterPattern": '{ $.level = "ERROR"'}),
        ("filter_log_events", {"filterPattern": "{" + "(" * 500 + "$.a = 1" + ")" * 500 + "}"}),
        ("describe_log_streams", {"nextToken": "!!"}),
        ("describe_log_streams", {"limit": 51}),
    ])
    def test_invalid_parameters_are_refused(self, unchecked: Any, printed: tuple[str, str, list[str]], call: str,
                                            params: dict[str, Any]) -> None:
        with pytest.raises(ClientError) as caught:
            getattr(unchecked, call)(logGroupName=f"/aws/lambda/{printed[0]}", **params)
        assert error_of(caught) == ("InvalidParameterException", 400)

    def test_a_missing_group_name_is_an_invalid_parameter(self, unchecked: Any) -> None:
        with pytest.raises(ClientError) as caught:
            unchecked.filter_log_events()
        assert error_of(caught) == ("InvalidParameterException", 400)

    def test_an_operation_strato_does_not_answer_is_named(self, logs: Any) -> None:
        with pytest.raises(ClientError) as caught:
            logs.create_log_stream(logGroupName="/mine", logStreamName="s")
        assert error_of(caught) == ("UnknownOperationException", 400)
        assert "CreateLogStream" in caught.value.response["Error"]["Message"]

    def test_requests_must_be_signed_with_a_known_key(self, server: StratoServer) -> None:
        body = b'{"logGroupNamePrefix": "/aws/lambda/"}'
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Logs_20140328.DescribeLogGroups"}

        def post(secret: str | None) -> tuple[int, bytes]:
            sent = headers if secret is None else signed_headers("POST", server.url + "/", "logs", body, headers,
                                                                 secret_key=secret)
            return get(server.url + "/", method="POST", body=body, headers=sent)[::2]

        status, answer = post(None)
        assert status == 403  # no credential scope: an anonymous S3 request, refused
        assert b"logGroups" not in answer
        status, answer = post("not-the-secret")
        assert status == 400
        assert json.loads(answer)["__type"] == "InvalidSignatureException"


def test_the_aws_cli_reads_and_filters_function_logs(server: StratoServer, printed: tuple[str, str, list[str]],
                                                     tmp_path: Path) -> None:
    from tests.e2e.test_awscli import Aws

    name, stream, ids = printed
    aws = Aws(server, tmp_path / "home")
    group = f"/aws/lambda/{name}"
    found = aws.json("logs", "filter-log-events", "--log-group-name", group, "--filter-pattern", "?ERROR ?INFO")
    assert [event["message"] for event in found["events"]] == ["ERROR disk full", "INFO all good"]
    streams = aws.json("logs", "describe-log-streams", "--log-group-name", group)
    assert [found["logStreamName"] for found in streams["logStreams"]] == [stream]
    events = aws.json("logs", "get-log-events", "--log-group-name", group, "--log-stream-name", stream,
                      "--start-from-head")
    assert events["events"][0]["message"].startswith("INIT_START Runtime Version: ")
    assert events["events"][1]["message"] == f"START RequestId: {ids[0]} Version: $LATEST"


def aws_cli_v2() -> str | None:
    """An aws CLI v2 on this machine (`aws logs tail` is v2's), if there is one."""
    for candidate in ("/usr/bin/aws", "/usr/local/bin/aws", shutil.which("aws")):
        if candidate and Path(candidate).exists():
            version = subprocess.run([candidate, "--version"], capture_output=True, text=True, timeout=60)
            if version.stdout.startswith("aws-cli/2."):
                return candidate
    return None


@dataclass(frozen=True)
class Tail:
    """`aws logs tail` of CLI v2 against one server, isolated from this machine's configuration."""

    binary: str
    url: str
    env: dict[str, str]

    def command(self, *args: str) -> list[str]:
        return [self.binary, "--endpoint-url", self.url, "logs", "tail", *args]

    def lines(self, *args: str) -> list[str]:
        return subprocess.run(self.command(*args), env=self.env, capture_output=True, text=True, timeout=120,
                              check=True).stdout.splitlines()


@pytest.fixture
def tail(server: StratoServer, tmp_path: Path) -> Tail:
    from tests.e2e.test_awscli import Aws

    binary = aws_cli_v2()
    if binary is None:
        pytest.skip("no aws CLI v2 here (`aws logs tail` is v2's; Debian's awscli package is)")
    return Tail(binary, server.url, Aws(server, tmp_path / "home").env)


def test_aws_logs_tail_prints_a_functions_lines(lam: Any, tail: Tail) -> None:
    name = deploy(lam, PRINTER)
    request_id, seen = invoke(lam, name, "hello tail", "ERROR in tail")
    out = tail.lines(f"/aws/lambda/{name}")
    assert [line.split(" ", 2)[1] for line in out] == [seen["stream"]] * 6
    assert out[0].split(" ", 2)[2].startswith("INIT_START Runtime Version: ")
    assert [line.split(" ", 2)[2] for line in out][2:4] == ["hello tail", "ERROR in tail"]
    assert f"END RequestId: {request_id}" in out[4]
    short = tail.lines(f"/aws/lambda/{name}", "--format", "short", "--filter-pattern", "ERROR")
    assert [line.split(" ", 1)[1] for line in short] == ["ERROR in tail"]


def test_aws_logs_tail_follows_new_invocations(lam: Any, tail: Tail) -> None:
    name = deploy(lam, PRINTER)
    invoke(lam, name, "before following")
    lines: queue.Queue[str] = queue.Queue()
    env = {**tail.env, "PYTHONUNBUFFERED": "1"}  # each line as it is printed
    follower = subprocess.Popen(tail.command(f"/aws/lambda/{name}", "--follow", "--format", "short"), env=env,
                                stdout=subprocess.PIPE, text=True)
    output = follower.stdout
    assert output is not None

    def read() -> None:
        for line in output:
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def until(text: str) -> list[str]:
        seen: list[str] = []
        while not seen or text not in seen[-1]:
            seen.append(lines.get(timeout=60))
        return seen

    try:
        assert any("before following" in line for line in until("REPORT RequestId"))
        invoke(lam, name, "while following")
        assert any("while following" in line for line in until("REPORT RequestId"))
    finally:
        follower.terminate()
        follower.wait(timeout=30)
        reader.join(timeout=30)  # it reads to the end of the output, then stops
        output.close()


def test_a_function_whose_log_cannot_be_written_still_answers(server: StratoServer) -> None:
    """Its log file on a full device (/dev/full: every write fails with ENOSPC, as on a full
    disk): the invocations answer as they would, their log is what is lost (before, the failed
    write escaped the environment before it handed the result over, and the invoke hung)."""
    patient = make_client(server.url, "lambda", retries={"max_attempts": 0}, read_timeout=30)
    name = deploy(patient, PRINTER)
    directory = server.data_dir / "functions" / "logs" / name
    directory.mkdir(parents=True)
    (directory / "current.log").symlink_to("/dev/full")
    for _ in range(2):
        answer = patient.invoke(FunctionName=name, Payload=json.dumps({"lines": ["x" * 100]}), LogType="Tail")
        assert answer["StatusCode"] == 200
        assert "FunctionError" not in answer
        assert json.loads(answer["Payload"].read())["group"] == f"/aws/lambda/{name}"
