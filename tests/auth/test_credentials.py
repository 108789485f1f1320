"""The account's keys: the root's, and each function's own, derived from the root secret."""

from __future__ import annotations

import secrets

import pytest

from strato.auth.credentials import AccountCredentials, Identity, function_identity, generate_root, refuse_function
from strato.auth.errors import AuthError

ROOT = Identity("STRATOROOTKEY0000000", "root-secret", "root")


def test_a_functions_keys_name_it_and_are_the_same_each_time() -> None:
    keys = function_identity(ROOT, "resize-images")
    assert keys.access_key == "STRATOFNresize-images"
    assert keys.function == "resize-images"
    assert function_identity(ROOT, "resize-images") == keys


def test_each_function_has_another_secret_and_so_does_another_root() -> None:
    secrets = {function_identity(ROOT, "a").secret_key, function_identity(ROOT, "b").secret_key,
               function_identity(Identity(ROOT.access_key, "other-root-secret", "root"), "a").secret_key}
    assert len(secrets) == 3
    assert ROOT.secret_key not in function_identity(ROOT, "a").secret_key


def every_function(name: str) -> bool:
    return True


def test_the_store_knows_the_root_and_every_function_that_exists() -> None:
    store = AccountCredentials(ROOT, {"my_fn-2"}.__contains__)
    assert store.lookup(ROOT.access_key) == ROOT
    assert ROOT.function is None
    assert store.lookup("STRATOFNmy_fn-2") == function_identity(ROOT, "my_fn-2")
    assert store.lookup("STRATOFNdeleted") is None


@pytest.mark.parametrize("key", ["STRATOFN", "STRATOFN" + "x" * 65, "STRATOFNbad.name", "AKIDEXAMPLE", ""])
def test_keys_that_name_no_possible_function_are_unknown(key: str) -> None:
    assert AccountCredentials(ROOT, every_function).lookup(key) is None


def test_the_root_keys_win_over_a_function_key_of_the_same_spelling() -> None:
    root = Identity("STRATOFNabc", "root-secret", "root")
    assert AccountCredentials(root, every_function).lookup("STRATOFNabc") == root


def test_a_functions_keys_are_refused_what_the_root_may_do() -> None:
    refuse_function(ROOT, "lambda:GetFunction", "*")  # the root: nothing refused
    with pytest.raises(AuthError) as caught:
        refuse_function(function_identity(ROOT, "fn"), "lambda:GetFunction", "arn:aws:lambda:::function:other")
    assert (caught.value.code, caught.value.status) == ("AccessDenied", 403)
    assert "function fn is not authorized to perform: lambda:GetFunction" in caught.value.message


def test_generated_root_keys_never_take_a_functions_key(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn = iter("FN" + "ABCDEFGHIJKL" + "Q" * 14)  # the first draw spells STRATOFNABCDEFGHIJKL
    monkeypatch.setattr(secrets, "choice", lambda alphabet: next(drawn))
    access, _ = generate_root()
    assert access == "STRATO" + "Q" * 14
    root = Identity(access, "root-secret", "root")
    assert AccountCredentials(root, every_function).lookup("STRATOFNABCDEFGHIJKL") == \
        function_identity(root, "ABCDEFGHIJKL")
