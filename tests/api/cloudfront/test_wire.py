"""CloudFront's list idiom (`Quantity` + `Items`) through a real server and boto3: every list a
client sends is counted, those inside the fields strato keeps as sent (Restrictions, Lambda@Edge
associations) as much as the ones it models."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.e2e.client_errors import error_of
from tests.e2e.test_cloudfront import config, legacy_behavior


def _geo(quantity: int, *countries: str) -> dict[str, Any]:
    return {"GeoRestriction": {"RestrictionType": "whitelist", "Quantity": quantity, "Items": list(countries)}}


def _lambdas(quantity: int) -> dict[str, Any]:
    return {"Quantity": quantity, "Items": [{
        "LambdaFunctionARN": "arn:aws:lambda:us-east-1:000000000000:function:edge:1", "EventType": "origin-request",
        "IncludeBody": False}]}


@pytest.mark.parametrize("sent", [
    pytest.param({"Restrictions": _geo(2, "US")}, id="geo-restriction"),
    pytest.param({"Restrictions": _geo(0, "US")}, id="geo-restriction-none-counted"),
    pytest.param({"DefaultCacheBehavior": legacy_behavior("bucket", LambdaFunctionAssociations=_lambdas(3))},
                 id="lambda-associations"),
])
def test_a_quantity_that_does_not_count_an_unmodelled_lists_items_is_inconsistent(
        cloudfront: Any, sent: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as caught:
        cloudfront.create_distribution(DistributionConfig=config(**sent))
    assert error_of(caught) == ("InconsistentQuantities", 400)


def test_unmodelled_lists_that_agree_are_kept_as_sent(cloudfront: Any) -> None:
    sent = config(Restrictions=_geo(2, "US", "CA"),
                  DefaultCacheBehavior=legacy_behavior("bucket", LambdaFunctionAssociations=_lambdas(1)))
    created = cloudfront.create_distribution(DistributionConfig=sent)
    read = cloudfront.get_distribution_config(Id=created["Distribution"]["Id"])["DistributionConfig"]
    assert read["Restrictions"] == sent["Restrictions"]
    assert read["DefaultCacheBehavior"]["LambdaFunctionAssociations"] == _lambdas(1)
    assert read["CallerReference"] == sent["CallerReference"]


def test_an_update_is_counted_as_a_create_is(cloudfront: Any) -> None:
    sent = config()
    created = cloudfront.create_distribution(DistributionConfig=sent)
    with pytest.raises(ClientError) as caught:
        cloudfront.update_distribution(Id=created["Distribution"]["Id"], IfMatch=created["ETag"],
                                       DistributionConfig={**sent, "Restrictions": _geo(3, "US")})
    assert error_of(caught) == ("InconsistentQuantities", 400)
