"""Routing Lambda requests by method and path, as botocore's service model writes them."""

from __future__ import annotations

import pytest

from strato.api.awslambda.errors import LambdaError
from strato.api.awslambda.router import Endpoint, route

ARN = "arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Afn"


@pytest.mark.parametrize(("method", "path", "expected"), [
    ("POST", "/2015-03-31/functions", Endpoint("CreateFunction")),
    ("GET", "/2015-03-31/functions/", Endpoint("ListFunctions")),
    ("GET", "/2015-03-31/functions/fn", Endpoint("GetFunction", "fn")),
    ("DELETE", "/2015-03-31/functions/fn", Endpoint("DeleteFunction", "fn")),
    ("GET", "/2015-03-31/functions/fn/configuration", Endpoint("GetFunctionConfiguration", "fn")),
    ("PUT", "/2015-03-31/functions/fn/configuration", Endpoint("UpdateFunctionConfiguration", "fn")),
    ("PUT", "/2015-03-31/functions/fn/code", Endpoint("UpdateFunctionCode", "fn")),
    ("GET", "/2015-03-31/functions/fn/code", Endpoint("GetFunctionCode", "fn")),
    ("POST", "/2015-03-31/functions/fn/versions", Endpoint("PublishVersion", "fn")),
    ("GET", "/2015-03-31/functions/fn/versions", Endpoint("ListVersionsByFunction", "fn")),
    ("POST", "/2015-03-31/functions/fn/aliases", Endpoint("CreateAlias", "fn")),
    ("GET", "/2015-03-31/functions/fn/aliases", Endpoint("ListAliases", "fn")),
    ("GET", "/2015-03-31/functions/fn/aliases/live", Endpoint("GetAlias", "fn", "live")),
    ("PUT", "/2015-03-31/functions/fn/aliases/live", Endpoint("UpdateAlias", "fn", "live")),
    ("DELETE", "/2015-03-31/functions/fn/aliases/live", Endpoint("DeleteAlias", "fn", "live")),
    ("POST", "/2015-03-31/functions/fn/invocations", Endpoint("Invoke", "fn")),
    ("PUT", "/2017-10-31/functions/fn/concurrency", Endpoint("PutFunctionConcurrency", "fn")),
    ("DELETE", "/2017-10-31/functions/fn/concurrency", Endpoint("DeleteFunctionConcurrency", "fn")),
    ("GET", "/2019-09-30/functions/fn/concurrency", Endpoint("GetFunctionConcurrency", "fn")),
    ("PUT", "/2019-09-30/functions/fn/provisioned-concurrency", Endpoint("PutProvisionedConcurrencyConfig", "fn")),
    ("GET", "/2019-09-30/functions/fn/provisioned-concurrency", Endpoint("GetProvisionedConcurrencyConfig", "fn")),
    ("DELETE", "/2019-09-30/functions/fn/provisioned-concurrency",
     Endpoint("DeleteProvisionedConcurrencyConfig", "fn")),
    ("GET", "/2016-08-19/account-settings/", Endpoint("GetAccountSettings")),
    ("POST", "/2015-03-31/functions/fn/policy", Endpoint("AddPermission", "fn")),
    ("PUT", "/2019-09-25/functions/fn/event-invoke-config", Endpoint("PutFunctionEventInvokeConfig", "fn")),
    ("POST", "/2019-09-25/functions/fn/event-invoke-config", Endpoint("UpdateFunctionEventInvokeConfig", "fn")),
    ("GET", "/2019-09-25/functions/fn/event-invoke-config", Endpoint("GetFunctionEventInvokeConfig", "fn")),
    ("DELETE", "/2019-09-25/functions/fn/event-invoke-config", Endpoint("DeleteFunctionEventInvokeConfig", "fn")),
    ("GET", "/2019-09-25/functions/fn/event-invoke-config/list", Endpoint("ListFunctionEventInvokeConfigs", "fn")),
    ("GET", "/2015-03-31/functions/fn/policy", Endpoint("GetPolicy", "fn")),
    ("POST", "/2021-10-31/functions/fn/url", Endpoint("CreateFunctionUrlConfig", "fn")),
    ("GET", "/2021-10-31/functions/fn/url", Endpoint("GetFunctionUrlConfig", "fn")),
    ("PUT", "/2021-10-31/functions/fn/url", Endpoint("UpdateFunctionUrlConfig", "fn")),
    ("DELETE", "/2021-10-31/functions/fn/url", Endpoint("DeleteFunctionUrlConfig", "fn")),
    ("GET", "/2021-10-31/functions/fn/urls", Endpoint("ListFunctionUrlConfigs", "fn")),
    ("DELETE", "/2015-03-31/functions/fn/policy/s3-invoke", Endpoint("RemovePermission", "fn",
                                                                     statement_id="s3-invoke")),
    ("GET", f"/2017-03-31/tags/{ARN}", Endpoint("ListTags", resource=ARN.replace("%3A", ":"))),
    ("POST", f"/2017-03-31/tags/{ARN}", Endpoint("TagResource", resource=ARN.replace("%3A", ":"))),
    ("DELETE", f"/2017-03-31/tags/{ARN}", Endpoint("UntagResource", resource=ARN.replace("%3A", ":"))),
    ("POST", "/2021-11-15/functions/fn/response-streaming-invocations", Endpoint("InvokeWithResponseStream", "fn")),
    ("GET", "/2020-06-30/functions/fn/code-signing-config", Endpoint("GetFunctionCodeSigningConfig", "fn")),
    ("PUT", "/2021-07-20/functions/fn/runtime-management-config", Endpoint("PutRuntimeManagementConfig", "fn")),
    ("GET", "/2024-08-31/functions/fn/recursion-config", Endpoint("GetFunctionRecursionConfig", "fn")),
    ("GET", "/2018-10-31/layers", Endpoint("ListLayers")),  # and, with find=LayerVersion, GetLayerVersionByArn
    ("POST", "/2018-10-31/layers/lib/versions", Endpoint("PublishLayerVersion", layer="lib")),
    ("GET", "/2018-10-31/layers/lib/versions", Endpoint("ListLayerVersions", layer="lib")),
    ("GET", "/2018-10-31/layers/lib/versions/3", Endpoint("GetLayerVersion", layer="lib", layer_version="3")),
    ("DELETE", "/2018-10-31/layers/lib/versions/3", Endpoint("DeleteLayerVersion", layer="lib", layer_version="3")),
    ("GET", "/2018-10-31/layers/lib/versions/3/content",
     Endpoint("GetLayerVersionContent", layer="lib", layer_version="3")),
    ("POST", "/2018-10-31/layers/lib/versions/3/policy",
     Endpoint("AddLayerVersionPermission", layer="lib", layer_version="3")),
    ("GET", "/2018-10-31/layers/lib/versions/3/policy",
     Endpoint("GetLayerVersionPolicy", layer="lib", layer_version="3")),
    ("DELETE", "/2018-10-31/layers/lib/versions/3/policy/s1",
     Endpoint("RemoveLayerVersionPermission", layer="lib", layer_version="3", statement_id="s1")),
    ("GET", "/2018-10-31/layers/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Alayer%3Alib/versions",
     Endpoint("ListLayerVersions", layer="arn:aws:lambda:us-east-1:000000000000:layer:lib")),
])
def test_each_operation_is_found_by_its_method_and_path(method: str, path: str, expected: Endpoint) -> None:
    assert route(method, path) == expected


def test_a_function_arn_in_the_path_arrives_percent_encoded_and_is_decoded() -> None:
    endpoint = route("POST", f"/2015-03-31/functions/{ARN}%3A7/invocations")
    assert endpoint == Endpoint("Invoke", "arn:aws:lambda:us-east-1:000000000000:function:fn:7")


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/"),
    ("PATCH", "/2015-03-31/functions/fn"),
    ("GET", "/2015-03-31/functions/fn/concurrency"),  # Get lives under 2019-09-30
    ("PUT", "/2019-09-30/functions/fn/concurrency"),
    ("GET", "/2015-03-31/functions/fn/unknown"),
    ("GET", "/2015-03-31/functions//configuration"),
    ("POST", "/2018-10-31/layers"),
    ("GET", "/2018-10-31/layers/lib"),
    ("GET", "/2018-10-31/layers/lib/versions/3/content/x"),
    ("GET", "/2018-10-31/layers/lib/versions/3/policy/s1"),
    ("GET", "/2018-10-31/layers//versions"),
    ("PUT", f"/2017-03-31/tags/{ARN}"),
    ("GET", "/2017-03-31/tags/"),
    ("GET", "/2015-03-31/tags/fn"),
])
def test_anything_else_is_an_unknown_operation(method: str, path: str) -> None:
    with pytest.raises(LambdaError) as caught:
        route(method, path)
    assert (caught.value.code, caught.value.status) == ("UnknownOperationException", 404)
