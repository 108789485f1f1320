"""CloudFront Functions in the registry, on a real SQLite file: stages and their ETags, statuses,
paging over both stages, and distributions referring to the published functions they associate."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from strato.cdn.errors import (
    FunctionInUse,
    InvalidFunctionAssociation,
    NoSuchFunctionExists,
    PreconditionFailed,
)
from strato.cdn.functions import DEPLOYED, LIVE, UNPUBLISHED, FunctionConfig, function_arn
from strato.cdn.records import FunctionAssociation
from strato.cdn.registry import DistributionRegistry

from .samples import behavior, config

CODE = b"function handler(event) { return event.request; }"
CONFIG = FunctionConfig("", "cloudfront-js-2.0")


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DistributionRegistry]:
    opened = DistributionRegistry(tmp_path)
    yield opened
    opened.close()


def test_each_stage_has_its_etag_and_the_status_follows_publishing(registry: DistributionRegistry) -> None:
    functions = registry.functions
    created = functions.create("spa", CONFIG, CODE)
    assert created.status == UNPUBLISHED
    live = functions.publish("spa", created.etag)
    assert (live.stage, live.status, live.code) == (LIVE, DEPLOYED, CODE)
    assert live.etag != created.etag
    assert functions.describe("spa").status == DEPLOYED
    updated = functions.update("spa", CONFIG, CODE + b"\n", created.etag)
    assert updated.status == UNPUBLISHED
    assert functions.describe("spa", LIVE).code == CODE
    with pytest.raises(PreconditionFailed):
        functions.publish("spa", created.etag)


def test_listing_both_stages_pages_without_losing_one(registry: DistributionRegistry) -> None:
    for name in ("a", "b", "c"):
        registry.functions.publish(name, registry.functions.create(name, CONFIG, CODE).etag)
    seen, marker = [], ""
    while True:
        page, next_marker = registry.functions.list_page(None, marker, 2)
        seen += [(function.name, function.stage) for function in page]
        if next_marker is None:
            break
        marker = next_marker
    assert seen == [(name, stage) for name in "abc" for stage in ("DEVELOPMENT", "LIVE")]
    assert [function.name for function in registry.functions.list_page(LIVE)[0]] == ["a", "b", "c"]


def test_a_distribution_refers_to_the_published_functions_it_associates(registry: DistributionRegistry) -> None:
    created = registry.functions.create("spa", CONFIG, CODE)
    associated = behavior(function_associations=(FunctionAssociation("viewer-request", function_arn("spa")),))
    with pytest.raises(InvalidFunctionAssociation):
        registry.create(config(default_behavior=associated))
    registry.functions.publish("spa", created.etag)
    distribution = registry.create(config(default_behavior=associated))
    with pytest.raises(FunctionInUse):
        registry.functions.delete("spa", created.etag)
    assert set(registry.functions.live(("spa", "other"))) == {"spa"}
    registry.update(distribution.id, config(caller_reference=distribution.config.caller_reference),
                    distribution.etag)
    registry.functions.delete("spa", created.etag)
    with pytest.raises(NoSuchFunctionExists):
        registry.functions.describe("spa", LIVE)
