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

ACKNOWLEDGMENTS: tuple[Acknowledgment, ...] = (
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
            rule = _rule_for(ack, construct)
            cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=ack.reason))


def _rule_for(ack: Acknowledgment, construct: IConstruct) -> str:
    """The rule id, with ``{config.<field>}`` filled from the construct's environment config."""
    if "{" not in ack.rule:
        return ack.rule
    config = getattr(cdk.Stage.of(construct), "config", None)
    if config is None:
        raise ValueError(f"nag acknowledgment {ack.rule!r} names config fields outside a UnilakeStage")
    return ack.rule.format(config=config)
