"""Function names, ARNs and qualifiers, as Lambda spells and accepts them (pure).

Source: the Lambda API reference, "FunctionName" and "Qualifier" request parameters.
"""

from __future__ import annotations

import functools
import re

from strato.account import ACCOUNT_ID

from .errors import AccessDenied, InvalidParameter, NotFound

_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
_VERSION = re.compile(r"[1-9][0-9]{0,9}")  # published from 1 on ($LATEST is stored as 0), no leading 0
_ALIAS = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}")
_QUALIFIER = re.compile(r"[a-zA-Z0-9$_-]{1,128}")
_FULL = re.compile(r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):([0-9]{12}):function:(.+)")
_PARTIAL = re.compile(r"([0-9]{12}):function:(.+)")
# The FunctionName shape's pattern, as Lambda quotes it when a name does not match
NAME_PATTERN = (r"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?"
                r"([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?")
_NAME_SHAPE = re.compile(NAME_PATTERN)
MAX_NAME_TEXT = 256  # a FunctionName in any form (NamespacedFunctionName's; most operations take 140 at most)
MAX_NAME = 64  # the name itself


def function_arn(region: str, name: str, qualifier: str | None = None) -> str:
    base = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}"
    return f"{base}:{qualifier}" if qualifier else base


def is_version(qualifier: str) -> bool:
    """A published version number (as opposed to $LATEST or an alias name)."""
    return _VERSION.fullmatch(qualifier) is not None


def check_alias_name(alias: str) -> None:
    if not is_alias_name(alias):
        raise InvalidParameter(f"1 validation error detected: Value '{alias}' at 'name' failed to satisfy "
                               "constraint: Member must satisfy regular expression pattern: "
                               "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")


def is_alias_name(qualifier: str) -> bool:
    """A name an alias may have (a qualifier can be one, `$LATEST`, a number or none of these)."""
    return _ALIAS.fullmatch(qualifier) is not None


def check_qualifier(qualifier: str) -> None:
    """The Qualifier shape's pattern; a qualifier that matches it but names nothing (`a$b`) is
    not found later, as in Lambda."""
    if not _QUALIFIER.fullmatch(qualifier):
        raise InvalidParameter(f"1 validation error detected: Value '{qualifier}' at 'qualifier' failed to "
                               "satisfy constraint: Member must satisfy regular expression pattern: "
                               r"(|[a-zA-Z0-9$_-]+)")


def _invalid_name(text: str, constraint: str) -> InvalidParameter:
    return InvalidParameter(f"1 validation error detected: Value '{text}' at 'functionName' failed to satisfy "
                            f"constraint: {constraint}")


@functools.lru_cache(maxsize=1024)  # an invoke path names the same function again and again
def split_function_name(text: str, qualifier: str | None = None, region: str | None = None) -> tuple[str, str | None]:
    """(name, qualifier) from any form FunctionName takes: `name`, `name:qualifier`, a partial
    ARN `ACCOUNT:function:name[:qualifier]` or a full ARN. A qualifier in the name must agree
    with the one given separately. With `region` (strato's), an ARN must also be strato's:
    another region's names no function here, another account's is not the caller's to name."""
    if len(text) > MAX_NAME_TEXT:
        raise _invalid_name(text, f"Member must have length less than or equal to {MAX_NAME_TEXT}")
    if not _NAME_SHAPE.fullmatch(text):
        raise _invalid_name(text, f"Member must satisfy regular expression pattern: {NAME_PATTERN}")
    rest, arn_region, account = text, None, ACCOUNT_ID
    full = _FULL.fullmatch(text)
    if full:
        arn_region, account, rest = full.groups()
    else:
        partial = _PARTIAL.fullmatch(text)
        if partial:
            account, rest = partial.groups()
    if region is not None and arn_region not in (None, region):
        raise NotFound(f"Functions from '{arn_region}' are not reachable in this region ('{region}')")
    if region is not None and account != ACCOUNT_ID:
        raise AccessDenied(f"The function {text} belongs to another account")
    name, colon, embedded = rest.partition(":")
    if len(name) > MAX_NAME:
        raise _invalid_name(text, f"Member must have length less than or equal to {MAX_NAME}")
    if not _NAME.fullmatch(name):
        raise _invalid_name(text, f"Member must satisfy regular expression pattern: {NAME_PATTERN}")
    if colon:
        if qualifier is not None and qualifier != embedded:
            raise InvalidParameter("The derived qualifier from the function name does not match the "
                                   "specified qualifier.")
        qualifier = embedded
    if qualifier is not None:
        check_qualifier(qualifier)
    return name, qualifier


def pick_version(primary: str, weights: dict[str, float], roll: float) -> str:
    """The version an alias routes one invocation to: each additional version takes its
    weight's share of rolls in [0, 1), the primary the rest (AliasRoutingConfiguration)."""
    bound = 0.0
    for version, weight in sorted(weights.items()):
        bound += weight
        if roll < bound:
            return version
    return primary
