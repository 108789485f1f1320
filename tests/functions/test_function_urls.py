"""Function URL configurations in the registry: one per function or alias, each with a random
id that names it, kept in the functions file and gone with its function or alias."""

from __future__ import annotations

import asyncio
import contextlib
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from strato import migrations
from strato.functions.errors import Conflict, InvalidParameter, NotFound
from strato.functions.registry import Registry
from strato.functions.registry_tables import MIGRATIONS
from tests.functions.test_registry import create

CORS = {"AllowOrigins": ["https://example.com"], "MaxAge": 60}


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    opened = Registry(tmp_path / "functions", "eu-west-1")
    yield opened
    opened.close()


class TestConfigs:
    def test_a_created_url_has_a_random_id_of_32_lowercase_letters_and_digits(self, registry: Registry) -> None:
        create(registry)
        config = asyncio.run(registry.create_url_config("fn", None, "NONE", CORS, "BUFFERED"))
        assert re.fullmatch(r"[a-z0-9]{32}", config.url_id)
        assert (config.function_name, config.qualifier, config.auth_type, config.cors) == ("fn", None, "NONE", CORS)
        assert asyncio.run(registry.url_config_by_id(config.url_id)) == config
        assert asyncio.run(registry.get_url_config("fn")) == config

    def test_a_second_url_for_the_same_qualifier_conflicts(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.create_url_config("fn", None, "NONE", None, "BUFFERED"))
        with pytest.raises(Conflict, match=r"functionArn = arn:aws:lambda:eu-west-1:000000000000:function:fn\]"):
            asyncio.run(registry.create_url_config("fn", None, "AWS_IAM", None, "BUFFERED"))

    def test_latest_and_version_numbers_cannot_have_a_url(self, registry: Registry) -> None:
        create(registry, publish=True)
        for qualifier in ("$LATEST", "1"):
            with pytest.raises(InvalidParameter, match=f"Value '{re.escape(qualifier)}' at 'qualifier'"):
                asyncio.run(registry.create_url_config("fn", qualifier, "NONE", None, "BUFFERED"))

    def test_a_missing_function_or_alias_has_no_url(self, registry: Registry) -> None:
        create(registry)
        for name, qualifier in (("nope", None), ("fn", "live")):
            with pytest.raises(NotFound, match=r"^Function does not exist$"):
                asyncio.run(registry.create_url_config(name, qualifier, "NONE", None, "BUFFERED"))
        with pytest.raises(NotFound, match=r"^The resource you requested does not exist\.$"):
            asyncio.run(registry.get_url_config("fn"))

    def test_an_update_changes_only_the_fields_given_and_keeps_the_id(self, registry: Registry) -> None:
        create(registry)
        created = asyncio.run(registry.create_url_config("fn", None, "NONE", CORS, "BUFFERED"))
        updated = asyncio.run(registry.update_url_config("fn", None, "AWS_IAM", None, None))
        assert (updated.url_id, updated.auth_type, updated.cors, updated.creation_time) == \
            (created.url_id, "AWS_IAM", CORS, created.creation_time)
        assert updated.last_modified >= created.last_modified

    def test_urls_are_listed_by_qualifier_in_pages(self, registry: Registry) -> None:
        create(registry, publish=True)
        for alias in ("a", "b"):
            asyncio.run(registry.create_alias("fn", alias, "1"))
            asyncio.run(registry.create_url_config("fn", alias, "NONE", None, "BUFFERED"))
        asyncio.run(registry.create_url_config("fn", None, "NONE", None, "BUFFERED"))
        first, marker = asyncio.run(registry.list_url_configs("fn", None, 2))
        rest, last = asyncio.run(registry.list_url_configs("fn", marker, 2))
        assert ([c.qualifier for c in first], [c.qualifier for c in rest], last) == ([None, "a"], ["b"], None)

    def test_urls_go_with_their_alias_or_function(self, registry: Registry) -> None:
        create(registry, publish=True)
        asyncio.run(registry.create_alias("fn", "live", "1"))
        live = asyncio.run(registry.create_url_config("fn", "live", "NONE", None, "BUFFERED"))
        asyncio.run(registry.create_url_config("fn", None, "NONE", None, "BUFFERED"))
        asyncio.run(registry.delete_alias("fn", "live"))
        assert asyncio.run(registry.url_config_by_id(live.url_id)) is None
        asyncio.run(registry.delete("fn"))
        create(registry)
        assert asyncio.run(registry.list_url_configs("fn", None, 50)) == ([], None)

    def test_a_deleted_url_is_not_found_again(self, registry: Registry) -> None:
        create(registry)
        asyncio.run(registry.create_url_config("fn", None, "NONE", None, "BUFFERED"))
        asyncio.run(registry.delete_url_config("fn"))
        with pytest.raises(NotFound):
            asyncio.run(registry.delete_url_config("fn"))


def test_a_version_3_file_upgrades_and_its_functions_have_no_url_yet(tmp_path: Path) -> None:
    root = tmp_path / "old"
    root.mkdir()
    migrations.migrate(root / "functions.db", MIGRATIONS, target=3)
    with contextlib.closing(sqlite3.connect(root / "functions.db")) as conn, conn:
        conn.execute("INSERT INTO functions (name) VALUES ('old')")
    upgraded = Registry(root, "eu-west-1")
    try:
        assert asyncio.run(upgraded.list_url_configs("old", None, 50)) == ([], None)
    finally:
        upgraded.close()
