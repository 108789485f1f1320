"""Lambda's system log lines of a function version, Text or JSON, filtered at its
SystemLogLevel by Lambda's event mapping for system log levels."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from strato.functions import logs
from strato.functions.records import LoggingConfig
from strato.functions.system_log import SystemLog, event_time
from tests.functions.support import function

FN = function(Path("/nonexistent"))


def system_log(level: str | None) -> SystemLog:
    logging = LoggingConfig() if level is None else LoggingConfig("JSON", "INFO", level)
    return SystemLog(replace(FN, logging=logging), "us-east-1")


def written(log: SystemLog) -> list[str]:
    """The events `log` writes of an init, a success, a timeout and a failed init."""
    lines = [log.init_start(), log.start("a"), log.end("a", 1.5, None, None),
             log.report("a", 1.5, 40, 90.0, None, None), log.start("b"), log.end("b", 3000.0, "timeout", None),
             log.report("b", 3000.0, 40, None, "timeout", None),
             log.init_report(10000.0, "timeout")]
    return [json.loads(line)["type"] for line in lines if line]


def test_text_writes_the_lines_lambda_writes_in_text() -> None:
    log = system_log(None)
    assert log.start("a") == logs.start_line("a", "$LATEST")
    assert log.end("a", 1.0, None, None) == logs.end_line("a")
    assert log.report("a", 1.0, 40, None, "timeout", None) == logs.report_line("a", 1.0, 128, 40, None, "timeout")


@pytest.mark.parametrize(("level", "types"), [
    ("DEBUG", ["platform.initStart", "platform.start", "platform.runtimeDone", "platform.report", "platform.start",
               "platform.runtimeDone", "platform.report", "platform.initReport"]),
    ("INFO", ["platform.initStart", "platform.start", "platform.report", "platform.start", "platform.runtimeDone",
              "platform.report", "platform.initReport"]),
    ("WARN", ["platform.runtimeDone", "platform.report", "platform.initReport"]),
])
def test_json_writes_each_event_at_or_above_the_system_log_level(level: str, types: list[str]) -> None:
    assert written(system_log(level)) == types


def test_a_report_carries_lambdas_metrics() -> None:
    report = json.loads(system_log("INFO").report("a", 1.234, 40, 90.5, None, None))
    assert report["record"] == {"requestId": "a", "metrics": {
        "durationMs": 1.23, "billedDurationMs": 92, "memorySizeMB": 128, "maxMemoryUsedMB": 40,
        "initDurationMs": 90.5}, "status": "success"}


def test_event_times_are_utc_to_the_millisecond() -> None:
    assert event_time(1700000000.25) == "2023-11-14T22:13:20.250Z"


def test_a_failed_inits_report_names_its_phase_and_error_type() -> None:
    """The retry of a failed init, within the invocation, is the invoke phase's (telemetry's initReport)."""
    report = json.loads(system_log("INFO").init_report(80.5, "error", "invoke", "Runtime.ImportModuleError"))
    assert report["record"] == {"initializationType": "on-demand", "phase": "invoke", "status": "error",
                                "errorType": "Runtime.ImportModuleError", "metrics": {"durationMs": 80.5}}
    assert system_log(None).init_report(80.5, "error", "invoke", "Runtime.ImportModuleError") == (
        b"INIT_REPORT Init Duration: 80.50 ms\tPhase: invoke\tStatus: error\tError Type: Runtime.ImportModuleError\n")
