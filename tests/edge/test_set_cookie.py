"""Set-Cookie lines in the edge's field maps (edge/set_cookie.py): kept apart, written apart,
and passed on as a CloudFront behaviour's cookie settings say."""

from __future__ import annotations

import pytest

from strato.edge.set_cookie import field_items, passed_on

LINES = "session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT\ntheme=dark\ncsrf=1; Secure"


def test_fields_are_written_as_lines_with_each_set_cookie_apart() -> None:
    headers = {"content-type": "text/html", "set-cookie": LINES, "etag": '"e"'}
    assert list(field_items(headers)) == [
        ("content-type", "text/html"), ("set-cookie", "session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT"),
        ("set-cookie", "theme=dark"), ("set-cookie", "csrf=1; Secure"), ("etag", '"e"')]
    plain = {"content-type": "text/html"}
    assert field_items(plain) == plain.items()


@pytest.mark.parametrize(("named", "withheld", "left"), [
    (None, frozenset(), LINES),  # every cookie forwarded: every one set
    (frozenset(), frozenset(), None),  # none forwarded: none set (CloudFront removes Set-Cookie)
    (frozenset({"session", "csrf"}), frozenset(), "session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT\n"
                                                  "csrf=1; Secure"),
    (None, frozenset({"theme"}), "session=abc; Path=/; Expires=Wed, 21 Oct 2037 07:28:00 GMT\ncsrf=1; Secure"),
    (frozenset({"other"}), frozenset(), None),
])
def test_the_cookies_a_behaviour_forwards_are_the_ones_passed_on(
    named: frozenset[str] | None, withheld: frozenset[str], left: str | None
) -> None:
    headers = {"content-type": "text/html", "set-cookie": LINES}
    passed_on(headers, named, withheld)
    assert headers.get("set-cookie") == left
    assert headers["content-type"] == "text/html"
