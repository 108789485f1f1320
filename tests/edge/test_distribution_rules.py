"""The serve edge's RuleSource: the rules of a request's behaviour, from a real registry."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from strato.cdn.records import KeyGroupConfig, PublicKeyConfig, TrustedGroups
from strato.cdn.registry import DistributionRegistry
from strato.cdn.resources import KEY_GROUP, PUBLIC_KEY
from strato.edge.distributions import DEFAULT_DISTRIBUTION, DistributionOrigin, OriginKeys
from strato.edge.rules import OPEN
from tests.cdn.samples import behavior, config


def pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def signed_url(key_id: str, key: rsa.RSAPrivateKey, url: str) -> str:
    signer = CloudFrontSigner(key_id, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
    return str(signer.generate_presigned_url(url, date_less_than=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)))


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DistributionRegistry]:
    opened = DistributionRegistry(tmp_path)
    yield opened
    opened.close()


@pytest.fixture
def source(registry: DistributionRegistry) -> Iterator[DistributionOrigin]:
    origin = DistributionOrigin(registry, "http://127.0.0.1:9", OriginKeys("AK", "SK", "us-east-1"), refresh=0)
    yield origin
    asyncio.run(origin.close())


def test_a_host_no_distribution_claims_gets_the_default_distribution(source: DistributionOrigin) -> None:
    """Open, but asking S3 again after its access recheck (docs/edge-caching.md)."""
    assert source.rules("elsewhere.example.com", "/a") is DEFAULT_DISTRIBUTION
    assert dataclasses.replace(DEFAULT_DISTRIBUTION, revalidate_after=None) == OPEN


def test_each_behaviour_has_its_rules_and_changes_are_seen(registry: DistributionRegistry,
                                                           source: DistributionOrigin) -> None:
    created = registry.create(config(behavior(pattern="/api/*", allowed_methods=("GET", "HEAD", "OPTIONS")),
                                     aliases=("shop.example.com",)))
    api = source.rules("Shop.Example.com:8080", "/api/items")
    assert api.site == created.id
    assert api.allowed_methods == frozenset({"GET", "HEAD", "OPTIONS"})
    assert source.rules("shop.example.com", "/index.html").allowed_methods == frozenset({"GET", "HEAD"})
    assert source.rules(created.domain_name, "/api/x").site == created.id
    updated = dataclasses.replace(created.config, enabled=False)
    registry.update(created.id, updated, created.etag)
    assert source.rules("shop.example.com", "/api/items") is DEFAULT_DISTRIBUTION


def test_a_signed_behaviour_trusts_its_key_groups_keys_as_they_change(registry: DistributionRegistry,
                                                                      source: DistributionOrigin) -> None:
    first, second = (rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(2))
    key = registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref", "first", pem(first)))
    group = registry.resources.create(KEY_GROUP, KeyGroupConfig("media", (key.id,)))
    registry.create(config(behavior(pattern="/media/*", trusted_key_groups=TrustedGroups(True, (group.id,))),
                           aliases=("video.example.com",)))
    url = "http://video.example.com/media/a.mp4"
    assert source.rules("video.example.com", "/about").signatures is None
    guard = source.rules("video.example.com", "/media/a.mp4").signatures
    assert guard is not None
    assert guard.refusal(url, 0, "") == "missing-signature"
    assert guard.refusal(signed_url(key.id, first, url), 0, "") is None
    other = registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref2", "second", pem(second)))
    assert guard.refusal(signed_url(other.id, second, url), 0, "") == "unknown-key"
    registry.resources.update(KEY_GROUP, group.id, KeyGroupConfig("media", (key.id, other.id)), group.etag)
    guard = source.rules("video.example.com", "/media/a.mp4").signatures
    assert guard is not None
    assert guard.refusal(signed_url(other.id, second, url), 0, "") is None
