"""Lambda layers through boto3 against a real strato: publishing, reading, listing and deleting
layer versions, their permissions, and functions that run with their layers at /opt."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.client_errors import refused
from tests.e2e.lambda_helpers import ROLE, RUNTIME, call, deploy, deployed, package, python_bootstrap

SITE = f"python/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
REPORTER = """
import os, sys

def handler(event, context):
    import shared, pkg_a
    try:
        open("/opt/written", "w")
        writable = True
    except OSError:
        writable = False
    return {"shared": shared.VALUE, "pkg_a": pkg_a.NAME, "path": sys.path[:3], "opt": sorted(os.listdir("/opt")),
            "opt_writable": writable}
"""


@pytest.fixture
def layer_name(lam: Any) -> Iterator[str]:
    """A layer name of its own; every version it gets is deleted after the test."""
    name = f"layer-{uuid.uuid4().hex[:12]}"
    yield name
    for page in lam.get_paginator("list_layer_versions").paginate(LayerName=name):
        for version in page["LayerVersions"]:
            lam.delete_layer_version(LayerName=name, VersionNumber=version["Version"])


def publish(lam: Any, name: str, files: dict[str, str | bytes], **fields: Any) -> dict[str, Any]:
    answer: dict[str, Any] = lam.publish_layer_version(LayerName=name, Content={"ZipFile": package(files)}, **fields)
    return answer


class TestPublishing:
    def test_a_published_version_is_answered_as_lambda_answers_it(self, lam: Any, layer_name: str) -> None:
        zipped = package({"python/shared.py": "VALUE = 1\n"})
        answer = lam.publish_layer_version(
            LayerName=layer_name, Description="shared code", Content={"ZipFile": zipped},
            CompatibleRuntimes=["python3.12", "python3.13"], CompatibleArchitectures=["x86_64"], LicenseInfo="MIT")
        assert answer["ResponseMetadata"]["HTTPStatusCode"] == 201
        layer_arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}"
        assert answer["LayerArn"] == layer_arn
        assert answer["LayerVersionArn"] == f"{layer_arn}:1"
        assert answer["Version"] == 1
        assert answer["Description"] == "shared code"
        assert answer["CompatibleRuntimes"] == ["python3.12", "python3.13"]
        assert answer["CompatibleArchitectures"] == ["x86_64"]
        assert answer["LicenseInfo"] == "MIT"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", answer["CreatedDate"])
        assert answer["Content"]["CodeSha256"] == base64.b64encode(hashlib.sha256(zipped).digest()).decode()
        assert answer["Content"]["CodeSize"] == len(zipped)

        fetched = lam.get_layer_version(LayerName=layer_name, VersionNumber=1)
        by_arn = lam.get_layer_version_by_arn(Arn=f"{layer_arn}:1")
        for other in (fetched, by_arn):
            assert {k: v for k, v in other.items() if k not in ("Content", "ResponseMetadata")} == \
                {k: v for k, v in answer.items() if k not in ("Content", "ResponseMetadata")}
            assert other["Content"]["CodeSha256"] == answer["Content"]["CodeSha256"]

    def test_content_location_downloads_the_zip(self, lam: Any, layer_name: str) -> None:
        zipped = package({"python/shared.py": "VALUE = 2\n"})
        lam.publish_layer_version(LayerName=layer_name, Content={"ZipFile": zipped})
        location = lam.get_layer_version(LayerName=layer_name, VersionNumber=1)["Content"]["Location"]
        with urllib.request.urlopen(location) as response:
            assert response.read() == zipped

    def test_a_version_without_optional_fields_leaves_them_out(self, lam: Any, layer_name: str) -> None:
        answer = publish(lam, layer_name, {"python/shared.py": ""})
        assert answer["Description"] == ""
        assert not {"CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"} & answer.keys()

    def test_version_numbers_are_never_used_twice(self, lam: Any, layer_name: str) -> None:
        assert [publish(lam, layer_name, {"a.txt": str(i)})["Version"] for i in range(2)] == [1, 2]
        lam.delete_layer_version(LayerName=layer_name, VersionNumber=2)
        assert publish(lam, layer_name, {"a.txt": "x"})["Version"] == 3
        for version in (1, 3):
            lam.delete_layer_version(LayerName=layer_name, VersionNumber=version)
        assert publish(lam, layer_name, {"a.txt": "y"})["Version"] == 4

    def test_a_layer_may_be_named_by_its_arn(self, lam: Any, layer_name: str) -> None:
        arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}"
        assert lam.publish_layer_version(LayerName=arn, Content={"ZipFile": package({"a": ""})})["Version"] == 1
        assert lam.get_layer_version(LayerName=arn, VersionNumber=1)["LayerVersionArn"] == f"{arn}:1"

    def test_a_bad_request_is_refused_in_lambdas_words(self, lam: Any, layer_name: str) -> None:
        code, status, message = refused(lam.publish_layer_version, LayerName=layer_name,
                                        Content={"ZipFile": package({"a": ""})}, CompatibleRuntimes=["cobol85"])
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "at 'compatibleRuntimes' failed to satisfy constraint" in message
        code, status, message = refused(lam.publish_layer_version, LayerName=layer_name, Content={})
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "Please provide a source for layer code" in message
        code, status, _ = refused(lam.publish_layer_version, LayerName=layer_name,
                                  Content={"ZipFile": b"not a zip"})
        assert (code, status) == ("InvalidParameterValueException", 400)
        code, status, message = refused(lam.publish_layer_version, LayerName="no spaces allowed",
                                        Content={"ZipFile": package({"a": ""})})
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "at 'layerName' failed to satisfy constraint" in message

    def test_a_zip_with_a_file_where_it_also_has_a_directory_is_refused(self, lam: Any, layer_name: str) -> None:
        both: list[dict[str, str | bytes]] = [{"python": "a file", "python/inside.py": ""},
                                              {"bin": "a file", "bin/": ""}]
        for files in both:
            code, status, _ = refused(lam.publish_layer_version, LayerName=layer_name,
                                      Content={"ZipFile": package(files)})
            assert (code, status) == ("InvalidParameterValueException", 400)

    def test_a_layer_name_is_at_most_140_characters(self, lam: Any, layer_name: str) -> None:
        longest = layer_name + "x" * (140 - len(layer_name))
        try:
            assert publish(lam, longest, {"a": ""})["LayerArn"].endswith(f":layer:{longest}")
        finally:
            lam.delete_layer_version(LayerName=longest, VersionNumber=1)
        code, status, message = refused(lam.publish_layer_version, LayerName=longest + "x",
                                        Content={"ZipFile": package({"a": ""})})
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "at 'layerName' failed to satisfy constraint: Member must have length less than or equal to 140" \
            in message
        assert refused(lam.list_layer_versions, LayerName=longest + "x")[:2] == ("InvalidParameterValueException",
                                                                               400)

    def test_a_missing_version_is_not_found_and_deleting_it_is_no_error(self, lam: Any, layer_name: str) -> None:
        code, status, _ = refused(lam.get_layer_version, LayerName=layer_name, VersionNumber=1)
        assert (code, status) == ("ResourceNotFoundException", 404)
        arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}:1"
        assert refused(lam.get_layer_version_by_arn, Arn=arn)[:2] == ("ResourceNotFoundException", 404)
        assert lam.delete_layer_version(LayerName=layer_name, VersionNumber=1)["ResponseMetadata"][
            "HTTPStatusCode"] == 204


    def test_an_arn_that_is_no_layer_version_arn_is_a_bad_request(self, lam: Any, layer_name: str) -> None:
        """GetLayerVersionByArn validates Arn against LayerVersionArn's pattern: a malformed ARN
        is the caller's error (400), not a version that does not exist (404)."""
        for arn in ("garbage", f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}"):
            code, status, message = refused(lam.get_layer_version_by_arn, Arn=arn)
            assert (code, status) == ("InvalidParameterValueException", 400)
            assert message.startswith(f"1 validation error detected: Value '{arn}' at 'arn' failed to satisfy "
                                      "constraint: Member must satisfy regular expression pattern: ")

    def test_a_version_number_too_large_for_any_layer_is_not_found(self, lam: Any, layer_name: str) -> None:
        publish(lam, layer_name, {"a": ""})
        huge = 10**30
        arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}"
        for operation, fields in ((lam.get_layer_version, {"LayerName": layer_name, "VersionNumber": huge}),
                                  (lam.get_layer_version_policy, {"LayerName": layer_name, "VersionNumber": huge}),
                                  (lam.get_layer_version_by_arn, {"Arn": f"{arn}:{huge}"})):
            assert refused(operation, **fields)[:2] == ("ResourceNotFoundException", 404)
        assert lam.delete_layer_version(LayerName=layer_name, VersionNumber=huge)["ResponseMetadata"][
            "HTTPStatusCode"] == 204
        for marker in (str(huge), "\u00b2"):
            assert [v["Version"] for v in lam.list_layer_versions(LayerName=layer_name, Marker=marker)[
                "LayerVersions"]] == [1]
        code, status, message = refused(lam.create_function, FunctionName=f"fn-{uuid.uuid4().hex[:8]}",
                                        Runtime=RUNTIME, Role="arn:aws:iam::000000000000:role/r",
                                        Handler="handler.handler", Code={"ZipFile": package({"handler.py": ""})},
                                        Layers=[f"{arn}:{huge}"])
        assert (code, status, message) == ("InvalidParameterValueException", 400,
                                           f"Layer version {arn}:{huge} does not exist.")


class TestListing:
    def test_versions_are_listed_newest_first_and_filtered(self, lam: Any, layer_name: str) -> None:
        publish(lam, layer_name, {"a": "1"}, CompatibleRuntimes=["python3.12"], CompatibleArchitectures=["x86_64"])
        publish(lam, layer_name, {"a": "2"}, CompatibleRuntimes=["nodejs22.x"])
        publish(lam, layer_name, {"a": "3"}, CompatibleRuntimes=["python3.12", "nodejs22.x"])
        listed = lam.list_layer_versions(LayerName=layer_name)["LayerVersions"]
        assert [v["Version"] for v in listed] == [3, 2, 1]
        assert "Content" not in listed[0]
        assert "LayerArn" not in listed[0]
        python = lam.list_layer_versions(LayerName=layer_name, CompatibleRuntime="python3.12")["LayerVersions"]
        assert [v["Version"] for v in python] == [3, 1]
        arm = lam.list_layer_versions(LayerName=layer_name, CompatibleArchitecture="arm64")["LayerVersions"]
        assert arm == []
        pages = lam.get_paginator("list_layer_versions").paginate(LayerName=layer_name,
                                                                    PaginationConfig={"PageSize": 1})
        assert [[v["Version"] for v in page["LayerVersions"]] for page in pages] == [[3], [2], [1]]

    def test_a_layer_that_was_never_published_lists_no_versions(self, lam: Any) -> None:
        assert lam.list_layer_versions(LayerName=f"never-{uuid.uuid4().hex[:8]}")["LayerVersions"] == []

    def test_layers_are_listed_by_their_newest_matching_version(self, lam: Any) -> None:
        prefix = f"lst-{uuid.uuid4().hex[:8]}"
        names = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
        try:
            publish(lam, names[0], {"a": "1"}, CompatibleRuntimes=["python3.11"])
            publish(lam, names[0], {"a": "2"}, CompatibleRuntimes=["nodejs20.x"])
            publish(lam, names[1], {"b": "1"}, CompatibleRuntimes=["python3.11"])
            publish(lam, names[2], {"c": "1"})
            lam.delete_layer_version(LayerName=names[2], VersionNumber=1)
            everything = [layer for page in lam.get_paginator("list_layers").paginate(
                PaginationConfig={"PageSize": 1}) for layer in page["Layers"] if layer["LayerName"].startswith(prefix)]
            assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in everything] == \
                [(names[0], 2), (names[1], 1)]
            assert everything[0]["LayerArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{names[0]}"
            python = [layer for layer in lam.list_layers(CompatibleRuntime="python3.11")["Layers"]
                      if layer["LayerName"].startswith(prefix)]
            assert [(item["LayerName"], item["LatestMatchingVersion"]["Version"]) for item in python] == \
                [(names[0], 1), (names[1], 1)]
        finally:
            for name in names:
                for version in (1, 2):
                    lam.delete_layer_version(LayerName=name, VersionNumber=version)


class TestPermissions:
    def test_statements_are_added_read_and_removed(self, lam: Any, layer_name: str) -> None:
        publish(lam, layer_name, {"a": ""})
        version_arn = f"arn:aws:lambda:us-east-1:000000000000:layer:{layer_name}:1"
        assert refused(lam.get_layer_version_policy, LayerName=layer_name, VersionNumber=1)[:2] == \
            ("ResourceNotFoundException", 404)
        added = lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="everyone",
                                                 Action="lambda:GetLayerVersion", Principal="*",
                                                 OrganizationId="o-abcdefghij")
        assert json.loads(added["Statement"]) == {
            "Sid": "everyone", "Effect": "Allow", "Principal": "*", "Action": "lambda:GetLayerVersion",
            "Resource": version_arn, "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abcdefghij"}}}
        second = lam.add_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="one",
                                                  Action="lambda:GetLayerVersion", Principal="123456789012",
                                                  RevisionId=added["RevisionId"])
        policy = lam.get_layer_version_policy(LayerName=layer_name, VersionNumber=1)
        assert policy["RevisionId"] == second["RevisionId"]
        statements = json.loads(policy["Policy"])["Statement"]
        assert [s["Sid"] for s in statements] == ["everyone", "one"]
        assert statements[1]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}

        assert refused(lam.add_layer_version_permission, LayerName=layer_name, VersionNumber=1, StatementId="one",
                       Action="lambda:GetLayerVersion", Principal="*")[:2] == ("ResourceConflictException", 409)
        assert refused(lam.remove_layer_version_permission, LayerName=layer_name, VersionNumber=1,
                       StatementId="one", RevisionId=added["RevisionId"])[:2] == ("PreconditionFailedException", 412)
        lam.remove_layer_version_permission(LayerName=layer_name, VersionNumber=1, StatementId="one")
        assert refused(lam.remove_layer_version_permission, LayerName=layer_name, VersionNumber=1,
                       StatementId="one")[:2] == ("ResourceNotFoundException", 404)
        assert [s["Sid"] for s in json.loads(lam.get_layer_version_policy(
            LayerName=layer_name, VersionNumber=1)["Policy"])["Statement"]] == ["everyone"]

    def test_a_bad_statement_is_refused(self, lam: Any, layer_name: str) -> None:
        publish(lam, layer_name, {"a": ""})
        code, status, message = refused(lam.add_layer_version_permission, LayerName=layer_name, VersionNumber=1,
                                        StatementId="s", Action="lambda:InvokeFunction", Principal="*")
        assert (code, status) == ("InvalidParameterValueException", 400)
        assert "at 'action' failed to satisfy constraint" in message
        assert refused(lam.add_layer_version_permission, LayerName=layer_name, VersionNumber=2, StatementId="s",
                       Action="lambda:GetLayerVersion", Principal="*")[:2] == ("ResourceNotFoundException", 404)


@contextlib.contextmanager
def two_layers(lam: Any) -> Iterator[tuple[str, str]]:
    """Two published layers (version ARNs): both bring `shared` (the second's wins), the first
    a package in its site-packages."""
    names = [f"opt-{uuid.uuid4().hex[:10]}" for _ in range(2)]
    first = publish(lam, names[0], {"python/shared.py": "VALUE = 'first'\n",
                                    f"{SITE}/pkg_a/__init__.py": "NAME = 'pkg_a from the first layer'\n",
                                    "bin/tool": "#!/bin/sh\necho tool\n"})
    second = publish(lam, names[1], {"python/shared.py": "VALUE = 'second'\n"})
    try:
        yield first["LayerVersionArn"], second["LayerVersionArn"]
    finally:
        for name in names:
            lam.delete_layer_version(LayerName=name, VersionNumber=1)


class TestFunctionsWithLayers:
    def test_a_function_imports_from_its_layers_laid_over_each_other_read_only(self, lam: Any) -> None:
        with two_layers(lam) as arns, deployed(lam, REPORTER, Layers=list(arns)) as name:
            configured = lam.get_function_configuration(FunctionName=name)["Layers"]
            assert [layer["Arn"] for layer in configured] == list(arns)
            assert all(layer["CodeSize"] > 0 for layer in configured)
            _, result = call(lam, name)
        assert result["shared"] == "second"
        assert result["pkg_a"] == "pkg_a from the first layer"
        assert result["path"] == ["/var/task", f"/opt/{SITE}", "/opt/python"]
        assert result["opt"] == ["bin", "python"]
        assert result["opt_writable"] is False

    def test_symbolic_links_in_a_function_and_its_layer_resolve_inside_the_environment(self, lam: Any) -> None:
        """Packages made with `zip -y`, as for native libraries' `libx.so -> libx.so.1`: links
        within the code, and from the code into its layer's /opt."""
        name = f"links-{uuid.uuid4().hex[:10]}"
        layer = lam.publish_layer_version(LayerName=name, Content={"ZipFile": package(
            {"lib/libdemo.so.1": "the library\n", "lib/libdemo.so": "libdemo.so.1"}, links=("lib/libdemo.so",))})
        code = package({"src/main.py": "def handler(event, context):\n"
                                      "    return [open(p).read() for p in ('demo.so', '/var/task/alias.py')]\n",
                        "handler.py": "src/main.py", "alias.py": "handler.py", "demo.so": "/opt/lib/libdemo.so"},
                       links=("handler.py", "alias.py", "demo.so"))
        function = f"fn-{uuid.uuid4().hex[:12]}"
        lam.create_function(FunctionName=function, Runtime=RUNTIME, Role=ROLE, Handler="handler.handler",
                            Code={"ZipFile": code}, Layers=[layer["LayerVersionArn"]])
        try:
            _, result = call(lam, function)
        finally:
            lam.delete_function(FunctionName=function)
            lam.delete_layer_version(LayerName=name, VersionNumber=1)
        assert result[0] == "the library\n"
        assert result[1].startswith("def handler")

    def test_a_function_without_layers_sees_an_empty_opt(self, lam: Any) -> None:
        """As in Lambda: nothing of the host's /opt is imported from (its /opt/python is on
        sys.path) or run as a custom runtime's bootstrap."""
        code = "import os\n\ndef handler(event, context):\n    return os.listdir('/opt')\n"
        with deployed(lam, code) as name:
            assert call(lam, name)[1] == []

    def test_a_layers_own_boto3_is_the_one_imported(self, lam: Any) -> None:
        """The zygote preloads boto3 for fast cold starts; a function that brings its own (in a
        layer here) imports that one, as in Lambda."""
        code = "def handler(event, context):\n    import boto3\n    return boto3.__version__\n"
        name = f"own-boto3-{uuid.uuid4().hex[:8]}"
        layer = publish(lam, name, {"python/boto3/__init__.py": "__version__ = 'from the layer'\n"})
        try:
            with deployed(lam, code, Layers=[layer["LayerVersionArn"]]) as function:
                assert call(lam, function)[1] == "from the layer"
            with deployed(lam, code) as function:
                assert call(lam, function)[1] not in ("from the layer", None)
        finally:
            lam.delete_layer_version(LayerName=name, VersionNumber=1)

    def test_a_custom_runtime_may_come_from_a_layer(self, lam: Any) -> None:
        bootstrap = python_bootstrap('{"runtime": "from a layer", "task": sorted(os.listdir("/var/task"))}')
        name = f"runtime-{uuid.uuid4().hex[:8]}"
        layer = lam.publish_layer_version(LayerName=name, Content={"ZipFile": package(
            {"bootstrap": bootstrap}, executable=("bootstrap",))})
        try:
            with deployed(lam, "", runtime="provided.al2023", handler="my.handler",
                          Layers=[layer["LayerVersionArn"]]) as function:
                assert call(lam, function)[1] == {"runtime": "from a layer", "task": ["handler.py"]}
        finally:
            lam.delete_layer_version(LayerName=name, VersionNumber=1)

    def test_a_deleted_layer_version_still_serves_the_functions_that_use_it(self, lam: Any) -> None:
        with two_layers(lam) as arns:
            name = deploy(lam, REPORTER, Layers=list(arns))
        try:
            # a new configuration: the next invoke starts a new environment, after the deletion
            lam.update_function_configuration(FunctionName=name, Description="after the layers went")
            lam.get_waiter("function_updated_v2").wait(FunctionName=name)
            assert call(lam, name)[1]["shared"] == "second"
        finally:
            lam.delete_function(FunctionName=name)

    def test_layers_can_be_changed_and_removed(self, lam: Any) -> None:
        code = "import os\ndef handler(event, context):\n    return sorted(os.listdir('/opt'))\n"
        with two_layers(lam) as arns, deployed(lam, code, Layers=[arns[1]]) as name:
            assert call(lam, name)[1] == ["python"]
            lam.update_function_configuration(FunctionName=name, Layers=[arns[0]])
            assert call(lam, name)[1] == ["bin", "python"]
            updated = lam.update_function_configuration(FunctionName=name, Layers=[])
            assert "Layers" not in updated
            assert "python" not in call(lam, name)[1]

    def test_layers_a_function_cannot_have_are_refused(self, lam: Any) -> None:
        with two_layers(lam) as arns:
            missing = re.sub(r":1$", ":9", arns[0])
            code, status, message = refused(lam.create_function, FunctionName=f"fn-{uuid.uuid4().hex[:8]}",
                                            Runtime=RUNTIME, Role="arn:aws:iam::000000000000:role/r",
                                            Handler="handler.handler", Code={"ZipFile": package({"handler.py": ""})},
                                            Layers=[missing])
            assert (code, status, message) == ("InvalidParameterValueException", 400,
                                               f"Layer version {missing} does not exist.")
            elsewhere = arns[0].replace("us-east-1", "eu-west-1")
            with deployed(lam, "def handler(e, c):\n    return 1\n") as name:
                assert refused(lam.update_function_configuration, FunctionName=name, Layers=[elsewhere])[2] == \
                    f"Layer version {elsewhere} does not exist."
                code, _, message = refused(lam.update_function_configuration, FunctionName=name,
                                           Layers=[arns[0], arns[0]])
                assert code == "InvalidParameterValueException"
                assert "Two different versions of the same layer" in message
                code, _, message = refused(lam.update_function_configuration, FunctionName=name,
                                           Layers=[arns[0]] * 6)
                assert "Member must have length less than or equal to 5" in message
                assert "Layers" not in lam.get_function_configuration(FunctionName=name)
