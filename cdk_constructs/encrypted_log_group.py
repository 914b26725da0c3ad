"""A named CloudWatch Logs log group encrypted with a key of its own, that CloudWatch Logs may use for it only.

Used by the Managed Flink application (its log group) and the network (the VPC flow logs). It is a
function, not a ``Construct`` subclass, on purpose: it adds ``<id>Key`` and ``<id>Group`` to the caller's
scope, so both resources keep the logical ids they were first deployed with (a log group with a fixed name
cannot be replaced in place: a new logical id would fail the deployment on the name).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from unilake_config.environment import LOG_RETENTION_DAYS

from .log_group_key import log_group_key


def retention(days: int) -> logs.RetentionDays:
    """CDK's ``RetentionDays`` for a number of days the config admits (``LOG_RETENTION_DAYS``)."""
    try:
        return logs.RetentionDays[LOG_RETENTION_DAYS[days]]
    except KeyError:
        raise ValueError(f"{days} is not a CloudWatch Logs retention period") from None


@dataclass(frozen=True)
class EncryptedLogGroup:
    """The key and the log group; ``arn`` is the group's ARN without a token (``...:log-group:<name>``)."""

    key: kms.Key
    log_group: logs.LogGroup
    arn: str


def encrypted_log_group(
    scope: Construct,
    id_prefix: str,
    *,
    log_group_name: str,
    retention_days: int,
    key_description: str,
    removal_policy: RemovalPolicy,
) -> EncryptedLogGroup:
    """Add ``<id_prefix>Key`` (rotated, usable by CloudWatch Logs for this one log group) and
    ``<id_prefix>Group`` (named ``log_group_name``, kept ``retention_days``) to ``scope``."""
    arn = Stack.of(scope).format_arn(
        service="logs",
        resource="log-group",
        resource_name=log_group_name,
        arn_format=ArnFormat.COLON_RESOURCE_NAME,
    )
    key = log_group_key(
        scope, f"{id_prefix}Key", description=key_description, log_group_arn=arn, removal_policy=removal_policy
    )
    log_group = logs.LogGroup(
        scope,
        f"{id_prefix}Group",
        log_group_name=log_group_name,
        retention=retention(retention_days),
        encryption_key=key,
        removal_policy=removal_policy,
    )
    return EncryptedLogGroup(key=key, log_group=log_group, arn=arn)
