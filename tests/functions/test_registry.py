"""The function registry: functions, versions, aliases, tags and reserved concurrency in one SQLite
file that every process opens; `resolve` is what the invoke path and the controller call."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from strato import migrations
from strato.functions.definitions import Configuration, lambda_timestamp
from strato.functions.errors import Conflict, InvalidParameter, NotFound, PreconditionFailed
from strato.functions.invoke_configs import EventInvokeConfig, EventLimits
from strato.functions.layers import LayerVersion
from strato.functions.log_groups import LogGroup
from strato.functions.packages import MAX_UNZIPPED, StoredCode
from strato.functions.records import LoggingConfig
from strato.functions.registry import Registry
from strato.functions.registry_tables import MIGRATIONS

CONFIG = Configuration(runtime="python3.11", handler="handler.handler", role="arn:aws:iam::000000000000:role/r")


def package(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handler.py", text)
    return buffer.getvalue()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry(tmp_path / "functions", "eu-west-1")
    yield opened
    opened.close()


def create(registry: Registry, name: str = "fn", code: str = "v1", publish: bool = False) -> None:
    stored = registry.packages.store_sync(package(code))
    asyncio.run(registry.create(name, CONFIG, stored, publish=publish))


class TestFunctions:
    def test_a_created_function_is_its_latest_version_with_a_revision(self, registry: Registry) -> None:
        create(registry)
        record = asyncio.run(registry.get("fn"))
        assert (record.name, record.version, record.config) == ("fn", "$LATEST", CONFIG)
        assert record.revision_id
        assert registry.arn("fn") == "arn:aws:lambda:eu-west-1:000000000000:function:fn"

    def test_a_second_create_of_the_same_name_conflicts(self, registry: Registry) -> None:
        create(registry)
        with pytest.raises(Conflict, match="already exist"):
            create(registry)

    def test_every_form_of_function_name_finds_the_function(self, registry: Registry) -> None:
        create(registry)
        for name in ("fn", "000000000000:function:fn", "arn:aws:lambda:eu-west-1:000000000000:function:fn",
                     "fn:$LATEST"):
            assert asyncio.run(registry.get(name)).name == "fn"

    def test_a_missing_function_is_not_found_by_its_arn(self, registry: Registry) -> None:
        with pytest.raises(NotFound, match=r"function:ghost$"):
            asyncio.run(registry.get("ghost"))

    def test_configuration_and_code_updates_change_the_revision_and_keep_the_rest(self, registry: Registry) -> None:
        create(registry)
        before = asyncio.run(registry.get("fn"))
        updated = asyncio.run(registry.update_configuration("fn", {"timeout": 30, "environment": {"A": "1"}}))
        assert (updated.config.timeout, updated.config.environment, updated.config.handler) == (30, {"A": "1"},
                                                                                                 CONFIG.handler)
        assert updated.revision_id != before.revision_id
        code = registry.packages.store_sync(package("v2"))
        recoded = asyncio.run(registry.update_code("fn", code))
        assert recoded.code == code
        assert recoded.config.timeout == 30
        assert recoded.revision_id not in (before.revision_id, updated.revision_id)

    def test_an_update_naming_an_old_revision_fails_its_precondition(self, registry: Registry) -> None:
        create(registry)
        old = asyncio.run(registry.get("fn")).revision_id
        asyncio.run(registry.update_configuration("fn", {"timeout": 5}, revision_id=old))
        with pytest.raises(PreconditionFailed):
            asyncio.run(registry.update_configuration("fn", {"timeout": 6}, revision_id=old))

    def test_functions_list_in_pages_by_name(self, registry: Registry) -> None:
        for name in ("c", "a", "e", "b", "d"):
            create(registry, name)
        names: list[str] = []
        marker: str | None = None
        while True:
            page, marker = asyncio.run(registry.list_functions(marker, 2))
            names.extend(record.name for record in page)
            if marker is None:
                break
        assert names == ["a", "b", "c", "d", "e"]

    def test_listing_every_version_pages_through_versions_too(self, registry: Registry) -> None:
        create(registry, "a", publish=True)
        create(registry, "b")
        seen: list[tuple[str, str]] = []
        marker: str | None = None
        while True:
            page, marker = asyncio.run(registry.list_functions(marker, 1, all_versions=True))
            seen.extend((record.name, record.version) for record in page)
            if marker is None:
                break
        assert seen == [("a", "$LATEST"), ("a", "1"), ("b", "$LATEST")]

    def test_deleting_a_function_deletes_its_versions_and_aliases(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        asyncio.run(registry.delete("fn"))
        with pytest.raises(NotFound):
            asyncio.run(registry.get("fn"))
        create(registry)
        assert [r.version for r in asyncio.run(registry.list_versions("fn", None, 50))[0]] == ["$LATEST"]


class TestVersions:
    def test_publishing_numbers_versions_and_an_unchanged_latest_is_not_published_again(
        self, registry: Registry
    ) -> None:
        create(registry)
        first = asyncio.run(registry.publish_version("fn"))
        assert first.version == "1"
        assert asyncio.run(registry.publish_version("fn")).version == "1"
        asyncio.run(registry.update_configuration("fn", {"memory_size": 256}))
        second = asyncio.run(registry.publish_version("fn", description="bigger"))
        assert (second.version, second.config.memory_size, second.config.description) == ("2", 256, "bigger")
        assert asyncio.run(registry.get("fn", "1")).config.memory_size == 128
        versions, _ = asyncio.run(registry.list_versions("fn", None, 50))
        assert [record.version for record in versions] == ["$LATEST", "1", "2"]

    def test_publishing_with_another_code_sha256_is_refused(self, registry: Registry) -> None:
        create(registry)
        with pytest.raises(InvalidParameter, match="CodeSHA256"):
            asyncio.run(registry.publish_version("fn", code_sha256="AAAA"))

    def test_a_version_can_be_deleted_but_not_latest_nor_one_an_alias_uses(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.update_code("fn", registry.packages.store_sync(package("v2")), publish=True))
        asyncio.run(registry.create_alias("fn", "live", "2"))
        with pytest.raises(InvalidParameter, match="LATEST"):
            asyncio.run(registry.delete("fn", "$LATEST"))
        with pytest.raises(Conflict, match="live"):
            asyncio.run(registry.delete("fn", "2"))
        asyncio.run(registry.delete("fn", "1"))
        with pytest.raises(NotFound, match=r"fn:1$"):
            asyncio.run(registry.get("fn", "1"))


class TestAliases:
    def test_an_alias_names_a_version_and_routes_weights_to_another(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.update_code("fn", registry.packages.store_sync(package("v2")), publish=True))
        alias = asyncio.run(registry.create_alias("fn", "live", "1", "prod", {"2": 0.25}))
        assert (alias.function_version, alias.weights, alias.description) == ("1", {"2": 0.25}, "prod")
        assert asyncio.run(registry.get("fn", "live")).version == "1"
        moved = asyncio.run(registry.update_alias("fn", "live", version="2", weights={}))
        assert (moved.function_version, moved.weights, moved.description) == ("2", {}, "prod")
        assert moved.revision_id != alias.revision_id

    @pytest.mark.parametrize(("version", "weights", "match"), [
        ("7", {}, "not found"),
        ("1", {"1": 0.5}, "already included"),
        ("1", {"3": 0.5}, "not found"),
        ("$LATEST", {"2": 0.5}, "LATEST"),
    ])
    def test_invalid_targets_and_weights_are_refused(self, registry: Registry, version: str,
                                                     weights: dict[str, float], match: str) -> None:
        create(registry, publish=True)
        asyncio.run(registry.update_code("fn", registry.packages.store_sync(package("v2")), publish=True))
        with pytest.raises((InvalidParameter, NotFound), match=match):
            asyncio.run(registry.create_alias("fn", "live", version, "", weights))

    def test_aliases_list_in_pages_and_filter_by_version(self, registry: Registry) -> None:
        create(registry, publish=True)
        for name in ("b", "a", "c"):
            asyncio.run(registry.create_alias("fn", name, "1" if name != "c" else "$LATEST"))
        first, marker = asyncio.run(registry.list_aliases("fn", None, None, 2))
        rest, end = asyncio.run(registry.list_aliases("fn", None, marker, 2))
        assert ([a.name for a in first], [a.name for a in rest], end) == (["a", "b"], ["c"], None)
        only, _ = asyncio.run(registry.list_aliases("fn", "1", None, 50))
        assert [a.name for a in only] == ["a", "b"]

    def test_a_duplicate_alias_conflicts_and_a_missing_one_is_not_found(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.create_alias("fn", "live", "$LATEST"))
        with pytest.raises(Conflict):
            asyncio.run(registry.create_alias("fn", "live", "$LATEST"))
        with pytest.raises(NotFound, match="alias"):
            asyncio.run(registry.get_alias("fn", "gone"))


class TestConcurrency:
    def test_reservations_may_not_leave_less_than_100_unreserved(self, registry: Registry) -> None:
        create(registry, "a")
        create(registry, "b")
        assert asyncio.run(registry.put_concurrency("a", 800, account_limit=1000)) == 800
        with pytest.raises(InvalidParameter, match=r"minimum value of \[100\]"):
            asyncio.run(registry.put_concurrency("b", 101, account_limit=1000))
        assert asyncio.run(registry.put_concurrency("b", 100, account_limit=1000)) == 100
        assert asyncio.run(registry.put_concurrency("a", 700, account_limit=1000)) == 700  # its own is replaced
        assert asyncio.run(registry.usage()).reserved == 800
        assert asyncio.run(registry.reservations()) == {"a": 700, "b": 100}
        assert asyncio.run(registry.get_concurrency("a")) == 700
        asyncio.run(registry.delete_concurrency("a"))
        assert asyncio.run(registry.get_concurrency("a")) is None
        assert asyncio.run(registry.reservations()) == {"b": 100}


class TestResolve:
    def test_resolve_gives_the_runnable_version_with_its_code_tree(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.update_configuration("fn", {"environment": {"K": "v"}}))
        asyncio.run(registry.put_concurrency("fn", 5, account_limit=1000))
        function = registry.resolve("arn:aws:lambda:eu-west-1:000000000000:function:fn")
        record = asyncio.run(registry.get("fn"))
        assert (function.name, function.version, function.environment) == ("fn", "$LATEST", {"K": "v"})
        assert function.arn == registry.arn("fn")
        assert function.revision_id == record.environment_revision
        assert function.reserved_concurrency == 5
        assert (function.code_dir / "handler.py").read_text() == "v1"

    def test_resolve_sees_changes_made_through_another_registry(self, registry: Registry, tmp_path: Path) -> None:
        create(registry)
        assert registry.resolve("fn").timeout == 3
        other = Registry(tmp_path / "functions", "eu-west-1")
        try:
            asyncio.run(other.update_configuration("fn", {"timeout": 9}))
        finally:
            other.close()
        assert registry.resolve("fn").timeout == 9
        assert asyncio.run(registry.resolve_async("fn")).timeout == 9

    def test_resolve_sees_changes_made_by_another_process(self, registry: Registry, tmp_path: Path) -> None:
        create(registry)
        assert registry.resolve("fn").memory_size == 128
        script = (
            "import asyncio, sys; from pathlib import Path; from strato.functions.registry import Registry\n"
            "r = Registry(Path(sys.argv[1]), 'eu-west-1')\n"
            "asyncio.run(r.update_configuration('fn', {'memory_size': 512})); r.close()\n"
        )
        subprocess.run([sys.executable, "-c", script, str(tmp_path / "functions")], check=True, timeout=60)
        assert registry.resolve("fn").memory_size == 512

    def test_resolve_cached_answers_only_from_the_cache(self, registry: Registry) -> None:
        create(registry)
        assert registry.resolve_cached("fn") is None  # never resolved here: no SQLite read on this path
        assert registry.resolve("fn").timeout == 3
        assert registry.resolve_cached("arn:aws:lambda:eu-west-1:000000000000:function:fn") is not None
        asyncio.run(registry.update_configuration("fn", {"timeout": 9}))
        assert registry.resolve_cached("fn") is None  # the write dropped what was cached
        assert registry.resolve("fn").timeout == 9

    def test_resolve_cached_of_another_regions_arn_is_none_and_resolve_says_not_found(
            self, registry: Registry) -> None:
        create(registry)
        registry.resolve("fn")
        arn = "arn:aws:lambda:us-west-2:000000000000:function:fn"
        assert registry.resolve_cached(arn) is None  # the general path answers it
        with pytest.raises(NotFound, match="not reachable in this region"):
            registry.resolve(arn)

    def test_a_commit_without_its_stamp_is_still_seen_within_the_backstop(
            self, registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A writer that died between its commit and renewing the stamp: SQLite's data_version,
        asked every BACKSTOP seconds, still drops the stale route."""
        monkeypatch.setattr("strato.functions.routes.BACKSTOP", 0.0)  # asked on every use
        create(registry)
        assert registry.resolve("fn").timeout == 3
        with contextlib.closing(sqlite3.connect(tmp_path / "functions" / "functions.db")) as conn, conn:
            conn.execute("UPDATE versions SET timeout = 7 WHERE name = 'fn'")
        assert registry.resolve("fn").timeout == 7

    def test_a_weighted_alias_resolves_to_each_of_its_versions(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.update_code("fn", registry.packages.store_sync(package("v2")), publish=True))
        asyncio.run(registry.create_alias("fn", "live", "1", "", {"2": 0.5}))
        seen = {registry.resolve("fn", "live").version for _ in range(200)}
        assert seen == {"1", "2"}

    def test_an_unknown_qualifier_is_not_found(self, registry: Registry) -> None:
        create(registry)
        with pytest.raises(NotFound):
            registry.resolve("fn", "9")
        with pytest.raises(NotFound):
            registry.resolve("fn", "nosuchalias")


class TestTags:
    def test_tags_given_at_create_are_the_functions_and_every_version_shares_them(self, registry: Registry) -> None:
        stored = registry.packages.store_sync(package("v1"))
        asyncio.run(registry.create("fn", CONFIG, stored, publish=True, tags={"team": "core", "stage": ""}))
        assert asyncio.run(registry.tags("fn")) == {"stage": "", "team": "core"}
        assert asyncio.run(registry.tags("arn:aws:lambda:eu-west-1:000000000000:function:fn")) == {
            "stage": "", "team": "core"}

    def test_tagging_adds_and_replaces_and_untagging_removes_by_key(self, registry: Registry) -> None:
        create(registry)
        assert asyncio.run(registry.tags("fn")) == {}
        asyncio.run(registry.tag("fn", {"a": "1", "b": "2"}))
        asyncio.run(registry.tag("fn", {"b": "two", "c": "3"}))
        assert asyncio.run(registry.tags("fn")) == {"a": "1", "b": "two", "c": "3"}
        asyncio.run(registry.untag("fn", ["a", "missing"]))
        assert asyncio.run(registry.tags("fn")) == {"b": "two", "c": "3"}

    def test_a_function_holds_at_most_50_tags_and_a_refused_tagging_changes_nothing(
        self, registry: Registry
    ) -> None:
        create(registry)
        asyncio.run(registry.tag("fn", {f"k{i}": "v" for i in range(49)}))
        with pytest.raises(InvalidParameter, match="Number of tags exceeds function tag limit"):
            asyncio.run(registry.tag("fn", {"k0": "new", "x": "1", "y": "2"}))
        assert asyncio.run(registry.tags("fn")) == {f"k{i}": "v" for i in range(49)}
        asyncio.run(registry.tag("fn", {"k0": "new", "x": "1"}))
        assert len(asyncio.run(registry.tags("fn"))) == 50

    def test_too_many_tags_at_create_create_nothing(self, registry: Registry) -> None:
        stored = registry.packages.store_sync(package("v1"))
        with pytest.raises(InvalidParameter, match="tag limit"):
            asyncio.run(registry.create("fn", CONFIG, stored, tags={f"k{i}": "v" for i in range(51)}))
        with pytest.raises(NotFound):
            asyncio.run(registry.get("fn"))

    def test_tags_survive_updates_and_publishing(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.tag("fn", {"team": "core"}))
        asyncio.run(registry.update_configuration("fn", {"timeout": 30}))
        asyncio.run(registry.update_code("fn", registry.packages.store_sync(package("v2")), publish=True))
        asyncio.run(registry.publish_version("fn"))
        assert asyncio.run(registry.tags("fn")) == {"team": "core"}

    def test_tags_go_with_the_function_not_with_one_version(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.tag("fn", {"team": "core"}))
        asyncio.run(registry.delete("fn", "1"))
        assert asyncio.run(registry.tags("fn")) == {"team": "core"}
        asyncio.run(registry.delete("fn"))
        for call in (registry.tags("fn"), registry.tag("fn", {"a": "b"}), registry.untag("fn", ["a"])):
            with pytest.raises(NotFound, match=r"function:fn$"):
                asyncio.run(call)
        create(registry)
        assert asyncio.run(registry.tags("fn")) == {}


def grant(sid: str) -> dict[str, str]:
    return {"Sid": sid, "Effect": "Allow", "Action": "lambda:InvokeFunction"}


class TestPolicies:
    def test_statements_are_kept_in_order_and_each_change_renews_the_revision(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.add_statement("fn", None, grant("a")))
        first = asyncio.run(registry.policy("fn"))
        asyncio.run(registry.add_statement("fn", None, grant("b")))
        second = asyncio.run(registry.policy("fn"))
        assert [s["Sid"] for s in second.statements] == ["a", "b"]
        assert second.revision_id != first.revision_id
        assert json.loads(second.document()) == {"Version": "2012-10-17", "Id": "default",
                                                 "Statement": [grant("a"), grant("b")]}

    def test_a_repeated_statement_id_conflicts_within_one_qualifier_only(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.add_statement("fn", None, grant("a")))
        with pytest.raises(Conflict, match=r"^The statement id \(a\) provided already exists"):
            asyncio.run(registry.add_statement("fn", None, grant("a")))
        asyncio.run(registry.add_statement("fn", "1", grant("a")))
        assert len(asyncio.run(registry.policy("fn:1")).statements) == 1

    def test_latest_takes_no_policy_of_its_own_and_unknown_qualifiers_are_not_found(self, registry: Registry) -> None:
        create(registry)
        with pytest.raises(InvalidParameter, match=r"adding policies for \$LATEST"):
            asyncio.run(registry.add_statement("fn", "$LATEST", grant("a")))
        with pytest.raises(NotFound, match=r"function:fn:7$"):
            asyncio.run(registry.add_statement("fn", "7", grant("a")))
        with pytest.raises(NotFound, match="Cannot find alias arn"):
            asyncio.run(registry.add_statement("fn", "live", grant("a")))

    def test_removing_the_last_statement_removes_the_policy(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.add_statement("fn", None, grant("a")))
        with pytest.raises(NotFound, match=r"^Statement b is not found in resource policy\.$"):
            asyncio.run(registry.remove_statement("fn", None, "b"))
        asyncio.run(registry.remove_statement("fn", None, "a"))
        with pytest.raises(NotFound, match=r"^The resource you requested does not exist\.$"):
            asyncio.run(registry.policy("fn"))
        with pytest.raises(NotFound, match=r"^No policy is associated with the given resource\.$"):
            asyncio.run(registry.remove_statement("fn", None, "a"))

    def test_a_revision_id_must_name_the_current_policy_or_function(self, registry: Registry) -> None:
        create(registry)
        function_revision = asyncio.run(registry.get("fn")).revision_id
        asyncio.run(registry.add_statement("fn", None, grant("a"), function_revision))
        policy_revision = asyncio.run(registry.policy("fn")).revision_id
        asyncio.run(registry.add_statement("fn", None, grant("b"), policy_revision))
        with pytest.raises(PreconditionFailed):
            asyncio.run(registry.add_statement("fn", None, grant("c"), policy_revision))
        with pytest.raises(PreconditionFailed):
            asyncio.run(registry.remove_statement("fn", None, "a", "stale"))

    def test_policies_go_with_their_alias_version_or_function(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        for qualifier in (None, "1", "live"):
            asyncio.run(registry.add_statement("fn", qualifier, grant("a")))
        asyncio.run(registry.delete_alias("fn", "live"))
        asyncio.run(registry.create_alias("fn", "live", "1"))
        with pytest.raises(NotFound):
            asyncio.run(registry.policy("fn", "live"))
        asyncio.run(registry.delete("fn"))
        create(registry)
        with pytest.raises(NotFound, match=r"^The resource you requested does not exist\.$"):
            asyncio.run(registry.policy("fn"))


class TestEventInvokeConfigs:
    def test_put_replaces_update_merges_and_each_is_read_back(self, registry: Registry) -> None:
        create(registry)
        put = asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, 1, 120, on_failure="arn:x")))
        assert (put.qualifier, put.maximum_retry_attempts, put.maximum_event_age, put.on_failure) == (
            "$LATEST", 1, 120, "arn:x")
        assert asyncio.run(registry.get_event_config("fn")) == put
        updated = asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, 0), merge=True))
        assert (updated.maximum_retry_attempts, updated.maximum_event_age, updated.on_failure) == (0, 120, "arn:x")
        replaced = asyncio.run(registry.put_event_config(EventInvokeConfig("fn", "$LATEST", maximum_event_age=60)))
        assert (replaced.maximum_retry_attempts, replaced.maximum_event_age, replaced.on_failure) == (None, 60, None)

    def test_update_get_and_delete_need_a_configuration(self, registry: Registry) -> None:
        create(registry)
        message = r"^The function arn:aws:lambda:eu-west-1:000000000000:function:fn:\$LATEST doesn't have an " \
                  r"EventInvokeConfig$"
        for call in (registry.put_event_config(EventInvokeConfig("fn", None, 1), merge=True),
                     registry.get_event_config("fn"), registry.delete_event_config("fn")):
            with pytest.raises(NotFound, match=message):
                asyncio.run(call)

    def test_an_unknown_function_or_qualifier_does_not_exist(self, registry: Registry) -> None:
        create(registry)
        for config in (EventInvokeConfig("gone", None, 1), EventInvokeConfig("fn", "live", 1)):
            with pytest.raises(NotFound, match=r"^The function doesn't exist\.$"):
                asyncio.run(registry.put_event_config(config))
        with pytest.raises(NotFound, match=r"^The function doesn't exist\.$"):
            asyncio.run(registry.list_event_configs("gone", None, 50))

    def test_configurations_are_listed_by_qualifier_in_pages(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        for qualifier in (None, "1", "live"):
            asyncio.run(registry.put_event_config(EventInvokeConfig("fn", qualifier, 1)))
        page, marker = asyncio.run(registry.list_event_configs("fn", None, 2))
        assert ([c.qualifier for c in page], marker) == (["$LATEST", "1"], "1")
        page, marker = asyncio.run(registry.list_event_configs("fn", marker, 2))
        assert ([c.qualifier for c in page], marker) == (["live"], None)

    def test_event_limits_follow_the_invoked_qualifier_with_lambdas_defaults(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        asyncio.run(registry.put_event_config(EventInvokeConfig("fn", "live", 0, 60)))
        asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, maximum_event_age=90)))
        arn = registry.arn("fn")
        assert asyncio.run(registry.event_limits(f"{arn}:live")) == EventLimits(0, 60)
        assert asyncio.run(registry.event_limits(arn)) == EventLimits(2, 90)
        assert asyncio.run(registry.event_limits(f"{arn}:1")) == EventLimits(2, 21600)

    def test_configurations_go_with_their_alias_or_function(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        asyncio.run(registry.put_event_config(EventInvokeConfig("fn", "live", 1)))
        asyncio.run(registry.put_event_config(EventInvokeConfig("fn", None, 1)))
        asyncio.run(registry.delete_alias("fn", "live"))
        assert [c.qualifier for c in asyncio.run(registry.list_event_configs("fn", None, 50))[0]] == ["$LATEST"]
        asyncio.run(registry.delete("fn"))
        create(registry)
        assert asyncio.run(registry.list_event_configs("fn", None, 50)) == ([], None)


class TestSchema:
    def test_the_registry_file_is_migrated_to_the_latest_schema(self, registry: Registry) -> None:
        assert migrations.migrate(registry.path, MIGRATIONS) == migrations.latest(MIGRATIONS)

    @staticmethod
    def old_file(tmp_path: Path, version: int, *, with_version: bool = False) -> Path:
        """A registry folder whose file is at schema `version`, holding one function, 'old'
        (`with_version`: and its $LATEST, in the columns every schema since 4 has)."""
        root = tmp_path / "old"
        root.mkdir()
        migrations.migrate(root / "functions.db", MIGRATIONS, target=version)
        with contextlib.closing(sqlite3.connect(root / "functions.db")) as conn, conn:
            conn.execute("INSERT INTO functions (name) VALUES ('old')")
            if with_version:
                conn.execute("INSERT INTO versions (name, number, runtime, handler, role, description, timeout, "
                             "memory_size, ephemeral_storage, environment, architectures, code_hex, code_sha256, "
                             "code_size, revision_id, last_modified) VALUES ('old', 0, 'python3.11', 'h.h', 'r', "
                             "'', 3, 128, 512, '{}', '[\"x86_64\"]', 'ab', 'q', 1, 'rev', 'now')")
        return root

    def test_a_version_1_file_upgrades_keeping_its_functions_which_can_then_be_tagged(self, tmp_path: Path) -> None:
        upgraded = Registry(self.old_file(tmp_path, 1), "eu-west-1")
        try:
            assert asyncio.run(upgraded.tags("old")) == {}
            asyncio.run(upgraded.tag("old", {"team": "core"}))
            assert asyncio.run(upgraded.tags("old")) == {"team": "core"}
        finally:
            upgraded.close()

    def test_a_version_2_file_upgrades_and_its_functions_have_no_policy_yet(self, tmp_path: Path) -> None:
        upgraded = Registry(self.old_file(tmp_path, 2), "eu-west-1")
        try:
            with pytest.raises(NotFound, match=r"^The resource you requested does not exist\.$"):
                asyncio.run(upgraded.policy("old"))
        finally:
            upgraded.close()

    def test_a_version_4_file_upgrades_and_its_functions_have_no_layers(self, tmp_path: Path) -> None:
        root = self.old_file(tmp_path, 4, with_version=True)
        upgraded = Registry(root, "eu-west-1")
        try:
            assert asyncio.run(upgraded.get("old")).config.layers == ()
            assert upgraded.resolve("old").opt_dir is None
        finally:
            upgraded.close()

    def test_a_version_10_files_versions_upgrade_logging_text_to_their_own_group(self, tmp_path: Path) -> None:
        root = self.old_file(tmp_path, 10, with_version=True)
        upgraded = Registry(root, "eu-west-1")
        try:
            assert asyncio.run(upgraded.get("old")).config.logging == LoggingConfig()
            assert upgraded.resolve("old").logging == LoggingConfig()
        finally:
            upgraded.close()

    def test_a_version_9_files_log_groups_upgrade_unprotected(self, tmp_path: Path) -> None:
        root = self.old_file(tmp_path, 9)
        with contextlib.closing(sqlite3.connect(root / "functions.db")) as conn, conn:
            conn.execute("INSERT INTO log_groups VALUES ('/team/app', 1, 7, 'STANDARD', NULL, '{}')")
        upgraded = Registry(root, "eu-west-1")
        try:
            settings, _ = asyncio.run(upgraded.log_group("/team/app"))
            assert settings == LogGroup("/team/app", 1, 7)
            assert asyncio.run(upgraded.delete_log_group("/team/app", 2))
        finally:
            upgraded.close()

    def test_last_modified_is_in_lambdas_format(self) -> None:
        assert lambda_timestamp(1700000000.25) == "2023-11-14T22:13:20.250+0000"


def publish_layer(registry: Registry, name: str, text: str, runtimes: tuple[str, ...] = ()) -> LayerVersion:
    stored = registry.packages.store_sync(package(text))
    return asyncio.run(registry.publish_layer(name, "", runtimes, (), None, stored))


class TestLayers:
    def test_versions_are_numbered_on_and_never_reused(self, registry: Registry) -> None:
        assert [publish_layer(registry, "shared", str(i)).version for i in range(3)] == [1, 2, 3]
        asyncio.run(registry.delete_layer_version("shared", 3))
        asyncio.run(registry.delete_layer_version("shared", 3))  # gone already: no error
        assert publish_layer(registry, "shared", "again").version == 4
        with pytest.raises(NotFound):
            asyncio.run(registry.layer_version("shared", 3))

    def test_layer_archives_count_in_the_accounts_code_size(self, registry: Registry) -> None:
        """AccountUsage.TotalCodeSize: the storage used by deployment packages and layer archives."""
        create(registry)
        functions_only = asyncio.run(registry.usage()).total_code_size
        layer = publish_layer(registry, "shared", "layer")
        assert asyncio.run(registry.usage()).total_code_size == functions_only + layer.code.size
        asyncio.run(registry.delete_layer_version("shared", 1))
        assert asyncio.run(registry.usage()).total_code_size == functions_only

    def test_versions_list_newest_first_in_pages_and_by_compatibility(self, registry: Registry) -> None:
        for runtimes in (("python3.11",), ("nodejs22.x",), ("python3.11", "nodejs22.x")):
            publish_layer(registry, "shared", "-".join(runtimes), runtimes)
        first, marker = asyncio.run(registry.list_layer_versions("shared", None, None, None, 2))
        assert [v.version for v in first] == [3, 2]
        rest, end = asyncio.run(registry.list_layer_versions("shared", None, None, marker, 2))
        assert ([v.version for v in rest], end) == ([1], None)
        python, _ = asyncio.run(registry.list_layer_versions("shared", "python3.11", None, None, 50))
        assert [v.version for v in python] == [3, 1]

    def test_layers_list_by_name_with_their_newest_matching_version(self, registry: Registry) -> None:
        publish_layer(registry, "b", "b1", ("python3.11",))
        publish_layer(registry, "b", "b2", ("nodejs22.x",))
        publish_layer(registry, "a", "a1", ("nodejs22.x",))
        listed, _ = asyncio.run(registry.list_layers(None, None, None, 50))
        assert [(v.name, v.version) for v in listed] == [("a", 1), ("b", 2)]
        python, _ = asyncio.run(registry.list_layers("python3.11", None, None, 50))
        assert [(v.name, v.version) for v in python] == [("b", 1)]
        page, marker = asyncio.run(registry.list_layers(None, None, None, 1))
        assert ([v.name for v in page], marker) == (["a"], "a")

    def test_a_function_keeps_the_packages_of_its_layers(self, registry: Registry) -> None:
        one, two = publish_layer(registry, "one", "1"), publish_layer(registry, "two", "2")
        arns = [registry.layer_arn("one", 1), registry.layer_arn("two", 1)]
        layers = asyncio.run(registry.function_layers(arns))
        assert [(layer.arn, layer.code_hex) for layer in layers] == [
            (arns[0], one.code.sha256_hex), (arns[1], two.code.sha256_hex)]
        stored = registry.packages.store_sync(package("fn"))
        asyncio.run(registry.create("fn", replace(CONFIG, layers=layers), stored, publish=True))
        asyncio.run(registry.delete_layer_version("one", 1))
        function = registry.resolve("fn", "1")
        assert function.layer_dirs == (registry.packages.code_dir(one.code.sha256_hex),
                                       registry.packages.code_dir(two.code.sha256_hex))
        assert function.opt_dir is not None
        assert (function.opt_dir / "handler.py").read_text() == "2"

    @pytest.mark.parametrize(("arns", "message"), [
        (["arn:aws:lambda:eu-west-1:000000000000:layer:one:9"], "Layer version arn:aws:lambda:eu-west-1:"
                                                                "000000000000:layer:one:9 does not exist."),
        (["arn:aws:lambda:us-east-1:000000000000:layer:one:1"], "Layer version arn:aws:lambda:us-east-1:"
                                                                "000000000000:layer:one:1 does not exist."),
        (["arn:aws:lambda:eu-west-1:111111111111:layer:one:1"], "does not exist"),
        (["not an arn"], "Layer version not an arn does not exist."),
        (["arn:aws:lambda:eu-west-1:000000000000:layer:one:1"] * 2, "Two different versions of the same layer"),
        (["arn:aws:lambda:eu-west-1:000000000000:layer:one:1"] * 6, "less than or equal to 5"),
    ])
    def test_layers_a_function_cannot_use_are_refused(self, registry: Registry, arns: list[str],
                                                      message: str) -> None:
        publish_layer(registry, "one", "1")
        with pytest.raises(InvalidParameter, match=re.escape(message)):
            asyncio.run(registry.function_layers(arns))

    def test_a_statement_id_is_unique_and_revision_ids_are_checked(self, registry: Registry) -> None:
        publish_layer(registry, "one", "1")
        with pytest.raises(NotFound, match="No policy"):
            asyncio.run(registry.layer_policy("one", 1))
        revision = asyncio.run(registry.add_layer_statement("one", 1, {"Sid": "a"}, None))
        with pytest.raises(Conflict):
            asyncio.run(registry.add_layer_statement("one", 1, {"Sid": "a"}, None))
        with pytest.raises(PreconditionFailed):
            asyncio.run(registry.add_layer_statement("one", 1, {"Sid": "b"}, "stale"))
        asyncio.run(registry.add_layer_statement("one", 1, {"Sid": "b"}, revision))
        assert [s["Sid"] for s in asyncio.run(registry.layer_policy("one", 1)).statements] == ["a", "b"]
        with pytest.raises(NotFound):
            asyncio.run(registry.add_layer_statement("one", 2, {"Sid": "c"}, None))


class TestCombinedSize:
    """Lambda's quota: a function's code and all its layers unzipped are 250 MB at most together."""

    @staticmethod
    def half(registry: Registry) -> StoredCode:
        """A package of just over half the quota (zeros: a small zip)."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("handler.py", bytes(MAX_UNZIPPED // 2 + 1))
        return registry.packages.store_sync(buffer.getvalue())

    def test_a_function_whose_code_and_layers_exceed_it_is_refused(self, registry: Registry) -> None:
        half = self.half(registry)
        for name in ("a", "b"):
            asyncio.run(registry.publish_layer(name, "", (), (), None, half))
        both = asyncio.run(registry.function_layers([registry.layer_arn("a", 1), registry.layer_arn("b", 1)]))
        small = registry.packages.store_sync(package("small"))
        actual = 2 * (MAX_UNZIPPED // 2 + 1) + len("small")
        refusal = (f"Function code combined with layers exceeds the maximum allowed size of {MAX_UNZIPPED} bytes. "
                   f"The actual size is {actual} bytes.")
        with pytest.raises(InvalidParameter) as refused:
            asyncio.run(registry.create("fn", replace(CONFIG, layers=both), small))
        assert refused.value.message == refusal
        asyncio.run(registry.create("fn", replace(CONFIG, layers=both[:1]), small))  # one layer fits
        with pytest.raises(InvalidParameter) as refused:
            asyncio.run(registry.update_configuration("fn", {"layers": both}))
        assert refused.value.message == refusal
        with pytest.raises(InvalidParameter) as refused:
            asyncio.run(registry.update_code("fn", half))
        assert "The actual size is" in refused.value.message
        assert asyncio.run(registry.get("fn")).config.layers == both[:1]


class TestCodeCollection:
    """Packages no version runs any more are removed, after a grace period that covers a
    package on its way into the registry and an environment finishing its last invoke."""

    @staticmethod
    def age(registry: Registry, seconds: float) -> None:
        """Make every stored package look `seconds` old."""
        for folder in (registry.packages.zips, registry.packages.code, registry.packages.opt):
            for entry in folder.iterdir():
                old = entry.stat().st_mtime - seconds
                os.utime(entry, (old, old))

    def test_a_deleted_functions_package_goes_once_its_grace_is_over(self, registry: Registry) -> None:
        create(registry, "kept", code="kept")
        create(registry, "gone", code="gone")
        gone = asyncio.run(registry.get("gone")).code.sha256_hex
        kept = asyncio.run(registry.get("kept")).code.sha256_hex
        asyncio.run(registry.delete("gone", None))
        referenced = asyncio.run(registry.referenced_code())
        assert referenced == {kept}
        assert registry.packages.collect(referenced, grace=600) == 0  # too recent yet
        self.age(registry, 3600)
        assert registry.packages.collect(referenced, grace=600) == 2  # its tree and its zip
        assert not registry.packages.code_dir(gone).exists()
        assert not registry.packages.zip_path(gone).exists()
        assert (registry.packages.code_dir(kept) / "handler.py").read_text() == "kept"
        assert registry.packages.zip_path(kept).exists()

    def test_storing_a_package_again_restarts_its_grace(self, registry: Registry) -> None:
        create(registry, "first", code="shared")
        asyncio.run(registry.delete("first", None))
        self.age(registry, 3600)
        registry.packages.store_sync(package("shared"))  # about to be used by a new function
        assert registry.packages.collect(set(), grace=600) == 0

    def test_layers_go_once_neither_a_layer_version_nor_a_function_holds_them(self, registry: Registry) -> None:
        one = publish_layer(registry, "one", "1")
        publish_layer(registry, "two", "2")
        layers = asyncio.run(registry.function_layers([registry.layer_arn("one", 1), registry.layer_arn("two", 1)]))
        stored = registry.packages.store_sync(package("fn"))
        asyncio.run(registry.create("fn", replace(CONFIG, layers=layers), stored))
        merged = registry.resolve("fn").opt_dir
        assert merged is not None
        assert merged.is_dir()
        for name in ("one", "two"):
            asyncio.run(registry.delete_layer_version(name, 1))
        self.age(registry, 3600)
        assert registry.packages.collect(asyncio.run(registry.referenced_code()), grace=600) == 0
        asyncio.run(registry.delete("fn", None))
        assert registry.packages.collect(asyncio.run(registry.referenced_code()), grace=600) == 7
        assert not merged.exists()
        assert not registry.packages.code_dir(one.code.sha256_hex).exists()

    def test_a_layer_found_for_a_function_outlasts_its_deleted_version_until_the_function_holds_it(
            self, registry: Registry) -> None:
        one = publish_layer(registry, "one", "1")
        self.age(registry, 3600)
        layers = asyncio.run(registry.function_layers([registry.layer_arn("one", 1)]))  # a function being configured
        asyncio.run(registry.delete_layer_version("one", 1))  # meanwhile
        assert registry.packages.collect(asyncio.run(registry.referenced_code()), grace=600) == 0
        asyncio.run(registry.create("fn", replace(CONFIG, layers=layers), registry.packages.store_sync(package("fn"))))
        assert (registry.packages.code_dir(one.code.sha256_hex) / "handler.py").read_text() == "1"
        assert registry.packages.zip_path(one.code.sha256_hex).exists()

    def test_replaced_code_goes_but_published_versions_keep_theirs(self, registry: Registry) -> None:
        create(registry, "fn", code="one", publish=True)
        one = asyncio.run(registry.get("fn")).code.sha256_hex
        stored = registry.packages.store_sync(package("two"))
        asyncio.run(registry.update_code("fn", stored))
        self.age(registry, 3600)
        assert registry.packages.collect(asyncio.run(registry.referenced_code()), grace=600) == 0
        assert registry.packages.code_dir(one).exists()  # version 1 still runs it
