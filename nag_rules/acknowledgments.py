"""Every acknowledged cdk-nag finding in the app, in one visible place.

Each entry is narrow: one rule (with its ``[Resource::...]``/``[Action::...]`` part where the rule
has findings), on the constructs whose path matches a glob below an environment's Stage, with
the reason. An entry that matches no construct is an error, so stale acknowledgments cannot pile up.
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatchcase

import aws_cdk as cdk
from constructs import IConstruct


@dataclass(frozen=True)
class Acknowledgment:
    path: str
    """Glob on the construct path below the Stage, e.g. ``lake/Lake/AccessLogs/Resource``."""
    rule: str
    reason: str
    for_each_table: bool = False
    """Expand ``{table.name}`` in ``rule`` for every table of the environment (per-table findings)."""


_REPLICATION = (
    "Cross-region replication is a disaster-recovery choice each adopter makes for its own regions and "
    "budget; the lake is versioned, KMS-encrypted and retained, so objects are recoverable in-region."
)

# The Glue table optimizers' role (cdk_constructs/table_maintenance.py). Rules may name ARNs of the
# environment: ``{config.<field>}`` is filled from the matched construct's UnilakeStage config.
_OPTIMIZER_POLICY = "catalog/TableOptimizer/Policy/Resource"
_OPTIMIZER_LOGS = (
    "Glue's Iceberg optimizers write to these fixed log groups and create their streams at run time "
    "(Glue 'Table optimization prerequisites'); ':*' is the streams of that one log group."
)

# The Managed Flink application's service role (cdk_constructs/flink_application.py, stacks/streaming_stack.py).
_FLINK_POLICY = "streaming/Job/ServicePolicy/Resource"

ACKNOWLEDGMENTS: tuple[Acknowledgment, ...] = (
    Acknowledgment(
        _FLINK_POLICY,
        "AwsSolutions-IAM5[Resource::*]",
        "Two statements only, both imposed by AWS: cloudwatch:PutMetricData has no resource type (scoped by the "
        "cloudwatch:namespace condition to AWS/KinesisAnalytics), and the EC2 Describe* calls Managed Flink makes "
        "to attach ENIs in the VPC support no resource-level permissions.",
    ),
    Acknowledgment(
        _FLINK_POLICY,
        "AwsSolutions-IAM5[Resource::arn:aws:ec2:{config.region}:{config.account}:network-interface/*]",
        "Managed Flink creates and deletes the application's ENIs at run time, so their ids are unknown; "
        "CreateNetworkInterface is limited to our isolated subnets and security group, and "
        "Delete/CreateNetworkInterfacePermission to ENIs in our VPC (ec2:Vpc condition).",
    ),
    Acknowledgment(
        _FLINK_POLICY,
        "AwsSolutions-IAM5[Resource::arn:aws:logs:{config.region}:{config.account}:log-group:*]",
        "logs:DescribeLogGroups authorizes against the region's log groups as a whole; Managed Flink calls it to "
        "validate the application's logging option (write access is limited to its own group and stream).",
    ),
    Acknowledgment(
        _FLINK_POLICY,
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::{config.lake_bucket_name}/warehouse/"
        "{config.catalog.database_name}.db/{table.name}/*]",
        "Iceberg data and metadata file names are generated at run time; access is limited to the files under "
        "this one table's location (reads on the source, writes on the sinks).",
        for_each_table=True,
    ),
    Acknowledgment("lake/Lake/*/Resource", "NIST.800.53.R5-S3BucketReplicationEnabled", _REPLICATION),
    Acknowledgment("lake/Lake/*/Resource", "HIPAA.Security-S3BucketReplicationEnabled", _REPLICATION),
    Acknowledgment("lake/Lake/*/Resource", "PCI.DSS.321-S3BucketReplicationEnabled", _REPLICATION),
    Acknowledgment(
        _OPTIMIZER_POLICY,
        "AwsSolutions-IAM5[Resource::arn:aws:s3:::{config.lake_bucket_name}/warehouse/"
        "{config.catalog.database_name}.db/*]",
        "Compaction, snapshot expiry and orphan-file deletion read, write and delete the data and metadata "
        "files of every table of this one database; the object keys are only known at run time.",
    ),
    Acknowledgment(
        _OPTIMIZER_POLICY,
        "AwsSolutions-IAM5[Resource::arn:aws:glue:{config.region}:{config.account}:table/"
        "{config.catalog.database_name}/*]",
        "One role serves the optimizers of every table of this one database (tables come from the registry; "
        "naming 1,000 tables would pass IAM's 6,144-character managed-policy limit).",
    ),
    *(
        Acknowledgment(
            _OPTIMIZER_POLICY,
            f"AwsSolutions-IAM5[Resource::arn:aws:logs:{{config.region}}:{{config.account}}:log-group:"
            f"/aws-glue/iceberg-{kind}/logs:*]",
            _OPTIMIZER_LOGS,
        )
        for kind in ("compaction", "retention", "orphan-file-deletion")
    ),
)


def _below_stage(construct: IConstruct) -> str:
    stage = cdk.Stage.of(construct)
    prefix = f"{stage.node.path}/" if stage is not None and stage.node.path else ""
    return construct.node.path.removeprefix(prefix)


def acknowledge_findings(app: cdk.App, acknowledgments: tuple[Acknowledgment, ...] = ACKNOWLEDGMENTS) -> None:
    constructs = [c for c in app.node.find_all() if cdk.Stage.of(c) is not app]
    for ack in acknowledgments:
        matched = [c for c in constructs if fnmatchcase(_below_stage(c), ack.path)]
        if not matched:
            raise ValueError(f"stale nag acknowledgment: no construct matches {ack.path!r} for {ack.rule}")
        for construct in matched:
            for rule in _rules_for(ack, construct):
                cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=ack.reason))


def _rules_for(ack: Acknowledgment, construct: IConstruct) -> list[str]:
    """The rule id(s), with ``{config.<field>}`` (and ``{table.name}``) filled from the construct's environment."""
    if "{" not in ack.rule:
        return [ack.rule]
    stage = cdk.Stage.of(construct)
    config = getattr(stage, "config", None)
    if config is None:
        raise ValueError(f"nag acknowledgment {ack.rule!r} names config fields outside a UnilakeStage")
    if ack.for_each_table:
        return [ack.rule.format(config=config, table=table) for table in getattr(stage, "tables", ())]
    return [ack.rule.format(config=config)]
