"""The distributions registry on a real SQLite file: ETags and If-Match, alias ownership,
CallerReference rules, persistence, and the invalidation sequence edges follow."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from strato import migrations
from strato.cdn import codec
from strato.cdn.database import MIGRATIONS
from strato.cdn.errors import (
    CNAMEAlreadyExists,
    DistributionAlreadyExists,
    DistributionNotDisabled,
    IllegalUpdate,
    InvalidationBatchAlreadyExists,
    MissingIfMatch,
    NoSuchDistribution,
    NoSuchInvalidation,
    PreconditionFailed,
)
from strato.cdn.records import CustomErrorResponse, DistributionConfig, Element
from strato.cdn.registry import DistributionRegistry

from .samples import behavior, config


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DistributionRegistry]:
    opened = DistributionRegistry(tmp_path)
    yield opened
    opened.close()


class TestFile:
    def test_lives_in_its_own_file_under_the_data_dir(self, tmp_path: Path, registry: DistributionRegistry) -> None:
        assert registry.path == tmp_path / "cdn" / "cdn.db"
        with contextlib.closing(sqlite3.connect(registry.path)) as conn:
            assert conn.execute("PRAGMA user_version").fetchone()[0] == migrations.latest(MIGRATIONS)

    def test_distributions_survive_a_reopen(self, tmp_path: Path, registry: DistributionRegistry) -> None:
        created = registry.create(config(behavior("web", "/api/*"), aliases=("a.example.com",)))
        registry.close()
        reopened = DistributionRegistry(tmp_path)
        try:
            assert reopened.get(created.id) == created
        finally:
            reopened.close()

    def test_a_version_1_file_upgrades_keeping_its_distributions(self, tmp_path: Path) -> None:
        data = tmp_path / "old"
        (data / "cdn").mkdir(parents=True)
        migrations.migrate(data / "cdn" / "cdn.db", MIGRATIONS, target=1)
        sent = config()
        with contextlib.closing(sqlite3.connect(data / "cdn" / "cdn.db")) as conn, conn:
            conn.execute("INSERT INTO distributions (id, caller_reference, etag, last_modified, config) "
                         "VALUES ('E1OLD000000001', ?, 'E1ETAG', 0, ?)", (sent.caller_reference, codec.dumps(sent)))
        upgraded = DistributionRegistry(data)
        try:
            assert upgraded.get("E1OLD000000001").config == sent
            assert upgraded.generation() == 0
            upgraded.create(config())
            assert upgraded.generation() == 1
        finally:
            upgraded.close()

    def test_a_version_2_file_models_the_custom_error_responses_it_kept_verbatim(self, tmp_path: Path) -> None:
        data = tmp_path / "old"
        (data / "cdn").mkdir(parents=True)
        migrations.migrate(data / "cdn" / "cdn.db", MIGRATIONS, target=2)
        kept = Element("CustomErrorResponses", children=(Element("Quantity", "2"), Element("Items", children=(
            Element("CustomErrorResponse", children=(
                Element("ErrorCode", "404"), Element("ResponsePagePath", "/404.html"), Element("ResponseCode", "200"),
                Element("ErrorCachingMinTTL", "30"))),
            Element("CustomErrorResponse", children=(
                Element("ErrorCode", "503"), Element("ResponsePagePath", ""), Element("ResponseCode", ""))),
        ))))
        sent = config()
        stored = json.loads(codec.dumps(dataclasses.replace(sent, extras=(*sent.extras, kept))))
        del stored["custom_error_responses"]  # the field a version 2 row never had
        with contextlib.closing(sqlite3.connect(data / "cdn" / "cdn.db")) as conn, conn:
            conn.execute("INSERT INTO distributions (id, caller_reference, etag, last_modified, config) "
                         "VALUES ('E1OLD000000002', ?, 'E1ETAG', 0, ?)", (sent.caller_reference, json.dumps(stored)))
            conn.execute("INSERT INTO distributions (id, caller_reference, etag, last_modified, config) "
                         "VALUES ('E1OLD000000003', 'other', 'E1ETAG', 0, ?)", (codec.dumps(config()),))
        upgraded = DistributionRegistry(data)
        try:
            assert upgraded.get("E1OLD000000002").config == dataclasses.replace(sent, custom_error_responses=(
                CustomErrorResponse(404, "/404.html", "200", 30), CustomErrorResponse(503, "", "", None)))
            assert upgraded.get("E1OLD000000003").config.custom_error_responses is None
        finally:
            upgraded.close()

    def test_configs_round_trip_through_their_stored_form(self) -> None:
        sent = config(behavior("web", "/api/*", min_ttl=1, default_ttl=2, max_ttl=3), aliases=("a.example.com",))
        assert codec.loads(DistributionConfig, codec.dumps(sent)) == sent


class TestDistributions:
    def test_update_needs_the_current_etag_and_issues_a_new_one(self, registry: DistributionRegistry) -> None:
        created = registry.create(config())
        changed = dataclasses.replace(created.config, comment="new")
        with pytest.raises(MissingIfMatch):
            registry.update(created.id, changed, None)
        with pytest.raises(PreconditionFailed):
            registry.update(created.id, changed, "E0STALE")
        updated = registry.update(created.id, changed, created.etag)
        assert updated.etag != created.etag
        assert registry.get(created.id).config.comment == "new"
        with pytest.raises(PreconditionFailed):
            registry.update(created.id, changed, created.etag)

    def test_the_caller_reference_is_fixed_and_unique(self, registry: DistributionRegistry) -> None:
        created = registry.create(config())
        with pytest.raises(DistributionAlreadyExists):
            registry.create(created.config)
        with pytest.raises(IllegalUpdate):
            registry.update(created.id, config(), created.etag)

    def test_delete_needs_a_disabled_distribution(self, registry: DistributionRegistry) -> None:
        created = registry.create(config())
        with pytest.raises(DistributionNotDisabled):
            registry.delete(created.id, created.etag)
        disabled = registry.update(created.id, dataclasses.replace(created.config, enabled=False), created.etag)
        registry.delete(created.id, disabled.etag)
        with pytest.raises(NoSuchDistribution):
            registry.get(created.id)

    def test_every_change_moves_the_generation_on(self, registry: DistributionRegistry) -> None:
        seen = [registry.generation()]
        created = registry.create(config(enabled=False))
        seen.append(registry.generation())
        registry.create_invalidation(created.id, "r", ("/a",))  # not a change to the distribution
        assert registry.generation() == seen[-1]
        updated = registry.update(created.id, dataclasses.replace(created.config, comment="x"), created.etag)
        seen.append(registry.generation())
        registry.delete(created.id, updated.etag)
        seen.append(registry.generation())
        assert seen == sorted(set(seen))

    def test_listing_pages_in_id_order(self, registry: DistributionRegistry) -> None:
        ids = sorted(registry.create(config()).id for _ in range(5))
        first, marker = registry.list_distributions("", 3)
        assert [item.id for item in first] == ids[:3]
        assert marker == ids[2]
        rest, end = registry.list_distributions(marker, 3)
        assert [item.id for item in rest] == ids[3:]
        assert end is None


class TestAliases:
    def test_an_alias_belongs_to_one_distribution_whatever_its_case(self, registry: DistributionRegistry) -> None:
        registry.create(config(aliases=("www.example.com",)))
        with pytest.raises(CNAMEAlreadyExists):
            registry.create(config(aliases=("WWW.example.com",)))

    def test_a_refused_create_leaves_nothing_behind(self, registry: DistributionRegistry) -> None:
        registry.create(config(aliases=("taken.example.com",)))
        with pytest.raises(CNAMEAlreadyExists):
            registry.create(config(aliases=("free.example.com", "taken.example.com")))
        registry.create(config(aliases=("free.example.com",)))
        assert len(registry.all()) == 2

    def test_updates_and_deletes_release_aliases(self, registry: DistributionRegistry) -> None:
        created = registry.create(config(aliases=("a.example.com",), enabled=False))
        updated = registry.update(created.id, dataclasses.replace(created.config, aliases=("b.example.com",)),
                                  created.etag)
        registry.create(config(aliases=("a.example.com",)))
        registry.delete(created.id, updated.etag)
        registry.create(config(aliases=("b.example.com",)))

    def test_two_processes_cannot_both_claim_an_alias(self, tmp_path: Path, registry: DistributionRegistry) -> None:
        other = DistributionRegistry(tmp_path)
        try:
            registry.create(config(aliases=("shared.example.com",)))
            with pytest.raises(CNAMEAlreadyExists):
                other.create(config(aliases=("shared.example.com",)))
        finally:
            other.close()


class TestInvalidations:
    def test_same_reference_same_paths_is_the_same_invalidation(self, registry: DistributionRegistry) -> None:
        distribution = registry.create(config())
        first, created = registry.create_invalidation(distribution.id, "ref", ("/a", "/b/*"))
        again, created_again = registry.create_invalidation(distribution.id, "ref", ("/a", "/b/*"))
        assert (created, created_again) == (True, False)
        assert again == first
        assert first.status == "Completed"
        with pytest.raises(InvalidationBatchAlreadyExists):
            registry.create_invalidation(distribution.id, "ref", ("/c",))

    def test_unknown_ids(self, registry: DistributionRegistry) -> None:
        distribution = registry.create(config())
        with pytest.raises(NoSuchInvalidation):
            registry.get_invalidation(distribution.id, "I0NOSUCH")
        with pytest.raises(NoSuchDistribution):
            registry.create_invalidation("E0NOSUCH", "ref", ("/a",))

    def test_edges_follow_paths_by_increasing_sequence(self, registry: DistributionRegistry) -> None:
        one = registry.create(config())
        two = registry.create(config())
        registry.create_invalidation(one.id, "r1", ("/a", "/images/*"))
        registry.create_invalidation(two.id, "r2", ("/b",))
        registry.create_invalidation(one.id, "r1", ("/a", "/images/*"))  # a repeat records nothing new
        feed, rows = registry.invalidations_since(0)
        assert [(distribution, path) for _, distribution, path in rows] == [
            (one.id, "/a"), (one.id, "/images/*"), (two.id, "/b")]
        seqs = [seq for seq, _, _ in rows]
        assert seqs == sorted(seqs)
        assert len(set(seqs)) == 3
        assert registry.invalidations_since(seqs[1]) == (feed, rows[2:])
        assert registry.invalidations_since(0, limit=1) == (feed, rows[:1])
        assert registry.invalidations_since(seqs[-1]) == (feed, [])

    def test_each_database_has_a_feed_of_its_own(self, registry: DistributionRegistry, tmp_path: Path) -> None:
        """An edge tells a server's database made again (numbered from 1 again) by its feed."""
        again = DistributionRegistry(tmp_path / "again")
        try:
            assert len(registry.invalidations_since(0)[0]) == 16
            assert again.invalidations_since(0)[0] != registry.invalidations_since(0)[0]
        finally:
            again.close()

    def test_a_path_naming_the_default_root_object_invalidates_the_root_too(
            self, registry: DistributionRegistry) -> None:
        """DeveloperGuide/Invalidation.html: the default root object is invalidated by its own
        path, and edges keep what `/` answered under `/`."""
        rooted = registry.create(config(default_root_object="docs/index.html"))
        plain = registry.create(config())
        registry.create_invalidation(rooted.id, "r1", ("/docs/index.html",))
        registry.create_invalidation(rooted.id, "r2", ("/docs/*", "/other.html"))
        registry.create_invalidation(rooted.id, "r3", ("/*",))
        registry.create_invalidation(plain.id, "r4", ("/docs/index.html",))
        assert [path for _, _, path in registry.invalidations_since(0)[1]] == [
            "/docs/index.html", "/",
            "/docs/*", "/other.html", "/",
            "/*",  # which already covers the root
            "/docs/index.html"]
        recorded = registry.list_invalidations(rooted.id)[0]
        assert [item.paths for item in recorded] == [("/*",), ("/docs/*", "/other.html"), ("/docs/index.html",)]

    def test_listing_is_newest_first(self, registry: DistributionRegistry) -> None:
        distribution = registry.create(config())
        ids = [registry.create_invalidation(distribution.id, f"r{n}", (f"/{n}",))[0].id for n in range(3)]
        page, marker = registry.list_invalidations(distribution.id, "", 2)
        assert [item.id for item in page] == [ids[2], ids[1]]
        assert marker == ids[1]
        rest, end = registry.list_invalidations(distribution.id, marker, 2)
        assert [item.id for item in rest] == [ids[0]]
        assert end is None
