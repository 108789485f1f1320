"""`strato edge`'s settings from its flags over the environment: trusting a TLS proxy's
X-Forwarded-Proto (off unless the flag or STRATO_EDGE_TRUST_FORWARDED_PROTO turns it on), as
`strato serve` does."""

from __future__ import annotations

from pathlib import Path

import pytest

from strato.cli import _parser, edge_settings
from strato.config import EdgeSettings, parse_size


def settings(*flags: str, **environ: str) -> EdgeSettings:
    return edge_settings(_parser().parse_args(["edge", "--origin", "http://10.0.0.5:9000", *flags]), environ)


class TestTrustingForwardedProto:
    def test_it_is_off_by_default(self) -> None:
        assert not settings().trust_forwarded_proto

    def test_the_flag_turns_it_on(self) -> None:
        assert settings("--trust-forwarded-proto").trust_forwarded_proto

    @pytest.mark.parametrize(("value", "trusted"), [("1", True), ("true", True), ("on", True), ("0", False),
                                                   ("", False)])
    def test_the_environment_turns_it_on_as_for_strato_serve(self, value: str, trusted: bool) -> None:
        assert settings(STRATO_EDGE_TRUST_FORWARDED_PROTO=value).trust_forwarded_proto is trusted


class TestOtherSettings:
    def test_flags_become_settings(self) -> None:
        found = settings("--port", "0", "--cache-size", "2G", "--rate", "5")
        assert (found.origin, found.port, found.cache_size, found.rate) == (
            "http://10.0.0.5:9000", 0, parse_size("2G"), 5.0)

    def test_an_origin_is_required(self) -> None:
        with pytest.raises(ValueError, match="--origin"):
            edge_settings(_parser().parse_args(["edge"]), {})

    @pytest.mark.parametrize("flag", ["--origin", "--invalidations-from"])
    @pytest.mark.parametrize("url", ["localhost:9000", "ftp://10.0.0.5", "http://", "http://10.0.0.5:port"])
    def test_a_url_that_is_not_http_is_refused_with_its_flag(self, flag: str, url: str) -> None:
        """Said as a message at startup, not a traceback from the origin's client."""
        with pytest.raises(ValueError, match=flag):
            settings(flag, url, AWS_ACCESS_KEY_ID="a", AWS_SECRET_ACCESS_KEY="s")

    def test_a_config_file_is_enough_and_signs_with_the_keys_the_environment_gives(self) -> None:
        """Its private origins sign with them, with or without --invalidations-from."""
        found = edge_settings(_parser().parse_args(["edge", "--config", "site.json"]),
                              {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "s", "AWS_REGION": "eu-west-1"})
        assert (found.origin, found.config, found.keys) == (None, Path("site.json"), ("a", "s", "eu-west-1"))

    def test_following_invalidations_needs_keys(self) -> None:
        with pytest.raises(ValueError, match="AWS_ACCESS_KEY_ID"):
            settings("--invalidations-from", "http://10.0.0.5:9000")
        keyed = settings("--invalidations-from", "http://10.0.0.5:9000", AWS_ACCESS_KEY_ID="a",
                         AWS_SECRET_ACCESS_KEY="s")
        assert keyed.keys == ("a", "s", "us-east-1")

    def test_a_burst_below_one_request_is_refused(self) -> None:
        """Every request takes one token: a smaller bucket could never let one through."""
        with pytest.raises(ValueError, match="--burst"):
            settings("--rate", "5", "--burst", "0.5")

    @pytest.mark.parametrize(("flags", "named"), [
        (("--rate", "-1"), "--rate"), (("--rate", "nan"), "--rate"), (("--rate", "inf"), "--rate"),
        (("--rate", "5", "--burst", "inf"), "--burst"), (("--max-concurrent-per-client", "0"), "--max-concurrent"),
    ])
    def test_limits_that_cannot_work_are_refused_with_their_flag(self, flags: tuple[str, ...], named: str) -> None:
        """Said as a message at startup, not a traceback from the limiter."""
        with pytest.raises(ValueError, match=named):
            settings(*flags)
