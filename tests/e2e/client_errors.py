"""What a boto3 call refused with, in the form the e2e tests compare against."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    """The error code and HTTP status of a refused call."""
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]
