"""The copy-source condition a refused copy names in PreconditionFailed's Condition."""

from __future__ import annotations

import pytest

from strato.api.s3.handlers.copy import _failed_condition
from strato.http.conditionals import format_http_date

ETAG = "0123456789abcdef0123456789abcdef"
MODIFIED = 1_700_000_000.0
EARLIER, LATER = format_http_date(MODIFIED - 3600), format_http_date(MODIFIED + 3600)


@pytest.mark.parametrize(("headers", "named"), [
    pytest.param({"if-match": '"other"', "if-none-match": f'"{ETAG}"'}, "x-amz-copy-source-If-Match",
                 id="if-match-is-evaluated-first"),
    pytest.param({"if-match": f'"{ETAG}"', "if-unmodified-since": EARLIER, "if-none-match": f'"{ETAG}"'},
                 "x-amz-copy-source-If-None-Match", id="a-true-if-match-overrides-if-unmodified-since"),
    pytest.param({"if-none-match": '"other"', "if-modified-since": LATER, "if-unmodified-since": EARLIER},
                 "x-amz-copy-source-If-Unmodified-Since", id="a-false-if-unmodified-since-without-if-match"),
    pytest.param({"if-modified-since": LATER}, "x-amz-copy-source-If-Modified-Since",
                 id="if-modified-since-alone"),
])
def test_the_first_condition_that_fails_in_order_of_evaluation_is_named(headers: dict[str, str], named: str) -> None:
    assert _failed_condition(headers, ETAG, MODIFIED) == named
