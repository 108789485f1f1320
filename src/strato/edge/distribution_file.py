"""`strato edge --config FILE`: the distributions a standalone edge serves, from a file of
CloudFront's own JSON (what `aws cloudfront get-distribution-config` and the other `get-`
commands print, read by api/cloudfront/config_json.py) instead of a strato server's database.

DistributionOrigin reads it as it reads the database's registry. The key groups, public keys,
custom policies and origin access controls the distributions name must be in the file too. The
file is read again when it changes (looked at with the distributions, once a second) and on
`reload()` (SIGHUP); the cache is kept. A file that no longer reads leaves the distributions
as they were, with a warning."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from strato.account import ACCOUNT_ID
from strato.api.cloudfront.config_json import TOO_DEEP, ExportedDistribution, read_exports
from strato.cdn.errors import CdnError
from strato.cdn.functions import CloudFrontFunction
from strato.cdn.records import C, Distribution, KeyGroupConfig, Origin, OriginAccessControlConfig, PublicKeyConfig
from strato.cdn.registry import DEPLOYED, domain_name
from strato.cdn.resources import KEY_GROUP, ORIGIN_ACCESS_CONTROL, PUBLIC_KEY, Kind, own_policies
from strato.cdn.validation import bucket_of, check_access_control_type, origin_access_identity
from strato.edge.behavior_rules import behaviors

log = logging.getLogger("strato.edge")


class FileResources:
    """The file's resources, answered as the database's ResourceRegistry answers an edge."""

    def __init__(self, configs: Mapping[str, Mapping[str, Any]]) -> None:
        self._configs = configs  # Kind name -> id -> config

    def configs(self, kind: Kind[C], resource_ids: tuple[str, ...]) -> dict[str, C]:
        found = self._configs.get(kind.name, {})
        return {resource_id: found[resource_id] for resource_id in resource_ids if resource_id in found}

    def key_groups(self, group_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        """Key group id -> {public key id: PEM}."""
        keys: Mapping[str, PublicKeyConfig] = self._configs.get(PUBLIC_KEY.name, {})
        return {group_id: {key_id: keys[key_id].encoded_key for key_id in group.items if key_id in keys}
                for group_id, group in self.configs(KEY_GROUP, group_ids).items()}


class NoFunctions:
    """A file holds no CloudFront function's code: `load` refuses behaviours that run one."""

    def live(self, names: tuple[str, ...]) -> dict[str, CloudFrontFunction]:
        return {}


def load(path: Path, *, server: bool, keys: bool) -> tuple[list[Distribution], FileResources]:
    """The file's distributions and resources. `server`: there is a strato server (--origin) to
    read buckets from; `keys`: there are keys to sign with. ValueError: what is wrong, in one line
    (line breaks in the values it quotes escaped)."""
    try:
        return _load(path, server=server, keys=keys)
    except ValueError as exc:
        raise ValueError(str(exc).replace("\r", "\\r").replace("\n", "\\n")) from None


def _load(path: Path, *, server: bool, keys: bool) -> tuple[list[Distribution], FileResources]:
    try:
        document = json.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:  # JSONDecodeError says at which line and column
        raise ValueError(f"not JSON: {exc}") from None
    except RecursionError:  # the parser's own limit (an edge reloading must not fail every request)
        raise ValueError(f"not JSON: {TOO_DEEP}") from None
    exports = read_exports(document)
    resources = FileResources(exports.resources)
    for group_id, group in exports.resources.get(KEY_GROUP.name, {}).items():
        _check_keys(group_id, group, resources)
    distributions = [_distribution(exported) for exported in exports.distributions]
    claimed: dict[str, str] = {}  # a Host name -> the distribution answering it
    seen: set[str] = set()
    for distribution in distributions:
        if distribution.id in seen:
            raise ValueError(f"distribution {distribution.id} is given twice")
        seen.add(distribution.id)
        for name in (distribution.domain_name, *(distribution.config.aliases or ())):
            if claimed.setdefault(name.lower(), distribution.id) != distribution.id:
                raise ValueError(f"distribution {distribution.id}: {name} is already distribution "
                                 f"{claimed[name.lower()]}'s")
        try:
            _check_references(distribution, resources, server=server, keys=keys)
        except (ValueError, CdnError) as exc:
            raise ValueError(f"distribution {distribution.id}: {exc}") from None
    return distributions, resources


def _distribution(exported: ExportedDistribution) -> Distribution:
    """An export as the registry's record: its Id (a `get-distribution-config` export has
    none: its CallerReference, unique per account, stands for it) and DomainName."""
    distribution_id = exported.id or exported.config.caller_reference
    return Distribution(
        id=distribution_id, arn=f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}",
        etag=exported.etag, domain_name=(exported.domain_name or domain_name(distribution_id)).lower(),
        status=DEPLOYED, last_modified=0.0, config=exported.config)


def _check_keys(group_id: str, group: KeyGroupConfig, resources: FileResources) -> None:
    found = resources.configs(PUBLIC_KEY, group.items)
    for key_id in group.items:
        if key_id not in found:
            raise ValueError(f"key group {group_id}: its public key {key_id} is not in the file")


def _check_references(distribution: Distribution, resources: FileResources, *, server: bool, keys: bool) -> None:
    """What the database's registry checks at CreateDistribution (the resources named exist, an
    origin access control is of its origin's type), and what this edge needs to serve it."""
    config = distribution.config
    for origin in config.origins:
        _check_origin(origin, resources, server=server, keys=keys)
    named: list[tuple[Kind[Any], str]] = [(KEY_GROUP, group) for group in config.trusted_key_groups()]
    for behavior in behaviors(distribution):
        named += own_policies(behavior)
        if behavior.function_associations:
            raise ValueError(f"a cache behaviour runs the CloudFront function "
                             f"{behavior.function_associations[0].function_arn}, whose code a config file cannot hold")
    for kind, resource_id in named:
        if not resources.configs(kind, (resource_id,)):
            raise ValueError(f"the {kind.name} {resource_id} is not in the file")


def _check_origin(origin: Origin, resources: FileResources, *, server: bool, keys: bool) -> None:
    control: OriginAccessControlConfig | None = None
    if origin.origin_access_control_id:
        found = resources.configs(ORIGIN_ACCESS_CONTROL, (origin.origin_access_control_id,))
        if not found:
            raise ValueError(f"origin {origin.id}: the {ORIGIN_ACCESS_CONTROL.name} "
                             f"{origin.origin_access_control_id} is not in the file")
        control = found[origin.origin_access_control_id]
        check_access_control_type(origin, control)
    bucket = bucket_of(origin) if origin.s3 is not None else None
    if bucket is not None and not server:
        raise ValueError(f"origin {origin.id} is the bucket {bucket}: give --origin, the URL of the strato server "
                         "that holds it")
    signs = (control is not None and control.signing_behavior != "never") or bool(origin_access_identity(origin))
    if signs and not keys:
        raise ValueError(f"origin {origin.id} is read with signed requests: set AWS_ACCESS_KEY_ID and "
                         "AWS_SECRET_ACCESS_KEY")


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is written or replaced (None: it is away)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns, status.st_size


class DistributionFile:
    """The distributions of `path`, as DistributionOrigin reads a registry (edge/distributions.py)."""

    def __init__(self, path: Path, *, server: bool, keys: bool) -> None:
        """ValueError: the file does not read (load)."""
        self.path = path
        self._server, self._keys = server, keys
        self._stamp = _stamp(path)
        self._distributions, self._resources = load(path, server=server, keys=keys)
        self._generation = 0
        self.functions = NoFunctions()

    @property
    def resources(self) -> FileResources:
        return self._resources

    def generation(self) -> int:
        """A number that grows each time the file is read anew: when it has changed since."""
        stamp = _stamp(self.path)
        if stamp != self._stamp:
            self.reload(stamp)
        return self._generation

    def all(self) -> list[Distribution]:
        return self._distributions

    def reload(self, stamp: tuple[int, int, int] | None = None) -> None:
        """Read the file again (`stamp`: its stat, when the caller has it); one that does not read
        leaves everything as it was."""
        stamp = _stamp(self.path) if stamp is None else stamp
        try:
            self._distributions, self._resources = load(self.path, server=self._server, keys=self._keys)
        except ValueError as exc:
            log.warning("%s was not reloaded, its distributions stay as they were: %s", self.path, exc)
        else:
            self._generation += 1
            log.info("%s reloaded: %d distributions", self.path, len(self._distributions))
        self._stamp = stamp
