"""Small distribution configurations for the CDN engine's tests."""

from __future__ import annotations

import dataclasses
import uuid

from strato.cdn.records import (
    Behavior,
    Cookies,
    CustomOriginConfig,
    Distribution,
    DistributionConfig,
    Element,
    ForwardedValues,
    Origin,
    S3OriginConfig,
)

BUCKET = Origin("bucket", "photos.s3.us-east-1.amazonaws.com", s3=S3OriginConfig())
WEB = Origin("web", "origin.example.com", origin_path="/v1",
             custom=CustomOriginConfig(8081, 443, "http-only", ssl_protocols=("TLSv1.2",)))
FORWARD_NOTHING = ForwardedValues(False, Cookies("none"))


def behavior(target: str = "bucket", pattern: str | None = None, **fields: object) -> Behavior:
    base = Behavior(target, "allow-all", path_pattern=pattern, forwarded_values=FORWARD_NOTHING)
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def config(*behaviors: Behavior, aliases: tuple[str, ...] | None = None, enabled: bool = True,
           **fields: object) -> DistributionConfig:
    base = DistributionConfig(
        caller_reference=uuid.uuid4().hex, comment="", enabled=enabled, origins=(BUCKET, WEB),
        default_behavior=behavior(), behaviors=behaviors, aliases=aliases,
        extras=(Element("Logging", children=(Element("Enabled", "false"),)),),
    )
    return dataclasses.replace(base, **fields)  # type: ignore[arg-type]


def distribution(config: DistributionConfig, distribution_id: str = "E1EXAMPLE00001") -> Distribution:
    return Distribution(distribution_id, f"arn:aws:cloudfront::000000000000:distribution/{distribution_id}",
                        "E2ETAG", f"{distribution_id.lower()}.cdn.strato.local", "Deployed", 0.0, config)
