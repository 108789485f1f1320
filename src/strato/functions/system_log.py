"""Lambda's system log: the lines the platform writes around a function version's init and
invocations. Text: INIT_START, START, END, REPORT, INIT_REPORT (logs.py). JSON (LoggingConfig
JSON): the Telemetry API's platform events in their place, one JSON object a line, those below
the function's SystemLogLevel left out, each event at its level as Lambda maps it:

    platform.initStart INFO          platform.start INFO
    platform.initReport WARN (a failed init's; a successful one is not written, as in Text)
    platform.runtimeDone DEBUG, WARN when the invocation failed (in place of END)
    platform.report INFO, WARN when the invocation failed

https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html (event
mapping for system log levels), https://docs.aws.amazon.com/lambda/latest/dg/telemetry-schema-reference.html
"""

from __future__ import annotations

import json
import time
from typing import Any

from strato.xmltree import iso8601

from . import logs
from .records import SYSTEM_LOG_LEVELS, FunctionVersion
from .runtimes import runtime_version, runtime_version_arn


def event_time(now: float | None = None) -> str:
    """An event's `time`: ISO 8601 in UTC to the millisecond."""
    return iso8601(time.time() if now is None else now)


class SystemLog:
    """The system log lines of one function version; b"" for one its SystemLogLevel leaves out."""

    __slots__ = ("_function", "_lowest", "_region")

    def __init__(self, function: FunctionVersion, region: str) -> None:
        self._function = function
        self._region = region
        logging = function.logging
        # the index of the least severe level written; None: Text, every line is written
        self._lowest = SYSTEM_LOG_LEVELS.index(logging.system_log_level or "INFO") if logging.json else None

    def _event(self, level: str, kind: str, record: dict[str, Any]) -> bytes:
        if self._lowest is not None and SYSTEM_LOG_LEVELS.index(level) < self._lowest:
            return b""
        return json.dumps({"time": event_time(), "type": kind, "record": record},
                          separators=(",", ":")).encode() + b"\n"

    def init_start(self) -> bytes:
        runtime = self._function.runtime
        if self._lowest is None:
            return logs.init_start_line(runtime, self._region)
        return self._event("INFO", "platform.initStart", {
            "initializationType": "on-demand", "phase": "init", "runtimeVersion": runtime_version(runtime),
            "runtimeVersionArn": runtime_version_arn(self._region, runtime), "functionName": self._function.name,
            "functionVersion": self._function.version})

    def init_report(self, duration_ms: float, status: str, phase: str = "init", error_type: str | None = None) -> bytes:
        """An init that failed by `status` (timeout, error) in `phase` (init, or invoke for its retry)."""
        if self._lowest is None:
            return logs.init_report_line(duration_ms, status, phase, error_type)
        record: dict[str, Any] = {"initializationType": "on-demand", "phase": phase, "status": status}
        if error_type is not None:
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 2)}
        return self._event("WARN", "platform.initReport", record)

    def start(self, request_id: str) -> bytes:
        if self._lowest is None:
            return logs.start_line(request_id, self._function.version)
        return self._event("INFO", "platform.start", {"requestId": request_id, "version": self._function.version})

    def end(self, request_id: str, duration_ms: float, status: str | None, error_type: str | None) -> bytes:
        """END, or platform.runtimeDone; `status` (timeout, error) only when the invocation failed."""
        if self._lowest is None:
            return logs.end_line(request_id)
        record: dict[str, Any] = {"requestId": request_id, "status": status or "success"}
        if error_type is not None:
            record["errorType"] = error_type
        record["metrics"] = {"durationMs": round(duration_ms, 2)}
        return self._event("DEBUG" if status is None else "WARN", "platform.runtimeDone", record)

    def report(self, request_id: str, duration_ms: float, max_memory_used: int, init_duration_ms: float | None,
               status: str | None, error_type: str | None) -> bytes:
        memory_size = self._function.memory_size
        if self._lowest is None:
            return logs.report_line(request_id, duration_ms, memory_size, max_memory_used, init_duration_ms,
                                    status, error_type)
        metrics: dict[str, Any] = {
            "durationMs": round(duration_ms, 2), "billedDurationMs": logs.billed_ms(duration_ms, init_duration_ms),
            "memorySizeMB": memory_size, "maxMemoryUsedMB": max_memory_used}
        if init_duration_ms is not None:
            metrics["initDurationMs"] = round(init_duration_ms, 2)
        record: dict[str, Any] = {"requestId": request_id, "metrics": metrics, "status": status or "success"}
        if error_type is not None:
            record["errorType"] = error_type
        return self._event("INFO" if status is None else "WARN", "platform.report", record)
