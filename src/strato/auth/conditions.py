"""Policy Condition blocks: parsing each operator and testing it against a request's context.

Source: IAM User Guide, "IAM JSON policy elements: Condition operators" and "Condition
keys with multiple values". Pure: a condition is a value, the context is a mapping.
"""

from __future__ import annotations

import datetime
import ipaddress
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from strato.digits import is_digits

# A request's condition context: lower-cased key -> one value, or several (multivalued keys).
ContextValue = str | tuple[str, ...]
Context = Mapping[str, ContextValue]


class ConditionError(Exception):
    """A Condition block S3 would refuse; the message is S3's."""


@lru_cache(maxsize=1024)
def wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """An IAM wildcard pattern (`*` any run, `?` any one character) as a compiled regex."""
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _date(text: str) -> float | None:
    """Condition dates are ISO 8601 (W3C profile) or epoch seconds."""
    if is_digits(text):
        return float(text)
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def _ordered(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Callable[[str, str], bool]:
    def compare(actual: str, wanted: str) -> bool:
        a, w = parse(actual), parse(wanted)
        return a is not None and w is not None and test(a, w)

    return compare


def _ip(actual: str, wanted: str) -> bool:
    try:
        return ipaddress.ip_address(actual) in ipaddress.ip_network(wanted, strict=False)
    except ValueError:
        return False


def _arn(actual: str, wanted: str) -> bool:
    """ARNs match component by component, each of the six allowing wildcards."""
    got, want = actual.split(":", 5), wanted.split(":", 5)
    return len(got) == len(want) == 6 and all(wildcard(w).fullmatch(g) for g, w in zip(got, want, strict=True))


_Compare = Callable[[str, str], bool]

# Base operator -> (comparison, negated). A negated operator matches when no value compares.
OPERATORS: dict[str, tuple[_Compare, bool]] = {
    "StringEquals": (str.__eq__, False),
    "StringNotEquals": (str.__eq__, True),
    "StringEqualsIgnoreCase": (lambda a, w: a.casefold() == w.casefold(), False),
    "StringNotEqualsIgnoreCase": (lambda a, w: a.casefold() == w.casefold(), True),
    "StringLike": (lambda a, w: wildcard(w).fullmatch(a) is not None, False),
    "StringNotLike": (lambda a, w: wildcard(w).fullmatch(a) is not None, True),
    "NumericEquals": (_ordered(_number, float.__eq__), False),
    "NumericNotEquals": (_ordered(_number, float.__eq__), True),
    "NumericLessThan": (_ordered(_number, float.__lt__), False),
    "NumericLessThanEquals": (_ordered(_number, float.__le__), False),
    "NumericGreaterThan": (_ordered(_number, float.__gt__), False),
    "NumericGreaterThanEquals": (_ordered(_number, float.__ge__), False),
    "DateEquals": (_ordered(_date, float.__eq__), False),
    "DateNotEquals": (_ordered(_date, float.__eq__), True),
    "DateLessThan": (_ordered(_date, float.__lt__), False),
    "DateLessThanEquals": (_ordered(_date, float.__le__), False),
    "DateGreaterThan": (_ordered(_date, float.__gt__), False),
    "DateGreaterThanEquals": (_ordered(_date, float.__ge__), False),
    "Bool": (lambda a, w: a.lower() == w.lower(), False),
    "BinaryEquals": (str.__eq__, False),
    "IpAddress": (_ip, False),
    "NotIpAddress": (_ip, True),
    "ArnEquals": (_arn, False),
    "ArnLike": (_arn, False),
    "ArnNotEquals": (_arn, True),
    "ArnNotLike": (_arn, True),
}
NULL = "Null"
_QUALIFIERS = ("ForAnyValue", "ForAllValues")

# Condition keys S3 accepts in a bucket policy (lower-cased), and tag-style key prefixes.
KEYS = frozenset({
    "aws:sourceip", "aws:securetransport", "aws:currenttime", "aws:epochtime", "aws:useragent",
    "aws:referer", "aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:principalorgid",
    "aws:principalorgpaths", "aws:userid", "aws:username", "aws:sourcearn", "aws:sourceaccount",
    "aws:sourceowner", "aws:sourcevpc", "aws:sourcevpce", "aws:vpcsourceip", "aws:multifactorauthpresent",
    "aws:multifactorauthage", "aws:tokenissuetime", "aws:calledvia", "aws:viaawsservice",
    "aws:principalisawsservice", "aws:principalservicename", "aws:requestedregion", "aws:tagkeys",
    "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:versionid", "s3:x-amz-acl", "s3:x-amz-content-sha256",
    "s3:x-amz-server-side-encryption", "s3:x-amz-server-side-encryption-aws-kms-key-id",
    "s3:x-amz-storage-class", "s3:x-amz-copy-source", "s3:x-amz-metadata-directive", "s3:authtype",
    "s3:signatureversion", "s3:signatureage", "s3:tlsversion", "s3:locationconstraint",
    "s3:object-lock-mode", "s3:object-lock-retain-until-date", "s3:object-lock-legal-hold",
    "s3:object-lock-remaining-retention-days", "s3:requestobjecttagkeys", "s3:resourceaccount",
    "s3:dataaccesspointarn", "s3:dataaccesspointaccount", "s3:accesspointnetworkorigin",
    "s3:x-amz-grant-read", "s3:x-amz-grant-write", "s3:x-amz-grant-read-acp", "s3:x-amz-grant-write-acp",
    "s3:x-amz-grant-full-control", "s3:if-match", "s3:if-none-match", "s3:objectcreationoperation",
})
KEY_PREFIXES = ("aws:principaltag/", "aws:requesttag/", "aws:resourcetag/", "s3:existingobjecttag/",
                "s3:requestobjecttag/")
IP_KEYS = frozenset({"aws:sourceip", "aws:vpcsourceip"})


@dataclass(frozen=True, slots=True)
class Condition:
    """One key tested by one operator against a set of values (any of which may match)."""

    operator: str  # the base operator, e.g. "StringLike", or "Null"
    key: str  # lower-cased
    values: tuple[str, ...]
    if_exists: bool = False
    qualifier: str = ""  # "", "ForAnyValue" or "ForAllValues"

    def holds(self, context: Context) -> bool:
        """IAM semantics: a missing key fails a positive test and passes a negated one (or any
        ...IfExists test); ForAnyValue needs one context value to match, ForAllValues all."""
        present = context.get(self.key)
        if self.operator == NULL:
            return (present is None) == (self.values[0].lower() == "true")
        if present is None or present == ():
            if self.qualifier == "ForAllValues":
                return True
            if self.qualifier == "ForAnyValue":
                return False
            return self.if_exists or OPERATORS[self.operator][1]
        compare, negated = OPERATORS[self.operator]
        actual = (present,) if isinstance(present, str) else present
        outcomes = (negated != any(compare(value, wanted) for wanted in self.values) for value in actual)
        return all(outcomes) if self.qualifier == "ForAllValues" else any(outcomes)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    raise ConditionError("This policy contains invalid Json")


def _split_operator(name: str) -> tuple[str, str, bool]:
    qualifier, _, base = name.rpartition(":")
    if qualifier and qualifier not in _QUALIFIERS:
        raise ConditionError(f"Invalid Condition type : {name}")
    if_exists = base.endswith("IfExists") and base != "IfExists"
    if if_exists:
        base = base[: -len("IfExists")]
    if base not in OPERATORS and (base != NULL or if_exists):
        raise ConditionError(f"Invalid Condition type : {name}")
    return base, qualifier, if_exists


def parse_block(block: object) -> tuple[Condition, ...]:
    """A statement's Condition element: {operator: {key: value or [values]}}."""
    if not isinstance(block, dict):
        raise ConditionError("This policy contains invalid Json")
    parsed: list[Condition] = []
    for name, tests in block.items():
        base, qualifier, if_exists = _split_operator(name)
        if not isinstance(tests, dict) or not tests:
            raise ConditionError("This policy contains invalid Json")
        for key, raw in tests.items():
            lowered = key.lower()
            if lowered not in KEYS and not lowered.startswith(KEY_PREFIXES):
                raise ConditionError("Policy has an invalid condition key")
            values = tuple(_text(v) for v in (raw if isinstance(raw, list) else [raw]))
            if not values:
                raise ConditionError("This policy contains invalid Json")
            if lowered in IP_KEYS or base in ("IpAddress", "NotIpAddress"):
                for value in values:
                    try:
                        ipaddress.ip_network(value, strict=False)
                    except ValueError:
                        raise ConditionError("Invalid IP address in Conditions") from None
            if base == NULL and any(v.lower() not in ("true", "false") for v in values):
                raise ConditionError("Invalid Condition value for Null operator")
            parsed.append(Condition(base, lowered, values, if_exists, qualifier))
    return tuple(parsed)
