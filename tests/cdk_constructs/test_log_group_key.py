"""log_group_key: a rotated key CloudWatch Logs of this region may use only for the named log group(s)."""

from __future__ import annotations

import aws_cdk as cdk

from cdk_constructs.log_group_key import LOGS_KEY_ACTIONS, LOGS_STATEMENT_SID, log_group_key
from tests.cdk_constructs.construct_support import new_stack, resources

GROUP = "arn:aws:logs:eu-west-1:111111111111:log-group:/x"


def key_statement(log_group_arn: str) -> tuple[dict, dict]:  # type: ignore[type-arg]
    stack = new_stack()
    log_group_key(stack, "Key", description="d", log_group_arn=log_group_arn, removal_policy=cdk.RemovalPolicy.RETAIN)
    (key,) = resources(stack, "AWS::KMS::Key").values()
    (statement,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == LOGS_STATEMENT_SID]
    return key, statement


def test_one_log_group_is_matched_exactly() -> None:
    key, statement = key_statement(GROUP)
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["Properties"]["PendingWindowInDays"] == 30
    assert key["DeletionPolicy"] == "Retain"
    assert statement["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert sorted(statement["Action"]) == sorted(LOGS_KEY_ACTIONS)
    assert not any("*" in action for action in statement["Action"])
    assert statement["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP}}


def test_a_family_of_log_groups_is_matched_as_a_pattern() -> None:
    _, statement = key_statement(f"{GROUP}-*")
    assert statement["Condition"] == {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"{GROUP}-*"}}
