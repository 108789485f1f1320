"""Settings from the environment: what a start refuses before it serves anything."""

from __future__ import annotations

from pathlib import Path

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


@pytest.mark.parametrize(("name", "value"), [
    ("STRATO_WORKERS", "abc"), ("STRATO_WORKERS", "0"), ("STRATO_WORKERS", "1.5"),
    ("STRATO_REQUEST_TIMEOUT", "nan"), ("STRATO_REQUEST_TIMEOUT", "0"), ("STRATO_REQUEST_TIMEOUT", "inf"),
    ("STRATO_FUNCTION_CONCURRENCY", "0"), ("STRATO_FUNCTION_CONCURRENCY", "many"),
    ("STRATO_EVENT_RETRY_DELAY", "-1"), ("STRATO_EVENT_RETRY_DELAY", "nan"),
    ("STRATO_EDGE_RATE", "-5"), ("STRATO_EDGE_RATE", "inf"),
    ("STRATO_EDGE_CACHE_SIZE", "inf"), ("STRATO_EDGE_CACHE_SIZE", "nan"), ("STRATO_EDGE_MEMORY_SIZE", "lots"),
])
def test_a_number_out_of_its_range_is_refused_naming_its_variable(name: str, value: str) -> None:
    with pytest.raises(ValueError, match=name):
        Settings.from_env({name: value})


def test_numbers_within_their_range_are_taken() -> None:
    settings = Settings.from_env({"STRATO_WORKERS": "3", "STRATO_REQUEST_TIMEOUT": "2.5", "STRATO_EDGE_RATE": "0",
                                  "STRATO_EVENT_RETRY_DELAY": "0", "STRATO_EDGE_CACHE_SIZE": "1.5G"})
    assert (settings.workers, settings.request_timeout, settings.edge_rate) == (3, 2.5, None)
    assert (settings.event_retry_delay, settings.edge_cache_size) == (0.0, 3 * 1024**3 // 2)


@pytest.mark.parametrize("source", ["flag", "environment"])
def test_domains_are_host_names_in_lower_case_without_the_roots_dot(source: str) -> None:
    """A function URL's host was never recognised under `--domain Example.COM`: hosts are compared lowered."""
    given = ["S3.Example.COM.", " files.example.org", "s3.example.com"]
    settings = (Settings.from_env({}, domains=tuple(given)) if source == "flag"
                else Settings.from_env({"STRATO_DOMAIN": ",".join(given)}))
    assert settings.domains == ("s3.example.com", "files.example.org")


def test_an_empty_data_dir_or_region_variable_is_an_unset_one() -> None:
    """`STRATO_DATA_DIR=` made the current directory the data dir, and `STRATO_REGION=` no region signed for."""
    settings = Settings.from_env({"STRATO_DATA_DIR": "", "STRATO_REGION": ""})
    assert (settings.data_dir, settings.region) == (Path("strato-data"), "us-east-1")
