"""Runtime management and recursion configurations through boto3 against a real strato server:
kept per version and per function, answered as Lambda answers them, refused in Lambda's form."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.lambda_helpers import deployed

CODE = "def handler(event, context):\n    return event\n"


def test_a_version_updates_its_runtime_automatically_until_told_otherwise(lam: Any) -> None:
    with deployed(lam, CODE) as name:
        version = lam.publish_version(FunctionName=name)["Version"]
        got = lam.get_runtime_management_config(FunctionName=name)
        assert got["UpdateRuntimeOn"] == "Auto"
        assert "RuntimeVersionArn" not in got
        pinned = lam.get_function_configuration(FunctionName=name, Qualifier=version)[
            "RuntimeVersionConfig"]["RuntimeVersionArn"]
        put = lam.put_runtime_management_config(FunctionName=name, Qualifier=version, UpdateRuntimeOn="Manual",
                                                RuntimeVersionArn=pinned)
        assert (put["UpdateRuntimeOn"], put["RuntimeVersionArn"]) == ("Manual", pinned)
        assert put["FunctionArn"].endswith(f":function:{name}:{version}")
        again = lam.get_runtime_management_config(FunctionName=name, Qualifier=version)
        assert (again["UpdateRuntimeOn"], again["RuntimeVersionArn"]) == ("Manual", pinned)
        assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"  # $LATEST's own
        lam.put_runtime_management_config(FunctionName=name, UpdateRuntimeOn="FunctionUpdate")
        assert lam.get_runtime_management_config(FunctionName=name, Qualifier="$LATEST")[
            "UpdateRuntimeOn"] == "FunctionUpdate"


@pytest.mark.parametrize(("fields", "code"), [
    ({"UpdateRuntimeOn": "Sometimes"}, "InvalidParameterValueException"),
    ({"UpdateRuntimeOn": "Manual"}, "InvalidParameterValueException"),  # without the version
    ({"UpdateRuntimeOn": "Manual", "RuntimeVersionArn": "arn:aws:lambda:us-east-1::runtime:" + "0" * 64},
     "InvalidParameterValueException"),
    ({"UpdateRuntimeOn": "Auto", "RuntimeVersionArn": "arn:aws:lambda:us-east-1::runtime:" + "0" * 64},
     "InvalidParameterValueException"),
    ({"UpdateRuntimeOn": "Auto", "Qualifier": "99"}, "ResourceNotFoundException"),
    ({"UpdateRuntimeOn": "Auto", "Qualifier": "live"}, "InvalidParameterValueException"),  # an alias
])
def test_bad_runtime_management_configurations_are_refused(lam: Any, fields: dict[str, str], code: str) -> None:
    with deployed(lam, CODE) as name:
        with pytest.raises(ClientError) as refused:
            lam.put_runtime_management_config(FunctionName=name, **fields)
        assert error_of(refused)[0] == code
        assert lam.get_runtime_management_config(FunctionName=name)["UpdateRuntimeOn"] == "Auto"


def test_a_deleted_version_takes_its_configuration_with_it(lam: Any) -> None:
    with deployed(lam, CODE) as name:
        version = lam.publish_version(FunctionName=name)["Version"]
        lam.put_runtime_management_config(FunctionName=name, Qualifier=version, UpdateRuntimeOn="FunctionUpdate")
        lam.delete_function(FunctionName=name, Qualifier=version)
        with pytest.raises(ClientError) as gone:
            lam.get_runtime_management_config(FunctionName=name, Qualifier=version)
        assert error_of(gone) == ("ResourceNotFoundException", 404)


def test_recursion_is_terminated_unless_allowed(lam: Any) -> None:
    with deployed(lam, CODE) as name:
        assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Terminate"
        assert lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Allow")["RecursiveLoop"] == "Allow"
        assert lam.get_function_recursion_config(FunctionName=name)["RecursiveLoop"] == "Allow"
        with pytest.raises(ClientError) as bad:
            lam.put_function_recursion_config(FunctionName=name, RecursiveLoop="Forever")
        assert error_of(bad) == ("InvalidParameterValueException", 400)
        with pytest.raises(ClientError) as qualified:
            lam.get_function_recursion_config(FunctionName=f"{name}:$LATEST")
        assert error_of(qualified) == ("InvalidParameterValueException", 400)
    with pytest.raises(ClientError) as missing:
        lam.get_function_recursion_config(FunctionName=name)
    assert error_of(missing) == ("ResourceNotFoundException", 404)
