"""CloudFront's configurations as JSON, in the shape boto3 and the aws CLI print them (`aws
cloudfront get-distribution-config`, `get-key-group`, `get-cache-policy`...): each document is
made the XML tree the API reads, so that the same parsers (config_xml, policies_xml,
response_headers_xml, resources_xml) read both and one set of rules checks them.

In that JSON a list is an array under `Items` (beside its `Quantity`), whose members carry no
names; they are given the ones CloudFront's XML gives them (LIST_MEMBERS, from botocore's
cloudfront service model)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from strato.cdn.errors import CdnError
from strato.cdn.records import DistributionConfig
from strato.cdn.resources import Kind
from strato.cdn.validation import check_config
from strato.xmltree import Node

from .config_xml import parse_config
from .errors import CloudFrontError, malformed_input
from .policies_xml import POLICY_XML
from .resources_xml import RESOURCE_XML

# A list's container (the element holding `Items`, or the list itself when it has no `Items`)
# -> the tag of each of its members.
LIST_MEMBERS = {
    "AccessControlAllowHeaders": "Header", "AccessControlAllowMethods": "Method",
    "AccessControlAllowOrigins": "Origin", "AccessControlExposeHeaders": "Header", "Aliases": "CNAME",
    "AllowedMethods": "Method", "CacheBehaviors": "CacheBehavior", "CachedMethods": "Method", "Cookies": "Name",
    "CustomErrorResponses": "CustomErrorResponse", "CustomHeaders": "OriginCustomHeader",
    "CustomHeadersConfig": "ResponseHeadersPolicyCustomHeader", "FunctionAssociations": "FunctionAssociation",
    "GeoRestriction": "Location", "Headers": "Name", "KeyGroupConfig": "PublicKey",
    "LambdaFunctionAssociations": "LambdaFunctionAssociation", "Members": "OriginGroupMember",
    "OriginGroups": "OriginGroup", "OriginSslProtocols": "SslProtocol", "Origins": "Origin",
    "ParameterDefinitions": "ParameterDefinition", "QueryStringCacheKeys": "Name", "QueryStrings": "Name",
    "RemoveHeadersConfig": "ResponseHeadersPolicyRemoveHeader", "StatusCodes": "StatusCode",
    "TrustedKeyGroups": "KeyGroup", "TrustedSigners": "AwsAccountNumber", "WhitelistedNames": "Name",
}
BARE_LISTS = frozenset({"ParameterDefinitions"})  # arrays not under `Items`
UNNAMED_MEMBER = "member"  # a list CloudFront has not had when LIST_MEMBERS was made: kept, unmodelled
TOO_DEEP = "nested deeper than any CloudFront configuration"  # past what a recursive reading can go


def node_of(tag: str, value: Any) -> Node:
    """The JSON `value` as the element `tag` (MalformedInput naming the field when it holds
    something no CloudFront configuration does). A null member is a member left out."""
    if isinstance(value, Mapping):
        return Node(tag, children=[_member(tag, name, item) for name, item in value.items() if item is not None])
    if isinstance(value, bool):
        return Node(tag, "true" if value else "false")
    if isinstance(value, (str, int, float)):
        return Node(tag, str(value))
    raise malformed_input(f"The value of {tag} is not a string, number, boolean or object: {str(value)[:50]}")


def _member(container: str, name: str, value: Any) -> Node:
    if not isinstance(value, list):
        return node_of(name, value)
    if name != "Items" and name not in BARE_LISTS:
        raise malformed_input(f'The value of {name} in {container} is an array; CloudFront\'s lists are '
                              f'{{"Quantity": N, "Items": [...]}}.')
    member = LIST_MEMBERS.get(container if name == "Items" else name, UNNAMED_MEMBER)
    return Node(name, children=[node_of(member, item) for item in value])


def distribution_config(value: Any) -> DistributionConfig:
    """A DistributionConfig from its JSON (API_DistributionConfig)."""
    return parse_config(node_of("DistributionConfig", value))


@dataclass(frozen=True, slots=True)
class ResourceJson:
    """One kind of resource as `aws cloudfront get-<kind>` prints it: `{"<Tag>": {"Id": ...,
    "<Tag>Config": {...}}, "ETag": ...}`."""

    tag: str
    kind: Kind[Any]
    parse: Callable[[Node], Any]

    def config(self, value: Any) -> Any:
        """The resource's config, checked as CreateX checks it."""
        config = self.parse(node_of(f"{self.tag}Config", value))
        self.kind.check(config)
        return config


RESOURCE_JSON = {spec.tag: spec for spec in (
    *(ResourceJson(xml.config_tag.removesuffix("Config"), xml.kind, xml.parse) for xml in RESOURCE_XML.values()),
    *(ResourceJson(policy.tag, policy.kind, policy.parse) for policy in POLICY_XML.values()),
)}


@dataclass(frozen=True, slots=True)
class ExportedDistribution:
    """A distribution as exported: its config, and the Id, DomainName and ETag the export
    carries (`get-distribution` prints them all, `get-distribution-config` only the ETag)."""

    config: DistributionConfig
    id: str | None = None
    domain_name: str | None = None
    etag: str = ""


@dataclass(frozen=True, slots=True)
class Exports:
    distributions: list[ExportedDistribution] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)  # Kind name -> id -> config


def read_exports(document: Any) -> Exports:
    """The distributions and resources of a JSON document of exports: one export (what a `get-`
    command prints), a list of them, or an object whose members are lists of them (such as
    `{"Distributions": [...], "KeyGroups": [...]}`). ValueError: the first one that CloudFront
    would refuse, where it is and why, in one line."""
    exports = Exports()
    for where, export in _exports(document, ""):
        try:
            _read(export, exports)
        except (CloudFrontError, CdnError) as exc:
            raise ValueError(f"{where or 'the document'}: {exc}") from None
        except RecursionError:
            raise ValueError(f"{where or 'the document'}: {TOO_DEEP}") from None
    return exports


def _exports(document: Any, where: str) -> list[tuple[str, Mapping[str, Any]]]:
    if isinstance(document, list):
        return [found for at, item in enumerate(document) for found in _exports(item, f"{where}[{at}]")]
    if not isinstance(document, Mapping):
        raise ValueError(f"{where or 'the document'}: an export is an object, not {str(document)[:50]}")
    if any(key in document for key in _EXPORT_KEYS):
        return [(where, document)]
    for key, value in document.items():
        if not isinstance(value, list):
            raise ValueError(f"{where}{'.' if where else ''}{key}: neither an export (an object with one of "
                             f"{', '.join(_EXPORT_KEYS)}) nor a list of them")
    return [found for key, value in document.items()
            for found in _exports(value, f"{where}{'.' if where else ''}{key}")]


def _read(export: Mapping[str, Any], exports: Exports) -> None:
    etag = str(export.get("ETag") or "")
    if "DistributionConfig" in export:  # get-distribution-config, perhaps with an Id added
        exports.distributions.append(_distribution(export, etag))
        return
    if "Distribution" in export:  # get-distribution
        exports.distributions.append(_distribution(_object(export, "Distribution"), etag))
        return
    tag = next(key for key in RESOURCE_JSON if key in export)
    spec = RESOURCE_JSON[tag]
    resource = _object(export, tag)
    resource_id = _string(resource, "Id", tag)
    if resource_id is None:
        raise malformed_input(f"Missing required field Id in {tag}.")
    config = spec.config(_object(resource, f"{tag}Config"))
    found = exports.resources.setdefault(spec.kind.name, {})
    if resource_id in found:
        raise malformed_input(f"The {spec.kind.name} {resource_id} is given twice.")
    found[resource_id] = config


def _distribution(export: Mapping[str, Any], etag: str) -> ExportedDistribution:
    config = distribution_config(_object(export, "DistributionConfig"))
    check_config(config)
    return ExportedDistribution(config, _string(export, "Id", "Distribution"),
                                _string(export, "DomainName", "Distribution"), etag)


def _object(export: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = export.get(key)
    if not isinstance(value, Mapping):
        raise malformed_input(f"The value of {key} is not an object.")
    return value


def _string(export: Mapping[str, Any], key: str, owner: str) -> str | None:
    value = export.get(key)
    if value is not None and (not isinstance(value, str) or not value):
        raise malformed_input(f"The value of {key} in {owner} is not a string.")
    return value


_EXPORT_KEYS = ("DistributionConfig", "Distribution", *RESOURCE_JSON)
