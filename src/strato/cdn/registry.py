"""The distributions registry: distributions, aliases and invalidations in
`<data_dir>/cdn/cdn.db` (SQLite, WAL, shared by every API worker process).

Each change is one IMMEDIATE transaction, so the checks it depends on (the ETag the client
read, alias uniqueness, a CallerReference seen before) hold when it commits, whichever
process commits first. Every invalidated path gets a row with an increasing sequence number;
edges follow them with `invalidations_since`."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

from strato.account import ACCOUNT_ID

from . import codec
from .database import Database, bump_generation
from .errors import (
    CNAMEAlreadyExists,
    DistributionAlreadyExists,
    DistributionNotDisabled,
    IllegalUpdate,
    InvalidArgument,
    InvalidationBatchAlreadyExists,
    InvalidOriginAccessIdentity,
    NoSuchCachePolicy,
    NoSuchDistribution,
    NoSuchInvalidation,
    NoSuchOriginRequestPolicy,
    NoSuchResource,
    NoSuchResponseHeadersPolicy,
    TrustedKeyGroupDoesNotExist,
)
from .functions import FunctionRegistry
from .ids import new_id, require_etag
from .records import Distribution, DistributionConfig, Invalidation, OriginAccessControlConfig
from .resources import (
    CACHE_POLICY,
    KEY_GROUP,
    ORIGIN_ACCESS_CONTROL,
    ORIGIN_ACCESS_IDENTITY,
    ORIGIN_REQUEST_POLICY,
    RESPONSE_HEADERS_POLICY,
    ResourceRegistry,
    own_policies,
    replace_refs,
)
from .validation import check_access_control_type, check_config, check_paths, check_tags, origin_access_identity

DOMAIN_SUFFIX = "cdn.strato.local"
DEPLOYED = "Deployed"
COMPLETED = "Completed"


def domain_name(distribution_id: str) -> str:
    return f"{distribution_id.lower()}.{DOMAIN_SUFFIX}"


def _root(root_object: str | None, paths: tuple[str, ...]) -> tuple[str, ...]:
    """`/` for edges to purge too when `paths` invalidate the default root object but not `/`:
    edges keep what `/` answered under `/`, and CloudFront has the root object invalidated by
    its own path (DeveloperGuide/Invalidation.html)."""
    def covers(path: str, target: str) -> bool:
        return target.startswith(path[:-1]) if path.endswith("*") else target == path

    if not root_object or any(covers(path, "/") for path in paths):
        return ()
    return ("/",) if any(covers(path, "/" + root_object) for path in paths) else ()


class DistributionRegistry:
    def __init__(self, data_dir: Path) -> None:
        self.db = Database(data_dir)
        self.path = self.db.path
        self.resources = ResourceRegistry(self.db)
        """Public keys, key groups, origin access controls and identities and custom policies, in the same file."""
        self.functions = FunctionRegistry(self.db)
        """CloudFront Functions, in the same file."""

    def close(self) -> None:
        self.db.close()

    # -- distributions -------------------------------------------------------------------

    def create(self, config: DistributionConfig, tags: tuple[tuple[str, str], ...] = ()) -> Distribution:
        """CreateDistribution: a CallerReference already used is DistributionAlreadyExists."""
        check_config(config)
        check_tags(tags)
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM distributions WHERE caller_reference = ?",
                            (config.caller_reference,)).fetchone():
                raise DistributionAlreadyExists(
                    "The caller reference that you are using to create a distribution is associated with "
                    "another distribution.")
            distribution_id = new_id("E")
            self._claim_aliases(conn, distribution_id, config)
            self._refer(conn, distribution_id, config)
            now = time.time()
            etag = new_id("E")
            conn.execute(
                "INSERT INTO distributions (id, caller_reference, etag, last_modified, config, tags) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (distribution_id, config.caller_reference, etag, now, codec.dumps(config), json.dumps(tags)),
            )
            bump_generation(conn)
        return self._record(distribution_id, etag, now, config, tags)

    def get(self, distribution_id: str) -> Distribution:
        with self.db.read() as conn:
            row = conn.execute("SELECT id, etag, last_modified, config, tags FROM distributions WHERE id = ?",
                               (distribution_id,)).fetchone()
        if row is None:
            raise NoSuchDistribution("The specified distribution does not exist.")
        return self._from_row(row)

    def list_distributions(self, marker: str = "", max_items: int = 100) -> tuple[list[Distribution], str | None]:
        """A page of distributions in id order after `marker`, and the next marker if more remain."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, etag, last_modified, config, tags FROM distributions WHERE id > ? ORDER BY id LIMIT ?",
                (marker, max_items + 1),
            ).fetchall()
        page = [self._from_row(row) for row in rows[:max_items]]
        return page, (page[-1].id if len(rows) > max_items and page else None)

    def generation(self) -> int:
        """A number that grows with every create, update and delete of a distribution and every
        update of a resource: an edge reloads only when it differs from the one it loaded with."""
        with self.db.read() as conn:
            return int(conn.execute("SELECT value FROM generation WHERE id = 1").fetchone()[0])

    def all(self) -> list[Distribution]:
        """Every distribution, for an edge to select from."""
        with self.db.read() as conn:
            rows = conn.execute("SELECT id, etag, last_modified, config, tags FROM distributions ORDER BY id")
            return [self._from_row(row) for row in rows.fetchall()]

    def update(self, distribution_id: str, config: DistributionConfig, if_match: str | None) -> Distribution:
        """UpdateDistribution: the whole configuration is replaced; the ETag must be current
        and the CallerReference unchanged."""
        check_config(config)
        with self.db.write() as conn:
            current = self._current(conn, distribution_id, if_match)
            if current.config.caller_reference != config.caller_reference:
                raise IllegalUpdate("The CallerReference of a distribution cannot be changed.")
            conn.execute("DELETE FROM aliases WHERE distribution_id = ?", (distribution_id,))
            self._claim_aliases(conn, distribution_id, config)
            self._refer(conn, distribution_id, config)
            now = time.time()
            etag = new_id("E")
            conn.execute("UPDATE distributions SET etag = ?, last_modified = ?, config = ? WHERE id = ?",
                         (etag, now, codec.dumps(config), distribution_id))
            bump_generation(conn)
        return self._record(distribution_id, etag, now, config, current.tags)

    def delete(self, distribution_id: str, if_match: str | None) -> None:
        """DeleteDistribution: only a disabled distribution, at its current ETag."""
        with self.db.write() as conn:
            current = self._current(conn, distribution_id, if_match)
            if current.config.enabled:
                raise DistributionNotDisabled("The distribution you are trying to delete has not been disabled.")
            for table, column in (("aliases", "distribution_id"), ("invalidations", "distribution_id"),
                                  ("resource_refs", "owner_id"), ("distributions", "id")):
                conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (distribution_id,))
            bump_generation(conn)

    def tags(self, arn: str) -> tuple[tuple[str, str], ...]:
        """ListTagsForResource, for a distribution's ARN."""
        with self.db.read() as conn:
            return self._tags(conn, arn)[1]

    def tag(self, arn: str, tags: tuple[tuple[str, str], ...]) -> None:
        """TagResource: add tags, replacing the values of keys already there (the ETag stays)."""
        with self.db.write() as conn:
            distribution_id, current = self._tags(conn, arn)
            merged = dict(current)
            merged.update(tags)
            check_tags(tuple(merged.items()))
            conn.execute("UPDATE distributions SET tags = ? WHERE id = ?",
                         (json.dumps(list(merged.items())), distribution_id))

    def untag(self, arn: str, keys: tuple[str, ...]) -> None:
        with self.db.write() as conn:
            distribution_id, current = self._tags(conn, arn)
            kept = [(key, value) for key, value in current if key not in keys]
            conn.execute("UPDATE distributions SET tags = ? WHERE id = ?", (json.dumps(kept), distribution_id))

    @staticmethod
    def _tags(conn: sqlite3.Connection, arn: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        prefix = f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/"
        if not arn.startswith(prefix):
            raise InvalidArgument(f"The resource {arn[:200]} is not a distribution ARN.")
        distribution_id = arn[len(prefix):]
        row = conn.execute("SELECT tags FROM distributions WHERE id = ?", (distribution_id,)).fetchone()
        if row is None:
            raise NoSuchResource("distribution", "The specified distribution does not exist.")
        return distribution_id, tuple((key, value) for key, value in json.loads(row[0]))

    def _current(self, conn: sqlite3.Connection, distribution_id: str, if_match: str | None) -> Distribution:
        row = conn.execute("SELECT id, etag, last_modified, config, tags FROM distributions WHERE id = ?",
                           (distribution_id,)).fetchone()
        if row is None:
            raise NoSuchDistribution("The specified distribution does not exist.")
        current = self._from_row(row)
        require_etag(current.etag, if_match)
        return current

    @staticmethod
    def _refer(conn: sqlite3.Connection, distribution_id: str, config: DistributionConfig) -> None:
        """The key groups behaviours trust, the custom policies they use and the origin access
        controls and identities origins use must exist, and the functions behaviours associate
        must be published."""
        refs = [(ORIGIN_ACCESS_CONTROL.name, origin.origin_access_control_id) for origin in config.origins
                if origin.origin_access_control_id]
        refs.extend((ORIGIN_ACCESS_IDENTITY.name, identity) for identity in map(origin_access_identity, config.origins)
                    if identity)
        for behavior in (config.default_behavior, *config.behaviors):
            if behavior.trusted_key_groups is not None:
                refs.extend((KEY_GROUP.name, group) for group in behavior.trusted_key_groups.items)
            refs.extend((kind.name, policy_id) for kind, policy_id in own_policies(behavior))
        missing = replace_refs(conn, distribution_id, refs)
        if missing is None:
            DistributionRegistry._check_access_control_types(conn, config)
            FunctionRegistry.refer(conn, distribution_id, (config.default_behavior, *config.behaviors))
            return
        kind, resource_id = missing
        if kind == KEY_GROUP.name:
            raise TrustedKeyGroupDoesNotExist(f"The specified key group {resource_id} does not exist.")
        if kind == CACHE_POLICY.name:
            raise NoSuchCachePolicy(f"The cache policy {resource_id} does not exist.")
        if kind == ORIGIN_REQUEST_POLICY.name:
            raise NoSuchOriginRequestPolicy(f"The origin request policy {resource_id} does not exist.")
        if kind == ORIGIN_ACCESS_IDENTITY.name:
            raise InvalidOriginAccessIdentity(f"The origin access identity {resource_id} does not exist.")
        if kind == RESPONSE_HEADERS_POLICY.name:
            raise NoSuchResponseHeadersPolicy(f"The response headers policy {resource_id} does not exist.")
        raise NoSuchResource(kind, f"The specified origin access control {resource_id} does not exist.")

    @staticmethod
    def _check_access_control_types(conn: sqlite3.Connection, config: DistributionConfig) -> None:
        """Each origin's origin access control is of its origin's type (check_access_control_type)."""
        for origin in config.origins:
            if not origin.origin_access_control_id:
                continue
            row = conn.execute("SELECT config FROM resources WHERE id = ? AND kind = ?",
                               (origin.origin_access_control_id, ORIGIN_ACCESS_CONTROL.name)).fetchone()
            check_access_control_type(origin, codec.loads(OriginAccessControlConfig, row[0]))

    @staticmethod
    def _claim_aliases(conn: sqlite3.Connection, distribution_id: str, config: DistributionConfig) -> None:
        for alias in config.aliases or ():
            try:
                conn.execute("INSERT INTO aliases (alias, distribution_id) VALUES (?, ?)",
                             (alias.lower(), distribution_id))
            except sqlite3.IntegrityError:
                raise CNAMEAlreadyExists(
                    f"One or more of the CNAMEs you provided are already associated with a different "
                    f"resource: {alias}") from None

    def _from_row(self, row: tuple[str, str, float, str, str]) -> Distribution:
        distribution_id, etag, last_modified, config, tags = row
        pairs = tuple((key, value) for key, value in json.loads(tags))
        return self._record(distribution_id, etag, last_modified, codec.loads(DistributionConfig, config), pairs)

    @staticmethod
    def _record(distribution_id: str, etag: str, last_modified: float, config: DistributionConfig,
                tags: tuple[tuple[str, str], ...]) -> Distribution:
        return Distribution(
            id=distribution_id, arn=f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/{distribution_id}",
            etag=etag, domain_name=domain_name(distribution_id), status=DEPLOYED, last_modified=last_modified,
            config=config, tags=tags,
        )

    # -- invalidations -------------------------------------------------------------------

    def create_invalidation(self, distribution_id: str, caller_reference: str,
                            paths: tuple[str, ...]) -> tuple[Invalidation, bool]:
        """CreateInvalidation, recorded and so Completed at once; returns (invalidation, created).
        The same CallerReference with the same paths is the same invalidation; with other
        paths it is InvalidationBatchAlreadyExists."""
        check_paths(paths)
        with self.db.write() as conn:
            found = conn.execute("SELECT config FROM distributions WHERE id = ?", (distribution_id,)).fetchone()
            if found is None:
                raise NoSuchDistribution("The specified distribution does not exist.")
            row = conn.execute(
                "SELECT id, distribution_id, caller_reference, create_time, paths FROM invalidations "
                "WHERE distribution_id = ? AND caller_reference = ?", (distribution_id, caller_reference),
            ).fetchone()
            if row is not None:
                existing = self._invalidation(row)
                if existing.paths != paths:
                    raise InvalidationBatchAlreadyExists(
                        "An invalidation with this CallerReference and different paths already exists.")
                return existing, False
            invalidation = Invalidation(new_id("I"), distribution_id, caller_reference, paths, COMPLETED, time.time())
            conn.execute(
                "INSERT INTO invalidations (id, distribution_id, caller_reference, create_time, paths) "
                "VALUES (?, ?, ?, ?, ?)",
                (invalidation.id, distribution_id, caller_reference, invalidation.create_time, json.dumps(paths)),
            )
            followed = paths + _root(codec.loads(DistributionConfig, found[0]).default_root_object, paths)
            conn.executemany("INSERT INTO invalidation_paths (distribution_id, path) VALUES (?, ?)",
                             [(distribution_id, path) for path in followed])
        return invalidation, True

    def get_invalidation(self, distribution_id: str, invalidation_id: str) -> Invalidation:
        with self.db.read() as conn:
            known = conn.execute("SELECT 1 FROM distributions WHERE id = ?", (distribution_id,)).fetchone()
            row = conn.execute(
                "SELECT id, distribution_id, caller_reference, create_time, paths FROM invalidations "
                "WHERE distribution_id = ? AND id = ?", (distribution_id, invalidation_id),
            ).fetchone()
        if not known:
            raise NoSuchDistribution("The specified distribution does not exist.")
        if row is None:
            raise NoSuchInvalidation("The specified invalidation does not exist.")
        return self._invalidation(row)

    def list_invalidations(self, distribution_id: str, marker: str = "",
                           max_items: int = 100) -> tuple[list[Invalidation], str | None]:
        """A page of the distribution's invalidations, newest first, after the one `marker` names."""
        with self.db.read() as conn:
            if not conn.execute("SELECT 1 FROM distributions WHERE id = ?", (distribution_id,)).fetchone():
                raise NoSuchDistribution("The specified distribution does not exist.")
            after = conn.execute("SELECT rowid FROM invalidations WHERE id = ? AND distribution_id = ?",
                                 (marker, distribution_id)).fetchone() if marker else None
            rows = conn.execute(
                "SELECT id, distribution_id, caller_reference, create_time, paths FROM invalidations "
                "WHERE distribution_id = ? AND rowid < ? ORDER BY rowid DESC LIMIT ?",
                (distribution_id, after[0] if after else 2**63 - 1, max_items + 1),
            ).fetchall()
        page = [self._invalidation(row) for row in rows[:max_items]]
        return page, (page[-1].id if len(rows) > max_items and page else None)

    def invalidations_since(self, seq: int, limit: int = 1000) -> tuple[str, list[tuple[int, str, str]]]:
        """The feed's identity, and the invalidated paths recorded after sequence number `seq`,
        oldest first, at most `limit`: (seq, distribution id, path). An edge remembers the feed
        and the last seq it applied."""
        with self.db.read() as conn:
            (feed,) = conn.execute("SELECT id FROM invalidation_feed").fetchone()
            rows = conn.execute(
                "SELECT seq, distribution_id, path FROM invalidation_paths WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            ).fetchall()
        return str(feed), [(int(number), str(distribution_id), str(path)) for number, distribution_id, path in rows]

    @staticmethod
    def _invalidation(row: tuple[str, str, str, float, str]) -> Invalidation:
        invalidation_id, distribution_id, caller_reference, create_time, paths = row
        return Invalidation(invalidation_id, distribution_id, caller_reference, tuple(json.loads(paths)),
                            COMPLETED, create_time)
