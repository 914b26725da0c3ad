"""A customer-managed KMS key that CloudWatch Logs may use for one log group (or one family of them) only."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

# What CloudWatch Logs needs on a key that encrypts a log group (AWS CloudWatch Logs guide "Encrypt log
# data in CloudWatch Logs using AWS KMS"), spelled out rather than as "kms:Encrypt*"-style wildcards.
LOGS_KEY_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
)
LOGS_STATEMENT_SID = "AllowCloudWatchLogsForItsLogGroupsOnly"


def log_group_key(
    scope: Construct,
    construct_id: str,
    *,
    description: str,
    log_group_arn: str,
    removal_policy: RemovalPolicy,
) -> kms.Key:
    """A rotated key whose policy lets CloudWatch Logs of this region use it only where the encryption
    context names ``log_group_arn``: an exact ARN, or a pattern with ``*`` (compared with ``ArnLike``)."""
    key = kms.Key(
        scope,
        construct_id,
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy,
        pending_window=Duration.days(30),
    )
    operator = "ArnLike" if "*" in log_group_arn else "ArnEquals"
    key.add_to_resource_policy(
        iam.PolicyStatement(
            sid=LOGS_STATEMENT_SID,
            principals=[iam.ServicePrincipal(f"logs.{Stack.of(scope).region}.amazonaws.com")],
            actions=list(LOGS_KEY_ACTIONS),
            resources=["*"],  # in a key policy "*" means "this key"
            conditions={operator: {"kms:EncryptionContext:aws:logs:arn": log_group_arn}},
        )
    )
    return key
