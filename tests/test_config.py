"""Settings from the environment: what a start refuses before it serves anything."""

from __future__ import annotations

import pytest

from strato.config import Settings, parse_size


def test_root_keys_from_the_environment_are_taken() -> None:
    settings = Settings.from_env({"STRATO_ROOT_ACCESS_KEY": "MYROOTKEY", "STRATO_ROOT_SECRET_KEY": "s3cret"})
    assert (settings.root_access_key, settings.root_secret_key) == ("MYROOTKEY", "s3cret")


def test_one_root_key_without_the_other_is_refused() -> None:
    with pytest.raises(ValueError, match="set both"):
        Settings.from_env({"STRATO_ROOT_ACCESS_KEY": "MYROOTKEY"})


def test_a_root_access_key_spelled_as_a_functions_key_is_refused() -> None:
    with pytest.raises(ValueError, match="may not begin with STRATOFN"):
        Settings.from_env({"STRATO_ROOT_ACCESS_KEY": "STRATOFNresize", "STRATO_ROOT_SECRET_KEY": "s3cret"})


@pytest.mark.parametrize("text", ["inf", "nan", "1e400", "-1G", "G", "ten"])
def test_a_size_that_is_no_number_of_bytes_is_refused_with_a_message(text: str) -> None:
    """`strato edge --cache-size inf` ended in an OverflowError traceback."""
    with pytest.raises(ValueError, match="not a size"):
        parse_size(text)
