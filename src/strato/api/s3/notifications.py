"""A bucket's NotificationConfiguration as S3 reads and writes it: the Lambda function
configurations (CloudFunctionConfiguration elements) a PutBucketNotificationConfiguration body
names, checked in S3's words, and GetBucketNotificationConfiguration's answer. Queue, topic and
EventBridge destinations are refused: strato has no SQS, SNS or EventBridge.
Source: Amazon S3 API reference, PutBucketNotificationConfiguration, NotificationConfiguration,
LambdaFunctionConfiguration, FilterRule."""

from __future__ import annotations

import re
from dataclasses import dataclass

from strato.events.s3_notifications import EVENTS, LambdaTarget, new_id, overlap

from . import xml
from .errors import S3Error, not_implemented

MAX_FILTER_VALUE = 1024  # bytes of a prefix or suffix
_LAMBDA_ARN = re.compile(r"arn:aws[a-z-]*:lambda:")  # what S3 parses as a function's ARN, any partition
_UNSUPPORTED = {"QueueConfiguration": "an SQS queue", "TopicConfiguration": "an SNS topic",
                "EventBridgeConfiguration": "EventBridge"}


@dataclass(frozen=True, slots=True)
class FilterRule:
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class S3KeyFilter:
    filter_rule: tuple[FilterRule, ...]


@dataclass(frozen=True, slots=True)
class Filter:
    s3_key: S3KeyFilter = xml.element("S3Key")


@dataclass(frozen=True, slots=True)
class CloudFunctionConfiguration:
    id: str = xml.element("Id")
    cloud_function: str = ""
    event: tuple[str, ...] = ()
    filter: Filter | None = None


@dataclass(frozen=True, slots=True)
class NotificationConfiguration:
    cloud_function_configuration: tuple[CloudFunctionConfiguration, ...] = ()


def _invalid(message: str, name: str | None = None, value: str | None = None) -> S3Error:
    named = {"ArgumentName": name, "ArgumentValue": value} if name is not None and value is not None else {}
    return S3Error("InvalidArgument", message, fields=named)


def _filter(node: xml.Node | None) -> tuple[str, str]:
    """A configuration's (prefix, suffix): at most one of each, names in any case; a rule lacking
    its Name or Value is malformed, as on S3."""
    found: dict[str, str] = {}
    rules = node.find("S3Key") if node is not None else None
    for rule in rules.find_all("FilterRule") if rules is not None else []:
        if rule.find("Name") is None or rule.find("Value") is None:
            raise xml.MalformedXML("a FilterRule needs Name and Value")
        given = rule.text_of("Name") or ""
        name = given.lower()
        value = rule.text_of("Value") or ""
        if name not in ("prefix", "suffix"):
            raise _invalid("filter rule name must be either prefix or suffix", "FilterRule.Name", given)
        if name in found:
            raise _invalid(f"Cannot specify more than one {name} rule in a filter.", "FilterRule", name)
        if len(value.encode()) > MAX_FILTER_VALUE:
            raise _invalid("Size of filter rule value cannot exceed 1024 bytes in UTF-8 representation",
                           "FilterRule", value)
        found[name] = value
    return found.get("prefix", ""), found.get("suffix", "")


def _target(node: xml.Node) -> LambdaTarget:
    arn = node.text_of("CloudFunction")
    events = tuple(event.text.strip() for event in node.find_all("Event"))
    if not arn or not events:
        raise xml.MalformedXML("a CloudFunctionConfiguration needs CloudFunction and Event")
    if not _LAMBDA_ARN.match(arn.strip()):  # checked even when the destination is not validated
        raise _invalid("The ARN could not be parsed", "LambdaFunctionArn", arn)
    for event in events:
        if event not in EVENTS:
            raise _invalid("The event is not supported for notifications", "Event", event)
    prefix, suffix = _filter(node.find("Filter"))
    return LambdaTarget(node.text_of("Id") or new_id(), arn.strip(), events, prefix, suffix)


def from_body(root: xml.Node) -> list[LambdaTarget]:
    """The Lambda configurations of a PutBucketNotificationConfiguration body."""
    if root.tag != "NotificationConfiguration":
        raise xml.MalformedXML("the body is not a NotificationConfiguration")
    for child in root.children:
        if child.tag in _UNSUPPORTED:
            raise not_implemented(f"PutBucketNotificationConfiguration with {_UNSUPPORTED[child.tag]} "
                                  f"destination ({child.tag}): strato notifies Lambda functions only")
    targets = [_target(node) for node in root.find_all("CloudFunctionConfiguration")]
    if len({target.id for target in targets}) < len(targets):
        raise _invalid("Same ID used for multiple configurations.")
    if overlap(targets):
        raise _invalid("Configurations overlap. Configurations on the same bucket cannot share a common event type.")
    return targets


def unvalidated(arns: list[str]) -> S3Error:
    """S3's refusal of destinations it may not invoke: each named as `<arn>, null`."""
    fields: dict[str, str] = {}
    for number, arn in enumerate(arns, 1):
        fields[f"ArgumentName{number}"] = f"{arn}, null"
        fields[f"ArgumentValue{number}"] = f"Not authorized to invoke function [{arn}]"
    return S3Error("InvalidArgument", "Unable to validate the following destination configurations", fields=fields)


def to_shape(targets: list[LambdaTarget]) -> NotificationConfiguration:
    def rules(target: LambdaTarget) -> Filter | None:
        named = [FilterRule(name, value) for name, value in (("Prefix", target.prefix), ("Suffix", target.suffix))
                 if value]
        return Filter(S3KeyFilter(tuple(named))) if named else None

    return NotificationConfiguration(tuple(
        CloudFunctionConfiguration(target.id, target.function_arn, target.events, rules(target))
        for target in targets))
