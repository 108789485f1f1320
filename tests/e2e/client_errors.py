"""What a boto3 call refused with, in the form the e2e tests compare against."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError


def error_of(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    """The error code and HTTP status of a refused call."""
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def refused(call: Any, **kwargs: Any) -> tuple[str, int, str]:
    """The error code, status and message of a call that must fail."""
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    return (*error_of(caught), caught.value.response["Error"]["Message"])
