"""Validation and 304 handling, point by point against RFC 9111 4.3 and 3.2."""

from __future__ import annotations

from typing import ClassVar

import pytest

from strato.edge.freshness import current_age
from strato.edge.policy import Stored, conditional_request, freshened_headers, selects
from strato.http.conditionals import format_http_date

T = 784111777.0
DATE = format_http_date(T)
LATER = format_http_date(T + 600)


def stored(**fields: str) -> Stored:
    return Stored({name.replace("_", "-"): value for name, value in fields.items()}, 200, T, T)


def validation_headers(response: Stored) -> dict[str, str]:
    """The preconditions the cache's own conditional request adds to a request with none."""
    return conditional_request({}, response) or {}


class TestValidationHeaders:
    """RFC 9111 4.3.1."""

    @pytest.mark.parametrize("etag", ['"xyzzy"', 'W/"xyzzy"', '""'])
    def test_an_etag_becomes_if_none_match_verbatim(self, etag: str) -> None:
        assert validation_headers(stored(etag=etag)) == {"if-none-match": etag}

    def test_last_modified_becomes_if_modified_since_verbatim(self) -> None:
        # RFC 9110 13.1.3: the stored value is sent as it is, whatever the format.
        assert validation_headers(stored(last_modified="Sunday, 06-Nov-94 08:49:37 GMT")) == {
            "if-modified-since": "Sunday, 06-Nov-94 08:49:37 GMT"}

    def test_both_are_sent_when_both_exist(self) -> None:
        assert validation_headers(stored(etag='"a"', last_modified=DATE)) == {
            "if-none-match": '"a"', "if-modified-since": DATE}

    @pytest.mark.parametrize("fields", [{}, {"etag": ""}, {"etag": "  "}, {"last-modified": "yesterday"},
                                        {"last-modified": "0"}])
    def test_no_usable_validator_means_no_preconditions(self, fields: dict[str, str]) -> None:
        assert validation_headers(Stored(fields, 200, T, T)) == {}


class TestConditionalRequest:
    """RFC 9111 4.3.1: the cache's own conditional request carries its validators, not the client's."""

    def test_the_stored_validators_replace_the_clients(self) -> None:
        forward = {"accept": "*/*", "if-none-match": '"client"', "if-modified-since": LATER}
        assert conditional_request(forward, stored(last_modified=DATE)) == {"accept": "*/*", "if-modified-since": DATE}

    def test_other_fields_go_as_they_are(self) -> None:
        forward = {"accept": "*/*", "if-match": '"x"', "range": "bytes=0-1"}
        assert conditional_request(forward, stored(etag='"a"')) == {**forward, "if-none-match": '"a"'}

    def test_a_stored_response_without_a_validator_makes_no_conditional_request(self) -> None:
        assert conditional_request({"if-none-match": '"client"'}, stored(last_modified="yesterday")) is None


class TestFreshenedHeaders:
    """RFC 9111 4.3.4 and 3.2: update from the 304, with 3.1 / 3.2's exceptions."""

    STORED: ClassVar[dict[str, str]] = {
        "date": DATE, "etag": '"v1"', "cache-control": "max-age=60", "content-type": "text/html",
        "content-length": "1234", "content-encoding": "gzip", "x-kept": "yes", "age": "30",
    }

    def test_fields_in_the_304_replace_the_stored_ones(self) -> None:
        fresh = freshened_headers(self.STORED, {"date": LATER, "cache-control": "max-age=600", "etag": '"v1"'})
        assert fresh["cache-control"] == "max-age=600"
        assert fresh["date"] == LATER

    def test_fields_the_304_lacks_are_kept(self) -> None:
        fresh = freshened_headers(self.STORED, {"date": LATER})
        assert fresh["x-kept"] == "yes"
        assert fresh["content-type"] == "text/html"
        assert fresh["etag"] == '"v1"'

    def test_new_fields_are_added(self) -> None:
        assert freshened_headers(self.STORED, {"date": LATER, "x-new": "1"})["x-new"] == "1"

    @pytest.mark.parametrize(("name", "value"), [
        ("content-length", "0"),  # 3.2
        ("content-encoding", "br"),  # the stored bytes depend on it (3.2)
        ("content-range", "bytes 0-1/2"),  # processed by the recipient (3.2)
        ("transfer-encoding", "chunked"),  # hop-by-hop (3.1, RFC 9110 7.6.1)
        ("connection", "close"),
        ("keep-alive", "timeout=5"),
        ("proxy-authenticate", "Basic"),  # proxy-specific (3.1)
        ("proxy-authentication-info", "x"),
    ])
    def test_excepted_fields_are_not_taken_from_the_304(self, name: str, value: str) -> None:
        fresh = freshened_headers(self.STORED, {"date": LATER, name: value})
        assert fresh.get(name) == self.STORED.get(name)

    def test_fields_named_by_connection_are_not_taken(self) -> None:
        fresh = freshened_headers(self.STORED, {"date": LATER, "connection": "x-hop", "x-hop": "1"})
        assert "x-hop" not in fresh

    def test_a_stored_age_is_dropped_unless_the_304_carries_one(self) -> None:
        assert "age" not in freshened_headers(self.STORED, {"date": LATER})
        assert freshened_headers(self.STORED, {"date": LATER, "age": "5"})["age"] == "5"

    def test_a_304_without_date_gets_the_reception_time(self) -> None:
        assert freshened_headers(self.STORED, {}, response_time=T + 600)["date"] == LATER
        assert "date" not in freshened_headers(self.STORED, {})

    def test_the_freshened_response_is_young_again(self) -> None:
        fresh = freshened_headers(self.STORED, {"etag": '"v1"'}, response_time=T + 600)
        assert current_age(fresh, request_time=T + 599, response_time=T + 600, now=T + 600) == 1

    def test_the_inputs_are_not_modified(self) -> None:
        before = dict(self.STORED)
        freshened_headers(self.STORED, {"date": LATER, "cache-control": "no-cache"})
        assert before == self.STORED


class TestSelects:
    """RFC 9111 4.3.4: which stored response a 304 updates."""

    @pytest.mark.parametrize(("stored_etag", "new_etag", "selected"), [
        ('"a"', '"a"', True),
        ('"a"', '"b"', False),
        ('W/"a"', '"a"', False),  # a strong validator needs a strong match
        ('"a"', 'W/"a"', True),  # weak comparison
        ('W/"a"', 'W/"a"', True),
        ('W/"a"', 'W/"b"', False),
    ])
    def test_entity_tags(self, stored_etag: str, new_etag: str, selected: bool) -> None:
        assert selects({"etag": stored_etag}, {"etag": new_etag}) is selected

    def test_a_strong_etag_the_stored_response_lacks_selects_nothing(self) -> None:
        assert not selects({"last-modified": DATE}, {"etag": '"a"', "last-modified": DATE})

    def test_last_modified_when_the_304_has_no_etag(self) -> None:
        assert selects({"last-modified": DATE}, {"last-modified": DATE})
        assert selects({"last-modified": DATE}, {"last-modified": "Sunday, 06-Nov-94 08:49:37 GMT"})
        assert not selects({"last-modified": DATE}, {"last-modified": LATER})
        assert not selects({}, {"last-modified": DATE})

    def test_no_validators_on_either_side(self) -> None:
        assert selects({}, {})
        assert selects({"last-modified": "junk"}, {"last-modified": "junk"})

    def test_a_304_without_validators_does_not_select_a_response_with_one(self) -> None:
        assert not selects({"etag": '"a"'}, {})
        assert not selects({"last-modified": DATE}, {"date": LATER})
