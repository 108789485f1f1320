"""What the function registry holds about functions: each version's configuration and code,
aliases, and the account's usage."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from .packages import StoredCode
from .records import DEFAULT_EPHEMERAL, DEFAULT_MEMORY, DEFAULT_TIMEOUT, LoggingConfig


@dataclass(frozen=True, slots=True)
class FunctionLayer:
    """A layer version as a function version uses it: its package is kept while the version
    uses it, whether or not the layer version is deleted."""

    arn: str  # the layer version's ARN
    code_hex: str  # its package's SHA-256 (the code store's name for it)
    code_size: int  # bytes of its zip


def layer_hexes(layers: tuple[FunctionLayer, ...]) -> tuple[str, ...]:
    """The layers' packages by their code store names, in the order they are laid over /opt."""
    return tuple(layer.code_hex for layer in layers)


@dataclass(frozen=True, slots=True)
class Configuration:
    """What CreateFunction and UpdateFunctionConfiguration set."""

    runtime: str
    handler: str
    role: str
    description: str = ""
    timeout: int = DEFAULT_TIMEOUT
    memory_size: int = DEFAULT_MEMORY
    ephemeral_storage: int = DEFAULT_EPHEMERAL
    environment: dict[str, str] = field(default_factory=dict)
    architectures: tuple[str, ...] = ("x86_64",)
    layers: tuple[FunctionLayer, ...] = ()  # in the order they are laid over /opt
    # Kept and answered, not acted on (no X-Ray, KMS, SQS or SNS here): TracingConfig.Mode,
    # KMSKeyArn, DeadLetterConfig.TargetArn.
    tracing_mode: str = "PassThrough"
    kms_key_arn: str | None = None
    dead_letter_target: str | None = None
    logging: LoggingConfig = field(default_factory=LoggingConfig)


@dataclass(frozen=True, slots=True)
class FunctionRecord:
    """One version of a function as the registry holds it."""

    name: str
    version: str
    config: Configuration
    code: StoredCode
    revision_id: str
    last_modified: str  # Lambda's format: 2024-01-31T12:34:56.789+0000
    reserved_concurrency: int | None = None

    @property
    def environment_revision(self) -> str:
        """Its code and configuration as last updated, as one id: what its environments are
        built from. Not the RevisionId, which a permission change or a publish renews too while
        Lambda keeps the warm and provisioned environments."""
        return hashlib.sha256(repr((self.config, self.code, self.last_modified)).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Alias:
    function_name: str
    name: str
    function_version: str
    description: str
    weights: dict[str, float]  # AdditionalVersionWeights
    revision_id: str


@dataclass(frozen=True, slots=True)
class Usage:
    function_count: int
    total_code_size: int
    reserved: int  # the sum of every function's reserved concurrency


def lambda_timestamp(now: float | None = None) -> str:
    """LastModified as Lambda writes it (ISO 8601 with milliseconds and +0000)."""
    now = time.time() if now is None else now
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}+0000"


