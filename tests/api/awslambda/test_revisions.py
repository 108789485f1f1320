"""RevisionId as a precondition, through the operations that renew it: what AWS answered in
LocalStack's AWS-validated test_function_revisions_version_and_alias (tests/aws/services/
lambda_/test_lambda_api.py). Real server, boto3."""

from __future__ import annotations

from typing import Any

import pytest


class TestPublishVersion:
    def test_publishing_renews_latests_revision_so_one_read_before_no_longer_holds(self, lam: Any,
                                                                                  function: str) -> None:
        before = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        published = lam.publish_version(FunctionName=function, RevisionId=before)
        after = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        assert len({before, published["RevisionId"], after}) == 3
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.update_function_configuration(FunctionName=function, Timeout=5, RevisionId=before)
        assert lam.update_function_configuration(FunctionName=function, Timeout=5, RevisionId=after)["Timeout"] == 5

    def test_the_published_versions_revision_stays_as_it_was_published(self, lam: Any, function: str) -> None:
        published = lam.publish_version(FunctionName=function)
        lam.update_function_configuration(FunctionName=function, Timeout=5)
        version = lam.get_function(FunctionName=function, Qualifier=published["Version"])["Configuration"]
        assert version["RevisionId"] == published["RevisionId"]

    def test_publishing_nothing_new_answers_the_last_version_and_keeps_latests_revision(self, lam: Any,
                                                                                       function: str) -> None:
        first = lam.publish_version(FunctionName=function)
        latest = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        again = lam.publish_version(FunctionName=function, RevisionId=latest)
        assert (again["Version"], again["RevisionId"]) == (first["Version"], first["RevisionId"])
        assert lam.get_function(FunctionName=function)["Configuration"]["RevisionId"] == latest


class TestPermissions:
    def test_adding_a_statement_renews_the_functions_revision_and_the_policy_answers_it(self, lam: Any,
                                                                                        function: str) -> None:
        before = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        lam.add_permission(FunctionName=function, StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com", RevisionId=before)
        policy = lam.get_policy(FunctionName=function)["RevisionId"]
        assert policy != before
        assert lam.get_function(FunctionName=function)["Configuration"]["RevisionId"] == policy

    def test_removing_it_renews_the_revision_again(self, lam: Any, function: str) -> None:
        lam.add_permission(FunctionName=function, StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")
        added = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.remove_permission(FunctionName=function, StatementId="s3", RevisionId="wrong")
        lam.remove_permission(FunctionName=function, StatementId="s3", RevisionId=added)
        assert lam.get_function(FunctionName=function)["Configuration"]["RevisionId"] != added

    def test_the_policys_revision_follows_later_changes_of_the_function(self, lam: Any, function: str) -> None:
        lam.add_permission(FunctionName=function, StatementId="s3", Action="lambda:InvokeFunction",
                           Principal="s3.amazonaws.com")
        stale = lam.get_policy(FunctionName=function)["RevisionId"]
        current = lam.update_function_configuration(FunctionName=function, Timeout=5)["RevisionId"]
        assert lam.get_policy(FunctionName=function)["RevisionId"] == current
        with pytest.raises(lam.exceptions.PreconditionFailedException):
            lam.remove_permission(FunctionName=function, StatementId="s3", RevisionId=stale)

    def test_an_aliases_statement_renews_the_aliases_revision_alone(self, lam: Any, function: str) -> None:
        lam.publish_version(FunctionName=function)
        alias = lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1")
        latest = lam.get_function(FunctionName=function)["Configuration"]["RevisionId"]
        lam.add_permission(FunctionName=function, Qualifier="live", StatementId="s3",
                           Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                           RevisionId=alias["RevisionId"])
        renewed = lam.get_alias(FunctionName=function, Name="live")["RevisionId"]
        assert renewed != alias["RevisionId"]
        assert lam.get_policy(FunctionName=function, Qualifier="live")["RevisionId"] == renewed
        assert lam.get_function(FunctionName=function)["Configuration"]["RevisionId"] == latest
