"""The viewer strato's edge vouches for to strato's S3: made by the root keys alone, for a few
minutes, and for the address and protocol it names only."""

from __future__ import annotations

from strato.auth.credentials import Identity, function_identity
from strato.auth.viewer import MAX_SKEW, vouch, vouched

ROOT = Identity("STRATOROOTKEY", "root-secret", "root")
FUNCTION = function_identity(ROOT, "thumbnails")
NOW = 1_800_000_000.0


def lookup(access_key: str) -> Identity | None:
    return {ROOT.access_key: ROOT, FUNCTION.access_key: FUNCTION}.get(access_key)


def test_the_root_keys_vouch_for_an_address_and_protocol() -> None:
    assert vouched(vouch(ROOT.access_key, ROOT.secret_key, "192.0.2.7", True, NOW), lookup, NOW) == (
        "192.0.2.7", "https")
    assert vouched(vouch(ROOT.access_key, ROOT.secret_key, "2001:db8::1", False, NOW), lookup, NOW + 5) == (
        "2001:db8::1", "http")


def test_another_secret_or_a_functions_keys_vouch_for_no_one() -> None:
    assert vouched(vouch(ROOT.access_key, "guessed", "192.0.2.7", False, NOW), lookup, NOW) is None
    assert vouched(vouch(FUNCTION.access_key, FUNCTION.secret_key, "192.0.2.7", False, NOW), lookup, NOW) is None
    assert vouched(vouch("UNKNOWN", ROOT.secret_key, "192.0.2.7", False, NOW), lookup, NOW) is None


def test_a_changed_claim_is_refused() -> None:
    value = vouch(ROOT.access_key, ROOT.secret_key, "192.0.2.7", False, NOW)
    assert vouched(value.replace("192.0.2.7", "192.0.2.8"), lookup, NOW) is None
    assert vouched(value.replace(" http ", " https "), lookup, NOW) is None
    assert vouched(value + " extra", lookup, NOW) is None


def test_a_claim_is_good_for_a_few_minutes_either_way() -> None:
    value = vouch(ROOT.access_key, ROOT.secret_key, "192.0.2.7", False, NOW)
    assert vouched(value, lookup, NOW + MAX_SKEW) is not None
    assert vouched(value, lookup, NOW - MAX_SKEW) is not None
    assert vouched(value, lookup, NOW + MAX_SKEW + 1) is None
    assert vouched(value, lookup, NOW - MAX_SKEW - 1) is None
