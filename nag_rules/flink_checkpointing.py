"""Unilake-FlinkCheckpoints: a Managed Flink (KinesisAnalyticsV2) application checkpoints and keeps snapshots.

cdk-nag's KDA3 only inspects the deprecated ``AWS::KinesisAnalytics::ApplicationV2``. Without
checkpoints a restart loses in-flight state; without application snapshots every update, scale or
stop starts the job from nothing (exactly-once is lost, windows are recomputed or dropped).
A ``DEFAULT`` checkpoint configuration is compliant: the service's default turns checkpointing on.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_kinesisanalyticsv2 as msf
from cdk_nag import NagRuleCompliance

INFO = "The Managed Flink application has checkpointing or application snapshots turned off."
EXPLANATION = (
    "Checkpoints give exactly-once recovery from failures; application snapshots carry state across updates, "
    "scaling and stop/start. Set CheckpointConfiguration (CheckpointingEnabled true, or ConfigurationType "
    "DEFAULT) and ApplicationSnapshotConfiguration.SnapshotsEnabled true."
)


def _get(data: Any, name: str) -> Any:
    """A property whether the resolved struct uses CloudFormation (Pascal) or jsii (camel) casing."""
    if not isinstance(data, dict):
        return None
    camel = name[0].lower() + name[1:]
    return data.get(name, data.get(camel))


def flink_checkpointing(node: CfnResource) -> NagRuleCompliance:
    if not isinstance(node, msf.CfnApplication):
        return NagRuleCompliance.NOT_APPLICABLE
    if not str(Stack.of(node).resolve(node.runtime_environment)).startswith("FLINK-"):
        return NagRuleCompliance.NOT_APPLICABLE
    configuration = Stack.of(node).resolve(node.application_configuration)
    flink = _get(configuration, "FlinkApplicationConfiguration")
    checkpoints = _get(flink, "CheckpointConfiguration")
    if checkpoints is None:
        return NagRuleCompliance.NON_COMPLIANT
    default = _get(checkpoints, "ConfigurationType") == "DEFAULT"
    if not default and _get(checkpoints, "CheckpointingEnabled") is not True:
        return NagRuleCompliance.NON_COMPLIANT
    snapshots = _get(_get(configuration, "ApplicationSnapshotConfiguration"), "SnapshotsEnabled")
    if snapshots is not True:
        return NagRuleCompliance.NON_COMPLIANT
    return NagRuleCompliance.COMPLIANT
