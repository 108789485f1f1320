"""Public keys, key groups and origin access controls in the registry: names, ETags,
references, and the key material an edge needs for signed URLs."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from strato.cdn.errors import (
    ImmutablePublicKeyFields,
    InvalidArgument,
    NoSuchResource,
    PreconditionFailed,
    ResourceAlreadyExists,
    ResourceInUse,
    TrustedKeyGroupDoesNotExist,
)
from strato.cdn.records import KeyGroupConfig, OriginAccessControlConfig, PublicKeyConfig, TrustedGroups
from strato.cdn.registry import DistributionRegistry
from strato.cdn.resources import KEY_GROUP, ORIGIN_ACCESS_CONTROL, PUBLIC_KEY

from .samples import BUCKET, WEB, behavior, config


def pem(bits: int = 2048) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


PEM = pem()


def ec_pem(curve: ec.EllipticCurve) -> str:
    key = ec.generate_private_key(curve)
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[DistributionRegistry]:
    opened = DistributionRegistry(tmp_path)
    yield opened
    opened.close()


def test_public_keys_keep_their_key_and_reference(registry: DistributionRegistry) -> None:
    created = registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref", "signer", PEM))
    assert created.id.startswith("K")
    assert len(created.id) == 14
    renamed = registry.resources.update(PUBLIC_KEY, created.id, dataclasses.replace(created.config, name="new"),
                                        created.etag)
    assert registry.resources.get(PUBLIC_KEY, created.id) == renamed
    with pytest.raises(PreconditionFailed):
        registry.resources.update(PUBLIC_KEY, created.id, renamed.config, created.etag)
    with pytest.raises(ImmutablePublicKeyFields):
        registry.resources.update(PUBLIC_KEY, created.id, dataclasses.replace(renamed.config, encoded_key=pem()),
                                  renamed.etag)


@pytest.mark.parametrize("encoded", ["not a key", pem(1024), ec_pem(ec.SECP384R1())])
def test_only_2048_bit_rsa_and_p256_ecdsa_keys_are_accepted(registry: DistributionRegistry, encoded: str) -> None:
    """API_PublicKey: "CloudFront supports signed URLs and signed cookies with RSA 2048 or ECDSA 256 key
    signatures"."""
    with pytest.raises(InvalidArgument):
        registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref", "signer", encoded))
    assert registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ec", "ec", ec_pem(ec.SECP256R1()))).id


def test_names_are_unique_per_kind(registry: DistributionRegistry) -> None:
    registry.resources.create(PUBLIC_KEY, PublicKeyConfig("a", "same", PEM))
    with pytest.raises(ResourceAlreadyExists):
        registry.resources.create(PUBLIC_KEY, PublicKeyConfig("b", "same", PEM))
    registry.resources.create(ORIGIN_ACCESS_CONTROL, OriginAccessControlConfig("same", "sigv4", "always", "s3"))


def test_key_groups_refer_to_existing_keys_which_stay_until_released(registry: DistributionRegistry) -> None:
    key = registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref", "signer", PEM))
    with pytest.raises(NoSuchResource):
        registry.resources.create(KEY_GROUP, KeyGroupConfig("group", ("K0NOSUCH",)))
    group = registry.resources.create(KEY_GROUP, KeyGroupConfig("group", (key.id,)))
    assert registry.resources.key_groups((group.id, "unknown")) == {group.id: {key.id: PEM}}
    with pytest.raises(ResourceInUse):
        registry.resources.delete(PUBLIC_KEY, key.id, key.etag)
    registry.resources.delete(KEY_GROUP, group.id, group.etag)
    registry.resources.delete(PUBLIC_KEY, key.id, key.etag)


def test_distributions_hold_their_key_groups_and_access_controls(registry: DistributionRegistry) -> None:
    key = registry.resources.create(PUBLIC_KEY, PublicKeyConfig("ref", "signer", PEM))
    group = registry.resources.create(KEY_GROUP, KeyGroupConfig("group", (key.id,)))
    oac = registry.resources.create(ORIGIN_ACCESS_CONTROL, OriginAccessControlConfig("oac", "sigv4", "always", "s3"))
    signed = behavior(pattern="/private/*", trusted_key_groups=TrustedGroups(True, (group.id,)))
    private_bucket = dataclasses.replace(BUCKET, origin_access_control_id=oac.id)
    with pytest.raises(TrustedKeyGroupDoesNotExist):
        registry.create(config(behavior(pattern="/x", trusted_key_groups=TrustedGroups(True, ("nope",)))))
    distribution = registry.create(config(signed, origins=(private_bucket, WEB), enabled=False))
    with pytest.raises(ResourceInUse):
        registry.resources.delete(KEY_GROUP, group.id, group.etag)
    with pytest.raises(ResourceInUse):
        registry.resources.delete(ORIGIN_ACCESS_CONTROL, oac.id, oac.etag)
    registry.delete(distribution.id, distribution.etag)
    registry.resources.delete(KEY_GROUP, group.id, group.etag)
    registry.resources.delete(ORIGIN_ACCESS_CONTROL, oac.id, oac.etag)
